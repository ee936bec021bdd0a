//! The evidence tables as polars frames, and their Parquet / CSV files.
//!
//! `access_events` columns, in order (all strings unless said):
//!
//! | column | meaning |
//! |---|---|
//! | `time` | datetime[µs, UTC]: when the access happened |
//! | `source` | input format: `aws-cloudtrail`, `k8s-audit`, ... |
//! | `event_id` | the record's own id (CloudTrail `eventID`, k8s `auditID`) |
//! | `principal_id` | canonical identity (IAM ARN without session, `system:serviceaccount:NS:NAME`, ...) |
//! | `principal_type` | workload / service / agent / human / unknown |
//! | `principal_reason` | the rule that chose `principal_type` |
//! | `session_name` | assumed-role session name |
//! | `credential_id` | access key id, token id or key name; never a secret |
//! | `credential_type` | ephemeral / static / unknown |
//! | `credential_reason` | what in the record decided `credential_type` |
//! | `auth_method` | how the caller authenticated |
//! | `action` | `service:Operation` or the verb |
//! | `resource` | what was acted on |
//! | `decision` | allow / deny / error |
//! | `decision_reason` | the source's own error code and message |
//! | `source_address`, `user_agent` | where the call came from |
//! | `account`, `environment` | account / project / tenant; region / cluster |
//! | `raw_file`, `raw_position`, `raw_sha256` | the original record: input, position, hash |
//!
//! `rejected` columns: `raw_file`, `raw_position`, `raw_sha256`, `source`, `reason`.

use std::path::Path;

use polars::prelude::*;

use super::parquet_guard;
use super::{
    Access, AccessEvent, CredentialType, Decision, Grant, Identity, PrincipalType, RawRef,
    Rejected, SecretFinding,
};

/// File names inside an ingest output folder.
pub const ACCESS_EVENTS: &str = "access_events";
pub const IDENTITIES: &str = "identities";
pub const GRANTS: &str = "grants";
pub const SECRET_FINDINGS: &str = "secret_findings";
pub const REJECTED: &str = "rejected";
/// Every table of an ingest folder, in the order packages list them.
pub const EVIDENCE_TABLES: [&str; 5] =
    [ACCESS_EVENTS, IDENTITIES, GRANTS, SECRET_FINDINGS, REJECTED];

/// `raw_file`, `raw_position`, `raw_sha256`: where each row came from.
fn raw_ref_columns<'a>(refs: impl Iterator<Item = &'a RawRef> + Clone) -> [Column; 3] {
    [
        text("raw_file", refs.clone().map(|r| Some(r.file.as_str()))),
        text(
            "raw_position",
            refs.clone().map(|r| Some(r.position.as_str())),
        ),
        text("raw_sha256", refs.map(|r| Some(r.sha256.as_str()))),
    ]
}

fn text<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Column {
    Column::new(name.into(), values.collect::<Vec<Option<&str>>>())
}

/// The `access_events` frame, rows in the given order.
pub fn access_events_frame(events: &[AccessEvent]) -> PolarsResult<DataFrame> {
    let time = Int64Chunked::from_vec(
        "time".into(),
        events.iter().map(|e| e.access.time_us).collect(),
    )
    .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
    .into_column();
    let mut columns = vec![
        time,
        text("source", events.iter().map(|e| Some(e.source))),
        text(
            "event_id",
            events.iter().map(|e| e.access.event_id.as_deref()),
        ),
        text(
            "principal_id",
            events.iter().map(|e| Some(e.access.principal_id.as_str())),
        ),
        text(
            "principal_type",
            events
                .iter()
                .map(|e| Some(e.access.principal_type.as_str())),
        ),
        text(
            "principal_reason",
            events
                .iter()
                .map(|e| Some(e.access.principal_reason.as_str())),
        ),
        text(
            "session_name",
            events.iter().map(|e| e.access.session_name.as_deref()),
        ),
        text(
            "credential_id",
            events.iter().map(|e| e.access.credential_id.as_deref()),
        ),
        text(
            "credential_type",
            events
                .iter()
                .map(|e| Some(e.access.credential_type.as_str())),
        ),
        text(
            "credential_reason",
            events
                .iter()
                .map(|e| Some(e.access.credential_reason.as_str())),
        ),
        text(
            "auth_method",
            events.iter().map(|e| Some(e.access.auth_method.as_str())),
        ),
        text(
            "action",
            events.iter().map(|e| Some(e.access.action.as_str())),
        ),
        text(
            "resource",
            events.iter().map(|e| e.access.resource.as_deref()),
        ),
        text(
            "decision",
            events.iter().map(|e| Some(e.access.decision.as_str())),
        ),
        text(
            "decision_reason",
            events.iter().map(|e| e.access.decision_reason.as_deref()),
        ),
        text(
            "source_address",
            events.iter().map(|e| e.access.source_address.as_deref()),
        ),
        text(
            "user_agent",
            events.iter().map(|e| e.access.user_agent.as_deref()),
        ),
        text(
            "account",
            events.iter().map(|e| e.access.account.as_deref()),
        ),
        text(
            "environment",
            events.iter().map(|e| e.access.environment.as_deref()),
        ),
    ];
    columns.extend(raw_ref_columns(events.iter().map(|r| &r.raw_ref)));
    DataFrame::new(events.len(), columns)
}

