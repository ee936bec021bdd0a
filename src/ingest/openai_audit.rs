//! OpenAI organization audit logs (`GET /v1/organization/audit_logs`:
//! objects `organization.audit_log` with `id`, `type`, `effective_at`,
//! `actor`, `project`, and the event's details under a member named as
//! the type, dots included: `"api_key.created": {"id", "data": {"scopes"}}`).
//!
//! Principal, from `actor.type`:
//! - `session` → human (a person signed in to the platform), named by
//!   `actor.session.user.email` (else its id); no credential;
//! - `api_key` → the key's holder: `actor.api_key.service_account.id` a
//!   workload (a project service account), `actor.api_key.user` a service
//!   (a person's key used by a program, as for an IAM user's access key);
//!   the key id is the credential id, and OpenAI API keys are static: they
//!   stay valid until deleted.
//!
//! Decision: types ending `.failed` are denials, everything else happened.
//! Every `api_key.*` event also shows the key: an `api-key` identity of the
//! OpenAI platform (created, scopes, who made it, deleted) and its scopes
//! as a grant, so keys no inventory lists are still reviewed.

use crate::json::JsonRef;

use super::fields::{owned, text};
use super::observed::{scope_grant, Observed};
use super::Normalised;
use crate::model::{CredentialType, Decision, Identity, PrincipalType};

pub const SOURCE: &str = "openai-audit";
/// The platform named in `agent_platform` for OpenAI's keys.
pub const PLATFORM: &str = "OpenAI";

pub fn detect<'a, J: JsonRef<'a>>(record: J) -> bool {
    text(record, "/object") == Some("organization.audit_log")
        || (record.get("effective_at").is_some()
            && text(record, "/type").is_some()
            && text(record, "/actor/type").is_some())
}

pub fn normalise<'a, J: JsonRef<'a>>(record: J) -> Result<Normalised, String> {
    let kind = text(record, "/type").ok_or("no type: the event names no action")?;
    let time_us = record
        .get("effective_at")
        .and_then(|t| t.as_f64())
        .filter(|t| t.is_finite() && *t > 0.0 && *t < 1e11)
        .map(|t| (t * 1e6) as i64)
        .ok_or("effective_at is not a time in epoch seconds")?;
    let actor_type = text(record, "/actor/type").unwrap_or("");
    let (principal_id, principal_type, principal_reason, credential) = match actor_type {
        "session" => (
            owned(record, "/actor/session/user/email")
                .or_else(|| owned(record, "/actor/session/user/id")),
            PrincipalType::Human,
            "actor.type session: a person signed in to the OpenAI platform".to_string(),
            None,
        ),
        "api_key" => {
            let key = owned(record, "/actor/api_key/id");
            match owned(record, "/actor/api_key/service_account/id") {
                Some(account) => (
                    Some(account),
                    PrincipalType::Workload,
                    "actor.api_key.service_account: a project service account's key".to_string(),
                    key,
                ),
                None => (
                    owned(record, "/actor/api_key/user/email")
                        .or_else(|| owned(record, "/actor/api_key/user/id")),
                    PrincipalType::Service,
                    "actor.api_key.user: a person's API key used by a program".to_string(),
                    key,
                ),
            }
        }
        other => {
            return Err(format!(
                "actor.type {:?} is neither session nor api_key",
                other
            ))
        }
    };
    let principal_id =
        principal_id.ok_or("the actor names no user, service account or key holder")?;
    let (credential_type, credential_reason, auth_method) = match &credential {
        Some(_) => (
            CredentialType::Static,
            "actor.api_key: an OpenAI API key, valid until deleted".to_string(),
            "api-key",
        ),
        None => (
            CredentialType::Unknown,
            "a browser session: the audit log names no credential".to_string(),
            "session",
        ),
    };
    let detail = record.get(kind);
    let resource = detail
        .and_then(|d| d.get("id"))
        .and_then(J::as_str)
        .map(str::to_string)
        .or_else(|| owned(record, "/project/id"));
    let (decision, decision_reason) = if kind.ends_with(".failed") {
        let why = detail
            .and_then(|d| d.get("error_message").or_else(|| d.get("error_code")))
            .and_then(J::as_str)
            .map(str::to_string);
        (Decision::Deny, why.or_else(|| Some(kind.to_string())))
    } else {
        (Decision::Allow, None)
    };
    Ok(Normalised {
        time_us,
        event_id: owned(record, "/id"),
        principal_id,
        principal_type,
        principal_reason,
        session_name: None,
        credential_id: credential,
        credential_type,
        credential_reason,
        auth_method: auth_method.into(),
        action: kind.to_string(),
        resource,
        decision,
        decision_reason,
        // Only a session records where it came from.
        source_address: owned(record, "/actor/session/ip_address"),
        user_agent: owned(record, "/actor/session/user_agent"),
        account: owned(record, "/project/id"),
        environment: None,
    })
}

