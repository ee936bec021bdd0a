//! Identities and grants that audit logs show in passing: an agent runtime
//! serving a request, an OAuth client a user consented to, a GitHub App a
//! vendor installed, an API key created with its scopes. No inventory lists
//! them, yet they hold access; the log record is their evidence.
//!
//! A log names the same identity on every call, so observations are merged
//! per identity at the end of an ingest: first seen keeps its reference,
//! the span of times seen becomes `created` / `last_used`, and any record
//! showing it third-party, inactive or acting for someone is kept.

use std::collections::HashMap;

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

/// One row per observed identity (by provider, kind and id), from the
/// observations with the time of the record that showed each: the
/// earliest keeps its reference, later ones update its facts (logs are
/// often newest first, so input order says nothing).
pub fn merge(mut rows: Vec<(i64, Identity)>) -> Vec<Identity> {
    rows.sort_by_key(|(at, _)| *at);
    let mut index: HashMap<(&'static str, String, String), usize> = HashMap::new();
    let mut merged: Vec<Identity> = Vec::new();
    for (_, row) in rows {
        let key = (row.provider, row.kind.clone(), row.id.clone());
        match index.get(&key) {
            Some(&i) => absorb(&mut merged[i], row),
            None => {
                index.insert(key, merged.len());
                merged.push(row);
            }
        }
    }
    merged
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

/// Lists the parts of `a` and then those of `b` not already in `a`.
fn join_distinct(a: Option<String>, b: Option<String>, separator: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for text in [a, b].into_iter().flatten() {
        for part in text.split(separator).filter(|p| !p.is_empty()) {
            if !parts.iter().any(|p| p == part) {
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
