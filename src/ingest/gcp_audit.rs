//! Google Cloud Audit Logs (`protoPayload` of type `AuditLog`), including
//! GKE's Kubernetes audit entries as Cloud Logging exports them.
//!
//! Credential type: `authenticationInfo.serviceAccountKeyName` → static (a
//! user-managed service-account key); a `serviceAccountDelegationInfo` chain
//! → ephemeral (short-lived tokens minted by impersonation); a workload
//! identity federation principal (`principal://...workloadIdentityPools...`)
//! → ephemeral; any other service account → ephemeral (Google-managed
//! OAuth tokens of an attached account); a person's account → unknown (the
//! log does not say how they signed in).
//!
//! Principal type: `*.gserviceaccount.com`, `serviceAccount:` subjects and
//! Kubernetes service accounts → workload; `system:` Kubernetes identities →
//! service; federated workload principals → workload; e-mail addresses →
//! human. A service account calling a Vertex AI model or Agent Engine
//! (`GenerateContent`, `BidiGenerateContent`, `Predict`,
//! `QueryReasoningEngine`, ...) and Agent Engine's service agent
//! (`gcp-sa-aiplatform-re`) → agent. Decision: `status.code` 0 or absent → allow, 7
//! (PERMISSION_DENIED) and 16 (UNAUTHENTICATED) → deny, others → error.

use crate::json::JsonRef;

use super::fields::{owned, text};
use super::Normalised;
use crate::model::{CredentialType, Decision, PrincipalType};
use crate::time::parse_time;

pub const SOURCE: &str = "gcp-audit";

/// A Cloud Logging entry (audit or not: a non-audit entry is rejected with
/// its reason rather than left unrecognised).
pub fn detect<'a, J: JsonRef<'a>>(record: J) -> bool {
    let audit = text(record, "/protoPayload/@type")
        .is_some_and(|t| t.ends_with("google.cloud.audit.AuditLog"));
    audit || record.get("logName").is_some() && record.get("insertId").is_some()
}

