//! The identity evidence teams export: Entra directory audits and person
//! sign-ins (real samples in `tests/fixtures/identity-real`), Bedrock model
//! invocations, Anthropic activity and SIEM data-lake rows (built from the
//! vendors' documentation, see that folder's SOURCES.md).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::ingest::{ingest, records, summary};
use crate::util::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/identity-real")
}

fn write_lines(dir: &Path, name: &str, rows: &[Value]) -> PathBuf {
    let path = dir.join(name);
    let text: Vec<String> = rows.iter().map(Value::to_string).collect();
    std::fs::write(&path, text.join("\n")).unwrap();
    path
}

fn by_action<'a>(all: &'a [Value], action: &str) -> Vec<&'a Value> {
    all.iter().filter(|r| r["action"] == action).collect()
}

#[test]
fn entra_audits_and_person_sign_ins_are_read_and_credentials_added_become_identities() {
    let (dir, _) = ingest(&[fixtures().join("entra")], &[]);
    let s = summary(dir.path());
    assert_eq!(s["reconciled"], true, "{s:#}");
    assert_eq!(s["rejected"], 0, "{s:#}");
    assert_eq!(s["normalised"], 5, "{s:#}");
    let all = records(dir.path(), &[]);

    let added = by_action(&all, "Add service principal credentials");
    assert_eq!(added.len(), 1);
    let added = added[0];
    assert_eq!(added["source"], "entra-audit");
    assert_eq!(
        added["principal_id"],
        "b9814691-9ca1-4e55-a1ac-8ef5dd010ec0"
    );
    assert_eq!(added["principal_type"], "workload");
    assert_eq!(added["decision"], "allow");
    assert_eq!(
        added["resource"],
        "ServicePrincipal/billing-test-wus (a7d5dcbe-0627-4ddf-a2f4-86b6785bcc42)"
    );
    assert_eq!(added["account"], "4bbb79f7-5724-4c9e-95f3-de075f6ec090");

    // The key the audit shows added: a static certificate of the service
    // principal, created when the audit says.
    let identities = csv_records(&dir.path().join("evidence/identities.csv"));
    let key = identities
        .iter()
        .find(|r| {
            r["id"] == "a7d5dcbe-0627-4ddf-a2f4-86b6785bcc42#d747da7e-e11b-4af2-aede-0487c44067af"
        })
        .unwrap_or_else(|| panic!("no added key in {identities:#?}"));
    assert_eq!(key["kind"], "certificate");
    assert_eq!(key["credential_type"], "static");
    assert_eq!(key["owner_id"], "a7d5dcbe-0627-4ddf-a2f4-86b6785bcc42");
    assert_eq!(key["origin"], "log");
    assert!(
        key["created"].contains("2022-01-22") && key["created"].contains("18:15:02"),
        "{key:?}"
    );
    // The two keys present before and after are not new.
    assert_eq!(
        identities
            .iter()
            .filter(|r| r["kind"] == "certificate")
            .count(),
        1
    );

    let people: Vec<&Value> = all
        .iter()
        .filter(|r| r["source"] == "entra-signin")
        .collect();
    assert_eq!(people.len(), 2);
    for person in people {
        assert_eq!(person["principal_type"], "human");
        assert_eq!(person["principal_id"], "mpliftrelastic20210901@outlook.com");
        assert_eq!(person["resource"], "Azure Portal");
        assert_eq!(person["credential_type"], "unknown");
    }
}

