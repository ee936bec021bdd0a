//! The engines behind the log-based checks (issue 24): proofpack's own
//! (row group by row group), DuckDB and Spark in local mode running
//! `sql/event_stats.sql` give the same statistics, hence the same checks
//! and the same OSCAL, on the bundled scenario and on a generated
//! multi-day corpus. Spark runs for real: `.ci/run` installs pyspark and
//! Debian's Java runtime.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs proofpack with the test Python (DuckDB and pyspark) as the
/// engines' Python.
fn with_engines(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.env("PROOFPACK_PYTHON", crate::store::python())
        .env_remove("SPARK_HOME")
        .env("PROOFPACK_SPARK_PARTITIONS", "4")
}

fn generate(config: &Path, out: &Path, engine: &str) {
    let cache = tempfile::tempdir().unwrap();
    let mut cmd = proofpack(cache.path());
    with_engines(&mut cmd)
        .arg("generate")
        .arg("--config")
        .arg(config)
        .arg("--out")
        .arg(out)
        .arg("--schema-dir")
        .arg(schema_dir())
        .args(["--last-modified", "2026-11-03T06:00:00Z"])
        .arg("--history")
        .arg(out.with_extension("history"))
        .args(["--engine", engine]);
    let output = run(&mut cmd);
    assert!(
        output.status.success(),
        "generate --engine {engine}: {}{}",
        stdout(&output),
        stderr(&output)
    );
}

/// The package files every engine must write byte for byte alike.
const ENGINE_OUTPUTS: [&str; 5] = [
    "checks.json",
    "oscal/assessment-results.json",
    "oscal/assessment-plan.json",
    "oscal/poam.json",
    "fedramp/security-decision-record.json",
];

/// Generates `config` with each engine into `dir/<engine>` and asserts
/// the checks, the OSCAL and the SDR are identical; returns the embedded
/// engine's checks.json.
fn same_package_from_every_engine(config: &Path, dir: &Path) -> Value {
    let packages: Vec<PathBuf> = ["embedded", "duckdb", "spark"]
        .iter()
        .map(|engine| {
            let out = dir.join(engine);
            generate(config, &out, engine);
            out
        })
        .collect();
    for file in ENGINE_OUTPUTS {
        let expected = std::fs::read(packages[0].join(file)).unwrap();
        for other in &packages[1..] {
            assert!(
                std::fs::read(other.join(file)).unwrap() == expected,
                "{file} from {} differs from the embedded engine's",
                other.display()
            );
        }
    }
    read_json(&packages[0].join("checks.json"))
}

