//! Parquet inputs: OCSF as Amazon Security Lake stores it
//! (`region=…/accountId=…/eventDay=YYYYMMDD/*.parquet`, nested structs and
//! lists), or any Parquet whose rows are records proofpack reads. Each row
//! becomes the JSON object it stands for (null members left out, as OCSF's
//! JSON form leaves them out) and goes through the same detection and
//! normalisers as a JSON record; its raw reference is `row N` with the
//! SHA-256 of that JSON.
//!
//! The window is pushed down: the `time` column is read first, and rows
//! outside `since..until` are counted outside the window without their
//! other columns being turned into records (the listing has already
//! skipped `eventDay=` folders outside it).

use polars::prelude::*;
use serde_json::{Map, Value};

/// Rows turned into JSON at a time: bounds the memory of a large file.
const ROWS_PER_SLICE: usize = 16_384;

/// Whether the bytes are a Parquet file (magic at both ends).
pub fn detect(bytes: &[u8]) -> bool {
    bytes.len() >= 12 && bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1")
}

/// The rows of a Parquet file inside the window, as JSON objects with
/// their 0-based row numbers; and how many rows were outside it.
pub struct Rows {
    pub total: usize,
    pub outside_window: usize,
    /// Slices of (row number, record), in file order.
    pub slices: Vec<Vec<(usize, Value)>>,
}

/// Reads the rows; a file the decoder cannot read is an error, whether
/// it says so or panics (polars' decoders assert on some corrupt pages).
pub fn read(bytes: &[u8], since: Option<i64>, until: Option<i64>) -> PolarsResult<Rows> {
    crate::model::parquet_guard::decoded(|| read_rows(bytes, since, until))
}

fn read_rows(bytes: &[u8], since: Option<i64>, until: Option<i64>) -> PolarsResult<Rows> {
    // Page headers first: one that polars cannot survive is an error.
    let mut cursor = std::io::Cursor::new(bytes);
    let metadata = crate::model::parquet_guard::read_metadata(&mut cursor)?;
    crate::model::parquet_guard::check_page_headers(&mut cursor, &metadata, None)?;
    let reader = || ParquetReader::new(std::io::Cursor::new(bytes));
    let schema = reader().schema()?;
    let has_time = schema.get("time").is_some();
    // The window, from the time column alone.
    let keep: Option<Vec<bool>> = if has_time && (since.is_some() || until.is_some()) {
        let times = reader()
            .with_columns(Some(vec!["time".to_string()]))
            .finish()?;
        let values = column_values(times.column("time")?.as_materialized_series())?;
        Some(
            values
                .iter()
                .map(|v| match crate::time::parse_time(v) {
                    // A row without a readable time is read, and rejected
                    // for it by its normaliser.
                    None => true,
                    Some(t) => since.is_none_or(|s| t >= s) && until.is_none_or(|u| t < u),
                })
                .collect(),
        )
    } else {
        None
    };
    let total_rows = match &keep {
        Some(k) => k.len(),
        None => reader().num_rows()?,
    };
    let kept = keep
        .as_ref()
        .map_or(total_rows, |k| k.iter().filter(|&&x| x).count());
    let mut rows = Rows {
        total: total_rows,
        outside_window: total_rows - kept,
        slices: Vec::new(),
    };
    if kept == 0 {
        return Ok(rows);
    }
    let frame = reader().finish()?;
    let mut offset = 0;
    while offset < frame.height() {
        let slice = frame.slice(offset as i64, ROWS_PER_SLICE);
        let wanted: Vec<usize> = (offset..offset + slice.height())
            .filter(|&i| keep.as_ref().is_none_or(|k| k[i]))
            .collect();
        if !wanted.is_empty() {
            let records = frame_records(&slice)?;
            rows.slices.push(
                records
                    .into_iter()
                    .enumerate()
                    .map(|(i, record)| (offset + i, record))
                    .filter(|(i, _)| keep.as_ref().is_none_or(|k| k[*i]))
                    .collect(),
            );
        }
        offset += slice.height();
    }
    Ok(rows)
}

/// Each row of a frame as a JSON object.
fn frame_records(frame: &DataFrame) -> PolarsResult<Vec<Value>> {
    let mut columns = Vec::with_capacity(frame.width());
    for column in frame.columns() {
        columns.push((
            column.name().to_string(),
            column_values(column.as_materialized_series())?,
        ));
    }
    Ok(objects(frame.height(), columns))
}

/// Zips columns of values into objects, leaving nulls out.
fn objects(len: usize, mut columns: Vec<(String, Vec<Value>)>) -> Vec<Value> {
    (0..len)
        .map(|i| {
            let mut object = Map::new();
            for (name, values) in &mut columns {
                let value = std::mem::take(&mut values[i]);
                if !value.is_null() {
                    object.insert(name.clone(), value);
                }
            }
            Value::Object(object)
        })
        .collect()
}

