//! `proofpack query`: find access records in an ingest folder, a package or
//! a state folder and show each one whole — identity, credential, decision,
//! resource, time and where the original record is. `scan` reads only what
//! the filter needs.

pub mod inventory;
pub mod render;
pub mod scan;

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
    /// The filter's meaning on one record: `scan` pushes the same tests
    /// down to the Parquet columns, and its tests compare the two.
    pub fn matches(&self, e: &AccessEvent) -> bool {
        let contains = |hay: Option<&str>, needle: &Option<String>| match needle {
            None => true,
            Some(n) => hay.is_some_and(|h| h.contains(n.as_str())),
        };
        (contains(Some(&e.access.principal_id), &self.principal)
            || contains(e.access.session_name.as_deref(), &self.principal))
            && contains(e.access.resource.as_deref(), &self.resource)
            && self.decision.is_none_or(|d| e.access.decision == d)
            && self.source.as_ref().is_none_or(|s| e.source == s)
            && self.since.is_none_or(|s| e.access.time_us >= s)
            && self.until.is_none_or(|u| e.access.time_us < u)
    }
}
