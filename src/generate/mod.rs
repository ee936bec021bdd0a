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
pub mod signature;
mod stages;
pub mod verify_sarif;

pub use signature::{SignatureReport, SignatureStatus};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::checks::run::Report;
use crate::checks::CheckError;
use crate::config::{Config, Impact, NaiveTimes};
use crate::fedramp::Class;
use crate::hash::sha256_hex;
use crate::ingest::Summary;
use crate::oscal::diagnostic::FileStatus;
use crate::oscal::schema_store::SchemaStore;
use crate::oscal::validate::{validate_paths, ValidateOptions};
use crate::time::format_micros;
use oscal_docs::Resource;

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
    /// A file about to be written holds a secret: nothing was written.
    #[error(transparent)]
    Secret(#[from] crate::secrets::gate::GateError),
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
    /// The state folder of incremental runs (overrides `[state] dir`).
    pub state: Option<PathBuf>,
    /// The key that signs the package (overrides the config's `[signing]`).
    pub sign_key: Option<crate::attest::keys::KeySource>,
    pub progress: Option<crate::progress::Progress>,
    /// Secret rules (by id) whose hits the gate lets through.
    pub allowed_secret_rules: Vec<String>,
    /// What aggregates the access events for the checks.
    pub engine: crate::checks::aggregate::engine::Engine,
    /// How zone-less times in every input are read (overrides the config's
    /// `naive_times`).
    pub naive_times: Option<NaiveTimes>,
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

/// The inputs a config names, globs expanded, in config order, and those
/// of them whose zone-less times are UTC.
fn expand_inputs(config: &Config) -> Result<(Vec<String>, Vec<String>), GenerateError> {
    let mut out = Vec::new();
    let mut naive_utc = Vec::new();
    let logs: Vec<(&str, bool)> = config
        .inputs
        .logs
        .iter()
        .map(|l| {
            let utc = l.naive_times(config.inputs.naive_times) == NaiveTimes::Utc;
            (l.path(), utc)
        })
        .collect();
    let mut lists: Vec<(&str, Vec<(&str, bool)>)> = vec![("inputs.logs", logs)];
    for (key, list) in [
        ("inputs.inventories", &config.inputs.inventories),
        ("inputs.policies", &config.inputs.policies),
        ("inputs.scanners", &config.inputs.scanners),
    ] {
        lists.push((key, list.iter().map(|p| (p.as_str(), false)).collect()));
    }
    for (key, list) in lists {
        for (pattern, utc) in list {
            let first = out.len();
            let full = config.path(pattern);
            // URLs and object-store prefixes are checked when read (a store
            // that cannot be listed stops the run there, naming the bucket).
            let remote = full.starts_with("http://")
                || full.starts_with("https://")
                || crate::ingest::store::is_store_url(&full);
            if remote {
                if utc {
                    naive_utc.push(full.clone());
                }
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
            if utc {
                naive_utc.extend(out[first..].iter().cloned());
            }
        }
    }
    if out.is_empty() {
        return Err(GenerateError::Input {
            key: "inputs".into(),
            reason: "no logs, inventories, policies or scanner reports are configured".into(),
        });
    }
    Ok((out, naive_utc))
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
    // An input names its records' raw file, or a folder above it.
    let folders: Vec<String> = inputs
        .iter()
        .map(|input| format!("{}/", input.trim_end_matches('/')))
        .collect();
    for table in crate::model::tables::EVIDENCE_TABLES {
        let path = evidence_dir.join(format!("{table}.parquet"));
        // Only the raw-file column, a row group at a time: a month of
        // events is never held to count them.
        let _ =
            crate::model::tables::for_each_row_group(&path, &["raw_file"], |frame, _| {
                let files = frame.column("raw_file")?.str()?;
                for file in files.iter().flatten() {
                    if let Some(i) = inputs.iter().zip(&folders).position(|(input, folder)| {
                        file == input || file.starts_with(folder.as_str())
                    }) {
                        *out[i].entry(table.to_string()).or_insert(0) += 1;
                    }
                }
                Ok(())
            });
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
    let (sha256, _) =
        crate::hash::sha256_file_hex(&root.join(path)).map_err(io(&root.join(path)))?;
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
        sha256,
        table,
    })
}

/// The pipeline, one stage per line: each stage is a function of its own
/// (in `stages`) with its own progress line and error context, writing
/// into the staging folder; only `land` touches the destination.
pub fn generate(opts: &GenerateOptions) -> Result<Generated, GenerateError> {
    let mut plan = stages::plan(opts)?;
    let staging = stages::staging_beside(&plan.out_dir)?;
    let root = staging.path();
    let evidence = stages::read_evidence(&plan, root)?;
    let report = stages::run_checks(&plan, root, &evidence)?;
    let attestations = stages::copy_attestations(&plan, root)?;
    let oscal = stages::write_oscal(&plan, root, &evidence, &report, &attestations)?;
    let mut sdr = stages::write_sdr(&plan, root, &report, &attestations)?;
    stages::write_summaries(&plan, root, &evidence, &report, &oscal, &sdr)?;
    let validation = stages::validate(&mut plan, &oscal, &mut sdr)?;
    let gate = stages::gate_files(&plan, root, &evidence)?;
    let manifest = stages::write_manifest(&plan, root, &evidence, validation, &sdr, gate)?;
    stages::gate_manifest(&plan, root, &evidence)?;
    stages::sign(&plan, root, &manifest)?;
    stages::land(&mut plan, staging, &sdr)?;
    Ok(Generated {
        dir: plan.out_dir,
        ingest: evidence.summary,
        report,
        sdr_validation: sdr.validation,
        missing: sdr.sdr.missing,
        warnings: plan.warnings,
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
    /// Who signed the package, and whether every file is as signed.
    pub signature: SignatureReport,
    /// The secret gate run again over the package as it stands.
    pub secrets: SecretsCheck,
}

/// What the secret gate found when `verify` ran it again.
#[derive(Debug, serde::Serialize)]
pub struct SecretsCheck {
    /// `clean`, `found` or `not checked`.
    pub status: &'static str,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<crate::secrets::gate::GateFinding>,
}

#[derive(Debug, serde::Serialize)]
pub struct Freshness {
    pub as_of: String,
    pub expires: Option<String>,
    pub stale: bool,
}

impl VerifyReport {
    /// Intact, valid, and not signed wrongly (an unsigned or unchecked
    /// package fails only with `--require-signature`).
    pub fn ok(&self) -> bool {
        self.files.intact()
            && self.documents.values().all(|v| v.starts_with("valid"))
            && self.signature.status != SignatureStatus::Invalid
            && self.secrets.status != "found"
    }
}

/// Checks the signature with the `trusted` keys first (when the package is
/// signed), then the files against the manifest, then the documents.
pub fn verify(
    dir: &Path,
    schema_dir: Option<&Path>,
    as_of_us: i64,
    trusted: &[crate::attest::keys::PublicKey],
    secret_rules: Option<&crate::secrets::rules::RuleSet>,
) -> Result<VerifyReport, GenerateError> {
    let on_disk = package::on_disk(dir).map_err(GenerateError::Step)?;
    let signature = signature::check(dir, trusted, &on_disk);
    let manifest = package::read_manifest(dir).map_err(GenerateError::Step)?;
    let files = package::verify_files(&manifest, &on_disk);
    let mut documents = BTreeMap::new();
    let store = SchemaStore::locate(schema_dir)
        .map_err(|e| GenerateError::Step(format!("OSCAL schemas: {e}")))?;
    let paths: Vec<PathBuf> = manifest
        .files
        .iter()
        .filter(|f| f.path.starts_with("oscal/") && f.path.ends_with(".json"))
        // Only files found in the package: a manifest path such as
        // `oscal/../../x.json` names nothing in it and is reported missing,
        // never read.
        .filter(|f| on_disk.contains_key(&f.path))
        .map(|f| dir.join(&f.path))
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
    let secrets = secrets_check(dir, secret_rules, &manifest)?;
    Ok(VerifyReport {
        package: dir.display().to_string(),
        files,
        documents,
        freshness,
        signature,
        secrets,
    })
}

/// The gate again, with the rules in force and the rules the producer
/// allowed (from the manifest): an auditor need not trust that it ran.
fn secrets_check(
    dir: &Path,
    rules: Option<&crate::secrets::rules::RuleSet>,
    manifest: &package::Manifest,
) -> Result<SecretsCheck, GenerateError> {
    let Some(rules) = rules else {
        return Ok(SecretsCheck {
            status: "not checked",
            detail: "no secret rules: pass --secret-rules or run `proofpack schemas fetch`".into(),
            findings: Vec::new(),
        });
    };
    let allowed = manifest
        .secret_gate
        .as_ref()
        .map(|g| g.allowed_rules.clone())
        .unwrap_or_default();
    let seen = crate::secrets::seen::SeenSecrets::default();
    let gate = crate::secrets::gate::Gate {
        rules,
        seen: &seen,
        allowed: &allowed,
        identifiers: crate::secrets::gate::Identifiers::from_evidence(&dir.join("evidence")),
    };
    Ok(match gate.scan_dir(dir) {
        Ok(summary) => SecretsCheck {
            status: "clean",
            detail: format!(
                "no secret in {} file(s), {} string(s){}",
                summary.files,
                summary.strings,
                if allowed.is_empty() {
                    String::new()
                } else {
                    format!(" (rules allowed by the producer: {})", allowed.join(", "))
                }
            ),
            findings: Vec::new(),
        },
        Err(crate::secrets::gate::GateError::Found(findings, total)) => SecretsCheck {
            status: "found",
            detail: format!("{total} secret value(s) in the package"),
            findings,
        },
        Err(e) => return Err(GenerateError::Secret(e)),
    })
}
