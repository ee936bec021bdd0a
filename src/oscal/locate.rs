//! Maps JSON pointers back to line and column in the original text.
//!
//! The validator works on a parsed tree, which has no positions. Only when
//! there is something to report do we scan the raw bytes once more, find the
//! wanted pointers, and turn byte offsets into line:column. Valid documents
//! never pay for this.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use foldhash::fast::FixedState;

/// Per pointer on the way to a wanted one: whether it is wanted itself,
/// and whether something wanted lies below it. One lookup per value.
type Marks<'a> = HashMap<&'a str, Mark, FixedState>;

#[derive(Default, Clone, Copy)]
struct Mark {
    wanted: bool,
    below: bool,
}

/// Where a pointer's member sits in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spot {
    /// Offset of the value's first byte.
    pub value: usize,
    /// Offset of the member's key (its opening quote), for object members.
    pub key: Option<usize>,
}

/// Finds the byte offsets of `pointers` (RFC 6901) in `text`, which must be
/// JSON that parsed. Pointers that do not exist are absent from the result.
///
/// One pass over the text; only values on the way to a wanted pointer have
/// their pointer built and looked up, everything else is skipped as bytes
/// (a document with 48,000 warnings spent most of its validation here).
pub fn find_pointers(text: &[u8], pointers: &HashSet<String>) -> HashMap<String, Spot> {
    // A value whose pointer is not marked holds nothing wanted.
    let marks = marks(pointers);
    let mut scanner = Scanner {
        text,
        at: 0,
        path: String::new(),
        marks: &marks,
        wanted: pointers.len(),
        found: HashMap::with_capacity(pointers.len()),
    };
    scanner.value(None);
    scanner.found
}

struct Scanner<'a> {
    text: &'a [u8],
    at: usize,
    path: String,
    marks: &'a Marks<'a>,
    wanted: usize,
    found: HashMap<String, Spot>,
}

impl Scanner<'_> {
    fn done(&self) -> bool {
        self.found.len() == self.wanted
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn value(&mut self, key: Option<usize>) {
        self.skip_whitespace();
        let mark = self
            .marks
            .get(self.path.as_str())
            .copied()
            .unwrap_or_default();
        if mark.wanted {
            self.found.insert(
                self.path.clone(),
                Spot {
                    value: self.at,
                    key,
                },
            );
        }
        let descend = mark.below;
        match self.peek() {
            Some(b'{') if descend => self.object(),
            Some(b'[') if descend => self.array(),
            Some(b'{' | b'[') => self.skip_container(),
            Some(b'"') => {
                self.string();
            }
            Some(_) => self.scalar(),
            None => {}
        }
    }

    fn object(&mut self) {
        self.at += 1;
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b'}') => {
                    self.at += 1;
                    return;
                }
                Some(b',') => {
                    self.at += 1;
                    continue;
                }
                Some(b'"') => {}
                _ => return,
            }
            let key_at = self.at;
            let (start, end, escaped) = self.string();
            let depth = self.path.len();
            self.path.push('/');
            if escaped {
                let key = serde_json::from_slice::<String>(&self.text[start - 1..end + 1])
                    .unwrap_or_default();
                push_escaped(&mut self.path, &key);
            } else {
                // The text parsed as JSON, so it is UTF-8.
                push_escaped(
                    &mut self.path,
                    std::str::from_utf8(&self.text[start..end]).unwrap_or_default(),
                );
            }
            self.skip_whitespace();
            if self.peek() == Some(b':') {
                self.at += 1;
            }
            self.value(Some(key_at));
            self.path.truncate(depth);
            if self.done() {
                return;
            }
        }
    }

    fn array(&mut self) {
        self.at += 1;
        let mut index = 0usize;
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b']') => {
                    self.at += 1;
                    return;
                }
                Some(b',') => {
                    self.at += 1;
                    continue;
                }
                None => return,
                _ => {}
            }
            let depth = self.path.len();
            let _ = write!(self.path, "/{index}");
            self.value(None);
            self.path.truncate(depth);
            index += 1;
            if self.done() {
                return;
            }
        }
    }

    /// Skips an object or array whole: brackets counted outside strings,
    /// strings passed over with memchr.
    fn skip_container(&mut self) {
        let mut depth = 0usize;
        while let Some(byte) = self.peek() {
            match byte {
                b'"' => {
                    self.string();
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.at += 1;
                        return;
                    }
                }
                _ => {}
            }
            self.at += 1;
        }
    }

    /// Skips a string; returns the content's start and end and whether it
    /// holds escapes.
    fn string(&mut self) -> (usize, usize, bool) {
        self.at += 1;
        let start = self.at;
        let mut escaped = false;
        while let Some(i) = memchr::memchr2(b'"', b'\\', &self.text[self.at..]) {
            self.at += i;
            if self.text[self.at] == b'\\' {
                escaped = true;
                self.at += 2;
            } else {
                let end = self.at;
                self.at += 1;
                return (start, end, escaped);
            }
        }
        self.at = self.text.len();
        (start, self.text.len(), escaped)
    }

    fn scalar(&mut self) {
        while let Some(byte) = self.peek() {
            if matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                return;
            }
            self.at += 1;
        }
    }
}

