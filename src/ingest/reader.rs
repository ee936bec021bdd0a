//! Reads inputs into memory: files, directories (recursively, in a stable
//! order, as AWS and GCP lay logs out) and gzip files, with a limit on what
//! a file may decompress to (a gzip bomb stops there).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::size::format_bytes;

/// One input file's bytes.
pub struct InputFile {
    /// The path as the user gave it (or as found under a directory).
    pub name: String,
    pub bytes: Vec<u8>,
    /// Set when the file could not be read to its end (a truncated gzip):
    /// `bytes` holds what came before the break.
    pub truncated: Option<String>,
    /// For an object-store input: the object as it was read.
    pub object: Option<ObjectRead>,
}

/// An object-store object as read: what the manifest records of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectRead {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Size and SHA-256 of the object as stored (before gunzip).
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{reason}")]
    Http { path: String, reason: String },
    #[error("{path}: {reason}")]
    Store { path: String, reason: String },
    #[error("{path}: more than {limit} {what}; raise --max-size if this input is genuine")]
    TooLarge {
        path: String,
        limit: String,
        what: &'static str,
    },
}

/// One thing to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    File(PathBuf),
    Url(String),
    /// An object in S3, Cloud Storage or Azure Blob Storage, as listed.
    Object(super::store::StoreObject),
}

impl Target {
    /// Its size as known before reading (a URL's is not).
    pub fn known_size(&self) -> Option<u64> {
        match self {
            Target::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            Target::Url(_) => None,
            Target::Object(object) => Some(object.size),
        }
    }
}

/// Expands inputs as [`expand`] does, listing object-store prefixes with
/// the window (`since..until`, µs) pruning their date folders. A store
/// that cannot be listed, or a prefix with nothing under it, stops the run:
/// it is the input's fault, not a record's.
pub fn resolve(
    inputs: &[String],
    since: Option<i64>,
    until: Option<i64>,
) -> Result<Vec<Result<Target, ReadError>>, String> {
    let mut out = Vec::new();
    for input in inputs {
        if super::store::is_store_url(input) {
            let listing = super::store::list(input, since, until)?;
            out.extend(listing.objects.into_iter().map(|o| Ok(Target::Object(o))));
        } else {
            out.extend(expand(std::slice::from_ref(input)));
        }
    }
    Ok(out)
}

/// Hidden names that hold what proofpack reads: MCP client configurations
/// (`.vscode/mcp.json`, `.cursor/mcp.json`, Claude Code's `.mcp.json`).
const VISIBLE_DOT_NAMES: [&str; 3] = [".vscode", ".cursor", ".mcp.json"];

/// Expands inputs into what to read: URLs as they are, a directory's files
/// (any name; hidden files and folders are skipped, but for
/// [`VISIBLE_DOT_NAMES`]) in file-name order.
pub fn expand(inputs: &[String]) -> Vec<Result<Target, ReadError>> {
    let mut out = Vec::new();
    for input in inputs {
        if crate::http::is_url(input) {
            out.push(Ok(Target::Url(input.clone())));
            continue;
        }
        let path = &PathBuf::from(input);
        if path.is_dir() {
            let walker = walkdir::WalkDir::new(path)
                .follow_links(true)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    let name = e.file_name().to_string_lossy();
                    e.depth() == 0
                        || !name.starts_with('.')
                        || VISIBLE_DOT_NAMES.contains(&name.as_ref())
                });
            for entry in walker {
                match entry {
                    Ok(e) if e.file_type().is_file() => out.push(Ok(Target::File(e.into_path()))),
                    Ok(e) if e.file_type().is_dir() => {}
                    // A FIFO or device inside a log folder would block or
                    // never end if read; it is named, not read, not dropped.
                    Ok(e) => out.push(Err(ReadError::Io {
                        path: e.path().display().to_string(),
                        source: std::io::Error::other(
                            "not a regular file (a pipe, socket or device) inside an input folder: not read",
                        ),
                    })),
                    Err(e) => out.push(Err(ReadError::Io {
                        path: e.path().unwrap_or(path).display().to_string(),
                        source: e
                            .into_io_error()
                            .unwrap_or_else(|| std::io::Error::other("a symbolic link loops")),
                    })),
                }
            }
        } else {
            out.push(Ok(Target::File(path.clone())));
        }
    }
    out
}

/// Reads a target: a file from disk, or a URL over HTTP(S) with an optional
/// bearer token.
pub fn read_target(
    target: &Target,
    max_bytes: u64,
    bearer: Option<&str>,
) -> Result<InputFile, ReadError> {
    match target {
        Target::File(path) => read_file(path, max_bytes),
        Target::Object(object) => {
            if object.size > max_bytes {
                return Err(ReadError::TooLarge {
                    path: object.url.clone(),
                    limit: format_bytes(max_bytes),
                    what: "bytes in the store",
                });
            }
            let bytes =
                super::store::fetch(object, max_bytes).map_err(|reason| ReadError::Store {
                    path: object.url.clone(),
                    reason,
                })?;
            let read = ObjectRead {
                url: object.url.clone(),
                e_tag: object.e_tag.clone(),
                version: object.version.clone(),
                bytes: bytes.len() as u64,
                sha256: crate::hash::sha256_hex(&bytes),
            };
            let mut file = decode(object.url.clone(), bytes, max_bytes)?;
            file.object = Some(read);
            Ok(file)
        }
        Target::Url(url) => {
            let fetched = crate::http::client()
                .and_then(|client| crate::http::get(&client, url, max_bytes, bearer, false));
            match fetched {
                Ok(bytes) => decode(url.clone(), bytes, max_bytes),
                Err(e) => Err(ReadError::Http {
                    path: url.clone(),
                    reason: e.to_string(),
                }),
            }
        }
    }
}

