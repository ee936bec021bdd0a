//! Okta System Log events (`LogEvent`: `eventType`, `published`, `actor`,
//! `outcome`, `target[]`, `transaction`), as the System Log API, event
//! hooks and log streams deliver them (and Cribl or Airbyte around them,
//! opened by the shipper rules).
//!
//! Credential, first rule that applies:
//! 1. `transaction.detail.requestApiTokenId` → static: an SSWS API token
//!    (it expires only after 30 days unused), its id the credential id;
//! 2. `authenticationContext.credentialType` `CLIENT_SECRET` or `JWT` (a
//!    client's private key) → static; `OAUTH2` / `ACCESS_TOKEN` → ephemeral;
//! 3. otherwise unknown, saying what the event gave.
//!
//! Principal: `actor.alternateId` (else `id`). `SystemPrincipal` → service
//! (Okta itself); an app or OAuth client actor (`PublicClientApp`, `App`,
//! `Client`) → workload; a `User` calling with an API token → service (a
//! person's account used by a program, as for an IAM user's access key);
//! any other user → human. Decision: `outcome.result` `SUCCESS` / `ALLOW`
//! → allow, `DENY` → deny, `FAILURE` → deny when the reason says the
//! credentials or access were refused, else error; no outcome → allow
//! (Okta logs what happened; the reason says none was given).

use crate::json::JsonRef;

use super::fields::{owned, text};
use super::observed::{scope_grant, Observed};
use super::Normalised;
use crate::model::{CredentialType, Decision, Identity, PrincipalType};
use crate::time::parse_time;

pub const SOURCE: &str = "okta-system-log";

pub fn detect<'a, J: JsonRef<'a>>(record: J) -> bool {
    record.get("eventType").and_then(J::as_str).is_some()
        && record.get("published").is_some()
        && (record.get("actor").is_some() || record.get("uuid").is_some())
}

pub fn normalise<'a, J: JsonRef<'a>>(record: J) -> Result<Normalised, String> {
    let event_type = text(record, "/eventType").ok_or("no eventType")?;
    let time_value = record.get("published").ok_or("no published time")?;
    let time_us = parse_time(time_value)
        .ok_or_else(|| format!("published {} is not a point in time", time_value.to_value()))?;
    let actor_type = text(record, "/actor/type").unwrap_or("");
    let principal_id = owned(record, "/actor/alternateId")
        .filter(|a| a != "unknown")
        .or_else(|| owned(record, "/actor/id"))
        .ok_or("no actor.alternateId or actor.id: the event names no caller")?;
    let api_token = owned(record, "/transaction/detail/requestApiTokenId");
    let credential_kind = text(record, "/authenticationContext/credentialType");
    let (credential_type, credential_reason, auth_method) = match (&api_token, credential_kind) {
        (Some(_), _) => (
            CredentialType::Static,
            "transaction.detail.requestApiTokenId: an SSWS API token, valid until revoked or 30 days unused".to_string(),
            "api-token",
        ),
        (None, Some(k @ ("CLIENT_SECRET" | "JWT"))) => (
            CredentialType::Static,
            format!("authenticationContext.credentialType {k}: a client's long-lived secret or key"),
            "client-credentials",
        ),
        (None, Some(k @ ("OAUTH2" | "ACCESS_TOKEN"))) => (
            CredentialType::Ephemeral,
            format!("authenticationContext.credentialType {k}: a short-lived OAuth token"),
            "oauth-token",
        ),
        (None, Some(k)) => (
            CredentialType::Unknown,
            format!("authenticationContext.credentialType {k}"),
            if k == "PASSWORD" { "password" } else { "unknown" },
        ),
        (None, None) => (
            CredentialType::Unknown,
            "no API token id and no credentialType: the event does not say how the caller signed in".to_string(),
            "unknown",
        ),
    };
    let okta = super::platform::lookup_field(super::platform::Field::OktaActorType, actor_type);
    let (principal_type, principal_reason) = match actor_type {
        // Okta itself (cited table).
        _ if okta.is_some() => (
            PrincipalType::Service,
            okta.map(|p| p.reason()).unwrap_or_default(),
        ),
        "PublicClientApp" | "App" | "Client" | "AppInstance" => (
            PrincipalType::Workload,
            format!("actor.type {actor_type}: an application acting as itself"),
        ),
        "User" if api_token.is_some() => (
            PrincipalType::Service,
            "a user's account calling the API with an API token (a program, not a sign-in)"
                .to_string(),
        ),
        "User" => (PrincipalType::Human, "actor.type User".to_string()),
        other => (
            PrincipalType::Unknown,
            format!(
                "actor.type {}",
                if other.is_empty() { "(none)" } else { other }
            ),
        ),
    };
    let result = text(record, "/outcome/result");
    let reason = owned(record, "/outcome/reason");
    let (decision, decision_reason) = match result {
        Some("SUCCESS" | "ALLOW") => (Decision::Allow, reason),
        Some("DENY") => (Decision::Deny, reason.or(Some("DENY".into()))),
        Some("FAILURE") => {
            let refused = reason.as_deref().is_some_and(|r| {
                let r = r.to_ascii_lowercase();
                [
                    "denied",
                    "invalid",
                    "unauthorized",
                    "not allowed",
                    "locked",
                    "verification",
                ]
                .iter()
                .any(|w| r.contains(w))
            });
            let decision = if refused {
                Decision::Deny
            } else {
                Decision::Error
            };
            (decision, reason.or(Some("FAILURE".into())))
        }
        Some(other) => (Decision::Allow, Some(format!("outcome {other}"))),
        None => (Decision::Allow, Some("no outcome recorded".into())),
    };
    let resource = record
        .get("target")
        .and_then(|t| t.pointer("/0"))
        .and_then(|t| {
            let kind = text(t, "/type").unwrap_or("target");
            let name = text(t, "/alternateId")
                .filter(|a| *a != "unknown")
                .or_else(|| text(t, "/displayName"))
                .or_else(|| text(t, "/id"))?;
            Some(format!("{kind}:{name}"))
        });
    Ok(Normalised {
        time_us,
        event_id: owned(record, "/uuid"),
        principal_id,
        principal_type,
        principal_reason,
        session_name: None,
        // Only an API token has an id in the event: a session id is not a
        // credential, and a client's secret or key is not named here.
        credential_id: api_token,
        credential_type,
        credential_reason,
        auth_method: auth_method.into(),
        action: event_type.to_string(),
        resource,
        decision,
        decision_reason,
        source_address: owned(record, "/client/ipAddress"),
        user_agent: owned(record, "/client/userAgent/rawUserAgent"),
        account: None,
        environment: None,
    })
}

