//! The functions checks are bound to, by the name the catalogue uses. Each
//! reads the evidence and returns an outcome; thresholds come from the
//! context, never from the code.

mod activity;
mod credentials;
mod delegation;
mod exposure;
mod lifecycle;
mod privilege;

use std::collections::BTreeMap;

use super::aggregate::Rows;
use super::evidence::Evidence;
use super::outcome::{Ctx, Outcome, RowRef};

pub type CheckFn = fn(&Evidence, &Ctx<'_>) -> Outcome;

const FUNCTIONS: [(&str, CheckFn); 21] = [
    ("ephemeral_share", credentials::ephemeral_share),
    ("static_rotation", credentials::static_rotation),
    ("credential_expiry", credentials::credential_expiry),
    ("attributable_records", activity::attributable_records),
    ("human_use", activity::human_use),
    ("logging_continuity", activity::logging_continuity),
    ("denied_spikes", activity::denied_spikes),
    ("unused_active", lifecycle::unused_active),
    ("used_after_disabled", lifecycle::used_after_disabled),
    ("accountable_owner", lifecycle::accountable_owner),
    ("shadow_nhis", lifecycle::shadow_nhis),
    ("least_privilege", privilege::least_privilege),
    ("open_trust", privilege::open_trust),
    ("environment_reuse", privilege::environment_reuse),
    ("secrets_in_code", exposure::secrets_in_code),
    ("mesh_mtls", exposure::mesh_mtls),
    ("anonymous_access", exposure::anonymous_access),
    ("mcp_inline_secrets", exposure::mcp_inline_secrets),
    (
        "third_party_accountable",
        delegation::third_party_accountable,
    ),
    (
        "third_party_least_privilege",
        delegation::third_party_least_privilege,
    ),
    ("agent_own_identity", delegation::agent_own_identity),
];

pub const NAMES: [&str; FUNCTIONS.len()] = {
    let mut names = [""; FUNCTIONS.len()];
    let mut i = 0;
    while i < FUNCTIONS.len() {
        names[i] = FUNCTIONS[i].0;
        i += 1;
    }
    names
};

pub fn function(name: &str) -> Option<CheckFn> {
    FUNCTIONS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

fn rows(table: &'static str, indices: &[usize]) -> Vec<RowRef> {
    indices.iter().map(|&row| RowRef { table, row }).collect()
}

/// Fails `id` citing the first access-event rows of `list` (all counted).
fn fail_events(out: &mut Outcome, ctx: &Ctx<'_>, id: &str, detail: String, list: &Rows) {
    out.fail_counted(ctx, id, detail, event_rows(list), list.total as usize);
}

/// The access-event rows a capped list keeps.
fn event_rows(list: &Rows) -> Vec<RowRef> {
    list.first
        .iter()
        .map(|&row| RowRef {
            table: crate::model::tables::ACCESS_EVENTS,
            row: row as usize,
        })
        .collect()
}

/// Row indices grouped by a key, in first-seen key order.
fn group<'a>(keys: impl Iterator<Item = (usize, &'a str)>) -> Vec<(&'a str, Vec<usize>)> {
    let mut order: Vec<&str> = Vec::new();
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, key) in keys {
        let entry = groups.entry(key).or_insert_with(|| {
            order.push(key);
            Vec::new()
        });
        entry.push(i);
    }
    order
        .into_iter()
        .map(|k| (k, groups.remove(k).unwrap_or_default()))
        .collect()
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn days(us: i64) -> i64 {
    us / super::outcome::DAY_US
}

fn date(us: i64) -> String {
    crate::time::format_micros(us)[..10].to_string()
}

#[cfg(test)]
pub(crate) mod testing {
    //! Small evidence sets for the rule tests.

    use std::collections::BTreeMap;

    use crate::checks::evidence::Evidence;
    use crate::checks::outcome::Ctx;
    use crate::model::{
        Access, AccessEvent, CredentialType, Decision, Grant, Identity, PrincipalType, RawRef,
    };

    pub const T0: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
    pub const DAY: i64 = 86_400_000_000;

    pub fn event(
        principal: &str,
        kind: PrincipalType,
        cred: CredentialType,
        time_us: i64,
    ) -> AccessEvent {
        AccessEvent {
            source: "aws-cloudtrail",
            access: Access {
                time_us,
                event_id: None,
                principal_id: principal.into(),
                principal_type: kind,
                principal_reason: String::new(),
                session_name: None,
                credential_id: None,
                credential_type: cred,
                credential_reason: String::new(),
                auth_method: "sts-session".into(),
                action: "s3:GetObject".into(),
                resource: Some("arn:aws:s3:::b/k".into()),
                decision: Decision::Allow,
                decision_reason: None,
                source_address: None,
                user_agent: None,
                account: Some("111122223333".into()),
                environment: None,
            },
            raw_ref: RawRef::default(),
        }
    }

    pub fn workload(principal: &str, cred: CredentialType, time_us: i64) -> AccessEvent {
        event(principal, PrincipalType::Workload, cred, time_us)
    }

    pub fn identity(id: &str, kind: &str, cred: CredentialType) -> Identity {
        Identity {
            id: id.into(),
            kind: kind.into(),
            provider: "aws",
            active: true,
            credential_type: cred,
            ..Default::default()
        }
    }

    pub fn grant(principal: &str, actions: &str, resources: &str) -> Grant {
        Grant {
            principal: Some(principal.into()),
            policy: "p".into(),
            kind: "permission",
            effect: "Allow".into(),
            actions: actions.into(),
            not_action: false,
            resources: resources.into(),
            not_resource: false,
            has_conditions: false,
            wildcard_action: actions.contains('*'),
            wildcard_resource: resources == "*",
            admin: false,
            flags: String::new(),
            source_ref: RawRef::default(),
        }
    }

    pub fn evidence(events: &[AccessEvent], identities: &[Identity], grants: &[Grant]) -> Evidence {
        Evidence::from_rows(events, identities, grants, &[]).unwrap()
    }

    /// A context with the check's catalogue defaults, overridden by `params`.
    pub fn ctx(check: &str, params: &[(&str, toml::Value)]) -> Ctx<'static> {
        let catalogue = crate::checks::catalogue::Catalogue::built_in().unwrap();
        let mut values: BTreeMap<String, toml::Value> = catalogue
            .get(check)
            .unwrap()
            .parameters
            .iter()
            .map(|(k, p)| (k.clone(), p.default.clone()))
            .collect();
        for (k, v) in params {
            values.insert(k.to_string(), v.clone());
        }
        Ctx {
            params: values,
            as_of_us: T0 + 100 * DAY,
            since_us: None,
            until_us: None,
            waivers: Vec::new(),
            embedded: Vec::new(),
        }
    }
}
