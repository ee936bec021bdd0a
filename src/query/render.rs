//! Query output: a block per record for people, JSON for scripts, CSV
//! (the evidence table's columns) for spreadsheets.

use std::io::{self, Write};

use serde_json::json;

use polars::prelude::SerWriter;

use crate::model::tables::{access_events_frame, csv_writer};
use crate::model::AccessEvent;
use crate::time::format_micros;

/// One block per record, every field an auditor needs on its own line.
pub fn table(events: &[AccessEvent], out: &mut dyn Write) -> io::Result<()> {
    for e in events {
        writeln!(
            out,
            "{}  {}  {}  {}",
            format_micros(e.access.time_us),
            e.source,
            e.access.decision.as_str().to_uppercase(),
            e.access.action
        )?;
        let session = e
            .access
            .session_name
            .as_deref()
            .map(|s| format!(" (session {s})"))
            .unwrap_or_default();
        writeln!(out, "  principal   {}{session}", e.access.principal_id)?;
        writeln!(
            out,
            "              {}: {}",
            e.access.principal_type, e.access.principal_reason
        )?;
        writeln!(
            out,
            "  credential  {} via {}{}",
            e.access.credential_type,
            e.access.auth_method,
            e.access
                .credential_id
                .as_deref()
                .map(|c| format!(", id {c}"))
                .unwrap_or_default()
        )?;
        writeln!(out, "              {}", e.access.credential_reason)?;
        writeln!(
            out,
            "  resource    {}",
            e.access
                .resource
                .as_deref()
                .unwrap_or("(not named by the record)")
        )?;
        if let Some(reason) = &e.access.decision_reason {
            writeln!(out, "  outcome     {reason}")?;
        }
        let place: Vec<&str> = [e.access.account.as_deref(), e.access.environment.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if !place.is_empty() {
            writeln!(out, "  where       {}", place.join(" / "))?;
        }
        if e.access.source_address.is_some() || e.access.user_agent.is_some() {
            writeln!(
                out,
                "  from        {}{}",
                e.access.source_address.as_deref().unwrap_or("-"),
                e.access
                    .user_agent
                    .as_deref()
                    .map(|u| format!("  [{u}]"))
                    .unwrap_or_default()
            )?;
        }
        writeln!(
            out,
            "  raw         {} {} sha256:{}",
            e.raw_ref.file, e.raw_ref.position, e.raw_ref.sha256
        )?;
        writeln!(out)?;
    }
    writeln!(out, "{} record(s)", events.len())
}

/// A JSON array of records, times in RFC 3339.
pub fn json(events: &[AccessEvent], out: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<serde_json::Value> = events
        .iter()
        .map(|e| {
            let mut row = serde_json::to_value(e).unwrap_or_default();
            row["time"] = json!(format_micros(e.access.time_us));
            if let Some(map) = row.as_object_mut() {
                map.remove("time_us");
            }
            row
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &rows)?;
    writeln!(out)
}

/// The `access_events` CSV of the matching records (the columns and time
/// format of the package's own CSV).
pub fn csv(events: &[AccessEvent], out: &mut dyn Write) -> io::Result<()> {
    let mut frame = access_events_frame(events).map_err(io::Error::other)?;
    csv_writer(&mut *out)
        .finish(&mut frame)
        .map_err(io::Error::other)
}
