//! Google Workspace audit activities (Admin SDK Reports API,
//! `admin#reports#activity`: `id.time`, `id.applicationName`,
//! `id.customerId`, `actor`, `ipAddress`, `events[]` of `{type, name,
//! parameters[]}`; exporters that split activities per event, such as
//! Elastic's, hold one event as an object instead of a list).
//!
//! Principal: `actor.email` (else `profileId`); `callerType` `USER` →
//! human, `KEY` (an OAuth 2LO consumer key or a robot account, named in
//! `actor.key`) → workload with a static credential. In the `token`
//! application an `activity` / `request` event is an OAuth client using a
//! user's grant: the client (`client_id`) is the principal, a workload, its
//! credential the user's OAuth token (ephemeral, though the refresh token
//! behind it lasts until revoked).
//!
//! A token `authorize` event is a person granting an app outside Google
//! access to their data: the client becomes a third-party `oauth-client`
//! identity (Google counts every such app as third-party app access), and
//! its scopes a grant, with full-mailbox, admin, cloud-platform and
//! full-Drive scopes flagged.

use crate::json::JsonRef;

use super::fields::{owned, text};
use super::observed::{scope_grant, Observed};
use super::Normalised;
use crate::model::{CredentialType, Decision, Identity, Ownership, PrincipalType};
use crate::time::parse_time;

pub const SOURCE: &str = "google-workspace";

pub fn detect<'a, J: JsonRef<'a>>(record: J) -> bool {
    text(record, "/kind") == Some("admin#reports#activity")
        || (text(record, "/id/applicationName").is_some() && record.get("events").is_some())
}

/// The activity's events, whether a list or one object.
fn events<'a, J: JsonRef<'a>>(record: J) -> Vec<J> {
    match record.get("events") {
        Some(events) => match events.as_array() {
            Some(items) => items.filter(|e| e.is_object()).collect(),
            None if events.is_object() => vec![events],
            None => Vec::new(),
        },
        None => Vec::new(),
    }
}

/// The event's parameter named `name`.
fn find_parameter<'a, J: JsonRef<'a>>(event: J, name: &str) -> Option<J> {
    event
        .get("parameters")?
        .as_array()?
        .find(|p| p.get("name").and_then(J::as_str) == Some(name))
}

/// A parameter's value as text (`value` may be a string or a number).
fn parameter<'a, J: JsonRef<'a>>(event: J, name: &str) -> Option<String> {
    let found = find_parameter(event, name)?;
    let value = found
        .get("value")
        .or_else(|| found.get("intValue"))
        .or_else(|| found.get("boolValue"))?;
    match value.as_str() {
        Some(s) => Some(s.to_string()).filter(|s| !s.is_empty()),
        None if value.is_number() || value.as_bool().is_some() => {
            Some(value.to_value().to_string())
        }
        None => None,
    }
}

