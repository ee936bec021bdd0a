//! The lifecycle of identities: idle ones, use after revocation, owners,
//! and identities that act without being inventoried.

use std::collections::{BTreeMap, HashMap, HashSet};

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::{date, days, fail_events, rows};
use crate::checks::aggregate::Rows;
use crate::checks::evidence::Evidence;
use crate::checks::outcome::{Ctx, Outcome, RowRef, DAY_US};
use crate::model::tables::{ACCESS_EVENTS, IDENTITIES};

/// Active identities and credentials idle for longer than `max_idle_days`.
pub fn unused_active(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let id = &ev.identities;
    let max_days = ctx.number("max_idle_days");
    let cutoff = ctx.as_of_us - (max_days * DAY_US as f64) as i64;
    if !(0..id.len).any(|i| id.active[i] && !id.is_human(i)) {
        return Outcome::not_applicable("no active identities in the inventories");
    }
    let seen = &ev.events.last_seen;
    let mut out = Outcome::new();
    let mut considered = 0;
    let mut undetermined = Vec::new();
    for i in (0..id.len).filter(|&i| id.active[i] && !id.is_human(i)) {
        let name = id.id.get(i).unwrap_or("?");
        considered += 1;
        let used = id.last_used[i].max(seen.get(name).copied());
        match (used, id.created[i]) {
            (Some(t), _) if t >= cutoff => {}
            (Some(t), _) => out.fail(
                ctx,
                name,
                format!(
                    "last used {} ({} days before the as-of date; limit {max_days})",
                    date(t),
                    days(ctx.as_of_us - t)
                ),
                rows(IDENTITIES, &[i]),
            ),
            (None, Some(c)) if c < cutoff => out.fail(
                ctx,
                name,
                format!(
                    "never used; created {} ({} days ago)",
                    date(c),
                    days(ctx.as_of_us - c)
                ),
                rows(IDENTITIES, &[i]),
            ),
            (None, Some(_)) => {}
            (None, None) => undetermined.push(name.to_string()),
        }
    }
    if considered == 0 {
        return Outcome::not_applicable("no active identities in the inventories");
    }
    if undetermined.len() == considered {
        return Outcome::not_evaluated(format!(
            "none of the {considered} active identities has a last-use or creation time, \
             and the logs name none of them"
        ));
    }
    out.metric("max_idle_days", max_days);
    out.metric("undetermined", undetermined.len() as u64);
    if !undetermined.is_empty() {
        out.metric("undetermined_ids", undetermined.clone());
    }
    let mut out = out.judge_by_subjects("active identities and credentials", considered);
    if !undetermined.is_empty() {
        out.reason.push_str(&format!(
            "; {} could not be judged (no use or creation time)",
            undetermined.len()
        ));
    }
    out
}

/// Events after their identity was deleted or disabled (by the logs), or
/// after their credential expired (by the inventory).
pub fn used_after_disabled(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let e = &ev.events;
    // target → (time, event row) of its earliest revocation
    let revoked = &e.revocations;
    let id = &ev.identities;
    let expiring: HashMap<&str, (i64, usize)> = (0..id.len)
        .filter_map(|i| Some((id.id.get(i)?, (id.expires[i]?, i))))
        .collect();
    if revoked.is_empty() && expiring.is_empty() {
        return Outcome::not_applicable(
            "no delete or disable events in the logs and no credential with an expiry",
        );
    }
    let mut by_subject: BTreeMap<&str, Hits> = BTreeMap::new();
    for (key, list) in &e.revoked_uses {
        // Keyed principal NUL the name its revocation was recorded under.
        let (principal, name) = key.split_once('\0').unwrap_or((key, key));
        let Some(&(when, row)) = revoked.get(name) else {
            continue;
        };
        by_subject.entry(principal).or_default().add(
            list,
            RowRef {
                table: ACCESS_EVENTS,
                row: row as usize,
            },
            format!(
                "used after its deletion or disabling on {}",
                crate::time::format_micros(when)
            ),
        );
    }
    for (key, list) in &e.used_after_expiry {
        let Some(&(expiry, row)) = expiring.get(key.as_str()) else {
            continue;
        };
        by_subject.entry(key).or_default().add(
            list,
            RowRef {
                table: IDENTITIES,
                row,
            },
            format!("used after it expired on {}", date(expiry)),
        );
    }
    let mut out = Outcome::new();
    out.metric("revocations_in_logs", revoked.len() as u64);
    out.metric("credentials_with_expiry", expiring.len() as u64);
    for (subject, hits) in by_subject {
        let (detail, refs, total) = hits.cited();
        out.fail_counted(ctx, subject, detail, refs, total);
    }
    out.judge_by_subjects(
        "revoked or expiring identities",
        revoked.len() + expiring.len(),
    )
}

