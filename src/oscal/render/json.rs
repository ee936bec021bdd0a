//! Machine-readable JSON: every file with its diagnostics, and the totals.

use std::io::{self, Write};

use serde::Serialize;

use super::Summary;
use crate::oscal::diagnostic::FileReport;

#[derive(Serialize)]
struct Output<'a> {
    tool: &'static str,
    version: &'static str,
    summary: Summary,
    files: &'a [FileReport],
}

pub fn render(reports: &[FileReport], out: &mut dyn Write) -> io::Result<()> {
    let output = Output {
        tool: "proofpack",
        version: env!("CARGO_PKG_VERSION"),
        summary: Summary::of(reports),
        files: reports,
    };
    serde_json::to_writer_pretty(&mut *out, &output)?;
    writeln!(out)
}
