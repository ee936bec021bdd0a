//! `proofpack generate` and `proofpack verify`, end to end: the bundled
//! scenario and the real samples become packages whose OSCAL documents pass
//! NIST's schemas and whose SDR passes FedRAMP's; findings are as expected;
//! reruns are byte-identical; tampering is caught; a failure leaves nothing.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fedramp_schemas() -> PathBuf {
    shared().join("frameworks/fedramp-20x/cr26/schemas")
}

/// Runs `generate` on a config into `out`; returns exit code, stdout, stderr.
/// The history goes beside `out` unless the test names one, so parallel
/// tests never share it.
pub(crate) fn generate(config: &Path, out: &Path, extra: &[&str]) -> (i32, String, String) {
    let cache = tempfile::tempdir().unwrap();
    let mut cmd = proofpack(cache.path());
    cmd.arg("generate")
        .arg("--config")
        .arg(config)
        .arg("--out")
        .arg(out)
        .arg("--schema-dir")
        .arg(schema_dir())
        .arg("--fedramp-schema-dir")
        .arg(fedramp_schemas())
        .args(["--last-modified", "2026-11-03T06:00:00Z"])
        .args(extra);
    if !config.to_string_lossy().contains("test-history") && !extra.contains(&"--history") {
        cmd.arg("--history").arg(out.with_extension("history"));
    }
    let output = run(&mut cmd);
    (
        output.status.code().unwrap_or(-1),
        stdout(&output),
        stderr(&output),
    )
}

fn sample_package() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("package");
    let (code, text, err) = generate(&repo().join("samples/proofpack.toml"), &out, &[]);
    assert_eq!(code, 0, "{text}{err}");
    // The sample window ended long before today: generate says so.
    assert!(
        err.contains("requires re-validation every 7 days (Class B"),
        "{err}"
    );
    (tmp, out)
}

fn verify(dir: &Path) -> (i32, Value) {
    verify_json(dir, &[])
}

#[test]
fn the_bundled_scenario_becomes_a_valid_verified_package() {
    let (_tmp, out) = sample_package();
    for file in [
        "manifest.json",
        "checks.json",
        "oscal/assessment-plan.json",
        "oscal/assessment-results.json",
        "oscal/poam.json",
        "fedramp/security-decision-record.json",
        "evidence/access_events.parquet",
        "evidence/access_events.csv",
        "evidence/summary.json",
        "attestations/01-nhi-access-review-2026Q3.md",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    // NIST's schemas, independently of generate's own check.
    let (code, report) = validate_json(&[out.join("oscal")], &["--strict"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["valid"], 3);
    // FedRAMP's schema.
    let sdr = read_json(&out.join("fedramp/security-decision-record.json"));
    let problems =
        proofpack::generate::fedramp_schema::validate_sdr(&fedramp_schemas(), &sdr).unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
    let (code, v) = verify(&out);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["changed"].as_array().unwrap().len(), 0);
    // Freshness: Class B observations lapse 7 days after the window.
    assert_eq!(v["freshness"]["expires"], "2026-11-10T00:00:00.000000Z");
    let cache = tempfile::tempdir().unwrap();
    let at = |as_of: &str, extra: &[&str]| {
        run(proofpack(cache.path())
            .arg("verify")
            .arg(&out)
            .args(["--as-of", as_of])
            .args(extra))
    };
    let fresh = at("2026-11-09", &["--require-fresh"]);
    assert_eq!(fresh.status.code(), Some(0));
    assert!(stdout(&fresh).contains("fresh until 2026-11-10"));
    let stale = at("2026-11-11", &[]);
    assert_eq!(
        stale.status.code(),
        Some(0),
        "stale is reported, not a failure by default"
    );
    assert!(stdout(&stale).contains("stale: the observations expired 2026-11-10"));
    assert_eq!(
        at("2026-11-11", &["--require-fresh"]).status.code(),
        Some(1)
    );

    let manifest = read_json(&out.join("manifest.json"));
    assert_eq!(manifest["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest["until"], "2026-11-03T00:00:00.000000Z");
    let config_bytes = std::fs::read(repo().join("samples/proofpack.toml")).unwrap();
    assert_eq!(
        manifest["config_sha256"],
        proofpack::hash::sha256_hex(&config_bytes)
    );
    let audit = manifest["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["path"]
                .as_str()
                .unwrap()
                .ends_with("logs/k8s-audit/audit.log")
        })
        .unwrap();
    assert_eq!(audit["records"]["access_events"], 29);
    assert_eq!(
        audit["sha256"],
        proofpack::hash::sha256_hex(
            &std::fs::read(repo().join("samples/logs/k8s-audit/audit.log")).unwrap()
        )
    );
}

fn finding_state<'a>(ar: &'a Value, control: &str) -> &'a str {
    ar["assessment-results"]["results"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["target"]["target-id"] == format!("{control}_obj"))
        .unwrap_or_else(|| panic!("no finding for {control}"))["target"]["status"]["state"]
        .as_str()
        .unwrap()
}

