//! What the log-based checks need from the access events, as one value per
//! partition that merges with another partition's: counts, per-source and
//! per-principal tallies, first and last times, and the first rows a
//! finding would cite. Memory grows with the distinct principals, sources,
//! credentials and minutes seen, never with the number of events.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::rows::Rows;
use crate::checks::evidence::Events;

/// Seconds in the buckets continuity is measured in: the longest silence
/// of a source is found between minutes with records (a gap inside one
/// minute is under a minute and never fails a limit given in hours).
pub const BUCKET_US: i64 = 60_000_000;
pub const HOUR_US: i64 = 3_600_000_000;
pub const DAY_US: i64 = 86_400_000_000;

/// What the aggregation must know before it reads: the interactive user
/// agents every check looks for, the identities the inventories list (the
/// only names whose last use matters) and their expiry times.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    pub interactive_agents: Vec<String>,
    pub identity_ids: HashSet<String>,
    /// id → expiry time, for use after expiry.
    pub expiring: HashMap<String, i64>,
}

/// The interactive user agents every check bound to `human_use` looks for
/// under `config` (their union: each check picks its own from the
/// matches).
pub fn interactive_agents(
    catalogue: &crate::checks::catalogue::Catalogue,
    config: &crate::checks::config::ChecksConfig,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for check in catalogue
        .checks
        .iter()
        .filter(|c| c.function == "human_use")
    {
        if let Some(toml::Value::Array(items)) = config.params(check).get("interactive_agents") {
            for item in items.iter().filter_map(|v| v.as_str()) {
                if !out.iter().any(|o| o == item) {
                    out.push(item.to_string());
                }
            }
        }
    }
    out
}

/// The built-in catalogue's interactive user agents, unconfigured.
pub fn default_interactive_agents() -> Vec<String> {
    crate::checks::catalogue::Catalogue::built_in()
        .map(|c| interactive_agents(&c, &crate::checks::config::ChecksConfig::default()))
        .unwrap_or_default()
}

/// The first and last record of a minute: (time, row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub first: (i64, u64),
    pub last: (i64, u64),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStats {
    /// Records with a time.
    pub timed: u64,
    /// Minute → its first and last record.
    pub minutes: BTreeMap<i64, Span>,
    /// NHI events by credential type: ephemeral, static, unknown.
    pub nhi_credentials: [u64; 3],
    /// Every event by credential type (the summary's chart).
    pub all_credentials: [u64; 3],
}

