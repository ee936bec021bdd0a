//! Incremental runs and shards (issue 16, parts 3 and 4) against moto's S3
//! server: a week of CloudTrail read day by day with a state folder gives
//! the evidence and the check results of one full run, byte for byte; a
//! changed object is read again; N shards and a merge equal one run.

use std::collections::BTreeMap;
use std::path::Path;

use crate::store::{upload_day, Moto};
use crate::util::*;

const PREFIX: &str = "s3://trail/AWSLogs/";
/// The evidence files that must be identical between runs.
const TABLES: [&str; 5] = [
    "access_events.parquet",
    "access_events.csv",
    "rejected.csv",
    "identities.csv",
    "summary.json",
];

fn day(d: u32) -> String {
    format!("2026-11-{d:02}T00:00:00Z")
}

/// `proofpack ingest PREFIX` with `extra`; fails the test unless it exits 0.
fn ingest(moto: &Moto, extra: &[&str]) -> String {
    let cache = tempfile::tempdir().unwrap();
    let output = run(moto
        .proofpack(cache.path())
        .args(["ingest", PREFIX])
        .args(extra));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output)
}

/// The last line of a state folder's run log.
fn last_run(state: &Path) -> serde_json::Value {
    let log = std::fs::read_to_string(state.join("runs.jsonl")).unwrap();
    serde_json::from_str(log.lines().last().unwrap()).unwrap()
}

fn urls(run: &serde_json::Value, list: &str) -> Vec<String> {
    run[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_string())
        .collect()
}

