//! Incremental and sharded ingest: a state folder that remembers every log
//! object it has read, and keeps that object's access events as a
//! hive-partitioned Parquet dataset that DuckDB, Spark, Athena/Trino and
//! polars read as one table.
//!
//! ```text
//! STATE/objects/<key>.json           one per log object: its name, the fingerprint
//!                                    that says it is unchanged, its counts and rejects
//! STATE/access_events/source=<s>/date=<YYYY-MM-DD>/part-<key>.parquet
//!                                    its events of that source and UTC day
//! STATE/runs.jsonl                   one line per run: what was read, what reused
//!                                    (in an object store: STATE/runs/<time>.json)
//! ```
//!
//! STATE is a folder, or an `s3://`, `gs://` or `az://` prefix that
//! shards on any scheduler share.
//!
//! A run lists its inputs as usual. An object whose fingerprint (ETag or
//! version and size in a store, size and modification time on disk, and
//! the proofpack version and `--source` that read it) matches its entry is
//! not read again: its events come from the partitions of the
//! window's days. A new or changed object is read *without* the window, so
//! its partitions hold every event it has and a later run with another
//! window finds them; the window is then applied exactly as a plain run
//! applies it. The evidence a run writes is therefore the same, row for row
//! and byte for byte, as a run without state over the same inputs.
//!
//! Only objects that yield access events, rejects or skips are kept.
//! Inventories, policies and scanner reports are snapshots, small and
//! read whole on every run (and their Kubernetes RBAC objects meet across
//! files), as are URLs (no fingerprint before reading) and Parquet inputs
//! (Security Lake's OCSF is partitioned by day already, and read with the
//! window pushed down).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::reader::{self, ReadError, Target};
use super::state_place::Place;
use super::{ingest_read, ingest_target, IngestOptions, Partial, SourceKind, Summary};
use crate::model::tables::{access_events_frame, micros_column};
use crate::model::{RawRef, Rejected};

pub const OBJECTS: &str = "objects";
pub const EVENTS: &str = "access_events";
pub const RUNS: &str = "runs.jsonl";
/// In an object store, one object per run under this folder.
pub const RUNS_FOLDER: &str = "runs";
/// The row's place among its object's events, to rebuild input order.
const SEQ: &str = "seq";
const DAY_US: i64 = 86_400_000_000;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state folder {path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("--shard {0}: give I/N with 0 <= I < N, for example 0/4 .. 3/4")]
    Shard(String),
}

/// A deterministic share of the inputs: by a hash of each object's name,
/// so N workers given the same inputs read disjoint sets that cover them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = StateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || StateError::Shard(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether the input named `name` is this shard's.
    pub fn holds(&self, name: &str) -> bool {
        let hash = crate::hash::sha256_hex(name.as_bytes());
        let n = u64::from_str_radix(&hash[..16], 16).unwrap_or(0);
        n % u64::from(self.count) == u64::from(self.index)
    }
}

/// The name a target is known by: in raw references, rejects and the state.
pub fn target_name(target: &Result<Target, ReadError>) -> String {
    match target {
        Ok(Target::File(path)) => path.display().to_string(),
        Ok(Target::Url(url)) => url.clone(),
        Ok(Target::Object(object)) => object.url.clone(),
        Err(
            ReadError::Io { path, .. }
            | ReadError::Http { path, .. }
            | ReadError::Store { path, .. }
            | ReadError::TooLarge { path, .. },
        ) => path.clone(),
    }
}

/// What says an input is unchanged without reading it: an object's ETag or
/// version and size, a file's size and modification time. URLs have none.
fn fingerprint(target: &Target) -> Option<String> {
    match target {
        Target::File(path) => {
            let meta = std::fs::metadata(path).ok()?;
            let modified = meta
                .modified()
                .ok()?
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?;
            Some(format!("file {} {}", meta.len(), modified.as_nanos()))
        }
        Target::Object(o) if o.e_tag.is_some() || o.version.is_some() => Some(format!(
            "object {} {} {}",
            o.e_tag.as_deref().unwrap_or("-"),
            o.version.as_deref().unwrap_or("-"),
            o.size
        )),
        Target::Object(_) | Target::Url(_) => None,
    }
}

