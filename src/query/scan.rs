//! Finding access records without reading the table whole.
//!
//! Every filter is pushed down to the Parquet files: a state folder's
//! partitions outside the source or the time window are never opened (the
//! path says their source and day); a row group whose statistics exclude
//! the window, the source or the decision is never decoded; the rest is
//! read a column at a time, cheapest first, and a row group is dropped as
//! soon as no row can match. Only the rows that match are read whole.
//! Memory is one row group per core plus the answer, whatever the month.

use std::path::{Path, PathBuf};

use memchr::memmem::Finder;
use polars::prelude::*;
use polars_parquet::parquet::statistics::Statistics;
use rayon::prelude::*;

use super::Filter;
use crate::model::tables::{self, access_event_rows, RowGroup, ACCESS_EVENTS};
use crate::model::AccessEvent;

const DAY_US: i64 = 86_400_000_000;

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(
        "{0} holds no access events: give a folder written by `proofpack ingest --out`, a package \
         written by `proofpack generate` (its evidence/ folder is read), or a state folder \
         (`--state`)"
    )]
    NotADataset(PathBuf),
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
}

/// One Parquet file of access events, and what its place says about it.
#[derive(Debug, Clone)]
pub struct EventFile {
    pub path: PathBuf,
    /// A state partition's source (`source=` in its path): the file has no
    /// `source` column.
    pub source: Option<String>,
    /// A state partition's UTC day, µs `[start, end)`.
    pub day: Option<(i64, i64)>,
}

/// The access-event files of `dir`: an ingest folder, a package (its
/// `evidence/`), or a state folder's partitions, in a stable order.
pub fn locate(dir: &Path) -> Result<Vec<EventFile>, ScanError> {
    let table = format!("{ACCESS_EVENTS}.parquet");
    for candidate in [dir.join(&table), dir.join("evidence").join(&table)] {
        if candidate.is_file() {
            return Ok(vec![EventFile {
                path: candidate,
                source: None,
                day: None,
            }]);
        }
    }
    let partitions = dir.join(ACCESS_EVENTS);
    if !partitions.is_dir() {
        return Err(ScanError::NotADataset(dir.to_path_buf()));
    }
    let read = |path: &Path| {
        let mut names: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| ScanError::Read {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        names.sort();
        Ok::<_, ScanError>(names)
    };
    let mut files = Vec::new();
    for source_dir in read(&partitions)? {
        let Some(source) = hive_value(&source_dir, "source") else {
            continue;
        };
        for date_dir in read(&source_dir)? {
            let Some(day) = hive_value(&date_dir, "date").and_then(|d| day_bounds(&d)) else {
                continue;
            };
            for path in read(&date_dir)? {
                if path.extension().is_some_and(|e| e == "parquet") {
                    files.push(EventFile {
                        path,
                        source: Some(source.clone()),
                        day: Some(day),
                    });
                }
            }
        }
    }
    Ok(files)
}

/// `value` of a `key=value` folder name.
fn hive_value(path: &Path, key: &str) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    name.strip_prefix(key)?
        .strip_prefix('=')
        .map(str::to_string)
}

fn day_bounds(date: &str) -> Option<(i64, i64)> {
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let start = day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros();
    Some((start, start + DAY_US))
}