/// Why an NHI's event looks interactive: an authentication method, or the
/// interactive user agents its client matched (in the order configured).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Interactive {
    Method(String),
    Agents(Vec<String>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalStats {
    /// Every event it made.
    pub events: Rows,
    /// Events in which it was a workload, service or agent.
    pub nhi_events: u64,
    /// Events in which it was a workload or an agent.
    pub workload_or_agent: Rows,
    pub static_nhi: Rows,
    #[serde(with = "pairs")]
    pub interactive: BTreeMap<Interactive, Rows>,
    pub denied_nhi: Rows,
    /// The first denied NHI event: (row, time).
    pub first_denied: Option<(u64, Option<i64>)>,
    pub denied_by_hour: BTreeMap<i64, Rows>,
    /// Calls made as an agent.
    pub as_agent: u64,
    /// The first call as an agent, with why it is one (the summary).
    pub first_as_agent: Option<(u64, String)>,
    pub agent_with_human_identity: Rows,
    pub agent_static: Rows,
    /// The first static agent call naming its credential: (row, id).
    pub agent_static_credential: Option<(u64, String)>,
    /// Known as an agent by its user agent (so other callers of the same
    /// identity can be told apart).
    pub agent_by_user_agent: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventStats {
    pub records: u64,
    pub min_time: Option<i64>,
    /// Records with principal, decision, resource and time.
    pub attributable: u64,
    /// Field → the records that lack it.
    pub missing: BTreeMap<String, Rows>,
    pub sources: BTreeMap<String, SourceStats>,
    /// Events by non-human principals, and how many were denied.
    pub nhi_events: u64,
    pub nhi_denied: u64,
    /// Day (µs of its midnight) → [events, denied].
    pub days: BTreeMap<i64, [u64; 2]>,
    /// By principal id ("" when the record names none).
    pub principals: BTreeMap<String, PrincipalStats>,
    /// Inventory id → its latest use (as principal or credential).
    pub last_seen: BTreeMap<String, i64>,
    /// Revoked identity → its earliest revocation: (time, row).
    pub revocations: BTreeMap<String, (i64, u64)>,
    /// Principal → its events after its identity was revoked (the second
    /// pass, once every revocation is known).
    pub revoked_uses: BTreeMap<String, Rows>,
    /// Inventory id → the events after its expiry.
    pub used_after_expiry: BTreeMap<String, Rows>,
    pub anonymous: u64,
    /// (resource, action) → anonymous requests allowed.
    #[serde(with = "pairs")]
    pub anonymous_allowed: BTreeMap<(String, String), Rows>,
    /// Subject (principal, or a credential that is not ephemeral, of a
    /// workload or agent; a static credential of a service, such as a
    /// client certificate) → account or environment → rows. An ephemeral
    /// credential lives for one session of its principal, which is judged
    /// itself (and a trail holds one per session: keeping them would make
    /// memory grow with the events).
    pub places: BTreeMap<String, Places>,
    /// Workload and agent principals with a known account or environment.
    pub placed_principals: BTreeSet<String>,
}

/// Actions that end an identity or credential, and how to name what they
/// ended from the event's resource.
pub fn revoked_target(action: &str, resource: &str) -> Option<String> {
    const ENDINGS: [&str; 6] = [
        "DeleteUser",
        "DeleteRole",
        "DeleteServiceAccount",
        "DisableServiceAccount",
        "DeleteServiceAccountKey",
        "DisableServiceAccountKey",
    ];
    if action == "delete" {
        // Kubernetes: namespaces/NS/serviceaccounts/NAME
        let parts: Vec<&str> = resource.split('/').collect();
        if let ["namespaces", ns, "serviceaccounts", name] = parts.as_slice() {
            return Some(format!("system:serviceaccount:{ns}:{name}"));
        }
        return None;
    }
    let name = action.rsplit([':', '.']).next().unwrap_or(action);
    if !ENDINGS.contains(&name) {
        return None;
    }
    resource
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The names an event principal has for matching a revoked target: the
/// full id, and its last path segment (`arn:...:user/ci` → `ci`).
pub fn principal_names(principal: &str) -> [&str; 2] {
    [
        principal,
        principal.rsplit(['/', ':']).next().unwrap_or(principal),
    ]
}

fn credential_slot(kind: Option<&str>) -> usize {
    match kind {
        Some("ephemeral") => 0,
        Some("static") => 1,
        _ => 2,
    }
}

const INTERACTIVE_METHODS: [&str; 3] = ["console", "password", "interactive"];

impl EventStats {
    /// Folds a batch of events whose first row is `offset` in the table.
    pub fn add(&mut self, e: &Events, offset: u64, needs: &Needs) {
        for i in 0..e.len {
            self.add_one(e, i, offset + i as u64, needs);
        }
    }

    fn add_one(&mut self, e: &Events, i: usize, row: u64, needs: &Needs) {
        self.records += 1;
        let time = e.time[i];
        let principal = e.principal.get(i);
        let kind = e.principal_type.get(i);
        let decision = e.decision.get(i);
        let resource = e.resource.get(i);
        let action = e.action.get(i);
        let credential = e.credential_id.get(i);
        let credential_type = e.credential_type.get(i);
        let nhi = matches!(kind, Some("workload" | "service" | "agent"));
        if let Some(t) = time {
            self.min_time = Some(self.min_time.map_or(t, |m| m.min(t)));
        }

        // Attribution.
        let mut whole = true;
        for (field, absent) in [
            (
                "principal",
                principal.filter(|p| !p.starts_with("unknown")).is_none(),
            ),
            ("decision", decision.is_none()),
            ("resource", resource.is_none()),
            ("time", time.is_none()),
        ] {
            if absent {
                whole = false;
                self.missing.entry(field.to_string()).or_default().push(row);
            }
        }
        if whole {
            self.attributable += 1;
        }

        // Per source.
        let source = self
            .sources
            .entry(e.source.get(i).unwrap_or("?").to_string())
            .or_default();
        source.all_credentials[credential_slot(credential_type)] += 1;
        if nhi {
            source.nhi_credentials[credential_slot(credential_type)] += 1;
        }
        if let (Some(t), Some(_)) = (time, e.source.get(i)) {
            source.timed += 1;
            let at = (t, row);
            source
                .minutes
                .entry(t.div_euclid(BUCKET_US))
                .and_modify(|s| {
                    s.first = s.first.min(at);
                    s.last = s.last.max(at);
                })
                .or_insert(Span {
                    first: at,
                    last: at,
                });
        }
        if let Some(t) = time {
            let day = self.days.entry(t.div_euclid(DAY_US) * DAY_US).or_default();
            day[0] += 1;
            if decision == Some("deny") {
                day[1] += 1;
            }
        }
        if nhi {
            self.nhi_events += 1;
            if decision == Some("deny") {
                self.nhi_denied += 1;
            }
        }

        // Last use of inventoried names, and use after expiry.
        if let Some(t) = time {
            for key in [principal, credential].into_iter().flatten() {
                if needs.identity_ids.contains(key) {
                    let latest = self.last_seen.entry(key.to_string()).or_insert(t);
                    *latest = (*latest).max(t);
                }
            }
            if let Some(p) = principal {
                // A credential named like its principal is counted once.
                let credential = credential.filter(|c| *c != p);
                for key in [Some(p), credential].into_iter().flatten() {
                    if needs.expiring.get(key).is_some_and(|&expiry| t > expiry) {
                        self.used_after_expiry
                            .entry(key.to_string())
                            .or_default()
                            .push(row);
                    }
                }
            }
        }

        // Revocations.
        if let (Some(action), Some(resource), Some(t), Some("allow")) =
            (action, resource, time, decision)
        {
            if let Some(target) = revoked_target(action, resource) {
                let entry = self.revocations.entry(target).or_insert((t, row));
                *entry = (*entry).min((t, row));
            }
        }

        // Anonymous requests.
        if kind == Some("anonymous") {
            self.anonymous += 1;
            if decision == Some("allow") {
                self.anonymous_allowed
                    .entry((
                        resource.unwrap_or("(no resource named)").to_string(),
                        action.unwrap_or("").to_string(),
                    ))
                    .or_default()
                    .push(row);
            }
        }

        // Where workloads and agents act, and where static credentials are
        // used: a service's static key or client certificate (Kubernetes'
        // `x509:kubernetes-admin`) used from several places is shared.
        let workload = matches!(kind, Some("workload" | "agent"));
        let static_service = kind == Some("service") && credential_type == Some("static");
        if workload || static_service {
            if let Some(place) = e.account.get(i).or(e.environment.get(i)) {
                let who = principal.unwrap_or("?");
                if workload && !self.placed_principals.contains(who) {
                    self.placed_principals.insert(who.to_string());
                }
                let credential = credential
                    .filter(|c| *c != who)
                    .filter(|_| credential_type != Some("ephemeral"));
                let who = workload.then_some(who);
                for subject in [who, credential].into_iter().flatten() {
                    let places = match self.places.get_mut(subject) {
                        Some(p) => p,
                        None => self.places.entry(subject.to_string()).or_default(),
                    };
                    places.push(place, row);
                }
            }
        }

        // Per principal.
        let p = match self.principals.get_mut(principal.unwrap_or("")) {
            Some(p) => p,
            None => self
                .principals
                .entry(principal.unwrap_or("").to_string())
                .or_default(),
        };
        p.events.push(row);
        if matches!(kind, Some("workload" | "agent")) {
            p.workload_or_agent.push(row);
        }
        if nhi {
            p.nhi_events += 1;
            if credential_type == Some("static") {
                p.static_nhi.push(row);
            }
            let method = e.auth_method.get(i).unwrap_or("");
            let why = if INTERACTIVE_METHODS.contains(&method) {
                Some(Interactive::Method(method.to_string()))
            } else {
                let agent = e.user_agent.get(i).unwrap_or("");
                let matched: Vec<String> = needs
                    .interactive_agents
                    .iter()
                    .filter(|a| agent.contains(a.as_str()))
                    .cloned()
                    .collect();
                (!matched.is_empty()).then_some(Interactive::Agents(matched))
            };
            if let Some(why) = why {
                p.interactive.entry(why).or_default().push(row);
            }
            if decision == Some("deny") {
                p.denied_nhi.push(row);
                if p.first_denied.is_none() {
                    p.first_denied = Some((row, time));
                }
                p.denied_by_hour
                    .entry(time.unwrap_or(0).div_euclid(HOUR_US))
                    .or_default()
                    .push(row);
            }
        }
        if kind == Some("agent") {
            p.as_agent += 1;
            let reason = e.principal_reason.get(i);
            if p.first_as_agent.is_none() {
                p.first_as_agent = Some((row, reason.unwrap_or("").to_string()));
            }
            if reason.is_some_and(|r| r.contains("identity alone says human")) {
                p.agent_with_human_identity.push(row);
            }
            if credential_type == Some("static") {
                p.agent_static.push(row);
                if p.agent_static_credential.is_none() {
                    if let Some(c) = credential {
                        p.agent_static_credential = Some((row, c.to_string()));
                    }
                }
            }
            if reason.is_some_and(|r| r.starts_with("user agent names")) {
                p.agent_by_user_agent = true;
            }
        }
    }

    /// Adds another partition's statistics. Associative and, for rows that
    /// never repeat between partitions, commutative: any grouping of the
    /// same partitions gives the same value.
    pub fn merge(&mut self, other: EventStats) {
        self.records += other.records;
        self.min_time = match (self.min_time, other.min_time) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.attributable += other.attributable;
        merge_rows_map(&mut self.missing, other.missing);
        for (name, s) in other.sources {
            let mine = self.sources.entry(name).or_default();
            mine.timed += s.timed;
            for k in 0..3 {
                mine.nhi_credentials[k] += s.nhi_credentials[k];
                mine.all_credentials[k] += s.all_credentials[k];
            }
            for (minute, span) in s.minutes {
                mine.minutes
                    .entry(minute)
                    .and_modify(|m| {
                        m.first = m.first.min(span.first);
                        m.last = m.last.max(span.last);
                    })
                    .or_insert(span);
            }
        }
        self.nhi_events += other.nhi_events;
        self.nhi_denied += other.nhi_denied;
        for (day, [n, d]) in other.days {
            let mine = self.days.entry(day).or_default();
            mine[0] += n;
            mine[1] += d;
        }
        for (name, p) in other.principals {
            match self.principals.get_mut(&name) {
                Some(mine) => mine.merge(p),
                None => {
                    self.principals.insert(name, p);
                }
            }
        }
        for (key, t) in other.last_seen {
            let mine = self.last_seen.entry(key).or_insert(t);
            *mine = (*mine).max(t);
        }
        for (target, at) in other.revocations {
            let mine = self.revocations.entry(target).or_insert(at);
            *mine = (*mine).min(at);
        }
        merge_rows_map(&mut self.used_after_expiry, other.used_after_expiry);
        merge_rows_map(&mut self.revoked_uses, other.revoked_uses);
        self.anonymous += other.anonymous;
        merge_rows_map(&mut self.anonymous_allowed, other.anonymous_allowed);
        for (subject, places) in other.places {
            match self.places.get_mut(&subject) {
                Some(mine) => mine.merge(places),
                None => {
                    self.places.insert(subject, places);
                }
            }
        }
        self.placed_principals.extend(other.placed_principals);
    }

    /// Principals' statistics in the order their first event came.
    pub fn principals_by_first<'a>(
        &'a self,
        rows: impl Fn(&'a PrincipalStats) -> &'a Rows,
    ) -> Vec<(&'a str, &'a PrincipalStats)> {
        let mut out: Vec<(u64, &str, &PrincipalStats)> = self
            .principals
            .iter()
            .filter_map(|(name, p)| rows(p).lowest().map(|first| (first, name.as_str(), p)))
            .collect();
        out.sort_unstable_by_key(|(first, _, _)| *first);
        out.into_iter().map(|(_, n, p)| (n, p)).collect()
    }

    /// The latest time of each source's records, and the longest silence
    /// between two of them: (gap, from, to, row before, row after).
    pub fn longest_gap(
        source: &SourceStats,
        since: Option<i64>,
        until: Option<i64>,
    ) -> (i64, i64, i64, Option<u64>, Option<u64>) {
        let mut longest = (0i64, 0i64, 0i64, None, None);
        let mut consider = |from: i64, to: i64, a: Option<u64>, b: Option<u64>| {
            if to - from > longest.0 {
                longest = (to - from, from, to, a, b);
            }
        };
        let spans: Vec<&Span> = source.minutes.values().collect();
        let (Some(first), Some(last)) = (spans.first(), spans.last()) else {
            return longest;
        };
        if let Some(since) = since {
            consider(since, first.first.0, None, Some(first.first.1));
        }
        for w in spans.windows(2) {
            consider(
                w[0].last.0,
                w[1].first.0,
                Some(w[0].last.1),
                Some(w[1].first.1),
            );
        }
        if let Some(until) = until {
            consider(last.last.0, until, Some(last.last.1), None);
        }
        longest
    }
}

impl PrincipalStats {
    fn merge(&mut self, o: PrincipalStats) {
        self.events.merge(o.events);
        self.nhi_events += o.nhi_events;
        self.workload_or_agent.merge(o.workload_or_agent);
        self.static_nhi.merge(o.static_nhi);
        merge_rows_map(&mut self.interactive, o.interactive);
        self.denied_nhi.merge(o.denied_nhi);
        self.first_denied = match (self.first_denied.take(), o.first_denied) {
            (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
            (a, b) => a.or(b),
        };
        merge_rows_map(&mut self.denied_by_hour, o.denied_by_hour);
        self.as_agent += o.as_agent;
        self.first_as_agent = lowest_row(self.first_as_agent.take(), o.first_as_agent);
        self.agent_with_human_identity
            .merge(o.agent_with_human_identity);
        self.agent_static.merge(o.agent_static);
        self.agent_static_credential = lowest_row(
            self.agent_static_credential.take(),
            o.agent_static_credential,
        );
        self.agent_by_user_agent |= o.agent_by_user_agent;
    }
}

fn lowest_row<T>(a: Option<(u64, T)>, b: Option<(u64, T)>) -> Option<(u64, T)> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

pub(super) fn merge_rows_map<K: Ord>(into: &mut BTreeMap<K, Rows>, from: BTreeMap<K, Rows>) {
    for (k, rows) in from {
        match into.get_mut(&k) {
            Some(mine) => mine.merge(rows),
            None => {
                into.insert(k, rows);
            }
        }
    }
}

/// The places one subject acts in, with their rows: a short sorted list (a
/// subject is in one place or a few; a map per subject would cost a tree
/// node each).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Places(#[serde(with = "pairs_vec")] pub Vec<(String, Rows)>);

impl Places {
    fn push(&mut self, place: &str, row: u64) {
        match self.0.binary_search_by(|(p, _)| p.as_str().cmp(place)) {
            Ok(i) => self.0[i].1.push(row),
            Err(i) => {
                let mut rows = Rows::default();
                rows.push(row);
                self.0.insert(i, (place.to_string(), rows));
            }
        }
    }

    fn merge(&mut self, other: Places) {
        for (place, rows) in other.0 {
            match self.0.binary_search_by(|(p, _)| p.cmp(&place)) {
                Ok(i) => self.0[i].1.merge(rows),
                Err(i) => self.0.insert(i, (place, rows)),
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Rows)> {
        self.0.iter().map(|(p, r)| (p, r))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The rows of `place`, added to by an engine's results.
    pub fn entry(&mut self, place: String) -> &mut Rows {
        let i = match self.0.binary_search_by(|(p, _)| p.cmp(&place)) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (place, Rows::default()));
                i
            }
        };
        &mut self.0[i].1
    }
}

/// A list of pairs as a JSON object (its keys are strings).
mod pairs_vec {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Rows;

    pub fn serialize<S: Serializer>(pairs: &[(String, Rows)], s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, Rows)>, D::Error> {
        let map = std::collections::BTreeMap::<String, Rows>::deserialize(d)?;
        Ok(map.into_iter().collect())
    }
}

/// A map whose keys are not strings, as a JSON list of [key, value] pairs.
mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}
