//! `proofpack query`: find access records in an ingest folder and show each
//! one whole — identity, credential, decision, resource, time and where the
//! original record is.

pub mod inventory;
pub mod render;

use crate::model::tables::EventKey;
use crate::model::{AccessEvent, Decision};

/// What to look for; every given criterion must hold.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Substring of the principal id or the session name.
    pub principal: Option<String>,
    /// Substring of the resource.
    pub resource: Option<String>,
    pub decision: Option<Decision>,
    /// Exact source name (`aws-cloudtrail`).
    pub source: Option<String>,
    /// µs since the epoch, inclusive.
    pub since: Option<i64>,
    /// µs since the epoch, exclusive.
    pub until: Option<i64>,
}

impl Filter {
    pub fn matches(&self, e: &AccessEvent) -> bool {
        self.matches_key(&EventKey {
            time_us: e.access.time_us,
            source: e.source,
            principal_id: &e.access.principal_id,
            session_name: e.access.session_name.as_deref(),
            resource: e.access.resource.as_deref(),
            decision: e.access.decision.as_str(),
        })
    }

    /// The same test on the selection columns alone.
    pub fn matches_key(&self, e: &EventKey<'_>) -> bool {
        let contains = |hay: Option<&str>, needle: &Option<String>| match needle {
            None => true,
            Some(n) => hay.is_some_and(|h| h.contains(n.as_str())),
        };
        (contains(Some(e.principal_id), &self.principal)
            || contains(e.session_name, &self.principal))
            && contains(e.resource, &self.resource)
            && self.decision.is_none_or(|d| e.decision == d.as_str())
            && self.source.as_ref().is_none_or(|s| e.source == s)
            && self.since.is_none_or(|s| e.time_us >= s)
            && self.until.is_none_or(|u| e.time_us < u)
    }
}

/// The matching events in time order (ties in input order).
pub fn select<'a>(events: &'a [AccessEvent], filter: &Filter) -> Vec<&'a AccessEvent> {
    let mut selected: Vec<&AccessEvent> = events.iter().filter(|e| filter.matches(e)).collect();
    selected.sort_by_key(|e| e.access.time_us);
    selected
}
