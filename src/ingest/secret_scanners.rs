//! Secret-scanner reports: gitleaks (`gitleaks detect --report-format
//! json`: a JSON array of findings) and trufflehog v3 (`--json`: one
//! finding per line). Only where a secret is and what kind it is are kept;
//! the fields that hold the secret (`Secret`, `Match`, `Raw`, `RawV2`,
//! `Redacted`) are never read.

use serde_json::Value;

use super::fields::owned;
use crate::hash::sha256_hex;
use crate::model::{RawRef, SecretFinding};
use crate::time::parse_time;

pub const GITLEAKS: &str = "gitleaks";
pub const TRUFFLEHOG: &str = "trufflehog";

pub fn detect(record: &Value) -> Option<&'static str> {
    if record.get("RuleID").is_some()
        && (record.get("Fingerprint").is_some() || record.get("StartLine").is_some())
    {
        Some(GITLEAKS)
    } else if record.get("DetectorName").is_some() && record.get("SourceMetadata").is_some() {
        Some(TRUFFLEHOG)
    } else {
        None
    }
}

pub fn finding(
    tool: &'static str,
    record: &Value,
    source_ref: &RawRef,
) -> Result<SecretFinding, String> {
    let mut finding = match tool {
        GITLEAKS => gitleaks(record, source_ref),
        _ => trufflehog(record, source_ref),
    }?;
    // The fields kept are not meant to hold the secret, but a rule name, a
    // path or a fingerprint can happen to contain it: mask it wherever it
    // stands (fuzzing found a report whose RuleID did).
    for key in ["Secret", "Match", "Raw", "RawV2"] {
        if let Some(secret) = record.get(key).and_then(Value::as_str) {
            mask(&mut finding, secret);
        }
    }
    Ok(finding)
}