/// Built from Microsoft's audit activity reference: a consent by a person
/// to another tenant's app with an admin scope, and an app role given to a
/// client service principal.
#[test]
fn consents_and_app_role_assignments_become_grants_and_third_party_apps() {
    let tmp = tempfile::tempdir().unwrap();
    let base = |op: &str, initiated: Value, targets: Value, details: Value| {
        json!({"time": "2026-10-01T09:00:00Z", "category": "AuditLogs", "tenantId": "tenant-a",
            "operationName": op, "resourceId": "/tenants/tenant-a/providers/Microsoft.aadiam",
            "properties": {"id": format!("Directory_{op}"), "activityDisplayName": op, "result": "success",
                "activityDateTime": "2026-10-01T09:00:00Z", "initiatedBy": initiated,
                "targetResources": targets, "additionalDetails": details}})
    };
    let consent = base(
        "Consent to application",
        json!({"user": {"userPrincipalName": "ana@contoso.com", "ipAddress": "198.51.100.7"}}),
        json!([{"id": "sp-vendor", "displayName": "Vendor Sync", "type": "ServicePrincipal", "modifiedProperties": [
            {"displayName": "ConsentContext.IsAdminConsent", "oldValue": null, "newValue": "\"True\""},
            {"displayName": "ConsentAction.Permissions", "oldValue": null,
             "newValue": "\"[] => [[Id: g1, ClientId: sp-vendor, PrincipalId: , ResourceId: graph, ConsentType: AllPrincipals, Scope:  Directory.ReadWrite.All User.Read, CreatedDateTime: , LastModifiedDateTime: ]]; \""}]}]),
        json!([{"key": "AppOwnerOrganizationId", "value": "tenant-vendor"}]),
    );
    let role = base(
        "Add app role assignment to service principal",
        json!({"user": {"userPrincipalName": "ops@contoso.com"}}),
        json!([{"id": "graph-sp", "displayName": "Microsoft Graph", "type": "ServicePrincipal", "modifiedProperties": [
            {"displayName": "AppRole.Value", "oldValue": null, "newValue": "\"Mail.Read\""},
            {"displayName": "ServicePrincipal.ObjectID", "oldValue": null, "newValue": "\"sp-mailer\""}]}]),
        json!([]),
    );
    let path = write_lines(tmp.path(), "entra-audit.json", &[consent, role]);
    let (dir, _) = ingest(&[path], &[]);
    let s = summary(dir.path());
    assert_eq!(s["rejected"], 0, "{s:#}");
    let identities = csv_records(&dir.path().join("evidence/identities.csv"));
    let app = identities.iter().find(|r| r["id"] == "sp-vendor").unwrap();
    assert_eq!(app["ownership"], "third-party");
    assert_eq!(app["vendor"], "Entra tenant tenant-vendor");
    let grants = csv_records(&dir.path().join("evidence/grants.csv"));
    let consented = grants
        .iter()
        .find(|g| g["principal"] == "sp-vendor")
        .unwrap();
    assert_eq!(consented["actions"], "Directory.ReadWrite.All User.Read");
    assert_eq!(consented["admin"], "true");
    let mailer = grants
        .iter()
        .find(|g| g["principal"] == "sp-mailer")
        .unwrap();
    assert_eq!(mailer["actions"], "Mail.Read");
    assert_eq!(mailer["resources"], "Microsoft Graph");
}

/// Bedrock invocation records as AWS documents them, and Anthropic
/// Compliance API activities as Anthropic documents them.
#[test]
fn ai_platform_logs_name_the_role_agent_or_key_and_never_copy_content() {
    let tmp = tempfile::tempdir().unwrap();
    let invocation = |arn: &str, id: &str| {
        json!({"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": "2026-10-02T10:00:00Z",
            "accountId": "123456789012", "region": "us-east-1", "requestId": id, "operation": "InvokeModel",
            "modelId": "anthropic.claude-3-haiku-20240307-v1:0", "identity": {"arn": arn},
            "input": {"inputContentType": "application/json", "inputBodyJson": {"prompt": "the quarterly numbers are 4711"}, "inputTokenCount": 9},
            "output": {"outputContentType": "application/json", "outputBodyJson": {"completion": "confidential reply 0815"}, "outputTokenCount": 5}})
    };
    let bedrock = write_lines(
        tmp.path(),
        "bedrock.jsonl",
        &[
            invocation("arn:aws:sts::123456789012:assumed-role/orders-api/i-01", "r1"),
            invocation(
                "arn:aws:sts::123456789012:assumed-role/AmazonBedrockExecutionRoleForAgents_K2ABCD/agent-session",
                "r2",
            ),
        ],
    );
    let activity = |kind: &str, actor: Value| {
        json!({"id": format!("activity_01{kind}"), "created_at": "2026-10-02T11:00:00Z", "type": kind,
            "organization_id": "org_01acme", "actor": actor})
    };
    let anthropic = write_lines(
        tmp.path(),
        "anthropic.jsonl",
        &[
            activity(
                "compliance_api_accessed",
                json!({"type": "api_actor", "api_key_id": "apikey_01ci", "ip_address": "203.0.113.9", "user_agent": "python-httpx/0.27"}),
            ),
            activity(
                "sso_login_succeeded",
                json!({"type": "user_actor", "email_address": "ana@acme.example", "user_id": "user_01ana"}),
            ),
        ],
    );
    let (dir, _) = ingest(&[bedrock, anthropic], &[]);
    let s = summary(dir.path());
    assert_eq!(s["rejected"], 0, "{s:#}");
    let all = records(dir.path(), &[]);
    let r1 = all.iter().find(|r| r["event_id"] == "r1").unwrap();
    assert_eq!(r1["source"], "bedrock-invocation");
    assert_eq!(
        r1["principal_id"],
        "arn:aws:iam::123456789012:role/orders-api"
    );
    assert_eq!(r1["principal_type"], "workload");
    assert_eq!(r1["credential_type"], "ephemeral");
    assert_eq!(r1["resource"], "anthropic.claude-3-haiku-20240307-v1:0");
    let r2 = all.iter().find(|r| r["event_id"] == "r2").unwrap();
    assert_eq!(r2["principal_type"], "agent");
    let key = all
        .iter()
        .find(|r| r["principal_id"] == "apikey_01ci")
        .unwrap();
    assert_eq!(key["source"], "anthropic-audit");
    assert_eq!(key["credential_type"], "static");
    assert_eq!(key["principal_type"], "workload");
    let person = all
        .iter()
        .find(|r| r["principal_id"] == "ana@acme.example")
        .unwrap();
    assert_eq!(person["principal_type"], "human");
    // No table holds the prompt or the completion.
    for entry in walkdir::WalkDir::new(dir.path()).into_iter().flatten() {
        if entry.file_type().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            for content in ["4711", "0815", "quarterly", "confidential"] {
                assert!(
                    !text.contains(content),
                    "{content} in {}",
                    entry.path().display()
                );
            }
        }
    }
}

