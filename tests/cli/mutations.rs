//! A corpus of documents mutated from NIST's examples, each breaking one
//! rule; every one must be rejected with the right rule at the right pointer
//! (and a line and column). The base documents are checked clean first, so
//! each rejection is the mutation's doing.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::Digest;

use crate::util::*;

const AR: &str = "/assessment-results";
const OBS0: &str = "/assessment-results/results/0/observations/0";
const FINDING0: &str = "/assessment-results/results/0/findings/0";
const UNKNOWN_UUID: &str = "0b5e1f3a-7c2d-4e8f-9a6b-5c4d3e2f1a0b";
const EVIDENCE: &[u8] = b"time,principal,decision\n2023-06-02T08:31:20Z,ci-deployer,allow\n";

/// What a mutation does to a document.
enum Edit {
    Set(&'static str, Value),
    Remove(&'static str),
    /// Replace the whole file with these bytes.
    Raw(Vec<u8>),
}

struct Mutation {
    name: &'static str,
    base: Base,
    edits: Vec<Edit>,
    rule: &'static str,
    pointer: String,
    keyword: Option<&'static str>,
}

#[derive(Clone, Copy)]
enum Base {
    Results,
    Plan,
    Poam,
    Catalog,
    FedrampSap,
}

fn m(
    name: &'static str,
    base: Base,
    edits: Vec<Edit>,
    rule: &'static str,
    pointer: &str,
    keyword: Option<&'static str>,
) -> Mutation {
    Mutation {
        name,
        base,
        edits,
        rule,
        pointer: pointer.to_string(),
        keyword,
    }
}

fn schema(
    name: &'static str,
    base: Base,
    edits: Vec<Edit>,
    pointer: &str,
    keyword: &'static str,
) -> Mutation {
    m(name, base, edits, "schema", pointer, Some(keyword))
}

/// A mutation that breaks one Metaschema constraint, named by its id or,
/// where NIST gives it none, by `module:line`.
fn constraint(
    name: &'static str,
    base: Base,
    edits: Vec<Edit>,
    pointer: &str,
    id_or_place: &'static str,
) -> Mutation {
    m(name, base, edits, "constraint", pointer, Some(id_or_place))
}

fn set(pointer: &'static str, value: Value) -> Vec<Edit> {
    vec![Edit::Set(pointer, value)]
}

fn mutations() -> Vec<Mutation> {
    use Base::*;
    let obs = |rest: &str| format!("{OBS0}{rest}");
    let finding = |rest: &str| format!("{FINDING0}{rest}");
    vec![
        // Missing required fields.
        schema("missing-methods", Results, vec![Edit::Remove("/assessment-results/results/0/observations/0/methods")], OBS0, "required"),
        schema("missing-title", Results, vec![Edit::Remove("/assessment-results/metadata/title")], "/assessment-results/metadata", "required"),
        schema("missing-start", Results, vec![Edit::Remove("/assessment-results/results/0/start")], "/assessment-results/results/0", "required"),
        schema("missing-collected", Results, vec![Edit::Remove("/assessment-results/results/0/observations/0/collected")], OBS0, "required"),
        schema("missing-import-ap", Results, vec![Edit::Remove("/assessment-results/import-ap")], AR, "required"),
        schema("missing-plan-tasks-title", Plan, vec![Edit::Remove("/assessment-plan/metadata/title")], "/assessment-plan/metadata", "required"),
        schema("missing-fedramp-sap-title", FedrampSap, vec![Edit::Remove("/assessment-plan/metadata/title")], "/assessment-plan/metadata", "required"),
        // Properties OSCAL does not define.
        schema("extra-metadata-property", Results, set("/assessment-results/metadata/colour", json!("blue")), "/assessment-results/metadata/colour", "additionalProperties"),
        schema("extra-observation-property", Results, set("/assessment-results/results/0/observations/0/severity", json!("high")), &obs("/severity"), "additionalProperties"),
        schema("extra-root-property", Results, set("/extra", json!(1)), "/extra", "additionalProperties"),
        schema("extra-catalog-control-property", Catalog, set("/catalog/groups/0/groups/0/controls/0/owner", json!("x")), "/catalog/groups/0/groups/0/controls/0/owner", "additionalProperties"),
        // UUIDs.
        schema("bad-uuid", Results, set("/assessment-results/uuid", json!("not-a-uuid")), "/assessment-results/uuid", "pattern"),
        schema("uuid-version-1", Results, set("/assessment-results/results/0/observations/0/uuid", json!("11111111-1111-1111-8111-111111111111")), &obs("/uuid"), "pattern"),
        schema("uuid-not-a-string", Results, set("/assessment-results/results/0/uuid", json!(42)), "/assessment-results/results/0/uuid", "type"),
        // Dates.
        schema("february-30", Results, set("/assessment-results/metadata/last-modified", json!("2024-02-30T13:57:28-04:00")), "/assessment-results/metadata/last-modified", "pattern"),
        schema("february-29-not-leap", Results, set("/assessment-results/results/0/start", json!("2023-02-29T08:31:20-04:00")), "/assessment-results/results/0/start", "pattern"),
        schema("date-without-time-zone", Results, set("/assessment-results/results/0/observations/0/collected", json!("2023-06-02T08:31:20")), &obs("/collected"), "pattern"),
        schema("date-only", Results, set("/assessment-results/results/0/end", json!("2023-06-02")), "/assessment-results/results/0/end", "pattern"),
        schema("date-words", Results, set("/assessment-results/results/0/observations/0/expires", json!("next month")), &obs("/expires"), "pattern"),
        schema("hour-25", Results, set("/assessment-results/metadata/last-modified", json!("2024-02-01T25:00:00Z")), "/assessment-results/metadata/last-modified", "pattern"),
        // Tokens and strings.
        schema("token-with-space", Results, set("/assessment-results/results/0/findings/0/target/target-id", json!("ac-6.1 obj")), &finding("/target/target-id"), "pattern"),
        schema("token-leading-digit", Catalog, set("/catalog/groups/0/id", json!("1st group")), "/catalog/groups/0/id", "pattern"),
        schema("leading-whitespace", Results, set("/assessment-results/metadata/version", json!(" 202306-002")), "/assessment-results/metadata/version", "pattern"),
        schema("trailing-whitespace", Results, set("/assessment-results/metadata/version", json!("202306-002 ")), "/assessment-results/metadata/version", "pattern"),
        schema("empty-string", Results, set("/assessment-results/metadata/version", json!("")), "/assessment-results/metadata/version", "pattern"),
        // Closed value lists and types.
        schema("enum-objective-state", Results, set("/assessment-results/results/0/findings/0/target/status/state", json!("passed")), &finding("/target/status/state"), "enum"),
        schema("enum-party-type", Results, set("/assessment-results/metadata/parties/0/type", json!("robot")), "/assessment-results/metadata/parties/0/type", "enum"),
        schema("enum-finding-target-type", Results, set("/assessment-results/results/0/findings/0/target/type", json!("control")), &finding("/target/type"), "enum"),
        schema("methods-not-array", Results, set("/assessment-results/results/0/observations/0/methods", json!("TEST")), &obs("/methods"), "type"),
        schema("methods-empty", Results, set("/assessment-results/results/0/observations/0/methods", json!([])), &obs("/methods"), "minItems"),
        schema("roles-not-array", Results, set("/assessment-results/metadata/roles", json!({"id": "assessor"})), "/assessment-results/metadata/roles", "type"),
        // Duplicate UUIDs.
        m("duplicate-observation-uuid", Results, set("/assessment-results/results/0/observations/1/uuid", json!("8807eb6e-0c05-43bc-8438-799739615e34")), "duplicate-uuid", "/assessment-results/results/0/observations/1/uuid", None),
        m("duplicate-uuid-across-kinds", Results, set("/assessment-results/results/0/risks/0/uuid", json!("a1d20136-37e0-42aa-9834-4e9d8c36d798")), "duplicate-uuid", "/assessment-results/results/0/risks/0/uuid", None),
        // Dangling references, one of each kind.
        m("dangling-related-observation", Results, set("/assessment-results/results/0/findings/0/related-observations/0/observation-uuid", json!(UNKNOWN_UUID)), "dangling-reference", &finding("/related-observations/0/observation-uuid"), None),
        m("related-observation-names-a-risk", Results, set("/assessment-results/results/0/findings/0/related-observations/0/observation-uuid", json!("0cfa750e-3553-47ba-a7ba-cf84a884d261")), "dangling-reference", &finding("/related-observations/0/observation-uuid"), None),
        m("dangling-related-risk", Results, set("/assessment-results/results/0/findings/0/related-risks/0/risk-uuid", json!(UNKNOWN_UUID)), "dangling-reference", &finding("/related-risks/0/risk-uuid"), None),
        m("dangling-subject-uuid", Results, set("/assessment-results/results/0/observations/0/subjects/0/subject-uuid", json!(UNKNOWN_UUID)), "dangling-reference", &obs("/subjects/0/subject-uuid"), None),
        m("subject-uuid-wrong-type", Results, set("/assessment-results/results/0/observations/0/subjects/0/type", json!("party")), "dangling-reference", &obs("/subjects/0/subject-uuid"), None),
        m("dangling-party-uuid", Results, set("/assessment-results/metadata/responsible-parties/0/party-uuids/0", json!(UNKNOWN_UUID)), "dangling-reference", "/assessment-results/metadata/responsible-parties/0/party-uuids/0", None),
        m("dangling-member-of-organization", Results, set("/assessment-results/metadata/parties/0/member-of-organizations/0", json!(UNKNOWN_UUID)), "dangling-reference", "/assessment-results/metadata/parties/0/member-of-organizations/0", None),
        m("dangling-responsible-role", Results, set("/assessment-results/metadata/responsible-parties/0/role-id", json!("auditor")), "dangling-reference", "/assessment-results/metadata/responsible-parties/0/role-id", None),
        m("dangling-activity-role", Results, set("/assessment-results/local-definitions/activities/0/responsible-roles/0/role-id", json!("reviewer")), "dangling-reference", "/assessment-results/local-definitions/activities/0/responsible-roles/0/role-id", None),
        m("dangling-activity-uuid", Results, set("/assessment-results/results/0/local-definitions/tasks/0/associated-activities/0/activity-uuid", json!(UNKNOWN_UUID)), "dangling-reference", "/assessment-results/results/0/local-definitions/tasks/0/associated-activities/0/activity-uuid", None),
        m("dangling-fragment-href", Results, set("/assessment-results/metadata/parties/1/links/0/href", json!(format!("#{UNKNOWN_UUID}"))), "dangling-reference", "/assessment-results/metadata/parties/1/links/0/href", None),
        m("dangling-poam-finding", Poam, set("/plan-of-action-and-milestones/poam-items/0/related-findings", json!([{"finding-uuid": UNKNOWN_UUID}])), "dangling-reference", "/plan-of-action-and-milestones/poam-items/0/related-findings/0/finding-uuid", None),
        m("dangling-poam-observation", Poam, set("/plan-of-action-and-milestones/poam-items/0/related-observations/0/observation-uuid", json!(UNKNOWN_UUID)), "dangling-reference", "/plan-of-action-and-milestones/poam-items/0/related-observations/0/observation-uuid", None),
        // Imports.
        m("import-ap-missing", Results, set("/assessment-results/import-ap/href", json!("no-such-plan.json")), "import-missing", "/assessment-results/import-ap/href", None),
        m("import-ap-is-an-ssp", Results, set("/assessment-results/import-ap/href", json!("ssp.json")), "import-wrong-model", "/assessment-results/import-ap/href", None),
        m("import-ssp-missing", Plan, set("/assessment-plan/import-ssp/href", json!("../elsewhere/ssp.json")), "import-missing", "/assessment-plan/import-ssp/href", None),
        m("import-ap-fragment-dangling", Results, set("/assessment-results/import-ap/href", json!(format!("#{UNKNOWN_UUID}"))), "dangling-reference", "/assessment-results/import-ap/href", None),
        // Evidence hashes.
        m("hash-mismatch-sha256", Results, set("/assessment-results/back-matter/resources/0/rlinks/0/hashes/0/value", json!("0".repeat(64))), "hash-mismatch", "/assessment-results/back-matter/resources/0/rlinks/0/hashes/0/value", None),
        m("hash-mismatch-sha512", Results, set("/assessment-results/back-matter/resources/0/rlinks/0/hashes/1/value", json!("f".repeat(128))), "hash-mismatch", "/assessment-results/back-matter/resources/0/rlinks/0/hashes/1/value", None),
        m("hash-target-missing", Results, set("/assessment-results/back-matter/resources/0/rlinks/0/href", json!("evidence/gone.csv")), "hash-target-missing", "/assessment-results/back-matter/resources/0/rlinks/0/href", None),
        // NIST's Metaschema constraints (the 1.1.3 modules judge these 1.1.2
        // documents); each names the constraint by its place in the module.
        constraint("activity-method-in-foreign-ns", Plan, set("/assessment-plan/local-definitions/activities/0/props", json!([{"name": "method", "ns": "https://proofpack.dev/ns/oscal", "value": "TEST"}])), "/assessment-plan/local-definitions/activities/0", "oscal_assessment-common_metaschema.xml:189"),
        constraint("activity-method-value", Plan, set("/assessment-plan/local-definitions/activities/0/props", json!([{"name": "method", "value": "PROBE"}])), "/assessment-plan/local-definitions/activities/0/props/0/value", "oscal_assessment-common_metaschema.xml:190"),
        constraint("two-responsible-parties-one-role", Results, set("/assessment-results/metadata/responsible-parties", json!([{"role-id": "assessor", "party-uuids": ["e7730080-71ce-4b20-bec4-84f33136fd58"]}, {"role-id": "assessor", "party-uuids": ["e7730080-71ce-4b20-bec4-84f33136fd58"]}])), "/assessment-results/metadata/responsible-parties/1", "unique-metadata-responsible-party"),
        constraint("two-roles-one-id", Results, set("/assessment-results/metadata/roles", json!([{"id": "assessor", "title": "A"}, {"id": "assessor", "title": "B"}])), "/assessment-results/metadata/roles/1", "index-metadata-roles"),
        constraint("nist-prop-name-not-allowed", Results, set("/assessment-results/metadata/props", json!([{"name": "colour", "value": "blue"}])), "/assessment-results/metadata/props/0/name", "oscal_metadata_metaschema.xml:407"),
        constraint("responsible-party-names-no-party", Results, set("/assessment-results/metadata/responsible-parties/0/party-uuids/0", json!(UNKNOWN_UUID)), "/assessment-results/metadata/responsible-parties/0/party-uuids/0", "oscal_metadata_metaschema.xml:456"),
        constraint("sha256-wrong-length", Results, set("/assessment-results/back-matter/resources/0/rlinks/0/hashes/0/value", json!("abc123")), "/assessment-results/back-matter/resources/0/rlinks/0/hashes/0/value", "oscal-check-hash-length-SHA2-3-256"),
        constraint("fragment-link-with-media-type", Results, set("/assessment-results/metadata/links", json!([{"href": "#6d2c1c0e-6f44-4c0a-9a63-0c8f4c1d2e3f", "rel": "related", "media-type": "text/csv"}])), "/assessment-results/metadata/links/0", "oscal_metadata_metaschema.xml:756"),
        // Not OSCAL, not JSON.
        m("wrong-root", Results, vec![Edit::Raw(b"{\"assessment-result\": {}}".to_vec())], "not-oscal", "", None),
        m("truncated", Results, vec![Edit::Raw(b"{\"assessment-results\": {\"uuid\": \"ec0dad37".to_vec())], "not-json", "", None),
    ]
}

/// The base documents, laid out so every import resolves: AR → AP → SSP,
/// POA&M → SSP, and a back-matter evidence file with its true hashes.
fn write_bases(dir: &Path) -> Vec<(Base, Value)> {
    let mut ar = read_json(&examples().join("ar/json/ifa_assessment-results-example.json"));
    ar["assessment-results"]["import-ap"]["href"] = json!("ap.json");
    std::fs::create_dir_all(dir.join("evidence")).unwrap();
    std::fs::write(dir.join("evidence/access.csv"), EVIDENCE).unwrap();
    ar["assessment-results"]["back-matter"] = json!({"resources": [{
        "uuid": "6d2c1c0e-6f44-4c0a-9a63-0c8f4c1d2e3f",
        "title": "Access events",
        "rlinks": [{"href": "evidence/access.csv", "media-type": "text/csv", "hashes": [
            {"algorithm": "SHA-256", "value": hex(&sha2::Sha256::digest(EVIDENCE))},
            {"algorithm": "SHA-512", "value": hex(&sha2::Sha512::digest(EVIDENCE))},
        ]}],
    }]});
    let mut ap = read_json(&examples().join("ap/json/ifa_assessment-plan-example.json"));
    ap["assessment-plan"]["import-ssp"]["href"] = json!("ssp.json");
    // NIST's plan names an activity it never defines; define it so the base is clean.
    ap["assessment-plan"]["local-definitions"]["activities"] = json!([{
        "uuid": "0d243b23-a889-478f-9716-6d4870e56209", "title": "Least privilege test", "description": "Test.",
        "props": [{"name": "method", "value": "TEST"}]}]);
    let mut poam = read_json(&examples().join("poam/json/ifa_plan-of-action-and-milestones.json"));
    poam["plan-of-action-and-milestones"]["import-ssp"]["href"] = json!("ssp.json");
    // NIST's POA&M names its assessor party and a mitigating factor where a
    // risk belongs; repair both so the base is clean.
    poam["plan-of-action-and-milestones"]["metadata"]["parties"] = json!([{
        "uuid": "e7730080-71ce-4b20-bec4-84f33136fd58", "type": "person", "name": "Amy Assessor"}]);
    let risk0 = poam["plan-of-action-and-milestones"]["risks"][0]["uuid"].clone();
    poam["plan-of-action-and-milestones"]["poam-items"][0]["related-risks"][0]["risk-uuid"] = risk0;
    std::fs::copy(
        examples().join("ssp/json/ifa_ssp-example.json"),
        dir.join("ssp.json"),
    )
    .unwrap();
    let catalog = read_json(&examples().join("catalog/json/basic-catalog.json"));
    let sap = read_json(
        &shared().join("oscal/fedramp/rev5/templates/sap/json/FedRAMP-SAP-OSCAL-Template.json"),
    );
    write_json(&dir.join("ap.json"), &ap);
    vec![
        (Base::Results, ar),
        (Base::Plan, ap),
        (Base::Poam, poam),
        (Base::Catalog, catalog),
        (Base::FedrampSap, sap),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn base_doc(bases: &[(Base, Value)], which: Base) -> Value {
    bases
        .iter()
        .find(|(b, _)| std::mem::discriminant(b) == std::mem::discriminant(&which))
        .unwrap()
        .1
        .clone()
}

fn apply(doc: &mut Value, edit: &Edit) -> Option<Vec<u8>> {
    match edit {
        Edit::Set(pointer, value) => {
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            let target = doc
                .pointer_mut(parent)
                .unwrap_or_else(|| panic!("no {parent} in base"));
            match target {
                Value::Object(map) => {
                    map.insert(key.to_string(), value.clone());
                }
                Value::Array(items) => items[key.parse::<usize>().unwrap()] = value.clone(),
                _ => panic!("{parent} is not a container"),
            }
            None
        }
        Edit::Remove(pointer) => {
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            let removed = doc
                .pointer_mut(parent)
                .and_then(Value::as_object_mut)
                .and_then(|m| m.remove(key));
            assert!(removed.is_some(), "no {pointer} in base");
            None
        }
        Edit::Raw(bytes) => Some(bytes.clone()),
    }
}

#[test]
fn every_mutation_is_rejected_at_its_pointer() {
    let dir = tempfile::tempdir().unwrap();
    let bases = write_bases(dir.path());
    let mutations = mutations();
    assert!(
        mutations.len() >= 40,
        "the corpus has {} mutations",
        mutations.len()
    );

    // The unmutated bases are clean, even under --strict. (FedRAMP's SAP
    // template has upstream reference defects, pinned in the golden list; it
    // passes the schema, which is all its mutation breaks.)
    let mut base_paths = Vec::new();
    for (i, (_, doc)) in bases
        .iter()
        .enumerate()
        .filter(|(_, (b, _))| !matches!(b, Base::FedrampSap))
    {
        let path = dir.path().join(format!("base-{i}.json"));
        write_json(&path, doc);
        base_paths.push(path);
    }
    let (code, report) = validate_json(&base_paths, &["--strict"]);
    assert_eq!(code, 0, "bases must be clean: {report:#}");

    let mut paths: Vec<PathBuf> = Vec::new();
    for (i, mutation) in mutations.iter().enumerate() {
        let mut doc = base_doc(&bases, mutation.base);
        let mut raw = None;
        for edit in &mutation.edits {
            raw = apply(&mut doc, edit).or(raw);
        }
        let path = dir.path().join(format!("m{i:02}-{}.json", mutation.name));
        match raw {
            Some(bytes) => std::fs::write(&path, bytes).unwrap(),
            None => write_json(&path, &doc),
        }
        paths.push(path);
    }
    // --strict: warnings (a missing import or evidence file) reject too.
    let (code, report) = validate_json(&paths, &["--strict"]);
    assert_eq!(code, 1);
    for (mutation, path) in mutations.iter().zip(&paths) {
        let file = file_report(&report, path);
        assert_eq!(
            file["status"], "invalid",
            "{} was not rejected: {file:#}",
            mutation.name
        );
        let diags = file["diagnostics"].as_array().unwrap();
        let hit = diags.iter().find(|d| {
            d["rule"] == mutation.rule
                && d["pointer"] == mutation.pointer.as_str()
                && mutation.keyword.is_none_or(|k| {
                    d["keyword"] == k
                        || d["constraint"]["id"] == k
                        || d["constraint"]["defined_at"] == k
                })
        });
        let hit = hit.unwrap_or_else(|| {
            panic!(
                "{}: expected {} at {} (keyword {:?}), got {diags:#?}",
                mutation.name, mutation.rule, mutation.pointer, mutation.keyword
            )
        });
        assert!(
            hit["line"].as_u64().is_some_and(|l| l >= 1),
            "{}: no line: {hit}",
            mutation.name
        );
        assert!(
            hit["column"].as_u64().is_some_and(|c| c >= 1),
            "{}: no column: {hit}",
            mutation.name
        );
        assert!(!hit["message"].as_str().unwrap().is_empty());
    }
}

/// Without --strict, what cannot be checked (a missing import) is a warning:
/// the document passes, and the warning still names the pointer.
#[test]
fn missing_import_is_a_warning_unless_strict() {
    let dir = tempfile::tempdir().unwrap();
    let bases = write_bases(dir.path());
    let mut doc = base_doc(&bases, Base::Results);
    doc["assessment-results"]["import-ap"]["href"] = json!("no-such-plan.json");
    let path = dir.path().join("ar.json");
    write_json(&path, &doc);
    let (code, report) = validate_json(&[&path], &[]);
    assert_eq!(code, 0);
    let d = &file_report(&report, &path)["diagnostics"];
    assert!(d
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["rule"] == "import-missing" && d["severity"] == "warning"));
    assert!(d
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["rule"] == "unchecked-reference"));
}
