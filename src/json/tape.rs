//! The tape: values in document order, containers followed by their members.
//!
//! Built by serde_json's own parser (through a visitor), so what is accepted
//! as JSON, the nesting limit and the error positions are exactly
//! serde_json's.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    Null,
    False,
    True,
    U64,
    I64,
    F64,
    /// A string borrowed from the text: `data` is its byte offset.
    Str,
    /// A string that had escapes, decoded into `Tape::owned[data]`.
    OwnedStr,
    /// `len` members (key entry, then value subtree); `data` is the index after the subtree.
    Object,
    /// `len` elements; `data` is the index after the subtree.
    Array,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    kind: Kind,
    len: u32,
    data: u64,
}

/// A parsed document that borrows its text.
pub struct Tape<'s> {
    text: &'s str,
    entries: Vec<Entry>,
    owned: Vec<Box<str>>,
}

/// The largest text a tape indexes (offsets are 32-bit).
pub const MAX_TAPE_BYTES: usize = u32::MAX as usize;

impl<'s> Tape<'s> {
    /// Parses `text`. Errors are serde_json's, with its line and column.
    pub fn parse(text: &'s str) -> Result<Tape<'s>, serde_json::Error> {
        if text.len() > MAX_TAPE_BYTES {
            return Err(serde::de::Error::custom(
                "the document is larger than 4 GiB",
            ));
        }
        let mut builder = Tape {
            text,
            // Real documents hold about one value per 16 bytes of text.
            entries: Vec::with_capacity(text.len() / 16 + 16),
            owned: Vec::new(),
        };
        let mut deserializer = serde_json::Deserializer::from_str(text);
        ValueSeed(&mut builder).deserialize(&mut deserializer)?;
        deserializer.end()?;
        // No shrink_to_fit: the capacity never written is never touched, so
        // it costs no memory, while shrinking would copy the whole tape.
        Ok(builder)
    }

    /// The root value.
    pub fn root(&self) -> TapeNode<'_> {
        TapeNode {
            tape: self,
            index: 0,
        }
    }

    /// The text the tape indexes.
    pub fn source(&self) -> &'s str {
        self.text
    }

    /// Where `s` starts in the text, when it is a slice of the text (a
    /// string without escapes, as `TapeNode::text` and member keys give
    /// them); None for decoded copies.
    pub fn offset_of(&self, s: &str) -> Option<usize> {
        let base = self.text.as_ptr() as usize;
        let at = s.as_ptr() as usize;
        (at >= base && at + s.len() <= base + self.text.len()).then(|| at - base)
    }

    /// Bytes held by the tape itself (not the text), for measurements.
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.owned.iter().map(|s| s.len() + 16).sum::<usize>()
    }

    fn entry(&self, index: u32) -> Entry {
        self.entries[index as usize]
    }

    /// The index just past the value at `index` and everything inside it.
    fn end_of(&self, index: u32) -> u32 {
        let entry = self.entry(index);
        match entry.kind {
            Kind::Object | Kind::Array => entry.data as u32,
            _ => index + 1,
        }
    }

    fn push(&mut self, kind: Kind, len: u32, data: u64) -> usize {
        self.entries.push(Entry { kind, len, data });
        self.entries.len() - 1
    }
}

/// A handle on one value of a tape; `Copy`, two words.
#[derive(Clone, Copy)]
pub struct TapeNode<'a> {
    tape: &'a Tape<'a>,
    index: u32,
}

impl<'a> TapeNode<'a> {
    pub(crate) fn tape(&self) -> &'a Tape<'a> {
        self.tape
    }

    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    fn entry(&self) -> Entry {
        self.tape.entry(self.index)
    }

