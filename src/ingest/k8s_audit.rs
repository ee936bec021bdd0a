//! Kubernetes audit events (`audit.k8s.io/v1` and `v1beta1` `Event`).
//!
//! Credential type, first rule that applies:
//! 1. `user.extra["authentication.kubernetes.io/credential-id"]` (a `JTI=`
//!    bound-token id) or pod claims (`.../pod-name`, `.../pod-uid`) → ephemeral:
//!    a bound, projected service-account token;
//! 2. an AWS IAM identity in `user.extra` (EKS's authenticator): the access
//!    key prefix, as for CloudTrail (`ASIA` ephemeral, `AKIA` static), else
//!    ephemeral for an assumed-role ARN;
//! 3. a `system:serviceaccount:` user with neither → static: a legacy token
//!    stored in a Secret, which does not expire;
//! 4. `system:anonymous` → unknown (no credential at all);
//! 5. otherwise unknown: the audit log does not say how users authenticated
//!    (client certificate, OIDC, static token file).
//!
//! Principal type: a managed platform's own identity
//! (`mappings/platform-identities.toml`: AKS's `aksService`, `masterclient`,
//! `nodeclient`, EKS's `eks:*`, GKE's `system:gke-*`, OpenShift's, K3s's,
//! Rancher's, each citing its vendor's page) → service, ownership
//! `provider`; service accounts → workload; nodes (`system:node:*`) and
//! control-plane components (`system:kube-*`, `system:apiserver`) →
//! service; certificate identities (`kubernetes-admin`, `clusterAdmin`,
//! `clusterUser`) → service; `system:anonymous` → anonymous; any other user
//! → human.
//!
//! Client certificates: a platform identity the table marks `x509`, or a
//! user with no token claims in `user.extra` who is in `system:masters` or
//! is one of the certificate identities above → static (an x509 client
//! certificate, id `x509:USER`), so a certificate used from several places
//! is judged as a shared static key is.
//!
//! Decision: `annotations["authorization.k8s.io/decision"]` (`allow` /
//! `forbid`) when present; else `responseStatus.code`: 401 and 403 → deny,
//! other 4xx and 5xx → error, else allow.

use crate::json::JsonRef;

use super::cloudtrail::split_assumed_role;
use super::fields::{first_text, owned, text};
use super::Normalised;
use crate::model::{CredentialType, Decision, PrincipalType};
use crate::time::parse_time;

pub const SOURCE: &str = "k8s-audit";

const CREDENTIAL_ID: &str = "authentication.kubernetes.io~1credential-id";
const POD_NAME: &str = "authentication.kubernetes.io~1pod-name";
const POD_UID: &str = "authentication.kubernetes.io~1pod-uid";

/// Whether a record is a Kubernetes audit event.
pub fn detect<'a, J: JsonRef<'a>>(record: J) -> bool {
    let api = text(record, "/apiVersion").unwrap_or("");
    api.starts_with("audit.k8s.io/")
        || record.get("auditID").is_some()
            && record.get("verb").is_some()
            && record.get("stage").is_some()
}

/// Request stages that repeat a request logged again at `ResponseComplete`.
pub fn superseded_stage<'a, J: JsonRef<'a>>(record: J) -> Option<&'a str> {
    text(record, "/stage").filter(|s| *s == "RequestReceived" || *s == "ResponseStarted")
}

pub fn normalise<'a, J: JsonRef<'a>>(record: J) -> Result<Normalised, String> {
    let verb = text(record, "/verb").ok_or("no verb")?;
    let time_value = [
        "/stageTimestamp",
        "/requestReceivedTimestamp",
        "/timestamp",
        "/metadata/creationTimestamp",
    ]
    .iter()
    .find_map(|p| record.pointer(p).filter(|v| !v.is_null()))
    .ok_or("no stageTimestamp, requestReceivedTimestamp or timestamp")?;
    let time_us = parse_time(time_value).ok_or_else(|| {
        format!(
            "timestamp {} is not a date-time with a time zone",
            time_value.to_value()
        )
    })?;
    let username =
        text(record, "/user/username").ok_or("no user.username: the event names no caller")?;

    let platform = super::platform::lookup(username);
    let (principal_type, principal_reason) = principal(username, platform);
    let (credential_type, credential_reason, auth_method, credential_id) =
        credential(record, username, platform);
    let (decision, decision_reason) = decision(record);
    let iam_session = first_text(record, "/user/extra/arn").map(split_assumed_role);
    Ok(Normalised {
        time_us,
        event_id: owned(record, "/auditID"),
        principal_id: username.to_string(),
        principal_type,
        principal_reason,
        session_name: first_text(record, "/user/extra/sessionName")
            .map(str::to_string)
            .or_else(|| iam_session.and_then(|(_, s)| s)),
        credential_id,
        credential_type,
        credential_reason,
        auth_method,
        action: verb.to_string(),
        resource: resource(record),
        decision,
        decision_reason,
        source_address: first_text(record, "/sourceIPs").map(str::to_string),
        user_agent: owned(record, "/userAgent"),
        account: None,
        environment: owned(record, "/annotations/cluster-name"),
    })
}

