//! Ingestion throughput and peak memory of `proofpack ingest` on generated
//! CloudTrail corpora (gzipped `{"Records": [...]}` files in AWS's S3
//! layout) in two shapes: many small files (500 records, what AWS delivers
//! per account, region and ~5 minutes) and few large ones (50,000 records).
//! Against DuckDB computing the same normalised columns and writing the same
//! outputs, in three formulations (the fastest counts), in one run.
//!
//! Then the other audit formats (Kubernetes audit, GCP, Entra, Azure
//! Activity, OCSF) on corpora built from the real samples.
//!
//! Run: `cargo bench --bench ingest`. Env: PROOFPACK_BENCH_MB (uncompressed
//! size of each CloudTrail corpus, default 1100), PROOFPACK_BENCH_OTHER_MB
//! (each other format's, default 200), PROOFPACK_BENCH_SKIP_DUCKDB=1,
//! PROOFPACK_BENCH_ONLY_OTHERS=1.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{build_release, measure, python_with};

/// (label, records per file).
const SHAPES: [(&str, usize); 2] = [("small files", 500), ("large files", 50_000)];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target_mb = common::corpus_mb();
    let binary = build_release(root);
    let python = std::env::var_os("PROOFPACK_BENCH_SKIP_DUCKDB")
        .is_none()
        .then(|| python_with(root, &["duckdb"]));
    if std::env::var_os("PROOFPACK_BENCH_ONLY_OTHERS").is_none() {
        cloudtrail_shapes(root, &binary, target_mb, python.as_deref());
    }
    let other_mb = std::env::var("PROOFPACK_BENCH_OTHER_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    other_formats(root, &binary, other_mb);
}

/// Both CloudTrail corpus shapes, against DuckDB.
fn cloudtrail_shapes(root: &Path, binary: &Path, target_mb: u64, python: Option<&Path>) {
    for (shape, per_file) in SHAPES {
        let corpus = root.join(format!(
            "target/bench-data/cloudtrail-{target_mb}mb-{per_file}-per-file"
        ));
        let done = corpus.with_extension("done");
        let (records, raw_bytes) = if done.exists() {
            let text = std::fs::read_to_string(&done).unwrap();
            let mut parts = text.split_whitespace().map(|n| n.parse::<u64>().unwrap());
            (parts.next().unwrap(), parts.next().unwrap())
        } else {
            let made =
                common::cloudtrail::generate(&corpus, target_mb * 1_000_000, per_file, false);
            std::fs::write(&done, format!("{} {}", made.0, made.1)).unwrap();
            made
        };
        let files = walk(&corpus);
        let gz_bytes: u64 = files
            .iter()
            .map(|p| std::fs::metadata(p).unwrap().len())
            .sum();
        let mb = raw_bytes as f64 / 1e6;
        println!(
            "\n## {shape}: {} files of {per_file} records ({records} records, {mb:.0} MB of JSON, {:.0} MB gzipped)",
            files.len(),
            gz_bytes as f64 / 1e6
        );

        let mut rows = Vec::new();
        let (best, summary) = best_ingest(root, binary, &corpus);
        assert_eq!(
            summary["normalised"].as_u64(),
            Some(records),
            "every generated record is normalised"
        );
        assert_eq!(summary["rejected"].as_u64(), Some(0), "nothing is rejected");
        rows.push((
            "proofpack ingest (Parquet + CSV + summary)".to_string(),
            best.0,
            best.1,
        ));

        let mut fastest_duckdb: Option<f64> = None;
        if let Some(python) = python {
            for formulation in ["objects_multi", "objects", "read_json"] {
                let duck_out = root.join("target/bench-data/duckdb-out");
                let _ = std::fs::remove_dir_all(&duck_out);
                let mut cmd = Command::new(python);
                cmd.arg(root.join("benches/duckdb_baseline.py"))
                    .arg(&corpus)
                    .arg(&duck_out)
                    .arg(formulation)
                    .stdout(Stdio::null());
                let (secs, rss, ok) = measure(&mut cmd);
                assert!(ok, "duckdb baseline ({formulation}) failed");
                fastest_duckdb = Some(fastest_duckdb.map_or(secs, |f: f64| f.min(secs)));
                let label = match formulation {
                    "objects_multi" => {
                        "DuckDB read_json_objects + from_json + one json_extract_string of all paths (Parquet + CSV)"
                    }
                    "objects" => "DuckDB read_json_objects + from_json + ->> (Parquet + CSV)",
                    _ => "DuckDB read_json JSON[] + -> chains (Parquet + CSV)",
                };
                rows.push((label.to_string(), secs, rss));
            }
        }

        println!("\n| tool | seconds | events/s | MB/s (JSON) | peak RSS |");
        println!("|---|---:|---:|---:|---:|");
        for (label, secs, rss) in &rows {
            println!(
                "| {label} | {secs:.2} | {:.0} | {:.1} | {:.0} MiB |",
                records as f64 / secs,
                mb / secs,
                *rss as f64 / 1048576.0
            );
        }
        if let Some(duck) = fastest_duckdb {
            println!(
                "\n{shape}: proofpack is {:.2}x the throughput of DuckDB's faster formulation",
                duck / rows[0].1
            );
        }
    }
}

