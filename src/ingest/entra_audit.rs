//! Microsoft Entra ID directory audit logs: the Azure Monitor diagnostic
//! form (`category: AuditLogs`, the audit under `properties`) and the
//! Microsoft Graph `directoryAudit` form (bare, `activityDateTime`).
//!
//! Principal, from `initiatedBy`: `app` → a workload named by its
//! `servicePrincipalId` (else `appId`, else `displayName`); `user` → a
//! person named by `userPrincipalName` (else `id`). The audit names who
//! acted, not the credential they signed in with: credential unknown.
//! Decision: `result` `success` → allow; `failure` → deny with
//! `resultReason`; `timeout` or none → error. Action: `activityDisplayName` (`operationName`).
//! Resource: the first target, as `type/displayName (id)`.
//!
//! What the NHI review needs from these records (`observe`):
//! - credentials added to or removed from an application or service
//!   principal (`Add service principal credentials`, `Update application –
//!   Certificates and secrets management`, `Remove service principal
//!   credentials`): the `KeyDescription` lists before and after are
//!   compared, and each key added becomes a credential of its owner
//!   (`KeyType` `Password` → a client secret, `AsymmetricX509Cert` → a
//!   certificate; both static) created at the event's time, each key
//!   removed an inactive one; federated identity credentials are ephemeral;
//! - consent to an application (`Consent to application`): the app as an
//!   identity, third-party when the record names an owner tenant that is
//!   neither this tenant nor Microsoft's, and the consented scopes as a
//!   grant (admin consent and high-privilege scopes flagged);
//! - app role assignments and delegated permission grants: grants to the
//!   client service principal.

use crate::json::JsonRef;

use super::fields::{azure_properties, owned, text};
use super::observed::{scope_grant, Observed};
use super::platform::microsoft_application;
use super::Normalised;
use crate::model::{CredentialType, Decision, Identity, Ownership, PrincipalType};
use crate::time::{parse_time, parse_time_text};

pub const SOURCE: &str = "entra-audit";

/// Microsoft Graph permissions that let their holder grant itself or others
/// any other permission or role (Microsoft's "overprivileged and high-risk
/// permissions" for app consent reviews).
const HIGH_PRIVILEGE_SCOPES: [&str; 8] = [
    "RoleManagement.ReadWrite.Directory",
    "AppRoleAssignment.ReadWrite.All",
    "Application.ReadWrite.All",
    "Directory.ReadWrite.All",
    "Domain.ReadWrite.All",
    "EduRoster.ReadWrite.All",
    "Group.ReadWrite.All",
    "Member.Read.Hidden",
];

pub fn detect<'a, J: JsonRef<'a>>(record: J) -> bool {
    text(record, "/category") == Some("AuditLogs") && record.get("properties").is_some()
        || record.get("activityDateTime").is_some()
            && record.get("initiatedBy").is_some()
            && record.get("activityDisplayName").is_some()
}

