//! NIST's Metaschema modules as proofpack uses them: the definitions that
//! say how JSON members become assemblies, fields and flags (so a
//! constraint's Metapath can walk a JSON document), and the constraints
//! attached to each definition.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::rules::{parse_constraint, Constraint, Origin};
use super::xml_source::ExpandedXml;

const NS: &str = "http://csrc.nist.gov/ns/oscal/metaschema/1.0";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DefKind {
    Assembly,
    Field,
    Flag,
}

/// A reference to one definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DefId {
    pub kind: DefKind,
    pub index: u32,
}

/// A flag as it appears on an assembly or field.
#[derive(Debug, Clone)]
pub struct FlagUse {
    pub name: String,
    pub def: u32,
}

/// How a repeated child is grouped in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InJson {
    Array,
    SingletonOrArray,
    ByKey,
}

/// An assembly or field as it appears in an assembly's model.
#[derive(Debug, Clone)]
pub struct ModelUse {
    /// The element name (the use-name, else the definition's name).
    pub name: String,
    pub def: DefId,
    /// The JSON member name when the child is grouped (`props`).
    pub group_as: Option<String>,
    pub in_json: InJson,
}

#[derive(Debug, Clone, Default)]
pub struct Definition {
    pub name: String,
    /// The definition's own `use-name` (`property` is used as `prop`).
    pub use_name: Option<String>,
    pub flags: Vec<FlagUse>,
    /// Assemblies only.
    pub model: Vec<ModelUse>,
    /// Fields: the JSON member holding the value (`json-value-key`).
    pub value_key: Option<String>,
    /// Fields: the flag whose value names the value's member.
    pub value_key_flag: Option<String>,
    /// Assemblies and fields grouped BY_KEY: the flag that is the key.
    pub json_key: Option<String>,
    pub as_type: Option<String>,
    /// Indices into [`Metaschema::constraints`], in document order.
    pub constraints: Vec<u32>,
}

/// The loaded modules of one OSCAL release.
#[derive(Debug, Default)]
pub struct Metaschema {
    pub assemblies: Vec<Definition>,
    pub fields: Vec<Definition>,
    pub flags: Vec<Definition>,
    /// Root element name → assembly.
    pub roots: HashMap<String, u32>,
    pub constraints: Vec<Constraint>,
    /// Every file read (modules and entity files) with its SHA-256.
    pub files: Vec<(String, String)>,
}

impl Metaschema {
    pub fn def(&self, id: DefId) -> &Definition {
        match id.kind {
            DefKind::Assembly => &self.assemblies[id.index as usize],
            DefKind::Field => &self.fields[id.index as usize],
            DefKind::Flag => &self.flags[id.index as usize],
        }
    }

    fn def_mut(&mut self, id: DefId) -> &mut Definition {
        match id.kind {
            DefKind::Assembly => &mut self.assemblies[id.index as usize],
            DefKind::Field => &mut self.fields[id.index as usize],
            DefKind::Flag => &mut self.flags[id.index as usize],
        }
    }

    fn push(&mut self, kind: DefKind, def: Definition) -> DefId {
        let list = match kind {
            DefKind::Assembly => &mut self.assemblies,
            DefKind::Field => &mut self.fields,
            DefKind::Flag => &mut self.flags,
        };
        list.push(def);
        DefId {
            kind,
            index: (list.len() - 1) as u32,
        }
    }

    /// Loads `entry` (for OSCAL, `oscal_complete_metaschema.xml`) and every
    /// module it imports. `read` returns a file's text (and may refuse a
    /// file whose hash is not the pinned one).
    pub fn load(
        entry: &Path,
        read: &mut dyn FnMut(&Path) -> Result<String, String>,
    ) -> Result<Metaschema, String> {
        let mut files: Vec<(String, String)> = Vec::new();
        let mut reader = |path: &Path| -> Result<String, String> {
            let text = read(path)?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !files.iter().any(|(n, _)| *n == name) {
                files.push((name, crate::hash::sha256_hex(text.as_bytes())));
            }
            Ok(text)
        };
        // Read every module reachable by <import>.
        let mut modules: Vec<(PathBuf, ExpandedXml)> = Vec::new();
        let mut queue = vec![entry.to_path_buf()];
        while let Some(path) = queue.pop() {
            if modules.iter().any(|(p, _)| *p == path) {
                continue;
            }
            let xml = ExpandedXml::load(&path, &mut reader)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let doc = roxmltree::Document::parse(&xml.text)
                .map_err(|e| format!("{}: not well-formed XML: {e}", path.display()))?;
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            for import in doc
                .root_element()
                .children()
                .filter(|c| c.has_tag_name((NS, "import")))
            {
                if let Some(href) = import.attribute("href") {
                    queue.push(base.join(href));
                }
            }
            drop(doc);
            modules.push((path, xml));
        }
        let docs: Vec<roxmltree::Document<'_>> = modules
            .iter()
            .map(|(path, xml)| {
                roxmltree::Document::parse(&xml.text)
                    .map_err(|e| format!("{}: not well-formed XML: {e}", path.display()))
            })
            .collect::<Result<_, _>>()?;
        let mut builder = Builder {
            ms: Metaschema::default(),
            modules: &modules,
            docs: &docs,
            top_level: Vec::new(),
            imports: Vec::new(),
        };
        builder.declare_top_level();
        builder.fill_all()?;
        let mut ms = builder.ms;
        ms.files = files;
        ms.files.sort();
        Ok(ms)
    }
}