/// The other audit formats, each on a corpus built from the real samples in
/// `../shared/samples-real` (every record of that format, repeated with a
/// fresh event id until the corpus is `mb` MB, as gzipped NDJSON files of
/// 5,000 records). proofpack only: the figures show every format takes the
/// same path at comparable speed.
fn other_formats(root: &Path, binary: &Path, mb: u64) {
    let samples = root.join("../shared/samples-real");
    if !samples.is_dir() {
        println!("\n(other formats skipped: {} not found)", samples.display());
        return;
    }
    let mut templates: std::collections::BTreeMap<&'static str, Vec<serde_json::Value>> =
        Default::default();
    for file in walk_all(&samples) {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        let Ok(records) = proofpack::ingest::records::split(&bytes) else {
            continue;
        };
        for raw in records {
            let Ok(value) = serde_json::from_slice::<serde_json::Value>(raw.bytes) else {
                continue;
            };
            if let Some(kind) = proofpack::ingest::SourceKind::detect(&value) {
                if kind != proofpack::ingest::SourceKind::CloudTrail {
                    templates.entry(kind.name()).or_default().push(value);
                }
            }
        }
    }
    println!("\n## Other formats: corpora of {mb} MB built from the real samples\n");
    println!("| format | sample records | records | events | seconds | records/s | MB/s (JSON) | peak RSS |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (format, records) in &templates {
        let corpus = root.join(format!("target/bench-data/{format}-{mb}mb"));
        let (total, bytes) = generate_from(&corpus, records, mb * 1_000_000);
        let (best, summary) = best_ingest(root, binary, &corpus);
        assert_eq!(
            summary["read"].as_u64(),
            Some(total),
            "every record is counted"
        );
        let events = summary["normalised"].as_u64().unwrap_or(0);
        assert!(events > 0, "{format}: some records are normalised");
        println!(
            "| {format} | {} | {total} | {events} | {:.2} | {:.0} | {:.1} | {:.0} MiB |",
            records.len(),
            best.0,
            total as f64 / best.0,
            bytes as f64 / 1e6 / best.0,
            best.1 as f64 / 1048576.0
        );
    }
}

/// `proofpack ingest` on a corpus, best of 2: (seconds, peak RSS) and the
/// summary it wrote.
fn best_ingest(root: &Path, binary: &Path, corpus: &Path) -> ((f64, u64), serde_json::Value) {
    let out = root.join("target/bench-data/ingest-out");
    let mut best = (f64::MAX, 0u64);
    for _ in 0..2 {
        let _ = std::fs::remove_dir_all(&out);
        let mut cmd = Command::new(binary);
        cmd.arg("ingest")
            .arg(corpus)
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::null());
        let (secs, rss, ok) = measure(&mut cmd);
        assert!(ok, "proofpack ingest failed on {}", corpus.display());
        if secs < best.0 {
            best = (secs, rss);
        }
    }
    let summary =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    (best, summary)
}

/// Writes the templates round-robin, each with a fresh id in whichever id
/// member its format has, until `bytes`; returns (records, bytes).
fn generate_from(dir: &Path, templates: &[serde_json::Value], bytes: u64) -> (u64, u64) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let (mut written, mut records, mut file_no) = (0u64, 0u64, 0u64);
    while written < bytes {
        let mut lines = String::new();
        for _ in 0..5000 {
            let mut record = templates[(records % templates.len() as u64) as usize].clone();
            let id = format!("bench-{records:012}");
            if let Some(map) = record.as_object_mut() {
                for key in [
                    "auditID",
                    "insertId",
                    "id",
                    "eventDataId",
                    "event_data_id",
                    "uuid",
                ] {
                    // Only a string id: Google Workspace's `id` is an object.
                    if map.get(key).is_some_and(serde_json::Value::is_string) {
                        map.insert(key.to_string(), serde_json::Value::String(id.clone()));
                    }
                }
            }
            if let Some(unique) = record.pointer_mut("/id/uniqueQualifier") {
                *unique = serde_json::Value::String(id.clone());
            }
            if let Some(uid) = record.pointer_mut("/metadata/uid") {
                *uid = serde_json::Value::String(id);
            }
            lines.push_str(&record.to_string());
            lines.push('\n');
            records += 1;
        }
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(dir.join(format!("part-{file_no:05}.json.gz"))).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(lines.as_bytes()).unwrap();
        gz.finish().unwrap();
        written += lines.len() as u64;
        file_no += 1;
    }
    (records, written)
}

/// Every file under `dir`.
fn walk_all(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(walk_all(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "gz") {
            out.push(path);
        }
    }
    out
}
