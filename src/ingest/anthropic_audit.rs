//! Anthropic (Claude) organisation activity, as the Compliance API's
//! activity feed returns it: `id` (`activity_…`), `created_at`, `type`
//! (`api_key_created`, `sso_login_succeeded`, `claude_file_uploaded`,
//! `compliance_api_accessed`, ...), `organization_id` (null for sign-ins
//! and Compliance API calls), `actor` discriminated by `actor.type`, and
//! the object acted on (`claude_chat_id`, `claude_project_id`,
//! `claude_file_id`, `claude_artifact_id`).
//!
//! Principal, from `actor.type`:
//! - `user_actor` → a person (`email_address`, else `user_id`); no
//!   credential named;
//! - `unauthenticated_user_actor` → a person not yet signed in
//!   (`unauthenticated_email_address`);
//! - `api_actor` / `admin_api_key_actor` → the API key itself
//!   (`api_key_id` / `admin_api_key_id`), a workload holding a static key
//!   (Anthropic API keys stay valid until disabled or deleted);
//! - `system_actor` → Anthropic's own automation (`service`);
//!   `anthropic_actor` → Anthropic staff; `scim_directory_sync_actor` →
//!   the identity provider's directory sync (`directory_id`), a workload.
//!
//! Decision: types ending `_failed` are denials. Chats, files and prompts
//! are named by id only: no content is read. Every key seen acting, and
//! every key an `api_key_created` event names, becomes an `api-key`
//! identity of the Anthropic platform, so keys no inventory lists are
//! still reviewed.

use crate::json::JsonRef;

use super::fields::{owned, text};
use super::observed::Observed;
use super::Normalised;
use crate::model::{CredentialType, Decision, Identity, PrincipalType};
use crate::time::parse_time;

pub const SOURCE: &str = "anthropic-audit";
/// The platform named in `agent_platform` for Anthropic's keys.
pub const PLATFORM: &str = "Anthropic";

const ACTOR_TYPES: [&str; 7] = [
    "user_actor",
    "api_actor",
    "admin_api_key_actor",
    "unauthenticated_user_actor",
    "anthropic_actor",
    "system_actor",
    "scim_directory_sync_actor",
];

pub fn detect<'a, J: JsonRef<'a>>(record: J) -> bool {
    record.get("created_at").is_some()
        && text(record, "/type").is_some()
        && text(record, "/actor/type").is_some_and(|t| ACTOR_TYPES.contains(&t))
}

/// The object an activity is about, most specific first.
const OBJECTS: [&str; 6] = [
    "/claude_artifact_id",
    "/claude_file_id",
    "/claude_chat_id",
    "/claude_project_id",
    "/api_key_id",
    "/organization_id",
];

pub fn normalise<'a, J: JsonRef<'a>>(record: J) -> Result<Normalised, String> {
    let kind = text(record, "/type").ok_or("no type: the activity names no action")?;
    let time_value = record.get("created_at").ok_or("no created_at")?;
    let time_us = parse_time(time_value).ok_or_else(|| {
        format!(
            "created_at {} is not a date-time with a time zone",
            time_value.to_value()
        )
    })?;
    let actor_type = text(record, "/actor/type").unwrap_or("");
    let a = |field: &str| owned(record, &format!("/actor/{field}"));
    let (principal, principal_type, reason, key) = match actor_type {
        "user_actor" => (
            a("email_address").or_else(|| a("user_id")),
            PrincipalType::Human,
            "actor.type user_actor: a person signed in to Claude",
            None,
        ),
        "unauthenticated_user_actor" => (
            a("unauthenticated_email_address"),
            PrincipalType::Human,
            "actor.type unauthenticated_user_actor: a person before sign-in",
            None,
        ),
        "api_actor" => (
            a("api_key_id"),
            PrincipalType::Workload,
            "actor.type api_actor: a program calling with an API key",
            a("api_key_id"),
        ),
        "admin_api_key_actor" => (
            a("admin_api_key_id"),
            PrincipalType::Workload,
            "actor.type admin_api_key_actor: a program calling with an Admin API key",
            a("admin_api_key_id"),
        ),
        "system_actor" => (
            Some(format!(
                "anthropic:system:{}",
                a("service").unwrap_or_else(|| "unnamed".into())
            )),
            PrincipalType::Service,
            "actor.type system_actor: Anthropic's own automation",
            None,
        ),
        "anthropic_actor" => (
            Some(a("email_address").unwrap_or_else(|| "anthropic:staff".into())),
            PrincipalType::Human,
            "actor.type anthropic_actor: Anthropic staff acting on the organisation",
            None,
        ),
        "scim_directory_sync_actor" => (
            a("directory_id").map(|d| format!("scim:{d}")),
            PrincipalType::Workload,
            "actor.type scim_directory_sync_actor: the identity provider's directory sync",
            None,
        ),
        other => {
            return Err(format!(
                "actor.type {other:?} is not one Anthropic documents"
            ))
        }
    };
    let principal_id = principal
        .ok_or_else(|| format!("actor.type {actor_type} names no one (no id or email)"))?;
    let (credential_type, credential_reason, auth) = match (&key, actor_type) {
        (Some(_), "admin_api_key_actor") => (
            CredentialType::Static,
            "an Anthropic Admin API key: valid until disabled or deleted",
            "admin-api-key",
        ),
        (Some(_), _) => (
            CredentialType::Static,
            "an Anthropic API key: valid until disabled or deleted",
            "api-key",
        ),
        (None, "user_actor" | "unauthenticated_user_actor") => (
            CredentialType::Unknown,
            "a person's session: the activity names no credential",
            "session",
        ),
        (None, _) => (
            CredentialType::Unknown,
            "the activity names no credential",
            "unknown",
        ),
    };
    let resource = OBJECTS.iter().find_map(|p| owned(record, p));
    let (decision, decision_reason) = if kind.ends_with("_failed") {
        (Decision::Deny, Some(kind.to_string()))
    } else {
        (Decision::Allow, None)
    };
    Ok(Normalised {
        time_us,
        event_id: owned(record, "/id"),
        principal_id,
        principal_type,
        principal_reason: reason.into(),
        session_name: None,
        credential_id: key,
        credential_type,
        credential_reason: credential_reason.into(),
        auth_method: auth.into(),
        action: kind.to_string(),
        resource,
        decision,
        decision_reason,
        source_address: a("ip_address"),
        user_agent: a("user_agent"),
        account: owned(record, "/organization_id"),
        environment: None,
    })
}

