//! OCSF events: API Activity (class 6003) and Authentication (class 3002),
//! whatever product produced them.
//!
//! Principal: `actor.user.uid` (else name, e-mail), or for Authentication
//! the `user` who signed in. Principal type from `user.type` /
//! `user.type_id`: `AWSService`, `Service`, `System` → service; `IAMUser`
//! with a credential outside a browser → service; `User`/`Admin` or a
//! browser user agent → human; `AssumedRole` → workload; else unknown.
//!
//! Credential type: `credential_uid` prefix `ASIA` → ephemeral, `AKIA` →
//! static; a session (`actor.session`) → ephemeral; else unknown.
//!
//! Decision: `status_id` 1 / `status` Success → allow; failures whose code
//! or detail says access was denied or unauthorised → deny; other failures →
//! error. Other OCSF classes are rejected with their class name: they are
//! not access records.

use crate::json::JsonRef;

use super::fields::{owned, text};
use super::Normalised;
use crate::model::{CredentialType, Decision, PrincipalType};
use crate::time::parse_time;

pub const SOURCE: &str = "ocsf";

pub fn detect<'a, J: JsonRef<'a>>(record: J) -> bool {
    record.get("class_uid").is_some_and(J::is_u64) && record.get("metadata").is_some()
}

pub fn normalise<'a, J: JsonRef<'a>>(record: J) -> Result<Normalised, String> {
    let class = record.get("class_uid").and_then(J::as_u64).unwrap_or(0);
    if class != 6003 && class != 3002 {
        let name = text(record, "/class_name").unwrap_or("unnamed");
        return Err(format!("OCSF class {class} ({name}) is not an access record; proofpack reads API Activity (6003) and Authentication (3002)"));
    }
    let time_value = record
        .get("time")
        .or_else(|| record.get("time_dt"))
        .ok_or("no time")?;
    let time_us = parse_time(time_value)
        .ok_or_else(|| format!("time {} is not a point in time", time_value.to_value()))?;

    // Authentication events name who signed in as `user`; API Activity as `actor.user`.
    let user_pointer = if class == 3002 && record.get("user").is_some() {
        "/user"
    } else {
        "/actor/user"
    };
    let user = record.pointer(user_pointer);
    let user_text = |pointer: &str| user.and_then(|u| text(u, pointer));
    // Kubernetes-origin events keep the username (`system:node:...`) as the
    // name and an authenticator id as the uid: the username is canonical.
    let k8s_name = user_text("/name")
        .map(str::to_string)
        .filter(|n| n.starts_with("system:"));
    let principal_id = k8s_name
        .clone()
        .or_else(|| {
            ["/uid", "/name", "/email_addr"]
                .iter()
                .find_map(|p| user_text(p).map(str::to_string))
        })
        .or_else(|| owned(record, "/actor/invoked_by"))
        .or_else(|| owned(record, "/actor/app_name"))
        .ok_or("no actor.user (uid, name or e-mail): the event names no caller")?;
    let user_type = user_text("/type").unwrap_or("");
    let user_agent = owned(record, "/http_request/user_agent");
    let browser = user_agent
        .as_deref()
        .is_some_and(|ua| ua.starts_with("Mozilla/"));
    let credential_id = user_text("/credential_uid")
        .map(str::to_string)
        .or_else(|| owned(record, "/actor/session/credential_uid"));
    let session = record
        .pointer("/actor/session")
        .is_some_and(|s| s.is_object() && s.len() > 0);

    let (principal_type, principal_reason) = match user_type {
        _ if principal_id.starts_with("system:serviceaccount:") => (
            PrincipalType::Workload,
            "Kubernetes service account".to_string(),
        ),
        _ if k8s_name.is_some() => (
            PrincipalType::Service,
            "Kubernetes system identity".to_string(),
        ),
        "AWSService" | "Service" | "System" => {
            (PrincipalType::Service, format!("user.type {user_type}"))
        }
        "AssumedRole" => (PrincipalType::Workload, "user.type AssumedRole".to_string()),
        _ if browser => (PrincipalType::Human, "browser user agent".to_string()),
        "IAMUser" if credential_id.is_some() => (
            PrincipalType::Service,
            "IAM user calling with an access key outside a browser".to_string(),
        ),
        "User" | "Admin" => (PrincipalType::Human, format!("user.type {user_type}")),
        _ if record.pointer("/actor/invoked_by").is_some() => {
            (PrincipalType::Service, "actor.invoked_by".to_string())
        }
        _ => (
            PrincipalType::Unknown,
            format!(
                "user.type {}",
                if user_type.is_empty() {
                    "(none)"
                } else {
                    user_type
                }
            ),
        ),
    };
    let (credential_type, credential_reason, auth_method) = match credential_id.as_deref() {
        Some(k) if k.starts_with("ASIA") => (
            CredentialType::Ephemeral,
            "credential_uid starts with ASIA: temporary STS credentials",
            "sts-session",
        ),
        Some(k) if k.starts_with("AKIA") => (
            CredentialType::Static,
            "credential_uid starts with AKIA: long-term IAM access key",
            "access-key",
        ),
        _ if session => (
            CredentialType::Ephemeral,
            "actor.session: a session credential",
            "session",
        ),
        _ => (
            CredentialType::Unknown,
            "the event names no credential",
            "unknown",
        ),
    };

    let status = text(record, "/status").unwrap_or("");
    let success = record.get("status_id").and_then(J::as_u64) == Some(1)
        || status.eq_ignore_ascii_case("success");
    let detail = [text(record, "/status_code"), text(record, "/status_detail")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(": ");
    let has_status = !status.is_empty()
        || record
            .get("status_id")
            .and_then(J::as_u64)
            .is_some_and(|id| id != 0);
    let (decision, decision_reason) = if success {
        (Decision::Allow, None)
    } else if !has_status {
        // OCSF status 0 / absent is "Unknown": say so rather than guess.
        (
            Decision::Error,
            Some("the event carries no status: its outcome is unknown".to_string()),
        )
    } else {
        let lower = detail.to_ascii_lowercase();
        let denied = lower.contains("denied")
            || lower.contains("unauthorized")
            || lower.contains("forbidden")
            || class == 3002;
        (
            if denied {
                Decision::Deny
            } else {
                Decision::Error
            },
            Some(if detail.is_empty() {
                status.to_string()
            } else {
                detail
            }),
        )
    };
    let service =
        text(record, "/api/service/name").map(|s| s.strip_suffix(".amazonaws.com").unwrap_or(s));
    let operation = text(record, "/api/operation")
        .or_else(|| text(record, "/activity_name"))
        .unwrap_or("unknown");
    let resources: Vec<String> = record
        .get("resources")
        .and_then(J::as_array)
        .map(|list| {
            list.filter_map(|r| owned(r, "/uid").or_else(|| owned(r, "/name")))
                .collect()
        })
        .unwrap_or_default();
    Ok(Normalised {
        time_us,
        event_id: owned(record, "/metadata/uid"),
        principal_id,
        principal_type,
        principal_reason,
        session_name: owned(record, "/actor/session/uid"),
        credential_id,
        credential_type,
        credential_reason: credential_reason.to_string(),
        auth_method: if class == 3002 {
            owned(record, "/auth_protocol").unwrap_or_else(|| auth_method.to_string())
        } else {
            auth_method.to_string()
        },
        action: match service {
            Some(s) => format!("{s}:{operation}"),
            None => operation.to_string(),
        },
        resource: if resources.is_empty() {
            owned(record, "/dst_endpoint/svc_name")
        } else {
            Some(resources.join(" "))
        },
        decision,
        decision_reason,
        source_address: owned(record, "/src_endpoint/ip"),
        user_agent,
        account: owned(record, "/cloud/account/uid")
            .or_else(|| user_text("/account/uid").map(str::to_string)),
        environment: owned(record, "/cloud/region"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn api_activity_with_a_long_term_key() {
        let e = json!({"class_uid": 6003, "metadata": {"uid": "m"}, "time": 1695334972000i64, "status": "Success",
            "actor": {"user": {"uid": "arn:aws:iam::1:user/Level6", "type": "IAMUser", "credential_uid": "AKIA3Z2XBVEXAMPLE"}},
            "api": {"operation": "DescribeDirectConnectGateways", "service": {"name": "directconnect.amazonaws.com"}},
            "http_request": {"user_agent": "Boto3/1.15.2"}});
        let n = normalise(&e).unwrap();
        assert_eq!(n.credential_type, CredentialType::Static);
        assert_eq!(n.principal_type, PrincipalType::Service);
        assert_eq!(n.action, "directconnect:DescribeDirectConnectGateways");
        assert_eq!(n.time_us, 1_695_334_972_000_000);
    }

    #[test]
    fn other_classes_are_refused_by_name() {
        let e = json!({"class_uid": 3001, "class_name": "Account Change", "metadata": {}});
        assert!(normalise(&e).unwrap_err().contains("Account Change"));
    }
}
