//! Writes an ingest result as a folder: `access_events` and `rejected` as
//! Parquet and CSV, and `summary.json`. The folder appears whole or not at
//! all: files are written to a temporary folder beside it, then renamed.

use std::path::{Path, PathBuf};

use serde::Serialize;

use polars::prelude::{DataFrame, PolarsError, PolarsResult};

use super::{ingest_streaming, IngestOptions, Summary};
use crate::model::tables::{
    access_events_frame, csv_writer, grants_frame, identities_frame, parquet_writer,
    rejected_frame, secret_findings_frame, write_table, ACCESS_EVENTS, GRANTS, IDENTITIES,
    REJECTED, SECRET_FINDINGS,
};

pub const SUMMARY: &str = "summary.json";

/// Bytes buffered before each write to an evidence file.
const WRITE_BUFFER: usize = 1 << 20;
/// Batches of events queued for each writer before parsing waits.
const QUEUED: usize = 2;
/// Events per batch written (a Parquet row group each).
const BATCH_ROWS: usize = 65_536;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(
        "{0} exists and is not a proofpack ingest folder (no summary.json); choose another --out"
    )]
    NotOurs(PathBuf),
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error(transparent)]
    Secret(#[from] crate::secrets::gate::GateError),
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
    // Buffered: the Parquet writer emits page and footer headers a few
    // bytes at a time, a write syscall each on a bare file.
    let mut parquet_file = std::io::BufWriter::with_capacity(
        WRITE_BUFFER,
        create(format!("{ACCESS_EVENTS}.parquet"))?,
    );

    // Large buffers: a CSV row is a few hundred bytes, and an 8 KiB buffer
    // meant a write syscall every few dozen rows.
    let mut csv_file =
        std::io::BufWriter::with_capacity(WRITE_BUFFER, create(format!("{ACCESS_EVENTS}.csv"))?);
    // The Parquet and CSV writers each run on a thread of their own, fed
    // through short queues, so encoding and writing one wave of files
    // overlaps with parsing the next instead of stopping it.
    let (parquet_queue, parquet_chunks) = std::sync::mpsc::sync_channel::<DataFrame>(QUEUED);
    let (csv_queue, csv_chunks) = std::sync::mpsc::sync_channel::<DataFrame>(QUEUED);
    let (streamed, parquet_done, csv_done) = std::thread::scope(|scope| {
        let parquet_schema = schema.clone();
        let parquet_thread = scope.spawn(move || -> PolarsResult<()> {
            let mut parquet = parquet_writer(&mut parquet_file).batched(&parquet_schema)?;
            for chunk in parquet_chunks {
                parquet.write_batch(&chunk)?;
            }
            parquet.finish()?;
            drop(parquet);
            std::io::Write::flush(&mut parquet_file).map_err(PolarsError::from)
        });
        let csv_schema = schema.clone();
        let csv_max_rows = options.csv_max_rows;
        let csv_thread = scope.spawn(move || -> PolarsResult<bool> {
            let mut csv = csv_writer(&mut csv_file).batched(&csv_schema)?;
            let mut rows = 0u64;
            let mut chunks = csv_chunks.into_iter();
            for chunk in chunks.by_ref() {
                rows += chunk.height() as u64;
                if rows > csv_max_rows {
                    // Too large for a CSV copy: the rest is only drained,
                    // and the partial file is removed below.
                    drop(csv);
                    for _ in chunks {}
                    return Ok(false);
                }
                csv.write_batch(&chunk)?;
            }
            csv.finish()?;
            drop(csv);
            // Flushed here, so a full disk on the last bytes is an error,
            // not a short file.
            std::io::Write::flush(&mut csv_file).map_err(PolarsError::from)?;
            Ok(true)
        });
        // Files arrive one at a time, often a few hundred events each;
        // they are gathered into batches of BATCH_ROWS so that each Parquet
        // row group and each write is large.
        let mut pending: Option<DataFrame> = None;
        let send = |mut batch: DataFrame| -> PolarsResult<()> {
            // One contiguous chunk: one row group, one pass for the CSV.
            batch.rechunk_mut();
            // A queue closes only when its writer failed; its error is
            // reported below, from the join.
            let sent = parquet_queue.send(batch.clone()).is_ok() && csv_queue.send(batch).is_ok();
            if sent {
                Ok(())
            } else {
                Err(PolarsError::ComputeError(
                    "an evidence writer stopped".into(),
                ))
            }
        };
        let streamed = ingest_streaming(inputs, options, |chunk| {
            let batch = match pending.take() {
                Some(mut batch) => {
                    batch.vstack_mut(&chunk)?;
                    batch
                }
                None => chunk,
            };
            if batch.height() >= BATCH_ROWS {
                send(batch)
            } else {
                pending = Some(batch);
                Ok(())
            }
        })
        .and_then(|streamed| {
            if let Some(batch) = pending.take() {
                send(batch)?;
            }
            Ok(streamed)
        });
        drop(parquet_queue);
        drop(csv_queue);
        fn joined<T>(
            handle: std::thread::ScopedJoinHandle<'_, PolarsResult<T>>,
        ) -> PolarsResult<T> {
            handle.join().unwrap_or_else(|_| {
                Err(PolarsError::ComputeError(
                    "an evidence writer failed unexpectedly (a proofpack bug)".into(),
                ))
            })
        }
        (streamed, joined(parquet_thread), joined(csv_thread))
    });
    // A writer's own error explains a stopped queue better than the
    // ingest's "writer stopped".
    parquet_done.map_err(|e| fail(dir, &e))?;
    let events_csv = csv_done.map_err(|e| fail(dir, &e))?;
    let streamed = streamed.map_err(|e| fail(dir, &e))?;

    let (identities, rejected, mut summary) =
        (streamed.identities, streamed.rejected, streamed.summary);
    if !events_csv {
        let partial = staging.path().join(format!("{ACCESS_EVENTS}.csv"));
        std::fs::remove_file(&partial).map_err(|e| fail(&partial, &e))?;
        summary
            .csv_omitted
            .insert(ACCESS_EVENTS.to_string(), summary.normalised as u64);
    }
    summary.seen_secrets = streamed.seen;
    // The small tables, each with its CSV copy unless it is above the
    // limit (then the evidence summary says so with its row count). Each
    // frame is built when it is written, so one is held at a time.
    type Build<'a> = Box<dyn Fn() -> PolarsResult<DataFrame> + 'a>;
    let tables: [(&str, Build); 4] = [
        (
            SECRET_FINDINGS,
            Box::new(|| secret_findings_frame(&streamed.findings)),
        ),
        (GRANTS, Box::new(|| grants_frame(&streamed.grants))),
        (IDENTITIES, Box::new(|| identities_frame(&identities))),
        (REJECTED, Box::new(|| rejected_frame(&rejected))),
    ];
    for (name, build) in tables {
        let mut frame = build().map_err(|e| fail(dir, &e))?;
        let with_csv = write_table(staging.path(), name, &mut frame, options.csv_max_rows)
            .map_err(|e| fail(dir, &e))?;
        if !with_csv {
            summary
                .csv_omitted
                .insert(name.to_string(), frame.height() as u64);
        }
    }
    let record = SummaryFile {
        tool: "proofpack",
        version: env!("CARGO_PKG_VERSION"),
        inputs,
        since: options.since.map(crate::time::format_micros),
        until: options.until.map(crate::time::format_micros),
        summary: &summary,
        reconciled: summary.reconciles(),
    };
    let json = serde_json::to_vec_pretty(&record).map_err(|e| fail(dir, &e))?;
    std::fs::write(staging.path().join(SUMMARY), json).map_err(|e| fail(dir, &e))?;
    if let Some(allowed) = &options.secret_gate {
        // Nothing lands that holds a secret: the staging folder is removed
        // with the error.
        let rules = crate::secrets::active();
        crate::secrets::gate::Gate {
            rules,
            seen: &summary.seen_secrets,
            allowed,
            identifiers: crate::secrets::gate::Identifiers::from_evidence(staging.path()),
        }
        .scan_dir(staging.path())?;
    }

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

/// Ingests `inputs` for their side effects alone (a shard filling a state
/// folder): the events go to the state, the counts are returned.
pub fn ingest_to_nothing(
    inputs: &[String],
    options: &IngestOptions,
) -> Result<Summary, OutputError> {
    let streamed =
        ingest_streaming(inputs, options, |_| Ok(())).map_err(|e| OutputError::Write {
            path: options
                .state
                .as_ref()
                .map(|s| PathBuf::from(s.location()))
                .unwrap_or_default(),
            message: e.to_string(),
        })?;
    Ok(streamed.summary)
}
