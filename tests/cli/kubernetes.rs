//! Kubernetes ServiceAccounts, token Secrets, RBAC and mesh settings through
//! `proofpack ingest` and `query`: the real kube-prometheus manifests, and
//! hand-made YAML / kubectl JSON for every rule and every kind of bad input.

use std::path::Path;

use serde_json::Value;

use crate::ingest::{ingest, records, samples, summary};

fn grants(dir: &Path, filters: &[&str]) -> Vec<Value> {
    let mut args = vec!["--grants"];
    args.extend_from_slice(filters);
    records(dir, &args)
}

/// (scope, mode) of every mesh-authentication grant, in table order.
fn mesh_modes(dir: &Path) -> Vec<(String, String)> {
    grants(dir, &[])
        .iter()
        .filter(|g| g["kind"] == "mesh-auth")
        .map(|g| {
            (
                g["resources"].as_str().unwrap().to_string(),
                g["effect"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn identities(dir: &Path) -> Vec<Value> {
    records(dir, &["--identities"])
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn rejected(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("evidence/rejected.csv")).unwrap()
}

#[test]
fn kube_prometheus_service_accounts_and_rbac_ingest_cleanly() {
    let (dir, text) = ingest(
        &[
            samples().join("inventories/k8s-serviceaccounts"),
            samples().join("policies/k8s-rbac"),
        ],
        &[],
    );
    let s = summary(dir.path());
    assert_eq!(s["reconciled"], true, "{s:#}");
    assert_eq!(s["rejected"], 0, "{s:#}");
    assert_eq!(s["skipped"], 0, "{s:#}");
    // 8 ServiceAccounts; 17 RBAC files, one of them a RoleBindingList of 3.
    assert_eq!(s["by_source"]["k8s-serviceaccounts"], 8, "{s:#}");
    assert_eq!(s["by_source"]["k8s-rbac"], 20, "{s:#}");
    assert!(text.contains("28 inventoried"), "{text}");

    let ids = identities(dir.path());
    assert_eq!(ids.len(), 8);
    let grafana = ids
        .iter()
        .find(|r| r["id"] == "system:serviceaccount:monitoring:grafana")
        .expect("grafana");
    assert_eq!(grafana["credential_type"], "ephemeral");
    assert_eq!(grafana["kind"], "service-account");
    assert!(grafana["details"]
        .as_str()
        .unwrap()
        .contains("automount_token=false"));
    let prometheus = ids
        .iter()
        .find(|r| r["id"] == "system:serviceaccount:monitoring:prometheus-k8s")
        .unwrap();
    assert!(prometheus["details"]
        .as_str()
        .unwrap()
        .contains("automount_token=true"));

    // kube-state-metrics lists and watches Secrets cluster-wide.
    let ksm = grants(dir.path(), &["--identity", "kube-state-metrics"]);
    let secrets: Vec<&Value> = ksm
        .iter()
        .filter(|g| g["flags"].as_str().unwrap_or("").contains("reads secrets"))
        .collect();
    assert_eq!(secrets.len(), 1, "{ksm:#?}");
    assert_eq!(secrets[0]["actions"], "list watch");
    assert!(secrets[0]["policy"].as_str().unwrap().starts_with(
        "ClusterRoleBinding/kube-state-metrics → ClusterRole/kube-state-metrics (cluster-wide)"
    ));
    assert!(secrets[0]["raw_file"]
        .as_str()
        .unwrap()
        .ends_with("kubeStateMetrics-clusterRoleBinding.yaml"));

    // The operator has * verbs on its CRDs, on StatefulSets and on Secrets,
    // but nothing in kube-prometheus is admin-equivalent.
    let wildcard = grants(dir.path(), &["--wildcard"]);
    assert!(wildcard.iter().any(|g| g["principal"]
        == "system:serviceaccount:monitoring:prometheus-operator"
        && g["resources"] == "core/configmaps core/secrets"
        && g["wildcard_action"] == true));
    assert!(grants(dir.path(), &["--admin"]).is_empty());

    // Roles that live outside these manifests are named, not dropped.
    let all = grants(dir.path(), &[]);
    assert!(all.iter().any(|g| g["principal"]
        == "system:serviceaccount:monitoring:prometheus-adapter"
        && g["flags"]
            .as_str()
            .unwrap()
            .contains("ClusterRole/system:auth-delegator is not in the inputs")));
    // The aggregated metrics reader is marked as feeding admin/edit/view.
    assert!(all.iter().any(|g| g["policy"]
        == "ClusterRole/system:aggregated-metrics-reader rule 1"
        && g["principal"].is_null()
        && g["flags"]
            .as_str()
            .unwrap()
            .contains("aggregated into admin, edit, view")));
}

const MANIFEST: &str = r#"# a typical app manifest: only some kinds are NHI evidence
apiVersion: v1
kind: ServiceAccount
metadata:
  name: deployer
  namespace: ci
  labels:
    team: platform
secrets:
- name: deployer-token-abcde
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: deployer-token-abcde
  namespace: ci
  annotations:
    kubernetes.io/service-account.name: deployer
  creationTimestamp: "2021-02-03T04:05:06.000000Z"
data:
  token: ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklpSjkuc2VjcmV0
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec: {replicas: 2}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: deployer-admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- kind: ServiceAccount
  name: deployer
  namespace: ci
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system
spec:
  mtls:
    mode: STRICT
---
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: legacy
  namespace: payments
spec:
  mtls: {mode: PERMISSIVE}
"#;

#[test]
fn a_multi_document_manifest_yields_identities_grants_and_skips_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "app.yaml", MANIFEST);
    let (dir, text) = ingest(&[file], &[]);
    let s = summary(dir.path());
    assert_eq!(s["reconciled"], true, "{s:#}");
    assert_eq!(s["read"], 6);
    assert_eq!(s["skipped"], 1);
    assert!(text.contains("skipped: a Kubernetes Deployment"), "{text}");
    assert_eq!(s["by_source"]["istio"], 2, "{s:#}");

    let ids = identities(dir.path());
    let sa = ids
        .iter()
        .find(|r| r["id"] == "system:serviceaccount:ci:deployer")
        .unwrap();
    assert_eq!(sa["credential_type"], "static");
    assert_eq!(sa["owner"], "platform");
    assert_eq!(sa["raw_position"], "document 1 (line 2)");
    let token = ids
        .iter()
        .find(|r| r["kind"] == "service-account-token")
        .unwrap();
    assert_eq!(
        token["id"],
        "system:serviceaccount:ci:deployer#secret/deployer-token-abcde"
    );
    assert_eq!(token["owner_id"], "system:serviceaccount:ci:deployer");
    assert_eq!(token["created"], "2021-02-03T04:05:06.000000Z");
    assert_eq!(token["raw_position"], "document 2 (line 11)");

    let admin = grants(dir.path(), &["--admin"]);
    assert!(!admin.is_empty());
    assert!(admin
        .iter()
        .all(|g| g["principal"] == "system:serviceaccount:ci:deployer"
            && g["flags"].as_str().unwrap().starts_with("cluster-admin")));

    assert_eq!(
        mesh_modes(dir.path())
            .iter()
            .map(|(scope, mode)| (scope.as_str(), mode.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("mesh-wide", "STRICT"),
            ("namespace payments", "PERMISSIVE")
        ]
    );

    // The token never reaches any table, in either format.
    for entry in std::fs::read_dir(dir.path().join("evidence")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let hay = String::from_utf8_lossy(&bytes);
        assert!(!hay.contains("ZXlKaGJHY2lPaUpTVXpJ"), "token leaked");
    }
}

#[test]
fn kubectl_json_lists_are_read_like_manifests() {
    let tmp = tempfile::tempdir().unwrap();
    let list = serde_json::json!({
    "apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
    "items": [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": "api", "namespace": "shop", "creationTimestamp": "2025-01-02T03:04:05Z",
                      "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/shop-api"}},
         "automountServiceAccountToken": false},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "shop"}}
    ]});
    let file = write(tmp.path(), "sa.json", &list.to_string());
    // `kubectl get sa -o yaml` prints the same List in YAML.
    let yaml = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: worker, namespace: jobs}\n  automountServiceAccountToken: no\n";
    let yaml_file = write(tmp.path(), "sa-list.yml", yaml);
    let (dir, _) = ingest(&[file, yaml_file], &[]);
    let s = summary(dir.path());
    assert_eq!(s["reconciled"], true, "{s:#}");
    assert_eq!(s["by_source"]["k8s-serviceaccounts"], 3, "{s:#}");
    let ids = identities(dir.path());
    let api = ids
        .iter()
        .find(|r| r["id"] == "system:serviceaccount:shop:api")
        .unwrap();
    assert!(api["details"]
        .as_str()
        .unwrap()
        .contains("aws_role=arn:aws:iam::111122223333:role/shop-api"));
    assert_eq!(api["created"], "2025-01-02T03:04:05.000000Z");
    let worker = ids
        .iter()
        .find(|r| r["id"] == "system:serviceaccount:jobs:worker")
        .unwrap();
    assert_eq!(worker["raw_position"], "document 1 (line 1), item 1");
    assert!(worker["details"]
        .as_str()
        .unwrap()
        .contains("automount_token=false"));
}

