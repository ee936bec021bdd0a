//! Ingestion: audit logs in their real formats → the evidence model.
//!
//! Every input record ends in exactly one place: normalised into
//! `access_events`, inventoried (identities, grants, findings), outside the
//! `--since/--until` window, skipped as a kind proofpack does not read (a
//! Deployment in a manifest, with a note), or in `rejected` with its file,
//! position and reason. [`Summary`] reconciles the counts.

pub mod agent;
pub mod anthropic_audit;
pub mod aws_credential_report;
pub mod aws_iam_policy;
pub mod azure_activity;
pub mod bedrock_agentcore;
pub mod bedrock_invocation;
pub mod cloudtrail;
pub mod cloudtrail_observe;
pub mod entra_audit;
pub mod entra_signin;
pub mod fields;
pub mod gcp_audit;
pub mod gcp_iam_policy;
pub mod gcp_inventory;
pub mod github_audit;
pub mod google_workspace;
pub mod k8s_audit;
pub mod kubernetes;
pub mod mcp_args;
pub mod mcp_config;
pub mod nhi_inventory;
pub mod observed;
pub mod ocsf;
pub mod okta_inventory;
pub mod okta_system_log;
pub mod openai_audit;
pub mod output;
pub mod parquet_rows;
pub mod platform;
pub mod reader;
pub mod records;
pub mod redact;
pub mod secret_scanners;
pub mod shipper;
pub mod siem;
pub mod spire;
pub mod state;
mod state_place;
pub mod store;

use std::collections::BTreeMap;

use polars::prelude::{DataFrame, PolarsResult};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::hash::sha256_hex;
use crate::json::{JsonRef, Tape, TapeNode};
use crate::model::tables::access_events_frame;
use crate::model::{Access, AccessEvent, Grant, Identity, RawRef, Rejected, SecretFinding};
use crate::secrets::seen::SeenSecrets;

/// What a source module returns for one record; ingestion adds the source
/// name and the raw reference.
pub type Normalised = Access;

/// The audit-log formats proofpack reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceKind {
    CloudTrail,
    K8sAudit,
    GcpAudit,
    EntraSignin,
    EntraAudit,
    AzureActivity,
    Ocsf,
    GithubAudit,
    OktaSystemLog,
    OpenAiAudit,
    BedrockAgentCore,
    BedrockInvocation,
    AnthropicAudit,
    GoogleWorkspace,
}

impl SourceKind {
    pub const ALL: [SourceKind; 14] = [
        SourceKind::CloudTrail,
        SourceKind::K8sAudit,
        SourceKind::GcpAudit,
        SourceKind::EntraSignin,
        SourceKind::EntraAudit,
        SourceKind::AzureActivity,
        SourceKind::Ocsf,
        SourceKind::GithubAudit,
        SourceKind::OktaSystemLog,
        SourceKind::OpenAiAudit,
        SourceKind::BedrockAgentCore,
        SourceKind::BedrockInvocation,
        SourceKind::AnthropicAudit,
        SourceKind::GoogleWorkspace,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SourceKind::CloudTrail => cloudtrail::SOURCE,
            SourceKind::K8sAudit => k8s_audit::SOURCE,
            SourceKind::GcpAudit => gcp_audit::SOURCE,
            SourceKind::EntraSignin => entra_signin::SOURCE,
            SourceKind::EntraAudit => entra_audit::SOURCE,
            SourceKind::AzureActivity => azure_activity::SOURCE,
            SourceKind::Ocsf => ocsf::SOURCE,
            SourceKind::GithubAudit => github_audit::SOURCE,
            SourceKind::OktaSystemLog => okta_system_log::SOURCE,
            SourceKind::OpenAiAudit => openai_audit::SOURCE,
            SourceKind::BedrockAgentCore => bedrock_agentcore::SOURCE,
            SourceKind::BedrockInvocation => bedrock_invocation::SOURCE,
            SourceKind::AnthropicAudit => anthropic_audit::SOURCE,
            SourceKind::GoogleWorkspace => google_workspace::SOURCE,
        }
    }

    pub fn from_name(name: &str) -> Option<SourceKind> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The format of one record, from its content.
    /// OCSF first: its events embed the fields of the formats they map.
    pub fn detect<'a, J: JsonRef<'a>>(record: J) -> Option<SourceKind> {
        if ocsf::detect(record) {
            Some(SourceKind::Ocsf)
        } else if k8s_audit::detect(record) {
            Some(SourceKind::K8sAudit)
        } else if cloudtrail::detect(record) {
            Some(SourceKind::CloudTrail)
        } else if gcp_audit::detect(record) {
            Some(SourceKind::GcpAudit)
        } else if entra_signin::detect(record) {
            Some(SourceKind::EntraSignin)
        } else if entra_audit::detect(record) {
            Some(SourceKind::EntraAudit)
        } else if azure_activity::detect(record) {
            Some(SourceKind::AzureActivity)
        } else if github_audit::detect(record) {
            Some(SourceKind::GithubAudit)
        } else if okta_system_log::detect(record) {
            Some(SourceKind::OktaSystemLog)
        } else if openai_audit::detect(record) {
            Some(SourceKind::OpenAiAudit)
        } else if bedrock_agentcore::detect(record) {
            Some(SourceKind::BedrockAgentCore)
        } else if bedrock_invocation::detect(record) {
            Some(SourceKind::BedrockInvocation)
        } else if anthropic_audit::detect(record) {
            Some(SourceKind::AnthropicAudit)
        } else if google_workspace::detect(record) {
            Some(SourceKind::GoogleWorkspace)
        } else {
            None
        }
    }

    /// What a record shows besides its access (see [`observed`]).
    fn observe<'a, J: JsonRef<'a>>(self, record: J, access: &Normalised) -> observed::Observed {
        match self {
            SourceKind::OpenAiAudit => openai_audit::observe(record, access),
            SourceKind::BedrockAgentCore => bedrock_agentcore::observe(record, access),
            SourceKind::AnthropicAudit => anthropic_audit::observe(record, access),
            SourceKind::GoogleWorkspace => google_workspace::observe(record, access),
            SourceKind::GcpAudit => gcp_audit::observe(record, access),
            SourceKind::EntraSignin => entra_signin::observe(record, access),
            SourceKind::EntraAudit => entra_audit::observe(record, access),
            SourceKind::CloudTrail => cloudtrail_observe::observe(record, access),
            SourceKind::GithubAudit => github_audit::observe(record, access),
            SourceKind::K8sAudit => k8s_audit::observe(record, access),
            SourceKind::OktaSystemLog => okta_system_log::observe(record, access),
            _ => observed::Observed::default(),
        }
    }

    fn normalise<'a, J: JsonRef<'a>>(self, record: J) -> Result<Normalised, String> {
        match self {
            SourceKind::CloudTrail => cloudtrail::normalise(record),
            SourceKind::K8sAudit => {
                if let Some(stage) = k8s_audit::superseded_stage(record) {
                    return Err(format!(
                        "stage {stage}: an intermediate stage; the same request is logged again when it completes"
                    ));
                }
                k8s_audit::normalise(record)
            }
            SourceKind::GcpAudit => gcp_audit::normalise(record),
            SourceKind::EntraSignin => entra_signin::normalise(record),
            SourceKind::EntraAudit => entra_audit::normalise(record),
            SourceKind::AzureActivity => azure_activity::normalise(record),
            SourceKind::Ocsf => ocsf::normalise(record),
            SourceKind::GithubAudit => github_audit::normalise(record),
            SourceKind::OktaSystemLog => okta_system_log::normalise(record),
            SourceKind::OpenAiAudit => openai_audit::normalise(record),
            SourceKind::BedrockAgentCore => bedrock_agentcore::normalise(record),
            SourceKind::BedrockInvocation => bedrock_invocation::normalise(record),
            SourceKind::AnthropicAudit => anthropic_audit::normalise(record),
            SourceKind::GoogleWorkspace => google_workspace::normalise(record),
        }
    }
}

