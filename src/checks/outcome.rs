//! What a check returns, and the context it runs in (parameters, time,
//! waivers).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::embedded::Verification;
use super::waiver::Waiver;

/// A check's verdict. Only `pass` says the evidence shows the control
/// working; the other three say why there is no such claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Fail,
    /// The evidence holds nothing this check judges (no mesh settings, no
    /// static credentials).
    NotApplicable,
    /// Evidence the check needs is missing (no inventory to compare the
    /// logs with).
    NotEvaluated,
    /// Nothing fails but what declared compensating controls answer, each
    /// verified over the evidence (embedded identities): neither a pass
    /// nor a failure.
    Compensated,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NotApplicable => "not-applicable",
            Status::NotEvaluated => "not-evaluated",
            Status::Compensated => "compensated",
        }
    }
}

/// A row of an evidence table (0-based, as in the Parquet file; the CSV
/// line is `row + 2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RowRef {
    pub table: &'static str,
    pub row: usize,
}

/// Evidence rows listed per subject; the rest are counted.
pub const MAX_ROWS_PER_SUBJECT: usize = 50;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subject {
    /// The identity, credential, grant holder, source or finding.
    pub id: String,
    /// What is wrong with it, in words.
    pub detail: String,
    /// The evidence rows behind the finding (at most
    /// [`MAX_ROWS_PER_SUBJECT`]; `rows_total` counts them all).
    pub rows: Vec<RowRef>,
    pub rows_total: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaivedSubject {
    #[serde(flatten)]
    pub subject: Subject,
    pub waiver: Waiver,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub status: Status,
    /// Why this status: the measured value against the threshold, or what
    /// was missing.
    pub reason: String,
    pub metrics: BTreeMap<String, Value>,
    pub subjects: Vec<Subject>,
    pub waived: Vec<WaivedSubject>,
    /// Subjects of embedded identities whose compensating controls hold.
    pub compensated: Vec<CompensatedSubject>,
}

/// A subject answered by verified compensating controls.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompensatedSubject {
    #[serde(flatten)]
    pub subject: Subject,
    pub embedded: Verification,
}

impl Outcome {
    pub fn new() -> Self {
        Outcome {
            status: Status::NotEvaluated,
            reason: String::new(),
            metrics: BTreeMap::new(),
            subjects: Vec::new(),
            waived: Vec::new(),
            compensated: Vec::new(),
        }
    }

    pub fn not_applicable(reason: impl Into<String>) -> Self {
        Outcome {
            status: Status::NotApplicable,
            reason: reason.into(),
            ..Outcome::new()
        }
    }

    pub fn not_evaluated(reason: impl Into<String>) -> Self {
        Outcome {
            status: Status::NotEvaluated,
            reason: reason.into(),
            ..Outcome::new()
        }
    }

    pub fn metric(&mut self, name: &str, value: impl Into<Value>) {
        self.metrics.insert(name.to_string(), value.into());
    }

    /// Records a failing subject, or a waived one if a waiver covers it.
    pub fn fail(&mut self, ctx: &Ctx<'_>, id: &str, detail: String, rows: Vec<RowRef>) {
        let total = rows.len();
        self.fail_counted(ctx, id, detail, rows, total);
    }

