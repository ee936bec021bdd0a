//! The evidence tables of an ingest folder, column by column, for the check
//! functions. Columns stay in polars' arrow buffers (`Str::get` borrows),
//! so a million access events cost what their columns cost.

use std::path::Path;

use polars::prelude::*;
use serde_json::Value;

use super::aggregate::engine::Engine;
use super::aggregate::{EventStats, Needs};
use super::CheckError;
use crate::model::tables::{
    access_events_frame, grants_frame, identities_frame, read_table, secret_findings_frame,
    ACCESS_EVENTS, GRANTS, IDENTITIES, SECRET_FINDINGS,
};

/// The access-event columns the checks read (the raw references and free
/// text are left on disk).
pub const EVENT_COLUMNS: [&str; 14] = [
    "time",
    "source",
    "principal_id",
    "principal_type",
    "principal_reason",
    "credential_id",
    "credential_type",
    "auth_method",
    "action",
    "resource",
    "decision",
    "user_agent",
    "account",
    "environment",
];
use crate::model::{AccessEvent, Grant, Identity, SecretFinding};

/// A string column.
pub struct Str(StringChunked);

impl Str {
    pub fn get(&self, i: usize) -> Option<&str> {
        self.0.get(i).filter(|s| !s.is_empty())
    }
}

fn str_col(frame: &DataFrame, name: &str) -> PolarsResult<Str> {
    Ok(Str(frame.column(name)?.str()?.rechunk().into_owned()))
}

/// A string column added in a later release: empty when an evidence
/// folder written before it lacks it.
fn optional_str_col(frame: &DataFrame, name: &str) -> PolarsResult<Str> {
    match frame.column(name) {
        Ok(_) => str_col(frame, name),
        Err(_) => Ok(Str(StringChunked::full_null(name.into(), frame.height()))),
    }
}

use crate::model::tables::{bool_column as bool_col, micros_column as time_col};

pub struct Events {
    pub len: usize,
    pub time: Vec<Option<i64>>,
    pub source: Str,
    pub principal: Str,
    pub principal_type: Str,
    /// Why the principal type was chosen (an agent's says what the
    /// identity alone would have been).
    pub principal_reason: Str,
    pub credential_id: Str,
    pub credential_type: Str,
    pub auth_method: Str,
    pub action: Str,
    pub resource: Str,
    pub decision: Str,
    pub user_agent: Str,
    pub account: Str,
    pub environment: Str,
}

impl Events {
    /// A batch of events; columns the frame lacks read as empty (a pass
    /// that needs only a few reads only those).
    pub fn from_frame(f: &DataFrame) -> PolarsResult<Self> {
        let s = |name| optional_str_col(f, name);
        Ok(Events {
            len: f.height(),
            time: time_col(f, "time")?,
            source: s("source")?,
            principal: s("principal_id")?,
            principal_type: s("principal_type")?,
            principal_reason: s("principal_reason")?,
            credential_id: s("credential_id")?,
            credential_type: s("credential_type")?,
            auth_method: s("auth_method")?,
            action: s("action")?,
            resource: s("resource")?,
            decision: s("decision")?,
            user_agent: s("user_agent")?,
            account: s("account")?,
            environment: s("environment")?,
        })
    }

    /// Whether event `i` was made by a non-human principal: a workload, a
    /// cloud service or an AI agent.
    pub fn is_nhi(&self, i: usize) -> bool {
        matches!(
            self.principal_type.get(i),
            Some("workload" | "service" | "agent")
        )
    }
}

pub struct Identities {
    pub len: usize,
    pub id: Str,
    pub kind: Str,
    pub provider: Str,
    pub owner_id: Str,
    pub owner: Str,
    pub environment: Str,
    pub created: Vec<Option<i64>>,
    pub last_used: Vec<Option<i64>>,
    pub last_rotated: Vec<Option<i64>>,
    pub expires: Vec<Option<i64>>,
    pub active: Vec<bool>,
    pub credential_type: Str,
    /// Source-specific `key=value` facts (an MCP credential's class).
    pub details: Str,
    /// `internal` or `third-party`.
    pub ownership: Str,
    pub vendor: Str,
    pub ownership_reason: Str,
    pub review_by: Vec<Option<i64>>,
    pub agent_platform: Str,
    pub on_behalf_of: Str,
    /// `log` for identities an audit log showed, `inventory` otherwise.
    pub origin: Str,
    declared_own: std::sync::OnceLock<std::collections::HashSet<String>>,
}

/// Identity kinds that are credentials (secrets or key material) rather
/// than identities, for rows that do not name an owning identity.
const CREDENTIAL_KINDS: [&str; 9] = [
    "access-key",
    "api-key",
    "certificate",
    "token",
    "secret",
    "service-account-key",
    "service-account-token",
    "ssh-key",
    "client-secret",
];

