//! Credential strength and lifetime: ephemeral use in the logs, rotation and
//! expiry in the inventories.

use serde_json::json;

use super::{date, days, fail_events, pct, rows, share};
use crate::checks::evidence::Evidence;
use crate::checks::outcome::{Ctx, Outcome, Status, DAY_US};
use crate::model::tables::IDENTITIES;

/// Share of NHI events with ephemeral credentials, overall and per source.
pub fn ephemeral_share(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let e = &ev.events;
    let min = ctx.number("min_share");
    let waived_events: u64 = e
        .principals
        .iter()
        .filter(|(name, _)| ctx.waiver_for(name).is_some())
        .map(|(_, p)| p.nhi_events)
        .sum();
    let (ephemeral, fixed, unknown) = e.sources.values().fold((0, 0, 0), |a, s| {
        let c = s.nhi_credentials;
        (a.0 + c[0], a.1 + c[1], a.2 + c[2])
    });
    if ephemeral + fixed + unknown == 0 {
        return Outcome::not_applicable("no access events by non-human principals");
    }
    let mut out = Outcome::new();
    out.metric("nhi_events", ephemeral + fixed + unknown);
    out.metric("ephemeral", ephemeral);
    out.metric("static", fixed);
    out.metric("unknown", unknown);
    out.metric("min_share", min);
    if ephemeral + fixed == 0 {
        out.status = Status::NotEvaluated;
        out.reason = format!("the credential type of all {unknown} NHI events is unknown");
        return out;
    }
    // Waived principals' static events leave both sides of the ratio.
    for (principal, p) in e.principals_by_first(|p| &p.static_nhi) {
        fail_events(
            &mut out,
            ctx,
            principal,
            format!("{} event(s) with static credentials", p.static_nhi.total),
            &p.static_nhi,
        );
    }
    // Waived and compensated principals' static events leave the ratio.
    let waived_static: u64 = out
        .waived
        .iter()
        .map(|w| w.subject.rows_total as u64)
        .chain(out.compensated.iter().map(|c| c.subject.rows_total as u64))
        .sum();
    let overall = share(
        ephemeral as usize,
        (ephemeral + fixed - waived_static) as usize,
    );
    out.metric("share", overall);
    let mut low_sources = Vec::new();
    let mut by_source = serde_json::Map::new();
    for (source, stats) in e
        .sources
        .iter()
        .filter(|(_, s)| s.nhi_credentials.iter().sum::<u64>() > 0)
    {
        let [eph, st, unk] = stats.nhi_credentials;
        let s = share(eph as usize, (eph + st) as usize);
        by_source.insert(
            source.to_string(),
            json!({"ephemeral": eph, "static": st, "unknown": unk, "share": s}),
        );
        if eph + st > 0 && s < min {
            low_sources.push(format!("{source} {}", pct(s)));
        }
    }
    out.metric("by_source", serde_json::Value::Object(by_source));
    if waived_events > 0 {
        out.metric("waived_events", waived_events);
    }
    let pass = overall >= min && (low_sources.is_empty() || out.subjects.is_empty());
    out.status = if pass { Status::Pass } else { Status::Fail };
    out.reason = format!(
        "{} of NHI events with a known credential type used ephemeral credentials (minimum {}){}",
        pct(overall),
        pct(min),
        if low_sources.is_empty() {
            String::new()
        } else {
            format!("; below it: {}", low_sources.join(", "))
        }
    );
    out
}

/// Active static credentials not rotated within `max_age_days`.
pub fn static_rotation(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let id = &ev.identities;
    let max_days = ctx.number("max_age_days");
    let cutoff = ctx.as_of_us - (max_days * DAY_US as f64) as i64;
    let mut out = Outcome::new();
    let mut considered = 0;
    for i in 0..id.len {
        let is_static = id.credential_type.get(i) == Some("static");
        if !(is_static && id.active[i] && id.is_credential(i)) {
            continue;
        }
        considered += 1;
        let name = id.id.get(i).unwrap_or("?");
        match id.last_rotated[i].or(id.created[i]) {
            Some(t) if t >= cutoff => {}
            Some(t) => out.fail(
                ctx,
                name,
                format!(
                    "last rotated {} ({} days before the as-of date; limit {max_days})",
                    date(t),
                    days(ctx.as_of_us - t)
                ),
                rows(IDENTITIES, &[i]),
            ),
            None => out.fail(
                ctx,
                name,
                "no rotation or creation date: not shown to be rotated".into(),
                rows(IDENTITIES, &[i]),
            ),
        }
    }
    if considered == 0 {
        return Outcome::not_applicable("no active static credentials in the inventories");
    }
    out.metric("max_age_days", max_days);
    out.judge_by_subjects("active static credentials", considered)
}

