//! What non-human identities may do and where: broad grants, open role
//! trust, and one identity acting in several environments.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::{group, rows};
use crate::checks::evidence::Evidence;
use crate::checks::outcome::{Ctx, Outcome, RowRef};
use crate::model::tables::{GRANTS, IDENTITIES};

/// Principals the evidence shows to be non-human: by their form (service
/// accounts, workload identities, roles other than SSO roles), by acting
/// as a workload, service or agent in the logs, or (IAM users) by holding
/// active access keys.
fn nhi_principals(ev: &Evidence) -> HashSet<String> {
    let mut out = HashSet::new();
    for (name, p) in &ev.events.principals {
        if p.nhi_events > 0 && !name.is_empty() {
            out.insert(name.clone());
        }
    }
    let id = &ev.identities;
    for i in 0..id.len {
        if id.active[i] && id.kind.get(i) == Some("access-key") {
            if let Some(owner) = id.owner_id.get(i) {
                out.insert(owner.to_string());
            }
        }
    }
    out
}

fn is_nhi(principal: &str, known: &HashSet<String>) -> bool {
    principal.starts_with("system:serviceaccount")
        || principal.starts_with("group:system:serviceaccounts")
        || principal.starts_with("spiffe://")
        || principal.ends_with(".gserviceaccount.com")
        || (principal.contains(":role/") && !principal.contains("AWSReservedSSO_"))
        || known.contains(principal)
}

/// Whether an action list allows every action of a service (`*`, `s3:*`).
fn service_wildcard(actions: &str) -> bool {
    actions
        .split_whitespace()
        .any(|a| a == "*" || a.ends_with(":*"))
}

pub fn least_privilege(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let g = &ev.grants;
    let known = nhi_principals(ev);
    let mut considered = 0;
    let mut narrow_wildcards = 0;
    let mut bad: Vec<(usize, &str)> = Vec::new();
    for i in 0..g.len {
        if g.kind.get(i) != Some("permission") || g.effect.get(i) != Some("Allow") {
            continue;
        }
        let Some(principal) = g.principal.get(i) else {
            continue;
        };
        if !is_nhi(principal, &known) {
            continue;
        }
        considered += 1;
        let broad = g.admin[i]
            || (service_wildcard(g.actions.get(i).unwrap_or("")) && g.wildcard_resource[i]);
        if broad {
            bad.push((i, principal));
        } else if g.wildcard_action[i] || g.wildcard_resource[i] {
            narrow_wildcards += 1;
        }
    }
    if considered == 0 {
        return Outcome::not_applicable("no allow grants held by non-human principals");
    }
    let mut out = Outcome::new();
    out.metric("narrower_wildcard_grants", narrow_wildcards as u64);
    let groups = group(bad.iter().copied());
    for (principal, idx) in groups {
        let policies: BTreeSet<&str> = idx.iter().filter_map(|&i| g.policy.get(i)).collect();
        let admin = idx.iter().any(|&i| g.admin[i]);
        out.fail(
            ctx,
            principal,
            format!(
                "{} {} grant(s) via {}",
                idx.len(),
                if admin {
                    "admin-equivalent"
                } else {
                    "service-wide wildcard"
                },
                policies.into_iter().take(5).collect::<Vec<_>>().join(", ")
            ),
            rows(GRANTS, &idx),
        );
    }
    out.judge_by_subjects("allow grants to NHIs", considered)
}

