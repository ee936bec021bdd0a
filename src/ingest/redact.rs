//! Keeps secret values out of every row a reader makes. Readers pick
//! fields one by one, so secrets (session tokens, passwords, keys) are never
//! copied on purpose; this masks the ones that ride inside the text they do
//! keep (error messages, user agents, resources, request parameters,
//! details, reject reasons) with a marker, and remembers each value masked
//! (as a hash) so the gate can search every output for it.

use crate::model::{Grant, Identity, Rejected, SecretFinding};
use std::cell::RefCell;
use std::collections::HashMap;

use crate::secrets::scrub::{may_need_scrub, scrub_field, Field, Masked};
use crate::secrets::seen::SeenSecrets;

use super::Normalised;

fn scrub_string(text: &mut String, seen: &mut SeenSecrets) {
    scrub_as(text, seen, Field::FreeText);
}

fn scrub_id(text: &mut String, seen: &mut SeenSecrets) {
    scrub_as(text, seen, Field::Identifier);
}

fn scrub_id_option(text: &mut Option<String>, seen: &mut SeenSecrets) {
    if let Some(text) = text.as_mut() {
        scrub_id(text, seen);
    }
}

/// Texts a thread has masked recently (reasons, actions, user agents repeat
/// record after record), and what masking gave.
type Recent = HashMap<Box<str>, Option<(String, Vec<Masked>)>, foldhash::fast::RandomState>;
/// Entries a thread remembers before it forgets them all.
const RECENT: usize = 4096;

thread_local! {
    /// One memory per kind of field: the same text is masked differently
    /// as free text and as an identifier.
    static RECENTLY: RefCell<[Recent; 2]> = RefCell::new(Default::default());
}

fn scrub_as(text: &mut String, seen: &mut SeenSecrets, field: Field) {
    let rules = crate::secrets::active();
    if !may_need_scrub(text, rules, field) {
        return;
    }
    let slot = usize::from(field == Field::Identifier);
    let known = RECENTLY.with(|r| r.borrow()[slot].get(text.as_str()).cloned());
    let result = match known {
        Some(result) => result,
        None => {
            let result = scrub_field(text, rules, field);
            RECENTLY.with(|r| {
                let recent = &mut r.borrow_mut()[slot];
                if recent.len() >= RECENT {
                    recent.clear();
                }
                recent.insert(text.as_str().into(), result.clone());
            });
            result
        }
    };
    if let Some((clean, masked)) = result {
        *text = clean;
        // A value masked by a vendor format is a credential wherever it
        // stands: the gate looks for it everywhere. One masked by context
        // alone (a generic rule, a random look) is not remembered: the same
        // characters elsewhere may be a name.
        for value in masked.into_iter().filter(|(_, sure)| *sure) {
            seen.add(&value.0);
        }
    }
}

fn scrub_option(text: &mut Option<String>, seen: &mut SeenSecrets) {
    if let Some(text) = text.as_mut() {
        scrub_string(text, seen);
    }
}

/// Every text field of an access record: identifiers by the rules'
/// formats only (they are random by design), free text also by look.
pub fn scrub_access(n: &mut Normalised, seen: &mut SeenSecrets) {
    for text in [&mut n.principal_id, &mut n.auth_method, &mut n.action] {
        scrub_id(text, seen);
    }
    for text in [&mut n.principal_reason, &mut n.credential_reason] {
        scrub_string(text, seen);
    }
    for text in [
        &mut n.event_id,
        &mut n.session_name,
        &mut n.credential_id,
        &mut n.source_address,
        &mut n.account,
        &mut n.environment,
    ] {
        scrub_id_option(text, seen);
    }
    for text in [&mut n.resource, &mut n.decision_reason, &mut n.user_agent] {
        scrub_option(text, seen);
    }
}

/// Every text field of an identity or credential row.
pub fn scrub_identity(row: &mut Identity, seen: &mut SeenSecrets) {
    for text in [&mut row.id, &mut row.kind, &mut row.source_ref.position] {
        scrub_id(text, seen);
    }
    for text in [
        &mut row.credential_reason,
        &mut row.details,
        &mut row.ownership_reason,
    ] {
        scrub_string(text, seen);
    }
    for text in [
        &mut row.owner_id,
        &mut row.owner,
        &mut row.environment,
        &mut row.vendor,
        &mut row.agent_platform,
        &mut row.on_behalf_of,
    ] {
        scrub_id_option(text, seen);
    }
}

/// Every text field of a policy grant.
pub fn scrub_grant(grant: &mut Grant, seen: &mut SeenSecrets) {
    for text in [
        &mut grant.policy,
        &mut grant.effect,
        &mut grant.actions,
        &mut grant.resources,
        &mut grant.source_ref.position,
    ] {
        scrub_id(text, seen);
    }
    scrub_string(&mut grant.flags, seen);
    scrub_id_option(&mut grant.principal, seen);
}

/// Every text field of a scanner finding.
pub fn scrub_finding(finding: &mut SecretFinding, seen: &mut SeenSecrets) {
    scrub_id(&mut finding.rule, seen);
    scrub_id(&mut finding.fingerprint, seen);
    for text in [
        &mut finding.file,
        &mut finding.commit,
        &mut finding.repository,
    ] {
        scrub_id_option(text, seen);
    }
}

/// A reject's reason and position (a reason may quote the input).
pub fn scrub_rejected(rejected: &mut Rejected, seen: &mut SeenSecrets) {
    scrub_string(&mut rejected.reason, seen);
    scrub_id(&mut rejected.raw_ref.position, seen);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_field_of_a_record_is_masked_and_the_value_remembered() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        let sbp = "sbp_0123456789abcdef0123456789abcdef01234567";
        let mut n = Normalised {
            time_us: 0,
            event_id: None,
            principal_id: "svc".into(),
            principal_type: crate::model::PrincipalType::Workload,
            principal_reason: String::new(),
            session_name: None,
            credential_id: Some("AKIAZ7QRSTUVWXYZ2345".into()),
            credential_type: crate::model::CredentialType::Static,
            credential_reason: String::new(),
            auth_method: "access-key".into(),
            action: "GetObject".into(),
            resource: None,
            decision: crate::model::Decision::Allow,
            decision_reason: Some("AccessDenied".into()),
            source_address: None,
            user_agent: Some(format!("curl/8 token={jwt} {sbp}")),
            account: None,
            environment: None,
        };
        let mut seen = SeenSecrets::default();
        scrub_access(&mut n, &mut seen);
        assert!(!n.user_agent.as_deref().unwrap().contains(jwt));
        assert!(!n.user_agent.as_deref().unwrap().contains(sbp));
        assert_eq!(n.decision_reason.as_deref(), Some("AccessDenied"));
        // An access key id names the key: kept.
        assert_eq!(n.credential_id.as_deref(), Some("AKIAZ7QRSTUVWXYZ2345"));
        // The vendor-format token is remembered; the JWT, masked by its
        // look alone here (no gitleaks rules installed), is not.
        assert_eq!(seen.len(), 1);
        assert!(seen.find_in(format!("x{sbp}").as_bytes()).is_some());
    }
}
