//! The checks a JSON schema cannot express: UUIDs unique within the
//! document, every UUID / role / `#uuid` reference resolving to an object of
//! the right kind, local imports existing and being the right model, and
//! back-matter rlinks matching the hashes the document gives for them.
//!
//! References into an imported document are resolved when that document is
//! a readable local JSON file. When an import cannot be read (remote URL,
//! XML, missing), references the document does not define itself cannot be
//! judged: they are reported as `unchecked-reference` warnings, not errors.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use url::Url;

use super::diagnostic::Diagnostic;
use super::locate::push_escaped;
use super::model::OscalModel;
use crate::hash::HashAlgorithm;
use crate::json::{Tape, TapeNode};

/// How deep imports are followed (AR → AP → SSP → profile → catalog).
const MAX_IMPORT_DEPTH: usize = 5;

/// Limits and context for the reference checks.
pub struct ReferenceOptions<'a> {
    /// The folder of the document, for relative hrefs (`None` for stdin).
    pub base_dir: Option<&'a Path>,
    /// Files larger than this are not read for imports or hashes.
    pub max_bytes: u64,
}

/// Where a UUID is defined and what kind of object it names.
#[derive(Debug, Clone)]
struct Definition {
    pointer: String,
    /// The collection the object sits in: `observations`, `parties`, ...
    kind: String,
}

/// UUIDs and role ids known to one document (and the documents it imports).
#[derive(Default)]
struct Index {
    /// Every definition of a UUID; more than one is itself an error, but a
    /// reference is judged against all of them so one defect is reported once.
    uuids: HashMap<String, Vec<Definition>, foldhash::fast::RandomState>,
    roles: HashSet<String>,
}

/// Runs every reference check on a parsed document.
pub fn check_references(
    doc: TapeNode<'_>,
    model: OscalModel,
    options: &ReferenceOptions<'_>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let root_pointer = format!("/{}", model.root_key());
    let Some(root) = doc.get(model.root_key()) else {
        return out;
    };

    let mut own = Index::default();
    collect_definitions(
        root,
        &mut root_pointer.clone(),
        model.root_key(),
        &mut own,
        Some(&mut out),
    );

    let mut imported = Index::default();
    let mut unresolved_imports = Vec::new();
    let mut visited = HashSet::new();
    follow_imports(
        root,
        &root_pointer,
        model,
        &own,
        options.base_dir,
        options,
        0,
        &mut visited,
        &mut imported,
        &mut unresolved_imports,
        Some(&mut out),
    );

    let scope = Scope {
        own: &own,
        imported: &imported,
        unresolved_imports: &unresolved_imports,
        wording: Default::default(),
    };
    let mut path = root_pointer.clone();
    check_reference_values(root, &mut path, &scope, &mut out);
    check_rlink_hashes(root, &root_pointer, options, &mut out);
    out
}

/// Records every object's `uuid` (and metadata roles); reports a UUID
/// defined twice when `duplicates` is given. `path` is the pointer of `node`
/// and is restored before returning.
fn collect_definitions(
    node: TapeNode<'_>,
    path: &mut String,
    container: &str,
    index: &mut Index,
    mut duplicates: Option<&mut Vec<Diagnostic>>,
) {
    if node.is_object() {
        if let Some(uuid) = node.get("uuid").and_then(|u| u.str()) {
            let key = uuid.to_ascii_lowercase();
            let definitions = index.uuids.entry(key).or_default();
            if let Some(first) = definitions.first() {
                if let Some(out) = duplicates.as_deref_mut() {
                    out.push(Diagnostic::error(
                        "duplicate-uuid",
                        format!("{path}/uuid"),
                        format!(
                            "uuid `{uuid}` is already used by the {} at {}; every uuid in a document must be unique",
                            kind_noun(&first.kind),
                            first.pointer
                        ),
                    ));
                }
            }
            definitions.push(Definition {
                pointer: path.clone(),
                kind: container.to_string(),
            });
        }
        if container == "roles" {
            if let Some(id) = node.get("id").and_then(|i| i.str()) {
                index.roles.insert(id.into_owned());
            }
        }
        for (key, child) in node.members() {
            if child.is_object() || child.is_array() {
                let depth = path.len();
                path.push('/');
                push_escaped(path, key);
                collect_definitions(child, path, key, index, duplicates.as_deref_mut());
                path.truncate(depth);
            }
        }
    } else if node.is_array() {
        for (i, item) in node.elements().enumerate() {
            if item.is_object() || item.is_array() {
                let depth = path.len();
                push_index(path, i);
                collect_definitions(item, path, container, index, duplicates.as_deref_mut());
                path.truncate(depth);
            }
        }
    }
}

