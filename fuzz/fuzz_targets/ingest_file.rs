//! Any bytes as one input file, through the real per-file entry point:
//! gzip, format detection (credential reports, inventory CSV, YAML, JSON
//! containers, NDJSON) and every reader behind it. Whatever the input, the
//! counts reconcile and every reject is in the table.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proofpack::ingest::{ingest_bytes, IngestOptions};

/// The name decides YAML versus JSON when the content does not.
const NAMES: [&str; 6] = [
    "input.json",
    "input.jsonl",
    "input.yaml",
    "credential-report.csv",
    "https://logs.example/input",
    "input.json.gz",
];

fuzz_target!(|data: &[u8]| {
    // A Parquet decoder's panic is an error proofpack reports as a reject;
    // libFuzzer's hook, which aborts, is kept for every other panic.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(proofpack::model::parquet_guard::quiet_decoder_panics);
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let name = NAMES[pick as usize % NAMES.len()];
    let options = IngestOptions {
        max_bytes: 16 << 20,
        ..IngestOptions::default()
    };
    let out = ingest_bytes(name, bytes.to_vec(), &options).expect("ingest reports, never fails");
    let s = &out.summary;
    assert!(s.reconciles(), "counts do not reconcile: {s:?}");
    assert_eq!(out.events.height(), s.normalised);
    assert_eq!(out.rejected.len(), s.rejected);
    assert_eq!(out.identities.len(), s.identities);
    assert_eq!(out.grants.len(), s.grants);
    assert_eq!(out.findings.len(), s.secret_findings);
    for reject in &out.rejected {
        assert!(!reject.reason.is_empty() && !reject.raw_ref.position.is_empty());
    }
});