impl Identities {
    /// What aggregating the events needs from the inventories: every id
    /// (whose last use matters) and each expiry (the last row of an id
    /// wins, as in the check).
    pub fn needs(&self, interactive_agents: &[String]) -> Needs {
        let mut needs = Needs {
            interactive_agents: interactive_agents.to_vec(),
            ..Needs::default()
        };
        for i in 0..self.len {
            let Some(id) = self.id.get(i) else { continue };
            needs.identity_ids.insert(id.to_string());
            if let Some(expiry) = self.expires[i] {
                needs.expiring.insert(id.to_string(), expiry);
            }
        }
        needs
    }

    fn from_frame(f: &DataFrame) -> PolarsResult<Self> {
        Ok(Identities {
            len: f.height(),
            id: str_col(f, "id")?,
            kind: str_col(f, "kind")?,
            provider: str_col(f, "provider")?,
            owner_id: str_col(f, "owner_id")?,
            owner: str_col(f, "owner")?,
            environment: str_col(f, "environment")?,
            created: time_col(f, "created")?,
            last_used: time_col(f, "last_used")?,
            last_rotated: time_col(f, "last_rotated")?,
            expires: time_col(f, "expires")?,
            active: bool_col(f, "active")?,
            credential_type: str_col(f, "credential_type")?,
            details: str_col(f, "details")?,
            ownership: optional_str_col(f, "ownership")?,
            vendor: optional_str_col(f, "vendor")?,
            ownership_reason: optional_str_col(f, "ownership_reason")?,
            review_by: match f.column("review_by") {
                Ok(_) => time_col(f, "review_by")?,
                Err(_) => vec![None; f.height()],
            },
            agent_platform: optional_str_col(f, "agent_platform")?,
            on_behalf_of: optional_str_col(f, "on_behalf_of")?,
            origin: optional_str_col(f, "origin")?,
            declared_own: std::sync::OnceLock::new(),
        })
    }

    /// Listed by an inventory (not only shown in passing by a log).
    pub fn is_listed(&self, i: usize) -> bool {
        self.origin.get(i) != Some("log")
    }

    /// Another organisation's identity: some row says so, and no inventory
    /// entry of the same id states it is the provider's own
    /// (`third_party: false`).
    pub fn is_third_party(&self, i: usize) -> bool {
        self.ownership.get(i) == Some("third-party")
            && !self
                .id
                .get(i)
                .is_some_and(|id| self.declared_own().contains(id))
    }

    /// Ids an inventory states are the provider's own.
    fn declared_own(&self) -> &std::collections::HashSet<String> {
        self.declared_own.get_or_init(|| {
            (0..self.len)
                .filter(|&i| {
                    self.ownership_reason.get(i) == Some(crate::ingest::nhi_inventory::DECLARED_OWN)
                })
                .filter_map(|i| self.id.get(i).map(str::to_string))
                .collect()
        })
    }

    /// A credential (key, token, certificate) rather than an identity.
    pub fn is_credential(&self, i: usize) -> bool {
        self.owner_id.get(i).is_some()
            || self
                .kind
                .get(i)
                .is_some_and(|k| CREDENTIAL_KINDS.contains(&k))
    }

    /// A human account: the root user, or a kind the inventory calls human.
    pub fn is_human(&self, i: usize) -> bool {
        matches!(self.kind.get(i), Some("root" | "human" | "user"))
    }
}

pub struct Grants {
    pub len: usize,
    pub principal: Str,
    pub policy: Str,
    pub kind: Str,
    pub effect: Str,
    pub actions: Str,
    pub resources: Str,
    pub has_conditions: Vec<bool>,
    pub wildcard_action: Vec<bool>,
    pub wildcard_resource: Vec<bool>,
    pub admin: Vec<bool>,
    pub flags: Str,
}

impl Grants {
    fn from_frame(f: &DataFrame) -> PolarsResult<Self> {
        Ok(Grants {
            len: f.height(),
            principal: str_col(f, "principal")?,
            policy: str_col(f, "policy")?,
            kind: str_col(f, "kind")?,
            effect: str_col(f, "effect")?,
            actions: str_col(f, "actions")?,
            resources: str_col(f, "resources")?,
            has_conditions: bool_col(f, "has_conditions")?,
            wildcard_action: bool_col(f, "wildcard_action")?,
            wildcard_resource: bool_col(f, "wildcard_resource")?,
            admin: bool_col(f, "admin")?,
            flags: str_col(f, "flags")?,
        })
    }
}

pub struct Findings {
    pub len: usize,
    pub tool: Str,
    pub rule: Str,
    pub file: Str,
    pub commit: Str,
    pub fingerprint: Str,
    pub verified: Vec<bool>,
}