/// Okta events as Panther stores them (lower-cased keys, the lake's
/// metadata, times without a zone): rejected with the option named, then
/// read with it.
#[test]
fn siem_rows_are_refused_without_a_zone_and_read_when_declared_utc() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = [
        json!({"eventtype": "user.session.start", "version": "0", "severity": "INFO",
            "displaymessage": "User login to Okta",
            "actor": {"alternateId": "homer@springfield.gov", "displayName": "Homer Simpson", "id": "00u1", "type": "User"},
            "client": {"ipAddress": "1.1.1.1", "userAgent": {"rawUserAgent": "Mozilla/5.0"}},
            "outcome": {"result": "FAILURE", "reason": "VERIFICATION_ERROR"},
            "authenticationcontext": {"authenticationStep": 0, "externalSessionId": "1111111"},
            "p_log_type": "Okta.SystemLog", "p_event_time": "2021-06-04 09:59:53.650807",
            "p_parse_time": "2021-06-04 10:02:33.650807", "p_row_id": "a1b2"}),
        json!({"published": "2022-12-10 23:33:04.667000000", "eventType": "system.api_token.create",
            "actor": {"alternateId": "admin@springfield.gov", "id": "00u2", "type": "User"},
            "outcome": {"result": "SUCCESS"},
            "debugcontext": {"debugData": {"requestUri": "/api/v1/tokens"}},
            "p_log_type": "Okta.SystemLog", "p_event_time": "2022-12-10 23:33:04.667000000"}),
    ];
    let path = write_lines(tmp.path(), "panther-okta.jsonl", &rows);
    let (dir, _) = ingest(std::slice::from_ref(&path), &[]);
    let s = summary(dir.path());
    assert_eq!(s["rejected"], 2, "{s:#}");
    let rejected = csv_records(&dir.path().join("evidence/rejected.csv"));
    assert!(
        rejected
            .iter()
            .all(|r| r["reason"].contains("--naive-times utc")),
        "{rejected:#?}"
    );
    let (dir, _) = ingest(&[path], &["--naive-times", "utc"]);
    let s = summary(dir.path());
    assert_eq!(s["rejected"], 0, "{s:#}");
    let all = records(dir.path(), &[]);
    let login = all
        .iter()
        .find(|r| r["action"] == "user.session.start")
        .unwrap();
    assert_eq!(login["source"], "okta-system-log");
    assert_eq!(login["decision"], "deny");
    assert_eq!(login["time"], "2021-06-04T09:59:53.650807Z");
    let token = all
        .iter()
        .find(|r| r["action"] == "system.api_token.create")
        .unwrap();
    assert_eq!(token["time"], "2022-12-10T23:33:04.667000Z");
}
