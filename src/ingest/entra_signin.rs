//! Microsoft Entra ID sign-ins of service principals, managed identities,
//! agents and people (Azure Monitor `ServicePrincipalSignInLogs` / `ManagedIdentitySignInLogs`
//! records, and Graph `signIn` objects).
//!
//! Credential type from `clientCredentialType`: `clientSecret` and
//! `certificate` → static (registered on the app until someone removes it);
//! `federatedIdentityCredential` and `managedIdentity` → ephemeral;
//! `clientAssertion` → unknown (a certificate or a federated token). When
//! the field is absent (older exports): a managed-identity category →
//! ephemeral; a `servicePrincipalCredentialKeyId` → static (a secret or
//! certificate registered on the app); otherwise unknown.
//!
//! Principal: the service principal id (else the app id); service
//! principals are workloads, managed identities are workloads. A person's
//! sign-in (`SignInLogs`, `NonInteractiveUserSignInLogs`, a Graph `signIn`
//! with a `userPrincipalName` and no service principal) is read as a human
//! by `userPrincipalName`, the app signed in to as the resource. Decision:
//! error code 0 → allow; sign-in failures are denials (the credential or
//! policy was refused).

use crate::json::JsonRef;

use super::fields::{azure_properties, owned, text, truthy};
use super::observed::Observed;
use super::platform::microsoft_application;
use super::Normalised;
use crate::model::{CredentialType, Decision, Identity, Ownership, PrincipalType};
use crate::time::parse_time;

pub const SOURCE: &str = "entra-signin";

pub fn detect<'a, J: JsonRef<'a>>(record: J) -> bool {
    let category = text(record, "/category").unwrap_or("");
    category.ends_with("SignInLogs")
        || record.get("createdDateTime").is_some()
            && (record.get("servicePrincipalId").is_some()
                || agent_type(record).is_some()
                || record.get("userPrincipalName").is_some() && record.get("appId").is_some())
}

/// A person's sign-in (`SignInLogs`, `NonInteractiveUserSignInLogs`, a
/// Graph `signIn` with no service principal): read for the human side of
/// the review (who uses which app), never judged as an NHI.
fn is_person<'a, J: JsonRef<'a>>(record: J, props: J) -> bool {
    let category = text(record, "/category").unwrap_or("");
    if matches!(category, "SignInLogs" | "NonInteractiveUserSignInLogs") {
        return true;
    }
    category.is_empty()
        && text(props, "/servicePrincipalId")
            .is_none_or(|s| s.chars().all(|c| c == '0' || c == '-'))
        && text(props, "/userPrincipalName").is_some()
}

/// The platform named for Entra's agents.
pub const AGENT_PLATFORM: &str = "Microsoft Entra Agent ID";

/// An agentic sign-in's `agent.agentType` (Graph `signIn.agent`, Azure
/// Monitor `properties.agent`): `agenticAppInstance` (an agent identity),
/// `agenticApp` or `agentIdentityBlueprintPrincipal` (a blueprint), or
/// `agentIDuser` (an agent's user account); `notAgentic` is none.
fn agent_type<'a, J: JsonRef<'a>>(record: J) -> Option<&'a str> {
    let props = azure_properties(record);
    text(props, "/agent/agentType")
        .or_else(|| text(props, "/agent/agentSubjectType"))
        .filter(|t| !t.eq_ignore_ascii_case("notAgentic") && *t != "unknownFutureValue")
}

/// The identity kind of an agent type.
fn agent_kind(agent_type: &str) -> &'static str {
    match agent_type {
        "agenticAppInstance" => "agent-identity",
        "agentIDuser" | "agentIdUser" => "agent-user",
        _ => "agent-blueprint",
    }
}