/// The secret values a finding reports (gitleaks' `Secret` and `Match`,
/// trufflehog's `Raw` and `RawV2`): proofpack never writes them, and the
/// secret gate proves it by searching every output for them.
pub fn secret_values(record: &Value) -> Vec<String> {
    ["Secret", "Match", "Raw", "RawV2"]
        .iter()
        .filter_map(|key| record.get(*key).and_then(Value::as_str))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// Replaces `secret` in every text the finding keeps. Shorter than four
/// characters it could not be told from ordinary text, and is left.
fn mask(finding: &mut SecretFinding, secret: &str) {
    let secret = secret.trim();
    if secret.chars().count() < 4 {
        return;
    }
    let masked = |text: &mut String| {
        if text.contains(secret) {
            *text = text.replace(secret, "[redacted]");
        }
    };
    masked(&mut finding.rule);
    masked(&mut finding.fingerprint);
    for text in [
        &mut finding.file,
        &mut finding.commit,
        &mut finding.repository,
    ]
    .into_iter()
    .flatten()
    {
        masked(text);
    }
}

fn gitleaks(record: &Value, source_ref: &RawRef) -> Result<SecretFinding, String> {
    let rule = owned(record, "/RuleID").ok_or("a gitleaks finding without RuleID")?;
    let file = owned(record, "/File");
    let line = record.get("StartLine").and_then(Value::as_u64);
    let commit = owned(record, "/Commit");
    // gitleaks' own fingerprint is commit:file:rule:line; build the same
    // when it is missing (older versions), never from the secret.
    let fingerprint = owned(record, "/Fingerprint").unwrap_or_else(|| {
        format!(
            "{}:{}:{rule}:{}",
            commit.as_deref().unwrap_or(""),
            file.as_deref().unwrap_or(""),
            line.unwrap_or(0)
        )
    });
    Ok(SecretFinding {
        tool: GITLEAKS,
        rule,
        file,
        line,
        commit,
        repository: None,
        committed_us: record.get("Date").and_then(parse_time),
        verified: None,
        fingerprint,
        source_ref: source_ref.clone(),
    })
}

fn trufflehog(record: &Value, source_ref: &RawRef) -> Result<SecretFinding, String> {
    let rule = owned(record, "/DetectorName").ok_or("a trufflehog finding without DetectorName")?;
    // SourceMetadata.Data holds one object named after the source (Git,
    // Github, Filesystem, S3, ...).
    let data = record
        .pointer("/SourceMetadata/Data")
        .and_then(Value::as_object)
        .and_then(|m| m.values().next())
        .cloned()
        .unwrap_or(Value::Null);
    let file = owned(&data, "/file").or_else(|| owned(&data, "/path"));
    let line = data.get("line").and_then(Value::as_u64);
    let commit = owned(&data, "/commit");
    let repository = owned(&data, "/repository");
    let fingerprint = sha256_hex(
        format!(
            "trufflehog:{rule}:{}:{}:{}:{}",
            repository.as_deref().unwrap_or(""),
            commit.as_deref().unwrap_or(""),
            file.as_deref().unwrap_or(""),
            line.unwrap_or(0)
        )
        .as_bytes(),
    );
    Ok(SecretFinding {
        tool: TRUFFLEHOG,
        rule,
        file,
        line,
        commit,
        repository,
        committed_us: data.get("timestamp").and_then(parse_time),
        verified: record.get("Verified").and_then(Value::as_bool),
        fingerprint,
        source_ref: source_ref.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw() -> RawRef {
        RawRef {
            file: "report.json".into(),
            position: "record 1".into(),
            sha256: String::new(),
        }
    }

    const SECRET: &str = "AKIAQYLPMN5HHHFPZAM2";

    #[test]
    fn a_secret_is_masked_wherever_a_kept_field_holds_it() {
        // Found by the inventory_record fuzz target: the secret inside RuleID.
        let record = json!({"RuleID": "datad=REDACTED-IN-THIS-SAMPLE", "Secret": "REDACTED-IN-THIS-SAMPLE",
            "File": "deploy/REDACTED-IN-THIS-SAMPLE.yaml", "Fingerprint": "c:f:REDACTED-IN-THIS-SAMPLE:12"});
        let raw_ref = RawRef::default();
        let f = finding(GITLEAKS, &record, &raw_ref).unwrap();
        let text = format!("{f:?}");
        assert!(!text.contains("REDACTED-IN-THIS-SAMPLE"), "{text}");
        assert_eq!(f.rule, "datad=[redacted]");
        let raw = json!({"DetectorName": "AWS", "Raw": "AKIAEXAMPLEKEY1234", "SourceMetadata": {"Data": {"Git": {"file": "AKIAEXAMPLEKEY1234.txt"}}}});
        let f = finding(TRUFFLEHOG, &raw, &raw_ref).unwrap();
        assert_eq!(f.file.as_deref(), Some("[redacted].txt"));
    }

    #[test]
    fn gitleaks_findings_keep_place_not_secret() {
        let f = json!({"Description": "AWS Access Key", "StartLine": 12, "EndLine": 12, "StartColumn": 9, "EndColumn": 28,
            "Match": format!("aws_key = {SECRET}"), "Secret": SECRET, "File": "deploy/config.py", "Commit": "a1b2c3",
            "Entropy": 3.6, "Author": "dev", "Email": "dev@example.com", "Date": "2025-06-01T10:00:00Z", "Message": "add config",
            "Tags": [], "RuleID": "aws-access-token", "Fingerprint": "a1b2c3:deploy/config.py:aws-access-token:12"});
        assert_eq!(detect(&f), Some(GITLEAKS));
        let finding = finding(GITLEAKS, &f, &raw()).unwrap();
        assert_eq!(finding.line, Some(12));
        assert_eq!(
            finding.fingerprint,
            "a1b2c3:deploy/config.py:aws-access-token:12"
        );
        assert!(!serde_json::to_string(&finding).unwrap().contains(SECRET));
    }

    #[test]
    fn trufflehog_findings_keep_place_not_secret() {
        let f = json!({"SourceMetadata": {"Data": {"Git": {"commit": "77d5", "file": "keys.txt", "email": "a@b.c",
            "repository": "https://github.com/org/repo", "timestamp": "2025-06-01 10:00:00 +0000", "line": 3}}},
            "SourceID": 1, "SourceType": 16, "SourceName": "trufflehog - git", "DetectorType": 2, "DetectorName": "AWS",
            "DecoderName": "PLAIN", "Verified": true, "Raw": SECRET, "RawV2": format!("{SECRET}secretpart"), "Redacted": SECRET});
        assert_eq!(detect(&f), Some(TRUFFLEHOG));
        let finding = finding(TRUFFLEHOG, &f, &raw()).unwrap();
        assert_eq!(finding.file.as_deref(), Some("keys.txt"));
        assert_eq!(finding.verified, Some(true));
        assert_eq!(
            finding.committed_us,
            parse_time(&json!("2025-06-01T10:00:00Z"))
        );
        assert!(!serde_json::to_string(&finding).unwrap().contains(SECRET));
    }
}
