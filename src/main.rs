//! The `proofpack` command line. Parsing and dispatch only: the work is in
//! the library, so tests and benches call the same code.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use proofpack::exit::ExitStatus;
use proofpack::ingest::{self, IngestOptions, SourceKind};
use proofpack::model::Decision;
use proofpack::oscal::diagnostic::FileStatus;
use proofpack::oscal::fetch::{fetch_schemas, FetchOutcome, MIRROR_ENV};
use proofpack::oscal::model::{OscalVersion, SUPPORTED_VERSIONS};
use proofpack::oscal::render;
use proofpack::oscal::schema_lock::SchemaLock;
use proofpack::oscal::schema_store::{self, SchemaStore, SCHEMA_DIR_ENV};
use proofpack::oscal::validate::{validate_paths, ValidateOptions};
use proofpack::query::Filter;
use proofpack::size::parse_byte_size;
use proofpack::time::parse_time_text;

/// mimalloc instead of glibc's malloc: ingest makes a dozen small strings
/// per record on two threads, and glibc's allocator took a tenth of the run
/// (polars recommends a faster allocator for the same reason).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc keeps freed pages for 10 ms by default; with a row group freed
/// on one thread while the next is read on another, that kept the working
/// set of every stage mapped at once (`generate` on a 1 GB month: 421 MiB
/// peak with the default, about 310 MiB purging at once). A
/// `MIMALLOC_PURGE_DELAY` in the environment still wins. 15 is mimalloc
/// 2's `mi_option_purge_delay`, which libmimalloc-sys does not name.
fn return_freed_memory_promptly() {
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set only stores an option's value.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
    }
}

mod commands;
use commands::checks::{ChecksCommand, Format as ChecksFormat, FrameworkName};

#[derive(Parser)]
#[command(
    name = "proofpack",
    version,
    about = "FedRAMP 20x evidence packages for non-human identities",
    long_about = "proofpack turns audit logs, NHI inventories and policies into FedRAMP 20x evidence: \
OSCAL documents validated against NIST's official schemas, hashed and packaged.\n\n\
First run: `proofpack schemas fetch` (or point --schema-dir / PROOFPACK_SCHEMA_DIR at a copy of \
NIST's schemas), then `proofpack validate FILE...`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print errors only: no progress, no summaries.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// More detail in the progress lines (repeatable).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
}

