//! The framework files and the check catalogue, verified against the
//! official data in `../shared`: every 800-53 id and title against NIST's
//! OSCAL catalogs, every KSI against FedRAMP's CR26 rules (and its former
//! ids against the Phase Two file), every OWASP NHI and MAESTRO name against
//! the framework facts, and every `fedramp-ksi` mapping against FedRAMP's
//! own control lists.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::util::*;

fn repo_toml(path: &str) -> toml::Value {
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap();
    toml::from_str(&text).unwrap()
}

fn items(framework: &toml::Value) -> Vec<&toml::Value> {
    framework["item"].as_array().unwrap().iter().collect()
}

fn s<'a>(v: &'a toml::Value, key: &str) -> &'a str {
    v.get(key).and_then(toml::Value::as_str).unwrap_or("")
}

fn list(v: &toml::Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(toml::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Control id → title from every OSCAL catalog NIST and FedRAMP publish in
/// `../shared/oscal` (JSON, and the XML-only FedRAMP Moderate and High).
fn nist_titles() -> BTreeMap<String, String> {
    fn walk(node: &Value, out: &mut BTreeMap<String, String>) {
        for key in ["controls", "groups"] {
            for child in node
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let (Some(id), Some(title)) = (child["id"].as_str(), child["title"].as_str()) {
                    if key == "controls" {
                        out.entry(id.to_string())
                            .or_insert_with(|| title.to_string());
                    }
                }
                walk(child, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(shared().join("oscal")) {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.contains("catalog") {
            continue;
        }
        if name.ends_with(".json") {
            let doc: Value = read_json(entry.path());
            if let Some(catalog) = doc.get("catalog") {
                walk(catalog, &mut out);
            }
        } else if name.ends_with(".xml") {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            for chunk in text.split("<control ").skip(1) {
                let id = chunk
                    .split("id=\"")
                    .nth(1)
                    .and_then(|r| r.split('"').next());
                let title = chunk
                    .split("<title>")
                    .nth(1)
                    .and_then(|r| r.split("</title>").next());
                if let (Some(id), Some(title)) = (id, title) {
                    out.entry(id.to_string())
                        .or_insert_with(|| title.to_string());
                }
            }
        }
    }
    out
}

fn fedramp_json(path: &str) -> Value {
    read_json(&shared().join("frameworks/fedramp-20x").join(path))
}

/// KSI id → (name, controls) from a FedRAMP rules file.
fn ksis(doc: &Value) -> BTreeMap<String, (String, Vec<String>, Option<String>)> {
    let mut out = BTreeMap::new();
    for theme in doc["KSI"].as_object().unwrap().values() {
        for (id, ind) in theme["indicators"].as_object().unwrap() {
            let controls = ind["controls"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            out.insert(
                id.clone(),
                (
                    ind["name"].as_str().unwrap_or("").to_string(),
                    controls,
                    ind["fka"].as_str().map(str::to_string),
                ),
            );
        }
    }
    out
}

/// Legacy 25.12A control titles, for controls in no NIST baseline.
fn legacy_titles() -> BTreeMap<String, String> {
    fn walk(v: &Value, out: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(m) => {
                if let (Some(Value::String(id)), Some(Value::String(t))) =
                    (m.get("control_id"), m.get("title"))
                {
                    out.insert(id.clone(), t.clone());
                }
                m.values().for_each(|x| walk(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    walk(
        &fedramp_json("frmr-20x-phase2/legacy-25.12A/FRMR.KSI.key-security-indicators.json"),
        &mut out,
    );
    out
}

#[test]
fn every_800_53_id_and_title_is_nists() {
    let nist = nist_titles();
    let legacy = legacy_titles();
    assert!(nist.len() > 400, "catalogs not found: {}", nist.len());
    let framework = repo_toml("mappings/frameworks/nist-800-53-r5.toml");
    let mut problems = Vec::new();
    for item in items(&framework) {
        let id = s(item, "id");
        match nist.get(id).or_else(|| legacy.get(id)) {
            Some(title) if title == s(item, "title") => {}
            Some(title) => problems.push(format!(
                "{id}: title {:?}, NIST says {title:?}",
                s(item, "title")
            )),
            None => problems.push(format!(
                "{id}: in no NIST catalog and no FedRAMP KSI control list"
            )),
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // Every control FedRAMP lists for a CR26 KSI is in the framework.
    let ids: BTreeSet<&str> = items(&framework).iter().map(|i| s(i, "id")).collect();
    for (ksi, (_, controls, _)) in ksis(&fedramp_json("cr26/fedramp-consolidated-rules.json")) {
        for c in controls {
            assert!(
                ids.contains(c.as_str()),
                "{ksi} lists {c}, missing from the framework"
            );
        }
    }
}

#[test]
fn every_ksi_name_control_list_and_alias_is_fedramps() {
    let cr26 = fedramp_json("cr26/fedramp-consolidated-rules.json");
    let official = ksis(&cr26);
    let phase2 = ksis(&fedramp_json("frmr-20x-phase2/FRMR.documentation.json"));
    let framework = repo_toml("mappings/frameworks/fedramp-20x-ksi.toml");
    assert!(s(&framework, "version").ends_with(cr26["info"]["version"].as_str().unwrap()));
    let ours = items(&framework);
    assert_eq!(ours.len(), official.len());
    for item in ours {
        let id = s(item, "id");
        let (name, controls, _) = official
            .get(id)
            .unwrap_or_else(|| panic!("{id} is not in CR26"));
        assert_eq!(s(item, "title"), name, "{id}");
        assert_eq!(&list(item, "controls"), controls, "{id}");
        for alias in list(item, "aliases") {
            assert_eq!(
                phase2.get(id).and_then(|p| p.2.clone()).as_deref(),
                Some(alias.as_str()),
                "{id}: alias {alias} is not its Phase Two fka"
            );
        }
        for merged in list(item, "merged_from") {
            let known = phase2.contains_key(&merged)
                || phase2
                    .values()
                    .any(|p| p.2.as_deref() == Some(merged.as_str()));
            assert!(
                known,
                "{id}: merged_from {merged} is no Phase Two KSI or fka"
            );
        }
    }
}

/// Names from the framework facts' tables (OWASP section B, MAESTRO section C).
fn facts() -> String {
    std::fs::read_to_string(shared().join("frameworks/FACTS.md")).unwrap()
}

#[test]
fn every_owasp_and_maestro_name_is_published() {
    let facts = facts();
    let owasp = repo_toml("mappings/frameworks/owasp-nhi-top10-2025.toml");
    for item in items(&owasp) {
        let row = format!("| {}:2025 | {} |", s(item, "id"), s(item, "title"));
        assert!(facts.contains(&row), "{row} is not OWASP's");
    }
    let maestro = repo_toml("mappings/frameworks/csa-maestro.toml");
    let section_c = facts
        .split("## C.")
        .nth(1)
        .unwrap()
        .split("## D.")
        .next()
        .unwrap();
    // The facts wrap lines and bold some names: compare on plain words.
    let section_c = section_c
        .replace("**", "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for item in items(&maestro) {
        let title = s(item, "title");
        assert!(section_c.contains(title), "{title} is not a MAESTRO threat");
        let id = s(item, "id");
        assert!(id.starts_with(title) && (id.ends_with(")")), "{id}");
    }
}

/// OWASP's Appendix C (NHI Top 10 → Agentic Top 10), from the facts'
/// section G table.
fn owasp_nhi_to_asi() -> BTreeMap<String, Vec<String>> {
    let facts = facts();
    let section = facts
        .split("## G.")
        .nth(1)
        .unwrap()
        .split("## H.")
        .next()
        .unwrap();
    let mut out = BTreeMap::new();
    for line in section.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() == 4 && cells[1].starts_with("NHI") && cells[2].starts_with("ASI") {
            let id = cells[1].split_whitespace().next().unwrap().to_string();
            let asi = cells[2].split(", ").map(str::to_string).collect();
            out.insert(id, asi);
        }
    }
    assert_eq!(out.len(), 10, "Appendix C covers the ten NHI risks");
    out
}

/// The rows of a CSV in ../shared/frameworks, as maps of its header.
fn framework_csv(name: &str) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(shared().join("frameworks").join(name)).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn the_agentic_top_10_and_the_ai_rmf_are_the_publishers_ids_and_titles() {
    let asi = repo_toml("mappings/frameworks/owasp-agentic-top10-2026.toml");
    let rows = framework_csv("owasp-agentic-top10-2026.csv");
    let ours: Vec<(&str, &str)> = items(&asi)
        .iter()
        .map(|i| (s(i, "id"), s(i, "title")))
        .collect();
    let published: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["id"].as_str(), r["title"].as_str()))
        .collect();
    assert_eq!(ours, published);
    assert_eq!(ours.len(), 10);

    let rmf = repo_toml("mappings/frameworks/nist-ai-rmf-1.0.toml");
    let rows = framework_csv("nist-ai-rmf-1.0.csv");
    let ours = items(&rmf);
    assert_eq!(ours.len(), rows.len());
    let (mut functions, mut categories, mut subcategories) = (0, 0, 0);
    for (item, row) in ours.iter().zip(&rows) {
        assert_eq!(s(item, "id"), row["id"]);
        assert_eq!(s(item, "title"), row["short_title"]);
        let group = item.get("group").and_then(|g| g.as_str());
        match row["id"].split(' ').nth(1) {
            None => functions += 1,
            Some(n) if n.contains('.') => {
                subcategories += 1;
                assert_eq!(group, Some(row["category"].as_str()), "{}", row["id"]);
            }
            Some(_) => {
                categories += 1;
                assert_eq!(group, Some(row["function"].as_str()), "{}", row["id"]);
            }
        }
    }
    // AI 100-1 §5: 4 functions, 19 categories, 72 subcategories.
    assert_eq!((functions, categories, subcategories), (4, 19, 72));
}

#[test]
fn every_mapping_resolves_and_ksi_based_mappings_are_fedramps() {
    let checks = repo_toml("mappings/checks.toml");
    let frameworks: BTreeMap<String, Vec<String>> = [
        "nist-800-53-r5",
        "fedramp-20x-ksi",
        "owasp-nhi-top10-2025",
        "csa-maestro",
        "owasp-agentic-top10-2026",
        "nist-ai-rmf-1.0",
    ]
    .iter()
    .map(|f| {
        let fw = repo_toml(&format!("mappings/frameworks/{f}.toml"));
        let mut ids: Vec<String> = Vec::new();
        for i in items(&fw) {
            ids.push(s(i, "id").to_string());
            ids.extend(list(i, "aliases"));
        }
        (f.to_string(), ids)
    })
    .collect();
    let official = ksis(&fedramp_json("cr26/fedramp-consolidated-rules.json"));
    let all_checks = checks["check"].as_array().unwrap();
    assert!(all_checks.len() >= 13);
    for check in all_checks {
        let id = s(check, "id");
        let maps = check["map"].as_array().unwrap();
        let mapped_ksis: Vec<String> = maps
            .iter()
            .filter(|m| s(m, "framework") == "fedramp-20x-ksi")
            .flat_map(|m| list(m, "items"))
            .collect();
        let nhi: Vec<String> = maps
            .iter()
            .filter(|m| s(m, "framework") == "owasp-nhi-top10-2025")
            .flat_map(|m| list(m, "items"))
            .collect();
        let appendix_c = owasp_nhi_to_asi();
        for m in maps {
            let framework = s(m, "framework");
            let basis = s(m, "basis");
            assert!(
                ["derived", "fedramp-ksi", "owasp-nhi-asi"].contains(&basis),
                "{id}: basis {basis}"
            );
            if basis == "owasp-nhi-asi" {
                // Exactly what OWASP's Appendix C maps the check's NHI
                // items to.
                assert_eq!(framework, "owasp-agentic-top10-2026", "{id}");
                let mut published: Vec<String> =
                    nhi.iter().flat_map(|n| appendix_c[n].clone()).collect();
                published.sort();
                published.dedup();
                let mut mapped = list(m, "items");
                mapped.sort();
                assert_eq!(mapped, published, "{id}: not OWASP's NHI-to-ASI mapping");
                continue;
            }
            for item in list(m, "items") {
                assert!(
                    frameworks[framework].contains(&item),
                    "{id}: {framework} has no {item}"
                );
                if basis == "fedramp-ksi" {
                    assert_eq!(framework, "nist-800-53-r5", "{id}");
                    let listed = mapped_ksis.iter().any(|k| official[k].1.contains(&item));
                    assert!(listed, "{id}: no KSI it maps to lists {item}");
                }
            }
            if framework != "nist-800-53-r5" || basis == "derived" {
                assert_eq!(
                    basis, "derived",
                    "{id}: {framework} mapping must say it is ours"
                );
            }
        }
        // Every check maps to all four frameworks where a link exists:
        // at least to a KSI and to 800-53.
        for required in ["fedramp-20x-ksi", "nist-800-53-r5"] {
            assert!(
                maps.iter().any(|m| s(m, "framework") == required),
                "{id} maps to no {required}"
            );
        }
    }
}

#[test]
fn a_newer_fedramp_release_and_a_team_framework_load_from_a_mappings_folder() {
    let dir = tempfile::tempdir().unwrap();
    // FedRAMP's Phase Two file stands in for "a newer release": its ids and
    // version replace the built-in ones, and its fka ids resolve.
    std::fs::copy(
        shared().join("frameworks/fedramp-20x/frmr-20x-phase2/FRMR.documentation.json"),
        dir.path().join("frmr.json"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("acme.toml"),
        "id = \"acme-controls\"\nshort = \"acme\"\ntitle = \"ACME control set\"\nversion = \"3\"\nsource = \"internal\"\n\n[[item]]\nid = \"ACME-IAM-7\"\ntitle = \"Machine credentials expire\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("acme-map.toml"),
        "framework = \"acme-controls\"\n[[map]]\ncheck = \"credential-expiry\"\nitems = [\"ACME-IAM-7\"]\nnote = \"ours\"\n",
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = run(proofpack(cache.path())
        .args(["checks", "list", "--format", "json", "--mappings"])
        .arg(dir.path()));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let checks: Value = serde_json::from_slice(&out.stdout).unwrap();
    let expiry = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "credential-expiry")
        .unwrap();
    assert!(expiry["map"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["framework"] == "acme-controls" && m["basis"] == "local"));
    let out = run(proofpack(cache.path())
        .args([
            "coverage",
            "--framework",
            "ksi",
            "--format",
            "json",
            "--mappings",
        ])
        .arg(dir.path()));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let coverage: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(coverage["version"], "0.9.43-beta");
    assert_eq!(coverage["items"], 60, "Phase Two has 60 KSIs");

    // A mapping to an id the framework does not hold is refused.
    std::fs::write(
        dir.path().join("acme-map.toml"),
        "framework = \"acme-controls\"\n[[map]]\ncheck = \"credential-expiry\"\nitems = [\"ACME-IAM-99\"]\n",
    )
    .unwrap();
    let out = run(proofpack(cache.path())
        .args(["checks", "list", "--mappings"])
        .arg(dir.path()));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("ACME-IAM-99"), "{}", stderr(&out));
}

#[test]
fn every_remediation_timeframe_is_fedramps() {
    // Read FedRAMP's rule directly, not through proofpack's parser.
    let cr26 = fedramp_json("cr26/fedramp-consolidated-rules.json");
    let rule = &cr26["FRR"]["VDR"]["data"]["all"]["TFR"]["VDR-TFR-PVR"];
    let mut official = BTreeSet::new();
    for (class, by_class) in rule["varies_by_class"].as_object().unwrap() {
        for (pain, timeframes) in by_class["pain_timeframes"].as_object().unwrap() {
            for (exposure, t) in timeframes.as_object().unwrap() {
                official.insert((
                    class.to_uppercase(),
                    pain.parse::<i64>().unwrap(),
                    exposure.clone(),
                    t["timeframe_num"].as_i64().unwrap(),
                    t["timeframe_type"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    let ours = repo_toml("mappings/fedramp-20x-remediation.toml");
    let built_in: BTreeSet<_> = ours["timeframe"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                s(t, "class").to_string(),
                t["pain"].as_integer().unwrap(),
                s(t, "exposure").to_string(),
                t["num"].as_integer().unwrap(),
                s(t, "unit").to_string(),
            )
        })
        .collect();
    assert_eq!(built_in, official);
    assert_eq!(official.len(), 48, "4 classes x N2-N5 x 3 exposures");
    assert_eq!(s(&ours, "name"), rule["name"].as_str().unwrap());
    assert!(s(&ours, "version").ends_with(cr26["info"]["version"].as_str().unwrap()));
    // N1 has no timeframe; the rule for the rest is VDR-TFR-RMN.
    assert!(cr26["FRR"]["VDR"]["data"]["all"]["TFR"]
        .get(s(&ours, "remaining_rule"))
        .is_some());
}
