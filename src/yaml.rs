//! A bounded YAML reader: every document of a (multi-document) stream as a
//! `serde_json::Value`, with the line it starts on and the exact lines it
//! spans (for the raw reference and hash).
//!
//! YAML can make a small file expand enormously through aliases (the
//! "billion laughs" document), nest without end, or hide a parse error in the
//! fifth document of a manifest. This loader is built on `yaml-rust2`'s pull
//! parser so it decides itself how much to materialise: it counts every node
//! an alias copies and stops a document that grows beyond a fixed multiple of
//! its own size, refuses depth beyond `MAX_DEPTH`, and reports a parse error
//! with its document index, line and column while keeping the documents
//! before it.
//!
//! Plain scalars resolve the way Kubernetes' YAML library (go-yaml v2, YAML
//! 1.1 rules) resolves them, so `automountServiceAccountToken: no` is `false`
//! here as it is in the cluster; quoted scalars and `!!str` stay strings.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Deeper nesting than any real manifest; deeper input is refused.
pub const MAX_DEPTH: usize = 64;
/// How many nodes a document may hold per event the parser produced for it,
/// before alias expansion counts as an attack.
const EXPANSION_FACTOR: usize = 16;
/// Expansion always allowed, so small documents with a few aliases pass.
const EXPANSION_FLOOR: usize = 4096;

/// One document of the stream.
#[derive(Debug)]
pub struct Document {
    /// 1-based position in the stream.
    pub index: usize,
    /// 1-based line where the document starts.
    pub line: usize,
    /// The document's lines, as they are in the file.
    pub text: String,
    pub value: Value,
}

/// Why the stream could not be read past some point.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    /// 1-based index of the document that failed.
    pub document: usize,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "document {} (line {}, column {}): {}",
            self.document, self.line, self.column, self.reason
        )
    }
}

/// Every complete document of `text`, and the error that stopped reading if
/// there was one (documents after a syntax error cannot be found reliably, so
/// they are not guessed at). Documents that are empty (`---` alone, comments
/// only) are left out: they hold no record.
pub fn documents(text: &str) -> (Vec<Document>, Option<YamlError>) {
    let mut loader = Loader::new(text);
    let error = loader.run().err();
    (loader.done, error)
}

/// A container being built.
enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        nodes: usize,
    },
    Map {
        map: Map<String, Value>,
        key: Option<String>,
        anchor: usize,
        nodes: usize,
    },
}

struct Loader<'a> {
    text: &'a str,
    /// Byte offset of the start of each line (index 0 is line 1).
    line_starts: Vec<usize>,
    parser: Parser<std::str::Chars<'a>>,
    stack: Vec<Frame>,
    /// Anchored values of the current document and their node counts.
    anchors: HashMap<usize, (Value, usize)>,
    done: Vec<Document>,
    /// The current document: index, start line, root once complete.
    index: usize,
    start_line: usize,
    root: Option<Value>,
    events: usize,
    nodes: usize,
}

