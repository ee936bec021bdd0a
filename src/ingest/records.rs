//! Splits an input's bytes into raw records, whatever container the
//! producer used: CloudTrail's `{"Records": [...]}`, a bare JSON array, a
//! Kubernetes `EventList`, NDJSON (one record per line), or one record.
//! Each record keeps its position and its exact bytes (for the hash).

use std::collections::HashMap;

use serde_json::value::RawValue;

/// One record's bytes and where they stand.
#[derive(Debug)]
pub struct RawRecord<'a> {
    /// `line N` or `record N at byte B`.
    pub position: String,
    pub bytes: &'a [u8],
}

/// A file that could not be split at all (a broken wrapper or array).
#[derive(Debug)]
pub struct SplitError {
    pub position: String,
    pub reason: String,
}

/// The records of one input.
pub fn split(bytes: &[u8]) -> Result<Vec<RawRecord<'_>>, SplitError> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let body = &bytes[start..];
    if body.is_empty() {
        return Ok(Vec::new());
    }
    match serde_json::from_slice::<&RawValue>(body) {
        Ok(whole) => Ok(split_value(bytes, whole)),
        Err(e) if looks_line_delimited(body) => {
            let _ = e;
            Ok(split_lines(bytes))
        }
        Err(e) => Err(SplitError {
            position: format!(
                "line {} column {}",
                e.line() + line_of(bytes, start) - 1,
                e.column()
            ),
            reason: if e.is_eof() {
                format!("the file ends in the middle of its JSON ({e}): it is truncated")
            } else {
                format!("not valid JSON: {e}")
            },
        }),
    }
}

/// Whether the first non-empty line is a whole JSON value by itself, as in
/// NDJSON (where the file as a whole is not one value).
fn looks_line_delimited(body: &[u8]) -> bool {
    let first = body.split(|b| *b == b'\n').next().unwrap_or(body);
    serde_json::from_slice::<&RawValue>(first).is_ok()
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset].iter().filter(|b| **b == b'\n').count() + 1
}

fn offset_of(bytes: &[u8], raw: &RawValue) -> usize {
    raw.get().as_ptr() as usize - bytes.as_ptr() as usize
}

fn split_value<'a>(bytes: &'a [u8], whole: &'a RawValue) -> Vec<RawRecord<'a>> {
    let text = whole.get();
    let items: Option<Vec<&RawValue>> = if text.starts_with('[') {
        serde_json::from_str::<Vec<&RawValue>>(text).ok()
    } else if text.starts_with('{') {
        serde_json::from_str::<HashMap<String, &RawValue>>(text)
            .ok()
            .and_then(|members| {
                // The batch wrappers producers use: CloudTrail's S3 delivery
                // (`Records`), Azure Monitor archives (`records`), Microsoft
                // Graph pages (`value` beside `@odata.context`), Cloud
                // Logging's entries.list (`entries`), and Kubernetes
                // `EventList`s from kubectl and the audit webhook (`items`).
                let is_list = members
                    .get("kind")
                    .is_some_and(|k| k.get().trim_matches('"').ends_with("List"));
                let is_graph = members.contains_key("@odata.context");
                let list = members
                    .get("Records")
                    .or_else(|| members.get("records"))
                    .or_else(|| if is_graph { members.get("value") } else { None })
                    .or_else(|| members.get("entries"))
                    .or_else(|| if is_list { members.get("items") } else { None })?;
                serde_json::from_str::<Vec<&RawValue>>(list.get()).ok()
            })
    } else {
        None
    };
    match items {
        Some(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, raw)| RawRecord {
                position: format!("record {} at byte {}", i + 1, offset_of(bytes, raw)),
                bytes: raw.get().as_bytes(),
            })
            .collect(),
        None => vec![RawRecord {
            position: format!("record 1 at byte {}", offset_of(bytes, whole)),
            bytes: text.as_bytes(),
        }],
    }
}

fn split_lines(bytes: &[u8]) -> Vec<RawRecord<'_>> {
    bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .filter_map(|(i, line)| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            (!line.iter().all(u8::is_ascii_whitespace)).then(|| RawRecord {
                position: format!("line {}", i + 1),
                bytes: line,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positions(text: &str) -> Vec<String> {
        split(text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|r| r.position)
            .collect()
    }

    #[test]
    fn containers() {
        assert_eq!(
            positions(r#"{"Records": [{"a": 1}, {"b": 2}]}"#),
            ["record 1 at byte 13", "record 2 at byte 23"]
        );
        assert_eq!(
            positions(r#"[{"a": 1}, {"b": 2}]"#),
            ["record 1 at byte 1", "record 2 at byte 11"]
        );
        assert_eq!(
            positions("{\"a\": 1}\n\n{\"b\": 2}\n"),
            ["line 1", "line 3"]
        );
        assert_eq!(
            positions("{\"kind\": \"EventList\", \"items\": [{}]}"),
            ["record 1 at byte 32"]
        );
        assert_eq!(positions(r#"{"records": [{}, {}]}"#).len(), 2);
        assert_eq!(
            positions(r#"{"@odata.context": "x", "value": [{}], "@odata.nextLink": "y"}"#).len(),
            1
        );
        assert_eq!(
            positions(r#"{"entries": [{}, {}, {}], "nextPageToken": "t"}"#).len(),
            3
        );
        // `value` alone is an ordinary field, not a batch.
        assert_eq!(positions(r#"{"value": [1, 2]}"#), ["record 1 at byte 0"]);
        assert_eq!(positions("  {\"kind\": \"Event\"}"), ["record 1 at byte 2"]);
        assert!(positions(" \n ").is_empty());
    }

    #[test]
    fn a_bad_ndjson_line_is_kept_for_rejection() {
        let records = split(b"{\"a\": 1}\n{\"b\": \n{\"c\": 3}\n").unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[1].bytes, b"{\"b\": ");
    }

    #[test]
    fn a_truncated_wrapper_reports_where() {
        let e = split(b"{\"Records\": [\n{\"a\": 1},\n{\"b\"").unwrap_err();
        assert!(e.reason.contains("truncated"), "{}", e.reason);
        assert!(e.position.starts_with("line 3"), "{}", e.position);
    }
}