fn principal(
    username: &str,
    platform: Option<&super::platform::PlatformIdentity>,
) -> (PrincipalType, String) {
    if let Some(platform) = platform {
        (PrincipalType::Service, platform.reason())
    } else if username.starts_with("system:serviceaccount:") {
        (PrincipalType::Workload, "Kubernetes service account".into())
    } else if username.starts_with("system:node:") {
        (PrincipalType::Service, "kubelet node identity".into())
    } else if matches!(
        username,
        "kubernetes-admin" | "clusterAdmin" | "clusterUser"
    ) {
        (
            PrincipalType::Service,
            format!("{username}: a client-certificate identity (kubeadm's admin.conf, AKS's cluster certificates) shared by people and automation"),
        )
    } else if username == "system:anonymous" {
        (
            PrincipalType::Anonymous,
            "system:anonymous: a request that presented no credential".into(),
        )
    } else if username.starts_with("system:") {
        (
            PrincipalType::Service,
            "Kubernetes control-plane component".into(),
        )
    } else {
        (
            PrincipalType::Human,
            "user outside the system: namespace".into(),
        )
    }
}

fn credential<'a, J: JsonRef<'a>>(
    record: J,
    username: &str,
    platform: Option<&super::platform::PlatformIdentity>,
) -> (CredentialType, String, String, Option<String>) {
    let extra = |key: &str| first_text(record, &format!("/user/extra/{key}"));
    if let Some(id) = extra(CREDENTIAL_ID) {
        return (
            CredentialType::Ephemeral,
            "user.extra credential-id: a bound service-account token".into(),
            "bound-token".into(),
            Some(id.to_string()),
        );
    }
    if extra(POD_NAME).is_some() || extra(POD_UID).is_some() {
        return (
            CredentialType::Ephemeral,
            "user.extra pod claims: a projected token bound to a pod".into(),
            "bound-token".into(),
            None,
        );
    }
    if let Some(key) = extra("accessKeyId") {
        let (kind, why) = if key.starts_with("AKIA") {
            (
                CredentialType::Static,
                "AWS IAM authenticator with an AKIA long-term key",
            )
        } else if key.starts_with("ASIA")
            || extra("arn").is_some_and(|a| a.contains(":assumed-role/"))
        {
            (
                CredentialType::Ephemeral,
                "AWS IAM authenticator with an assumed-role session",
            )
        } else {
            (
                CredentialType::Unknown,
                "AWS IAM authenticator; the key id has no known prefix",
            )
        };
        return (
            kind,
            why.into(),
            "aws-iam-authenticator".into(),
            Some(key.to_string()),
        );
    }
    if let Some(platform) = platform.filter(|p| p.client_certificate()) {
        return (
            CredentialType::Static,
            format!(
                "{}: authenticated with an x509 client certificate, valid until it expires or the CA is rotated",
                platform.platform
            ),
            "client-certificate".into(),
            Some(format!("x509:{username}")),
        );
    }
    // Certificate authentication: no token claims at all, and a group or
    // a name only certificates give (kubeadm's `admin.conf` user, AKS's
    // cluster admin and user certificates, `system:masters`).
    let extra_empty = record
        .pointer("/user/extra")
        .is_none_or(|e| e.is_null() || e.len() == 0);
    let masters = record
        .pointer("/user/groups")
        .and_then(J::as_array)
        .is_some_and(|mut g| g.any(|v| v.as_str() == Some("system:masters")));
    let certificate_user = matches!(
        username,
        "kubernetes-admin" | "clusterAdmin" | "clusterUser"
    );
    let not_a_person_or_account =
        username == "system:anonymous" || username.starts_with("system:serviceaccount:");
    if extra_empty && (masters || certificate_user) && !not_a_person_or_account {
        return (
            CredentialType::Static,
            format!(
                "{}: an x509 client certificate (no token claims), long-lived and often shared between people and automation",
                if masters { "group system:masters" } else { username }
            ),
            "client-certificate".into(),
            Some(format!("x509:{username}")),
        );
    }
    if username.starts_with("system:serviceaccount:") {
        return (
            CredentialType::Static,
            "service account without bound-token claims: a legacy Secret-based token that does not expire".into(),
            "legacy-token".into(),
            None,
        );
    }
    if username == "system:anonymous" {
        return (
            CredentialType::Unknown,
            "anonymous: no credential was presented".into(),
            "anonymous".into(),
            None,
        );
    }
    (
        CredentialType::Unknown,
        "the audit event does not say how this user authenticated".into(),
        "unknown".into(),
        None,
    )
}

