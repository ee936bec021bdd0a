//! The history of runs: each `generate` adds one Parquet file per window
//! (`run-<until>.parquet`) to a folder the config names, holding every
//! check's status and metrics and every KSI's status. A rerun of the same
//! window replaces its file. Read back, it gives the trends and the series
//! FedRAMP asks for: a 30-day summary and daily data up to a year.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use crate::checks::run::Report;
use crate::time::format_micros;

/// One recorded fact of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The end of the run's window (µs, UTC): the run's date.
    pub until_us: i64,
    /// `check` or `ksi`.
    pub kind: String,
    pub id: String,
    /// pass / fail / not-applicable / not-evaluated, or the KSI's
    /// implementation status.
    pub status: String,
    /// For checks: numeric metrics (`share`, `failing`, ...).
    pub metrics: BTreeMap<String, f64>,
}

/// The entries a run records.
pub fn entries(report: &Report, ksis: &[(String, String)], until_us: i64) -> Vec<Entry> {
    let mut out = Vec::new();
    for r in &report.results {
        let metrics = r
            .outcome
            .metrics
            .iter()
            .filter_map(|(k, v)| v.as_f64().map(|f| (k.clone(), f)))
            .collect();
        out.push(Entry {
            until_us,
            kind: "check".into(),
            id: r.id.clone(),
            status: r.outcome.status.as_str().into(),
            metrics,
        });
    }
    for (id, status) in ksis {
        out.push(Entry {
            until_us,
            kind: "ksi".into(),
            id: id.clone(),
            status: status.clone(),
            metrics: BTreeMap::new(),
        });
    }
    out
}

fn file_name(until_us: i64) -> String {
    format!("run-{}.parquet", format_micros(until_us).replace(':', "-"))
}

/// Writes a run's entries (one row per metric; a status-only row when a
/// check has none), replacing an earlier run of the same window.
pub fn append(dir: &Path, until_us: i64, entries: &[Entry]) -> PolarsResult<()> {
    std::fs::create_dir_all(dir)?;
    let (mut until, mut kind, mut id, mut status, mut metric, mut value) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for e in entries {
        let rows: Vec<(Option<&str>, Option<f64>)> = if e.metrics.is_empty() {
            vec![(None, None)]
        } else {
            e.metrics
                .iter()
                .map(|(k, v)| (Some(k.as_str()), Some(*v)))
                .collect()
        };
        for (m, v) in rows {
            until.push(e.until_us);
            kind.push(e.kind.as_str());
            id.push(e.id.as_str());
            status.push(e.status.as_str());
            metric.push(m);
            value.push(v);
        }
    }
    let mut frame = DataFrame::new(
        until.len(),
        vec![
            Column::new("until".into(), until),
            Column::new("kind".into(), kind),
            Column::new("id".into(), id),
            Column::new("status".into(), status),
            Column::new("metric".into(), metric),
            Column::new("value".into(), value),
        ],
    )?;
    let tmp = dir.join(format!(".{}.tmp", file_name(until_us)));
    crate::model::tables::write_parquet(std::fs::File::create(&tmp)?, &mut frame)?;
    std::fs::rename(&tmp, dir.join(file_name(until_us)))?;
    Ok(())
}

/// Every run in the folder, oldest first (an absent folder is no history).
pub fn read(dir: &Path) -> PolarsResult<Vec<Entry>> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut files: Vec<_> = listing
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("run-") && n.ends_with(".parquet"))
        })
        .collect();
    files.sort();
    let mut out: Vec<Entry> = Vec::new();
    for file in files {
        let frame = crate::model::parquet_guard::checked_read(std::fs::File::open(&file)?, None)?;
        let until = frame.column("until")?.i64()?.clone();
        let strs = |n: &str| frame.column(n).and_then(|c| c.str().cloned());
        let (kind, id, status, metric) =
            (strs("kind")?, strs("id")?, strs("status")?, strs("metric")?);
        let value = frame.column("value")?.f64()?.clone();
        for i in 0..frame.height() {
            let (k, name, st) = (
                kind.get(i).unwrap_or_default(),
                id.get(i).unwrap_or_default(),
                status.get(i).unwrap_or_default(),
            );
            let u = until.get(i).unwrap_or_default();
            let same = out
                .last()
                .is_some_and(|e| e.until_us == u && e.kind == k && e.id == name);
            if !same {
                out.push(Entry {
                    until_us: u,
                    kind: k.into(),
                    id: name.into(),
                    status: st.into(),
                    metrics: BTreeMap::new(),
                });
            }
            if let (Some(m), Some(v), Some(last)) = (metric.get(i), value.get(i), out.last_mut()) {
                last.metrics.insert(m.into(), v);
            }
        }
    }
    Ok(out)
}

