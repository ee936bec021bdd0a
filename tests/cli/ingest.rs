//! `proofpack ingest` and `proofpack query` on the real public samples in
//! `../shared/samples-real`, and on broken input made here.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::*;

pub(crate) fn samples() -> PathBuf {
    shared().join("samples-real")
}

/// Ingests `inputs` into a fresh folder; returns the folder and stdout.
pub(crate) fn ingest(inputs: &[PathBuf], extra: &[&str]) -> (tempfile::TempDir, String) {
    let out = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .arg("ingest")
        .args(inputs)
        .arg("--out")
        .arg(out.path().join("evidence"))
        .args(extra));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    (out, stdout(&output))
}

pub(crate) fn summary(dir: &Path) -> Value {
    read_json(&dir.join("evidence/summary.json"))
}

/// Every record, as `query --format json` prints it.
pub(crate) fn records(dir: &Path, filters: &[&str]) -> Vec<Value> {
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .arg("query")
        .arg(dir.join("evidence"))
        .args(["--format", "json"])
        .args(filters));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_slice::<Vec<Value>>(&output.stdout).unwrap()
}

/// The one record whose raw reference ends with `file` at `position`.
fn record_at(all: &[Value], file: &str, position: &str) -> Value {
    let found: Vec<&Value> = all
        .iter()
        .filter(|r| {
            r["raw_ref"]["file"].as_str().unwrap().ends_with(file)
                && r["raw_ref"]["position"] == position
        })
        .collect();
    assert_eq!(found.len(), 1, "records at {file} {position}: {found:#?}");
    found[0].clone()
}

fn check(record: &Value, expected: &[(&str, &str)]) {
    for (field, value) in expected {
        assert_eq!(
            record[*field].as_str().unwrap_or("<null>"),
            *value,
            "{field} of {record:#}"
        );
    }
}

/// Every CloudTrail and Kubernetes sample: every record accounted for, and
/// every reject one of the known, explained ones.
#[test]
fn real_samples_ingest_with_only_explained_rejects() {
    let (dir, text) = ingest(
        &[samples().join("cloudtrail"), samples().join("k8s-audit")],
        &[],
    );
    let s = summary(dir.path());
    assert_eq!(s["reconciled"], true);
    let read = s["read"].as_u64().unwrap();
    assert_eq!(
        read,
        s["normalised"].as_u64().unwrap()
            + s["rejected"].as_u64().unwrap()
            + s["outside_window"].as_u64().unwrap()
    );
    assert!(s["normalised"].as_u64().unwrap() > 480, "{s:#}");
    assert!(text.contains("normalised"), "{text}");

    let rejected = std::fs::read_to_string(dir.path().join("evidence/rejected.csv")).unwrap();
    let mut reasons: Vec<String> = rejected
        .lines()
        .skip(1)
        .map(|l| {
            let file = l
                .split(',')
                .next()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string();
            // The reason is the last column, quoted when it holds a comma.
            let last = if l.ends_with('"') {
                l.rsplit(",\"").next().unwrap()
            } else {
                l.rsplit(',').next().unwrap()
            };
            let reason = last
                .trim_matches('"')
                .split([':', '('])
                .next()
                .unwrap()
                .trim()
                .to_string();
            format!("{file}: {reason}")
        })
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        [
            // Every field of this AWS library fixture is null.
            "SerializerAllFieldsNull.json: no eventName",
            // Upstream keeps a deliberately malformed file.
            "SerializerTestFileBadJsonFormat.json: not valid JSON",
            // Exec and attach log a ResponseStarted stage before completing.
            "attach_pod.json: stage ResponseStarted",
            "exec_pod.json: stage ResponseStarted",
            // A falco fixture that is just {"kind": 0}.
            "fal_01_003.json: not a recognised audit record",
        ]
    );
}

#[test]
fn cloudtrail_records_are_classified_from_what_they_say() {
    let (dir, _) = ingest(&[samples().join("cloudtrail")], &[]);
    let all = records(dir.path(), &[]);

    // An IAM user whose ASIA key is a console session: the prefix decides.
    let pedro = record_at(
        &all,
        "ec2_proxy_s3_exfiltration_2020-09-14011940.json",
        "line 10",
    );
    check(
        &pedro,
        &[
            ("principal_id", "arn:aws:iam::123456789123:user/pedro"),
            ("principal_type", "human"),
            ("credential_id", "ASIA5FLZVX4OI4ZDQJOL"),
            ("credential_type", "ephemeral"),
            ("action", "ec2:DescribeInstances"),
            ("decision", "allow"),
            ("time", "2020-09-14T00:44:20.000000Z"),
        ],
    );
    assert!(pedro["credential_reason"]
        .as_str()
        .unwrap()
        .contains("ASIA"));

    // An AWS service assuming a role: only invokedBy names it.
    let service = record_at(
        &all,
        "ec2_proxy_s3_exfiltration_2020-09-14011940.json",
        "line 42",
    );
    check(
        &service,
        &[
            ("principal_id", "ec2.amazonaws.com"),
            ("principal_type", "service"),
            ("credential_type", "ephemeral"),
            ("action", "sts:AssumeRole"),
            (
                "resource",
                "arn:aws:iam::123456789123:role/MordorNginxStack-BankingWAFRole-9S3E0UAE1MM0",
            ),
        ],
    );

    // A long-term key denied an AssumeRole; the target comes from the message.
    let denied = record_at(
        &all,
        "aws.credential-access.ec2-get-password-data.json",
        "record 34 at byte 92865",
    );
    check(
        &denied,
        &[
            ("principal_id", "arn:aws:iam::457448411975:user/christophe"),
            ("credential_id", "AKIAWOGXN38MFN92ING5"),
            ("credential_type", "static"),
            ("decision", "deny"),
            (
                "resource",
                "arn:aws:iam::457448411975:role/stratus-red-team-ec2-get-password-data-role",
            ),
        ],
    );
    assert!(denied["decision_reason"]
        .as_str()
        .unwrap()
        .starts_with("AccessDenied: User: arn:aws:iam::457448411975:user/christophe"));

    // A lookup-events row: the record inside CloudTrailEvent, a console session.
    let plaso = record_at(&all, "plaso/aws_cloudtrail.jsonl", "line 6");
    check(
        &plaso,
        &[
            (
                "principal_id",
                "arn:aws:iam::012345678901:user/fakeusername",
            ),
            ("principal_type", "human"),
            ("credential_type", "ephemeral"),
            ("auth_method", "console"),
            ("action", "ec2:CreateSecurityGroup"),
            ("time", "2022-02-07T22:19:04.000000Z"),
        ],
    );

    // An SSO role session is a person.
    let sso = records(dir.path(), &["--principal", "AWSReservedSSO_account-admin"]);
    assert!(!sso.is_empty());
    assert!(sso
        .iter()
        .all(|r| r["principal_type"] == "human" && r["credential_type"] == "ephemeral"));

    // The gzip delivery file and its plain twin give the same records.
    let hashes = |suffix: &str| {
        let mut h: Vec<String> = all
            .iter()
            .filter(|r| r["raw_ref"]["file"].as_str().unwrap().ends_with(suffix))
            .map(|r| r["raw_ref"]["sha256"].as_str().unwrap().to_string())
            .collect();
        h.sort();
        h
    };
    let plain = hashes("A6kvhMoVeCsc7v8U.json");
    assert!(!plain.is_empty());
    assert_eq!(plain, hashes("A6kvhMoVeCsc7v8U.json.gz"));
}

