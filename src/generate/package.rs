//! The package on disk: its manifest (every file's SHA-256 and size, the
//! tool version, the config hash, each input's SHA-256 and record counts)
//! and `verify`, which re-hashes everything and reports changed, missing and
//! extra files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const MANIFEST: &str = "manifest.json";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InputEntry {
    /// As the config names it (after glob expansion).
    pub path: String,
    /// SHA-256 of the input's bytes (of each file, for a directory); empty
    /// for URLs, whose bytes are hashed per record in the evidence.
    pub sha256: String,
    pub bytes: u64,
    /// Rows per evidence table whose raw reference is this input.
    pub records: BTreeMap<String, u64>,
    /// For an object-store prefix: every object read under it, with its
    /// ETag or version, size and SHA-256 as stored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<crate::ingest::reader::ObjectRead>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    pub created: String,
    pub config_sha256: String,
    pub oscal_version: String,
    pub since: String,
    pub until: String,
    pub inputs: Vec<InputEntry>,
    pub files: Vec<FileEntry>,
    /// How each document was validated.
    pub validation: BTreeMap<String, String>,
    /// What only the provider can supply and the config does not.
    pub missing: Vec<String>,
    /// What the secret gate read, and with which rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_gate: Option<crate::secrets::gate::GateRecord>,
    /// Evidence tables written without a CSV copy, each with its rows and
    /// why: the Parquet file is the table, and findings cite rows in it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub csv_omitted: BTreeMap<String, String>,
}

/// Every file under `root` except the manifest and the signed attestation
/// (which covers the manifest), as sorted relative paths.
pub fn list_files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.map_err(std::io::Error::other)?;
        // A link is listed too (never followed): in a package received
        // from elsewhere it is content the manifest does not vouch for.
        if entry.file_type().is_file() || entry.file_type().is_symlink() {
            let rel = entry
                .path()
                .strip_prefix(root)
                .map_err(std::io::Error::other)?
                .to_path_buf();
            if rel != Path::new(MANIFEST) && rel != Path::new(crate::attest::ATTESTATION) {
                out.push(rel);
            }
        }
    }
    Ok(out)
}

pub fn slash(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

pub fn hash_files(root: &Path) -> std::io::Result<Vec<FileEntry>> {
    list_files(root)?
        .into_iter()
        .map(|rel| {
            let (sha256, bytes) = crate::hash::sha256_file_hex(&root.join(&rel))?;
            Ok(FileEntry {
                path: slash(&rel),
                sha256,
                bytes,
            })
        })
        .collect()
}

/// What `verify` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verification {
    pub files: usize,
    pub changed: Vec<String>,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
}

impl Verification {
    pub fn intact(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }
}

pub fn read_manifest(root: &Path) -> Result<Manifest, String> {
    let path = root.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a proofpack manifest: {e}", path.display()))
}

/// Every file of a package but the signed envelope, the manifest
/// included, with its SHA-256 and size: read and hashed once for both of
/// `verify`'s checks. A file that cannot be read has an empty hash.
pub fn on_disk(root: &Path) -> Result<BTreeMap<String, FileEntry>, String> {
    let mut paths = list_files(root).map_err(|e| format!("{}: {e}", root.display()))?;
    if root.join(MANIFEST).is_file() {
        paths.push(MANIFEST.into());
    }
    Ok(paths
        .into_iter()
        .map(|rel| {
            let path = slash(&rel);
            let full = root.join(&rel);
            // A link has no hash: listed, it is changed or missing; not
            // listed, it is extra. What it points at is never read.
            let is_link =
                std::fs::symlink_metadata(&full).is_ok_and(|m| m.file_type().is_symlink());
            let (sha256, bytes) = if is_link {
                Default::default()
            } else {
                crate::hash::sha256_file_hex(&full).unwrap_or_default()
            };
            (
                path.clone(),
                FileEntry {
                    path,
                    sha256,
                    bytes,
                },
            )
        })
        .collect())
}

pub fn verify_files(manifest: &Manifest, on_disk: &BTreeMap<String, FileEntry>) -> Verification {
    let mut out = Verification {
        files: manifest.files.len(),
        ..Verification::default()
    };
    let listed: BTreeMap<&str, &FileEntry> = manifest
        .files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    for entry in &manifest.files {
        match on_disk.get(&entry.path) {
            Some(found) if !found.sha256.is_empty() => {
                if found.sha256 != entry.sha256 || found.bytes != entry.bytes {
                    out.changed.push(entry.path.clone());
                }
            }
            _ => out.missing.push(entry.path.clone()),
        }
    }
    for path in on_disk.keys() {
        if path != MANIFEST && !listed.contains_key(path.as_str()) {
            out.extra.push(path.clone());
        }
    }
    out
}