pub fn open_trust(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let g = &ev.grants;
    let mut considered = 0;
    let mut bad: Vec<(usize, &str, &'static str)> = Vec::new();
    for i in 0..g.len {
        if g.kind.get(i) != Some("trust") || g.effect.get(i) != Some("Allow") {
            continue;
        }
        considered += 1;
        let flags = g.flags.get(i).unwrap_or("");
        let role = g.principal.get(i).unwrap_or("?");
        if flags.contains("any principal may assume") {
            bad.push((i, role, "any principal may assume it"));
        } else if flags.contains("a whole account may assume") && !g.has_conditions[i] {
            bad.push((
                i,
                role,
                "every identity of a whole account may assume it, unconditionally",
            ));
        }
    }
    if considered == 0 {
        return Outcome::not_applicable("no role trust policies in the evidence");
    }
    let mut out = Outcome::new();
    for (role, idx) in group(bad.iter().map(|(i, r, _)| (*i, *r))) {
        let why: BTreeSet<&str> = bad
            .iter()
            .filter(|(_, r, _)| *r == role)
            .map(|(_, _, w)| *w)
            .collect();
        let trusted: BTreeSet<&str> = idx.iter().filter_map(|&i| g.resources.get(i)).collect();
        out.fail(
            ctx,
            role,
            format!(
                "{} (trusts {})",
                why.into_iter().collect::<Vec<_>>().join("; "),
                trusted.into_iter().collect::<Vec<_>>().join(", ")
            ),
            rows(GRANTS, &idx),
        );
    }
    out.judge_by_subjects("trust statements", considered)
}

type Places<'a> = HashMap<&'a str, BTreeMap<&'a str, (usize, Vec<RowRef>)>>;

/// Rows kept per (subject, environment); the rest are counted.
const KEPT_PER_PLACE: usize = 10;

/// Counts a row for (subject, place), keeping the first few.
fn note<'a>(places: &mut Places<'a>, subject: &'a str, place: &'a str, row: RowRef) {
    let entry = places.entry(subject).or_default().entry(place).or_default();
    entry.0 += 1;
    if entry.1.len() < KEPT_PER_PLACE {
        entry.1.push(row);
    }
}

