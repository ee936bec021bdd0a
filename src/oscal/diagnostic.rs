//! What validation reports: one diagnostic per problem, grouped per file.

use serde::Serialize;

use super::model::{OscalModel, OscalVersion};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    /// A Metaschema constraint of level INFORMATIONAL or DEBUG: reported,
    /// never a failure (not even with --strict).
    Info,
}

/// Which byte of a member a diagnostic points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Anchor {
    /// The value at the pointer.
    #[default]
    Value,
    /// The key of the member at the pointer (for a property that should not be there).
    Key,
}

/// One problem found in one document.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable rule id (see [`RULES`]).
    pub rule: &'static str,
    /// RFC 6901 pointer to the offending member ("" is the whole document).
    pub pointer: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The JSON Schema keyword that failed, for schema diagnostics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    /// Where in the official schema the failing keyword is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_path: Option<String>,
    pub message: String,
    /// The Metaschema constraint behind a `constraint` diagnostic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<Box<ConstraintRef>>,
    #[serde(skip)]
    pub anchor: Anchor,
    /// The byte offset of the value in the text, when the check that found
    /// it knew (a string on the tape): placed without resolving `pointer`.
    #[serde(skip)]
    pub offset: Option<usize>,
}

/// Which constraint a diagnostic reports, and where it is defined.
#[derive(Debug, Clone, Serialize)]
pub struct ConstraintRef {
    /// The constraint's id in its module (the SARIF rule id).
    pub id: String,
    pub family: crate::oscal::constraints::Family,
    /// `allowed-values`, `matches`, `index-has-key`, ...
    pub kind: &'static str,
    pub level: crate::oscal::constraints::rules::Level,
    /// Module file and line.
    pub defined_at: String,
    /// The constraint's target Metapath.
    pub target: String,
}

impl Diagnostic {
    pub fn new(
        severity: Severity,
        rule: &'static str,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity,
            rule,
            pointer: pointer.into(),
            line: None,
            column: None,
            keyword: None,
            schema_path: None,
            message: message.into(),
            constraint: None,
            anchor: Anchor::Value,
            offset: None,
        }
    }

    pub fn error(
        rule: &'static str,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Error, rule, pointer, message)
    }

    pub fn warning(
        rule: &'static str,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Warning, rule, pointer, message)
    }

    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }
}

/// Every rule a diagnostic can carry, with the one-line help SARIF shows.
pub const RULES: &[(&str, &str)] = &[
    (
        "input-too-large",
        "The file is larger than the --max-size limit.",
    ),
    (
        "not-json",
        "The file is not well-formed JSON (or is truncated, or nested too deeply).",
    ),
    ("not-oscal", "The document's root is not an OSCAL model."),
    (
        "oscal-version",
        "The declared oscal-version has no pinned schema; the nearest release was used.",
    ),
    (
        "schema",
        "The document breaks NIST's official OSCAL JSON schema.",
    ),
    (
        "duplicate-uuid",
        "A UUID is defined more than once in the document.",
    ),
    (
        "dangling-reference",
        "A reference names a UUID, role or resource that the document does not define.",
    ),
    (
        "unchecked-reference",
        "A reference could not be checked because an imported document is not available.",
    ),
    (
        "constraint",
        "The document breaks a Metaschema constraint (NIST's modules, or FedRAMP's external constraints).",
    ),
    (
        "import-missing",
        "An import-ap / import-ssp / import-profile href names a local file that does not exist.",
    ),
    (
        "import-wrong-model",
        "An import names a document of the wrong OSCAL model.",
    ),
    (
        "import-unreadable",
        "An imported document could not be read or parsed.",
    ),
    (
        "hash-mismatch",
        "A back-matter rlink's file does not match the hash the document gives for it.",
    ),
    (
        "hash-target-missing",
        "A back-matter rlink with hashes names a local file that does not exist.",
    ),
    (
        "hash-unsupported",
        "A back-matter hash uses an algorithm proofpack cannot compute.",
    ),
];

/// The fate of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Valid,
    Invalid,
    /// Not validated: a directory member that is not an OSCAL document.
    Skipped,
    /// Could not be read, or no schema was available.
    Error,
}

/// The result for one input file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub path: String,
    pub status: FileStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<OscalModel>,
    /// `metadata.oscal-version` as the document states it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_version: Option<String>,
    /// The pinned release whose schema was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<OscalVersion>,
    /// Why a file was skipped or could not be validated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// How the Metaschema constraints fared, when they were evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraints: Option<crate::oscal::constraints::ConstraintSummary>,
}

impl FileReport {
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            status: FileStatus::Valid,
            model: None,
            declared_version: None,
            schema_version: None,
            note: None,
            diagnostics: Vec::new(),
            constraints: None,
        }
    }

    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }
}

impl serde::Serialize for OscalModel {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.root_key())
    }
}

impl serde::Serialize for OscalVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