#[test]
fn kubernetes_records_are_classified_from_what_they_say() {
    let (dir, _) = ingest(&[samples().join("k8s-audit")], &[]);
    let all = records(dir.path(), &[]);

    let eks = record_at(&all, "eks-audit.raw.json", "record 1 at byte 0");
    check(
        &eks,
        &[
            ("principal_id", "system:node:ip-192-001-02-03.ec2.internal"),
            ("principal_type", "service"),
            ("credential_type", "ephemeral"),
            ("auth_method", "aws-iam-authenticator"),
            ("session_name", "i-12345678901"),
            ("action", "create"),
            ("resource", "nodes/ip-192-001-02-03.ec2.internal"),
            ("decision", "allow"),
        ],
    );

    let anonymous = record_at(
        &all,
        "anonymous_creates_namespace_foo.json",
        "record 1 at byte 0",
    );
    check(
        &anonymous,
        &[
            ("principal_id", "system:anonymous"),
            ("principal_type", "anonymous"),
            ("credential_type", "unknown"),
            ("auth_method", "anonymous"),
            ("resource", "namespaces/foo"),
            ("time", "2018-10-25T13:58:49.736141Z"),
        ],
    );

    let created = record_at(&all, "create_serviceaccount.json", "record 1 at byte 0");
    check(
        &created,
        &[
            ("principal_id", "minikube-user"),
            ("principal_type", "human"),
            ("resource", "namespaces/default/serviceaccounts/myacct"),
            ("decision", "allow"),
            ("decision_reason", "HTTP 201"),
        ],
    );

    let service_accounts: Vec<&Value> = all
        .iter()
        .filter(|r| {
            r["principal_id"]
                .as_str()
                .unwrap()
                .starts_with("system:serviceaccount:")
        })
        .collect();
    assert!(!service_accounts.is_empty());
    for sa in service_accounts {
        check(
            sa,
            &[
                ("principal_type", "workload"),
                ("credential_type", "static"),
                ("auth_method", "legacy-token"),
            ],
        );
    }
}

#[test]
fn broken_input_is_rejected_with_positions_and_the_rest_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"eventVersion":"1.08","eventTime":"2026-11-02T03:14:07Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/app/s1","accessKeyId":"ASIAXXXXXXXXXXXXXXXX"}}"#;
    // NDJSON with a broken line in the middle.
    std::fs::write(
        dir.path().join("events.ndjson"),
        format!("{good}\n{{\"eventName\": \n{good}\n"),
    )
    .unwrap();
    // A gzip that breaks off: earlier lines are kept, the break is reported.
    let lines: String = (0..3000)
        .map(|i| good.replace("s1", &format!("s{i}")) + "\n")
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(lines.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(dir.path().join("cut.json.gz"), &gz[..gz.len() / 2]).unwrap();
    // A wrapper file cut short.
    std::fs::write(
        dir.path().join("wrapper.json"),
        format!("{{\"Records\": [\n{good},\n{good}"),
    )
    .unwrap();

    let (out, _) = ingest(&[dir.path().to_path_buf()], &[]);
    let s = summary(out.path());
    assert_eq!(s["reconciled"], true);
    let rejected = std::fs::read_to_string(out.path().join("evidence/rejected.csv")).unwrap();
    assert!(rejected.contains("events.ndjson,line 2,"), "{rejected}");
    assert!(rejected.contains("cut.json.gz,byte "), "{rejected}");
    assert!(rejected.contains("breaks off"), "{rejected}");
    assert!(
        rejected.contains("wrapper.json,line 3 column"),
        "{rejected}"
    );
    assert!(rejected.contains("truncated"), "{rejected}");
    let kept = s["normalised"].as_u64().unwrap();
    assert!(kept > 2 && kept < 3002, "{s:#}");
    let ndjson = records(out.path(), &["--principal", "arn:aws:iam::1:role/app"]);
    assert!(ndjson.iter().any(|r| r["raw_ref"]["position"] == "line 3"));
}

#[test]
fn the_window_and_the_query_filters_select_records() {
    let (dir, _) = ingest(
        &[samples().join("cloudtrail")],
        &["--since", "2024-01-01", "--until", "2025-01-01T00:00:00Z"],
    );
    let s = summary(dir.path());
    assert_eq!(s["reconciled"], true);
    assert!(s["outside_window"].as_u64().unwrap() > 0);
    let all = records(dir.path(), &[]);
    assert!(all
        .iter()
        .all(|r| r["time"].as_str().unwrap().starts_with("2024")));
    let denied = records(dir.path(), &["--decision", "deny"]);
    assert!(!denied.is_empty() && denied.iter().all(|r| r["decision"] == "deny"));
    let narrow = records(
        dir.path(),
        &[
            "--decision",
            "deny",
            "--resource",
            "stratus-red-team-ec2-get-password-data-role",
            "--limit",
            "1",
        ],
    );
    assert_eq!(narrow.len(), 1);

    // The table form shows one record whole, with its raw reference.
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .arg("query")
        .arg(dir.path().join("evidence"))
        .args(["--decision", "deny", "--limit", "1"]));
    let text = stdout(&output);
    for label in ["principal", "credential", "resource", "outcome", "raw "] {
        assert!(text.contains(label), "{label} missing:\n{text}");
    }
}

#[test]
fn an_output_folder_that_is_not_ours_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), b"keep me").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .arg("ingest")
        .arg(samples().join("k8s-audit/ocsf-examples"))
        .arg("--out")
        .arg(dir.path()));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a proofpack ingest folder"),
        "{}",
        stderr(&output)
    );
    assert!(dir.path().join("precious.txt").exists());
}