pub fn normalise<'a, J: JsonRef<'a>>(record: J) -> Result<Normalised, String> {
    // Azure Monitor puts the sign-in under `properties`; Graph returns it bare.
    let props = azure_properties(record);
    let category = text(record, "/category").unwrap_or("");
    let time_value = record
        .get("time")
        .or_else(|| props.get("createdDateTime"))
        .ok_or("no time or createdDateTime")?;
    let time_us = parse_time(time_value).ok_or_else(|| {
        format!(
            "time {} is not a date-time with a time zone",
            time_value.to_value()
        )
    })?;
    let sp_id =
        text(props, "/servicePrincipalId").filter(|s| !s.chars().all(|c| c == '0' || c == '-'));
    let agent = agent_type(record);
    // An agent's user account signs in as a user.
    let agent_user = agent
        .filter(|t| agent_kind(t) == "agent-user")
        .and_then(|_| text(props, "/userPrincipalName").or_else(|| text(props, "/userId")));
    let person = agent.is_none() && is_person(record, props);
    if person {
        return person_sign_in(record, props, time_us);
    }
    let principal_id = agent_user
        .or(sp_id)
        .or_else(|| text(props, "/appId"))
        .map(str::to_string)
        .ok_or("no servicePrincipalId or appId: the sign-in names no caller")?;
    let managed =
        category.contains("ManagedIdentity") || text(props, "/managedIdentityType").is_some();

    let key_id = owned(props, "/servicePrincipalCredentialKeyId");
    let (credential_type, credential_reason, auth_method) = match text(props, "/clientCredentialType") {
        Some(kind @ ("clientSecret" | "certificate")) => (
            CredentialType::Static,
            format!("clientCredentialType {kind}: a credential registered on the app that lasts until removed"),
            kind.to_string(),
        ),
        Some(kind @ ("federatedIdentityCredential" | "managedIdentity")) => (
            CredentialType::Ephemeral,
            format!("clientCredentialType {kind}: a short-lived token from a trusted issuer"),
            kind.to_string(),
        ),
        Some(other) => (
            CredentialType::Unknown,
            format!("clientCredentialType {other}: the log does not say whether it was a certificate or a federated token"),
            other.to_string(),
        ),
        None if managed => (
            CredentialType::Ephemeral,
            "managed identity sign-in: Azure issues and rotates the credential".to_string(),
            "managedIdentity".to_string(),
        ),
        None if key_id.is_some() => (
            CredentialType::Static,
            "servicePrincipalCredentialKeyId: a secret or certificate registered on the app (no clientCredentialType in this export)".to_string(),
            "app-credential".to_string(),
        ),
        None => (CredentialType::Unknown, "no clientCredentialType nor credential key id".to_string(), "unknown".to_string()),
    };

    let (decision, decision_reason) = decision(record, props);
    // Microsoft's own application acting in the tenant (cited table).
    let microsoft = agent
        .is_none()
        .then(|| microsoft_application(text(props, "/appId"), text(props, "/appOwnerTenantId")))
        .flatten();
    let (principal_type, principal_reason) = match (agent, microsoft) {
        (Some(t), _) => (
            PrincipalType::Agent,
            format!("agent.agentType {t}: a Microsoft Entra Agent ID identity"),
        ),
        (None, Some(platform)) => (PrincipalType::Service, platform.reason()),
        (None, None) if managed => (PrincipalType::Workload, "managed identity".into()),
        (None, None) => (
            PrincipalType::Workload,
            "service principal (application identity)".into(),
        ),
    };
    Ok(Normalised {
        time_us,
        event_id: owned(props, "/id"),
        principal_id,
        principal_type,
        principal_reason,
        session_name: owned(props, "/servicePrincipalName"),
        credential_id: key_id,
        credential_type,
        credential_reason,
        auth_method,
        action: "sign-in".to_string(),
        resource: owned(props, "/resourceDisplayName").or_else(|| owned(props, "/resourceId")),
        decision,
        decision_reason,
        source_address: owned(props, "/ipAddress").or_else(|| owned(record, "/callerIpAddress")),
        user_agent: owned(props, "/userAgent"),
        account: owned(record, "/tenantId").or_else(|| owned(props, "/resourceTenantId")),
        environment: owned(record, "/location"),
    })
}

/// The decision of a sign-in: error code 0 → allow, any other → deny.
fn decision<'a, J: JsonRef<'a>>(record: J, props: J) -> (Decision, Option<String>) {
    let error_code = props
        .pointer("/status/errorCode")
        .and_then(J::as_i64)
        .unwrap_or(0);
    if error_code == 0 {
        return (Decision::Allow, None);
    }
    let detail =
        text(props, "/status/failureReason").or_else(|| text(record, "/resultDescription"));
    (
        Decision::Deny,
        Some(match detail {
            Some(d) => format!("AADSTS{error_code}: {d}"),
            None => format!("AADSTS{error_code}"),
        }),
    )
}

