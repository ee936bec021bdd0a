//! Event times as producers write them: RFC 3339 with any offset and 0 to 9
//! fractional digits, a space instead of `T`, and epoch numbers in seconds,
//! milliseconds, microseconds or nanoseconds. Always returned as UTC µs.

use std::cell::Cell;

use chrono::{DateTime, NaiveDateTime};

use crate::json::JsonRef;

thread_local! {
    /// Whether the record being read comes from an input whose zone-less
    /// times the user declared UTC (`naive_times = "utc"`).
    static NAIVE_IS_UTC: Cell<bool> = const { Cell::new(false) };
}

/// Runs `read` with zone-less times taken as UTC (or not), on this thread:
/// one record is read on one thread, so the setting covers exactly it.
pub fn with_naive_utc<T>(naive_utc: bool, read: impl FnOnce() -> T) -> T {
    let before = NAIVE_IS_UTC.replace(naive_utc);
    let out = read();
    NAIVE_IS_UTC.set(before);
    out
}

/// The option that reads zone-less times, named in a reject that a
/// zone-less time caused (and only while that option is off).
pub fn explain_zoneless(reason: String) -> String {
    let about_time = reason.contains("with a time zone") || reason.contains("not a point in time");
    if NAIVE_IS_UTC.get() || !about_time {
        return reason;
    }
    format!(
        "{reason}; if the export writes UTC without a zone (as SIEM data lakes such as Panther \
         do), read it with --naive-times utc (config: naive_times = \"utc\" under [inputs] or on \
         the log input)"
    )
}

/// Microseconds since the epoch, or `None` if the value is not a time.
pub fn parse_time<'a, J: JsonRef<'a>>(value: J) -> Option<i64> {
    if let Some(text) = value.as_str() {
        return parse_time_text(text);
    }
    if value.is_number() {
        return value
            .as_i64()
            .map(epoch_to_micros)
            .or_else(|| value.as_f64().map(|f| epoch_to_micros(f as i64)));
    }
    if value.is_object() {
        return python_datetime(value);
    }
    None
}

/// Cloud Custodian's recordings of boto3 responses serialise datetimes as
/// `{"__class__": "datetime", "year": ..., "microsecond": ...}`; boto3's are
/// UTC.
fn python_datetime<'a, J: JsonRef<'a>>(value: J) -> Option<i64> {
    if value.get("__class__").and_then(J::as_str) != Some("datetime") {
        return None;
    }
    let part = |k: &str| value.get(k).and_then(J::as_u64);
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::try_from(part("year")?).ok()?,
        u32::try_from(part("month")?).ok()?,
        u32::try_from(part("day")?).ok()?,
    )?;
    let time = date.and_hms_micro_opt(
        u32::try_from(part("hour").unwrap_or(0)).ok()?,
        u32::try_from(part("minute").unwrap_or(0)).ok()?,
        u32::try_from(part("second").unwrap_or(0)).ok()?,
        u32::try_from(part("microsecond").unwrap_or(0)).ok()?,
    )?;
    Some(time.and_utc().timestamp_micros())
}

pub fn parse_time_text(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_micros());
    }
    // `2022-02-08 09:23:37+11:00`: RFC 3339 allows a space for `T`, chrono does not.
    if text.len() > 10 && text.as_bytes()[10] == b' ' {
        let with_t = format!("{}T{}", &text[..10], &text[11..]);
        if let Ok(t) = DateTime::parse_from_rfc3339(&with_t) {
            return Some(t.timestamp_micros());
        }
    }
    // `2025-06-01 10:00:00 +0000` (git's and trufflehog's form).
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S %z") {
        return Some(t.timestamp_micros());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() {
        return text.parse::<i64>().ok().map(epoch_to_micros);
    }
    // A date-time with no zone is not a point in time: refuse it rather
    // than guess a zone (the caller records why), unless the user declared
    // the input's zone-less times UTC.
    if NAIVE_IS_UTC.get() {
        for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
            if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
                return Some(t.and_utc().timestamp_micros());
            }
        }
    }
    None
}