#[test]
fn cloud_identity_logs_and_ocsf_are_classified_from_what_they_say() {
    let logs = samples().join("identity-logs");
    let (dir, _) = ingest(
        &[
            logs.join("gcp-audit"),
            logs.join("entra-signin"),
            logs.join("azure-activity"),
            samples().join("ocsf"),
        ],
        &[],
    );
    let s = summary(dir.path());
    assert_eq!(s["reconciled"], true);
    let by_reason = &s["rejected_by_reason"];
    // Upstream's v1.5.0 OCSF examples have trailing commas; Account Change
    // is not an access record; two Cloud Logging entries are not audit logs.
    assert_eq!(by_reason["not valid JSON"], 3, "{s:#}");
    assert_eq!(by_reason["OCSF class 3001"], 3, "{s:#}");
    assert_eq!(
        by_reason["a Cloud Logging entry that is not an audit log"], 2,
        "{s:#}"
    );
    assert_eq!(s["rejected"], 8, "{s:#}");
    let all = records(dir.path(), &[]);

    let denied = record_at(&all, "gcp_logging.jsonl", "line 11");
    check(
        &denied,
        &[
            ("source", "gcp-audit"),
            (
                "principal_id",
                "dvwa-service-account@ketchup.iam.gserviceaccount.com",
            ),
            ("principal_type", "workload"),
            ("credential_type", "ephemeral"),
            ("auth_method", "impersonation"),
            ("decision", "deny"),
            ("account", "ketchup"),
        ],
    );
    let person = record_at(&all, "gcp_logging.jsonl", "line 1");
    check(
        &person,
        &[
            ("principal_type", "human"),
            ("credential_type", "unknown"),
            ("decision", "allow"),
        ],
    );

    let signin = record_at(
        &all,
        "test-service-principal-signinlogs-sample.log",
        "line 1",
    );
    check(
        &signin,
        &[
            ("source", "entra-signin"),
            ("principal_id", "b029d485-a308-4311-8720-fb3192e5284e"),
            ("session_name", "Terraform-Datadog-CLI"),
            ("principal_type", "workload"),
            ("credential_type", "static"),
            ("credential_id", "dbcd79c0-c3ea-46b9-9604-ff40d43b8618"),
            ("resource", "Windows Azure Service Management API"),
            ("time", "2022-02-08T06:22:28.351840Z"),
        ],
    );

    let arm = record_at(&all, "azure_activity_log.jsonl", "line 1");
    check(
        &arm,
        &[
            ("source", "azure-activity"),
            ("principal_type", "workload"),
            ("credential_type", "static"),
            ("auth_method", "certificate"),
            ("action", "Microsoft.Compute/disks/delete"),
        ],
    );

    let ocsf = record_at(
        &all,
        "aws-cloudtrail-v1.1.0/api_activity.ocsf.json",
        "record 1 at byte 0",
    );
    check(
        &ocsf,
        &[
            ("source", "ocsf"),
            ("principal_id", "arn:aws:iam::1111111111111:user/Level6"),
            ("credential_type", "static"),
            ("action", "directconnect:DescribeDirectConnectGateways"),
            ("decision", "allow"),
        ],
    );
    let eks = record_at(
        &all,
        "aws-eks-v1.1.0/eks_api_activity.ocsf.json",
        "record 1 at byte 0",
    );
    check(
        &eks,
        &[
            ("principal_id", "system:node:ip-192-001-02-03.ec2.internal"),
            ("principal_type", "service"),
        ],
    );
}

/// Formats proofpack does not read yet are rejected by name, with the way out.
#[test]
fn unknown_formats_are_rejected_saying_so() {
    let logs = samples().join("identity-logs");
    let (dir, _) = ingest(&[logs.join("m365-unified-audit")], &[]);
    let s = summary(dir.path());
    assert_eq!(s["normalised"], 0);
    assert_eq!(s["rejected"], 4);
    let rejected = std::fs::read_to_string(dir.path().join("evidence/rejected.csv")).unwrap();
    assert!(rejected.contains("not a recognised audit record"));
    assert!(rejected.contains("--source"));
}

/// URL inputs: a real HTTP server on 127.0.0.1 that fails once (the retry
/// must absorb it) and wants a bearer token, which comes from the
/// environment variable named by --token-env and is never written anywhere.
#[test]
fn urls_are_fetched_with_retries_and_a_bearer_token_from_the_environment() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let body = std::fs::read(samples().join("cloudtrail/trailscraper/111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz")).unwrap();
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
    let url = format!(
        "http://{}/AWSLogs/trail.json.gz",
        server.server_addr().to_ip().unwrap()
    );
    let hits = Arc::new(AtomicUsize::new(0));
    let (serving, counter) = (Arc::clone(&server), Arc::clone(&hits));
    let thread = std::thread::spawn(move || {
        for request in serving.incoming_requests() {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let authorised = request.headers().iter().any(|h| {
                h.field.equiv("Authorization") && h.value.as_str() == "Bearer s3cret-t0ken"
            });
            let response = if n == 0 {
                tiny_http::Response::from_data(b"busy".to_vec()).with_status_code(503)
            } else if !authorised {
                tiny_http::Response::from_data(b"no".to_vec()).with_status_code(401)
            } else {
                tiny_http::Response::from_data(body.clone()).with_status_code(200)
            };
            let _ = request.respond(response);
        }
    });

    let out = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .env("TRAIL_TOKEN", "s3cret-t0ken")
        .args(["ingest", &url, "--token-env", "TRAIL_TOKEN", "--out"])
        .arg(out.path().join("evidence")));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let s = summary(out.path());
    assert!(s["normalised"].as_u64().unwrap() > 0, "{s:#}");
    assert_eq!(s["rejected"], 0, "{s:#}");
    assert!(hits.load(Ordering::SeqCst) >= 2, "the 503 was retried");
    for name in ["summary.json", "access_events.csv", "rejected.csv"] {
        let text = std::fs::read_to_string(out.path().join("evidence").join(name)).unwrap();
        assert!(!text.contains("s3cret"), "the token leaked into {name}");
    }
    let events = records(out.path(), &[]);
    assert!(events.iter().all(|r| r["raw_ref"]["file"] == url.as_str()));

    // Without the token: the refusal is a visible reject, not silence.
    let output = run(proofpack(cache.path())
        .args(["ingest", &url, "--out"])
        .arg(out.path().join("evidence")));
    assert_eq!(output.status.code(), Some(0));
    let rejected = std::fs::read_to_string(out.path().join("evidence/rejected.csv")).unwrap();
    assert!(rejected.contains("answered HTTP 401"), "{rejected}");

    // A variable that is not set is a usage error.
    let output = run(proofpack(cache.path())
        .env_remove("NO_SUCH_TOKEN")
        .args(["ingest", &url, "--token-env", "NO_SUCH_TOKEN", "--out"])
        .arg(out.path().join("evidence")));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("NO_SUCH_TOKEN"));

    server.unblock();
    thread.join().unwrap();
}

