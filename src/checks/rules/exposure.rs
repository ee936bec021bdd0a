//! Secrets exposed in code, machine traffic without mutual
//! authentication, and access with no identity at all.

use std::collections::BTreeMap;

use super::rows;
use crate::checks::aggregate::Rows;
use crate::checks::evidence::Evidence;
use crate::checks::outcome::{Ctx, Outcome};
use crate::model::tables::{GRANTS, IDENTITIES, SECRET_FINDINGS};

const SCANNERS: [&str; 2] = ["gitleaks", "trufflehog"];

pub fn secrets_in_code(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let f = &ev.findings;
    if f.len == 0 {
        // An empty report leaves no row behind, so "no findings" and "no
        // scan" look alike; say which one the summary supports.
        return if SCANNERS.iter().any(|s| ev.ingested(s)) {
            Outcome::not_applicable("the scanner reports hold no findings")
        } else {
            Outcome::not_evaluated(
                "no secret-scanner findings in the evidence; an empty gitleaks or trufflehog \
                 report leaves no trace, so this cannot be told from no scan at all",
            )
        };
    }
    let mut out = Outcome::new();
    // Verified secrets first: they are known to work.
    let mut order: Vec<usize> = (0..f.len).collect();
    order.sort_by_key(|&i| (!f.verified[i], i));
    let mut verified = 0;
    for i in order {
        if f.verified[i] {
            verified += 1;
        }
        let id = f.fingerprint.get(i).unwrap_or("?");
        let place = match (f.file.get(i), f.commit.get(i)) {
            (Some(file), Some(commit)) => format!("{file} at {}", &commit[..commit.len().min(12)]),
            (Some(file), None) => file.to_string(),
            _ => "unknown place".to_string(),
        };
        out.fail(
            ctx,
            id,
            format!(
                "{} {} in {place}{}",
                f.tool.get(i).unwrap_or("?"),
                f.rule.get(i).unwrap_or("?"),
                if f.verified[i] {
                    " (verified live)"
                } else {
                    ""
                }
            ),
            rows(SECRET_FINDINGS, &[i]),
        );
    }
    out.metric("verified", verified as u64);
    out.judge_by_subjects("scanner findings", f.len)
}