pub fn normalise<'a, J: JsonRef<'a>>(record: J) -> Result<Normalised, String> {
    let Some(payload) = record.get("protoPayload").filter(|p| p.is_object()) else {
        let kind = ["jsonPayload", "textPayload"]
            .into_iter()
            .find(|k| record.get(k).is_some())
            .unwrap_or("no payload");
        return Err(format!(
            "a Cloud Logging entry that is not an audit log ({kind}): it records no caller"
        ));
    };
    let time_value = record
        .get("timestamp")
        .or_else(|| payload.pointer("/requestMetadata/requestAttributes/time"))
        .or_else(|| record.get("receiveTimestamp"))
        .ok_or("no timestamp")?;
    let time_us = parse_time(time_value).ok_or_else(|| {
        format!(
            "timestamp {} is not a date-time with a time zone",
            time_value.to_value()
        )
    })?;
    let subject = text(payload, "/authenticationInfo/principalSubject");
    let email = text(payload, "/authenticationInfo/principalEmail");
    let principal_id = email
        .map(str::to_string)
        .or_else(|| subject.map(str::to_string))
        .ok_or(
            "no authenticationInfo.principalEmail or principalSubject: the entry names no caller",
        )?;
    let method = text(payload, "/methodName").ok_or("no methodName")?;
    let service = text(payload, "/serviceName").unwrap_or("");

    let key = owned(payload, "/authenticationInfo/serviceAccountKeyName");
    let delegation: Vec<&str> = payload
        .pointer("/authenticationInfo/serviceAccountDelegationInfo")
        .and_then(J::as_array)
        .map(|chain| {
            chain
                .filter_map(|d| {
                    d.pointer("/firstPartyPrincipal/principalEmail")
                        .or_else(|| d.pointer("/thirdPartyPrincipal/thirdPartyClaims/sub"))
                        .and_then(J::as_str)
                })
                .collect()
        })
        .unwrap_or_default();
    let federated = subject
        .is_some_and(|s| s.contains("workloadIdentityPools") || s.starts_with("principal://"));
    let is_service_account = principal_id.ends_with(".gserviceaccount.com")
        || subject.is_some_and(|s| s.starts_with("serviceAccount:"));

    // Google's own service agents (documented in mappings/platform-identities.toml).
    let platform = super::platform::lookup(&principal_id);
    let (principal_type, principal_reason) = if principal_id.starts_with("system:serviceaccount:") {
        (
            PrincipalType::Workload,
            "Kubernetes service account (GKE)".to_string(),
        )
    } else if principal_id.starts_with("system:") {
        (
            PrincipalType::Service,
            "Kubernetes system identity (GKE)".to_string(),
        )
    } else if federated {
        (
            PrincipalType::Workload,
            "workload identity federation principal".to_string(),
        )
    } else if let Some(agent) = platform.filter(|_| is_service_account) {
        (PrincipalType::Service, agent.reason())
    } else if is_service_account {
        (
            PrincipalType::Workload,
            "Google service account".to_string(),
        )
    } else if principal_id.contains('@') {
        (
            PrincipalType::Human,
            "a person's Google or Workspace account".to_string(),
        )
    } else {
        (
            PrincipalType::Unknown,
            "principal is neither a service account nor an e-mail".to_string(),
        )
    };

    // A service account serving a model or an agent is an AI application.
    let (principal_type, principal_reason) = match vertex_agent(service, method, &principal_id) {
        Some(why) if principal_type == PrincipalType::Workload || platform.is_some() => (
            PrincipalType::Agent,
            format!("{why}; the identity alone says workload: {principal_reason}"),
        ),
        _ => (principal_type, principal_reason),
    };

    let (credential_type, credential_reason, auth_method) = if let Some(k) = &key {
        let _ = k;
        (
            CredentialType::Static,
            "authenticationInfo.serviceAccountKeyName: a user-managed service-account key"
                .to_string(),
            "service-account-key",
        )
    } else if !delegation.is_empty() {
        (
            CredentialType::Ephemeral,
            format!(
                "serviceAccountDelegationInfo: short-lived token by impersonation through {}",
                delegation.join(" → ")
            ),
            "impersonation",
        )
    } else if federated {
        (
            CredentialType::Ephemeral,
            "workload identity federation: a short-lived federated token".to_string(),
            "workload-identity",
        )
    } else if is_service_account || principal_id.starts_with("system:serviceaccount:") {
        (
            CredentialType::Ephemeral,
            "service account without a user-managed key: Google-issued short-lived OAuth token"
                .to_string(),
            "attached-service-account",
        )
    } else {
        (
            CredentialType::Unknown,
            "the entry does not say how this principal authenticated".to_string(),
            "unknown",
        )
    };

    let code = payload
        .pointer("/status/code")
        .and_then(J::as_i64)
        .unwrap_or(0);
    let message = text(payload, "/status/message");
    let decision = match code {
        0 => Decision::Allow,
        7 | 16 => Decision::Deny,
        _ => Decision::Error,
    };
    let decision_reason = (code != 0).then(|| match message {
        Some(m) => format!("status {code}: {m}"),
        None => format!("status {code}"),
    });
    let short_service = service.strip_suffix(".googleapis.com").unwrap_or(service);
    Ok(Normalised {
        time_us,
        event_id: owned(record, "/insertId"),
        principal_id,
        principal_type,
        principal_reason,
        session_name: None,
        credential_id: key,
        credential_type,
        credential_reason,
        auth_method: auth_method.to_string(),
        action: if short_service.is_empty() {
            method.to_string()
        } else {
            format!("{short_service}:{method}")
        },
        resource: owned(payload, "/resourceName"),
        decision,
        decision_reason,
        source_address: owned(payload, "/requestMetadata/callerIp"),
        user_agent: owned(payload, "/requestMetadata/callerSuppliedUserAgent"),
        account: owned(record, "/resource/labels/project_id"),
        environment: owned(record, "/resource/labels/location")
            .or_else(|| owned(record, "/resource/labels/cluster_name")),
    })
}

