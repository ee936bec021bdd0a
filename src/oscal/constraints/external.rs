//! External constraint files (`<metaschema-meta-constraints>`), the form
//! FedRAMP publishes its OSCAL rules in: each `<context>` names the nodes it
//! applies to by Metapath from the document root (nested contexts from
//! their parent's nodes) and holds a block of constraints.

use std::path::Path;

use super::rules::{parse_constraint, Constraint, Origin, Path as MetaPath};
use super::xml_source::ExpandedXml;

const NS: &str = "http://csrc.nist.gov/ns/oscal/metaschema/1.0";

#[derive(Debug, Default)]
pub struct Context {
    pub targets: Vec<MetaPath>,
    /// Indices into [`External::constraints`].
    pub constraints: Vec<u32>,
    pub children: Vec<Context>,
}

#[derive(Debug, Default)]
pub struct External {
    pub contexts: Vec<Context>,
    pub constraints: Vec<Constraint>,
    /// Each file read, with its SHA-256.
    pub files: Vec<(String, String)>,
}

impl External {
    /// Reads every `*.xml` in `dir` (sorted by name).
    pub fn load_dir(dir: &Path) -> Result<External, String> {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read constraint folder {}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "xml"))
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(format!(
                "{} holds no constraint files (*.xml); point --fedramp-constraints at FedRAMP's src/validations/constraints folder",
                dir.display()
            ));
        }
        let mut external = External::default();
        for path in paths {
            external.load_file(&path)?;
        }
        Ok(external)
    }

    pub fn load_file(&mut self, path: &Path) -> Result<(), String> {
        // Each file read (the module and any entity it includes) is hashed
        // as it is read, so the report names exactly the bytes evaluated.
        let files = &mut self.files;
        let mut read = |p: &Path| {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push((name, crate::hash::sha256_hex(text.as_bytes())));
            Ok(text)
        };
        let xml = ExpandedXml::load(path, &mut read)?;
        let doc = roxmltree::Document::parse(&xml.text)
            .map_err(|e| format!("{}: not well-formed XML: {e}", path.display()))?;
        let root = doc.root_element();
        if root.tag_name().name() != "metaschema-meta-constraints" {
            return Err(format!(
                "{}: the root element is <{}>, not <metaschema-meta-constraints>; only external constraint files are read from this folder",
                path.display(),
                root.tag_name().name()
            ));
        }
        for context in root.children().filter(|c| c.has_tag_name((NS, "context"))) {
            let read = self.read_context(&xml, context);
            self.contexts.push(read);
        }
        Ok(())
    }

    fn read_context(&mut self, xml: &ExpandedXml, node: roxmltree::Node<'_, '_>) -> Context {
        let mut context = Context::default();
        for child in node.children().filter(|c| c.is_element()) {
            match child.tag_name().name() {
                "metapath" => {
                    let text = child.attribute("target").unwrap_or(".").to_string();
                    let expr = super::metapath::parse(&text)
                        .unwrap_or(super::metapath::Expr::Sequence(Vec::new()));
                    context.targets.push(MetaPath { text, expr });
                }
                "constraints" => {
                    for c in child.children().filter(|c| c.is_element()) {
                        let (file, line) = xml.source_of(c.range().start);
                        let origin = Origin {
                            file: file.to_string(),
                            line,
                        };
                        let fallback = |kind: &str| format!("{kind}@{file}:{line}");
                        if let Some(constraint) = parse_constraint(c, origin, fallback) {
                            self.constraints.push(constraint);
                            context
                                .constraints
                                .push((self.constraints.len() - 1) as u32);
                        }
                    }
                }
                "context" => {
                    let nested = self.read_context(xml, child);
                    context.children.push(nested);
                }
                _ => {}
            }
        }
        context
    }
}
