//! Agents and third-party identities from the real samples of agent
//! platforms, identity providers, GitHub, Google Workspace and log
//! shippers: what ingest reads from each, and what the three checks built
//! on them find.

use serde_json::Value;

use crate::ingest::{ingest, samples, summary};
use crate::util::*;

/// The identities table, as rows of column → value.
fn identities(dir: &std::path::Path) -> Vec<std::collections::BTreeMap<String, String>> {
    csv_records(&dir.join("evidence/identities.csv"))
}

fn row<'a>(
    rows: &'a [std::collections::BTreeMap<String, String>],
    id: &str,
) -> &'a std::collections::BTreeMap<String, String> {
    rows.iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no identity {id}"))
}

#[test]
fn every_new_sample_folder_reads_with_only_explained_rejects() {
    let folders = [
        "agent-identity",
        "third-party",
        "okta",
        "github-audit",
        "mcp-configs",
        "envelopes",
    ];
    let (dir, _) = ingest(
        &folders
            .iter()
            .map(|f| samples().join(f))
            .collect::<Vec<_>>(),
        &[],
    );
    let s = summary(dir.path());
    assert_eq!(s["files"], 17);
    // The only rejects: the Datadog forwarder's metric points.
    let rejected = std::fs::read_to_string(dir.path().join("evidence/rejected.csv")).unwrap();
    assert_eq!(s["rejected"], 3, "{rejected}");
    assert_eq!(
        rejected
            .matches("cloudwatch_log_cloudtrail.snapshot.json")
            .count(),
        3
    );
    // Okta's role and group definitions are skipped, saying so.
    assert_eq!(s["skipped"], 6);
    assert_eq!(s["skipped_by_reason"]["an Okta group"], 3);
    for (source, n) in [
        ("openai-audit", 100),
        ("bedrock-agentcore", 2),
        ("google-workspace", 1),
        ("okta-system-log", 126),
        ("okta-inventory", 8),
        ("github-audit", 63),
    ] {
        assert_eq!(s["by_source"][source], n, "{source}");
    }
    assert_eq!(s["by_principal_type"]["agent"], 4);

    let rows = identities(dir.path());
    // An AgentCore runtime is an agent of its platform.
    let runtime = row(
        &rows,
        "arn:aws:bedrock-agentcore:us-east-1:627286350132:runtime/customersupport-3OutfrDDJ2",
    );
    assert_eq!(runtime["kind"], "agent-runtime");
    assert_eq!(runtime["agent_platform"], "Amazon Bedrock AgentCore");
    assert_eq!(runtime["origin"], "log");
    // The Gemini Live app's service account, with its user-managed key.
    let gemini = row(
        &rows,
        "matt-adams-gimini-live-app@elastic-abs.iam.gserviceaccount.com",
    );
    assert_eq!(gemini["agent_platform"], "Google Vertex AI");
    assert_eq!(gemini["credential_type"], "static");
    // The Gmail add-on a person authorised is another organisation's.
    let client = row(
        &rows,
        "923474483785-sqf6uk8vq1rqe853il0g2h4m98ji2fq6.apps.googleusercontent.com",
    );
    assert_eq!(client["ownership"], "third-party");
    assert_eq!(client["on_behalf_of"], "foo@bar.com");
    // GitGuardian, installed on every repository.
    let app = row(&rows, "github-app:GitGuardian@siteshjha11");
    assert_eq!(
        (app["ownership"].as_str(), app["vendor"].as_str()),
        ("third-party", "GitGuardian")
    );
    // OpenAI keys from their lifecycle events: the deleted one is inactive.
    assert_eq!(row(&rows, "key_h0vsHQYJp2HeJUSq")["active"], "false");
    assert_eq!(
        row(&rows, "key_Vs0sLaBKMEhzn8mo")["owner"],
        "userla@afos.io"
    );
    // Okta's users, by the login the System Log names them by.
    let okta = row(&rows, "integration-test@daxtarity.com");
    assert_eq!(okta["provider"], "okta");
    assert_eq!(okta["raw_position"], "line 1, data");

    // `query` lists them for a person at a terminal.
    let cache = tempfile::tempdir().unwrap();
    let listed = |flag: &str| -> Vec<String> {
        let out = run(proofpack(cache.path())
            .arg("query")
            .arg(dir.path().join("evidence"))
            .args([flag, "--format", "json"]));
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        rows.iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        listed("--third-party"),
        [
            "923474483785-sqf6uk8vq1rqe853il0g2h4m98ji2fq6.apps.googleusercontent.com",
            "github-app:GitGuardian@siteshjha11"
        ]
    );
    let agents = listed("--agents");
    assert!(
        agents
            .iter()
            .any(|a| a.ends_with(":runtime/customersupport-3OutfrDDJ2")),
        "{agents:?}"
    );
    assert!(
        agents.iter().all(|a| !a.contains("GitGuardian")),
        "{agents:?}"
    );

    let out = run(proofpack(cache.path())
        .args(["checks", "run"])
        .arg(dir.path().join("evidence"))
        .args(["--format", "json", "--as-of", "2026-11-30"]));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let subjects = |id: &str| -> Vec<String> {
        result(&report, id)["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(result(&report, "third-party-accountable")["status"], "fail");
    assert_eq!(
        subjects("third-party-accountable"),
        [
            "923474483785-sqf6uk8vq1rqe853il0g2h4m98ji2fq6.apps.googleusercontent.com",
            "github-app:GitGuardian@siteshjha11"
        ]
    );
    // The add-on's five Gmail and Apps Script scopes are within bounds; an
    // App on every repository is not.
    assert_eq!(
        subjects("third-party-least-privilege"),
        ["github-app:GitGuardian@siteshjha11"]
    );
    assert_eq!(
        subjects("agent-own-identity"),
        ["matt-adams-gimini-live-app@elastic-abs.iam.gserviceaccount.com"]
    );
    let detail = &result(&report, "agent-own-identity")["subjects"][0]["detail"];
    assert!(
        detail.as_str().unwrap().contains("static credential"),
        "{detail}"
    );
}

#[test]
fn agents_and_third_parties_reach_the_oscal_and_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let logs: Vec<String> = [
        "agent-identity",
        "third-party",
        "okta",
        "github-audit",
        "envelopes",
    ]
    .iter()
    .map(|f| format!("{:?}", samples().join(f).display().to_string()))
    .collect();
    let config = tmp.path().join("proofpack.toml");
    std::fs::write(
        &config,
        format!(
            "[system]\nname = \"Agents\"\ndescription = \"Agent platforms and vendors\"\norganization = \"Test\"\nclass = \"B\"\nboundary = \"test\"\n\n\
             [inputs]\nlogs = [{}]\ninventories = [{:?}]\n\n[output]\ndir = \"pkg\"\n",
            logs.join(", "),
            samples().join("mcp-configs").display().to_string()
        ),
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = run(proofpack(cache.path())
        .args(["generate", "--config"])
        .arg(&config)
        .arg("--schema-dir")
        .arg(schema_dir()));
    assert_eq!(
        out.status.code(),
        Some(0),
        "failing checks do not fail generate: {}",
        stderr(&out)
    );
    let pkg = tmp.path().join("pkg");
    let results = read_json(&pkg.join("oscal/assessment-results.json"));
    let items = results["assessment-results"]["results"][0]["local-definitions"]["inventory-items"]
        .as_array()
        .unwrap();
    let props = |id: &str| -> Vec<(String, String)> {
        let item = items
            .iter()
            .find(|i| i["description"].as_str().unwrap().ends_with(id))
            .unwrap_or_else(|| panic!("no inventory item {id}"));
        item["props"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().into(),
                    p["value"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let app = props("github-app:GitGuardian@siteshjha11");
    assert!(
        app.contains(&("nhi-ownership".into(), "third-party".into())),
        "{app:?}"
    );
    assert!(
        app.contains(&("vendor".into(), "GitGuardian".into())),
        "{app:?}"
    );
    let runtime = props("runtime/customersupport-3OutfrDDJ2");
    assert!(runtime.contains(&("agent-platform".into(), "Amazon Bedrock AgentCore".into())));
    // The failing third-party check is an observation naming the App.
    let observations = results["assessment-results"]["results"][0]["observations"]
        .as_array()
        .unwrap();
    let third = observations
        .iter()
        .find(|o| {
            o["props"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["value"] == "third-party-least-privilege")
        })
        .unwrap();
    assert_eq!(
        third["subjects"][0]["title"],
        "github-app:GitGuardian@siteshjha11"
    );
    let summary = std::fs::read_to_string(pkg.join("summary.md")).unwrap();
    let table = summary
        .split("## AI agents and third-party identities")
        .nth(1)
        .unwrap();
    assert!(
        table.contains(
            "| github-app:GitGuardian@siteshjha11 | github-app | third-party | GitGuardian |"
        ),
        "{table}"
    );
    assert!(table.contains("| foo@bar.com |"), "{table}");
    let (code, report) = verify_json(&pkg, &[]);
    assert_eq!(code, 0, "{report}");
}