pub fn environment_reuse(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let max = ctx.number("max_environments");
    let e = &ev.events;
    // subject → environment → (rows seen, the first rows)
    let mut places: Places<'_> = HashMap::new();
    let mut considered: HashSet<&str> = e.placed_principals.iter().map(String::as_str).collect();
    considered.extend(e.places.keys().map(String::as_str));
    for (subject, envs) in &e.places {
        for (place, list) in envs.iter() {
            let kept: Vec<RowRef> = super::event_rows(list)
                .into_iter()
                .take(KEPT_PER_PLACE)
                .collect();
            places
                .entry(subject.as_str())
                .or_default()
                .insert(place.as_str(), (list.total as usize, kept));
        }
    }
    let id = &ev.identities;
    for i in 0..id.len {
        let (Some(name), Some(env)) = (id.id.get(i), id.environment.get(i)) else {
            continue;
        };
        considered.insert(name);
        note(
            &mut places,
            name,
            env,
            RowRef {
                table: IDENTITIES,
                row: i,
            },
        );
    }
    if considered.is_empty() {
        return Outcome::not_applicable(
            "no NHI activity or inventory entry names an account or environment",
        );
    }
    let mut out = Outcome::new();
    let mut subjects: Vec<_> = places
        .iter()
        .filter(|(_, envs)| envs.len() as f64 > max)
        .collect();
    subjects.sort_by_key(|(s, _)| **s);
    for (subject, envs) in subjects {
        let names: Vec<&str> = envs.keys().copied().collect();
        let refs: Vec<RowRef> = envs.values().flat_map(|(_, r)| r.iter().copied()).collect();
        out.fail(
            ctx,
            subject,
            format!(
                "acts in or is listed for {} environments: {}",
                envs.len(),
                names.join(", ")
            ),
            refs,
        );
    }
    out.metric("max_environments", max);
    out.judge_by_subjects("NHIs with a known environment", considered.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::outcome::Status;
    use crate::checks::rules::testing::*;
    use crate::model::CredentialType::{Ephemeral, Static};

    #[test]
    fn admin_and_service_wildcards_fail_narrow_ones_are_counted() {
        let mut admin = grant("system:serviceaccount:ci:deployer", "*", "*");
        admin.admin = true;
        let s3 = grant("arn:aws:iam::1:role/app", "s3:*", "*");
        let describe = grant("arn:aws:iam::1:role/app", "ec2:Describe*", "*");
        let human = grant("arn:aws:iam::1:role/AWSReservedSSO_Admin_abc", "*", "*");
        let o = least_privilege(
            &evidence(&[], &[], &[admin, s3, describe, human]),
            &ctx("least-privilege-grants", &[]),
        );
        assert_eq!(o.status, Status::Fail);
        let ids: Vec<&str> = o.subjects.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                "system:serviceaccount:ci:deployer",
                "arn:aws:iam::1:role/app"
            ]
        );
        assert_eq!(o.metrics["narrower_wildcard_grants"], 1);
        assert_eq!(o.metrics["considered"], 3, "the SSO role is a person's");
        // An IAM user with an active key is a machine identity.
        let mut key = identity("arn:aws:iam::1:user/ci#access_key_1", "access-key", Static);
        key.owner_id = Some("arn:aws:iam::1:user/ci".into());
        let mut user_admin = grant("arn:aws:iam::1:user/ci", "*", "*");
        user_admin.admin = true;
        let o = least_privilege(
            &evidence(&[], &[key], &[user_admin.clone()]),
            &ctx("least-privilege-grants", &[]),
        );
        assert_eq!(o.status, Status::Fail);
        let o = least_privilege(
            &evidence(&[], &[], &[user_admin]),
            &ctx("least-privilege-grants", &[]),
        );
        assert_eq!(
            o.status,
            Status::NotApplicable,
            "a user with no key or activity is not shown to be an NHI"
        );
    }

    #[test]
    fn open_trust_needs_no_conditions_to_fail() {
        let mut any = grant("arn:aws:iam::1:role/open", "sts:AssumeRole", "AWS:*");
        any.kind = "trust";
        any.flags = "any principal may assume".into();
        let mut account = grant(
            "arn:aws:iam::1:role/acct",
            "sts:AssumeRole",
            "AWS:arn:aws:iam::2:root",
        );
        account.kind = "trust";
        account.flags = "a whole account may assume".into();
        let mut guarded = account.clone();
        guarded.principal = Some("arn:aws:iam::1:role/guarded".into());
        guarded.has_conditions = true;
        let o = open_trust(
            &evidence(&[], &[], &[any, account, guarded]),
            &ctx("open-role-trust", &[]),
        );
        let ids: Vec<&str> = o.subjects.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            vec!["arn:aws:iam::1:role/open", "arn:aws:iam::1:role/acct"]
        );
        let o = open_trust(&evidence(&[], &[], &[]), &ctx("open-role-trust", &[]));
        assert_eq!(o.status, Status::NotApplicable);
    }

    /// A client certificate (kubeadm's `kubernetes-admin`) used in two
    /// clusters is flagged as a shared static key is; the same service
    /// with a short-lived token is not.
    #[test]
    fn a_client_certificate_used_in_two_clusters_is_shared() {
        let cert = |cluster: &str, cred: crate::model::CredentialType| {
            let mut e = event(
                "kubernetes-admin",
                crate::model::PrincipalType::Service,
                cred,
                T0,
            );
            e.source = "k8s-audit";
            e.access.credential_id = Some("x509:kubernetes-admin".into());
            e.access.account = None;
            e.access.environment = Some(cluster.into());
            e
        };
        let o = environment_reuse(
            &evidence(&[cert("prod", Static), cert("staging", Static)], &[], &[]),
            &ctx("environment-reuse", &[]),
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.subjects[0].id, "x509:kubernetes-admin");
        assert!(
            o.subjects[0].detail.contains("prod, staging"),
            "{}",
            o.subjects[0].detail
        );
        let o = environment_reuse(
            &evidence(
                &[cert("prod", Ephemeral), cert("staging", Ephemeral)],
                &[],
                &[],
            ),
            &ctx("environment-reuse", &[]),
        );
        assert_ne!(o.status, Status::Fail);
    }

    #[test]
    fn one_identity_in_two_accounts() {
        let a = workload("arn:aws:iam::1:role/shared", Ephemeral, T0);
        let mut b = a.clone();
        b.access.account = Some("444455556666".into());
        let o = environment_reuse(
            &evidence(std::slice::from_ref(&a), &[], &[]),
            &ctx("environment-reuse", &[]),
        );
        assert_eq!(o.status, Status::Pass);
        let o = environment_reuse(&evidence(&[a, b], &[], &[]), &ctx("environment-reuse", &[]));
        assert_eq!(o.status, Status::Fail);
        assert!(o.subjects[0].detail.contains("111122223333, 444455556666"));
    }
}