fn push_index(path: &mut String, index: usize) {
    use std::fmt::Write;
    // Writing to a String cannot fail.
    let _ = write!(path, "/{index}");
}

/// The model an import key must name.
fn import_targets(model: OscalModel) -> &'static [(&'static str, &'static [OscalModel])] {
    use OscalModel::*;
    match model {
        AssessmentResults => &[("import-ap", &[AssessmentPlan])],
        AssessmentPlan | PlanOfActionAndMilestones => &[("import-ssp", &[SystemSecurityPlan])],
        SystemSecurityPlan => &[("import-profile", &[Profile])],
        Profile => &[("imports", &[Catalog, Profile])],
        ComponentDefinition => &[("import-component-definitions", &[ComponentDefinition])],
        Catalog | MappingCollection => &[],
    }
}

/// Why references into an import could not be checked.
struct UnresolvedImport {
    href: String,
    why: String,
}

#[allow(clippy::too_many_arguments)]
fn follow_imports(
    root: TapeNode<'_>,
    root_pointer: &str,
    model: OscalModel,
    own: &Index,
    base_dir: Option<&Path>,
    options: &ReferenceOptions<'_>,
    depth: usize,
    visited: &mut HashSet<PathBuf>,
    imported: &mut Index,
    unresolved: &mut Vec<Unresolved>,
    mut out: Option<&mut Vec<Diagnostic>>,
) {
    for (key, expected) in import_targets(model) {
        // `imports` and `import-component-definitions` are arrays of
        // {href}; the others are one {href}.
        let entries: Vec<(String, TapeNode<'_>)> = match root.get(key) {
            Some(items) if items.is_array() => items
                .elements()
                .enumerate()
                .map(|(i, item)| (format!("{root_pointer}/{key}/{i}"), item))
                .collect(),
            Some(item) if item.is_object() => vec![(format!("{root_pointer}/{key}"), item)],
            _ => continue,
        };
        for (pointer, entry) in entries {
            let Some(href) = entry.get("href").and_then(|h| h.str()) else {
                continue;
            };
            let href: &str = &href;
            let href_pointer = format!("{pointer}/href");
            let target = resolve_import_href(href, root, root_pointer, own, base_dir);
            // Every way an import can fail to be read ends the same way: an
            // optional diagnostic for the document's own imports, and a note
            // of what the import could have defined.
            let mut skip = |diagnostic: Option<Diagnostic>, why: String| {
                if let (Some(out), Some(d)) = (out.as_deref_mut(), diagnostic) {
                    out.push(d);
                }
                note_unresolved(
                    unresolved,
                    key,
                    UnresolvedImport {
                        href: href.to_string(),
                        why,
                    },
                );
            };
            let path = match target {
                ImportTarget::Local(path) => path,
                ImportTarget::DanglingFragment => {
                    skip(
                        Some(Diagnostic::error(
                            "dangling-reference",
                            href_pointer,
                            format!("{key} href `{href}` names no back-matter resource of this document"),
                        )),
                        "it names no back-matter resource".into(),
                    );
                    continue;
                }
                ImportTarget::Unreadable(why) => {
                    skip(None, why);
                    continue;
                }
            };
            let Ok(metadata) = std::fs::metadata(&path) else {
                skip(
                    Some(Diagnostic::warning(
                        "import-missing",
                        href_pointer,
                        format!(
                            "{key} href `{href}` names {}, which does not exist; references into it were not checked",
                            path.display()
                        ),
                    )),
                    "the file does not exist".into(),
                );
                continue;
            };
            let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
            if !visited.insert(canonical) {
                continue;
            }
            if !is_json_path(&path) {
                skip(
                    None,
                    "it is not a JSON document, which proofpack does not read for references"
                        .into(),
                );
                continue;
            }
            if metadata.len() > options.max_bytes || depth >= MAX_IMPORT_DEPTH {
                skip(None, "it is too large or imports nest too deep".into());
                continue;
            }
            let text = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| String::from_utf8(bytes).map_err(|e| e.to_string()));
            let parsed = match &text {
                Ok(text) => Tape::parse(text).map_err(|e| e.to_string()),
                Err(e) => Err(e.clone()),
            };
            let doc = match &parsed {
                Ok(tape) => tape.root(),
                Err(reason) => {
                    skip(
                        Some(Diagnostic::error(
                            "import-unreadable",
                            href_pointer,
                            format!(
                                "{key} href `{href}`: cannot read {}: {reason}",
                                path.display()
                            ),
                        )),
                        reason.clone(),
                    );
                    continue;
                }
            };
            let found_model = doc
                .members()
                .find_map(|(k, _)| OscalModel::from_root_key(k));
            let Some(found_model) = found_model.filter(|m| expected.contains(m)) else {
                let found = found_model
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "no OSCAL model".into());
                let wanted: Vec<String> = expected.iter().map(|m| m.to_string()).collect();
                skip(
                    Some(Diagnostic::error(
                        "import-wrong-model",
                        href_pointer,
                        format!(
                            "{key} href `{href}` must name a {} document, but {} holds {found}",
                            wanted.join(" or "),
                            path.display()
                        ),
                    )),
                    "it is the wrong model".into(),
                );
                continue;
            };
            let Some(imported_root) = doc.get(found_model.root_key()) else {
                continue;
            };
            let imported_pointer = format!("/{}", found_model.root_key());
            let mut imported_own = Index::default();
            collect_definitions(
                imported_root,
                &mut imported_pointer.clone(),
                found_model.root_key(),
                &mut imported_own,
                None,
            );
            follow_imports(
                imported_root,
                &imported_pointer,
                found_model,
                &imported_own,
                path.parent(),
                options,
                depth + 1,
                visited,
                imported,
                unresolved,
                None,
            );
            for (uuid, definitions) in imported_own.uuids {
                imported.uuids.entry(uuid).or_default().extend(definitions);
            }
            imported.roles.extend(imported_own.roles);
        }
    }
}

