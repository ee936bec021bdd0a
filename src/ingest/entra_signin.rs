//! Microsoft Entra ID sign-ins of service principals and managed identities
//! (Azure Monitor `ServicePrincipalSignInLogs` / `ManagedIdentitySignInLogs`
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
//! principals are workloads, managed identities are workloads. Decision:
//! error code 0 → allow; sign-in failures are denials (the credential or
//! policy was refused).

use crate::json::JsonRef;

use super::fields::{owned, text};
use super::Normalised;
use crate::model::{CredentialType, Decision, PrincipalType};
use crate::time::parse_time;

pub const SOURCE: &str = "entra-signin";

pub fn detect<'a, J: JsonRef<'a>>(record: J) -> bool {
    let category = text(record, "/category").unwrap_or("");
    category.ends_with("SignInLogs")
        && category != "SignInLogs"
        && category != "NonInteractiveUserSignInLogs"
        || record.get("servicePrincipalId").is_some() && record.get("createdDateTime").is_some()
}

pub fn normalise<'a, J: JsonRef<'a>>(record: J) -> Result<Normalised, String> {
    // Azure Monitor puts the sign-in under `properties`; Graph returns it bare.
    let props = record
        .get("properties")
        .filter(|p| p.is_object())
        .unwrap_or(record);
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
    let principal_id = sp_id
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

    let error_code = props
        .pointer("/status/errorCode")
        .and_then(J::as_i64)
        .unwrap_or(0);
    let (decision, decision_reason) = if error_code == 0 {
        (Decision::Allow, None)
    } else {
        let detail =
            text(props, "/status/failureReason").or_else(|| text(record, "/resultDescription"));
        (
            Decision::Deny,
            Some(match detail {
                Some(d) => format!("AADSTS{error_code}: {d}"),
                None => format!("AADSTS{error_code}"),
            }),
        )
    };
    Ok(Normalised {
        time_us,
        event_id: owned(props, "/id"),
        principal_id,
        principal_type: PrincipalType::Workload,
        principal_reason: if managed {
            "managed identity".into()
        } else {
            "service principal (application identity)".into()
        },
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
