//! Validation of one OSCAL JSON document: parse, find the model and version,
//! check against the pinned official schema, run the reference checks, and
//! place every diagnostic at its line and column.

use std::collections::HashSet;
use std::path::Path;

use crate::json::{Tape, TapeNode};

use super::constraints::{self, ConstraintOptions, Selection};
use super::diagnostic::{Anchor, Diagnostic, FileReport, FileStatus, Severity};
use super::input::{self, Source};
use super::locate::{find_on_tape, find_pointers, LineIndex};
use super::messages::schema_diagnostics;
use super::model::{OscalModel, OscalVersion, DEFAULT_VERSION};
use super::references::{check_references, ReferenceOptions};
use super::schema_store::SchemaStore;

/// Default for `--max-size`: far above real OSCAL documents, far below what
/// would exhaust memory.
pub const DEFAULT_MAX_BYTES: u64 = 512 << 20;

#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// Validate against this release whatever the document declares.
    pub forced_version: Option<OscalVersion>,
    pub max_bytes: u64,
    /// Run the checks beyond the schema (UUIDs, references, imports, hashes).
    pub references: bool,
    /// Warnings fail the document too.
    pub strict: bool,
    /// Which Metaschema constraints to evaluate, and where their sources are.
    pub constraints: ConstraintOptions,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        Self {
            forced_version: None,
            max_bytes: DEFAULT_MAX_BYTES,
            references: true,
            strict: false,
            constraints: ConstraintOptions::default(),
        }
    }
}

/// Validates every input named by `paths`, in order.
pub fn validate_paths(
    paths: &[std::path::PathBuf],
    store: &SchemaStore,
    options: &ValidateOptions,
) -> Vec<FileReport> {
    input::expand(paths)
        .into_iter()
        .map(|source| match source {
            Ok(source) => validate_source(&source, store, options),
            Err(e) => io_failure(&e),
        })
        .collect()
}

/// A file that could not be read: not validated, which is exit status 2.
fn io_failure(error: &input::InputError) -> FileReport {
    let mut report = FileReport::new(error.path());
    report.status = FileStatus::Error;
    report.note = Some(error.reason());
    report
}

/// Reads and validates one source.
pub fn validate_source(
    source: &Source,
    store: &SchemaStore,
    options: &ValidateOptions,
) -> FileReport {
    match input::read_source(source, options.max_bytes) {
        Ok(bytes) => {
            let base_dir = source.base_dir();
            let discovered = matches!(source, Source::Discovered(_));
            validate_bytes(
                &source.display_name(),
                &bytes,
                base_dir.as_deref(),
                discovered,
                store,
                options,
            )
        }
        Err(e) if e.is_too_large() => {
            let mut report = FileReport::new(source.display_name());
            report.status = FileStatus::Invalid;
            report
                .diagnostics
                .push(Diagnostic::error("input-too-large", "", e.to_string()));
            report
        }
        Err(e) => io_failure(&e),
    }
}

