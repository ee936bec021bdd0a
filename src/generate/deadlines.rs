//! POA&M deadlines: each failing check gets the time by which FedRAMP
//! expects it mitigated or remediated (CR26 VDR-TFR-PVR), from the system's
//! certification class, the check's N-rating (by its severity, or as the
//! config sets it) and its exposure; or the number of days the provider
//! sets for that check. Every deadline cites the rule it comes from.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::checks::catalogue::{Catalogue, Severity};
use crate::checks::outcome::Status;
use crate::checks::remediation::{Exposure, RemediationRules, Timeframe, Unit};
use crate::checks::run::Report;
use crate::config::Poam;
use crate::fedramp::Class;

/// N-rating per severity when the config sets none: NHI credential and
/// access weaknesses are judged by what a stolen or over-broad identity
/// could do across tenants (VER-EVA-EPA's N2 narrow, N3 disruptive to one
/// agency, N4 debilitating to one or disruptive to several).
const DEFAULT_PAIN: [(Severity, u8); 3] = [
    (Severity::High, 4),
    (Severity::Moderate, 3),
    (Severity::Low, 2),
];

/// A failing check's deadline and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Deadline {
    /// RFC 3339, UTC; `None` when FedRAMP sets no timeframe (N1).
    pub due: Option<String>,
    /// The rule the deadline comes from (`VDR-TFR-PVR`, `VDR-TFR-RMN`) or
    /// the config key that set it.
    pub basis: String,
    pub pain: u8,
    pub exposure: Exposure,
    /// One sentence an auditor can check against the rule.
    pub explanation: String,
}

pub struct DeadlineInputs<'a> {
    pub catalogue: &'a Catalogue,
    pub poam: &'a Poam,
    pub class: Option<Class>,
    pub rules: &'a RemediationRules,
    /// When the checks were evaluated: timeframes run from here.
    pub evaluated: DateTime<Utc>,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Deadlines for every failing check of a report, by check id.
pub fn deadlines(report: &Report, d: &DeadlineInputs<'_>) -> BTreeMap<String, Deadline> {
    report
        .results
        .iter()
        .filter(|r| r.outcome.status == Status::Fail)
        .map(|r| (r.id.clone(), deadline_for(d, &r.id)))
        .collect()
}