#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Read every record as this format instead of detecting it.
    pub source: Option<SourceKind>,
    /// Keep events at or after this time (µs since the epoch).
    pub since: Option<i64>,
    /// Keep events before this time.
    pub until: Option<i64>,
    /// Largest file, before and after decompression.
    pub max_bytes: u64,
    /// Sent as `Authorization: Bearer` to URL inputs.
    pub bearer_token: Option<Secret>,
    /// Told how many inputs have been read.
    pub progress: Option<crate::progress::Progress>,
    /// Keep log objects in this state folder and reuse the unchanged ones.
    pub state: Option<std::sync::Arc<state::State>>,
    /// Read only this share of the inputs.
    pub shard: Option<state::Shard>,
    /// Gate the folder `ingest_to_folder` writes: rules (by id) the user
    /// allowed; `None` leaves gating to the caller (`generate` gates the
    /// whole package).
    pub secret_gate: Option<Vec<String>>,
    /// A table with more rows than this gets no CSV copy (its Parquet file
    /// holds it; the summary says so).
    pub csv_max_rows: u64,
    /// Inputs whose date-times without a zone are UTC (SIEM exports that
    /// document it): a file is covered when its name starts with one of
    /// these (the input as given, after glob expansion); `""` covers all.
    /// Elsewhere such a time is refused, never guessed.
    pub naive_utc: Vec<String>,
}

impl IngestOptions {
    /// Whether zone-less times in this file are UTC.
    fn naive_utc_for(&self, file: &str) -> bool {
        self.naive_utc
            .iter()
            .any(|prefix| file.starts_with(prefix.as_str()))
    }
}

/// Rows up to which an evidence table also gets a CSV copy, unless told.
pub const DEFAULT_CSV_MAX_ROWS: u64 = 100_000;

/// A value that must never be printed (a bearer token).
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            source: None,
            since: None,
            until: None,
            max_bytes: 2 << 30,
            bearer_token: None,
            progress: None,
            state: None,
            shard: None,
            secret_gate: None,
            csv_max_rows: DEFAULT_CSV_MAX_ROWS,
            naive_utc: Vec::new(),
        }
    }
}

/// Counts that reconcile:
/// `read = normalised + inventoried + rejected + outside_window + skipped`.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Summary {
    pub files: usize,
    pub read: usize,
    pub normalised: usize,
    pub rejected: usize,
    pub outside_window: usize,
    /// Records of a kind proofpack does not read (counted by reason).
    pub skipped: usize,
    /// Inventory records that became identities.
    pub inventoried: usize,
    /// Identity and credential rows written (a user with two keys is three).
    pub identities: usize,
    /// Policy statements written to `grants`.
    pub grants: usize,
    /// Scanner findings written to `secret_findings`.
    pub secret_findings: usize,
    pub by_source: BTreeMap<String, usize>,
    pub by_credential_type: BTreeMap<String, usize>,
    pub by_decision: BTreeMap<String, usize>,
    pub by_principal_type: BTreeMap<String, usize>,
    pub rejected_by_reason: BTreeMap<String, usize>,
    pub skipped_by_reason: BTreeMap<String, usize>,
    /// Object-store objects read: URL, ETag or version, size, SHA-256.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<reader::ObjectRead>,
    /// Tables written without a CSV copy (more rows than `csv_max_rows`),
    /// with their rows: the Parquet file is the table.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub csv_omitted: BTreeMap<String, u64>,
    /// Credential values seen in the inputs, as hashes only (never
    /// written): what the secret gate searches the outputs for.
    #[serde(skip)]
    pub seen_secrets: SeenSecrets,
}

impl Summary {
    pub fn reconciles(&self) -> bool {
        self.read
            == self.normalised
                + self.inventoried
                + self.rejected
                + self.outside_window
                + self.skipped
    }
}

/// The result of an ingest: the access events as a frame (in input order:
/// files in name order, records in file order), the rejects, the counts.
pub struct IngestOutput {
    pub events: DataFrame,
    pub identities: Vec<Identity>,
    pub grants: Vec<Grant>,
    pub findings: Vec<SecretFinding>,
    pub rejected: Vec<Rejected>,
    pub summary: Summary,
}

/// What one input yields; the events are kept as a frame so a large ingest
/// holds columns, not millions of small strings.
struct Partial {
    events: DataFrame,
    identities: Vec<Identity>,
    observed: observed::Merged,
    grants: Vec<Grant>,
    rbac: Vec<kubernetes::rbac::RbacObject>,
    findings: Vec<SecretFinding>,
    rejected: Vec<Rejected>,
    summary: Summary,
    seen: SeenSecrets,
}

/// What streaming leaves besides the events: inventories and rejects are
/// small, so they are returned whole.
pub struct Streamed {
    pub identities: Vec<Identity>,
    pub grants: Vec<Grant>,
    pub findings: Vec<SecretFinding>,
    pub rejected: Vec<Rejected>,
    pub summary: Summary,
    /// Credential values seen in the inputs, as hashes: what the secret
    /// gate searches every output for.
    pub seen: SeenSecrets,
}