#[derive(Subcommand)]
enum Command {
    /// Validate OSCAL JSON documents against NIST's official schemas, plus
    /// the reference checks a schema cannot make.
    #[command(
        long_about = "Validate OSCAL JSON documents (any model, OSCAL 1.0.x to 1.2.x) against NIST's \
official JSON schema for the version each declares in metadata/oscal-version, then check what the \
schema cannot: UUIDs unique, every UUID / role / #uuid reference resolving, local import-ap / \
import-ssp files existing, and back-matter rlink hashes matching their files.\n\n\
Every problem is reported with file, line:column, JSON pointer and the failing schema keyword.\n\n\
Exit status: 0 all valid, 1 at least one document invalid, 2 usage or I/O error (or no schema)."
    )]
    Validate(ValidateArgs),
    /// Read audit logs into the evidence tables (Parquet, CSV and a summary).
    #[command(
        long_about = "Read audit logs into the evidence tables: one access record per event, with \
who acted (principal and its type), which credential (ephemeral or static, and why), what was done \
to which resource, what was decided, and when. Every record is normalised or rejected with its \
file, position and reason; the summary reconciles the counts.\n\n\
Inputs: files, directories (recursive), .gz; CloudTrail `{\"Records\": [...]}` files, JSON \
arrays, NDJSON, lookup-events and EventBridge envelopes; Kubernetes audit events and EventLists.\n\n\
Writes DIR/access_events.{parquet,csv}, DIR/rejected.{parquet,csv} and DIR/summary.json. \
Exit status: 0 written, 2 usage or I/O error."
    )]
    Ingest(IngestArgs),
    /// Show access records from an ingest folder, a package or a state folder, each with its raw reference.
    Query(QueryArgs),
    /// Generate the evidence package from proofpack.toml: evidence tables,
    /// check results, OSCAL plan / results / POA&M, FedRAMP SDR, manifest.
    #[command(
        long_about = "Generate the evidence package from proofpack.toml: ingest the configured logs, \
inventories, policies and scanner reports; run the checks; write OSCAL assessment plan, results and \
POA&M (validated against NIST's schema before anything lands), the FedRAMP 20x Security Decision \
Record's KSI entries, the evidence as Parquet and CSV, and manifest.json with every file's SHA-256.\n\n\
The package is staged beside --out and renamed into place only when complete.\n\n\
Exit status: 0 written, 2 configuration, input or validation error (nothing written)."
    )]
    Generate(Box<commands::generate::GenerateArgs>),
    /// Re-hash a package against its manifest and re-validate its documents.
    #[command(
        long_about = "Check a package's signature with the trusted public keys (--key, \
--trusted-keys): the DSSE envelope's signature first, then that its in-toto subjects are exactly \
the package's files with their SHA-256. Then re-hash every file against manifest.json and report \
changed, missing and extra files; re-validate the OSCAL documents.\n\n\
Exit status: 0 intact and valid, 1 anything changed, missing, extra or invalid, 2 error."
    )]
    Verify(commands::generate::VerifyArgs),
    /// Signing keys for packages: `keys generate --out DIR`.
    #[command(subcommand)]
    Keys(commands::generate::KeysCommand),
    /// What changed between two packages (or two assessment-results files):
    /// findings newly not satisfied, resolved, unchanged; identities; metrics.
    #[command(
        long_about = "What changed between two packages (or two OSCAL assessment-results files): \
findings newly not satisfied, resolved and unchanged; identities added and removed; checks whose \
status changed and metrics that moved (packages only).\n\n\
Exit status: 0 nothing newly not satisfied, 1 something is, 2 error."
    )]
    Diff(commands::diff::DiffArgs),
    /// Trends over the runs generate recorded: 30-day summary, daily series.
    History(commands::history::HistoryArgs),
    /// List the checks, or run them over an ingest folder.
    Checks {
        #[command(subcommand)]
        command: ChecksCommand,
    },
    /// Show which items of a framework the checks cover, and which none does.
    Coverage {
        #[arg(long, value_enum)]
        framework: FrameworkName,
        #[command(flatten)]
        catalogues: commands::checks::Catalogues,
        #[arg(long, value_enum, default_value = "table")]
        format: ChecksFormat,
    },
    /// Manage the pinned official OSCAL schemas.
    Schemas {
        #[command(subcommand)]
        command: SchemasCommand,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// `file:line:column: severity[rule] message`, for people.
    Text,
    /// Every file and diagnostic as JSON, for scripts.
    Json,
    /// SARIF 2.1.0, for CI code-scanning views.
    Sarif,
}

