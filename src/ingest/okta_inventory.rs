//! Okta's management API objects, as an export or a connector (Airbyte's
//! Okta source, opened by the shipper rules) lists them: users
//! (`/api/v1/users`: `id`, `status`, `profile.login`), administrator role
//! assignments (`/api/v1/users/{id}/roles`: `type`, `assignmentType`,
//! `status`), and the definitions around them (groups, custom roles,
//! resource sets, permissions), which are neither identities nor grants on
//! their own and are counted as skipped with the reason.
//!
//! A user becomes an identity named by `profile.login` (what the System Log
//! calls `actor.alternateId`), its Okta id kept in the details; its last
//! sign-in is `lastLogin`, its last password change `passwordChanged`, and
//! it is active while `status` is `ACTIVE`. Okta does not mark service
//! accounts among users: whether a user is a person or a program is for
//! the logs to show (an API token makes it a service). A role assignment is
//! a grant to the assignee (`_links.assignee.href`, else the assignment's
//! own id); `SUPER_ADMIN` and `ORG_ADMIN` are administrator access.

use serde_json::Value;

use super::fields::text;
use crate::model::{CredentialType, Grant, Identity, RawRef};
use crate::time::parse_time_text;

pub const SOURCE: &str = "okta-inventory";

/// What an Okta API object is.
pub enum Object {
    Users(Vec<Identity>),
    Grants(Vec<Grant>),
    Skipped(String),
}

fn is_user(v: &Value) -> bool {
    text(v, "/id").is_some() && text(v, "/status").is_some() && text(v, "/profile/login").is_some()
}

fn is_role_assignment(v: &Value) -> bool {
    matches!(
        text(v, "/assignmentType"),
        Some("USER" | "GROUP" | "CLIENT")
    ) && text(v, "/type").is_some()
}

/// The kind of definition an object is, if it is one.
fn definition(v: &Value) -> Option<&'static str> {
    let links = v.get("_links")?;
    let group = v
        .get("objectClass")
        .and_then(Value::as_array)
        .is_some_and(|c| c.iter().any(|k| k.as_str() == Some("okta:user_group")));
    if group {
        Some("an Okta group")
    } else if links.get("bindings").is_some() {
        Some("an Okta resource set")
    } else if links.get("permissions").is_some() {
        Some("an Okta custom role definition")
    } else if links.get("role").is_some()
        && text(v, "/label").is_some_and(|l| l.starts_with("okta."))
    {
        Some("a permission of an Okta custom role")
    } else {
        None
    }
}

pub fn detect(v: &Value) -> bool {
    is_user(v) || is_role_assignment(v) || definition(v).is_some()
}

pub fn parse(v: &Value, raw_ref: &RawRef) -> Object {
    if is_user(v) {
        return Object::Users(vec![user(v, raw_ref)]);
    }
    if is_role_assignment(v) {
        return Object::Grants(vec![role_assignment(v, raw_ref)]);
    }
    let what = definition(v).unwrap_or("an Okta object");
    Object::Skipped(format!(
        "{what}: a definition, not an identity or a grant (role assignments and users are read)"
    ))
}

fn time(v: &Value, pointer: &str) -> Option<i64> {
    text(v, pointer).and_then(parse_time_text)
}

fn user(v: &Value, raw_ref: &RawRef) -> Identity {
    let login = text(v, "/profile/login").unwrap_or_default();
    let mut details = vec![format!("okta_id={}", text(v, "/id").unwrap_or_default())];
    if let Some(status) = text(v, "/status") {
        details.push(format!("status={status}"));
    }
    if let Some(provider) = text(v, "/credentials/provider/type") {
        details.push(format!("credential_provider={provider}"));
    }
    Identity {
        id: login.to_string(),
        kind: "user".into(),
        provider: "okta",
        owner: text(v, "/profile/manager").map(str::to_string),
        created_us: time(v, "/created"),
        last_used_us: time(v, "/lastLogin"),
        last_rotated_us: time(v, "/passwordChanged"),
        active: text(v, "/status") == Some("ACTIVE"),
        credential_type: CredentialType::Unknown,
        credential_reason: "an Okta user: its sign-in method is in the System Log".into(),
        details: details.join("; "),
        source_ref: raw_ref.clone(),
        ..Default::default()
    }
}

fn role_assignment(v: &Value, raw_ref: &RawRef) -> Grant {
    let role = text(v, "/type").unwrap_or("?");
    let assignee = text(v, "/_links/assignee/href")
        .and_then(|h| h.rsplit('/').next())
        .or_else(|| text(v, "/id"))
        .unwrap_or("?");
    let admin = matches!(role, "SUPER_ADMIN" | "ORG_ADMIN");
    let mut flags = Vec::new();
    if admin {
        flags.push(format!("admin role {role}"));
    }
    if text(v, "/status").is_some_and(|s| s != "ACTIVE") {
        flags.push("assignment not active".to_string());
    }
    Grant {
        principal: Some(assignee.to_string()),
        policy: format!(
            "Okta role {} ({} assignment)",
            text(v, "/label").unwrap_or(role),
            text(v, "/assignmentType").unwrap_or("?")
        ),
        kind: "permission",
        effect: "Allow".into(),
        actions: match text(v, "/role") {
            Some(custom) => format!("{role}:{custom}"),
            None => role.to_string(),
        },
        not_action: false,
        resources: text(v, "/resource-set").unwrap_or("*").to_string(),
        not_resource: false,
        has_conditions: false,
        wildcard_action: false,
        wildcard_resource: text(v, "/resource-set").is_none(),
        admin,
        flags: flags.join("; "),
        source_ref: raw_ref.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn users_are_identities_and_super_admin_is_admin() {
        let raw = RawRef::default();
        let u = json!({"id": "00u1", "status": "ACTIVE", "created": "2023-06-28T15:10:45.000Z", "lastLogin": "2023-06-28T17:00:38.000Z",
            "passwordChanged": "2023-06-28T17:00:30.000Z", "profile": {"login": "integration@example.com"}, "_links": {}});
        assert!(detect(&u));
        let Object::Users(rows) = parse(&u, &raw) else {
            panic!()
        };
        assert_eq!(rows[0].id, "integration@example.com");
        assert!(rows[0].active && rows[0].last_used_us.is_some());
        assert!(rows[0].details.starts_with("okta_id=00u1"));

        let a = json!({"id": "ra1", "label": "Super Administrator", "type": "SUPER_ADMIN", "status": "ACTIVE", "assignmentType": "USER",
            "_links": {"assignee": {"href": "https://dev.okta.com/api/v1/users/00u1"}}});
        let Object::Grants(grants) = parse(&a, &raw) else {
            panic!()
        };
        assert_eq!(grants[0].principal.as_deref(), Some("00u1"));
        assert!(grants[0].admin);

        let g = json!({"id": "00g1", "objectClass": ["okta:user_group"], "type": "BUILT_IN", "profile": {"name": "Everyone"}, "_links": {}});
        let Object::Skipped(why) = parse(&g, &raw) else {
            panic!()
        };
        assert!(why.starts_with("an Okta group"));
        assert!(!detect(&json!({"id": "x", "status": "ok"})));
    }
}
