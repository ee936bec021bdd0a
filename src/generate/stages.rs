//! The stages of `generate`, in the order it runs them. Each reads what
//! earlier stages produced, writes its files into the staging folder, says
//! what it is doing on the progress line, and names itself in its errors.

use super::oscal_docs::SubjectIdentity;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::oscal_docs::{self, DocInputs, Documents, Resource};
use super::package::{self, InputEntry, Manifest, MANIFEST};
use super::{
    cadence, constraint_note, deadlines, expand_inputs, fedramp_schema, file_resource, hash_input,
    io, ksi_coverage, lexical, record_counts, sdr, write_json, GenerateError, GenerateOptions,
};
use crate::attest::keys::KeySource;
use crate::checks::catalogue::{self, Catalogue};
use crate::checks::evidence::Evidence;
use crate::checks::frameworks::Frameworks;
use crate::checks::run::{run, Report, RunOptions};
use crate::config::{parse_length, toml_time, Attestation, Config, NaiveTimes, System};
use crate::ingest::{IngestOptions, Secret, Summary};
use crate::oscal::diagnostic::FileStatus;
use crate::oscal::schema_store::SchemaStore;
use crate::oscal::validate::{validate_paths, ValidateOptions};
use crate::secrets::gate::{Gate, GateRecord, Identifiers};
use crate::time::format_micros;

/// What the run is: the config and mappings, the window, the inputs, the
/// destination. Decided before anything is read or written.
pub(super) struct Plan<'o> {
    pub opts: &'o GenerateOptions,
    pub catalogue: Catalogue,
    pub frameworks: Frameworks,
    pub config: Config,
    pub system: System,
    pub oscal_version: String,
    pub out_dir: PathBuf,
    /// As configured; `None` lets the evidence decide.
    pub since_us: Option<i64>,
    pub until_us: i64,
    pub inputs: Vec<String>,
    /// Inputs whose zone-less times are UTC (see `IngestOptions::naive_utc`).
    pub naive_utc: Vec<String>,
    pub bearer_token: Option<Secret>,
    pub cadence_days: i64,
    pub cadence_text: String,
    pub last_modified: String,
    pub history_dir: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    /// The key that signs the package, if any.
    pub signing_key: Option<crate::attest::keys::KeySource>,
    pub warnings: Vec<String>,
}

impl Plan<'_> {
    fn step(&self, name: &'static str) {
        if let Some(p) = &self.opts.progress {
            p.report(crate::progress::Event::Step(name));
        }
    }
}

