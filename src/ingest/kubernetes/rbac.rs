//! Kubernetes RBAC: Roles and ClusterRoles hold rules, RoleBindings and
//! ClusterRoleBindings give a role to subjects. A grant exists only where the
//! two meet, and they usually sit in different files, so objects are parsed
//! as they are read and joined by [`resolve`] once every input is in.
//!
//! One grant row per (subject, rule). The flags say why a row matters:
//! `cluster-admin`, `* verbs`, `* resources`, `reads secrets`, the
//! privilege-escalation verbs `escalate`, `bind`, `impersonate`, exec into
//! pods, and grants to whole groups of service accounts or to anonymous
//! users. Aggregated ClusterRoles take the rules of the ClusterRoles their
//! selectors match; a binding to a role that is not in the inputs is kept as
//! a row that says so (built-in roles are described as Kubernetes defines
//! them).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{name, namespace, service_account_user, strings};
use crate::ingest::fields::text;
use crate::model::{Grant, RawRef};

pub const SOURCE: &str = "k8s-rbac";

/// One rule of a role.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
    pub verbs: Vec<String>,
}

/// A label selector of an aggregation rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    pub match_labels: BTreeMap<String, String>,
    /// (key, operator, values)
    pub match_expressions: Vec<(String, String, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    /// `None` for a ClusterRole.
    pub namespace: Option<String>,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub rules: Vec<Rule>,
    pub aggregation: Option<Vec<Selector>>,
    pub source_ref: RawRef,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// `ServiceAccount`, `User` or `Group`.
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// `None` for a ClusterRoleBinding.
    pub namespace: Option<String>,
    pub name: String,
    /// `Role` or `ClusterRole`.
    pub role_kind: String,
    pub role_name: String,
    pub subjects: Vec<Subject>,
    pub source_ref: RawRef,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RbacObject {
    Role(Role),
    Binding(Binding),
}

pub fn parse(record: &Value, kind: &str, source_ref: &RawRef) -> Result<RbacObject, String> {
    let name = name(record)?.to_string();
    let namespaced = matches!(kind, "Role" | "RoleBinding");
    let ns = namespaced.then(|| namespace(record).0);
    if kind.ends_with("Binding") {
        let role_kind = text(record, "/roleRef/kind")
            .ok_or("roleRef.kind is missing: a binding must name the role it gives")?;
        if !matches!(role_kind, "Role" | "ClusterRole") {
            return Err(format!(
                "roleRef.kind is {role_kind}; it must be Role or ClusterRole"
            ));
        }
        if kind == "ClusterRoleBinding" && role_kind == "Role" {
            return Err("a ClusterRoleBinding cannot refer to a Role (only a ClusterRole)".into());
        }
        let role_name = text(record, "/roleRef/name")
            .filter(|n| !n.is_empty())
            .ok_or("roleRef.name is missing")?
            .to_string();
        let subjects = match record.get("subjects") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, s)| subject(s, ns.as_deref(), i + 1))
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(format!("subjects is {other}, not a list")),
        };
        return Ok(RbacObject::Binding(Binding {
            namespace: ns,
            name,
            role_kind: role_kind.to_string(),
            role_name,
            subjects,
            source_ref: source_ref.clone(),
        }));
    }
    let rules = match record.get("rules") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, r)| rule(r, i + 1))
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("rules is {other}, not a list")),
    };
    let aggregation = match record.pointer("/aggregationRule/clusterRoleSelectors") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(items.iter().map(selector).collect()),
        Some(other) => {
            return Err(format!(
                "aggregationRule.clusterRoleSelectors is {other}, not a list"
            ))
        }
    };
    Ok(RbacObject::Role(Role {
        namespace: ns,
        name,
        labels: string_map(record.pointer("/metadata/labels")),
        rules,
        aggregation,
        source_ref: source_ref.clone(),
    }))
}

fn subject(s: &Value, binding_ns: Option<&str>, n: usize) -> Result<Subject, String> {
    let kind = text(s, "/kind").ok_or(format!("subject {n} has no kind"))?;
    let name = text(s, "/name")
        .filter(|v| !v.is_empty())
        .ok_or(format!("subject {n} has no name"))?;
    let namespace = text(s, "/namespace")
        .map(str::to_string)
        .or_else(|| binding_ns.map(str::to_string));
    match kind {
        "ServiceAccount" if namespace.is_none() => Err(format!(
            "subject {n} (ServiceAccount {name}) has no namespace: Kubernetes requires one"
        )),
        "ServiceAccount" | "User" | "Group" => Ok(Subject {
            kind: kind.to_string(),
            name: name.to_string(),
            namespace,
        }),
        other => Err(format!(
            "subject {n} has kind {other}; it must be ServiceAccount, User or Group"
        )),
    }
}