/// Validates a document held in memory. `discovered` documents (found in a
/// directory walk) that are not OSCAL are skipped rather than failed.
pub fn validate_bytes(
    name: &str,
    bytes: &[u8],
    base_dir: Option<&Path>,
    discovered: bool,
    store: &SchemaStore,
    options: &ValidateOptions,
) -> FileReport {
    let mut report = FileReport::new(name);
    // RFC 8259 lets parsers ignore a byte order mark; Windows tools write one.
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);

    let text = match std::str::from_utf8(text) {
        Ok(text) => text,
        Err(e) => {
            report.status = FileStatus::Invalid;
            let (line, column) = LineIndex::new(text).line_column(e.valid_up_to());
            report.diagnostics.push(
                Diagnostic::error(
                    "not-json",
                    "",
                    "the file is not UTF-8 text, which JSON requires",
                )
                .at(line, column),
            );
            return report;
        }
    };
    // A compact tape, not a serde_json::Value: a third of the memory on
    // large documents, and strings are borrowed from the text.
    let tape = match Tape::parse(text) {
        Ok(tape) => tape,
        Err(e) => {
            report.status = FileStatus::Invalid;
            report.diagnostics.push(not_json(&e));
            return report;
        }
    };
    let doc = tape.root();

    let model = match detect_model(doc) {
        Ok(model) => model,
        Err(message) => {
            if discovered {
                report.status = FileStatus::Skipped;
                report.note = Some(message);
            } else {
                report.status = FileStatus::Invalid;
                report
                    .diagnostics
                    .push(Diagnostic::error("not-oscal", "", message).at(1, 1));
            }
            return report;
        }
    };
    report.model = Some(model);

    let version_pointer = format!("/{}/metadata/oscal-version", model.root_key());
    let declared = doc.pointer(&version_pointer).and_then(|v| v.str());
    let declared = declared.as_deref();
    report.declared_version = declared.map(str::to_string);
    let (version, version_note) = choose_version(declared, options.forced_version);
    if let Some(note) = version_note {
        let pointer = if declared.is_some() {
            version_pointer.clone()
        } else {
            String::new()
        };
        report
            .diagnostics
            .push(Diagnostic::warning("oscal-version", pointer, note));
    }
    if model == OscalModel::MappingCollection && !version.has_mapping_collection() {
        report.status = FileStatus::Invalid;
        report.diagnostics.push(Diagnostic::error(
            "not-oscal",
            format!("/{}", model.root_key()),
            format!("mapping-collection exists from OSCAL 1.2 on; it cannot be validated as OSCAL {version}"),
        ));
        return finish(report, text.as_bytes(), options);
    }
    report.schema_version = Some(version);

    let validator = match store.validator(version, model.schema_file()) {
        Ok(v) => v,
        Err(e) => {
            report.status = FileStatus::Error;
            report.note = Some(e.to_string());
            return report;
        }
    };
    // The constraint pass reads the same tape as the schema and reference
    // checks and shares nothing with them: it runs on a second thread, so
    // a document costs about the longer of the two rather than their sum.
    let run_constraints = options.constraints.selection != Selection::None;
    let (structural, constrained) = std::thread::scope(|scope| {
        let constrained = run_constraints.then(|| {
            scope.spawn(|| {
                let mut constraint_options = options.constraints.clone();
                if constraint_options.schema_dir.is_none() {
                    constraint_options.schema_dir = Some(store.dir().to_path_buf());
                }
                constraints::load(&constraint_options, version)
                    .map(|set| constraints::check(doc, model, &set))
            })
        });
        let mut found = Vec::new();
        if !validator.is_valid(doc) {
            found.extend(schema_diagnostics(validator.iter_errors(doc)));
        }
        if options.references {
            let reference_options = ReferenceOptions {
                base_dir,
                max_bytes: options.max_bytes,
            };
            found.extend(check_references(doc, model, &reference_options));
        }
        let constrained = constrained.map(|handle| match handle.join() {
            Ok(outcome) => outcome,
            // A panic in the engine is a proofpack bug: report it, keep the
            // schema and reference findings.
            Err(_) => Err("the constraint pass failed unexpectedly (a proofpack bug)".into()),
        });
        (found, constrained)
    });
    report.diagnostics.extend(structural);
    match constrained {
        Some(Ok((found, summary))) => {
            report.diagnostics.extend(found);
            report.constraints = Some(summary);
        }
        Some(Err(e)) => {
            report.status = FileStatus::Error;
            report.note = Some(e);
        }
        None => {}
    }
    // Placed while the tape is alive: most diagnostics point at strings,
    // which the tape places without a second reading of the text.
    place_on_tape(&mut report.diagnostics, doc);
    drop(tape);
    finish(report, text.as_bytes(), options)
}

/// Places diagnostics, applies `--strict`, and sets the status.
fn finish(mut report: FileReport, text: &[u8], options: &ValidateOptions) -> FileReport {
    if options.strict {
        for d in report
            .diagnostics
            .iter_mut()
            .filter(|d| d.severity == Severity::Warning)
        {
            d.severity = Severity::Error;
        }
    }
    place(&mut report.diagnostics, text);
    report
        .diagnostics
        .sort_by_key(|d| (d.line.unwrap_or(0), d.column.unwrap_or(0), d.severity));
    if report.status == FileStatus::Valid && report.errors() > 0 {
        report.status = FileStatus::Invalid;
    }
    report
}