/// Stage 0: config, mappings, window, inputs, destination.
pub(super) fn plan(opts: &GenerateOptions) -> Result<Plan<'_>, GenerateError> {
    let mut catalogue = Catalogue::built_in()?;
    let mut frameworks = Frameworks::built_in()?;
    let mut warnings = Vec::new();
    if let Some(dir) = &opts.mappings {
        warnings.extend(catalogue::load_dir(dir, &mut catalogue, &mut frameworks)?);
    }
    let config = Config::load(&opts.config, &catalogue)?;
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

    // The window: the command line wins over the config; a length counts
    // back from until.
    let now = chrono::Utc::now().timestamp_micros();
    let until_us = opts
        .until_us
        .or_else(|| config.window.until.as_ref().and_then(toml_time))
        .unwrap_or(now);
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
    let (inputs, naive_utc) = expand_inputs(&config)?;
    let naive_utc = match opts.naive_times {
        Some(NaiveTimes::Utc) => vec![String::new()],
        Some(NaiveTimes::Reject) => Vec::new(),
        None => naive_utc,
    };
    let bearer_token = match &config.inputs.token_env {
        Some(var) => Some(Secret(std::env::var(var).map_err(|_| {
            GenerateError::Input {
                key: "inputs.token_env".into(),
                reason: format!("the environment variable {var} is not set"),
            }
        })?)),
        None => None,
    };
    let (cadence_days, cadence_text) = cadence(system.class, system.impact);
    let age_days = (now - until_us) / crate::checks::outcome::DAY_US;
    if age_days > cadence_days {
        warnings.push(format!(
            "the evidence ends {age_days} days before today; the configured class requires re-validation {cadence_text}"
        ));
    }
    // `--history` wins over the config's `[history] dir`.
    let history_dir = opts.history.clone().or_else(|| {
        config
            .history
            .dir
            .as_ref()
            .map(|d| lexical(&config.base.join(d)))
    });
    let state_dir = opts.state.clone().or_else(|| {
        config.state.dir.as_ref().map(|d| {
            // An object-store prefix is a URL, not a path under the config.
            if crate::ingest::store::is_store_url(&d.to_string_lossy()) {
                d.clone()
            } else {
                lexical(&config.base.join(d))
            }
        })
    });
    // `--sign-key` wins over the config's `[signing]`.
    let signing_key = match (&opts.sign_key, &config.signing.key, &config.signing.key_env) {
        (Some(source), _, _) => Some(source.clone()),
        (None, Some(_), Some(_)) => {
            return Err(GenerateError::Input {
                key: "signing".into(),
                reason: "set key or key_env, not both".into(),
            })
        }
        (None, Some(path), None) => Some(KeySource::File(lexical(&config.base.join(path)))),
        (None, None, Some(var)) => Some(KeySource::Env(var.clone())),
        (None, None, None) => None,
    };
    Ok(Plan {
        opts,
        signing_key,
        catalogue,
        frameworks,
        config,
        system,
        oscal_version,
        out_dir,
        since_us,
        until_us,
        inputs,
        naive_utc,
        bearer_token,
        cadence_days,
        cadence_text,
        last_modified: format_micros(opts.last_modified_us.unwrap_or(now)),
        history_dir,
        state_dir,
        warnings,
    })
}

/// The staging folder beside the destination, so the final rename is
/// atomic; refuses to replace a folder that is not a package.
pub(super) fn staging_beside(out_dir: &Path) -> Result<tempfile::TempDir, GenerateError> {
    let parent = out_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    if out_dir.exists()
        && !out_dir.join(MANIFEST).exists()
        && std::fs::read_dir(out_dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(GenerateError::Io {
            path: out_dir.display().to_string(),
            reason: "exists and is not a proofpack package; refusing to replace it".into(),
        });
    }
    tempfile::Builder::new()
        .prefix(".proofpack-package-")
        .tempdir_in(&parent)
        .map_err(io(&parent))
}

/// The evidence tables, read back, with the ingest's counts and the window
/// as the evidence settles it.
pub(super) struct Gathered {
    pub tables: Evidence,
    pub summary: Summary,
    pub dir: PathBuf,
    pub since_us: i64,
}

/// Stage 1: ingest every input into `evidence/`.
pub(super) fn read_evidence(plan: &Plan<'_>, root: &Path) -> Result<Gathered, GenerateError> {
    plan.step("reading the inputs");
    let ingest_options = IngestOptions {
        source: None,
        since: plan.since_us,
        until: Some(plan.until_us),
        bearer_token: plan.bearer_token.clone(),
        progress: plan.opts.progress.clone(),
        csv_max_rows: plan
            .config
            .output
            .csv_max_rows
            .unwrap_or(crate::ingest::DEFAULT_CSV_MAX_ROWS),
        naive_utc: plan.naive_utc.clone(),
        ..IngestOptions::default()
    };
    let mut ingest_options = ingest_options;
    if let Some(state_dir) = &plan.state_dir {
        let state = crate::ingest::state::State::open(state_dir)
            .map_err(|e| GenerateError::Step(format!("ingest: {e}")))?;
        ingest_options.state = Some(std::sync::Arc::new(state));
    }
    let dir = root.join("evidence");
    let summary = crate::ingest::output::ingest_to_folder(&dir, &plan.inputs, &ingest_options)
        .map_err(|e| GenerateError::Step(format!("ingest: {e}")))?;
    if let Some(state) = &ingest_options.state {
        state
            .finish(plan.since_us, Some(plan.until_us), None)
            .map_err(|e| GenerateError::Step(format!("ingest: {e}")))?;
    }
    if !summary.reconciles() {
        return Err(GenerateError::Step(
            "ingest: the record counts do not reconcile".into(),
        ));
    }
    let agents = crate::checks::aggregate::stats::interactive_agents(
        &plan.catalogue,
        &plan.config.validated,
    );
    let mut tables = Evidence::load_with(&dir, &agents, plan.opts.engine)?;
    tables.verify_embedded(&dir, &plan.config.validated.embedded)?;
    let since_us = plan
        .since_us
        .or(tables.events.min_time)
        .unwrap_or(plan.until_us);
    Ok(Gathered {
        tables,
        summary,
        dir,
        since_us,
    })
}

