//! Check results as SARIF 2.1.0: one rule per check, one result per failing
//! subject, located at its first evidence row (the CSV line, relative to the
//! package), so code-scanning views list them beside the evidence.

use serde_json::{json, Value};

use crate::checks::catalogue::{Catalogue, Severity};
use crate::checks::outcome::Status;
use crate::checks::run::Report;

pub fn sarif(report: &Report, catalogue: &Catalogue) -> Value {
    let rules: Vec<Value> = report
        .results
        .iter()
        .map(|r| {
            let check = catalogue.get(&r.id);
            let tags: Vec<String> = r
                .mappings
                .iter()
                .flat_map(|m| m.items.iter().map(|i| i.id.clone()))
                .collect();
            json!({
                "id": r.id,
                "name": r.title,
                "shortDescription": {"text": r.title},
                "fullDescription": {"text": check.map_or(String::new(), |c| c.rationale.trim().to_string())},
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {"tags": tags, "severity": r.severity.as_str()}
            })
        })
        .collect();
    let mut results = Vec::new();
    for r in report
        .results
        .iter()
        .filter(|r| r.outcome.status == Status::Fail)
    {
        for s in &r.outcome.subjects {
            let mut result = json!({
                "ruleId": r.id,
                "level": level(r.severity),
                "message": {"text": format!("{}: {} ({})", s.id, s.detail, r.outcome.reason)},
                "partialFingerprints": {"subject": s.id},
            });
            if let Some(row) = s.rows.first() {
                let (uri, csv) = report.evidence_file(row.table);
                // A Parquet file has no lines: the row is a property.
                result["locations"] = if csv {
                    json!([{
                        "physicalLocation": {
                            "artifactLocation": {"uri": uri},
                            "region": {"startLine": row.row + 2}
                        }
                    }])
                } else {
                    json!([{
                        "physicalLocation": {"artifactLocation": {"uri": uri}},
                        "properties": {"row": row.row}
                    }])
                };
            }
            results.push(result);
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "proofpack",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://proofpack.dev",
                "rules": rules
            }},
            "results": results
        }]
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "error",
        Severity::Moderate => "warning",
        Severity::Low => "note",
    }
}