    /// Records a failing subject whose rows were already capped: `rows`
    /// are the first of `rows_total`.
    pub fn fail_counted(
        &mut self,
        ctx: &Ctx<'_>,
        id: &str,
        detail: String,
        rows: Vec<RowRef>,
        rows_total: usize,
    ) {
        let mut rows = rows;
        rows.truncate(MAX_ROWS_PER_SUBJECT);
        let mut subject = Subject {
            id: id.to_string(),
            detail,
            rows,
            rows_total,
        };
        if let Some(embedded) = ctx.embedded_for(id) {
            if embedded.compensates() {
                subject.detail = format!(
                    "{}; embedded ({}): compensating controls verified over {} event(s): {}",
                    subject.detail,
                    embedded.declaration.reason,
                    embedded.events,
                    embedded.describe()
                );
                self.compensated.push(CompensatedSubject {
                    subject,
                    embedded: embedded.clone(),
                });
                return;
            }
            // Declared embedded, but its controls break (or nothing shows
            // them): a failure, with the breaking rows as its evidence.
            let broken: Vec<&str> = embedded.broken().map(|c| c.control.as_str()).collect();
            subject.detail = if broken.is_empty() {
                format!(
                    "{}; declared embedded, but no use in the window shows a compensating control",
                    subject.detail
                )
            } else {
                format!(
                    "{}; declared embedded, but its compensating controls break: {}",
                    subject.detail,
                    embedded.describe()
                )
            };
            for c in embedded.broken() {
                for row in &c.rows {
                    if subject.rows.len() < MAX_ROWS_PER_SUBJECT && !subject.rows.contains(row) {
                        subject.rows.push(*row);
                    }
                }
            }
        }
        match ctx.waiver_for(id) {
            Some(waiver) => self.waived.push(WaivedSubject {
                subject,
                waiver: waiver.clone(),
            }),
            None => self.subjects.push(subject),
        }
    }

    /// Pass when no failing subject remains (waived ones do not count;
    /// compensated ones make it [`Status::Compensated`], see [`Self::settle`]).
    pub fn judge_by_subjects(mut self, what: &str, considered: usize) -> Self {
        self.metric("considered", considered as u64);
        self.metric("failing", self.subjects.len() as u64);
        self.metric("waived", self.waived.len() as u64);
        let waived = if self.waived.is_empty() {
            String::new()
        } else {
            format!(" ({} waived)", self.waived.len())
        };
        if self.subjects.is_empty() {
            self.status = Status::Pass;
            self.reason = format!("none of {considered} {what} fails{waived}");
        } else {
            self.status = Status::Fail;
            self.reason = format!(
                "{} of {considered} {what} fail{waived}",
                self.subjects.len()
            );
        }
        self
    }
}

impl Outcome {
    /// A check that would pass but for subjects answered by compensating
    /// controls is `compensated`, not `pass`.
    pub fn settle(mut self) -> Self {
        if !self.compensated.is_empty() {
            self.metric("compensated", self.compensated.len() as u64);
            if self.status == Status::Pass {
                self.status = Status::Compensated;
                self.reason = format!(
                    "{}; {} subject(s) of embedded identities answered by verified compensating controls",
                    self.reason,
                    self.compensated.len()
                );
            }
        }
        self
    }
}

impl Default for Outcome {
    fn default() -> Self {
        Outcome::new()
    }
}

/// What a check function sees besides the evidence.
pub struct Ctx<'a> {
    /// Parameter values: defaults overridden by the configuration.
    pub params: BTreeMap<String, toml::Value>,
    /// The time "now" is taken to be for ages and idleness (µs, UTC).
    pub as_of_us: i64,
    /// The assessment window, where known.
    pub since_us: Option<i64>,
    pub until_us: Option<i64>,
    /// Waivers of this check still in force at `as_of`.
    pub waivers: Vec<&'a Waiver>,
    /// Verified embedded declarations, for the checks compensating
    /// controls answer (empty for the others).
    pub embedded: Vec<&'a Verification>,
}

impl Ctx<'_> {
    pub fn number(&self, name: &str) -> f64 {
        match self.params.get(name) {
            Some(toml::Value::Integer(i)) => *i as f64,
            Some(toml::Value::Float(f)) => *f,
            _ => f64::NAN,
        }
    }

    pub fn strings(&self, name: &str) -> Vec<String> {
        match self.params.get(name) {
            Some(toml::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn embedded_for(&self, subject: &str) -> Option<&Verification> {
        self.embedded.iter().copied().find(|v| v.answers(subject))
    }

    pub fn waiver_for(&self, subject: &str) -> Option<&Waiver> {
        self.waivers.iter().copied().find(|w| w.covers(subject))
    }
}

/// Days as microseconds.
pub const DAY_US: i64 = 86_400_000_000;
pub const HOUR_US: i64 = 3_600_000_000;
