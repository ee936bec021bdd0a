//! Validation throughput and peak memory of `proofpack validate` on a large
//! assessment-results document, against Python's `jsonschema` on the same file
//! and the same official schema, in one run; and what NIST's (and FedRAMP's)
//! Metaschema constraints cost on top of the schema and reference checks.
//!
//! Run: `cargo bench --bench validate` (needs ../shared beside the checkout;
//! the Python baseline is installed into target/bench-venv with pip).
//! Options via env: PROOFPACK_BENCH_OBSERVATIONS (default 100000),
//! PROOFPACK_BENCH_SKIP_PYTHON=1.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{build_release, measure_exit, python_with};
use sha2::Digest;

const INVENTORY: usize = 1_000;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schemas = root.join("../shared/oscal/schemas");
    assert!(
        schemas.is_dir(),
        "needs ../shared/oscal/schemas beside the checkout"
    );
    let observations: usize = std::env::var("PROOFPACK_BENCH_OBSERVATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let data = root.join("target/bench-data");
    std::fs::create_dir_all(&data).unwrap();
    // `-v2`: the resource has an rlink, so the document has no findings at
    // all (NIST's constraints included) and no run pays for locating one.
    let doc = data.join(format!("assessment-results-{observations}-v2.json"));
    if !doc.exists() {
        generate(&doc, observations);
    }
    let size = std::fs::metadata(&doc).unwrap().len();
    let mb = size as f64 / 1e6;
    println!(
        "document: {} ({mb:.1} MB, {observations} observations)",
        doc.display()
    );

    let binary = build_release(root);
    let mut rows = Vec::new();
    let fedramp = root.join("../shared/oscal/fedramp/constraints");
    let fedramp = fedramp.to_str().unwrap();
    for (label, extra) in [
        (
            "proofpack validate (schema + references + NIST constraints, the default)",
            vec![],
        ),
        (
            "proofpack validate --constraints all (+ FedRAMP's constraints)",
            vec!["--constraints", "all", "--fedramp-constraints", fedramp],
        ),
        (
            "proofpack validate --constraints none (schema + references)",
            vec!["--constraints", "none"],
        ),
        (
            "proofpack validate --no-references --constraints none (schema only)",
            vec!["--no-references", "--constraints", "none"],
        ),
    ] {
        let mut best = f64::MAX;
        let mut best_cpu = f64::MAX;
        let mut peak = 0;
        for _ in 0..3 {
            let mut cmd = Command::new(&binary);
            cmd.args([
                "validate",
                "--format",
                "json",
                "--max-size",
                "4GiB",
                "--output",
                "/dev/null",
                "--schema-dir",
            ])
            .arg(&schemas)
            .args(&extra)
            .arg(&doc);
            let (secs, rss, code, cpu) = measure_exit(&mut cmd);
            // The document is valid OSCAL but no FedRAMP document: FedRAMP's
            // constraints report findings (exit 1); anything else is a fault.
            let expected = if extra.contains(&"all") { 1 } else { 0 };
            assert_eq!(code, Some(expected), "{label}: unexpected exit");
            best = best.min(secs);
            best_cpu = best_cpu.min(cpu);
            peak = peak.max(rss);
        }
        rows.push((label.to_string(), best, peak, best_cpu));
    }

    if std::env::var_os("PROOFPACK_BENCH_SKIP_PYTHON").is_none() {
        let python = python_with(root, &["jsonschema", "regex", "rfc3339-validator"]);
        let schema = schemas.join("v1.1.3/oscal_assessment-results_schema.json");
        let mut cmd = Command::new(python);
        cmd.arg(root.join("benches/jsonschema_baseline.py"))
            .arg(&schema)
            .arg(&doc)
            .stdout(Stdio::piped());
        let (secs, rss, code, cpu) = measure_exit(&mut cmd);
        assert_eq!(code, Some(0), "python jsonschema baseline failed");
        rows.push((
            "python jsonschema Draft7Validator (+regex)".to_string(),
            secs,
            rss,
            cpu,
        ));
    }

    println!("\n| validator | seconds | CPU seconds | MB/s | peak RSS | RSS / file |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (label, secs, rss, cpu) in &rows {
        println!(
            "| {label} | {secs:.2} | {cpu:.2} | {:.1} | {:.0} MiB | {:.2}x |",
            mb / secs,
            *rss as f64 / 1048576.0,
            *rss as f64 / size as f64
        );
    }
    // What the constraint pass adds on top of schema + reference checks.
    let (nist, all, without) = (rows[0].1, rows[1].1, rows[2].1);
    println!(
        "\nNIST constraints add {:+.0}% wall time, {:+.0}% CPU time and {:+.0}% peak RSS; NIST + FedRAMP add {:+.0}% wall time, {:+.0}% CPU time",
        (nist / without - 1.0) * 100.0,
        (rows[0].3 / rows[2].3 - 1.0) * 100.0,
        (rows[0].2 as f64 / rows[2].2 as f64 - 1.0) * 100.0,
        (all / without - 1.0) * 100.0,
        (rows[1].3 / rows[2].3 - 1.0) * 100.0
    );
    if let Some(python) = rows.iter().find(|r| r.0.starts_with("python")) {
        println!(
            "proofpack (default, with NIST constraints) is {:.0}x Python's throughput (schema only)",
            python.1 / nist
        );
        println!(
            "proofpack (schema only) is {:.0}x Python's throughput",
            python.1 / rows[3].1
        );
    }
    if std::env::var_os("PROOFPACK_BENCH_SKIP_PYTHON").is_none() {
        shapes(root, &binary, &data);
    }
}

