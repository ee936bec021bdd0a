//! What the logs show about activity: attribution, human use of machine
//! identities, continuity of each source, denials.

use std::collections::BTreeSet;

use serde_json::json;

use super::{date, event_rows, fail_events, pct, share};
use crate::checks::aggregate::stats::{EventStats, Interactive};
use crate::checks::aggregate::{rows::union, Rows};
use crate::checks::evidence::Evidence;
use crate::checks::outcome::{Ctx, Outcome, Status, HOUR_US};
use crate::time::format_micros;

/// Records with principal, decision, resource and time all present.
pub fn attributable_records(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let e = &ev.events;
    if e.records == 0 {
        return Outcome::not_applicable("no access records");
    }
    let min = ctx.number("min_share");
    let mut out = Outcome::new();
    let s = share(e.attributable as usize, e.records as usize);
    out.metric("records", e.records);
    out.metric("attributable", e.attributable);
    out.metric("share", s);
    out.metric("min_share", min);
    for (field, list) in &e.missing {
        out.metric(&format!("missing_{field}"), list.total);
        fail_events(
            &mut out,
            ctx,
            &format!("records without {field}"),
            format!("{} record(s) name no {field}", list.total),
            list,
        );
    }
    out.status = if s >= min { Status::Pass } else { Status::Fail };
    out.reason = format!(
        "{} of {} access records carry identity, decision, resource and time (minimum {})",
        pct(s),
        e.records,
        pct(min)
    );
    out
}