/// Okta API scopes that administer the org (`okta.users.manage`,
/// `okta.apps.manage`, ...), as opposed to a person's own account
/// (`okta.myAccount.*`, `okta.enduser.*`) or read-only ones.
fn admin_scope(scope: &str) -> bool {
    scope.starts_with("okta.")
        && scope.ends_with(".manage")
        && !["okta.myAccount.", "okta.enduser.", "okta.internal.enduser."]
            .iter()
            .any(|own| scope.starts_with(own))
}

/// Consent grants (one `ConsentGrant` target per scope, the client in
/// `detailEntry.publicclientapp`) as grants to the client, and OAuth
/// client secrets created or retired as credentials of their client.
pub fn observe<'a, J: JsonRef<'a>>(record: J, access: &Normalised) -> Observed {
    let mut seen = Observed::default();
    if let Some(platform) = text(record, "/actor/type")
        .and_then(|t| super::platform::lookup_field(super::platform::Field::OktaActorType, t))
    {
        seen.identities
            .push(super::platform::provider_identity(platform, access, "okta"));
    }
    if access.decision != Decision::Allow {
        return seen;
    }
    let event_type = text(record, "/eventType").unwrap_or("");
    let targets: Vec<J> = record
        .get("target")
        .and_then(J::as_array)
        .map(|items| items.collect())
        .unwrap_or_default();
    if event_type.contains(".consent.grant") {
        // Scopes per client, in the order the event lists them.
        let mut by_client: Vec<(String, Vec<String>)> = Vec::new();
        for t in targets
            .iter()
            .filter(|t| text(**t, "/type") == Some("ConsentGrant"))
        {
            let (Some(client), Some(scope)) = (
                text(*t, "/detailEntry/publicclientapp")
                    .or_else(|| text(*t, "/detailEntry/clientId")),
                text(*t, "/displayName"),
            ) else {
                continue;
            };
            match by_client.iter_mut().find(|(c, _)| c == client) {
                Some((_, scopes)) => scopes.push(scope.to_string()),
                None => by_client.push((client.to_string(), vec![scope.to_string()])),
            }
        }
        for (client, scopes) in by_client {
            let flags = scopes
                .iter()
                .filter(|s| admin_scope(s))
                .map(|s| format!("admin scope {s}"))
                .collect();
            seen.grants.push(scope_grant(
                &client,
                format!("Okta {event_type} by {}", access.principal_id),
                &scopes,
                flags,
            ));
        }
    }
    if event_type.starts_with("app.oauth2.credentials.lifecycle.") {
        for t in targets
            .iter()
            .filter(|t| text(**t, "/type") == Some("OAuth2ClientSecretEntity"))
        {
            let Some(id) = text(*t, "/id") else { continue };
            let client = text(*t, "/detailEntry/clientid")
                .or_else(|| text(record, "/debugContext/debugData/clientId"));
            let status = text(*t, "/detailEntry/status");
            let retired = event_type.ends_with(".deactivate")
                || event_type.ends_with(".delete")
                || status.is_some_and(|s| !s.eq_ignore_ascii_case("active"));
            seen.identities.push(Identity {
                id: id.to_string(),
                kind: "client-secret".into(),
                provider: "okta",
                owner_id: client.map(str::to_string),
                created_us: event_type.ends_with(".create").then_some(access.time_us),
                active: !retired,
                credential_type: CredentialType::Static,
                credential_reason: "an OAuth client secret: valid until rotated or deleted".into(),
                ..Default::default()
            });
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(extra: serde_json::Value) -> serde_json::Value {
        let mut e = json!({"uuid": "u1", "published": "2025-07-21T14:48:24.597Z", "eventType": "user.session.start",
            "actor": {"id": "00u1", "type": "User", "alternateId": "ana@example.com"},
            "outcome": {"result": "SUCCESS"}, "target": [{"id": "0oa1", "type": "AppInstance", "alternateId": "Salesforce"}]});
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    }

    /// Okta's System Log reference: `SystemPrincipal` is Okta acting
    /// itself (its actor is `system@okta.com`, "Okta System").
    #[test]
    fn okta_itself_is_the_providers_service() {
        let record = event(json!({"eventType": "user.lifecycle.deactivate",
            "actor": {"id": "0oa1gjh63g214q0Hq0g4", "type": "SystemPrincipal", "alternateId": "system@okta.com", "displayName": "Okta System"}}));
        let n = normalise(&record).unwrap();
        assert_eq!(n.principal_type, PrincipalType::Service);
        assert!(
            n.principal_reason.contains("developer.okta.com"),
            "{}",
            n.principal_reason
        );
        let seen = observe(&record, &n);
        let okta = seen
            .identities
            .iter()
            .find(|i| i.id == "system@okta.com")
            .unwrap();
        assert_eq!(okta.ownership, crate::model::Ownership::Provider);
        assert_eq!(okta.vendor.as_deref(), Some("Okta"));
    }

    #[test]
    fn api_tokens_are_static_and_make_the_user_a_program() {
        let n = normalise(&event(json!({"transaction": {"type": "WEB", "detail": {"requestApiTokenId": "00T159py03CikoIKe5d7"}}}))).unwrap();
        assert_eq!(n.credential_type, CredentialType::Static);
        assert_eq!(n.credential_id.as_deref(), Some("00T159py03CikoIKe5d7"));
        assert_eq!(n.principal_type, PrincipalType::Service);
        assert_eq!(n.resource.as_deref(), Some("AppInstance:Salesforce"));
        let person = normalise(&event(json!({}))).unwrap();
        assert_eq!(
            (person.principal_type, person.credential_type),
            (PrincipalType::Human, CredentialType::Unknown)
        );
        let client = normalise(&event(json!({"actor": {"id": "0oa9", "type": "PublicClientApp", "alternateId": "reporting-job"},
            "authenticationContext": {"credentialType": "CLIENT_SECRET"}}))).unwrap();
        assert_eq!(
            (client.principal_type, client.credential_type),
            (PrincipalType::Workload, CredentialType::Static)
        );
    }

    #[test]
    fn consent_grants_become_grants_per_client_and_client_secrets_credentials() {
        let consent = event(json!({"eventType": "app.oauth2.admin.consent.grant",
            "actor": {"id": "00u1", "type": "User", "alternateId": "admin@example.com"},
            "target": [
                {"id": "oag1", "type": "ConsentGrant", "displayName": "okta.users.manage", "detailEntry": {"publicclientapp": "0oaVENDOR"}},
                {"id": "oag2", "type": "ConsentGrant", "displayName": "okta.logs.read", "detailEntry": {"publicclientapp": "0oaVENDOR"}},
                {"id": "oag3", "type": "ConsentGrant", "displayName": "okta.myAccount.profile.manage", "detailEntry": {"publicclientapp": "0oaOTHER"}}]}));
        let n = normalise(&consent).unwrap();
        let seen = observe(&consent, &n);
        assert_eq!(seen.grants.len(), 2);
        assert_eq!(seen.grants[0].principal.as_deref(), Some("0oaVENDOR"));
        assert_eq!(seen.grants[0].actions, "okta.users.manage okta.logs.read");
        assert!(seen.grants[0].admin);
        assert!(!seen.grants[1].admin);

        let secret = event(
            json!({"eventType": "app.oauth2.credentials.lifecycle.create",
            "target": [{"id": "ocs1", "type": "OAuth2ClientSecretEntity", "detailEntry": {"clientid": "0oa7", "clientsecret": "partial", "status": "active"}}]}),
        );
        let seen = observe(&secret, &normalise(&secret).unwrap());
        let row = &seen.identities[0];
        assert_eq!(
            (row.id.as_str(), row.owner_id.as_deref()),
            ("ocs1", Some("0oa7"))
        );
        assert!(row.active && row.created_us.is_some());
        assert!(
            !format!("{row:?}").contains("partial"),
            "the secret's text is never kept"
        );
    }

    #[test]
    fn outcomes_decide() {
        let denied = normalise(&event(
            json!({"outcome": {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"}}),
        ))
        .unwrap();
        assert_eq!(denied.decision, Decision::Deny);
        let none = normalise(&event(json!({"outcome": null}))).unwrap();
        assert_eq!(
            (none.decision, none.decision_reason.as_deref()),
            (Decision::Allow, Some("no outcome recorded"))
        );
        assert!(detect(&event(json!({}))));
        assert!(!detect(&json!({"eventType": "x", "time": 1})));
    }
}