/// Every wanted pointer, and every proper prefix of one ("" for the root).
fn marks(pointers: &HashSet<String>) -> Marks<'_> {
    let mut marks = Marks::default();
    for pointer in pointers {
        marks.entry(pointer).or_default().wanted = true;
        for (at, _) in pointer.match_indices('/') {
            marks.entry(&pointer[..at]).or_default().below = true;
        }
    }
    marks
}

/// Finds what it can of `pointers` on the parsed tape, without reading the
/// text again: a string value, or a member's key, sits where its text does
/// (strings without escapes are slices of the text). Only the way to each
/// pointer is walked; every other subtree is passed over whole. Returns the
/// spots found; what it cannot place (numbers, literals, containers,
/// escaped strings, pointers that do not exist) is left to [`find_pointers`].
pub fn find_on_tape(
    root: crate::json::TapeNode<'_>,
    pointers: &HashSet<String>,
) -> HashMap<String, Spot> {
    let marks = marks(pointers);
    let mut walker = TapeWalk {
        marks: &marks,
        path: String::new(),
        found: HashMap::with_capacity(pointers.len()),
    };
    walker.walk(root, None);
    walker.found
}

struct TapeWalk<'m> {
    marks: &'m Marks<'m>,
    path: String,
    found: HashMap<String, Spot>,
}

impl TapeWalk<'_> {
    fn walk<'t>(&mut self, node: crate::json::TapeNode<'t>, key: Option<&'t str>) {
        let Some(mark) = self.marks.get(self.path.as_str()).copied() else {
            return;
        };
        let tape = node.tape();
        if mark.wanted {
            // A string's opening quote is the byte before its text.
            if let Some(value) = node.text().and_then(|t| tape.offset_of(t)) {
                let key = key.and_then(|k| tape.offset_of(k)).map(|at| at - 1);
                self.found.insert(
                    self.path.clone(),
                    Spot {
                        value: value - 1,
                        key,
                    },
                );
            }
        }
        if !mark.below {
            return;
        }
        let depth = self.path.len();
        if node.is_object() {
            for (name, child) in node.members() {
                self.path.push('/');
                push_escaped(&mut self.path, name);
                self.walk(child, Some(name));
                self.path.truncate(depth);
            }
        } else if node.is_array() {
            for (i, child) in node.elements().enumerate() {
                let _ = write!(self.path, "/{i}");
                self.walk(child, None);
                self.path.truncate(depth);
            }
        }
    }
}

/// Appends a key to a pointer with RFC 6901 escaping.
pub fn push_escaped(pointer: &mut String, key: &str) {
    for ch in key.chars() {
        match ch {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            other => pointer.push(other),
        }
    }
}