/// The matching records in time order (ties in file and row order), at
/// most `limit` of them: the earliest.
pub fn scan(
    files: &[EventFile],
    filter: &Filter,
    limit: Option<usize>,
) -> Result<Vec<AccessEvent>, ScanError> {
    let units: Vec<(usize, RowGroup)> = files
        .iter()
        .enumerate()
        .filter(|(_, file)| file_may_match(file, filter))
        .map(|(i, file)| {
            tables::row_groups(&file.path)
                .map(|groups| groups.into_iter().map(move |g| (i, g)))
                .map_err(|e| read_error(&file.path, &e))
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    let predicates = Predicates::new(filter);
    let found: Vec<Vec<(i64, AccessEvent)>> = units
        .par_iter()
        .map(|(i, group)| {
            let file = &files[*i];
            predicates
                .rows_of(file, group, limit)
                .map_err(|e| read_error(&file.path, &e))
        })
        .collect::<Result<_, _>>()?;
    // Units are in file and row order and each unit's rows in time order:
    // a stable sort keeps that order among equal times.
    let mut rows: Vec<(i64, AccessEvent)> = found.into_iter().flatten().collect();
    rows.sort_by_key(|(time, _)| *time);
    if let Some(limit) = limit {
        rows.truncate(limit);
    }
    Ok(rows.into_iter().map(|(_, event)| event).collect())
}

fn read_error(path: &Path, e: &PolarsError) -> ScanError {
    ScanError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Whether a state partition's source and day can hold a match.
fn file_may_match(file: &EventFile, filter: &Filter) -> bool {
    let source = match (&file.source, &filter.source) {
        (Some(have), Some(want)) => have == want,
        _ => true,
    };
    let day = file
        .day
        .is_none_or(|(start, end)| overlaps(filter, start, end - 1));
    source && day
}

/// Whether `[min, max]` (µs, inclusive) meets the filter's window.
fn overlaps(filter: &Filter, min: i64, max: i64) -> bool {
    filter.since.is_none_or(|s| max >= s) && filter.until.is_none_or(|u| min < u)
}

/// The filter as column tests, cheapest column first.
struct Predicates<'f> {
    filter: &'f Filter,
    principal: Option<Finder<'f>>,
    resource: Option<Finder<'f>>,
}

impl<'f> Predicates<'f> {
    fn new(filter: &'f Filter) -> Self {
        Predicates {
            filter,
            principal: filter.principal.as_deref().map(Finder::new),
            resource: filter.resource.as_deref().map(Finder::new),
        }
    }

    /// The matching rows of one row group, read whole, in time order (the
    /// earliest `limit` when there is a limit).
    fn rows_of(
        &self,
        file: &EventFile,
        group: &RowGroup,
        limit: Option<usize>,
    ) -> PolarsResult<Vec<(i64, AccessEvent)>> {
        if limit == Some(0) || !self.statistics_allow(file, group) {
            return Ok(Vec::new());
        }
        let Some(mut mask) = self.mask(file, group)? else {
            return Ok(Vec::new());
        };
        if let Some(limit) = limit {
            mask = earliest(group, &file.path, mask, limit)?;
        }
        let mut frame = group.read_rows(&file.path, mask.as_ref())?;
        if let Some(source) = &file.source {
            let height = frame.height();
            frame.with_column(Column::new("source".into(), vec![source.as_str(); height]))?;
        }
        let mut rows: Vec<(i64, AccessEvent)> = access_event_rows(&frame)?
            .into_iter()
            .map(|e| (e.access.time_us, e))
            .collect();
        rows.sort_by_key(|(time, _)| *time);
        if let Some(limit) = limit {
            rows.truncate(limit);
        }
        Ok(rows)
    }

    /// False when the row group's min/max statistics rule out every row.
    fn statistics_allow(&self, file: &EventFile, group: &RowGroup) -> bool {
        let filter = self.filter;
        if filter.since.is_some() || filter.until.is_some() {
            if let Some(Statistics::Int64(s)) = group.statistics("time") {
                if let (Some(min), Some(max)) = (s.min_value, s.max_value) {
                    if !overlaps(filter, min, max) {
                        return false;
                    }
                }
            }
        }
        let excluded = |column: &str, want: &str| match group.statistics(column) {
            Some(Statistics::Binary(s)) => match (s.min_value, s.max_value) {
                (Some(min), Some(max)) => want.as_bytes() < &min[..] || want.as_bytes() > &max[..],
                _ => false,
            },
            _ => false,
        };
        if let Some(decision) = filter.decision {
            if excluded("decision", decision.as_str()) {
                return false;
            }
        }
        if let (Some(source), None) = (&filter.source, &file.source) {
            if excluded("source", source) {
                return false;
            }
        }
        true
    }

    /// `None`: no row matches. `Some(None)`: every row does (the filter
    /// asks nothing of this file's columns). Else the rows that do.
    fn mask(
        &self,
        file: &EventFile,
        group: &RowGroup,
    ) -> PolarsResult<Option<Option<BooleanChunked>>> {
        let filter = self.filter;
        let mut mask: Option<BooleanChunked> = None;
        let mut and = |next: BooleanChunked| -> bool {
            let combined = match mask.take() {
                Some(previous) => &previous & &next,
                None => next,
            };
            let any = combined.any();
            mask = Some(combined);
            any
        };
        let read = |columns: &[&str]| group.read(&file.path, columns);
        if let Some(decision) = filter.decision {
            let frame = read(&["decision"])?;
            let want = decision.as_str();
            if !and(equals(&frame, "decision", want)?) {
                return Ok(None);
            }
        }
        if let (Some(source), None) = (&filter.source, &file.source) {
            let frame = read(&["source"])?;
            if !and(equals(&frame, "source", source)?) {
                return Ok(None);
            }
        }
        if filter.since.is_some() || filter.until.is_some() {
            let frame = read(&["time"])?;
            let time = frame.column("time")?.cast(&DataType::Int64)?;
            let within: BooleanChunked = time
                .i64()?
                .iter()
                .map(|t| t.is_some_and(|t| overlaps(filter, t, t)))
                .collect();
            if !and(within) {
                return Ok(None);
            }
        }
        if let Some(finder) = &self.resource {
            let frame = read(&["resource"])?;
            if !and(contains(&frame, "resource", finder)?) {
                return Ok(None);
            }
        }
        if let Some(finder) = &self.principal {
            let frame = read(&["principal_id", "session_name"])?;
            let either = &contains(&frame, "principal_id", finder)?
                | &contains(&frame, "session_name", finder)?;
            if !and(either) {
                return Ok(None);
            }
        }
        Ok(Some(mask))
    }
}

/// With a limit, only the `limit` earliest matching rows of a row group can
/// be in the answer: the mask narrowed to them (ties to the first rows),
/// so no other row is built.
fn earliest(
    group: &RowGroup,
    path: &Path,
    mask: Option<BooleanChunked>,
    limit: usize,
) -> PolarsResult<Option<BooleanChunked>> {
    let matched = mask
        .as_ref()
        .map_or(group.rows(), |m| m.sum().unwrap_or(0) as usize);
    if matched <= limit {
        return Ok(mask);
    }
    let frame = group.read(path, &["time"])?;
    let time = frame.column("time")?.cast(&DataType::Int64)?;
    let mut rows: Vec<(i64, usize)> = time
        .i64()?
        .iter()
        .enumerate()
        .filter(|(i, _)| mask.as_ref().is_none_or(|m| m.get(*i) == Some(true)))
        .map(|(i, t)| (t.unwrap_or(i64::MIN), i))
        .collect();
    rows.select_nth_unstable(limit - 1);
    let mut keep = vec![false; time.len()];
    for &(_, i) in &rows[..limit] {
        keep[i] = true;
    }
    Ok(Some(BooleanChunked::from_slice("keep".into(), &keep)))
}

fn equals(frame: &DataFrame, column: &str, want: &str) -> PolarsResult<BooleanChunked> {
    Ok(frame
        .column(column)?
        .str()?
        .iter()
        .map(|v| v == Some(want))
        .collect())
}

fn contains(frame: &DataFrame, column: &str, finder: &Finder<'_>) -> PolarsResult<BooleanChunked> {
    Ok(frame
        .column(column)?
        .str()?
        .iter()
        .map(|v| v.is_some_and(|v| finder.find(v.as_bytes()).is_some()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::rules::testing::{event, DAY, T0};
    use crate::model::tables::{access_events_frame, parquet_writer};
    use crate::model::{CredentialType, Decision, PrincipalType};

    /// 3,000 records over ten days in row groups of 256, in no time order:
    /// three sources, three decisions, principals with and without sessions.
    fn table(dir: &Path) -> Vec<AccessEvent> {
        let events: Vec<AccessEvent> = (0..3000i64)
            .map(|i| {
                let mut e = event(
                    &format!("arn:aws:iam::1:role/r{}", i % 7),
                    PrincipalType::Workload,
                    CredentialType::Ephemeral,
                    // Scattered over ten days, many sharing a time.
                    T0 + (i * 7919 % 3000) / 300 * DAY + (i % 5) * 1_000_000,
                );
                e.source = ["aws-cloudtrail", "k8s-audit", "gcp-audit"][(i % 3) as usize];
                e.access.decision =
                    [Decision::Allow, Decision::Deny, Decision::Error][(i % 11 % 3) as usize];
                e.access.session_name = (i % 4 == 0).then(|| format!("job-{}", i % 13));
                e.access.resource = (i % 6 != 0).then(|| format!("bucket-{}/k{i}", i % 5));
                e.raw_ref.position = format!("record {i}");
                e
            })
            .collect();
        let mut frame = access_events_frame(&events).unwrap();
        let file = std::fs::File::create(dir.join("access_events.parquet")).unwrap();
        parquet_writer(file)
            .with_row_group_size(Some(256))
            .finish(&mut frame)
            .unwrap();
        events
    }

    #[test]
    fn pushed_down_answers_equal_the_filter_over_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let events = table(dir.path());
        let files = locate(dir.path()).unwrap();
        assert!(tables::row_groups(&files[0].path).unwrap().len() > 5);
        let day = |n: i64| Some(T0 + n * DAY);
        let filters = [
            Filter::default(),
            Filter {
                principal: Some("r3".into()),
                decision: Some(Decision::Deny),
                ..Filter::default()
            },
            Filter {
                principal: Some("job-1".into()),
                ..Filter::default()
            },
            Filter {
                resource: Some("bucket-2/".into()),
                source: Some("k8s-audit".into()),
                ..Filter::default()
            },
            Filter {
                since: day(3),
                until: day(5),
                ..Filter::default()
            },
            Filter {
                since: day(9),
                decision: Some(Decision::Error),
                ..Filter::default()
            },
            Filter {
                until: day(0),
                ..Filter::default()
            },
            Filter {
                principal: Some("nobody".into()),
                ..Filter::default()
            },
        ];
        for filter in &filters {
            // Stable: ties keep the table's order.
            let mut expected: Vec<&AccessEvent> =
                events.iter().filter(|e| filter.matches(e)).collect();
            expected.sort_by_key(|e| e.access.time_us);
            for limit in [None, Some(0), Some(5), Some(300)] {
                let got = scan(&files, filter, limit).unwrap();
                let want: Vec<AccessEvent> = expected
                    .iter()
                    .take(limit.unwrap_or(usize::MAX))
                    .map(|e| (*e).clone())
                    .collect();
                assert_eq!(got, want, "{filter:?} limit {limit:?}");
            }
        }
    }

    #[test]
    fn statistics_skip_row_groups_outside_the_window() {
        let dir = tempfile::tempdir().unwrap();
        table(dir.path());
        let files = locate(dir.path()).unwrap();
        let groups = tables::row_groups(&files[0].path).unwrap();
        let filter = Filter {
            since: Some(T0 + 20 * DAY),
            ..Filter::default()
        };
        let predicates = Predicates::new(&filter);
        assert!(groups
            .iter()
            .all(|g| !predicates.statistics_allow(&files[0], g)));
        let filter = Filter {
            since: Some(T0),
            ..Filter::default()
        };
        let predicates = Predicates::new(&filter);
        assert!(groups
            .iter()
            .all(|g| predicates.statistics_allow(&files[0], g)));
    }

    #[test]
    fn a_folder_without_access_events_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = locate(dir.path()).unwrap_err().to_string();
        assert!(err.contains("holds no access events"), "{err}");
    }

    #[test]
    fn hive_folders_name_their_value() {
        assert_eq!(
            hive_value(Path::new("/s/access_events/source=k8s-audit"), "source").as_deref(),
            Some("k8s-audit")
        );
        assert_eq!(hive_value(Path::new("/s/date=2026-01-02"), "source"), None);
        let (start, end) = day_bounds("2026-01-02").unwrap();
        assert_eq!(end - start, DAY_US);
        assert_eq!(day_bounds("yesterday"), None);
    }

    #[test]
    fn partitions_outside_the_source_or_window_are_not_opened() {
        let (start, end) = day_bounds("2026-01-02").unwrap();
        let file = EventFile {
            path: PathBuf::from("p.parquet"),
            source: Some("k8s-audit".into()),
            day: Some((start, end)),
        };
        let with = |f: Filter| file_may_match(&file, &f);
        assert!(with(Filter::default()));
        assert!(!with(Filter {
            source: Some("aws-cloudtrail".into()),
            ..Filter::default()
        }));
        assert!(with(Filter {
            since: Some(end - 1),
            ..Filter::default()
        }));
        assert!(!with(Filter {
            since: Some(end),
            ..Filter::default()
        }));
        assert!(!with(Filter {
            until: Some(start),
            ..Filter::default()
        }));
        assert!(with(Filter {
            until: Some(start + 1),
            ..Filter::default()
        }));
    }
}
