//! The lock of official OSCAL schemas: for each release and model, NIST's
//! download URL and the SHA-256 of the file. It is compiled into the binary,
//! so a schema on disk is trusted only if its bytes hash to the pinned value.

use serde::Deserialize;
use std::sync::OnceLock;

use super::model::OscalVersion;

const LOCK_JSON: &str = include_str!("../../oscal-schemas/oscal-schemas.lock.json");

/// One pinned schema file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LockEntry {
    pub oscal_version: String,
    /// The model's root key, or `complete` for the all-models schema.
    pub model: String,
    /// The file name of the release asset.
    pub file: String,
    pub url: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaLock {
    pub about: String,
    pub schemas: Vec<LockEntry>,
}

impl SchemaLock {
    /// The lock shipped with this build.
    pub fn embedded() -> &'static SchemaLock {
        static LOCK: OnceLock<SchemaLock> = OnceLock::new();
        LOCK.get_or_init(|| {
            // The lock is part of the source tree and checked by the unit test
            // below, so a parse failure here is a build defect, not user input.
            serde_json::from_str(LOCK_JSON).expect("oscal-schemas.lock.json is valid")
        })
    }

    /// The entry for one file of one release.
    pub fn entry(&self, version: OscalVersion, file: &str) -> Option<&LockEntry> {
        let wanted = version.to_string();
        self.schemas
            .iter()
            .find(|e| e.oscal_version == wanted && e.file == file)
    }

    /// Every pinned file of one release.
    pub fn entries_for(&self, version: OscalVersion) -> impl Iterator<Item = &LockEntry> {
        let wanted = version.to_string();
        self.schemas
            .iter()
            .filter(move |e| e.oscal_version == wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oscal::model::{OscalModel, COMPLETE_SCHEMA_FILE, SUPPORTED_VERSIONS};

    #[test]
    fn lock_covers_every_supported_release_and_model() {
        let lock = SchemaLock::embedded();
        for version in SUPPORTED_VERSIONS {
            for model in OscalModel::ALL {
                let entry = lock
                    .entry(version, model.schema_file())
                    .unwrap_or_else(|| panic!("{version} {model} missing from lock"));
                assert_eq!(entry.sha256.len(), 64);
                assert!(entry
                    .url
                    .starts_with("https://github.com/usnistgov/OSCAL/releases/download/v"));
                assert!(entry.url.ends_with(&format!("/v{version}/{}", entry.file)));
            }
            assert!(lock.entry(version, COMPLETE_SCHEMA_FILE).is_some());
            let schemas = lock
                .entries_for(version)
                .filter(|e| e.model != "metaschema")
                .count();
            assert_eq!(schemas, 8);
        }
    }

    #[test]
    fn lock_pins_the_metaschema_modules_at_the_release_commits() {
        let lock = SchemaLock::embedded();
        for (version, commit) in [
            ("1.1.3", "b123c11bd12c8b8f1bcc8bf85763e5775c0423e9"),
            ("1.2.1", "26df0501ccbd8cf0dad2a5f06f5f8e6237e2cd94"),
        ] {
            let version: OscalVersion = version.parse().unwrap();
            let modules: Vec<&LockEntry> = lock
                .entries_for(version)
                .filter(|e| e.model == "metaschema")
                .collect();
            assert!(modules
                .iter()
                .any(|e| e.file == "metaschema/oscal_complete_metaschema.xml"));
            assert!(modules
                .iter()
                .any(|e| e.file.starts_with("metaschema/shared-constraints/")));
            for entry in modules {
                let stem = entry.file.trim_start_matches("metaschema/");
                assert_eq!(
                    entry.url,
                    format!("https://raw.githubusercontent.com/usnistgov/OSCAL/{commit}/src/metaschema/{stem}")
                );
                assert_eq!(entry.sha256.len(), 64);
            }
        }
    }
}
