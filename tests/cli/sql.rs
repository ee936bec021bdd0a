//! The SQL aggregates shipped in `sql/` (issue 16, part 4), run by DuckDB
//! over the partitioned dataset `ingest --state` writes, give the figures
//! of proofpack's own checks on the same events. The Athena/Trino flavour
//! runs on DuckDB as written; the Spark flavour runs with one macro
//! standing in for Spark's `unix_micros`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::*;

const SINCE: &str = "2015-01-01";
const UNTIL: &str = "2027-01-01";
/// The last partition inside the window (`until` is exclusive).
const LAST_DAY: &str = "2026-12-31";

fn sql_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sql")
}

/// The bundled scenario and the real logs: denials, static keys, agents,
/// several sources, years apart.
fn inputs() -> Vec<String> {
    let real = shared().join("samples-real");
    let mut inputs = vec![Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples/logs")
        .display()
        .to_string()];
    for folder in ["cloudtrail", "k8s-audit", "identity-logs", "ocsf"] {
        inputs.push(real.join(folder).display().to_string());
    }
    inputs
}

/// Runs the window file of `flavour` with the test's dates, then each
/// query; returns each query's rows as JSON objects.
fn run_sql(dataset: &Path, flavour: &str, queries: &[&str]) -> Value {
    let window = std::fs::read_to_string(sql_dir().join(format!("window.{flavour}.sql")))
        .unwrap()
        .replace("2026-11-01", SINCE)
        .replace("2026-11-08", UNTIL)
        .replace("2026-11-07", LAST_DAY);
    assert!(window.contains(SINCE) && window.contains(LAST_DAY));
    let script = r#"
import duckdb, json, sys
dataset, window, *queries = sys.argv[1:]
db = duckdb.connect()
db.execute("SET TimeZone = 'UTC'")
# Spark's function, for the Spark flavour.
db.execute("CREATE MACRO unix_micros(t) AS epoch_us(t)")
db.execute(f"CREATE VIEW access_events AS SELECT * FROM read_parquet('{dataset}/access_events/**/*.parquet', hive_partitioning = true)")
# One statement at a time, as Athena's console takes them.
window = '\n'.join(l for l in window.splitlines() if not l.lstrip().startswith('--'))
for statement in window.split(';'):
    if statement.strip():
        db.execute(statement)
out = {}
# Rows leave DuckDB as JSON lines, so timestamps need no Python time zones.
import tempfile, os
for path in queries:
    query = open(path).read().strip().rstrip(';')
    with tempfile.TemporaryDirectory() as tmp:
        target = os.path.join(tmp, 'rows.json')
        db.execute(f"COPY ({query}) TO '{target}' (FORMAT JSON)")
        rows = [json.loads(line) for line in open(target) if line.strip()]
    out[path.rsplit('/', 1)[-1].split('.')[0]] = rows
print(json.dumps(out, default=str))
"#;
    let paths: Vec<String> = queries
        .iter()
        .map(|q| sql_dir().join(q).display().to_string())
        .collect();
    let output = std::process::Command::new(crate::store::python())
        .args(["-c", script])
        .arg(dataset)
        .arg(window)
        .args(paths)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

fn n(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_f64().map(|f| f as u64))
        .unwrap_or_else(|| panic!("not a count: {v}"))
}