pub fn mesh_mtls(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let g = &ev.grants;
    let mesh: Vec<usize> = (0..g.len)
        .filter(|&i| g.kind.get(i) == Some("mesh-auth"))
        .collect();
    if mesh.is_empty() {
        return Outcome::not_applicable("no service-mesh authentication settings were given");
    }
    let mut out = Outcome::new();
    for &i in &mesh {
        let mode = g.effect.get(i).unwrap_or("UNSET");
        let flags = g.flags.get(i).unwrap_or("");
        let scope = g.resources.get(i).unwrap_or("?");
        let policy = g.policy.get(i).unwrap_or("?");
        let weak_port = flags.split("; ").find(|f| {
            f.starts_with("port ") && (f.contains("PERMISSIVE") || f.contains("DISABLE"))
        });
        let problem = match mode {
            "PERMISSIVE" | "DISABLE" => Some(format!("{mode} for {scope}")),
            "UNSET" if scope == "mesh-wide" => {
                Some("mesh-wide default left UNSET (Istio treats it as PERMISSIVE)".into())
            }
            _ => weak_port.map(|p| format!("{scope} is {mode} except {p}")),
        };
        if let Some(problem) = problem {
            out.fail(ctx, policy, problem, rows(GRANTS, &[i]));
        }
    }
    out.judge_by_subjects("mesh authentication settings", mesh.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::evidence::Evidence;
    use crate::checks::outcome::Status;
    use crate::checks::rules::testing::*;
    use crate::model::{RawRef, SecretFinding};

    fn finding(fp: &str, verified: Option<bool>) -> SecretFinding {
        SecretFinding {
            tool: "gitleaks",
            rule: "aws-access-token".into(),
            file: Some("deploy/ci.env".into()),
            line: Some(3),
            commit: Some("0123456789abcdef0123".into()),
            repository: None,
            committed_us: None,
            verified,
            fingerprint: fp.into(),
            source_ref: RawRef::default(),
        }
    }

    #[test]
    fn findings_fail_verified_first_and_no_report_is_not_a_pass() {
        let ev = Evidence::from_rows(
            &[],
            &[],
            &[],
            &[finding("a", None), finding("b", Some(true))],
        )
        .unwrap();
        let o = secrets_in_code(&ev, &ctx("secrets-in-code", &[]));
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.subjects[0].id, "b");
        assert!(o.subjects[0].detail.ends_with("(verified live)"));
        assert_eq!(
            o.subjects[1].detail,
            "gitleaks aws-access-token in deploy/ci.env at 0123456789ab"
        );
        let o = secrets_in_code(&evidence(&[], &[], &[]), &ctx("secrets-in-code", &[]));
        assert_eq!(o.status, Status::NotEvaluated);
    }

    #[test]
    fn mesh_modes() {
        let mesh = |mode: &str, scope: &str, flags: &str| {
            let mut g = grant("", "mtls", scope);
            g.principal = None;
            g.kind = "mesh-auth";
            g.effect = mode.into();
            g.flags = flags.into();
            g.policy = format!("PeerAuthentication {scope}");
            g
        };
        let strict = mesh("STRICT", "mesh-wide", "");
        let o = mesh_mtls(
            &evidence(&[], &[], std::slice::from_ref(&strict)),
            &ctx("mesh-mtls", &[]),
        );
        assert_eq!(o.status, Status::Pass);
        let o = mesh_mtls(
            &evidence(
                &[],
                &[],
                &[
                    strict,
                    mesh("PERMISSIVE", "namespace legacy", ""),
                    mesh(
                        "STRICT",
                        "workload pay{app=api}",
                        "port 8080: DISABLE (mTLS disabled)",
                    ),
                    mesh("UNSET", "mesh-wide", ""),
                ],
            ),
            &ctx("mesh-mtls", &[]),
        );
        let details: Vec<&str> = o.subjects.iter().map(|s| s.detail.as_str()).collect();
        assert_eq!(
            details,
            vec![
                "PERMISSIVE for namespace legacy",
                "workload pay{app=api} is STRICT except port 8080: DISABLE (mTLS disabled)",
                "mesh-wide default left UNSET (Istio treats it as PERMISSIVE)"
            ]
        );
        let o = mesh_mtls(&evidence(&[], &[], &[]), &ctx("mesh-mtls", &[]));
        assert_eq!(o.status, Status::NotApplicable);
    }
}

/// Flags a grant carries when it is open to anyone: GCP's `allUsers` /
/// `allAuthenticatedUsers`, Kubernetes' `system:anonymous` /
/// `system:unauthenticated` (see the policy readers).
const OPEN_GRANT_FLAGS: [&str; 2] = ["public (", "granted to anonymous requests"];

/// The first row of a group and its action.
type FirstAction<'a> = (u64, &'a str);