/// What FedRAMP asks of one KSI or check: the daily series (latest status
/// per day) for up to a year, and a 30-day summary.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Series {
    pub kind: String,
    pub id: String,
    pub latest: String,
    /// date → status, the last run of each day, up to 365 days back.
    pub daily: BTreeMap<String, String>,
    pub last_30_days: BTreeMap<String, usize>,
    pub runs_in_30_days: usize,
}

pub fn series(entries: &[Entry], as_of_us: i64) -> Vec<Series> {
    const DAY: i64 = 86_400_000_000;
    let mut by_key: BTreeMap<(String, String), Vec<&Entry>> = BTreeMap::new();
    for e in entries
        .iter()
        .filter(|e| e.until_us <= as_of_us && e.until_us > as_of_us - 365 * DAY)
    {
        by_key
            .entry((e.kind.clone(), e.id.clone()))
            .or_default()
            .push(e);
    }
    by_key
        .into_iter()
        .map(|((kind, id), mut list)| {
            list.sort_by_key(|e| e.until_us);
            let daily: BTreeMap<String, String> = list
                .iter()
                .map(|e| {
                    (
                        format_micros(e.until_us)[..10].to_string(),
                        e.status.clone(),
                    )
                })
                .collect();
            let recent: Vec<&&Entry> = list
                .iter()
                .filter(|e| e.until_us > as_of_us - 30 * DAY)
                .collect();
            let mut last_30_days = BTreeMap::new();
            for e in &recent {
                *last_30_days.entry(e.status.clone()).or_insert(0) += 1;
            }
            Series {
                kind,
                id,
                latest: list.last().map(|e| e.status.clone()).unwrap_or_default(),
                daily,
                last_30_days,
                runs_in_30_days: recent.len(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000;
    const T0: i64 = 1_793_491_200_000_000; // 2026-11-01

    fn entry(until_us: i64, kind: &str, id: &str, status: &str) -> Entry {
        Entry {
            until_us,
            kind: kind.into(),
            id: id.into(),
            status: status.into(),
            metrics: BTreeMap::from([("share".to_string(), 0.5)]),
        }
    }

    #[test]
    fn runs_round_trip_replace_and_summarise() {
        let dir = tempfile::tempdir().unwrap();
        append(dir.path(), T0, &[entry(T0, "check", "a", "fail")]).unwrap();
        append(
            dir.path(),
            T0 + DAY,
            &[entry(T0 + DAY, "check", "a", "pass")],
        )
        .unwrap();
        // The same window again replaces, not duplicates.
        append(
            dir.path(),
            T0 + DAY,
            &[entry(T0 + DAY, "check", "a", "pass")],
        )
        .unwrap();
        append(
            dir.path(),
            T0 - 40 * DAY,
            &[entry(T0 - 40 * DAY, "check", "a", "fail")],
        )
        .unwrap();
        let all = read(dir.path()).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[1].metrics["share"], 0.5);
        let s = &series(&all, T0 + DAY)[0];
        assert_eq!(s.latest, "pass");
        assert_eq!(s.daily.len(), 3);
        assert_eq!(s.runs_in_30_days, 2);
        assert_eq!(s.last_30_days["fail"], 1);
        assert!(read(&dir.path().join("absent")).unwrap().is_empty());
    }
}
