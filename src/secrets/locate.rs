//! Finding and pinning gitleaks' rule file, as the OSCAL schemas are: the
//! lock (`secret-rules/secret-rules.lock.json`, compiled in) names its URL
//! and SHA-256; a file is used only if its bytes hash to the pinned value.
//!
//! Lookup order: `--secret-rules FILE`, then `PROOFPACK_SECRET_RULES`, then
//! the cache that `proofpack schemas fetch` fills
//! (`$PROOFPACK_CACHE_DIR/secret-rules/gitleaks.toml`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;

use super::rules::{RuleSet, PROOFPACK_RULES};
use crate::hash::sha256_hex;
use crate::oscal::schema_store::CACHE_DIR_ENV;

const LOCK_JSON: &str = include_str!("../../secret-rules/secret-rules.lock.json");
/// Environment variable naming gitleaks' rule file.
pub const SECRET_RULES_ENV: &str = "PROOFPACK_SECRET_RULES";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RuleLockEntry {
    pub name: String,
    pub file: String,
    pub release: String,
    pub url: String,
    pub sha256: String,
    pub bytes: u64,
    pub licence: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RuleLock {
    pub about: String,
    pub rule_sets: Vec<RuleLockEntry>,
}

impl RuleLock {
    pub fn embedded() -> &'static RuleLock {
        static LOCK: OnceLock<RuleLock> = OnceLock::new();
        // Part of the source tree and checked by the unit test below.
        LOCK.get_or_init(|| serde_json::from_str(LOCK_JSON).expect("secret-rules lock is valid"))
    }

    pub fn gitleaks(&self) -> &RuleLockEntry {
        self.rule_sets
            .iter()
            .find(|e| e.name == "gitleaks")
            .expect("the lock pins gitleaks")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    #[error(
        "the secret gate needs gitleaks' rule file (pinned sha256:{sha256}) and none was found \
         (looked at {looked}). Run `proofpack schemas fetch` once, or pass --secret-rules FILE \
         (or set {SECRET_RULES_ENV}) with a copy of {url}"
    )]
    Missing {
        looked: String,
        sha256: String,
        url: String,
    },
    #[error("cannot read the secret rules {path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error(
        "refused the secret rules {path}: its SHA-256 {actual} differs from the pinned {expected} \
         ({release}). Use the pinned file unchanged; proofpack's own rules are in \
         secret-rules/proofpack.toml"
    )]
    Mismatch {
        path: PathBuf,
        actual: String,
        expected: String,
        release: String,
    },
    #[error(transparent)]
    Rules(#[from] super::rules::RulesError),
}

/// Where `schemas fetch` keeps the rule file.
pub fn cache_path() -> Option<PathBuf> {
    let file = &RuleLock::embedded().gitleaks().file;
    if let Some(dir) = std::env::var_os(CACHE_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("secret-rules").join(file));
    }
    dirs::cache_dir().map(|d| d.join("proofpack").join("secret-rules").join(file))
}

/// The rule file by the documented order.
pub fn locate(flag: Option<&Path>) -> Result<PathBuf, LocateError> {
    if let Some(path) = flag {
        return Ok(path.to_path_buf());
    }
    if let Some(path) = std::env::var_os(SECRET_RULES_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let cached = cache_path();
    if let Some(path) = cached.as_ref().filter(|p| p.is_file()) {
        return Ok(path.clone());
    }
    let entry = RuleLock::embedded().gitleaks();
    Err(LocateError::Missing {
        looked: format!(
            "--secret-rules, {SECRET_RULES_ENV}, {}",
            cached.map_or("no cache folder".into(), |p| p.display().to_string())
        ),
        sha256: entry.sha256.clone(),
        url: entry.url.clone(),
    })
}

/// Reads and verifies the pinned file, and compiles it with proofpack's
/// own rules.
pub fn load(flag: Option<&Path>) -> Result<RuleSet, LocateError> {
    let path = locate(flag)?;
    let bytes = std::fs::read(&path).map_err(|e| LocateError::Io {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let entry = RuleLock::embedded().gitleaks();
    let actual = sha256_hex(&bytes);
    if actual != entry.sha256 {
        return Err(LocateError::Mismatch {
            path,
            actual,
            expected: entry.sha256.clone(),
            release: entry.release.clone(),
        });
    }
    let text = String::from_utf8(bytes).map_err(|e| LocateError::Io {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    Ok(RuleSet::compile(&[
        (entry.file.as_str(), text.as_str()),
        ("proofpack.toml", PROOFPACK_RULES),
    ])?)
}

/// Refuses an allowed rule id the rule set does not have (a typo would
/// otherwise allow nothing, silently).
pub fn check_allowed(rules: &RuleSet, allowed: &[String]) -> Result<(), String> {
    for id in allowed {
        if !rules.has(id) {
            return Err(format!(
                "--allow-secret-rule {id}: no such rule in the secret rules in force ({})",
                rules
                    .sources
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(())
}

/// Downloads the pinned rule file into the cache (or `dest`), verifying
/// its SHA-256 before anything is written. Returns the path and whether it
/// was downloaded (false: already present and intact).
pub fn fetch(dest: Option<&Path>, mirror: Option<&str>) -> Result<(PathBuf, bool), String> {
    let entry = RuleLock::embedded().gitleaks();
    let path = match dest {
        Some(dir) => dir.join("secret-rules").join(&entry.file),
        None => cache_path().ok_or("no cache folder on this system; set PROOFPACK_CACHE_DIR")?,
    };
    if std::fs::read(&path).is_ok_and(|b| sha256_hex(&b) == entry.sha256) {
        return Ok((path, false));
    }
    let url = match mirror {
        Some(base) => format!("{}/secret-rules/{}", base.trim_end_matches('/'), entry.file),
        None => entry.url.clone(),
    };
    let client = crate::http::client().map_err(|e| e.to_string())?;
    let body =
        crate::http::get(&client, &url, entry.bytes, None, true).map_err(|e| e.to_string())?;
    let actual = sha256_hex(&body);
    if actual != entry.sha256 {
        return Err(format!(
            "refused {url}: its SHA-256 {actual} differs from the pinned {}; nothing was written",
            entry.sha256
        ));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut temp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::io::Write::write_all(&mut temp, &body).map_err(|e| format!("{}: {e}", path.display()))?;
    temp.persist(&path)
        .map_err(|e| format!("{}: {}", path.display(), e.error))?;
    Ok((path, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_pins_gitleaks_and_the_shared_copy_matches_it() {
        let entry = RuleLock::embedded().gitleaks();
        assert_eq!(entry.sha256.len(), 64);
        assert!(entry
            .url
            .starts_with("https://raw.githubusercontent.com/gitleaks/gitleaks/"));
        let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/secrets/gitleaks.toml");
        if shared.is_file() {
            let set = load(Some(&shared)).unwrap();
            assert!(set.len() > 200);
        }
        let dir = tempfile::tempdir().unwrap();
        let edited = dir.path().join("gitleaks.toml");
        std::fs::write(&edited, "title = \"edited\"\n").unwrap();
        assert!(matches!(
            load(Some(&edited)),
            Err(LocateError::Mismatch { .. })
        ));
    }
}