/// Reads every input and normalises every record, on every core, handing
/// the events to `on_events` one file at a time in input order (files in
/// name order, records in file order). Memory stays bounded by a few files
/// in flight, whatever the total size. Returns the rejects and the counts.
pub fn ingest_streaming(
    inputs: &[String],
    options: &IngestOptions,
    mut on_events: impl FnMut(DataFrame) -> PolarsResult<()>,
) -> PolarsResult<Streamed> {
    let bearer = options.bearer_token.as_ref().map(|s| s.0.as_str());
    let mut targets = reader::resolve(inputs, options.since, options.until)
        .map_err(|e| polars::prelude::PolarsError::ComputeError(e.into()))?;
    if let Some(shard) = options.shard {
        targets.retain(|t| shard.holds(&state::target_name(t)));
    }
    let min_wave = 2 * rayon::current_num_threads().max(1);
    let mut identities = Vec::new();
    let mut observed = observed::Merged::default();
    let mut grants = Vec::new();
    let mut rbac = Vec::new();
    let mut findings = Vec::new();
    let mut rejected = Vec::new();
    let mut summary = Summary::default();
    let mut seen = SeenSecrets::default();
    if let Some(token) = &options.bearer_token {
        // The token proofpack sends to URL inputs must never be written.
        seen.add(&token.0);
    }
    let total = targets.len();
    let mut done = 0;
    let mut targets = targets.into_iter().peekable();
    while targets.peek().is_some() {
        let batch = next_wave(&mut targets, min_wave);
        let partials: Vec<PolarsResult<Partial>> = batch
            .into_par_iter()
            .map(|target| match &options.state {
                Some(state) => state.ingest(target, options, bearer),
                None => ingest_target(target, options, bearer),
            })
            .collect();
        for partial in partials {
            let partial = partial?;
            if partial.events.height() > 0 {
                on_events(partial.events)?;
            }
            identities.extend(partial.identities);
            observed.extend(partial.observed);
            grants.extend(partial.grants);
            rbac.extend(partial.rbac);
            findings.extend(partial.findings);
            rejected.extend(partial.rejected);
            summary.merge(partial.summary);
            seen.extend(partial.seen);
            done += 1;
            if let Some(p) = &options.progress {
                p.report(crate::progress::Event::Files { done, total });
            }
        }
    }
    // RBAC roles and bindings meet only now: they live in different files.
    let rbac_grants = kubernetes::rbac::resolve(&rbac);
    summary.grants += rbac_grants.len();
    grants.extend(rbac_grants);
    let (mut observed, mut observed_grants) = observed.into_rows();
    for row in &mut observed {
        redact::scrub_identity(row, &mut seen);
    }
    for grant in &mut observed_grants {
        redact::scrub_grant(grant, &mut seen);
    }
    summary.identities += observed.len();
    summary.grants += observed_grants.len();
    identities.extend(observed);
    grants.extend(observed_grants);
    Ok(Streamed {
        identities,
        grants,
        findings,
        rejected,
        summary,
        seen,
    })
}

/// Files read in parallel at once, until their size on disk passes this:
/// many small files make a wide wave (each wave waits for its slowest file,
/// so narrow waves of small files left a core idle), a few large files a
/// narrow one (memory holds every file of a wave).
const WAVE_BYTES: u64 = 32 << 20;
/// At most this many files in a wave.
const WAVE_FILES: usize = 64;

/// The next wave of targets: at least `min` (one per thread and a spare),
/// then more while they are small.
fn next_wave(
    targets: &mut std::iter::Peekable<
        std::vec::IntoIter<Result<reader::Target, reader::ReadError>>,
    >,
    min: usize,
) -> Vec<Result<reader::Target, reader::ReadError>> {
    let mut wave = Vec::new();
    let mut bytes = 0u64;
    while let Some(next) = targets.peek() {
        let size = match next {
            // A URL's size is unknown until it is fetched: count it as large.
            Ok(target) => target.known_size().unwrap_or(WAVE_BYTES),
            Err(_) => 0,
        };
        if wave.len() >= min && (bytes + size > WAVE_BYTES || wave.len() >= WAVE_FILES) {
            break;
        }
        bytes += size;
        wave.extend(targets.next());
    }
    wave
}

/// Ingests everything into memory: for tests and callers that need the
/// whole table at once. Large ingests should stream to disk instead.
pub fn ingest_inputs(inputs: &[String], options: &IngestOptions) -> PolarsResult<IngestOutput> {
    let mut events = access_events_frame(&[])?;
    let streamed = ingest_streaming(inputs, options, |chunk| {
        events.vstack_mut(&chunk).map(|_| ())
    })?;
    events.rechunk_mut();
    Ok(IngestOutput {
        events,
        identities: streamed.identities,
        grants: streamed.grants,
        findings: streamed.findings,
        rejected: streamed.rejected,
        summary: streamed.summary,
    })
}

/// Ingests one input held in memory, as if read from a file named `name`
/// (gzip is recognised by its magic bytes): the entry point of every
/// reader at once, for fuzzing and for callers that already hold the bytes.
pub fn ingest_bytes(
    name: &str,
    bytes: Vec<u8>,
    options: &IngestOptions,
) -> PolarsResult<IngestOutput> {
    let file = reader::decode(name.to_string(), bytes, options.max_bytes);
    let partial = ingest_read(file, options)?;
    let mut summary = partial.summary;
    let mut grants = partial.grants;
    let rbac_grants = kubernetes::rbac::resolve(&partial.rbac);
    summary.grants += rbac_grants.len();
    grants.extend(rbac_grants);
    let mut identities = partial.identities;
    let (observed, observed_grants) = partial.observed.into_rows();
    summary.identities += observed.len();
    summary.grants += observed_grants.len();
    identities.extend(observed);
    grants.extend(observed_grants);
    Ok(IngestOutput {
        events: partial.events,
        identities,
        grants,
        findings: partial.findings,
        rejected: partial.rejected,
        summary,
    })
}

/// What one record becomes, read from a tape and read as a
/// `serde_json::Value`, described so the two can be compared: they must
/// agree on every input (the fuzz target `log_record` checks it).
#[doc(hidden)]
pub fn record_outcomes(bytes: &[u8], options: &IngestOptions) -> (String, String) {
    let raw_ref = RawRef {
        file: "record".into(),
        position: "record 1".into(),
        sha256: String::new(),
    };
    let naive_utc = options.naive_utc_for(&raw_ref.file);
    let by_value = crate::time::with_naive_utc(naive_utc, || {
        serde_json::from_slice(bytes)
            .map_err(|e| (None, format!("not valid JSON: {e}")))
            .and_then(|value| ingest_value(value, options, &raw_ref))
    });
    let by_tape = crate::time::with_naive_utc(naive_utc, || ingest_raw(bytes, options, &raw_ref));
    (outcome(&by_tape), outcome(&by_value))
}

/// What a record became, in words.
fn outcome(result: &RecordResult) -> String {
    match result {
        Ok(Item::Event(source, n, None)) => format!("event {source:?} {n:?}"),
        Ok(Item::Event(source, n, Some(seen))) => format!("event {source:?} {n:?} {seen:?}"),
        Ok(Item::OutsideWindow) => "outside window".into(),
        Ok(Item::Skipped(why)) => format!("skipped {why}"),
        Ok(Item::Many(found)) => found
            .iter()
            .map(|(path, r)| format!("{path}: {}", outcome(r)))
            .collect::<Vec<_>>()
            .join("; "),
        Ok(Item::Inventory(..)) => "inventory".into(),
        Ok(Item::Entries(..)) => "entries".into(),
        Ok(Item::Policies(..)) => "policies".into(),
        Ok(Item::Grants(..)) => "grants".into(),
        Ok(Item::Finding(..)) => "finding".into(),
        Ok(Item::McpConfig(..)) => "inventory".into(),
        Ok(Item::Kubernetes(..)) => "kubernetes".into(),
        Err(e) => format!("rejected {e:?}"),
    }
}

fn ingest_target(
    target: Result<reader::Target, reader::ReadError>,
    options: &IngestOptions,
    bearer: Option<&str>,
) -> PolarsResult<Partial> {
    let file = target.and_then(|t| reader::read_target(&t, options.max_bytes, bearer));
    ingest_read(file, options)
}

