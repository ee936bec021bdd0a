//! `proofpack schemas fetch`: downloads NIST's schema release assets named in
//! the lock, verifies each SHA-256 before anything is written, and stores them
//! atomically (temp file, then rename) in the schema folder.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::model::OscalVersion;
use super::schema_lock::{LockEntry, SchemaLock};
use crate::hash::sha256_hex;

/// Environment variable naming a mirror of NIST's release assets.
pub const MIRROR_ENV: &str = "PROOFPACK_SCHEMA_MIRROR";

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(
        "{0}; nothing was written.\n  Check the network or proxy (HTTPS_PROXY), use --mirror URL \
         for an internal copy of NIST's release assets, or copy the schemas by hand and pass --schema-dir"
    )]
    Download(crate::http::HttpError),
    #[error(
        "refused {url}: its SHA-256 {actual} differs from the pinned {expected} for OSCAL {version} `{file}`; \
         nothing was written. The download was altered in transit or the mirror serves another file"
    )]
    HashMismatch {
        url: String,
        version: String,
        file: String,
        expected: String,
        actual: String,
    },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// Already present with the pinned hash; not downloaded again.
    AlreadyPresent,
    Downloaded,
}

#[derive(Debug, Clone)]
pub struct FetchedFile {
    pub version: String,
    pub file: String,
    pub path: PathBuf,
    pub outcome: FetchOutcome,
}

/// The download URL of an entry, from the mirror when one is given.
pub fn entry_url(entry: &LockEntry, mirror: Option<&str>) -> String {
    match mirror {
        Some(base) => format!(
            "{}/v{}/{}",
            base.trim_end_matches('/'),
            entry.oscal_version,
            entry.file
        ),
        None => entry.url.clone(),
    }
}

/// Fetches every pinned file of `versions` into `dest` (`dest/vX.Y.Z/FILE`).
/// `on_file` is told about each file as it completes.
pub fn fetch_schemas(
    versions: &[OscalVersion],
    dest: &Path,
    mirror: Option<&str>,
    mut on_file: impl FnMut(&FetchedFile),
) -> Result<Vec<FetchedFile>, FetchError> {
    let client = crate::http::client().map_err(FetchError::Download)?;
    let lock = SchemaLock::embedded();
    let mut done = Vec::new();
    let mut wanted: Vec<&LockEntry> = Vec::new();
    for &version in versions {
        // A release's documents are judged by the constraints of the
        // Metaschema release that serves it (1.1.2 → 1.1.3), so those
        // modules come along.
        let constraints = crate::oscal::constraints::metaschema_version(version);
        let entries = lock.entries_for(version).chain(
            lock.entries_for(constraints)
                .filter(|e| e.model == "metaschema"),
        );
        for entry in entries {
            if !wanted
                .iter()
                .any(|w| w.oscal_version == entry.oscal_version && w.file == entry.file)
            {
                wanted.push(entry);
            }
        }
    }
    for entry in wanted {
        let fetched = fetch_one(&client, entry, dest, mirror)?;
        on_file(&fetched);
        done.push(fetched);
    }
    Ok(done)
}

fn fetch_one(
    client: &reqwest::blocking::Client,
    entry: &LockEntry,
    dest: &Path,
    mirror: Option<&str>,
) -> Result<FetchedFile, FetchError> {
    let dir = dest.join(format!("v{}", entry.oscal_version));
    let path = dir.join(&entry.file);
    let fetched = |outcome| FetchedFile {
        version: entry.oscal_version.clone(),
        file: entry.file.clone(),
        path: path.clone(),
        outcome,
    };
    if let Ok(existing) = std::fs::read(&path) {
        if sha256_hex(&existing) == entry.sha256 {
            return Ok(fetched(FetchOutcome::AlreadyPresent));
        }
    }
    let url = entry_url(entry, mirror);
    // One byte more than pinned is read, so an overlong answer fails the hash.
    let body =
        crate::http::get(client, &url, entry.bytes, None, true).map_err(FetchError::Download)?;
    let actual = sha256_hex(&body);
    if actual != entry.sha256 {
        return Err(FetchError::HashMismatch {
            url,
            version: entry.oscal_version.clone(),
            file: entry.file.clone(),
            expected: entry.sha256.clone(),
            actual,
        });
    }
    write_atomically(&dir, &path, &body)?;
    Ok(fetched(FetchOutcome::Downloaded))
}

fn write_atomically(dir: &Path, path: &Path, body: &[u8]) -> Result<(), FetchError> {
    let io = |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    };
    // Metaschema modules sit in sub-folders (`metaschema/shared-constraints/`).
    let dir = path.parent().unwrap_or(dir);
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    temp.write_all(body).map_err(io)?;
    temp.as_file().sync_all().map_err(io)?;
    temp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_urls_keep_the_release_layout() {
        let lock = SchemaLock::embedded();
        let entry = lock
            .entry(OscalVersion::new(1, 1, 3), "oscal_ssp_schema.json")
            .unwrap();
        assert_eq!(
            entry_url(entry, Some("http://127.0.0.1:9/mirror/")),
            "http://127.0.0.1:9/mirror/v1.1.3/oscal_ssp_schema.json"
        );
        assert_eq!(entry_url(entry, None), entry.url);
    }
}