/// A platform's own identity, seen acting: the provider's, with the
/// platform as vendor.
pub fn observe<'a, J: JsonRef<'a>>(_record: J, access: &Normalised) -> super::observed::Observed {
    let mut seen = super::observed::Observed::default();
    // Platform identities are services: no other principal needs a lookup.
    if access.principal_type != PrincipalType::Service {
        return seen;
    }
    if let Some(platform) = super::platform::lookup(&access.principal_id) {
        seen.identities.push(super::platform::provider_identity(
            platform,
            access,
            "kubernetes",
        ));
    }
    seen
}

fn decision<'a, J: JsonRef<'a>>(record: J) -> (Decision, Option<String>) {
    let annotated = text(record, "/annotations/authorization.k8s.io~1decision");
    let reason = text(record, "/annotations/authorization.k8s.io~1reason")
        .map(str::to_string)
        .or_else(|| owned(record, "/responseStatus/reason"))
        .or_else(|| owned(record, "/responseStatus/message"));
    let code = record.pointer("/responseStatus/code").and_then(J::as_u64);
    let with_code = |reason: Option<String>| match (code, reason) {
        (Some(c), Some(r)) => Some(format!("HTTP {c}: {r}")),
        (Some(c), None) => Some(format!("HTTP {c}")),
        (None, r) => r,
    };
    match annotated {
        Some("forbid") => (Decision::Deny, with_code(reason.or(Some("forbid".into())))),
        Some("allow") if code.is_some_and(|c| c >= 400) => (Decision::Error, with_code(reason)),
        Some("allow") => (Decision::Allow, with_code(reason)),
        _ => match code {
            Some(401 | 403) => (Decision::Deny, with_code(reason)),
            Some(c) if c >= 400 => (Decision::Error, with_code(reason)),
            _ => (Decision::Allow, with_code(reason)),
        },
    }
}

