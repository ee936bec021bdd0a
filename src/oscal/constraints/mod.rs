//! NIST's Metaschema constraints (and FedRAMP's external ones), evaluated
//! natively on OSCAL JSON: what the JSON schemas cannot express —
//! allowed values, patterns and data types, indexes and their keys,
//! uniqueness, cardinality and Metapath expectations.
//!
//! The modules are pinned like the schemas (`oscal-schemas.lock.json`,
//! model `metaschema`) and found in the same places: `--metaschema-dir`,
//! `PROOFPACK_METASCHEMA_DIR`, the schema folder in use (`vX.Y.Z/metaschema/`
//! as `schemas fetch` lays it out, or a `metaschema/X.Y.Z/` folder beside
//! it), then the cache.

pub mod datatypes;
pub mod engine;
pub mod external;
pub mod metapath;
pub mod metaschema;
pub mod rules;
pub mod tree;
pub mod xml_source;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;

use crate::hash::sha256_hex;
use crate::json::TapeNode;

use super::diagnostic::{ConstraintRef, Diagnostic};
use super::model::{OscalModel, OscalVersion};
use super::schema_lock::SchemaLock;
use engine::{Outcome, Violation};
use external::External;
use metaschema::Metaschema;
use rules::Constraint;

/// Environment variable naming a folder of Metaschema modules.
pub const METASCHEMA_DIR_ENV: &str = "PROOFPACK_METASCHEMA_DIR";
/// Environment variable naming FedRAMP's constraint folder.
pub const FEDRAMP_CONSTRAINTS_ENV: &str = "PROOFPACK_FEDRAMP_CONSTRAINTS";

/// Which constraint sets to evaluate (`--constraints`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Selection {
    #[default]
    Nist,
    Fedramp,
    All,
    None,
}

impl std::str::FromStr for Selection {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "nist" => Ok(Self::Nist),
            "fedramp" => Ok(Self::Fedramp),
            "all" => Ok(Self::All),
            "none" => Ok(Self::None),
            other => Err(format!(
                "`{other}` is not a constraint set; use nist, fedramp, all or none"
            )),
        }
    }
}

impl Selection {
    pub fn nist(self) -> bool {
        matches!(self, Self::Nist | Self::All)
    }
    pub fn fedramp(self) -> bool {
        matches!(self, Self::Fedramp | Self::All)
    }
}

/// Whose constraint: NIST's (from the modules) or an external file's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Nist,
    #[serde(rename = "fedramp")]
    External,
}

/// The constraints for one OSCAL release.
pub struct ConstraintSet {
    pub version: OscalVersion,
    pub metaschema: Metaschema,
    pub nist_enabled: bool,
    pub external: External,
    /// Where the modules were read from.
    pub metaschema_dir: PathBuf,
}

impl ConstraintSet {
    pub fn constraint(&self, family: Family, id: u32) -> &Constraint {
        match family {
            Family::Nist => &self.metaschema.constraints[id as usize],
            Family::External => &self.external.constraints[id as usize],
        }
    }

    /// Every constraint file read, with its SHA-256.
    pub fn sources(&self) -> Vec<SourceFile> {
        let mut out: Vec<SourceFile> = self
            .metaschema
            .files
            .iter()
            .map(|(file, sha256)| SourceFile {
                family: Family::Nist,
                file: file.clone(),
                sha256: sha256.clone(),
            })
            .collect();
        out.extend(self.external.files.iter().map(|(file, sha256)| SourceFile {
            family: Family::External,
            file: file.clone(),
            sha256: sha256.clone(),
        }));
        out
    }