/// One input, read or not: its records, inventories and rejects, counted.
fn ingest_read(
    file: Result<reader::InputFile, reader::ReadError>,
    options: &IngestOptions,
) -> PolarsResult<Partial> {
    let mut c = Collected::default();
    c.summary.files = 1;
    let file = file.map(|mut f| {
        c.summary.objects.extend(f.object.take());
        f
    });
    match file {
        Ok(file) if parquet_rows::detect(&file.bytes) => ingest_parquet(&file, options, &mut c),
        Ok(file) if mcp_config::client(&file.name).is_some() => {
            ingest_mcp_config(&file, options, &mut c)
        }
        Ok(file)
            if aws_credential_report::detect(&file.bytes)
                || aws_credential_report::csv_from_json(&file.bytes).is_some() =>
        {
            let csv = match aws_credential_report::csv_from_json(&file.bytes) {
                Some(Ok(csv)) => csv,
                Some(Err(reason)) => {
                    c.reject_whole(&file.name, "whole file", &reason);
                    Vec::new()
                }
                None => file.bytes.clone(),
            };
            let report = aws_credential_report::parse(&file.name, &csv);
            c.inventory(
                aws_credential_report::SOURCE,
                report.rows,
                report.inventoried,
                report.identities,
                report.rejected,
            );
        }
        Ok(file) if nhi_inventory::detect_csv(&file.bytes) => {
            let inventory = nhi_inventory::from_csv(&file.name, &file.bytes);
            c.inventory(
                nhi_inventory::SOURCE,
                inventory.entries,
                inventory.inventoried,
                inventory.identities,
                inventory.rejected,
            );
        }
        Ok(file) => ingest_file(&file, options, &mut c),
        Err(e) => {
            let (file, reason) = match &e {
                reader::ReadError::Io { path, source } => (path.clone(), source.to_string()),
                reader::ReadError::TooLarge { path, .. } => (path.clone(), e.to_string()),
                reader::ReadError::Http { path, reason } => (path.clone(), reason.clone()),
                reader::ReadError::Store { path, reason } => (path.clone(), reason.clone()),
            };
            c.reject_whole(&file, "whole file", &reason);
        }
    }
    let Collected {
        mut events,
        mut identities,
        observed,
        mut grants,
        rbac,
        mut findings,
        mut rejected,
        mut summary,
        mut seen,
    } = c;
    // Secrets riding in the text a reader kept are masked here, once for
    // every reader; the values masked join those the readers saw.
    for event in &mut events {
        redact::scrub_access(&mut event.access, &mut seen);
    }
    for row in &mut identities {
        redact::scrub_identity(row, &mut seen);
    }
    for grant in &mut grants {
        redact::scrub_grant(grant, &mut seen);
    }
    for finding in &mut findings {
        redact::scrub_finding(finding, &mut seen);
    }
    for r in &mut rejected {
        redact::scrub_rejected(r, &mut seen);
    }
    summary.normalised = events.len();
    summary.rejected = rejected.len();
    summary.identities = identities.len();
    summary.grants = grants.len();
    summary.secret_findings = findings.len();
    // Counted under static names, then keyed once: not four strings per event.
    let mut counts: [BTreeMap<&'static str, usize>; 4] = Default::default();
    for event in &events {
        let access = &event.access;
        let names = [
            event.source,
            access.credential_type.as_str(),
            access.decision.as_str(),
            access.principal_type.as_str(),
        ];
        for (count, name) in counts.iter_mut().zip(names) {
            *count.entry(name).or_default() += 1;
        }
    }
    let [sources, credential_types, decisions, principal_types] = counts;
    for (into, from) in [
        (&mut summary.by_source, sources),
        (&mut summary.by_credential_type, credential_types),
        (&mut summary.by_decision, decisions),
        (&mut summary.by_principal_type, principal_types),
    ] {
        for (name, n) in from {
            *into.entry(name.to_string()).or_default() += n;
        }
    }
    for r in &rejected {
        *summary
            .rejected_by_reason
            .entry(reason_class(&r.reason))
            .or_default() += 1;
    }
    Ok(Partial {
        events: access_events_frame(&events)?,
        identities,
        observed,
        grants,
        rbac,
        findings,
        rejected,
        summary,
        seen,
    })
}

/// Everything one input yields, gathered as it is read.
#[derive(Default)]
struct Collected {
    events: Vec<AccessEvent>,
    identities: Vec<Identity>,
    /// Identities audit records showed, merged per identity.
    observed: observed::Merged,
    grants: Vec<Grant>,
    rbac: Vec<kubernetes::rbac::RbacObject>,
    findings: Vec<SecretFinding>,
    rejected: Vec<Rejected>,
    summary: Summary,
    /// Credential values the readers saw (hashes only).
    seen: SeenSecrets,
}

impl Collected {
    /// A whole input that could not be read counts as one record read and
    /// rejected, so the loss is visible in the totals.
    fn reject_whole(&mut self, file: &str, position: &str, reason: &str) {
        self.summary.read += 1;
        self.rejected.push(Rejected {
            raw_ref: RawRef {
                file: file.to_string(),
                position: position.to_string(),
                sha256: String::new(),
            },
            source: None,
            reason: reason.to_string(),
        });
    }

    /// The rows of a file-level inventory (`records` read, `inventoried` kept).
    fn inventory(
        &mut self,
        source: &str,
        records: usize,
        inventoried: usize,
        identities: Vec<Identity>,
        rejected: Vec<Rejected>,
    ) {
        self.summary.read += records;
        self.summary.inventoried += inventoried;
        if inventoried > 0 {
            *self
                .summary
                .by_source
                .entry(source.to_string())
                .or_default() += inventoried;
        }
        self.identities.extend(identities);
        self.rejected.extend(rejected);
    }

    /// Where one record went, counted and kept.
    fn take(&mut self, result: RecordResult, raw_ref: RawRef) {
        match result {
            Ok(Item::Event(source, normalised, seen)) => {
                if let Some(seen) = seen {
                    let seen = seen.at(&raw_ref);
                    for row in seen.identities {
                        self.observed.add(normalised.time_us, row);
                    }
                    for grant in seen.grants {
                        self.observed.add_grant(grant);
                    }
                }
                self.events.push(into_event(source, *normalised, raw_ref))
            }
            Ok(Item::Inventory(source, rows)) => {
                self.inventoried(source);
                self.identities.extend(rows);
            }
            Ok(Item::Entries(source, inventory)) => {
                // The document was counted as one record; its entries are the records.
                self.summary.read = self.summary.read + inventory.entries - 1;
                self.grants.extend(inventory.grants);
                self.inventory(
                    source,
                    0,
                    inventory.inventoried,
                    inventory.identities,
                    inventory.rejected,
                );
            }
            Ok(Item::Policies(parsed)) => {
                self.inventoried(aws_iam_policy::SOURCE);
                self.identities.extend(parsed.identities);
                self.grants.extend(parsed.grants);
            }
            Ok(Item::Grants(source, rows)) => {
                self.inventoried(source);
                self.grants.extend(rows);
            }
            Ok(Item::McpConfig(read)) => {
                for literal in &read.literals {
                    self.seen.add(literal);
                }
                self.inventoried(mcp_config::SOURCE);
                self.identities.extend(read.rows);
            }
            Ok(Item::Finding(finding, values)) => {
                for value in &values {
                    self.seen.add(value);
                }
                self.inventoried(finding.tool);
                self.findings.push(finding);
            }
            Ok(Item::Kubernetes(object)) => match object {
                kubernetes::Object::Identities(source, rows) => {
                    self.inventoried(source);
                    self.identities.extend(rows);
                }
                kubernetes::Object::Rbac(object) => {
                    self.inventoried(kubernetes::rbac::SOURCE);
                    self.rbac.push(object);
                }
                kubernetes::Object::Mesh(source, rows) => {
                    self.inventoried(source);
                    self.grants.extend(rows);
                }
                kubernetes::Object::Skipped(why) => self.skipped(&why),
            },
            Ok(Item::Skipped(why)) => self.skipped(&why),
            Ok(Item::OutsideWindow) => self.summary.outside_window += 1,
            Ok(Item::Many(found)) => {
                // The wrapper was counted as one record; what it carried
                // are the records, each placed inside it.
                self.summary.read = self.summary.read + found.len() - 1;
                for (path, result) in found {
                    let inner = RawRef {
                        position: format!("{}, {path}", raw_ref.position),
                        ..raw_ref.clone()
                    };
                    self.take(result, inner);
                }
            }
            Err((source, reason)) => self.rejected.push(Rejected {
                raw_ref,
                source,
                reason,
            }),
        }
    }

    /// A record of a kind proofpack does not read, counted by reason.
    fn skipped(&mut self, why: &str) {
        self.summary.skipped += 1;
        *self
            .summary
            .skipped_by_reason
            .entry(reason_class(why))
            .or_default() += 1;
    }

    /// One record that became identities, grants or a finding.
    fn inventoried(&mut self, source: &str) {
        self.summary.inventoried += 1;
        *self
            .summary
            .by_source
            .entry(source.to_string())
            .or_default() += 1;
    }
}

impl Summary {
    fn merge(&mut self, other: Summary) {
        self.seen_secrets.extend(other.seen_secrets);
        self.files += other.files;
        self.read += other.read;
        self.normalised += other.normalised;
        self.rejected += other.rejected;
        self.outside_window += other.outside_window;
        self.skipped += other.skipped;
        self.inventoried += other.inventoried;
        self.identities += other.identities;
        self.grants += other.grants;
        self.secret_findings += other.secret_findings;
        self.objects.extend(other.objects);
        for (mine, theirs) in [
            (&mut self.by_source, other.by_source),
            (&mut self.by_credential_type, other.by_credential_type),
            (&mut self.by_decision, other.by_decision),
            (&mut self.by_principal_type, other.by_principal_type),
            (&mut self.rejected_by_reason, other.rejected_by_reason),
            (&mut self.skipped_by_reason, other.skipped_by_reason),
        ] {
            for (key, n) in theirs {
                *mine.entry(key).or_default() += n;
            }
        }
    }
}

/// The first clause of a reason, for counting like with like.
fn reason_class(reason: &str) -> String {
    reason
        .split([':', '('])
        .next()
        .unwrap_or(reason)
        .trim()
        .to_string()
}

fn ingest_file(file: &reader::InputFile, options: &IngestOptions, c: &mut Collected) {
    if let Some(why) = &file.truncated {
        let position = format!("byte {} of the decompressed stream", file.bytes.len());
        c.reject_whole(&file.name, &position, why);
    }
    if is_yaml(file) {
        return ingest_yaml(file, options, c);
    }
    let records = match records::split(&file.bytes) {
        Ok(records) => records,
        Err(e) => {
            c.reject_whole(&file.name, &e.position, &e.reason);
            return;
        }
    };
    let naive_utc = options.naive_utc_for(&file.name);
    // A large file's records are read by every core in chunks, so one big
    // file does not leave the others idle; results keep the file's order.
    let results: Vec<(RecordResult, RawRef)> = records
        .into_par_iter()
        .with_min_len(RECORDS_PER_TASK)
        .map(|raw| {
            let raw_ref = RawRef {
                file: file.name.clone(),
                position: raw.position,
                sha256: sha256_hex(raw.bytes),
            };
            let result =
                crate::time::with_naive_utc(naive_utc, || ingest_raw(raw.bytes, options, &raw_ref));
            (result, raw_ref)
        })
        .collect();
    for (result, raw_ref) in results {
        c.summary.read += 1;
        c.take(result, raw_ref);
    }
}

/// An MCP client's configuration (named as its client names it): JSON with
/// comments and trailing commas, read as its servers and their credentials.
/// A file of that name that holds something else is read as any other.
fn ingest_mcp_config(file: &reader::InputFile, options: &IngestOptions, c: &mut Collected) {
    let client = mcp_config::client(&file.name).unwrap_or("mcp");
    let value = match mcp_config::parse_text(&file.bytes) {
        Ok(value) => value,
        Err(reason) => {
            c.reject_whole(
                &file.name,
                "whole file",
                &format!("MCP configuration: {reason}"),
            );
            return;
        }
    };
    if !mcp_config::detect(&value) {
        return ingest_file(file, options, c);
    }
    let raw_ref = RawRef {
        file: file.name.clone(),
        position: "whole file".into(),
        sha256: sha256_hex(&file.bytes),
    };
    match mcp_config::identities(&value, client, &raw_ref) {
        Ok(read) => {
            for literal in &read.literals {
                c.seen.add(literal);
            }
            c.inventory(mcp_config::SOURCE, 1, 1, read.rows, Vec::new())
        }
        Err(reason) => c.reject_whole(&file.name, "whole file", &reason),
    }
}

/// A Parquet file (OCSF from Security Lake): its rows as records, the
/// window pushed down to the `time` column.
fn ingest_parquet(file: &reader::InputFile, options: &IngestOptions, c: &mut Collected) {
    let rows = match parquet_rows::read(&file.bytes, options.since, options.until) {
        Ok(rows) => rows,
        Err(e) => {
            let reason = format!("not a readable Parquet file: {e}");
            c.reject_whole(&file.name, "whole file", &reason);
            return;
        }
    };
    c.summary.read += rows.outside_window;
    c.summary.outside_window += rows.outside_window;
    let naive_utc = options.naive_utc_for(&file.name);
    for slice in rows.slices {
        let results: Vec<(RecordResult, RawRef)> = slice
            .into_par_iter()
            .with_min_len(RECORDS_PER_TASK)
            .map(|(row, record)| {
                let json = serde_json::to_vec(&record).unwrap_or_default();
                let raw_ref = RawRef {
                    file: file.name.clone(),
                    position: format!("row {}", row + 1),
                    sha256: sha256_hex(&json),
                };
                let result = crate::time::with_naive_utc(naive_utc, || {
                    ingest_value(record, options, &raw_ref)
                });
                (result, raw_ref)
            })
            .collect();
        for (result, raw_ref) in results {
            c.summary.read += 1;
            c.take(result, raw_ref);
        }
    }
}

/// Records of one file read as one task: a file of 500 (what AWS delivers
/// every few minutes) stays on one thread.
const RECORDS_PER_TASK: usize = 2048;

/// YAML by its name, or by its first line when the name says nothing (a URL).
fn is_yaml(file: &reader::InputFile) -> bool {
    let name = file.name.to_ascii_lowercase();
    // `x.json.gz` is named by what it holds once decompressed.
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".yaml") || name.ends_with(".yml") {
        return true;
    }
    if name.ends_with(".json") || name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        return false;
    }
    // The first line that is neither blank nor a comment, found without
    // scanning past it (a JSON file is often one line of megabytes).
    let mut rest = file.bytes.as_slice();
    let first = loop {
        rest = rest.trim_ascii_start();
        let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let line = rest[..end].trim_ascii_end();
        if line.starts_with(b"#") {
            rest = &rest[end..];
            continue;
        }
        break line;
    };
    first == b"---" || first.starts_with(b"apiVersion:") || first.starts_with(b"kind:")
}

