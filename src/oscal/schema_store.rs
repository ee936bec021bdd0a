//! Finds the official schemas on disk, checks each against the lock, and
//! compiles each once per run.
//!
//! Lookup order: `--schema-dir`, then `PROOFPACK_SCHEMA_DIR`, then the user's
//! cache (filled by `proofpack schemas fetch`). A folder holds one sub-folder
//! per release: `v1.1.3/oscal_assessment-results_schema.json`.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jsonschema::{Draft, PatternOptions, Validator};

use crate::json::schema_node::TapeJson;

use super::model::OscalVersion;
use super::schema_lock::SchemaLock;
use crate::hash::sha256_hex;

/// Environment variable naming a schema folder.
pub const SCHEMA_DIR_ENV: &str = "PROOFPACK_SCHEMA_DIR";
/// Environment variable overriding the cache folder (default: the OS cache dir).
pub const CACHE_DIR_ENV: &str = "PROOFPACK_CACHE_DIR";

/// Where a schema folder came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaOrigin {
    Flag,
    Env,
    Cache,
}

impl fmt::Display for SchemaOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Flag => "--schema-dir",
            Self::Env => SCHEMA_DIR_ENV,
            Self::Cache => "the schema cache",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "no OSCAL {version} schema `{file}` in {origin} ({path}).\n  \
         To get NIST's pinned schemas: proofpack schemas fetch --oscal-version {version}\n  \
         Or point --schema-dir DIR (or {SCHEMA_DIR_ENV}) at a folder that holds v{version}/{file}"
    )]
    NotFound {
        version: OscalVersion,
        file: String,
        origin: SchemaOrigin,
        path: PathBuf,
    },
    #[error(
        "{path}: SHA-256 {actual} differs from the pinned {expected} for OSCAL {version} `{file}`; \
         the file was edited or belongs to another release. Delete it and run \
         `proofpack schemas fetch --oscal-version {version}`"
    )]
    HashMismatch {
        path: PathBuf,
        version: OscalVersion,
        file: String,
        expected: String,
        actual: String,
    },
    #[error("OSCAL {version} `{file}` is not pinned in proofpack's schema lock")]
    NotPinned { version: OscalVersion, file: String },
    #[error("cannot read schema {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("schema {path} is not usable: {message}")]
    Unusable { path: PathBuf, message: String },
    #[error(
        "cannot find a cache directory on this system; set {CACHE_DIR_ENV} or pass --schema-dir"
    )]
    NoCacheDir,
}

/// The folder that `schemas fetch` fills and that lookups fall back to.
pub fn cache_schema_dir() -> Result<PathBuf, SchemaError> {
    if let Some(dir) = std::env::var_os(CACHE_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("oscal-schemas"));
    }
    dirs::cache_dir()
        .map(|d| d.join("proofpack").join("oscal-schemas"))
        .ok_or(SchemaError::NoCacheDir)
}

/// Picks the schema folder by the documented order.
pub fn locate_schema_dir(flag: Option<&Path>) -> Result<(PathBuf, SchemaOrigin), SchemaError> {
    if let Some(dir) = flag {
        return Ok((dir.to_path_buf(), SchemaOrigin::Flag));
    }
    if let Some(dir) = std::env::var_os(SCHEMA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok((PathBuf::from(dir), SchemaOrigin::Env));
    }
    Ok((cache_schema_dir()?, SchemaOrigin::Cache))
}

/// Reads a schema file and checks it against the lock.
pub fn read_verified(
    dir: &Path,
    origin: &SchemaOrigin,
    version: OscalVersion,
    file: &str,
) -> Result<Vec<u8>, SchemaError> {
    let entry =
        SchemaLock::embedded()
            .entry(version, file)
            .ok_or_else(|| SchemaError::NotPinned {
                version,
                file: file.to_string(),
            })?;
    let path = dir.join(version.dir_name()).join(file);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(SchemaError::NotFound {
                version,
                file: file.to_string(),
                origin: origin.clone(),
                path,
            })
        }
        Err(source) => return Err(SchemaError::Io { path, source }),
    };
    let actual = sha256_hex(&bytes);
    if actual != entry.sha256 {
        return Err(SchemaError::HashMismatch {
            path,
            version,
            file: file.to_string(),
            expected: entry.sha256.clone(),
            actual,
        });
    }
    Ok(bytes)
}

/// Validators over proofpack's compact document, by release and schema file.
type CompiledSchemas = HashMap<(OscalVersion, String), Arc<Validator<TapeJson>>>;

/// Compiled validators for one schema folder, built on first use.
pub struct SchemaStore {
    dir: PathBuf,
    origin: SchemaOrigin,
    compiled: Mutex<CompiledSchemas>,
}

impl SchemaStore {
    pub fn new(dir: PathBuf, origin: SchemaOrigin) -> Self {
        Self {
            dir,
            origin,
            compiled: Mutex::new(HashMap::new()),
        }
    }

    /// A store over the folder chosen by the lookup order.
    pub fn locate(flag: Option<&Path>) -> Result<Self, SchemaError> {
        let (dir, origin) = locate_schema_dir(flag)?;
        Ok(Self::new(dir, origin))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn origin(&self) -> &SchemaOrigin {
        &self.origin
    }

    /// The compiled validator for one pinned schema file.
    pub fn validator(
        &self,
        version: OscalVersion,
        file: &str,
    ) -> Result<Arc<Validator<TapeJson>>, SchemaError> {
        let key = (version, file.to_string());
        if let Some(found) = self.lock_cache().get(&key) {
            return Ok(Arc::clone(found));
        }
        let bytes = read_verified(&self.dir, &self.origin, version, file)?;
        let path = self.dir.join(version.dir_name()).join(file);
        let schema: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| SchemaError::Unusable {
                path: path.clone(),
                message: e.to_string(),
            })?;
        let validator = jsonschema::options_for::<TapeJson>()
            .with_draft(Draft::Draft7)
            // OSCAL's date-time, email and URI formats are part of the contract.
            .should_validate_formats(true)
            // OSCAL's patterns need no backtracking; the linear-time engine is
            // faster on large documents and immune to pathological input.
            .with_pattern_options(PatternOptions::regex())
            .build(&schema)
            .map_err(|e| SchemaError::Unusable {
                path,
                message: e.to_string(),
            })?;
        let validator = Arc::new(validator);
        self.lock_cache().insert(key, Arc::clone(&validator));
        Ok(validator)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, CompiledSchemas> {
        // A panic while holding the lock cannot leave the map half-updated
        // (insert is the only write), so a poisoned lock is still usable.
        self.compiled.lock().unwrap_or_else(|p| p.into_inner())
    }
}
