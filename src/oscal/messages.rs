//! Turns JSON Schema errors into diagnostics a person can act on:
//! "observation is missing required `methods`" rather than
//! "\"methods\" is a required property".

use std::collections::HashSet;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::ValidationError;
use serde_json::Value;

use super::diagnostic::{Anchor, Diagnostic};
use super::locate::push_escaped;

/// Diagnostics for every schema error, with the noise removed: an `anyOf` /
/// `oneOf` failure is replaced by the errors of the branch that came closest,
/// and a value that fails both the pattern and the format of one OSCAL
/// datatype is reported once.
pub fn schema_diagnostics<'a>(
    errors: impl Iterator<Item = ValidationError<'a>>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for error in errors {
        explain(&error, &mut out);
    }
    let mut seen = HashSet::new();
    out.retain(|d: &Diagnostic| {
        let datatype = d
            .schema_path
            .as_deref()
            .and_then(definition_name)
            .unwrap_or("");
        let key = if matches!(d.keyword.as_deref(), Some("pattern" | "format")) {
            format!("{}|{}|datatype", d.pointer, datatype)
        } else {
            format!(
                "{}|{}|{}",
                d.pointer,
                d.message,
                d.keyword.as_deref().unwrap_or("")
            )
        };
        seen.insert(key)
    });
    out
}

fn explain(error: &ValidationError<'_>, out: &mut Vec<Diagnostic>) {
    let pointer = error.instance_path().to_string();
    let schema_path = error.schema_path().to_string();
    let subject = describe(&pointer);
    let keyword = error.kind().keyword().to_string();
    let make = |pointer: String, message: String, anchor: Anchor| {
        let mut d = Diagnostic::error("schema", pointer, message);
        d.keyword = Some(keyword.clone());
        d.schema_path = Some(schema_path.clone());
        d.anchor = anchor;
        d
    };
    match error.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| property.to_string());
            out.push(make(
                pointer,
                format!("{subject} is missing required `{name}`"),
                Anchor::Value,
            ));
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            for name in unexpected {
                let mut member = pointer.clone();
                member.push('/');
                push_escaped(&mut member, name);
                out.push(make(
                    member,
                    format!(
                        "{subject} has property `{name}`, which OSCAL does not allow here \
                         (misspelt, or from another OSCAL version?)"
                    ),
                    Anchor::Key,
                ));
            }
        }
        ValidationErrorKind::Pattern { .. } | ValidationErrorKind::Format { .. } => {
            let datatype = definition_name(&schema_path);
            let value = preview(error.instance());
            let reason = datatype_reason(datatype, error.kind());
            out.push(make(
                pointer,
                format!("{subject} {value} {reason}"),
                Anchor::Value,
            ));
        }
        ValidationErrorKind::Enum { options } => {
            let allowed = match options.as_ref() {
                Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
                other => plain(other),
            };
            let value = preview(error.instance());
            out.push(make(
                pointer,
                format!("{subject} {value} is not an allowed value; OSCAL allows: {allowed}"),
                Anchor::Value,
            ));
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            let actual = json_type(error.instance());
            out.push(make(
                pointer,
                format!(
                    "{subject} must be {} {expected}, not {actual}",
                    article(&expected)
                ),
                Anchor::Value,
            ));
        }
        ValidationErrorKind::MinItems { limit } => {
            let noun = if *limit == 1 { "item" } else { "items" };
            out.push(make(
                pointer,
                format!("{subject} must have at least {limit} {noun}"),
                Anchor::Value,
            ));
        }
        ValidationErrorKind::MinLength { .. } => {
            out.push(make(
                pointer,
                format!("{subject} must not be empty"),
                Anchor::Value,
            ));
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            match closest_branch(context, &pointer) {
                Some(branch) => branch.iter().for_each(|e| explain(e, out)),
                None => out.push(make(
                    pointer,
                    format!("{subject} does not match any of the forms OSCAL allows here"),
                    Anchor::Value,
                )),
            }
        }
        _ => out.push(make(pointer, format!("{subject}: {error}"), Anchor::Value)),
    }
}

/// The alternative that failed least: not one rejected for being the wrong
/// JSON type or lacking the key that identifies it, and with the fewest errors.
fn closest_branch<'c>(
    context: &'c [Vec<ValidationError<'static>>],
    pointer: &str,
) -> Option<&'c Vec<ValidationError<'static>>> {
    context
        .iter()
        .filter(|branch| !branch.is_empty())
        .filter(|branch| {
            !branch.iter().any(|e| {
                e.instance_path().as_str() == pointer
                    && matches!(
                        e.kind(),
                        ValidationErrorKind::Type { .. }
                            | ValidationErrorKind::Enum { .. }
                            | ValidationErrorKind::Constant { .. }
                            | ValidationErrorKind::Required { .. }
                    )
            })
        })
        .min_by_key(|branch| branch.len())
}

