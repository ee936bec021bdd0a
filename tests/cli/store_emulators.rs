//! `gs://` and `az://` inputs against servers on 127.0.0.1: the Cloud
//! Storage emulator from PyPI (`gcp-storage-emulator`) and Microsoft's
//! Azurite (npm), both installed by `.ci/run`, with the same trail and the
//! same checks as the S3 test against moto: every object's records equal
//! the files read from disk, and a window lists only its days.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::store::{day_objects, days_files, python, sha256_hex, TWO_DAYS};
use crate::util::*;

/// A server process on a free local port, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    fn start(mut cmd: Command, port: u16, what: &str) -> Server {
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{what} starts: {e}"));
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{what} did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Server { child, port }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// `gcp-storage-emulator` from the test venv.
fn cloud_storage() -> Server {
    let port = free_port();
    let bin = python().with_file_name("gcp-storage-emulator");
    assert!(
        bin.exists(),
        "the Cloud Storage test needs gcp-storage-emulator: run .ci/run, or \
         target/test-venv/bin/pip install gcp-storage-emulator"
    );
    let mut cmd = Command::new(bin);
    cmd.args([
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--in-memory",
    ]);
    Server::start(cmd, port, "gcp-storage-emulator")
}

/// Azurite's blob service: $PROOFPACK_AZURITE, else the copy `.ci/run`
/// installs in target/azurite.
fn azurite() -> Server {
    let bin = std::env::var_os("PROOFPACK_AZURITE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/azurite/node_modules/.bin/azurite-blob")
        });
    assert!(
        bin.exists(),
        "the Azure Blob test needs Azurite: run .ci/run, or \
         npm install --prefix target/azurite azurite"
    );
    let port = free_port();
    let mut cmd = Command::new(bin);
    cmd.args([
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        &port.to_string(),
        "--inMemoryPersistence",
        "--skipApiVersionCheck",
        "--silent",
    ]);
    Server::start(cmd, port, "Azurite")
}

/// The four days' objects, by key.
fn trail() -> Vec<(String, Vec<u8>)> {
    (1..=4).flat_map(day_objects).collect()
}

fn upload_to_cloud_storage(server: &Server, objects: &[(String, Vec<u8>)]) {
    let client = reqwest::blocking::Client::new();
    let created = client
        .post(format!("{}/storage/v1/b?project=test", server.endpoint()))
        .header("Content-Type", "application/json")
        .body(r#"{"name": "trail"}"#)
        .send()
        .unwrap();
    assert!(
        created.status().is_success(),
        "bucket: {}",
        created.status()
    );
    for (key, body) in objects {
        let put = client
            .post(format!("{}/upload/storage/v1/b/trail/o", server.endpoint()))
            .query(&[("uploadType", "media"), ("name", key.as_str())])
            .body(body.clone())
            .send()
            .unwrap();
        assert!(put.status().is_success(), "{key}: {}", put.status());
    }
}

/// Azurite's well-known development account (its documentation's key).
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Uploads through Microsoft's Python SDK (shared-key signing).
fn upload_to_azurite(server: &Server, objects: &[(String, Vec<u8>)]) {
    let dir = tempfile::tempdir().unwrap();
    for (i, (key, body)) in objects.iter().enumerate() {
        std::fs::write(dir.path().join(format!("{i}.bin")), body).unwrap();
        std::fs::write(dir.path().join(format!("{i}.key")), key).unwrap();
    }
    let script = r#"
import os, sys
from azure.storage.blob import BlobServiceClient
conn = ('DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=' + sys.argv[2]
        + ';BlobEndpoint=' + sys.argv[1] + '/devstoreaccount1;')
c = BlobServiceClient.from_connection_string(conn).create_container('trail')
d = sys.argv[3]
for name in sorted(os.listdir(d)):
    if name.endswith('.bin'):
        key = open(os.path.join(d, name[:-4] + '.key')).read()
        c.upload_blob(key, open(os.path.join(d, name), 'rb').read())
"#;
    let status = Command::new(python())
        .args(["-c", script, &server.endpoint(), AZURITE_KEY])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "uploading to Azurite (needs azure-storage-blob in the test venv)"
    );
}

fn ingest_with(env: &[(&str, String)], input: &str, extra: &[&str]) -> (serde_json::Value, String) {
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut cmd = proofpack(cache.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = run(cmd
        .arg("ingest")
        .arg(input)
        .arg("--out")
        .arg(out.path().join("evidence"))
        .args(extra));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let summary = read_json(&out.path().join("evidence/summary.json"));
    let rows = std::fs::read_to_string(out.path().join("evidence/access_events.csv")).unwrap();
    (summary, rows)
}

/// The same checks for any store: the whole trail, then a two-day window.
fn same_as_disk(scheme: &str, env: &[(&str, String)], objects: &[(String, Vec<u8>)]) {
    let local = {
        let (out, _) = crate::ingest::ingest(&days_files(), &[]);
        crate::ingest::summary(out.path())
    };
    let hashes: BTreeMap<String, String> = objects
        .iter()
        .map(|(k, b)| (format!("{scheme}://trail/{k}"), sha256_hex(b)))
        .collect();
    let input = format!("{scheme}://trail/AWSLogs/");
    let (all, _) = ingest_with(env, &input, &[]);
    assert_eq!(all["files"], 16, "{all:#}");
    assert_eq!(
        all["read"].as_u64().unwrap(),
        4 * local["read"].as_u64().unwrap(),
        "{all:#}"
    );
    assert_eq!(all["reconciled"], true);

    let (windowed, rows) = ingest_with(env, &input, &TWO_DAYS);
    assert_eq!(windowed["files"], 8, "{windowed:#}");
    assert_eq!(
        windowed["read"].as_u64().unwrap(),
        2 * local["read"].as_u64().unwrap()
    );
    assert_eq!(windowed["reconciled"], true);
    let folder = format!("{scheme}://trail/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/");
    assert!(rows.contains(&format!("{folder}02/")), "{rows}");
    assert!(!rows.contains(&format!("{folder}01/")));
    assert!(!rows.contains(&format!("{folder}04/")));
    let listed = windowed["objects"].as_array().unwrap();
    assert_eq!(listed.len(), 8);
    for o in listed {
        let url = o["url"].as_str().unwrap();
        assert_eq!(
            o["sha256"].as_str(),
            hashes.get(url).map(String::as_str),
            "{o}"
        );
        assert!(o["e_tag"].as_str().is_some_and(|t| !t.is_empty()), "{o}");
    }
}

#[test]
fn a_trail_in_cloud_storage_is_read_as_from_disk_with_the_window_pruning_its_days() {
    let server = cloud_storage();
    let objects = trail();
    upload_to_cloud_storage(&server, &objects);
    let env = [
        ("GOOGLE_BASE_URL", server.endpoint()),
        ("GOOGLE_SKIP_SIGNATURE", "true".to_string()),
        ("GOOGLE_ALLOW_HTTP", "true".to_string()),
    ];
    same_as_disk("gs", &env, &objects);
}

#[test]
fn a_trail_in_azure_blob_storage_is_read_as_from_disk_with_the_window_pruning_its_days() {
    let server = azurite();
    let objects = trail();
    upload_to_azurite(&server, &objects);
    let env = [
        ("AZURE_STORAGE_USE_EMULATOR", "true".to_string()),
        ("AZURITE_BLOB_STORAGE_URL", server.endpoint()),
    ];
    same_as_disk("az", &env, &objects);
}
