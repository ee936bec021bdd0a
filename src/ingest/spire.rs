//! SPIRE registration entries: the workload identities (SPIFFE IDs) a SPIRE
//! server issues, as `spire-server entry create -data` reads them
//! (`{"entries": [...]}` with string ids and `ttl` or
//! `x509_svid_ttl`/`jwt_svid_ttl`), as `spire-server entry show -output json`
//! prints them (ids as `{trust_domain, path}`, `expires_at`), or one entry at
//! a time from a bare array.
//!
//! Each entry is an identity of kind `spiffe-workload`: its credentials are
//! SVIDs the agent fetches and rotates itself, so `ephemeral`, with the TTL
//! in the reason. An `admin` entry (may call the server's registration API)
//! and a `downstream` entry (may mint SVIDs as a nested SPIRE server) also
//! become admin grants. An entry that SPIRE itself would refuse (no
//! `spiffe://` id, no selectors, a negative TTL) is rejected on its own.

use serde_json::Value;

use super::fields::text;
use super::nhi_inventory::Inventory;
use crate::hash::sha256_hex;
use crate::model::{CredentialType, Grant, Identity, RawRef, Rejected};

pub const SOURCE: &str = "spire";

fn is_entry(v: &Value) -> bool {
    let selectors = v
        .get("selectors")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().all(|s| s.get("type").is_some()));
    // `spiffe_id` is SPIRE's own field name: enough to say what the record is.
    selectors || v.get("spiffe_id").is_some()
}

/// A registration-entry list, or one entry.
pub fn detect(record: &Value) -> bool {
    record
        .get("entries")
        .and_then(Value::as_array)
        .is_some_and(|e| !e.is_empty() && e.iter().all(is_entry))
        || is_entry(record)
}

/// Each entry as an identity (and admin grants), or a reject of its own.
pub fn entries(record: &Value, source_ref: &RawRef) -> Inventory {
    let mut out = Inventory::default();
    let list: Vec<&Value> = match record.get("entries").and_then(Value::as_array) {
        Some(items) => items.iter().collect(),
        None => vec![record],
    };
    let many = record.get("entries").is_some();
    for (i, entry) in list.into_iter().enumerate() {
        out.entries += 1;
        let raw_ref = if many {
            RawRef {
                file: source_ref.file.clone(),
                position: format!("{}, entry {}", source_ref.position, i + 1),
                sha256: sha256_hex(entry.to_string().as_bytes()),
            }
        } else {
            source_ref.clone()
        };
        match entry_rows(entry, &raw_ref) {
            Ok((identity, grants)) => {
                out.inventoried += 1;
                out.identities.push(identity);
                out.grants.extend(grants);
            }
            Err(reason) => out.rejected.push(Rejected {
                raw_ref,
                source: Some(SOURCE),
                reason,
            }),
        }
    }
    out
}

/// A SPIFFE ID as a string, from either the string or the `{trust_domain,
/// path}` form.
fn spiffe_id(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(_) => {
            let v = v?;
            Some(format!(
                "spiffe://{}{}",
                text(v, "/trust_domain")?,
                text(v, "/path").unwrap_or("")
            ))
        }
        _ => None,
    }
}

fn ttl(entry: &Value, key: &str) -> Result<Option<i64>, String> {
    match entry.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if n < 0 => Err(format!("{key} is {n}: a TTL cannot be negative")),
            Some(0) => Ok(None), // 0 means the server default
            Some(n) => Ok(Some(n)),
            None => Err(format!("{key} is {v}, not a number of seconds")),
        },
    }
}

