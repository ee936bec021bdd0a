//! `proofpack validate` on the official corpus and on bad input.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;

use serde_json::Value;

use crate::util::*;

fn diagnostics(file: &Value) -> &Vec<Value> {
    file["diagnostics"].as_array().unwrap()
}

/// Every NIST example and every FedRAMP OSCAL file passes the official
/// schema of the version it declares; FedRAMP's four non-OSCAL resource
/// files are skipped, not failed.
#[test]
fn official_corpus_passes_the_official_schemas() {
    let (_, report) = validate_json(&[examples(), shared().join("oscal/fedramp")], &[]);
    let files = report["files"].as_array().unwrap();
    let mut oscal = 0;
    let mut skipped = Vec::new();
    for file in files {
        let path = file["path"].as_str().unwrap();
        match file["status"].as_str().unwrap() {
            "skipped" => skipped.push(path.rsplit('/').next().unwrap().to_string()),
            "error" => panic!("{path} was not validated: {}", file["note"]),
            _ => {
                oscal += 1;
                assert_eq!(file["schema_version"], file["declared_version"], "{path}");
                let schema_errors: Vec<&Value> = diagnostics(file)
                    .iter()
                    .filter(|d| {
                        d["rule"] == "schema"
                            || d["rule"] == "not-json"
                            || d["rule"] == "oscal-version"
                    })
                    .collect();
                assert!(schema_errors.is_empty(), "{path}: {schema_errors:#?}");
            }
        }
    }
    assert_eq!(oscal, 30, "20 NIST examples and 10 FedRAMP OSCAL files");
    skipped.sort();
    assert_eq!(
        skipped,
        [
            "FedRAMP_extensions.json",
            "fedramp_threats.json",
            "fedramp_values.json",
            "information-types.json"
        ]
    );
}

