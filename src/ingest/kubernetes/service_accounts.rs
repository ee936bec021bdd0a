//! ServiceAccounts and their legacy token Secrets.
//!
//! A pod's service account authenticates with a token. Since Kubernetes 1.22
//! that token is *bound*: projected into the pod, audience-bound, expiring
//! (an hour by default) and rotated by the kubelet, i.e. ephemeral. Before
//! 1.24 every ServiceAccount also got a Secret of type
//! `kubernetes.io/service-account-token` holding a JWT that never expires;
//! such Secrets can still be created by hand. Those are static credentials
//! and are listed as credentials of their account. Their `data` (the token)
//! is never read.
//!
//! Kubernetes 1.29+ labels legacy tokens with the day they were last used
//! (`kubernetes.io/legacy-token-last-used`) and, once the cleaner has
//! invalidated them, `kubernetes.io/legacy-token-invalid-since`.

use chrono::NaiveDate;
use serde_json::Value;

use super::{name, namespace, service_account_user, Object};
use crate::ingest::fields::text;
use crate::model::{CredentialType, Identity, RawRef};
use crate::time::parse_time_text;

pub const SOURCE: &str = "k8s-serviceaccounts";

const TOKEN_TYPE: &str = "kubernetes.io/service-account-token";

/// Annotations that federate the account to a cloud identity (workload
/// identity): who it becomes outside the cluster.
const FEDERATION: [(&str, &str); 4] = [
    ("eks.amazonaws.com/role-arn", "aws_role"),
    ("iam.gke.io/gcp-service-account", "gcp_service_account"),
    ("azure.workload.identity/client-id", "azure_client_id"),
    ("azure.workload.identity/tenant-id", "azure_tenant_id"),
];

/// Labels and annotations teams use to name who answers for a workload.
const OWNER_KEYS: [&str; 4] = ["owner", "team", "app.kubernetes.io/owner", "contact"];

/// The ServiceAccount as one identity row.
pub fn service_account(record: &Value, source_ref: &RawRef) -> Result<Vec<Identity>, String> {
    let name = name(record)?;
    let (ns, ns_given) = namespace(record);
    let automount = match record.get("automountServiceAccountToken") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            return Err(format!(
                "automountServiceAccountToken is {other}, not true or false"
            ))
        }
    };
    let token_secrets: Vec<String> = match record.get("secrets") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(refs)) => refs
            .iter()
            .filter_map(|r| text(r, "/name").map(str::to_string))
            .collect(),
        Some(other) => return Err(format!("secrets is {other}, not a list of references")),
    };
    let pull_secrets = record
        .get("imagePullSecrets")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);

    let mut details = vec![format!(
        "namespace={ns}{}",
        if ns_given {
            ""
        } else {
            " (not in the manifest; assumed)"
        }
    )];
    details.push(format!(
        "automount_token={}",
        match automount {
            Some(true) => "true",
            Some(false) => "false",
            None => "default (true)",
        }
    ));
    if !token_secrets.is_empty() {
        // Named `..._secret_names`: they are the Secret objects' names, not values.
        details.push(format!("token_secret_names={}", token_secrets.join(",")));
    }
    if pull_secrets > 0 {
        details.push(format!("image_pull_secrets={pull_secrets}"));
    }
    for (annotation, label) in FEDERATION {
        if let Some(v) = annotation_value(record, annotation) {
            details.push(format!("{label}={v}"));
        }
    }
    let (credential_type, credential_reason) = if token_secrets.is_empty() {
        (
            CredentialType::Ephemeral,
            if automount == Some(false) {
                "bound service-account tokens only (none automounted; pods request projected, expiring tokens)"
            } else {
                "bound service-account tokens (projected, audience-bound, expiring)"
            }
            .to_string(),
        )
    } else {
        (
            CredentialType::Static,
            format!(
                "references legacy token Secret(s) {}: non-expiring JWTs",
                token_secrets.join(", ")
            ),
        )
    };
    Ok(vec![Identity {
        id: service_account_user(&ns, name),
        kind: "service-account".into(),
        provider: "kubernetes",
        owner_id: None,
        owner: owner(record),
        environment: None,
        created_us: text(record, "/metadata/creationTimestamp").and_then(parse_time_text),
        last_used_us: None,
        last_rotated_us: None,
        expires_us: None,
        active: true,
        credential_type,
        credential_reason,
        details: details.join("; "),
        source_ref: source_ref.clone(),
        ..Default::default()
    }])
}