/// One subject's uses after a revocation or expiry: each use with the
/// anchor (the revoking event or the expiring identity row) it followed.
#[derive(Default)]
struct Hits {
    /// (event row, anchor index), the first of each list.
    uses: Vec<(u64, usize)>,
    total: u64,
    anchors: Vec<(RowRef, String)>,
}

impl Hits {
    fn add(&mut self, list: &Rows, anchor: RowRef, detail: String) {
        let at = self.anchors.len();
        self.anchors.push((anchor, detail));
        self.uses.extend(list.first.iter().map(|&r| (r, at)));
        self.total += list.total;
    }

    /// What the finding says (the first use's reason) and cites: each use
    /// in table order after its anchor, each row once.
    fn cited(mut self) -> (String, Vec<RowRef>, usize) {
        self.uses.sort_unstable();
        let detail = self
            .uses
            .first()
            .map(|&(_, a)| self.anchors[a].1.clone())
            .unwrap_or_default();
        let mut refs: Vec<RowRef> = Vec::new();
        for &(row, a) in &self.uses {
            let used = RowRef {
                table: ACCESS_EVENTS,
                row: row as usize,
            };
            for r in [self.anchors[a].0, used] {
                if !refs.contains(&r) {
                    refs.push(r);
                }
            }
        }
        let anchors: std::collections::BTreeSet<RowRef> =
            self.anchors.iter().map(|(r, _)| *r).collect();
        (detail, refs, self.total as usize + anchors.len())
    }
}

/// Identities with no accountable owner.
pub fn accountable_owner(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let id = &ev.identities;
    // An identity listed by several inventories is owned if any names an owner.
    let owned: HashSet<&str> = (0..id.len)
        .filter(|&i| id.owner.get(i).is_some())
        .filter_map(|i| id.id.get(i))
        .collect();
    let mut out = Outcome::new();
    let mut considered = 0;
    let mut seen: HashSet<&str> = HashSet::new();
    for i in (0..id.len).filter(|&i| !id.is_credential(i) && !id.is_human(i)) {
        let name = id.id.get(i).unwrap_or("?");
        if !seen.insert(name) {
            continue;
        }
        considered += 1;
        if !owned.contains(name) {
            out.fail(
                ctx,
                id.id.get(i).unwrap_or("?"),
                format!("{} with no owner", id.kind.get(i).unwrap_or("identity")),
                rows(IDENTITIES, &[i]),
            );
        }
    }
    if considered == 0 {
        return Outcome::not_applicable("no non-human identities in the inventories");
    }
    out.judge_by_subjects("non-human identities", considered)
}

pub(super) fn globs(patterns: &[String]) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for p in patterns {
        if let Ok(g) = Glob::new(p) {
            builder.add(g);
        }
    }
    builder.build().unwrap_or_else(|_| GlobSet::empty())
}