/// A parameter's `multiValue` list.
fn parameter_list<'a, J: JsonRef<'a>>(event: J, name: &str) -> Vec<String> {
    find_parameter(event, name)
        .and_then(|p| p.get("multiValue"))
        .and_then(J::as_array)
        .map(|items| items.filter_map(J::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// A token event in which the client, not the person, acts.
fn client_acts(application: &str, name: &str) -> bool {
    application == "token" && matches!(name, "activity" | "request")
}

pub fn normalise<'a, J: JsonRef<'a>>(record: J) -> Result<Normalised, String> {
    let time_value = record.pointer("/id/time").ok_or("no id.time")?;
    let time_us = parse_time(time_value)
        .ok_or_else(|| format!("id.time {} is not a point in time", time_value.to_value()))?;
    let application = text(record, "/id/applicationName").unwrap_or("");
    let events = events(record);
    let first = *events
        .first()
        .ok_or("no events: the activity records no action")?;
    let name = text(first, "/name").ok_or("the first event has no name")?;
    let client = parameter(first, "client_id");
    let actor = owned(record, "/actor/email")
        .or_else(|| owned(record, "/actor/key"))
        .or_else(|| {
            record
                .pointer("/actor/profileId")
                .map(|p| p.to_value().to_string().trim_matches('"').to_string())
        });
    let caller = text(record, "/actor/callerType").unwrap_or("");
    let (principal_id, principal_type, principal_reason, credential) =
        match (client.as_deref(), client_acts(application, name)) {
            (Some(client), true) => (
                client.to_string(),
                PrincipalType::Workload,
                "token activity: an OAuth client using a person's grant".to_string(),
                (
                    CredentialType::Ephemeral,
                    "an OAuth access token from a person's grant (its refresh token lasts until revoked)",
                    "oauth-token",
                ),
            ),
            _ => {
                let actor = actor.ok_or("the actor has no email, key or profileId")?;
                if caller.eq_ignore_ascii_case("KEY") || record.pointer("/actor/key").is_some() {
                    (
                        actor,
                        PrincipalType::Workload,
                        "actor.callerType KEY: an OAuth consumer key or robot account".to_string(),
                        (
                            CredentialType::Static,
                            "an OAuth 2LO consumer key: valid until removed",
                            "consumer-key",
                        ),
                    )
                } else {
                    (
                        actor,
                        PrincipalType::Human,
                        format!(
                            "actor.callerType {}",
                            if caller.is_empty() { "(none)" } else { caller }
                        ),
                        (
                            CredentialType::Unknown,
                            "the activity does not say how the person signed in",
                            "unknown",
                        ),
                    )
                }
            }
        };
    let names: Vec<&str> =
        events
            .iter()
            .filter_map(|e| text(*e, "/name"))
            .fold(Vec::new(), |mut names, n| {
                if !names.contains(&n) {
                    names.push(n);
                }
                names
            });
    let resource = match client_acts(application, name) {
        true => parameter(first, "api_name")
            .map(|api| match parameter(first, "method_name") {
                Some(m) => format!("{api}.{m}"),
                None => api,
            })
            .or(client.clone()),
        false => client
            .clone()
            .or_else(|| parameter(first, "doc_id"))
            .or_else(|| parameter(first, "USER_EMAIL")),
    };
    let failed = names
        .iter()
        .any(|n| n.contains("failure") || n.contains("fail"));
    Ok(Normalised {
        time_us,
        event_id: owned(record, "/id/uniqueQualifier"),
        principal_id,
        principal_type,
        principal_reason,
        session_name: None,
        credential_id: None,
        credential_type: credential.0,
        credential_reason: credential.1.into(),
        auth_method: credential.2.into(),
        action: format!("{application}.{}", names.join(",")),
        resource,
        decision: if failed {
            Decision::Deny
        } else {
            Decision::Allow
        },
        decision_reason: failed.then(|| names.join(",")),
        source_address: owned(record, "/ipAddress"),
        user_agent: None,
        account: owned(record, "/id/customerId"),
        environment: None,
    })
}

/// Scopes whose grant reaches everything of a kind, flagged on the grant.
fn broad_scope(scope: &str) -> Option<&'static str> {
    let s = scope.trim_end_matches('/');
    if s.contains("/auth/admin.") {
        Some("admin")
    } else if s == "https://mail.google.com" {
        Some("broad: the whole mailbox")
    } else if s.ends_with("/auth/cloud-platform") {
        Some("broad: all of Google Cloud")
    } else if s.ends_with("/auth/drive") {
        Some("broad: every Drive file")
    } else {
        None
    }
}

/// A token `authorize`: the client as a third-party identity, its scopes
/// as a grant. Token activity: the client as an identity acting for the
/// person.
pub fn observe<'a, J: JsonRef<'a>>(record: J, access: &Normalised) -> Observed {
    let mut seen = Observed::default();
    if text(record, "/id/applicationName") != Some("token") {
        return seen;
    }
    let person = owned(record, "/actor/email");
    for event in events(record) {
        let name = text(event, "/name").unwrap_or("");
        let Some(client) = parameter(event, "client_id") else {
            continue;
        };
        let app = parameter(event, "app_name");
        let mut details = Vec::new();
        if let Some(app) = &app {
            details.push(format!("app={app}"));
        }
        if let Some(t) = parameter(event, "client_type") {
            details.push(format!("client_type={t}"));
        }
        let mut identity = Identity {
            id: client.clone(),
            kind: "oauth-client".into(),
            provider: "google-workspace",
            environment: access.account.clone(),
            last_used_us: Some(access.time_us),
            active: true,
            credential_type: CredentialType::Static,
            credential_reason: "an OAuth grant: its refresh token lasts until revoked".into(),
            on_behalf_of: person.clone(),
            ownership: Ownership::ThirdParty,
            ownership_reason: format!(
                "{} {} OAuth client {client}{}: an app outside Google holding a person's grant",
                person.as_deref().unwrap_or("a person"),
                if name == "authorize" {
                    "authorised"
                } else {
                    "is served by"
                },
                app.as_deref()
                    .map(|a| format!(" ({a})"))
                    .unwrap_or_default()
            ),
            ..Default::default()
        };
        match name {
            "authorize" => {
                let mut scopes = parameter_list(event, "scope");
                if scopes.is_empty() {
                    scopes = scope_data(event);
                }
                if !scopes.is_empty() {
                    details.push(format!("scopes={}", scopes.join(" ")));
                }
                identity.created_us = Some(access.time_us);
                let flags = scopes
                    .iter()
                    .filter_map(|s| broad_scope(s).map(|why| format!("{why} scope {s}")))
                    .collect();
                seen.grants.push(scope_grant(
                    &client,
                    format!(
                        "Google Workspace OAuth grant by {}",
                        person.as_deref().unwrap_or("a person")
                    ),
                    &scopes,
                    flags,
                ));
            }
            "activity" | "request" => {}
            _ => continue,
        }
        identity.details = details.join("; ");
        seen.identities.push(identity);
    }
    seen
}

/// Scopes from `scope_data` (`multiMessageValue` of `scope_name` entries).
fn scope_data<'a, J: JsonRef<'a>>(event: J) -> Vec<String> {
    let Some(data) = find_parameter(event, "scope_data") else {
        return Vec::new();
    };
    data.get("multiMessageValue")
        .and_then(J::as_array)
        .map(|messages| {
            messages
                .filter_map(|m| {
                    let mut inner = m.get("parameter")?.as_array()?;
                    inner
                        .find(|p| p.get("name").and_then(J::as_str) == Some("scope_name"))?
                        .get("value")?
                        .as_str()
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn authorize(events: serde_json::Value) -> serde_json::Value {
        json!({"kind": "admin#reports#activity", "actor": {"callerType": "USER", "email": "ana@example.com", "profileId": "1"},
            "id": {"applicationName": "token", "customerId": "C0", "time": "2023-01-01T06:24:42.442Z", "uniqueQualifier": "-67"},
            "ipAddress": "89.160.20.112", "events": events})
    }

    #[test]
    fn an_authorisation_makes_a_third_party_client_with_its_scopes() {
        let one = json!({"type": "auth", "name": "authorize", "parameters": [
            {"name": "client_id", "value": "123-abc.apps.googleusercontent.com"},
            {"name": "app_name", "value": "Mail Helper"},
            {"name": "num_response_bytes", "value": 1223},
            {"name": "scope", "multiValue": ["https://mail.google.com/", "https://www.googleapis.com/auth/userinfo.email"]}]});
        // The API's list, and an exporter's single object, read alike.
        for record in [authorize(json!([one.clone()])), authorize(one)] {
            assert!(detect(&record));
            let n = normalise(&record).unwrap();
            assert_eq!(n.principal_id, "ana@example.com");
            assert_eq!(n.principal_type, PrincipalType::Human);
            assert_eq!(n.action, "token.authorize");
            assert_eq!(
                n.resource.as_deref(),
                Some("123-abc.apps.googleusercontent.com")
            );
            let seen = observe(&record, &n);
            let client = &seen.identities[0];
            assert_eq!(client.ownership, Ownership::ThirdParty);
            assert_eq!(client.on_behalf_of.as_deref(), Some("ana@example.com"));
            assert!(client.details.contains("app=Mail Helper"));
            let grant = &seen.grants[0];
            assert!(grant.flags.contains("whole mailbox"), "{}", grant.flags);
            assert!(!grant.admin);
        }
    }

    #[test]
    fn token_activity_is_the_client_acting_for_the_person() {
        let record = authorize(json!([{"name": "activity", "parameters": [
            {"name": "client_id", "value": "123-abc"}, {"name": "api_name", "value": "gmail"}, {"name": "method_name", "value": "gmail.users.messages.list"}]}]));
        let n = normalise(&record).unwrap();
        assert_eq!(n.principal_id, "123-abc");
        assert_eq!(n.principal_type, PrincipalType::Workload);
        assert_eq!(n.credential_type, CredentialType::Ephemeral);
        let seen = observe(&record, &n);
        assert_eq!(seen.identities[0].ownership, Ownership::ThirdParty);
        assert!(seen.grants.is_empty());
    }

    #[test]
    fn admin_scopes_are_admin() {
        assert_eq!(
            broad_scope("https://www.googleapis.com/auth/admin.directory.user"),
            Some("admin")
        );
        assert_eq!(
            broad_scope("https://www.googleapis.com/auth/gmail.readonly"),
            None
        );
    }
}