/// The reference checks go beyond the schema, and they find real defects in
/// the published documents. This pins exactly which, so a regression in
/// either direction (a defect missed, a false alarm) fails.
#[test]
fn reference_checks_find_exactly_the_known_upstream_defects() {
    let (code, report) = validate_json(&[examples(), shared().join("oscal/fedramp")], &[]);
    assert_eq!(code, 1);
    let mut found = Vec::new();
    for file in report["files"].as_array().unwrap() {
        let name = file["path"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        for d in diagnostics(file)
            .iter()
            .filter(|d| d["severity"] == "error" && d["rule"] != "constraint")
        {
            found.push(format!(
                "{name} {} {}",
                d["rule"].as_str().unwrap(),
                d["pointer"].as_str().unwrap()
            ));
        }
    }
    let golden = include_str!("../golden/upstream-defects.txt");
    let expected: Vec<&str> = golden
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(found, expected, "found:\n{}", found.join("\n"));
}

/// NIST's and FedRAMP's constraints over every NIST example and FedRAMP
/// file: the violations they really have, pinned per file and constraint.
#[test]
fn constraint_checks_find_exactly_the_known_upstream_defects() {
    let fedramp = shared().join("oscal/fedramp/constraints");
    let (code, report) = validate_json(
        &[examples(), shared().join("oscal/fedramp")],
        &[
            "--constraints",
            "all",
            "--fedramp-constraints",
            fedramp.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1);
    let mut counts: std::collections::BTreeMap<(String, String), usize> = Default::default();
    let mut applied = 0;
    let mut not_evaluated = 0;
    for file in report["files"].as_array().unwrap() {
        let name = file["path"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        if let Some(summary) = file.get("constraints") {
            applied += summary["applied"].as_u64().unwrap();
            not_evaluated += summary["not_evaluated"].as_u64().unwrap();
            // Every source is named with its hash in every report.
            assert!(summary["sources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["file"] == "fedramp-external-constraints.xml"
                    && s["sha256"].as_str().unwrap().len() == 64));
        }
        for d in diagnostics(file)
            .iter()
            .filter(|d| d["severity"] == "error" && d["rule"] == "constraint")
        {
            let id = d["constraint"]["id"].as_str().unwrap().to_string();
            *counts.entry((name.clone(), id)).or_default() += 1;
        }
    }
    let found: Vec<String> = counts
        .iter()
        .map(|((name, id), n)| format!("{n} {name} {id}"))
        .collect();
    let golden = include_str!("../golden/upstream-constraint-defects.txt");
    let expected: Vec<&str> = golden
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(found, expected, "found:\n{}", found.join("\n"));
    // Over 90% of the constraints that apply are evaluated.
    assert!(
        not_evaluated * 10 < applied,
        "{not_evaluated} of {applied} applied constraints not evaluated"
    );
}

/// Examples whose imports are laid out locally resolve every reference: the
/// IFA assessment results → plan → SSP chain is clean end to end.
#[test]
fn nist_assessment_chain_resolves_completely() {
    let dir = tempfile::tempdir().unwrap();
    let mut ar = read_json(&examples().join("ar/json/ifa_assessment-results-example.json"));
    ar["assessment-results"]["import-ap"]["href"] = "ap.json".into();
    let mut ap = read_json(&examples().join("ap/json/ifa_assessment-plan-example.json"));
    ap["assessment-plan"]["import-ssp"]["href"] = "ssp.json".into();
    write_json(&dir.path().join("ar.json"), &ar);
    write_json(&dir.path().join("ap.json"), &ap);
    std::fs::copy(
        examples().join("ssp/json/ifa_ssp-example.json"),
        dir.path().join("ssp.json"),
    )
    .unwrap();
    let ar_path = dir.path().join("ar.json");
    let (code, report) = validate_json(&[&ar_path], &["--strict"]);
    assert_eq!(code, 0, "{report:#}");
    let file = file_report(&report, &ar_path);
    assert_eq!(file["status"], "valid");
    assert!(diagnostics(file).is_empty());
}

#[test]
fn text_output_names_file_line_column_pointer_and_keyword() {
    let dir = tempfile::tempdir().unwrap();
    let mut ar = read_json(&examples().join("ar/json/ifa_assessment-results-example.json"));
    ar["assessment-results"]["results"][0]["observations"][0]
        .as_object_mut()
        .unwrap()
        .remove("methods");
    let path = dir.path().join("ar.json");
    write_json(&path, &ar);
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path()).arg("validate").arg(&path));
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let line = text
        .lines()
        .find(|l| l.contains("missing required `methods`"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains(&format!("{}:", path.display())), "{line}");
    assert!(
        line.contains("error[schema] observation [0] is missing required `methods`"),
        "{line}"
    );
    // The observation object starts on a line of its own in pretty JSON.
    let position = line
        .split(": error")
        .next()
        .unwrap()
        .rsplit(&format!("{}:", path.display()))
        .next()
        .unwrap();
    let (l, c) = position.split_once(':').unwrap();
    let pretty = std::fs::read_to_string(&path).unwrap();
    let target_line = pretty.lines().nth(l.parse::<usize>().unwrap() - 1).unwrap();
    assert_eq!(
        target_line.chars().nth(c.parse::<usize>().unwrap() - 1),
        Some('{'),
        "{target_line}"
    );
    assert!(
        text.contains("at /assessment-results/results/0/observations/0, keyword `required`"),
        "{text}"
    );
}

#[test]
fn sarif_output_is_sarif_2_1_0_with_regions() {
    let dir = tempfile::tempdir().unwrap();
    let mut ar = read_json(&examples().join("ar/json/ifa_assessment-results-example.json"));
    ar["assessment-results"]["metadata"]["last-modified"] = "2024-02-30T10:00:00Z".into();
    ar["assessment-results"]["metadata"]["props"] =
        serde_json::json!([{"name": "colour", "value": "blue"}]);
    let path = dir.path().join("ar.json");
    write_json(&path, &ar);
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .args(["validate", "--format", "sarif"])
        .arg(&path));
    assert_eq!(output.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_valid_sarif(&sarif);
    let run0 = &sarif["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "proofpack");
    let results = run0["results"].as_array().unwrap();
    let date = results
        .iter()
        .find(|r| r["properties"]["jsonPointer"] == "/assessment-results/metadata/last-modified")
        .expect("a result for the bad date");
    assert_eq!(date["level"], "error");
    assert_eq!(date["ruleId"], "schema");
    let region = &date["locations"][0]["physicalLocation"]["region"];
    assert!(region["startLine"].as_u64().unwrap() > 1);
    assert!(region["startColumn"].as_u64().unwrap() > 1);
    let rule_index = date["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(run0["tool"]["driver"]["rules"][rule_index]["id"], "schema");
    assert!(date["message"]["text"]
        .as_str()
        .unwrap()
        .contains("no 30 February"));
    // A constraint result carries the constraint's id as its rule, with the
    // rule described in the driver and the category kept apart.
    let constraint = results
        .iter()
        .find(|r| r["properties"]["jsonPointer"] == "/assessment-results/metadata/props/0/name")
        .expect("a result for the prop name");
    assert_eq!(constraint["properties"]["category"], "constraint");
    let id = constraint["ruleId"].as_str().unwrap();
    assert!(id.contains("oscal_metadata_metaschema.xml:407"), "{id}");
    assert!(run0["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == id));
}

#[test]
fn reads_standard_input() {
    let cache = tempfile::tempdir().unwrap();
    let mut child = proofpack(cache.path())
        .args(["validate", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let doc = std::fs::read(examples().join("catalog/json/basic-catalog.json")).unwrap();
    child.stdin.take().unwrap().write_all(&doc).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("<stdin>: valid (catalog, OSCAL 1.1.2)"));
}

#[test]
fn unknown_version_falls_back_to_nearest_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = read_json(&examples().join("catalog/json/basic-catalog.json"));
    doc["catalog"]["metadata"]["oscal-version"] = "1.1.0".into();
    let path = dir.path().join("c.json");
    write_json(&path, &doc);
    let (code, report) = validate_json(&[&path], &[]);
    assert_eq!(code, 0);
    let file = file_report(&report, &path);
    assert_eq!(file["schema_version"], "1.1.2");
    assert_eq!(diagnostics(file)[0]["rule"], "oscal-version");
    assert_eq!(diagnostics(file)[0]["severity"], "warning");
    // --oscal-version forces a release.
    let (code, report) = validate_json(&[&path], &["--oscal-version", "1.2.1"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(file_report(&report, &path)["schema_version"], "1.2.1");
}

#[test]
fn exit_codes_distinguish_invalid_from_unusable() {
    let cache = tempfile::tempdir().unwrap();
    let missing = run(proofpack(cache.path()).args(["validate", "/no/such/file.json"]));
    assert_eq!(missing.status.code(), Some(2));
    assert!(stdout(&missing).contains("NOT VALIDATED"));
    assert!(stderr(&missing).contains("/no/such/file.json"));

    let usage = run(proofpack(cache.path()).args(["validate", "--format", "xml", "x.json"]));
    assert_eq!(usage.status.code(), Some(2));

    let valid = run(proofpack(cache.path())
        .arg("validate")
        .arg(examples().join("catalog/json/basic-catalog.json")));
    assert_eq!(valid.status.code(), Some(0));
}

#[test]
fn no_schema_found_names_the_fetch_command_and_the_flag() {
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .env_remove("PROOFPACK_SCHEMA_DIR")
        .arg("validate")
        .arg(examples().join("catalog/json/basic-catalog.json")));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("proofpack schemas fetch --oscal-version 1.1.2"),
        "{err}"
    );
    assert!(err.contains("--schema-dir"), "{err}");
}

#[test]
fn an_edited_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v1.1.2");
    std::fs::create_dir_all(&v).unwrap();
    let mut schema = std::fs::read(schema_dir().join("v1.1.2/oscal_catalog_schema.json")).unwrap();
    schema.extend_from_slice(b"\n");
    std::fs::write(v.join("oscal_catalog_schema.json"), schema).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path())
        .arg("validate")
        .arg("--schema-dir")
        .arg(dir.path())
        .arg(examples().join("catalog/json/basic-catalog.json")));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("differs from the pinned"),
        "{}",
        stderr(&output)
    );
}

/// Hostile and broken input: clear errors with positions, never a panic.
#[test]
fn bad_input_gets_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let catalog = std::fs::read(examples().join("catalog/json/basic-catalog.json")).unwrap();
    std::fs::write(p("truncated.json"), &catalog[..catalog.len() / 2]).unwrap();
    std::fs::write(p("empty.json"), b"").unwrap();
    std::fs::write(p("binary.json"), [0u8, 159, 146, 150, 255]).unwrap();
    std::fs::write(
        p("deep.json"),
        format!("{{\"catalog\": {}", "[".repeat(100_000)),
    )
    .unwrap();
    std::fs::write(p("array.json"), b"[1, 2, 3]").unwrap();
    std::fs::write(p("typo-root.json"), b"{\"assessment-result\": {}}").unwrap();
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&catalog);
    std::fs::write(p("bom.json"), bom).unwrap();
    // A 1 GB file (sparse: no disk or memory used) is refused by size first.
    std::fs::File::create(p("huge.json"))
        .unwrap()
        .set_len(1_000_000_000)
        .unwrap();

    let names = [
        "truncated",
        "empty",
        "binary",
        "deep",
        "array",
        "typo-root",
        "bom",
        "huge",
    ];
    let paths: Vec<PathBuf> = names.iter().map(|n| p(&format!("{n}.json"))).collect();
    let (code, report) = validate_json(&paths, &[]);
    assert_eq!(code, 1);
    let first =
        |name: &str| diagnostics(file_report(&report, &p(&format!("{name}.json"))))[0].clone();

    let truncated = first("truncated");
    assert_eq!(truncated["rule"], "not-json");
    assert!(truncated["message"].as_str().unwrap().contains("truncated"));
    assert!(truncated["line"].as_u64().unwrap() > 100);
    assert_eq!(first("empty")["rule"], "not-json");
    assert_eq!(first("binary")["rule"], "not-json");
    assert!(first("deep")["message"]
        .as_str()
        .unwrap()
        .contains("128 levels"));
    assert!(first("array")["message"]
        .as_str()
        .unwrap()
        .contains("array"));
    assert!(first("typo-root")["message"]
        .as_str()
        .unwrap()
        .contains("`assessment-result`"));
    assert_eq!(file_report(&report, &p("bom.json"))["status"], "valid");
    let huge = first("huge");
    assert_eq!(huge["rule"], "input-too-large");
    assert!(huge["message"].as_str().unwrap().contains("--max-size"));

    // The limit is the user's to set.
    let (code, report) = validate_json(&[p("bom.json")], &["--max-size", "1KiB"]);
    assert_eq!(code, 1);
    assert_eq!(
        diagnostics(file_report(&report, &p("bom.json")))[0]["rule"],
        "input-too-large"
    );
}