    fn at(&self, index: u32) -> TapeNode<'a> {
        TapeNode {
            tape: self.tape,
            index,
        }
    }

    pub fn is_object(&self) -> bool {
        self.entry().kind == Kind::Object
    }

    pub fn is_array(&self) -> bool {
        self.entry().kind == Kind::Array
    }

    pub fn is_null(&self) -> bool {
        self.entry().kind == Kind::Null
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.entry().kind {
            Kind::True => Some(true),
            Kind::False => Some(false),
            _ => None,
        }
    }

    /// The string value, borrowed from the text when it had no escapes.
    pub fn str(&self) -> Option<Cow<'a, str>> {
        self.text().map(Cow::Borrowed)
    }

    /// The string value, for as long as the tape lives: from the text when
    /// it had no escapes, else from the tape's decoded copies.
    pub fn text(&self) -> Option<&'a str> {
        let entry = self.entry();
        match entry.kind {
            Kind::Str => {
                let start = entry.data as usize;
                Some(&self.tape.text[start..start + entry.len as usize])
            }
            Kind::OwnedStr => Some(&self.tape.owned[entry.data as usize]),
            _ => None,
        }
    }

    /// The number, as serde_json would hold it.
    pub fn number(&self) -> Option<serde_json::Number> {
        let entry = self.entry();
        match entry.kind {
            Kind::U64 => Some(entry.data.into()),
            Kind::I64 => Some((entry.data as i64).into()),
            Kind::F64 => serde_json::Number::from_f64(f64::from_bits(entry.data)),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        let entry = self.entry();
        (entry.kind == Kind::U64).then_some(entry.data)
    }

    pub fn as_i64(&self) -> Option<i64> {
        let entry = self.entry();
        match entry.kind {
            Kind::I64 => Some(entry.data as i64),
            Kind::U64 => i64::try_from(entry.data).ok(),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        let entry = self.entry();
        match entry.kind {
            Kind::F64 => Some(f64::from_bits(entry.data)),
            Kind::U64 => Some(entry.data as f64),
            Kind::I64 => Some(entry.data as i64 as f64),
            _ => None,
        }
    }

    /// Members of an object or elements of an array.
    pub fn len(&self) -> usize {
        match self.entry().kind {
            Kind::Object | Kind::Array => self.entry().len as usize,
            _ => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An object's members in document order (empty for anything else).
    pub fn members(&self) -> Members<'a> {
        let remaining = if self.is_object() {
            self.entry().len
        } else {
            0
        };
        Members {
            node: *self,
            next: self.index + 1,
            remaining,
        }
    }

    /// An array's elements in order (empty for anything else).
    pub fn elements(&self) -> Elements<'a> {
        let remaining = if self.is_array() { self.entry().len } else { 0 };
        Elements {
            node: *self,
            next: self.index + 1,
            remaining,
        }
    }

    /// The member named `key`; with duplicate keys the last one wins, as in
    /// serde_json and Python.
    pub fn get(&self, key: &str) -> Option<TapeNode<'a>> {
        let entry = self.entry();
        if entry.kind != Kind::Object {
            return None;
        }
        // Lengths first: a key's entry holds its decoded length, so most
        // members are passed over without touching their text. Read for
        // every field of every ingested record, so it matters.
        let mut found = None;
        let mut key_index = self.index + 1;
        for _ in 0..entry.len {
            let name = self.tape.entry(key_index);
            if name.len as usize == key.len() && self.at(key_index).text() == Some(key) {
                found = Some(key_index + 1);
            }
            key_index = self.tape.end_of(key_index + 1);
        }
        found.map(|index| self.at(index))
    }

    /// The value at an RFC 6901 pointer.
    pub fn pointer(&self, pointer: &str) -> Option<TapeNode<'a>> {
        if pointer.is_empty() {
            return Some(*self);
        }
        let mut node = *self;
        for raw in pointer.strip_prefix('/')?.split('/') {
            let segment = raw.replace("~1", "/").replace("~0", "~");
            node = if node.is_array() {
                node.elements().nth(segment.parse().ok()?)?
            } else {
                node.get(&segment)?
            };
        }
        Some(node)
    }

    /// The subtree as a serde_json value (for messages and cold paths).
    pub fn to_value(&self) -> Value {
        match self.entry().kind {
            Kind::Null => Value::Null,
            Kind::False => Value::Bool(false),
            Kind::True => Value::Bool(true),
            Kind::U64 | Kind::I64 | Kind::F64 => {
                self.number().map(Value::Number).unwrap_or(Value::Null)
            }
            Kind::Str | Kind::OwnedStr => {
                Value::String(self.str().unwrap_or_default().into_owned())
            }
            Kind::Array => Value::Array(self.elements().map(|e| e.to_value()).collect()),
            Kind::Object => {
                let mut map = serde_json::Map::new();
                for (key, value) in self.members() {
                    map.insert(key.to_string(), value.to_value());
                }
                Value::Object(map)
            }
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self.entry().kind {
            Kind::Null => "null",
            Kind::False | Kind::True => "boolean",
            Kind::U64 | Kind::I64 | Kind::F64 => "number",
            Kind::Str | Kind::OwnedStr => "string",
            Kind::Object => "object",
            Kind::Array => "array",
        }
    }
}

