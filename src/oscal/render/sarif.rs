//! SARIF 2.1.0, so CI systems (GitHub code scanning, GitLab, Azure DevOps)
//! show each problem inline at its file, line and column.

use std::io::{self, Write};

use serde_json::{json, Value};

use crate::oscal::diagnostic::{FileReport, FileStatus, Severity, RULES};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn render(reports: &[FileReport], out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(reports))?;
    writeln!(out)
}

/// The SARIF log as a JSON value.
pub fn document(reports: &[FileReport]) -> Value {
    let mut rules: Vec<Value> = RULES
        .iter()
        .map(|(id, help)| json!({"id": id, "shortDescription": {"text": help}}))
        .collect();
    // Each Metaschema constraint that fired is a rule of its own.
    let mut seen = std::collections::BTreeSet::new();
    for c in reports
        .iter()
        .flat_map(|r| &r.diagnostics)
        .filter_map(|d| d.constraint.as_ref())
    {
        if seen.insert(c.id.clone()) {
            rules.push(json!({
                "id": c.id,
                "shortDescription": {"text": format!("Metaschema {} constraint on `{}` ({}), defined at {}", c.kind, c.target, c.level.as_str(), c.defined_at)},
                "properties": {"category": "constraint", "definedAt": c.defined_at},
            }));
        }
    }
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for report in reports {
        for d in &report.diagnostics {
            let mut region = json!({});
            if let (Some(line), Some(column)) = (d.line, d.column) {
                region = json!({"startLine": line, "startColumn": column});
            }
            let rule_index = RULES.iter().position(|(id, _)| *id == d.rule);
            // A constraint's own id is its rule; the category stays in properties.
            let rule_id = d.constraint.as_ref().map_or(d.rule, |c| c.id.as_str());
            let mut result = json!({
                "ruleId": rule_id,
                "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning", Severity::Info => "note" },
                "message": {"text": d.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri(&report.path)},
                        "region": region,
                    },
                    "logicalLocations": [{"fullyQualifiedName": if d.pointer.is_empty() { "/" } else { &d.pointer }, "kind": "member"}],
                }],
                "properties": {"jsonPointer": d.pointer},
            });
            if let (Some(i), None) = (rule_index, &d.constraint) {
                result["ruleIndex"] = json!(i);
            }
            result["properties"]["category"] = json!(d.rule);
            if let Some(c) = &d.constraint {
                result["properties"]["constraint"] = json!(c);
            }
            if let Some(keyword) = &d.keyword {
                result["properties"]["schemaKeyword"] = json!(keyword);
            }
            if let Some(path) = &d.schema_path {
                result["properties"]["schemaPath"] = json!(path);
            }
            if region.as_object().is_some_and(|r| r.is_empty()) {
                result["locations"][0]["physicalLocation"]
                    .as_object_mut()
                    .map(|p| p.remove("region"));
            }
            results.push(result);
        }
        if report.status == FileStatus::Error {
            notifications.push(json!({
                "level": "error",
                "message": {"text": format!("{}: {}", report.path, report.note.as_deref().unwrap_or("not validated"))},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": artifact_uri(&report.path)}}}],
            }));
        }
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "proofpack",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": !reports.iter().any(|r| r.status == FileStatus::Error),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    })
}

/// SARIF wants URIs: forward slashes, no leading `./`.
fn artifact_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    path.strip_prefix("./").unwrap_or(&path).to_string()
}
