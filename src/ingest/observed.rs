//! Identities and grants that audit logs show in passing: an agent runtime
//! serving a request, an OAuth client a user consented to, a GitHub App a
//! vendor installed, an API key created with its scopes. No inventory lists
//! them, yet they hold access; the log record is their evidence.
//!
//! A log names the same identity on every call, so observations are merged
//! per identity at the end of an ingest: first seen keeps its reference,
//! the span of times seen becomes `created` / `last_used`, and any record
//! showing it third-party, inactive or acting for someone is kept.

use std::collections::{HashMap, HashSet};

use crate::model::{Grant, Identity, Ownership, RawRef};

/// What one log record shows besides the access itself. Rows carry no raw
/// reference: the record's is filled in when it is kept.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Observed {
    pub identities: Vec<Identity>,
    pub grants: Vec<Grant>,
}

impl Observed {
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty() && self.grants.is_empty()
    }

    /// Points every row at the record that showed it.
    pub fn at(mut self, raw_ref: &RawRef) -> Self {
        for row in &mut self.identities {
            row.source_ref = raw_ref.clone();
            row.from_log = true;
        }
        for row in &mut self.grants {
            row.source_ref = raw_ref.clone();
        }
        self
    }
}

/// Observations merged per identity (by provider, kind and id) as they
/// come: one file's, then every file's, so memory holds one row per
/// identity, not one per record. The earliest observation keeps its
/// reference; later ones update its facts (logs are often newest first,
/// so input order says nothing).
#[derive(Default)]
pub struct Merged {
    index: HashMap<(&'static str, String, String), usize>,
    /// The identity with the times of its first and last observation.
    rows: Vec<(i64, i64, Identity)>,
    /// Grants, each once: a person consenting again to the same scopes
    /// grants nothing new.
    grants: Vec<Grant>,
    grant_keys: HashSet<(Option<String>, String, String, String)>,
}

impl Merged {
    /// One observation, from a record of time `at`.
    pub fn add(&mut self, at: i64, row: Identity) {
        self.add_span(at, at, row);
    }

    /// A grant, unless the same one was seen already.
    pub fn add_grant(&mut self, grant: Grant) {
        let key = (
            grant.principal.clone(),
            grant.policy.clone(),
            grant.actions.clone(),
            grant.resources.clone(),
        );
        if self.grant_keys.insert(key) {
            self.grants.push(grant);
        }
    }

