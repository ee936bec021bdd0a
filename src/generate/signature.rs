//! `verify`'s signature check: the DSSE envelope's signature with the
//! trusted keys first, then the signed subjects against the package's files.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::package::FileEntry;
use crate::attest::dsse::{self, Envelope, IN_TOTO};
use crate::attest::keys::PublicKey;
use crate::attest::{statement, ATTESTATION};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureStatus {
    /// Signed by a trusted key, and every file is as signed.
    Verified,
    /// Signed, but the signature, the statement or a file does not hold.
    Invalid,
    /// No `attestation.dsse.json`.
    Unsigned,
    /// Signed, but no trusted key was given to check it with.
    NotChecked,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignatureReport {
    pub status: SignatureStatus,
    /// The key that verified (or, unchecked, the ids the envelope names).
    pub keyid: Option<String>,
    pub key: Option<String>,
    pub algorithm: Option<String>,
    /// When the package was made, as the signed provenance says.
    pub signed_at: Option<String>,
    pub builder: Option<String>,
    /// Files that differ from what was signed.
    pub changed: Vec<String>,
    pub missing: Vec<String>,
    pub added: Vec<String>,
    pub problems: Vec<String>,
}

impl SignatureReport {
    fn new(status: SignatureStatus) -> Self {
        SignatureReport {
            status,
            keyid: None,
            key: None,
            algorithm: None,
            signed_at: None,
            builder: None,
            changed: Vec::new(),
            missing: Vec::new(),
            added: Vec::new(),
            problems: Vec::new(),
        }
    }

    fn invalid(problem: String) -> Self {
        let mut report = Self::new(SignatureStatus::Invalid);
        report.problems.push(problem);
        report
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        let key = || {
            format!(
                "key {} ({}, {})",
                self.keyid.as_deref().unwrap_or("?"),
                self.algorithm.as_deref().unwrap_or("?"),
                self.key.as_deref().unwrap_or("?")
            )
        };
        match self.status {
            SignatureStatus::Verified => format!(
                "verified: signed by {} at {}; every file is as signed",
                key(),
                self.signed_at.as_deref().unwrap_or("an unstated time")
            ),
            SignatureStatus::Invalid => "INVALID (see the problems below)".to_string(),
            SignatureStatus::Unsigned => format!("unsigned: the package has no {ATTESTATION}"),
            SignatureStatus::NotChecked => format!(
                "not checked: signed with key id {}, but no trusted key was given (--key or --trusted-keys)",
                self.keyid.as_deref().unwrap_or("?")
            ),
        }
    }
}

/// `on_disk`: the package's files and hashes (`package::on_disk`).
pub fn check(
    dir: &Path,
    trusted: &[PublicKey],
    on_disk: &BTreeMap<String, FileEntry>,
) -> SignatureReport {
    let path = dir.join(ATTESTATION);
    if !path.exists() {
        return SignatureReport::new(SignatureStatus::Unsigned);
    }
    let envelope: Envelope = match std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
    {
        Ok(envelope) => envelope,
        Err(e) => {
            return SignatureReport::invalid(format!("{ATTESTATION}: not a DSSE envelope: {e}"))
        }
    };
    if envelope.payload_type != IN_TOTO {
        return SignatureReport::invalid(format!(
            "{ATTESTATION}: payload type `{}`, not an in-toto statement ({IN_TOTO})",
            envelope.payload_type
        ));
    }
    if trusted.is_empty() {
        let mut report = SignatureReport::new(SignatureStatus::NotChecked);
        let ids: Vec<&str> = envelope
            .signatures
            .iter()
            .map(|s| s.keyid.as_str())
            .collect();
        report.keyid = Some(ids.join(", "));
        return report;
    }
    let (payload, key) = match dsse::open(&envelope, trusted) {
        Ok(opened) => opened,
        Err(e) => return SignatureReport::invalid(format!("{ATTESTATION}: {e}")),
    };
    let signed = match statement::read(&payload) {
        Ok(signed) => signed,
        Err(e) => return SignatureReport::invalid(format!("{ATTESTATION}: {e}")),
    };
    let mut report = SignatureReport::new(SignatureStatus::Verified);
    report.keyid = Some(key.keyid.clone());
    report.key = Some(key.source.clone());
    report.algorithm = Some(key.algorithm.name().to_string());
    report.signed_at = signed.finished.clone();
    report.builder = signed.builder.clone();
    for (name, file) in on_disk {
        match signed.subjects.get(name) {
            None => report.added.push(name.clone()),
            Some(expected) if *expected != file.sha256 => report.changed.push(name.clone()),
            Some(_) => {}
        }
    }
    for name in signed.subjects.keys() {
        if !on_disk.contains_key(name) {
            report.missing.push(name.clone());
        }
    }
    for (label, list) in [
        ("changed since it was signed", &report.changed),
        ("missing (it was signed)", &report.missing),
        ("added after signing", &report.added),
    ] {
        for name in list {
            report.problems.push(format!("{name}: {label}"));
        }
    }
    if !report.problems.is_empty() {
        report.status = SignatureStatus::Invalid;
    }
    report
}