/// One kept object.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    input: String,
    fingerprint: String,
    /// Every event the object holds, whatever the window.
    events: usize,
    parts: Vec<PartFile>,
    /// Its counts read without a window (`normalised` = `events`).
    summary: Summary,
    rejected: Vec<StoredReject>,
}

/// One partition file of an object: its events of one source and day.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PartFile {
    source: String,
    date: String,
    rows: usize,
}

impl PartFile {
    fn path(&self, key: &str) -> String {
        format!(
            "{EVENTS}/source={}/date={}/part-{key}.parquet",
            self.source, self.date
        )
    }

    /// The day's bounds, µs.
    fn day(&self) -> Option<(i64, i64)> {
        let day = chrono::NaiveDate::parse_from_str(&self.date, "%Y-%m-%d").ok()?;
        let start = day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros();
        Some((start, start + DAY_US))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredReject {
    raw_ref: RawRef,
    source: Option<String>,
    reason: String,
}

/// What one run did with its inputs, for `runs.jsonl`.
#[derive(Debug, Default, Serialize)]
struct RunLog {
    /// Read and kept.
    read: Vec<String>,
    /// Found unchanged: not read.
    reused: Vec<String>,
    /// Read but not kept (inventories, policies, URLs, unreadable inputs).
    not_kept: Vec<String>,
    /// Entries that could not be used (read again instead).
    warnings: Vec<String>,
}

/// What a run did, in counts.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RunCounts {
    pub read: usize,
    pub reused: usize,
    pub not_kept: usize,
    /// Entries that could not be used: their objects were read again.
    pub warnings: Vec<String>,
}

/// An open state folder.
pub struct State {
    place: Place,
    entries: BTreeMap<String, Entry>,
    log: Mutex<RunLog>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("place", &self.place.to_string())
            .field("entries", &self.entries.len())
            .finish()
    }
}

