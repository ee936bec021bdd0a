//! `proofpack checks list|run` and `proofpack coverage` on the real samples:
//! statuses, subjects and the evidence rows behind them, thresholds and
//! waivers from a config file, and honest coverage.

use std::path::Path;

use serde_json::Value;

use crate::ingest::{ingest, samples};
use crate::util::*;

fn run_checks(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let cache = tempfile::tempdir().unwrap();
    let out = run(proofpack(cache.path())
        .args(["checks", "run"])
        .arg(dir.join("evidence"))
        .args(["--format", "json"])
        .args(extra));
    let code = out.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "{}", stderr(&out));
    (code, serde_json::from_slice(&out.stdout).unwrap())
}

fn subject_ids(result: &Value) -> Vec<&str> {
    result["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect()
}

/// Row `row` of an evidence table's CSV, as column → value.
fn csv_row(dir: &Path, table: &str, row: usize) -> std::collections::BTreeMap<String, String> {
    csv_records(&dir.join("evidence").join(format!("{table}.csv"))).swap_remove(row)
}

fn real_evidence() -> tempfile::TempDir {
    let (dir, _) = ingest(
        &[
            samples().join("cloudtrail"),
            samples().join("k8s-audit"),
            samples().join("identity-logs"),
            samples().join("inventories"),
            samples().join("policies"),
        ],
        &[],
    );
    dir
}

#[test]
fn checks_on_the_real_samples_give_verdicts_with_subjects_and_rows() {
    let dir = real_evidence();
    let (code, report) = run_checks(dir.path(), &["--as-of", "2025-01-01"]);
    assert_eq!(code, 1, "failing checks exit 1");
    assert_eq!(report["as_of"], "2025-01-01T00:00:00.000000Z");
    let statuses: Vec<(&str, &str)> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("ephemeral-credentials", "fail"),
            ("attributable-records", "fail"),
            ("static-credential-rotation", "fail"),
            ("credential-expiry", "fail"),
            ("unused-active-nhis", "fail"),
            ("used-after-disabled", "pass"),
            ("accountable-owner", "fail"),
            ("least-privilege-grants", "fail"),
            ("open-role-trust", "fail"),
            ("human-use-of-nhi", "pass"),
            ("environment-reuse", "pass"),
            ("shadow-nhis", "fail"),
            ("secrets-in-code", "not-evaluated"),
            ("mesh-mtls", "not-applicable"),
            ("logging-continuity", "fail"),
            ("denied-access-spikes", "fail"),
            ("anonymous-access", "fail"),
            ("mcp-inline-secrets", "not-applicable"),
            ("third-party-accountable", "not-applicable"),
            ("third-party-least-privilege", "not-applicable"),
            ("agent-own-identity", "not-applicable"),
        ]
    );
    // Falco's trace: system:anonymous created a namespace, and it was allowed.
    let anonymous = result(&report, "anonymous-access");
    assert_eq!(subject_ids(anonymous), ["namespaces/foo"]);
    // Two roles trust a whole account without conditions (cloudsplaining).
    let trust = result(&report, "open-role-trust");
    assert_eq!(
        subject_ids(trust),
        vec![
            "arn:aws:iam::200611803367:role/OrganizationAccountAccessRole",
            "arn:aws:iam::200611803367:role/privesc-permissive-role-trust"
        ]
    );
    // The evidence row named is the grant itself.
    let row = &trust["subjects"][0]["rows"][0];
    assert_eq!(row["table"], "grants");
    let grant = csv_row(dir.path(), "grants", row["row"].as_u64().unwrap() as usize);
    assert_eq!(
        grant["principal"],
        "arn:aws:iam::200611803367:role/OrganizationAccountAccessRole"
    );
    assert_eq!(grant["kind"], "trust");
    assert_eq!(grant["resources"], "AWS:arn:aws:iam::072528804237:root");

    // cloudgoat's key, last rotated 2022-05-27T10:25:44Z, is 949 whole days old on 2025-01-01.
    let rotation = result(&report, "static-credential-rotation");
    let cloudgoat = rotation["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "arn:aws:iam::278368863034:user/cloudgoat#access_key_1")
        .unwrap();
    assert!(cloudgoat["detail"]
        .as_str()
        .unwrap()
        .starts_with("last rotated 2022-05-27 (949 days"));
    // AdministratorAccess on a role is admin-equivalent; the SPIRE admin entry too.
    let privilege = subject_ids(result(&report, "least-privilege-grants"));
    assert!(privilege.contains(&"arn:aws:iam::200611803367:role/OrganizationAccountAccessRole"));
    assert!(privilege.contains(&"spiffe://example.org/Blog"));
    // The stratus-red-team role was refused 30 times within one hour.
    let denied = result(&report, "denied-access-spikes");
    let spike = &denied["subjects"][0];
    assert_eq!(
        spike["id"],
        "arn:aws:iam::457448411975:role/stratus-red-team-ec2-get-password-data-role"
    );
    assert_eq!(spike["rows_total"], 30);
    let event = csv_row(
        dir.path(),
        "access_events",
        spike["rows"][0]["row"].as_u64().unwrap() as usize,
    );
    assert_eq!(event["decision"], "deny");
    assert_eq!(event["principal_id"], spike["id"].as_str().unwrap());

    // Mappings travel with each result, titled, with their basis.
    let eph = result(&report, "ephemeral-credentials");
    let ksi = eph["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["framework"] == "fedramp-20x-ksi")
        .unwrap();
    assert_eq!(ksi["items"][0]["id"], "KSI-IAM-SNU");
    assert_eq!(ksi["items"][0]["title"], "Securing Non-User Authentication");
    assert_eq!(ksi["basis"], "derived");
    // The framework versions used are recorded.
    let ksi_version = report["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "fedramp-20x-ksi")
        .unwrap();
    assert_eq!(ksi_version["version"], "CR26 2026.07.14.01");
    assert_eq!(report["counts"]["fail"], 12);
}

#[test]
fn thresholds_and_waivers_come_from_the_config() {
    let dir = real_evidence();
    let config = dir.path().join("proofpack.toml");
    std::fs::write(
        &config,
        r#"
[checks.ephemeral-credentials]
min_share = 0.2

[checks.denied-access-spikes]
max_denied_share = 0.5
max_denials_per_hour = 30

[[waivers]]
check = "open-role-trust"
subject = "arn:aws:iam::200611803367:role/OrganizationAccountAccessRole"
justification = "break-glass role for the organisation's management account; CHG-881"
approver = "ciso@example.com"
expires = 2025-06-30

[[waivers]]
check = "open-role-trust"
subject = "arn:aws:iam::200611803367:role/privesc-*"
justification = "lab account"
approver = "ciso@example.com"
expires = 2024-12-31
"#,
    )
    .unwrap();
    let config = config.to_string_lossy().to_string();
    let (_, report) = run_checks(dir.path(), &["--as-of", "2025-01-01", "--config", &config]);
    // 26% ephemeral clears a 20% bar, only for the source that reach it.
    let eph = result(&report, "ephemeral-credentials");
    assert_eq!(eph["parameters"]["min_share"], 0.2);
    assert!(
        eph["reason"].as_str().unwrap().contains("minimum 20.0%"),
        "{eph:#}"
    );
    assert_eq!(result(&report, "denied-access-spikes")["status"], "pass");
    // One waiver in force, one expired the day before the as-of date.
    let trust = result(&report, "open-role-trust");
    assert_eq!(trust["status"], "fail");
    assert_eq!(
        subject_ids(trust),
        vec!["arn:aws:iam::200611803367:role/privesc-permissive-role-trust"]
    );
    assert_eq!(
        trust["waived"][0]["id"],
        "arn:aws:iam::200611803367:role/OrganizationAccountAccessRole"
    );
    assert_eq!(trust["waived"][0]["waiver"]["expires"], "2025-06-30");
    assert_eq!(
        report["expired_waivers"][0]["subject"],
        "arn:aws:iam::200611803367:role/privesc-*"
    );

    // A later as-of date: both waivers have expired.
    let (_, later) = run_checks(
        dir.path(),
        &[
            "--as-of",
            "2025-07-01",
            "--config",
            &config,
            "--check",
            "open-role-trust",
        ],
    );
    assert_eq!(later["results"].as_array().unwrap().len(), 1);
    assert_eq!(subject_ids(&later["results"][0]).len(), 2);
    assert_eq!(later["expired_waivers"].as_array().unwrap().len(), 2);

    // The text report shows the waiver and the warning.
    let cache = tempfile::tempdir().unwrap();
    let out = run(proofpack(cache.path())
        .args(["checks", "run"])
        .arg(dir.path().join("evidence"))
        .args(["--as-of", "2025-01-01", "--config", &config]));
    let text = stdout(&out);
    assert!(text.contains("~ arn:aws:iam::200611803367:role/OrganizationAccountAccessRole waived until 2025-06-30 by ciso@example.com"), "{text}");
    assert!(text.contains("warning: waiver for open-role-trust on \"arn:aws:iam::200611803367:role/privesc-*\" expired 2024-12-31; not honoured"), "{text}");
}

#[test]
fn config_mistakes_and_unknown_checks_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (evidence, _) = ingest(&[samples().join("k8s-audit")], &[]);
    let config = dir.path().join("proofpack.toml");
    std::fs::write(
        &config,
        "[checks.static-credential-rotation]\nmax_age = 30\n",
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = run(proofpack(cache.path())
        .args(["checks", "run"])
        .arg(evidence.path().join("evidence"))
        .arg("--config")
        .arg(&config));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("proofpack.toml:2:1:") && err.contains("max_age_days"),
        "{err}"
    );
    let out = run(proofpack(cache.path())
        .args(["checks", "run", "--check", "nope"])
        .arg(evidence.path().join("evidence")));
    assert_eq!(out.status.code(), Some(2));
    let out = run(proofpack(cache.path())
        .args(["checks", "run"])
        .arg(dir.path()));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a folder written by `proofpack ingest`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn empty_evidence_passes_nothing() {
    let empty = tempfile::tempdir().unwrap();
    let (dir, _) = ingest(&[empty.path().to_path_buf()], &[]);
    let (code, report) = run_checks(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(report["counts"]["pass"], 0, "{report:#}");
    assert_eq!(report["counts"]["fail"], 0);
    for r in report["results"].as_array().unwrap() {
        assert!(!r["reason"].as_str().unwrap().is_empty(), "{r:#}");
    }
}

#[test]
fn the_catalogue_and_coverage_are_listed() {
    let cache = tempfile::tempdir().unwrap();
    let out = run(proofpack(cache.path()).args(["checks", "list"]));
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("static-credential-rotation  Static credentials are rotated"),
        "{text}"
    );
    assert!(text.contains("max_age_days = 90"), "{text}");
    for (framework, expect) in [
        ("800-53", "sc-23"),
        ("nhi", "NHI3"),
        ("maestro", "Agent Identity Attack (L7)"),
        ("ksi", "KSI-IAM-SNU"),
        ("asi", "ASI03"),
        ("ai-rmf", "MEASURE 2.7"),
    ] {
        let out = run(proofpack(cache.path()).args([
            "coverage",
            "--framework",
            framework,
            "--format",
            "json",
        ]));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let c: Value = serde_json::from_slice(&out.stdout).unwrap();
        let items = c["items_detail"].as_array().unwrap();
        assert!(items.iter().any(|i| i["id"] == expect), "{framework}");
        let covered = items
            .iter()
            .filter(|i| !i["checks"].as_array().unwrap().is_empty())
            .count();
        assert_eq!(c["covered"], covered);
        // Every OWASP NHI risk has a check; the other frameworks reach
        // past what logs and inventories can show.
        if framework == "nhi" {
            assert_eq!(covered, items.len(), "{framework}");
        } else {
            assert!(
                covered > 0 && covered < items.len(),
                "{framework}: coverage is partial, and says so"
            );
        }
    }
    let out = run(proofpack(cache.path()).args(["coverage", "--framework", "nhi"]));
    let text = stdout(&out);
    assert!(text.contains("10 of 10 items covered"), "{text}");
    assert!(!text.contains("not covered by any check"), "{text}");
    let out = run(proofpack(cache.path()).args(["coverage", "--framework", "ksi"]));
    assert!(stdout(&out).contains("not covered by any check:"));
    // The AI RMF counts its 72 outcomes, not the functions and categories
    // that head them.
    let out = run(proofpack(cache.path()).args(["coverage", "--framework", "ai-rmf"]));
    let text = stdout(&out);
    assert!(text.contains(" of 72 items covered"), "{text}");
}

#[test]
fn ci_formats_and_exit_policies() {
    let dir = real_evidence();
    let cache = tempfile::tempdir().unwrap();
    let run_with = |args: &[&str]| {
        run(proofpack(cache.path())
            .args(["checks", "run"])
            .arg(dir.path().join("evidence"))
            .args(["--as-of", "2025-01-01"])
            .args(args))
    };
    let (_, report) = run_checks(dir.path(), &["--as-of", "2025-01-01"]);
    let failing_subjects: usize = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "fail")
        .map(|r| r["subjects"].as_array().unwrap().len())
        .sum();

    let out = run_with(&["--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_valid_sarif(&sarif);
    let run0 = &sarif["runs"][0];
    assert_eq!(
        run0["tool"]["driver"]["rules"].as_array().unwrap().len(),
        21
    );
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), failing_subjects);
    let trust = results
        .iter()
        .find(|r| r["ruleId"] == "open-role-trust")
        .unwrap();
    assert_eq!(trust["level"], "error", "open trust is high severity");
    let line = trust["locations"][0]["physicalLocation"]["region"]["startLine"]
        .as_u64()
        .unwrap();
    let row = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "open-role-trust")
        .unwrap()["subjects"][0]["rows"][0]["row"]
        .as_u64()
        .unwrap();
    assert_eq!(line, row + 2, "the CSV line of the evidence row");

    let out = run_with(&["--format", "junit"]);
    let xml = stdout(&out);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"proofpack\" tests=\"21\" failures=\"12\" skipped=\"6\">"), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 21);
    assert_eq!(xml.matches("<failure ").count(), 12);
    assert_eq!(xml.matches("<skipped ").count(), 6);
    assert!(!xml.contains("& "), "escaped");

    // Exit policies: the real samples fail high-severity checks too.
    assert_eq!(run_with(&["--fail-on", "risk-high"]).status.code(), Some(1));
    assert_eq!(run_with(&["--fail-on", "never"]).status.code(), Some(0));
    assert_eq!(
        run_with(&["--fail-on", "risk-high", "--check", "ephemeral-credentials"])
            .status
            .code(),
        Some(0),
        "a moderate failure does not trip risk-high"
    );
}
