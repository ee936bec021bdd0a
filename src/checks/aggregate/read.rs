//! The embedded engine: the access-event table read one Parquet row group
//! at a time (on every core), each folded into its own [`EventStats`] and
//! merged, so memory holds a row group per core and the statistics, never
//! the table.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use super::rows::Rows;

use super::stats::{principal_names, EventStats, Needs};
use crate::checks::evidence::{Events, EVENT_COLUMNS};

/// Folds every row group of `path` with `fold` and merges the partial
/// results in table order.
fn fold_groups<T: Send + Default>(
    path: &Path,
    columns: &[&str],
    fold: impl Fn(&DataFrame, u64) -> PolarsResult<T> + Sync,
    merge: impl Fn(T, T) -> T + Sync + Send,
) -> PolarsResult<T> {
    crate::model::tables::row_groups(path)?
        .into_par_iter()
        .map(|group| {
            let frame = group.read(path, columns)?;
            fold(&frame, group.offset as u64)
        })
        .try_reduce(T::default, |a, b| Ok(merge(a, b)))
}

/// The statistics of the access-event table at `path`.
pub fn event_stats(path: &Path, needs: &Needs) -> PolarsResult<EventStats> {
    let mut stats = fold_groups(
        path,
        &EVENT_COLUMNS,
        |frame, offset| {
            let mut stats = EventStats::default();
            stats.add(&Events::from_frame(frame)?, offset, needs);
            Ok(stats)
        },
        |mut a, b| {
            a.merge(b);
            a
        },
    )?;
    stats.revoked_uses = revoked_uses(path, &stats.revocations)?;
    Ok(stats)
}

/// The second pass, run only when the logs revoke something: the events a
/// principal made after its identity was deleted or disabled (the time of
/// each revocation is known only once every partition is merged).
fn revoked_uses(
    path: &Path,
    revocations: &BTreeMap<String, (i64, u64)>,
) -> PolarsResult<BTreeMap<String, Rows>> {
    if revocations.is_empty() {
        return Ok(BTreeMap::new());
    }
    fold_groups(
        path,
        &["time", "principal_id"],
        |frame, offset| {
            let e = Events::from_frame(frame)?;
            Ok(uses_after(&e, offset, revocations))
        },
        |mut a, b| {
            super::stats::merge_rows_map(&mut a, b);
            a
        },
    )
}

/// Events of `e` by a principal after its revocation, by principal and
/// the name revoked (`principal NUL name`).
pub fn uses_after(
    e: &Events,
    offset: u64,
    revocations: &BTreeMap<String, (i64, u64)>,
) -> BTreeMap<String, Rows> {
    let mut out: BTreeMap<String, Rows> = BTreeMap::new();
    for i in 0..e.len {
        let (Some(principal), Some(t)) = (e.principal.get(i), e.time[i]) else {
            continue;
        };
        for name in principal_names(principal) {
            if revocations.get(name).is_some_and(|&(when, _)| t > when) {
                // Keyed by both: the check names the principal and cites
                // the revocation it followed.
                out.entry(format!("{principal}\0{name}"))
                    .or_default()
                    .push(offset + i as u64);
                break;
            }
        }
    }
    out
}
