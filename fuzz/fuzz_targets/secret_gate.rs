//! Plants a random secret of a random rule's shape (gitleaks' pinned rules
//! and proofpack's own, generated from each rule's regex) at a random place
//! of a random input (an MCP configuration's env, arguments, JSON argument
//! or URL; a CloudTrail or Kubernetes audit record's fields; an inventory
//! row; a scanner finding; the input's own file name, which every row
//! keeps), ingests it into a folder, and asserts: if a reader let the value
//! through into any table, the gate stops the folder.
//!
//! Needs gitleaks' rule file: $PROOFPACK_SECRET_RULES, else
//! ../../shared/secrets/gitleaks.toml beside the checkout.
#![no_main]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Planted secrets, and those a reader let into a table (each one an
/// assertion on the gate); printed every 10,000 plants.
static PLANTED: AtomicU64 = AtomicU64::new(0);
static LEAKED: AtomicU64 = AtomicU64::new(0);

use libfuzzer_sys::fuzz_target;
use proofpack::ingest::{output::ingest_to_folder, IngestOptions};
use proofpack::secrets::gate::{Gate, Identifiers};
use proofpack::secrets::rules::RuleSet;
use rand::{rngs::SmallRng, Rng, SeedableRng};

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<&'static RuleSet> = OnceLock::new();
    RULES.get_or_init(|| {
        let path = std::env::var_os("PROOFPACK_SECRET_RULES")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/secrets/gitleaks.toml")
            });
        let set = proofpack::secrets::locate::load(Some(&path)).expect("gitleaks' pinned rules");
        proofpack::secrets::install(set)
    })
}

/// Generators per rule, built once (`None`: the regex cannot be sampled).
fn generators() -> &'static Vec<Option<rand_regex::Regex>> {
    static GENERATORS: OnceLock<Vec<Option<rand_regex::Regex>>> = OnceLock::new();
    GENERATORS.get_or_init(|| {
        let rules = rules();
        (0..rules.len())
            .map(|i| rand_regex::Regex::compile(rules.pattern(i), 6).ok())
            .collect()
    })
}