/// The three document shapes of NIST's own examples, scaled: an assessment
/// result with 48,000 observations (NIST's AR example's two, repeated with
/// fresh UUIDs), NIST's MODERATE resolved-profile catalog as published, and
/// an SSP with 20,000 components (NIST's SSP example's six, repeated).
/// proofpack (default: schema, references, NIST's constraints; best of
/// three) against Python's jsonschema (schema only) and oscal-validate
/// (PyPI; NIST's schema and constraint layer), each once, same run.
fn shapes(root: &Path, binary: &Path, data: &Path) {
    let examples = root.join("../shared/oscal/content");
    let schemas = root.join("../shared/oscal/schemas");
    let ar = data.join("shape-ar-48000.json");
    let ssp = data.join("shape-ssp-20000.json");
    if !ar.exists() {
        scaled(
            &examples.join("examples/ar/json/ifa_assessment-results-example.json"),
            &ar,
            "/assessment-results/results/0/observations",
            48_000,
        );
    }
    if !ssp.exists() {
        scaled(
            &examples.join("examples/ssp/json/ssp-example.json"),
            &ssp,
            "/system-security-plan/system-implementation/components",
            20_000,
        );
    }
    let catalog = examples.join(
        "nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json",
    );
    let python = python_with(root, &["jsonschema", "regex", "rfc3339-validator"]);
    let oscal_validate = oscal_validate(root);
    println!("\n| document | MB | proofpack validate (s) | verdict | Python jsonschema, schema only (s) | x | oscal-validate (s) | x |");
    println!("|---|---:|---:|---|---:|---:|---:|---:|");
    for (label, doc, schema) in [
        (
            "assessment results, 48,000 observations",
            &ar,
            "oscal_assessment-results_schema.json",
        ),
        (
            "resolved catalog (NIST SP 800-53 MODERATE)",
            &catalog,
            "oscal_catalog_schema.json",
        ),
        ("SSP, 20,000 components", &ssp, "oscal_ssp_schema.json"),
    ] {
        let mb = std::fs::metadata(doc).unwrap().len() as f64 / 1e6;
        let version: serde_json::Value =
            serde_json::from_slice(&std::fs::read(doc).unwrap()).unwrap();
        let version = version
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|r| r.pointer("/metadata/oscal-version"))
            .and_then(|v| v.as_str())
            .unwrap()
            .to_string();
        let mut verdict = "";
        let mut ours = f64::MAX;
        for _ in 0..3 {
            let (secs, _, code, _) = measure_exit(
                Command::new(binary)
                    .args([
                        "validate",
                        "--format",
                        "json",
                        "--max-size",
                        "4GiB",
                        "--output",
                        "/dev/null",
                        "--schema-dir",
                    ])
                    .arg(&schemas)
                    .arg(doc),
            );
            // NIST's own resolved catalog links to controls outside its
            // baseline, which NIST's constraints report (exit 1): a
            // verdict, not a failure of the run.
            assert!(
                matches!(code, Some(0 | 1)),
                "{label}: proofpack failed: {code:?}"
            );
            verdict = if code == Some(0) { "valid" } else { "findings" };
            ours = ours.min(secs);
        }
        let (py, _, code, _) = measure_exit(
            Command::new(&python)
                .arg(root.join("benches/jsonschema_baseline.py"))
                .arg(schemas.join(format!("v{version}")).join(schema))
                .arg(doc)
                .stdout(Stdio::null()),
        );
        assert_eq!(
            code,
            Some(0),
            "python jsonschema baseline failed on {label}"
        );
        let other = oscal_validate.as_ref().map(|tool| {
            let (secs, _, code, _) = measure_exit(
                Command::new(tool)
                    .args(["--format", "json"])
                    .arg(doc)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null()),
            );
            // 0 clean, 1 findings (it reads OSCAL 1.2.3's constraints); a
            // crash or a usage error is no measurement.
            assert!(
                matches!(code, Some(0 | 1)),
                "oscal-validate failed on {label}: {code:?}"
            );
            secs
        });
        let (other, other_x) = match other {
            Some(secs) => (format!("{secs:.2}"), format!("{:.0}x", secs / ours)),
            None => ("(not installed)".into(), String::new()),
        };
        println!(
            "| {label} | {mb:.1} | {ours:.3} | {verdict} | {py:.2} | {:.0}x | {other} | {other_x} |",
            py / ours
        );
    }
}

