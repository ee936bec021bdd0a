//! GCP IAM allow policies (`getIamPolicy`, `gcloud ... get-iam-policy
//! --format=json`): `{"bindings": [{"role", "members", "condition"}], "etag",
//! "version"}`. One grant per (member, binding), the member written as
//! audit logs name it (the e-mail of `serviceAccount:` and `user:` members;
//! other member forms as given).
//!
//! Flags: `basic role roles/owner|editor` (admin-equivalent), roles that
//! can grant any role (`roles/resourcemanager.projectIamAdmin`,
//! `roles/iam.securityAdmin`: admin-equivalent), roles that let the holder
//! act as or mint credentials for service accounts
//! (`roles/iam.serviceAccountTokenCreator`, `serviceAccountUser`,
//! `serviceAccountKeyAdmin`, `workloadIdentityUser`), and `public` for
//! `allUsers` / `allAuthenticatedUsers`.

use serde_json::Value;

use super::fields::text;
use crate::model::{Grant, RawRef};

pub const SOURCE: &str = "gcp-iam-policy";

pub fn detect(record: &Value) -> bool {
    record
        .get("bindings")
        .and_then(Value::as_array)
        .is_some_and(|b| {
            !b.is_empty()
                && b.iter()
                    .all(|b| b.get("role").is_some() && b.get("members").is_some())
        })
}

const ADMIN_ROLES: [(&str, &str); 4] = [
    ("roles/owner", "basic role roles/owner"),
    ("roles/editor", "basic role roles/editor"),
    (
        "roles/resourcemanager.projectIamAdmin",
        "may grant any role on the project",
    ),
    ("roles/iam.securityAdmin", "may grant any role"),
];

const IMPERSONATION_ROLES: [(&str, &str); 4] = [
    (
        "roles/iam.serviceAccountTokenCreator",
        "may mint tokens for service accounts",
    ),
    (
        "roles/iam.serviceAccountUser",
        "may act as service accounts",
    ),
    (
        "roles/iam.serviceAccountKeyAdmin",
        "may create service-account keys",
    ),
    (
        "roles/iam.workloadIdentityUser",
        "may impersonate via workload identity",
    ),
];

pub fn grants(record: &Value, file: &str, source_ref: &RawRef) -> Result<Vec<Grant>, String> {
    let policy = file
        .rsplit('/')
        .next()
        .unwrap_or(file)
        .trim_end_matches(".json")
        .to_string();
    let mut out = Vec::new();
    for (i, binding) in record["bindings"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let role = text(binding, "/role")
            .filter(|r| !r.is_empty())
            .ok_or(format!("binding {} has no role", i + 1))?;
        let members = binding
            .get("members")
            .and_then(Value::as_array)
            .ok_or(format!("binding {} ({role}): members is not a list", i + 1))?;
        let condition = binding.get("condition").filter(|c| c.is_object());
        let admin_flag = ADMIN_ROLES
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, f)| *f);
        let mut flags: Vec<String> = Vec::new();
        if let Some(f) = admin_flag {
            flags.push(format!("admin-equivalent ({f})"));
        }
        if let Some((_, f)) = IMPERSONATION_ROLES.iter().find(|(r, _)| *r == role) {
            flags.push((*f).to_string());
        }
        if let Some(title) = condition.and_then(|c| text(c, "/title")) {
            flags.push(format!("condition: {title}"));
        }
        for member in members {
            let member = member.as_str().ok_or(format!(
                "binding {} ({role}): a member that is not a string",
                i + 1
            ))?;
            let mut member_flags = flags.clone();
            if matches!(member, "allUsers" | "allAuthenticatedUsers") {
                member_flags.push(format!("public ({member})"));
            }
            if member.starts_with("deleted:") {
                member_flags.push("member was deleted".into());
            }
            let principal = member
                .strip_prefix("serviceAccount:")
                .or_else(|| member.strip_prefix("user:"))
                .unwrap_or(member);
            out.push(Grant {
                principal: Some(principal.to_string()),
                policy: format!("{policy} binding {}", i + 1),
                kind: "permission",
                effect: "Allow".into(),
                actions: role.to_string(),
                not_action: false,
                resources: "(the resource this policy is attached to)".into(),
                not_resource: false,
                has_conditions: condition.is_some(),
                wildcard_action: false,
                wildcard_resource: false,
                admin: admin_flag.is_some(),
                flags: member_flags.join("; "),
                source_ref: source_ref.clone(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn owners_impersonators_and_public_members_are_flagged() {
        let policy = json!({"version": 3, "etag": "x", "bindings": [
            {"role": "roles/owner", "members": ["serviceAccount:ci@p.iam.gserviceaccount.com"]},
            {"role": "roles/iam.serviceAccountTokenCreator", "members": ["user:a@example.com"],
             "condition": {"title": "until 2026", "expression": "request.time < timestamp('2026-01-01T00:00:00Z')"}},
            {"role": "roles/storage.objectViewer", "members": ["allUsers"]}
        ]});
        assert!(detect(&policy));
        let g = grants(&policy, "dir/project-policy.json", &RawRef::default()).unwrap();
        assert_eq!(
            g[0].principal.as_deref(),
            Some("ci@p.iam.gserviceaccount.com")
        );
        assert!(g[0].admin);
        assert_eq!(g[0].flags, "admin-equivalent (basic role roles/owner)");
        assert_eq!(g[0].policy, "project-policy binding 1");
        assert!(g[1].has_conditions && !g[1].admin);
        assert_eq!(
            g[1].flags,
            "may mint tokens for service accounts; condition: until 2026"
        );
        assert_eq!(g[2].flags, "public (allUsers)");
    }
}