fn rule(r: &Value, n: usize) -> Result<Rule, String> {
    let field = |key: &str| strings(r, &format!("/{key}"), &format!("rule {n} {key}"));
    let rule = Rule {
        api_groups: field("apiGroups")?,
        resources: field("resources")?,
        resource_names: field("resourceNames")?,
        non_resource_urls: field("nonResourceURLs")?,
        verbs: field("verbs")?,
    };
    if rule.verbs.is_empty() {
        return Err(format!(
            "rule {n} has no verbs: Kubernetes requires at least one"
        ));
    }
    Ok(rule)
}

fn selector(s: &Value) -> Selector {
    let match_expressions = s
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|e| {
                    (
                        text(e, "/key").unwrap_or("").to_string(),
                        text(e, "/operator").unwrap_or("").to_string(),
                        strings(e, "/values", "values").unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Selector {
        match_labels: string_map(s.get("matchLabels")),
        match_expressions,
    }
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Selector {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self
                .match_expressions
                .iter()
                .all(|(key, op, values)| match op.as_str() {
                    "In" => labels.get(key).is_some_and(|v| values.contains(v)),
                    "NotIn" => labels.get(key).is_none_or(|v| !values.contains(v)),
                    "Exists" => labels.contains_key(key),
                    "DoesNotExist" => !labels.contains_key(key),
                    _ => false,
                })
    }
}

/// Built-in ClusterRoles a binding may name without the role being in the
/// inputs, as Kubernetes defines them.
fn built_in(name: &str) -> Option<(Vec<Rule>, &'static str)> {
    let all = |verbs: &[&str], resources: &[&str]| Rule {
        api_groups: vec!["*".into()],
        resources: resources.iter().map(|s| s.to_string()).collect(),
        resource_names: Vec::new(),
        non_resource_urls: Vec::new(),
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
    };
    match name {
        "cluster-admin" => Some((
            vec![all(&["*"], &["*"]), {
                let mut r = all(&["*"], &[]);
                r.api_groups.clear();
                r.non_resource_urls = vec!["*".into()];
                r
            }],
            "built-in cluster-admin",
        )),
        // Summaries of the built-in user-facing roles: enough to carry the
        // flags that matter (both `admin` and `edit` read Secrets).
        "admin" => Some((
            vec![all(&["*"], &["secrets", "pods", "rolebindings", "roles"])],
            "built-in admin (namespace administrator; rules summarised)",
        )),
        "edit" => Some((
            vec![all(
                &[
                    "get", "list", "watch", "create", "update", "patch", "delete",
                ],
                &["secrets", "pods", "deployments", "serviceaccounts"],
            )],
            "built-in edit (rules summarised)",
        )),
        "view" => Some((
            vec![all(
                &["get", "list", "watch"],
                &["pods", "deployments", "configmaps"],
            )],
            "built-in view (no Secrets; rules summarised)",
        )),
        _ => None,
    }
}

/// The grants every binding gives, and the rules of roles no binding uses
/// (with no principal), once all objects are known.
pub fn resolve(objects: &[RbacObject]) -> Vec<Grant> {
    let mut roles: BTreeMap<(Option<&str>, &str), &Role> = BTreeMap::new();
    let mut bindings = Vec::new();
    for object in objects {
        match object {
            RbacObject::Role(r) => {
                roles.insert((r.namespace.as_deref(), r.name.as_str()), r);
            }
            RbacObject::Binding(b) => bindings.push(b),
        }
    }
    let effective = |role: &Role| -> (Vec<Rule>, Vec<String>) {
        let mut rules = role.rules.clone();
        let mut notes = Vec::new();
        if let Some(selectors) = &role.aggregation {
            let sources: Vec<&Role> = roles
                .values()
                .filter(|r| r.namespace.is_none() && r.name != role.name)
                .filter(|r| selectors.iter().any(|s| s.matches(&r.labels)))
                .copied()
                .collect();
            for r in &sources {
                for rule in &r.rules {
                    if !rules.contains(rule) {
                        rules.push(rule.clone());
                    }
                }
            }
            let names: Vec<&str> = sources.iter().map(|r| r.name.as_str()).collect();
            notes.push(if names.is_empty() {
                "aggregated ClusterRole: no matching ClusterRole in the inputs".to_string()
            } else {
                format!("aggregated from {}", names.join(", "))
            });
        }
        let aggregate_to: Vec<&str> = role
            .labels
            .iter()
            .filter(|(k, v)| {
                k.starts_with("rbac.authorization.k8s.io/aggregate-to-") && v.as_str() == "true"
            })
            .map(|(k, _)| &k["rbac.authorization.k8s.io/aggregate-to-".len()..])
            .collect();
        if !aggregate_to.is_empty() {
            notes.push(format!("aggregated into {}", aggregate_to.join(", ")));
        }
        (rules, notes)
    };

    let mut out = Vec::new();
    let mut bound: BTreeSet<(Option<&str>, &str)> = BTreeSet::new();
    for b in &bindings {
        let role_ns = (b.role_kind == "Role")
            .then_some(b.namespace.as_deref())
            .flatten();
        let key = (role_ns, b.role_name.as_str());
        let (binding_label, scope) = match &b.namespace {
            Some(ns) => (
                format!("RoleBinding {ns}/{}", b.name),
                format!("namespace {ns}"),
            ),
            None => (
                format!("ClusterRoleBinding/{}", b.name),
                "cluster-wide".to_string(),
            ),
        };
        let role_label = match role_ns {
            Some(ns) => format!("Role {ns}/{}", b.role_name),
            None => format!("ClusterRole/{}", b.role_name),
        };
        let (rules, mut notes) = match roles.get(&key) {
            Some(role) => {
                bound.insert(key);
                effective(role)
            }
            None => match built_in(&b.role_name).filter(|_| role_ns.is_none()) {
                Some((rules, note)) => (rules, vec![note.to_string()]),
                None => (
                    Vec::new(),
                    vec![format!(
                        "{role_label} is not in the inputs: its rules are unknown"
                    )],
                ),
            },
        };
        if b.subjects.is_empty() {
            notes.push("binding has no subjects".into());
        }
        for subject in &b.subjects {
            let (principal, mut subject_notes) = principal(subject);
            subject_notes.extend(notes.iter().cloned());
            let policy = format!("{binding_label} → {role_label} ({scope})");
            if rules.is_empty() {
                out.push(grant(
                    Some(principal.clone()),
                    &policy,
                    None,
                    &b.role_name,
                    &subject_notes,
                    &b.source_ref,
                ));
            }
            for (i, rule) in rules.iter().enumerate() {
                out.push(grant(
                    Some(principal.clone()),
                    &format!("{policy} rule {}", i + 1),
                    Some(rule),
                    &b.role_name,
                    &subject_notes,
                    &b.source_ref,
                ));
            }
        }
    }
    for (key, role) in &roles {
        if bound.contains(key) {
            continue;
        }
        let label = match &role.namespace {
            Some(ns) => format!("Role {ns}/{}", role.name),
            None => format!("ClusterRole/{}", role.name),
        };
        let (rules, mut notes) = effective(role);
        notes.push("not bound to anyone in the inputs".into());
        for (i, rule) in rules.iter().enumerate() {
            out.push(grant(
                None,
                &format!("{label} rule {}", i + 1),
                Some(rule),
                &role.name,
                &notes,
                &role.source_ref,
            ));
        }
    }
    out
}

/// The principal a subject is in audit logs, and what is notable about it.
fn principal(s: &Subject) -> (String, Vec<String>) {
    match s.kind.as_str() {
        "ServiceAccount" => (
            service_account_user(s.namespace.as_deref().unwrap_or("default"), &s.name),
            Vec::new(),
        ),
        "Group" => {
            let note = match s.name.as_str() {
                "system:serviceaccounts" => {
                    Some("granted to every service account in the cluster".to_string())
                }
                "system:unauthenticated" => Some("granted to anonymous requests".to_string()),
                "system:authenticated" => {
                    Some("granted to every authenticated identity".to_string())
                }
                n if n.starts_with("system:serviceaccounts:") => Some(format!(
                    "granted to every service account in namespace {}",
                    &n["system:serviceaccounts:".len()..]
                )),
                _ => None,
            };
            (format!("group:{}", s.name), note.into_iter().collect())
        }
        _ => {
            let note =
                (s.name == "system:anonymous").then(|| "granted to anonymous requests".to_string());
            (s.name.clone(), note.into_iter().collect())
        }
    }
}

fn grant(
    principal: Option<String>,
    policy: &str,
    rule: Option<&Rule>,
    role_name: &str,
    notes: &[String],
    source_ref: &RawRef,
) -> Grant {
    let empty = Rule {
        api_groups: Vec::new(),
        resources: Vec::new(),
        resource_names: Vec::new(),
        non_resource_urls: Vec::new(),
        verbs: Vec::new(),
    };
    let rule = rule.unwrap_or(&empty);
    let has = |list: &[String], item: &str| list.iter().any(|v| v == item);
    let any_verb =
        |verbs: &[&str]| has(&rule.verbs, "*") || verbs.iter().any(|v| has(&rule.verbs, v));
    let core_or_any =
        rule.api_groups.is_empty() || has(&rule.api_groups, "") || has(&rule.api_groups, "*");
    let on = |resource: &str| {
        core_or_any && (has(&rule.resources, "*") || has(&rule.resources, resource))
    };
    let wildcard_action = has(&rule.verbs, "*");
    let wildcard_resource = has(&rule.resources, "*")
        || (has(&rule.api_groups, "*") && !rule.resources.is_empty())
        || has(&rule.non_resource_urls, "*");
    let everything = wildcard_action && has(&rule.resources, "*") && has(&rule.api_groups, "*");
    let admin = role_name == "cluster-admin" || everything;

    let mut flags = Vec::new();
    if role_name == "cluster-admin" {
        flags.push("cluster-admin".to_string());
    } else if everything {
        flags.push("admin-equivalent (* verbs on * resources in * groups)".to_string());
    }
    if wildcard_action {
        flags.push("* verbs".into());
    }
    if wildcard_resource {
        flags.push("* resources".into());
    }
    if on("secrets") && any_verb(&["get", "list", "watch"]) {
        flags.push("reads secrets".into());
    }
    for verb in ["escalate", "bind", "impersonate"] {
        if has(&rule.verbs, verb) {
            flags.push(format!("{verb} verb"));
        }
    }
    if on("pods/exec") && any_verb(&["create"]) {
        flags.push("exec into pods".into());
    }
    if !rule.resource_names.is_empty() {
        flags.push(format!("limited to {}", rule.resource_names.join(", ")));
    }
    flags.extend(notes.iter().cloned());

    let mut resources = Vec::new();
    for group in &rule.api_groups {
        let group = if group.is_empty() { "core" } else { group };
        for resource in &rule.resources {
            if rule.resource_names.is_empty() {
                resources.push(format!("{group}/{resource}"));
            } else {
                for name in &rule.resource_names {
                    resources.push(format!("{group}/{resource}/{name}"));
                }
            }
        }
    }
    resources.extend(rule.non_resource_urls.iter().cloned());
    Grant {
        principal,
        policy: policy.to_string(),
        kind: "permission",
        effect: "Allow".into(),
        actions: rule.verbs.join(" "),
        not_action: false,
        resources: resources.join(" "),
        not_resource: false,
        has_conditions: false,
        wildcard_action,
        wildcard_resource,
        admin,
        flags: flags.join("; "),
        source_ref: source_ref.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> RbacObject {
        let kind = v["kind"].as_str().unwrap().to_string();
        parse(&v, &kind, &RawRef::default()).unwrap()
    }

    fn cluster_role(name: &str, rules: Value) -> RbacObject {
        obj(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": {"name": name}, "rules": rules}),
        )
    }

    fn crb(name: &str, role: &str, subjects: Value) -> RbacObject {
        obj(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                   "metadata": {"name": name},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                   "subjects": subjects}),
        )
    }

    fn sa(ns: &str, name: &str) -> Value {
        json!([{"kind": "ServiceAccount", "name": name, "namespace": ns}])
    }

    #[test]
    fn a_service_account_bound_to_built_in_cluster_admin_is_admin() {
        let grants = resolve(&[crb("ci-admin", "cluster-admin", sa("ci", "deployer"))]);
        assert!(!grants.is_empty());
        let g = &grants[0];
        assert_eq!(
            g.principal.as_deref(),
            Some("system:serviceaccount:ci:deployer")
        );
        assert!(g.admin && g.wildcard_action && g.wildcard_resource);
        assert!(g.flags.starts_with("cluster-admin"), "{}", g.flags);
        assert!(g.flags.contains("built-in cluster-admin"), "{}", g.flags);
        assert!(g.policy.contains("(cluster-wide)"), "{}", g.policy);
    }

    #[test]
    fn each_rule_is_flagged_for_what_it_allows() {
        let grants = resolve(&[
            cluster_role(
                "risky",
                json!([
                    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]},
                    {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["escalate", "bind"]},
                    {"apiGroups": [""], "resources": ["users", "groups"], "verbs": ["impersonate"]},
                    {"apiGroups": ["apps"], "resources": ["*"], "verbs": ["get"]},
                    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]},
                    {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["app"], "verbs": ["get"]},
                    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
                ]),
            ),
            crb("risky", "risky", sa("apps", "bot")),
        ]);
        let flags: Vec<&str> = grants.iter().map(|g| g.flags.as_str()).collect();
        assert_eq!(flags[0], "reads secrets");
        assert_eq!(flags[1], "escalate verb; bind verb");
        assert_eq!(flags[2], "impersonate verb");
        assert_eq!(flags[3], "* resources");
        assert_eq!(flags[4], "exec into pods");
        assert_eq!(flags[5], "limited to app");
        assert_eq!(grants[5].resources, "core/configmaps/app");
        assert_eq!(flags[6], "admin-equivalent (* verbs on * resources in * groups); * verbs; * resources; reads secrets; exec into pods");
        assert!(grants[6].admin && !grants[3].admin);
        assert_eq!(grants.iter().filter(|g| g.admin).count(), 1);
    }

    #[test]
    fn a_role_binding_is_scoped_to_its_namespace_and_groups_are_named() {
        let role = obj(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "reader", "namespace": "web"},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]}),
        );
        let binding = obj(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "readers", "namespace": "web"},
            "roleRef": {"kind": "Role", "name": "reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "api"},
                         {"kind": "Group", "name": "system:serviceaccounts:web"}]}),
        );
        let grants = resolve(&[role, binding]);
        assert_eq!(grants.len(), 2);
        assert_eq!(
            grants[0].principal.as_deref(),
            Some("system:serviceaccount:web:api")
        );
        assert_eq!(
            grants[0].policy,
            "RoleBinding web/readers → Role web/reader (namespace web) rule 1"
        );
        assert_eq!(
            grants[1].principal.as_deref(),
            Some("group:system:serviceaccounts:web")
        );
        assert!(grants[1]
            .flags
            .contains("every service account in namespace web"));
    }

    #[test]
    fn aggregation_unbound_roles_and_missing_roles_are_all_visible() {
        let agg = obj(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "monitoring"},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}}]},
            "rules": []}),
        );
        let part = obj(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "monitoring-endpoints",
                         "labels": {"rbac.example.com/aggregate-to-monitoring": "true",
                                    "rbac.authorization.k8s.io/aggregate-to-view": "true"}},
            "rules": [{"apiGroups": [""], "resources": ["services", "endpoints"], "verbs": ["get"]}]}),
        );
        let grants = resolve(&[
            agg,
            part,
            crb("mon", "monitoring", sa("mon", "prom")),
            crb("ghost", "no-such-role", sa("mon", "prom")),
        ]);
        let bound: Vec<&Grant> = grants.iter().filter(|g| g.principal.is_some()).collect();
        assert_eq!(bound[0].resources, "core/services core/endpoints");
        assert!(
            bound[0]
                .flags
                .contains("aggregated from monitoring-endpoints"),
            "{}",
            bound[0].flags
        );
        assert!(
            bound[1].flags.contains("not in the inputs"),
            "{}",
            bound[1].flags
        );
        assert_eq!(bound[1].actions, "");
        let unbound: Vec<&Grant> = grants.iter().filter(|g| g.principal.is_none()).collect();
        assert_eq!(unbound.len(), 1);
        assert!(
            unbound[0].flags.contains("aggregated into view"),
            "{}",
            unbound[0].flags
        );
        assert!(
            unbound[0].flags.contains("not bound to anyone"),
            "{}",
            unbound[0].flags
        );
    }

    #[test]
    fn malformed_objects_are_errors_naming_the_field() {
        let bad = |v: Value| {
            let kind = v["kind"].as_str().unwrap().to_string();
            parse(&v, &kind, &RawRef::default()).unwrap_err()
        };
        let e = bad(json!({"kind": "ClusterRole", "metadata": {"name": "x"},
                           "rules": [{"resources": ["pods"]}]}));
        assert!(e.contains("rule 1 has no verbs"), "{e}");
        let e = bad(
            json!({"kind": "ClusterRoleBinding", "metadata": {"name": "x"},
                           "roleRef": {"kind": "ClusterRole", "name": "r"},
                           "subjects": [{"kind": "ServiceAccount", "name": "a"}]}),
        );
        assert!(e.contains("no namespace"), "{e}");
        let e = bad(json!({"kind": "RoleBinding", "metadata": {"name": "x"}}));
        assert!(e.contains("roleRef.kind"), "{e}");
    }
}