/// Fills in line and column for the diagnostics whose pointer names a
/// string or a member's key, from the tape; the rest are left to `place`.
fn place_on_tape(diagnostics: &mut [Diagnostic], doc: TapeNode<'_>) {
    let lines = LineIndex::new(doc.tape().source().as_bytes());
    // What the checks placed themselves (references at their strings).
    for d in diagnostics.iter_mut().filter(|d| d.line.is_none()) {
        if let (Some(offset), Anchor::Value) = (d.offset, d.anchor) {
            (d.line, d.column) = placed(lines.line_column(offset));
        }
    }
    let wanted = unplaced(diagnostics);
    if !wanted.is_empty() {
        // A key the tape could not place (escaped) is left to the scan.
        apply(diagnostics, &find_on_tape(doc, &wanted), &lines, false);
    }
}

/// Fills in line and column for diagnostics that have only a pointer.
fn place(diagnostics: &mut [Diagnostic], text: &[u8]) {
    let wanted = unplaced(diagnostics);
    if !wanted.is_empty() {
        let found = find_pointers(text, &wanted);
        apply(diagnostics, &found, &LineIndex::new(text), true);
    }
}

/// The pointers of the diagnostics that have no line yet.
fn unplaced(diagnostics: &[Diagnostic]) -> HashSet<String> {
    diagnostics
        .iter()
        .filter(|d| d.line.is_none())
        .map(|d| d.pointer.clone())
        .collect()
}

/// Places every unplaced diagnostic whose pointer was found; a key anchor
/// without a key offset falls back to the value when `key_or_value`.
fn apply(
    diagnostics: &mut [Diagnostic],
    found: &std::collections::HashMap<String, crate::oscal::locate::Spot>,
    lines: &LineIndex<'_>,
    key_or_value: bool,
) {
    for d in diagnostics.iter_mut().filter(|d| d.line.is_none()) {
        // A required member that is absent has no position of its own.
        let Some(spot) = found.get(&d.pointer) else {
            continue;
        };
        let offset = match (d.anchor, spot.key) {
            (Anchor::Key, Some(key)) => key,
            (Anchor::Key, None) if !key_or_value => continue,
            _ => spot.value,
        };
        (d.line, d.column) = placed(lines.line_column(offset));
    }
}

fn placed((line, column): (usize, usize)) -> (Option<usize>, Option<usize>) {
    (Some(line), Some(column))
}

fn not_json(error: &serde_json::Error) -> Diagnostic {
    use serde_json::error::Category;
    let detail = error.to_string();
    let detail = detail
        .split(" at line ")
        .next()
        .unwrap_or(&detail)
        .to_string();
    let message = match error.classify() {
        Category::Eof => format!(
            "the JSON ends early ({detail}): the file is truncated or a bracket is not closed"
        ),
        _ if detail.contains("recursion limit") => {
            "the JSON is nested more than 128 levels deep, which no OSCAL document needs"
                .to_string()
        }
        Category::Io => format!("the file could not be read as text ({detail})"),
        _ => format!("not valid JSON: {detail}"),
    };
    Diagnostic::error("not-json", "", message).at(error.line().max(1), error.column().max(1))
}