/// Line starts of a text, for turning offsets into 1-based line:column
/// (columns count Unicode code points, as SARIF's `unicodeCodePoints`).
pub struct LineIndex<'a> {
    text: &'a [u8],
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a [u8]) -> Self {
        let mut starts = Vec::with_capacity(memchr::memchr_iter(b'\n', text).count() + 1);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', text).map(|i| i + 1));
        Self { text, starts }
    }

    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|start| *start <= offset) - 1;
        let line_start = self.starts[line];
        // Code points: every byte that does not continue a UTF-8 sequence
        // (invalid bytes count one each, as a lossy decoding would show).
        let column = self.text[line_start..offset]
            .iter()
            .filter(|b| (**b & 0xC0) != 0x80)
            .count();
        (line + 1, column + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locate(text: &str, pointer: &str) -> Option<(usize, usize)> {
        let wanted: HashSet<String> = [pointer.to_string()].into();
        let found = find_pointers(text.as_bytes(), &wanted);
        let index = LineIndex::new(text.as_bytes());
        found.get(pointer).map(|s| index.line_column(s.value))
    }

    #[test]
    fn finds_nested_values() {
        let text = "{\n  \"a\": [1, {\"b\": \"x\"}],\n  \"c\": {\"d/e\": true, \"f~g\": null}\n}";
        assert_eq!(locate(text, ""), Some((1, 1)));
        assert_eq!(locate(text, "/a/1/b"), Some((2, 18)));
        assert_eq!(locate(text, "/a/0"), Some((2, 9)));
        assert_eq!(locate(text, "/c/d~1e"), Some((3, 16)));
        assert_eq!(locate(text, "/c/f~0g"), Some((3, 29)));
        assert_eq!(locate(text, "/nope"), None);
    }

    #[test]
    fn handles_escaped_keys_and_strings() {
        let text = r#"{"q\"k": "a\"b", "\u00e9": [ "]" , {"z": 1}]}"#;
        assert_eq!(locate(text, "/q\"k"), Some((1, 10)));
        assert_eq!(locate(text, "/é/1/z"), Some((1, 42)));
    }

    #[test]
    fn key_offsets_point_at_the_member() {
        let text = "{\n \"m\": {\n   \"extra\": 1 }}";
        let wanted: HashSet<String> = ["/m/extra".to_string()].into();
        let found = find_pointers(text.as_bytes(), &wanted);
        let index = LineIndex::new(text.as_bytes());
        let spot = found["/m/extra"];
        assert_eq!(index.line_column(spot.key.unwrap()), (3, 4));
        assert_eq!(index.line_column(spot.value), (3, 13));
    }

    /// Values off the way to a wanted pointer are skipped as bytes:
    /// strings holding brackets, braces, quotes and escapes do not confuse it.
    #[test]
    fn skipped_siblings_do_not_move_the_positions() {
        let text = r#"{"skip": {"a": "}]{[\"", "b": [[{"c": "]"}], {}], "d": "\\"}, "x": [{"y": 1}, {"y": "z"}], "after": {"deep": [0, {"w": true}]}}"#;
        assert_eq!(locate(text, "/x/1/y"), Some((1, 85)));
        assert_eq!(locate(text, "/after/deep/1/w"), Some((1, 120)));
        let wanted: HashSet<String> = [
            "/x/1/y".to_string(),
            "/after/deep/1/w".to_string(),
            "/skip/b/0/0/c".to_string(),
        ]
        .into();
        let found = find_pointers(text.as_bytes(), &wanted);
        assert_eq!(found.len(), 3);
    }

    /// The tape finds strings and keys where the text scan does, and leaves
    /// the rest (numbers, containers, escaped strings, absent members) to it.
    #[test]
    fn the_tape_places_strings_and_keys_as_the_text_scan_does() {
        let text =
            "{\n \"a\": [\"x\", {\"b\": \"y\", \"n\": 4}],\n \"e\": \"q\\\"\", \"o~/\": \"z\"}";
        let tape = crate::json::Tape::parse(text).unwrap();
        let all: HashSet<String> = [
            "/a/0", "/a/1/b", "/a/1/n", "/a/1", "/e", "/o~0~1", "/missing", "/a/7",
        ]
        .map(String::from)
        .into();
        let on_tape = find_on_tape(tape.root(), &all);
        let by_text = find_pointers(text.as_bytes(), &all);
        for p in ["/a/0", "/a/1/b", "/o~0~1"] {
            assert_eq!(on_tape.get(p), by_text.get(p), "{p}");
        }
        let mut left: Vec<&str> = all
            .iter()
            .filter(|p| !on_tape.contains_key(p.as_str()))
            .map(String::as_str)
            .collect();
        left.sort();
        assert_eq!(left, ["/a/1", "/a/1/n", "/a/7", "/e", "/missing"]);
    }

    #[test]
    fn columns_count_code_points() {
        let text = "{\"é\": \"ü\", \"x\": 1}";
        assert_eq!(locate(text, "/x"), Some((1, 17)));
    }
}
