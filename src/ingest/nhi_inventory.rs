//! proofpack's generic NHI inventory (`schemas/nhi-inventory.schema.json`),
//! for the identities no cloud inventory lists: SaaS API keys, certificates,
//! OAuth apps, AI agents. JSON: `{"nhi-inventory": [...]}`; CSV: a header
//! of the same field names starting `id,kind`. Every entry is checked
//! against the published schema; an entry that breaks it is rejected with
//! the schema's findings.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::hash::sha256_hex;
use crate::model::{CredentialType, Identity, Ownership, RawRef, Rejected};
use crate::time::parse_time_text;

pub const SOURCE: &str = "nhi-inventory";
/// The ownership reason of an entry stating `third_party: false`.
pub const DECLARED_OWN: &str = "the inventory states it is the provider's own";
const SCHEMA: &str = include_str!("../../schemas/nhi-inventory.schema.json");

/// The compiled schema of one entry.
fn entry_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        // The schema ships in the source tree and a unit test compiles it.
        let schema: Value = serde_json::from_str(SCHEMA).expect("nhi-inventory schema is JSON");
        let entry = serde_json::json!({"$ref": "#/definitions/identity", "definitions": schema["definitions"]});
        jsonschema::validator_for(&entry).expect("nhi-inventory schema compiles")
    })
}

pub fn detect_csv(bytes: &[u8]) -> bool {
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(bytes)
        .trim_ascii_start();
    body.starts_with(b"id,kind,")
        || body.starts_with(b"id,kind\n")
        || body.starts_with(b"id,kind\r")
}

pub fn detect_json(record: &Value) -> bool {
    record.get("nhi-inventory").is_some_and(Value::is_array)
}

/// What an inventory document yields, entry by entry (also used by other
/// entry-list formats such as SPIRE's).
#[derive(Default)]
pub struct Inventory {
    pub identities: Vec<Identity>,
    pub grants: Vec<crate::model::Grant>,
    pub rejected: Vec<Rejected>,
    pub entries: usize,
    pub inventoried: usize,
}

/// The entries of a JSON inventory document (one record).
pub fn from_json(record: &Value, source_ref: &RawRef) -> Inventory {
    let mut out = Inventory::default();
    for (i, entry) in record["nhi-inventory"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let raw_ref = RawRef {
            file: source_ref.file.clone(),
            position: format!("{}, entry {}", source_ref.position, i + 1),
            sha256: sha256_hex(entry.to_string().as_bytes()),
        };
        out.add(entry, raw_ref);
    }
    out
}

/// The rows of a CSV inventory.
pub fn from_csv(file: &str, bytes: &[u8]) -> Inventory {
    let mut out = Inventory::default();
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(_) => return out,
    };
    for record in reader.records() {
        out.entries += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                out.reject(
                    RawRef {
                        file: file.into(),
                        position: format!("line {line}"),
                        sha256: String::new(),
                    },
                    format!("not a CSV row: {e}"),
                );
                continue;
            }
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let raw_ref = RawRef {
            file: file.into(),
            position: format!("line {line}"),
            sha256: sha256_hex(record.iter().collect::<Vec<_>>().join(",").as_bytes()),
        };
        if record.len() != headers.len() {
            out.reject(
                raw_ref,
                format!(
                    "{} fields where the header has {}",
                    record.len(),
                    headers.len()
                ),
            );
            continue;
        }
        let mut entry = Map::new();
        for (name, cell) in headers.iter().zip(record.iter()) {
            let cell = cell.trim();
            if cell.is_empty() {
                continue;
            }
            let value = match name.as_str() {
                "scopes" => Value::Array(
                    cell.split(';')
                        .map(|s| Value::String(s.trim().to_string()))
                        .filter(|v| v != "")
                        .collect(),
                ),
                "third_party" if matches!(cell.to_ascii_lowercase().as_str(), "false" | "no") => {
                    Value::Bool(false)
                }
                "active" => match cell.to_ascii_lowercase().as_str() {
                    "true" | "yes" | "1" => Value::Bool(true),
                    "false" | "no" | "0" => Value::Bool(false),
                    _ => Value::String(cell.to_string()),
                },
                _ => Value::String(cell.to_string()),
            };
            entry.insert(name.clone(), value);
        }
        out.entries -= 1; // `add` counts it
        out.add(&Value::Object(entry), raw_ref);
    }
    out
}