pub fn normalise<'a, J: JsonRef<'a>>(record: J) -> Result<Normalised, String> {
    let props = azure_properties(record);
    let time_value = record
        .get("time")
        .or_else(|| props.get("activityDateTime"))
        .ok_or("no time or activityDateTime")?;
    let time_us = parse_time(time_value).ok_or_else(|| {
        format!(
            "time {} is not a date-time with a time zone",
            time_value.to_value()
        )
    })?;
    let action = text(props, "/activityDisplayName")
        .or_else(|| text(record, "/operationName"))
        .ok_or("no activityDisplayName or operationName: the audit names no action")?;
    let (principal_id, principal_type, principal_reason) =
        if let Some(app) = props.pointer("/initiatedBy/app").filter(|a| a.is_object()) {
            let id = text(app, "/servicePrincipalId")
                .or_else(|| text(app, "/appId"))
                .or_else(|| text(app, "/displayName"))
                .ok_or("initiatedBy.app names no servicePrincipalId, appId or displayName")?;
            let name = text(app, "/displayName").unwrap_or(id);
            match microsoft_application(text(app, "/appId"), None) {
                // One of Microsoft's own applications (cited table).
                Some(platform) => (id.to_string(), PrincipalType::Service, platform.reason()),
                None => (
                    id.to_string(),
                    PrincipalType::Workload,
                    format!("initiatedBy.app {name}: an application (service principal) acted"),
                ),
            }
        } else if let Some(user) = props.pointer("/initiatedBy/user").filter(|u| u.is_object()) {
            let id = text(user, "/userPrincipalName")
                .or_else(|| text(user, "/id"))
                .ok_or("initiatedBy.user names no userPrincipalName or id")?;
            (
                id.to_string(),
                PrincipalType::Human,
                "initiatedBy.user: a person acted".to_string(),
            )
        } else {
            return Err("initiatedBy names neither an app nor a user".into());
        };
    let (decision, decision_reason) = match text(props, "/result").map(str::to_ascii_lowercase) {
        Some(r) if r == "success" => (Decision::Allow, None),
        Some(r) if r == "failure" => (
            Decision::Deny,
            Some(
                text(props, "/resultReason")
                    .map(str::to_string)
                    .unwrap_or(r),
            ),
        ),
        // `timeout`, `unknownFutureValue` or none: not shown to take effect.
        other => (
            Decision::Error,
            Some(format!(
                "result {}: the audit does not show the change took effect",
                other.as_deref().unwrap_or("missing")
            )),
        ),
    };
    let target = props.pointer("/targetResources/0");
    let resource = target.and_then(|t| {
        let id = text(t, "/id");
        let name = text(t, "/displayName").or_else(|| text(t, "/userPrincipalName"));
        let kind = text(t, "/type").unwrap_or("object");
        match (name, id) {
            (Some(n), Some(i)) if n != i => Some(format!("{kind}/{n} ({i})")),
            (Some(n), _) => Some(format!("{kind}/{n}")),
            (None, Some(i)) => Some(format!("{kind}/{i}")),
            (None, None) => None,
        }
    });
    Ok(Normalised {
        time_us,
        event_id: owned(props, "/id"),
        principal_id,
        principal_type,
        principal_reason,
        session_name: None,
        credential_id: None,
        credential_type: CredentialType::Unknown,
        credential_reason: "a directory audit names who acted, not the credential they used".into(),
        auth_method: "unknown".into(),
        action: action.to_string(),
        resource,
        decision,
        decision_reason,
        source_address: owned(props, "/initiatedBy/user/ipAddress")
            .or_else(|| owned(props, "/initiatedBy/app/ipAddress"))
            .or_else(|| owned(record, "/callerIpAddress")),
        user_agent: owned(props, "/userAgent").or_else(|| detail(props, "User-Agent")),
        account: owned(record, "/tenantId").or_else(|| tenant_of(record)),
        environment: None,
    })
}

/// The tenant from `resourceId` (`/tenants/<id>/providers/...`).
fn tenant_of<'a, J: JsonRef<'a>>(record: J) -> Option<String> {
    text(record, "/resourceId")?
        .strip_prefix("/tenants/")?
        .split('/')
        .next()
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// An `additionalDetails` value by key.
fn detail<'a, J: JsonRef<'a>>(props: J, key: &str) -> Option<String> {
    props
        .get("additionalDetails")?
        .as_array()?
        .find(|d| text(*d, "/key").is_some_and(|k| k.eq_ignore_ascii_case(key)))
        .and_then(|d| owned(d, "/value"))
}

/// A modified property's old or new value, unquoted: Entra writes each as
/// a JSON document in a string (`"\"False\""`, `"[\"[KeyIdentifier=...]\"]"`).
fn modified<'a, J: JsonRef<'a>>(target: J, name: &str, which: &str) -> Option<serde_json::Value> {
    let property = target
        .get("modifiedProperties")?
        .as_array()?
        .find(|p| text(*p, "/displayName").is_some_and(|n| n.eq_ignore_ascii_case(name)))?;
    let value = property.get(which)?;
    match value.as_str() {
        Some(s) => {
            let s = s.trim();
            if s.is_empty() {
                return None;
            }
            Some(serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::String(s.into())))
        }
        None if value.is_null() => None,
        None => Some(value.to_value()),
    }
}

/// A modified property's new value as text.
fn new_text<'a, J: JsonRef<'a>>(target: J, name: &str) -> Option<String> {
    match modified(target, name, "newValue")? {
        serde_json::Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        other => Some(other.to_string()),
    }
}