#[test]
fn findings_observations_and_evidence_point_at_each_other() {
    let (_tmp, out) = sample_package();
    let ar = read_json(&out.join("oscal/assessment-results.json"));
    let result = &ar["assessment-results"]["results"][0];
    // Mixed verdicts: static keys fail ia-5.2, STRICT mesh satisfies sc-23,
    // the attestation and passing checks satisfy ac-6.7 while the admin
    // role is waived.
    assert_eq!(finding_state(&ar, "ia-5.2"), "not-satisfied");
    assert_eq!(finding_state(&ar, "sc-23"), "satisfied");
    assert_eq!(finding_state(&ar, "au-12"), "satisfied");
    assert_eq!(finding_state(&ar, "ia-5.6"), "not-satisfied");

    // One observation per check, with the window's freshness (Class B: 7 days).
    let observations = result["observations"].as_array().unwrap();
    let shadow = observations
        .iter()
        .find(|o| o["title"] == "No identity acts in the logs that the inventory does not list")
        .unwrap();
    assert_eq!(shadow["methods"][0], "TEST");
    assert_eq!(shadow["types"][0], "finding");
    assert_eq!(shadow["collected"], "2026-11-03T00:00:00.000000Z");
    assert_eq!(shadow["expires"], "2026-11-10T00:00:00.000000Z");
    // Its subject is an inventory item naming the shadow role…
    let subject = shadow["subjects"][0]["subject-uuid"].as_str().unwrap();
    let item = result["local-definitions"]["inventory-items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["uuid"] == subject)
        .unwrap();
    assert_eq!(
        item["props"][0]["value"],
        "arn:aws:iam::111122223333:role/shadow-lambda-exec"
    );
    // …and its evidence is rows of the hashed events file that name it.
    let evidence = &shadow["relevant-evidence"][0];
    let href = evidence["href"].as_str().unwrap().trim_start_matches('#');
    let resource = ar["assessment-results"]["back-matter"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["uuid"] == href)
        .unwrap();
    let rlink = &resource["rlinks"][0];
    assert_eq!(rlink["href"], "../evidence/access_events.csv");
    let csv = std::fs::read(out.join("evidence/access_events.csv")).unwrap();
    assert_eq!(
        rlink["hashes"][0]["value"],
        proofpack::hash::sha256_hex(&csv)
    );
    let description = evidence["description"].as_str().unwrap();
    let rows: Vec<usize> = description
        .trim_start_matches("rows ")
        .split(" of ")
        .next()
        .unwrap()
        .split(", ")
        .map(|n| n.parse().unwrap())
        .collect();
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let principal = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "principal_id")
        .unwrap();
    for row in rows {
        assert_eq!(
            &records[row][principal],
            "arn:aws:iam::111122223333:role/shadow-lambda-exec"
        );
    }

    // The attestation is an INTERVIEW observation with its hashed file.
    let interview = observations
        .iter()
        .find(|o| o["methods"][0] == "INTERVIEW")
        .unwrap();
    assert!(interview["description"]
        .as_str()
        .unwrap()
        .contains("M. Rivera"));

    // The POA&M: an item per not-satisfied finding, and the waiver as an
    // accepted risk with its expiry.
    let poam = read_json(&out.join("oscal/poam.json"));
    let body = &poam["plan-of-action-and-milestones"];
    let not_satisfied = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["target"]["status"]["state"] == "not-satisfied")
        .count();
    let items = body["poam-items"].as_array().unwrap();
    assert_eq!(items.len(), not_satisfied + 1);
    let accepted = body["risks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "deviation-approved")
        .unwrap();
    assert_eq!(accepted["deadline"], "2027-01-31T23:59:59Z");
    assert!(accepted["statement"]
        .as_str()
        .unwrap()
        .contains("ops-automation"));

    // The SDR: KSI entries with statuses, tests and located evidence.
    let sdr = read_json(&out.join("fedramp/security-decision-record.json"));
    let ksis = sdr["keySecurityIndicators"].as_array().unwrap();
    let snu = ksis.iter().find(|k| k["ksiId"] == "KSI-IAM-SNU").unwrap();
    assert_eq!(snu["ksiImplementationStatus"], "Partially Implemented");
    assert!(snu["ksiImplementation"][0]
        .as_str()
        .unwrap()
        .starts_with("Workloads authenticate"));
    assert!(snu["ksiValidation"][0]
        .as_str()
        .unwrap()
        .contains("every 7 days (Class B"));
    assert!(snu["ksiEvidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["evidenceType"] == "Log"
            && e["evidenceLocation"]
                == "https://evidence.acme.example/payments/2026-11-03/evidence/access_events.csv"));
    // All of KSI-SVC-VCM's checks pass but they cover one of its two
    // controls; the provider states the other is implemented.
    let vcm = ksis.iter().find(|k| k["ksiId"] == "KSI-SVC-VCM").unwrap();
    assert_eq!(vcm["ksiImplementationStatus"], "Implemented");
    assert!(
        vcm.to_string().contains(
            "no check or attestation covers si-7.1. The provider states Implemented for the rest."
        ),
        "{vcm:#}"
    );
    // KSI-CNA-ULN's checks pass too, but cover 2 of its 8 controls and the
    // provider says nothing of the rest: at most partially implemented.
    let uln = ksis.iter().find(|k| k["ksiId"] == "KSI-CNA-ULN").unwrap();
    assert_eq!(uln["ksiImplementationStatus"], "Partially Implemented");
    assert!(
        uln.to_string()
            .contains("The checks alone measure Implemented"),
        "{uln:#}"
    );
    // What only the provider can write is listed, not invented.
    let manifest = read_json(&out.join("manifest.json"));
    let missing: Vec<&str> = manifest["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(
        missing.contains(&"ksi.KSI-CNA-ULN.implementation"),
        "{missing:?}"
    );
    assert!(uln["ksiImplementation"].as_array().unwrap().is_empty());
    assert!(
        missing.iter().any(|m| m.starts_with(
            "ksi.KSI-CNA-ULN.status (your statement for the controls no check covers: ac-12"
        )),
        "{missing:?}"
    );
    assert!(!missing
        .iter()
        .any(|m| m.starts_with("ksi.KSI-SVC-VCM.status")));
}