    /// Everything another merge holds.
    pub fn extend(&mut self, other: Merged) {
        for (first, last, row) in other.rows {
            self.add_span(first, last, row);
        }
        for grant in other.grants {
            self.add_grant(grant);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.grants.is_empty()
    }

    fn add_span(&mut self, first: i64, last: i64, row: Identity) {
        let key = (row.provider, row.kind.clone(), row.id.clone());
        let Some(&i) = self.index.get(&key) else {
            self.index.insert(key, self.rows.len());
            self.rows.push((first, last, row));
            return;
        };
        let (held_first, held_last, held) = &mut self.rows[i];
        if first < *held_first {
            // The newcomer is the earlier: it keeps the reference, the held
            // row's facts are the later ones.
            let later = std::mem::replace(held, row);
            absorb(held, later);
        } else {
            absorb(held, row);
        }
        *held_first = (*held_first).min(first);
        *held_last = (*held_last).max(last);
    }

    /// The identities, by the time each was first seen (then by key, so
    /// the order does not depend on which file finished first), and the
    /// grants in input order.
    pub fn into_rows(mut self) -> (Vec<Identity>, Vec<Grant>) {
        self.rows.sort_by(|a, b| {
            (a.0, a.2.provider, &a.2.kind, &a.2.id).cmp(&(b.0, b.2.provider, &b.2.kind, &b.2.id))
        });
        (
            self.rows.into_iter().map(|(_, _, row)| row).collect(),
            self.grants,
        )
    }
}

/// Folds a later observation of the same identity into the first.
fn absorb(into: &mut Identity, row: Identity) {
    into.created_us = min_some(into.created_us, row.created_us);
    into.last_used_us = into.last_used_us.max(row.last_used_us);
    into.expires_us = into.expires_us.or(row.expires_us);
    // A deletion seen anywhere stands: a key is not revived by older calls.
    into.active &= row.active;
    if row.ownership == Ownership::ThirdParty && into.ownership != Ownership::ThirdParty {
        into.ownership = Ownership::ThirdParty;
        into.ownership_reason = row.ownership_reason;
        into.vendor = into.vendor.take().or(row.vendor);
    }
    into.owner = into.owner.take().or(row.owner);
    into.owner_id = into.owner_id.take().or(row.owner_id);
    into.agent_platform = into.agent_platform.take().or(row.agent_platform);
    into.on_behalf_of = join_distinct(into.on_behalf_of.take(), row.on_behalf_of, ", ");
    into.details = update_details(&into.details, &row.details);
}

/// `key=value; ...` facts with the later value of each key.
fn update_details(earlier: &str, later: &str) -> String {
    let mut facts: Vec<(&str, &str)> = Vec::new();
    for part in earlier.split("; ").chain(later.split("; ")) {
        if part.is_empty() {
            continue;
        }
        let (key, _) = part.split_once('=').unwrap_or((part, ""));
        match facts.iter_mut().find(|(k, _)| *k == key) {
            Some(fact) => fact.1 = part,
            None => facts.push((key, part)),
        }
    }
    facts
        .iter()
        .map(|(_, part)| *part)
        .collect::<Vec<_>>()
        .join("; ")
}

fn min_some(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whom an identity acts for, listed at most this many; an agent serving
/// thousands of users says so once.
const MAX_ON_BEHALF_OF: usize = 10;
const AND_OTHERS: &str = "and others";

/// Lists the parts of `a` and then those of `b` not already in `a`, up to
/// [`MAX_ON_BEHALF_OF`].
fn join_distinct(a: Option<String>, b: Option<String>, separator: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for text in [a, b].into_iter().flatten() {
        for part in text.split(separator).filter(|p| !p.is_empty()) {
            if parts.iter().any(|p| p == part) || parts.last().is_some_and(|p| p == AND_OTHERS) {
                continue;
            }
            if parts.len() == MAX_ON_BEHALF_OF {
                parts.push(AND_OTHERS.to_string());
            } else {
                parts.push(part.to_string());
            }
        }
    }
    (!parts.is_empty()).then(|| parts.join(separator))
}

/// A `permission` grant of `actions` to `principal`, as a consent or an
/// API key's scopes record it.
pub fn scope_grant(
    principal: &str,
    policy: String,
    actions: &[String],
    flags: Vec<String>,
) -> Grant {
    let admin = flags.iter().any(|f| f.starts_with("admin"));
    Grant {
        principal: Some(principal.to_string()),
        policy,
        kind: "permission",
        effect: "Allow".into(),
        actions: actions.join(" "),
        not_action: false,
        resources: String::new(),
        not_resource: false,
        has_conditions: false,
        wildcard_action: actions.iter().any(|a| a == "*"),
        wildcard_resource: false,
        admin,
        flags: flags.join("; "),
        source_ref: RawRef::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CredentialType;

    /// [`Merged`] of a list of observations.
    fn merge(rows: Vec<(i64, Identity)>) -> Vec<Identity> {
        let mut merged = Merged::default();
        for (at, row) in rows {
            merged.add(at, row);
        }
        merged.into_rows().0
    }

    fn seen(id: &str, at: i64) -> Identity {
        Identity {
            id: id.into(),
            kind: "agent-runtime".into(),
            provider: "aws",
            created_us: Some(at),
            last_used_us: Some(at),
            active: true,
            credential_type: CredentialType::Unknown,
            ..Default::default()
        }
    }

    #[test]
    fn observations_of_one_identity_merge_into_its_span() {
        let mut late = seen("a", 30);
        late.on_behalf_of = Some("alice".into());
        late.details = "session=2".into();
        let mut third = seen("a", 20);
        third.ownership = Ownership::ThirdParty;
        third.ownership_reason = "assumed from another account".into();
        third.on_behalf_of = Some("alice".into());
        let mut first = seen("a", 10);
        first.details = "session=1".into();
        let merged = merge(vec![
            (30, late),
            (10, first),
            (5, seen("b", 5)),
            (20, third),
        ]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].id, "b");
        let a = &merged[1];
        assert_eq!((a.created_us, a.last_used_us), (Some(10), Some(30)));
        assert_eq!(a.on_behalf_of.as_deref(), Some("alice"));
        assert_eq!(a.details, "session=2");
        assert_eq!(a.ownership, Ownership::ThirdParty);
        assert_eq!(a.ownership_reason, "assumed from another account");
    }

    #[test]
    fn merging_per_file_then_across_files_gives_the_same_rows() {
        let mut late = seen("a", 30);
        late.details = "scopes=x y".into();
        let mut early = seen("a", 10);
        early.details = "scopes=x".into();
        early.source_ref.position = "line 1".into();
        let whole = merge(vec![
            (30, late.clone()),
            (10, early.clone()),
            (20, seen("c", 20)),
        ]);
        // The later file is merged first: the earlier one still keeps the reference.
        let mut second = Merged::default();
        second.add(30, late);
        let mut first = Merged::default();
        first.add(10, early);
        first.add(20, seen("c", 20));
        let mut all = Merged::default();
        all.extend(second);
        all.extend(first);
        assert_eq!(all.into_rows().0, whole);
        assert_eq!(whole[0].details, "scopes=x y");
        assert_eq!(whole[0].source_ref.position, "line 1");
    }

    #[test]
    fn a_grant_seen_again_is_kept_once() {
        let grant = scope_grant("client", "consent by ana".into(), &["a".into()], Vec::new());
        let mut merged = Merged::default();
        merged.add_grant(grant.clone());
        merged.add_grant(grant.clone());
        let mut other = grant.clone();
        other.policy = "consent by bo".into();
        merged.add_grant(other);
        assert_eq!(merged.into_rows().1.len(), 2);
    }

    #[test]
    fn whom_an_agent_acts_for_is_capped() {
        let rows = (0..50)
            .map(|n| {
                let mut row = seen("agent", n);
                row.on_behalf_of = Some(format!("user-{n}"));
                (n, row)
            })
            .collect();
        let merged = merge(rows);
        let names = merged[0].on_behalf_of.as_deref().unwrap();
        assert_eq!(names.split(", ").count(), MAX_ON_BEHALF_OF + 1, "{names}");
        assert!(names.ends_with(AND_OTHERS));
    }

    #[test]
    fn a_deletion_seen_once_makes_the_identity_inactive() {
        let mut deleted = seen("k", 50);
        deleted.active = false;
        let merged = merge(vec![
            (10, seen("k", 10)),
            (50, deleted),
            (20, seen("k", 20)),
        ]);
        assert!(!merged[0].active);
    }
}
