//! Time and peak memory of `proofpack checks run` over the evidence of the
//! ingest benchmark (980k CloudTrail events by default), against the same
//! log-based checks written as DuckDB SQL over the same Parquet, in one run;
//! the figures both compute (ephemeral share, static principals, denial
//! share, human use) must agree.
//!
//! Run `cargo bench --bench ingest` first (it generates the corpus), then
//! `cargo bench --bench checks`, which ingests it afresh (not timed).
//! Env: PROOFPACK_BENCH_MB (corpus size, default 1100),
//! PROOFPACK_BENCH_SKIP_DUCKDB=1.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{build_release, measure, python_with};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mb: u64 = std::env::var("PROOFPACK_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1100);
    let corpus = root.join(format!("target/bench-data/cloudtrail-{mb}mb"));
    assert!(
        corpus.exists(),
        "{} is missing: run `cargo bench --bench ingest` first",
        corpus.display()
    );
    let binary = build_release(root);
    let evidence = root.join("target/bench-data/checks-evidence");
    let _ = std::fs::remove_dir_all(&evidence);
    let ok = Command::new(&binary)
        .args(["ingest", "--quiet"])
        .arg(&corpus)
        .arg("--out")
        .arg(&evidence)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ingest failed");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(evidence.join("summary.json")).unwrap()).unwrap();
    let events = summary["normalised"].as_u64().unwrap_or(0);
    println!("evidence: {} ({events} access events)", evidence.display());

    let report_path = root.join("target/bench-data/checks-report.json");
    let mut best = (f64::MAX, 0u64);
    for _ in 0..2 {
        let out = std::fs::File::create(&report_path).unwrap();
        let mut cmd = Command::new(&binary);
        cmd.args(["checks", "run"])
            .arg(&evidence)
            .args([
                "--format",
                "json",
                "--fail-on",
                "never",
                "--as-of",
                "2026-01-01",
            ])
            .stdout(out)
            .stderr(Stdio::null());
        let (secs, rss, ok) = measure(&mut cmd);
        assert!(ok, "proofpack checks run failed");
        if secs < best.0 {
            best = (secs, rss);
        }
    }
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let result = |id: &str| {
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    let mut rows = vec![(
        "proofpack checks run (16 checks)".to_string(),
        best.0,
        best.1,
    )];

    if std::env::var_os("PROOFPACK_BENCH_SKIP_DUCKDB").is_none() {
        let python = python_with(root, &["duckdb"]);
        let duck_json = root.join("target/bench-data/duckdb-checks.json");
        let out = std::fs::File::create(&duck_json).unwrap();
        let mut cmd = Command::new(python);
        cmd.arg(root.join("benches/duckdb_checks.py"))
            .arg(&evidence)
            .stdout(out);
        let (secs, rss, ok) = measure(&mut cmd);
        assert!(ok, "duckdb baseline failed");
        rows.push(("DuckDB SQL, the 8 log-based checks".to_string(), secs, rss));
        let duck: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&duck_json).unwrap()).unwrap();
        // The same answers, or the comparison means nothing.
        let eph = result("ephemeral-credentials");
        let ours = eph["metrics"]["share"].as_f64().unwrap();
        let theirs = duck["ephemeral_share"].as_f64().unwrap();
        assert!(
            (ours - theirs).abs() < 1e-9,
            "ephemeral share {ours} vs {theirs}"
        );
        assert_eq!(
            eph["subjects"].as_array().unwrap().len() as u64,
            duck["static_principals"].as_u64().unwrap()
        );
        let denied = result("denied-access-spikes");
        assert!(
            (denied["metrics"]["share"].as_f64().unwrap() - duck["denied_share"].as_f64().unwrap())
                .abs()
                < 1e-9
        );
        assert_eq!(
            result("human-use-of-nhi")["subjects"]
                .as_array()
                .unwrap()
                .len() as u64,
            duck["human_use_principals"].as_u64().unwrap()
        );
    }

    println!("\n| tool | seconds | events/s | peak RSS |");
    println!("|---|---:|---:|---:|");
    for (label, secs, rss) in &rows {
        println!(
            "| {label} | {secs:.2} | {:.0} | {:.0} MiB |",
            events as f64 / secs,
            *rss as f64 / 1048576.0
        );
    }
}