fn entry_rows(entry: &Value, raw_ref: &RawRef) -> Result<(Identity, Vec<Grant>), String> {
    let id = spiffe_id(entry.get("spiffe_id"))
        .ok_or("no spiffe_id: every registration entry names the identity it issues")?;
    let trust_domain = id
        .strip_prefix("spiffe://")
        .and_then(|rest| rest.split('/').next())
        .filter(|td| !td.is_empty())
        .ok_or_else(|| format!("spiffe_id is not a spiffe:// URI ({id:?})"))?
        .to_string();
    let parent = spiffe_id(entry.get("parent_id"));
    if let Some(p) = &parent {
        if !p.starts_with("spiffe://") {
            return Err(format!("parent_id is not a spiffe:// URI ({p:?})"));
        }
    }
    let selectors: Vec<String> = entry
        .get("selectors")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .map(|s| {
                    format!(
                        "{}:{}",
                        text(s, "/type").unwrap_or("?"),
                        text(s, "/value").unwrap_or("?")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if selectors.is_empty() {
        return Err(format!(
            "no selectors ({id}): SPIRE requires at least one to decide which workload gets it"
        ));
    }
    let x509 = ttl(entry, "x509_svid_ttl")?.or(ttl(entry, "ttl")?);
    let jwt = ttl(entry, "jwt_svid_ttl")?;
    let admin = entry.get("admin").and_then(Value::as_bool) == Some(true);
    let downstream = entry.get("downstream").and_then(Value::as_bool) == Some(true);

    let mut details = vec![format!("selectors={}", selectors.join(","))];
    if let Some(p) = &parent {
        details.push(format!("parent={p}"));
    }
    for (label, t) in [("x509_svid_ttl", x509), ("jwt_svid_ttl", jwt)] {
        if let Some(t) = t {
            details.push(format!("{label}={t}s"));
        }
    }
    let federates: Vec<&str> = entry
        .get("federates_with")
        .and_then(Value::as_array)
        .map(|f| f.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !federates.is_empty() {
        details.push(format!("federates_with={}", federates.join(",")));
    }
    if let Some(hint) = text(entry, "/hint") {
        details.push(format!("hint={hint}"));
    }
    let reason = match x509 {
        Some(t) => format!("SPIFFE SVIDs issued and rotated by the SPIRE agent (X.509 TTL {t}s)"),
        None => "SPIFFE SVIDs issued and rotated by the SPIRE agent (server default TTL)".into(),
    };
    let identity = Identity {
        id: id.clone(),
        kind: "spiffe-workload".into(),
        provider: "spiffe",
        owner_id: None,
        owner: None,
        environment: Some(trust_domain.clone()),
        created_us: entry.get("created_at").and_then(crate::time::parse_time),
        last_used_us: None,
        last_rotated_us: None,
        expires_us: entry
            .get("expires_at")
            .and_then(crate::time::parse_time)
            .filter(|t| *t > 0),
        active: true,
        credential_type: CredentialType::Ephemeral,
        credential_reason: reason,
        details: details.join("; "),
        source_ref: raw_ref.clone(),
        ..Default::default()
    };
    let mut grants = Vec::new();
    for (on, actions, flag) in [
        (
            admin,
            "registration API (admin)",
            "SPIRE admin workload: may create and delete registration entries",
        ),
        (
            downstream,
            "mint SVIDs (downstream)",
            "downstream SPIRE server: may mint SVIDs for the trust domain",
        ),
    ] {
        if on {
            grants.push(Grant {
                principal: Some(id.clone()),
                policy: format!("SPIRE registration entry {id}"),
                kind: "permission",
                effect: "Allow".into(),
                actions: actions.into(),
                not_action: false,
                resources: format!("spiffe://{trust_domain}"),
                not_resource: false,
                has_conditions: false,
                wildcard_action: false,
                wildcard_resource: false,
                admin: true,
                flags: flag.into(),
                source_ref: raw_ref.clone(),
            });
        }
    }
    Ok((identity, grants))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn old_and_new_entry_forms_and_admin_grants() {
        let doc = json!({"entries": [
            {"spiffe_id": "spiffe://example.org/Blog", "parent_id": "spiffe://example.org/agent",
             "selectors": [{"type": "unix", "value": "uid:1111"}], "x509_svid_ttl": 200,
             "jwt_svid_ttl": 30, "admin": true},
            {"spiffe_id": {"trust_domain": "example.org", "path": "/db"},
             "parent_id": {"trust_domain": "example.org", "path": "/agent"},
             "selectors": [{"type": "k8s", "value": "sa:db"}], "ttl": 3600},
            {"spiffe_id": "http://example.org/x", "selectors": [{"type": "unix", "value": "uid:1"}]},
            {"selectors": [{"type": "unix", "value": "uid:1"}]},
            {"spiffe_id": "spiffe://example.org/y", "x509_svid_ttl": -5,
             "selectors": [{"type": "unix", "value": "uid:1"}]}
        ]});
        assert!(detect(&doc));
        let out = entries(&doc, &RawRef::default());
        assert_eq!(
            (out.entries, out.inventoried, out.rejected.len()),
            (5, 2, 3)
        );
        assert_eq!(
            out.identities[0].environment.as_deref(),
            Some("example.org")
        );
        assert!(out.identities[0].credential_reason.contains("TTL 200s"));
        assert_eq!(out.identities[1].id, "spiffe://example.org/db");
        assert!(out.identities[1].details.contains("x509_svid_ttl=3600s"));
        assert_eq!(out.grants.len(), 1);
        assert!(out.grants[0].admin);
        let reasons: Vec<&str> = out.rejected.iter().map(|r| r.reason.as_str()).collect();
        assert!(reasons[0].contains("not a spiffe:// URI"), "{reasons:?}");
        assert!(reasons[1].contains("no spiffe_id"), "{reasons:?}");
        assert!(reasons[2].contains("cannot be negative"), "{reasons:?}");
    }
}