fn datetime(name: &str, values: impl Iterator<Item = Option<i64>>) -> Column {
    Int64Chunked::from_iter_options(name.into(), values)
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_column()
}

/// The `identities` frame: `id`, `kind`, `provider`, `owner_id`,
/// `owner`, `environment`, `created`, `last_used`, `last_rotated`, `expires`
/// (datetime[µs, UTC]), `active` (bool), `credential_type`,
/// `credential_reason`, `details`, `ownership` (`internal` / `third-party`),
/// `vendor`, `ownership_reason`, `review_by` (datetime), `agent_platform`,
/// `on_behalf_of`, `origin` (`inventory` / `log`), `raw_file`, `raw_position`, `raw_sha256`.
pub fn identities_frame(rows: &[Identity]) -> PolarsResult<DataFrame> {
    let mut columns = vec![
        text("id", rows.iter().map(|r| Some(r.id.as_str()))),
        text("kind", rows.iter().map(|r| Some(r.kind.as_str()))),
        text("provider", rows.iter().map(|r| Some(r.provider))),
        text("owner_id", rows.iter().map(|r| r.owner_id.as_deref())),
        text("owner", rows.iter().map(|r| r.owner.as_deref())),
        text("environment", rows.iter().map(|r| r.environment.as_deref())),
        datetime("created", rows.iter().map(|r| r.created_us)),
        datetime("last_used", rows.iter().map(|r| r.last_used_us)),
        datetime("last_rotated", rows.iter().map(|r| r.last_rotated_us)),
        datetime("expires", rows.iter().map(|r| r.expires_us)),
        Column::new(
            "active".into(),
            rows.iter().map(|r| r.active).collect::<Vec<bool>>(),
        ),
        text(
            "credential_type",
            rows.iter().map(|r| Some(r.credential_type.as_str())),
        ),
        text(
            "credential_reason",
            rows.iter().map(|r| Some(r.credential_reason.as_str())),
        ),
        text("details", rows.iter().map(|r| Some(r.details.as_str()))),
        text("ownership", rows.iter().map(|r| Some(r.ownership.as_str()))),
        text("vendor", rows.iter().map(|r| r.vendor.as_deref())),
        text(
            "ownership_reason",
            rows.iter().map(|r| Some(r.ownership_reason.as_str())),
        ),
        datetime("review_by", rows.iter().map(|r| r.review_by_us)),
        text(
            "agent_platform",
            rows.iter().map(|r| r.agent_platform.as_deref()),
        ),
        text(
            "on_behalf_of",
            rows.iter().map(|r| r.on_behalf_of.as_deref()),
        ),
        text(
            "origin",
            rows.iter()
                .map(|r| Some(if r.from_log { "log" } else { "inventory" })),
        ),
    ];
    columns.extend(raw_ref_columns(rows.iter().map(|r| &r.source_ref)));
    DataFrame::new(rows.len(), columns)
}

fn flag(name: &str, values: impl Iterator<Item = bool>) -> Column {
    Column::new(name.into(), values.collect::<Vec<bool>>())
}

