//! `proofpack generate`: config → ingest → checks → OSCAL plan, results and
//! POA&M, FedRAMP Security Decision Record, hashed evidence → one package.
//!
//! Everything is written into a staging folder beside the destination and
//! renamed into place only when complete and valid, so a failure at any
//! step leaves no partial package. The same inputs, window and pinned
//! `last-modified` give byte-identical files.

pub mod deadlines;
pub mod fedramp_schema;
pub mod ids;
pub mod ksi_coverage;
pub mod oscal_docs;
pub mod package;
pub mod sdr;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::checks::catalogue::{self, Catalogue};
use crate::checks::evidence::Evidence;
use crate::checks::frameworks::Frameworks;
use crate::checks::run::{run, Report, RunOptions};
use crate::checks::CheckError;
use crate::config::{parse_length, toml_time, Config, Impact};
use crate::fedramp::Class;
use crate::hash::sha256_hex;
use crate::ingest::{IngestOptions, Secret, Summary};
use crate::model::tables::{read_table, string_column};
use crate::oscal::diagnostic::FileStatus;
use crate::oscal::schema_store::SchemaStore;
use crate::oscal::validate::{validate_paths, ValidateOptions};
use crate::time::format_micros;
use oscal_docs::{DocInputs, Resource};
use package::{InputEntry, Manifest, MANIFEST};

#[derive(Debug, Error)]
pub enum GenerateError {
    #[error(transparent)]
    Config(#[from] CheckError),
    #[error("{key}: {reason}")]
    Input { key: String, reason: String },
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("{0}")]
    Step(String),
    /// A generated document failed validation: a bug in proofpack.
    #[error("{document} failed validation (a proofpack bug; nothing was written):\n{problems}")]
    Invalid { document: String, problems: String },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> GenerateError + '_ {
    move |e| GenerateError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

pub struct GenerateOptions {
    pub config: PathBuf,
    pub out: Option<PathBuf>,
    pub since_us: Option<i64>,
    pub until_us: Option<i64>,
    /// A window length counted back from `until` (`30d`).
    pub window_us: Option<i64>,
    pub oscal_version: Option<String>,
    /// Pins `metadata.last-modified` (and the manifest's `created`).
    pub last_modified_us: Option<i64>,
    pub schema_dir: Option<PathBuf>,
    pub fedramp_schema_dir: Option<PathBuf>,
    /// Metaschema constraints every OSCAL document must pass before landing
    /// (NIST's by default; FedRAMP's when their folder is given).
    pub constraints: crate::oscal::constraints::ConstraintOptions,
    pub mappings: Option<PathBuf>,
    /// The history folder (overrides the config's `[history] dir`).
    pub history: Option<PathBuf>,
    pub progress: Option<crate::progress::Progress>,
}

pub struct Generated {
    pub dir: PathBuf,
    pub ingest: Summary,
    pub report: Report,
    pub sdr_validation: String,
    pub missing: Vec<String>,
    pub warnings: Vec<String>,
}

/// How the Metaschema constraints fared, for the manifest: counts, and the
/// SHA-256 of each constraint file, so an auditor can re-run the same rules.
fn constraint_note(summary: Option<&crate::oscal::constraints::ConstraintSummary>) -> String {
    let Some(s) = summary else {
        return " (Metaschema constraints not evaluated: --constraints none)".to_string();
    };
    let families: Vec<String> = s
        .selection
        .iter()
        .map(|f| match f {
            crate::oscal::constraints::Family::Nist => {
                format!("NIST's OSCAL {} Metaschema", s.metaschema_version)
            }
            crate::oscal::constraints::Family::External => "FedRAMP's external".to_string(),
        })
        .collect();
    let sources: Vec<String> = s
        .sources
        .iter()
        .map(|f| format!("{} sha256:{}", f.file, f.sha256))
        .collect();
    format!(
        " and {} constraints: {} applied, {} passed, {} failed, {} not evaluated{} [{}]",
        families.join(" and "),
        s.applied,
        s.passed,
        s.failed,
        s.not_evaluated,
        if s.not_evaluated_list.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                s.not_evaluated_list
                    .iter()
                    .map(|n| format!("{}: {}", n.id, n.reason))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        },
        sources.join(", ")
    )
}

