//! Hostile and broken input (issue 15): each case ends in a clear reject
//! naming the file and position, never a panic, a hang or unbounded
//! memory, and the good input beside it is still ingested.

use std::io::Write;
use std::path::Path;

use crate::ingest::{ingest, summary};

const GOOD: &str = r#"{"eventVersion":"1.08","eventTime":"2026-11-02T03:14:07Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/app/s1","accessKeyId":"ASIAXXXXXXXXXXXXXXXX"}}"#;

/// A folder holding `good.json` (two CloudTrail records) beside the case.
fn folder_with_good_input() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.json"),
        format!("{{\"Records\": [{GOOD}, {GOOD}]}}"),
    )
    .unwrap();
    dir
}

/// Ingests the folder; returns the summary and rejected.csv, having
/// checked that the counts reconcile and the good file's two events are in.
fn ingest_folder(dir: &Path, extra: &[&str]) -> (serde_json::Value, String) {
    let (out, _) = ingest(&[dir.to_path_buf()], extra);
    let s = summary(out.path());
    assert_eq!(s["reconciled"], true, "{s:#}");
    assert!(s["normalised"].as_u64().unwrap() >= 2, "{s:#}");
    let rejected = std::fs::read_to_string(out.path().join("evidence/rejected.csv")).unwrap();
    (s, rejected)
}

#[test]
fn a_gzip_bomb_stops_at_the_size_limit() {
    let dir = folder_with_good_input();
    // 64 KiB on disk, 64 MiB once inflated.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    std::fs::write(dir.path().join("bomb.json.gz"), bomb).unwrap();
    let (s, rejected) = ingest_folder(dir.path(), &["--max-size", "16MiB"]);
    assert_eq!(s["rejected"], 1, "{rejected}");
    assert!(rejected.contains("bomb.json.gz,whole file"), "{rejected}");
    assert!(rejected.contains("once decompressed"), "{rejected}");
}

#[test]
fn a_gigabyte_single_line_is_refused_by_size_before_it_is_read() {
    let dir = folder_with_good_input();
    // A sparse 1 GiB file: no disk used, and proofpack must not read it.
    let big = std::fs::File::create(dir.path().join("one-line.json")).unwrap();
    big.set_len(1 << 30).unwrap();
    let (s, rejected) = ingest_folder(dir.path(), &["--max-size", "64MiB"]);
    assert_eq!(s["rejected"], 1, "{rejected}");
    assert!(rejected.contains("one-line.json,whole file"), "{rejected}");
    assert!(rejected.contains("on disk"), "{rejected}");
}

#[test]
fn a_record_with_a_huge_field_on_one_line_is_read() {
    let dir = folder_with_good_input();
    let agent = "a".repeat(8 << 20);
    let record = GOOD.replace(
        "\"eventName\"",
        &format!("\"userAgent\":\"{agent}\",\"eventName\""),
    );
    std::fs::write(dir.path().join("wide.json"), record).unwrap();
    let (s, rejected) = ingest_folder(dir.path(), &[]);
    assert_eq!(s["normalised"], 3, "{rejected}");
}

#[test]
fn deep_nesting_is_rejected_at_its_position() {
    let dir = folder_with_good_input();
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    std::fs::write(dir.path().join("deep.json"), &deep).unwrap();
    // Inside a record of an NDJSON file: only that line goes.
    let nested = GOOD.replace(
        "\"eventName\"",
        &format!("\"requestParameters\":{deep},\"eventName\""),
    );
    std::fs::write(
        dir.path().join("deep.ndjson"),
        format!("{GOOD}\n{nested}\n{GOOD}\n"),
    )
    .unwrap();
    // And in YAML.
    std::fs::write(
        dir.path().join("deep.yaml"),
        "kind: Role\napiVersion: rbac.authorization.k8s.io/v1\nrules: ".to_string()
            + &"[".repeat(100_000),
    )
    .unwrap();
    let (s, rejected) = ingest_folder(dir.path(), &[]);
    assert_eq!(s["normalised"], 4, "{rejected}");
    assert!(
        rejected.contains("deep.json,record 1 at byte 1"),
        "{rejected}"
    );
    assert!(rejected.contains("recursion limit"), "{rejected}");
    assert!(rejected.contains("deep.ndjson,line 2,"), "{rejected}");
    assert!(rejected.contains("deep.yaml,"), "{rejected}");
}

#[test]
fn invalid_utf8_and_nul_bytes_reject_only_their_record() {
    let dir = folder_with_good_input();
    let mut lines = Vec::new();
    lines.extend_from_slice(GOOD.as_bytes());
    lines.push(b'\n');
    // A raw 0xFF byte inside a string.
    lines.extend_from_slice(GOOD.replace("s1", "s\u{1}").as_bytes());
    let marker = lines[GOOD.len()..].iter_mut().find(|b| **b == 1).unwrap();
    *marker = 0xff;
    lines.push(b'\n');
    // A raw NUL byte inside a string (JSON forbids control characters).
    lines.extend_from_slice(GOOD.replace("app/s1", "app/s\0").as_bytes());
    lines.push(b'\n');
    // An escaped NUL is valid JSON and is kept.
    lines.extend_from_slice(GOOD.replace("app/s1", "app/s\\u0000").as_bytes());
    lines.push(b'\n');
    std::fs::write(dir.path().join("bytes.ndjson"), &lines).unwrap();
    let (s, rejected) = ingest_folder(dir.path(), &[]);
    assert_eq!(s["normalised"], 4, "{rejected}");
    assert_eq!(s["rejected"], 2, "{rejected}");
    assert!(rejected.contains("bytes.ndjson,line 2,"), "{rejected}");
    assert!(rejected.contains("invalid unicode"), "{rejected}");
    assert!(rejected.contains("bytes.ndjson,line 3,"), "{rejected}");
    assert!(rejected.contains("control character"), "{rejected}");
}