/// The key that acted, and a key an `api_key_created` activity names.
pub fn observe<'a, J: JsonRef<'a>>(record: J, access: &Normalised) -> Observed {
    let mut seen = Observed::default();
    let key_identity = |id: &str, admin: bool| Identity {
        id: id.to_string(),
        kind: if admin { "admin-api-key" } else { "api-key" }.into(),
        provider: "anthropic",
        environment: access.account.clone(),
        active: true,
        credential_type: CredentialType::Static,
        credential_reason: "an Anthropic API key: valid until disabled or deleted".into(),
        agent_platform: Some(PLATFORM.into()),
        ..Default::default()
    };
    if let Some(key) = &access.credential_id {
        let mut used = key_identity(key, access.auth_method == "admin-api-key");
        used.last_used_us = Some(access.time_us);
        seen.identities.push(used);
    }
    let kind = access.action.as_str();
    if matches!(kind, "api_key_created" | "admin_api_key_created") {
        let created = ["/api_key_id", "/admin_api_key_id", "/api_key/id"]
            .iter()
            .find_map(|p| text(record, p));
        if let Some(id) = created {
            let mut row = key_identity(id, kind.starts_with("admin"));
            row.created_us = Some(access.time_us);
            row.owner = Some(access.principal_id.clone());
            row.details = format!("created_by={}", access.principal_id);
            seen.identities.push(row);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Shaped as Anthropic's Compliance API reference documents an activity.
    fn activity(kind: &str, actor: serde_json::Value) -> serde_json::Value {
        json!({"id": "activity_01abc", "created_at": "2026-09-29T10:00:00Z", "type": kind,
            "organization_id": "org_01xyz", "organization_uuid": "9f6c-uuid", "actor": actor})
    }

    #[test]
    fn api_keys_are_static_workloads_and_people_have_sessions() {
        let r = activity(
            "compliance_api_accessed",
            json!({"type": "api_actor", "api_key_id": "apikey_01k", "ip_address": "203.0.113.5", "user_agent": "python-httpx/0.27"}),
        );
        assert!(detect(&r));
        let n = normalise(&r).unwrap();
        assert_eq!(n.principal_id, "apikey_01k");
        assert_eq!(n.principal_type, PrincipalType::Workload);
        assert_eq!(n.credential_type, CredentialType::Static);
        assert_eq!(n.credential_id.as_deref(), Some("apikey_01k"));
        assert_eq!(n.source_address.as_deref(), Some("203.0.113.5"));
        let seen = observe(&r, &n);
        assert_eq!(seen.identities[0].kind, "api-key");
        assert_eq!(seen.identities[0].last_used_us, Some(n.time_us));

        let login = activity(
            "sso_login_failed",
            json!({"type": "user_actor", "email_address": "ana@example.com", "user_id": "user_01a"}),
        );
        let n = normalise(&login).unwrap();
        assert_eq!(n.principal_type, PrincipalType::Human);
        assert_eq!(n.decision, Decision::Deny);
        assert!(observe(&login, &n).is_empty());
    }

    #[test]
    fn a_created_key_is_recorded_with_its_creator() {
        let mut r = activity(
            "api_key_created",
            json!({"type": "user_actor", "email_address": "ana@example.com"}),
        );
        r["api_key_id"] = json!("apikey_01new");
        let n = normalise(&r).unwrap();
        assert_eq!(n.resource.as_deref(), Some("apikey_01new"));
        let seen = observe(&r, &n);
        let key = &seen.identities[0];
        assert_eq!(key.id, "apikey_01new");
        assert_eq!(key.created_us, Some(n.time_us));
        assert_eq!(key.owner.as_deref(), Some("ana@example.com"));
    }

    #[test]
    fn unknown_actors_are_refused_and_other_feeds_are_not_claimed() {
        let r = activity("x", json!({"type": "robot"}));
        assert!(!detect(&r));
        assert!(normalise(&r).unwrap_err().contains("robot"));
        // OpenAI's audit log has `effective_at` and `actor.type` session/api_key.
        assert!(!detect(
            &json!({"type": "login.succeeded", "effective_at": 1, "actor": {"type": "session"}})
        ));
    }
}