/// Secret values never reach an output column: not the session token or
/// secret key an AssumeRole response carries, not a JWT quoted in an error.
#[test]
fn secrets_in_records_never_reach_the_tables() {
    let jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YTpiIn0.c2lnbmF0dXJlLXZhbHVl";
    let secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
    let session_token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexampleSessionTokenValue1234567890abcdef";
    let record = serde_json::json!({
        "eventVersion": "1.08", "eventTime": "2026-11-02T03:14:07Z", "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/deployer", "accessKeyId": "AKIAEXAMPLEEXAMPLE01"},
        "requestParameters": {"roleArn": "arn:aws:iam::1:role/app", "roleSessionName": "s"},
        "responseElements": {"credentials": {"accessKeyId": "ASIAEXAMPLEEXAMPLE02", "secretAccessKey": secret_key, "sessionToken": session_token}},
        "errorCode": "InvalidIdentityToken", "errorMessage": format!("token {jwt} is expired"),
        "userAgent": format!("custom-client/{secret_key}"),
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("trail.json"),
        serde_json::json!({"Records": [record]}).to_string(),
    )
    .unwrap();
    let (out, _) = ingest(&[dir.path().to_path_buf()], &[]);
    assert_eq!(summary(out.path())["normalised"], 1);
    let csv = std::fs::read_to_string(out.path().join("evidence/access_events.csv")).unwrap();
    let parquet = std::fs::read(out.path().join("evidence/access_events.parquet")).unwrap();
    for secret in [jwt, secret_key, session_token] {
        assert!(!csv.contains(secret), "{secret} is in the CSV:\n{csv}");
        let found = parquet
            .windows(secret.len())
            .any(|w| w == secret.as_bytes());
        assert!(!found, "{secret} is in the Parquet file");
    }
    assert!(csv.contains("<secret, "), "{csv}");
    assert!(
        csv.contains("AKIAEXAMPLEEXAMPLE01"),
        "key ids are identifiers, kept: {csv}"
    );
}

/// An agent framework in the user agent makes the caller an agent, and the
/// reason keeps what the identity alone would have said.
#[test]
fn agents_are_named_by_their_user_agent() {
    let record = |ua: &str| {
        serde_json::json!({"eventTime": "2026-11-02T03:14:07Z", "eventSource": "bedrock.amazonaws.com", "eventName": "InvokeModel",
            "userAgent": ua, "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/support-bot/s1", "accessKeyId": "ASIAEXAMPLE0000001"}})
    };
    let dir = tempfile::tempdir().unwrap();
    let lines = format!(
        "{}\n{}\n",
        record("langchain-aws/0.2.1 Boto3/1.35.0"),
        record("aws-cli/2.15.0")
    );
    std::fs::write(dir.path().join("events.jsonl"), lines).unwrap();
    let (out, _) = ingest(&[dir.path().to_path_buf()], &[]);
    let all = records(out.path(), &[]);
    let agent = record_at(&all, "events.jsonl", "line 1");
    check(
        &agent,
        &[
            ("principal_type", "agent"),
            ("principal_id", "arn:aws:iam::1:role/support-bot"),
        ],
    );
    assert!(agent["principal_reason"]
        .as_str()
        .unwrap()
        .contains("LangChain"));
    assert!(agent["principal_reason"]
        .as_str()
        .unwrap()
        .contains("workload"));
    check(
        &record_at(&all, "events.jsonl", "line 2"),
        &[("principal_type", "workload")],
    );
}

/// IAM credential reports, as CSV and as the JSON of the API response: one
/// row per user, one per active key or certificate, with its age and use.
#[test]
fn credential_reports_become_identities_and_credentials() {
    let (dir, text) = ingest(
        &[samples().join("inventories/aws-iam-credential-report")],
        &[],
    );
    assert!(text.contains("identity and credential row(s)"), "{text}");
    let s = summary(dir.path());
    assert_eq!(s["reconciled"], true, "{s:#}");
    assert_eq!(
        s["rejected"], 2,
        "the custodian report lists christopher twice, in its CSV and its JSON: {s:#}"
    );
    assert_eq!(s["rejected_by_reason"]["duplicate row"], 2);
    let csv = std::fs::read_to_string(dir.path().join("evidence/identities.csv")).unwrap();
    let row = |id: &str| -> Vec<String> {
        let line = csv
            .lines()
            .find(|l| l.starts_with(&format!("{id},")) && l.contains("aws-testbench"))
            .unwrap_or_else(|| panic!("no row {id}:\n{csv}"));
        line.split(',').map(str::to_string).collect()
    };
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let field =
        |row: &[String], name: &str| row[header.iter().position(|h| *h == name).unwrap()].clone();

    let key = row("arn:aws:iam::278368863034:user/cloudgoat#access_key_1");
    assert_eq!(field(&key, "kind"), "access-key");
    assert_eq!(
        field(&key, "owner_id"),
        "arn:aws:iam::278368863034:user/cloudgoat"
    );
    assert_eq!(field(&key, "credential_type"), "static");
    assert_eq!(field(&key, "last_rotated"), "2022-05-27T10:25:44.000000Z");
    assert_eq!(field(&key, "last_used"), "2022-12-21T18:30:00.000000Z");
    assert_eq!(field(&key, "environment"), "278368863034");

    let root = row("arn:aws:iam::278368863034:root");
    assert_eq!(field(&root, "kind"), "root");
    assert_eq!(field(&root, "credential_type"), "unknown");
    // Every identity row of the user carries the line it came from.
    assert_eq!(field(&key, "raw_position"), "line 3");
}