/// `source` with the array at `pointer` repeated to `count` items, every
/// `uuid` inside a copy made new (references to other objects kept).
fn scaled(source: &Path, path: &Path, pointer: &str, count: usize) {
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(source).unwrap()).unwrap();
    let items = doc
        .pointer_mut(pointer)
        .and_then(|v| v.as_array_mut())
        .expect("the example has the array");
    let originals = items.clone();
    for i in items.len()..count {
        let mut copy = originals[i % originals.len()].clone();
        renew_uuids(&mut copy, &format!("{pointer}{i}"));
        items.push(copy);
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

fn renew_uuids(value: &mut serde_json::Value, label: &str) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "uuid" {
                    *v = serde_json::Value::String(uuid(&format!("{label}/{v}")));
                } else {
                    renew_uuids(v, label);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for (n, v) in items.iter_mut().enumerate() {
                renew_uuids(v, &format!("{label}/{n}"));
            }
        }
        _ => {}
    }
}

/// oscal-validate from PyPI (it needs Python 3.12 or later: the first of
/// PROOFPACK_BENCH_PYTHON312, `python3.13`, `python3.12` that runs), in its
/// own venv; None when no such Python is found.
fn oscal_validate(root: &Path) -> Option<std::path::PathBuf> {
    let venv = root.join("target/bench-venv-312");
    let tool = venv.join("bin/oscal-validate");
    if tool.exists() {
        return Some(tool);
    }
    let candidates: Vec<std::ffi::OsString> = std::env::var_os("PROOFPACK_BENCH_PYTHON312")
        .into_iter()
        .chain(["python3.13".into(), "python3.12".into()])
        .collect();
    let python = candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import sys; assert sys.version_info >= (3, 12)"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })?;
    let made = Command::new(&python)
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .ok()?;
    let installed = made.success()
        && Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "oscal-validate==0.5.0"])
            .status()
            .is_ok_and(|s| s.success());
    installed.then_some(tool)
}

