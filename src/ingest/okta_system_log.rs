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
use super::Normalised;
use crate::model::{CredentialType, Decision, PrincipalType};
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
    let (principal_type, principal_reason) = match actor_type {
        "SystemPrincipal" => (
            PrincipalType::Service,
            "actor.type SystemPrincipal: Okta itself".to_string(),
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
        credential_id: api_token.or_else(|| {
            owned(record, "/authenticationContext/externalSessionId")
                .filter(|_| credential_kind.is_some())
        }),
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