impl Findings {
    fn from_frame(f: &DataFrame) -> PolarsResult<Self> {
        Ok(Findings {
            len: f.height(),
            tool: str_col(f, "tool")?,
            rule: str_col(f, "rule")?,
            file: str_col(f, "file")?,
            commit: str_col(f, "commit")?,
            fingerprint: str_col(f, "fingerprint")?,
            verified: bool_col(f, "verified")?,
        })
    }
}

/// Everything one ingest folder holds: the inventories, grants and
/// findings whole (they are small), the access events as statistics.
pub struct Evidence {
    pub events: EventStats,
    pub identities: Identities,
    pub grants: Grants,
    pub findings: Findings,
    /// `summary.json`, when read from a folder.
    pub summary: Value,
    /// Declared embedded identities, their compensating controls verified
    /// over the events (see [`Evidence::verify_embedded`]).
    pub embedded: Vec<super::embedded::Verification>,
}

impl Evidence {
    pub fn load(dir: &Path, interactive_agents: &[String]) -> Result<Self, CheckError> {
        Self::load_with(dir, interactive_agents, Engine::Embedded)
    }

    /// The evidence of `dir`, its access events aggregated by `engine`.
    pub fn load_with(
        dir: &Path,
        interactive_agents: &[String],
        engine: Engine,
    ) -> Result<Self, CheckError> {
        let summary_path = dir.join(crate::ingest::output::SUMMARY);
        let summary: Value = std::fs::read_to_string(&summary_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(|| CheckError::Evidence {
                dir: dir.display().to_string(),
                reason: "no readable summary.json: not a folder written by `proofpack ingest`"
                    .into(),
            })?;
        let table = |name: &str| {
            read_table(dir, name).map_err(|e| CheckError::Evidence {
                dir: dir.display().to_string(),
                reason: format!("{name}.parquet: {e}"),
            })
        };
        let identities = Identities::from_frame(&table(IDENTITIES)?)?;
        let needs = identities.needs(interactive_agents);
        let events_path = dir.join(format!("{ACCESS_EVENTS}.parquet"));
        let events =
            match engine {
                Engine::Embedded => super::aggregate::read::event_stats(&events_path, &needs)
                    .map_err(|e| CheckError::Evidence {
                        dir: dir.display().to_string(),
                        reason: format!("{ACCESS_EVENTS}.parquet: {e}"),
                    })?,
                _ => super::aggregate::engine::event_stats(engine, &events_path, &needs).map_err(
                    |e| CheckError::Evidence {
                        dir: dir.display().to_string(),
                        reason: e.to_string(),
                    },
                )?,
            };
        Ok(Evidence {
            events,
            identities,
            grants: Grants::from_frame(&table(GRANTS)?)?,
            findings: Findings::from_frame(&table(SECRET_FINDINGS)?)?,
            summary,
            embedded: Vec::new(),
        })
    }

    /// Verifies the declared embedded identities' compensating controls
    /// over `dir`'s access events (a pass of its own: the same whatever
    /// engine aggregated the events).
    pub fn verify_embedded(
        &mut self,
        dir: &Path,
        declarations: &[super::embedded::Declaration],
    ) -> Result<(), CheckError> {
        self.embedded =
            super::embedded::verify(dir, declarations).map_err(|reason| CheckError::Evidence {
                dir: dir.display().to_string(),
                reason,
            })?;
        Ok(())
    }

    /// Evidence from rows in memory (tests, and callers that have just
    /// ingested).
    pub fn from_rows(
        events: &[AccessEvent],
        identities: &[Identity],
        grants: &[Grant],
        findings: &[SecretFinding],
    ) -> Result<Self, CheckError> {
        let identities = Identities::from_frame(&identities_frame(identities)?)?;
        let needs = identities.needs(&super::aggregate::stats::default_interactive_agents());
        let frame = access_events_frame(events)?;
        let mut stats = EventStats::default();
        stats.add(&Events::from_frame(&frame)?, 0, &needs);
        stats.revoked_uses =
            super::aggregate::read::uses_after(&Events::from_frame(&frame)?, 0, &stats.revocations);
        Ok(Evidence {
            events: stats,
            identities,
            grants: Grants::from_frame(&grants_frame(grants)?)?,
            findings: Findings::from_frame(&secret_findings_frame(findings)?)?,
            summary: Value::Null,
            embedded: Vec::new(),
        })
    }

    /// Whether the ingest read records of `source` (by the summary).
    pub fn ingested(&self, source: &str) -> bool {
        self.summary
            .pointer(&format!("/by_source/{source}"))
            .and_then(Value::as_u64)
            .is_some_and(|n| n > 0)
    }
}