#[test]
fn csv_with_a_million_columns_or_a_huge_field_is_bounded() {
    let dir = folder_with_good_input();
    let mut wide = String::from("id,kind");
    for i in 0..1_000_000 {
        wide.push_str(&format!(",c{i}"));
    }
    wide.push_str("\nsvc-1,service-account\n");
    std::fs::write(dir.path().join("wide-inventory.csv"), wide).unwrap();
    let field = "x".repeat(100 << 20);
    std::fs::write(
        dir.path().join("big-field-inventory.csv"),
        format!("id,kind,owner\nsvc-2,service-account,{field}\n"),
    )
    .unwrap();
    let (s, rejected) = ingest_folder(dir.path(), &[]);
    // Each row is inventoried or rejected with its line.
    let rows = s["inventoried"].as_u64().unwrap() + s["rejected"].as_u64().unwrap();
    assert_eq!(rows, 2, "{s:#} {rejected}");
}

#[test]
fn loops_dangling_links_and_pipes_in_a_folder_are_named_not_followed() {
    let dir = folder_with_good_input();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::os::unix::fs::symlink(dir.path(), sub.join("loop")).unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("gone.json"),
        dir.path().join("dangling.json"),
    )
    .unwrap();
    let fifo = dir.path().join("pipe.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let (s, rejected) = ingest_folder(dir.path(), &[]);
    assert_eq!(s["rejected"], 3, "{rejected}");
    assert!(rejected.contains("loop"), "{rejected}");
    assert!(rejected.contains("dangling.json"), "{rejected}");
    assert!(rejected.contains("pipe.json"), "{rejected}");
    assert!(rejected.contains("not a regular file"), "{rejected}");
}

#[test]
fn a_file_that_never_ends_stops_at_the_size_limit() {
    // /dev/zero says it is empty and never ends, like a log that grows
    // while it is read: the limit holds during the read, not only before.
    let dir = folder_with_good_input();
    let (out, _) = ingest(
        &[dir.path().to_path_buf(), "/dev/zero".into()],
        &["--max-size", "1MiB"],
    );
    let rejected = std::fs::read_to_string(out.path().join("evidence/rejected.csv")).unwrap();
    assert!(rejected.contains("/dev/zero,whole file"), "{rejected}");
    assert!(rejected.contains("as read"), "{rejected}");
}

/// A package's evidence from elsewhere whose Parquet page is corrupt (a
/// fuzz finding: polars' decoder asserts on dictionary indices past the
/// dictionary): `query` and `checks run` end with an error naming the
/// file, not a panic message and a backtrace.
#[test]
fn a_corrupt_evidence_table_is_an_error_naming_it() {
    let dir = folder_with_good_input();
    let (out, _) = crate::ingest::ingest(&[dir.path().to_path_buf()], &[]);
    let table = out.path().join("evidence/access_events.parquet");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corrupt-parquet");
    let cache = tempfile::tempdir().unwrap();
    for fixture in [
        "dictionary-index-out-of-range.parquet",
        "negative-page-value-count.parquet",
        "footer-list-length.parquet",
    ] {
        std::fs::copy(fixtures.join(fixture), &table).unwrap();
        for args in [
            vec!["query".to_string(), out.path().display().to_string()],
            vec![
                "checks".into(),
                "run".into(),
                out.path().join("evidence").display().to_string(),
            ],
        ] {
            let output = crate::util::run(
                crate::util::proofpack(cache.path())
                    .args(&args)
                    .env("RUST_BACKTRACE", "1"),
            );
            let err = crate::util::stderr(&output);
            let case = format!("{fixture} {args:?}: {err}");
            assert_eq!(output.status.code(), Some(2), "{case}");
            assert!(err.contains("access_events.parquet"), "{case}");
            assert!(err.contains("corrupt Parquet"), "{case}");
            assert!(!err.contains("panicked"), "{case}");
        }
    }
}

/// A Parquet input whose nested column's children disagree in length (a
/// fuzz finding: polars panics on its own thread pool): a reject naming
/// the file, no panic message, and the good input beside it ingested.
#[test]
fn a_corrupt_parquet_input_is_a_reject_without_a_panic_message() {
    let dir = folder_with_good_input();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/corrupt-parquet/struct-children-length.parquet"),
        dir.path().join("lake.parquet"),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let output = crate::util::run(
        crate::util::proofpack(cache.path())
            .arg("ingest")
            .arg(dir.path())
            .arg("--out")
            .arg(out.path().join("evidence"))
            .env("RUST_BACKTRACE", "1"),
    );
    let err = crate::util::stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let s = summary(out.path());
    assert_eq!(s["reconciled"], true, "{s:#}");
    assert_eq!(s["normalised"], 2, "{s:#}");
    let rejected = std::fs::read_to_string(out.path().join("evidence/rejected.csv")).unwrap();
    assert!(rejected.contains("lake.parquet"), "{rejected}");
    assert!(rejected.contains("corrupt Parquet"), "{rejected}");
}
