//! Maps JSON pointers back to line and column in the original text.
//!
//! The validator works on a parsed tree, which has no positions. Only when
//! there is something to report do we scan the raw bytes once more, find the
//! wanted pointers, and turn byte offsets into line:column. Valid documents
//! never pay for this.

use std::collections::{HashMap, HashSet};

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
pub fn find_pointers(text: &[u8], pointers: &HashSet<String>) -> HashMap<String, Spot> {
    let mut scanner = Scanner {
        text,
        at: 0,
        path: String::new(),
        wanted: pointers,
        found: HashMap::new(),
    };
    scanner.value(None);
    scanner.found
}

struct Scanner<'a> {
    text: &'a [u8],
    at: usize,
    path: String,
    wanted: &'a HashSet<String>,
    found: HashMap<String, Spot>,
}

impl Scanner<'_> {
    fn done(&self) -> bool {
        self.found.len() == self.wanted.len()
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
        if self.wanted.contains(&self.path) {
            self.found.insert(
                self.path.clone(),
                Spot {
                    value: self.at,
                    key,
                },
            );
        }
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
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
            let key = if escaped {
                serde_json::from_slice::<String>(&self.text[start - 1..end + 1]).unwrap_or_default()
            } else {
                String::from_utf8_lossy(&self.text[start..end]).into_owned()
            };
            self.skip_whitespace();
            if self.peek() == Some(b':') {
                self.at += 1;
            }
            let depth = self.path.len();
            self.path.push('/');
            push_escaped(&mut self.path, &key);
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
            self.path.push('/');
            self.path.push_str(&index.to_string());
            self.value(None);
            self.path.truncate(depth);
            index += 1;
            if self.done() {
                return;
            }
        }
    }

    /// Skips a string; returns the content's start and end and whether it
    /// holds escapes.
    fn string(&mut self) -> (usize, usize, bool) {
        self.at += 1;
        let start = self.at;
        let mut escaped = false;
        while let Some(byte) = self.peek() {
            match byte {
                b'\\' => {
                    escaped = true;
                    self.at += 2;
                }
                b'"' => {
                    let end = self.at;
                    self.at += 1;
                    return (start, end, escaped);
                }
                _ => self.at += 1,
            }
        }
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
        let mut starts = vec![0];
        starts.extend(
            text.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Self { text, starts }
    }

    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|start| *start <= offset) - 1;
        let line_start = self.starts[line];
        let column = String::from_utf8_lossy(&self.text[line_start..offset])
            .chars()
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

    #[test]
    fn columns_count_code_points() {
        let text = "{\"é\": \"ü\", \"x\": 1}";
        assert_eq!(locate(text, "/x"), Some((1, 17)));
    }
}
