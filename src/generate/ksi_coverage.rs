//! Which of each KSI's FedRAMP controls this run's evidence covers. A
//! control is covered when a check that was judged (pass or fail) maps to
//! it, or an attestation in the package names it; a check that could not be
//! evaluated covers nothing. The SDR caps a KSI's status by this, and the
//! summaries show it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::checks::frameworks::Framework;
use crate::checks::outcome::Status;
use crate::checks::run::Report;
use crate::config::{Attestation, KsiStatus};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KsiCoverage {
    /// FedRAMP's control list for the KSI, in its order.
    pub controls: Vec<String>,
    pub covered: Vec<String>,
    pub uncovered: Vec<String>,
}

impl KsiCoverage {
    pub fn complete(&self) -> bool {
        self.uncovered.is_empty()
    }

    /// One sentence for the SDR's validation statements.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "Evidence covers {} of the {} 800-53 controls FedRAMP lists for this KSI",
            self.covered.len(),
            self.controls.len()
        );
        if !self.covered.is_empty() {
            text.push_str(&format!(" ({})", self.covered.join(", ")));
        }
        if self.uncovered.is_empty() {
            text.push('.');
        } else {
            text.push_str(&format!(
                "; no check or attestation covers {}.",
                self.uncovered.join(", ")
            ));
        }
        text
    }
}

/// Coverage of every KSI of the framework, by KSI id.
pub fn ksi_coverage(
    ksis: &Framework,
    report: &Report,
    attestations: &[Attestation],
) -> BTreeMap<String, KsiCoverage> {
    let judged_controls: Vec<&str> = report
        .results
        .iter()
        .filter(|r| {
            matches!(
                r.outcome.status,
                Status::Pass | Status::Fail | Status::Compensated
            )
        })
        .flat_map(|r| r.mappings.iter())
        .filter(|m| m.framework == "nist-800-53-r5")
        .flat_map(|m| m.items.iter().map(|i| i.id.as_str()))
        .chain(
            attestations
                .iter()
                .flat_map(|a| a.controls.iter().map(String::as_str)),
        )
        .collect();
    ksis.items
        .iter()
        .map(|item| {
            let (covered, uncovered): (Vec<String>, Vec<String>) =
                item.controls.iter().cloned().partition(|control| {
                    judged_controls
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(control))
                });
            (
                item.id.clone(),
                KsiCoverage {
                    controls: item.controls.clone(),
                    covered,
                    uncovered,
                },
            )
        })
        .collect()
}

/// A KSI's status: what the checks measured, never more than they cover.
/// Where some of its controls are not covered, the provider's statement
/// for them counts beside the measurement; without one the KSI is at most
/// "Partially Implemented".
pub fn capped_status(
    measured: KsiStatus,
    coverage: &KsiCoverage,
    stated: Option<KsiStatus>,
) -> KsiStatus {
    if coverage.complete() {
        return measured;
    }
    match stated {
        Some(s) if s == measured => s,
        Some(_) => KsiStatus::PartiallyImplemented,
        None => measured.min(KsiStatus::PartiallyImplemented),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::frameworks::Frameworks;
    use KsiStatus::*;

    fn partial() -> KsiCoverage {
        KsiCoverage {
            controls: vec!["ac-2".into(), "ia-5".into()],
            covered: vec!["ac-2".into()],
            uncovered: vec!["ia-5".into()],
        }
    }

    #[test]
    fn partly_covered_ksis_claim_at_most_partial_unless_the_provider_says() {
        let full = KsiCoverage {
            controls: vec!["ac-2".into()],
            covered: vec!["ac-2".into()],
            uncovered: vec![],
        };
        assert_eq!(capped_status(Implemented, &full, None), Implemented);
        assert_eq!(
            capped_status(Implemented, &partial(), None),
            PartiallyImplemented
        );
        assert_eq!(
            capped_status(NotImplemented, &partial(), None),
            NotImplemented
        );
        assert_eq!(
            capped_status(Implemented, &partial(), Some(Implemented)),
            Implemented
        );
        assert_eq!(
            capped_status(Implemented, &partial(), Some(NotImplemented)),
            PartiallyImplemented
        );
        assert_eq!(
            capped_status(NotImplemented, &partial(), Some(NotImplemented)),
            NotImplemented
        );
    }

    #[test]
    fn attested_controls_count_and_descriptions_name_the_gaps() {
        let frameworks = Frameworks::built_in().unwrap();
        let ksi = frameworks.get("ksi").unwrap();
        let report = Report {
            tool: "proofpack",
            version: "test",
            evidence: String::new(),
            as_of: String::new(),
            since: None,
            until: None,
            frameworks: Vec::new(),
            counts: BTreeMap::new(),
            results: Vec::new(),
            expired_waivers: Vec::new(),
            csv_omitted: Vec::new(),
        };
        let snu = &ksi.find("KSI-IAM-SNU").unwrap().controls;
        let attestation: Attestation = toml::from_str(&format!(
            "title = \"t\"\ndescription = \"d\"\nfile = \"f.md\"\nmethod = \"EXAMINE\"\nattested_by = \"a\"\ndate = 2026-10-01\ncontrols = [\"{}\"]\n",
            snu[0].to_uppercase()
        ))
        .unwrap();
        let c = ksi_coverage(ksi, &report, &[attestation]);
        let snu_cov = &c["KSI-IAM-SNU"];
        assert_eq!(snu_cov.covered, vec![snu[0].clone()]);
        assert_eq!(snu_cov.uncovered.len(), snu.len() - 1);
        assert!(snu_cov
            .describe()
            .contains("no check or attestation covers"));
        assert_eq!(c.len(), ksi.items.len());
    }
}