/// Re-validation cadence for machine-based resources, in days, and how it
/// was chosen (CR26 VDR-TFR-MVX by class; Phase Two PVA by impact level).
pub fn cadence(class: Option<Class>, impact: Option<Impact>) -> (i64, String) {
    match (class, impact) {
        (Some(Class::A), _) => (30, "monthly (Class A, CR26 VDR-TFR-MVX)".into()),
        (Some(Class::B), _) => (7, "every 7 days (Class B, CR26 VDR-TFR-MVX)".into()),
        (Some(Class::C), _) => (3, "every 3 days (Class C, CR26 VDR-TFR-MVX)".into()),
        (Some(Class::D), _) => (
            3,
            "every 3 days (Class D: CR26 sets no shorter cycle than Class C's)".into(),
        ),
        (None, Some(Impact::Low)) => (7, "every 7 days (Low, FedRAMP PVA-CSX-PMV)".into()),
        (None, Some(_)) => (
            3,
            "every 3 days (Moderate or above, FedRAMP PVA-CSX-PMV)".into(),
        ),
        (None, None) => (
            7,
            "every 7 days (no class or impact level configured; the Class B cycle)".into(),
        ),
    }
}

/// `a/b/../c` → `a/c`, without touching the file system (the folder may
/// not exist yet).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir
                if matches!(
                    out.components().next_back(),
                    Some(std::path::Component::Normal(_))
                ) =>
            {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// The inputs a config names, globs expanded, in config order.
fn expand_inputs(config: &Config) -> Result<Vec<String>, GenerateError> {
    let mut out = Vec::new();
    for (key, list) in [
        ("inputs.logs", &config.inputs.logs),
        ("inputs.inventories", &config.inputs.inventories),
        ("inputs.policies", &config.inputs.policies),
        ("inputs.scanners", &config.inputs.scanners),
    ] {
        for pattern in list {
            let full = config.path(pattern);
            if full.starts_with("http://") || full.starts_with("https://") {
                out.push(full);
                continue;
            }
            if pattern.contains(['*', '?', '[']) {
                let mut matched: Vec<String> = glob::glob(&full)
                    .map_err(|e| GenerateError::Input {
                        key: key.into(),
                        reason: format!("{pattern:?} is not a valid pattern: {e}"),
                    })?
                    .filter_map(Result::ok)
                    .map(|p| p.display().to_string())
                    .collect();
                if matched.is_empty() {
                    return Err(GenerateError::Input {
                        key: key.into(),
                        reason: format!(
                            "{pattern:?} matches no file (relative to {})",
                            config.base.display()
                        ),
                    });
                }
                matched.sort();
                out.extend(matched);
            } else if Path::new(&full).exists() {
                out.push(full);
            } else {
                return Err(GenerateError::Input {
                    key: key.into(),
                    reason: format!("{pattern:?} does not exist (looked for {full})"),
                });
            }
        }
    }
    if out.is_empty() {
        return Err(GenerateError::Input {
            key: "inputs".into(),
            reason: "no logs, inventories, policies or scanner reports are configured".into(),
        });
    }
    Ok(out)
}

/// SHA-256 and size of an input: the file's bytes, or for a folder a hash
/// over its files' relative paths and hashes.
fn hash_input(path: &str) -> (String, u64) {
    let p = Path::new(path);
    if p.is_file() {
        return std::fs::read(p)
            .map(|b| (sha256_hex(&b), b.len() as u64))
            .unwrap_or_default();
    }
    if p.is_dir() {
        let mut lines = String::new();
        let mut total = 0;
        for entry in walkdir::WalkDir::new(p)
            .sort_by_file_name()
            .into_iter()
            .flatten()
        {
            if entry.file_type().is_file() {
                if let Ok(bytes) = std::fs::read(entry.path()) {
                    total += bytes.len() as u64;
                    let rel = entry.path().strip_prefix(p).unwrap_or(entry.path());
                    lines.push_str(&format!("{}  {}\n", sha256_hex(&bytes), rel.display()));
                }
            }
        }
        return (sha256_hex(lines.as_bytes()), total);
    }
    (String::new(), 0)
}

/// Rows per table whose raw file is `input` (or inside it).
fn record_counts(evidence_dir: &Path, inputs: &[String]) -> Vec<BTreeMap<String, u64>> {
    let mut out = vec![BTreeMap::new(); inputs.len()];
    for table in crate::model::tables::EVIDENCE_TABLES {
        let Ok(frame) = read_table(evidence_dir, table) else {
            continue;
        };
        let Ok(files) = string_column(&frame, "raw_file") else {
            continue;
        };
        for file in files.iter().flatten() {
            if let Some(i) = inputs.iter().position(|input| {
                file == input || file.starts_with(&format!("{}/", input.trim_end_matches('/')))
            }) {
                *out[i].entry(table.to_string()).or_insert(0) += 1;
            }
        }
    }
    out
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), GenerateError> {
    let mut bytes =
        serde_json::to_vec_pretty(value).map_err(|e| GenerateError::Step(e.to_string()))?;
    bytes.push(b'\n');
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    std::fs::write(path, bytes).map_err(io(path))
}

fn file_resource(
    root: &Path,
    path: &str,
    title: String,
    table: Option<&'static str>,
) -> Result<Resource, GenerateError> {
    let bytes = std::fs::read(root.join(path)).map_err(io(&root.join(path)))?;
    Ok(Resource {
        uuid: ids::uuid(&["resource", path]),
        title,
        href: format!("../{path}"),
        path: path.to_string(),
        media_type: if path.ends_with(".csv") {
            "text/csv"
        } else if path.ends_with(".json") {
            "application/json"
        } else if path.ends_with(".parquet") {
            "application/vnd.apache.parquet"
        } else {
            "application/octet-stream"
        },
        sha256: sha256_hex(&bytes),
        table,
    })
}

pub fn generate(opts: &GenerateOptions) -> Result<Generated, GenerateError> {
    let mut catalogue = Catalogue::built_in()?;
    let mut frameworks = Frameworks::built_in()?;
    let mut warnings = Vec::new();
    if let Some(dir) = &opts.mappings {
        warnings.extend(catalogue::load_dir(dir, &mut catalogue, &mut frameworks)?);
    }
    let config = Config::load(&opts.config, &catalogue)?;
    let checks_config = &config.validated;
    let system = config.system.clone().ok_or_else(|| GenerateError::Input {
        key: "system".into(),
        reason: "the [system] section is required (name, description, organization, boundary)"
            .into(),
    })?;
    let oscal_version = opts
        .oscal_version
        .clone()
        .or_else(|| config.output.oscal_version.clone())
        .unwrap_or_else(|| "1.1.3".into());
    if !["1.1.3", "1.2.1"].contains(&oscal_version.as_str()) {
        return Err(GenerateError::Input {
            key: "output.oscal_version".into(),
            reason: format!("{oscal_version} is not supported for generation; use 1.1.3 or 1.2.1"),
        });
    }
    let out_dir = opts
        .out
        .clone()
        .or_else(|| {
            config
                .output
                .dir
                .as_ref()
                .map(|d| lexical(&config.base.join(d)))
        })
        .ok_or_else(|| GenerateError::Input {
            key: "output.dir".into(),
            reason: "no output folder: set output.dir or pass --out".into(),
        })?;

    // The window.
    let now = chrono::Utc::now().timestamp_micros();
    let until_us = opts
        .until_us
        .or_else(|| config.window.until.as_ref().and_then(toml_time))
        .unwrap_or(now);
    // The command line wins over the config; a length counts back from until.
    let config_length = config.window.length.as_deref().and_then(parse_length);
    let since_us = opts
        .since_us
        .or(opts.window_us.map(|l| until_us - l))
        .or_else(|| config.window.since.as_ref().and_then(toml_time))
        .or(config_length.map(|l| until_us - l));
    if since_us.is_some_and(|s| s >= until_us) {
        return Err(GenerateError::Input {
            key: "window".into(),
            reason: "the window starts at or after its end".into(),
        });
    }
    let inputs = expand_inputs(&config)?;
    let bearer_token = match &config.inputs.token_env {
        Some(var) => Some(Secret(std::env::var(var).map_err(|_| {
            GenerateError::Input {
                key: "inputs.token_env".into(),
                reason: format!("the environment variable {var} is not set"),
            }
        })?)),
        None => None,
    };

    // Staging beside the destination, so the final rename is atomic.
    let parent = out_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    if out_dir.exists()
        && !out_dir.join(MANIFEST).exists()
        && std::fs::read_dir(&out_dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(GenerateError::Io {
            path: out_dir.display().to_string(),
            reason: "exists and is not a proofpack package; refusing to replace it".into(),
        });
    }
    let staging = tempfile::Builder::new()
        .prefix(".proofpack-package-")
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    let root = staging.path();

    let (cadence_days, cadence_text) = cadence(system.class, system.impact);
    let age_days = (now - until_us) / crate::checks::outcome::DAY_US;
    if age_days > cadence_days {
        warnings.push(format!(
            "the evidence ends {age_days} days before today; the configured class requires re-validation {cadence_text}"
        ));
    }

    let step = |name: &str| {
        if let Some(p) = &opts.progress {
            p.report(crate::progress::Event::Step(name));
        }
    };

    // 1. Evidence.
    step("reading the inputs");
    let ingest_options = IngestOptions {
        source: None,
        since: since_us,
        until: Some(until_us),
        bearer_token,
        progress: opts.progress.clone(),
        ..IngestOptions::default()
    };
    let evidence_dir = root.join("evidence");
    let summary = crate::ingest::output::ingest_to_folder(&evidence_dir, &inputs, &ingest_options)
        .map_err(|e| GenerateError::Step(format!("ingest: {e}")))?;
    if !summary.reconciles() {
        return Err(GenerateError::Step(
            "ingest: the record counts do not reconcile".into(),
        ));
    }
    let evidence = Evidence::load(&evidence_dir)?;
    let since_us = since_us
        .or_else(|| evidence.events.time.iter().flatten().min().copied())
        .unwrap_or(until_us);

    // 2. Checks.
    step("running the checks");
    let report = run(
        "evidence",
        &evidence,
        &catalogue,
        &frameworks,
        checks_config,
        &RunOptions {
            as_of_us: Some(until_us),
            since_us: Some(since_us),
            until_us: Some(until_us),
            only: Vec::new(),
        },
    );
    write_json(&root.join("checks.json"), &report)?;

    // 3. Attestations (a missing file stops the run here, after the
    //    expensive steps: the staging folder goes with it).
    let mut attestations = Vec::new();
    for (i, a) in config.attestations.iter().enumerate() {
        let source = config.base.join(&a.file);
        let bytes = std::fs::read(&source).map_err(|e| GenerateError::Input {
            key: format!("attestations[{i}].file"),
            reason: format!("{}: {e}", source.display()),
        })?;
        let name = a.file.file_name().map_or_else(
            || format!("attestation-{i}"),
            |n| n.to_string_lossy().into_owned(),
        );
        let rel = format!("attestations/{:02}-{name}", i + 1);
        let dest = root.join(&rel);
        std::fs::create_dir_all(root.join("attestations")).map_err(io(root))?;
        std::fs::write(&dest, &bytes).map_err(io(&dest))?;
        let res = file_resource(root, &rel, format!("Attestation: {}", a.title), None)?;
        attestations.push((a.clone(), res));
    }

    // 4. OSCAL.
    step("writing the OSCAL documents");
    let mut resources = Vec::new();
    for table in crate::model::tables::EVIDENCE_TABLES {
        let t: &'static str = table;
        resources.push(file_resource(
            root,
            &format!("evidence/{table}.csv"),
            format!("Evidence table {table} (CSV)"),
            Some(t),
        )?);
        resources.push(file_resource(
            root,
            &format!("evidence/{table}.parquet"),
            format!("Evidence table {table} (Parquet)"),
            None,
        )?);
    }
    resources.push(file_resource(
        root,
        "evidence/summary.json",
        "Ingest summary: inputs and reconciled counts".into(),
        None,
    )?);
    resources.push(file_resource(
        root,
        "checks.json",
        "Check results".into(),
        None,
    )?);
    let last_modified = format_micros(opts.last_modified_us.unwrap_or(now));
    let identities: Vec<(String, String)> = (0..evidence.identities.len)
        .filter_map(|i| {
            Some((
                evidence.identities.id.get(i)?.to_string(),
                evidence
                    .identities
                    .kind
                    .get(i)
                    .unwrap_or("identity")
                    .to_string(),
            ))
        })
        .collect();
    // Frameworks::built_in always sets the table; a default-made value does not.
    let built_in_rules;
    let remediation = match &frameworks.remediation {
        Some(rules) => rules,
        None => {
            built_in_rules = crate::checks::remediation::RemediationRules::built_in()?;
            &built_in_rules
        }
    };
    let deadlines = deadlines::deadlines(
        &report,
        &deadlines::DeadlineInputs {
            catalogue: &catalogue,
            poam: &config.poam,
            class: system.class,
            rules: remediation,
            evaluated: chrono::DateTime::from_timestamp_micros(until_us).unwrap_or_default(),
        },
    );
    let docs = oscal_docs::build(&DocInputs {
        system: &system,
        oscal_version: &oscal_version,
        last_modified: last_modified.clone(),
        since: format_micros(since_us),
        until: format_micros(until_us),
        collected: format_micros(until_us),
        expires: format_micros(until_us + cadence_days * crate::checks::outcome::DAY_US),
        cadence_days,
        report: &report,
        catalogue: &catalogue,
        identities,
        resources,
        attestations: attestations.clone(),
        deadlines: &deadlines,
        ssp_href: system.overview_uri.clone(),
    });
    let oscal_dir = root.join("oscal");
    let documents = [
        ("assessment-plan.json", &docs.assessment_plan),
        ("assessment-results.json", &docs.assessment_results),
        ("poam.json", &docs.poam),
    ];
    for (name, doc) in documents {
        write_json(&oscal_dir.join(name), doc)?;
    }

    // 5. FedRAMP Security Decision Record.
    let attested_paths: Vec<(crate::config::Attestation, String)> = attestations
        .iter()
        .map(|(a, r)| (a.clone(), r.path.clone()))
        .collect();
    let base_uri = config.output_base_uri();
    let ksi_coverage = frameworks
        .by_id
        .get("fedramp-20x-ksi")
        .map(|ksis| ksi_coverage::ksi_coverage(ksis, &report, &config.attestations))
        .unwrap_or_default();
    let sdr = sdr::build(&sdr::SdrInputs {
        report: &report,
        overview_uri: system.overview_uri.as_deref(),
        base_uri: base_uri.as_deref(),
        texts: &config.ksi,
        attestations: &attested_paths,
        cadence: cadence_text.clone(),
        last_updated: format_micros(until_us)[..10].to_string(),
        coverage: &ksi_coverage,
    });
    let mut sdr = sdr;

    // 5a. History: earlier runs plus this one, for the KSI records and the
    //     trend chart; this run is added to the store once the package lands.
    let ksi_statuses: Vec<(String, String)> = sdr.document["keySecurityIndicators"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| {
            Some((
                k["ksiId"].as_str()?.to_string(),
                k["ksiImplementationStatus"].as_str()?.to_string(),
            ))
        })
        .collect();
    let run_entries = crate::history::entries(&report, &ksi_statuses, until_us);
    // `--history` wins over the config's `[history] dir`.
    let history_dir = opts.history.clone().or_else(|| {
        config
            .history
            .dir
            .as_ref()
            .map(|d| lexical(&config.base.join(d)))
    });
    let mut all_entries = match &history_dir {
        Some(dir) => crate::history::read(dir)
            .map_err(|e| GenerateError::Step(format!("history {}: {e}", dir.display())))?,
        None => Vec::new(),
    };
    all_entries.retain(|e| e.until_us != until_us);
    all_entries.extend(run_entries.iter().cloned());
    let series = crate::history::series(&all_entries, until_us);
    write_json(
        &root.join("fedramp/ksi-history.json"),
        &serde_json::json!({
            "as_of": format_micros(until_us),
            "history": history_dir.as_ref().map(|d| d.display().to_string()),
            "series": series,
        }),
    )?;
    let history_location = match base_uri.as_deref() {
        Some(b) => format!("{}/fedramp/ksi-history.json", b.trim_end_matches('/')),
        None => "fedramp/ksi-history.json".to_string(),
    };
    if let Some(entries) = sdr.document["keySecurityIndicators"].as_array_mut() {
        for k in entries {
            let id = k["ksiId"].as_str().unwrap_or("").to_string();
            if let Some(s) = series.iter().find(|s| s.kind == "ksi" && s.id == id) {
                let counts: Vec<String> = s
                    .last_30_days
                    .iter()
                    .map(|(st, n)| format!("{st} {n}"))
                    .collect();
                if let Some(v) = k["ksiValidation"].as_array_mut() {
                    v.push(serde_json::json!(format!(
                        "History: {} run(s) in the 30 days to {} ({}); daily statuses for up to a year in fedramp/ksi-history.json.",
                        s.runs_in_30_days, &format_micros(until_us)[..10], counts.join(", ")
                    )));
                }
                if let Some(e) = k["ksiEvidence"].as_array_mut() {
                    e.push(serde_json::json!({
                        "evidenceType": "Report",
                        "evidenceDescription": "The KSI's status per run: 30-day summary and daily series.",
                        "evidenceLocation": history_location,
                        "lastUpdated": &format_micros(until_us)[..10],
                    }));
                }
            }
        }
    }
    let mut trend: BTreeMap<i64, [u64; 3]> = BTreeMap::new();
    for e in all_entries.iter().filter(|e| e.kind == "ksi") {
        let slot = match e.status.as_str() {
            "Implemented" => 0,
            "Partially Implemented" => 1,
            _ => 2,
        };
        trend.entry(e.until_us).or_default()[slot] += 1;
    }
    let ksi_trend: Vec<(String, [u64; 3])> = if trend.len() > 1 {
        trend
            .into_iter()
            .map(|(u, c)| (format_micros(u)[..10].to_string(), c))
            .collect()
    } else {
        Vec::new()
    };
    let sdr_path = root.join("fedramp/security-decision-record.json");
    write_json(&sdr_path, &sdr.document)?;

    // 5b. Human summaries.
    step("writing the summaries");
    let findings: Vec<(String, String, String)> = docs.assessment_results["assessment-results"]
        ["results"][0]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let control = f["target"]["target-id"]
                .as_str()
                .unwrap_or("")
                .trim_end_matches("_obj")
                .to_string();
            let title = f["title"]
                .as_str()
                .unwrap_or("")
                .split_once(' ')
                .map_or(String::new(), |(_, t)| t.to_string());
            let state = f["target"]["status"]["state"]
                .as_str()
                .unwrap_or("")
                .to_string();
            (control, title, state)
        })
        .collect();
    let templates = config
        .output
        .templates
        .as_ref()
        .map(|t| config.base.join(t));
    let (markdown, html) = crate::summary::render(&crate::summary::SummaryInputs {
        system: &system,
        since: format_micros(since_us),
        until: format_micros(until_us),
        generated: last_modified.clone(),
        report: &report,
        sdr: &sdr.document,
        findings,
        frameworks: &frameworks,
        evidence: &evidence,
        as_of_us: until_us,
        ksi_trend,
        ksi_coverage: &ksi_coverage,
        deadlines: &deadlines,
        templates: templates.as_deref(),
    })
    .map_err(|e| GenerateError::Step(format!("summary template {e}")))?;
    std::fs::write(root.join("summary.md"), markdown).map_err(io(root))?;
    std::fs::write(root.join("summary.html"), html).map_err(io(root))?;

    // 6. Validation before anything lands.
    step("validating the documents");
    let store = SchemaStore::locate(opts.schema_dir.as_deref()).map_err(|e| {
        GenerateError::Step(format!(
            "OSCAL schemas: {e} (run `proofpack schemas fetch` or pass --schema-dir)"
        ))
    })?;
    let paths: Vec<PathBuf> = documents.iter().map(|(n, _)| oscal_dir.join(n)).collect();
    let reports = validate_paths(
        &paths,
        &store,
        &ValidateOptions {
            strict: true,
            constraints: opts.constraints.clone(),
            // The documents and the evidence their back-matter hashes are
            // this run's own files, however large the input made them.
            max_bytes: u64::MAX,
            ..ValidateOptions::default()
        },
    );
    for r in &reports {
        if r.status == FileStatus::Error {
            return Err(GenerateError::Step(format!(
                "{}: not validated: {}",
                r.path,
                r.note.as_deref().unwrap_or("unknown error")
            )));
        }
        if r.status != FileStatus::Valid {
            let problems: Vec<String> = r
                .diagnostics
                .iter()
                .map(|d| format!("  {}: {}", d.pointer, d.message))
                .collect();
            return Err(GenerateError::Invalid {
                document: r.path.clone(),
                problems: problems.join("\n"),
            });
        }
    }
    let mut validation = BTreeMap::new();
    for ((name, _), report) in documents.iter().zip(&reports) {
        validation.insert(
            format!("oscal/{name}"),
            format!(
                "valid against NIST's OSCAL {oscal_version} schema, proofpack's reference checks{}",
                constraint_note(report.constraints.as_ref())
            ),
        );
    }
    let fedramp_dir = opts
        .fedramp_schema_dir
        .clone()
        .or_else(|| std::env::var_os(fedramp_schema::FEDRAMP_SCHEMA_DIR_ENV).map(PathBuf::from));
    let sdr_validation = match &fedramp_dir {
        None => {
            warnings.push(format!("the Security Decision Record was not validated: pass --fedramp-schema-dir or set {}", fedramp_schema::FEDRAMP_SCHEMA_DIR_ENV));
            "not validated: no FedRAMP schema folder given".to_string()
        }
        Some(dir) => {
            match fedramp_schema::validate_sdr(dir, &sdr.document) {
                Err(why) => return Err(GenerateError::Step(format!("FedRAMP schemas: {why}"))),
                Ok(problems) if problems.is_empty() => {
                    "valid against FedRAMP's CR26 Security Decision Record schema".to_string()
                }
                Ok(problems) => {
                    let provider_gap = !sdr
                        .missing
                        .iter()
                        .all(|m| m.starts_with("ksi.") || m.starts_with("fedRampRequirements"));
                    if !provider_gap {
                        return Err(GenerateError::Invalid {
                            document: "fedramp/security-decision-record.json".into(),
                            problems: problems.join("\n"),
                        });
                    }
                    warnings.push(format!("the Security Decision Record is incomplete until the provider supplies: {}", sdr.missing.join("; ")));
                    format!(
                        "invalid until the provider's fields are supplied: {}",
                        problems.join("; ")
                    )
                }
            }
        }
    };
    validation.insert(
        "fedramp/security-decision-record.json".into(),
        sdr_validation.clone(),
    );

    // 7. Manifest.
    step("hashing the package");
    let counts = record_counts(&evidence_dir, &inputs);
    let manifest = Manifest {
        tool: "proofpack".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        created: last_modified,
        config_sha256: config.sha256.clone(),
        oscal_version: oscal_version.clone(),
        since: format_micros(since_us),
        until: format_micros(until_us),
        inputs: inputs
            .iter()
            .zip(counts)
            .map(|(path, records)| {
                let (sha256, bytes) = hash_input(path);
                InputEntry {
                    path: path.clone(),
                    sha256,
                    bytes,
                    records,
                }
            })
            .collect(),
        files: package::hash_files(root).map_err(io(root))?,
        validation,
        missing: sdr.missing.clone(),
    };
    write_json(&root.join(MANIFEST), &manifest)?;

    // 8. Into place.
    if out_dir.exists() {
        std::fs::remove_dir_all(&out_dir).map_err(io(&out_dir))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, &out_dir).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staged);
        io(&out_dir)(e)
    })?;
    if let Some(dir) = &history_dir {
        if let Err(e) = crate::history::append(dir, until_us, &run_entries) {
            warnings.push(format!(
                "the run was not added to the history in {}: {e}",
                dir.display()
            ));
        }
    } else {
        warnings.push(
            "no [history] dir in the config and no --history: this run's metrics are not kept for trends".into(),
        );
    }
    Ok(Generated {
        dir: out_dir,
        ingest: summary,
        report,
        sdr_validation,
        missing: sdr.missing,
        warnings,
    })
}