/// The OSCAL model named by the document's root key.
pub fn detect_model(doc: TapeNode<'_>) -> Result<OscalModel, String> {
    if !doc.is_object() {
        return Err(format!(
            "the document is a JSON {}, not an object; an OSCAL document is an object with one model key such as `assessment-results`",
            doc.kind_name()
        ));
    }
    let models: Vec<OscalModel> = doc
        .members()
        .filter_map(|(k, _)| OscalModel::from_root_key(k))
        .collect();
    match models.as_slice() {
        [model] => Ok(*model),
        [] => {
            let keys: Vec<String> = doc
                .members()
                .take(5)
                .map(|(k, _)| format!("`{k}`"))
                .collect();
            let expected: Vec<&str> = OscalModel::ALL.iter().map(|m| m.root_key()).collect();
            Err(format!(
                "not an OSCAL document: the root has {} but no OSCAL model key (one of {})",
                if keys.is_empty() {
                    "no keys".to_string()
                } else {
                    keys.join(", ")
                },
                expected.join(", ")
            ))
        }
        several => Err(format!(
            "the root holds {} OSCAL models ({}); a document holds exactly one",
            several.len(),
            several
                .iter()
                .map(|m| m.root_key())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The release to validate against, and a note when it is not the one the
/// document declares.
fn choose_version(
    declared: Option<&str>,
    forced: Option<OscalVersion>,
) -> (OscalVersion, Option<String>) {
    if let Some(forced) = forced {
        return if forced.is_supported() {
            (forced, None)
        } else {
            let nearest = forced.nearest_supported();
            (nearest, Some(format!("no pinned schema for OSCAL {forced}; validated against {nearest}, the nearest pinned release")))
        };
    }
    match declared.map(str::parse::<OscalVersion>) {
        Some(Ok(version)) if version.is_supported() => (version, None),
        Some(Ok(version)) => {
            let nearest = version.nearest_supported();
            (
                nearest,
                Some(format!(
                    "the document declares OSCAL {version}, which has no pinned schema; validated against {nearest}, the nearest pinned release (force one with --oscal-version)"
                )),
            )
        }
        Some(Err(_)) => (
            DEFAULT_VERSION,
            Some(format!(
                "oscal-version `{}` is not a release number; validated against OSCAL {DEFAULT_VERSION} (force one with --oscal-version)",
                declared.unwrap_or_default()
            )),
        ),
        None => (
            DEFAULT_VERSION,
            Some(format!("the document has no metadata/oscal-version; validated against OSCAL {DEFAULT_VERSION} (force one with --oscal-version)")),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn model_of(doc: Value) -> Result<OscalModel, String> {
        let text = doc.to_string();
        let tape = Tape::parse(&text).unwrap();
        detect_model(tape.root())
    }

    #[test]
    fn detects_models_and_rejects_other_roots() {
        assert_eq!(model_of(json!({"catalog": {}})), Ok(OscalModel::Catalog));
        assert_eq!(
            model_of(json!({"$schema": "x", "profile": {}})),
            Ok(OscalModel::Profile)
        );
        assert!(model_of(json!([1])).unwrap_err().contains("array"));
        assert!(model_of(json!({"fedramp-values": {}}))
            .unwrap_err()
            .contains("`fedramp-values`"));
        assert!(model_of(json!({"catalog": {}, "profile": {}}))
            .unwrap_err()
            .contains("exactly one"));
    }

    #[test]
    fn version_choice() {
        let v = |s: &str| s.parse::<OscalVersion>().unwrap();
        assert_eq!(choose_version(Some("1.1.2"), None), (v("1.1.2"), None));
        let (chosen, note) = choose_version(Some("1.2.2"), None);
        assert_eq!(chosen, v("1.2.1"));
        assert!(note.unwrap().contains("nearest"));
        assert_eq!(
            choose_version(Some("1.0.4"), Some(v("1.1.3"))),
            (v("1.1.3"), None)
        );
        assert_eq!(choose_version(None, None).0, DEFAULT_VERSION);
    }

    #[test]
    fn truncated_json_says_so_with_position() {
        let e = serde_json::from_slice::<Value>(b"{\n  \"a\": [1,").unwrap_err();
        let d = not_json(&e);
        assert!(d.message.contains("truncated"), "{}", d.message);
        assert_eq!(d.line, Some(2));
    }

    #[test]
    fn deep_nesting_is_named() {
        let text = "[".repeat(200);
        let e = serde_json::from_str::<Value>(&text).unwrap_err();
        assert!(not_json(&e).message.contains("128 levels"));
    }
}