/// GCP service accounts and keys, from the IAM API's listings.
#[test]
fn gcp_service_accounts_and_keys_become_identities() {
    let inventories = samples().join("inventories");
    let (dir, _) = ingest(
        &[
            inventories.join("gcp-service-accounts"),
            inventories.join("gcp-service-account-keys"),
        ],
        &[],
    );
    let s = summary(dir.path());
    assert_eq!(s["reconciled"], true, "{s:#}");
    assert_eq!(
        (
            s["inventoried"].as_u64(),
            s["identities"].as_u64(),
            s["rejected"].as_u64()
        ),
        (Some(3), Some(7), Some(0)),
        "{s:#}"
    );
    let csv = std::fs::read_to_string(dir.path().join("evidence/identities.csv")).unwrap();
    let key = csv
        .lines()
        .find(|l| l.starts_with("test-cutodian-scc@cloud-custodian.iam.gserviceaccount.com#key/2,"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(key.contains(",service-account-key,gcp,test-cutodian-scc@cloud-custodian.iam.gserviceaccount.com,,cloud-custodian,"), "{key}");
    assert!(key.contains("2021-03-31T13:27:15.000000Z"), "{key}");
    assert!(
        key.contains(",static,USER_MANAGED key that never expires"),
        "{key}"
    );
    let system = csv.lines().find(|l| l.contains("#key/1,")).unwrap();
    assert!(system.contains(",ephemeral,SYSTEM_MANAGED"), "{system}");
}

/// The generic NHI inventory in both forms, checked against the published
/// schema; a bad entry is rejected by itself and the counts reconcile.
#[test]
fn generic_inventories_follow_the_published_schema() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("saas-keys.csv"),
        "id,kind,provider,owner,environment,credential_type,created,last_rotated,expires,scopes\n\
         gh-pat-deploy,token,github,platform@example.com,prod,static,2025-02-01,2025-02-01,,repo;workflow\n\
         dd-key,api-key,datadog,,prod,sometimes,2025-02-01,,,\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("agents.json"),
        serde_json::json!({"nhi-inventory": [
            {"id": "support-bot", "kind": "agent", "owner": "ai@example.com", "credential_type": "ephemeral", "scopes": ["tickets:read"]}
        ]})
        .to_string(),
    )
    .unwrap();
    let (out, _) = ingest(&[dir.path().to_path_buf()], &[]);
    let s = summary(out.path());
    assert_eq!(s["reconciled"], true, "{s:#}");
    assert_eq!(
        (
            s["read"].as_u64(),
            s["inventoried"].as_u64(),
            s["rejected"].as_u64()
        ),
        (Some(3), Some(2), Some(1)),
        "{s:#}"
    );
    let csv = std::fs::read_to_string(out.path().join("evidence/identities.csv")).unwrap();
    let pat = csv
        .lines()
        .find(|l| l.starts_with("gh-pat-deploy,"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(
        pat.contains(",token,inventory,,platform@example.com,prod,2025-02-01T00:00:00.000000Z,"),
        "{pat}"
    );
    assert!(
        pat.contains(",static,as the inventory states,provider=github; scopes=repo workflow,"),
        "{pat}"
    );
    assert!(
        csv.lines().any(|l| l.starts_with("support-bot,agent,")),
        "{csv}"
    );
    let rejected = std::fs::read_to_string(out.path().join("evidence/rejected.csv")).unwrap();
    assert!(rejected.contains("saas-keys.csv,line 3,"), "{rejected}");
    assert!(rejected.contains("credential_type"), "{rejected}");
}

/// IAM policies → grants: AWS's own managed policies, cloudsplaining's
/// privilege-escalation fixtures, and an authorization-details dump.
#[test]
fn iam_policies_become_grants_with_admin_and_wildcard_flags() {
    let (dir, _) = ingest(
        &[
            samples().join("policies/aws-managed-policies"),
            samples().join("policies/aws-iam"),
            samples().join("inventories/aws-iam-authorization-details"),
        ],
        &[],
    );
    let s = summary(dir.path());
    assert_eq!(s["reconciled"], true, "{s:#}");
    assert_eq!(s["rejected"], 0, "{s:#}");
    let csv = std::fs::read_to_string(dir.path().join("evidence/grants.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let find = |policy: &str, principal: &str| {
        rows.iter()
            .find(|r| r[col("policy")] == policy && r[col("principal")] == principal)
            .unwrap_or_else(|| panic!("no grant {policy} for `{principal}`"))
    };
    let admin = find("AdministratorAccess", "");
    assert_eq!(admin[col("admin")], "true");
    assert_eq!(admin[col("wildcard_action")], "true");
    assert_eq!(
        find("PowerUserAccess", "")[col("admin")],
        "false",
        "PowerUserAccess keeps iam:* out"
    );
    assert_eq!(find("AmazonS3FullAccess", "")[col("admin")], "false");
    assert_eq!(
        find("AmazonS3FullAccess", "")[col("wildcard_action")],
        "true"
    );
    let attached = find(
        "AdministratorAccess",
        "arn:aws:iam::012345678901:user/obama",
    );
    assert_eq!(attached[col("admin")], "true");
    let trust = rows
        .iter()
        .find(|r| {
            r[col("kind")] == "trust" && r[col("flags")].contains("a whole account may assume")
        })
        .expect("a role that trusts a whole account");
    assert!(trust[col("principal")].starts_with("arn:aws:iam::"));
    // The dump's roles and users are identities too.
    let identities = std::fs::read_to_string(dir.path().join("evidence/identities.csv")).unwrap();
    assert!(
        identities.lines().any(|l| l.contains(",iam-role,aws,")),
        "{identities}"
    );
}

/// gitleaks and trufflehog reports → secret findings, with the place and
/// the kind of each secret and never the secret.
#[test]
fn scanner_reports_become_findings_without_the_secrets() {
    let secret = "ghp_R3aLl00kingTok3nValue1234567890abcd";
    let dir = tempfile::tempdir().unwrap();
    let gitleaks = serde_json::json!([{
        "Description": "GitHub Personal Access Token", "StartLine": 4, "EndLine": 4, "StartColumn": 10, "EndColumn": 50,
        "Match": format!("token: {secret}"), "Secret": secret, "File": ".github/workflows/release.yml", "SymlinkFile": "",
        "Commit": "9f8e7d6c", "Entropy": 4.8, "Author": "dev", "Email": "dev@example.com", "Date": "2025-06-01T10:00:00Z",
        "Message": "release job", "Tags": [], "RuleID": "github-pat", "Fingerprint": "9f8e7d6c:.github/workflows/release.yml:github-pat:4"
    }]);
    std::fs::write(dir.path().join("gitleaks.json"), gitleaks.to_string()).unwrap();
    let trufflehog = serde_json::json!({
        "SourceMetadata": {"Data": {"Filesystem": {"file": "config/.env", "line": 2}}}, "SourceID": 1, "SourceType": 15,
        "SourceName": "trufflehog - filesystem", "DetectorType": 8, "DetectorName": "Github", "DecoderName": "PLAIN",
        "Verified": false, "Raw": secret, "RawV2": secret, "Redacted": "ghp_R3a..."
    });
    std::fs::write(
        dir.path().join("trufflehog.jsonl"),
        format!("{trufflehog}\n"),
    )
    .unwrap();
    let (out, _) = ingest(&[dir.path().to_path_buf()], &[]);
    let s = summary(out.path());
    assert_eq!(s["reconciled"], true, "{s:#}");
    assert_eq!(s["secret_findings"], 2, "{s:#}");
    let findings =
        std::fs::read_to_string(out.path().join("evidence/secret_findings.csv")).unwrap();
    assert!(
        findings.contains("gitleaks,github-pat,.github/workflows/release.yml,4,9f8e7d6c,"),
        "{findings}"
    );
    assert!(
        findings.contains("trufflehog,Github,config/.env,2,"),
        "{findings}"
    );
    for name in std::fs::read_dir(out.path().join("evidence")).unwrap() {
        let bytes = std::fs::read(name.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(secret) && !text.contains("ghp_R3a"),
            "a secret reached an output file"
        );
    }
}

/// `query` answers the inventory questions: which static credentials are
/// older than N days, which identities hold admin grants.
#[test]
fn query_lists_stale_credentials_and_admin_grants() {
    let (dir, _) = ingest(
        &[
            samples().join("inventories/aws-iam-credential-report/aws-testbench"),
            samples().join("inventories/aws-iam-authorization-details"),
        ],
        &[],
    );
    let cache = tempfile::tempdir().unwrap();
    let query = |args: &[&str]| -> Vec<Value> {
        let output = run(proofpack(cache.path())
            .arg("query")
            .arg(dir.path().join("evidence"))
            .args(args)
            .args(["--format", "json"]));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    // cloudgoat's key was created 2022-05-27: stale at 180 days on 2023-01-01, not at 365.
    let stale = query(&["--stale-days", "180", "--as-of", "2023-01-01"]);
    assert!(
        stale
            .iter()
            .any(|r| r["id"] == "arn:aws:iam::278368863034:user/cloudgoat#access_key_1"),
        "{stale:#?}"
    );
    assert!(stale
        .iter()
        .all(|r| r["credential_type"] == "static" && r["active"] == true));
    let not_yet = query(&["--stale-days", "365", "--as-of", "2023-01-01"]);
    assert!(!not_yet
        .iter()
        .any(|r| r["id"] == "arn:aws:iam::278368863034:user/cloudgoat#access_key_1"));
    let admins = query(&["--admin"]);
    assert!(!admins.is_empty() && admins.iter().all(|r| r["admin"] == true));
    assert!(admins
        .iter()
        .any(|r| r["principal"] == "arn:aws:iam::012345678901:user/obama"));
    let wildcard = query(&["--wildcard", "--identity", "obama"]);
    assert!(wildcard
        .iter()
        .all(|r| r["principal"].as_str().unwrap().contains("obama")));
}

/// Cloud Custodian's recorded boto3 responses (`{status_code, data}` with
/// datetimes as objects): list-roles with URL-encoded trust policies,
/// list-access-keys and list-users.
#[test]
fn iam_listings_become_roles_users_keys_and_trust_grants() {
    let (dir, _) = ingest(
        &[
            samples().join("inventories/aws-iam-roles"),
            samples().join("inventories/aws-iam-users-keys"),
        ],
        &[],
    );
    let s = summary(dir.path());
    assert_eq!(s["reconciled"], true, "{s:#}");
    assert_eq!(s["rejected"], 0, "{s:#}");
    let ids = records(dir.path(), &["--identities"]);
    let sagemaker = ids
        .iter()
        .find(|r| r["id"] == "arn:aws:iam::644160558196:role/service-role/AmazonSageMaker-ExecutionRole-20180108T122369")
        .expect("role");
    assert_eq!(sagemaker["created"], "2018-01-08T17:23:49.000000Z");
    assert_eq!(sagemaker["credential_type"], "ephemeral");
    let key = ids
        .iter()
        .find(|r| r["id"] == "AKIAJRLD3ESRQSWUHEWA")
        .expect("key");
    assert_eq!(key["kind"], "access-key");
    assert_eq!(key["owner_id"], "alphabet_soup");
    assert_eq!(key["credential_type"], "static");
    assert_eq!(key["last_rotated"], "2016-12-08T19:36:32.000000Z");
    let trust = records(dir.path(), &["--grants", "--identity", "AmazonSageMaker"]);
    assert_eq!(trust.len(), 1, "{trust:#?}");
    assert_eq!(trust[0]["kind"], "trust");
    assert_eq!(trust[0]["resources"], "Service:sagemaker.amazonaws.com");
}

/// SPIRE's registration fixtures: good entries become workload identities
/// (admin entries also admin grants); ids that are not spiffe:// URIs and
/// broken JSON are rejected entry by entry.
#[test]
fn spire_registrations_become_workload_identities() {
    let spire = samples().join("policies/spiffe-spire/spire");
    let (dir, _) = ingest(
        &[
            spire.join("registration_good.json"),
            spire.join("registration_invalid.json"),
            spire.join("registration_invalid_json.json"),
        ],
        &[],
    );
    let s = summary(dir.path());
    assert_eq!(s["reconciled"], true, "{s:#}");
    assert_eq!(s["by_source"]["spire"], 4, "{s:#}");
    assert_eq!(s["rejected"], 2, "{s:#}");
    let ids = records(dir.path(), &["--identities"]);
    let blog = ids
        .iter()
        .find(|r| r["id"] == "spiffe://example.org/Blog")
        .unwrap();
    assert_eq!(blog["kind"], "spiffe-workload");
    assert_eq!(blog["credential_type"], "ephemeral");
    assert_eq!(blog["environment"], "example.org");
    assert!(blog["details"]
        .as_str()
        .unwrap()
        .contains("x509_svid_ttl=200s"));
    let admin = records(dir.path(), &["--grants", "--admin"]);
    let admins: Vec<&str> = admin
        .iter()
        .map(|g| g["principal"].as_str().unwrap())
        .collect();
    assert_eq!(
        admins,
        vec![
            "spiffe://example.org/Blog",
            "spiffe://example.org/additionalattr"
        ]
    );
    let rejected = std::fs::read_to_string(dir.path().join("evidence/rejected.csv")).unwrap();
    assert!(
        rejected.contains("spiffe_id is not a spiffe:// URI (\"\"http://example.org/Blog\"\")"),
        "{rejected}"
    );
    assert!(
        rejected.contains("registration_invalid_json.json,line 1 column 1"),
        "{rejected}"
    );
}

/// Every inventory and policy sample, together: the counts reconcile and
/// every reject is one of the explained ones (upstream duplicates, SPIRE
/// fixtures SPIRE itself would refuse, application data that is no NHI
/// format: CanDIG's OPA data, a SPIRE test harness's response map).
#[test]
fn all_inventory_and_policy_samples_ingest_with_only_explained_rejects() {
    let (dir, _) = ingest(
        &[samples().join("inventories"), samples().join("policies")],
        &[],
    );
    let s = summary(dir.path());
    assert_eq!(s["reconciled"], true, "{s:#}");
    for source in [
        "aws-credential-report",
        "aws-iam",
        "gcp-iam",
        "gcp-iam-policy",
        "k8s-rbac",
        "k8s-serviceaccounts",
        "spire",
    ] {
        assert!(
            s["by_source"][source].as_u64().unwrap_or(0) > 0,
            "{source}: {s:#}"
        );
    }
    let rejected = std::fs::read_to_string(dir.path().join("evidence/rejected.csv")).unwrap();
    for line in rejected.lines().skip(1) {
        let explained = (line.contains("GetCredentialReport") && line.contains("duplicate row"))
            || (line.contains("/spiffe-spire/")
                && [
                    "spiffe://",
                    "no spiffe_id",
                    "not valid JSON",
                    "JSON null",
                    "resp1",
                ]
                .iter()
                .any(|r| line.contains(r)))
            || line.contains("/opa-data/candig/");
        assert!(explained, "unexplained reject: {line}");
    }
}

/// A path that is not there is a usage error naming it (exit 2), not one
/// rejected record and exit 0: a scheduled job whose log mount failed must
/// fail. Nothing is written.
#[test]
fn a_missing_input_is_a_usage_error_naming_it() {
    let out = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .arg("ingest")
        .arg("/no/such/dir")
        .arg("--out")
        .arg(out.path().join("evidence")));
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(err.contains("/no/such/dir does not exist"), "{err}");
    assert!(!out.path().join("evidence").exists());
}

/// The columns that carry a record's judgement, for comparing the same
/// records read plainly and through a wrapper.
fn judgements(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = records(dir, &[])
        .iter()
        .map(|r| {
            [
                "time",
                "principal_id",
                "principal_type",
                "credential_id",
                "credential_type",
                "action",
                "resource",
                "decision",
            ]
            .iter()
            .map(|f| r[*f].to_string())
            .collect::<Vec<_>>()
            .join("|")
        })
        .collect();
    out.sort();
    out
}

/// Records that arrive inside a shipper's wrapper are opened by rule:
/// the real Datadog / CloudWatch subscription and Elastic samples, and the
/// real CloudTrail and Kubernetes samples wrapped as Cribl, Splunk, Fluent
/// Bit and AKS diagnostic settings write them.
#[test]
fn records_inside_shipper_envelopes_are_opened_wherever_they_sit() {
    let (dir, _) = ingest(&[samples().join("envelopes")], &[]);
    let s = summary(dir.path());
    assert_eq!(s["normalised"], 9, "{s:#}");
    assert_eq!(s["reconciled"], true);
    let all = records(dir.path(), &[]);
    let first = record_at(
        &all,
        "cloudwatch_log_cloudtrail.json",
        "record 1 at byte 0, logEvents[0].message",
    );
    check(
        &first,
        &[
            (
                "principal_id",
                "arn:aws:iam::123456789123:role/DatadogAWSIntegrationRole",
            ),
            ("session_name", "DatadogAWSIntegration"),
        ],
    );
    record_at(
        &all,
        "test-assume-role-aws-service-json.log-expected.json",
        "record 1 at byte 0, expected[0], event.original",
    );
    // The only rejects are the metrics the Datadog forwarder also sent.
    let rejected = std::fs::read_to_string(dir.path().join("evidence/rejected.csv")).unwrap();
    assert_eq!(rejected.lines().count(), 4, "{rejected}");
    assert!(rejected
        .lines()
        .skip(1)
        .all(|l| l.contains("events[1], data, series[")));

    // Real records, wrapped: the same events as read plainly.
    let trail = samples()
        .join("cloudtrail/stratus-red-team/aws.credential-access.ec2-get-password-data.json");
    let audit = samples().join("k8s-audit/falco-trace-files/anonymous_creates_namespace_foo.json");
    let tmp = tempfile::tempdir().unwrap();
    let trail_records: Vec<Value> = {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&trail).unwrap()).unwrap();
        match v {
            Value::Array(items) => items,
            v => v["Records"].as_array().cloned().unwrap_or_else(|| vec![v]),
        }
    };
    let audit_records: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!trail_records.is_empty() && !audit_records.is_empty());
    let mut wrapped = String::new();
    for (i, r) in trail_records.iter().enumerate() {
        let line = match i % 3 {
            // Cribl and Splunk keep the original event as text in _raw.
            0 => {
                serde_json::json!({"_raw": r.to_string(), "_time": 1_700_000_000, "source": "s3://trail", "cribl_pipe": "main"})
            }
            // Elastic keeps it in event.original.
            1 => {
                serde_json::json!({"@timestamp": "2026-11-03T00:00:00Z", "event": {"original": r.to_string(), "kind": "event"}})
            }
            // A CloudWatch subscription delivers it as text in message.
            _ => {
                serde_json::json!({"messageType": "DATA_MESSAGE", "logEvents": [{"id": "1", "timestamp": 1, "message": r.to_string()}]})
            }
        };
        wrapped.push_str(&line.to_string());
        wrapped.push('\n');
    }
    for (i, r) in audit_records.iter().enumerate() {
        let line = if i % 2 == 0 {
            // Fluent Bit tails the API server's audit log into `log`.
            serde_json::json!({"log": r.to_string(), "stream": "stdout", "kubernetes": {"pod_name": "kube-apiserver"}})
        } else {
            // AKS diagnostic settings, with properties.log as an object.
            serde_json::json!({"category": "kube-audit", "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read", "properties": {"log": r, "pod": "kube-apiserver-1"}})
        };
        wrapped.push_str(&line.to_string());
        wrapped.push('\n');
    }
    let shipped = tmp.path().join("shipped.ndjson");
    std::fs::write(&shipped, wrapped).unwrap();
    let (plain, _) = ingest(&[trail.clone(), audit.clone()], &[]);
    let (opened, _) = ingest(&[shipped], &[]);
    let (p, o) = (summary(plain.path()), summary(opened.path()));
    assert_eq!(o["normalised"], p["normalised"], "{o:#}");
    assert_eq!(o["rejected"], p["rejected"], "{o:#}");
    assert_eq!(judgements(plain.path()), judgements(opened.path()));
}

