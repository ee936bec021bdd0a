//! Writes an ingest result as a folder: `access_events` and `rejected` as
//! Parquet and CSV, and `summary.json`. The folder appears whole or not at
//! all: files are written to a temporary folder beside it, then renamed.

use std::path::{Path, PathBuf};

use serde::Serialize;

use polars::prelude::ParquetWriter;

use super::{ingest_streaming, IngestOptions, Summary};
use crate::model::tables::{
    access_events_frame, csv_writer, grants_frame, identities_frame, read_access_events_where,
    rejected_frame, secret_findings_frame, write_table, EventKey, ACCESS_EVENTS, GRANTS,
    IDENTITIES, REJECTED, SECRET_FINDINGS,
};
use crate::model::AccessEvent;

pub const SUMMARY: &str = "summary.json";

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(
        "{0} exists and is not a proofpack ingest folder (no summary.json); choose another --out"
    )]
    NotOurs(PathBuf),
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error("cannot read {path}: {message}; is it a folder written by `proofpack ingest`?")]
    Read { path: PathBuf, message: String },
}

#[derive(Serialize)]
struct SummaryFile<'a> {
    tool: &'static str,
    version: &'static str,
    inputs: &'a [String],
    since: Option<String>,
    until: Option<String>,
    #[serde(flatten)]
    summary: &'a Summary,
    reconciled: bool,
}

/// Ingests `inputs` straight into `dir`: events are written to Parquet and
/// CSV file by file as they are normalised, so memory does not grow with
/// the input. Replaces an earlier ingest folder at `dir`.
pub fn ingest_to_folder(
    dir: &Path,
    inputs: &[String],
    options: &IngestOptions,
) -> Result<Summary, OutputError> {
    let fail = |path: &Path, e: &dyn std::fmt::Display| OutputError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    if dir.exists()
        && !dir.join(SUMMARY).exists()
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(OutputError::NotOurs(dir.to_path_buf()));
    }
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| fail(parent, &e))?;
    let staging = tempfile::Builder::new()
        .prefix(".proofpack-ingest-")
        .tempdir_in(parent)
        .map_err(|e| fail(parent, &e))?;

    let schema = access_events_frame(&[])
        .map_err(|e| fail(dir, &e))?
        .schema()
        .as_ref()
        .clone();
    let create = |name: String| {
        std::fs::File::create(staging.path().join(&name))
            .map_err(|e| fail(&staging.path().join(&name), &e))
    };
    let mut parquet = ParquetWriter::new(create(format!("{ACCESS_EVENTS}.parquet"))?)
        .batched(&schema)
        .map_err(|e| fail(dir, &e))?;
    let mut csv = csv_writer(std::io::BufWriter::new(create(format!(
        "{ACCESS_EVENTS}.csv"
    ))?))
    .batched(&schema)
    .map_err(|e| fail(dir, &e))?;
    let streamed = ingest_streaming(inputs, options, |chunk| {
        parquet.write_batch(&chunk)?;
        csv.write_batch(&chunk)
    })
    .map_err(|e| fail(dir, &e))?;
    parquet.finish().map_err(|e| fail(dir, &e))?;
    csv.finish().map_err(|e| fail(dir, &e))?;

    let (identities, rejected, summary) =
        (streamed.identities, streamed.rejected, streamed.summary);
    let mut findings_table =
        secret_findings_frame(&streamed.findings).map_err(|e| fail(dir, &e))?;
    write_table(staging.path(), SECRET_FINDINGS, &mut findings_table).map_err(|e| fail(dir, &e))?;
    let mut grants_table = grants_frame(&streamed.grants).map_err(|e| fail(dir, &e))?;
    write_table(staging.path(), GRANTS, &mut grants_table).map_err(|e| fail(dir, &e))?;
    let mut identities_table = identities_frame(&identities).map_err(|e| fail(dir, &e))?;
    write_table(staging.path(), IDENTITIES, &mut identities_table).map_err(|e| fail(dir, &e))?;
    let mut rejected_table = rejected_frame(&rejected).map_err(|e| fail(dir, &e))?;
    write_table(staging.path(), REJECTED, &mut rejected_table).map_err(|e| fail(dir, &e))?;
    let record = SummaryFile {
        tool: "proofpack",
        version: env!("CARGO_PKG_VERSION"),
        inputs,
        since: options.since.map(super::time::format_micros),
        until: options.until.map(super::time::format_micros),
        summary: &summary,
        reconciled: summary.reconciles(),
    };
    let json = serde_json::to_vec_pretty(&record).map_err(|e| fail(dir, &e))?;
    std::fs::write(staging.path().join(SUMMARY), json).map_err(|e| fail(dir, &e))?;

    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| fail(dir, &e))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, dir).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staged);
        fail(dir, &e)
    })?;
    Ok(summary)
}

/// Reads the access events of an ingest folder that `keep` selects.
pub fn read_events_where(
    dir: &Path,
    keep: &dyn Fn(&EventKey<'_>) -> bool,
) -> Result<Vec<AccessEvent>, OutputError> {
    read_access_events_where(dir, keep).map_err(|e| OutputError::Read {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })
}
