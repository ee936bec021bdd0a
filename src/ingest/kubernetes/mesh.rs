//! Service-mesh authentication settings: whether traffic between workloads
//! is mutually authenticated (mTLS with workload identities).
//!
//! Each setting becomes one grant of kind `mesh-auth` whose `effect` is the
//! mode in Istio's vocabulary, so one check reads both meshes:
//! - `STRICT`: only mTLS from a mesh identity is accepted;
//! - `PERMISSIVE`: plaintext is accepted too (migration mode);
//! - `DISABLE`: no mTLS;
//! - `UNSET`: inherits from the parent scope.
//!
//! `resources` holds the scope: `mesh-wide`, `namespace NS`, or
//! `workload NS{k=v,...}`; `flags` the port-level exceptions and why a
//! setting matters.

use serde_json::Value;

use super::{name, namespace};
use crate::ingest::fields::text;
use crate::model::{Grant, RawRef};

pub const ISTIO: &str = "istio";
pub const LINKERD: &str = "linkerd";

/// Istio's default root namespace: a selector-less PeerAuthentication there
/// applies to the whole mesh.
const ISTIO_ROOT_NAMESPACE: &str = "istio-system";

const MODES: [&str; 4] = ["UNSET", "DISABLE", "PERMISSIVE", "STRICT"];

fn mode_of(v: Option<&Value>, what: &str) -> Result<String, String> {
    match v.and_then(|m| m.get("mode")) {
        None | Some(Value::Null) => Ok("UNSET".into()),
        Some(Value::String(m)) if MODES.contains(&m.as_str()) => Ok(m.clone()),
        Some(other) => Err(format!(
            "{what}.mode is {other}; it must be one of {}",
            MODES.join(", ")
        )),
    }
}

fn why(mode: &str) -> Option<&'static str> {
    match mode {
        "PERMISSIVE" => Some("mTLS not enforced: plaintext accepted"),
        "DISABLE" => Some("mTLS disabled"),
        _ => None,
    }
}

pub fn istio_peer_authentication(
    record: &Value,
    source_ref: &RawRef,
) -> Result<Vec<Grant>, String> {
    let name = name(record)?;
    let (ns, _) = namespace(record);
    let spec = record.get("spec");
    let mode = mode_of(spec.and_then(|s| s.get("mtls")), "spec.mtls")?;
    let labels = spec
        .and_then(|s| s.pointer("/selector/matchLabels"))
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty());
    let scope = match labels {
        Some(labels) => format!(
            "workload {ns}{{{}}}",
            labels
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        ),
        None if ns == ISTIO_ROOT_NAMESPACE => "mesh-wide".to_string(),
        None => format!("namespace {ns}"),
    };
    let mut flags: Vec<String> = why(&mode).map(str::to_string).into_iter().collect();
    if let Some(ports) = spec
        .and_then(|s| s.get("portLevelMtls"))
        .and_then(Value::as_object)
    {
        if labels.is_none() {
            flags.push("portLevelMtls without a selector is ignored by Istio".into());
        }
        for (port, setting) in ports {
            let port_mode = mode_of(Some(setting), &format!("spec.portLevelMtls.{port}"))?;
            let note = why(&port_mode).map_or(String::new(), |w| format!(" ({w})"));
            flags.push(format!("port {port}: {port_mode}{note}"));
        }
    }
    if mode == "UNSET" && scope == "mesh-wide" {
        flags.push("mesh default left UNSET: Istio treats it as PERMISSIVE".into());
    }
    Ok(vec![mesh_grant(
        None,
        format!("PeerAuthentication {ns}/{name}"),
        mode,
        scope,
        &flags,
        source_ref,
    )])
}