/// MCP client configurations (VS Code, Cursor, Claude Code, Claude
/// Desktop; dot-folders and JSONC included) become agent tool identities
/// with their credentials classified, values never copied; an inline
/// secret fails `mcp-inline-secrets`.
#[test]
fn mcp_configurations_become_tool_identities_with_classified_credentials() {
    let (dir, _) = ingest(&[samples().join("mcp-configs")], &[]);
    let s = summary(dir.path());
    assert_eq!(
        s["files"], 6,
        "the dot-folders and .mcp.json are read: {s:#}"
    );
    assert_eq!(s["inventoried"], 6);
    assert_eq!(s["rejected"], 0, "VS Code's comments are accepted");
    let csv = std::fs::read_to_string(dir.path().join("evidence/identities.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<std::collections::BTreeMap<String, String>> =
        reader.deserialize().map(|r| r.unwrap()).collect();
    let servers = rows.iter().filter(|r| r["kind"] == "mcp-server").count();
    assert_eq!(servers, 17, "every server of the six files");
    let class = |id_end: &str| {
        rows.iter()
            .find(|r| r["id"].ends_with(id_end))
            .map(|r| r["details"].clone())
            .unwrap_or_else(|| panic!("{id_end}"))
    };
    assert_eq!(
        class(".vscode/mcp.json#env.YOUTUBE_API_KEY"),
        "mcp-credential=prompted-input (masked)"
    );
    assert_eq!(
        class(".mcp.json#env.KALI_API_KEY"),
        "mcp-credential=redacted"
    );
    assert_eq!(
        class("claude_desktop_config.json#env.BRAVE_API_KEY"),
        "mcp-credential=placeholder"
    );
    assert_eq!(
        class("claude_desktop_config.json#args.-e.GOOGLE_CLIENT_SECRET"),
        "mcp-credential=environment-reference"
    );
    let provider = |server: &str| {
        rows.iter().find(|r| r["id"].starts_with(server)).unwrap()["provider"].clone()
    };
    assert_eq!(provider("mcp:eslint@"), "cursor");
    assert_eq!(provider("mcp:vscode-playwright-mcp@"), "vscode");
    assert_eq!(provider("mcp:velociraptor@"), "claude-code");
    assert_eq!(provider("mcp:github@"), "claude-desktop");
    for value in [
        "YOUR_BRAVE_API_KEY",
        "REDACTED_API_KEY",
        "YOUR_GITHUB_TOKEN",
    ] {
        assert!(!csv.contains(value), "{value} was copied");
    }
    let cache = tempfile::tempdir().unwrap();
    let checks = |dir: &Path| -> Value {
        let out = run(proofpack(cache.path())
            .args([
                "checks",
                "run",
                "--format",
                "json",
                "--fail-on",
                "never",
                "--check",
                "mcp-inline-secrets",
            ])
            .arg(dir.join("evidence")));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(checks(dir.path())["results"][0]["status"], "pass");

    // A secret written into the file fails, named by server and variable.
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("repo/.cursor");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("mcp.json"),
        r#"{"mcpServers": {"github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
            "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_16C7e42F292c6912E7710c838347Ae178B4a"}}}}"#,
    )
    .unwrap();
    let (leaky, _) = ingest(&[tmp.path().join("repo")], &[]);
    let report = checks(leaky.path());
    let result = &report["results"][0];
    assert_eq!(result["status"], "fail", "{result:#}");
    assert!(result["subjects"][0]["id"]
        .as_str()
        .unwrap()
        .ends_with("/.cursor/mcp.json#env.GITHUB_PERSONAL_ACCESS_TOKEN"));
    let csv = std::fs::read_to_string(leaky.path().join("evidence/identities.csv")).unwrap();
    assert!(
        !csv.contains("ghp_16C7e42F"),
        "the secret never reaches the tables"
    );
}

