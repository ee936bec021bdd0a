//! Read access to a parsed JSON value, whatever holds it.
//!
//! The log readers are written once against [`JsonRef`] and run on a
//! `serde_json::Value` (envelopes, tests, the rare record that needs
//! rewriting) or on a [`TapeNode`] (the ingest hot path, where building a
//! `Value` per record cost a quarter of the time in allocation alone). Both
//! implementations follow `serde_json::Value`'s semantics, so a reader gives
//! the same answer on either.

use serde_json::Value;

use super::tape::{Elements, Members, TapeNode};

/// A borrowed view of one JSON value. `Copy`: pass it by value.
pub trait JsonRef<'a>: Copy {
    type Elements: Iterator<Item = Self> + ExactSizeIterator;
    type Members: Iterator<Item = (&'a str, Self)>;

    /// The member named `key` of an object (the last one if repeated).
    fn get(self, key: &str) -> Option<Self>;
    /// The elements of an array.
    fn as_array(self) -> Option<Self::Elements>;
    /// The members of an object, in the holder's order.
    fn as_object(self) -> Option<Self::Members>;
    fn as_str(self) -> Option<&'a str>;
    fn as_bool(self) -> Option<bool>;
    fn as_u64(self) -> Option<u64>;
    fn as_i64(self) -> Option<i64>;
    fn as_f64(self) -> Option<f64>;
    fn is_null(self) -> bool;
    fn is_number(self) -> bool;
    /// Members of an object or elements of an array; 0 for anything else.
    fn len(self) -> usize;
    /// A `serde_json::Value` copy, for messages and cold paths.
    fn to_value(self) -> Value;

    fn is_empty(self) -> bool {
        self.len() == 0
    }

    fn is_object(self) -> bool {
        self.as_object().is_some()
    }

    fn is_array(self) -> bool {
        self.as_array().is_some()
    }

    fn is_u64(self) -> bool {
        self.as_u64().is_some()
    }

    /// The value at an RFC 6901 pointer (`/userIdentity/arn`). Segments are
    /// unescaped (`~1` → `/`, `~0` → `~`) only when they hold a `~`, so the
    /// common case allocates nothing.
    fn pointer(self, pointer: &str) -> Option<Self> {
        if pointer.is_empty() {
            return Some(self);
        }
        let mut node = self;
        for raw in pointer.strip_prefix('/')?.split('/') {
            let segment = if raw.contains('~') {
                std::borrow::Cow::Owned(raw.replace("~1", "/").replace("~0", "~"))
            } else {
                std::borrow::Cow::Borrowed(raw)
            };
            node = match node.as_array() {
                Some(mut items) => items.nth(array_index(&segment)?)?,
                None => node.get(&segment)?,
            };
        }
        Some(node)
    }
}

/// An array index as RFC 6901 writes it: digits, no sign, no leading zero.
fn array_index(segment: &str) -> Option<usize> {
    let digits = segment.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = segment.len() > 1 && segment.starts_with('0');
    if segment.is_empty() || !digits || leading_zero {
        return None;
    }
    segment.parse().ok()
}

type ValueMembers<'a> =
    std::iter::Map<serde_json::map::Iter<'a>, fn((&'a String, &'a Value)) -> (&'a str, &'a Value)>;

fn member<'a>((key, value): (&'a String, &'a Value)) -> (&'a str, &'a Value) {
    (key.as_str(), value)
}

impl<'a> JsonRef<'a> for &'a Value {
    type Elements = std::slice::Iter<'a, Value>;
    type Members = ValueMembers<'a>;

    fn get(self, key: &str) -> Option<Self> {
        self.as_object()?.get(key)
    }

    fn as_array(self) -> Option<Self::Elements> {
        Value::as_array(self).map(|items| items.iter())
    }

    fn as_object(self) -> Option<Self::Members> {
        Value::as_object(self).map(|map| map.iter().map(member as fn(_) -> _))
    }

    fn as_str(self) -> Option<&'a str> {
        Value::as_str(self)
    }

    fn as_bool(self) -> Option<bool> {
        Value::as_bool(self)
    }

    fn as_u64(self) -> Option<u64> {
        Value::as_u64(self)
    }

    fn as_i64(self) -> Option<i64> {
        Value::as_i64(self)
    }

    fn as_f64(self) -> Option<f64> {
        Value::as_f64(self)
    }

    fn is_null(self) -> bool {
        Value::is_null(self)
    }

    fn is_number(self) -> bool {
        Value::is_number(self)
    }

    fn len(self) -> usize {
        match self {
            Value::Array(items) => items.len(),
            Value::Object(map) => map.len(),
            _ => 0,
        }
    }

    fn to_value(self) -> Value {
        self.clone()
    }
}