/// The platform named for Vertex AI's agents and model callers.
pub const VERTEX_PLATFORM: &str = "Google Vertex AI";

/// Why a Vertex AI call marks its caller as an agent: Agent Engine's own
/// service agent, or a call that runs an agent or a generative model.
fn vertex_agent(service: &str, method: &str, principal: &str) -> Option<String> {
    if principal.contains("@gcp-sa-aiplatform-re.") {
        return Some("Vertex AI Agent Engine's service agent (gcp-sa-aiplatform-re)".into());
    }
    if service != "aiplatform.googleapis.com" {
        return None;
    }
    let call = method.rsplit('.').next().unwrap_or(method);
    const AGENT_CALLS: [&str; 8] = [
        "QueryReasoningEngine",
        "StreamQueryReasoningEngine",
        "GenerateContent",
        "StreamGenerateContent",
        "BidiGenerateContent",
        "Predict",
        "RawPredict",
        "StreamRawPredict",
    ];
    AGENT_CALLS
        .contains(&call)
        .then(|| format!("a non-human caller of Vertex AI {call} (a model or agent run)"))
}

/// A Vertex AI agent, as an identity of its platform.
pub fn observe<'a, J: JsonRef<'a>>(_record: J, access: &Normalised) -> super::observed::Observed {
    let mut seen = super::observed::Observed::default();
    if access.principal_type == PrincipalType::Agent
        && access.principal_reason.contains("Vertex AI")
    {
        seen.identities.push(crate::model::Identity {
            id: access.principal_id.clone(),
            kind: "agent".into(),
            provider: "gcp",
            environment: access.account.clone(),
            last_used_us: Some(access.time_us),
            active: true,
            credential_type: access.credential_type,
            credential_reason: access.credential_reason.clone(),
            details: access
                .credential_id
                .as_ref()
                .map(|k| format!("key={k}"))
                .unwrap_or_default(),
            agent_platform: Some(VERTEX_PLATFORM.into()),
            ..Default::default()
        });
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// Google's service agents, as its service-agents page names them:
    /// Google's machinery, not the customer's workload.
    #[test]
    fn service_agents_are_googles_services() {
        let n = normalise(&entry(
            json!({"principalEmail": "service-123@container-engine-robot.iam.gserviceaccount.com"}),
            json!({}),
        ))
        .unwrap();
        assert_eq!(n.principal_type, PrincipalType::Service);
        assert!(n
            .principal_reason
            .contains("https://cloud.google.com/iam/docs/service-agents"));
        let n = normalise(&entry(
            json!({"principalEmail": "ci@p.iam.gserviceaccount.com"}),
            json!({}),
        ))
        .unwrap();
        assert_eq!(n.principal_type, PrincipalType::Workload);
    }

    fn entry(auth: Value, status: Value) -> Value {
        json!({"insertId": "i", "logName": "projects/p/logs/cloudaudit.googleapis.com%2Factivity", "timestamp": "2024-12-03T17:58:44.882119699Z",
               "resource": {"labels": {"project_id": "p"}},
               "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog", "authenticationInfo": auth, "status": status,
                                "serviceName": "iam.googleapis.com", "methodName": "google.iam.admin.v1.CreateServiceAccount", "resourceName": "projects/p"}})
    }

    #[test]
    fn keys_are_static_and_impersonation_is_ephemeral() {
        let n = normalise(&entry(json!({"principalEmail": "ci@p.iam.gserviceaccount.com", "serviceAccountKeyName": "//iam.googleapis.com/projects/p/serviceAccounts/ci@p.iam.gserviceaccount.com/keys/abc"}), json!({}))).unwrap();
        assert_eq!(n.credential_type, CredentialType::Static);
        assert_eq!(n.principal_type, PrincipalType::Workload);
        let n = normalise(&entry(json!({"principalEmail": "a@p.iam.gserviceaccount.com", "serviceAccountDelegationInfo": [{"firstPartyPrincipal": {"principalEmail": "b@p.iam.gserviceaccount.com"}}]}), json!({}))).unwrap();
        assert_eq!(n.credential_type, CredentialType::Ephemeral);
        assert!(n.credential_reason.contains("b@p.iam.gserviceaccount.com"));
    }

    #[test]
    fn service_accounts_calling_vertex_models_are_agents_and_people_are_not() {
        let call = |email: &str, method: &str| {
            let mut e = entry(json!({"principalEmail": email}), json!({}));
            e["protoPayload"]["serviceName"] = json!("aiplatform.googleapis.com");
            e["protoPayload"]["methodName"] = json!(method);
            normalise(&e).unwrap()
        };
        let sa = "live-app@p.iam.gserviceaccount.com";
        let n = call(
            sa,
            "google.cloud.aiplatform.v1.LlmBidiService.BidiGenerateContent",
        );
        assert_eq!(
            n.principal_type,
            PrincipalType::Agent,
            "{}",
            n.principal_reason
        );
        let seen = observe(&entry(json!({}), json!({})), &n);
        assert_eq!(
            seen.identities[0].agent_platform.as_deref(),
            Some(VERTEX_PLATFORM)
        );
        let n = call(sa, "google.cloud.aiplatform.v1.DatasetService.ListDatasets");
        assert_eq!(n.principal_type, PrincipalType::Workload);
        let n = call(
            "ana@example.com",
            "google.cloud.aiplatform.internal.PredictionService.CountTokens",
        );
        assert_eq!(n.principal_type, PrincipalType::Human);
        let n = call(
            "ana@example.com",
            "google.cloud.aiplatform.v1.PredictionService.GenerateContent",
        );
        assert_eq!(n.principal_type, PrincipalType::Human);
        let n = call(
            "service-1@gcp-sa-aiplatform-re.iam.gserviceaccount.com",
            "google.cloud.aiplatform.v1.ReasoningEngineExecutionService.QueryReasoningEngine",
        );
        assert_eq!(n.principal_type, PrincipalType::Agent);
    }

    #[test]
    fn code_7_is_a_denial() {
        let n = normalise(&entry(
            json!({"principalEmail": "x@gmail.com"}),
            json!({"code": 7, "message": "Permission denied"}),
        ))
        .unwrap();
        assert_eq!(n.decision, Decision::Deny);
        assert_eq!(
            n.decision_reason.as_deref(),
            Some("status 7: Permission denied")
        );
        assert_eq!(n.principal_type, PrincipalType::Human);
        assert_eq!(n.action, "iam:google.iam.admin.v1.CreateServiceAccount");
    }

    #[test]
    fn gke_audit_entries_keep_kubernetes_identities() {
        let mut e = entry(
            json!({"principalEmail": "system:serviceaccount:payments:api"}),
            json!({}),
        );
        e["protoPayload"]["serviceName"] = json!("k8s.io");
        e["protoPayload"]["methodName"] = json!("io.k8s.core.v1.secrets.get");
        e["resource"]["labels"]["cluster_name"] = json!("prod");
        let n = normalise(&e).unwrap();
        assert_eq!(n.principal_type, PrincipalType::Workload);
        assert_eq!(n.credential_type, CredentialType::Ephemeral);
        assert_eq!(n.action, "k8s.io:io.k8s.core.v1.secrets.get");
        assert_eq!(n.environment.as_deref(), Some("prod"));
        e["protoPayload"]["authenticationInfo"] =
            json!({"principalEmail": "system:kube-controller-manager"});
        assert_eq!(
            normalise(&e).unwrap().principal_type,
            PrincipalType::Service
        );
    }

    #[test]
    fn non_audit_entries_are_refused_with_a_reason() {
        let e = json!({"insertId": "i", "logName": "l", "textPayload": "hello", "timestamp": "2021-10-19T02:04:00Z"});
        assert!(detect(&e));
        assert!(normalise(&e).unwrap_err().contains("textPayload"));
    }
}
