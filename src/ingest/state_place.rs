//! Where a state folder lives: a local (or shared-volume) folder, or an
//! object-store prefix (`s3://`, `gs://`, `az://`) that workers on any
//! scheduler can share. Files are named by `/`-separated paths relative
//! to it; a write is all or nothing (a rename on disk, a single PUT in a
//! store).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

pub enum Place {
    Local(PathBuf),
    Store {
        store: Arc<dyn ObjectStore>,
        prefix: StorePath,
        /// The prefix as the user gave it, for messages.
        url: String,
    },
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Local(dir) => write!(f, "{}", dir.display()),
            Place::Store { url, .. } => f.write_str(url),
        }
    }
}

impl Place {
    pub fn new(location: &Path) -> Result<Place, String> {
        let text = location.to_string_lossy();
        if super::store::is_store_url(&text) {
            let (store, prefix, _) = super::store::open_prefix(&text)?;
            Ok(Place::Store {
                store,
                prefix,
                url: text.trim_end_matches('/').to_string(),
            })
        } else {
            std::fs::create_dir_all(location)
                .map_err(|e| format!("{}: {e}", location.display()))?;
            Ok(Place::Local(location.to_path_buf()))
        }
    }

    fn key(prefix: &StorePath, relative: &str) -> StorePath {
        relative
            .split('/')
            .fold(prefix.clone(), |path, part| path.clone().join(part))
    }

    /// The names of the files directly inside `folder`.
    pub fn list(&self, folder: &str) -> Result<Vec<String>, String> {
        match self {
            Place::Local(dir) => {
                let path = dir.join(folder);
                if !path.exists() {
                    return Ok(Vec::new());
                }
                let mut names = Vec::new();
                for entry in
                    std::fs::read_dir(&path).map_err(|e| format!("{}: {e}", path.display()))?
                {
                    let entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
                    names.push(entry.file_name().to_string_lossy().into_owned());
                }
                Ok(names)
            }
            Place::Store { store, prefix, url } => {
                let at = Self::key(prefix, folder);
                let listed = super::store::block_on(store.list_with_delimiter(Some(&at)))
                    .map_err(|e| format!("{url}/{folder}: cannot list: {e}"))?;
                Ok(listed
                    .objects
                    .into_iter()
                    .filter_map(|o| o.location.filename().map(str::to_string))
                    .collect())
            }
        }
    }

    pub fn read(&self, relative: &str) -> Result<Vec<u8>, String> {
        match self {
            Place::Local(dir) => {
                let path = dir.join(relative);
                std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
            }
            Place::Store { store, prefix, url } => {
                let key = Self::key(prefix, relative);
                super::store::block_on(async {
                    store.get(&key).await?.bytes().await.map(|b| b.to_vec())
                })
                .map_err(|e| format!("{url}/{relative}: {e}"))
            }
        }
    }

    /// Writes a file whole: beside its name then renamed on disk, one PUT
    /// in a store.
    pub fn write(&self, relative: &str, bytes: &[u8]) -> Result<(), String> {
        match self {
            Place::Local(dir) => {
                let path = dir.join(relative);
                let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
                let folder = path.parent().unwrap_or(dir);
                std::fs::create_dir_all(folder).map_err(|e| fail(&e))?;
                let mut staged = tempfile::NamedTempFile::new_in(folder).map_err(|e| fail(&e))?;
                std::io::Write::write_all(&mut staged, bytes).map_err(|e| fail(&e))?;
                staged.persist(&path).map_err(|e| fail(&e.error))?;
                Ok(())
            }
            Place::Store { store, prefix, url } => {
                let key = Self::key(prefix, relative);
                let payload = PutPayload::from(bytes.to_vec());
                super::store::block_on(store.put(&key, payload))
                    .map(|_| ())
                    .map_err(|e| format!("{url}/{relative}: cannot write: {e}"))
            }
        }
    }

    /// Removes a file; one already gone is not an error.
    pub fn remove(&self, relative: &str) {
        match self {
            Place::Local(dir) => {
                let _ = std::fs::remove_file(dir.join(relative));
            }
            Place::Store { store, prefix, .. } => {
                let key = Self::key(prefix, relative);
                let _ = super::store::block_on(store.delete(&key));
            }
        }
    }
}
