//! AWS IAM credential reports (`aws iam get-credential-report`, CSV) →
//! identities: one row per user (and the root user), one row per active
//! access key and per active signing certificate, owned by its user.
//!
//! Access keys and certificates are long-term credentials (static): IAM
//! never expires them. A key's `last_rotated` is when it was created or last
//! replaced, so its age is measured from there. `N/A`, `no_information` and
//! `not_supported` mean "no value".

use std::collections::HashMap;

use crate::hash::sha256_hex;
use crate::model::{CredentialType, Identity, RawRef, Rejected};
use crate::time::parse_time_text;

pub const SOURCE: &str = "aws-credential-report";

const HEADER: &[u8] = b"user,arn,user_creation_time";

/// Whether the bytes are a credential report (by its header).
pub fn detect(bytes: &[u8]) -> bool {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    body.trim_ascii_start().starts_with(HEADER)
}

/// The CSV inside `aws iam get-credential-report` JSON output
/// (`{"Content": "<base64>", "ReportFormat": "text/csv", ...}`), also when a
/// recorder wrapped the response in `data` and decoded the blob already.
/// `None` when the bytes are not such a response.
pub fn csv_from_json(bytes: &[u8]) -> Option<Result<Vec<u8>, String>> {
    let body = bytes.trim_ascii_start();
    if !body.starts_with(b"{") || memchr::memmem::find(body, b"ReportFormat").is_none() {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let response = if value.get("Content").is_some() {
        &value
    } else {
        value.get("data")?
    };
    let format = response.get("ReportFormat").and_then(|f| f.as_str())?;
    let content = response.get("Content").and_then(|c| c.as_str())?;
    if format != "text/csv" {
        return Some(Err(format!(
            "a credential report in {format}, not text/csv"
        )));
    }
    if detect(content.as_bytes()) {
        return Some(Ok(content.as_bytes().to_vec()));
    }
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(content.trim())
        .map_err(|e| format!("the credential report's Content is neither CSV nor base64: {e}"));
    Some(decoded.and_then(|csv| {
        if detect(&csv) {
            Ok(csv)
        } else {
            Err("the credential report's Content does not start with the report header".into())
        }
    }))
}

/// What one report yields.
pub struct Report {
    pub identities: Vec<Identity>,
    pub rejected: Vec<Rejected>,
    /// Data rows read (each is inventoried or rejected).
    pub rows: usize,
    /// Rows that became identities.
    pub inventoried: usize,
}

fn value(text: &str) -> Option<&str> {
    let text = text.trim();
    (!matches!(text, "" | "N/A" | "no_information" | "not_supported")).then_some(text)
}

pub fn parse(file: &str, bytes: &[u8]) -> Report {
    let mut report = Report {
        identities: Vec::new(),
        rejected: Vec::new(),
        rows: 0,
        inventoried: 0,
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            report.rows = 1;
            report.rejected.push(reject(
                file,
                "line 1".into(),
                String::new(),
                format!("unreadable CSV header: {e}"),
            ));
            return report;
        }
    };
    let column = |name: &str| headers.iter().position(|h| h == name);
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut records = reader.into_byte_records().peekable();
    while let Some(record) = records.next() {
        report.rows += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                report.rejected.push(reject(
                    file,
                    format!("line {line}"),
                    String::new(),
                    format!("not a CSV row: {e}"),
                ));
                continue;
            }
        };
        let position = record.position().cloned();
        let line = position.as_ref().map(|p| p.line()).unwrap_or(0);
        let start = position.as_ref().map(|p| p.byte() as usize).unwrap_or(0);
        let end = records
            .peek()
            .and_then(|r| r.as_ref().ok())
            .and_then(|r| r.position())
            .map(|p| p.byte() as usize)
            .unwrap_or(bytes.len());
        let raw = bytes.get(start..end).unwrap_or_default();
        let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let source_ref = RawRef {
            file: file.to_string(),
            position: format!("line {line}"),
            sha256: sha256_hex(raw),
        };
        let get = |name: &str| {
            column(name)
                .and_then(|i| record.get(i))
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        if record.len() != headers.len() {
            report.rejected.push(Rejected {
                raw_ref: source_ref,
                source: Some(SOURCE),
                reason: format!(
                    "{} fields where the header has {}",
                    record.len(),
                    headers.len()
                ),
            });
            continue;
        }
        let (Some(user), Some(arn)) = (
            get("user").filter(|u| !u.is_empty()),
            get("arn").filter(|a| a.starts_with("arn:")),
        ) else {
            report.rejected.push(Rejected {
                raw_ref: source_ref,
                source: Some(SOURCE),
                reason: "no user name or no arn".into(),
            });
            continue;
        };
        if let Some(first) = seen.get(&arn) {
            report.rejected.push(Rejected {
                raw_ref: source_ref,
                source: Some(SOURCE),
                reason: format!(
                    "duplicate row: {arn} is listed again (first at line {first}); the first row is kept"
                ),
            });
            continue;
        }
        seen.insert(arn.clone(), line);
        report.inventoried += 1;
        let time = |name: &str| {
            get(name)
                .as_deref()
                .and_then(value)
                .and_then(parse_time_text)
        };
        let flag = |name: &str| get(name).as_deref() == Some("true");
        let account = arn
            .split(':')
            .nth(4)
            .filter(|a| !a.is_empty())
            .map(str::to_string);

        let mut credentials = Vec::new();
        for slot in 1..=2 {
            let key = format!("access_key_{slot}");
            if flag(&format!("{key}_active")) {
                let rotated = time(&format!("{key}_last_rotated"));
                let details = [
                    ("last_used_region", format!("{key}_last_used_region")),
                    ("last_used_service", format!("{key}_last_used_service")),
                ]
                .iter()
                .filter_map(|(label, col)| {
                    get(col)
                        .as_deref()
                        .and_then(value)
                        .map(|v| format!("{label}={v}"))
                })
                .collect::<Vec<_>>()
                .join("; ");
                credentials.push(Identity {
                    id: format!("{arn}#{key}"),
                    kind: "access-key".into(),
                    provider: "aws",
                    owner_id: Some(arn.clone()),
                    owner: None,
                    environment: account.clone(),
                    created_us: rotated,
                    last_used_us: time(&format!("{key}_last_used_date")),
                    last_rotated_us: rotated,
                    expires_us: None,
                    active: true,
                    credential_type: CredentialType::Static,
                    credential_reason: "long-term IAM access key: it never expires by itself"
                        .into(),
                    details,
                    source_ref: source_ref.clone(),
                    ..Default::default()
                });
            }
            let cert = format!("cert_{slot}");
            if flag(&format!("{cert}_active")) {
                let rotated = time(&format!("{cert}_last_rotated"));
                credentials.push(Identity {
                    id: format!("{arn}#{cert}"),
                    kind: "certificate".into(),
                    provider: "aws",
                    owner_id: Some(arn.clone()),
                    owner: None,
                    environment: account.clone(),
                    created_us: rotated,
                    last_used_us: None,
                    last_rotated_us: rotated,
                    expires_us: None,
                    active: true,
                    credential_type: CredentialType::Static,
                    credential_reason:
                        "X.509 signing certificate on an IAM user: valid until deleted".into(),
                    details: String::new(),
                    source_ref: source_ref.clone(),
                    ..Default::default()
                });
            }
        }
        let keys = credentials
            .iter()
            .filter(|c| c.kind == "access-key")
            .count();
        let password = flag("password_enabled");
        let (credential_type, credential_reason) = if !credentials.is_empty() {
            (
                CredentialType::Static,
                format!(
                    "{} active long-term credential(s) ({keys} access key(s))",
                    credentials.len()
                ),
            )
        } else if password {
            (
                CredentialType::Unknown,
                "console password only: a person's sign-in, no machine credential".to_string(),
            )
        } else {
            (CredentialType::Unknown, "no active credential".to_string())
        };
        let last_used = credentials
            .iter()
            .filter_map(|c| c.last_used_us)
            .chain(time("password_last_used"))
            .max();
        let details = format!(
            "password_enabled={}; mfa_active={}",
            get("password_enabled").unwrap_or_default(),
            get("mfa_active").unwrap_or_default()
        );
        report.identities.push(Identity {
            id: arn.clone(),
            kind: if user == "<root_account>" {
                "root".into()
            } else {
                "iam-user".into()
            },
            provider: "aws",
            owner_id: None,
            owner: None,
            environment: account,
            created_us: time("user_creation_time"),
            last_used_us: last_used,
            last_rotated_us: None,
            expires_us: None,
            active: true,
            credential_type,
            credential_reason,
            details,
            source_ref,
            ..Default::default()
        });
        report.identities.extend(credentials);
    }
    report
}