fn failing(checks: &Value) -> Vec<String> {
    checks["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "fail")
        .map(|r| r["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn spark_duckdb_and_the_embedded_engine_write_the_same_checks_and_oscal() {
    let tmp = tempfile::tempdir().unwrap();
    let checks = same_package_from_every_engine(&repo().join("samples/proofpack.toml"), tmp.path());
    let failing = failing(&checks);
    assert!(
        failing.len() >= 5,
        "the scenario fails several checks: {failing:?}"
    );
}

/// Five days of CloudTrail: roles and keys of several accounts, denials
/// in bursts, a user deleted on day 2 who keeps calling, console use of
/// a role; `days` files of `per_day` records.
fn multi_day_corpus(dir: &Path, days: u32, per_day: u32) {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for day in 1..=days {
        let folder = dir.join(format!(
            "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/{day:02}"
        ));
        std::fs::create_dir_all(&folder).unwrap();
        let mut records = Vec::new();
        for i in 0..per_day {
            let seconds = (i as u64 * 86_000) / per_day as u64 + next(60);
            let when = format!(
                "2026-11-{day:02}T{:02}:{:02}:{:02}Z",
                seconds / 3600,
                (seconds / 60) % 60,
                seconds % 60
            );
            let account = ["111122223333", "444455556666"][next(2) as usize];
            let n = next(12);
            let identity = match next(5) {
                0 | 1 => format!(
                    r#"{{"type":"AssumedRole","arn":"arn:aws:sts::{account}:assumed-role/app-{n}/s","accountId":"{account}","accessKeyId":"ASIAX{n}","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::{account}:role/app-{n}","accountId":"{account}","userName":"app-{n}"}},"attributes":{{"creationDate":"{when}","mfaAuthenticated":"false"}}}}}}"#
                ),
                2 => format!(
                    r#"{{"type":"IAMUser","arn":"arn:aws:iam::{account}:user/ci","accountId":"{account}","accessKeyId":"AKIACI{n}","userName":"ci"}}"#
                ),
                3 => format!(
                    r#"{{"type":"IAMUser","arn":"arn:aws:iam::{account}:user/svc-{n}","accountId":"{account}","accessKeyId":"AKIASVC{n}","userName":"svc-{n}"}}"#
                ),
                _ => r#"{"type":"AWSService","invokedBy":"lambda.amazonaws.com"}"#.to_string(),
            };
            let deletion = day == 2 && i == per_day / 2;
            let identity = if deletion {
                r#"{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/admin","accountId":"111122223333","accessKeyId":"AKIAADMIN","userName":"admin"}"#.to_string()
            } else {
                identity
            };
            let (source, name, params) = if deletion {
                ("iam", "DeleteUser", r#"{"userName":"ci"}"#.to_string())
            } else {
                match next(3) {
                    0 => (
                        "s3",
                        "GetObject",
                        format!(r#"{{"bucketName":"data-{n}","key":"k"}}"#),
                    ),
                    1 => ("sts", "GetCallerIdentity", "null".to_string()),
                    _ => (
                        "secretsmanager",
                        "GetSecretValue",
                        format!(r#"{{"secretId":"db-{n}"}}"#),
                    ),
                }
            };
            // Denials come in bursts in the day's third hour.
            let error = if deletion {
                ""
            } else if (seconds / 3600 == 3 && next(2) == 0) || next(25) == 0 {
                r#","errorCode":"AccessDenied","errorMessage":"not authorized""#
            } else {
                ""
            };
            let agent = if next(30) == 0 {
                "Mozilla/5.0 (X11; Linux x86_64)"
            } else {
                "aws-sdk-go-v2/1.30.3"
            };
            records.push(format!(
                r#"{{"eventVersion":"1.09","userIdentity":{identity},"eventTime":"{when}","eventSource":"{source}.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.{n}","userAgent":"{agent}","requestParameters":{params},"responseElements":null,"eventID":"{day:02}{i:08}-0000-4000-8000-000000000000","eventType":"AwsApiCall","recipientAccountId":"{account}"{error}}}"#
            ));
        }
        let path = folder.join(format!(
            "111122223333_CloudTrail_us-east-1_202611{day:02}.json.gz"
        ));
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(path).unwrap(),
            flate2::Compression::fast(),
        );
        write!(gz, r#"{{"Records":[{}]}}"#, records.join(",")).unwrap();
        gz.finish().unwrap();
    }
}

fn stats(evidence: &Path, engine: &str) -> Value {
    let cache = tempfile::tempdir().unwrap();
    let mut cmd = proofpack(cache.path());
    with_engines(&mut cmd)
        .args(["checks", "stats"])
        .arg(evidence)
        .args(["--engine", engine]);
    let output = run(&mut cmd);
    assert!(
        output.status.success(),
        "checks stats --engine {engine}: {}",
        stderr(&output)
    );
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[test]
fn the_engines_compute_the_same_statistics_of_a_multi_day_corpus() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    multi_day_corpus(&corpus, 5, 3000);
    let evidence = tmp.path().join("evidence");
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .args(["ingest", "--quiet"])
        .arg(&corpus)
        .arg(repo().join("samples/inventory"))
        .arg("--out")
        .arg(&evidence));
    assert!(output.status.success(), "{}", stderr(&output));
    let embedded = stats(&evidence, "embedded");
    assert_eq!(embedded["records"], 15_000);
    assert_eq!(embedded["days"].as_object().unwrap().len(), 5);
    assert!(
        embedded["revocations"].get("ci").is_some(),
        "the deleted user is a revocation: {}",
        embedded["revocations"]
    );
    assert!(
        !embedded["revoked_uses"].as_object().unwrap().is_empty(),
        "and it was used after"
    );
    for engine in ["duckdb", "spark"] {
        let other = stats(&evidence, engine);
        assert!(
            other == embedded,
            "{engine} differs from the embedded engine: {}",
            first_difference(&embedded, &other, "")
        );
    }
    // And the whole package from the raw logs: the same checks and OSCAL
    // from each engine, with the findings the corpus was built to show.
    let config = tmp.path().join("multi-day.toml");
    std::fs::write(
        &config,
        format!(
            r#"[system]
name = "Multi-day"
description = "Five generated days of CloudTrail."
organization = "Test, Inc."
class = "B"
boundary = "AWS accounts 111122223333 and 444455556666"

[window]
since = 2026-11-01T00:00:00Z
until = 2026-11-06T00:00:00Z

[inputs]
logs = ["{}"]
"#,
            corpus.display()
        ),
    )
    .unwrap();
    let checks = same_package_from_every_engine(&config, &tmp.path().join("packages"));
    let failing = failing(&checks);
    assert!(
        failing.iter().any(|id| id == "used-after-disabled"),
        "the deleted user's calls fail a check: {failing:?}"
    );
}

/// Where two JSON values first differ, as a pointer and both values.
fn first_difference(a: &Value, b: &Value, at: &str) -> String {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                let (va, vb) = (x.get(key), y.get(key));
                if va != vb {
                    return match (va, vb) {
                        (Some(va), Some(vb)) => first_difference(va, vb, &format!("{at}/{key}")),
                        _ => format!("{at}/{key}: {va:?} vs {vb:?}"),
                    };
                }
            }
            String::new()
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                if va != vb {
                    return first_difference(va, vb, &format!("{at}/{i}"));
                }
            }
            String::new()
        }
        _ => format!("{at}: {a} vs {b}"),
    }
}

/// The bundled config with absolute input paths and `extra` appended to
/// its [output] table, written into `dir`.
fn config_with(dir: &Path, output_extra: &str) -> PathBuf {
    let samples = repo().join("samples");
    let mut text = std::fs::read_to_string(samples.join("proofpack.toml")).unwrap();
    for folder in [
        "logs/",
        "inventory/",
        "policies/",
        "scanners/",
        "attestations/",
    ] {
        text = text.replace(
            &format!("\"{folder}"),
            &format!("\"{}/{folder}", samples.display()),
        );
    }
    text = text.replace("[output]\n", &format!("[output]\n{output_extra}\n"));
    let path = dir.join("proofpack.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_table_above_the_csv_limit_is_cited_in_its_parquet_file() {
    let tmp = tempfile::tempdir().unwrap();
    let config = config_with(tmp.path(), "csv_max_rows = 40");
    let out = tmp.path().join("package");
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .arg("generate")
        .arg("--config")
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .arg("--schema-dir")
        .arg(schema_dir())
        .args(["--last-modified", "2026-11-03T06:00:00Z"])
        .arg("--history")
        .arg(tmp.path().join("history")));
    assert!(output.status.success(), "{}", stderr(&output));
    let evidence = out.join("evidence");
    assert!(!evidence.join("access_events.csv").exists());
    assert!(evidence.join("access_events.parquet").is_file());
    // The small tables keep their CSV copy.
    assert!(evidence.join("grants.csv").is_file() || evidence.join("grants.parquet").is_file());
    let manifest = read_json(&out.join("manifest.json"));
    let said = manifest["csv_omitted"]["access_events"].as_str().unwrap();
    assert!(said.contains("csv_max_rows = 40"), "{said}");
    assert!(
        said.contains("proofpack query PACKAGE --since DAY"),
        "{said}"
    );
    // What the manifest says works: a day of the events as CSV, every row
    // of that day and of no other.
    let day = |format: &str| {
        let output = run(proofpack(cache.path())
            .arg("query")
            .arg(&out)
            .args(["--since", "2026-10-28", "--until", "2026-10-29"])
            .args(["--format", format]));
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
    };
    let csv = tmp.path().join("day.csv");
    std::fs::write(&csv, day("csv")).unwrap();
    let rows = csv_records(&csv);
    let json: Value = serde_json::from_str(&day("json")).unwrap();
    assert!(!rows.is_empty());
    assert_eq!(rows.len(), json.as_array().unwrap().len());
    for row in &rows {
        assert!(row["time"].starts_with("2026-10-28"), "{row:?}");
    }
    let summary = read_json(&evidence.join("summary.json"));
    assert!(summary["csv_omitted"]["access_events"].as_u64().unwrap() > 40);
    // Every cited access-event row points at the Parquet file, and every
    // file a summary or the SARIF names exists.
    let markdown = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(markdown.contains("(evidence/access_events.parquet)"));
    assert!(!markdown.contains("evidence/access_events.csv"));
    let results = std::fs::read_to_string(out.join("oscal/assessment-results.json")).unwrap();
    assert!(!results.contains("access_events.csv"));
    assert!(results.contains("of evidence/access_events.parquet (0-based)"));
    for link in markdown.split("](").skip(1) {
        let target = link.split(')').next().unwrap();
        if !target.starts_with("http") && !target.starts_with('#') {
            assert!(out.join(target).is_file(), "{target} is not in the package");
        }
    }
    let (code, report) = verify_json(&out, &[]);
    assert_eq!(code, 0, "{report}");
}