/// The deadline of one failing check.
pub fn deadline_for(d: &DeadlineInputs<'_>, check: &str) -> Deadline {
    let own = d.poam.checks.get(check);
    let severity = d
        .catalogue
        .get(check)
        .map_or(Severity::Moderate, |c| c.severity);
    let configured = match severity {
        Severity::High => d.poam.pain.high,
        Severity::Moderate => d.poam.pain.moderate,
        Severity::Low => d.poam.pain.low,
    };
    let by_severity = DEFAULT_PAIN
        .iter()
        .find(|(s, _)| *s == severity)
        .map_or(3, |(_, p)| *p);
    let pain = own
        .and_then(|c| c.pain)
        .or(configured)
        .unwrap_or(by_severity);
    let exposure = own
        .and_then(|c| c.exposure)
        .or(d.poam.exposure)
        .unwrap_or(Exposure::InternetReachable);
    let evaluated = crate::time::prose_time(&rfc3339(d.evaluated));
    if let Some(days) = own.and_then(|c| c.days) {
        let t = Timeframe {
            num: days,
            unit: Unit::Days,
        };
        return Deadline {
            due: Some(rfc3339(d.evaluated + Duration::days(i64::from(days)))),
            basis: format!("proofpack.toml [poam.checks.{check}] days"),
            pain,
            exposure,
            explanation: format!(
                "{} from evaluation on {evaluated}, as the provider set for this check (FedRAMP's {} would give the class's N{pain} timeframe).",
                t.describe(),
                d.rules.rule
            ),
        };
    }
    // Without a class, the shortest timeframes (Class D) apply: a deadline
    // that is too early is safer than one that is too late.
    let (class, class_note) = match d.class {
        Some(c) => (c, format!("Class {c:?}")),
        None => (
            Class::D,
            "Class D's timeframes (the shortest; [system] class is not set)".to_string(),
        ),
    };
    match d.rules.timeframe(class, pain, exposure) {
        Some(t) => Deadline {
            due: Some(rfc3339(t.after(d.evaluated))),
            basis: d.rules.rule.clone(),
            pain,
            exposure,
            explanation: format!(
                "FedRAMP {} ({}, {}): {class_note}, N{pain}, {}: {} from evaluation on {evaluated}.",
                d.rules.rule,
                d.rules.name,
                d.rules.version,
                exposure.describe(),
                t.describe()
            ),
        },
        None => Deadline {
            due: None,
            basis: d.rules.remaining_rule.clone(),
            pain,
            exposure,
            explanation: format!(
                "FedRAMP {} sets no timeframe for N{pain} ({class_note}); {} applies: mitigate or remediate during routine operations.",
                d.rules.rule, d.rules.remaining_rule
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PoamCheck;
    use chrono::TimeZone;

    fn run(poam: &Poam, class: Option<Class>, ids: &[&str]) -> BTreeMap<String, Deadline> {
        let catalogue = Catalogue::built_in().unwrap();
        let rules = RemediationRules::built_in().unwrap();
        let d = DeadlineInputs {
            catalogue: &catalogue,
            poam,
            class,
            rules: &rules,
            evaluated: Utc.with_ymd_and_hms(2026, 11, 3, 0, 0, 0).unwrap(),
        };
        ids.iter()
            .map(|id| (id.to_string(), deadline_for(&d, id)))
            .collect()
    }

    fn high_and_low() -> (String, String) {
        let catalogue = Catalogue::built_in().unwrap();
        let pick = |s: Severity| {
            catalogue
                .checks
                .iter()
                .find(|c| c.severity == s)
                .map(|c| c.id.clone())
                .expect("the catalogue has a check of each severity")
        };
        (pick(Severity::High), pick(Severity::Low))
    }

    #[test]
    fn severity_and_class_choose_fedramps_timeframe() {
        let (high, low) = high_and_low();
        let d = run(&Poam::default(), Some(Class::B), &[&high, &low]);
        // Class B, N4, internet-reachable: 8 days; N2: 96 days.
        assert_eq!(d[&high].due.as_deref(), Some("2026-11-11T00:00:00Z"));
        assert_eq!(d[&high].basis, "VDR-TFR-PVR");
        assert!(d[&high].explanation.contains("Class B, N4"));
        assert_eq!(d[&low].due.as_deref(), Some("2027-02-07T00:00:00Z"));
        // No class: Class D's, the shortest (N4: 2 days).
        let d = run(&Poam::default(), None, &[&high]);
        assert_eq!(d[&high].due.as_deref(), Some("2026-11-05T00:00:00Z"));
        assert!(d[&high].explanation.contains("not set"));
    }

    #[test]
    fn config_overrides_rating_exposure_and_days() {
        let (high, low) = high_and_low();
        let mut poam = Poam {
            exposure: Some(Exposure::NotLikelyExploitable),
            ..Poam::default()
        };
        poam.pain.high = Some(5);
        poam.checks.insert(
            low.clone(),
            PoamCheck {
                days: Some(30),
                ..PoamCheck::default()
            },
        );
        let d = run(&poam, Some(Class::C), &[&high, &low]);
        // Class C, N5, not likely exploitable: 16 days.
        assert_eq!(d[&high].due.as_deref(), Some("2026-11-19T00:00:00Z"));
        assert_eq!(d[&low].due.as_deref(), Some("2026-12-03T00:00:00Z"));
        assert!(d[&low].basis.contains("[poam.checks."));
        // N1: no timeframe; the routine-operations rule is cited.
        poam.checks.insert(
            high.clone(),
            PoamCheck {
                pain: Some(1),
                ..PoamCheck::default()
            },
        );
        let d = run(&poam, Some(Class::C), &[&high]);
        assert_eq!(d[&high].due, None);
        assert_eq!(d[&high].basis, "VDR-TFR-RMN");
    }
}
