//! One audit record read by each log reader (CloudTrail and its envelopes,
//! Kubernetes audit, GCP, Entra, Azure Activity, OCSF and the rest, SIEM
//! lake rows; detected or forced):
//! the tape path ingest uses and the `serde_json::Value` path must give the
//! same event, the same reject reason, or the same routing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proofpack::ingest::{record_outcomes, IngestOptions, SourceKind};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    // 0 detects; then one per format, forced; the high bit adds a window,
    // the next declares zone-less times UTC.
    let kinds = SourceKind::ALL.len() + 1;
    let source = match (pick & 0x3f) as usize % kinds {
        0 => None,
        n => Some(SourceKind::ALL[n - 1]),
    };
    let window = pick & 0x80 != 0;
    let naive_utc = if pick & 0x40 != 0 { vec![String::new()] } else { Vec::new() };
    let options = IngestOptions {
        source,
        since: window.then_some(1_600_000_000_000_000),
        until: window.then_some(1_800_000_000_000_000),
        naive_utc,
        ..IngestOptions::default()
    };
    let (tape, value) = record_outcomes(bytes, &options);
    assert_eq!(tape, value, "the tape and Value paths disagree");
});