/// One key of a `KeyDescription` list:
/// `[KeyIdentifier=<id>,KeyType=Password,KeyUsage=Verify,DisplayName=<name>]`.
#[derive(Debug, Clone, PartialEq)]
struct Key {
    id: String,
    key_type: String,
    usage: String,
    display_name: String,
    /// Some exports add the validity (`StartDate=`, `EndDate=`).
    end: Option<String>,
}

/// The keys of a `KeyDescription` value (a list of bracketed strings).
/// `DisplayName` may itself hold commas (`CN=a, O=b`): a comma starts a
/// new field only before a known field name.
fn keys(value: &serde_json::Value) -> Vec<Key> {
    let items: Vec<&str> = match value {
        serde_json::Value::Array(items) => items.iter().filter_map(|v| v.as_str()).collect(),
        serde_json::Value::String(s) => vec![s.as_str()],
        _ => Vec::new(),
    };
    const FIELDS: [&str; 8] = [
        "KeyIdentifier=",
        "KeyType=",
        "KeyUsage=",
        "DisplayName=",
        "StartDate=",
        "EndDate=",
        "StartDateTime=",
        "EndDateTime=",
    ];
    let mut out = Vec::new();
    for item in items {
        let body = item.trim().trim_start_matches('[').trim_end_matches(']');
        let mut fields: Vec<String> = Vec::new();
        for part in body.split(',') {
            let trimmed = part.trim_start();
            match fields.last_mut() {
                Some(last) if !FIELDS.iter().any(|f| trimmed.starts_with(f)) => {
                    last.push(',');
                    last.push_str(part);
                }
                _ => fields.push(trimmed.to_string()),
            }
        }
        let field = |name: &str| {
            fields
                .iter()
                .find_map(|f| f.strip_prefix(name))
                .map(|v| v.trim().to_string())
        };
        let Some(id) = field("KeyIdentifier=").filter(|i| !i.is_empty()) else {
            continue;
        };
        out.push(Key {
            id,
            key_type: field("KeyType=").unwrap_or_default(),
            usage: field("KeyUsage=").unwrap_or_default(),
            display_name: field("DisplayName=").unwrap_or_default(),
            end: field("EndDateTime=").or_else(|| field("EndDate=")),
        });
    }
    out
}

/// The identity kind of a key type.
fn key_kind(key_type: &str) -> &'static str {
    match key_type {
        "AsymmetricX509Cert" | "X509CertAndPassword" => "certificate",
        _ => "client-secret",
    }
}

pub fn observe<'a, J: JsonRef<'a>>(record: J, access: &Normalised) -> Observed {
    let props = azure_properties(record);
    let mut seen = Observed::default();
    if access.decision != Decision::Allow {
        return seen;
    }
    let action = access.action.as_str();
    let Some(targets) = props.get("targetResources").and_then(J::as_array) else {
        return seen;
    };
    let targets: Vec<J> = targets.collect();
    let tenant = access.account.clone();
    if action.contains("credentials") || action.contains("Certificates and secrets") {
        for target in &targets {
            credential_changes(*target, access, &mut seen);
        }
    }
    if let Some(target) = targets
        .iter()
        .find(|t| modified(**t, "FederatedIdentityCredentials", "newValue").is_some())
    {
        federated_credentials(*target, access, &mut seen);
    }
    match action {
        "Consent to application" => {
            if let Some(app) = targets.first() {
                consent(*app, props, access, tenant.as_deref(), &mut seen);
            }
        }
        "Add app role assignment to service principal" | "Add delegated permission grant" => {
            role_assignment(&targets, action, &mut seen);
        }
        _ => {}
    }
    seen
}