#[test]
fn directories_are_walked_and_non_oscal_json_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    std::fs::copy(
        examples().join("catalog/json/basic-catalog.json"),
        dir.path().join("a/b/cat.json"),
    )
    .unwrap();
    std::fs::write(dir.path().join("a/package.json"), b"{\"name\": \"x\"}").unwrap();
    std::fs::write(dir.path().join("a/notes.txt"), b"not json").unwrap();
    let (code, report) = validate_json(&[dir.path().to_path_buf()], &[]);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["valid"], 1);
    assert_eq!(report["summary"]["skipped"], 1);
    assert_eq!(report["summary"]["files"], 2);
}

#[test]
fn help_explains_what_to_do() {
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path()).args(["validate", "--help"]));
    let help = stdout(&output);
    for needle in [
        "--schema-dir",
        "--format",
        "sarif",
        "--oscal-version",
        "Exit status",
        "--strict",
    ] {
        assert!(help.contains(needle), "help lacks {needle}:\n{help}");
    }
}

/// OSCAL 1.2's mapping-collection, which only NIST's `complete` schema
/// describes: a valid one passes, and errors inside the schema's `oneOf` are
/// reported precisely rather than as "matches none of the alternatives".
#[test]
fn mapping_collections_validate_with_precise_errors() {
    let doc = serde_json::json!({"mapping-collection": {
        "uuid": "5c9e2b4e-0f6a-4c1d-9b7e-3a2f1e0d9c8b",
        "metadata": {"title": "NHI checks to 800-53", "last-modified": "2026-11-02T06:00:00Z", "version": "1", "oscal-version": "1.2.1"},
        "provenance": {"method": "human", "matching-rationale": "semantic", "status": "draft", "mapping-description": "Hand mapping."},
        "mappings": [{
            "uuid": "7d1f3a5b-2c4e-4f6a-8b9c-0d1e2f3a4b5c",
            "source-resource": {"type": "catalog", "href": "https://example.com/checks.json"},
            "target-resource": {"type": "catalog", "href": "https://example.com/sp800-53.json"},
            "maps": [{"uuid": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "relationship": "subset-of",
                      "sources": [{"type": "control", "id-ref": "nhi-ephemeral"}],
                      "targets": [{"type": "control", "id-ref": "ia-5.1"}]}]
        }]
    }});
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    write_json(&good, &doc);
    let mut bad_doc = doc.clone();
    bad_doc["mapping-collection"]["mappings"][0]["maps"][0]
        .as_object_mut()
        .unwrap()
        .remove("relationship");
    bad_doc["mapping-collection"]["provenance"]["status"] = "maybe".into();
    let bad = dir.path().join("bad.json");
    write_json(&bad, &bad_doc);
    let mut old_doc = doc.clone();
    old_doc["mapping-collection"]["metadata"]["oscal-version"] = "1.1.3".into();
    let old = dir.path().join("old.json");
    write_json(&old, &old_doc);

    let (code, report) = validate_json(&[&good, &bad, &old], &[]);
    assert_eq!(code, 1);
    assert_eq!(file_report(&report, &good)["status"], "valid", "{report:#}");
    let mut found: Vec<(String, String)> = diagnostics(file_report(&report, &bad))
        .iter()
        .map(|d| {
            (
                d["keyword"].as_str().unwrap_or("").to_string(),
                d["pointer"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            // NIST's allowed-values constraint on the status, beside the schema's enum.
            (
                String::new(),
                "/mapping-collection/provenance/status".to_string()
            ),
            (
                "enum".to_string(),
                "/mapping-collection/provenance/status".to_string()
            ),
            (
                "required".to_string(),
                "/mapping-collection/mappings/0/maps/0".to_string()
            ),
        ]
    );
    assert_eq!(
        diagnostics(file_report(&report, &old))[0]["rule"],
        "not-oscal"
    );
}

/// The constraints proofpack cannot evaluate whatever the document, with
/// why: this list may only shrink.
#[test]
fn unsupported_constraints_are_listed_and_only_shrink() {
    use proofpack::oscal::constraints::{load, ConstraintOptions, Selection};
    let mut found = Vec::new();
    for version in ["1.1.3", "1.2.1"] {
        let options = ConstraintOptions {
            selection: Selection::All,
            metaschema_dir: Some(shared().join("oscal/metaschema")),
            schema_dir: None,
            fedramp_dir: Some(shared().join("oscal/fedramp/constraints")),
        };
        let set = load(&options, version.parse().unwrap()).unwrap();
        for (family, total, unsupported) in set.coverage() {
            assert!(total > 0);
            for c in unsupported {
                found.push(format!(
                    "{version} {family:?} {} {}:{} {}",
                    c.id,
                    c.origin.file,
                    c.origin.line,
                    c.unsupported.as_deref().unwrap_or_default()
                ));
            }
        }
    }
    let golden = include_str!("../golden/unsupported-constraints.txt");
    let expected: Vec<&str> = golden
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(found, expected, "found:\n{}", found.join("\n"));
}
