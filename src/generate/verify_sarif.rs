//! `verify`'s result as SARIF 2.1.0, for code-scanning views and CI
//! gates: one result per file changed, missing or added, per invalid
//! document, and one for the signature, whose properties say which key
//! signed and when.

use serde_json::{json, Value};

use super::{SignatureStatus, VerifyReport};

const RULES: [(&str, &str, &str); 6] = [
    ("file-changed", "A file differs from the manifest", "error"),
    ("file-missing", "A file in the manifest is gone", "error"),
    ("file-extra", "A file is not in the manifest", "error"),
    (
        "document-invalid",
        "An OSCAL document no longer validates",
        "error",
    ),
    ("signature", "The package's signature", "note"),
    (
        "signature-invalid",
        "The signature or a signed file does not hold",
        "error",
    ),
];

pub fn sarif(report: &VerifyReport) -> Value {
    let mut results = Vec::new();
    let mut push = |rule: &str, level: &str, text: String, uri: Option<&str>, properties: Value| {
        let mut result = json!({
            "ruleId": rule,
            "level": level,
            "message": {"text": text},
            "properties": properties,
        });
        if let Some(uri) = uri {
            result["locations"] = json!([{"physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": "PACKAGE"}}}]);
        }
        results.push(result);
    };
    for (rule, list) in [
        ("file-changed", &report.files.changed),
        ("file-missing", &report.files.missing),
        ("file-extra", &report.files.extra),
    ] {
        for path in list {
            let what = rule.trim_start_matches("file-");
            push(
                rule,
                "error",
                format!("{path}: {what}"),
                Some(path),
                json!({}),
            );
        }
    }
    for (document, status) in &report.documents {
        if !status.starts_with("valid") {
            push(
                "document-invalid",
                "error",
                format!("{document}: {status}"),
                Some(document),
                json!({}),
            );
        }
    }
    let s = &report.signature;
    let signer = json!({
        "status": s.status,
        "keyid": s.keyid,
        "key": s.key,
        "algorithm": s.algorithm,
        "signedAt": s.signed_at,
        "builder": s.builder,
    });
    if s.status == SignatureStatus::Invalid {
        for problem in &s.problems {
            push(
                "signature-invalid",
                "error",
                problem.clone(),
                Some(crate::attest::ATTESTATION),
                signer.clone(),
            );
        }
    } else {
        push("signature", "note", s.summary(), None, signer);
    }
    let rules: Vec<Value> = RULES
        .iter()
        .map(|(id, text, level)| {
            json!({
                "id": id,
                "shortDescription": {"text": text},
                "defaultConfiguration": {"level": level},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "proofpack verify",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "originalUriBaseIds": {"PACKAGE": {"uri": package_uri(&report.package)}},
            "results": results,
        }]
    })
}

/// The package folder as a file URI ending in `/` (SARIF's base URI form).
fn package_uri(path: &str) -> String {
    let absolute = std::path::Path::new(path)
        .canonicalize()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_string());
    let encoded: String = absolute
        .split('/')
        .map(|part| {
            percent_encoding::utf8_percent_encode(part, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("/");
    format!("file://{}/", encoded.trim_end_matches('/'))
}
