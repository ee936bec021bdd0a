//! Text renderings of check results, the catalogue and coverage (JSON is
//! the serde form of the same structures).

use std::fmt::Write;

pub mod junit;
pub mod sarif;

use super::catalogue::Catalogue;
use super::coverage::Coverage;
use super::run::Report;

/// Subjects shown per check in the text report; JSON has them all.
const SHOWN_SUBJECTS: usize = 10;

pub fn report_text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "evidence {} · as of {}{}",
        report.evidence,
        report.as_of,
        match (&report.since, &report.until) {
            (Some(s), Some(u)) => format!(" · window {s} to {u}"),
            (Some(s), None) => format!(" · window from {s}"),
            (None, Some(u)) => format!(" · window until {u}"),
            (None, None) => String::new(),
        }
    );
    let width = report
        .results
        .iter()
        .map(|r| r.id.len())
        .max()
        .unwrap_or(10);
    for r in &report.results {
        let _ = writeln!(
            out,
            "{:<14} {:<width$}  {}",
            r.outcome.status.as_str().to_uppercase(),
            r.id,
            r.outcome.reason
        );
        for s in r.outcome.subjects.iter().take(SHOWN_SUBJECTS) {
            let _ = writeln!(
                out,
                "{:14} {:width$}    - {}: {} [{}]",
                "",
                "",
                s.id,
                s.detail,
                rows_text(&s.rows, s.rows_total)
            );
        }
        if r.outcome.subjects.len() > SHOWN_SUBJECTS {
            let _ = writeln!(
                out,
                "{:14} {:width$}    … and {} more (see --format json)",
                "",
                "",
                r.outcome.subjects.len() - SHOWN_SUBJECTS
            );
        }
        for w in &r.outcome.waived {
            let _ = writeln!(
                out,
                "{:14} {:width$}    ~ {} waived until {} by {}: {}",
                "", "", w.subject.id, w.waiver.expires, w.waiver.approver, w.waiver.justification
            );
        }
    }
    for w in &report.expired_waivers {
        let _ = writeln!(
            out,
            "warning: waiver for {} on {:?} expired {}; not honoured",
            w.check, w.subject, w.expires
        );
    }
    let c = &report.counts;
    let _ = writeln!(
        out,
        "{} check(s): {} pass, {} fail, {} compensated, {} not applicable, {} not evaluated",
        report.results.len(),
        c.get("pass").unwrap_or(&0),
        c.get("fail").unwrap_or(&0),
        c.get("compensated").unwrap_or(&0),
        c.get("not-applicable").unwrap_or(&0),
        c.get("not-evaluated").unwrap_or(&0)
    );
    out
}

fn rows_text(rows: &[crate::checks::outcome::RowRef], total: usize) -> String {
    let mut parts: Vec<String> = rows
        .iter()
        .take(5)
        .map(|r| format!("{}#{}", r.table, r.row))
        .collect();
    if total > parts.len() {
        parts.push(format!("+{} more", total - parts.len()));
    }
    parts.join(" ")
}

pub fn catalogue_text(catalogue: &Catalogue) -> String {
    let mut out = String::new();
    for c in &catalogue.checks {
        let _ = writeln!(out, "{}  {}", c.id, c.title);
        for (name, p) in &c.parameters {
            let _ = writeln!(out, "    {name} = {}  ({})", p.default, p.description);
        }
        for m in &c.maps {
            let _ = writeln!(
                out,
                "    → {}: {} [{}]",
                m.framework,
                m.items.join(", "),
                match m.basis {
                    crate::checks::catalogue::Basis::FedrampKsi => "via FedRAMP KSI control list",
                    crate::checks::catalogue::Basis::OwaspNhiAsi =>
                        "via OWASP's NHI-to-ASI mapping",
                    crate::checks::catalogue::Basis::Derived => "our judgement",
                    crate::checks::catalogue::Basis::Local => "local mapping",
                }
            );
        }
    }
    out
}

pub fn coverage_text(c: &Coverage) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}): {} of {} items covered by at least one check",
        c.title, c.version, c.covered, c.items
    );
    let _ = writeln!(out, "\ncovered:");
    for i in c.items_detail.iter().filter(|i| !i.checks.is_empty()) {
        let checks: Vec<String> = i
            .checks
            .iter()
            .map(|k| match k.basis {
                crate::checks::catalogue::Basis::FedrampKsi => format!("{} (via KSI)", k.check),
                _ => k.check.clone(),
            })
            .collect();
        let _ = writeln!(out, "  {:<28} {}  ← {}", i.id, i.title, checks.join(", "));
    }
    let uncovered: Vec<_> = c
        .items_detail
        .iter()
        .filter(|i| i.checks.is_empty())
        .collect();
    if !uncovered.is_empty() {
        let _ = writeln!(out, "\nnot covered by any check:");
    }
    for i in uncovered {
        let _ = writeln!(out, "  {:<28} {}", i.id, i.title);
    }
    out
}
