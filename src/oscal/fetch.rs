//! `proofpack schemas fetch`: downloads NIST's schema release assets named in
//! the lock, verifies each SHA-256 before anything is written, and stores them
//! atomically (temp file, then rename) in the schema folder.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::model::OscalVersion;
use super::schema_lock::{LockEntry, SchemaLock};
use crate::hash::sha256_hex;

/// Environment variable naming a mirror of NIST's release assets.
pub const MIRROR_ENV: &str = "PROOFPACK_SCHEMA_MIRROR";

const ATTEMPTS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(
        "could not download {url}: {reason}.\n  Check the network or proxy (HTTPS_PROXY), use --mirror URL \
         for an internal copy of NIST's release assets, or copy the schemas by hand and pass --schema-dir"
    )]
    Unreachable { url: String, reason: String },
    #[error("{url} answered HTTP {status}; nothing was written")]
    HttpStatus { url: String, status: u16 },
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
    #[error("cannot start an HTTP client: {0}")]
    Client(String),
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
    let client = reqwest::blocking::Client::builder()
        .user_agent(concat!("proofpack/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| FetchError::Client(e.to_string()))?;
    let lock = SchemaLock::embedded();
    let mut done = Vec::new();
    for &version in versions {
        for entry in lock.entries_for(version) {
            let fetched = fetch_one(&client, entry, dest, mirror)?;
            on_file(&fetched);
            done.push(fetched);
        }
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
    let body = download(client, &url, entry.bytes)?;
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

/// GET with retries on connection failures and server errors (not on 4xx).
/// Reads at most one byte more than the pinned size, so a huge or endless
/// answer is cut short and then fails the hash check.
fn download(
    client: &reqwest::blocking::Client,
    url: &str,
    pinned_bytes: u64,
) -> Result<Vec<u8>, FetchError> {
    let mut last_error = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(250 * 2u64.pow(attempt)));
        }
        let response = match client.get(url).send() {
            Ok(response) => response,
            Err(e) => {
                last_error = Some(FetchError::Unreachable {
                    url: url.to_string(),
                    reason: describe_reqwest_error(&e),
                });
                continue;
            }
        };
        let status = response.status();
        if status.is_server_error() {
            last_error = Some(FetchError::HttpStatus {
                url: url.to_string(),
                status: status.as_u16(),
            });
            continue;
        }
        if !status.is_success() {
            return Err(FetchError::HttpStatus {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let mut body = Vec::new();
        match response.take(pinned_bytes + 1).read_to_end(&mut body) {
            Ok(_) => return Ok(body),
            Err(e) => {
                last_error = Some(FetchError::Unreachable {
                    url: url.to_string(),
                    reason: format!("the transfer broke off: {e}"),
                })
            }
        }
    }
    Err(last_error.unwrap_or_else(|| FetchError::Unreachable {
        url: url.to_string(),
        reason: "no attempt was made".to_string(),
    }))
}

/// reqwest's own message hides the cause (connection refused, DNS); show it.
fn describe_reqwest_error(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn write_atomically(dir: &Path, path: &Path, body: &[u8]) -> Result<(), FetchError> {
    let io = |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    };
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