#[test]
fn bad_yaml_is_rejected_by_document_and_the_good_documents_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let broken = write(
        tmp.path(),
        "broken.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: x}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: [unclosed\n",
    );
    let mut bomb = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\na: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        .windows(2)
        .map(|w| (w[0], w[1]))
    {
        bomb.push_str(&format!(
            "{name}: &{name} [{}]\n",
            vec![format!("*{prev}"); 10].join(", ")
        ));
    }
    let bomb = write(tmp.path(), "bomb.yaml", &bomb);
    let deep = write(
        tmp.path(),
        "deep.yaml",
        &format!("kind: X\nv: {}1{}\n", "[".repeat(100), "]".repeat(100)),
    );
    let invalid = write(
        tmp.path(),
        "invalid-rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules:\n- resources: [pods]\n",
    );
    let (dir, _) = ingest(&[broken, bomb, deep, invalid], &[]);
    let s = summary(dir.path());
    assert_eq!(s["reconciled"], true, "{s:#}");
    assert_eq!(s["by_source"]["k8s-serviceaccounts"], 1, "{s:#}");
    assert_eq!(s["rejected"], 4, "{s:#}");
    let rejected = rejected(dir.path());
    for expected in [
        "broken.yaml,document 2 line 8",
        "not valid YAML",
        "bomb.yaml,document 1 line",
        "alias bomb",
        "deep.yaml,document 1 line 2",
        "nested deeper than 64",
        "invalid-rbac.yaml,document 1 (line 1)",
        "rule 1 has no verbs",
    ] {
        assert!(rejected.contains(expected), "{expected} not in\n{rejected}");
    }
}

