//! Reading a Metaschema XML file as NIST publishes it: the module declares
//! its shared constraint files as external entities in an internal DTD
//! (`<!ENTITY name SYSTEM "shared-constraints/x.ent">`) and includes them with
//! `&name;`. XML parsers without external-entity support (roxmltree, on
//! purpose) cannot read that, so the entities are expanded here, and every
//! position in the expanded text maps back to the file and line it came from.

use std::path::{Path, PathBuf};

/// One stretch of the expanded text and where it came from.
#[derive(Debug, Clone)]
struct Segment {
    expanded_start: usize,
    file: usize,
    source_start: usize,
}

/// A module's text with its entities expanded, and the way back to sources.
#[derive(Debug)]
pub struct ExpandedXml {
    pub text: String,
    /// The module first, then each entity file, by file name.
    files: Vec<(String, String)>,
    segments: Vec<Segment>,
}

impl ExpandedXml {
    /// Reads `path` and expands the SYSTEM entities its DTD declares (paths
    /// relative to the module). `read` supplies file contents, so the
    /// loader can check each against its pin before use.
    pub fn load(
        path: &Path,
        read: &mut dyn FnMut(&Path) -> Result<String, String>,
    ) -> Result<ExpandedXml, String> {
        let text = read(path)?;
        let name = file_name(path);
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let (body, entities) = strip_doctype(&text)?;
        let mut files = vec![(name, text.clone())];
        let mut resolved: Vec<(String, usize)> = Vec::new();
        for (entity, system) in entities {
            let entity_path: PathBuf = base.join(system.trim_start_matches("./"));
            let content = read(&entity_path)?;
            files.push((file_name(&entity_path), content));
            resolved.push((entity, files.len() - 1));
        }
        let mut expanded = String::with_capacity(body.len());
        let mut segments = vec![Segment {
            expanded_start: 0,
            file: 0,
            source_start: 0,
        }];
        let mut rest_start = 0;
        let bytes = body.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'&' {
                if let Some((entity, file)) = resolved.iter().find(|(entity, _)| {
                    body[i + 1..].starts_with(entity.as_str())
                        && body[i + 1 + entity.len()..].starts_with(';')
                }) {
                    expanded.push_str(&body[rest_start..i]);
                    segments.push(Segment {
                        expanded_start: expanded.len(),
                        file: *file,
                        source_start: 0,
                    });
                    expanded.push_str(&files[*file].1);
                    i += entity.len() + 2;
                    rest_start = i;
                    segments.push(Segment {
                        expanded_start: expanded.len(),
                        file: 0,
                        source_start: i,
                    });
                    continue;
                }
            }
            i += 1;
        }
        expanded.push_str(&body[rest_start..]);
        Ok(ExpandedXml {
            text: expanded,
            files,
            segments,
        })
    }

    /// The file and 1-based line of a byte offset in the expanded text.
    pub fn source_of(&self, offset: usize) -> (&str, usize) {
        let segment = self
            .segments
            .iter()
            .rev()
            .find(|s| s.expanded_start <= offset)
            .unwrap_or(&self.segments[0]);
        let (name, text) = &self.files[segment.file];
        let source_offset = segment.source_start + (offset - segment.expanded_start);
        let upto = &text.as_bytes()[..source_offset.min(text.len())];
        let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
        (name, line)
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Blanks the DOCTYPE (keeping every newline, so offsets and lines hold)
/// and returns the SYSTEM entities it declares.
fn strip_doctype(text: &str) -> Result<(String, Vec<(String, String)>), String> {
    let Some(start) = text.find("<!DOCTYPE") else {
        return Ok((text.to_string(), Vec::new()));
    };
    let end = match text[start..].find("]>") {
        Some(close) => start + close + 2,
        None => match text[start..].find('>') {
            Some(close) => start + close + 1,
            None => return Err("the DOCTYPE declaration is not closed".to_string()),
        },
    };
    let mut entities = Vec::new();
    let dtd = &text[start..end];
    let mut rest = dtd;
    while let Some(at) = rest.find("<!ENTITY") {
        rest = &rest[at + "<!ENTITY".len()..];
        let decl_end = rest.find('>').unwrap_or(rest.len());
        let decl = &rest[..decl_end];
        let mut words = decl.split_whitespace();
        let (Some(name), Some("SYSTEM")) = (words.next(), words.next()) else {
            continue;
        };
        let quoted = decl.split(['"', '\'']).nth(1);
        if let Some(system) = quoted {
            entities.push((name.to_string(), system.to_string()));
        }
    }
    let blank: String = dtd
        .chars()
        .map(|c| if c == '\n' { '\n' } else { ' ' })
        .collect();
    let mut body = String::with_capacity(text.len());
    body.push_str(&text[..start]);
    body.push_str(&blank);
    body.push_str(&text[end..]);
    Ok((body, entities))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn expands_entities_and_maps_lines_back() {
        let files: HashMap<&str, &str> = [
            (
                "m/mod.xml",
                "<?xml version=\"1.0\"?>\n<!DOCTYPE M [\n  <!ENTITY e SYSTEM \"./inc/e.ent\">\n]>\n<M>\n&e;\n<after/>\n</M>\n",
            ),
            ("m/inc/e.ent", "<a/>\n<b/>"),
        ]
        .into_iter()
        .collect();
        let mut read = |p: &Path| {
            files
                .get(p.to_str().unwrap())
                .map(|s| s.to_string())
                .ok_or_else(|| format!("no {}", p.display()))
        };
        let x = ExpandedXml::load(Path::new("m/mod.xml"), &mut read).unwrap();
        assert!(x.text.contains("<M>\n<a/>\n<b/>\n<after/>"));
        let b = x.text.find("<b/>").unwrap();
        assert_eq!(x.source_of(b), ("e.ent", 2));
        let after = x.text.find("<after/>").unwrap();
        assert_eq!(x.source_of(after), ("mod.xml", 7));
        roxmltree::Document::parse(&x.text).unwrap();
    }
}