/// NHI events from consoles, interactive sign-ins or interactive clients.
pub fn human_use(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let e = &ev.events;
    let agents = ctx.strings("interactive_agents");
    if e.nhi_events == 0 {
        return Outcome::not_applicable("no access events by non-human principals");
    }
    // Each principal's interactive events, with why, as this check's own
    // list of agents reads them (the first it names that matched).
    let mut hits: Vec<(u64, &str, Rows, BTreeSet<String>)> = Vec::new();
    for (principal, p) in &e.principals {
        let mut reasons = BTreeSet::new();
        let mut lists = Vec::new();
        for (why, list) in &p.interactive {
            let reason = match why {
                Interactive::Method(method) => format!("{method} authentication"),
                Interactive::Agents(matched) => match agents.iter().find(|a| matched.contains(a)) {
                    Some(a) => format!("interactive client ({a})"),
                    None => continue,
                },
            };
            reasons.insert(reason);
            lists.push(list);
        }
        let all = union(lists);
        if let Some(first) = all.lowest() {
            let name = if principal.is_empty() { "?" } else { principal };
            hits.push((first, name, all, reasons));
        }
    }
    hits.sort_by_key(|h| h.0);
    let mut out = Outcome::new();
    for (_, principal, list, reasons) in &hits {
        fail_events(
            &mut out,
            ctx,
            principal,
            format!(
                "{} event(s): {}",
                list.total,
                reasons.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            list,
        );
    }
    out.judge_by_subjects("NHI events' principals", e.nhi_events as usize)
}

/// The longest silence per source within the window.
pub fn logging_continuity(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let e = &ev.events;
    let max_hours = ctx.number("max_gap_hours");
    let limit = (max_hours * HOUR_US as f64) as i64;
    let sources: Vec<_> = e.sources.iter().filter(|(_, s)| s.timed > 0).collect();
    if sources.is_empty() {
        return Outcome::not_applicable("no access records, so no log source to judge");
    }
    let mut out = Outcome::new();
    let mut gaps = serde_json::Map::new();
    for (source, stats) in &sources {
        let (gap, from, to, a, b) = EventStats::longest_gap(stats, ctx.since_us, ctx.until_us);
        gaps.insert(
            source.to_string(),
            json!({"records": stats.timed, "longest_gap_hours": gap as f64 / HOUR_US as f64}),
        );
        if gap > limit {
            let bounding = Rows {
                total: [a, b].iter().flatten().count() as u64,
                first: [a, b].into_iter().flatten().collect(),
            };
            out.fail_counted(
                ctx,
                source,
                format!(
                    "no record for {:.1} h, from {} to {} (limit {max_hours} h)",
                    gap as f64 / HOUR_US as f64,
                    format_micros(from),
                    format_micros(to)
                ),
                event_rows(&bounding),
                bounding.total as usize,
            );
        }
    }
    let considered = gaps.len();
    out.metric("by_source", serde_json::Value::Object(gaps));
    out.metric("max_gap_hours", max_hours);
    out.metric(
        "window",
        json!({"since": ctx.since_us.map(format_micros), "until": ctx.until_us.map(format_micros)}),
    );
    let mut out = out.judge_by_subjects("log sources", considered);
    if ctx.since_us.is_none() || ctx.until_us.is_none() {
        out.reason
            .push_str("; the window's edges were not judged (no --since/--until)");
    }
    out
}

/// Denied NHI events: overall share, and per-NHI spikes within an hour.
pub fn denied_spikes(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let e = &ev.events;
    let max_share = ctx.number("max_denied_share");
    let max_per_hour = ctx.number("max_denials_per_hour");
    let nhi = e.nhi_events;
    if nhi == 0 {
        return Outcome::not_applicable("no access events by non-human principals");
    }
    let mut out = Outcome::new();
    let s = share(e.nhi_denied as usize, nhi as usize);
    out.metric("nhi_events", nhi);
    out.metric("denied", e.nhi_denied);
    out.metric("share", s);
    out.metric("max_denied_share", max_share);
    out.metric("max_denials_per_hour", max_per_hour);
    let denied = e.principals_by_first(|p| &p.denied_nhi);
    let name = |p: &str| if p.is_empty() { "?" } else { p }.to_string();
    let mut spikes = 0;
    for (principal, p) in &denied {
        // The busiest hour; of equals, the latest (as a scan keeping the
        // last maximum finds it).
        let Some((hour, worst)) = p.denied_by_hour.iter().max_by_key(|(_, list)| list.total) else {
            continue;
        };
        if worst.total as f64 > max_per_hour {
            spikes += 1;
            fail_events(
                &mut out,
                ctx,
                &name(principal),
                format!(
                    "{} denials in the hour from {} ({} in all)",
                    worst.total,
                    format_micros(hour * HOUR_US),
                    p.denied_nhi.total
                ),
                worst,
            );
        }
    }
    out.metric("spikes", spikes as u64);
    let share_ok = s <= max_share;
    out.status = if share_ok && out.subjects.is_empty() {
        Status::Pass
    } else {
        Status::Fail
    };
    out.reason = format!(
        "{} of {nhi} NHI events were denied (limit {}); {} NHI(s) over {max_per_hour} denials in an hour{}",
        pct(s),
        pct(max_share),
        out.subjects.len(),
        if out.waived.is_empty() {
            String::new()
        } else {
            format!(" ({} waived)", out.waived.len())
        }
    );
    if !share_ok && out.subjects.is_empty() {
        // The share fails without a single spiking NHI: list who was denied.
        for (principal, p) in &denied {
            let first = p.first_denied.and_then(|(_, t)| t).unwrap_or(0);
            fail_events(
                &mut out,
                ctx,
                &name(principal),
                format!("{} denial(s), first {}", p.denied_nhi.total, date(first)),
                &p.denied_nhi,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::rules::testing::*;
    use crate::model::CredentialType::Ephemeral;
    use crate::model::{Decision, PrincipalType};

    #[test]
    fn attribution_counts_missing_resources() {
        let mut events: Vec<_> = (0..20).map(|i| workload("r", Ephemeral, T0 + i)).collect();
        events[3].access.resource = None;
        let o = attributable_records(
            &evidence(&events, &[], &[]),
            &ctx("attributable-records", &[]),
        );
        assert_eq!(o.status, Status::Pass, "19/20 = 95% is at the limit");
        assert_eq!(o.subjects[0].rows[0].row, 3);
        events[4].access.resource = None;
        let o = attributable_records(
            &evidence(&events, &[], &[]),
            &ctx("attributable-records", &[]),
        );
        assert_eq!(o.status, Status::Fail);
        let o = attributable_records(&evidence(&[], &[], &[]), &ctx("attributable-records", &[]));
        assert_eq!(o.status, Status::NotApplicable);
    }

    #[test]
    fn human_use_by_console_or_browser() {
        let mut console = workload("arn:aws:iam::1:role/deploy", Ephemeral, T0);
        console.access.auth_method = "console".into();
        let mut browser = workload("system:serviceaccount:ci:builder", Ephemeral, T0);
        browser.access.user_agent = Some("kubectl/v1.29.0 (linux/amd64)".into());
        let fine = workload("arn:aws:iam::1:role/app", Ephemeral, T0);
        let mut person = event("alice", PrincipalType::Human, Ephemeral, T0);
        person.access.auth_method = "console".into();
        let o = human_use(
            &evidence(&[console, browser, fine, person], &[], &[]),
            &ctx("human-use-of-nhi", &[]),
        );
        assert_eq!(o.status, Status::Fail);
        let details: Vec<&str> = o.subjects.iter().map(|s| s.detail.as_str()).collect();
        assert_eq!(
            details,
            vec![
                "1 event(s): console authentication",
                "1 event(s): interactive client (kubectl/)"
            ]
        );
    }

    #[test]
    fn gaps_inside_and_at_the_edges_of_the_window() {
        let events = vec![
            workload("r", Ephemeral, T0),
            workload("r", Ephemeral, T0 + 24 * HOUR_US),
        ];
        let mut c = ctx("logging-continuity", &[]);
        let o = logging_continuity(&evidence(&events, &[], &[]), &c);
        assert_eq!(
            o.status,
            Status::Pass,
            "a gap of exactly 24 h is within the limit"
        );
        assert!(o.reason.contains("edges were not judged"));
        c.until_us = Some(T0 + 72 * HOUR_US);
        let o = logging_continuity(&evidence(&events, &[], &[]), &c);
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.subjects[0].detail.starts_with("no record for 48.0 h"),
            "{}",
            o.subjects[0].detail
        );
        assert_eq!(o.subjects[0].rows.len(), 1);
    }

    #[test]
    fn denial_spikes_and_share() {
        let mut events: Vec<_> = (0..100)
            .map(|i| workload("app", Ephemeral, T0 + i))
            .collect();
        for e in events.iter_mut().take(21) {
            e.access.decision = Decision::Deny;
            e.access.principal_id = "prober".into();
        }
        let o = denied_spikes(
            &evidence(&events, &[], &[]),
            &ctx("denied-access-spikes", &[]),
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.subjects[0].id, "prober");
        assert_eq!(o.subjects[0].rows_total, 21);
        let o = denied_spikes(
            &evidence(&events, &[], &[]),
            &ctx(
                "denied-access-spikes",
                &[
                    ("max_denials_per_hour", toml::Value::Integer(21)),
                    ("max_denied_share", toml::Value::Float(0.21)),
                ],
            ),
        );
        assert_eq!(o.status, Status::Pass, "{}", o.reason);
    }
}