/// The `grants` frame: `principal`, `policy`, `kind`, `effect`, `actions`,
/// `not_action`, `resources`, `not_resource`, `has_conditions`,
/// `wildcard_action`, `wildcard_resource`, `admin` (bools as named),
/// `flags`, `raw_file`, `raw_position`, `raw_sha256`.
pub fn grants_frame(rows: &[Grant]) -> PolarsResult<DataFrame> {
    let mut columns = vec![
        text("principal", rows.iter().map(|r| r.principal.as_deref())),
        text("policy", rows.iter().map(|r| Some(r.policy.as_str()))),
        text("kind", rows.iter().map(|r| Some(r.kind))),
        text("effect", rows.iter().map(|r| Some(r.effect.as_str()))),
        text("actions", rows.iter().map(|r| Some(r.actions.as_str()))),
        flag("not_action", rows.iter().map(|r| r.not_action)),
        text("resources", rows.iter().map(|r| Some(r.resources.as_str()))),
        flag("not_resource", rows.iter().map(|r| r.not_resource)),
        flag("has_conditions", rows.iter().map(|r| r.has_conditions)),
        flag("wildcard_action", rows.iter().map(|r| r.wildcard_action)),
        flag(
            "wildcard_resource",
            rows.iter().map(|r| r.wildcard_resource),
        ),
        flag("admin", rows.iter().map(|r| r.admin)),
        text("flags", rows.iter().map(|r| Some(r.flags.as_str()))),
    ];
    columns.extend(raw_ref_columns(rows.iter().map(|r| &r.source_ref)));
    DataFrame::new(rows.len(), columns)
}

/// The `secret_findings` frame: `tool`, `rule`, `file`, `line`, `commit`,
/// `repository`, `committed` (datetime), `verified`, `fingerprint`,
/// `raw_file`, `raw_position`, `raw_sha256`. No column holds the secret.
pub fn secret_findings_frame(rows: &[SecretFinding]) -> PolarsResult<DataFrame> {
    let mut columns = vec![
        text("tool", rows.iter().map(|r| Some(r.tool))),
        text("rule", rows.iter().map(|r| Some(r.rule.as_str()))),
        text("file", rows.iter().map(|r| r.file.as_deref())),
        Column::new(
            "line".into(),
            rows.iter().map(|r| r.line).collect::<Vec<Option<u64>>>(),
        ),
        text("commit", rows.iter().map(|r| r.commit.as_deref())),
        text("repository", rows.iter().map(|r| r.repository.as_deref())),
        datetime("committed", rows.iter().map(|r| r.committed_us)),
        Column::new(
            "verified".into(),
            rows.iter()
                .map(|r| r.verified)
                .collect::<Vec<Option<bool>>>(),
        ),
        text(
            "fingerprint",
            rows.iter().map(|r| Some(r.fingerprint.as_str())),
        ),
    ];
    columns.extend(raw_ref_columns(rows.iter().map(|r| &r.source_ref)));
    DataFrame::new(rows.len(), columns)
}

/// The `rejected` frame.
pub fn rejected_frame(rejected: &[Rejected]) -> PolarsResult<DataFrame> {
    let mut columns = raw_ref_columns(rejected.iter().map(|r| &r.raw_ref)).to_vec();
    columns.push(text("source", rejected.iter().map(|r| r.source)));
    columns.push(text(
        "reason",
        rejected.iter().map(|r| Some(r.reason.as_str())),
    ));
    DataFrame::new(rejected.len(), columns)
}

/// The CSV form every table uses: a header, and times in UTC with an
/// explicit `Z` so no reader takes them for local time.
pub fn csv_writer<W: std::io::Write>(sink: W) -> CsvWriter<W> {
    CsvWriter::new(sink)
        .include_header(true)
        .with_datetime_format(Some("%Y-%m-%dT%H:%M:%S%.6fZ".into()))
}

/// The Parquet form every table uses: zstd at level 1. On a 1.1 GB
/// CloudTrail ingest the default level (3) wrote the same 87 MB and cost a
/// tenth of the wall time; snappy wrote 155 MB for no gain in speed.
pub fn parquet_writer<W: std::io::Write>(sink: W) -> ParquetWriter<W> {
    let level = polars_parquet::write::ZstdLevel::try_new(1).expect("1 is a valid zstd level");
    ParquetWriter::new(sink).with_compression(ParquetCompression::Zstd(Some(level)))
}

/// Writes a frame as Parquet through a buffer (the writer emits its
/// headers a few bytes at a time), flushed with its errors reported.
pub fn write_parquet<W: std::io::Write>(sink: W, frame: &mut DataFrame) -> PolarsResult<()> {
    let mut buffered = std::io::BufWriter::with_capacity(1 << 20, sink);
    parquet_writer(&mut buffered).finish(frame)?;
    std::io::Write::flush(&mut buffered)?;
    Ok(())
}

