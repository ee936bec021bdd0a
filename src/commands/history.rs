//! `proofpack history`: trends over the runs `generate` recorded.

use std::path::PathBuf;

use proofpack::exit::ExitStatus;
use proofpack::history;

#[derive(clap::Args)]
pub struct HistoryArgs {
    /// The history folder (`[history] dir` of proofpack.toml).
    #[arg(long, value_name = "DIR", required_unless_present = "config")]
    dir: Option<PathBuf>,
    /// Read the folder's name from this proofpack.toml instead.
    #[arg(long, value_name = "FILE", conflicts_with = "dir")]
    config: Option<PathBuf>,
    /// Only KSIs (`ksi`) or only checks (`check`).
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,
    /// Only this KSI or check id.
    #[arg(long, value_name = "ID")]
    id: Option<String>,
    /// The day the 30-day summary and the year of daily data end (default: the latest run).
    #[arg(long, value_name = "TIME", value_parser = crate::parse_instant)]
    as_of: Option<i64>,
    /// Print the series as JSON.
    #[arg(long)]
    json: bool,
}

pub fn history(args: HistoryArgs) -> anyhow::Result<ExitStatus> {
    let dir = match (&args.dir, &args.config) {
        (Some(d), _) => d.clone(),
        (None, Some(config)) => {
            let catalogue = proofpack::checks::catalogue::Catalogue::built_in()?;
            let c = proofpack::config::Config::load(config, &catalogue)?;
            let d = c
                .history
                .dir
                .ok_or_else(|| anyhow::anyhow!("{}: no [history] dir", config.display()))?;
            c.base.join(d)
        }
        (None, None) => unreachable!("clap requires one"),
    };
    let entries = history::read(&dir)?;
    if entries.is_empty() {
        anyhow::bail!("{}: no runs recorded yet", dir.display());
    }
    let as_of = args
        .as_of
        .unwrap_or_else(|| entries.iter().map(|e| e.until_us).max().unwrap_or(0));
    let series: Vec<history::Series> = history::series(&entries, as_of)
        .into_iter()
        .filter(|s| args.kind.as_deref().is_none_or(|k| s.kind == k))
        .filter(|s| args.id.as_deref().is_none_or(|i| s.id == i))
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&series)?);
        return Ok(ExitStatus::Success);
    }
    let runs: std::collections::BTreeSet<i64> = entries.iter().map(|e| e.until_us).collect();
    println!(
        "{}: {} run(s), {} to {}",
        dir.display(),
        runs.len(),
        &proofpack::time::format_micros(*runs.first().unwrap_or(&0))[..10],
        &proofpack::time::format_micros(*runs.last().unwrap_or(&0))[..10]
    );
    let width = series.iter().map(|s| s.id.len()).max().unwrap_or(10);
    for s in &series {
        let recent: Vec<String> = s
            .daily
            .values()
            .rev()
            .take(10)
            .rev()
            .map(|v| short(v))
            .collect();
        let summary: Vec<String> = s
            .last_30_days
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        println!(
            "{:<5} {:<width$}  latest {:<22} last 30 days: {:<40} recent: {}",
            s.kind,
            s.id,
            s.latest,
            summary.join(", "),
            recent.join(" ")
        );
    }
    Ok(ExitStatus::Success)
}

/// One character per run, oldest first: ✓ pass/implemented, ✗ fail/not,
/// ~ partial, · not judged.
fn short(status: &str) -> String {
    match status {
        "pass" | "Implemented" => "✓",
        "fail" | "Not Implemented" => "✗",
        "Partially Implemented" => "~",
        _ => "·",
    }
    .to_string()
}