/// Stage 2: every check over the window, into `checks.json`.
pub(super) fn run_checks(
    plan: &Plan<'_>,
    root: &Path,
    evidence: &Gathered,
) -> Result<Report, GenerateError> {
    plan.step("running the checks");
    let report = run(
        "evidence",
        &evidence.tables,
        &plan.catalogue,
        &plan.frameworks,
        &plan.config.validated,
        &RunOptions {
            as_of_us: Some(plan.until_us),
            since_us: Some(evidence.since_us),
            until_us: Some(plan.until_us),
            only: Vec::new(),
        },
    );
    write_json(&root.join("checks.json"), &report)?;
    Ok(report)
}

/// Stage 3: the configured attestations, copied into `attestations/` (a
/// missing file stops the run here, after the expensive stages: the
/// staging folder goes with it).
pub(super) fn copy_attestations(
    plan: &Plan<'_>,
    root: &Path,
) -> Result<Vec<(Attestation, Resource)>, GenerateError> {
    let config = &plan.config;
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
    Ok(attestations)
}

/// The OSCAL documents as written, with the POA&M deadlines they carry.
pub(super) struct Oscal {
    pub docs: Documents,
    pub deadlines: BTreeMap<String, deadlines::Deadline>,
    pub dir: PathBuf,
}