fn assert_same_evidence(a: &Path, b: &Path) {
    for table in TABLES {
        let (x, y) = (
            std::fs::read(a.join(table)).unwrap(),
            std::fs::read(b.join(table)).unwrap(),
        );
        assert!(
            x == y,
            "{table} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// `checks run DIR --format json`: the results alone (the report also
/// names its folder).
fn check_results(dir: &Path) -> serde_json::Value {
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .args(["checks", "run", "--format", "json", "--fail-on", "never"])
        .arg(dir));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    report["results"].clone()
}

#[test]
fn a_week_read_day_by_day_gives_the_evidence_and_checks_of_one_full_run() {
    let moto = Moto::start(false);
    moto.put("trail", Vec::new());
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let state_arg = state.to_str().unwrap();
    let mut hashes = BTreeMap::new();
    let mut seen: Vec<String> = Vec::new();
    for d in 1..=7 {
        // The day's logs arrive; the scheduled run after it reads them.
        let new: Vec<String> = upload_day(&moto, d, &mut hashes)
            .into_iter()
            .map(|k| format!("s3://trail/{k}"))
            .collect();
        let out = tmp.path().join(format!("day-{d}"));
        let (since, until) = (day(1), day(d + 1));
        let text = ingest(
            &moto,
            &[
                "--state",
                state_arg,
                "--since",
                &since,
                "--until",
                &until,
                "--out",
                out.to_str().unwrap(),
            ],
        );
        let run = last_run(&state);
        assert_eq!(urls(&run, "read"), new, "day {d}: {run:#}");
        assert_eq!(urls(&run, "reused"), seen, "day {d}: {run:#}");
        assert!(
            text.contains(&format!(
                "{} object(s) read and kept, {} unchanged",
                4,
                seen.len()
            )),
            "{text}"
        );
        seen.extend(new);
        seen.sort();
    }

    // One full run over the week, without state: the same bytes.
    let full = tmp.path().join("full");
    ingest(
        &moto,
        &[
            "--since",
            &day(1),
            "--until",
            &day(8),
            "--out",
            full.to_str().unwrap(),
        ],
    );
    let last = tmp.path().join("day-7");
    assert_same_evidence(&full, &last);
    let summary = read_json(&full.join("summary.json"));
    assert_eq!(summary["files"], 28, "{summary:#}");
    assert!(summary["normalised"].as_u64().unwrap() > 0);
    assert_eq!(check_results(&full), check_results(&last));

    // A window that cuts days in half, from the kept partitions alone.
    let (since, until) = ("2026-11-03T02:00:00Z", "2026-11-06T01:00:00Z");
    let (cut_full, cut_state) = (tmp.path().join("cut-full"), tmp.path().join("cut-state"));
    for (out, with_state) in [(&cut_full, false), (&cut_state, true)] {
        let mut args = vec![
            "--since",
            since,
            "--until",
            until,
            "--out",
            out.to_str().unwrap(),
        ];
        if with_state {
            args.extend(["--state", state_arg]);
        }
        ingest(&moto, &args);
    }
    assert_eq!(urls(&last_run(&state), "read"), Vec::<String>::new());
    assert_same_evidence(&cut_full, &cut_state);
    let cut = read_json(&cut_full.join("summary.json"));
    assert!(cut["outside_window"].as_u64().unwrap() > 0, "{cut:#}");

    // An object rewritten in place (a new ETag) is read again, alone.
    let changed = seen[9].clone();
    let key = changed.trim_start_matches("s3://trail/");
    let first_event = r#"{"Records": [{"eventVersion": "1.08", "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:job", "arn": "arn:aws:sts::111122223333:assumed-role/late/job", "accountId": "111122223333", "accessKeyId": "ASIAEXAMPLELATE00000"}, "eventTime": "2026-11-03T09:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": "us-east-1", "sourceIPAddress": "10.0.0.1", "userAgent": "late-job", "requestParameters": {"bucketName": "b", "key": "k"}, "eventID": "late-1", "eventType": "AwsApiCall", "recipientAccountId": "111122223333"}]}"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, first_event.as_bytes()).unwrap();
    moto.replace("trail", key, &gz.finish().unwrap());
    let (again_full, again_state) = (tmp.path().join("again-full"), tmp.path().join("again"));
    for (out, with_state) in [(&again_state, true), (&again_full, false)] {
        let mut args = vec![
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-08",
            "--out",
            out.to_str().unwrap(),
        ];
        if with_state {
            args.extend(["--state", state_arg]);
        }
        ingest(&moto, &args);
    }
    let run = last_run(&state);
    assert_eq!(urls(&run, "read"), vec![changed.clone()], "{run:#}");
    assert_eq!(urls(&run, "reused").len(), 27);
    assert_same_evidence(&again_full, &again_state);
    let csv = std::fs::read_to_string(again_state.join("access_events.csv")).unwrap();
    assert!(csv.contains("late-1"), "the rewritten object's event is in");

    // The dataset is one table to DuckDB, partitioned by source and day.
    let counts = duckdb(&format!(
        "select date::varchar, count(*) from read_parquet('{}/access_events/**/*.parquet', hive_partitioning=true) \
         where source = 'aws-cloudtrail' and date >= '2026-11-01' group by all order by all",
        state.display()
    ));
    assert_eq!(counts.lines().count(), 7, "{counts}");
}

#[test]
fn shards_fill_one_dataset_and_a_merge_gives_the_one_run_evidence() {
    let moto = Moto::start(false);
    moto.put("trail", Vec::new());
    let mut hashes = BTreeMap::new();
    for d in 1..=4 {
        upload_day(&moto, d, &mut hashes);
    }
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("dataset");
    let state_arg = state.to_str().unwrap();
    let window = ["--since", "2026-11-01", "--until", "2026-11-05"];
    let mut read: Vec<String> = Vec::new();
    for shard in ["0/3", "1/3", "2/3"] {
        ingest(
            &moto,
            &[&["--state", state_arg, "--shard", shard][..], &window[..]].concat(),
        );
        let run = last_run(&state);
        assert_eq!(run["shard"], shard);
        let mine = urls(&run, "read");
        assert!(!mine.is_empty(), "shard {shard} read nothing: {run:#}");
        assert!(mine.iter().all(|u| !read.contains(u)), "shards overlap");
        read.extend(mine);
    }
    read.sort();
    let all: Vec<String> = hashes.keys().cloned().collect();
    assert_eq!(read, all, "the shards together read every object once");

    // The merge lists the inputs and finds every object kept.
    let (merged, single) = (tmp.path().join("merged"), tmp.path().join("single"));
    ingest(
        &moto,
        &[
            &["--state", state_arg, "--out", merged.to_str().unwrap()][..],
            &window[..],
        ]
        .concat(),
    );
    let run = last_run(&state);
    assert_eq!(run["counts"]["read"], 0, "{run:#}");
    assert_eq!(run["counts"]["reused"], 16, "{run:#}");
    ingest(
        &moto,
        &[&["--out", single.to_str().unwrap()][..], &window[..]].concat(),
    );
    assert_same_evidence(&single, &merged);

    // Read another way (a forced format), every object is read again.
    ingest(
        &moto,
        &[
            &["--state", state_arg, "--source", "aws-cloudtrail"][..],
            &window[..],
        ]
        .concat(),
    );
    assert_eq!(last_run(&state)["counts"]["read"], 16);
}

#[test]
fn a_bad_shard_or_a_shard_without_state_is_a_usage_error() {
    let cache = tempfile::tempdir().unwrap();
    for args in [
        vec!["--shard", "3/3", "--state", "s"],
        vec!["--shard", "1/2"],
    ] {
        let output = run(proofpack(cache.path())
            .args(["ingest", "samples/logs"])
            .args(&args));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains("--shard") || stderr(&output).contains("--state"));
    }
}

/// Runs SQL in DuckDB (the Python package beside moto) and returns its
/// rows, one per line, tab-separated.
pub(crate) fn duckdb(sql: &str) -> String {
    let script = "import duckdb, sys\n\
        for row in duckdb.sql(sys.argv[1]).fetchall():\n    print('\\t'.join(str(v) for v in row))\n";
    let output = std::process::Command::new(crate::store::python())
        .args(["-c", script, sql])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

#[test]
fn generate_with_a_state_folder_reuses_objects_and_packages_the_same_evidence() {
    let moto = Moto::start(false);
    moto.put("trail", Vec::new());
    let mut hashes = BTreeMap::new();
    for d in 1..=3 {
        upload_day(&moto, d, &mut hashes);
    }
    let tmp = tempfile::tempdir().unwrap();
    let config = |state: bool| {
        let path = tmp.path().join(format!("proofpack-{state}.toml"));
        std::fs::write(
            &path,
            format!(
                "[system]\nname = \"S3\"\ndescription = \"d\"\norganization = \"o\"\nboundary = \"b\"\n\n\
                 [window]\nsince = 2026-11-01T00:00:00Z\nuntil = 2026-11-04T00:00:00Z\n\n\
                 [inputs]\nlogs = [\"{PREFIX}\"]\n{}",
                if state { "\n[state]\ndir = \"state\"\n" } else { "" }
            ),
        )
        .unwrap();
        path
    };
    let generate = |config: &Path, out: &str| {
        let cache = tempfile::tempdir().unwrap();
        let output = run(moto
            .proofpack(cache.path())
            .arg("generate")
            .arg("--config")
            .arg(config)
            .arg("--out")
            .arg(tmp.path().join(out))
            .arg("--schema-dir")
            .arg(schema_dir())
            .args(["--last-modified", "2026-11-04T06:00:00Z"]));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        read_json(&tmp.path().join(out).join("manifest.json"))
    };
    let evidence_hashes = |manifest: &serde_json::Value| -> BTreeMap<String, String> {
        manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                let path = f["path"].as_str().unwrap();
                path.starts_with("evidence/") || path == "checks.json"
            })
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["sha256"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let plain = evidence_hashes(&generate(&config(false), "plain"));
    let first = evidence_hashes(&generate(&config(true), "first"));
    let state = tmp.path().join("state");
    assert_eq!(last_run(&state)["counts"]["read"], 12);
    let second = evidence_hashes(&generate(&config(true), "second"));
    assert_eq!(last_run(&state)["counts"]["reused"], 12);
    assert!(plain.len() > 5, "{plain:#?}");
    assert_eq!(plain, first);
    assert_eq!(plain, second);
}

#[test]
fn shards_on_any_scheduler_share_a_state_prefix_in_the_bucket() {
    let moto = Moto::start(false);
    moto.put("trail", Vec::new());
    let mut hashes = BTreeMap::new();
    for d in 1..=2 {
        upload_day(&moto, d, &mut hashes);
    }
    let tmp = tempfile::tempdir().unwrap();
    let state = "s3://trail/proofpack/state";
    let window = ["--since", "2026-11-01", "--until", "2026-11-03"];
    let mut kept = 0;
    for shard in ["0/2", "1/2"] {
        let text = ingest(
            &moto,
            &[&["--state", state, "--shard", shard][..], &window[..]].concat(),
        );
        let read: usize = text
            .split("state ")
            .nth(1)
            .and_then(|t| t.split(": ").nth(1))
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{text}"));
        kept += read;
    }
    assert_eq!(kept, 8, "the two shards read the eight objects once");
    let (merged, single) = (tmp.path().join("merged"), tmp.path().join("single"));
    let text = ingest(
        &moto,
        &[
            &["--state", state, "--out", merged.to_str().unwrap()][..],
            &window[..],
        ]
        .concat(),
    );
    assert!(
        text.contains("0 object(s) read and kept, 8 unchanged and reused"),
        "{text}"
    );
    ingest(
        &moto,
        &[&["--out", single.to_str().unwrap()][..], &window[..]].concat(),
    );
    assert_same_evidence(&single, &merged);
}