/// A person signing in to an app: the app is the resource.
fn person_sign_in<'a, J: JsonRef<'a>>(
    record: J,
    props: J,
    time_us: i64,
) -> Result<Normalised, String> {
    let principal_id = text(props, "/userPrincipalName")
        .or_else(|| text(props, "/userId"))
        .map(str::to_string)
        .ok_or("a user sign-in with no userPrincipalName or userId")?;
    let (decision, decision_reason) = decision(record, props);
    let interactive = truthy(props, "/isInteractive");
    Ok(Normalised {
        time_us,
        event_id: owned(props, "/id"),
        principal_id,
        principal_type: PrincipalType::Human,
        principal_reason: format!(
            "{} user sign-in",
            if interactive {
                "an interactive"
            } else {
                "a non-interactive"
            }
        ),
        session_name: None,
        credential_id: None,
        credential_type: CredentialType::Unknown,
        credential_reason: "a person's sign-in: authentication methods, not a workload credential"
            .into(),
        auth_method: text(props, "/authenticationRequirement")
            .unwrap_or("user")
            .to_string(),
        action: "sign-in".to_string(),
        resource: owned(props, "/appDisplayName")
            .or_else(|| owned(props, "/resourceDisplayName"))
            .or_else(|| owned(props, "/appId")),
        decision,
        decision_reason,
        source_address: owned(props, "/ipAddress").or_else(|| owned(record, "/callerIpAddress")),
        user_agent: owned(props, "/userAgent"),
        account: owned(record, "/tenantId").or_else(|| owned(props, "/homeTenantId")),
        environment: owned(record, "/location"),
    })
}

