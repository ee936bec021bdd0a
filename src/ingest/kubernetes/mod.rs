//! Kubernetes objects, as manifests (YAML, one or many documents) and as
//! `kubectl get -o json|yaml` prints them (single objects or `List`s):
//! ServiceAccounts and legacy token Secrets become identities, RBAC roles and
//! bindings become grants (joined across files once everything is read), and
//! service-mesh authentication settings (Istio `PeerAuthentication`, Linkerd
//! authorizations) become grants of kind `mesh-auth`.
//!
//! Any other object (a Deployment beside the ServiceAccount in a manifest) is
//! skipped with a note naming its kind, never silently.

pub mod mesh;
pub mod rbac;
pub mod service_accounts;

use serde_json::Value;

use super::fields::text;
use crate::model::{Grant, Identity, RawRef};

/// What one Kubernetes object yields.
#[derive(Debug)]
pub enum Object {
    /// A ServiceAccount, or a token Secret as a credential of one.
    Identities(&'static str, Vec<Identity>),
    /// A role or binding: grants come once every file is read.
    Rbac(rbac::RbacObject),
    /// Mesh authentication settings.
    Mesh(&'static str, Vec<Grant>),
    /// A kind proofpack does not inventory, and why.
    Skipped(String),
}

/// Whether a record is a Kubernetes object (and not an audit event, which
/// the audit-log reader takes).
pub fn detect(record: &Value) -> bool {
    let api = text(record, "/apiVersion").unwrap_or("");
    !api.is_empty()
        && !api.starts_with("audit.k8s.io")
        && text(record, "/kind").is_some_and(|k| !k.is_empty())
        && record.get("metadata").is_some_and(Value::is_object)
}

/// The object's identities, RBAC parts or mesh settings; an error names the
/// field at fault.
pub fn parse(record: &Value, source_ref: &RawRef) -> Result<Object, String> {
    let api = text(record, "/apiVersion").unwrap_or("");
    let kind = text(record, "/kind").unwrap_or("");
    let group = api.split_once('/').map_or("", |(g, _)| g);
    match (group, kind) {
        ("", "ServiceAccount") => service_accounts::service_account(record, source_ref)
            .map(|rows| Object::Identities(service_accounts::SOURCE, rows)),
        ("", "Secret") => service_accounts::token_secret(record, source_ref),
        (
            "rbac.authorization.k8s.io",
            "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding",
        ) => rbac::parse(record, kind, source_ref).map(Object::Rbac),
        ("security.istio.io", "PeerAuthentication") => {
            mesh::istio_peer_authentication(record, source_ref)
                .map(|rows| Object::Mesh(mesh::ISTIO, rows))
        }
        ("policy.linkerd.io", "ServerAuthorization" | "AuthorizationPolicy") => {
            mesh::linkerd_authorization(record, kind, source_ref)
                .map(|rows| Object::Mesh(mesh::LINKERD, rows))
        }
        ("policy.linkerd.io", _) => Ok(Object::Skipped(format!(
            "a Linkerd {kind}: read through the ServerAuthorization or AuthorizationPolicy \
             that names it; no row of its own"
        ))),
        _ => Ok(Object::Skipped(format!(
            "a Kubernetes {kind} ({api}): not a service account, token Secret, RBAC or \
             mesh-authentication object; skipped"
        ))),
    }
}

/// `metadata.namespace`, or `default` as `kubectl apply` would use when the
/// manifest names none (and the caller says so in the details).
fn namespace(record: &Value) -> (String, bool) {
    match text(record, "/metadata/namespace").filter(|n| !n.is_empty()) {
        Some(ns) => (ns.to_string(), true),
        None => ("default".to_string(), false),
    }
}

fn name(record: &Value) -> Result<&str, String> {
    text(record, "/metadata/name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| "metadata.name is missing: every Kubernetes object has one".to_string())
}

/// The canonical user name Kubernetes gives a service account in audit logs
/// and RBAC: what the audit-log reader writes as `principal`.
pub fn service_account_user(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

/// A string list field; absent is empty, anything but strings is an error.
fn strings(record: &Value, pointer: &str, what: &str) -> Result<Vec<String>, String> {
    match record.pointer(pointer) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!("{what} holds {other} where a string belongs")),
            })
            .collect(),
        Some(other) => Err(format!("{what} is {other}, not a list of strings")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_are_told_from_audit_events() {
        assert!(detect(
            &json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a"}})
        ));
        assert!(!detect(
            &json!({"apiVersion": "audit.k8s.io/v1", "kind": "Event", "metadata": {}})
        ));
        assert!(!detect(&json!({"kind": "ServiceAccount", "metadata": {}})));
    }

    #[test]
    fn other_kinds_are_skipped_with_their_kind_named() {
        let r = RawRef::default();
        let Object::Skipped(why) = parse(
            &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}}),
            &r,
        )
        .unwrap() else {
            panic!("not skipped")
        };
        assert!(why.contains("Deployment (apps/v1)"), "{why}");
    }
}
