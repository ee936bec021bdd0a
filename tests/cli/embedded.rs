//! Embedded identities (issue 25): static keys of PLC gateways that cannot
//! refresh tokens, declared with compensating controls in the config. The
//! controls the logs show are verified over every event: held, the key is
//! `compensated` (in checks.json, the OSCAL risk's mitigating factors with
//! the rows that show each control, a POA&M operational requirement, the
//! summaries); broken, it fails with the breaking rows. The CloudTrail
//! records are shaped as CloudTrail writes an IAM user's S3 call.

use std::path::Path;

use serde_json::{json, Value};

use crate::util::*;

fn put_object(user: &str, key_id: &str, ip: &str, minute: u32, bucket: &str) -> Value {
    json!({"eventVersion": "1.08", "eventTime": format!("2026-10-28T10:{minute:02}:00Z"),
        "eventSource": "s3.amazonaws.com", "eventName": "PutObject", "awsRegion": "us-east-1",
        "sourceIPAddress": ip, "userAgent": "plc-gateway/2.1",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": format!("arn:aws:iam::111122223333:user/{user}"),
            "accountId": "111122223333", "accessKeyId": key_id, "userName": user},
        "requestParameters": {"bucketName": bucket, "key": format!("line-3/{minute}.json")},
        "eventID": format!("{user}-{minute}"), "eventType": "AwsApiCall", "recipientAccountId": "111122223333"})
}