/// `namespaces/NS/RESOURCE/NAME` (with the API group and subresource when
/// present), else the request URI.
fn resource<'a, J: JsonRef<'a>>(record: J) -> Option<String> {
    let Some(kind) = text(record, "/objectRef/resource") else {
        return owned(record, "/requestURI");
    };
    let mut out = String::new();
    if let Some(ns) = text(record, "/objectRef/namespace") {
        out.push_str(&format!("namespaces/{ns}/"));
    }
    match text(record, "/objectRef/apiGroup") {
        Some(group) => out.push_str(&format!("{kind}.{group}")),
        None => out.push_str(kind),
    }
    if let Some(name) = text(record, "/objectRef/name") {
        out.push_str(&format!("/{name}"));
    }
    if let Some(sub) = text(record, "/objectRef/subresource") {
        out.push_str(&format!("/{sub}"));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn event(user: Value) -> Value {
        json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "a", "stage": "ResponseComplete",
               "verb": "get", "user": user, "stageTimestamp": "2026-11-02T04:02:19.123456Z",
               "objectRef": {"resource": "secrets", "namespace": "payments", "name": "stripe"},
               "responseStatus": {"code": 200}})
    }

    /// Usernames from each platform's documentation (and the held-out AKS
    /// diagnostic record's): never a person.
    #[test]
    fn managed_platform_identities_are_the_providers_services() {
        for user in [
            "aksService",
            "masterclient",
            "nodeclient",
            "aksProblemDetector",
            "eks:addon-manager",
            "eks:certificate-controller",
            "system:gke-common-webhooks",
            "system:serviceaccount:openshift-monitoring:prometheus-k8s",
        ] {
            let n = normalise(&event(json!({"username": user}))).unwrap();
            assert_eq!(n.principal_type, PrincipalType::Service, "{user}");
            let seen = observe(&event(json!({"username": user})), &n);
            assert_eq!(
                seen.identities[0].ownership,
                crate::model::Ownership::Provider,
                "{user}"
            );
            assert!(
                seen.identities[0].ownership_reason.contains("https://"),
                "{user}"
            );
        }
        let aks = normalise(&event(
            json!({"username": "aksService", "groups": ["system:masters", "system:authenticated"]}),
        ))
        .unwrap();
        assert_eq!(aks.credential_type, CredentialType::Static);
        assert_eq!(aks.auth_method, "client-certificate");
        assert_eq!(aks.credential_id.as_deref(), Some("x509:aksService"));
        // A customer's user stays a person, with no provider identity.
        let alice = event(json!({"username": "alice@example.com", "extra": {"oid": ["1"]}}));
        let n = normalise(&alice).unwrap();
        assert_eq!(n.principal_type, PrincipalType::Human);
        assert!(observe(&alice, &n).is_empty());
    }

    #[test]
    fn certificate_users_carry_a_static_client_certificate() {
        for user in [
            json!({"username": "kubernetes-admin", "groups": ["kubeadm:cluster-admins", "system:authenticated"]}),
            json!({"username": "clusterAdmin", "groups": ["system:masters", "system:authenticated"]}),
            json!({"username": "ops-break-glass", "groups": ["system:masters"]}),
        ] {
            let n = normalise(&event(user.clone())).unwrap();
            assert_eq!(n.credential_type, CredentialType::Static, "{user}");
            assert_eq!(n.auth_method, "client-certificate", "{user}");
        }
        let n = normalise(&event(json!({"username": "kubernetes-admin"}))).unwrap();
        assert_eq!(n.principal_type, PrincipalType::Service);
        // An OIDC user with token claims is not a certificate.
        let n = normalise(&event(json!({"username": "ana@example.com", "groups": ["system:masters"], "extra": {"iss": ["https://issuer"]}}))).unwrap();
        assert_eq!(n.credential_type, CredentialType::Unknown);
    }

    #[test]
    fn bound_tokens_are_ephemeral() {
        let n = normalise(&event(json!({"username": "system:serviceaccount:payments:api",
            "extra": {"authentication.kubernetes.io/credential-id": ["JTI=7d1f"], "authentication.kubernetes.io/pod-name": ["api-0"]}}))).unwrap();
        assert_eq!(n.credential_type, CredentialType::Ephemeral);
        assert_eq!(n.credential_id.as_deref(), Some("JTI=7d1f"));
        assert_eq!(n.principal_type, PrincipalType::Workload);
        assert_eq!(
            n.resource.as_deref(),
            Some("namespaces/payments/secrets/stripe")
        );
    }

    #[test]
    fn service_accounts_without_claims_hold_legacy_tokens() {
        let n = normalise(&event(
            json!({"username": "system:serviceaccount:default:builder"}),
        ))
        .unwrap();
        assert_eq!(n.credential_type, CredentialType::Static);
        assert_eq!(n.auth_method, "legacy-token");
    }

    #[test]
    fn decisions() {
        let mut e = event(json!({"username": "system:anonymous"}));
        e["responseStatus"] = json!({"code": 403, "reason": "Forbidden"});
        let n = normalise(&e).unwrap();
        assert_eq!(n.decision, Decision::Deny);
        assert_eq!(n.decision_reason.as_deref(), Some("HTTP 403: Forbidden"));
        assert_eq!(n.principal_type, PrincipalType::Anonymous);
        e["annotations"] = json!({"authorization.k8s.io/decision": "allow"});
        e["responseStatus"] = json!({"code": 404});
        assert_eq!(normalise(&e).unwrap().decision, Decision::Error);
        e["annotations"] = json!({"authorization.k8s.io/decision": "forbid", "authorization.k8s.io/reason": "RBAC: no rule"});
        assert_eq!(normalise(&e).unwrap().decision, Decision::Deny);
    }

    #[test]
    fn eks_nodes_authenticate_with_their_instance_role() {
        let n = normalise(&event(json!({"username": "system:node:ip-10-0-0-1.ec2.internal",
            "extra": {"accessKeyId": ["ASIAEXAMPLE"], "arn": ["arn:aws:sts::1:assumed-role/NodeRole/i-123"], "sessionName": ["i-123"]}}))).unwrap();
        assert_eq!(n.credential_type, CredentialType::Ephemeral);
        assert_eq!(n.principal_type, PrincipalType::Service);
        assert_eq!(n.session_name.as_deref(), Some("i-123"));
    }
}
