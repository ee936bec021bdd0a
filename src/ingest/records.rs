//! Splits an input's bytes into raw records, whatever container the
//! producer used: CloudTrail's `{"Records": [...]}`, a bare JSON array, a
//! Kubernetes `EventList`, NDJSON (one record per line), or one record.
//! Each record keeps its position and its exact bytes (for the hash).

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;
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
    match parse_top(body) {
        Ok(top) => Ok(split_top(bytes, start, top)),
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

/// Reads the whole input in one pass of serde_json's parser: the elements
/// of a top-level array, or the members of a top-level object with each
/// array member's elements, as raw slices. Text that is UTF-8 (nearly all)
/// is read as `str`, which spares a UTF-8 check per string.
fn parse_top(body: &[u8]) -> Result<Part<'_>, serde_json::Error> {
    match std::str::from_utf8(body) {
        Ok(text) => {
            let mut deserializer = serde_json::Deserializer::from_str(text);
            let top = PartSeed { top: true }.deserialize(&mut deserializer)?;
            deserializer.end()?;
            Ok(top)
        }
        Err(_) => {
            let mut deserializer = serde_json::Deserializer::from_slice(body);
            let top = PartSeed { top: true }.deserialize(&mut deserializer)?;
            deserializer.end()?;
            Ok(top)
        }
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

/// The records of a parsed input: the items of a batch wrapper or array, or
/// the whole value as one record.
fn split_top<'a>(bytes: &'a [u8], start: usize, top: Part<'a>) -> Vec<RawRecord<'a>> {
    let items = match top {
        Part::Items(items) => Some(items),
        Part::Members(members) => batch(members),
        Part::Text(_) | Part::Other => None,
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
            position: format!("record 1 at byte {start}"),
            bytes: bytes[start..].trim_ascii_end(),
        }],
    }
}

/// The list of a batch wrapper, if the object is one: CloudTrail's S3
/// delivery (`Records`), Azure Monitor archives (`records`), Microsoft Graph
/// pages (`value` beside `@odata.context`), Cloud Logging's entries.list
/// (`entries`), and Kubernetes `EventList`s from kubectl and the audit
/// webhook (`items`). A repeated member counts once, the last, as in
/// serde_json.
fn batch(members: Vec<(String, Part<'_>)>) -> Option<Vec<&RawValue>> {
    let mut members = members;
    let position = |members: &[(String, Part<'_>)], name: &str| {
        members.iter().rposition(|(key, _)| key == name)
    };
    let is_list = position(&members, "kind")
        .is_some_and(|i| matches!(&members[i].1, Part::Text(kind) if kind.ends_with("List")));
    let is_graph = position(&members, "@odata.context").is_some();
    let list = position(&members, "Records")
        .or_else(|| position(&members, "records"))
        .or_else(|| is_graph.then(|| position(&members, "value")).flatten())
        .or_else(|| position(&members, "entries"))
        .or_else(|| is_list.then(|| position(&members, "items")).flatten())?;
    match members.swap_remove(list).1 {
        Part::Items(items) => Some(items),
        _ => None,
    }
}

/// A value as far as splitting needs it: an array's elements as raw
/// slices, the top-level object's members, a string (a wrapper's `kind`),
/// or anything else, passed over.
enum Part<'a> {
    Items(Vec<&'a RawValue>),
    Members(Vec<(String, Part<'a>)>),
    Text(String),
    Other,
}

/// Reads a [`Part`]; only the top level's object is opened (`top`), any
/// object below it is passed over.
#[derive(Clone, Copy)]
struct PartSeed {
    top: bool,
}

impl<'de> DeserializeSeed<'de> for PartSeed {
    type Value = Part<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Part<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PartSeed {
    type Value = Part<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Part<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            items.push(item);
        }
        Ok(Part::Items(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Part<'de>, A::Error> {
        if !self.top {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Part::Other);
        }
        let mut members = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            members.push((key, map.next_value_seed(PartSeed { top: false })?));
        }
        Ok(Part::Members(members))
    }

    fn visit_str<E>(self, text: &str) -> Result<Part<'de>, E> {
        Ok(Part::Text(text.to_string()))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Part<'de>, E> {
        Ok(Part::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Part<'de>, E> {
        Ok(Part::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Part<'de>, E> {
        Ok(Part::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Part<'de>, E> {
        Ok(Part::Other)
    }
    fn visit_unit<E>(self) -> Result<Part<'de>, E> {
        Ok(Part::Other)
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