impl<'a> JsonRef<'a> for TapeNode<'a> {
    type Elements = Elements<'a>;
    type Members = Members<'a>;

    fn get(self, key: &str) -> Option<Self> {
        TapeNode::get(&self, key)
    }

    fn as_array(self) -> Option<Self::Elements> {
        TapeNode::is_array(&self).then(|| self.elements())
    }

    fn as_object(self) -> Option<Self::Members> {
        TapeNode::is_object(&self).then(|| self.members())
    }

    fn as_str(self) -> Option<&'a str> {
        self.text()
    }

    fn as_bool(self) -> Option<bool> {
        TapeNode::as_bool(&self)
    }

    fn as_u64(self) -> Option<u64> {
        TapeNode::as_u64(&self)
    }

    fn as_i64(self) -> Option<i64> {
        TapeNode::as_i64(&self)
    }

    fn as_f64(self) -> Option<f64> {
        TapeNode::as_f64(&self)
    }

    fn is_null(self) -> bool {
        TapeNode::is_null(&self)
    }

    fn is_number(self) -> bool {
        self.number().is_some()
    }

    fn len(self) -> usize {
        TapeNode::len(&self)
    }

    fn to_value(self) -> Value {
        TapeNode::to_value(&self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Tape;

    /// Every accessor answers the same on a `Value` and on a tape of it.
    fn same<'a, A: JsonRef<'a>, B: JsonRef<'a>>(a: A, b: B) {
        assert_eq!(a.as_str(), b.as_str());
        assert_eq!(a.as_bool(), b.as_bool());
        assert_eq!(a.as_u64(), b.as_u64());
        assert_eq!(a.as_i64(), b.as_i64());
        assert_eq!(a.as_f64(), b.as_f64());
        assert_eq!(a.is_null(), b.is_null());
        assert_eq!(a.is_number(), b.is_number());
        assert_eq!(a.is_object(), b.is_object());
        assert_eq!(a.is_array(), b.is_array());
        assert_eq!(a.len(), b.len());
        assert_eq!(a.to_value(), b.to_value());
        if let (Some(x), Some(y)) = (a.as_array(), b.as_array()) {
            x.zip(y).for_each(|(x, y)| same(x, y));
        }
        if let (Some(x), Some(y)) = (a.as_object(), b.as_object()) {
            let mut x: Vec<_> = x.collect();
            let mut y: Vec<_> = y.collect();
            x.sort_by_key(|m| m.0);
            y.sort_by_key(|m| m.0);
            assert_eq!(x.len(), y.len());
            for ((kx, vx), (ky, vy)) in x.into_iter().zip(y) {
                assert_eq!(kx, ky);
                same(vx, vy);
            }
        }
    }

    #[test]
    fn values_and_tapes_answer_alike() {
        let text = r#"{"a": {"b": [{"c": " x "}, {"c": ""}, 1, -2, 2.5, true, null]},
            "esc\"aped": "line\nbreak", "k8s.io/x": {"~": 1}, "big": 18446744073709551615}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        let tape = Tape::parse(text).unwrap();
        same(&value, tape.root());
        for pointer in [
            "",
            "/a",
            "/a/b",
            "/a/b/0",
            "/a/b/0/c",
            "/a/b/3",
            "/a/b/9",
            "/a/b/01",
            "/a/b/+1",
            "/a/b/x",
            "/esc\"aped",
            "/missing",
            "/k8s.io~1x/~0",
            "nope",
        ] {
            let expected = value.pointer(pointer);
            assert_eq!(JsonRef::pointer(&value, pointer), expected, "{pointer}");
            let on_tape = JsonRef::pointer(tape.root(), pointer).map(|n| n.to_value());
            assert_eq!(on_tape.as_ref(), expected, "{pointer}");
        }
    }

    #[test]
    fn repeated_keys_keep_the_last_as_serde_json_does() {
        let text = r#"{"k": 1, "k": "two"}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        let tape = Tape::parse(text).unwrap();
        assert_eq!(
            JsonRef::get(&value, "k").and_then(JsonRef::as_str),
            Some("two")
        );
        assert_eq!(
            JsonRef::get(tape.root(), "k").and_then(JsonRef::as_str),
            Some("two")
        );
    }
}