#[test]
fn reruns_are_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let config = repo().join("samples/proofpack.toml");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    // One history for both runs: the second replaces the first's entry.
    let history = tmp.path().join("history");
    for out in [&a, &b] {
        let (code, text, err) = generate(&config, out, &["--history", history.to_str().unwrap()]);
        assert_eq!(code, 0, "{text}{err}");
    }
    let files = |root: &Path| -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for e in walkdir::WalkDir::new(root).sort_by_file_name() {
            let e = e.unwrap();
            if e.file_type().is_file() {
                let rel = e.path().strip_prefix(root).unwrap().display().to_string();
                out.push((rel, std::fs::read(e.path()).unwrap()));
            }
        }
        out
    };
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.len(), fb.len());
    for ((na, ba), (nb, bb)) in fa.iter().zip(&fb) {
        assert_eq!(na, nb);
        assert!(ba == bb, "{na} differs between runs");
    }
}

#[test]
fn verify_catches_changed_missing_and_extra_files() {
    let (_tmp, out) = sample_package();
    // One byte of evidence.
    let csv = out.join("evidence/grants.csv");
    let mut bytes = std::fs::read(&csv).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x01;
    std::fs::write(&csv, bytes).unwrap();
    std::fs::remove_file(out.join("evidence/rejected.parquet")).unwrap();
    std::fs::write(out.join("evidence/extra.csv"), "a,b\n").unwrap();
    let (code, v) = verify(&out);
    assert_eq!(code, 1);
    assert_eq!(v["changed"], serde_json::json!(["evidence/grants.csv"]));
    assert_eq!(
        v["missing"],
        serde_json::json!(["evidence/rejected.parquet"])
    );
    assert_eq!(v["extra"], serde_json::json!(["evidence/extra.csv"]));
    // The results' own hash check sees the edited evidence too.
    assert!(v["documents"]["oscal/assessment-results.json"]
        .as_str()
        .unwrap()
        .starts_with("invalid"));
}

/// A package received from elsewhere may carry links: one the manifest
/// does not list is extra, and one put where a listed file was is missing
/// (a link has no hash of its own); neither target is read.
#[cfg(unix)]
#[test]
fn verify_reports_links_in_a_package_and_never_follows_them() {
    let (tmp, out) = sample_package();
    let outside = tmp.path().join("outside.csv");
    std::fs::write(&outside, "a,b\n").unwrap();
    std::os::unix::fs::symlink(&outside, out.join("evidence/linked.csv")).unwrap();
    let grants = out.join("evidence/grants.csv");
    let copy = tmp.path().join("grants.csv");
    std::fs::rename(&grants, &copy).unwrap();
    std::os::unix::fs::symlink(&copy, &grants).unwrap();
    let (code, v) = verify(&out);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["extra"], serde_json::json!(["evidence/linked.csv"]));
    assert_eq!(v["missing"], serde_json::json!(["evidence/grants.csv"]));
}

#[test]
fn a_failure_mid_run_leaves_no_package_and_config_errors_name_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let samples = repo().join("samples");
    // The attestation is read after ingest and checks: the run fails late.
    let text = std::fs::read_to_string(samples.join("proofpack.toml"))
        .unwrap()
        .replace(
            "attestations/nhi-access-review-2026Q3.md",
            "attestations/gone.md",
        );
    let config = samples.join(format!("test-missing-{}.toml", std::process::id()));
    std::fs::write(&config, text).unwrap();
    let out = tmp.path().join("package");
    let (code, _, err) = generate(&config, &out, &[]);
    std::fs::remove_file(&config).unwrap();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("attestations[0].file"), "{err}");
    assert!(!out.exists(), "no partial package");
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "no staging left behind"
    );

    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "[system]\nname = \"x\"\nowner = \"y\"\n").unwrap();
    let (code, _, err) = generate(&bad, &out, &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.toml:3:1:") && err.contains("owner"),
        "{err}"
    );
}

