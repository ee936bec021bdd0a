//! `proofpack query` against DuckDB (issue 28, part 3): five look-ups an
//! auditor makes over a month of CloudTrail (the `access_events.parquet`
//! that `ingest` writes for the 1 GB month: about a million events), each
//! answer written as CSV in time order. Both tools run in the same run,
//! on the same file, warm (best of three) and from a cold page cache (the
//! file evicted with posix_fadvise before each of two runs); DuckDB's time
//! includes Python's start-up, as a user running it would pay. The answers
//! are compared row for row before anything is timed.
//!
//! `cargo bench --bench query`; PROOFPACK_BENCH_MB sets the corpus size
//! (default 1,000).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{build_release, measure, python_with};

/// The look-ups: a label, proofpack's filters, the same as a SQL predicate.
const LOOKUPS: [(&str, &[&str], &str); 5] = [
    (
        "one role's denied calls",
        &["--principal", "role/app-42", "--decision", "deny"],
        "(contains(principal_id, 'role/app-42') OR contains(session_name, 'role/app-42')) AND decision = 'deny'",
    ),
    (
        "one day",
        &["--since", "2026-11-14", "--until", "2026-11-15"],
        "time >= TIMESTAMPTZ '2026-11-14 00:00:00+00' AND time < TIMESTAMPTZ '2026-11-15 00:00:00+00'",
    ),
    (
        "one secret's readers",
        &["--resource", "secret:db-7"],
        "contains(resource, 'secret:db-7')",
    ),
    (
        "a static key's use in the last ten days",
        &["--principal", "user/svc-9", "--since", "2026-11-19"],
        "(contains(principal_id, 'user/svc-9') OR contains(session_name, 'user/svc-9')) AND time >= TIMESTAMPTZ '2026-11-19 00:00:00+00'",
    ),
    (
        "every error of the month",
        &["--decision", "error", "--source", "aws-cloudtrail"],
        "decision = 'error' AND source = 'aws-cloudtrail'",
    ),
];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mb: u64 = std::env::var("PROOFPACK_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let binary = build_release(root);
    let python = python_with(root, &["duckdb==1.4.2"]);
    let data = root.join("target/bench-data");
    let corpus = data.join(format!("cloudtrail-{mb}mb-daily"));
    let done = corpus.with_extension("done");
    if !done.exists() {
        let made = common::cloudtrail::generate(&corpus, mb * 1_000_000, 500, true);
        std::fs::write(&done, format!("{} {}", made.0, made.1)).unwrap();
    }
    let evidence = data.join(format!("query-{mb}mb/evidence"));
    let parquet = evidence.join("access_events.parquet");
    if !parquet.exists() {
        let ok = Command::new(&binary)
            .args(["ingest", "--quiet"])
            .arg(&corpus)
            .arg("--out")
            .arg(&evidence)
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "ingest failed");
    }
    let size = std::fs::metadata(&parquet).unwrap().len();
    println!(
        "# {} ({:.0} MB of Parquet from {mb} MB of CloudTrail)\n",
        parquet.display(),
        size as f64 / 1e6
    );
    let script = root.join("benches/duckdb_query.py");
    let ours = |filters: &[&str]| {
        let mut cmd = Command::new(&binary);
        cmd.arg("query")
            .arg(&evidence)
            .args(["--format", "csv"])
            .args(filters);
        cmd
    };
    let theirs = |formulation: &str, predicate: &str| {
        let mut cmd = Command::new(&python);
        cmd.arg(&script)
            .arg(&parquet)
            .arg(formulation)
            .arg(predicate);
        cmd
    };
    println!("| look-up | rows | proofpack warm (s) | peak RSS (MiB) | cold (s) | DuckDB warm (s) | peak RSS (MiB) | cold (s) | DuckDB formulation |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for (label, filters, predicate) in LOOKUPS {
        let rows = same_answer(ours(filters), theirs("copy", predicate));
        let (warm, rss) = best(3, None, &mut || ours(filters));
        let (cold, _) = best(2, Some(&parquet), &mut || ours(filters));
        let mut fastest = (f64::MAX, 0, f64::MAX, "");
        for formulation in ["copy", "relation"] {
            let (w, r) = best(3, None, &mut || theirs(formulation, predicate));
            if w < fastest.0 {
                let (c, _) = best(2, Some(&parquet), &mut || theirs(formulation, predicate));
                fastest = (w, r, c, formulation);
            }
        }
        let mib = |b: u64| b as f64 / 1048576.0;
        println!(
            "| {label} | {rows} | {warm:.2} | {:.0} | {cold:.2} | {:.2} | {:.0} | {:.2} | {} |",
            mib(rss),
            fastest.0,
            mib(fastest.1),
            fastest.2,
            fastest.3
        );
    }
}

/// Runs both commands and compares their CSV as sets of rows, on the
/// fields both write the same way (identity, decision, resource, the raw
/// reference); returns the number of rows.
fn same_answer(mut ours: Command, mut theirs: Command) -> usize {
    let a = ours.output().unwrap();
    let b = theirs.output().unwrap();
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let rows = |bytes: &[u8]| {
        let mut reader = csv::Reader::from_reader(bytes);
        let header = reader.headers().unwrap().clone();
        let at = |name: &str| header.iter().position(|h| h == name).unwrap();
        let keys = [
            "principal_id",
            "decision",
            "resource",
            "raw_file",
            "raw_position",
        ]
        .map(at);
        let mut out: Vec<Vec<String>> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                keys.iter().map(|&k| r[k].to_string()).collect()
            })
            .collect();
        out.sort();
        out
    };
    let (ours, theirs) = (rows(&a.stdout), rows(&b.stdout));
    assert_eq!(ours.len(), theirs.len(), "row counts differ");
    assert!(ours == theirs, "the answers differ");
    ours.len()
}

/// Best wall time of `runs` (stdout to /dev/null) and the peak RSS seen;
/// with `evict`, the file leaves the page cache before each run.
fn best(runs: usize, evict: Option<&Path>, make: &mut dyn FnMut() -> Command) -> (f64, u64) {
    let mut best = (f64::MAX, 0u64);
    for _ in 0..runs {
        if let Some(path) = evict {
            drop_from_cache(path);
        }
        let (secs, rss, ok) = measure(make().stdout(Stdio::null()));
        assert!(ok, "query failed");
        best = (best.0.min(secs), best.1.max(rss));
    }
    best
}

/// Asks the kernel to drop the file's pages (no root needed).
fn drop_from_cache(path: &Path) {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(path).unwrap();
    file.sync_all().unwrap();
    // SAFETY: a valid descriptor; the call only advises the kernel.
    let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    assert_eq!(rc, 0, "posix_fadvise failed");
}
