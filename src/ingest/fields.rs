//! Small accessors for records whose fields may be missing, `null`, empty
//! or of the wrong type at any depth.

use crate::json::JsonRef;

/// The value at an RFC 6901 pointer (`/userIdentity/arn`), on a
/// `serde_json::Value` or a tape alike.
pub fn at<'a, J: JsonRef<'a>>(record: J, pointer: &str) -> Option<J> {
    record.pointer(pointer)
}

/// A non-empty string at `pointer`.
pub fn text<'a, J: JsonRef<'a>>(record: J, pointer: &str) -> Option<&'a str> {
    at(record, pointer)
        .and_then(J::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A non-empty string at `pointer`, owned.
pub fn owned<'a, J: JsonRef<'a>>(record: J, pointer: &str) -> Option<String> {
    text(record, pointer).map(str::to_string)
}

/// `true`, `"true"` (some exporters stringify booleans) at `pointer`.
pub fn truthy<'a, J: JsonRef<'a>>(record: J, pointer: &str) -> bool {
    let Some(value) = at(record, pointer) else {
        return false;
    };
    match (value.as_bool(), value.as_str()) {
        (Some(b), _) => b,
        (None, Some(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Whether `pointer` holds an object with at least one member.
pub fn non_empty_object<'a, J: JsonRef<'a>>(record: J, pointer: &str) -> bool {
    at(record, pointer).is_some_and(|v| v.is_object() && v.len() > 0)
}

/// An Azure Monitor diagnostic record's payload (`properties`), or the
/// record itself in Microsoft Graph's bare form.
pub fn azure_properties<'a, J: JsonRef<'a>>(record: J) -> J {
    record
        .get("properties")
        .filter(|p| p.is_object())
        .unwrap_or(record)
}

/// The first string of a string-or-array-of-strings (k8s `user.extra` values).
pub fn first_text<'a, J: JsonRef<'a>>(record: J, pointer: &str) -> Option<&'a str> {
    let value = at(record, pointer)?;
    match value.as_array() {
        Some(mut items) => items.find_map(J::as_str),
        None => value.as_str(),
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