impl Oscal {
    /// Each document's file name and content, in the order they are
    /// written and validated.
    pub fn documents(&self) -> [(&'static str, &serde_json::Value); 3] {
        [
            ("assessment-plan.json", &self.docs.assessment_plan),
            ("assessment-results.json", &self.docs.assessment_results),
            ("poam.json", &self.docs.poam),
        ]
    }
}

/// Stage 4: the assessment plan, results and POA&M, into `oscal/`.
pub(super) fn write_oscal(
    plan: &Plan<'_>,
    root: &Path,
    evidence: &Gathered,
    report: &Report,
    attestations: &[(Attestation, Resource)],
) -> Result<Oscal, GenerateError> {
    plan.step("writing the OSCAL documents");
    let mut resources = Vec::new();
    for table in crate::model::tables::EVIDENCE_TABLES {
        let t: &'static str = table;
        // Rows are cited in the CSV copy, or in the Parquet file of a table
        // too large for one.
        let csv = !report.csv_omitted.iter().any(|o| o == t);
        if csv {
            resources.push(file_resource(
                root,
                &format!("evidence/{table}.csv"),
                format!("Evidence table {table} (CSV)"),
                Some(t),
            )?);
        }
        resources.push(file_resource(
            root,
            &format!("evidence/{table}.parquet"),
            format!("Evidence table {table} (Parquet)"),
            (!csv).then_some(t),
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
    let identities_table = &evidence.tables.identities;
    let identities: Vec<SubjectIdentity> = (0..identities_table.len)
        .filter_map(|i| {
            let t = identities_table;
            // Who else is behind it: the vendor, the agent platform, whom it acts for.
            let facts = [
                (
                    "nhi-ownership",
                    t.ownership.get(i).filter(|o| *o != "internal"),
                ),
                ("vendor", t.vendor.get(i)),
                ("agent-platform", t.agent_platform.get(i)),
                ("acts-for", t.on_behalf_of.get(i)),
            ]
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name, v.to_string())))
            .collect();
            Some(SubjectIdentity {
                id: t.id.get(i)?.to_string(),
                kind: t.kind.get(i).unwrap_or("identity").to_string(),
                facts,
            })
        })
        .collect();
    // Frameworks::built_in always sets the table; a default-made value does not.
    let built_in_rules;
    let remediation = match &plan.frameworks.remediation {
        Some(rules) => rules,
        None => {
            built_in_rules = crate::checks::remediation::RemediationRules::built_in()?;
            &built_in_rules
        }
    };
    let until_us = plan.until_us;
    let deadlines = deadlines::deadlines(
        report,
        &deadlines::DeadlineInputs {
            catalogue: &plan.catalogue,
            poam: &plan.config.poam,
            class: plan.system.class,
            rules: remediation,
            evaluated: chrono::DateTime::from_timestamp_micros(until_us).unwrap_or_default(),
        },
    );
    let docs = oscal_docs::build(&DocInputs {
        system: &plan.system,
        oscal_version: &plan.oscal_version,
        last_modified: plan.last_modified.clone(),
        since: format_micros(evidence.since_us),
        until: format_micros(until_us),
        collected: format_micros(until_us),
        expires: format_micros(until_us + plan.cadence_days * crate::checks::outcome::DAY_US),
        cadence_days: plan.cadence_days,
        report,
        catalogue: &plan.catalogue,
        identities,
        resources,
        attestations: attestations.to_vec(),
        deadlines: &deadlines,
        ssp_href: plan.system.overview_uri.clone(),
    });
    let oscal = Oscal {
        docs,
        deadlines,
        dir: root.join("oscal"),
    };
    for (name, doc) in oscal.documents() {
        write_json(&oscal.dir.join(name), doc)?;
    }
    Ok(oscal)
}

/// The Security Decision Record as written, with the KSI history behind it.
pub(super) struct Decision {
    pub sdr: sdr::Sdr,
    pub coverage: BTreeMap<String, ksi_coverage::KsiCoverage>,
    /// This run's entries, added to the history once the package lands.
    pub run_entries: Vec<crate::history::Entry>,
    /// Implemented / partially / not, per earlier run day, for the chart.
    pub ksi_trend: Vec<(String, [u64; 3])>,
    /// Each check's status in the latest earlier run, from the history.
    pub previous: BTreeMap<String, String>,
    /// What validation said of the SDR (set by `validate`).
    pub validation: String,
}

/// Stage 5: FedRAMP's Security Decision Record and the KSI history, into
/// `fedramp/`.
pub(super) fn write_sdr(
    plan: &Plan<'_>,
    root: &Path,
    report: &Report,
    attestations: &[(Attestation, Resource)],
) -> Result<Decision, GenerateError> {
    let config = &plan.config;
    let until_us = plan.until_us;
    let attested_paths: Vec<(Attestation, String)> = attestations
        .iter()
        .map(|(a, r)| (a.clone(), r.path.clone()))
        .collect();
    let base_uri = config.output_base_uri();
    let coverage = plan
        .frameworks
        .by_id
        .get("fedramp-20x-ksi")
        .map(|ksis| ksi_coverage::ksi_coverage(ksis, report, &config.attestations))
        .unwrap_or_default();
    let mut sdr = sdr::build(&sdr::SdrInputs {
        report,
        overview_uri: plan.system.overview_uri.as_deref(),
        base_uri: base_uri.as_deref(),
        texts: &config.ksi,
        attestations: &attested_paths,
        cadence: plan.cadence_text.clone(),
        last_updated: format_micros(until_us)[..10].to_string(),
        coverage: &coverage,
    });

    // History: earlier runs plus this one, for the KSI records and the
    // trend chart.
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
    let run_entries = crate::history::entries(report, &ksi_statuses, until_us);
    let history_dir = &plan.history_dir;
    let mut all_entries = match history_dir {
        Some(dir) => crate::history::read(dir)
            .map_err(|e| GenerateError::Step(format!("history {}: {e}", dir.display())))?,
        None => Vec::new(),
    };
    all_entries.retain(|e| e.until_us != until_us);
    // Each check's status in the latest earlier run, for the summaries.
    let mut previous: BTreeMap<String, (i64, String)> = BTreeMap::new();
    for e in all_entries
        .iter()
        .filter(|e| e.kind == "check" && e.until_us < until_us)
    {
        let held = previous
            .entry(e.id.clone())
            .or_insert((i64::MIN, String::new()));
        if e.until_us >= held.0 {
            *held = (e.until_us, e.status.clone());
        }
    }
    let previous: BTreeMap<String, String> = previous
        .into_iter()
        .map(|(id, (_, status))| (id, status))
        .collect();
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
    write_json(
        &root.join("fedramp/security-decision-record.json"),
        &sdr.document,
    )?;
    Ok(Decision {
        sdr,
        coverage,
        run_entries,
        ksi_trend,
        previous,
        validation: String::new(),
    })
}

/// Stage 6: `summary.md` and `summary.html` for people.
pub(super) fn write_summaries(
    plan: &Plan<'_>,
    root: &Path,
    evidence: &Gathered,
    report: &Report,
    oscal: &Oscal,
    decision: &Decision,
) -> Result<(), GenerateError> {
    plan.step("writing the summaries");
    let findings: Vec<(String, String, String)> = oscal.docs.assessment_results
        ["assessment-results"]["results"][0]["findings"]
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
    let config = &plan.config;
    let templates = config
        .output
        .templates
        .as_ref()
        .map(|t| config.base.join(t));
    let (markdown, html) = crate::summary::render(&crate::summary::SummaryInputs {
        system: &plan.system,
        since: format_micros(evidence.since_us),
        until: format_micros(plan.until_us),
        generated: plan.last_modified.clone(),
        report,
        sdr: &decision.sdr.document,
        findings,
        frameworks: &plan.frameworks,
        evidence: &evidence.tables,
        as_of_us: plan.until_us,
        ksi_trend: decision.ksi_trend.clone(),
        ksi_coverage: &decision.coverage,
        deadlines: &oscal.deadlines,
        missing: &decision.sdr.missing,
        previous: &decision.previous,
        templates: templates.as_deref(),
    })
    .map_err(|e| GenerateError::Step(format!("summary template {e}")))?;
    std::fs::write(root.join("summary.md"), markdown).map_err(io(root))?;
    std::fs::write(root.join("summary.html"), html).map_err(io(root))?;
    Ok(())
}

/// Stage 7: every OSCAL document against NIST's schema, the reference
/// checks and the Metaschema constraints, and the SDR against FedRAMP's
/// schema when given. A proofpack document that fails stops the run.
/// Returns what the manifest says of each document.
pub(super) fn validate(
    plan: &mut Plan<'_>,
    oscal: &Oscal,
    decision: &mut Decision,
) -> Result<BTreeMap<String, String>, GenerateError> {
    plan.step("validating the documents");
    let opts = plan.opts;
    let store = SchemaStore::locate(opts.schema_dir.as_deref()).map_err(|e| {
        GenerateError::Step(format!(
            "OSCAL schemas: {e} (run `proofpack schemas fetch` or pass --schema-dir)"
        ))
    })?;
    let documents = oscal.documents();
    let paths: Vec<PathBuf> = documents.iter().map(|(n, _)| oscal.dir.join(n)).collect();
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
    let oscal_version = &plan.oscal_version;
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
    let sdr = &decision.sdr;
    let sdr_validation = match &fedramp_dir {
        None => {
            plan.warnings.push(format!("the Security Decision Record was not validated: pass --fedramp-schema-dir or set {}", fedramp_schema::FEDRAMP_SCHEMA_DIR_ENV));
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
                    plan.warnings.push(format!("the Security Decision Record is incomplete until the provider supplies: {}", sdr.missing.join("; ")));
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
    decision.validation = sdr_validation;
    Ok(validation)
}

/// Stage 8: the secret gate over every file written so far: no credential
/// value seen in the inputs and nothing any secret rule finds, in any cell,
/// JSON string or line. A hit stops the run; nothing lands.
pub(super) fn gate_files(
    plan: &Plan<'_>,
    root: &Path,
    evidence: &Gathered,
) -> Result<GateRecord, GenerateError> {
    plan.step("gating secrets");
    let rules = crate::secrets::active();
    let scanned = Gate {
        rules,
        seen: &evidence.summary.seen_secrets,
        allowed: &plan.opts.allowed_secret_rules,
        identifiers: Identifiers::from_evidence(&evidence.dir),
    }
    .scan_dir(root)?;
    Ok(GateRecord {
        rule_sets: rules.sources.clone(),
        identifier_rules: rules.identifiers.clone(),
        allowed_rules: plan.opts.allowed_secret_rules.clone(),
        fingerprints: crate::secrets::marker::Fingerprinter::global()
            .mode()
            .into(),
        scanned,
    })
}

/// The manifest, gated once written (it names the inputs).
pub(super) fn gate_manifest(
    plan: &Plan<'_>,
    root: &Path,
    evidence: &Gathered,
) -> Result<(), GenerateError> {
    Gate {
        rules: crate::secrets::active(),
        seen: &evidence.summary.seen_secrets,
        allowed: &plan.opts.allowed_secret_rules,
        identifiers: Default::default(),
    }
    .scan_files(root, &[MANIFEST.to_string()])?;
    Ok(())
}

/// Stage 9: `manifest.json`, every file's SHA-256 and size, the inputs'
/// hashes and record counts, what validation said, what is missing, what
/// the secret gate read.
pub(super) fn write_manifest(
    plan: &Plan<'_>,
    root: &Path,
    evidence: &Gathered,
    validation: BTreeMap<String, String>,
    decision: &Decision,
    gate: GateRecord,
) -> Result<Manifest, GenerateError> {
    plan.step("hashing the package");
    let counts = record_counts(&evidence.dir, &plan.inputs);
    let manifest = Manifest {
        tool: "proofpack".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        created: plan.last_modified.clone(),
        config_sha256: plan.config.sha256.clone(),
        oscal_version: plan.oscal_version.clone(),
        since: format_micros(evidence.since_us),
        until: format_micros(plan.until_us),
        inputs: plan
            .inputs
            .iter()
            .zip(counts)
            .map(|(path, records)| {
                let (sha256, bytes) = hash_input(path);
                InputEntry {
                    path: path.clone(),
                    sha256,
                    bytes,
                    records,
                    objects: objects_under(path, &evidence.summary.objects),
                }
            })
            .collect(),
        files: package::hash_files(root).map_err(io(root))?,
        validation,
        missing: decision.sdr.missing.clone(),
        secret_gate: Some(gate),
        csv_omitted: evidence
            .summary
            .csv_omitted
            .iter()
            .map(|(table, rows)| {
                let limit = plan
                    .config
                    .output
                    .csv_max_rows
                    .unwrap_or(crate::ingest::DEFAULT_CSV_MAX_ROWS);
                let mut said = format!(
                    "{rows} rows, above [output] csv_max_rows = {limit}: evidence/{table}.parquet holds them"
                );
                // The one table an auditor slices: say how to get a slice
                // of it as CSV without another tool.
                if table == crate::model::tables::ACCESS_EVENTS {
                    said.push_str(
                        "; `proofpack query PACKAGE --since DAY --until NEXT-DAY --format csv` writes a day of it as CSV",
                    );
                }
                (table.clone(), said)
            })
            .collect(),
    };
    write_json(&root.join(MANIFEST), &manifest)?;
    Ok(manifest)
}

/// Stage 10: with a signing key, `attestation.dsse.json`: a DSSE envelope
/// over an in-toto Statement whose subjects are every file written so far
/// (the manifest included) and whose predicate is the SLSA provenance.
/// Last before landing, so a signing failure leaves no package.
pub(super) fn sign(plan: &Plan<'_>, root: &Path, manifest: &Manifest) -> Result<(), GenerateError> {
    let Some(source) = &plan.signing_key else {
        return Ok(());
    };
    plan.step("signing the package");
    let failed = |e: crate::attest::AttestError| GenerateError::Step(format!("signing: {e}"));
    let key = source.load().map_err(failed)?;
    let manifest_bytes = std::fs::read(root.join(MANIFEST)).map_err(io(root))?;
    let mut files: BTreeMap<String, String> = manifest
        .files
        .iter()
        .map(|f| (f.path.clone(), f.sha256.clone()))
        .collect();
    files.insert(
        MANIFEST.to_string(),
        crate::hash::sha256_hex(&manifest_bytes),
    );
    let payload = crate::attest::statement::statement(
        &files,
        &crate::attest::statement::Provenance {
            version: &manifest.version,
            config_sha256: &manifest.config_sha256,
            since: &manifest.since,
            until: &manifest.until,
            oscal_version: &manifest.oscal_version,
            finished: &manifest.created,
            // Each input; for an object-store prefix, each object read.
            dependencies: manifest
                .inputs
                .iter()
                .flat_map(|i| {
                    let whole = crate::attest::statement::Dependency {
                        uri: i.path.clone(),
                        sha256: i.sha256.clone(),
                        bytes: i.bytes,
                    };
                    let objects = i
                        .objects
                        .iter()
                        .map(|o| crate::attest::statement::Dependency {
                            uri: o.url.clone(),
                            sha256: o.sha256.clone(),
                            bytes: o.bytes,
                        });
                    std::iter::once(whole).chain(objects)
                })
                .collect(),
        },
    )
    .map_err(failed)?;
    let envelope =
        crate::attest::dsse::sign(crate::attest::dsse::IN_TOTO, &payload, &key).map_err(failed)?;
    write_json(&root.join(crate::attest::ATTESTATION), &envelope)
}

/// The objects read under an object-store input (none for other inputs).
fn objects_under(
    input: &str,
    objects: &[crate::ingest::reader::ObjectRead],
) -> Vec<crate::ingest::reader::ObjectRead> {
    if !crate::ingest::store::is_store_url(input) {
        return Vec::new();
    }
    let prefix = input.trim_end_matches('/');
    objects
        .iter()
        .filter(|o| o.url == prefix || o.url.starts_with(&format!("{prefix}/")))
        .cloned()
        .collect()
}

/// Stage 10: the staging folder renamed into place (replacing an earlier
/// package), then this run added to the history.
pub(super) fn land(
    plan: &mut Plan<'_>,
    staging: tempfile::TempDir,
    decision: &Decision,
) -> Result<(), GenerateError> {
    let out_dir = &plan.out_dir;
    if out_dir.exists() {
        std::fs::remove_dir_all(out_dir).map_err(io(out_dir))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, out_dir).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staged);
        io(out_dir)(e)
    })?;
    match &plan.history_dir {
        Some(dir) => {
            if let Err(e) = crate::history::append(dir, plan.until_us, &decision.run_entries) {
                plan.warnings.push(format!(
                    "the run was not added to the history in {}: {e}",
                    dir.display()
                ));
            }
        }
        None => plan.warnings.push(
            "no [history] dir in the config and no --history: this run's metrics are not kept for trends".into(),
        ),
    }
    Ok(())
}
