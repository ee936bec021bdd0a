//! Plain text for people: one line per file, then one line per diagnostic in
//! the `file:line:column: severity[rule] message` shape editors understand.

use std::io::{self, Write};

use super::Summary;
use crate::oscal::diagnostic::{FileReport, FileStatus, Severity};

pub fn render(reports: &[FileReport], out: &mut dyn Write) -> io::Result<()> {
    for report in reports {
        let what = match (report.model, report.schema_version) {
            (Some(model), Some(version)) => format!(" ({model}, OSCAL {version})"),
            (Some(model), None) => format!(" ({model})"),
            _ => String::new(),
        };
        match report.status {
            FileStatus::Valid if report.diagnostics.is_empty() => {
                writeln!(out, "{}: valid{what}", report.path)?
            }
            FileStatus::Valid => writeln!(
                out,
                "{}: valid{what}, {} warning(s)",
                report.path,
                report.warnings()
            )?,
            FileStatus::Invalid => writeln!(
                out,
                "{}: INVALID{what}, {} error(s), {} warning(s)",
                report.path,
                report.errors(),
                report.warnings()
            )?,
            FileStatus::Skipped => writeln!(
                out,
                "{}: skipped: {}",
                report.path,
                report.note.as_deref().unwrap_or("not an OSCAL document")
            )?,
            FileStatus::Error => writeln!(
                out,
                "{}: NOT VALIDATED: {}",
                report.path,
                // The full advice (how to get schemas) goes to stderr once.
                report
                    .note
                    .as_deref()
                    .and_then(|n| n.lines().next())
                    .unwrap_or("unknown error")
            )?,
        }
        if let Some(c) = &report.constraints {
            writeln!(
                out,
                "  constraints (OSCAL {} Metaschema{}): {} applied, {} passed, {} failed, {} not evaluated",
                c.metaschema_version,
                if c.selection.len() > 1 { " + FedRAMP" } else { "" },
                c.applied,
                c.passed,
                c.failed,
                c.not_evaluated
            )?;
            for n in &c.not_evaluated_list {
                writeln!(
                    out,
                    "    not evaluated: {} ({}): {}",
                    n.id, n.defined_at, n.reason
                )?;
            }
        }
        for d in &report.diagnostics {
            let position = match (d.line, d.column) {
                (Some(line), Some(column)) => format!("{line}:{column}"),
                _ => "-".to_string(),
            };
            let severity = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            let pointer = if d.pointer.is_empty() {
                "/"
            } else {
                d.pointer.as_str()
            };
            let keyword = match (&d.keyword, &d.constraint) {
                (Some(k), _) => format!(", keyword `{k}`"),
                (None, Some(c)) => format!(
                    ", constraint {} ({} {}, {})",
                    c.id,
                    c.level.as_str(),
                    c.kind,
                    c.defined_at
                ),
                (None, None) => String::new(),
            };
            writeln!(
                out,
                "  {}:{position}: {severity}[{}] {}\n    at {pointer}{keyword}",
                report.path, d.rule, d.message
            )?;
        }
    }
    let s = Summary::of(reports);
    writeln!(
        out,
        "{} file(s): {} valid, {} invalid, {} skipped, {} not validated; {} error(s), {} warning(s)",
        s.files, s.valid, s.invalid, s.skipped, s.failed, s.errors, s.warnings
    )
}