/// "observation [2]" for `/.../observations/2`, "`last-modified`" for a field,
/// "the document" for the root.
pub fn describe(pointer: &str) -> String {
    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
    match segments.as_slice() {
        [] => "the document".to_string(),
        [.., parent, last] if last.parse::<usize>().is_ok() => {
            format!("{} [{last}]", singular(&unescape(parent)))
        }
        [.., last] => format!("`{}`", unescape(last)),
    }
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// English singular of an OSCAL array name (`parties` → `party`).
pub fn singular(plural: &str) -> String {
    if let Some(stem) = plural.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for suffix in ["sses", "shes", "ches", "xes"] {
        if plural.ends_with(suffix) {
            return plural[..plural.len() - 2].to_string();
        }
    }
    match plural.strip_suffix('s') {
        Some(stem) if !stem.ends_with('s') => stem.to_string(),
        _ => plural.to_string(),
    }
}

/// `UUIDDatatype` from `/definitions/UUIDDatatype/pattern`.
fn definition_name(schema_path: &str) -> Option<&str> {
    let rest = schema_path.rsplit("/definitions/").next()?;
    if rest.len() == schema_path.len() {
        return None;
    }
    rest.split('/').next()
}

fn datatype_reason(datatype: Option<&str>, kind: &ValidationErrorKind) -> String {
    let reason = match datatype {
        Some("UUIDDatatype") => "is not a valid UUID: OSCAL wants an RFC 4122 version 4 or 5 UUID (8-4-4-4-12 hex digits, e.g. 0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0)",
        Some("DateTimeWithTimezoneDatatype") => "is not a valid date-time with a time zone: the date must exist (no 30 February) and a zone such as Z or -04:00 is required",
        Some("DateTimeDatatype") => "is not a valid date-time: the date must exist and the time must be HH:MM:SS",
        Some("DateWithTimezoneDatatype") => "is not a valid date with a time zone (e.g. 2024-05-01Z): the date must exist and a zone is required",
        Some("DateDatatype") => "is not a valid date (YYYY-MM-DD, a day that exists)",
        Some("TokenDatatype") => "is not a valid token: it must start with a letter or `_` and hold only letters, digits, `.`, `-` and `_` (no spaces)",
        Some("StringDatatype") => "is not a valid string: it must not be empty or start or end with white space",
        Some("URIDatatype") => "is not an absolute URI (it needs a scheme such as https:)",
        Some("URIReferenceDatatype") => "is not a valid URI reference",
        Some("EmailAddressDatatype") => "is not a valid e-mail address",
        Some("Base64Datatype") => "is not valid base64",
        Some("NonNegativeIntegerDatatype") | Some("PositiveIntegerDatatype") | Some("IntegerDatatype") => "is not an allowed integer",
        _ => "",
    };
    if !reason.is_empty() {
        return reason.to_string();
    }
    match (datatype, kind) {
        (_, ValidationErrorKind::Format { format }) => format!("is not a valid {format}"),
        (Some(name), ValidationErrorKind::Pattern { pattern }) => {
            format!("does not match the pattern of {name} (`{pattern}`)")
        }
        (None, ValidationErrorKind::Pattern { pattern }) => {
            format!("does not match the pattern `{pattern}`")
        }
        _ => "is not valid here".to_string(),
    }
}

/// A short JSON rendering of a value for a message.
fn preview(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}

fn plain(value: &Value) -> String {
    value
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| value.to_string())
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn article(noun: &str) -> &'static str {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singulars() {
        assert_eq!(singular("observations"), "observation");
        assert_eq!(singular("parties"), "party");
        assert_eq!(singular("hashes"), "hash");
        assert_eq!(singular("addresses"), "address");
        assert_eq!(singular("inventory-items"), "inventory-item");
        assert_eq!(singular("back-matter"), "back-matter");
    }

    #[test]
    fn describes_pointers() {
        assert_eq!(describe(""), "the document");
        assert_eq!(
            describe("/assessment-results/results/0/observations/3"),
            "observation [3]"
        );
        assert_eq!(
            describe("/assessment-results/metadata/last-modified"),
            "`last-modified`"
        );
        assert_eq!(describe("/a/x~1y"), "`x/y`");
    }

    #[test]
    fn definition_names() {
        assert_eq!(
            definition_name("/definitions/UUIDDatatype/pattern"),
            Some("UUIDDatatype")
        );
        assert_eq!(definition_name("/properties/x/pattern"), None);
    }

    #[test]
    fn required_message_names_the_object() {
        let schema = serde_json::json!({"type": "object", "properties": {"observations": {"type": "array", "items": {"required": ["methods"]}}}});
        let validator = jsonschema::validator_for(&schema).unwrap();
        let doc = serde_json::json!({"observations": [{}]});
        let diags = schema_diagnostics(validator.iter_errors(&doc));
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].pointer, "/observations/0");
        assert_eq!(
            diags[0].message,
            "observation [0] is missing required `methods`"
        );
        assert_eq!(diags[0].keyword.as_deref(), Some("required"));
    }
}