/// GitHub audit log events: the real Azure Sentinel sample and OCSF's raw
/// examples, tokens deciding the credential.
#[test]
fn github_audit_events_are_classified_from_their_tokens() {
    let (dir, _) = ingest(
        &[
            samples().join("github-audit"),
            samples().join("identity-logs/github-audit"),
        ],
        &[],
    );
    let s = summary(dir.path());
    assert_eq!(s["rejected"], 0, "{s:#}");
    assert_eq!(s["by_source"]["github-audit"], s["normalised"]);
    let all = records(dir.path(), &["--source", "github-audit"]);
    let pats: Vec<&Value> = all
        .iter()
        .filter(|r| r["auth_method"] == "personal-access-token")
        .collect();
    assert!(!pats.is_empty());
    for pat in &pats {
        assert_eq!(pat["credential_type"], "static", "{pat:#}");
        assert!(pat["credential_reason"]
            .as_str()
            .unwrap()
            .contains("personal access token"));
    }
    let anonymous: Vec<&Value> = all
        .iter()
        .filter(|r| r["principal_type"] == "anonymous")
        .collect();
    assert_eq!(
        anonymous.len(),
        1,
        "the password reset made before signing in"
    );
    assert_eq!(anonymous[0]["action"], "user.forgot_password");
    let denied = all.iter().filter(|r| r["decision"] == "deny").count();
    assert!(denied >= 5, "failed logins are denials");
}

