//! `proofpack diff OLD NEW`.

use std::path::PathBuf;

use proofpack::exit::ExitStatus;

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The earlier package (or assessment-results.json).
    old: PathBuf,
    /// The later package (or assessment-results.json).
    new: PathBuf,
    /// Print the difference as JSON.
    #[arg(long)]
    json: bool,
}

pub fn diff(args: DiffArgs) -> anyhow::Result<ExitStatus> {
    let d = proofpack::diff::diff(&args.old, &args.new).map_err(anyhow::Error::msg)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&d)?);
    } else {
        print!("{}", proofpack::diff::text(&d));
    }
    // A CI gate: something got worse.
    Ok(if d.newly_not_satisfied.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