/// Records an import whose references cannot be checked. Profiles and
/// catalogs define no parties, components, tasks or other objects that a
/// UUID reference can name, so an unreadable `import-profile` / `imports`
/// leaves nothing unchecked.
fn note_unresolved(unresolved: &mut Vec<Unresolved>, key: &str, import: UnresolvedImport) {
    let defines = importable_kinds(key);
    if !defines.is_empty() {
        unresolved.push(Unresolved { import, defines });
    }
}

/// An import that could not be read, and what it could have defined.
struct Unresolved {
    import: UnresolvedImport,
    defines: &'static [&'static str],
}

/// The kinds of object a document imported under `key` (and what it imports
/// in turn) can define. Observations, risks and findings are never among
/// them: a reference to one must resolve in the document itself.
fn importable_kinds(key: &str) -> &'static [&'static str] {
    const SSP: &[&str] = &[
        "parties",
        "locations",
        "components",
        "inventory-items",
        "users",
        "resources",
    ];
    const PLAN: &[&str] = &[
        "parties",
        "locations",
        "components",
        "inventory-items",
        "users",
        "resources",
        "tasks",
        "activities",
        "assessment-platforms",
    ];
    match key {
        "import-ap" => PLAN,
        "import-ssp" => SSP,
        "import-component-definitions" => &["parties", "locations", "components", "resources"],
        _ => &[],
    }
}

enum ImportTarget {
    Local(PathBuf),
    DanglingFragment,
    Unreadable(String),
}

