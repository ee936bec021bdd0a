//! The schema lock and `proofpack schemas fetch`, against a real HTTP server
//! on 127.0.0.1 that serves the official files from `../shared`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use sha2::Digest;

use crate::util::*;

fn lock() -> Value {
    read_json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("oscal-schemas/oscal-schemas.lock.json"))
}

fn sha256(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The lock's hashes are those of NIST's files in ../shared, byte for byte,
/// and every file there is pinned.
#[test]
fn lock_hashes_equal_the_official_files() {
    let lock = lock();
    let entries = lock["schemas"].as_array().unwrap();
    let (modules, schemas): (Vec<&Value>, Vec<&Value>) =
        entries.iter().partition(|e| e["model"] == "metaschema");
    assert_eq!(schemas.len(), 32);
    // NIST's Metaschema modules of 1.1.3 and 1.2.1 with their entity files.
    assert_eq!(modules.len(), 49);
    for entry in entries {
        let version = entry["oscal-version"].as_str().unwrap();
        let file = entry["file"].as_str().unwrap();
        let path = local_copy(version, file);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            entry["sha256"],
            sha256(&bytes).as_str(),
            "{}",
            path.display()
        );
        assert_eq!(entry["bytes"], bytes.len(), "{}", path.display());
        if entry["model"] != "metaschema" {
            assert_eq!(
                entry["url"].as_str().unwrap(),
                format!("https://github.com/usnistgov/OSCAL/releases/download/v{version}/{file}")
            );
        }
    }
    for version in std::fs::read_dir(schema_dir()).unwrap() {
        for file in std::fs::read_dir(version.unwrap().path()).unwrap() {
            let name = file.unwrap().file_name().into_string().unwrap();
            assert!(
                entries.iter().any(|e| e["file"] == name.as_str()),
                "{name} is not pinned"
            );
        }
    }
}

/// Where ../shared holds a pinned file: schemas under `schemas/vX/`,
/// Metaschema modules under `metaschema/X/`.
fn local_copy(version: &str, file: &str) -> PathBuf {
    match file.strip_prefix("metaschema/") {
        Some(module) => shared().join("oscal/metaschema").join(version).join(module),
        None => schema_dir().join(format!("v{version}")).join(file),
    }
}

