//! Small accessors for records whose fields may be missing, `null`, empty
//! or of the wrong type at any depth.

use serde_json::Value;

/// The value at an RFC 6901 pointer (`/userIdentity/arn`). Segments are
/// unescaped (`~1` → `/`, `~0` → `~`) only when they hold a `~`:
/// `Value::pointer` allocates for every segment of every field of every
/// record, which was a sixth of ingest's time.
pub fn at<'a>(record: &'a Value, pointer: &str) -> Option<&'a Value> {
    let mut node = record;
    for raw in pointer.strip_prefix('/')?.split('/') {
        let segment = if raw.contains('~') {
            std::borrow::Cow::Owned(raw.replace("~1", "/").replace("~0", "~"))
        } else {
            std::borrow::Cow::Borrowed(raw)
        };
        let segment = segment.as_ref();
        node = match node {
            Value::Object(map) => map.get(segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// A non-empty string at `pointer`.
pub fn text<'a>(record: &'a Value, pointer: &str) -> Option<&'a str> {
    at(record, pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A non-empty string at `pointer`, owned.
pub fn owned(record: &Value, pointer: &str) -> Option<String> {
    text(record, pointer).map(str::to_string)
}

/// `true`, `"true"` (some exporters stringify booleans) at `pointer`.
pub fn truthy(record: &Value, pointer: &str) -> bool {
    match at(record, pointer) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Whether `pointer` holds an object with at least one member.
pub fn non_empty_object(record: &Value, pointer: &str) -> bool {
    at(record, pointer)
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty())
}

/// The first string of a string-or-array-of-strings (k8s `user.extra` values).
pub fn first_text<'a>(record: &'a Value, pointer: &str) -> Option<&'a str> {
    match at(record, pointer)? {
        Value::String(s) => Some(s.as_str()),
        Value::Array(items) => items.iter().find_map(Value::as_str),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_walk_objects_and_arrays_like_rfc_6901() {
        let record =
            json!({"a": {"b": [{"c": " x "}, {"c": ""}]}, "t": "TRUE", "k8s.io/x": {"~": 1}});
        assert_eq!(text(&record, "/a/b/0/c"), Some("x"));
        assert_eq!(text(&record, "/a/b/1/c"), None);
        assert_eq!(at(&record, "/a/b/2"), None);
        assert_eq!(at(&record, "/a/b/x"), None);
        assert_eq!(at(&record, "nope"), None);
        assert!(truthy(&record, "/t"));
        for pointer in [
            "/a",
            "/a/b",
            "/a/b/0",
            "/a/b/0/c",
            "/t",
            "/missing",
            "/k8s.io~1x/~0",
        ] {
            assert_eq!(at(&record, pointer), record.pointer(pointer), "{pointer}");
        }
    }
}
