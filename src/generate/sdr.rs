//! FedRAMP 20x Security Decision Record (CR26 JSON): a
//! `keySecurityIndicators` entry for every KSI the checks judged. What the
//! measurements say is written from the results; what only the provider
//! can say (the package overview URI, implementation narratives,
//! assessment statements, FRR responses) comes from the config, and what is
//! absent is listed in `missing`, never invented.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::ksi_coverage::{capped_status, KsiCoverage};
use crate::checks::outcome::Status;
use crate::checks::run::{CheckResult, Report};
use crate::config::{Attestation, KsiStatus, KsiText};

pub struct SdrInputs<'a> {
    pub report: &'a Report,
    pub overview_uri: Option<&'a str>,
    /// Prefix that makes package paths absolute URIs (`https://.../pkg/`).
    pub base_uri: Option<&'a str>,
    pub texts: &'a BTreeMap<String, KsiText>,
    pub attestations: &'a [(Attestation, String)],
    pub cadence: String,
    pub last_updated: String,
    /// Which of each KSI's FedRAMP controls the evidence covers.
    pub coverage: &'a BTreeMap<String, KsiCoverage>,
}

pub struct Sdr {
    pub document: Value,
    /// Fields only the provider can fill, absent from the config.
    pub missing: Vec<String>,
}

/// The evidence type FedRAMP's schema names for each evidence table.
fn evidence_type(table: &str) -> &'static str {
    match table {
        "access_events" => "Log",
        "grants" => "Policy",
        "identities" => "Configuration",
        "secret_findings" => "Report",
        _ => "Audit Record",
    }
}

fn location(base: Option<&str>, path: &str) -> String {
    match base {
        Some(b) => format!(
            "{}{}",
            if b.ends_with('/') {
                b.to_string()
            } else {
                format!("{b}/")
            },
            path
        ),
        None => path.to_string(),
    }
}