/// Serves `../shared/oscal/schemas` as a mirror; `tamper` names a file whose
/// bytes are altered in transit. Stops when the returned guard drops.
struct Mirror {
    url: String,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Mirror {
    fn start(tamper: Option<&'static str>) -> Mirror {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let serving = Arc::clone(&server);
        let thread = std::thread::spawn(move || {
            for request in serving.incoming_requests() {
                let relative = request.url().trim_start_matches('/').to_string();
                let path: PathBuf = match relative.split_once('/') {
                    // The secret gate's pinned rules sit beside the schemas.
                    Some(("secret-rules", file)) => shared().join("secrets").join(file),
                    Some((version, file)) => local_copy(version.trim_start_matches('v'), file),
                    None => schema_dir().join(&relative),
                };
                let response = match std::fs::read(&path) {
                    Ok(mut bytes) => {
                        if tamper.is_some_and(|t| relative.ends_with(t)) {
                            let at = bytes.len() / 2;
                            bytes[at] ^= 0x20;
                        }
                        tiny_http::Response::from_data(bytes).with_status_code(200)
                    }
                    Err(_) => {
                        tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404)
                    }
                };
                let _ = request.respond(response);
            }
        });
        Mirror {
            url,
            server,
            thread: Some(thread),
        }
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `schemas fetch --oscal-version 1.1.2` from `mirror` into the cache at `cache`.
fn fetch_into_cache(cache: &Path, mirror: &str) -> std::process::Output {
    run(proofpack(cache).env_remove("PROOFPACK_SCHEMA_DIR").args([
        "schemas",
        "fetch",
        "--oscal-version",
        "1.1.2",
        "--mirror",
        mirror,
    ]))
}

#[test]
fn fetch_verifies_and_stores_in_the_cache_then_validate_uses_it() {
    let mirror = Mirror::start(None);
    let cache = tempfile::tempdir().unwrap();
    let output = fetch_into_cache(cache.path(), &mirror.url);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // 1.1.2's schemas, and the 1.1.3 Metaschema modules whose constraints
    // judge 1.1.2 documents.
    let mut stored_files = 0;
    for entry in lock()["schemas"].as_array().unwrap().iter().filter(|e| {
        e["oscal-version"] == "1.1.2"
            || (e["oscal-version"] == "1.1.3" && e["model"] == "metaschema")
    }) {
        let version = entry["oscal-version"].as_str().unwrap();
        let file = entry["file"].as_str().unwrap();
        let stored = cache.path().join(format!("oscal-schemas/v{version}"));
        let bytes = std::fs::read(stored.join(file)).unwrap();
        assert_eq!(bytes, std::fs::read(local_copy(version, file)).unwrap());
        stored_files += 1;
    }
    assert!(stored_files > 20, "{stored_files}");
    assert!(stderr(&output).contains("downloaded, SHA-256 verified"));
    // gitleaks' pinned rules for the secret gate come along, verified.
    assert_eq!(
        std::fs::read(cache.path().join("secret-rules/gitleaks.toml")).unwrap(),
        std::fs::read(secret_rules()).unwrap()
    );
    assert!(stderr(&output).contains("secret rules (gitleaks): downloaded, SHA-256 verified"));

    // A second fetch finds them intact and downloads nothing.
    let again = fetch_into_cache(cache.path(), &mirror.url);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        !stderr(&again).contains("downloaded,"),
        "{}",
        stderr(&again)
    );

    // With no flag and no env var, ingest finds the secret rules in the cache.
    let ingested = run(proofpack(cache.path())
        .env_remove("PROOFPACK_SECRET_RULES")
        .arg("ingest")
        .arg(shared().join("samples-real/mcp-configs"))
        .arg("--out")
        .arg(cache.path().join("evidence")));
    assert_eq!(ingested.status.code(), Some(0), "{}", stderr(&ingested));

    // With no flag and no env var, validate finds the schemas in the cache.
    let validated = run(proofpack(cache.path())
        .env_remove("PROOFPACK_SCHEMA_DIR")
        .arg("validate")
        .arg(examples().join("ar/json/ifa_assessment-results-example.json")));
    assert_eq!(
        validated.status.code(),
        Some(0),
        "{}{}",
        stdout(&validated),
        stderr(&validated)
    );

    // `schemas list` reports the cache's state.
    let listed = run(proofpack(cache.path())
        .env_remove("PROOFPACK_SCHEMA_DIR")
        .args(["schemas", "list"]));
    let text = stdout(&listed);
    assert!(
        text.contains("1.1.2  oscal_assessment-results_schema.json"),
        "{text}"
    );
    assert!(
        text.contains("missing"),
        "other releases were not fetched: {text}"
    );
    assert_eq!(listed.status.code(), Some(1));
}

#[test]
fn fetch_refuses_a_tampered_file_and_writes_nothing_for_it() {
    let mirror = Mirror::start(Some("oscal_catalog_schema.json"));
    let dest = tempfile::tempdir().unwrap();
    let output = run(proofpack(dest.path())
        .args([
            "schemas",
            "fetch",
            "--oscal-version",
            "1.1.3",
            "--mirror",
            &mirror.url,
            "--dest",
        ])
        .arg(dest.path()));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("refused"), "{err}");
    assert!(err.contains("oscal_catalog_schema.json"), "{err}");
    assert!(err.contains("differs from the pinned"), "{err}");
    assert!(!dest
        .path()
        .join("v1.1.3/oscal_catalog_schema.json")
        .exists());
    // No temp files are left behind either.
    let leftovers: Vec<_> = std::fs::read_dir(dest.path().join("v1.1.3"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        leftovers
            .iter()
            .all(|n| n.to_string_lossy().ends_with("_schema.json")),
        "{leftovers:?}"
    );
}

#[test]
fn fetch_from_a_server_that_is_down_says_so() {
    // Bind, note the port, close: nothing listens there any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dest = tempfile::tempdir().unwrap();
    let output = run(proofpack(dest.path()).args([
        "schemas",
        "fetch",
        "--oscal-version",
        "1.0.4",
        "--mirror",
        &format!("http://127.0.0.1:{port}"),
    ]));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("could not download"), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(err.contains("--schema-dir"), "{err}");
}

#[test]
fn fetch_rejects_an_unpinned_version() {
    let dest = tempfile::tempdir().unwrap();
    let output = run(proofpack(dest.path()).args(["schemas", "fetch", "--oscal-version", "1.2.2"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not pinned"),
        "{}",
        stderr(&output)
    );
}

/// A rule file altered in transit is refused and nothing is written: the
/// gate would otherwise run on rules nobody pinned.
#[test]
fn fetch_refuses_tampered_secret_rules() {
    let mirror = Mirror::start(Some("gitleaks.toml"));
    let cache = tempfile::tempdir().unwrap();
    let output = fetch_into_cache(cache.path(), &mirror.url);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("gitleaks.toml") && err.contains("differs from the pinned"),
        "{err}"
    );
    assert!(!cache.path().join("secret-rules/gitleaks.toml").exists());
}