/// Reads a file, decompressing gzip (by magic bytes, whatever the name).
pub fn read_file(path: &Path, max_bytes: u64) -> Result<InputFile, ReadError> {
    let name = path.display().to_string();
    let io = |source| ReadError::Io {
        path: name.clone(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    let too_large = |name: String, what| ReadError::TooLarge {
        path: name,
        limit: format_bytes(max_bytes),
        what,
    };
    if size > max_bytes {
        return Err(too_large(name, "bytes on disk"));
    }
    // The limit holds while reading too: a log still being appended to, or
    // a pipe or device named on the command line, says nothing true
    // about its size beforehand.
    let mut bytes = Vec::with_capacity(size as usize);
    std::fs::File::open(path)
        .and_then(|file| file.take(max_bytes + 1).read_to_end(&mut bytes))
        .map_err(io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(name, "bytes as read (it grew, or never ends)"));
    }
    decode(name, bytes, max_bytes)
}

/// Decompresses gzip content; passes anything else through.
/// Windows tools (PowerShell's `Out-File`, Excel) start UTF-8 text with a
/// byte-order mark; no JSON or YAML parser wants it. Positions in such a file
/// count from after the mark.
fn without_bom(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.starts_with(&[0xef, 0xbb, 0xbf]) {
        bytes.drain(..3);
    }
    bytes
}

pub fn decode(name: String, bytes: Vec<u8>, max_bytes: u64) -> Result<InputFile, ReadError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(InputFile {
            name,
            bytes: without_bom(bytes),
            truncated: None,
            object: None,
        });
    }
    let mut out = Vec::with_capacity(bytes.len() * 8);
    let mut decoder = flate2::read::MultiGzDecoder::new(&bytes[..]).take(max_bytes + 1);
    let truncated = match decoder.read_to_end(&mut out) {
        Ok(_) => None,
        Err(e) => Some(format!(
            "the gzip stream breaks off after {} decompressed bytes ({e}); records before the break were read",
            out.len()
        )),
    };
    if out.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge {
            path: name,
            limit: format_bytes(max_bytes),
            what: "bytes once decompressed",
        });
    }
    Ok(InputFile {
        name,
        bytes: without_bom(out),
        truncated,
        object: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_file_that_vanishes_after_listing_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trail.json");
        std::fs::write(&path, "{}").unwrap();
        let targets = expand(&[dir.path().display().to_string()]);
        std::fs::remove_file(&path).unwrap();
        let target = targets.into_iter().next().unwrap().unwrap();
        let Err(e) = read_target(&target, 1 << 20, None) else {
            panic!("a vanished file was read");
        };
        assert!(e.to_string().contains("trail.json"), "{e}");
    }

    #[test]
    fn a_byte_order_mark_is_dropped() {
        let f = decode("a.json".into(), b"\xef\xbb\xbf{\"a\": 1}".to_vec(), 1 << 20).unwrap();
        assert_eq!(f.bytes, b"{\"a\": 1}");
        let f = decode("b.json".into(), gzip(b"\xef\xbb\xbf[1]"), 1 << 20).unwrap();
        assert_eq!(f.bytes, b"[1]");
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn passes_plain_text_and_decompresses_gzip() {
        let plain = decode("a".into(), b"{}".to_vec(), 100).unwrap();
        assert_eq!(plain.bytes, b"{}");
        let unzipped = decode("a.gz".into(), gzip(b"{\"x\": 1}\n"), 100).unwrap();
        assert_eq!(unzipped.bytes, b"{\"x\": 1}\n");
        assert!(unzipped.truncated.is_none());
    }

    #[test]
    fn truncated_gzip_keeps_what_came_before() {
        let data: Vec<u8> = (0..2000)
            .flat_map(|i| format!("{{\"n\": {i}}}\n").into_bytes())
            .collect();
        let zipped = gzip(&data);
        let cut = decode("t.gz".into(), zipped[..zipped.len() / 2].to_vec(), 1 << 20).unwrap();
        assert!(cut.truncated.as_deref().unwrap().contains("breaks off"));
        assert!(!cut.bytes.is_empty() && cut.bytes.len() < data.len());
        assert_eq!(&data[..cut.bytes.len()], &cut.bytes[..]);
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_limit() {
        let zipped = gzip(&vec![b' '; 10 << 20]);
        assert!(zipped.len() < 100_000);
        assert!(matches!(
            decode("bomb.gz".into(), zipped, 1 << 20),
            Err(ReadError::TooLarge { .. })
        ));
    }
}