/// Anonymous requests the policy allowed on resources not declared public,
/// and grants open to anyone.
pub fn anonymous_access(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let (e, g) = (&ev.events, &ev.grants);
    if e.records == 0 && g.len == 0 {
        return Outcome::not_applicable("no access records and no grants");
    }
    let public = super::lifecycle::globs(&ctx.strings("public_resources"));
    let public_actions = super::lifecycle::globs(&ctx.strings("public_actions"));
    // Resource → its allowed anonymous requests, and the action of the first.
    let mut allowed: BTreeMap<&str, (Rows, Option<FirstAction<'_>>)> = BTreeMap::new();
    for ((resource, action), list) in &e.anonymous_allowed {
        if public_actions.is_match(action) || public.is_match(resource) {
            continue;
        }
        let entry = allowed.entry(resource.as_str()).or_default();
        entry.0.merge(list.clone());
        if let Some(first) = list.lowest() {
            if entry.1.is_none_or(|(row, _)| first < row) {
                entry.1 = Some((first, action.as_str()));
            }
        }
    }
    let allowed_total: u64 = allowed.values().map(|(l, _)| l.total).sum();
    let mut out = Outcome::new();
    out.metric("anonymous_events", e.anonymous);
    out.metric("allowed_on_non_public", allowed_total);
    let mut by_first: Vec<_> = allowed.into_iter().collect();
    by_first.sort_by_key(|(_, (list, _))| list.lowest());
    for (resource, (list, first)) in &by_first {
        let action = first.map_or("?", |(_, a)| if a.is_empty() { "?" } else { a });
        super::fail_events(
            &mut out,
            ctx,
            resource,
            format!(
                "{} anonymous request(s) allowed, first {action}",
                list.total
            ),
            list,
        );
    }
    let open_grants: Vec<usize> = (0..g.len)
        .filter(|&i| {
            g.effect
                .get(i)
                .is_some_and(|x| !x.eq_ignore_ascii_case("deny"))
        })
        .filter(|&i| {
            let flags = g.flags.get(i).unwrap_or("");
            OPEN_GRANT_FLAGS.iter().any(|f| flags.contains(f))
        })
        .collect();
    out.metric("open_grants", open_grants.len() as u64);
    for &i in &open_grants {
        let scope = g.resources.get(i).or(g.policy.get(i)).unwrap_or("?");
        out.fail(
            ctx,
            &format!("{} on {scope}", g.principal.get(i).unwrap_or("anyone")),
            format!(
                "{} grants {} to anyone ({})",
                g.policy.get(i).unwrap_or("?"),
                g.actions.get(i).unwrap_or("?"),
                g.flags.get(i).unwrap_or("")
            ),
            rows(GRANTS, &[i]),
        );
    }
    let considered = e.anonymous as usize + open_grants.len();
    if considered == 0 {
        out.status = crate::checks::outcome::Status::Pass;
        out.reason = format!(
            "no anonymous request in {} access record(s), and none of {} grant(s) is open to anyone",
            e.records, g.len
        );
        return out;
    }
    out.judge_by_subjects("anonymous requests and open grants", considered)
}

/// MCP servers handed a secret written into their configuration file.
pub fn mcp_inline_secrets(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let id = &ev.identities;
    let servers = (0..id.len)
        .filter(|&i| id.kind.get(i) == Some("mcp-server"))
        .count();
    if servers == 0 {
        return Outcome::not_applicable("no MCP client configuration in the inventories");
    }
    let credentials: Vec<usize> = (0..id.len)
        .filter(|&i| {
            id.details
                .get(i)
                .is_some_and(|d| d.starts_with("mcp-credential="))
        })
        .collect();
    let mut out = Outcome::new();
    out.metric("servers", servers as u64);
    out.metric("credentials", credentials.len() as u64);
    for &i in &credentials {
        if id.details.get(i) == Some("mcp-credential=inline-literal") {
            out.fail(
                ctx,
                id.id.get(i).unwrap_or("?"),
                "the secret is written in the MCP configuration; reference it from the \
                 environment or a prompted input instead"
                    .to_string(),
                rows(IDENTITIES, &[i]),
            );
        }
    }
    out.judge_by_subjects(
        "credentials handed to MCP servers",
        credentials.len().max(1),
    )
}

#[cfg(test)]
mod anonymous_tests {
    use super::*;
    use crate::checks::outcome::Status;
    use crate::checks::rules::testing::*;
    use crate::model::{CredentialType, Decision, PrincipalType};

    fn anonymous(resource: &str, decision: Decision) -> crate::model::AccessEvent {
        let mut e = event(
            "anonymous",
            PrincipalType::Anonymous,
            CredentialType::Unknown,
            T0,
        );
        e.access.resource = Some(resource.into());
        e.access.decision = decision;
        e
    }

    #[test]
    fn anonymous_reads_of_private_resources_fail_public_ones_and_denials_do_not() {
        let check = |events: &[crate::model::AccessEvent], grants: &[crate::model::Grant]| {
            anonymous_access(
                &evidence(events, &[], grants),
                &ctx("anonymous-access", &[]),
            )
        };
        let named = workload("arn:aws:iam::1:role/app", CredentialType::Ephemeral, T0);
        let out = check(std::slice::from_ref(&named), &[]);
        assert_eq!(out.status, Status::Pass, "{}", out.reason);

        let out = check(
            &[
                named.clone(),
                anonymous("arn:aws:s3:::payroll/2026.csv", Decision::Allow),
                anonymous("arn:aws:s3:::payroll/2026.csv", Decision::Allow),
                anonymous("arn:aws:s3:::payroll/2025.csv", Decision::Deny),
                anonymous("/healthz", Decision::Allow),
            ],
            &[],
        );
        assert_eq!(out.status, Status::Fail);
        let ids: Vec<&str> = out.subjects.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["arn:aws:s3:::payroll/2026.csv"]);
        assert_eq!(out.subjects[0].rows_total, 2);

        // A bucket the team declares public is not a finding.
        let public = ctx(
            "anonymous-access",
            &[(
                "public_resources",
                toml::Value::Array(vec!["arn:aws:s3:::payroll/*".into()]),
            )],
        );
        let ev = evidence(
            &[anonymous("arn:aws:s3:::payroll/2026.csv", Decision::Allow)],
            &[],
            &[],
        );
        assert_eq!(anonymous_access(&ev, &public).status, Status::Pass);
    }

    #[test]
    fn grants_open_to_anyone_fail_and_nothing_to_judge_is_not_applicable() {
        let mut open = grant("allUsers", "roles/storage.objectViewer", "projects/p");
        open.flags = "public (allUsers)".into();
        let mut k8s = grant("system:unauthenticated", "get list", "cluster-wide");
        k8s.flags = "granted to anonymous requests".into();
        let scoped = grant(
            "serviceAccount:ci@p.iam.gserviceaccount.com",
            "roles/viewer",
            "projects/p",
        );
        let out = anonymous_access(
            &evidence(&[], &[], &[open, k8s, scoped]),
            &ctx("anonymous-access", &[]),
        );
        assert_eq!(out.status, Status::Fail);
        assert_eq!(out.subjects.len(), 2);
        let empty = anonymous_access(&evidence(&[], &[], &[]), &ctx("anonymous-access", &[]));
        assert_eq!(empty.status, Status::NotApplicable);
    }
}