    /// How many constraints each family holds, and how many of them proofpack
    /// cannot evaluate whatever the document.
    pub fn coverage(&self) -> Vec<(Family, usize, Vec<&Constraint>)> {
        fn count(all: &[Constraint]) -> (usize, Vec<&Constraint>) {
            let real: Vec<&Constraint> = all
                .iter()
                .filter(|c| !matches!(c.kind, rules::Kind::Let { .. }))
                .collect();
            // `let`s are not constraints, but one that cannot be evaluated
            // leaves the constraints that read it unevaluated: list it.
            let unsupported = all.iter().filter(|c| c.unsupported.is_some()).collect();
            (real.len(), unsupported)
        }
        let mut out = Vec::new();
        if self.nist_enabled {
            let (n, u) = count(&self.metaschema.constraints);
            out.push((Family::Nist, n, u));
        }
        if !self.external.files.is_empty() {
            let (n, u) = count(&self.external.constraints);
            out.push((Family::External, n, u));
        }
        out
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceFile {
    pub family: Family,
    pub file: String,
    pub sha256: String,
}

/// One constraint that applied but could not be evaluated.
#[derive(Debug, Clone, Serialize)]
pub struct NotEvaluated {
    pub family: Family,
    pub id: String,
    pub defined_at: String,
    pub reason: String,
}

/// Per document: how the constraints fared.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConstraintSummary {
    pub selection: Vec<Family>,
    pub metaschema_version: String,
    pub applied: usize,
    pub passed: usize,
    pub failed: usize,
    pub not_evaluated: usize,
    pub not_evaluated_list: Vec<NotEvaluated>,
    pub sources: Vec<SourceFile>,
}

/// Where to look for constraint sources.
#[derive(Debug, Clone, Default)]
pub struct ConstraintOptions {
    pub selection: Selection,
    pub metaschema_dir: Option<PathBuf>,
    /// The OSCAL schema folder in use (its `vX/metaschema` is searched).
    pub schema_dir: Option<PathBuf>,
    pub fedramp_dir: Option<PathBuf>,
}

/// The Metaschema release that serves a document's version: 1.2.x → 1.2.1,
/// anything older → 1.1.3 (the earliest NIST release pinned here).
pub fn metaschema_version(version: OscalVersion) -> OscalVersion {
    if (version.major, version.minor) >= (1, 2) {
        OscalVersion::new(1, 2, 1)
    } else {
        OscalVersion::new(1, 1, 3)
    }
}

/// Candidate folders holding `oscal_complete_metaschema.xml` for `version`,
/// in lookup order.
fn candidate_dirs(options: &ConstraintOptions, version: OscalVersion) -> Vec<(PathBuf, String)> {
    let v = version.to_string();
    let mut out = Vec::new();
    let mut add_root = |root: &Path, origin: &str| {
        out.push((root.join(&v), origin.to_string()));
        out.push((root.join(format!("v{v}")), origin.to_string()));
    };
    if let Some(dir) = &options.metaschema_dir {
        add_root(dir, "--metaschema-dir");
    }
    if let Some(dir) = std::env::var_os(METASCHEMA_DIR_ENV).filter(|d| !d.is_empty()) {
        add_root(Path::new(&dir), METASCHEMA_DIR_ENV);
    }
    let schema_dir = options.schema_dir.clone().or_else(|| {
        super::schema_store::locate_schema_dir(None)
            .ok()
            .map(|(dir, _)| dir)
    });
    if let Some(dir) = schema_dir {
        out.push((
            dir.join(format!("v{v}")).join("metaschema"),
            "the schema folder".into(),
        ));
        if let Some(parent) = dir.parent() {
            out.push((
                parent.join("metaschema").join(&v),
                "beside the schema folder".into(),
            ));
        }
    }
    if let Ok(cache) = super::schema_store::cache_schema_dir() {
        out.push((
            cache.join(format!("v{v}")).join("metaschema"),
            "the schema cache".into(),
        ));
    }
    out
}

const ENTRY_MODULE: &str = "oscal_complete_metaschema.xml";

/// Loads (once per process, per release and options) the constraint set.
pub fn load(
    options: &ConstraintOptions,
    version: OscalVersion,
) -> Result<Arc<ConstraintSet>, String> {
    type Cache = Mutex<HashMap<String, Arc<ConstraintSet>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let version = metaschema_version(version);
    let key = format!(
        "{version}|{:?}|{:?}|{:?}|{:?}",
        options.selection, options.metaschema_dir, options.schema_dir, options.fedramp_dir
    );
    let cache = CACHE.get_or_init(Default::default);
    if let Some(set) = cache
        .lock()
        .map_err(|_| "constraint cache poisoned")?
        .get(&key)
    {
        return Ok(set.clone());
    }
    let set = Arc::new(load_uncached(options, version)?);
    cache
        .lock()
        .map_err(|_| "constraint cache poisoned")?
        .insert(key, set.clone());
    Ok(set)
}

fn load_uncached(
    options: &ConstraintOptions,
    version: OscalVersion,
) -> Result<ConstraintSet, String> {
    let candidates = candidate_dirs(options, version);
    let Some((dir, _origin)) = candidates
        .iter()
        .find(|(dir, _)| dir.join(ENTRY_MODULE).is_file())
        .cloned()
    else {
        let tried: Vec<String> = candidates
            .iter()
            .map(|(d, o)| format!("{} ({o})", d.display()))
            .collect();
        return Err(format!(
            "NIST's OSCAL {version} Metaschema modules (the constraint sources) were not found; looked in: {}.\n  \
             To get them: proofpack schemas fetch --oscal-version {version}\n  \
             Or point --metaschema-dir DIR (or {METASCHEMA_DIR_ENV}) at a folder holding {version}/{ENTRY_MODULE}; \
             --constraints none skips constraint validation",
            tried.join(", ")
        ));
    };
    let lock = SchemaLock::embedded();
    let mut read = |path: &Path| -> Result<String, String> {
        let relative = path
            .strip_prefix(&dir)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| path.to_string_lossy().into_owned());
        let relative = relative.trim_start_matches("./").replace("/./", "/");
        let wanted = format!("metaschema/{relative}");
        let entry = lock.entry(version, &wanted).ok_or_else(|| {
            format!(
                "{}: not a pinned OSCAL {version} Metaschema file",
                path.display()
            )
        })?;
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let actual = sha256_hex(&bytes);
        if actual != entry.sha256 {
            return Err(format!(
                "{}: SHA-256 {actual} differs from the pinned {} for OSCAL {version} `{}`; the file was edited or belongs to another release. Delete it and run `proofpack schemas fetch --oscal-version {version}`",
                path.display(),
                entry.sha256,
                entry.file
            ));
        }
        String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8", path.display()))
    };
    let metaschema = Metaschema::load(&dir.join(ENTRY_MODULE), &mut read)?;
    let external = if options.selection.fedramp() {
        let fedramp_dir = options
            .fedramp_dir
            .clone()
            .or_else(|| std::env::var_os(FEDRAMP_CONSTRAINTS_ENV).map(PathBuf::from))
            .ok_or_else(|| {
                format!(
                    "FedRAMP's constraints were asked for, but no folder was given: pass --fedramp-constraints DIR (or set {FEDRAMP_CONSTRAINTS_ENV}) naming the folder with fedramp-external-constraints.xml"
                )
            })?;
        External::load_dir(&fedramp_dir)?
    } else {
        External::default()
    };
    Ok(ConstraintSet {
        version,
        metaschema,
        nist_enabled: options.selection.nist(),
        external,
        metaschema_dir: dir,
    })
}