impl<'a> Loader<'a> {
    fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Loader {
            text,
            line_starts,
            parser: Parser::new_from_str(text),
            stack: Vec::new(),
            anchors: HashMap::new(),
            done: Vec::new(),
            index: 0,
            start_line: 1,
            root: None,
            events: 0,
            nodes: 0,
        }
    }

    fn error_at(&self, mark: Marker, reason: impl Into<String>) -> YamlError {
        YamlError {
            document: self.index.max(1),
            line: mark.line(),
            column: mark.col() + 1,
            reason: reason.into(),
        }
    }

    fn run(&mut self) -> Result<(), YamlError> {
        loop {
            let (event, mark) = self.parser.next_token().map_err(|e| {
                let mut err = self.error_at(*e.marker(), e.info());
                // The scanner reports a failure in the document after the last
                // complete one, even when it happens before `---` is seen.
                err.document = self.index.max(self.done.len() + 1);
                err
            })?;
            self.events += 1;
            match event {
                Event::StreamStart | Event::Nothing => {}
                Event::StreamEnd => {
                    self.close_document(mark.line());
                    return Ok(());
                }
                Event::DocumentStart => {
                    self.close_document(mark.line());
                    self.index += 1;
                    self.start_line = mark.line().max(1);
                    self.anchors.clear();
                    self.events = 0;
                    self.nodes = 0;
                }
                Event::DocumentEnd => {}
                Event::Alias(id) => {
                    let (value, nodes) = self
                        .anchors
                        .get(&id)
                        .cloned()
                        .ok_or_else(|| self.error_at(mark, "an alias to an unknown anchor"))?;
                    self.complete(value, nodes, 0, mark)?;
                }
                Event::Scalar(text, style, anchor, tag) => {
                    if let Some(Frame::Map {
                        key: key @ None, ..
                    }) = self.stack.last_mut()
                    {
                        *key = Some(text);
                        continue;
                    }
                    let forced_string = tag.as_ref().is_some_and(|t| t.suffix == "str");
                    let value = if style == TScalarStyle::Plain && !forced_string {
                        resolve_plain(&text)
                    } else {
                        Value::String(text)
                    };
                    self.complete(value, 1, anchor, mark)?;
                }
                Event::SequenceStart(anchor, _) => {
                    self.check_key_position(mark)?;
                    self.push(
                        Frame::Seq {
                            items: Vec::new(),
                            anchor,
                            nodes: 1,
                        },
                        mark,
                    )?;
                }
                Event::MappingStart(anchor, _) => {
                    self.check_key_position(mark)?;
                    self.push(
                        Frame::Map {
                            map: Map::new(),
                            key: None,
                            anchor,
                            nodes: 1,
                        },
                        mark,
                    )?;
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let (value, nodes, anchor) = match self.stack.pop() {
                        Some(Frame::Seq {
                            items,
                            anchor,
                            nodes,
                        }) => (Value::Array(items), nodes, anchor),
                        Some(Frame::Map {
                            map, anchor, nodes, ..
                        }) => (Value::Object(map), nodes, anchor),
                        None => return Err(self.error_at(mark, "a collection end with no start")),
                    };
                    // Its children were counted as they were added; `complete`
                    // adds the whole again, so take back all but the container.
                    self.nodes -= nodes - 1;
                    self.complete(value, nodes, anchor, mark)?;
                }
            }
        }
    }

    /// Mapping keys must be scalars: JSON objects cannot hold anything else.
    fn check_key_position(&self, mark: Marker) -> Result<(), YamlError> {
        match self.stack.last() {
            Some(Frame::Map { key: None, .. }) => Err(self.error_at(
                mark,
                "a mapping key that is a collection (only scalar keys can be read)",
            )),
            _ => Ok(()),
        }
    }

    fn push(&mut self, frame: Frame, mark: Marker) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error_at(
                mark,
                format!("nested deeper than {MAX_DEPTH} levels; refused"),
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    /// A finished node: remember its anchor and place it in its parent.
    fn complete(
        &mut self,
        value: Value,
        nodes: usize,
        anchor: usize,
        mark: Marker,
    ) -> Result<(), YamlError> {
        self.nodes += nodes;
        let budget = EXPANSION_FLOOR.max(EXPANSION_FACTOR * self.events);
        if self.nodes > budget {
            return Err(self.error_at(
                mark,
                format!(
                    "aliases expand the document to over {budget} nodes from {} parsed; \
                     refused as an alias bomb",
                    self.events
                ),
            ));
        }
        if anchor > 0 {
            self.anchors.insert(anchor, (value.clone(), nodes));
        }
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq {
                items, nodes: n, ..
            }) => {
                items.push(value);
                *n += nodes;
            }
            Some(Frame::Map {
                map, key, nodes: n, ..
            }) => {
                let Some(k) = key.take() else {
                    return Err(self.error_at(
                        mark,
                        "a mapping key that is an alias (only scalar keys can be read)",
                    ));
                };
                *n += nodes;
                if k == "<<" {
                    merge(map, value);
                } else {
                    map.insert(k, value);
                }
            }
        }
        Ok(())
    }

    /// Ends the current document at `next_line` (where the next one starts).
    fn close_document(&mut self, next_line: usize) {
        let Some(value) = self.root.take() else {
            return;
        };
        if value.is_null() {
            return;
        }
        let line = self.start_line;
        let start = self.line_starts[(line - 1).min(self.line_starts.len() - 1)];
        let end_line = next_line.max(line + 1);
        let end = self
            .line_starts
            .get(end_line - 1)
            .copied()
            .unwrap_or(self.text.len());
        self.done.push(Document {
            index: self.index.max(1),
            line,
            text: self.text[start..end.max(start)].to_string(),
            value,
        });
    }
}

/// `<<: *base` (and `<<: [*a, *b]`): keys of the merged mappings that the
/// mapping does not set itself.
fn merge(map: &mut Map<String, Value>, value: Value) {
    let sources = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    for source in sources {
        if let Value::Object(entries) = source {
            for (k, v) in entries {
                map.entry(k).or_insert(v);
            }
        }
    }
}