/// Active credentials with no expiry, or a lifetime beyond the limit.
pub fn credential_expiry(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let id = &ev.identities;
    let max_days = ctx.number("max_lifetime_days");
    let mut out = Outcome::new();
    let mut considered = 0;
    for i in (0..id.len).filter(|&i| id.active[i] && id.is_credential(i)) {
        // Ephemeral credentials expire by construction.
        if id.credential_type.get(i) == Some("ephemeral") {
            continue;
        }
        considered += 1;
        let name = id.id.get(i).unwrap_or("?");
        match (id.expires[i], id.created[i].or(id.last_rotated[i])) {
            // A credential an audit log showed being added: the log does
            // not record its expiry, so none is shown, not "never".
            (None, _) if !id.is_listed(i) => out.fail(
                ctx,
                name,
                "no expiry shown: an audit log recorded its creation without one; an inventory \
                 listing the credential would show it"
                    .into(),
                rows(IDENTITIES, &[i]),
            ),
            (None, _) => out.fail(ctx, name, "never expires".into(), rows(IDENTITIES, &[i])),
            (Some(end), Some(start)) if (end - start) as f64 > max_days * DAY_US as f64 => out
                .fail(
                    ctx,
                    name,
                    format!(
                        "valid for {} days ({} to {}; limit {max_days})",
                        days(end - start),
                        date(start),
                        date(end)
                    ),
                    rows(IDENTITIES, &[i]),
                ),
            _ => {}
        }
    }
    if considered == 0 {
        return Outcome::not_applicable("no active non-ephemeral credentials in the inventories");
    }
    out.metric("max_lifetime_days", max_days);
    out.judge_by_subjects("active credentials", considered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::rules::testing::*;
    use crate::model::CredentialType::{Ephemeral, Static, Unknown};
    use crate::model::PrincipalType;

    #[test]
    fn ephemeral_share_at_below_and_without_data() {
        let role = "arn:aws:iam::1:role/app";
        let mut events: Vec<_> = (0..19).map(|i| workload(role, Ephemeral, T0 + i)).collect();
        events.push(workload("arn:aws:iam::1:user/ci", Static, T0));
        // 19/20 = 95%: exactly at the default threshold passes.
        let o = ephemeral_share(
            &evidence(&events, &[], &[]),
            &ctx("ephemeral-credentials", &[]),
        );
        assert_eq!(o.status, Status::Pass, "{}", o.reason);
        events.push(workload("arn:aws:iam::1:user/ci", Static, T0));
        let o = ephemeral_share(
            &evidence(&events, &[], &[]),
            &ctx("ephemeral-credentials", &[]),
        );
        assert_eq!(o.status, Status::Fail, "{}", o.reason);
        assert_eq!(o.subjects.len(), 1);
        assert_eq!(o.subjects[0].id, "arn:aws:iam::1:user/ci");
        assert_eq!(
            o.subjects[0].rows.iter().map(|r| r.row).collect::<Vec<_>>(),
            vec![19, 20]
        );
        // Humans are not judged; no NHI events is not a pass.
        let human = vec![event("alice", PrincipalType::Human, Static, T0)];
        let o = ephemeral_share(
            &evidence(&human, &[], &[]),
            &ctx("ephemeral-credentials", &[]),
        );
        assert_eq!(o.status, Status::NotApplicable);
        let unknown = vec![workload(role, Unknown, T0)];
        let o = ephemeral_share(
            &evidence(&unknown, &[], &[]),
            &ctx("ephemeral-credentials", &[]),
        );
        assert_eq!(o.status, Status::NotEvaluated);
    }

    #[test]
    fn rotation_at_the_limit_and_unknown_age() {
        let mut key = identity("u#access_key_1", "access-key", Static);
        key.owner_id = Some("u".into());
        let c = ctx("static-credential-rotation", &[]);
        key.last_rotated_us = Some(c.as_of_us - 90 * DAY);
        let o = static_rotation(&evidence(&[], &[key.clone()], &[]), &c);
        assert_eq!(
            o.status,
            Status::Pass,
            "exactly 90 days is within the limit"
        );
        key.last_rotated_us = Some(c.as_of_us - 90 * DAY - 1);
        let o = static_rotation(&evidence(&[], &[key.clone()], &[]), &c);
        assert_eq!(o.status, Status::Fail);
        key.last_rotated_us = None;
        let o = static_rotation(&evidence(&[], &[key.clone()], &[]), &c);
        assert!(o.subjects[0].detail.contains("not shown to be rotated"));
        key.active = false;
        let o = static_rotation(&evidence(&[], &[key], &[]), &c);
        assert_eq!(o.status, Status::NotApplicable);
    }

    #[test]
    fn expiry_missing_too_long_and_fine() {
        let c = ctx("credential-expiry", &[]);
        let mut cert = identity("cert-1", "certificate", Static);
        cert.created_us = Some(T0);
        cert.expires_us = Some(T0 + 397 * DAY);
        let mut forever = identity("key-1", "api-key", Static);
        forever.created_us = Some(T0);
        let mut long = identity("cert-2", "certificate", Static);
        long.created_us = Some(T0);
        long.expires_us = Some(T0 + 398 * DAY);
        let o = credential_expiry(&evidence(&[], &[cert, forever, long], &[]), &c);
        assert_eq!(o.status, Status::Fail);
        let ids: Vec<&str> = o.subjects.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, vec!["key-1", "cert-2"]);
        let role = identity("arn:aws:iam::1:role/r", "iam-role", Ephemeral);
        let o = credential_expiry(&evidence(&[], &[role], &[]), &c);
        assert_eq!(o.status, Status::NotApplicable);
    }
}