/// In both OSCAL releases the package passes NIST's schema, NIST's
/// Metaschema constraints and FedRAMP's external constraints, checked again
/// here by `validate` as an auditor would.
#[test]
fn packages_pass_nist_and_fedramp_constraints_in_both_releases() {
    let fedramp = shared().join("oscal/fedramp/constraints");
    let fedramp = fedramp.to_str().unwrap();
    for version in ["1.1.3", "1.2.1"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("package");
        let (code, text, err) = generate(
            &repo().join("samples/proofpack.toml"),
            &out,
            &["--oscal-version", version, "--fedramp-constraints", fedramp],
        );
        assert_eq!(code, 0, "{text}{err}");
        let (code, report) = validate_json(
            &[out.join("oscal")],
            &[
                "--strict",
                "--constraints",
                "all",
                "--fedramp-constraints",
                fedramp,
            ],
        );
        assert_eq!(code, 0, "{report:#}");
        for file in report["files"].as_array().unwrap() {
            let c = &file["constraints"];
            assert_eq!(c["failed"], 0, "{file:#}");
            assert!(c["passed"].as_u64().unwrap() > 50, "{c:#}");
            assert_eq!(c["metaschema_version"], version);
        }
        let ap = read_json(&out.join("oscal/assessment-plan.json"));
        let plan = &ap["assessment-plan"];
        assert_eq!(plan["metadata"]["oscal-version"], version);
        // The activity method sits in NIST's namespace (no `ns`).
        let props = plan["local-definitions"]["activities"][0]["props"]
            .as_array()
            .unwrap();
        assert!(props
            .iter()
            .any(|p| p["name"] == "method" && p.get("ns").is_none() && p["value"] == "TEST"));
        assert!(plan["metadata"]["published"].is_string());
        let manifest = read_json(&out.join("manifest.json"));
        let note = manifest.to_string();
        assert!(note.contains("FedRAMP's external constraints"), "{note}");
        assert!(note.contains("0 failed"), "{note}");
        assert!(
            note.contains("fedramp-external-constraints.xml sha256:"),
            "{note}"
        );
    }
}

#[test]
fn the_real_samples_become_a_valid_package() {
    let tmp = tempfile::tempdir().unwrap();
    let real = shared().join("samples-real");
    let config = tmp.path().join("proofpack.toml");
    std::fs::write(
        &config,
        format!(
            r#"[system]
name = "Public samples"
description = "Every public log, inventory and policy sample"
organization = "proofpack tests"
impact = "moderate"
boundary = "the samples"
overview_uri = "https://example.com/overview"

[window]
until = 2025-01-01T00:00:00Z

[inputs]
logs = ["{r}/cloudtrail", "{r}/k8s-audit", "{r}/identity-logs", "{r}/ocsf"]
inventories = ["{r}/inventories"]
policies = ["{r}/policies"]

[output]
base_uri = "https://evidence.example.com/pkg/"
"#,
            r = real.display()
        ),
    )
    .unwrap();
    let out = tmp.path().join("package");
    let (code, text, err) = generate(&config, &out, &[]);
    assert_eq!(code, 0, "{text}{err}");
    assert!(text.contains("Security Decision Record: valid"), "{text}");
    let (code, report) = validate_json(&[out.join("oscal")], &["--strict"]);
    assert_eq!(code, 0, "{report:#}");
    let ar = read_json(&out.join("oscal/assessment-results.json"));
    // Moderate impact without a class: 3-day cadence.
    assert_eq!(
        ar["assessment-results"]["results"][0]["observations"][0]["expires"],
        "2025-01-04T00:00:00.000000Z"
    );
    assert_eq!(finding_state(&ar, "ac-6"), "not-satisfied");
    let (code, v) = verify(&out);
    assert_eq!(code, 0, "{v:#}");
}

fn chromium() -> PathBuf {
    let path = std::env::var_os("PROOFPACK_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "{} not found: install Debian's chromium (apt-get install chromium; .ci/run does) or set PROOFPACK_CHROMIUM",
        path.display()
    );
    path
}

/// The headings of a Markdown document, in order, as a CommonMark
/// renderer reads them (level, text).
fn markdown_headings(md: &str) -> Vec<(u8, String)> {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut out = Vec::new();
    let mut current: Option<(u8, String)> = None;
    for event in Parser::new(md) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                current = Some((level as u8, String::new()))
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, text)) = current.as_mut() {
                    text.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => out.extend(current.take()),
            _ => {}
        }
    }
    out
}