/// Linkerd's `ServerAuthorization` (policy.linkerd.io/v1beta1) and
/// `AuthorizationPolicy` (v1alpha1): which clients a Server accepts. Clients
/// authenticated by mesh identity (`meshTLS`, `MeshTLSAuthentication`,
/// `ServiceAccount`) count as STRICT; `unauthenticated: true` or network-only
/// authentication as PERMISSIVE.
pub fn linkerd_authorization(
    record: &Value,
    kind: &str,
    source_ref: &RawRef,
) -> Result<Vec<Grant>, String> {
    let name = name(record)?;
    let (ns, _) = namespace(record);
    let spec = record
        .get("spec")
        .filter(|s| s.is_object())
        .ok_or_else(|| format!("{kind} {ns}/{name} has no spec"))?;
    let (target, mode, principals, flags) = if kind == "ServerAuthorization" {
        let server = text(spec, "/server/name")
            .map(|s| format!("Server {ns}/{s}"))
            .or_else(|| {
                spec.pointer("/server/selector")
                    .map(|s| format!("Servers matching {s}"))
            })
            .ok_or("spec.server names no Server (name or selector)")?;
        let client = spec.get("client").ok_or("spec.client is missing")?;
        let unauthenticated = client
            .get("unauthenticated")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mesh = client.get("meshTLS");
        let identities: Vec<String> = mesh
            .map(|m| {
                let listed = |key: &str| {
                    m.get(key)
                        .and_then(Value::as_array)
                        .map(|items| {
                            items
                                .iter()
                                .map(|i| match i {
                                    Value::String(s) => s.clone(),
                                    other => text(other, "/name").unwrap_or("?").to_string(),
                                })
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default()
                };
                let mut ids = listed("identities");
                ids.extend(listed("serviceAccounts"));
                ids
            })
            .unwrap_or_default();
        let (mode, flags) = match (unauthenticated, mesh.is_some()) {
            (true, _) => (
                "PERMISSIVE",
                vec!["unauthenticated clients allowed".to_string()],
            ),
            (false, true) => ("STRICT", Vec::new()),
            (false, false) => (
                "PERMISSIVE",
                vec!["clients authorised by network only (no mesh identity)".to_string()],
            ),
        };
        (server, mode, identities, flags)
    } else {
        let target = format!(
            "{} {ns}/{}",
            text(spec, "/targetRef/kind").unwrap_or("?"),
            text(spec, "/targetRef/name").unwrap_or("?")
        );
        let refs = spec
            .get("requiredAuthenticationRefs")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let kinds: Vec<&str> = refs.iter().filter_map(|r| text(r, "/kind")).collect();
        let identity = kinds
            .iter()
            .any(|k| matches!(*k, "MeshTLSAuthentication" | "ServiceAccount"));
        let names: Vec<String> = refs
            .iter()
            .map(|r| {
                format!(
                    "{}/{}",
                    text(r, "/kind").unwrap_or("?"),
                    text(r, "/name").unwrap_or("?")
                )
            })
            .collect();
        let (mode, flags) = if identity {
            ("STRICT", Vec::new())
        } else if kinds.is_empty() {
            ("PERMISSIVE", vec!["no authentication required".to_string()])
        } else {
            (
                "PERMISSIVE",
                vec!["clients authorised by network only (no mesh identity)".to_string()],
            )
        };
        (target, mode, names, flags)
    };
    let mut flags = flags;
    if let Some(w) = why(mode) {
        flags.insert(0, w.to_string());
    }
    Ok(vec![mesh_grant(
        (!principals.is_empty()).then(|| principals.join(" ")),
        format!("{kind} {ns}/{name}"),
        mode.to_string(),
        target,
        &flags,
        source_ref,
    )])
}

/// A `mesh-auth` grant: `effect` is the mode, `resources` the scope.
fn mesh_grant(
    principal: Option<String>,
    policy: String,
    mode: String,
    scope: String,
    flags: &[String],
    source_ref: &RawRef,
) -> Grant {
    Grant {
        principal,
        policy,
        kind: "mesh-auth",
        effect: mode,
        actions: "mtls".into(),
        not_action: false,
        resources: scope,
        not_resource: false,
        has_conditions: false,
        wildcard_action: false,
        wildcard_resource: false,
        admin: false,
        flags: flags.join("; "),
        source_ref: source_ref.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pa(ns: &str, spec: Value) -> Result<Grant, String> {
        istio_peer_authentication(
            &json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
                    "metadata": {"name": "default", "namespace": ns}, "spec": spec}),
            &RawRef::default(),
        )
        .map(|mut g| g.remove(0))
    }

    #[test]
    fn istio_scopes_and_modes() {
        let mesh = pa("istio-system", json!({"mtls": {"mode": "STRICT"}})).unwrap();
        assert_eq!(
            (mesh.effect.as_str(), mesh.resources.as_str()),
            ("STRICT", "mesh-wide")
        );
        assert_eq!(mesh.flags, "");
        let ns = pa("legacy", json!({"mtls": {"mode": "PERMISSIVE"}})).unwrap();
        assert_eq!(ns.resources, "namespace legacy");
        assert!(ns.flags.contains("plaintext accepted"));
        let wl = pa(
            "pay",
            json!({"selector": {"matchLabels": {"app": "api"}}, "mtls": {"mode": "STRICT"},
                   "portLevelMtls": {"8080": {"mode": "DISABLE"}}}),
        )
        .unwrap();
        assert_eq!(wl.resources, "workload pay{app=api}");
        assert_eq!(wl.flags, "port 8080: DISABLE (mTLS disabled)");
        let unset = pa("istio-system", json!({})).unwrap();
        assert_eq!(unset.effect, "UNSET");
        assert!(unset.flags.contains("treats it as PERMISSIVE"));
        let err = pa("x", json!({"mtls": {"mode": "strict"}})).unwrap_err();
        assert!(err.contains("must be one of"), "{err}");
    }

    #[test]
    fn linkerd_authorizations() {
        let sa = linkerd_authorization(
            &json!({"apiVersion": "policy.linkerd.io/v1beta1", "kind": "ServerAuthorization",
                    "metadata": {"name": "web", "namespace": "shop"},
                    "spec": {"server": {"name": "web-http"},
                             "client": {"meshTLS": {"serviceAccounts": [{"name": "gateway"}]}}}}),
            "ServerAuthorization",
            &RawRef::default(),
        )
        .unwrap();
        assert_eq!(sa[0].effect, "STRICT");
        assert_eq!(sa[0].resources, "Server shop/web-http");
        assert_eq!(sa[0].principal.as_deref(), Some("gateway"));
        let open = linkerd_authorization(
            &json!({"apiVersion": "policy.linkerd.io/v1beta1", "kind": "ServerAuthorization",
                    "metadata": {"name": "probe", "namespace": "shop"},
                    "spec": {"server": {"name": "admin"}, "client": {"unauthenticated": true}}}),
            "ServerAuthorization",
            &RawRef::default(),
        )
        .unwrap();
        assert_eq!(open[0].effect, "PERMISSIVE");
        let net = linkerd_authorization(
            &json!({"apiVersion": "policy.linkerd.io/v1alpha1", "kind": "AuthorizationPolicy",
                    "metadata": {"name": "p", "namespace": "shop"},
                    "spec": {"targetRef": {"kind": "Server", "name": "web"},
                             "requiredAuthenticationRefs": [{"kind": "NetworkAuthentication", "name": "cluster"}]}}),
            "AuthorizationPolicy",
            &RawRef::default(),
        )
        .unwrap();
        assert_eq!(net[0].effect, "PERMISSIVE");
        assert!(net[0].flags.contains("network only"));
    }
}