pub fn build(s: &SdrInputs<'_>) -> Sdr {
    let mut missing = Vec::new();
    if s.overview_uri.is_none() {
        missing.push("system.overview_uri (the SDR's certificationPackageOverviewUri)".to_string());
    }
    if s.base_uri.is_none() {
        missing.push(
            "output.base_uri (where the package is published; evidence locations must be URIs)"
                .to_string(),
        );
    }
    missing.push("fedRampRequirements: responses to the FRR rule sets are the provider's".into());

    // KSI id → (title, judged checks)
    let mut ksis: BTreeMap<String, Vec<&CheckResult>> = BTreeMap::new();
    for r in &s.report.results {
        for m in r
            .mappings
            .iter()
            .filter(|m| m.framework == "fedramp-20x-ksi")
        {
            for item in &m.items {
                ksis.entry(item.id.clone()).or_default().push(r);
            }
        }
    }
    let mut entries = Vec::new();
    for (ksi, checks) in &ksis {
        let judged: Vec<&&CheckResult> = checks
            .iter()
            .filter(|r| {
                matches!(
                    r.outcome.status,
                    Status::Pass | Status::Fail | Status::Compensated
                )
            })
            .collect();
        let attested: Vec<&(Attestation, String)> = s
            .attestations
            .iter()
            .filter(|(a, _)| a.ksis.iter().any(|k| k == ksi))
            .collect();
        if judged.is_empty() && attested.is_empty() {
            continue;
        }
        let failing = judged
            .iter()
            .filter(|r| r.outcome.status == Status::Fail)
            .count();
        let measured = match (failing, judged.len()) {
            (0, _) => KsiStatus::Implemented,
            (f, n) if f == n => KsiStatus::NotImplemented,
            _ => KsiStatus::PartiallyImplemented,
        };
        let text = s.texts.get(ksi).cloned().unwrap_or_default();
        let coverage = s.coverage.get(ksi).cloned().unwrap_or_default();
        let status = capped_status(measured, &coverage, text.status);
        if !coverage.complete() && text.status.is_none() {
            missing.push(format!(
                "ksi.{ksi}.status (your statement for the controls no check covers: {}; without it the KSI is at most Partially Implemented)",
                coverage.uncovered.join(", ")
            ));
        }
        let mut implementation = Vec::new();
        match &text.implementation {
            Some(t) => implementation.push(t.clone()),
            None => missing.push(format!("ksi.{ksi}.implementation")),
        }
        let mut validation = vec![format!(
            "Validated by machine, {}: proofpack ran {} check(s) over the logs, inventories and policies in the package ({}); {} passed and {} failed. Measured: {}.",
            s.cadence,
            judged.len(),
            judged.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(", "),
            judged.len() - failing,
            failing,
            judged.iter().map(|r| format!("{} — {}", r.title, r.outcome.reason)).collect::<Vec<_>>().join("; ")
        )];
        let mut scope = coverage.describe();
        if status != measured {
            scope.push_str(&format!(
                " The checks alone measure {}; the status is {} because {}.",
                measured.as_str(),
                status.as_str(),
                match text.status {
                    Some(stated) => format!("the provider states {} for the rest", stated.as_str()),
                    None => "the provider states nothing for the rest".to_string(),
                }
            ));
        } else if let (false, Some(stated)) = (coverage.complete(), text.status) {
            scope.push_str(&format!(
                " The provider states {} for the rest.",
                stated.as_str()
            ));
        }
        validation.push(scope);
        if let Some(t) = &text.validation {
            validation.push(t.clone());
        }
        for (a, _) in &attested {
            validation.push(format!(
                "Validated by a person ({}): {} — attested by {} on {}.",
                match a.method {
                    crate::config::AttestationMethod::Interview => "interview",
                    crate::config::AttestationMethod::Examine => "examination",
                },
                a.title,
                a.attested_by,
                a.date
            ));
        }
        let assessment: Vec<String> = text.assessment.iter().cloned().collect();
        if assessment.is_empty() {
            missing.push(format!(
                "ksi.{ksi}.assessment (the independent assessor's statement)"
            ));
        }
        let mut evidence = Vec::new();
        let mut tables: Vec<&str> = Vec::new();
        for r in &judged {
            for sub in r
                .outcome
                .subjects
                .iter()
                .chain(r.outcome.waived.iter().map(|w| &w.subject))
            {
                for row in &sub.rows {
                    if !tables.contains(&row.table) {
                        tables.push(row.table);
                    }
                }
            }
        }
        tables.sort_unstable();
        for table in tables {
            evidence.push(json!({
                "evidenceType": evidence_type(table),
                "evidenceDescription": format!("The {table} rows the checks name, with the raw file, position and SHA-256 of each source record."),
                "evidenceLocation": location(s.base_uri, &s.report.evidence_file(table).0),
                "lastUpdated": s.last_updated,
            }));
        }
        evidence.push(json!({
            "evidenceType": "Report",
            "evidenceDescription": "Every check's status, metrics, subjects and evidence rows.",
            "evidenceLocation": location(s.base_uri, "checks.json"),
            "lastUpdated": s.last_updated,
        }));
        evidence.push(json!({
            "evidenceType": "Audit Record",
            "evidenceDescription": "OSCAL assessment results: observations per check, findings per control, hashed evidence.",
            "evidenceLocation": location(s.base_uri, "oscal/assessment-results.json"),
            "lastUpdated": s.last_updated,
        }));
        for (a, path) in &attested {
            evidence.push(json!({
                "evidenceType": "Procedure",
                "evidenceDescription": format!("{} (attested by {})", a.title, a.attested_by),
                "evidenceLocation": location(s.base_uri, path),
                "lastUpdated": a.date.to_string().get(..10).unwrap_or_default(),
            }));
        }
        entries.push(json!({
            "ksiId": ksi,
            "ksiImplementationStatus": status.as_str(),
            "ksiImplementation": implementation,
            "ksiValidation": validation,
            "ksiAssessment": assessment,
            "ksiTests": judged.iter().map(|r| format!("{}: {}", r.id, r.title)).collect::<Vec<_>>(),
            "ksiEvidence": evidence,
        }));
    }
    let mut document = json!({
        "fedRampRequirements": [],
        "keySecurityIndicators": entries,
    });
    if let Some(uri) = s.overview_uri {
        document["certificationPackageOverviewUri"] = json!(uri);
    }
    Sdr { document, missing }
}