fn io(path: &Path, e: impl std::fmt::Display) -> StateError {
    StateError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The file-name key of an input.
fn key_of(input: &str) -> String {
    crate::hash::sha256_hex(input.as_bytes())[..32].to_string()
}

impl State {
    /// Opens (or creates) a state folder and reads its entries. An entry
    /// that cannot be read is noted and its object read again.
    pub fn open(dir: &Path) -> Result<State, StateError> {
        let place = Place::new(dir).map_err(|message| io(dir, message))?;
        let fail = |message: String| io(dir, message);
        let mut entries = BTreeMap::new();
        let mut log = RunLog::default();
        for name in place.list(OBJECTS).map_err(fail)? {
            if !name.ends_with(".json") {
                continue;
            }
            let relative = format!("{OBJECTS}/{name}");
            let parsed = place.read(&relative).and_then(|b| {
                serde_json::from_slice::<Entry>(&b).map_err(|e| format!("{place}/{relative}: {e}"))
            });
            match parsed {
                Ok(entry) => {
                    entries.insert(entry.input.clone(), entry);
                }
                Err(e) => log.warnings.push(format!("{e}; its object is read again")),
            }
        }
        Ok(State {
            place,
            entries,
            log: Mutex::new(log),
        })
    }

    /// An error about this state folder or prefix.
    fn failed(&self, e: impl std::fmt::Display) -> StateError {
        io(Path::new(&self.place.to_string()), e)
    }

    /// The folder or prefix, for messages.
    pub fn location(&self) -> String {
        self.place.to_string()
    }

    fn note(&self, list: fn(&mut RunLog) -> &mut Vec<String>, name: String) {
        if let Ok(mut log) = self.log.lock() {
            list(&mut log).push(name);
        }
    }

    /// One input: its kept events if it is unchanged, else read (without
    /// the window) and kept; then windowed as a plain run would window it.
    pub(super) fn ingest(
        &self,
        target: Result<Target, ReadError>,
        options: &IngestOptions,
        bearer: Option<&str>,
    ) -> PolarsResult<Partial> {
        let name = target_name(&target);
        // The reading counts as much as the object: another proofpack
        // release, or another forced --source, reads it again.
        let fingerprint = target.as_ref().ok().and_then(fingerprint).map(|f| {
            format!(
                "proofpack {} source {}; {f}",
                env!("CARGO_PKG_VERSION"),
                options.source.map_or("detected", SourceKind::name)
            )
        });
        let Some(fingerprint) = fingerprint else {
            self.note(|l| &mut l.not_kept, name);
            return ingest_target(target, options, bearer);
        };
        if let Some(entry) = self.entries.get(&name) {
            if entry.fingerprint == fingerprint {
                match self.load(entry, options) {
                    Ok(partial) => {
                        self.note(|l| &mut l.reused, name);
                        return Ok(partial);
                    }
                    Err(e) => self.note(
                        |l| &mut l.warnings,
                        format!("{name}: its kept events cannot be read ({e}); read again"),
                    ),
                }
            }
        }
        let unwindowed = IngestOptions {
            since: None,
            until: None,
            ..options.clone()
        };
        let file = target.and_then(|t| reader::read_target(&t, options.max_bytes, bearer));
        // Parquet (Security Lake) is a partitioned dataset already, read
        // with the window pushed down: rows outside it are never turned
        // into records, so an unwindowed copy would not match a plain run.
        let readable = file
            .as_ref()
            .is_ok_and(|f| !super::parquet_rows::detect(&f.bytes));
        let partial = ingest_read(file, &unwindowed)?;
        let kept = readable
            && partial.identities.is_empty()
            && partial.observed.is_empty()
            && partial.grants.is_empty()
            && partial.rbac.is_empty()
            && partial.findings.is_empty()
            && partial
                .rejected
                .iter()
                .all(|r| r.source.is_none_or(|s| SourceKind::from_name(s).is_some()));
        if kept {
            self.keep(&name, fingerprint, &partial)
                .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
            self.note(|l| &mut l.read, name);
        } else {
            self.note(|l| &mut l.not_kept, name);
        }
        window(partial, options.since, options.until)
    }

    /// Writes an object's partitions, then its entry (the entry is the
    /// commit: partitions without one are rewritten by the next read).
    fn keep(&self, input: &str, fingerprint: String, partial: &Partial) -> Result<(), StateError> {
        let key = key_of(input);
        let events = &partial.events;
        let fail = |e: &dyn std::fmt::Display| self.failed(e);
        let times = micros_column(events, "time").map_err(|e| fail(&e))?;
        let sources = events
            .column("source")
            .and_then(|c| c.str().cloned())
            .map_err(|e| fail(&e))?;
        let mut groups: BTreeMap<(String, String), Vec<IdxSize>> = BTreeMap::new();
        for (i, (time, source)) in times.iter().zip(sources.iter()).enumerate() {
            let date = time
                .and_then(chrono::DateTime::from_timestamp_micros)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| "unknown".into());
            groups
                .entry((source.unwrap_or("unknown").to_string(), date))
                .or_default()
                .push(i as IdxSize);
        }
        let mut parts = Vec::new();
        for ((source, date), rows) in groups {
            let part = PartFile {
                source,
                date,
                rows: rows.len(),
            };
            let seq: Vec<i64> = rows.iter().map(|&i| i64::from(i)).collect();
            let mut frame = events
                .take(&IdxCa::from_vec("".into(), rows))
                .and_then(|f| f.drop("source"))
                .map_err(|e| fail(&e))?;
            frame
                .with_column(Column::new(SEQ.into(), seq))
                .map_err(|e| fail(&e))?;
            let mut bytes = Vec::new();
            write_partition(&mut bytes, &mut frame).map_err(|e| fail(&e))?;
            self.place
                .write(&part.path(&key), &bytes)
                .map_err(|e| fail(&e))?;
            parts.push(part);
        }
        // Partitions the object had before and has no longer.
        if let Some(old) = self.entries.get(input) {
            for stale in old.parts.iter().filter(|p| {
                !parts
                    .iter()
                    .any(|n| n.source == p.source && n.date == p.date)
            }) {
                self.place.remove(&stale.path(&key));
            }
        }
        let entry = Entry {
            input: input.to_string(),
            fingerprint,
            events: events.height(),
            parts,
            summary: partial.summary.clone(),
            rejected: partial
                .rejected
                .iter()
                .map(|r| StoredReject {
                    raw_ref: r.raw_ref.clone(),
                    source: r.source.map(str::to_string),
                    reason: r.reason.clone(),
                })
                .collect(),
        };
        let json = serde_json::to_vec_pretty(&entry).map_err(|e| fail(&e))?;
        self.place
            .write(&format!("{OBJECTS}/{key}.json"), &json)
            .map_err(|e| fail(&e))
    }

    /// A kept object's events of the window's days, as the plain run
    /// would have them: in the object's order, windowed, counted.
    fn load(&self, entry: &Entry, options: &IngestOptions) -> PolarsResult<Partial> {
        let key = key_of(&entry.input);
        let schema = access_events_frame(&[])?;
        let mut names: Vec<PlSmallStr> = schema.get_column_names_owned();
        names.push(SEQ.into());
        let mut events: Option<DataFrame> = None;
        for part in &entry.parts {
            // A day wholly outside the window is not opened.
            if let Some((start, end)) = part.day() {
                let outside = options.until.is_some_and(|u| start >= u)
                    || options.since.is_some_and(|s| end <= s);
                if outside {
                    continue;
                }
            }
            let relative = part.path(&key);
            let bytes = self
                .place
                .read(&relative)
                .map_err(|e| PolarsError::ComputeError(e.into()))?;
            let mut frame =
                crate::model::parquet_guard::checked_read(std::io::Cursor::new(bytes), None)?;
            if frame.height() != part.rows {
                return Err(PolarsError::ComputeError(
                    format!(
                        "{}/{relative}: {} rows, the entry says {}",
                        self.place,
                        frame.height(),
                        part.rows
                    )
                    .into(),
                ));
            }
            let source = vec![part.source.as_str(); frame.height()];
            frame.with_column(Column::new("source".into(), source))?;
            let frame = frame.select(names.iter().cloned())?;
            match &mut events {
                Some(all) => {
                    all.vstack_mut(&frame)?;
                }
                None => events = Some(frame),
            }
        }
        let events = match events {
            Some(mut all) => {
                let seq: Vec<i64> = all.column(SEQ)?.i64()?.into_no_null_iter().collect();
                let mut order: Vec<IdxSize> = (0..seq.len() as IdxSize).collect();
                order.sort_by_key(|&i| seq[i as usize]);
                all = all.take(&IdxCa::from_vec("".into(), order))?;
                all.drop(SEQ)?
            }
            None => schema,
        };
        let rejected = entry
            .rejected
            .iter()
            .map(|r| Rejected {
                raw_ref: r.raw_ref.clone(),
                source: r
                    .source
                    .as_deref()
                    .and_then(SourceKind::from_name)
                    .map(SourceKind::name),
                reason: r.reason.clone(),
            })
            .collect();
        // The days skipped above are outside the window whole: count them
        // as the plain run would have, from the entry.
        let mut summary = entry.summary.clone();
        let opened = events.height();
        summary.normalised = opened;
        summary.outside_window += entry.events - opened;
        let partial = Partial {
            events,
            identities: Vec::new(),
            observed: Default::default(),
            grants: Vec::new(),
            rbac: Vec::new(),
            findings: Vec::new(),
            rejected,
            summary,
            // Kept objects were read, masked and gated when first read.
            seen: Default::default(),
        };
        // Counts by source, credential type, ... are of the window's events.
        let mut windowed = window(partial, options.since, options.until)?;
        let counts = event_counts(&windowed.events)?;
        let [by_source, by_credential_type, by_decision, by_principal_type] = counts;
        windowed.summary.by_source = by_source;
        windowed.summary.by_credential_type = by_credential_type;
        windowed.summary.by_decision = by_decision;
        windowed.summary.by_principal_type = by_principal_type;
        Ok(windowed)
    }

    /// Appends what this run did to `runs.jsonl` and returns its counts.
    pub fn finish(
        &self,
        since: Option<i64>,
        until: Option<i64>,
        shard: Option<Shard>,
    ) -> Result<RunCounts, StateError> {
        let log = self.log.lock().map(|mut l| std::mem::take(&mut *l));
        let mut log = log.unwrap_or_default();
        for list in [&mut log.read, &mut log.reused, &mut log.not_kept] {
            list.sort();
        }
        let counts = RunCounts {
            read: log.read.len(),
            reused: log.reused.len(),
            not_kept: log.not_kept.len(),
            warnings: log.warnings.clone(),
        };
        let line = serde_json::json!({
            "at": crate::time::format_micros(chrono::Utc::now().timestamp_micros()),
            "since": since.map(crate::time::format_micros),
            "until": until.map(crate::time::format_micros),
            "shard": shard.map(|s| s.to_string()),
            "counts": {"read": counts.read, "reused": counts.reused, "not_kept": counts.not_kept},
            "read": log.read,
            "reused": log.reused,
            "not_kept": log.not_kept,
            "warnings": log.warnings,
        });
        match &self.place {
            // On disk, one file that grows by a line a run.
            Place::Local(dir) => {
                let path = dir.join(RUNS);
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| io(&path, e))?;
                std::io::Write::write_all(&mut file, format!("{line}\n").as_bytes())
                    .map_err(|e| io(&path, e))?;
            }
            // A store cannot append, and shards write at once: one object a
            // run, named so they sort by time.
            Place::Store { .. } => {
                let at = line["at"].as_str().unwrap_or_default().replace(':', "-");
                let shard = shard.map(|s| format!("-shard-{}-of-{}", s.index, s.count));
                let name = format!("{RUNS_FOLDER}/{at}{}.json", shard.unwrap_or_default());
                self.place
                    .write(&name, line.to_string().as_bytes())
                    .map_err(|message| self.failed(message))?;
            }
        }
        Ok(counts)
    }
}