/// Epoch seconds, ms, µs or ns, told apart by magnitude (years 1973 to 5138).
fn epoch_to_micros(n: i64) -> i64 {
    let magnitude = n.unsigned_abs();
    if magnitude < 100_000_000_000 {
        n.saturating_mul(1_000_000)
    } else if magnitude < 100_000_000_000_000 {
        n.saturating_mul(1_000)
    } else if magnitude < 100_000_000_000_000_000 {
        n
    } else {
        n / 1_000
    }
}

/// A time for people to read in prose (`2026-10-27 00:00 UTC`); machine
/// files keep RFC 3339. Text that is not a time comes back unchanged.
pub fn prose_time(text: &str) -> String {
    parse_time_text(text)
        .and_then(DateTime::from_timestamp_micros)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| text.to_string())
}

/// RFC 3339 in UTC with microseconds, for display.
pub fn format_micros(micros: i64) -> String {
    DateTime::from_timestamp_micros(micros)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_else(|| micros.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn recorded_python_datetimes_are_utc() {
        let t = json!({"__class__": "datetime", "year": 2016, "month": 12, "day": 8,
                       "hour": 19, "minute": 36, "second": 32, "microsecond": 250});
        assert_eq!(parse_time(&t), Some(1_481_225_792_000_250));
        assert_eq!(parse_time(&json!({"year": 2016})), None);
    }

    const T: i64 = 1_644_272_617_000_000; // 2022-02-07T22:23:37Z

    #[test]
    fn prose_times_read_like_times() {
        assert_eq!(
            prose_time("2026-10-27T00:00:00.000000Z"),
            "2026-10-27 00:00 UTC"
        );
        assert_eq!(
            prose_time("2026-10-27T02:30:00+02:00"),
            "2026-10-27 00:30 UTC"
        );
        assert_eq!(prose_time("soon"), "soon");
    }

    #[test]
    fn zone_less_times_are_refused_unless_declared_utc() {
        let naive = json!("2022-02-07 22:23:37.000000000");
        assert_eq!(parse_time(&naive), None);
        assert_eq!(with_naive_utc(true, || parse_time(&naive)), Some(T));
        assert_eq!(
            with_naive_utc(true, || parse_time(&json!("2022-02-07T22:23:37"))),
            Some(T)
        );
        // The setting ends with the record it was set for.
        assert_eq!(parse_time(&naive), None);
        // An explicit zone is never overridden.
        assert_eq!(
            with_naive_utc(true, || parse_time(&json!("2022-02-08 09:23:37+11:00"))),
            Some(T)
        );
        let why = explain_zoneless("time \"x\" is not a date-time with a time zone".into());
        assert!(why.contains("--naive-times utc"), "{why}");
        assert_eq!(explain_zoneless("no eventTime".into()), "no eventTime");
    }

    #[test]
    fn forms_of_the_same_instant() {
        for v in [
            json!("2022-02-07T22:23:37Z"),
            json!("2022-02-08 09:23:37+11:00"),
            json!("2022-02-07T22:23:37.000000000Z"),
            json!("2022-02-07T17:23:37-05:00"),
            json!(1_644_272_617),
            json!(1_644_272_617_000i64),
            json!("1644272617000"),
            json!(1_644_272_617_000_000_000i64),
            json!("2022-02-07 17:23:37 -0500"),
        ] {
            assert_eq!(parse_time(&v), Some(T), "{v}");
        }
        assert_eq!(
            parse_time(&json!("2022-02-07T22:23:37.1234567Z")),
            Some(T + 123_456)
        );
    }

    #[test]
    fn refuses_what_is_not_a_point_in_time() {
        assert_eq!(parse_time(&json!("2022-02-07T22:23:37")), None);
        assert_eq!(parse_time(&json!("Aug 2, 2024, 10:23:24 AM")), None);
        assert_eq!(parse_time(&json!(null)), None);
    }

    #[test]
    fn formats() {
        assert_eq!(format_micros(T + 5), "2022-02-07T22:23:37.000005Z");
    }
}
