//! Running the binary with a controlled environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// `../shared` beside the checkout: NIST's schemas and examples, FedRAMP's files.
pub fn shared() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    assert!(
        dir.join("oscal/schemas").is_dir(),
        "the tests need ../shared (NIST's OSCAL schemas and examples) beside the checkout; not found at {}",
        dir.display()
    );
    dir
}

pub fn schema_dir() -> PathBuf {
    shared().join("oscal/schemas")
}

/// gitleaks' pinned rule file, for the secret gate.
pub fn secret_rules() -> PathBuf {
    shared().join("secrets/gitleaks.toml")
}

pub fn examples() -> PathBuf {
    shared().join("oscal/content/examples")
}

/// The binary with schemas from `../shared` and a private, empty cache, so
/// nothing from the user's machine leaks into a test.
pub fn proofpack(cache: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_proofpack"));
    cmd.env("PROOFPACK_SCHEMA_DIR", schema_dir())
        .env("PROOFPACK_SECRET_RULES", secret_rules())
        .env_remove("PROOFPACK_FINGERPRINT_KEY")
        .env("PROOFPACK_CACHE_DIR", cache)
        .env_remove("PROOFPACK_SCHEMA_MIRROR")
        .stdin(Stdio::null());
    cmd
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("proofpack runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `validate --format json` on `paths`; returns the exit code and the report.
pub fn validate_json<P: AsRef<std::ffi::OsStr>>(paths: &[P], extra: &[&str]) -> (i32, Value) {
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .arg("validate")
        .arg("--format")
        .arg("json")
        .args(extra)
        .args(paths));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "validate printed no JSON ({e}); stderr: {}",
            stderr(&output)
        )
    });
    (output.status.code().unwrap_or(-1), report)
}

/// The report entry of one file.
pub fn file_report<'a>(report: &'a Value, path: &Path) -> &'a Value {
    let wanted = path.display().to_string();
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == wanted.as_str())
        .unwrap_or_else(|| panic!("no report for {wanted}"))
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

pub fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

/// `verify PACKAGE --json` with `extra` flags; returns the exit code and the
/// report (`null` when stdout is not JSON).
pub fn verify_json(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .arg("verify")
        .arg(dir)
        .arg("--schema-dir")
        .arg(schema_dir())
        .arg("--json")
        .args(extra));
    (
        output.status.code().unwrap_or(-1),
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null),
    )
}

/// Fails unless `sarif` is valid against the schema of the OASIS SARIF
/// 2.1.0 standard (`../shared/sarif`, draft-07: what code-scanning services
/// accept), with every error listed. The TC's later 2020-12 revision beside
/// it is not a valid schema itself (`region.properties.anyOf` is an array
/// where 2020-12 wants a schema), so validators refuse to compile it.
pub fn assert_valid_sarif(sarif: &Value) {
    let mut schema = read_json(&shared().join("sarif/sarif-schema-2.1.0-committee-spec.json"));
    // The standard's pattern for `language` (of a run and of a tool
    // component) has a stray `]`, a literal in ECMA-262 but refused by the
    // meta-schema's `regex` check: the same pattern with the bracket escaped.
    fn escape_stray_bracket(v: &mut Value) -> usize {
        match v {
            Value::String(s) if s == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" => {
                *s = r"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\]?$".into();
                1
            }
            Value::Array(items) => items.iter_mut().map(escape_stray_bracket).sum(),
            Value::Object(map) => map.values_mut().map(escape_stray_bracket).sum(),
            _ => 0,
        }
    }
    assert_eq!(escape_stray_bracket(&mut schema), 2);
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("OASIS's SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not valid SARIF 2.1.0:\n{}",
        errors.join("\n")
    );
}

/// The result of check `id` in a `checks run --format json` report.
pub fn result<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no result for {id}"))
}

/// The rows of a CSV file, as column → value.
pub fn csv_records(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}
