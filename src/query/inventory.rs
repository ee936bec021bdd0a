//! `proofpack query` over the inventory tables: which NHIs hold admin
//! rights, which grants are wildcards, which static credentials are older
//! than N days. Selection runs on the polars columns a row group at a time;
//! rows are printed as `column: value` blocks, JSON or CSV.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde_json::{Map, Value};

use crate::model::tables::{read_table, row_groups, string_column, GRANTS, IDENTITIES};
use crate::time::format_micros;

const DAY_US: i64 = 86_400_000_000;

/// Which identities to list.
#[derive(Debug, Clone, Default)]
pub struct IdentityFilter {
    /// Substring of the id, the identity a credential belongs to, or the owner.
    pub identity: Option<String>,
    /// Only static credentials not rotated for this many days before `as_of_us`.
    pub stale_days: Option<u32>,
    /// Only another organisation's identities.
    pub third_party: bool,
    /// Only AI agents and the credentials of agent platforms.
    pub agents: bool,
    pub as_of_us: i64,
}

/// Which grants to list.
#[derive(Debug, Clone, Default)]
pub struct GrantFilter {
    /// Substring of the holder.
    pub identity: Option<String>,
    pub admin: bool,
    pub wildcard: bool,
}

use crate::model::tables::{bool_column as flags, micros_column as micros};

fn contains(hay: &Option<String>, needle: &str) -> bool {
    hay.as_deref().is_some_and(|h| h.contains(needle))
}

/// `NAME.parquet` of an ingest folder, or of a package's `evidence/`.
fn table_path(dir: &Path, name: &str) -> PathBuf {
    let file = format!("{name}.parquet");
    let direct = dir.join(&file);
    let evidence = dir.join("evidence").join(&file);
    if !direct.exists() && evidence.exists() {
        evidence
    } else {
        direct
    }
}

/// The rows of table `name` that `mask` keeps, read a row group at a time:
/// memory holds one row group and the answer.
fn select_rows(
    dir: &Path,
    name: &str,
    mask: impl Fn(&DataFrame) -> PolarsResult<BooleanChunked>,
) -> PolarsResult<DataFrame> {
    let path = table_path(dir, name);
    let mut answer: Option<DataFrame> = None;
    for group in row_groups(&path)? {
        let frame = group.read_rows(&path, None)?;
        let kept = frame.filter(&mask(&frame)?)?;
        match answer.as_mut() {
            Some(answer) => {
                answer.vstack_mut(&kept)?;
            }
            None => answer = Some(kept),
        }
    }
    match answer {
        Some(answer) => Ok(answer),
        // No row group: the table is empty; its columns still name it.
        None => read_table(path.parent().unwrap_or(dir), name),
    }
}

pub fn select_identities(dir: &Path, filter: &IdentityFilter) -> PolarsResult<DataFrame> {
    select_rows(dir, IDENTITIES, |frame| identity_mask(frame, filter))
}

fn identity_mask(frame: &DataFrame, filter: &IdentityFilter) -> PolarsResult<BooleanChunked> {
    let (id, owner_id, owner, kind) = (
        string_column(frame, "id")?,
        string_column(frame, "owner_id")?,
        string_column(frame, "owner")?,
        string_column(frame, "credential_type")?,
    );
    let (rotated, created) = (micros(frame, "last_rotated")?, micros(frame, "created")?);
    let active = flags(frame, "active")?;
    // Columns a folder written before they existed lacks: nothing matches.
    let optional =
        |name: &str| string_column(frame, name).unwrap_or_else(|_| vec![None; frame.height()]);
    let (ownership, platform, kinds) = (
        optional("ownership"),
        optional("agent_platform"),
        optional("kind"),
    );
    let mask: BooleanChunked = (0..frame.height())
        .map(|i| {
            let named = filter.identity.as_deref().is_none_or(|n| {
                contains(&id[i], n) || contains(&owner_id[i], n) || contains(&owner[i], n)
            });
            let stale = filter.stale_days.is_none_or(|days| {
                // A static credential, active, last rotated (else created)
                // before the cut-off.
                let cutoff = filter.as_of_us - i64::from(days) * DAY_US;
                active[i]
                    && kind[i].as_deref() == Some("static")
                    && rotated[i].or(created[i]).is_some_and(|t| t < cutoff)
            });
            let third = !filter.third_party || ownership[i].as_deref() == Some("third-party");
            let agent = !filter.agents
                || platform[i].is_some()
                || kinds[i].as_deref().is_some_and(|k| k.starts_with("agent"));
            named && stale && third && agent
        })
        .collect();
    Ok(mask)
}

pub fn select_grants(dir: &Path, filter: &GrantFilter) -> PolarsResult<DataFrame> {
    select_rows(dir, GRANTS, |frame| grant_mask(frame, filter))
}

fn grant_mask(frame: &DataFrame, filter: &GrantFilter) -> PolarsResult<BooleanChunked> {
    let principal = string_column(frame, "principal")?;
    let (admin, wild_action, wild_resource) = (
        flags(frame, "admin")?,
        flags(frame, "wildcard_action")?,
        flags(frame, "wildcard_resource")?,
    );
    let mask: BooleanChunked = (0..frame.height())
        .map(|i| {
            filter
                .identity
                .as_deref()
                .is_none_or(|n| contains(&principal[i], n))
                && (!filter.admin || admin[i])
                && (!filter.wildcard || wild_action[i] || wild_resource[i])
        })
        .collect();
    Ok(mask)
}

fn json_value(value: AnyValue<'_>) -> Value {
    match value {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(b),
        AnyValue::String(s) => Value::String(s.to_string()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::Int64(n) => Value::from(n),
        AnyValue::UInt64(n) => Value::from(n),
        AnyValue::Int32(n) => Value::from(n),
        AnyValue::UInt32(n) => Value::from(n),
        AnyValue::Datetime(v, _, _) | AnyValue::DatetimeOwned(v, _, _) => {
            Value::String(format_micros(v))
        }
        other => Value::String(other.to_string()),
    }
}

/// The rows of a frame as JSON objects.
pub fn rows(frame: &DataFrame) -> PolarsResult<Vec<Value>> {
    let mut out = Vec::with_capacity(frame.height());
    for i in 0..frame.height() {
        let mut row = Map::new();
        for column in frame.columns() {
            row.insert(column.name().to_string(), json_value(column.get(i)?));
        }
        out.push(Value::Object(row));
    }
    Ok(out)
}

/// A block per row, `column: value`, empty values left out.
pub fn table(frame: &DataFrame, out: &mut dyn Write) -> io::Result<()> {
    let rows = rows(frame).map_err(io::Error::other)?;
    for row in &rows {
        for (name, value) in row.as_object().into_iter().flatten() {
            let text = match value {
                Value::Null => continue,
                Value::String(s) if s.is_empty() => continue,
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            writeln!(out, "  {name:<18} {text}")?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{} row(s)", rows.len())
}

pub fn json(frame: &DataFrame, out: &mut dyn Write) -> io::Result<()> {
    let rows = rows(frame).map_err(io::Error::other)?;
    serde_json::to_writer_pretty(&mut *out, &rows)?;
    writeln!(out)
}

/// The rows as CSV, the columns of the package's table.
pub fn csv(frame: &DataFrame, out: &mut dyn Write) -> io::Result<()> {
    let mut frame = frame.clone();
    crate::model::tables::csv_writer(&mut *out)
        .finish(&mut frame)
        .map_err(io::Error::other)
}
