//! Azure Activity Log (control-plane operations through Azure Resource
//! Manager), as the REST API and diagnostic settings export it (camelCase)
//! and as the Python SDK serialises it (snake_case).
//!
//! Principal: `caller` (a UPN for people, an object or app id for
//! applications). Principal type: `claims.idtyp` `app` or a GUID caller →
//! workload; a caller with `@` → human. Credential type from the token
//! claims: `xms_mirid` (a managed identity's resource id) → ephemeral;
//! `appidacr` 1 (client secret) or 2 (certificate) → static; otherwise
//! unknown. Decision: `Failed` with a `Forbidden`/`Unauthorized` sub-status
//! → deny; other failures → error; `Started`, `Accepted`, `Succeeded` →
//! allow (ARM authorises a request before it starts).

use crate::json::JsonRef;

use super::fields::text;
use super::Normalised;
use crate::model::{CredentialType, Decision, PrincipalType};
use crate::time::parse_time;

pub const SOURCE: &str = "azure-activity";

/// A field under either spelling, as a string or as `{"value": ...}`.
fn field<'a, J: JsonRef<'a>>(record: J, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|name| {
            let value = record.get(name)?;
            value
                .as_str()
                .or_else(|| value.get("value").and_then(J::as_str))
        })
        .filter(|s| !s.is_empty())
}

pub fn detect<'a, J: JsonRef<'a>>(record: J) -> bool {
    record.get("caller").is_some()
        && (field(record, &["operation_name", "operationName"]).is_some())
        && (record.get("resource_id").is_some() || record.get("resourceId").is_some())
}

pub fn normalise<'a, J: JsonRef<'a>>(record: J) -> Result<Normalised, String> {
    let time_value = ["event_timestamp", "eventTimestamp", "time"]
        .iter()
        .find_map(|k| record.get(k))
        .ok_or("no eventTimestamp")?;
    let time_us = parse_time(time_value).ok_or_else(|| {
        format!(
            "eventTimestamp {} is not a date-time with a time zone",
            time_value.to_value()
        )
    })?;
    let caller = field(record, &["caller"]).ok_or("no caller: the operation names no identity")?;
    let claims = |pointer: &str| record.get("claims").and_then(|c| text(c, pointer));
    let app = claims("/idtyp") == Some("app") || looks_like_guid(caller);
    let managed = claims("/xms_mirid").is_some();
    let (principal_type, principal_reason) = if managed {
        (
            PrincipalType::Workload,
            "managed identity (claims.xms_mirid)".to_string(),
        )
    } else if app {
        (
            PrincipalType::Workload,
            "application identity (claims.idtyp app or an id as caller)".to_string(),
        )
    } else if caller.contains('@') {
        (PrincipalType::Human, "a user principal name".to_string())
    } else {
        (
            PrincipalType::Unknown,
            "caller is neither an application nor a user name".to_string(),
        )
    };
    let (credential_type, credential_reason, auth_method) = if managed {
        (
            CredentialType::Ephemeral,
            "managed identity token: Azure issues and rotates it".to_string(),
            "managedIdentity",
        )
    } else {
        match claims("/appidacr") {
            Some("1") => (
                CredentialType::Static,
                "claims.appidacr 1: the client authenticated with a client secret".to_string(),
                "clientSecret",
            ),
            Some("2") if app => (
                CredentialType::Static,
                "claims.appidacr 2: the client authenticated with a certificate".to_string(),
                "certificate",
            ),
            _ => (
                CredentialType::Unknown,
                "the token claims do not say how the caller authenticated".to_string(),
                "unknown",
            ),
        }
    };
    let status = field(record, &["status"]).unwrap_or("");
    let sub_status = field(record, &["sub_status", "subStatus"]).unwrap_or("");
    let decision = match status {
        "Failed" if matches!(sub_status, "Forbidden" | "Unauthorized") => Decision::Deny,
        "Failed" => Decision::Error,
        _ => Decision::Allow,
    };
    let decision_reason = [status, sub_status]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(": ");
    let resource = field(record, &["resource_id", "resourceId"]).map(str::to_string);
    let subscription = resource
        .as_deref()
        .and_then(|r| r.strip_prefix("/subscriptions/"))
        .and_then(|r| r.split('/').next())
        .map(str::to_string);
    Ok(Normalised {
        time_us,
        event_id: field(record, &["event_data_id", "eventDataId"]).map(str::to_string),
        principal_id: caller.to_string(),
        principal_type,
        principal_reason,
        session_name: None,
        credential_id: None,
        credential_type,
        credential_reason,
        auth_method: auth_method.to_string(),
        action: field(record, &["operation_name", "operationName"])
            .unwrap_or("unknown")
            .to_string(),
        resource,
        decision,
        decision_reason: (!decision_reason.is_empty()).then_some(decision_reason),
        source_address: record
            .pointer("/http_request/client_ip_address")
            .or_else(|| record.pointer("/httpRequest/clientIpAddress"))
            .and_then(J::as_str)
            .map(str::to_string),
        user_agent: None,
        account: subscription,
        environment: None,
    })
}

fn looks_like_guid(text: &str) -> bool {
    text.len() == 36
        && text.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_alphanumeric()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn op(caller: &str, claims: Value, status: &str, sub: &str) -> Value {
        json!({"caller": caller, "claims": claims, "eventTimestamp": "2022-02-09T03:04:54.297853Z",
               "operationName": {"value": "Microsoft.Compute/disks/delete"}, "status": {"value": status}, "subStatus": {"value": sub},
               "resourceId": "/subscriptions/s1/resourceGroups/g/providers/Microsoft.Compute/disks/d"})
    }

    #[test]
    fn apps_with_certificates_are_static_workloads() {
        let n = normalise(&op(
            "12345678-9abc-defg-hijk-lmnopqrstuvw",
            json!({"idtyp": "app", "appidacr": "2"}),
            "Started",
            "",
        ))
        .unwrap();
        assert_eq!(n.principal_type, PrincipalType::Workload);
        assert_eq!(n.credential_type, CredentialType::Static);
        assert_eq!(n.account.as_deref(), Some("s1"));
        assert_eq!(n.decision, Decision::Allow);
    }

    #[test]
    fn forbidden_failures_are_denials() {
        let n = normalise(&op("jane@example.com", json!({}), "Failed", "Forbidden")).unwrap();
        assert_eq!(n.decision, Decision::Deny);
        assert_eq!(n.principal_type, PrincipalType::Human);
        assert_eq!(n.decision_reason.as_deref(), Some("Failed: Forbidden"));
    }
}