/// A UUID of version 4 shape, derived from a label so the file is stable.
fn uuid(label: &str) -> String {
    let d = sha2::Sha256::digest(label.as_bytes());
    let h: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// Writes an OSCAL 1.1.3 assessment-results document that passes the schema,
/// the reference checks and NIST's constraints: inventory items,
/// `n` observations with subjects, props and evidence links, a finding per
/// 100 observations, and a back-matter resource.
fn generate(path: &Path, n: usize) {
    let tmp = path.with_extension("tmp");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp).unwrap());
    let party = uuid("party");
    let resource = uuid("resource");
    write!(out, r##"{{"assessment-results":{{"uuid":"{}","metadata":{{"title":"Benchmark NHI assessment results","last-modified":"2026-11-02T06:00:00Z","version":"1","oscal-version":"1.1.3","roles":[{{"id":"assessor","title":"Assessor"}}],"parties":[{{"uuid":"{party}","type":"organization","name":"Bench"}}],"responsible-parties":[{{"role-id":"assessor","party-uuids":["{party}"]}}]}},"import-ap":{{"href":"https://example.com/ap.json"}},"results":[{{"uuid":"{}","title":"Weekly run","description":"Automated NHI checks.","start":"2026-10-26T00:00:00Z","end":"2026-11-02T00:00:00Z","local-definitions":{{"inventory-items":["##, uuid("ar"), uuid("result")).unwrap();
    for i in 0..INVENTORY {
        if i > 0 {
            out.write_all(b",").unwrap();
        }
        write!(out, r##"{{"uuid":"{}","description":"Workload identity {i}","props":[{{"name":"asset-id","value":"arn:aws:iam::111122223333:role/workload-{i}"}},{{"name":"asset-type","value":"service"}}]}}"##, uuid(&format!("item{i}"))).unwrap();
    }
    write!(out, r##"]}},"reviewed-controls":{{"control-selections":[{{"include-controls":[{{"control-id":"ia-5.1"}}]}}]}},"observations":["##).unwrap();
    for i in 0..n {
        if i > 0 {
            out.write_all(b",").unwrap();
        }
        let (cred, method) = if i % 7 == 0 {
            ("static", "AKIA access key")
        } else {
            ("ephemeral", "STS session (ASIA)")
        };
        write!(out, r##"{{"uuid":"{}","title":"Access by workload-{w} with {cred} credential","description":"The workload authenticated with a {method} and called s3:GetObject on arn:aws:s3:::bucket-{w}/object-{i}; the policy decision was allow.","props":[{{"name":"credential-type","ns":"https://proofpack.dev/ns/oscal","value":"{cred}"}},{{"name":"decision","ns":"https://proofpack.dev/ns/oscal","value":"allow"}}],"methods":["TEST"],"types":["control-objective"],"subjects":[{{"subject-uuid":"{}","type":"inventory-item"}}],"relevant-evidence":[{{"href":"#{resource}","description":"Row {i} of the access events table"}}],"collected":"2026-11-0{d}T0{h}:1{m}:2{s}Z","expires":"2026-11-09T06:00:00Z"}}"##,
            uuid(&format!("obs{i}")), uuid(&format!("item{}", i % INVENTORY)), w = i % INVENTORY, d = 1 + i % 9, h = i % 10, m = i % 6, s = i % 10).unwrap();
    }
    out.write_all(b"],\"findings\":[").unwrap();
    for f in 0..n.div_ceil(100) {
        if f > 0 {
            out.write_all(b",").unwrap();
        }
        let related: Vec<String> = (f * 100..((f + 1) * 100).min(n))
            .map(|i| format!(r##"{{"observation-uuid":"{}"}}"##, uuid(&format!("obs{i}"))))
            .collect();
        write!(out, r##"{{"uuid":"{}","title":"Finding {f}","description":"Group {f}.","target":{{"type":"objective-id","target-id":"ia-5.1_obj","status":{{"state":"satisfied"}}}},"related-observations":[{}]}}"##, uuid(&format!("finding{f}")), related.join(",")).unwrap();
    }
    write!(out, r##"]}}],"back-matter":{{"resources":[{{"uuid":"{resource}","title":"Access events","rlinks":[{{"href":"../evidence/access_events.csv","media-type":"text/csv"}}]}}]}}}}}}"##).unwrap();
    out.flush().unwrap();
    drop(out);
    std::fs::rename(tmp, path).unwrap();
}