/// An input holding `secret` at place `place`: (file name, bytes).
fn plant(place: u8, secret: &str) -> (&'static str, Vec<u8>) {
    let json = |v: serde_json::Value| v.to_string().into_bytes();
    let trail = |record: serde_json::Value| {
        let mut base = serde_json::json!({
            "eventVersion": "1.08", "eventTime": "2026-11-02T03:14:07Z",
            "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
            "awsRegion": "us-east-1", "sourceIPAddress": "10.0.0.1",
            "userAgent": "aws-cli/2.15.0", "recipientAccountId": "111122223333",
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/app/s",
                              "accessKeyId": "ASIAZ7QRSTUVWXYZ2345",
                              "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::111122223333:role/app"}}},
            "requestParameters": {"bucketName": "b", "key": "k"}
        });
        for (k, v) in record.as_object().unwrap() {
            base[k] = v.clone();
        }
        json(serde_json::json!({"Records": [base]}))
    };
    match place % 14 {
        0 => (".mcp.json", json(serde_json::json!({"mcpServers": {"s": {"command": "npx", "args": ["-y", "pkg"], "env": {"SERVICE_SETTING": secret}}}}))),
        1 => (".mcp.json", json(serde_json::json!({"mcpServers": {"s": {"command": "npx", "args": ["-y", "pkg", "start", secret]}}}))),
        2 => (".mcp.json", json(serde_json::json!({"mcpServers": {"s": {"command": "npx", "args": ["--config", serde_json::json!({"opt": secret}).to_string()]}}}))),
        3 => (".mcp.json", json(serde_json::json!({"mcpServers": {"s": {"url": format!("https://mcp.example.com/{secret}/sse?x={secret}")}}}))),
        4 => (".mcp.json", json(serde_json::json!({"mcpServers": {"s": {"command": format!("run {secret}"), "headers": {"X-Thing": secret}}}}))),
        5 => ("trail.json", trail(serde_json::json!({"userAgent": format!("custom/{secret}")}))),
        6 => ("trail.json", trail(serde_json::json!({"errorCode": "AccessDenied", "errorMessage": format!("denied for {secret}")}))),
        7 => ("trail.json", trail(serde_json::json!({"requestParameters": {"bucketName": secret, "key": secret}}))),
        8 => ("trail.json", trail(serde_json::json!({"eventID": secret, "sourceIPAddress": secret}))),
        9 => ("audit.json", json(serde_json::json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
            "auditID": "a", "stage": "ResponseComplete", "requestURI": format!("/api/v1/namespaces/x/secrets/{secret}"), "verb": "get",
            "user": {"username": "system:serviceaccount:ns:sa"}, "userAgent": secret,
            "objectRef": {"resource": "secrets", "namespace": "x", "name": secret},
            "responseStatus": {"code": 403, "message": format!("forbidden: {secret}")},
            "requestReceivedTimestamp": "2026-11-02T03:14:07.000000Z", "stageTimestamp": "2026-11-02T03:14:07.000000Z"}))),
        10 => ("inventory.csv", format!("id,kind,provider,owner,description\nsvc-1,api-key,internal,team@x.example,\"key {secret}\"\n").into_bytes()),
        11 => ("gitleaks.json", json(serde_json::json!([{"RuleID": "generic-api-key", "File": format!("config/{secret}.env"), "StartLine": 3,
            "Secret": secret, "Match": format!("key={secret}"), "Commit": "abc", "Fingerprint": format!("abc:config/{secret}.env:generic-api-key:3")}]))),
        12 => ("okta.json", json(serde_json::json!([{"uuid": "u", "published": "2026-11-02T03:14:07.000Z", "eventType": "user.session.start",
            "actor": {"id": "00u1", "type": "User", "alternateId": "a@x.example"}, "outcome": {"result": "FAILURE", "reason": secret},
            "client": {"userAgent": {"rawUserAgent": secret}, "ipAddress": "10.0.0.1"},
            "debugContext": {"debugData": {"requestUri": format!("/api/v1/authn?token={secret}")}},
            "authenticationContext": {"externalSessionId": secret}}]))),
        _ => (".vscode/mcp.json", json(serde_json::json!({"inputs": [{"id": "k", "type": "promptString", "default": secret}],
            "servers": {"s": {"command": "node", "args": ["s.js"], "env": {"THING": "${input:k}"}}}}))),
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let rules = rules();
    let generators = generators();
    let index = usize::from(u16::from_le_bytes([data[8], data[9]])) % rules.len();
    let Some(generator) = &generators[index] else {
        return;
    };
    let mut rng = SmallRng::seed_from_u64(u64::from_le_bytes(data[..8].try_into().unwrap()));
    let candidate: String = rng.sample(generator);
    // Only values the rule itself calls a secret, alone, and that survive
    // JSON and CSV quoting as written.
    let Some(hit) = rules
        .find(candidate.as_bytes(), "")
        .into_iter()
        .find(|h| h.rule == index)
    else {
        return;
    };
    let secret = &candidate[hit.start..hit.end];
    if secret.len() < 12
        || !secret.is_ascii()
        || secret.contains(|c: char| c.is_ascii_control() || matches!(c, '"' | '\\' | ',' | '\n'))
    {
        return;
    }
    let planted = PLANTED.fetch_add(1, Ordering::Relaxed) + 1;
    if planted % 10_000 == 0 {
        eprintln!(
            "secret_gate: {planted} secrets planted, {} reached a table and were caught",
            LEAKED.load(Ordering::Relaxed)
        );
    }
    let (name, bytes) = plant(data[10], secret);
    // Half the time the file's own name carries the secret too: every row
    // keeps its input's name, and no reader masks that (the gate must).
    let name = if data[11] & 1 == 1 && !secret.contains(['/', '.']) {
        format!("{secret}-{}", name.trim_start_matches('.').replace('/', "-"))
    } else {
        name.to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in").join(&name);
    std::fs::create_dir_all(input.parent().unwrap()).unwrap();
    std::fs::write(&input, &bytes).unwrap();
    let out = dir.path().join("out");
    let options = IngestOptions::default();
    let Ok(summary) = ingest_to_folder(&out, &[input.display().to_string()], &options) else {
        return;
    };
    // Did any reader let the value through into a text table?
    let leaked = ["access_events.csv", "identities.csv", "grants.csv", "secret_findings.csv", "rejected.csv", "summary.json"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(out.join(f)).ok().map(|t| (*f, t)))
        .find(|(_, text)| text.contains(secret));
    if let Some((file, _)) = leaked {
        LEAKED.fetch_add(1, Ordering::Relaxed);
        let gate = Gate {
            rules,
            seen: &summary.seen_secrets,
            allowed: &[],
            identifiers: Identifiers::from_evidence(&out),
        };
        assert!(
            gate.scan_dir(&out).is_err(),
            "rule {} secret planted at place {} reached {file} and the gate let it pass",
            rules.rule(index).id,
            data[10] % 14
        );
    }
});
