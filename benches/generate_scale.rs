//! Peak memory and time of `proofpack generate` against the size of a
//! month of CloudTrail (issue 24, part 2): 0.25, 1 and 4 GB of JSON (28
//! days of 500-record gzipped files), the whole package each time. Beside
//! it, the checks alone over the package's evidence with each engine:
//! proofpack's own, and the same statistics as SQL on DuckDB (the tool a
//! user would otherwise reach for, in the same run, over the same Parquet).
//!
//! `cargo bench --bench generate_scale`; PROOFPACK_BENCH_SIZES sets the
//! sizes in MB (default `250,1000,4000`), PROOFPACK_BENCH_SKIP_DUCKDB=1
//! leaves DuckDB out.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{build_release, measure, python_with};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sizes: Vec<u64> = std::env::var("PROOFPACK_BENCH_SIZES")
        .unwrap_or_else(|_| "250,1000,4000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let binary = build_release(root);
    let duckdb = std::env::var_os("PROOFPACK_BENCH_SKIP_DUCKDB")
        .is_none()
        .then(|| python_with(root, &["duckdb==1.4.2"]));
    let data = root.join("target/bench-data");
    println!("| corpus (MB of JSON) | events | generate (s) | generate peak RSS (MiB) | checks, embedded (s) | peak RSS (MiB) | checks, DuckDB engine (s) | peak RSS (MiB) |");
    println!("|---|---|---|---|---|---|---|---|");
    for mb in sizes {
        let corpus = data.join(format!("cloudtrail-{mb}mb-daily"));
        let done = corpus.with_extension("done");
        if !done.exists() {
            let made = common::cloudtrail::generate(&corpus, mb * 1_000_000, 500, true);
            std::fs::write(&done, format!("{} {}", made.0, made.1)).unwrap();
        }
        let config = data.join(format!("generate-{mb}mb.toml"));
        let out = data.join(format!("generate-{mb}mb-package"));
        std::fs::write(&config, config_text(&corpus, &out)).unwrap();
        // Best of two; the package is replaced each time.
        let mut best = (f64::MAX, 0u64);
        for _ in 0..2 {
            let _ = std::fs::remove_dir_all(&out);
            let (secs, rss, ok) = measure(
                Command::new(&binary)
                    .args(["generate", "--quiet", "--config"])
                    .arg(&config)
                    .arg("--schema-dir")
                    .arg(root.join("../shared/oscal/schemas"))
                    .arg("--history")
                    .arg(data.join(format!("generate-{mb}mb-history")))
                    .stdout(Stdio::null()),
            );
            assert!(ok, "generate failed on {mb} MB");
            if secs < best.0 {
                best = (secs, rss);
            }
        }
        let evidence = out.join("evidence");
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(evidence.join("summary.json")).unwrap()).unwrap();
        let events = summary["normalised"].as_u64().unwrap_or(0);
        let checks = |engine: &str, python: Option<&PathBuf>| {
            let mut best = (f64::MAX, 0u64);
            for _ in 0..2 {
                let mut cmd = Command::new(&binary);
                cmd.args(["checks", "run", "--format", "json", "--fail-on", "never"])
                    .arg(&evidence)
                    .args(["--engine", engine])
                    .stdout(Stdio::null());
                if let Some(p) = python {
                    cmd.env("PROOFPACK_PYTHON", p);
                }
                let (secs, rss, ok) = measure(&mut cmd);
                assert!(ok, "checks run --engine {engine} failed");
                if secs < best.0 {
                    best = (secs, rss);
                }
            }
            best
        };
        let embedded = checks("embedded", None);
        let duck = duckdb
            .as_ref()
            .map(|p| checks("duckdb", Some(p)))
            .map_or(("–".to_string(), "–".to_string()), |(s, r)| {
                (format!("{s:.2}"), mib(r))
            });
        println!(
            "| {mb} | {events} | {:.2} | {} | {:.2} | {} | {} | {} |",
            best.0,
            mib(best.1),
            embedded.0,
            mib(embedded.1),
            duck.0,
            duck.1
        );
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.0}", bytes as f64 / (1024.0 * 1024.0))
}

/// A config whose inputs are the corpus, over its 28 days.
fn config_text(corpus: &Path, out: &Path) -> String {
    format!(
        r#"[system]
name = "Benchmark"
description = "A generated month of CloudTrail."
organization = "Bench, Inc."
class = "B"
boundary = "AWS accounts 111122223333 and 444455556666"

[window]
since = 2026-11-01T00:00:00Z
until = 2026-11-29T00:00:00Z

[inputs]
logs = ["{}"]

[output]
dir = "{}"
"#,
        corpus.display(),
        out.display()
    )
}