/// A column as JSON values, nested structs and lists included.
fn column_values(series: &Series) -> PolarsResult<Vec<Value>> {
    let nulls = series.is_null();
    let mut values: Vec<Value> = match series.dtype() {
        DataType::Struct(_) => {
            let fields = series.struct_()?.fields_as_series();
            let mut columns = Vec::with_capacity(fields.len());
            for field in &fields {
                columns.push((field.name().to_string(), column_values(field)?));
            }
            objects(series.len(), columns)
        }
        DataType::List(_) => {
            let mut out = Vec::with_capacity(series.len());
            for item in series.list()?.amortized_iter() {
                out.push(match item {
                    Some(inner) => Value::Array(column_values(inner.as_ref())?),
                    None => Value::Null,
                });
            }
            out
        }
        DataType::Datetime(unit, _) => {
            let per_us = |n: i64| match unit {
                TimeUnit::Nanoseconds => n / 1_000,
                TimeUnit::Microseconds => n,
                TimeUnit::Milliseconds => n.saturating_mul(1_000),
            };
            let physical = series.cast(&DataType::Int64)?;
            physical
                .i64()?
                .iter()
                .map(|n| {
                    n.map_or(Value::Null, |n| {
                        Value::String(crate::time::format_micros(per_us(n)))
                    })
                })
                .collect()
        }
        _ => series.iter().map(scalar).collect(),
    };
    for (value, null) in values
        .iter_mut()
        .zip(nulls.iter().map(|n| n.unwrap_or(false)))
    {
        if null {
            *value = Value::Null;
        }
    }
    Ok(values)
}

fn scalar(value: AnyValue<'_>) -> Value {
    match value {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(b),
        AnyValue::String(s) => Value::String(s.to_string()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::Int8(n) => n.into(),
        AnyValue::Int16(n) => n.into(),
        AnyValue::Int32(n) => n.into(),
        AnyValue::Int64(n) => n.into(),
        AnyValue::UInt8(n) => n.into(),
        AnyValue::UInt16(n) => n.into(),
        AnyValue::UInt32(n) => n.into(),
        AnyValue::UInt64(n) => n.into(),
        AnyValue::Float32(f) => {
            serde_json::Number::from_f64(f64::from(f)).map_or(Value::Null, Value::Number)
        }
        AnyValue::Float64(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        AnyValue::Binary(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        AnyValue::BinaryOwned(b) => Value::String(String::from_utf8_lossy(&b).into_owned()),
        other => Value::String(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Security Lake-like frame: nested actor, a list of resources, epoch
    /// ms times, a null struct.
    fn parquet() -> Vec<u8> {
        let uid = Series::new("uid".into(), ["AROA1:job", "AIDA2"]);
        let kind = Series::new("type".into(), [Some("AssumedRole"), None]);
        let user = StructChunked::from_series("user".into(), 2, [uid, kind].iter())
            .unwrap()
            .into_series();
        let actor = StructChunked::from_series("actor".into(), 2, [user].iter())
            .unwrap()
            .into_series();
        let names = [
            Series::new("".into(), ["bucket-a", "bucket-b"]),
            Series::new("".into(), ["key"]),
        ];
        let resources = Series::new("resources".into(), names);
        let mut frame = DataFrame::new(
            2,
            vec![
                Column::new("class_uid".into(), [6003i64, 6003]),
                Column::new("time".into(), [1_762_000_000_000i64, 1_000_000_000_000]),
                actor.into_column(),
                resources.into_column(),
            ],
        )
        .unwrap();
        let mut out = Vec::new();
        ParquetWriter::new(&mut out).finish(&mut frame).unwrap();
        out
    }

    #[test]
    fn rows_become_the_json_objects_they_stand_for() {
        let bytes = parquet();
        assert!(detect(&bytes));
        assert!(!detect(b"PAR1 not really"));
        let rows = read(&bytes, None, None).unwrap();
        assert_eq!((rows.total, rows.outside_window), (2, 0));
        let all: Vec<&(usize, Value)> = rows.slices.iter().flatten().collect();
        assert_eq!(
            all[0].1,
            serde_json::json!({"class_uid": 6003, "time": 1_762_000_000_000i64,
                "actor": {"user": {"uid": "AROA1:job", "type": "AssumedRole"}},
                "resources": ["bucket-a", "bucket-b"]})
        );
        // A null member is left out, as OCSF's JSON leaves it out.
        assert_eq!(
            all[1].1["actor"]["user"],
            serde_json::json!({"uid": "AIDA2"})
        );
    }

    #[test]
    fn a_corrupt_file_is_an_error_never_a_panic() {
        let good = parquet();
        for at in (4..good.len() - 4).step_by(7) {
            let mut bad = good.clone();
            bad[at] ^= 0x5a;
            let _ = read(&bad, None, None);
        }
        let mut cut = good[..good.len() / 2].to_vec();
        cut.extend_from_slice(b"PAR1");
        assert!(read(&cut, None, None).is_err());
    }

    #[test]
    fn rows_outside_the_window_are_counted_not_read() {
        let since = crate::time::parse_time_text("2025-01-01T00:00:00Z");
        let rows = read(&parquet(), since, None).unwrap();
        assert_eq!((rows.total, rows.outside_window), (2, 1));
        let kept: Vec<usize> = rows.slices.iter().flatten().map(|(i, _)| *i).collect();
        assert_eq!(kept, vec![0]);
        let none = read(&parquet(), since, since).unwrap();
        assert_eq!((none.outside_window, none.slices.len()), (2, 0));
    }
}