#[test]
fn the_summaries_lead_with_what_fails_in_a_browser_and_a_commonmark_renderer() {
    let (_tmp, out) = sample_package();
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    // As a CommonMark renderer reads it: the title, then what needs doing,
    // whose first check fails, before the frameworks (counts only) and
    // the appendix with their items.
    let headings = markdown_headings(&md);
    assert_eq!(
        headings[0],
        (1, "NHI evidence summary: Acme Payments API".to_string())
    );
    let at = |text: &str| {
        headings
            .iter()
            .position(|(_, t)| t == text)
            .unwrap_or_else(|| panic!("no heading {text}: {headings:?}"))
    };
    let needs = at("What needs doing");
    assert_eq!(needs, 1, "{headings:?}");
    assert!(headings[needs + 1].1.starts_with("FAIL"), "{headings:?}");
    assert!(at("Frameworks") > needs && at("Appendix: framework items") > at("Frameworks"));
    // Then what the provider still has to supply, grouped.
    assert!(at("What the provider still has to supply") > needs);
    assert!(md.contains("- KSI implementation texts ("), "{md}");
    let frameworks = md
        .split("## Frameworks")
        .nth(1)
        .unwrap()
        .split("## ")
        .next()
        .unwrap();
    assert!(
        !frameworks.contains("| KSI-"),
        "framework items belong in the appendix"
    );
    // Times read like times in prose.
    assert!(
        md.contains("Window: 2026-10-27 00:00 UTC to 2026-11-03 00:00 UTC"),
        "{md}"
    );
    assert!(!md.lines().take(5).any(|l| l.contains("T00:00:00")), "{md}");
    assert!(md.contains("**arn:aws:iam::111122223333:role/shadow-lambda-exec**: acts in 2 event(s) but is in no inventory — evidence: [access_events row"));
    assert!(
        md.contains("*waived until 2027-01-31*: **arn:aws:iam::111122223333:role/ops-automation**")
    );
    // "Not covered" items fold into one line per framework.
    assert!(md.contains("Not covered by any check ("), "{md}");
    // The agent, by its inventory entry and by the framework its calls name.
    let agents = md
        .split("## AI agents and third-party identities")
        .nth(1)
        .unwrap();
    assert!(
        agents.contains("| support-agent | agent | agent |"),
        "{agents}"
    );
    assert!(agents.contains("user agent names LangChain"), "{agents}");

    let html = out.join("summary.html");
    let text = std::fs::read_to_string(&html).unwrap();
    for external in ["<script", "<link", "src=\"http", "url(http", "@import"] {
        assert!(!text.contains(external), "not self-contained: {external}");
    }
    // Frameworks are counts until opened; print shows them whole.
    assert!(
        text.contains("<details id=\"framework-fedramp-20x-ksi\">"),
        "{text}"
    );
    assert!(text.contains("@media print"));
    // Every evidence link resolves to a file in the package.
    let hrefs = regex::Regex::new(r#"href="([^"]+)""#).unwrap();
    let mut links = 0;
    for href in hrefs.captures_iter(&text) {
        links += 1;
        // minijinja escapes `/` in attributes as `&#x2f;`.
        let target = href[1].replace("&#x2f;", "/");
        let target = target.split('#').next().unwrap_or_default();
        assert!(out.join(target).is_file(), "{target} does not resolve");
    }
    assert!(links > 10);

    // As an assessor sees it, at 1280x800: a copy with a probe script (the
    // page itself has none) records where the first failing check starts.
    let probe = out.with_file_name("summary-probe.html");
    std::fs::write(
        &probe,
        text.replace(
            "</body>",
            "<script>document.body.setAttribute('data-first-check-top', \
             String(Math.round(document.querySelector('.check').getBoundingClientRect().top)));\
             document.body.setAttribute('data-first-check-status', \
             document.querySelector('.check .status').textContent);</script></body>",
        ),
    )
    .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let browse = |extra: &[String], page: &Path| {
        std::process::Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=1280,800",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .output()
            .unwrap()
    };
    let output = browse(&["--dump-dom".to_string()], &probe);
    let dom = String::from_utf8_lossy(&output.stdout);
    let top: i64 = dom
        .split("data-first-check-top=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no probe result in {dom}"));
    assert!(
        top < 800,
        "the first failing check starts {top}px down, below the fold"
    );
    assert!(dom.contains("data-first-check-status=\"FAIL\""), "{dom}");
    assert!(
        dom.contains("<h1>NHI evidence summary: Acme Payments API</h1>"),
        "{dom}"
    );
    for chart in [
        "chart-activity",
        "chart-credential_age",
        "chart-credential_mix",
    ] {
        let figure = dom
            .split(&format!("id=\"{chart}\""))
            .nth(1)
            .unwrap_or_else(|| panic!("{chart} missing"));
        let figure = figure.split("</figure>").next().unwrap();
        assert!(
            figure.contains("<svg") && figure.contains("class=\"bar\""),
            "{chart} has no bars"
        );
    }
    // The first screen, kept as a test artifact.
    let artifacts = repo().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("summary-first-screen.png");
    let _ = std::fs::remove_file(&shot);
    browse(&[format!("--screenshot={}", shot.display())], &html);
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000),
        "no screenshot"
    );
}

#[test]
fn a_broken_template_is_named_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let templates = tmp.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("summary.md.j2"),
        "# {{ system.name }}\n\n{% for c in checks %}\n{{ c.id }\n",
    )
    .unwrap();
    let text = std::fs::read_to_string(repo().join("samples/proofpack.toml"))
        .unwrap()
        .replace(
            "[output]\n",
            &format!("[output]\ntemplates = \"{}\"\n", templates.display()),
        );
    let config = repo().join(format!(
        "samples/test-templates-{}.toml",
        std::process::id()
    ));
    std::fs::write(&config, text).unwrap();
    let out = tmp.path().join("package");
    let (code, _, err) = generate(&config, &out, &[]);
    std::fs::remove_file(&config).unwrap();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("templates/summary.md.j2:4:"), "{err}");
    assert!(!out.exists());
}