fn reject(file: &str, position: String, sha256: String, reason: String) -> Rejected {
    Rejected {
        raw_ref: RawRef {
            file: file.to_string(),
            position,
            sha256,
        },
        source: Some(SOURCE),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n\
ci,arn:aws:iam::1:user/ci,2022-05-27T10:25:43+00:00,false,N/A,N/A,N/A,false,true,2022-05-27T10:25:44+00:00,2022-12-21T18:30:00+00:00,us-east-1,rds,false,N/A,N/A,N/A,N/A,true,2023-01-01T00:00:00+00:00,false,N/A\n\
jane,arn:aws:iam::1:user/jane,2022-05-27T10:25:43+00:00,true,2022-12-01T00:00:00+00:00,N/A,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\
ci,arn:aws:iam::1:user/ci,2022-05-27T10:25:43+00:00,false,N/A,N/A,N/A,false,true,2022-05-27T10:25:44+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";

    #[test]
    fn cli_json_carries_the_report_in_base64() {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(REPORT);
        let cli = format!(
            r#"{{"Content": "{encoded}", "ReportFormat": "text/csv", "GeneratedTime": "2026-11-02T00:00:00Z"}}"#
        );
        assert_eq!(
            csv_from_json(cli.as_bytes()).unwrap().unwrap(),
            REPORT.as_bytes()
        );
        let recorded = serde_json::json!({"status_code": 200, "data": {"Content": REPORT, "ReportFormat": "text/csv"}}).to_string();
        assert_eq!(
            csv_from_json(recorded.as_bytes()).unwrap().unwrap(),
            REPORT.as_bytes()
        );
        assert!(csv_from_json(br#"{"Records": []}"#).is_none());
    }

    #[test]
    fn users_keys_and_certificates() {
        assert!(detect(REPORT.as_bytes()));
        let r = parse("report.csv", REPORT.as_bytes());
        assert_eq!((r.rows, r.inventoried, r.rejected.len()), (3, 2, 1));
        let ids: Vec<&str> = r.identities.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "arn:aws:iam::1:user/ci",
                "arn:aws:iam::1:user/ci#access_key_1",
                "arn:aws:iam::1:user/ci#cert_1",
                "arn:aws:iam::1:user/jane"
            ]
        );
        let key = &r.identities[1];
        assert_eq!(key.credential_type, CredentialType::Static);
        assert_eq!(key.owner_id.as_deref(), Some("arn:aws:iam::1:user/ci"));
        assert_eq!(key.last_rotated_us, parse_time_text("2022-05-27T10:25:44Z"));
        assert_eq!(
            key.details,
            "last_used_region=us-east-1; last_used_service=rds"
        );
        assert_eq!(
            r.identities[0].last_used_us,
            parse_time_text("2022-12-21T18:30:00Z")
        );
        assert!(r.identities[3]
            .credential_reason
            .contains("console password only"));
        assert!(r.rejected[0].reason.contains("first at line 2"));
        assert_eq!(r.rejected[0].raw_ref.position, "line 4");
    }
}