#[test]
fn the_sql_aggregates_give_the_checks_figures_on_duckdb() {
    let tmp = tempfile::tempdir().unwrap();
    let (state, evidence) = (tmp.path().join("state"), tmp.path().join("evidence"));
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .arg("ingest")
        .args(inputs())
        .arg("--state")
        .arg(&state)
        .arg("--out")
        .arg(&evidence)
        .args(["--since", SINCE, "--until", UNTIL]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Every principal with a denial becomes a subject, with its worst hour.
    let config = tmp.path().join("proofpack.toml");
    std::fs::write(
        &config,
        "[checks.denied-access-spikes]\nmax_denials_per_hour = 0\n",
    )
    .unwrap();
    let output = run(proofpack(cache.path())
        .args(["checks", "run", "--format", "json", "--fail-on", "never"])
        .arg(&evidence)
        .arg("--config")
        .arg(&config));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();

    let portable = [
        "ephemeral_share.sql",
        "static_principals.sql",
        "denied_share.sql",
        "denied_spikes.sql",
        "attributable_records.sql",
        "principal_day.sql",
    ];
    for flavour in ["trino", "spark"] {
        let continuity = format!("logging_continuity.{flavour}.sql");
        let queries: Vec<&str> = portable
            .iter()
            .copied()
            .chain([continuity.as_str()])
            .collect();
        let sql = run_sql(&state, flavour, &queries);
        compare(&report, &sql, flavour);
    }
}

fn compare(report: &Value, sql: &Value, flavour: &str) {
    // ephemeral-credentials, per source and per principal.
    let eph = result(report, "ephemeral-credentials");
    let by_source = eph["metrics"]["by_source"].as_object().unwrap();
    let rows = sql["ephemeral_share"].as_array().unwrap();
    assert_eq!(rows.len(), by_source.len(), "{flavour}: {rows:?}");
    assert!(rows.len() >= 3, "several sources: {rows:?}");
    for row in rows {
        let m = &by_source[row["source"].as_str().unwrap()];
        assert_eq!(n(&row["ephemeral_events"]), n(&m["ephemeral"]), "{row}");
        assert_eq!(n(&row["static_events"]), n(&m["static"]), "{row}");
        assert_eq!(n(&row["unknown_events"]), n(&m["unknown"]), "{row}");
    }
    let subjects = eph["subjects"].as_array().unwrap();
    let statics = sql["static_principals"].as_array().unwrap();
    assert_eq!(statics.len(), subjects.len(), "{flavour}");
    for row in statics {
        let principal = row["principal_id"].as_str().unwrap();
        let subject = subjects.iter().find(|s| s["id"] == principal).unwrap();
        assert_eq!(
            subject["detail"],
            format!("{} event(s) with static credentials", row["static_events"])
        );
    }

    // denied-access-spikes: totals, and each principal's worst hour.
    let denied = result(report, "denied-access-spikes");
    let totals = &sql["denied_share"][0];
    assert_eq!(
        n(&totals["nhi_events"]),
        n(&denied["metrics"]["nhi_events"])
    );
    assert_eq!(n(&totals["denied"]), n(&denied["metrics"]["denied"]));
    assert!(n(&totals["denied"]) > 10, "{totals}");
    let spikes = sql["denied_spikes"].as_array().unwrap();
    let subjects = denied["subjects"].as_array().unwrap();
    assert_eq!(spikes.len(), subjects.len(), "{flavour}: {spikes:?}");
    for row in spikes {
        let principal = row["principal_id"].as_str().unwrap();
        let subject = subjects.iter().find(|s| s["id"] == principal).unwrap();
        // DuckDB writes the hour as "2026-10-29 14:00:00+00" (UTC).
        let hour = row["worst_hour"].as_str().unwrap()[..19].replace(' ', "T");
        assert_eq!(
            subject["detail"],
            format!(
                "{} denials in the hour from {hour}.000000Z ({} in all)",
                row["worst_hour_denials"], row["denied"]
            ),
            "{flavour}"
        );
    }

    // attributable-records.
    let attributable = &result(report, "attributable-records")["metrics"];
    let row = &sql["attributable_records"][0];
    for (column, metric) in [("records", "records"), ("attributable", "attributable")] {
        assert_eq!(n(&row[column]), n(&attributable[metric]), "{column}");
    }
    for field in ["principal", "decision", "resource", "time"] {
        let expected = attributable
            .get(format!("missing_{field}"))
            .map(n)
            .unwrap_or(0);
        assert_eq!(n(&row[format!("missing_{field}")]), expected, "{field}");
    }

    // logging-continuity: records and the longest gap per source.
    let continuity = &result(report, "logging-continuity")["metrics"]["by_source"];
    let rows = sql["logging_continuity"].as_array().unwrap();
    assert_eq!(rows.len(), continuity.as_object().unwrap().len());
    for row in rows {
        let m = &continuity[row["source"].as_str().unwrap()];
        assert_eq!(n(&row["records"]), n(&m["records"]), "{row}");
        let (sql_gap, check_gap) = (
            row["longest_gap_hours"].as_f64().unwrap(),
            m["longest_gap_hours"].as_f64().unwrap(),
        );
        // The SQL counts milliseconds (Trino's finest date_diff unit).
        assert!(
            (sql_gap - check_gap).abs() < 1e-6,
            "{flavour} {row}: {sql_gap} vs {check_gap}"
        );
    }

    // The base aggregate adds up to the window's records.
    let days = sql["principal_day"].as_array().unwrap();
    let total: u64 = days.iter().map(|r| n(&r["events"])).sum();
    assert_eq!(total, n(&attributable["records"]));
}