#[test]
fn history_accumulates_across_runs_and_feeds_the_ksi_records() {
    let tmp = tempfile::tempdir().unwrap();
    let history = tmp.path().join("history");
    let text = std::fs::read_to_string(repo().join("samples/proofpack.toml"))
        .unwrap()
        .replace(
            "dir = \"../target/history\"",
            &format!("dir = \"{}\"", history.display()),
        );
    let config = repo().join(format!("samples/test-history-{}.toml", std::process::id()));
    std::fs::write(&config, text).unwrap();
    let first = tmp.path().join("first");
    let second = tmp.path().join("second");
    let (c1, _, e1) = generate(
        &config,
        &first,
        &["--until", "2026-10-31", "--window", "4d"],
    );
    let (c2, _, e2) = generate(&config, &second, &[]);
    std::fs::remove_file(&config).unwrap();
    assert_eq!((c1, c2), (0, 0), "{e1}{e2}");

    let cache = tempfile::tempdir().unwrap();
    let out = run(proofpack(cache.path())
        .arg("history")
        .arg("--dir")
        .arg(&history)
        .args(["--kind", "ksi", "--id", "KSI-IAM-SNU", "--json"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let series: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(series[0]["runs_in_30_days"], 2);
    let daily = series[0]["daily"].as_object().unwrap();
    assert_eq!(
        daily.keys().collect::<Vec<_>>(),
        vec!["2026-10-31", "2026-11-03"]
    );

    // Beside each check, what changed since the first run.
    let before = read_json(&first.join("checks.json"));
    let after = read_json(&second.join("checks.json"));
    let md = std::fs::read_to_string(second.join("summary.md")).unwrap();
    let mut changes = 0;
    for r in after["results"].as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        let now = r["status"].as_str().unwrap();
        let was = before["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["id"] == id)
            .map(|b| b["status"].as_str().unwrap())
            .unwrap();
        let expected = match (now == "fail", was == "fail") {
            (true, true) => Some("still failing".to_string()),
            (true, false) => Some(format!("new (was {was})")),
            (false, true) => Some(format!("fixed (now {now})")),
            _ => None,
        };
        let heading = format!("(`{id}`) · ");
        match expected {
            Some(e) => {
                changes += 1;
                assert!(
                    md.contains(&format!("{heading}{e} since the last run")),
                    "{id}: {e}"
                );
            }
            None => assert!(!md.contains(&heading), "{id} has no change"),
        }
    }
    assert!(changes > 0);

    let sdr = read_json(&second.join("fedramp/security-decision-record.json"));
    let snu = sdr["keySecurityIndicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["ksiId"] == "KSI-IAM-SNU")
        .unwrap();
    assert!(snu["ksiValidation"].as_array().unwrap().iter().any(|v| v
        .as_str()
        .unwrap()
        .starts_with("History: 2 run(s) in the 30 days to 2026-11-03")));
    let kept = read_json(&second.join("fedramp/ksi-history.json"));
    assert!(kept["series"].as_array().unwrap().len() > 16);
    let html = std::fs::read_to_string(second.join("summary.html")).unwrap();
    assert!(html.contains("id=\"chart-ksi_trend\""));
    let problems =
        proofpack::generate::fedramp_schema::validate_sdr(&fedramp_schemas(), &sdr).unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn diff_tells_what_changed_and_gates_on_it() {
    let tmp = tempfile::tempdir().unwrap();
    let config = repo().join("samples/proofpack.toml");
    let (old, new) = (tmp.path().join("old"), tmp.path().join("new"));
    let junit = tmp.path().join("checks.xml");
    let (c1, _, e1) = generate(&config, &old, &["--until", "2026-10-30", "--window", "3d"]);
    let (c2, _, e2) = generate(
        &config,
        &new,
        &[
            "--fail-on",
            "not-satisfied",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(c1, 0, "{e1}");
    assert_eq!(
        c2, 1,
        "--fail-on not-satisfied: the package is written, the exit says it fails: {e2}"
    );
    assert!(new.join("manifest.json").exists());
    assert!(std::fs::read_to_string(&junit)
        .unwrap()
        .contains("<testsuites name=\"proofpack\" tests=\"21\""));

    let cache = tempfile::tempdir().unwrap();
    let out = run(proofpack(cache.path())
        .arg("diff")
        .arg(&old)
        .arg(&new)
        .arg("--json"));
    assert_eq!(
        out.status.code(),
        Some(1),
        "something is newly not satisfied"
    );
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The shadow role first acts on 2026-10-30 (day 4): new in the later window.
    assert!(
        d["identities_added"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == "arn:aws:iam::111122223333:role/shadow-lambda-exec"),
        "{d:#}"
    );
    assert_eq!(
        d["checks_changed"]["shadow-nhis"],
        serde_json::json!(["pass", "fail"])
    );
    assert!(
        d["newly_not_satisfied"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "cm-8.3"),
        "{d:#}"
    );
    // Two assessment-results files work too; the same file twice changes nothing.
    let ar = new.join("oscal/assessment-results.json");
    let out = run(proofpack(cache.path()).arg("diff").arg(&ar).arg(&ar));
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("newly not satisfied: 0"));
}

#[test]
fn progress_lines_a_closing_summary_and_quiet() {
    let tmp = tempfile::tempdir().unwrap();
    let config = repo().join("samples/proofpack.toml");
    let (code, out, err) = generate(&config, &tmp.path().join("a"), &[]);
    assert_eq!(code, 0, "{err}");
    // Not a terminal: plain progress lines on stderr, then one closing line.
    assert!(err.contains("proofpack: reading the inputs\n"), "{err}");
    assert!(err.contains("proofpack: read 15 of 15 input(s)\n"), "{err}");
    assert!(
        err.contains("proofpack: validating the documents\n"),
        "{err}"
    );
    let last = out.lines().last().unwrap();
    assert!(
        last.starts_with("proofpack: 15 file(s), 123 record(s), 21 check(s): 10 pass, 8 fail;"),
        "{last}"
    );
    let (code, out, err) = generate(&config, &tmp.path().join("b"), &["--quiet"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "");
    assert_eq!(err, "");
}

/// Days from the scenario's evaluation time (2026-11-03) to `date`.
fn days_after_evaluation(date: &str) -> i64 {
    let due = chrono::DateTime::parse_from_rfc3339(date).unwrap();
    let evaluated = chrono::DateTime::parse_from_rfc3339("2026-11-03T00:00:00Z").unwrap();
    (due - evaluated).num_days()
}

/// FedRAMP's VDR-TFR-PVR timeframe in days, read from FedRAMP's file.
fn fedramp_days(class: &str, pain: u8, exposure: &str) -> i64 {
    let cr26 =
        read_json(&shared().join("frameworks/fedramp-20x/cr26/fedramp-consolidated-rules.json"));
    let t = &cr26["FRR"]["VDR"]["data"]["all"]["TFR"]["VDR-TFR-PVR"]["varies_by_class"][class]
        ["pain_timeframes"][pain.to_string()][exposure];
    assert_eq!(t["timeframe_type"], "days", "{t}");
    t["timeframe_num"].as_i64().unwrap()
}

/// Every failing check's risk is due when FedRAMP's timeframe for the
/// system's class says (by the check's severity), each POA&M item when the
/// first of its risks is, and the config moves both.
#[test]
fn poam_deadlines_follow_fedramps_timeframes_and_the_config() {
    let (_tmp, out) = sample_package();
    let checks = read_json(&out.join("checks.json"));
    let poam = read_json(&out.join("oscal/poam.json"));
    let body = &poam["plan-of-action-and-milestones"];
    let risks = body["risks"].as_array().unwrap();
    let failing: Vec<&Value> = checks["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "fail")
        .collect();
    assert!(failing.len() >= 2);
    let risk_of = |title: &Value| {
        risks
            .iter()
            .find(|r| {
                r["status"] == "open"
                    && r["title"] == format!("{}: not met", title.as_str().unwrap())
            })
            .unwrap()
    };
    for check in &failing {
        let risk = risk_of(&check["title"]);
        let pain = match check["severity"].as_str().unwrap() {
            "high" => 4,
            "moderate" => 3,
            _ => 2,
        };
        let deadline = risk["deadline"].as_str().unwrap();
        assert_eq!(
            days_after_evaluation(deadline),
            fedramp_days("b", pain, "irv_lev"),
            "{}",
            check["id"]
        );
        let props = risk["props"].to_string();
        assert!(
            props.contains("VDR-TFR-PVR") && props.contains(&format!("N{pain}")),
            "{props}"
        );
        let milestone = &risk["remediations"][0]["tasks"][0];
        assert_eq!(milestone["type"], "milestone");
        assert_eq!(milestone["timing"]["on-date"]["date"], deadline);
    }
    for item in body["poam-items"].as_array().unwrap() {
        let Some(related) = item["related-risks"].as_array() else {
            continue;
        };
        let open: Vec<&str> = related
            .iter()
            .filter_map(|r| {
                risks
                    .iter()
                    .find(|k| k["uuid"] == r["risk-uuid"] && k["status"] == "open")
            })
            .filter_map(|k| k["deadline"].as_str())
            .collect();
        if open.is_empty() {
            continue;
        }
        let first = open.iter().min().unwrap();
        let props = item["props"].as_array().unwrap();
        assert!(
            props
                .iter()
                .any(|p| p["name"] == "remediation-deadline" && p["value"] == *first),
            "{item:#}"
        );
        assert!(props
            .iter()
            .any(|p| p["name"] == "remediation-rule" && p["value"] == "VDR-TFR-PVR"));
        assert!(item["description"]
            .as_str()
            .unwrap()
            .contains(&format!("Due {first}")));
    }
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains("POA&M deadline"),
        "the summary shows deadlines"
    );
    assert!(summary.contains("FedRAMP controls the evidence covers"));

    // Class D, every check not likely exploitable, and one check the
    // provider gives 10 days.
    let own = failing[0]["id"].as_str().unwrap();
    let text = std::fs::read_to_string(repo().join("samples/proofpack.toml"))
        .unwrap()
        .replace("class = \"B\"", "class = \"D\"")
        .replace("exposure = \"irv_lev\"", "exposure = \"nlev\"")
        + &format!("\n[poam.checks.{own}]\ndays = 10\n");
    let config = repo().join(format!("samples/test-poam-{}.toml", std::process::id()));
    std::fs::write(&config, text).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("package");
    let (code, text, err) = generate(&config, &out, &[]);
    std::fs::remove_file(&config).unwrap();
    assert_eq!(code, 0, "{text}{err}");
    let poam = read_json(&out.join("oscal/poam.json"));
    let risks = poam["plan-of-action-and-milestones"]["risks"]
        .as_array()
        .unwrap();
    for check in &failing {
        let risk = risks
            .iter()
            .find(|r| r["title"] == format!("{}: not met", check["title"].as_str().unwrap()))
            .unwrap();
        let days = days_after_evaluation(risk["deadline"].as_str().unwrap());
        if check["id"] == own {
            assert_eq!(days, 10);
            assert!(risk["props"]
                .to_string()
                .contains(&format!("[poam.checks.{own}] days")));
        } else {
            let pain = if check["severity"] == "high" {
                4
            } else if check["severity"] == "moderate" {
                3
            } else {
                2
            };
            assert_eq!(days, fedramp_days("d", pain, "nlev"), "{}", check["id"]);
        }
    }

    // A rating outside FedRAMP's N1-N5 is refused with its line.
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[system]\nname = \"x\"\ndescription = \"d\"\norganization = \"o\"\nboundary = \"b\"\n\n[poam.pain]\nhigh = 7\n",
    )
    .unwrap();
    let (code, _, err) = generate(&bad, &tmp.path().join("p2"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("bad.toml:8:") && err.contains("N-rating is 1 to 5"),
        "{err}"
    );
}

/// The smallest config a user can write (no class, impact, overview URI,
/// output folder in the file, marking, history or KSI texts) makes a valid
/// package: the plan imports the provider's system by its identifier
/// instead of pointing at a file of the package that is no SSP.
#[test]
fn the_smallest_config_makes_a_valid_package() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = repo().join("samples/logs/cloudtrail");
    let config = tmp.path().join("proofpack.toml");
    std::fs::write(
        &config,
        format!(
            "[system]\nname = \"Minimal\"\ndescription = \"d\"\norganization = \"o\"\nboundary = \"b\"\n\n[window]\nsince = 2026-10-27T00:00:00Z\nuntil = 2026-11-03T00:00:00Z\n\n[inputs]\nlogs = [{:?}]\n",
            logs.display().to_string()
        ),
    )
    .unwrap();
    let out = tmp.path().join("package");
    let (code, text, err) = generate(&config, &out, &[]);
    assert_eq!(code, 0, "{text}{err}");
    // `--history` (which `generate()` passes) is where the run is kept,
    // though the config names no history folder.
    assert!(
        std::fs::read_dir(out.with_extension("history"))
            .map(|mut d| d.next().is_some())
            .unwrap_or(false),
        "{err}"
    );
    assert!(!err.contains("not kept for trends"), "{err}");
    let ap = read_json(&out.join("oscal/assessment-plan.json"));
    let href = ap["assessment-plan"]["import-ssp"]["href"]
        .as_str()
        .unwrap();
    let resource = ap["assessment-plan"]["back-matter"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| format!("#{}", r["uuid"].as_str().unwrap()) == href)
        .unwrap();
    assert!(resource["rlinks"][0]["href"]
        .as_str()
        .unwrap()
        .starts_with("urn:uuid:"));
    let (code, v) = verify(&out);
    assert_eq!(code, 0, "{v:#}");
}

/// Every optional key of the bundled config is optional in fact: without
/// any one of them the package is still made and verified.
#[test]
fn each_optional_config_key_can_be_left_out() {
    let text = std::fs::read_to_string(repo().join("samples/proofpack.toml")).unwrap();
    let full: toml::Table = toml::from_str(&text).unwrap();
    let optional: [&[&str]; 12] = [
        &["system", "class"],
        &["system", "overview_uri"],
        &["window", "since"],
        &["output", "dir"],
        &["output", "base_uri"],
        &["output"],
        &["history"],
        &["checks"],
        &["waivers"],
        &["attestations"],
        &["ksi"],
        &["poam"],
    ];
    for path in optional {
        let mut config = full.clone();
        match path {
            [key] => {
                config.remove(*key);
            }
            [table, key] => {
                if let Some(toml::Value::Table(t)) = config.get_mut(*table) {
                    t.remove(*key);
                }
            }
            _ => unreachable!(),
        }
        let name = format!(
            "samples/test-optional-{}-{}.toml",
            path.join("-"),
            std::process::id()
        );
        let file = repo().join(&name);
        std::fs::write(&file, toml::to_string(&config).unwrap()).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("package");
        let (code, text, err) = generate(&file, &out, &[]);
        std::fs::remove_file(&file).unwrap();
        assert_eq!(code, 0, "without {}: {text}{err}", path.join("."));
        let (code, v) = verify(&out);
        assert_eq!(code, 0, "without {}: {v:#}", path.join("."));
    }
}
