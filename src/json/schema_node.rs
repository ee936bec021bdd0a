//! Lets the `jsonschema` crate validate a [`Tape`] in place, through its
//! custom-representation traits.

use std::borrow::Cow;

use jsonschema::json::{Array, Json, JsonNumber, Node, NodeIdentity, Object};
use jsonschema::JsonType;
use serde_json::Value;

use super::tape::{Elements, Members, Tape, TapeNode};

/// The tape as a `jsonschema` representation: `Validator<TapeJson>`.
pub struct TapeJson;

impl Json for TapeJson {
    type Node<'a> = TapeNode<'a>;
    type PreparedKey = Box<str>;
    /// `propertyNames` validates keys as string nodes: keep a one-string tape.
    type StringBuffer = String;

    // Objects are scanned, not hashed; OSCAL objects are small, so a pass
    // over the members is as cheap as a few lookups.
    const KEYS_PER_LOOKUP: usize = 4;
    const ACYCLIC: bool = true;

    fn prepare_key(key: &str) -> Box<str> {
        key.into()
    }

    fn with_string_node<T>(
        buffer: &mut String,
        string: &str,
        f: impl FnOnce(TapeNode<'_>) -> T,
    ) -> T {
        *buffer = serde_json::to_string(string).unwrap_or_else(|_| "\"\"".to_string());
        let tape = Tape::parse(buffer)
            .unwrap_or_else(|_| Tape::parse("\"\"").expect("empty string parses"));
        f(tape.root())
    }
}

/// A number on the tape.
pub struct TapeNumber(serde_json::Number);

impl JsonNumber for TapeNumber {
    fn as_u64(&self) -> Option<u64> {
        self.0.as_u64()
    }

    fn as_i64(&self) -> Option<i64> {
        self.0.as_i64()
    }

    fn as_f64(&self) -> Option<f64> {
        self.0.as_f64()
    }

    fn as_str(&self) -> Cow<'_, str> {
        Cow::Owned(self.0.to_string())
    }

    fn to_number(&self) -> Cow<'_, serde_json::Number> {
        Cow::Borrowed(&self.0)
    }

    fn is_written_as_integer(&self) -> bool {
        self.0.is_u64() || self.0.is_i64()
    }
}

impl<'a> Node<'a, TapeJson> for TapeNode<'a> {
    type Object = TapeObject<'a>;
    type Array = TapeArray<'a>;
    type Number = TapeNumber;

    fn as_object(&self) -> Option<TapeObject<'a>> {
        self.is_object().then_some(TapeObject(*self))
    }

    fn as_array(&self) -> Option<TapeArray<'a>> {
        TapeNode::is_array(self).then_some(TapeArray(*self))
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        self.str()
    }

    fn as_number(&self) -> Option<TapeNumber> {
        self.number().map(TapeNumber)
    }

    fn as_boolean(&self) -> Option<bool> {
        self.as_bool()
    }

    fn is_null(&self) -> bool {
        TapeNode::is_null(self)
    }

    fn json_type(&self) -> JsonType {
        match self.kind_name() {
            "null" => JsonType::Null,
            "boolean" => JsonType::Boolean,
            "number" => JsonType::Number,
            "string" => JsonType::String,
            "array" => JsonType::Array,
            _ => JsonType::Object,
        }
    }

    fn to_value(&self) -> Cow<'a, Value> {
        Cow::Owned(TapeNode::to_value(self))
    }

    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::tagged(
            std::ptr::from_ref(self.tape()) as usize,
            self.index(),
        ))
    }
}

/// An object node.
#[derive(Clone, Copy)]
pub struct TapeObject<'a>(TapeNode<'a>);

impl<'a> Object<'a, TapeJson> for TapeObject<'a> {
    type Node = TapeNode<'a>;
    type MemberName = &'a str;
    type MembersIter = Members<'a>;

    fn len(&self) -> usize {
        self.0.len()
    }

    fn get(&self, key: &Box<str>) -> Option<TapeNode<'a>> {
        self.0.get(key)
    }

    fn members(&self) -> Members<'a> {
        self.0.members()
    }
}

/// An array node.
#[derive(Clone, Copy)]
pub struct TapeArray<'a>(TapeNode<'a>);

impl<'a> Array<'a, TapeJson> for TapeArray<'a> {
    type Node = TapeNode<'a>;
    type ElementsIter = Elements<'a>;

    fn len(&self) -> usize {
        self.0.len()
    }

    fn elements(&self) -> Elements<'a> {
        self.0.elements()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn meets_the_jsonschema_representation_contract() {
        let text = jsonschema::json::conformance::document().to_string();
        let tape = Tape::parse(&text).unwrap();
        jsonschema::json::conformance::assert_conformance::<TapeJson>(&tape.root());
    }

    #[test]
    fn validates_like_serde_json() {
        let schema = json!({
            "type": "object",
            "required": ["id", "tags"],
            "additionalProperties": false,
            "properties": {
                "id": {"type": "string", "pattern": "^[a-z]+$"},
                "n": {"type": "integer", "minimum": 0},
                "tags": {"type": "array", "minItems": 1, "items": {"enum": ["a", "b"]}},
                "nested": {"propertyNames": {"pattern": "^x"}}
            }
        });
        let ours = jsonschema::options_for::<TapeJson>()
            .build(&schema)
            .unwrap();
        let theirs = jsonschema::validator_for(&schema).unwrap();
        for doc in [
            json!({"id": "abc", "tags": ["a"]}),
            json!({"id": "ABC", "tags": []}),
            json!({"id": "abc", "tags": ["c"], "n": -1, "extra": 1}),
            json!({"tags": ["a", "b"], "n": 1.5, "nested": {"xa": 1, "yb": 2}}),
            json!([1, 2]),
        ] {
            let text = doc.to_string();
            let tape = Tape::parse(&text).unwrap();
            let mut a: Vec<String> = ours
                .iter_errors(tape.root())
                .map(|e| format!("{} {}", e.instance_path(), e))
                .collect();
            let mut b: Vec<String> = theirs
                .iter_errors(&doc)
                .map(|e| format!("{} {}", e.instance_path(), e))
                .collect();
            a.sort();
            b.sort();
            assert_eq!(a, b, "{text}");
            assert_eq!(ours.is_valid(tape.root()), theirs.is_valid(&doc));
        }
    }
}
