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
    let rules: Vec<Value> = RULES
        .iter()
        .map(|(id, help)| json!({"id": id, "shortDescription": {"text": help}}))
        .collect();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for report in reports {
        for d in &report.diagnostics {
            let mut region = json!({});
            if let (Some(line), Some(column)) = (d.line, d.column) {
                region = json!({"startLine": line, "startColumn": column});
            }
            let rule_index = RULES.iter().position(|(id, _)| *id == d.rule);
            let mut result = json!({
                "ruleId": d.rule,
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
            if let Some(i) = rule_index {
                result["ruleIndex"] = json!(i);
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
