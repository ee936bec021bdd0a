//! GCP service accounts and their keys, as the IAM API lists them
//! (`{"accounts": [...]}`, `{"keys": [...]}`) and as `gcloud iam
//! service-accounts list / keys list --format=json` prints them (bare
//! arrays, whose elements arrive here one by one).
//!
//! A `USER_MANAGED` key is a static credential: someone downloaded it, and it
//! is valid until `validBeforeTime` (`9999-12-31T23:59:59Z` means never). A
//! `SYSTEM_MANAGED` key is Google's own, rotated about every two weeks:
//! ephemeral.

use serde_json::Value;

use super::fields::{owned, text};
use crate::model::{CredentialType, Identity, RawRef};
use crate::time::parse_time_text;

pub const SOURCE: &str = "gcp-iam";

/// The year GCP writes for "never expires".
const NEVER: &str = "9999-";

fn is_account(v: &Value) -> bool {
    v.get("email").is_some()
        && text(v, "/name").is_some_and(|n| n.contains("/serviceAccounts/"))
        && v.get("keyType").is_none()
}

fn is_key(v: &Value) -> bool {
    v.get("keyType").is_some() && text(v, "/name").is_some_and(|n| n.contains("/keys/"))
}

/// Whether a record is a listing (or one entry) of service accounts or keys.
pub fn detect(record: &Value) -> bool {
    let list = |key: &str, test: fn(&Value) -> bool| {
        record
            .get(key)
            .and_then(Value::as_array)
            .is_some_and(|items| items.iter().any(test))
    };
    is_account(record) || is_key(record) || list("accounts", is_account) || list("keys", is_key)
}

/// The identities a record lists; an error names what was wrong.
pub fn identities(record: &Value, source_ref: &RawRef) -> Result<Vec<Identity>, String> {
    let items: Vec<&Value> = if let Some(list) = record
        .get("accounts")
        .or_else(|| record.get("keys"))
        .and_then(Value::as_array)
    {
        list.iter().collect()
    } else {
        vec![record]
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let mut item_ref = source_ref.clone();
        if items.len() > 1 {
            item_ref.position = format!("{}, entry {}", source_ref.position, i + 1);
        }
        if is_key(item) {
            out.push(key(item, item_ref)?);
        } else if is_account(item) {
            out.push(account(item, item_ref)?);
        } else {
            return Err(format!(
                "entry {} is neither a service account nor a key",
                i + 1
            ));
        }
    }
    Ok(out)
}

fn account(item: &Value, source_ref: RawRef) -> Result<Identity, String> {
    let email = owned(item, "/email").ok_or("a service account without an email")?;
    let disabled = item
        .get("disabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let details = [
        ("display_name", "/displayName"),
        ("unique_id", "/uniqueId"),
        ("description", "/description"),
    ]
    .iter()
    .filter_map(|(label, p)| text(item, p).map(|v| format!("{label}={v}")))
    .collect::<Vec<_>>()
    .join("; ");
    Ok(Identity {
        environment: owned(item, "/projectId").or_else(|| project_of(&email)),
        id: email,
        kind: "service-account".into(),
        provider: "gcp",
        owner_id: None,
        owner: None,
        created_us: None,
        last_used_us: None,
        last_rotated_us: None,
        expires_us: None,
        active: !disabled,
        credential_type: CredentialType::Unknown,
        credential_reason: "the account itself; its keys are listed separately".into(),
        details,
        source_ref,
        ..Default::default()
    })
}

fn key(item: &Value, source_ref: RawRef) -> Result<Identity, String> {
    let name = text(item, "/name").ok_or("a key without a name")?;
    // projects/P/serviceAccounts/EMAIL/keys/KEY_ID
    let email = name
        .split("/serviceAccounts/")
        .nth(1)
        .and_then(|rest| rest.split("/keys/").next())
        .map(str::to_string)
        .ok_or_else(|| format!("key name `{name}` does not name its service account"))?;
    let key_id = name.rsplit('/').next().unwrap_or(name);
    let key_type = text(item, "/keyType").unwrap_or("");
    let valid_before = text(item, "/validBeforeTime");
    let expires_us = valid_before
        .filter(|v| !v.starts_with(NEVER))
        .and_then(parse_time_text);
    let (credential_type, credential_reason) = match key_type {
        "USER_MANAGED" => (
            CredentialType::Static,
            if expires_us.is_none() {
                "USER_MANAGED key that never expires (validBeforeTime 9999-12-31)".to_string()
            } else {
                "USER_MANAGED key: downloaded and valid until validBeforeTime".to_string()
            },
        ),
        "SYSTEM_MANAGED" => (
            CredentialType::Ephemeral,
            "SYSTEM_MANAGED key: Google holds and rotates it".to_string(),
        ),
        other => (CredentialType::Unknown, format!("keyType `{other}`")),
    };
    let created = text(item, "/validAfterTime").and_then(parse_time_text);
    Ok(Identity {
        id: format!("{email}#key/{key_id}"),
        kind: "service-account-key".into(),
        provider: "gcp",
        environment: project_of(&email),
        owner_id: Some(email),
        owner: None,
        created_us: created,
        last_used_us: None,
        last_rotated_us: created,
        expires_us,
        active: !item
            .get("disabled")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        credential_type,
        credential_reason,
        details: [("algorithm", "/keyAlgorithm"), ("origin", "/keyOrigin")]
            .iter()
            .filter_map(|(label, p)| text(item, p).map(|v| format!("{label}={v}")))
            .collect::<Vec<_>>()
            .join("; "),
        source_ref,
        ..Default::default()
    })
}

/// `sa@PROJECT.iam.gserviceaccount.com` → `PROJECT`.
fn project_of(email: &str) -> Option<String> {
    email
        .split('@')
        .nth(1)?
        .strip_suffix(".iam.gserviceaccount.com")
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw() -> RawRef {
        RawRef {
            file: "f".into(),
            position: "record 1".into(),
            sha256: String::new(),
        }
    }

    #[test]
    fn user_managed_keys_that_never_expire_are_static() {
        let listing = json!({"keys": [
            {"name": "projects/p/serviceAccounts/ci@p.iam.gserviceaccount.com/keys/1", "validAfterTime": "2021-03-23T14:07:01Z", "validBeforeTime": "2021-04-09T14:07:01Z", "keyType": "SYSTEM_MANAGED"},
            {"name": "projects/p/serviceAccounts/ci@p.iam.gserviceaccount.com/keys/2", "validAfterTime": "2021-03-31T13:27:15Z", "validBeforeTime": "9999-12-31T23:59:59Z", "keyType": "USER_MANAGED"}]});
        assert!(detect(&listing));
        let rows = identities(&listing, &raw()).unwrap();
        assert_eq!(rows[0].credential_type, CredentialType::Ephemeral);
        assert_eq!(rows[1].credential_type, CredentialType::Static);
        assert_eq!(rows[1].expires_us, None);
        assert!(rows[1].credential_reason.contains("never expires"));
        assert_eq!(
            rows[1].owner_id.as_deref(),
            Some("ci@p.iam.gserviceaccount.com")
        );
        assert_eq!(rows[1].environment.as_deref(), Some("p"));
        assert_eq!(rows[1].source_ref.position, "record 1, entry 2");
    }

    #[test]
    fn accounts() {
        let one = json!({"name": "projects/p/serviceAccounts/a@p.iam.gserviceaccount.com", "email": "a@p.iam.gserviceaccount.com", "projectId": "p", "disabled": true});
        let rows = identities(&one, &raw()).unwrap();
        assert_eq!(rows[0].kind, "service-account");
        assert!(!rows[0].active);
    }
}
