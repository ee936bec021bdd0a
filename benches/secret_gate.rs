//! What the secret gate costs, on the CloudTrail corpus of the ingest
//! benchmark (500 records a file): `proofpack ingest --out` with its gate,
//! then the gate alone over the folder it wrote (every Parquet cell, every
//! CSV line, the summary), in this process, with gitleaks' 222 rules and
//! proofpack's own; and, for a sense of scale, Yelp's detect-secrets (the
//! scanner a Python shop reaches for; its own 27 plugins, so not the same
//! rules) over the same files.
//!
//! Run: `cargo bench --bench secret_gate`. Env: PROOFPACK_BENCH_MB (the
//! corpus's uncompressed size, default 1100), PROOFPACK_BENCH_SKIP_PYTHON=1.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::{build_release, measure, python_with};
use proofpack::secrets::gate::{Gate, Identifiers};
use proofpack::secrets::seen::SeenSecrets;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target_mb = common::corpus_mb();
    let binary = build_release(root);
    let corpus = root.join(format!(
        "target/bench-data/cloudtrail-{target_mb}mb-500-per-file"
    ));
    let done = corpus.with_extension("done");
    if !done.exists() {
        let made = common::cloudtrail::generate(&corpus, target_mb * 1_000_000, 500, false);
        std::fs::write(&done, format!("{} {}", made.0, made.1)).unwrap();
    }
    let out = root.join("target/bench-data/secret-gate-out");
    let _ = std::fs::remove_dir_all(&out);
    let (secs, rss, ok) = measure(
        Command::new(&binary)
            .args(["--quiet", "ingest"])
            .arg(&corpus)
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::null()),
    );
    assert!(ok, "ingest failed");
    let folder_mb = dir_bytes(&out) as f64 / 1e6;
    println!("corpus: {target_mb} MB of CloudTrail; ingest folder: {folder_mb:.0} MB");
    println!("| run | seconds | peak RSS (MiB) |");
    println!("|---|---:|---:|");
    println!(
        "| `proofpack ingest --out`, gate included | {secs:.2} | {} |",
        rss >> 20
    );

    let rules = proofpack::secrets::install(
        proofpack::secrets::locate::load(None).expect("gitleaks' pinned rules"),
    );
    let seen = SeenSecrets::default();
    let mut best = f64::MAX;
    let mut strings = 0;
    for _ in 0..2 {
        let start = Instant::now();
        let gate = Gate {
            rules,
            seen: &seen,
            allowed: &[],
            identifiers: Identifiers::from_evidence(&out),
        };
        let summary = gate
            .scan_dir(&out)
            .expect("the generated corpus holds no secret");
        best = best.min(start.elapsed().as_secs_f64());
        strings = summary.strings;
    }
    println!(
        "| the gate alone over the folder ({strings} strings, {folder_mb:.0} MB) | {best:.2} | |"
    );

    if std::env::var_os("PROOFPACK_BENCH_SKIP_PYTHON").is_none() {
        let python = python_with(root, &["detect-secrets==1.5.0"]);
        // The CSV tables and the summary: the files detect-secrets can read.
        let (secs, rss, ok) = measure(
            Command::new(&python)
                .args(["-m", "detect_secrets", "scan", "--all-files"])
                .arg(&out)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        println!(
            "| detect-secrets 1.5.0 `scan --all-files` over the same folder{} | {secs:.2} | {} |",
            if ok { "" } else { " (failed)" },
            rss >> 20
        );
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .sum()
}
