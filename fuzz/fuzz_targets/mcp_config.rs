//! Any bytes as an MCP client configuration (JSON with comments and
//! trailing commas): parsed or refused with a reason, never a panic or a
//! stack overflow; every server becomes exactly one identity row; and no
//! `env` or `headers` value is ever copied into a row.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proofpack::ingest::mcp_config;
use proofpack::model::RawRef;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = mcp_config::parse_text(data) else {
        return;
    };
    if !mcp_config::detect(&value) {
        return;
    }
    let raw_ref = RawRef {
        file: "repo/.vscode/mcp.json".into(),
        position: "whole file".into(),
        sha256: String::new(),
    };
    let Ok(read) = mcp_config::identities(&value, "vscode", &raw_ref) else {
        return;
    };
    let rows = read.rows;
    let servers = mcp_config::server_count(&value);
    let server_rows = rows.iter().filter(|r| r.kind == "mcp-server").count();
    assert_eq!(server_rows, servers, "one identity per server");
    // Where a value could leak: the free-text fields (ids are built from
    // the server name, key names and file, all shown).
    let copied: String = rows
        .iter()
        .map(|r| format!("{} {} {}", r.details, r.credential_reason, r.kind))
        .collect();
    let all: Vec<(&String, &serde_json::Value)> = ["mcpServers", "servers"]
        .iter()
        .filter_map(|k| value.get(*k).and_then(|s| s.as_object()))
        .flat_map(|m| m.iter())
        .collect();
    // What the rows may rightly show: names, commands, arguments, URLs,
    // and the key names of env and headers.
    let shown: String = all
        .iter()
        .map(|(name, server)| {
            let keys: Vec<&String> = ["env", "headers"]
                .iter()
                .filter_map(|f| server.get(*f).and_then(|e| e.as_object()))
                .flat_map(|m| m.keys())
                .collect();
            // The command line as the rows write it: command and
            // arguments joined by spaces.
            let line: Vec<&str> = server
                .get("command")
                .and_then(|c| c.as_str())
                .into_iter()
                .chain(
                    server
                        .get("args")
                        .and_then(|a| a.as_array())
                        .into_iter()
                        .flatten()
                        .filter_map(|a| a.as_str()),
                )
                .collect();
            format!(
                "{name} {} {keys:?} {}",
                serde_json::json!([server.get("command"), server.get("args"), server.get("url")]),
                line.join(" ")
            )
        })
        .collect();
    for (_, server) in &all {
        for field in ["env", "headers"] {
            for secret in server
                .get(field)
                .and_then(|e| e.as_object())
                .into_iter()
                .flatten()
                .filter_map(|(_, v)| v.as_str())
                // Secret-like values: long, and without the characters
                // the rows themselves write around names (`=`, `;`, `,`,
                // spaces), which could rebuild a value from shown parts.
                .filter(|v| v.len() >= 12 && !v.contains(['=', ';', ',', ' ', ':']))
                .filter(|v| !shown.contains(*v) && !raw_ref.file.contains(*v))
            {
                assert!(!copied.contains(secret), "a value was copied: {secret}");
            }
        }
    }
});