#[derive(clap::Args)]
struct ValidateArgs {
    /// Files, directories (searched recursively for *.json) or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Validate against this OSCAL release whatever the documents declare
    /// (pinned: 1.0.4, 1.1.2, 1.1.3, 1.2.1; others use the nearest).
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    oscal_version: Option<OscalVersion>,
    /// Folder of official schemas (holding v1.1.3/oscal_..._schema.json).
    /// Default: $PROOFPACK_SCHEMA_DIR, then the cache filled by `schemas fetch`.
    #[arg(long, value_name = "DIR")]
    schema_dir: Option<PathBuf>,
    /// Refuse documents larger than this (e.g. 512MiB, 2GB).
    #[arg(long, value_name = "SIZE", default_value = "512MiB", value_parser = parse_byte_size)]
    max_size: u64,
    /// Treat warnings (unreadable imports, unchecked references, missing
    /// rlink files, unpinned versions) as errors.
    #[arg(long)]
    strict: bool,
    /// Check only the schema, not UUIDs, references, imports or hashes.
    #[arg(long)]
    no_references: bool,
    #[command(flatten)]
    constraints: ConstraintArgs,
    /// Write the report to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Where the Metaschema constraints come from, and which to evaluate.
#[derive(clap::Args, Clone, Debug)]
pub struct ConstraintArgs {
    /// Metaschema constraints to evaluate: NIST's (from its Metaschema
    /// modules), FedRAMP's external constraints, all, or none.
    #[arg(long, value_name = "SET", default_value = "nist")]
    pub constraints: proofpack::oscal::constraints::Selection,
    /// Folder of NIST's Metaschema modules (holding 1.1.3/oscal_complete_metaschema.xml).
    /// Default: $PROOFPACK_METASCHEMA_DIR, the schema folder (vX/metaschema, or a
    /// metaschema/ folder beside it), then the cache filled by `schemas fetch`.
    #[arg(long, value_name = "DIR")]
    pub metaschema_dir: Option<PathBuf>,
    /// Folder of FedRAMP's external constraint files (fedramp-external-constraints.xml
    /// and the rest); needed by --constraints fedramp|all.
    #[arg(long, value_name = "DIR", env = "PROOFPACK_FEDRAMP_CONSTRAINTS")]
    pub fedramp_constraints: Option<PathBuf>,
}

/// The secret gate: gitleaks' pinned rules, and rules set aside for a
/// documented false positive.
#[derive(clap::Args, Clone, Debug)]
pub struct SecretGateArgs {
    /// gitleaks' default rule file, as pinned (default: $PROOFPACK_SECRET_RULES,
    /// then the cache filled by `schemas fetch`). proofpack's own rules are
    /// built in.
    #[arg(long, value_name = "FILE", env = "PROOFPACK_SECRET_RULES")]
    pub secret_rules: Option<PathBuf>,
    /// Let a secret rule's hits through the gate (repeatable): only for a
    /// false positive you have confirmed; recorded in the manifest.
    #[arg(long = "allow-secret-rule", value_name = "RULE")]
    pub allow_secret_rule: Vec<String>,
}

impl SecretGateArgs {
    /// Loads, verifies and installs the rules; checks the allowed ids.
    pub fn install(&self) -> anyhow::Result<Vec<String>> {
        let rules = proofpack::secrets::install(proofpack::secrets::locate::load(
            self.secret_rules.as_deref(),
        )?);
        proofpack::secrets::locate::check_allowed(rules, &self.allow_secret_rule)
            .map_err(anyhow::Error::msg)?;
        Ok(self.allow_secret_rule.clone())
    }
}

impl ConstraintArgs {
    pub fn options(&self) -> proofpack::oscal::constraints::ConstraintOptions {
        let mut selection = self.constraints;
        // Naming FedRAMP's folder asks for its constraints beside NIST's.
        if self.fedramp_constraints.is_some()
            && selection == proofpack::oscal::constraints::Selection::Nist
        {
            selection = proofpack::oscal::constraints::Selection::All;
        }
        proofpack::oscal::constraints::ConstraintOptions {
            selection,
            metaschema_dir: self.metaschema_dir.clone(),
            schema_dir: None,
            fedramp_dir: self.fedramp_constraints.clone(),
        }
    }
}

#[derive(clap::Args)]
struct IngestArgs {
    /// Log files, directories (searched recursively) or http(s) URLs; gzip is
    /// recognised by its content.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<String>,
    #[command(flatten)]
    secrets: SecretGateArgs,
    /// Name of an environment variable holding a bearer token for URL inputs
    /// (the token itself is never taken on the command line).
    #[arg(long, value_name = "VAR")]
    token_env: Option<String>,
    /// The folder to write (replaced if it holds an earlier ingest).
    /// Optional with --state: a shard's work lands in the state folder.
    #[arg(long, value_name = "DIR", required_unless_present = "state")]
    out: Option<PathBuf>,
    /// Incremental runs: remember each log object read in this folder,
    /// with its events as a partitioned Parquet dataset
    /// (access_events/source=…/date=…), and read only new or changed objects.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Read only share I of N of the inputs (0 <= I < N, by a hash of each
    /// object's name) into --state: N workers fill one dataset, and a run
    /// without --shard over the same inputs merges it.
    #[arg(long, value_name = "I/N", requires = "state")]
    shard: Option<ingest::state::Shard>,
    /// Read every record as this format instead of detecting it.
    #[arg(long, value_name = "FORMAT", value_parser = parse_source)]
    source: Option<SourceKind>,
    /// Keep events at or after this time (RFC 3339, or a date: 2026-11-01).
    #[arg(long, value_name = "TIME", value_parser = parse_instant)]
    since: Option<i64>,
    /// Keep events before this time.
    #[arg(long, value_name = "TIME", value_parser = parse_instant)]
    until: Option<i64>,
    /// Refuse files larger than this, on disk or decompressed.
    #[arg(long, value_name = "SIZE", default_value = "2GiB", value_parser = parse_byte_size)]
    max_size: u64,
    /// Tables with more rows than this get no CSV copy beside their
    /// Parquet file (0: no CSV at all); summary.json lists them.
    #[arg(long, value_name = "ROWS", default_value_t = ingest::DEFAULT_CSV_MAX_ROWS)]
    csv_max_rows: u64,
    /// Date-times without a zone (`2022-12-10 23:33:04.667`, as SIEM data
    /// lakes such as Panther write them): `utc` reads them as UTC, `reject`
    /// (the default) refuses the record and says so.
    #[arg(long, value_enum, value_name = "HOW", default_value = "reject")]
    naive_times: proofpack::config::NaiveTimes,
}

#[derive(Clone, Copy, ValueEnum)]
enum QueryFormat {
    /// A block per record.
    Table,
    /// A JSON array.
    Json,
    /// CSV with the evidence table's columns.
    Csv,
}

#[derive(clap::Args)]
struct QueryArgs {
    /// A folder written by `proofpack ingest --out`, a package (its
    /// evidence/ is read) or a state folder (`--state`: only the partitions
    /// of the source and days asked for are opened).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Records whose principal id or session name contains this.
    #[arg(long)]
    principal: Option<String>,
    /// Records whose resource contains this.
    #[arg(long)]
    resource: Option<String>,
    /// allow, deny or error.
    #[arg(long, value_parser = parse_decision)]
    decision: Option<Decision>,
    #[arg(long, help = source_help(), value_parser = parse_audit_source)]
    source: Option<String>,
    /// At or after this time (RFC 3339, or a date).
    #[arg(long, value_name = "TIME", value_parser = parse_instant)]
    since: Option<i64>,
    /// Before this time.
    #[arg(long, value_name = "TIME", value_parser = parse_instant)]
    until: Option<i64>,
    /// Show at most this many records.
    #[arg(long)]
    limit: Option<usize>,
    #[arg(long, value_enum, default_value = "table")]
    format: QueryFormat,
    /// List identities and credentials instead of access records.
    #[arg(long, conflicts_with = "grants")]
    identities: bool,
    /// List policy grants instead of access records.
    #[arg(long)]
    grants: bool,
    /// Identities (or grant holders) whose id or owner contains this.
    #[arg(long)]
    identity: Option<String>,
    /// Static credentials not rotated for N days (implies --identities).
    #[arg(long, value_name = "N")]
    stale_days: Option<u32>,
    /// Third-party identities: another organisation's apps, roles and
    /// integrations (implies --identities).
    #[arg(long)]
    third_party: bool,
    /// AI agents and their credentials: an agent platform's identities,
    /// agent kinds (implies --identities).
    #[arg(long)]
    agents: bool,
    /// The time --stale-days counts back from (default: now).
    #[arg(long, value_name = "TIME", value_parser = parse_instant)]
    as_of: Option<i64>,
    /// Grants equivalent to administrator access (implies --grants).
    #[arg(long)]
    admin: bool,
    /// Grants with a wildcard action or resource (implies --grants).
    #[arg(long)]
    wildcard: bool,
}

fn parse_source(text: &str) -> Result<SourceKind, String> {
    SourceKind::from_name(text).ok_or_else(|| {
        let known: Vec<&str> = SourceKind::ALL.iter().map(|s| s.name()).collect();
        format!("unknown format `{text}`; known: {}", known.join(", "))
    })
}

/// `--source`'s help, from the list of sources access records come from.
fn source_help() -> String {
    format!(
        "Only records of this source: {}",
        proofpack::model::access_event::AUDIT_SOURCES.join(", ")
    )
}

fn parse_audit_source(text: &str) -> Result<String, String> {
    proofpack::model::access_event::audit_source(text)
        .map(str::to_string)
        .ok_or_else(|| {
            format!(
                "no access records come from `{text}`; sources: {}",
                proofpack::model::access_event::AUDIT_SOURCES.join(", ")
            )
        })
}

fn parse_decision(text: &str) -> Result<Decision, String> {
    Decision::parse(text)
        .ok_or_else(|| format!("`{text}` is not a decision: use allow, deny or error"))
}

/// RFC 3339 (any offset) or a calendar date, taken as midnight UTC.
pub(crate) fn parse_instant(text: &str) -> Result<i64, String> {
    let date = format!("{text}T00:00:00Z");
    parse_time_text(text)
        .or_else(|| (text.len() == 10).then(|| parse_time_text(&date)).flatten())
        .ok_or_else(|| format!("`{text}` is not a time: write RFC 3339 (2026-11-01T00:00:00Z) or a date (2026-11-01)"))
}

#[derive(Subcommand)]
enum SchemasCommand {
    /// Download NIST's schema release assets into the cache, verifying each
    /// against the pinned SHA-256 (a mismatch is refused, nothing written).
    Fetch {
        /// Release(s) to fetch; all pinned releases by default.
        #[arg(long = "oscal-version", value_name = "VERSION", value_parser = parse_pinned_version)]
        versions: Vec<OscalVersion>,
        /// Base URL of a mirror laid out as NIST's releases (BASE/v1.1.3/FILE),
        /// for networks without access to github.com.
        #[arg(long, value_name = "URL", env = MIRROR_ENV)]
        mirror: Option<String>,
        /// Store here instead of the cache (the folder then works as --schema-dir).
        #[arg(long, value_name = "DIR")]
        dest: Option<PathBuf>,
    },
    /// List the pinned schemas and whether the schema folder holds each intact.
    List {
        /// Folder to inspect (default: $PROOFPACK_SCHEMA_DIR, then the cache).
        #[arg(long, value_name = "DIR")]
        schema_dir: Option<PathBuf>,
    },
}

fn parse_version(text: &str) -> Result<OscalVersion, String> {
    text.parse()
}

fn parse_pinned_version(text: &str) -> Result<OscalVersion, String> {
    let version: OscalVersion = text.parse()?;
    if version.is_supported() {
        Ok(version)
    } else {
        Err(format!(
            "OSCAL {version} is not pinned; pinned releases: {}",
            pinned_list()
        ))
    }
}

fn pinned_list() -> String {
    SUPPORTED_VERSIONS
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A corrupt Parquet file is an error naming it, not a panic message.
    proofpack::model::parquet_guard::quiet_decoder_panics();
    // A query decodes row group after row group of the same shape: reusing
    // the pages freed by the last one is faster (a third of a month's
    // look-up was page faults) and its peak stays at one row group per core.
    if !matches!(cli.command, Command::Query(_)) {
        return_freed_memory_promptly();
    }
    let result = match cli.command {
        Command::Validate(args) => validate(args),
        Command::Ingest(args) => ingest(args, cli.quiet, cli.verbose),
        Command::Query(args) => query(args),
        Command::Schemas { command } => schemas(command),
        Command::Checks { command } => commands::checks::checks(command),
        Command::Generate(args) => commands::generate::generate(*args, cli.quiet, cli.verbose),
        Command::Verify(args) => commands::generate::verify(args),
        Command::Keys(command) => commands::generate::keys_command(command),
        Command::History(args) => commands::history::history(args),
        Command::Diff(args) => commands::diff::diff(args),
        Command::Coverage {
            framework,
            catalogues,
            format,
        } => commands::checks::coverage_command(framework, catalogues, format),
    };
    match result {
        Ok(status) => status.into(),
        // `proofpack query ... | head` closes the pipe early: not an error.
        Err(error) if is_broken_pipe(&error) => ExitStatus::Success.into(),
        Err(error) => {
            eprintln!("proofpack: error: {error:#}");
            ExitStatus::Error.into()
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn validate(args: ValidateArgs) -> anyhow::Result<ExitStatus> {
    let store = SchemaStore::locate(args.schema_dir.as_deref())?;
    let options = ValidateOptions {
        forced_version: args.oscal_version,
        max_bytes: args.max_size,
        references: !args.no_references,
        strict: args.strict,
        constraints: args.constraints.options(),
    };
    let reports = validate_paths(&args.paths, &store, &options);

    let mut sink: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write report to {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    match args.format {
        Format::Text => render::text::render(&reports, &mut sink),
        Format::Json => render::json::render(&reports, &mut sink),
        Format::Sarif => render::sarif::render(&reports, &mut sink),
    }
    .and_then(|_| sink.flush())
    .context("cannot write the report")?;

    // Problems that stopped validation also go to stderr, so a CI log shows
    // them even when the report went to a file or a machine format. A
    // missing schema stops every file of that release: say it once.
    let mut said = std::collections::BTreeSet::new();
    for report in reports.iter().filter(|r| r.status == FileStatus::Error) {
        let note = report.note.as_deref().unwrap_or("not validated");
        if said.insert(note) {
            eprintln!("proofpack: {}: {note}", report.path);
        }
    }
    Ok(if reports.iter().any(|r| r.status == FileStatus::Error) {
        ExitStatus::Error
    } else if reports.iter().any(|r| r.status == FileStatus::Invalid) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn ingest(args: IngestArgs, quiet: bool, verbose: u8) -> anyhow::Result<ExitStatus> {
    let (ui, progress) = commands::ui::Ui::new(quiet, verbose);
    let bearer_token = match &args.token_env {
        Some(var) => Some(ingest::Secret(std::env::var(var).map_err(|_| {
            anyhow::anyhow!(
                "--token-env {var}: the environment variable {var} is not set (or not UTF-8)"
            )
        })?)),
        None => None,
    };
    let options = IngestOptions {
        source: args.source,
        since: args.since,
        until: args.until,
        max_bytes: args.max_size,
        bearer_token,
        progress,
        state: None,
        shard: args.shard,
        secret_gate: Some(args.secrets.install()?),
        csv_max_rows: args.csv_max_rows,
        naive_utc: match args.naive_times {
            proofpack::config::NaiveTimes::Utc => vec![String::new()],
            proofpack::config::NaiveTimes::Reject => Vec::new(),
        },
    };
    let mut options = options;
    if let Some(dir) = &args.state {
        options.state = Some(std::sync::Arc::new(ingest::state::State::open(dir)?));
    }
    // An input that is not there is a mistake in the command (or a log
    // mount that failed), not a rejected record: a scheduled job must fail.
    for input in &args.inputs {
        let remote = proofpack::http::is_url(input) || ingest::store::is_store_url(input);
        if !remote && !std::path::Path::new(input).exists() {
            ui.finish();
            anyhow::bail!("input {input} does not exist: give a file, a folder, an http(s) URL or an s3://, gs:// or az:// prefix");
        }
    }
    let summary = match &args.out {
        Some(out) => ingest::output::ingest_to_folder(out, &args.inputs, &options),
        None => ingest::output::ingest_to_nothing(&args.inputs, &options),
    };
    ui.finish();
    let summary = summary?;
    let run = match &options.state {
        Some(state) => Some(state.finish(args.since, args.until, args.shard)?),
        None => None,
    };
    let s = &summary;
    if ui.quiet {
        return Ok(if s.reconciles() {
            ExitStatus::Success
        } else {
            ExitStatus::Error
        });
    }
    println!(
        "{} file(s), {} record(s): {} normalised, {} inventoried, {} rejected, {} outside the window, {} skipped{}",
        s.files,
        s.read,
        s.normalised,
        s.inventoried,
        s.rejected,
        s.outside_window,
        s.skipped,
        if s.reconciles() {
            ""
        } else {
            " (COUNTS DO NOT RECONCILE)"
        }
    );
    let counts = |m: &std::collections::BTreeMap<String, usize>| {
        m.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if s.inventoried > 0 {
        println!(
            "  inventories, policies, scanner reports: {} record(s) → {} identity and credential row(s), {} grant(s), {} secret finding(s)",
            s.inventoried, s.identities, s.grants, s.secret_findings
        );
    } else if s.identities + s.grants > 0 {
        println!(
            "  shown by the logs: {} identity and credential row(s), {} grant(s)",
            s.identities, s.grants
        );
    }
    if s.normalised + s.inventoried > 0 {
        println!("  sources: {}", counts(&s.by_source));
    }
    if s.normalised > 0 {
        println!("  principals: {}", counts(&s.by_principal_type));
        println!("  credentials: {}", counts(&s.by_credential_type));
        println!("  decisions: {}", counts(&s.by_decision));
    }
    if s.skipped > 0 {
        println!("  skipped: {}", counts(&s.skipped_by_reason));
    }
    if s.rejected > 0 {
        match &args.out {
            Some(out) => println!(
                "  rejected: {} (see {}/rejected.csv)",
                counts(&s.rejected_by_reason),
                out.display()
            ),
            None => println!("  rejected: {}", counts(&s.rejected_by_reason)),
        }
    }
    for warning in run.iter().flat_map(|r| &r.warnings) {
        eprintln!("warning: state {warning}");
    }
    if let (Some(run), Some(dir)) = (&run, &args.state) {
        println!(
            "  state {}: {} object(s) read and kept, {} unchanged and reused, {} read but not kept{}",
            dir.display(),
            run.read,
            run.reused,
            run.not_kept,
            args.shard.map(|s| format!(" (shard {s})")).unwrap_or_default()
        );
    }
    if let Some(out) = &args.out {
        println!("tables written to {}", out.display());
    }
    Ok(if s.reconciles() {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    })
}

fn query(args: QueryArgs) -> anyhow::Result<ExitStatus> {
    use proofpack::query::{inventory, render, scan};
    let grants_mode = args.grants || args.admin || args.wildcard;
    let identities_mode = args.identities
        || args.stale_days.is_some()
        || args.third_party
        || args.agents
        || (args.identity.is_some() && !grants_mode);
    if grants_mode || identities_mode {
        let frame = if grants_mode {
            let filter = inventory::GrantFilter {
                identity: args.identity,
                admin: args.admin,
                wildcard: args.wildcard,
            };
            inventory::select_grants(&args.dir, &filter)
        } else {
            let as_of_us = args
                .as_of
                .unwrap_or_else(|| chrono::Utc::now().timestamp_micros());
            let filter = inventory::IdentityFilter {
                identity: args.identity,
                stale_days: args.stale_days,
                third_party: args.third_party,
                agents: args.agents,
                as_of_us,
            };
            inventory::select_identities(&args.dir, &filter)
        }
        .with_context(|| {
            format!(
                "cannot read the tables of {}; is it a folder written by `proofpack ingest`?",
                args.dir.display()
            )
        })?;
        let frame = match args.limit {
            Some(n) => frame.head(Some(n)),
            None => frame,
        };
        let mut out = std::io::stdout().lock();
        match args.format {
            QueryFormat::Table => inventory::table(&frame, &mut out),
            QueryFormat::Json => inventory::json(&frame, &mut out),
            QueryFormat::Csv => inventory::csv(&frame, &mut out),
        }
        .context("cannot write the rows")?;
        return Ok(ExitStatus::Success);
    }
    let filter = Filter {
        principal: args.principal,
        resource: args.resource,
        decision: args.decision,
        source: args.source,
        since: args.since,
        until: args.until,
    };
    let files = scan::locate(&args.dir)?;
    let selected = scan::scan(&files, &filter, args.limit)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        QueryFormat::Table => render::table(&selected, &mut out),
        QueryFormat::Json => render::json(&selected, &mut out),
        QueryFormat::Csv => render::csv(&selected, &mut out),
    }
    .context("cannot write the records")?;
    Ok(ExitStatus::Success)
}

fn schemas(command: SchemasCommand) -> anyhow::Result<ExitStatus> {
    match command {
        SchemasCommand::Fetch {
            versions,
            mirror,
            dest,
        } => {
            let versions = if versions.is_empty() {
                SUPPORTED_VERSIONS.to_vec()
            } else {
                versions
            };
            let explicit_dest = dest.is_some();
            let dest = match dest {
                Some(dest) => dest,
                None => schema_store::cache_schema_dir()?,
            };
            let fetched = fetch_schemas(&versions, &dest, mirror.as_deref(), |f| {
                let what = match f.outcome {
                    FetchOutcome::Downloaded => "downloaded, SHA-256 verified",
                    FetchOutcome::AlreadyPresent => "already present, SHA-256 verified",
                };
                eprintln!("  v{}/{}: {what}", f.version, f.file);
            })?;
            println!(
                "{} schema file(s) ready in {}",
                fetched.len(),
                dest.display()
            );
            // The secret gate's rules are pinned the same way; with --dest
            // they go beside the schemas (pass them with --secret-rules).
            let rules_dest = explicit_dest.then_some(dest.as_path());
            let (path, downloaded) =
                proofpack::secrets::locate::fetch(rules_dest, mirror.as_deref())
                    .map_err(anyhow::Error::msg)?;
            let what = if downloaded {
                "downloaded, SHA-256 verified"
            } else {
                "already present, SHA-256 verified"
            };
            eprintln!("  secret rules (gitleaks): {what}");
            println!("secret rules ready at {}", path.display());
            Ok(ExitStatus::Success)
        }
        SchemasCommand::List { schema_dir } => {
            let (dir, origin) = schema_store::locate_schema_dir(schema_dir.as_deref())?;
            println!("schema folder: {} (from {origin})", dir.display());
            let mut missing = 0;
            for entry in &SchemaLock::embedded().schemas {
                let version: OscalVersion =
                    entry.oscal_version.parse().map_err(anyhow::Error::msg)?;
                let state = match schema_store::read_verified(&dir, &origin, version, &entry.file) {
                    Ok(_) => "ok".to_string(),
                    Err(schema_store::SchemaError::NotFound { .. }) => {
                        missing += 1;
                        "missing".to_string()
                    }
                    Err(schema_store::SchemaError::HashMismatch { .. }) => {
                        missing += 1;
                        "MODIFIED (hash differs from the pin)".to_string()
                    }
                    Err(e) => {
                        missing += 1;
                        e.to_string()
                    }
                };
                println!(
                    "  {:<6} {:<38} {}  {state}",
                    entry.oscal_version,
                    entry.file,
                    &entry.sha256[..16]
                );
            }
            if missing > 0 {
                println!(
                    "{missing} file(s) not usable: run `proofpack schemas fetch`, or set --schema-dir / {SCHEMA_DIR_ENV}"
                );
                Ok(ExitStatus::Failure)
            } else {
                Ok(ExitStatus::Success)
            }
        }
    }
}