/// An agent identity with its blueprint and the person it acts for, an
/// app owned by another tenant as third-party, and Microsoft's own
/// applications acting as themselves as the provider's.
pub fn observe<'a, J: JsonRef<'a>>(record: J, access: &Normalised) -> Observed {
    let props = azure_properties(record);
    let mut seen = Observed::default();
    let tenant = text(record, "/tenantId")
        .or_else(|| text(props, "/homeTenantId"))
        .or_else(|| text(props, "/resourceTenantId"));
    let owner_tenant = text(props, "/appOwnerTenantId");
    let agent = agent_type(record);
    // Only a sign-in whose caller is the app says anything of the app.
    let microsoft = (access.principal_type == PrincipalType::Service)
        .then(|| microsoft_application(text(props, "/appId"), owner_tenant))
        .flatten();
    let foreign = match (owner_tenant, tenant) {
        (Some(owner), Some(tenant)) => {
            owner != tenant && microsoft_application(None, Some(owner)).is_none()
        }
        _ => false,
    };
    if agent.is_none() && !foreign && microsoft.is_none() {
        return seen;
    }
    let mut identity = Identity {
        id: access.principal_id.clone(),
        kind: agent.map_or("service-principal", agent_kind).into(),
        provider: "azure",
        environment: access.account.clone(),
        last_used_us: Some(access.time_us),
        active: true,
        credential_type: access.credential_type,
        credential_reason: access.credential_reason.clone(),
        ..Default::default()
    };
    if agent.is_some() {
        identity.agent_platform = Some(AGENT_PLATFORM.into());
        identity.details = text(props, "/agent/agentSubjectParentId")
            .map(|p| format!("parent={p}"))
            .unwrap_or_default();
        // A delegated agentic sign-in names the person it acts for.
        identity.on_behalf_of = text(props, "/userPrincipalName")
            .filter(|u| *u != access.principal_id)
            .map(str::to_string);
    }
    if let Some(platform) = microsoft {
        identity.ownership = Ownership::Provider;
        identity.vendor = Some(platform.platform.clone());
        identity.ownership_reason = platform.reason();
    } else if foreign {
        let owner = owner_tenant.unwrap_or_default();
        identity.ownership = Ownership::ThirdParty;
        identity.vendor = Some(format!("Entra tenant {owner}"));
        identity.ownership_reason = format!(
            "appOwnerTenantId {owner} is not this tenant: another organisation's multi-tenant app"
        );
    }
    seen.identities.push(identity);
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn signin(props: Value) -> Value {
        json!({"time": "2022-02-08T06:22:28.3518405Z", "category": "ServicePrincipalSignInLogs", "tenantId": "t", "properties": props})
    }

    #[test]
    fn credential_types() {
        let n = normalise(&signin(json!({"servicePrincipalId": "sp", "clientCredentialType": "clientSecret", "status": {"errorCode": 0}}))).unwrap();
        assert_eq!(n.credential_type, CredentialType::Static);
        let n = normalise(&signin(json!({"servicePrincipalId": "sp", "clientCredentialType": "federatedIdentityCredential"}))).unwrap();
        assert_eq!(n.credential_type, CredentialType::Ephemeral);
        let mut mi = signin(json!({"servicePrincipalId": "mi"}));
        mi["category"] = json!("ManagedIdentitySignInLogs");
        assert_eq!(
            normalise(&mi).unwrap().credential_type,
            CredentialType::Ephemeral
        );
    }

    /// Shaped as Microsoft Graph documents `signIn.agent` (no public
    /// sample of an agentic sign-in exists).
    #[test]
    fn agentic_sign_ins_are_agents_acting_for_the_person_named() {
        let record = json!({"id": "s1", "createdDateTime": "2026-05-01T10:00:00Z", "appId": "app-1",
            "servicePrincipalId": "agent-sp-1", "userPrincipalName": "ana@contoso.com",
            "clientCredentialType": "federatedIdentityCredential", "status": {"errorCode": 0},
            "agent": {"agentType": "agenticAppInstance", "agentSubjectType": "agenticAppInstance", "agentSubjectParentId": "blueprint-9"}});
        assert!(detect(&record));
        let n = normalise(&record).unwrap();
        assert_eq!(n.principal_type, PrincipalType::Agent);
        assert_eq!(n.principal_id, "agent-sp-1");
        assert_eq!(n.credential_type, CredentialType::Ephemeral);
        let seen = observe(&record, &n);
        let agent = &seen.identities[0];
        assert_eq!(agent.kind, "agent-identity");
        assert_eq!(agent.agent_platform.as_deref(), Some(AGENT_PLATFORM));
        assert_eq!(agent.on_behalf_of.as_deref(), Some("ana@contoso.com"));
        assert_eq!(agent.details, "parent=blueprint-9");

        // An agent's user account, in the user sign-in category.
        let user = json!({"time": "2026-05-01T10:00:00Z", "category": "NonInteractiveUserSignInLogs", "tenantId": "t",
            "properties": {"userPrincipalName": "agent-7@contoso.com", "appId": "app-2", "agent": {"agentType": "agentIDuser"}}});
        assert!(detect(&user));
        let n = normalise(&user).unwrap();
        assert_eq!(n.principal_id, "agent-7@contoso.com");
        assert_eq!(observe(&user, &n).identities[0].kind, "agent-user");

        let person = json!({"time": "2026-05-01T10:00:00Z", "category": "SignInLogs", "properties": {"userPrincipalName": "ana@contoso.com", "appDisplayName": "Azure Portal", "isInteractive": true, "agent": {"agentType": "notAgentic"}}});
        assert!(detect(&person));
        let n = normalise(&person).unwrap();
        assert_eq!(n.principal_type, PrincipalType::Human);
        assert_eq!(n.principal_id, "ana@contoso.com");
        assert_eq!(n.resource.as_deref(), Some("Azure Portal"));
        assert!(observe(&person, &n).identities.is_empty());
    }

    #[test]
    fn an_app_owned_by_another_tenant_is_third_party_and_microsofts_own_is_not() {
        let by = |owner: &str| {
            signin(
                json!({"servicePrincipalId": "sp", "appOwnerTenantId": owner, "clientCredentialType": "clientSecret"}),
            )
        };
        let vendor = by("aaaa-vendor");
        let seen = observe(&vendor, &normalise(&vendor).unwrap());
        assert_eq!(seen.identities[0].ownership, Ownership::ThirdParty);
        assert!(seen.identities[0].ownership_reason.contains("aaaa-vendor"));
        let own = by("t");
        assert!(observe(&own, &normalise(&own).unwrap())
            .identities
            .is_empty());
        // Microsoft's first-party apps are the provider's, by owner tenant
        // (Microsoft's page lists both of its tenants) or by app id.
        for owner in [
            "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
            "72F988BF-86F1-41AF-91AB-2D7CD011DB47",
        ] {
            let microsoft = by(owner);
            let n = normalise(&microsoft).unwrap();
            assert_eq!(n.principal_type, PrincipalType::Service, "{owner}");
            let seen = observe(&microsoft, &n);
            assert_eq!(seen.identities[0].ownership, Ownership::Provider);
            assert_eq!(seen.identities[0].vendor.as_deref(), Some("Microsoft"));
        }
        // Exchange Online's app id, as Microsoft's list gives it, with no
        // owner tenant in the record.
        let exchange = signin(
            json!({"servicePrincipalId": "sp-exo", "appId": "00000002-0000-0ff1-ce00-000000000000", "clientCredentialType": "certificate"}),
        );
        let n = normalise(&exchange).unwrap();
        assert_eq!(n.principal_type, PrincipalType::Service);
        assert!(
            n.principal_reason.contains("Office 365 Exchange Online"),
            "{}",
            n.principal_reason
        );
        assert_eq!(
            observe(&exchange, &n).identities[0].ownership,
            Ownership::Provider
        );
    }

    #[test]
    fn failures_are_denials_with_the_code() {
        let n = normalise(&signin(json!({"servicePrincipalId": "sp", "status": {"errorCode": 7000215, "failureReason": "Invalid client secret provided."}}))).unwrap();
        assert_eq!(n.decision, Decision::Deny);
        assert_eq!(
            n.decision_reason.as_deref(),
            Some("AADSTS7000215: Invalid client secret provided.")
        );
    }
}