/// Writes `NAME.parquet` into `dir`, and `NAME.csv` when the table has at most
/// `csv_max_rows` rows; says whether the CSV was written.
pub fn write_table(
    dir: &Path,
    name: &str,
    frame: &mut DataFrame,
    csv_max_rows: u64,
) -> PolarsResult<bool> {
    let parquet = std::fs::File::create(dir.join(format!("{name}.parquet")))?;
    write_parquet(parquet, frame)?;
    if frame.height() as u64 > csv_max_rows {
        return Ok(false);
    }
    let mut csv = std::io::BufWriter::new(std::fs::File::create(dir.join(format!("{name}.csv")))?);
    csv_writer(&mut csv).finish(frame)?;
    std::io::Write::flush(&mut csv)?;
    Ok(true)
}

/// Reads `NAME.parquet` from an ingest folder.
pub fn read_table(dir: &Path, name: &str) -> PolarsResult<DataFrame> {
    let file = std::fs::File::open(dir.join(format!("{name}.parquet")))?;
    parquet_guard::checked_read(file, None)
}

/// One row group of a Parquet file, readable alone.
pub struct RowGroup {
    /// Its first row in the file.
    pub offset: usize,
    /// The file's footer with this row group only: the reader then decodes
    /// nothing else (a slice of the whole file makes polars walk, and
    /// touch, every row group before it).
    metadata: std::sync::Arc<polars_parquet::parquet::metadata::FileMetadata>,
}

impl RowGroup {
    /// `columns` of this row group.
    pub fn read(&self, path: &Path, columns: &[&str]) -> PolarsResult<DataFrame> {
        let mut file = std::fs::File::open(path)?;
        parquet_guard::check_page_headers(&mut file, &self.metadata, Some(columns))?;
        let mut reader = ParquetReader::new(file);
        reader.set_metadata(self.metadata.clone());
        parquet_guard::decoded(|| {
            reader
                .with_columns(Some(columns.iter().map(|c| c.to_string()).collect()))
                .read_parallel(ParallelStrategy::None)
                .finish()
        })
    }

    /// Its number of rows.
    pub fn rows(&self) -> usize {
        self.metadata.num_rows
    }

    /// The rows `mask` keeps (every row when there is none), every column,
    /// decoded one column at a time and filtered at once: memory holds one
    /// column of the row group and the kept rows, never the whole group.
    pub fn read_rows(&self, path: &Path, mask: Option<&BooleanChunked>) -> PolarsResult<DataFrame> {
        let mut columns = Vec::new();
        for field in self.metadata.schema().fields() {
            let mut frame = self.read(path, &[field.name()])?;
            if let Some(mask) = mask {
                frame = frame.filter(mask)?;
            }
            columns.extend(frame.into_columns());
        }
        DataFrame::new_infer_height(columns)
    }

    /// The min/max statistics the writer kept for `column`, if any (a
    /// statistic that does not decode is no statistic).
    pub fn statistics(
        &self,
        column: &str,
    ) -> Option<polars_parquet::parquet::statistics::Statistics> {
        let group = self.metadata.row_groups.first()?;
        let mut chunks = group.columns_under_root_iter(column)?;
        let chunk = chunks.next()?;
        chunk.statistics(&self.metadata.footer_buf)?.ok()
    }
}

/// The row groups of the Parquet file at `path`, in order.
pub fn row_groups(path: &Path) -> PolarsResult<Vec<RowGroup>> {
    let metadata = parquet_guard::read_metadata(&mut std::fs::File::open(path)?)?;
    // The footer without its row groups, cloned once per group (not the
    // whole footer per group).
    let mut bare = metadata.clone();
    bare.row_groups = Vec::new();
    let mut offset = 0usize;
    let mut out = Vec::with_capacity(metadata.row_groups.len());
    for group in &metadata.row_groups {
        let mut alone = bare.clone();
        alone.row_groups = vec![group.clone()];
        alone.num_rows = group.num_rows();
        alone.max_row_group_height = group.num_rows();
        out.push(RowGroup {
            offset,
            metadata: std::sync::Arc::new(alone),
        });
        offset += group.num_rows();
    }
    Ok(out)
}

