//! An OSCAL JSON document seen as Metaschema sees it: a tree of assemblies,
//! fields and flags with their XML names (`prop`, not `props`), so that
//! constraint Metapaths written against the model walk JSON documents.
//!
//! Nodes are kept in one vector in document order; each records its
//! parent and where its subtree ends, so children, descendants and
//! document order are index arithmetic. Values stay borrowed in the tape.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::json::TapeNode;

use super::metaschema::{DefId, DefKind, InJson, Metaschema};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Document,
    Assembly,
    Field,
    Flag,
}

pub const NONE: u32 = u32::MAX;

#[derive(Clone, Copy)]
pub struct Node<'t> {
    pub kind: NodeKind,
    /// Interned element or flag name.
    pub name: u32,
    pub parent: u32,
    /// One past the last node of this subtree.
    pub end: u32,
    pub def: Option<DefId>,
    /// The scalar value of a field or flag.
    pub value: Option<TapeNode<'t>>,
    /// The JSON member this node sits in (interned), and its array index.
    pub key: u32,
    pub index: u32,
    /// For a field written as an object, the member holding its value.
    pub value_key: u32,
    /// 1-based position among the parent's children of the same name (what
    /// `path()` prints), counted once here: counting per call was quadratic
    /// over large arrays.
    pub position: u32,
}

pub struct Tree<'t> {
    pub nodes: Vec<Node<'t>>,
    names: Vec<String>,
    // foldhash: names are looked up once per member and per name test, and
    // SipHash's DoS resistance buys nothing for the metaschema's own names.
    lookup: HashMap<String, u32, foldhash::fast::RandomState>,
}

impl<'t> Tree<'t> {
    /// Builds the tree of `doc` (the whole JSON document) for the model
    /// whose root element is `root_name`.
    pub fn build(doc: TapeNode<'t>, root_name: &str, ms: &Metaschema) -> Option<Tree<'t>> {
        let root_def = *ms.roots.get(root_name)?;
        let value = doc.get(root_name)?;
        let mut tree = Tree {
            nodes: Vec::new(),
            names: Vec::new(),
            lookup: HashMap::default(),
        };
        let empty = tree.intern("");
        tree.nodes.push(Node {
            kind: NodeKind::Document,
            name: empty,
            parent: NONE,
            end: 0,
            def: None,
            value: None,
            key: empty,
            index: NONE,
            value_key: NONE,
            position: 1,
        });
        let def = DefId {
            kind: DefKind::Assembly,
            index: root_def,
        };
        let name = tree.intern(root_name);
        tree.add(ms, 0, def, name, name, NONE, value);
        tree.nodes[0].end = tree.nodes.len() as u32;
        Some(tree)
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.lookup.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.lookup.insert(name.to_string(), id);
        id
    }

    /// The interned id of a name, if any node has it.
    pub fn name_id(&self, name: &str) -> Option<u32> {
        self.lookup.get(name).copied()
    }

    pub fn name(&self, node: u32) -> &str {
        &self.names[self.nodes[node as usize].name as usize]
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        ms: &Metaschema,
        parent: u32,
        def: DefId,
        name: u32,
        key: u32,
        index: u32,
        json: TapeNode<'t>,
    ) {
        let at = self.nodes.len() as u32;
        let kind = match def.kind {
            DefKind::Assembly => NodeKind::Assembly,
            DefKind::Field => NodeKind::Field,
            DefKind::Flag => NodeKind::Flag,
        };
        self.nodes.push(Node {
            kind,
            name,
            parent,
            end: 0,
            def: Some(def),
            value: None,
            key,
            index,
            value_key: NONE,
            position: 1,
        });
        let definition = ms.def(def);
        match def.kind {
            DefKind::Flag => self.nodes[at as usize].value = Some(json),
            DefKind::Field if !json.is_object() => self.nodes[at as usize].value = Some(json),
            DefKind::Field => {
                // A field with flags: its value sits under the value key,
                // or under the member named by the value-key flag.
                let mut value_member: Option<String> = definition.value_key.clone();
                if value_member.is_none() && definition.value_key_flag.is_none() {
                    value_member = Some(default_value_key(definition.as_type.as_deref()));
                }
                for (member, value) in json.members() {
                    if let Some(flag) = definition.flags.iter().find(|f| f.name == member) {
                        self.add_flag(ms, at, flag, value);
                    } else if value_member.as_deref() == Some(member)
                        || (definition.value_key_flag.is_some() && value_member.is_none())
                    {
                        let value_key = self.intern(member);
                        let node = &mut self.nodes[at as usize];
                        node.value = Some(value);
                        node.value_key = value_key;
                    }
                }
            }
            DefKind::Assembly => {
                // Flags first, so that they precede children in document
                // order, as attributes do in XML.
                for (member, value) in json.members() {
                    if let Some(flag) = definition.flags.iter().find(|f| f.name == member) {
                        self.add_flag(ms, at, flag, value);
                    }
                }
                // Children seen so far per name, for their positions.
                let mut seen: Vec<(u32, u32)> = Vec::new();
                for (member, value) in json.members() {
                    let Some(child) = definition.model.iter().find(|m| {
                        m.group_as.as_deref() == Some(&*member)
                            || (m.group_as.is_none() && m.name == member)
                    }) else {
                        continue;
                    };
                    let child_name = self.intern(&child.name);
                    let member_key = self.intern(member);
                    let first = self.nodes.len();
                    match (child.group_as.is_some(), child.in_json) {
                        (true, InJson::ByKey) if value.is_object() => {
                            for (i, (_, item)) in value.members().enumerate() {
                                self.add(ms, at, child.def, child_name, member_key, i as u32, item);
                            }
                        }
                        (true, _) if value.is_array() => {
                            for (i, item) in value.elements().enumerate() {
                                self.add(ms, at, child.def, child_name, member_key, i as u32, item);
                            }
                        }
                        _ => self.add(ms, at, child.def, child_name, member_key, NONE, value),
                    }
                    let count = match seen.iter_mut().find(|(n, _)| *n == child_name) {
                        Some((_, c)) => c,
                        None => {
                            seen.push((child_name, 0));
                            &mut seen.last_mut().expect("just pushed").1
                        }
                    };
                    let mut child = first;
                    while child < self.nodes.len() {
                        *count += 1;
                        self.nodes[child].position = *count;
                        child = self.nodes[child].end as usize;
                    }
                }
            }
        }
        self.nodes[at as usize].end = self.nodes.len() as u32;
    }

    fn add_flag(
        &mut self,
        ms: &Metaschema,
        owner: u32,
        flag: &super::metaschema::FlagUse,
        value: TapeNode<'t>,
    ) {
        let name = self.intern(&flag.name);
        let def = DefId {
            kind: DefKind::Flag,
            index: flag.def,
        };
        self.add(ms, owner, def, name, name, NONE, value);
    }

    pub fn node(&self, id: u32) -> &Node<'t> {
        &self.nodes[id as usize]
    }

