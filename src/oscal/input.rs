//! Turns the PATH arguments of `validate` into documents to read: files,
//! directories (recursively, their `.json` files in a stable order) and `-`
//! for standard input. Sizes are checked before anything is read.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::size::format_bytes;

/// One document to validate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file named on the command line: anything in it is reported.
    File(PathBuf),
    /// A `.json` file found inside a directory: skipped if it is not OSCAL.
    Discovered(PathBuf),
    Stdin,
}

impl Source {
    pub fn display_name(&self) -> String {
        match self {
            Source::File(p) | Source::Discovered(p) => p.display().to_string(),
            Source::Stdin => "<stdin>".to_string(),
        }
    }

    /// The folder relative hrefs resolve against.
    pub fn base_dir(&self) -> Option<PathBuf> {
        match self {
            Source::File(p) | Source::Discovered(p) => {
                let parent = p.parent().unwrap_or(Path::new("."));
                Some(if parent.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    parent.to_path_buf()
                })
            }
            Source::Stdin => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {size} is over the {limit} limit; if this document is genuine, raise it with --max-size")]
    TooLarge {
        path: String,
        size: String,
        limit: String,
    },
}

impl InputError {
    pub fn path(&self) -> &str {
        match self {
            InputError::Io { path, .. } | InputError::TooLarge { path, .. } => path,
        }
    }

    /// The message without the path.
    pub fn reason(&self) -> String {
        match self {
            InputError::Io { source, .. } => source.to_string(),
            InputError::TooLarge { .. } => {
                let full = self.to_string();
                full.strip_prefix(&format!("{}: ", self.path()))
                    .unwrap_or(&full)
                    .to_string()
            }
        }
    }

    pub fn is_too_large(&self) -> bool {
        matches!(self, InputError::TooLarge { .. })
    }
}

/// Expands the PATH arguments. Errors (a path that does not exist, an
/// unreadable directory) are returned in place so every other input is
/// still validated.
pub fn expand(paths: &[PathBuf]) -> Vec<Result<Source, InputError>> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            out.push(Ok(Source::Stdin));
            continue;
        }
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => expand_dir(path, &mut out),
            Ok(_) => out.push(Ok(Source::File(path.clone()))),
            Err(source) => out.push(Err(InputError::Io {
                path: path.display().to_string(),
                source,
            })),
        }
    }
    out
}

fn expand_dir(dir: &Path, out: &mut Vec<Result<Source, InputError>>) {
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walker {
        match entry {
            Ok(entry) => {
                let is_json = entry
                    .path()
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e.eq_ignore_ascii_case("json"));
                if entry.file_type().is_file() && is_json {
                    out.push(Ok(Source::Discovered(entry.into_path())));
                }
            }
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| dir.display().to_string());
                let source = e.into_io_error().unwrap_or_else(|| {
                    std::io::Error::other("a symbolic link loops back on itself")
                });
                out.push(Err(InputError::Io { path, source }));
            }
        }
    }
}

/// Reads a source whole, refusing anything over `max_bytes` before reading
/// it (for stdin, as soon as the limit is passed).
pub fn read_source(source: &Source, max_bytes: u64) -> Result<Vec<u8>, InputError> {
    let name = source.display_name();
    let too_large = |size: u64| InputError::TooLarge {
        path: name.clone(),
        size: format_bytes(size),
        limit: format_bytes(max_bytes),
    };
    let io = |source| InputError::Io {
        path: name.clone(),
        source,
    };
    match source {
        Source::File(path) | Source::Discovered(path) => {
            let size = std::fs::metadata(path).map_err(io)?.len();
            if size > max_bytes {
                return Err(too_large(size));
            }
            std::fs::read(path).map_err(io)
        }
        Source::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .lock()
                .take(max_bytes + 1)
                .read_to_end(&mut bytes)
                .map_err(io)?;
            if bytes.len() as u64 > max_bytes {
                return Err(too_large(bytes.len() as u64));
            }
            Ok(bytes)
        }
    }
}
