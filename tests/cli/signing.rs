//! Signed packages (issue 14): `keys generate`, `generate --sign-key`,
//! `verify --key`: a DSSE envelope over an in-toto statement of every file,
//! checked before anything else, naming what changed and who signed.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;

use crate::util::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `keys generate` into `dir`; returns (private, public).
fn keys(dir: &Path, algorithm: &str) -> (PathBuf, PathBuf) {
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .args(["keys", "generate", "--algorithm", algorithm, "--out"])
        .arg(dir));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("key id:"));
    (dir.join("signing-key.pem"), dir.join("signing-key.pub.pem"))
}

fn generate(out: &Path, extra: &[&str]) -> (i32, String) {
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .arg("generate")
        .arg("--config")
        .arg(repo().join("samples/proofpack.toml"))
        .arg("--out")
        .arg(out)
        .arg("--schema-dir")
        .arg(schema_dir())
        .args(["--last-modified", "2026-11-03T06:00:00Z"])
        .arg("--history")
        .arg(out.with_extension("history"))
        .args(extra));
    (
        output.status.code().unwrap_or(-1),
        stdout(&output) + &stderr(&output),
    )
}

fn verify(dir: &Path, extra: &[&str]) -> (i32, Value) {
    verify_json(dir, extra)
}

/// The statement inside a package's envelope.
fn statement(package: &Path) -> Value {
    let envelope: Value =
        serde_json::from_slice(&std::fs::read(package.join("attestation.dsse.json")).unwrap())
            .unwrap();
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

#[test]
fn a_signed_package_verifies_with_its_key_and_names_every_change() {
    let tmp = tempfile::tempdir().unwrap();
    let (private, public) = keys(&tmp.path().join("keys"), "ecdsa-p256");
    let out = tmp.path().join("package");
    let (code, text) = generate(&out, &["--sign-key", private.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");

    // The statement: one subject per file (the manifest too), SLSA provenance.
    let s = statement(&out);
    assert_eq!(s["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(s["predicateType"], "https://slsa.dev/provenance/v1");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let subjects = s["subject"].as_array().unwrap();
    assert_eq!(
        subjects.len(),
        manifest["files"].as_array().unwrap().len() + 1
    );
    for f in manifest["files"].as_array().unwrap() {
        assert!(
            subjects
                .iter()
                .any(|x| x["name"] == f["path"] && x["digest"]["sha256"] == f["sha256"]),
            "{f}"
        );
    }
    let p = &s["predicate"];
    assert_eq!(
        p["buildDefinition"]["externalParameters"]["config"]["digest"]["sha256"],
        manifest["config_sha256"]
    );
    assert_eq!(
        p["runDetails"]["builder"]["version"]["proofpack"],
        manifest["version"]
    );
    assert_eq!(
        p["buildDefinition"]["resolvedDependencies"]
            .as_array()
            .unwrap()
            .len(),
        manifest["inputs"].as_array().unwrap().len()
    );

    // Verified with the signer's key, which is named with the time.
    let key = ["--key", public.to_str().unwrap()];
    let (code, v) = verify(&out, &[&key[..], &["--require-signature"]].concat());
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["signature"]["status"], "verified");
    assert_eq!(v["signature"]["signed_at"], "2026-11-03T06:00:00.000000Z");
    assert_eq!(v["signature"]["algorithm"], "ecdsa-p256-sha256");

    // Another key does not verify it.
    let (_, other) = keys(&tmp.path().join("other"), "ed25519");
    let (code, v) = verify(&out, &["--key", other.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v["signature"]["status"], "invalid");

    // SARIF says the same, valid against OASIS's schema.
    let sarif_path = tmp.path().join("verify.sarif");
    let sarif_flag = ["--sarif", sarif_path.to_str().unwrap()];
    let (code, _) = verify(&out, &[&key[..], &sarif_flag].concat());
    assert_eq!(code, 0);
    let sarif = read_json(&sarif_path);
    assert_valid_sarif(&sarif);
    let note = &sarif["runs"][0]["results"][0];
    assert_eq!(note["ruleId"], "signature");
    assert_eq!(note["properties"]["status"], "verified");
    assert_eq!(
        note["properties"]["signedAt"],
        "2026-11-03T06:00:00.000000Z"
    );

    // A changed, a removed and an added file are each named, by the
    // signature check and by the manifest check alike.
    std::fs::write(out.join("summary.md"), "rewritten").unwrap();
    std::fs::remove_file(out.join("checks.json")).unwrap();
    std::fs::write(out.join("evidence/planted.csv"), "a\n").unwrap();
    let (code, v) = verify(&out, &key);
    assert_eq!(code, 1);
    assert_eq!(v["signature"]["status"], "invalid");
    assert_eq!(v["signature"]["changed"], serde_json::json!(["summary.md"]));
    assert_eq!(
        v["signature"]["missing"],
        serde_json::json!(["checks.json"])
    );
    assert_eq!(
        v["signature"]["added"],
        serde_json::json!(["evidence/planted.csv"])
    );
    verify(&out, &[&key[..], &sarif_flag].concat());
    let sarif = read_json(&sarif_path);
    assert_valid_sarif(&sarif);
    let rules: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    for rule in [
        "file-changed",
        "file-missing",
        "file-extra",
        "signature-invalid",
    ] {
        assert!(rules.contains(&rule), "{rules:?}");
    }

    // Rewriting the manifest to match does not help: it was signed too.
    let mut m = manifest.clone();
    m["files"] = Value::Array(Vec::new());
    std::fs::write(out.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    let (_, v) = verify(&out, &key);
    assert!(v["signature"]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "manifest.json"));
}

#[test]
fn unsigned_packages_fail_only_when_a_signature_is_required() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, public) = keys(&tmp.path().join("keys"), "ed25519");
    let out = tmp.path().join("package");
    let (code, text) = generate(&out, &[]);
    assert_eq!(code, 0, "{text}");
    let (code, v) = verify(&out, &[]);
    assert_eq!(code, 0);
    assert_eq!(v["signature"]["status"], "unsigned");
    let (code, v) = verify(
        &out,
        &["--require-signature", "--key", public.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert_eq!(v["signature"]["status"], "unsigned");
    // Requiring a signature without saying whose is a usage error.
    let (code, _) = verify(&out, &["--require-signature"]);
    assert_eq!(code, 2);
}

#[test]
fn signing_from_the_environment_is_deterministic_and_a_failure_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (private, public) = keys(&tmp.path().join("keys"), "ed25519");
    let pem = std::fs::read_to_string(&private).unwrap();
    let mut attestations = Vec::new();
    for name in ["a", "b"] {
        let out = tmp.path().join(name);
        let cache = tempfile::tempdir().unwrap();
        let output = run(proofpack(cache.path())
            .env("PROOFPACK_TEST_SIGNING_KEY", &pem)
            .arg("generate")
            .arg("--config")
            .arg(repo().join("samples/proofpack.toml"))
            .arg("--out")
            .arg(&out)
            .arg("--schema-dir")
            .arg(schema_dir())
            .args(["--last-modified", "2026-11-03T06:00:00Z"])
            .arg("--history")
            .arg(tmp.path().join("history"))
            .args(["--sign-key-env", "PROOFPACK_TEST_SIGNING_KEY"]));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        attestations.push(std::fs::read(out.join("attestation.dsse.json")).unwrap());
        let (code, v) = verify(&out, &["--key", public.to_str().unwrap()]);
        assert_eq!(code, 0, "{v:#}");
    }
    // Canonical statement, deterministic Ed25519: the same envelope bytes.
    assert_eq!(attestations[0], attestations[1]);

    // An unset variable stops the run before anything lands.
    let out = tmp.path().join("c");
    let (code, text) = generate(&out, &["--sign-key-env", "PROOFPACK_TEST_NO_SUCH_KEY"]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("$PROOFPACK_TEST_NO_SUCH_KEY"), "{text}");
    assert!(!out.exists());
}