    /// Element children (assemblies and fields), in order.
    pub fn children(&self, id: u32) -> impl Iterator<Item = u32> + '_ {
        self.subtree_children(id)
            .filter(move |c| self.nodes[*c as usize].kind != NodeKind::Flag)
    }

    /// Flags of a node.
    pub fn flags(&self, id: u32) -> impl Iterator<Item = u32> + '_ {
        self.subtree_children(id)
            .take_while(move |c| self.nodes[*c as usize].kind == NodeKind::Flag)
    }

    fn subtree_children(&self, id: u32) -> impl Iterator<Item = u32> + '_ {
        let end = self.nodes[id as usize].end;
        let mut next = id + 1;
        std::iter::from_fn(move || {
            if next >= end {
                return None;
            }
            let here = next;
            next = self.nodes[here as usize].end;
            Some(here)
        })
    }

    /// Element descendants (not flags), in document order.
    pub fn descendants(&self, id: u32) -> impl Iterator<Item = u32> + '_ {
        let end = self.nodes[id as usize].end;
        (id + 1..end).filter(move |c| self.nodes[*c as usize].kind != NodeKind::Flag)
    }

    /// The string value of a field or flag; assemblies have none of their
    /// own. Borrowed from the document where it can be.
    pub fn string_value(&self, id: u32) -> Cow<'t, str> {
        match self.nodes[id as usize].value {
            Some(v) => scalar_text(v),
            None => Cow::Borrowed(""),
        }
    }

    /// RFC 6901 pointer to the JSON value behind a node.
    pub fn pointer(&self, id: u32) -> String {
        let mut segments = Vec::new();
        let mut at = id;
        while at != NONE && self.nodes[at as usize].kind != NodeKind::Document {
            let node = &self.nodes[at as usize];
            if node.index != NONE {
                segments.push(node.index.to_string());
            }
            segments.push(escape(&self.names[node.key as usize]));
            at = node.parent;
        }
        segments.reverse();
        if segments.is_empty() {
            String::new()
        } else {
            format!("/{}", segments.join("/"))
        }
    }

    /// Pointer to a node's value: for a field written as an object, the
    /// member that holds the value.
    pub fn value_pointer(&self, id: u32) -> String {
        let node = &self.nodes[id as usize];
        if node.value_key == NONE {
            return self.pointer(id);
        }
        format!(
            "{}/{}",
            self.pointer(id),
            escape(&self.names[node.value_key as usize])
        )
    }

    /// A Metapath-style location (`/assessment-plan[1]/metadata[1]/@title`),
    /// what `path()` returns.
    pub fn path(&self, id: u32) -> String {
        use std::fmt::Write;
        let mut chain = Vec::new();
        let mut at = id;
        while at != NONE && self.nodes[at as usize].kind != NodeKind::Document {
            chain.push(at);
            at = self.nodes[at as usize].parent;
        }
        let mut out = String::with_capacity(chain.len() * 16);
        for &at in chain.iter().rev() {
            let node = &self.nodes[at as usize];
            let name = &self.names[node.name as usize];
            if node.kind == NodeKind::Flag {
                let _ = write!(out, "/@{name}");
            } else {
                let _ = write!(out, "/{name}[{}]", node.position);
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The text of a JSON scalar as XML would hold it.
pub fn scalar_text(value: TapeNode<'_>) -> Cow<'_, str> {
    if let Some(s) = value.str() {
        return s;
    }
    if let Some(b) = value.as_bool() {
        return Cow::Borrowed(if b { "true" } else { "false" });
    }
    if let Some(n) = value.number() {
        return Cow::Owned(n.to_string());
    }
    Cow::Borrowed("")
}

/// Metaschema's JSON member for a field's value when the definition names
/// none.
fn default_value_key(as_type: Option<&str>) -> String {
    match as_type {
        Some("markup-line") => "RICHTEXT".to_string(),
        Some("markup-multiline") => "PROSE".to_string(),
        _ => "STRVALUE".to_string(),
    }
}