/// Okta System Log events, as Cribl (`_raw`) and Airbyte (`data`) deliver
/// them and as OCSF's examples hold them: API-token use is static and
/// makes the token owner's account a program.
#[test]
fn okta_system_log_events_show_api_token_use() {
    let (dir, _) = ingest(
        &[samples().join("okta"), samples().join("identity-logs/okta")],
        &[],
    );
    let s = summary(dir.path());
    assert!(
        s["by_source"]["okta-system-log"].as_u64().unwrap() > 100,
        "{s:#}"
    );
    // The only rejects are Airbyte's inventory streams (users, groups,
    // roles), which are not events.
    let rejected = std::fs::read_to_string(dir.path().join("evidence/rejected.csv")).unwrap();
    for line in rejected.lines().skip(1) {
        assert!(
            line.contains("expected_records.jsonl") && line.contains(", data"),
            "{line}"
        );
    }
    let all = records(dir.path(), &["--source", "okta-system-log"]);
    let token: Vec<&Value> = all
        .iter()
        .filter(|r| r["credential_id"] == "00T159py03CikoIKe5d7")
        .collect();
    assert_eq!(token.len(), 23, "the SSWS token's rate-limit violations");
    for r in &token {
        assert_eq!(r["credential_type"], "static");
        assert_eq!(r["principal_type"], "service");
        assert_eq!(r["principal_id"], "integration-test@daxtarity.com");
    }
    let cribl = all
        .iter()
        .find(|r| r["raw_ref"]["file"].as_str().unwrap().contains("cribl"))
        .unwrap();
    assert!(
        cribl["raw_ref"]["position"]
            .as_str()
            .unwrap()
            .ends_with(", _raw"),
        "{cribl:#}"
    );
}

/// `query --format json` over any folder it reads.
fn query_json(dir: &Path, filters: &[&str]) -> Vec<Value> {
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .arg("query")
        .arg(dir)
        .args(["--format", "json"])
        .args(filters));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_slice::<Vec<Value>>(&output.stdout).unwrap()
}

/// Records in a canonical order (time, then the raw record they cite).
fn canonical(mut rows: Vec<Value>) -> Vec<Value> {
    let key = |r: &Value| {
        format!(
            "{} {} {}",
            r["time"], r["raw_ref"]["file"], r["raw_ref"]["position"]
        )
    };
    rows.sort_by_key(key);
    rows
}

/// A state folder's partitions answer as the ingest folder does: the same
/// records for each filter (partitions outside the source or days asked for
/// are skipped by their path), and the package's evidence/ likewise.
#[test]
fn query_answers_the_same_from_a_state_folder_and_an_ingest_folder() {
    let inputs = [samples().join("cloudtrail"), samples().join("k8s-audit")];
    let (dir, _) = ingest(&inputs, &[]);
    let state = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .arg("ingest")
        .args(&inputs)
        .arg("--state")
        .arg(state.path()));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let all = query_json(&dir.path().join("evidence"), &[]);
    let first = all
        .iter()
        .map(|r| r["time"].as_str().unwrap())
        .min()
        .unwrap();
    let month = &first[..7];
    for filters in [
        &[][..],
        &["--decision", "deny"],
        &["--source", "k8s-audit"],
        &[
            "--source",
            "aws-cloudtrail",
            "--since",
            &format!("{month}-01"),
        ],
        &["--principal", "system:serviceaccount"],
        &["--limit", "3"],
    ] {
        let from_ingest = query_json(&dir.path().join("evidence"), filters);
        let from_state = query_json(state.path(), filters);
        assert!(!from_ingest.is_empty(), "{filters:?} found nothing");
        if filters.contains(&"--limit") {
            // The earliest three: the same times, whichever ties come first.
            let times = |rows: &[Value]| rows.iter().map(|r| r["time"].clone()).collect::<Vec<_>>();
            assert_eq!(times(&from_ingest), times(&from_state));
            assert_eq!(from_ingest.len(), 3);
        } else {
            assert_eq!(canonical(from_ingest), canonical(from_state), "{filters:?}");
        }
    }
    // An unknown source is refused with the list of sources.
    let output = run(proofpack(cache.path())
        .arg("query")
        .arg(state.path())
        .args(["--source", "cloudtrail"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("aws-cloudtrail"),
        "{}",
        stderr(&output)
    );
    // CSV: the evidence table's header and one line per record.
    let output = run(proofpack(cache.path())
        .arg("query")
        .arg(state.path())
        .args(["--format", "csv", "--decision", "deny"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let csv = stdout(&output);
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("time,source,event_id,principal_id"));
    let denied = query_json(state.path(), &["--decision", "deny"]).len();
    assert_eq!(lines.filter(|l| l.contains(",deny,")).count(), denied);
}