/// Resolves an import href: `#uuid` through the back-matter resource's
/// rlinks, a relative path or `file:` URI against the document's folder.
fn resolve_import_href(
    href: &str,
    root: TapeNode<'_>,
    root_pointer: &str,
    own: &Index,
    base_dir: Option<&Path>,
) -> ImportTarget {
    if let Some(fragment) = href.strip_prefix('#') {
        let resource = own
            .uuids
            .get(&fragment.to_ascii_lowercase())
            .and_then(|defs| defs.iter().find(|d| d.kind == "resources"));
        let Some(definition) = resource else {
            return ImportTarget::DanglingFragment;
        };
        // Definitions carry document pointers (`/assessment-results/...`);
        // `root` is the value under the root key.
        let resource = definition
            .pointer
            .strip_prefix(root_pointer)
            .and_then(|p| root.pointer(p));
        let hrefs: Vec<String> = resource
            .and_then(|r| r.get("rlinks"))
            .map(|links| {
                links
                    .elements()
                    .filter_map(|l| l.get("href").and_then(|h| h.str()).map(|h| h.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        // Prefer a JSON rendition; OSCAL documents often list XML, JSON and YAML.
        let mut local: Vec<PathBuf> = hrefs
            .iter()
            .filter_map(|h| local_path(h, base_dir))
            .collect();
        local.sort_by_key(|p| !is_json_path(p));
        return match local.into_iter().next() {
            Some(path) => ImportTarget::Local(path),
            None => ImportTarget::Unreadable("its back-matter resource has no local rlink".into()),
        };
    }
    match local_path(href, base_dir) {
        Some(path) => ImportTarget::Local(path),
        None if base_dir.is_none() => {
            ImportTarget::Unreadable("the document was read from standard input".into())
        }
        None => {
            ImportTarget::Unreadable("it is a remote URL, which proofpack does not fetch".into())
        }
    }
}

/// A local file named by an href, or `None` for a remote URL.
fn local_path(href: &str, base_dir: Option<&Path>) -> Option<PathBuf> {
    let base_dir = base_dir?;
    let absolute = base_dir
        .canonicalize()
        .unwrap_or_else(|_| base_dir.to_path_buf());
    let base = Url::from_directory_path(&absolute).ok()?;
    let joined = base.join(href).ok()?;
    if joined.scheme() != "file" {
        return None;
    }
    joined.to_file_path().ok()
}

fn is_json_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

struct Scope<'a> {
    own: &'a Index,
    imported: &'a Index,
    unresolved_imports: &'a [Unresolved],
    /// Per set of kinds (by address: they are static), the words a missing
    /// reference's message uses: written once, not per reference (a
    /// document behind a missing import has one per reference).
    wording: std::cell::RefCell<Vec<((usize, usize), Wording)>>,
}

#[derive(Clone)]
struct Wording {
    /// `component or inventory item`
    what: String,
    /// The unreadable imports that could define such an object, if any.
    undecided: Option<String>,
}

/// Keys whose string value names a UUID, with the kinds it may name.
fn uuid_reference_kinds(key: &str, object: TapeNode<'_>) -> Option<&'static [&'static str]> {
    let by_type = |types: &[(&str, &'static [&'static str])]| -> &'static [&'static str] {
        let named = object.get("type").and_then(|t| t.str()).unwrap_or_default();
        types
            .iter()
            .find(|(t, _)| *t == named)
            .map(|(_, k)| *k)
            .unwrap_or(&[])
    };
    Some(match key {
        "observation-uuid" => &["observations"],
        "risk-uuid" => &["risks"],
        "finding-uuid" => &["findings"],
        "party-uuid" | "party-uuids" | "member-of-organizations" => &["parties"],
        "location-uuid" | "location-uuids" => &["locations"],
        "component-uuid" => &["components"],
        "inventory-item-uuid" => &["inventory-items"],
        "user-uuid" => &["users"],
        "task-uuid" => &["tasks"],
        "activity-uuid" => &["activities"],
        "subject-uuid" => by_type(&[
            ("component", &["components"]),
            ("inventory-item", &["inventory-items"]),
            ("location", &["locations"]),
            ("party", &["parties"]),
            ("user", &["users"]),
            ("resource", &["resources"]),
        ]),
        "actor-uuid" => by_type(&[
            ("tool", &["components"]),
            ("assessment-platform", &["assessment-platforms"]),
            ("party", &["parties"]),
        ]),
        _ => return None,
    })
}

/// Walks the document checking every reference. `path` is the pointer of
/// `node` and is restored before returning; it is only copied for a diagnostic.
fn check_reference_values(
    node: TapeNode<'_>,
    path: &mut String,
    scope: &Scope<'_>,
    out: &mut Vec<Diagnostic>,
) {
    if node.is_object() {
        for (key, child) in node.members() {
            let kinds = uuid_reference_kinds(key, node);
            // Most members are plain values that name nothing: no pointer
            // is built for them.
            if kinds.is_none()
                && !matches!(key, "role-id" | "role-ids" | "href")
                && !(child.is_object() || child.is_array())
            {
                continue;
            }
            let depth = path.len();
            path.push('/');
            push_escaped(path, key);
            if let Some(kinds) = kinds {
                for_each_string(child, path, out, |text, at, out| {
                    check_uuid_ref(key, text, kinds, at, scope, out)
                });
            } else if key == "role-id" || key == "role-ids" {
                for_each_string(child, path, out, |text, at, out| {
                    check_role_ref(key, text, at, scope, out)
                });
            } else if key == "href" {
                if let Some(href) = child.str() {
                    if let Some(fragment) = href.strip_prefix('#').filter(|f| looks_like_uuid(f)) {
                        check_uuid_ref(key, fragment, &[], path, scope, out);
                    }
                }
            }
            if child.is_object() || child.is_array() {
                check_reference_values(child, path, scope, out);
            }
            path.truncate(depth);
        }
    } else if node.is_array() {
        for (i, item) in node.elements().enumerate() {
            if item.is_object() || item.is_array() {
                let depth = path.len();
                push_index(path, i);
                check_reference_values(item, path, scope, out);
                path.truncate(depth);
            }
        }
    }
}

/// Calls `check` on the string `node` is, or on each string of the array
/// it is, with its pointer; what it reports is given the string's offset
/// in the text (so placing it needs no pointer look-up).
fn for_each_string(
    node: TapeNode<'_>,
    pointer: &str,
    out: &mut Vec<Diagnostic>,
    mut check: impl FnMut(&str, &str, &mut Vec<Diagnostic>),
) {
    let mut one = |item: TapeNode<'_>, pointer: &str, out: &mut Vec<Diagnostic>| {
        let Some(text) = item.str() else {
            return;
        };
        let before = out.len();
        check(&text, pointer, out);
        // The opening quote is the byte before an unescaped string's text.
        let offset = item.tape().offset_of(&text).map(|at| at - 1);
        for d in &mut out[before..] {
            d.offset = offset;
        }
    };
    if node.is_array() {
        for (i, item) in node.elements().enumerate() {
            if item.str().is_some() {
                one(item, &format!("{pointer}/{i}"), out);
            }
        }
    } else {
        one(node, pointer, out);
    }
}

fn check_uuid_ref(
    key: &str,
    uuid: &str,
    kinds: &[&str],
    pointer: &str,
    scope: &Scope<'_>,
    out: &mut Vec<Diagnostic>,
) {
    // UUIDs are compared lower-case; most are written so already.
    let wanted: std::borrow::Cow<'_, str> = if uuid.bytes().any(|b| b.is_ascii_uppercase()) {
        uuid.to_ascii_lowercase().into()
    } else {
        uuid.into()
    };
    let definitions: Vec<&Definition> = scope
        .own
        .uuids
        .get(wanted.as_ref())
        .into_iter()
        .chain(scope.imported.uuids.get(wanted.as_ref()))
        .flatten()
        .collect();
    let fits = |d: &&Definition| kinds.is_empty() || kinds.contains(&d.kind.as_str());
    match definitions.first() {
        Some(_) if definitions.iter().any(fits) => {}
        Some(definition) => out.push(Diagnostic::error(
            "dangling-reference",
            pointer,
            format!(
                "`{key}` {uuid} names the {} at {}, but must name {}",
                kind_noun(&definition.kind),
                definition.pointer,
                kinds
                    .iter()
                    .map(|k| format!("a {}", kind_noun(k)))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        )),
        None => out.push(missing_reference(key, uuid, kinds, pointer, scope)),
    }
}

fn check_role_ref(
    key: &str,
    role: &str,
    pointer: &str,
    scope: &Scope<'_>,
    out: &mut Vec<Diagnostic>,
) {
    if scope.own.roles.contains(role) || scope.imported.roles.contains(role) {
        return;
    }
    let mut d = missing_reference(key, role, &[], pointer, scope);
    if d.rule == "dangling-reference" {
        d.message = format!(
            "`{key}` `{role}` names no role in metadata/roles; define the role or fix the id"
        );
    }
    out.push(d);
}

fn missing_reference(
    key: &str,
    target: &str,
    kinds: &[&str],
    pointer: &str,
    scope: &Scope<'_>,
) -> Diagnostic {
    let Wording { what, undecided } = scope.wording(kinds);
    match undecided {
        None => Diagnostic::error(
            "dangling-reference",
            pointer,
            format!("`{key}` {target} names no {what} in this document or its imports"),
        ),
        Some(imports) => Diagnostic::warning(
            "unchecked-reference",
            pointer,
            format!(
                "`{key}` {target} names no {what} in this document; it may be defined in {imports}, which could not be read, so it was not checked"
            ),
        ),
    }
}

impl Scope<'_> {
    fn wording(&self, kinds: &[&str]) -> Wording {
        let id = (kinds.as_ptr() as usize, kinds.len());
        if let Some((_, w)) = self.wording.borrow().iter().find(|(k, _)| *k == id) {
            return w.clone();
        }
        let what = if kinds.is_empty() {
            "object".to_string()
        } else {
            kinds
                .iter()
                .map(|k| kind_noun(k))
                .collect::<Vec<_>>()
                .join(" or ")
        };
        // Only an unreadable import that could define the wanted kind
        // leaves the reference undecided; roles and `#uuid` hrefs could be
        // in any.
        let undecided: Vec<String> = self
            .unresolved_imports
            .iter()
            .filter(|u| kinds.is_empty() || kinds.iter().any(|k| u.defines.contains(k)))
            .map(|u| format!("`{}` ({})", u.import.href, u.import.why))
            .collect();
        let wording = Wording {
            what,
            undecided: (!undecided.is_empty()).then(|| undecided.join(", ")),
        };
        self.wording.borrow_mut().push((id, wording.clone()));
        wording
    }
}