/// A YAML stream: each document (and each item of a `List` document) is a
/// record; a document that cannot be parsed is rejected with its index,
/// line and column, and the documents before it are kept.
fn ingest_yaml(file: &reader::InputFile, options: &IngestOptions, c: &mut Collected) {
    let naive_utc = options.naive_utc_for(&file.name);
    let text = match std::str::from_utf8(&file.bytes) {
        Ok(text) => text,
        Err(e) => {
            let position = format!("byte {}", e.valid_up_to());
            c.reject_whole(&file.name, &position, "not UTF-8 text: YAML must be UTF-8");
            return;
        }
    };
    let (documents, error) = crate::yaml::documents(text);
    for doc in documents {
        let sha256 = sha256_hex(doc.text.as_bytes());
        let at = format!("document {} (line {})", doc.index, doc.line);
        let is_list = doc
            .value
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.ends_with("List"))
            && doc.value.get("items").is_some_and(Value::is_array);
        let records: Vec<(String, Value)> = match doc.value {
            Value::Object(mut map) if is_list => match map.remove("items") {
                Some(Value::Array(items)) => items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| (format!("{at}, item {}", i + 1), item))
                    .collect(),
                _ => Vec::new(),
            },
            value => vec![(at, value)],
        };
        for (position, value) in records {
            c.summary.read += 1;
            let raw_ref = RawRef {
                file: file.name.clone(),
                position,
                sha256: sha256.clone(),
            };
            let result =
                crate::time::with_naive_utc(naive_utc, || ingest_value(value, options, &raw_ref));
            c.take(result, raw_ref);
        }
    }
    if let Some(e) = error {
        let position = format!(
            "document {} line {} column {}",
            e.document, e.line, e.column
        );
        c.reject_whole(
            &file.name,
            &position,
            &format!("not valid YAML: {}", e.reason),
        );
    }
}

