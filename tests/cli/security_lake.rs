//! OCSF Parquet as Amazon Security Lake stores it (issue 16, part 4):
//! `aws/CLOUD_TRAIL_MGMT/2.0/region=…/accountId=…/eventDay=YYYYMMDD/`,
//! written by DuckDB from OCSF's own example events, read from moto's S3
//! with the window pruning `eventDay=` folders and the rows' `time`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::store::{python, Moto};
use crate::util::*;

const LAKE: &str = "aws-security-data-lake-us-east-1-example";
const SOURCE: &str = "aws/CLOUD_TRAIL_MGMT/2.0";
const EXAMPLES: [&str; 3] = ["api_activity", "authentication", "account_change"];

fn examples() -> std::path::PathBuf {
    shared().join("samples-real/ocsf/ocsf-examples/aws-cloudtrail-v1.1.0")
}

/// OCSF's example event `name`, its time set to `at`, as DuckDB writes
/// Parquet (nested structs, as Security Lake's files have them).
fn parquet(name: &str, at: &str, dir: &Path) -> Vec<u8> {
    let source = examples().join(format!("{name}.ocsf.json"));
    let target = dir.join(format!("{name}-{}.parquet", at.replace([' ', ':'], "-")));
    let sql = format!(
        "COPY (SELECT * REPLACE (epoch_ms(TIMESTAMP '{at}') AS time) FROM read_json_auto('{}')) \
         TO '{}' (FORMAT PARQUET, COMPRESSION ZSTD)",
        source.display(),
        target.display()
    );
    let status = std::process::Command::new(python())
        .args([
            "-c",
            "import duckdb, sys; duckdb.execute(sys.argv[1])",
            &sql,
        ])
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(target).unwrap()
}

#[test]
fn security_lake_parquet_is_read_with_the_window_pushed_down() {
    let moto = Moto::start(false);
    moto.put(LAKE, Vec::new());
    let tmp = tempfile::tempdir().unwrap();
    let mut uploaded = BTreeMap::new();
    for day in 1..=4 {
        let folder =
            format!("{SOURCE}/region=us-east-1/accountId=111122223333/eventDay=202611{day:02}");
        for name in EXAMPLES {
            let body = parquet(name, &format!("2026-11-{day:02} 05:00:00"), tmp.path());
            let key = format!("{folder}/{name}.zstd.parquet");
            moto.put(&format!("{LAKE}/{key}"), body);
            uploaded.insert(key, day);
        }
    }
    // A file delivered into day 2 whose event happened on day 5.
    let late = format!(
        "{SOURCE}/region=us-east-1/accountId=111122223333/eventDay=20261102/late.zstd.parquet"
    );
    moto.put(
        &format!("{LAKE}/{late}"),
        parquet("api_activity", "2026-11-05 01:00:00", tmp.path()),
    );

    let cache = tempfile::tempdir().unwrap();
    let out = tmp.path().join("evidence");
    let output = run(moto
        .proofpack(cache.path())
        .arg("ingest")
        .arg(format!("s3://{LAKE}/{SOURCE}/"))
        .args(["--since", "2026-11-02", "--until", "2026-11-04", "--out"])
        .arg(&out));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let summary = read_json(&out.join("summary.json"));
    // eventDay=20261101 and 20261104 are never listed or fetched.
    let read: Vec<&str> = summary["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["url"].as_str().unwrap())
        .collect();
    assert_eq!(read.len(), 7, "{read:#?}");
    assert!(read
        .iter()
        .all(|u| u.contains("eventDay=20261102") || u.contains("eventDay=20261103")));
    // Per day: the API call and the sign-in are events, the account
    // change (class 3001) a reject; the late row is outside the window.
    assert_eq!(summary["normalised"], 4, "{summary:#}");
    assert_eq!(summary["rejected"], 2, "{summary:#}");
    assert_eq!(summary["outside_window"], 1, "{summary:#}");
    assert_eq!(summary["reconciled"], true);

    // Each row reads as the same event its JSON form gives.
    let json_out = tmp.path().join("json");
    let inputs: Vec<String> = EXAMPLES
        .iter()
        .map(|n| {
            examples()
                .join(format!("{n}.ocsf.json"))
                .display()
                .to_string()
        })
        .collect();
    let output = run(proofpack(cache.path())
        .arg("ingest")
        .args(&inputs)
        .arg("--out")
        .arg(&json_out));
    assert_eq!(output.status.code(), Some(0));
    let columns = |path: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut rows: Vec<String> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                // principal .. decision: the columns that carry the judgement.
                (3..14)
                    .map(|i| r[i].to_string())
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        rows.sort();
        rows.dedup();
        rows
    };
    let from_lake = columns(&out.join("access_events.csv"));
    assert_eq!(from_lake.len(), 2, "{from_lake:#?}");
    assert_eq!(from_lake, columns(&json_out.join("access_events.csv")));
    let csv = std::fs::read_to_string(out.join("access_events.csv")).unwrap();
    assert!(
        csv.contains("eventDay=20261103/api_activity.zstd.parquet,row 1,"),
        "{csv}"
    );
}