/// Back-matter rlinks to local files whose hashes are given must match.
fn check_rlink_hashes(
    root: TapeNode<'_>,
    root_pointer: &str,
    options: &ReferenceOptions<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(resources) = root.pointer("/back-matter/resources") else {
        return;
    };
    for (r, resource) in resources.elements().enumerate() {
        let Some(rlinks) = resource.get("rlinks") else {
            continue;
        };
        for (l, rlink) in rlinks.elements().enumerate() {
            let hashes = rlink.get("hashes").filter(|h| h.is_array());
            let (Some(href), Some(hashes)) = (rlink.get("href").and_then(|h| h.str()), hashes)
            else {
                continue;
            };
            let href: &str = &href;
            let rlink_pointer = format!("{root_pointer}/back-matter/resources/{r}/rlinks/{l}");
            let Some(path) = local_path(href, options.base_dir) else {
                continue;
            };
            let readable = match std::fs::metadata(&path) {
                Ok(m) if m.len() > options.max_bytes => {
                    out.push(Diagnostic::warning(
                        "hash-unsupported",
                        format!("{rlink_pointer}/href"),
                        format!(
                            "rlink `{href}` is larger than --max-size, so its hash was not checked"
                        ),
                    ));
                    continue;
                }
                Ok(_) => std::fs::File::open(&path).map(drop),
                Err(e) => Err(e),
            };
            match readable {
                Ok(()) => {}
                Err(_) => {
                    out.push(Diagnostic::warning(
                        "hash-target-missing",
                        format!("{rlink_pointer}/href"),
                        format!("rlink `{href}` names {}, which cannot be read, so its hash was not checked", path.display()),
                    ));
                    continue;
                }
            };
            for (h, hash) in hashes.elements().enumerate() {
                let algorithm = hash
                    .get("algorithm")
                    .and_then(|a| a.str())
                    .unwrap_or_default();
                let algorithm: &str = &algorithm;
                let Some(expected) = hash.get("value").and_then(|v| v.str()) else {
                    continue;
                };
                let hash_pointer = format!("{rlink_pointer}/hashes/{h}");
                let Some(alg) = HashAlgorithm::from_oscal_name(algorithm) else {
                    out.push(Diagnostic::warning(
                        "hash-unsupported",
                        format!("{hash_pointer}/algorithm"),
                        format!("hash algorithm `{algorithm}` is not one proofpack can compute; `{href}` was not checked"),
                    ));
                    continue;
                };
                // Streamed: the file may be a month of evidence.
                let Ok((actual, _)) = alg.hex_digest_file(&path) else {
                    out.push(Diagnostic::warning(
                        "hash-target-missing",
                        format!("{rlink_pointer}/href"),
                        format!("rlink `{href}` names {}, which cannot be read, so its hash was not checked", path.display()),
                    ));
                    continue;
                };
                if !actual.eq_ignore_ascii_case(expected.trim()) {
                    out.push(Diagnostic::error(
                        "hash-mismatch",
                        format!("{hash_pointer}/value"),
                        format!(
                            "rlink `{href}` has {algorithm} {actual}, but the document gives {expected}: the file changed after the document was written"
                        ),
                    ));
                }
            }
        }
    }
}

