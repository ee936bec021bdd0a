//! Small accessors for records whose fields may be missing, `null`, empty
//! or of the wrong type at any depth.

use serde_json::Value;

/// A non-empty string at `pointer`.
pub fn text<'a>(record: &'a Value, pointer: &str) -> Option<&'a str> {
    record
        .pointer(pointer)
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
    match record.pointer(pointer) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Whether `pointer` holds an object with at least one member.
pub fn non_empty_object(record: &Value, pointer: &str) -> bool {
    record
        .pointer(pointer)
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty())
}

/// The first string of a string-or-array-of-strings (k8s `user.extra` values).
pub fn first_text<'a>(record: &'a Value, pointer: &str) -> Option<&'a str> {
    match record.pointer(pointer)? {
        Value::String(s) => Some(s.as_str()),
        Value::Array(items) => items.iter().find_map(Value::as_str),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}