/// Keys in a target's `KeyDescription` after the change and not before
/// (added), and before and not after (removed).
fn credential_changes<'a, J: JsonRef<'a>>(target: J, access: &Normalised, seen: &mut Observed) {
    let Some(owner) = text(target, "/id") else {
        return;
    };
    let before = modified(target, "KeyDescription", "oldValue")
        .map(|v| keys(&v))
        .unwrap_or_default();
    let after = modified(target, "KeyDescription", "newValue")
        .map(|v| keys(&v))
        .unwrap_or_default();
    let owner_name = text(target, "/displayName").unwrap_or(owner);
    let owner_type = text(target, "/type").unwrap_or("object");
    let added = after
        .iter()
        .filter(|k| !before.iter().any(|b| b.id == k.id));
    let removed = before
        .iter()
        .filter(|k| !after.iter().any(|a| a.id == k.id));
    for (key, active) in added.map(|k| (k, true)).chain(removed.map(|k| (k, false))) {
        let kind = key_kind(&key.key_type);
        let mut details = vec![
            format!("owner_type={owner_type}"),
            format!("owner_name={owner_name}"),
            format!("key_type={}", key.key_type),
        ];
        if !key.usage.is_empty() {
            details.push(format!("key_usage={}", key.usage));
        }
        if !key.display_name.is_empty() {
            details.push(format!("display_name={}", key.display_name));
        }
        details.push(format!(
            "{}={}",
            if active { "added_by" } else { "removed_by" },
            access.principal_id
        ));
        if key.end.is_none() && active {
            details.push("expiry=not in the audit record".into());
        }
        seen.identities.push(Identity {
            id: format!("{owner}#{}", key.id),
            kind: kind.into(),
            provider: "azure",
            owner_id: Some(owner.to_string()),
            owner: Some(access.principal_id.clone()).filter(|_| active),
            environment: access.account.clone(),
            created_us: active.then_some(access.time_us),
            expires_us: key.end.as_deref().and_then(parse_time_text),
            active,
            credential_type: CredentialType::Static,
            credential_reason: format!(
                "KeyType {}: a {} registered on the {} that lasts until removed or expired",
                key.key_type,
                if kind == "certificate" {
                    "certificate"
                } else {
                    "client secret"
                },
                owner_type
            ),
            details: details.join("; "),
            ..Default::default()
        });
    }
}

/// A federated identity credential (workload identity federation): an
/// external issuer's short-lived token accepted in place of a secret.
fn federated_credentials<'a, J: JsonRef<'a>>(target: J, access: &Normalised, seen: &mut Observed) {
    let Some(owner) = text(target, "/id") else {
        return;
    };
    let value = modified(target, "FederatedIdentityCredentials", "newValue");
    let subjects: Vec<String> = value
        .iter()
        .flat_map(|v| match v {
            serde_json::Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        })
        .filter_map(|c| {
            let issuer = c.get("Issuer").or_else(|| c.get("issuer"))?.as_str()?;
            let subject = c.get("Subject").or_else(|| c.get("subject"))?.as_str()?;
            Some(format!("{issuer}|{subject}"))
        })
        .collect();
    for subject in subjects {
        seen.identities.push(Identity {
            id: format!("{owner}#federated:{subject}"),
            kind: "federated-credential".into(),
            provider: "azure",
            owner_id: Some(owner.to_string()),
            environment: access.account.clone(),
            created_us: Some(access.time_us),
            active: true,
            credential_type: CredentialType::Ephemeral,
            credential_reason:
                "federated identity credential: an external issuer's short-lived token".into(),
            details: format!("added_by={}", access.principal_id),
            ..Default::default()
        });
    }
}