/// Where one record goes.
enum Item {
    /// An access, and what else the record shows (an agent, a consent).
    Event(SourceKind, Box<Normalised>, Option<Box<observed::Observed>>),
    /// An inventory record and the identity rows it lists.
    Inventory(&'static str, Vec<Identity>),
    /// A document of entries (the generic inventory, SPIRE registrations):
    /// its entries, as records of their own.
    Entries(&'static str, nhi_inventory::Inventory),
    /// IAM policies (and the identities of an authorization-details dump).
    Policies(aws_iam_policy::Parsed),
    /// Grants of a policy that names no identities of its own.
    Grants(&'static str, Vec<Grant>),
    /// A secret scanner's finding.
    /// A scanner's finding, and the secret values it reported (for the
    /// gate, as hashes; never written).
    Finding(SecretFinding, Vec<String>),
    /// An MCP client configuration's rows and the literal secrets it held.
    McpConfig(mcp_config::Read),
    /// A Kubernetes object: identities, RBAC, mesh settings, or skipped.
    Kubernetes(kubernetes::Object),
    OutsideWindow,
    /// A kind of record proofpack does not read, with the reason.
    Skipped(String),
    /// The records a shipper's wrapper carried, each with its path inside
    /// it (one record read becomes these).
    Many(Vec<(String, RecordResult)>),
}

type RecordResult = Result<Item, (Option<&'static str>, String)>;

fn ingest_value(value: Value, options: &IngestOptions, raw_ref: &RawRef) -> RecordResult {
    ingest_value_at(value, options, raw_ref, 0)
}

/// [`ingest_value`] for a record found `depth` shipper envelopes deep.
fn ingest_value_at(
    value: Value,
    options: &IngestOptions,
    raw_ref: &RawRef,
    depth: usize,
) -> RecordResult {
    let record = unwrap_envelope(value).map_err(|why| (None, why))?;
    if options.source.is_none() && kubernetes::detect(&record) {
        let object =
            kubernetes::parse(&record, raw_ref).map_err(|why| (Some("kubernetes"), why))?;
        return Ok(Item::Kubernetes(object));
    }
    if let Some(tool) = secret_scanners::detect(&record).filter(|_| options.source.is_none()) {
        let finding =
            secret_scanners::finding(tool, &record, raw_ref).map_err(|why| (Some(tool), why))?;
        return Ok(Item::Finding(
            finding,
            secret_scanners::secret_values(&record),
        ));
    }
    if options.source.is_none() && aws_iam_policy::detect(&record) {
        let parsed = aws_iam_policy::parse(&record, &raw_ref.file, raw_ref)
            .map_err(|why| (Some(aws_iam_policy::SOURCE), why))?;
        return Ok(Item::Policies(parsed));
    }
    if options.source.is_none() && nhi_inventory::detect_json(&record) {
        return Ok(Item::Entries(
            nhi_inventory::SOURCE,
            nhi_inventory::from_json(&record, raw_ref),
        ));
    }
    if options.source.is_none() && spire::detect(&record) {
        return Ok(Item::Entries(
            spire::SOURCE,
            spire::entries(&record, raw_ref),
        ));
    }
    if options.source.is_none() && gcp_iam_policy::detect(&record) {
        let grants = gcp_iam_policy::grants(&record, &raw_ref.file, raw_ref)
            .map_err(|why| (Some(gcp_iam_policy::SOURCE), why))?;
        return Ok(Item::Grants(gcp_iam_policy::SOURCE, grants));
    }
    if options.source.is_none() && mcp_config::detect(&record) {
        // An MCP configuration under another name (Cline's, a copy).
        let read = mcp_config::identities(&record, "mcp", raw_ref)
            .map_err(|why| (Some(mcp_config::SOURCE), why))?;
        return Ok(Item::McpConfig(read));
    }
    if options.source.is_none() && okta_inventory::detect(&record) {
        return Ok(match okta_inventory::parse(&record, raw_ref) {
            okta_inventory::Object::Users(rows) => Item::Inventory(okta_inventory::SOURCE, rows),
            okta_inventory::Object::Grants(rows) => Item::Grants(okta_inventory::SOURCE, rows),
            okta_inventory::Object::Skipped(why) => Item::Skipped(why),
        });
    }
    if options.source.is_none() && gcp_inventory::detect(&record) {
        let rows = gcp_inventory::identities(&record, raw_ref)
            .map_err(|why| (Some(gcp_inventory::SOURCE), why))?;
        return Ok(Item::Inventory(gcp_inventory::SOURCE, rows));
    }
    ingest_log(&record, options, raw_ref, depth)
}

/// One record's bytes, parsed onto a tape (one allocation, strings borrowed
/// from the input). A plain audit record is read from the tape; anything
/// else takes [`ingest_value`], which gives the same answer for it.
fn ingest_raw(bytes: &[u8], options: &IngestOptions, raw_ref: &RawRef) -> RecordResult {
    let parsed = std::str::from_utf8(bytes).map(Tape::parse);
    let tape = match parsed {
        Ok(Ok(tape)) => tape,
        Ok(Err(e)) => return Err((None, format!("not valid JSON: {e}"))),
        // serde_json says where the bad byte is and whether it is in a string.
        Err(_) => {
            return serde_json::from_slice(bytes)
                .map_err(|e| (None, format!("not valid JSON: {e}")))
                .and_then(|value| ingest_value(value, options, raw_ref))
        }
    };
    let root = tape.root();
    if needs_value(root) {
        return ingest_value(root.to_value(), options, raw_ref);
    }
    ingest_log(root, options, raw_ref, 0)
}

/// Top-level members one of which every envelope and every non-log reader
/// requires (see `unwrap_envelope` and each reader's `detect`; Kubernetes
/// objects need `apiVersion`, checked with its value in [`needs_value`]): a
/// record with none of them reaches [`ingest_log`] unchanged from
/// `ingest_value`. A reader that starts looking at another member must add
/// it here; `tape_and_value_paths_agree_on_every_sample` catches a miss on
/// the samples.
const ROUTED_MEMBERS: [&str; 32] = [
    // envelopes
    "status_code",
    // SIEM data lakes' rows (`siem.rs`)
    "p_log_type",
    "p_event_time",
    "headers",
    "CloudTrailEvent",
    "detail-type",
    // secret scanners
    "RuleID",
    "DetectorName",
    // IAM policies, authorization details and listings
    "Statement",
    "PolicyVersion",
    "RoleDetailList",
    "UserDetailList",
    "Roles",
    "Role",
    "Users",
    "User",
    "AccessKeyMetadata",
    // inventories: generic, SPIRE, GCP
    "nhi-inventory",
    "entries",
    "selectors",
    "spiffe_id",
    "bindings",
    "email",
    "keyType",
    "accounts",
    "keys",
    // MCP client configurations
    "mcpServers",
    "servers",
    // Okta API objects: users, role assignments, groups, role definitions
    "profile",
    "assignmentType",
    "objectClass",
    "_links",
];

/// Whether a record must be read as a `serde_json::Value`: not an object,
/// or holding a member that an envelope or a non-log reader looks for.
fn needs_value(root: TapeNode<'_>) -> bool {
    let Some(mut members) = root.as_object() else {
        return true;
    };
    members.any(|(key, value)| match key {
        // Kubernetes objects, but not audit events (`audit.k8s.io/v1`).
        "apiVersion" => !value
            .as_str()
            .is_some_and(|a| a.starts_with("audit.k8s.io")),
        // AKS diagnostic records hold a Kubernetes audit event as a string.
        "category" => value.as_str().is_some_and(|c| c.starts_with("kube-audit")),
        _ => ROUTED_MEMBERS.contains(&key),
    })
}

/// An audit record, once envelopes and inventories are ruled out: detected
/// (or forced), normalised, marked, scrubbed and windowed.
fn ingest_log<'a, J: JsonRef<'a>>(
    record: J,
    options: &IngestOptions,
    raw_ref: &RawRef,
    depth: usize,
) -> RecordResult {
    let source = match options.source {
        Some(forced) => forced,
        None => match SourceKind::detect(record) {
            Some(source) => source,
            // Only now, for a record no reader knows, are shippers'
            // wrappers looked into: plain records pay nothing for them.
            None => return open_shipper_envelope(record.to_value(), options, raw_ref, depth),
        },
    };
    let mut normalised = source
        .normalise(record)
        .map_err(|why| (Some(source.name()), crate::time::explain_zoneless(why)))?;
    agent::mark(&mut normalised);
    let in_window = options.since.is_none_or(|s| normalised.time_us >= s)
        && options.until.is_none_or(|u| normalised.time_us < u);
    Ok(if in_window {
        let seen = source.observe(record, &normalised);
        Item::Event(
            source,
            Box::new(normalised),
            (!seen.is_empty()).then(|| Box::new(seen)),
        )
    } else {
        Item::OutsideWindow
    })
}

/// The records a shipper's wrapper carries (`shipper::open`), each read
/// as a record of its own; a record that carries none is unrecognised.
fn open_shipper_envelope(
    record: Value,
    options: &IngestOptions,
    raw_ref: &RawRef,
    depth: usize,
) -> RecordResult {
    if depth < shipper::MAX_DEPTH {
        if let Some(found) = shipper::open(&record) {
            let results = found
                .into_iter()
                .map(|(path, inner)| {
                    // Rows read from the carried record point inside the wrapper.
                    let at = RawRef {
                        position: format!("{}, {path}", raw_ref.position),
                        ..raw_ref.clone()
                    };
                    let result = ingest_value_at(inner, options, &at, depth + 1);
                    (path, result)
                })
                .collect();
            return Ok(Item::Many(results));
        }
    }
    Err((None, unrecognised(&record)))
}

/// Takes the audit record out of the envelopes exporters put it in: a JSON
/// string holding the record, CloudTrail `lookup-events` rows
/// (`CloudTrailEvent`), and EventBridge events (`detail`).
fn unwrap_envelope(value: Value) -> Result<Value, String> {
    let value = match value {
        Value::String(inner) => serde_json::from_str(&inner)
            .map_err(|e| format!("a string that does not hold a JSON record: {e}"))?,
        other => other,
    };
    // A SIEM data lake's row: the vendor's record, keys and time restored.
    let value = if siem::detect(&value) {
        siem::restore(value)
    } else {
        value
    };
    // Cloud Custodian's "placebo" recordings of boto3 calls.
    let placebo = value.get("status_code").is_some_and(Value::is_u64)
        && value.get("data").is_some_and(Value::is_object);
    if placebo && value.as_object().is_some_and(|m| m.len() == 2) {
        let status = value["status_code"].as_u64().unwrap_or(0);
        if status >= 400 {
            return Err(format!(
                "a recorded error response (HTTP {status}), not data"
            ));
        }
        return unwrap_envelope(value["data"].clone());
    }
    // Recorded HTTP responses (as test harnesses and proxies save them).
    let recorded = value.get("headers").is_some_and(Value::is_object)
        && value.get("body").is_some_and(Value::is_object);
    if recorded && value.as_object().is_some_and(|m| m.len() == 2) {
        return unwrap_envelope(value["body"].clone());
    }
    if let Some(Value::String(inner)) = value.get("CloudTrailEvent") {
        return serde_json::from_str(inner)
            .map_err(|e| format!("CloudTrailEvent is not a JSON record: {e}"));
    }
    let is_eventbridge =
        value.get("detail-type").is_some() && value.get("detail").is_some_and(Value::is_object);
    if is_eventbridge {
        return Ok(value["detail"].clone());
    }
    // AKS diagnostic settings: `{"category": "kube-audit", "properties": {"log": "<event JSON>"}}`.
    let category = value.get("category").and_then(Value::as_str).unwrap_or("");
    if category.starts_with("kube-audit") {
        if let Some(Value::String(inner)) = value.pointer("/properties/log") {
            return serde_json::from_str(inner)
                .map_err(|e| format!("{category} properties.log is not a JSON audit event: {e}"));
        }
    }
    match value {
        Value::Object(_) => Ok(value),
        other => Err(format!(
            "a JSON {} where an audit record (an object) belongs",
            kind_name(&other)
        )),
    }
}

fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn unrecognised(record: &Value) -> String {
    if record.get("digestStartTime").is_some() && record.get("logFiles").is_some() {
        return "a CloudTrail digest file (hashes of the delivered log files), not access records"
            .into();
    }
    let keys: Vec<String> = record
        .as_object()
        .map(|m| m.keys().take(6).map(|k| format!("`{k}`")).collect())
        .unwrap_or_default();
    let known: Vec<&str> = SourceKind::ALL.iter().map(|s| s.name()).collect();
    format!(
        "not a recognised audit record (keys {}); known formats: {} (force one with --source)",
        if keys.is_empty() {
            "none".to_string()
        } else {
            keys.join(", ")
        },
        known.join(", ")
    )
}

fn into_event(source: SourceKind, access: Access, raw_ref: RawRef) -> AccessEvent {
    AccessEvent {
        source: source.name(),
        access,
        raw_ref,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelopes_are_opened() {
        let inner = json!({"eventSource": "s3.amazonaws.com", "eventName": "GetObject"});
        assert_eq!(
            unwrap_envelope(json!({"CloudTrailEvent": inner.to_string()})).unwrap(),
            inner
        );
        assert_eq!(
            unwrap_envelope(json!({"detail-type": "AWS API Call via CloudTrail", "detail": inner}))
                .unwrap(),
            inner
        );
        assert_eq!(
            unwrap_envelope(Value::String(inner.to_string())).unwrap(),
            inner
        );
        assert!(unwrap_envelope(json!(0)).unwrap_err().contains("number"));
        let k8s = json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "verb": "get"});
        let aks = json!({"category": "kube-audit", "properties": {"log": k8s.to_string(), "pod": "kube-apiserver-1"}});
        assert_eq!(unwrap_envelope(aks).unwrap(), k8s);
    }

    #[test]
    fn files_are_read_in_parallel_and_kept_in_input_order() {
        let dir = tempfile::tempdir().unwrap();
        let record = |n: u32| {
            json!({"eventTime": format!("2026-11-0{n}T00:00:00Z"), "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
                   "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::1:user/u{n}"), "accessKeyId": "AKIAEXAMPLE"}})
        };
        // Later times in earlier files: the table keeps input order.
        for (name, n) in [("a.json", 5), ("b.json", 3), ("c.json", 1)] {
            std::fs::write(
                dir.path().join(name),
                json!({"Records": [record(n), record(n + 1)]}).to_string(),
            )
            .unwrap();
        }
        std::fs::write(dir.path().join("d.json"), "not json").unwrap();
        let inputs = vec![dir.path().display().to_string()];
        let out = ingest_inputs(&inputs, &IngestOptions::default()).unwrap();
        assert_eq!(out.events.height(), 6);
        assert!(out.summary.reconciles());
        assert_eq!(
            (out.summary.read, out.summary.rejected, out.summary.files),
            (7, 1, 4)
        );
        let principals: Vec<String> = out
            .events
            .column("principal_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap().to_string())
            .collect();
        assert_eq!(
            principals.first().map(String::as_str),
            Some("arn:aws:iam::1:user/u5")
        );
        assert_eq!(
            principals.last().map(String::as_str),
            Some("arn:aws:iam::1:user/u2")
        );
    }

    #[test]
    fn the_model_knows_every_audit_source_by_the_name_ingest_writes() {
        let names: Vec<&str> = SourceKind::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(names, crate::model::access_event::AUDIT_SOURCES);
    }

    #[test]
    fn yaml_is_known_by_name_or_first_line() {
        let file = |name: &str, text: &str| reader::InputFile {
            name: name.to_string(),
            bytes: text.as_bytes().to_vec(),
            truncated: None,
            object: None,
        };
        assert!(is_yaml(&file("rbac.yaml.gz", "{}")));
        assert!(!is_yaml(&file("trail.json.gz", "---\n")));
        assert!(is_yaml(&file(
            "https://x/y",
            "# a comment\n\n  ---  \nkind: Role\n"
        )));
        assert!(is_yaml(&file("https://x/y", "#\napiVersion: v1\n")));
        assert!(!is_yaml(&file("https://x/y", "# only a comment")));
        assert!(!is_yaml(&file("https://x/y", "{\"Records\": []}")));
    }

    /// Every JSON record of every real sample and bundled sample (and each
    /// with an escaped copy of itself) gives the same result read from a
    /// tape as read from a `serde_json::Value`.
    #[test]
    fn tape_and_value_paths_agree_on_every_sample() {
        let roots = [
            concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/samples-real"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/samples"),
        ];
        let targets = reader::expand(&roots.map(String::from));
        let options = IngestOptions::default();
        let windowed = IngestOptions {
            since: Some(1_600_000_000_000_000),
            until: Some(1_700_000_000_000_000),
            ..IngestOptions::default()
        };
        let (mut records, mut on_tape) = (0, 0);
        for target in targets {
            let file = reader::read_target(&target.unwrap(), 1 << 30, None).unwrap();
            if is_yaml(&file) {
                continue;
            }
            let Ok(split) = records::split(&file.bytes) else {
                continue;
            };
            for raw in split {
                let raw_ref = RawRef {
                    file: file.name.clone(),
                    position: raw.position.clone(),
                    sha256: String::new(),
                };
                // `/` only occurs inside strings: `\/` is the same JSON, with
                // every such string decoded into the tape's own copies.
                let escaped = String::from_utf8_lossy(raw.bytes).replace('/', "\\/");
                for options in [&options, &windowed] {
                    let by_value = serde_json::from_slice(raw.bytes)
                        .map_err(|e| (None, format!("not valid JSON: {e}")))
                        .and_then(|value| ingest_value(value, options, &raw_ref));
                    let expected = outcome(&by_value);
                    let by_tape = ingest_raw(raw.bytes, options, &raw_ref);
                    let at = format!("{} {}", file.name, raw.position);
                    assert_eq!(outcome(&by_tape), expected, "{at}");
                    if std::str::from_utf8(raw.bytes).is_ok() {
                        let by_tape = ingest_raw(escaped.as_bytes(), options, &raw_ref);
                        assert_eq!(outcome(&by_tape), expected, "{at}, escaped");
                    }
                }
                records += 1;
                let text = std::str::from_utf8(raw.bytes).unwrap_or("");
                on_tape += Tape::parse(text).is_ok_and(|t| !needs_value(t.root())) as usize;
            }
        }
        // The samples exercise both paths.
        eprintln!("{records} records, {on_tape} on the tape");
        assert!(
            records > 500 && on_tape > 300,
            "{records} records, {on_tape} on the tape"
        );
    }

    #[test]
    fn reasons_group_by_their_first_clause() {
        assert_eq!(
            reason_class("not valid JSON: EOF at line 1"),
            "not valid JSON"
        );
        assert_eq!(reason_class("no verb"), "no verb");
    }
}