/// An `api_key.*` event's key, as an identity and its scopes as a grant.
pub fn observe<'a, J: JsonRef<'a>>(record: J, access: &Normalised) -> Observed {
    let mut seen = Observed::default();
    let Some(kind) = text(record, "/type").filter(|k| k.starts_with("api_key.")) else {
        return seen;
    };
    let Some(detail) = record.get(kind) else {
        return seen;
    };
    let Some(key) = text(detail, "/id") else {
        return seen;
    };
    let scopes: Vec<String> = ["/data/scopes", "/changes_requested/scopes"]
        .iter()
        .filter_map(|p| detail.pointer(p))
        .filter_map(|v| v.as_array())
        .flat_map(|items| items.filter_map(J::as_str).map(str::to_string))
        .collect();
    let project = owned(record, "/project/id");
    let mut details = Vec::new();
    if let Some(p) = &project {
        details.push(format!("project={p}"));
    }
    if let Some(name) = text(detail, "/changes_requested/name") {
        details.push(format!("name={name}"));
    }
    if !scopes.is_empty() {
        details.push(format!("scopes={}", scopes.join(" ")));
    }
    let created = kind == "api_key.created";
    seen.identities.push(Identity {
        id: key.to_string(),
        kind: "api-key".into(),
        provider: "openai",
        owner: created.then(|| access.principal_id.clone()),
        environment: project,
        created_us: created.then_some(access.time_us),
        active: kind != "api_key.deleted",
        credential_type: CredentialType::Static,
        credential_reason: "an OpenAI API key: valid until deleted".into(),
        details: details.join("; "),
        agent_platform: Some(PLATFORM.into()),
        ..Default::default()
    });
    if !scopes.is_empty() {
        let flags = scopes
            .iter()
            .filter(|s| s.contains("organization_admin") && s.ends_with(".write"))
            .map(|s| format!("admin scope {s}"))
            .collect();
        seen.grants.push(scope_grant(
            key,
            format!("OpenAI API key scopes ({kind})"),
            &scopes,
            flags,
        ));
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_session_is_a_person_and_a_service_account_key_a_static_workload() {
        let login = json!({"object": "organization.audit_log", "id": "a1", "type": "login.succeeded", "effective_at": 1760472653,
            "actor": {"type": "session", "session": {"user": {"id": "user-1", "email": "ops@example.com"}, "ip_address": "203.0.113.9", "user_agent": "Mozilla/5.0"}}});
        let n = normalise(&login).unwrap();
        assert_eq!(n.principal_id, "ops@example.com");
        assert_eq!(n.principal_type, PrincipalType::Human);
        assert_eq!(n.credential_id, None);
        assert_eq!(n.source_address.as_deref(), Some("203.0.113.9"));
        assert_eq!(n.time_us, 1_760_472_653_000_000);

        let by_key = json!({"object": "organization.audit_log", "id": "a2", "type": "project.updated", "effective_at": 1760472653,
            "project": {"id": "proj_1"},
            "actor": {"type": "api_key", "api_key": {"id": "key_9", "type": "service_account", "service_account": {"id": "svc_acct_7"}}},
            "project.updated": {"id": "proj_1"}});
        let n = normalise(&by_key).unwrap();
        assert_eq!(n.principal_id, "svc_acct_7");
        assert_eq!(n.principal_type, PrincipalType::Workload);
        assert_eq!(n.credential_id.as_deref(), Some("key_9"));
        assert_eq!(n.credential_type, CredentialType::Static);
        assert_eq!(n.resource.as_deref(), Some("proj_1"));

        let failed = json!({"type": "login.failed", "effective_at": 1760472653, "actor": {"type": "session", "session": {"user": {"id": "user-2"}}},
            "login.failed": {"error_code": "invalid_credentials"}});
        let n = normalise(&failed).unwrap();
        assert_eq!(n.decision, Decision::Deny);
        assert_eq!(n.decision_reason.as_deref(), Some("invalid_credentials"));
        assert!(detect(&failed));
    }

    #[test]
    fn key_events_show_the_key_and_an_admin_scope() {
        let created = json!({"object": "organization.audit_log", "id": "a3", "type": "api_key.created", "effective_at": 1760456741,
            "project": {"id": "proj_1"},
            "actor": {"type": "session", "session": {"user": {"id": "user-1", "email": "ops@example.com"}}},
            "api_key.created": {"id": "key_A", "data": {"scopes": ["api.all_organization_admin.write"]}}});
        let access = normalise(&created).unwrap();
        let seen = observe(&created, &access);
        let key = &seen.identities[0];
        assert_eq!(key.id, "key_A");
        assert_eq!(key.owner.as_deref(), Some("ops@example.com"));
        assert_eq!(key.created_us, Some(access.time_us));
        assert_eq!(key.agent_platform.as_deref(), Some(PLATFORM));
        assert!(seen.grants[0].admin);

        let deleted = json!({"type": "api_key.deleted", "effective_at": 1760456799, "actor": {"type": "session", "session": {"user": {"id": "user-1"}}},
            "api_key.deleted": {"id": "key_A"}});
        let seen = observe(&deleted, &normalise(&deleted).unwrap());
        assert!(!seen.identities[0].active);
        assert!(seen.grants.is_empty());
    }
}