/// The scopes of a `ConsentAction.Permissions` or
/// `DelegatedPermissionGrant.Scope` value: `[[Id: ..., ClientId: ...,
/// ConsentType: AllPrincipals, Scope:  a b c, CreatedDateTime: ...]]` or a
/// bare space-separated list.
fn scopes(value: &str) -> (Vec<String>, bool) {
    let all_principals = value.contains("ConsentType: AllPrincipals");
    let mut found = Vec::new();
    let mut rest = value;
    let mut saw_field = false;
    while let Some(at) = rest.find("Scope:") {
        saw_field = true;
        rest = &rest[at + "Scope:".len()..];
        let end = rest.find(',').unwrap_or(rest.len());
        found.extend(rest[..end].split_whitespace().map(str::to_string));
        rest = &rest[end..];
    }
    if !saw_field {
        found.extend(
            value
                .split_whitespace()
                .map(|s| s.trim_matches(|c| c == '"' || c == '[' || c == ']'))
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
    }
    found.sort();
    found.dedup();
    (found, all_principals)
}

fn privilege_flags(scopes: &[String]) -> Vec<String> {
    scopes
        .iter()
        .filter(|s| {
            HIGH_PRIVILEGE_SCOPES
                .iter()
                .any(|h| h.eq_ignore_ascii_case(s))
        })
        .map(|s| format!("admin scope {s}"))
        .collect()
}

/// The app consented to, and what it was granted.
fn consent<'a, J: JsonRef<'a>>(
    app: J,
    props: J,
    access: &Normalised,
    tenant: Option<&str>,
    seen: &mut Observed,
) {
    let Some(app_id) = text(app, "/id") else {
        return;
    };
    let name = text(app, "/displayName").unwrap_or(app_id);
    let admin = new_text(app, "ConsentContext.IsAdminConsent")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let owner_tenant = detail(props, "AppOwnerOrganizationId")
        .or_else(|| detail(props, "AppOwnerTenantId"))
        .or_else(|| new_text(app, "AppOwnerOrganizationId"))
        .or_else(|| new_text(app, "AppOwnerTenantId"));
    let (scopes, all_principals) = new_text(app, "ConsentAction.Permissions")
        .map(|p| scopes(&p))
        .unwrap_or_default();
    let mut identity = Identity {
        id: app_id.to_string(),
        kind: "service-principal".into(),
        provider: "azure",
        environment: access.account.clone(),
        last_used_us: None,
        active: true,
        credential_type: CredentialType::Unknown,
        credential_reason: "an application consented to: its credentials are its owner's".into(),
        details: format!(
            "app={name}; consent={}; consented_by={}",
            if admin { "admin" } else { "user" },
            access.principal_id
        ),
        ..Default::default()
    };
    let owner_tenant = owner_tenant.as_deref().filter(|o| !o.is_empty());
    if let Some(platform) = microsoft_application(None, owner_tenant) {
        identity.ownership = Ownership::Provider;
        identity.vendor = Some(platform.platform.clone());
        identity.ownership_reason = platform.reason();
    } else if let Some(owner) = owner_tenant.filter(|o| Some(*o) != tenant) {
        identity.ownership = Ownership::ThirdParty;
        identity.vendor = Some(format!("Entra tenant {owner}"));
        identity.ownership_reason = format!(
            "consented to by {}; the app is owned by tenant {owner}, not this one",
            access.principal_id
        );
    }
    seen.identities.push(identity);
    if !scopes.is_empty() {
        let mut flags = privilege_flags(&scopes);
        if admin || all_principals {
            flags.push("consent for every user in the tenant".into());
        }
        seen.grants.push(scope_grant(
            app_id,
            format!(
                "Entra {} consent by {}",
                if admin { "admin" } else { "user" },
                access.principal_id
            ),
            &scopes,
            flags,
        ));
    }
}

/// An application permission (app role) or delegated grant given to a
/// client service principal.
fn role_assignment<'a, J: JsonRef<'a>>(targets: &[J], action: &str, seen: &mut Observed) {
    let Some(first) = targets.first() else {
        return;
    };
    let resource = text(*first, "/displayName").unwrap_or("a resource application");
    let client = new_text(*first, "ServicePrincipal.ObjectID")
        .or_else(|| new_text(*first, "DelegatedPermissionGrant.ClientId"))
        .or_else(|| targets.get(1).and_then(|t| owned(*t, "/id")))
        .or_else(|| owned(*first, "/id"));
    let Some(client) = client else {
        return;
    };
    let granted = new_text(*first, "AppRole.Value")
        .or_else(|| new_text(*first, "DelegatedPermissionGrant.Scope"))
        .map(|v| scopes(&v).0)
        .unwrap_or_default();
    if granted.is_empty() {
        return;
    }
    let flags = privilege_flags(&granted);
    let mut grant = scope_grant(
        &client,
        format!("Entra {action} ({resource})"),
        &granted,
        flags,
    );
    grant.resources = resource.to_string();
    seen.grants.push(grant);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn diagnostic(operation: &str, initiated: Value, targets: Value) -> Value {
        json!({"time": "2022-01-22T18:15:02.5168093Z", "resourceId": "/tenants/t1/providers/Microsoft.aadiam",
            "operationName": operation, "category": "AuditLogs", "tenantId": "t1",
            "properties": {"id": "Directory_1", "category": "ApplicationManagement", "result": "success",
                "activityDisplayName": operation, "activityDateTime": "2022-01-22T18:15:02.5168093+00:00",
                "initiatedBy": initiated, "targetResources": targets,
                "additionalDetails": [{"key": "User-Agent", "value": "Graph Client"}]}})
    }

    fn key(id: &str, kind: &str, name: &str) -> String {
        format!("[KeyIdentifier={id},KeyType={kind},KeyUsage=Verify,DisplayName={name}]")
    }

    #[test]
    fn an_added_secret_becomes_a_static_credential_of_its_owner_and_a_removed_one_inactive() {
        let old = serde_json::to_string(&vec![key("k-old", "Password", "ci")]).unwrap();
        let new = serde_json::to_string(&vec![
            key("k-new", "AsymmetricX509Cert", "CN=a, O=Contoso"),
            key("k-pw", "Password", "deploy"),
        ])
        .unwrap();
        let record = diagnostic(
            "Update application – Certificates and secrets management",
            json!({"user": {"userPrincipalName": "ana@contoso.com", "ipAddress": "203.0.113.7"}}),
            json!([{"id": "app-1", "displayName": "billing", "type": "Application",
                "modifiedProperties": [{"displayName": "KeyDescription", "oldValue": old, "newValue": new}]}]),
        );
        assert!(detect(&record));
        let access = normalise(&record).unwrap();
        assert_eq!(access.principal_id, "ana@contoso.com");
        assert_eq!(access.principal_type, PrincipalType::Human);
        assert_eq!(access.decision, Decision::Allow);
        assert_eq!(
            access.resource.as_deref(),
            Some("Application/billing (app-1)")
        );
        assert_eq!(access.source_address.as_deref(), Some("203.0.113.7"));
        assert_eq!(access.user_agent.as_deref(), Some("Graph Client"));
        let seen = observe(&record, &access);
        let ids: Vec<(&str, &str, bool)> = seen
            .identities
            .iter()
            .map(|i| (i.id.as_str(), i.kind.as_str(), i.active))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("app-1#k-new", "certificate", true),
                ("app-1#k-pw", "client-secret", true),
                ("app-1#k-old", "client-secret", false)
            ]
        );
        let cert = &seen.identities[0];
        assert_eq!(cert.credential_type, CredentialType::Static);
        assert_eq!(cert.owner_id.as_deref(), Some("app-1"));
        assert_eq!(cert.created_us, Some(access.time_us));
        assert!(cert.details.contains("display_name=CN=a, O=Contoso"));
        assert!(cert.details.contains("added_by=ana@contoso.com"));
    }

    #[test]
    fn consent_names_the_app_its_owner_tenant_and_the_scopes_granted() {
        let record = diagnostic(
            "Consent to application",
            json!({"user": {"userPrincipalName": "ana@contoso.com"}}),
            json!([{"id": "sp-9", "displayName": "Mail Helper", "type": "ServicePrincipal",
                "modifiedProperties": [
                    {"displayName": "ConsentContext.IsAdminConsent", "oldValue": null, "newValue": "\"True\""},
                    {"displayName": "ConsentAction.Permissions", "oldValue": null,
                     "newValue": "\"[] => [[Id: x, ClientId: sp-9, PrincipalId: , ResourceId: graph, ConsentType: AllPrincipals, Scope:  Mail.Read Directory.ReadWrite.All offline_access, CreatedDateTime: , LastModifiedDateTime: ]]; \""}]}]),
        );
        let mut record = record;
        record["properties"]["additionalDetails"] =
            json!([{"key": "AppOwnerOrganizationId", "value": "vendor-tenant"}]);
        let access = normalise(&record).unwrap();
        let seen = observe(&record, &access);
        let app = &seen.identities[0];
        assert_eq!(app.id, "sp-9");
        assert_eq!(app.ownership, Ownership::ThirdParty);
        assert_eq!(app.vendor.as_deref(), Some("Entra tenant vendor-tenant"));
        assert!(app.details.contains("consent=admin"));
        let grant = &seen.grants[0];
        assert_eq!(grant.principal.as_deref(), Some("sp-9"));
        assert_eq!(
            grant.actions,
            "Directory.ReadWrite.All Mail.Read offline_access"
        );
        assert!(grant.admin);
        assert!(grant.flags.contains("every user"));

        // Consent to Microsoft's own app is not third-party.
        record["properties"]["additionalDetails"] = json!([{"key": "AppOwnerOrganizationId", "value": "f8cdef31-a31e-4b4a-93e4-5f571e91255a"}]);
        let seen = observe(&record, &normalise(&record).unwrap());
        assert_eq!(seen.identities[0].ownership, Ownership::Provider);
        assert_eq!(seen.identities[0].vendor.as_deref(), Some("Microsoft"));
    }

    /// Microsoft Graph's application id, as Microsoft lists it, acting as
    /// the initiator: Microsoft's own service, not the customer's workload.
    #[test]
    fn microsofts_own_application_initiating_is_the_providers_service() {
        let record = json!({"id": "Directory_3", "category": "ApplicationManagement", "activityDateTime": "2024-03-01T10:00:00Z",
            "activityDisplayName": "Update service principal", "result": "success",
            "initiatedBy": {"app": {"appId": "00000003-0000-0000-c000-000000000000", "displayName": "Microsoft Graph", "servicePrincipalId": "sp-graph"}},
            "targetResources": []});
        let n = normalise(&record).unwrap();
        assert_eq!(n.principal_type, PrincipalType::Service);
        assert!(
            n.principal_reason
                .contains("verify-first-party-apps-sign-in"),
            "{}",
            n.principal_reason
        );
        let customer = json!({"id": "Directory_4", "category": "ApplicationManagement", "activityDateTime": "2024-03-01T10:00:00Z",
            "activityDisplayName": "Update service principal", "result": "success",
            "initiatedBy": {"app": {"appId": "5b1f0c3e-0000-4000-8000-000000000001", "displayName": "provisioner", "servicePrincipalId": "sp-prov"}},
            "targetResources": []});
        assert_eq!(
            normalise(&customer).unwrap().principal_type,
            PrincipalType::Workload
        );
    }

    #[test]
    fn graph_form_an_app_initiator_and_a_role_assignment() {
        let record = json!({"id": "Directory_2", "category": "ApplicationManagement", "activityDateTime": "2024-03-01T10:00:00Z",
            "activityDisplayName": "Add app role assignment to service principal", "loggedByService": "Core Directory",
            "result": "success", "resultReason": "",
            "initiatedBy": {"app": {"appId": "a-1", "displayName": "provisioner", "servicePrincipalId": "sp-prov"}},
            "targetResources": [{"id": "graph-sp", "displayName": "Microsoft Graph", "type": "ServicePrincipal",
                "modifiedProperties": [
                    {"displayName": "AppRole.Value", "oldValue": null, "newValue": "\"RoleManagement.ReadWrite.Directory\""},
                    {"displayName": "ServicePrincipal.ObjectID", "oldValue": null, "newValue": "\"sp-client\""}]}]});
        assert!(detect(&record));
        let access = normalise(&record).unwrap();
        assert_eq!(access.principal_id, "sp-prov");
        assert_eq!(access.principal_type, PrincipalType::Workload);
        let seen = observe(&record, &access);
        let grant = &seen.grants[0];
        assert_eq!(grant.principal.as_deref(), Some("sp-client"));
        assert_eq!(grant.actions, "RoleManagement.ReadWrite.Directory");
        assert_eq!(grant.resources, "Microsoft Graph");
        assert!(grant.admin);
    }

    #[test]
    fn failures_are_denials_and_nothing_is_observed_from_them() {
        let mut record = diagnostic(
            "Add service principal credentials",
            json!({"app": {"servicePrincipalId": "sp-x"}}),
            json!([]),
        );
        record["properties"]["result"] = json!("failure");
        record["properties"]["resultReason"] = json!("Insufficient privileges");
        let access = normalise(&record).unwrap();
        assert_eq!(access.decision, Decision::Deny);
        assert_eq!(
            access.decision_reason.as_deref(),
            Some("Insufficient privileges")
        );
        assert!(observe(&record, &access).is_empty());
        record["properties"]["initiatedBy"] = json!({});
        assert!(normalise(&record).unwrap_err().contains("initiatedBy"));
    }

    #[test]
    fn key_descriptions_keep_commas_inside_display_names() {
        let v = json!(["[KeyIdentifier=a,KeyType=Password,KeyUsage=Verify,DisplayName=x, y,EndDate=2026-01-01T00:00:00Z]"]);
        let k = &keys(&v)[0];
        assert_eq!(k.display_name, "x, y");
        assert_eq!(k.end.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert!(keys(&json!(["[KeyType=Password]"])).is_empty());
        let (s, all) = scopes("User.Read openid");
        assert_eq!(s, vec!["User.Read", "openid"]);
        assert!(!all);
    }
}
