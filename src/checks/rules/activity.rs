//! What the logs show about activity: attribution, human use of machine
//! identities, continuity of each source, denials.

use std::collections::BTreeMap;

use serde_json::json;

use super::{date, group, pct, rows, share};
use crate::checks::evidence::Evidence;
use crate::checks::outcome::{Ctx, Outcome, Status, HOUR_US};
use crate::model::tables::ACCESS_EVENTS;
use crate::time::format_micros;

/// Records with principal, decision, resource and time all present.
pub fn attributable_records(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let e = &ev.events;
    if e.len == 0 {
        return Outcome::not_applicable("no access records");
    }
    let min = ctx.number("min_share");
    let mut missing: BTreeMap<&'static str, Vec<usize>> = BTreeMap::new();
    let mut complete = 0;
    for i in 0..e.len {
        let principal = e.principal.get(i).filter(|p| !p.starts_with("unknown"));
        let absent = [
            ("principal", principal.is_none()),
            ("decision", e.decision.get(i).is_none()),
            ("resource", e.resource.get(i).is_none()),
            ("time", e.time[i].is_none()),
        ];
        let mut whole = true;
        for (field, _) in absent.iter().filter(|(_, a)| *a) {
            whole = false;
            missing.entry(field).or_default().push(i);
        }
        if whole {
            complete += 1;
        }
    }
    let mut out = Outcome::new();
    let s = share(complete, e.len);
    out.metric("records", e.len as u64);
    out.metric("attributable", complete as u64);
    out.metric("share", s);
    out.metric("min_share", min);
    for (field, idx) in &missing {
        out.metric(&format!("missing_{field}"), idx.len() as u64);
        out.fail(
            ctx,
            &format!("records without {field}"),
            format!("{} record(s) name no {field}", idx.len()),
            rows(ACCESS_EVENTS, idx),
        );
    }
    out.status = if s >= min { Status::Pass } else { Status::Fail };
    out.reason = format!(
        "{} of {} access records carry identity, decision, resource and time (minimum {})",
        pct(s),
        e.len,
        pct(min)
    );
    out
}

/// NHI events from consoles, interactive sign-ins or interactive clients.
pub fn human_use(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let e = &ev.events;
    let agents = ctx.strings("interactive_agents");
    let methods = ["console", "password", "interactive"];
    let mut considered = 0;
    let mut hits: Vec<(usize, &str, String)> = Vec::new();
    for i in (0..e.len).filter(|&i| e.is_nhi(i)) {
        considered += 1;
        let method = e.auth_method.get(i).unwrap_or("");
        let agent = e.user_agent.get(i).unwrap_or("");
        let why = if methods.contains(&method) {
            Some(format!("{method} authentication"))
        } else {
            agents
                .iter()
                .find(|a| agent.contains(a.as_str()))
                .map(|a| format!("interactive client ({a})"))
        };
        if let Some(why) = why {
            hits.push((i, e.principal.get(i).unwrap_or("?"), why));
        }
    }
    if considered == 0 {
        return Outcome::not_applicable("no access events by non-human principals");
    }
    let mut out = Outcome::new();
    for (principal, idx) in group(hits.iter().map(|(i, p, _)| (*i, *p))) {
        let reasons: std::collections::BTreeSet<&str> = hits
            .iter()
            .filter(|(_, p, _)| *p == principal)
            .map(|(_, _, w)| w.as_str())
            .collect();
        out.fail(
            ctx,
            principal,
            format!(
                "{} event(s): {}",
                idx.len(),
                reasons.into_iter().collect::<Vec<_>>().join(", ")
            ),
            rows(ACCESS_EVENTS, &idx),
        );
    }
    out.judge_by_subjects("NHI events' principals", considered)
}

/// The longest silence per source within the window.
pub fn logging_continuity(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let e = &ev.events;
    let max_hours = ctx.number("max_gap_hours");
    let limit = (max_hours * HOUR_US as f64) as i64;
    let mut by_source: BTreeMap<&str, Vec<(i64, usize)>> = BTreeMap::new();
    for i in 0..e.len {
        if let (Some(t), Some(s)) = (e.time[i], e.source.get(i)) {
            by_source.entry(s).or_default().push((t, i));
        }
    }
    if by_source.is_empty() {
        return Outcome::not_applicable("no access records, so no log source to judge");
    }
    let mut out = Outcome::new();
    let mut gaps = serde_json::Map::new();
    for (source, mut times) in by_source {
        times.sort_unstable();
        // Edges count only when the window is known.
        let mut longest = (0i64, None::<usize>, None::<usize>, 0i64, 0i64);
        let mut consider = |from: i64, to: i64, a: Option<usize>, b: Option<usize>| {
            if to - from > longest.0 {
                longest = (to - from, a, b, from, to);
            }
        };
        if let Some(since) = ctx.since_us {
            consider(since, times[0].0, None, Some(times[0].1));
        }
        for w in times.windows(2) {
            consider(w[0].0, w[1].0, Some(w[0].1), Some(w[1].1));
        }
        if let Some(until) = ctx.until_us {
            let last = times[times.len() - 1];
            consider(last.0, until, Some(last.1), None);
        }
        let (gap, a, b, from, to) = longest;
        gaps.insert(
            source.to_string(),
            json!({"records": times.len(), "longest_gap_hours": gap as f64 / HOUR_US as f64}),
        );
        if gap > limit {
            let bounding: Vec<usize> = [a, b].into_iter().flatten().collect();
            out.fail(
                ctx,
                source,
                format!(
                    "no record for {:.1} h, from {} to {} (limit {max_hours} h)",
                    gap as f64 / HOUR_US as f64,
                    format_micros(from),
                    format_micros(to)
                ),
                rows(ACCESS_EVENTS, &bounding),
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
    let mut nhi = 0;
    let mut denied: Vec<(usize, &str)> = Vec::new();
    for i in (0..e.len).filter(|&i| e.is_nhi(i)) {
        nhi += 1;
        if e.decision.get(i) == Some("deny") {
            denied.push((i, e.principal.get(i).unwrap_or("?")));
        }
    }
    if nhi == 0 {
        return Outcome::not_applicable("no access events by non-human principals");
    }
    let mut out = Outcome::new();
    let s = share(denied.len(), nhi);
    out.metric("nhi_events", nhi as u64);
    out.metric("denied", denied.len() as u64);
    out.metric("share", s);
    out.metric("max_denied_share", max_share);
    out.metric("max_denials_per_hour", max_per_hour);
    let mut spikes = 0;
    for (principal, idx) in group(denied.iter().copied()) {
        let mut per_hour: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for &i in &idx {
            per_hour
                .entry(e.time[i].unwrap_or(0).div_euclid(HOUR_US))
                .or_default()
                .push(i);
        }
        let (hour, worst) = per_hour
            .iter()
            .max_by_key(|(_, v)| v.len())
            .map(|(h, v)| (*h, v.clone()))
            .unwrap_or_default();
        if worst.len() as f64 > max_per_hour {
            spikes += 1;
            out.fail(
                ctx,
                principal,
                format!(
                    "{} denials in the hour from {} ({} in all)",
                    worst.len(),
                    format_micros(hour * HOUR_US),
                    idx.len()
                ),
                rows(ACCESS_EVENTS, &worst),
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
        for (principal, idx) in group(denied.iter().copied()) {
            out.fail(
                ctx,
                principal,
                format!(
                    "{} denial(s), first {}",
                    idx.len(),
                    date(e.time[idx[0]].unwrap_or(0))
                ),
                rows(ACCESS_EVENTS, &idx),
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