fn looks_like_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// "observation" for `observations`, "inventory item" for `inventory-items`.
fn kind_noun(kind: &str) -> String {
    super::messages::singular(kind).replace('-', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn check(doc: &Value) -> Vec<Diagnostic> {
        let text = doc.to_string();
        let tape = Tape::parse(&text).unwrap();
        let options = ReferenceOptions {
            base_dir: None,
            max_bytes: 1 << 20,
        };
        check_references(tape.root(), OscalModel::AssessmentResults, &options)
    }

    const A: &str = "11111111-1111-4111-8111-111111111111";
    const B: &str = "22222222-2222-4222-8222-222222222222";
    const C: &str = "33333333-3333-4333-8333-333333333333";

    fn doc(observations: Value, findings: Value) -> Value {
        json!({"assessment-results": {
            "uuid": C,
            "metadata": {"roles": [{"id": "assessor"}], "parties": [{"uuid": B, "type": "person"}],
                          "responsible-parties": [{"role-id": "assessor", "party-uuids": [B]}]},
            "results": [{"uuid": "44444444-4444-4444-8444-444444444444", "observations": observations, "findings": findings}]
        }})
    }

    #[test]
    fn resolved_references_are_clean() {
        let d = doc(
            json!([{"uuid": A}]),
            json!([{"uuid": "55555555-5555-4555-8555-555555555555", "related-observations": [{"observation-uuid": A}]}]),
        );
        assert!(check(&d).is_empty(), "{:?}", check(&d));
    }

    #[test]
    fn dangling_and_wrong_kind_references_are_errors() {
        let d = doc(
            json!([{"uuid": A}]),
            json!([{"uuid": "55555555-5555-4555-8555-555555555555",
            "related-observations": [{"observation-uuid": B}, {"observation-uuid": "66666666-6666-4666-8666-666666666666"}]}]),
        );
        let diags = check(&d);
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert!(diags.iter().all(|d| d.rule == "dangling-reference"));
        assert_eq!(
            diags[0].pointer,
            "/assessment-results/results/0/findings/0/related-observations/0/observation-uuid"
        );
        assert!(
            diags[0].message.contains("names the party"),
            "{}",
            diags[0].message
        );
    }

    #[test]
    fn duplicate_uuids_point_at_the_second() {
        let d = doc(json!([{"uuid": A}, {"uuid": A}]), json!([]));
        let diags = check(&d);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].rule, "duplicate-uuid");
        assert_eq!(
            diags[0].pointer,
            "/assessment-results/results/0/observations/1/uuid"
        );
    }

    #[test]
    fn unknown_roles_are_dangling() {
        let mut d = doc(json!([]), json!([]));
        d["assessment-results"]["metadata"]["responsible-parties"][0]["role-id"] = json!("auditor");
        let diags = check(&d);
        assert_eq!(diags.len(), 1);
        assert_eq!(
            diags[0].pointer,
            "/assessment-results/metadata/responsible-parties/0/role-id"
        );
    }

    #[test]
    fn references_behind_an_unreadable_import_are_warnings() {
        let mut d = doc(
            json!([{"uuid": A, "subjects": [{"subject-uuid": "77777777-7777-4777-8777-777777777777", "type": "component"}]}]),
            json!([]),
        );
        d["assessment-results"]["import-ap"] = json!({"href": "https://example.org/ap.json"});
        let diags = check(&d);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].rule, "unchecked-reference");
        assert_eq!(
            diags[0].severity,
            super::super::diagnostic::Severity::Warning
        );
    }

    #[test]
    fn an_unreadable_import_cannot_excuse_a_dangling_risk() {
        // Risks live only in the document itself, never in an imported plan.
        let mut d = doc(
            json!([{"uuid": A}]),
            json!([{"uuid": "55555555-5555-4555-8555-555555555555", "related-risks": [{"risk-uuid": "88888888-8888-4888-8888-888888888888"}]}]),
        );
        d["assessment-results"]["import-ap"] = json!({"href": "https://example.org/ap.json"});
        let diags = check(&d);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].rule, "dangling-reference");
    }

    #[test]
    fn uuid_shape() {
        assert!(looks_like_uuid(A));
        assert!(!looks_like_uuid("ac-2"));
    }
}