struct Builder<'a, 'input> {
    ms: Metaschema,
    modules: &'a [(PathBuf, ExpandedXml)],
    docs: &'a [roxmltree::Document<'input>],
    /// Per module: (kind, name) → (definition, is global).
    top_level: Vec<HashMap<(DefKind, String), (DefId, bool)>>,
    /// Per module: the modules it imports, transitively.
    imports: Vec<Vec<usize>>,
}

/// The `<use-name>` child of a definition or an instance.
fn use_name_of(node: roxmltree::Node<'_, '_>) -> Option<String> {
    node.children()
        .find(|c| c.has_tag_name((NS, "use-name")))
        .and_then(|c| c.text())
        .map(|t| t.trim().to_string())
}

fn kind_of(tag: &str) -> Option<DefKind> {
    match tag {
        "define-assembly" => Some(DefKind::Assembly),
        "define-field" => Some(DefKind::Field),
        "define-flag" => Some(DefKind::Flag),
        _ => None,
    }
}

impl<'a, 'input> Builder<'a, 'input> {
    /// Gives every top-level definition its index, so references resolve
    /// whatever order modules define things in.
    fn declare_top_level(&mut self) {
        for doc in self.docs {
            let mut table = HashMap::new();
            for node in doc.root_element().children().filter(|n| n.is_element()) {
                let Some(kind) = kind_of(node.tag_name().name()) else {
                    continue;
                };
                let name = node.attribute("name").unwrap_or_default().to_string();
                let id = self.ms.push(
                    kind,
                    Definition {
                        name: name.clone(),
                        use_name: use_name_of(node),
                        ..Default::default()
                    },
                );
                let global = node.attribute("scope") != Some("local");
                table.insert((kind, name), (id, global));
            }
            self.top_level.push(table);
        }
        // Transitive imports by module path.
        let paths: Vec<&PathBuf> = self.modules.iter().map(|(p, _)| p).collect();
        let direct: Vec<Vec<usize>> = self
            .docs
            .iter()
            .enumerate()
            .map(|(i, doc)| {
                let base = paths[i].parent().map(Path::to_path_buf).unwrap_or_default();
                doc.root_element()
                    .children()
                    .filter(|c| c.has_tag_name((NS, "import")))
                    .filter_map(|c| c.attribute("href"))
                    .filter_map(|href| paths.iter().position(|p| **p == base.join(href)))
                    .collect()
            })
            .collect();
        for start in 0..self.docs.len() {
            let mut seen = vec![start];
            let mut queue = direct[start].clone();
            while let Some(m) = queue.pop() {
                if !seen.contains(&m) {
                    seen.push(m);
                    queue.extend(direct[m].iter().copied());
                }
            }
            seen.remove(0);
            self.imports.push(seen);
        }
    }

    fn resolve(&self, module: usize, kind: DefKind, name: &str) -> Option<DefId> {
        let key = (kind, name.to_string());
        if let Some((id, _)) = self.top_level[module].get(&key) {
            return Some(*id);
        }
        self.imports[module]
            .iter()
            .find_map(|m| match self.top_level[*m].get(&key) {
                Some((id, true)) => Some(*id),
                _ => None,
            })
    }

