//! Runs the catalogue's checks over one evidence folder and assembles the
//! report: every check's outcome with its mappings resolved to titled
//! framework items, the framework versions used, and the waivers that had
//! expired (which are not honoured).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::catalogue::{Basis, Catalogue, Check};
use super::config::ChecksConfig;
use super::evidence::Evidence;
use super::frameworks::Frameworks;
use super::outcome::{Ctx, Outcome, Status};
use super::waiver::Waiver;
use crate::time::format_micros;

#[derive(Debug, Clone, Serialize)]
pub struct MappedItem {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedMapping {
    pub framework: String,
    pub basis: Basis,
    pub items: Vec<MappedItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub severity: super::catalogue::Severity,
    pub parameters: std::collections::BTreeMap<String, toml::Value>,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub mappings: Vec<ResolvedMapping>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkUsed {
    pub id: String,
    pub title: String,
    pub version: String,
    pub source: String,
    pub origin: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub version: &'static str,
    pub evidence: String,
    pub as_of: String,
    pub since: Option<String>,
    pub until: Option<String>,
    pub frameworks: Vec<FrameworkUsed>,
    pub counts: std::collections::BTreeMap<&'static str, usize>,
    pub results: Vec<CheckResult>,
    /// Waivers past their date: listed, not honoured.
    pub expired_waivers: Vec<Waiver>,
    /// Evidence tables with no CSV copy (too many rows): a row is cited
    /// in the Parquet file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub csv_omitted: Vec<String>,
}

impl Report {
    /// The package file a row of `table` is cited in (relative to the
    /// package root), and whether it is the CSV copy.
    pub fn evidence_file(&self, table: &str) -> (String, bool) {
        if self.csv_omitted.iter().any(|t| t == table) {
            (format!("evidence/{table}.parquet"), false)
        } else {
            (format!("evidence/{table}.csv"), true)
        }
    }
}

impl Report {
    pub fn any_failed(&self) -> bool {
        self.results
            .iter()
            .any(|r| r.outcome.status == Status::Fail)
    }

    /// Whether the run should fail a CI job under `policy`.
    pub fn fails(&self, policy: FailOn) -> bool {
        match policy {
            FailOn::Never => false,
            FailOn::NotSatisfied => self.any_failed(),
            FailOn::RiskHigh => self.results.iter().any(|r| {
                r.outcome.status == Status::Fail && r.severity == super::catalogue::Severity::High
            }),
        }
    }
}

/// When a run fails its caller (the exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any check fails (a finding is not satisfied).
    NotSatisfied,
    /// A check of high severity fails.
    RiskHigh,
    /// Never: report only.
    Never,
}

pub struct RunOptions {
    pub as_of_us: Option<i64>,
    pub since_us: Option<i64>,
    pub until_us: Option<i64>,
    /// Only these checks (all when empty).
    pub only: Vec<String>,
}

fn summary_time(ev: &Evidence, key: &str) -> Option<i64> {
    ev.summary
        .get(key)
        .and_then(|v| v.as_str())
        .and_then(crate::time::parse_time_text)
}

fn resolve(check: &Check, frameworks: &Frameworks) -> Vec<ResolvedMapping> {
    check
        .maps
        .iter()
        .map(|m| ResolvedMapping {
            framework: m.framework.clone(),
            basis: m.basis,
            note: m.note.clone(),
            items: m
                .items
                .iter()
                .map(|id| {
                    let item = frameworks.by_id.get(&m.framework).and_then(|f| f.find(id));
                    MappedItem {
                        id: item.map_or(id.clone(), |i| i.id.clone()),
                        title: item.map_or(String::new(), |i| i.title.clone()),
                    }
                })
                .collect(),
        })
        .collect()
}

pub fn run(
    evidence_name: &str,
    ev: &Evidence,
    catalogue: &Catalogue,
    frameworks: &Frameworks,
    config: &ChecksConfig,
    options: &RunOptions,
) -> Report {
    let since_us = options.since_us.or_else(|| summary_time(ev, "since"));
    let until_us = options.until_us.or_else(|| summary_time(ev, "until"));
    let as_of_us = options
        .as_of_us
        .or(until_us)
        .unwrap_or_else(|| Utc::now().timestamp_micros());
    let as_of_day = DateTime::<Utc>::from_timestamp_micros(as_of_us)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    let expired_waivers: Vec<Waiver> = config
        .waivers
        .iter()
        .filter(|w| !w.in_force(as_of_day))
        .cloned()
        .collect();
    // Checks are independent reads of the same evidence: run them on every
    // core, results in catalogue order.
    use rayon::prelude::*;
    let results: Vec<CheckResult> = catalogue
        .checks
        .par_iter()
        .filter(|check| options.only.is_empty() || options.only.contains(&check.id))
        .map(|check| {
            let params = config.params(check);
            let ctx = Ctx {
                params: params.clone(),
                as_of_us,
                since_us,
                until_us,
                waivers: config
                    .waivers
                    .iter()
                    .filter(|w| w.check == check.id && w.in_force(as_of_day))
                    .collect(),
                embedded: if super::embedded::COMPENSABLE_CHECKS.contains(&check.id.as_str()) {
                    ev.embedded.iter().collect()
                } else {
                    Vec::new()
                },
            };
            let function = super::rules::function(&check.function)
                .expect("the catalogue was checked for known functions when loaded");
            CheckResult {
                id: check.id.clone(),
                title: check.title.clone(),
                severity: check.severity,
                parameters: params,
                outcome: function(ev, &ctx).settle(),
                mappings: resolve(check, frameworks),
            }
        })
        .collect();
    let mut counts = std::collections::BTreeMap::new();
    for status in [
        Status::Pass,
        Status::Fail,
        Status::NotApplicable,
        Status::NotEvaluated,
        Status::Compensated,
    ] {
        counts.insert(
            status.as_str(),
            results
                .iter()
                .filter(|r| r.outcome.status == status)
                .count(),
        );
    }
    Report {
        tool: "proofpack",
        version: env!("CARGO_PKG_VERSION"),
        evidence: evidence_name.to_string(),
        as_of: format_micros(as_of_us),
        since: since_us.map(format_micros),
        until: until_us.map(format_micros),
        frameworks: frameworks
            .by_id
            .values()
            .map(|f| FrameworkUsed {
                id: f.id.clone(),
                title: f.title.clone(),
                version: f.version.clone(),
                source: f.source.clone(),
                origin: frameworks.origin.get(&f.id).cloned().unwrap_or_default(),
            })
            .collect(),
        counts,
        results,
        expired_waivers,
        csv_omitted: ev
            .summary
            .get("csv_omitted")
            .and_then(|v| v.as_object())
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default(),
    }
}