/// A plain scalar's value under go-yaml v2's YAML 1.1 rules.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
            return Value::Bool(true)
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => {
            return Value::Bool(false)
        }
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Value::String(text.to_string());
    }
    let plain = text.replace('_', "");
    let (negative, digits) = match plain.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, plain.strip_prefix('+').unwrap_or(&plain)),
    };
    let radix = if let Some(hex) = digits.strip_prefix("0x") {
        Some((hex, 16))
    } else if let Some(oct) = digits.strip_prefix("0o") {
        Some((oct, 8))
    } else if digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        Some((&digits[1..], 8))
    } else if digits.bytes().all(|b| b.is_ascii_digit()) && !digits.is_empty() {
        Some((digits, 10))
    } else {
        None
    };
    if let Some((body, radix)) = radix {
        if let Ok(n) = i64::from_str_radix(body, radix) {
            return Value::Number(Number::from(if negative { -n } else { n }));
        }
        if let (false, Ok(n)) = (negative, u64::from_str_radix(body, radix)) {
            return Value::Number(Number::from(n));
        }
        return Value::String(text.to_string());
    }
    let looks_float = digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if looks_float {
        if let Some(n) = plain.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    // `.inf`, `.nan` and anything else: JSON has no such number; keep the text.
    Value::String(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(text: &str) -> Vec<Value> {
        let (docs, err) = documents(text);
        assert_eq!(err, None);
        docs.into_iter().map(|d| d.value).collect()
    }

    #[test]
    fn multi_document_streams_keep_index_line_and_text() {
        let text = "# header\napiVersion: v1\nkind: A\n---\nkind: B\n---\n---\nkind: C\n...\n";
        let (docs, err) = documents(text);
        assert_eq!(err, None);
        let got: Vec<(usize, usize, &str)> = docs
            .iter()
            .map(|d| (d.index, d.line, d.value["kind"].as_str().unwrap()))
            .collect();
        assert_eq!(got, vec![(1, 2, "A"), (2, 4, "B"), (4, 7, "C")]);
        assert_eq!(docs[1].text, "---\nkind: B\n");
    }

    #[test]
    fn scalars_resolve_as_kubernetes_reads_them() {
        let v = &values(
            "a: no\nb: 'no'\nc: 8080\nd: \"8080\"\ne: 1.5\nf: ~\ng: 0x1F\nh: !!str true\ni: .inf\nj: 2024-01-01T00:00:00Z\nk: 010\n",
        )[0];
        assert_eq!(
            v,
            &json!({"a": false, "b": "no", "c": 8080, "d": "8080", "e": 1.5, "f": null,
                    "g": 31, "h": "true", "i": ".inf", "j": "2024-01-01T00:00:00Z", "k": 8})
        );
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let v = &values("base: &b {x: 1, y: 2}\nuse: *b\nmerged:\n  <<: *b\n  y: 3\n")[0];
        assert_eq!(v["use"], json!({"x": 1, "y": 2}));
        assert_eq!(v["merged"], json!({"x": 1, "y": 3}));
    }

    #[test]
    fn an_alias_bomb_is_refused_not_expanded() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
            .windows(2)
            .map(|w| (w[0], w[1]))
        {
            let refs = vec![format!("*{prev}"); 10].join(", ");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        let (docs, err) = documents(&text);
        assert!(docs.is_empty());
        let err = err.expect("refused");
        assert!(err.reason.contains("alias bomb"), "{err}");
        assert_eq!(err.document, 1);
    }

    #[test]
    fn depth_is_bounded() {
        let text = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let err = documents(&text).1.expect("refused");
        assert!(err.reason.contains("nested deeper"), "{err}");
    }

    #[test]
    fn a_syntax_error_names_its_document_and_keeps_the_ones_before() {
        let text = "kind: A\n---\nkind: B\n---\nkind: [unclosed\nnext: 1\n";
        let (docs, err) = documents(text);
        assert_eq!(docs.len(), 2);
        let err = err.expect("error");
        assert_eq!(err.document, 3);
        assert!(err.line >= 5, "{err}");
    }

    #[test]
    fn collection_keys_are_refused() {
        let err = documents("? [a, b]\n: 1\n").1.expect("refused");
        assert!(err.reason.contains("mapping key"), "{err}");
    }
}