impl fmt::Debug for TapeNode<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TapeNode({})", self.to_value())
    }
}

/// Iterator over an object's `(key, value)` pairs.
#[derive(Clone)]
pub struct Members<'a> {
    node: TapeNode<'a>,
    next: u32,
    remaining: u32,
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, TapeNode<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let key = self.node.at(self.next);
        let value = self.node.at(self.next + 1);
        self.next = self.node.tape.end_of(self.next + 1);
        Some((key.text().unwrap_or_default(), value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining as usize, Some(self.remaining as usize))
    }
}

/// Iterator over an array's elements.
#[derive(Clone)]
pub struct Elements<'a> {
    node: TapeNode<'a>,
    next: u32,
    remaining: u32,
}

impl<'a> Iterator for Elements<'a> {
    type Item = TapeNode<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let element = self.node.at(self.next);
        self.next = self.node.tape.end_of(self.next);
        Some(element)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining as usize, Some(self.remaining as usize))
    }
}

impl ExactSizeIterator for Members<'_> {}
impl ExactSizeIterator for Elements<'_> {}

/// Deserializes one value (and everything inside it) onto the tape.
struct ValueSeed<'b, 's>(&'b mut Tape<'s>);

impl<'de, 'b> DeserializeSeed<'de> for ValueSeed<'b, 'de> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'b, 'de> ValueSeed<'b, 'de> {
    fn push_str<E: serde::de::Error>(self, value: &str) -> Result<(), E> {
        push_string(self.0, value)
    }
}

/// Records a string: borrowed when it lies inside the text, owned otherwise.
fn push_string<E: serde::de::Error>(tape: &mut Tape<'_>, value: &str) -> Result<(), E> {
    let base = tape.text.as_ptr() as usize;
    let at = value.as_ptr() as usize;
    let len = u32::try_from(value.len()).map_err(|_| E::custom("a string longer than 4 GiB"))?;
    if at >= base && at + value.len() <= base + tape.text.len() {
        tape.push(Kind::Str, len, (at - base) as u64);
    } else {
        tape.owned.push(value.into());
        let index = tape.owned.len() as u64 - 1;
        tape.push(Kind::OwnedStr, len, index);
    }
    Ok(())
}

impl<'b, 'de> Visitor<'de> for ValueSeed<'b, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.push(Kind::Null, 0, 0);
        Ok(())
    }

    fn visit_bool<E>(self, value: bool) -> Result<(), E> {
        self.0
            .push(if value { Kind::True } else { Kind::False }, 0, 0);
        Ok(())
    }

    fn visit_u64<E>(self, value: u64) -> Result<(), E> {
        self.0.push(Kind::U64, 0, value);
        Ok(())
    }

    fn visit_i64<E>(self, value: i64) -> Result<(), E> {
        if value >= 0 {
            self.0.push(Kind::U64, 0, value as u64);
        } else {
            self.0.push(Kind::I64, 0, value as u64);
        }
        Ok(())
    }

    fn visit_f64<E>(self, value: f64) -> Result<(), E> {
        self.0.push(Kind::F64, 0, value.to_bits());
        Ok(())
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, value: &'de str) -> Result<(), E> {
        self.push_str(value)
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<(), E> {
        self.push_str(value)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let tape = self.0;
        let header = tape.push(Kind::Array, 0, 0);
        let mut count = 0u32;
        while seq.next_element_seed(ValueSeed(&mut *tape))?.is_some() {
            count += 1;
        }
        tape.entries[header].len = count;
        tape.entries[header].data = tape.entries.len() as u64;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let tape = self.0;
        let header = tape.push(Kind::Object, 0, 0);
        let mut count = 0u32;
        while map.next_key_seed(KeySeed(&mut *tape))?.is_some() {
            map.next_value_seed(ValueSeed(&mut *tape))?;
            count += 1;
        }
        tape.entries[header].len = count;
        tape.entries[header].data = tape.entries.len() as u64;
        Ok(())
    }
}