#[cfg(test)]
mod mcp_tests {
    use super::*;
    use crate::checks::outcome::Status;
    use crate::checks::rules::testing::*;
    use crate::model::CredentialType;

    fn server(name: &str) -> crate::model::Identity {
        identity(
            &format!("mcp:{name}@x/.mcp.json"),
            "mcp-server",
            CredentialType::Static,
        )
    }

    fn secret(server: &str, class: &str) -> crate::model::Identity {
        let mut row = identity(
            &format!("mcp:{server}@x/.mcp.json#env.TOKEN"),
            "secret",
            CredentialType::Static,
        );
        row.details = format!("mcp-credential={class}");
        row
    }

    #[test]
    fn inline_secrets_fail_references_and_prompts_pass_and_no_config_is_not_applicable() {
        let check = |rows: &[crate::model::Identity]| {
            mcp_inline_secrets(&evidence(&[], rows, &[]), &ctx("mcp-inline-secrets", &[]))
        };
        assert_eq!(check(&[]).status, Status::NotApplicable);
        let good = [
            server("a"),
            secret("a", "environment-reference"),
            server("b"),
            secret("b", "prompted-input (masked)"),
        ];
        assert_eq!(check(&good).status, Status::Pass);
        let mut bad = good.to_vec();
        bad.push(server("c"));
        bad.push(secret("c", "inline-literal"));
        let out = check(&bad);
        assert_eq!(out.status, Status::Fail);
        assert_eq!(out.subjects.len(), 1);
        assert!(out.subjects[0].id.starts_with("mcp:c@"));
        // A server with no credential at all is considered, and passes.
        assert_eq!(check(&[server("d")]).status, Status::Pass);
    }
}