/// Workload and agent principals in the logs that no inventory lists.
pub fn shadow_nhis(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let id = &ev.identities;
    if !(0..id.len).any(|i| id.is_listed(i)) {
        return Outcome::not_evaluated(
            "no inventory in the evidence: there is nothing to compare the logs with",
        );
    }
    // What a log showed in passing (an agent runtime) is not listed.
    let known: HashSet<&str> = (0..id.len)
        .filter(|&i| id.is_listed(i))
        .filter_map(|i| id.id.get(i))
        .collect();
    let ignore = globs(&ctx.strings("ignore"));
    let mut actors = ev.events.principals_by_first(|p| &p.workload_or_agent);
    actors.retain(|(principal, _)| !principal.is_empty());
    if actors.is_empty() {
        return Outcome::not_applicable("no workload or agent principals in the logs");
    }
    let mut out = Outcome::new();
    let considered = actors.len();
    let mut ignored = 0;
    for (principal, p) in actors {
        if ignore.is_match(principal) {
            ignored += 1;
            continue;
        }
        if !known.contains(principal) {
            fail_events(
                &mut out,
                ctx,
                principal,
                format!(
                    "acts in {} event(s) but is in no inventory",
                    p.workload_or_agent.total
                ),
                &p.workload_or_agent,
            );
        }
    }
    out.metric("ignored_by_pattern", ignored as u64);
    out.metric("inventoried_identities", known.len() as u64);
    out.judge_by_subjects("acting workload and agent principals", considered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::aggregate::stats::revoked_target;
    use crate::checks::outcome::Status;
    use crate::checks::rules::testing::*;
    use crate::model::CredentialType::{Ephemeral, Static};

    #[test]
    fn idle_never_used_and_undeterminable_identities() {
        let c = ctx("unused-active-nhis", &[]);
        let mut used = identity("arn:aws:iam::1:role/busy", "iam-role", Ephemeral);
        used.last_used_us = Some(c.as_of_us - 90 * DAY);
        let mut idle = identity("arn:aws:iam::1:role/idle", "iam-role", Ephemeral);
        idle.last_used_us = Some(c.as_of_us - 91 * DAY);
        let mut never = identity("arn:aws:iam::1:role/never", "iam-role", Ephemeral);
        never.created_us = Some(c.as_of_us - 200 * DAY);
        let unknown = identity("arn:aws:iam::1:role/unknown", "iam-role", Ephemeral);
        // The logs show the "idle" role active recently: not idle after all.
        let recent = workload("arn:aws:iam::1:role/seen", Ephemeral, c.as_of_us - DAY);
        let mut seen = identity("arn:aws:iam::1:role/seen", "iam-role", Ephemeral);
        seen.last_used_us = Some(c.as_of_us - 300 * DAY);
        let o = unused_active(
            &evidence(&[recent], &[used, idle, never, unknown.clone(), seen], &[]),
            &c,
        );
        let ids: Vec<&str> = o.subjects.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            vec!["arn:aws:iam::1:role/idle", "arn:aws:iam::1:role/never"]
        );
        assert_eq!(o.metrics["undetermined"], 1);
        let o = unused_active(&evidence(&[], &[unknown], &[]), &c);
        assert_eq!(o.status, Status::NotEvaluated);
    }

    #[test]
    fn use_after_deletion_and_after_expiry() {
        let mut delete = workload("arn:aws:iam::1:role/admin", Ephemeral, T0);
        delete.access.action = "iam:DeleteUser".into();
        delete.access.resource = Some("iam:userName/ci".into());
        let before = workload("arn:aws:iam::1:user/ci", Static, T0 - 1);
        let after = workload("arn:aws:iam::1:user/ci", Static, T0 + 1);
        let o = used_after_disabled(
            &evidence(&[delete.clone(), before.clone()], &[], &[]),
            &ctx("used-after-disabled", &[]),
        );
        assert_eq!(o.status, Status::Pass);
        let o = used_after_disabled(
            &evidence(&[delete, before, after], &[], &[]),
            &ctx("used-after-disabled", &[]),
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.subjects[0].id, "arn:aws:iam::1:user/ci");
        assert_eq!(
            o.subjects[0].rows.iter().map(|r| r.row).collect::<Vec<_>>(),
            vec![0, 2]
        );
        let mut cert = identity("spiffe://example.org/web", "spiffe-workload", Ephemeral);
        cert.expires_us = Some(T0);
        let late = workload("spiffe://example.org/web", Ephemeral, T0 + DAY);
        let o = used_after_disabled(
            &evidence(&[late], &[cert], &[]),
            &ctx("used-after-disabled", &[]),
        );
        assert!(
            o.subjects[0].detail.contains("expired on 2026-01-01"),
            "{:?}",
            o.subjects
        );
        let o = used_after_disabled(&evidence(&[], &[], &[]), &ctx("used-after-disabled", &[]));
        assert_eq!(o.status, Status::NotApplicable);
        // Kubernetes deletions name the service account.
        assert_eq!(
            revoked_target("delete", "namespaces/ci/serviceaccounts/builder").as_deref(),
            Some("system:serviceaccount:ci:builder")
        );
    }

    #[test]
    fn owners_and_shadow_identities() {
        let mut owned = identity("sa-1", "service-account", Ephemeral);
        owned.owner = Some("team-a".into());
        let orphan = identity("sa-2", "service-account", Ephemeral);
        let mut key = identity("sa-2#key", "service-account-key", Static);
        key.owner_id = Some("sa-2".into());
        let o = accountable_owner(
            &evidence(&[], &[owned.clone(), orphan.clone(), key], &[]),
            &ctx("accountable-owner", &[]),
        );
        assert_eq!(
            o.subjects.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            vec!["sa-2"]
        );
        assert_eq!(o.metrics["considered"], 2);

        let events = vec![
            workload("sa-1", Ephemeral, T0),
            workload("rogue", Ephemeral, T0),
            workload("system:node:ip-10-0-0-1", Ephemeral, T0),
        ];
        let o = shadow_nhis(
            &evidence(&events, &[owned, orphan], &[]),
            &ctx("shadow-nhis", &[]),
        );
        assert_eq!(
            o.subjects.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            vec!["rogue"]
        );
        assert_eq!(o.metrics["ignored_by_pattern"], 1);
        let o = shadow_nhis(&evidence(&events, &[], &[]), &ctx("shadow-nhis", &[]));
        assert_eq!(o.status, Status::NotEvaluated);
    }
}