/// Calls `each` with `columns` of every row group of the Parquet file at
/// `path` in turn, and the row group's first row: memory holds one row
/// group's columns, whatever the table's size.
pub fn for_each_row_group(
    path: &Path,
    columns: &[&str],
    mut each: impl FnMut(&DataFrame, usize) -> PolarsResult<()>,
) -> PolarsResult<()> {
    for group in row_groups(path)? {
        each(&group.read(path, columns)?, group.offset)?;
    }
    Ok(())
}

/// Only `columns` of `NAME.parquet`: the rest are never decoded.
pub fn read_table_columns(dir: &Path, name: &str, columns: &[&str]) -> PolarsResult<DataFrame> {
    let file = std::fs::File::open(dir.join(format!("{name}.parquet")))?;
    parquet_guard::checked_read(file, Some(columns))
}

/// A datetime column as µs since the epoch.
pub fn micros_column(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i64>>> {
    Ok(frame
        .column(name)?
        .cast(&DataType::Int64)?
        .i64()?
        .iter()
        .collect())
}

/// A boolean column, null as false.
pub fn bool_column(frame: &DataFrame, name: &str) -> PolarsResult<Vec<bool>> {
    Ok(frame
        .column(name)?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect())
}

/// A string column's values, owned.
pub fn string_column(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(frame
        .column(name)?
        .str()?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

/// Builds rows from an `access_events` frame.
/// The rows of an `access_events` frame (any column order; extra columns
/// ignored).
pub fn access_event_rows(frame: &DataFrame) -> PolarsResult<Vec<AccessEvent>> {
    let time = frame.column("time")?.cast(&DataType::Int64)?;
    let time = time.i64()?;
    let col = |name: &str| string_column(frame, name);
    let (source, event_id, principal_id, principal_type, principal_reason) = (
        col("source")?,
        col("event_id")?,
        col("principal_id")?,
        col("principal_type")?,
        col("principal_reason")?,
    );
    let (session_name, credential_id, credential_type, credential_reason, auth_method) = (
        col("session_name")?,
        col("credential_id")?,
        col("credential_type")?,
        col("credential_reason")?,
        col("auth_method")?,
    );
    let (action, resource, decision, decision_reason) = (
        col("action")?,
        col("resource")?,
        col("decision")?,
        col("decision_reason")?,
    );
    let (source_address, user_agent, account, environment) = (
        col("source_address")?,
        col("user_agent")?,
        col("account")?,
        col("environment")?,
    );
    let (raw_file, raw_position, raw_sha256) =
        (col("raw_file")?, col("raw_position")?, col("raw_sha256")?);
    let bad = |what: &str, value: &Option<String>| polars_err!(ComputeError: "access_events.parquet has {} `{}`, which proofpack did not write", what, value.as_deref().unwrap_or(""));
    let mut rows = Vec::with_capacity(frame.height());
    for i in 0..frame.height() {
        let take = |v: &Vec<Option<String>>| v[i].clone();
        let access = Access {
            time_us: time.get(i).unwrap_or_default(),
            event_id: take(&event_id),
            principal_id: take(&principal_id).unwrap_or_default(),
            principal_type: principal_type[i]
                .as_deref()
                .and_then(PrincipalType::parse)
                .ok_or_else(|| bad("principal_type", &principal_type[i]))?,
            principal_reason: take(&principal_reason).unwrap_or_default(),
            session_name: take(&session_name),
            credential_id: take(&credential_id),
            credential_type: credential_type[i]
                .as_deref()
                .and_then(CredentialType::parse)
                .ok_or_else(|| bad("credential_type", &credential_type[i]))?,
            credential_reason: take(&credential_reason).unwrap_or_default(),
            auth_method: take(&auth_method).unwrap_or_default(),
            action: take(&action).unwrap_or_default(),
            resource: take(&resource),
            decision: decision[i]
                .as_deref()
                .and_then(Decision::parse)
                .ok_or_else(|| bad("decision", &decision[i]))?,
            decision_reason: take(&decision_reason),
            source_address: take(&source_address),
            user_agent: take(&user_agent),
            account: take(&account),
            environment: take(&environment),
        };
        rows.push(AccessEvent {
            source: super::access_event::audit_source(source[i].as_deref().unwrap_or(""))
                .ok_or_else(|| bad("source", &source[i]))?,
            access,
            raw_ref: RawRef {
                file: take(&raw_file).unwrap_or_default(),
                position: take(&raw_position).unwrap_or_default(),
                sha256: take(&raw_sha256).unwrap_or_default(),
            },
        });
    }
    Ok(rows)
}