/// A partition file: Snappy, the codec every engine reads (Athena, Spark,
/// Trino, DuckDB) and the cheapest to open: a merge opens thousands of
/// small files, and zstd's per-column decoder contexts cost it a tenth of
/// its time.
fn write_partition(out: &mut Vec<u8>, frame: &mut DataFrame) -> PolarsResult<()> {
    ParquetWriter::new(out)
        .with_compression(ParquetCompression::Snappy)
        .finish(frame)?;
    Ok(())
}

/// Counts of events by source, credential type, decision and principal type.
fn event_counts(events: &DataFrame) -> PolarsResult<[BTreeMap<String, usize>; 4]> {
    let mut out: [BTreeMap<String, usize>; 4] = Default::default();
    for (count, name) in
        out.iter_mut()
            .zip(["source", "credential_type", "decision", "principal_type"])
    {
        for value in events.column(name)?.str()?.iter() {
            *count.entry(value.unwrap_or("").to_string()).or_default() += 1;
        }
    }
    Ok(out)
}

/// Keeps the events inside `since..until` (as a plain run's reader does:
/// at or after `since`, before `until`); the others are counted outside
/// the window and leave the by-source, -type and -decision counts.
fn window(mut partial: Partial, since: Option<i64>, until: Option<i64>) -> PolarsResult<Partial> {
    if since.is_none() && until.is_none() {
        return Ok(partial);
    }
    let times = micros_column(&partial.events, "time")?;
    let keep: BooleanChunked = times
        .iter()
        .map(|t| t.is_some_and(|t| since.is_none_or(|s| t >= s) && until.is_none_or(|u| t < u)))
        .collect();
    let dropped = partial.events.filter(&!&keep)?;
    if dropped.height() == 0 {
        return Ok(partial);
    }
    let counts = event_counts(&dropped)?;
    let s = &mut partial.summary;
    for (map, gone) in [
        &mut s.by_source,
        &mut s.by_credential_type,
        &mut s.by_decision,
        &mut s.by_principal_type,
    ]
    .into_iter()
    .zip(counts)
    {
        for (key, n) in gone {
            if let Some(count) = map.get_mut(&key) {
                *count -= n.min(*count);
                if *count == 0 {
                    map.remove(&key);
                }
            }
        }
    }
    s.normalised -= dropped.height();
    s.outside_window += dropped.height();
    partial.events = partial.events.filter(&keep)?;
    Ok(partial)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_names_disjointly_and_cover_them() {
        let shards: Vec<Shard> = (0..4).map(|i| format!("{i}/4").parse().unwrap()).collect();
        let mut per_shard = [0; 4];
        for n in 0..1000 {
            let name = format!("s3://trail/AWSLogs/1/CloudTrail/us-east-1/2026/11/01/{n}.json.gz");
            let holders: Vec<usize> = (0..4).filter(|&i| shards[i].holds(&name)).collect();
            assert_eq!(holders.len(), 1, "{name} is held by {holders:?}");
            per_shard[holders[0]] += 1;
        }
        assert!(per_shard.iter().all(|&n| n > 200), "{per_shard:?}");
    }

    #[test]
    fn a_shard_must_name_one_of_its_count() {
        for bad in ["4/4", "1", "a/2", "0/0", "-1/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(
            "2/3".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 3 }
        );
    }
}