fn scenario(dir: &Path, breaking: bool) -> std::path::PathBuf {
    let mut records: Vec<Value> = (0..6)
        .map(|m| {
            put_object(
                "plc-gw-1",
                "AKIAPLCGATEWAY000001",
                "10.20.1.5",
                m,
                "telemetry",
            )
        })
        .collect();
    records.extend((0..3).map(|m| {
        put_object(
            "plc-gw-2",
            "AKIAPLCGATEWAY000002",
            "10.20.1.6",
            10 + m,
            "telemetry",
        )
    }));
    if breaking {
        // The second gateway's key used from the internet, on another bucket.
        records.push(put_object(
            "plc-gw-2",
            "AKIAPLCGATEWAY000002",
            "203.0.113.50",
            30,
            "payroll",
        ));
    }
    // An ordinary workload on STS sessions, so the share has both sides.
    for m in 0..40 {
        let mut r = put_object("x", "ASIAWORKLOAD00000001", "10.0.0.9", m % 60, "telemetry");
        r["userIdentity"] = json!({"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/app/i-1",
            "accountId": "111122223333", "accessKeyId": "ASIAWORKLOAD00000001",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/app"}}});
        r["eventID"] = json!(format!("app-{m}"));
        records.push(r);
    }
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("trail.json"),
        json!({"Records": records}).to_string(),
    )
    .unwrap();
    let config = dir.join("proofpack.toml");
    std::fs::write(
        &config,
        r#"[system]
name = "Plant telemetry"
description = "PLC gateways upload line telemetry to S3."
organization = "Acme Manufacturing"
boundary = "AWS account 111122223333"

[window]
since = 2026-10-27T00:00:00Z
until = 2026-11-03T00:00:00Z

[inputs]
logs = ["logs/"]

[[embedded]]
subject = "arn:aws:iam::111122223333:user/plc-gw-*"
reason = "PLC gateways on the plant network cannot refresh tokens"
source_networks = ["10.20.0.0/16"]
actions = ["s3:PutObject"]
resources = ["arn:aws:s3:::telemetry/*"]
max_events_per_hour = 100
attested = ["key held in the gateway's TPM"]
"#,
    )
    .unwrap();
    config
}

/// The package, its OSCAL also checked with FedRAMP's constraints; its
/// checks.json.
fn generate(config: &Path, out: &Path) -> Value {
    let fedramp = shared().join("oscal/fedramp/constraints");
    let (code, text, err) = crate::generate::generate(
        config,
        out,
        &["--fedramp-constraints", fedramp.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{text}{err}");
    read_json(&out.join("checks.json"))
}

fn check<'a>(checks: &'a Value, id: &str) -> &'a Value {
    checks["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
}

#[test]
fn held_controls_compensate_a_static_key_in_checks_oscal_poam_and_summaries() {
    let tmp = tempfile::tempdir().unwrap();
    let config = scenario(tmp.path(), false);
    let out = tmp.path().join("package");
    let checks = generate(&config, &out);
    let share = check(&checks, "ephemeral-credentials");
    assert_eq!(share["status"], "compensated", "{share:#}");
    let compensated = share["compensated"].as_array().unwrap();
    let ids: Vec<&str> = compensated
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "arn:aws:iam::111122223333:user/plc-gw-1",
            "arn:aws:iam::111122223333:user/plc-gw-2"
        ]
    );
    let controls = compensated[0]["embedded"]["controls"].as_array().unwrap();
    let state = |name: &str| {
        controls.iter().find(|c| c["control"] == name).unwrap()["state"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(state("source-networks"), "held");
    assert_eq!(state("actions"), "held");
    assert_eq!(state("resources"), "held");
    assert_eq!(state("rate"), "held");
    assert_eq!(state("key held in the gateway's TPM"), "attested");
    assert!(share["subjects"].as_array().unwrap().is_empty());

    // OSCAL: a requested deviation whose mitigating factors link the rows.
    let ar = read_json(&out.join("oscal/assessment-results.json"));
    let risks = ar["assessment-results"]["results"][0]["risks"]
        .as_array()
        .unwrap();
    let risk = risks
        .iter()
        .find(|r| r["status"] == "deviation-requested")
        .expect("a deviation");
    let factors = risk["mitigating-factors"].as_array().unwrap();
    let network = factors
        .iter()
        .find(|f| {
            f["description"]
                .as_str()
                .unwrap()
                .starts_with("source-networks for arn:aws:iam::111122223333:user/plc-gw-1")
        })
        .unwrap();
    assert!(
        network["description"]
            .as_str()
            .unwrap()
            .contains("verified"),
        "{network}"
    );
    assert!(!network["links"].as_array().unwrap().is_empty());
    assert!(factors.iter().any(|f| f["description"]
        .as_str()
        .unwrap()
        .contains("provider-attested")));
    let poam = read_json(&out.join("oscal/poam.json"));
    let items = poam["plan-of-action-and-milestones"]["poam-items"]
        .as_array()
        .unwrap();
    assert!(
        items.iter().any(|i| i["description"]
            .as_str()
            .unwrap()
            .starts_with("Operational requirement")),
        "{items:#?}"
    );
    for summary in ["summary.md", "summary.html"] {
        let text = std::fs::read_to_string(out.join(summary)).unwrap();
        assert!(text.contains("compensated"), "{summary}");
    }
    let (code, v) = verify_json(&out, &[]);
    assert_eq!(code, 0, "{v:#}");
    // The risk, its mitigating factors and the POA&M item pass NIST's and
    // FedRAMP's constraints in an independent validation run.
    let fedramp = shared().join("oscal/fedramp/constraints");
    let (code, report) = validate_json(
        &[out.join("oscal")],
        &[
            "--strict",
            "--constraints",
            "all",
            "--fedramp-constraints",
            fedramp.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_broken_control_fails_with_the_breaking_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let config = scenario(tmp.path(), true);
    let out = tmp.path().join("package");
    let checks = generate(&config, &out);
    let share = check(&checks, "ephemeral-credentials");
    assert_eq!(share["status"], "fail", "{share:#}");
    let failing = &share["subjects"].as_array().unwrap()[0];
    assert_eq!(failing["id"], "arn:aws:iam::111122223333:user/plc-gw-2");
    let detail = failing["detail"].as_str().unwrap();
    assert!(
        detail.contains("source-networks broken: 1 of 4"),
        "{detail}"
    );
    assert!(detail.contains("resources broken"), "{detail}");
    // The breaking event (the tenth record: row 9) is among its rows.
    let rows: Vec<u64> = failing["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["row"].as_u64().unwrap())
        .collect();
    assert!(rows.contains(&9), "{rows:?}");
    // The first gateway still holds.
    let compensated = share["compensated"].as_array().unwrap();
    assert_eq!(compensated.len(), 1);
    assert_eq!(
        compensated[0]["id"],
        "arn:aws:iam::111122223333:user/plc-gw-1"
    );
}

#[test]
fn a_bad_declaration_is_named_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let config = scenario(tmp.path(), false);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("10.20.0.0/16", "10.20.0.0/40");
    std::fs::write(&config, text).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .arg("generate")
        .arg("--config")
        .arg(&config)
        .arg("--out")
        .arg(tmp.path().join("package"))
        .arg("--schema-dir")
        .arg(schema_dir()));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("[[embedded]]") && err.contains("prefix length"),
        "{err}"
    );
    assert!(!tmp.path().join("package").exists());
}