/// What `verify` found: files, and the documents' validity.
#[derive(Debug, serde::Serialize)]
pub struct VerifyReport {
    pub package: String,
    #[serde(flatten)]
    pub files: package::Verification,
    pub documents: BTreeMap<String, String>,
    /// When the earliest observation of the results lapses, and whether it
    /// had by the time of the check.
    pub freshness: Freshness,
}

#[derive(Debug, serde::Serialize)]
pub struct Freshness {
    pub as_of: String,
    pub expires: Option<String>,
    pub stale: bool,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.files.intact() && self.documents.values().all(|v| v.starts_with("valid"))
    }
}

pub fn verify(
    dir: &Path,
    schema_dir: Option<&Path>,
    as_of_us: i64,
) -> Result<VerifyReport, GenerateError> {
    let manifest = package::read_manifest(dir).map_err(GenerateError::Step)?;
    let files = package::verify_files(dir, &manifest).map_err(GenerateError::Step)?;
    let mut documents = BTreeMap::new();
    let store = SchemaStore::locate(schema_dir)
        .map_err(|e| GenerateError::Step(format!("OSCAL schemas: {e}")))?;
    let paths: Vec<PathBuf> = manifest
        .files
        .iter()
        .filter(|f| f.path.starts_with("oscal/") && f.path.ends_with(".json"))
        .map(|f| dir.join(&f.path))
        .filter(|p| p.exists())
        .collect();
    for r in validate_paths(
        &paths,
        &store,
        &ValidateOptions {
            strict: true,
            // Every file the manifest lists was hashed above whatever its
            // size; the documents' back-matter hashes may read them again.
            max_bytes: manifest
                .files
                .iter()
                .map(|f| f.bytes)
                .max()
                .unwrap_or(0)
                .max(crate::oscal::validate::DEFAULT_MAX_BYTES),
            ..ValidateOptions::default()
        },
    ) {
        let rel = Path::new(&r.path)
            .strip_prefix(dir)
            .map_or(r.path.clone(), |p| p.display().to_string());
        documents.insert(
            rel,
            if r.status == FileStatus::Valid {
                "valid".to_string()
            } else {
                format!(
                    "invalid: {}",
                    r.diagnostics
                        .iter()
                        .take(5)
                        .map(|d| format!("{} {}", d.pointer, d.message))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            },
        );
    }
    // Freshness: the machine-based observations carry `expires`.
    let expires = std::fs::read_to_string(dir.join("oscal/assessment-results.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|ar| {
            ar["assessment-results"]["results"]
                .as_array()?
                .iter()
                .flat_map(|r| r["observations"].as_array().into_iter().flatten())
                .filter_map(|o| o["expires"].as_str().and_then(crate::time::parse_time_text))
                .min()
        });
    let freshness = Freshness {
        as_of: format_micros(as_of_us),
        expires: expires.map(format_micros),
        stale: expires.is_some_and(|e| e < as_of_us),
    };
    Ok(VerifyReport {
        package: dir.display().to_string(),
        files,
        documents,
        freshness,
    })
}