impl Inventory {
    fn reject(&mut self, raw_ref: RawRef, reason: String) {
        self.rejected.push(Rejected {
            raw_ref,
            source: Some(SOURCE),
            reason,
        });
    }

    fn add(&mut self, entry: &Value, raw_ref: RawRef) {
        self.entries += 1;
        let problems: Vec<String> = entry_validator()
            .iter_errors(entry)
            .map(|e| {
                let at = e.instance_path().to_string();
                if at.is_empty() {
                    e.to_string()
                } else {
                    format!("{at}: {e}")
                }
            })
            .collect();
        if !problems.is_empty() {
            self.reject(
                raw_ref,
                format!("breaks the nhi-inventory schema: {}", problems.join("; ")),
            );
            return;
        }
        let unparsable: Vec<String> = ["created", "last_rotated", "expires", "last_used"]
            .iter()
            .filter_map(|key| {
                let t = entry.get(*key)?.as_str()?;
                let ok = parse_time_text(t)
                    .or_else(|| parse_time_text(&format!("{t}T00:00:00Z")))
                    .is_some();
                (!ok).then(|| format!("{key} `{t}` is not a date that exists"))
            })
            .collect();
        if !unparsable.is_empty() {
            self.reject(raw_ref, unparsable.join("; "));
            return;
        }
        let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_string);
        let time = |key: &str| {
            entry.get(key).and_then(Value::as_str).and_then(|t| {
                parse_time_text(t).or_else(|| parse_time_text(&format!("{t}T00:00:00Z")))
            })
        };
        let kind = text("kind").unwrap_or_default();
        let expires_us = time("expires");
        let (credential_type, credential_reason) = match text("credential_type")
            .as_deref()
            .and_then(CredentialType::parse)
        {
            Some(t) => (t, "as the inventory states".to_string()),
            None if expires_us.is_some() => (
                CredentialType::Unknown,
                "not stated; it has an expiry".to_string(),
            ),
            None => (
                CredentialType::Unknown,
                "not stated in the inventory".to_string(),
            ),
        };
        let mut details = Vec::new();
        if let Some(Value::Array(scopes)) = entry.get("scopes") {
            let scopes: Vec<&str> = scopes.iter().filter_map(Value::as_str).collect();
            details.push(format!("scopes={}", scopes.join(" ")));
        }
        if let Some(d) = text("description") {
            details.push(format!("description={d}"));
        }
        let vendor = text("third_party");
        // `third_party: false` says it is ours, overriding what a log suggests.
        let declared_own = entry.get("third_party") == Some(&Value::Bool(false));
        self.inventoried += 1;
        self.identities.push(Identity {
            id: text("id").unwrap_or_default(),
            kind,
            provider: "inventory",
            owner_id: None,
            owner: text("owner"),
            environment: text("environment"),
            created_us: time("created"),
            last_used_us: time("last_used"),
            last_rotated_us: time("last_rotated"),
            expires_us,
            active: entry.get("active").and_then(Value::as_bool).unwrap_or(true),
            credential_type,
            credential_reason,
            details: match text("provider") {
                Some(p) => std::iter::once(format!("provider={p}"))
                    .chain(details)
                    .collect::<Vec<_>>()
                    .join("; "),
                None => details.join("; "),
            },
            review_by_us: time("review_by"),
            ownership: if vendor.is_some() {
                Ownership::ThirdParty
            } else {
                Ownership::Internal
            },
            ownership_reason: match (&vendor, declared_own) {
                (Some(v), _) => format!("the inventory names {v} as its third party"),
                (None, true) => DECLARED_OWN.to_string(),
                (None, false) => String::new(),
            },
            vendor,
            agent_platform: text("agent_platform"),
            on_behalf_of: text("on_behalf_of"),
            source_ref: raw_ref,
            ..Default::default()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw() -> RawRef {
        RawRef {
            file: "inv.json".into(),
            position: "record 1".into(),
            sha256: String::new(),
        }
    }

    #[test]
    fn the_published_schema_compiles() {
        let schema: Value = serde_json::from_str(SCHEMA).unwrap();
        jsonschema::validator_for(&schema).unwrap();
        let _ = entry_validator();
    }

    #[test]
    fn json_entries_are_checked_against_the_schema() {
        let doc = json!({"nhi-inventory": [
            {"id": "dd-api-key-7f3a", "kind": "api-key", "provider": "datadog", "owner": "sre@example.com", "credential_type": "static",
             "created": "2025-01-10", "last_rotated": "2025-01-10T00:00:00Z", "scopes": ["metrics_write", "logs_read"]},
            {"id": "bad", "kind": "spaceship"},
            {"kind": "agent"}
        ]});
        assert!(detect_json(&doc));
        let inv = from_json(&doc, &raw());
        assert_eq!(
            (inv.entries, inv.inventoried, inv.rejected.len()),
            (3, 1, 2)
        );
        let key = &inv.identities[0];
        assert_eq!(key.credential_type, CredentialType::Static);
        assert_eq!(key.owner.as_deref(), Some("sre@example.com"));
        assert_eq!(key.owner_id, None);
        assert_eq!(key.created_us, parse_time_text("2025-01-10T00:00:00Z"));
        assert_eq!(
            key.details,
            "provider=datadog; scopes=metrics_write logs_read"
        );
        assert!(
            inv.rejected[0].reason.contains("/kind"),
            "{}",
            inv.rejected[0].reason
        );
        assert!(
            inv.rejected[1]
                .reason
                .contains("\"id\" is a required property"),
            "{}",
            inv.rejected[1].reason
        );
        assert_eq!(inv.rejected[1].raw_ref.position, "record 1, entry 3");
    }

    #[test]
    fn a_vendor_names_a_third_party_with_its_review_date() {
        let doc = json!({"nhi-inventory": [
            {"id": "923474483785-x.apps.googleusercontent.com", "kind": "oauth-app", "owner": "it-sec@example.com",
             "third_party": "Acme Mail", "review_by": "2026-06-30"},
            {"id": "support-bot", "kind": "agent", "agent_platform": "Amazon Bedrock AgentCore", "on_behalf_of": "support-team"}
        ]});
        let inv = from_json(&doc, &raw());
        assert!(inv.rejected.is_empty(), "{:?}", inv.rejected);
        let app = &inv.identities[0];
        assert_eq!(app.ownership, Ownership::ThirdParty);
        assert_eq!(app.vendor.as_deref(), Some("Acme Mail"));
        assert_eq!(app.review_by_us, parse_time_text("2026-06-30T00:00:00Z"));
        let own = from_json(
            &json!({"nhi-inventory": [{"id": "123-own.apps.googleusercontent.com", "kind": "oauth-app", "third_party": false}]}),
            &raw(),
        );
        assert!(own.rejected.is_empty(), "{:?}", own.rejected);
        assert_eq!(own.identities[0].ownership, Ownership::Internal);
        assert_eq!(own.identities[0].ownership_reason, DECLARED_OWN);
        let csv = from_csv(
            "inv.csv",
            b"id,kind,third_party\nown-client,oauth-app,false\n",
        );
        assert_eq!(csv.identities[0].ownership_reason, DECLARED_OWN);
        let wrong = from_json(
            &json!({"nhi-inventory": [{"id": "x", "kind": "oauth-app", "third_party": true}]}),
            &raw(),
        );
        assert_eq!(wrong.rejected.len(), 1, "true names no vendor");
        let bot = &inv.identities[1];
        assert_eq!(bot.ownership, Ownership::Internal);
        assert_eq!(
            bot.agent_platform.as_deref(),
            Some("Amazon Bedrock AgentCore")
        );
        assert_eq!(bot.on_behalf_of.as_deref(), Some("support-team"));
    }

    #[test]
    fn csv_rows_use_the_same_fields() {
        let csv = "id,kind,owner,credential_type,expires,scopes,active\n\
                   support-bot,agent,ai-team@example.com,ephemeral,,tickets:read;tickets:write,true\n\
                   legacy-cert,certificate,,static,2026-13-45,,\n";
        assert!(detect_csv(csv.as_bytes()));
        let inv = from_csv("inv.csv", csv.as_bytes());
        assert_eq!(
            (inv.entries, inv.inventoried, inv.rejected.len()),
            (2, 1, 1)
        );
        assert_eq!(inv.identities[0].kind, "agent");
        assert!(inv.identities[0]
            .details
            .contains("tickets:read tickets:write"));
        assert_eq!(inv.rejected[0].raw_ref.position, "line 3");
    }
}