/// Deserializes an object key onto the tape as a string entry.
struct KeySeed<'b, 's>(&'b mut Tape<'s>);

impl<'de, 'b> DeserializeSeed<'de> for KeySeed<'b, 'de> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'b, 'de> Visitor<'de> for KeySeed<'b, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, value: &'de str) -> Result<(), E> {
        push_string(self.0, value)
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<(), E> {
        push_string(self.0, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(text: &str) {
        let tape = Tape::parse(text).unwrap();
        let expected: Value = serde_json::from_str(text).unwrap();
        assert_eq!(tape.root().to_value(), expected, "{text}");
    }

    #[test]
    fn round_trips_every_kind_of_value() {
        round_trip(
            r#"{"a": [1, -2, 3.5, 1e300, true, false, null, "x"], "b": {}, "c": [], "d": {"e": {"f": [[]]}}}"#,
        );
        round_trip(r#""plain""#);
        round_trip("18446744073709551615");
        round_trip(r#"{"esc\"aped": "line\nbreak \u00e9 \ud83d\ude00"}"#);
    }

    #[test]
    fn borrows_plain_strings_and_decodes_escaped_ones() {
        let text = r#"{"k": "plain", "e": "a\tb"}"#;
        let tape = Tape::parse(text).unwrap();
        assert!(matches!(
            tape.root().get("k").unwrap().str(),
            Some(Cow::Borrowed("plain"))
        ));
        assert_eq!(tape.root().get("e").unwrap().str().unwrap(), "a\tb");
        assert_eq!(tape.owned.len(), 1);
    }

    #[test]
    fn navigation() {
        let text = r#"{"a": [{"x": 1}, {"x/y": 2, "t~": 3}], "dup": 1, "dup": 2}"#;
        let tape = Tape::parse(text).unwrap();
        let root = tape.root();
        assert_eq!(root.len(), 3);
        assert_eq!(root.pointer("/a/1/x~1y").unwrap().as_u64(), Some(2));
        assert_eq!(root.pointer("/a/1/t~0").unwrap().as_u64(), Some(3));
        assert!(root.pointer("/a/2").is_none());
        assert_eq!(root.get("dup").unwrap().as_u64(), Some(2), "last key wins");
        let keys: Vec<String> = root.members().map(|(k, _)| k.to_string()).collect();
        assert_eq!(keys, ["a", "dup", "dup"]);
        assert_eq!(root.get("a").unwrap().elements().count(), 2);
    }

    #[test]
    fn rejects_what_serde_json_rejects_at_the_same_place() {
        for bad in [
            "{",
            "[1,]",
            "{\"a\" 1}",
            "01",
            "\"\\x\"",
            "[1] x",
            &"[".repeat(200),
        ] {
            let ours = Tape::parse(bad)
                .err()
                .map(|e| (e.line(), e.column(), e.to_string()));
            let theirs = serde_json::from_str::<Value>(bad)
                .err()
                .map(|e| (e.line(), e.column(), e.to_string()));
            assert!(ours.is_some(), "{bad} accepted");
            assert_eq!(ours, theirs, "{bad}");
        }
    }

    #[test]
    fn entries_are_small() {
        assert_eq!(std::mem::size_of::<Entry>(), 16);
        let text = json!({"a": ["b", "c"]}).to_string();
        let tape = Tape::parse(&text).unwrap();
        assert_eq!(tape.entries.len(), 5);
    }
}
