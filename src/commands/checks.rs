//! `proofpack checks list|run` and `proofpack coverage`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Subcommand, ValueEnum};

use proofpack::checks::catalogue::{self, Catalogue};
use proofpack::checks::config::ChecksConfig;
use proofpack::checks::coverage::coverage;
use proofpack::checks::evidence::Evidence;
use proofpack::checks::frameworks::Frameworks;
use proofpack::checks::render;
use proofpack::checks::run::{run, RunOptions};
use proofpack::exit::ExitStatus;

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum Format {
    Table,
    Json,
    /// SARIF 2.1.0 (checks run only): a result per failing subject.
    Sarif,
    /// JUnit XML (checks run only): a test case per check.
    Junit,
}

#[derive(clap::Args)]
pub struct Catalogues {
    /// A folder of extra framework files (TOML, or FedRAMP's rules JSON for
    /// a newer KSI release) and mapping files that attach your own controls
    /// to the checks.
    #[arg(long, value_name = "DIR")]
    mappings: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum ChecksCommand {
    /// List the checks: parameters with defaults, and their mappings.
    List {
        #[command(flatten)]
        catalogues: Catalogues,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Run the checks over a folder written by `proofpack ingest`.
    #[command(
        long_about = "Run the checks over a folder written by `proofpack ingest`: each \
check gives pass, fail, not-applicable or not-evaluated with its reason, metrics, the failing \
subjects and the evidence rows behind them (table#row, 0-based as in the Parquet file), and its \
mappings to 800-53, OWASP NHI Top 10, MAESTRO and FedRAMP 20x KSIs.\n\n\
Thresholds and waivers come from --config (proofpack.toml). Ages are measured from --as-of \
(default: the end of the ingest window, else now).\n\n\
Exit status: 0 no check failed, 1 at least one failed, 2 usage or input error."
    )]
    Run {
        /// A folder written by `proofpack ingest`.
        #[arg(value_name = "EVIDENCE_DIR")]
        dir: PathBuf,
        /// proofpack.toml with [checks.ID] thresholds and [[waivers]].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[command(flatten)]
        catalogues: Catalogues,
        /// Run only these checks (repeatable).
        #[arg(long = "check", value_name = "ID")]
        only: Vec<String>,
        /// The time ages and idleness count back from.
        #[arg(long, value_name = "TIME", value_parser = crate::parse_instant)]
        as_of: Option<i64>,
        /// Start of the assessment window (default: the ingest's --since).
        #[arg(long, value_name = "TIME", value_parser = crate::parse_instant)]
        since: Option<i64>,
        /// End of the assessment window (default: the ingest's --until).
        #[arg(long, value_name = "TIME", value_parser = crate::parse_instant)]
        until: Option<i64>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// What makes the exit status 1: any failing check, a failing
        /// high-severity check, or nothing.
        #[arg(long, value_enum, default_value = "not-satisfied")]
        fail_on: proofpack::checks::run::FailOn,
        /// What aggregates the access events: proofpack itself, or the same
        /// SQL (sql/event_stats.sql) on DuckDB or Spark.
        #[arg(long, value_enum, default_value = "embedded")]
        engine: proofpack::checks::aggregate::engine::Engine,
    },
    /// Print the statistics of the access events the log-based checks are
    /// computed from (JSON), as an engine computes them: the same from
    /// every engine, which is what makes their packages the same.
    Stats {
        /// A folder written by `proofpack ingest`.
        #[arg(value_name = "EVIDENCE_DIR")]
        dir: PathBuf,
        /// proofpack.toml (its [checks.human-use-of-nhi] agents count).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[command(flatten)]
        catalogues: Catalogues,
        #[arg(long, value_enum, default_value = "embedded")]
        engine: proofpack::checks::aggregate::engine::Engine,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FrameworkName {
    #[value(name = "800-53")]
    Nist,
    Nhi,
    Maestro,
    Ksi,
    /// OWASP Top 10 for Agentic Applications (2026).
    Asi,
    /// NIST AI Risk Management Framework 1.0.
    #[value(name = "ai-rmf")]
    AiRmf,
}

fn load(catalogues: &Catalogues) -> anyhow::Result<(Catalogue, Frameworks)> {
    let mut catalogue = Catalogue::built_in()?;
    let mut frameworks = Frameworks::built_in()?;
    if let Some(dir) = &catalogues.mappings {
        for warning in catalogue::load_dir(dir, &mut catalogue, &mut frameworks)? {
            eprintln!("proofpack: warning: {warning}");
        }
    }
    Ok((catalogue, frameworks))
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    // Serialised first, so a closed pipe surfaces as the io::Error main()
    // treats as a normal end.
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    print_text(&text)
}

fn print_text(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

pub fn checks(command: ChecksCommand) -> anyhow::Result<ExitStatus> {
    match command {
        ChecksCommand::List { catalogues, format } => {
            let (catalogue, _) = load(&catalogues)?;
            match format {
                Format::Json => print_json(&catalogue.checks)?,
                _ => print_text(&render::catalogue_text(&catalogue))?,
            }
            Ok(ExitStatus::Success)
        }
        ChecksCommand::Stats {
            dir,
            config,
            catalogues,
            engine,
        } => {
            let (catalogue, _) = load(&catalogues)?;
            let config = match &config {
                Some(path) => proofpack::config::Config::load(path, &catalogue)?.validated,
                None => ChecksConfig::default(),
            };
            let agents =
                proofpack::checks::aggregate::stats::interactive_agents(&catalogue, &config);
            let evidence = Evidence::load_with(&dir, &agents, engine)
                .with_context(|| format!("reading the evidence in {}", dir.display()))?;
            print_json(&evidence.events)?;
            Ok(ExitStatus::Success)
        }
        ChecksCommand::Run {
            dir,
            config,
            catalogues,
            only,
            as_of,
            since,
            until,
            format,
            fail_on,
            engine,
        } => {
            let (catalogue, frameworks) = load(&catalogues)?;
            for id in &only {
                if catalogue.get(id).is_none() {
                    anyhow::bail!("--check {id}: no such check (see `proofpack checks list`)");
                }
            }
            let config = match &config {
                Some(path) => proofpack::config::Config::load(path, &catalogue)?.validated,
                None => ChecksConfig::default(),
            };
            let agents =
                proofpack::checks::aggregate::stats::interactive_agents(&catalogue, &config);
            let mut evidence = Evidence::load_with(&dir, &agents, engine)
                .with_context(|| format!("reading the evidence in {}", dir.display()))?;
            evidence
                .verify_embedded(&dir, &config.embedded)
                .with_context(|| format!("verifying [[embedded]] over {}", dir.display()))?;
            let report = run(
                &display(&dir),
                &evidence,
                &catalogue,
                &frameworks,
                &config,
                &RunOptions {
                    as_of_us: as_of,
                    since_us: since,
                    until_us: until,
                    only,
                },
            );
            match format {
                Format::Table => print_text(&render::report_text(&report))?,
                Format::Json => print_json(&report)?,
                Format::Sarif => print_json(&render::sarif::sarif(&report, &catalogue))?,
                Format::Junit => print_text(&render::junit::junit(&report))?,
            }
            Ok(if report.fails(fail_on) {
                ExitStatus::Failure
            } else {
                ExitStatus::Success
            })
        }
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

pub fn coverage_command(
    framework: FrameworkName,
    catalogues: Catalogues,
    format: Format,
) -> anyhow::Result<ExitStatus> {
    let (catalogue, frameworks) = load(&catalogues)?;
    let name = match framework {
        FrameworkName::Nist => "800-53",
        FrameworkName::Nhi => "nhi",
        FrameworkName::Maestro => "maestro",
        FrameworkName::Asi => "asi",
        FrameworkName::AiRmf => "ai-rmf",
        FrameworkName::Ksi => "ksi",
    };
    let framework = frameworks
        .get(name)
        .with_context(|| format!("no framework {name} loaded"))?;
    let c = coverage(framework, &catalogue);
    match format {
        Format::Json => print_json(&c)?,
        _ => print_text(&render::coverage_text(&c))?,
    }
    Ok(ExitStatus::Success)
}