/// Evaluates the set's constraints on one parsed document.
pub fn check(
    doc: TapeNode<'_>,
    model: OscalModel,
    set: &ConstraintSet,
) -> (Vec<Diagnostic>, ConstraintSummary) {
    let mut summary = ConstraintSummary {
        metaschema_version: set.version.to_string(),
        sources: set.sources(),
        ..Default::default()
    };
    if set.nist_enabled {
        summary.selection.push(Family::Nist);
    }
    if !set.external.files.is_empty() {
        summary.selection.push(Family::External);
    }
    let Some(tree) = tree::Tree::build(doc, model.root_key(), &set.metaschema) else {
        return (Vec::new(), summary);
    };
    let now = chrono::Utc::now().fixed_offset();
    let evaluation = engine::evaluate(&tree, set, now);
    for ((family, id), (outcome, reason)) in &evaluation.outcomes {
        let constraint = set.constraint(*family, *id);
        if matches!(constraint.kind, rules::Kind::Let { .. }) && *outcome != Outcome::NotEvaluated {
            continue;
        }
        summary.applied += 1;
        match outcome {
            Outcome::Passed => summary.passed += 1,
            Outcome::Failed => summary.failed += 1,
            Outcome::NotEvaluated => {
                summary.not_evaluated += 1;
                summary.not_evaluated_list.push(NotEvaluated {
                    family: *family,
                    id: constraint.id.clone(),
                    defined_at: format!("{}:{}", constraint.origin.file, constraint.origin.line),
                    reason: reason.clone().unwrap_or_default(),
                });
            }
        }
    }
    let diagnostics = evaluation
        .violations
        .into_iter()
        .map(|v| to_diagnostic(v, set))
        .collect();
    (diagnostics, summary)
}

fn to_diagnostic(violation: Violation, set: &ConstraintSet) -> Diagnostic {
    let constraint = set.constraint(violation.family, violation.constraint);
    let mut d = Diagnostic::new(
        engine::severity_of(constraint.level),
        "constraint",
        violation.pointer,
        violation.message,
    );
    d.constraint = Some(Box::new(ConstraintRef {
        id: constraint.id.clone(),
        family: violation.family,
        kind: constraint.kind.name(),
        level: constraint.level,
        defined_at: format!("{}:{}", constraint.origin.file, constraint.origin.line),
        target: constraint.target.text.clone(),
    }));
    d
}