#[test]
fn linkerd_authorizations_say_whether_clients_need_a_mesh_identity() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(
        tmp.path(),
        "linkerd.yaml",
        "apiVersion: policy.linkerd.io/v1beta3\nkind: Server\nmetadata: {name: web-http, namespace: shop}\nspec: {podSelector: {matchLabels: {app: web}}, port: http}\n---\napiVersion: policy.linkerd.io/v1alpha1\nkind: AuthorizationPolicy\nmetadata: {name: web-mtls, namespace: shop}\nspec:\n  targetRef: {group: policy.linkerd.io, kind: Server, name: web-http}\n  requiredAuthenticationRefs:\n  - {group: policy.linkerd.io, kind: MeshTLSAuthentication, name: gateways}\n---\napiVersion: policy.linkerd.io/v1beta1\nkind: ServerAuthorization\nmetadata: {name: probes, namespace: shop}\nspec:\n  server: {name: admin}\n  client: {unauthenticated: true}\n",
    );
    let (dir, _) = ingest(&[file], &[]);
    let s = summary(dir.path());
    assert_eq!(s["reconciled"], true, "{s:#}");
    assert_eq!(s["by_source"]["linkerd"], 2, "{s:#}");
    assert_eq!(s["skipped"], 1, "the Server itself holds no authentication");
    assert_eq!(
        mesh_modes(dir.path())
            .iter()
            .map(|(scope, mode)| (scope.as_str(), mode.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("Server shop/web-http", "STRICT"),
            ("Server shop/admin", "PERMISSIVE")
        ]
    );
}