/// A Secret: a legacy service-account token becomes a credential of its
/// account; any other type is skipped unread.
pub fn token_secret(record: &Value, source_ref: &RawRef) -> Result<Object, String> {
    let secret_type = text(record, "/type").unwrap_or("Opaque");
    if secret_type != TOKEN_TYPE {
        return Ok(Object::Skipped(format!(
            "a Secret of type {secret_type}: only {TOKEN_TYPE} Secrets are inventoried; its data was not read"
        )));
    }
    let secret_name = name(record)?;
    let (ns, _) = namespace(record);
    let account =
        annotation_value(record, "kubernetes.io/service-account.name").ok_or_else(|| {
            format!(
                "token Secret {secret_name} has no kubernetes.io/service-account.name annotation: \
             the account it authenticates is unknown"
            )
        })?;
    let owner_id = service_account_user(&ns, account);
    let day = |label: &str| {
        label_value(record, label).and_then(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc().timestamp_micros())
        })
    };
    let invalid_since = day("kubernetes.io/legacy-token-invalid-since");
    let mut details = vec![
        format!("namespace={ns}"),
        format!("secret_name={secret_name}"),
    ];
    if let Some(uid) = annotation_value(record, "kubernetes.io/service-account.uid") {
        details.push(format!("account_uid={uid}"));
    }
    if let Some(d) = label_value(record, "kubernetes.io/legacy-token-invalid-since") {
        details.push(format!("invalid_since={d}"));
    }
    Ok(Object::Identities(
        SOURCE,
        vec![Identity {
            id: format!("{owner_id}#secret/{secret_name}"),
            kind: "service-account-token".into(),
            provider: "kubernetes",
            owner_id: Some(owner_id),
            owner: owner(record),
            environment: None,
            created_us: text(record, "/metadata/creationTimestamp").and_then(parse_time_text),
            last_used_us: day("kubernetes.io/legacy-token-last-used"),
            last_rotated_us: None,
            expires_us: None,
            active: invalid_since.is_none(),
            credential_type: CredentialType::Static,
            credential_reason: "legacy service-account token Secret: a JWT that never expires"
                .into(),
            details: details.join("; "),
            source_ref: source_ref.clone(),
            ..Default::default()
        }],
    ))
}

fn annotation_value<'a>(record: &'a Value, key: &str) -> Option<&'a str> {
    record
        .get("metadata")?
        .get("annotations")?
        .get(key)?
        .as_str()
        .filter(|v| !v.is_empty())
}

fn label_value<'a>(record: &'a Value, key: &str) -> Option<&'a str> {
    record
        .get("metadata")?
        .get("labels")?
        .get(key)?
        .as_str()
        .filter(|v| !v.is_empty())
}

fn owner(record: &Value) -> Option<String> {
    OWNER_KEYS
        .iter()
        .find_map(|k| label_value(record, k).or_else(|| annotation_value(record, k)))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_account_with_automount_off_and_irsa() {
        let rows = service_account(
            &json!({"apiVersion": "v1", "kind": "ServiceAccount",
                    "automountServiceAccountToken": false,
                    "metadata": {"name": "grafana", "namespace": "monitoring",
                                 "labels": {"team": "observability"},
                                 "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/g"},
                                 "creationTimestamp": "2024-03-01T10:00:00Z"}}),
            &RawRef::default(),
        )
        .unwrap();
        let sa = &rows[0];
        assert_eq!(sa.id, "system:serviceaccount:monitoring:grafana");
        assert_eq!(sa.credential_type, CredentialType::Ephemeral);
        assert_eq!(sa.owner.as_deref(), Some("observability"));
        assert!(
            sa.details.contains("automount_token=false"),
            "{}",
            sa.details
        );
        assert!(sa.details.contains("aws_role=arn:aws:iam::1:role/g"));
        assert_eq!(sa.created_us, Some(1_709_287_200_000_000));
    }

    #[test]
    fn an_account_with_legacy_token_secrets_is_static_and_namespace_is_assumed() {
        let sa = &service_account(
            &json!({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": "builder"}, "secrets": [{"name": "builder-token-x7k2p"}]}),
            &RawRef::default(),
        )
        .unwrap()[0];
        assert_eq!(sa.id, "system:serviceaccount:default:builder");
        assert_eq!(sa.credential_type, CredentialType::Static);
        assert!(sa.details.contains("assumed"), "{}", sa.details);
        assert!(sa.details.contains("automount_token=default (true)"));
    }

    #[test]
    fn a_token_secret_is_a_static_credential_whose_data_is_never_read() {
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "type": "kubernetes.io/service-account-token",
            "metadata": {"name": "ci-token", "namespace": "build",
                "annotations": {"kubernetes.io/service-account.name": "ci"},
                "labels": {"kubernetes.io/legacy-token-last-used": "2025-06-30",
                           "kubernetes.io/legacy-token-invalid-since": "2025-09-28"}},
            "data": {"token": "ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklp"}});
        let Object::Identities(_, rows) = token_secret(&secret, &RawRef::default()).unwrap() else {
            panic!()
        };
        let t = &rows[0];
        assert_eq!(t.id, "system:serviceaccount:build:ci#secret/ci-token");
        assert_eq!(
            t.owner_id.as_deref(),
            Some("system:serviceaccount:build:ci")
        );
        assert_eq!(t.credential_type, CredentialType::Static);
        assert!(!t.active, "invalidated by the legacy token cleaner");
        assert_eq!(t.last_used_us, Some(1_751_241_600_000_000));
        let everything = format!("{t:?}");
        assert!(
            !everything.contains("ZXlK"),
            "the token leaked: {everything}"
        );
    }

    #[test]
    fn other_secrets_are_skipped_and_a_token_without_its_account_is_an_error() {
        let opaque = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
                            "data": {"password": "aHVudGVyMg=="}});
        let Object::Skipped(why) = token_secret(&opaque, &RawRef::default()).unwrap() else {
            panic!()
        };
        assert!(
            why.contains("type Opaque") && !why.contains("aHVudGVyMg"),
            "{why}"
        );
        let orphan = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t"},
                            "type": "kubernetes.io/service-account-token"});
        let err = token_secret(&orphan, &RawRef::default()).unwrap_err();
        assert!(err.contains("service-account.name"), "{err}");
    }
}