    fn fill_all(&mut self) -> Result<(), String> {
        for module in 0..self.docs.len() {
            let doc = &self.docs[module];
            for node in doc.root_element().children().filter(|n| n.is_element()) {
                let Some(kind) = kind_of(node.tag_name().name()) else {
                    continue;
                };
                let name = node.attribute("name").unwrap_or_default().to_string();
                let (id, _) = self.top_level[module][&(kind, name)];
                self.fill(module, node, id)?;
                if kind == DefKind::Assembly {
                    if let Some(root) = node
                        .children()
                        .find(|c| c.has_tag_name((NS, "root-name")))
                        .and_then(|r| r.text())
                    {
                        self.ms.roots.insert(root.trim().to_string(), id.index);
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads one definition's flags, model, JSON naming and constraints.
    fn fill(
        &mut self,
        module: usize,
        node: roxmltree::Node<'_, '_>,
        id: DefId,
    ) -> Result<(), String> {
        let mut def = Definition {
            name: self.ms.def(id).name.clone(),
            use_name: self.ms.def(id).use_name.clone(),
            as_type: node.attribute("as-type").map(str::to_string),
            ..Default::default()
        };
        for child in node.children().filter(|n| n.is_element()) {
            match child.tag_name().name() {
                "flag" => {
                    let name = child.attribute("ref").unwrap_or_default();
                    let flag = self.resolve(module, DefKind::Flag, name).ok_or_else(|| {
                        self.where_(module, child, &format!("flag `{name}` is not defined"))
                    })?;
                    let use_name = use_name_of(child)
                        .or_else(|| self.ms.def(flag).use_name.clone())
                        .unwrap_or_else(|| name.to_string());
                    def.flags.push(FlagUse {
                        name: use_name,
                        def: flag.index,
                    });
                }
                "define-flag" => {
                    let name = child.attribute("name").unwrap_or_default().to_string();
                    let flag = self.ms.push(
                        DefKind::Flag,
                        Definition {
                            name: name.clone(),
                            ..Default::default()
                        },
                    );
                    self.fill(module, child, flag)?;
                    def.flags.push(FlagUse {
                        name,
                        def: flag.index,
                    });
                }
                "model" => self.fill_model(module, child, &mut def.model)?,
                "json-value-key" => def.value_key = child.text().map(|t| t.trim().to_string()),
                "json-value-key-flag" => {
                    def.value_key_flag = child.attribute("flag-ref").map(str::to_string)
                }
                "json-key" => def.json_key = child.attribute("flag-ref").map(str::to_string),
                "constraint" => {
                    def.constraints = self.read_constraints(module, child, &def.name);
                }
                _ => {}
            }
        }
        *self.ms.def_mut(id) = def;
        Ok(())
    }

    fn fill_model(
        &mut self,
        module: usize,
        model: roxmltree::Node<'_, '_>,
        out: &mut Vec<ModelUse>,
    ) -> Result<(), String> {
        for child in model.children().filter(|n| n.is_element()) {
            let tag = child.tag_name().name();
            let (def, default_name) = match tag {
                "choice" | "choice-group" => {
                    self.fill_model(module, child, out)?;
                    continue;
                }
                "assembly" | "field" => {
                    let kind = if tag == "assembly" {
                        DefKind::Assembly
                    } else {
                        DefKind::Field
                    };
                    let name = child.attribute("ref").unwrap_or_default();
                    let def = self.resolve(module, kind, name).ok_or_else(|| {
                        self.where_(module, child, &format!("{tag} `{name}` is not defined"))
                    })?;
                    let name = self
                        .ms
                        .def(def)
                        .use_name
                        .clone()
                        .unwrap_or_else(|| name.to_string());
                    (def, name)
                }
                "define-assembly" | "define-field" => {
                    let kind = kind_of(tag).unwrap_or(DefKind::Field);
                    let name = child.attribute("name").unwrap_or_default().to_string();
                    let def = self.ms.push(
                        kind,
                        Definition {
                            name: name.clone(),
                            use_name: use_name_of(child),
                            ..Default::default()
                        },
                    );
                    self.fill(module, child, def)?;
                    (def, name)
                }
                _ => continue,
            };
            let use_name = use_name_of(child).unwrap_or(default_name);
            let group = child.children().find(|c| c.has_tag_name((NS, "group-as")));
            let in_json = match group.and_then(|g| g.attribute("in-json")) {
                Some("BY_KEY") => InJson::ByKey,
                Some("SINGLETON_OR_ARRAY") => InJson::SingletonOrArray,
                _ => InJson::Array,
            };
            out.push(ModelUse {
                name: use_name,
                def,
                group_as: group.and_then(|g| g.attribute("name")).map(str::to_string),
                in_json,
            });
        }
        Ok(())
    }

    fn read_constraints(
        &mut self,
        module: usize,
        block: roxmltree::Node<'_, '_>,
        def_name: &str,
    ) -> Vec<u32> {
        let mut ids = Vec::new();
        for node in block.children().filter(|n| n.is_element()) {
            let (file, line) = self.modules[module].1.source_of(node.range().start);
            let origin = Origin {
                file: file.to_string(),
                line,
            };
            let fallback = |kind: &str| format!("{def_name}/{kind}@{file}:{line}");
            if let Some(constraint) = parse_constraint(node, origin.clone(), fallback) {
                self.ms.constraints.push(constraint);
                ids.push((self.ms.constraints.len() - 1) as u32);
            }
        }
        ids
    }

    fn where_(&self, module: usize, node: roxmltree::Node<'_, '_>, message: &str) -> String {
        let (file, line) = self.modules[module].1.source_of(node.range().start);
        format!("{file}:{line}: {message}")
    }
}
