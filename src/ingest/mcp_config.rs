//! MCP client configurations as an inventory of agent tool identities:
//! VS Code `.vscode/mcp.json` (`servers`, JSON with comments and trailing
//! commas, `inputs` prompted at start), Cursor `.cursor/mcp.json`, Claude
//! Code `.mcp.json`, Claude Desktop `claude_desktop_config.json`, Windsurf
//! `mcp_config.json` (`mcpServers`).
//!
//! Each server becomes an identity (`kind = mcp-server`, provider the
//! client) with its transport and its command or URL, and each credential
//! it is handed becomes a credential row of that server: an `env` or
//! `headers` entry, a value in its command line (`--token VALUE`, Docker's
//! `-e NAME=VALUE`, a JSON object argument, a bare key; see `mcp_args`), its
//! URL's user-info or token parameters, any other field. Each is
//! classified by how the config holds it (`crate::secrets::shape`):
//!
//! - `inline-literal`: the value itself is in the file;
//! - `environment-reference`: `${env:VAR}`, `${VAR}`, `$VAR`, or `-e VAR`;
//! - `prompted-input`: `${input:id}` (with `password` when VS Code masks it);
//! - `placeholder`: `YOUR_...`, `<...>`, `xxx`, `changeme` — no secret yet;
//! - `redacted`: `[REDACTED...]`, a value someone already removed.
//!
//! Values are never copied: rows carry names, classes and, for literals, a
//! marker with a fingerprint; the command line and URL are kept with every
//! value not proven harmless replaced by a marker.

use serde_json::{Map, Value};

use super::mcp_args::{read_args, read_json, read_url, Classifier, Reading};
use crate::model::{CredentialType, Identity, RawRef};
use crate::secrets::marker::Fingerprinter;
use crate::secrets::shape::{classify, Inputs, ValueClass};

pub const SOURCE: &str = "mcp-config";
/// Nesting deeper than this is no MCP configuration (and would exhaust
/// the JSONC parser's stack).
const MAX_DEPTH: usize = 64;

/// Which client a configuration file belongs to, by its name.
pub fn client(name: &str) -> Option<&'static str> {
    let name = name.replace('\\', "/");
    let file = name.rsplit('/').next().unwrap_or(&name);
    let folder = name.rsplit('/').nth(1).unwrap_or("");
    match file {
        "mcp.json" if folder == ".vscode" => Some("vscode"),
        "mcp.json" if folder == ".cursor" => Some("cursor"),
        ".mcp.json" => Some("claude-code"),
        "claude_desktop_config.json" => Some("claude-desktop"),
        "mcp_config.json" => Some("windsurf"),
        "mcp.json" => Some("mcp"),
        _ => None,
    }
}

/// Parses a configuration as its clients do (comments and trailing commas
/// allowed).
pub fn parse_text(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text: {e}"))?;
    if nesting(text) > MAX_DEPTH {
        return Err(format!("nested deeper than {MAX_DEPTH} levels"));
    }
    let options = jsonc_parser::ParseOptions {
        allow_comments: true,
        allow_trailing_commas: true,
        allow_loose_object_property_names: false,
        ..Default::default()
    };
    jsonc_parser::parse_to_serde_value::<Value>(text, &options)
        .map_err(|e| format!("not valid JSON with comments: {e}"))
}

/// The deepest bracket nesting outside strings (comments may overcount,
/// never undercount).
fn nesting(text: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Whether a parsed document is an MCP configuration.
pub fn detect(value: &Value) -> bool {
    !servers(value).is_empty()
}

/// The server maps of a configuration, wherever its client keeps them:
/// `mcpServers` (Claude, Cursor, Windsurf), `servers` (VS Code's mcp.json),
/// `mcp.servers` (VS Code's settings.json), `context_servers` (Zed), and
/// Claude Code's per-project `projects.<path>.mcpServers` (~/.claude.json).
fn servers(value: &Value) -> Vec<(String, &Map<String, Value>)> {
    fn take<'v>(
        out: &mut Vec<(String, &'v Map<String, Value>)>,
        prefix: String,
        v: Option<&'v Value>,
    ) {
        let is_servers = |m: &Map<String, Value>| {
            m.values().all(|s| {
                s.get("command").is_some()
                    || s.get("url").is_some()
                    || s.get("serverUrl").is_some()
                    || s.get("httpUrl").is_some()
                    || s.get("type").is_some()
            })
        };
        if let Some(m) = v.and_then(Value::as_object).filter(|m| is_servers(m)) {
            out.push((prefix, m));
        }
    }
    let mut out = Vec::new();
    take(&mut out, String::new(), value.get("mcpServers"));
    take(&mut out, String::new(), value.get("servers"));
    take(&mut out, String::new(), value.get("context_servers"));
    take(&mut out, String::new(), value.pointer("/mcp/servers"));
    if let Some(projects) = value.get("projects").and_then(Value::as_object) {
        for (path, project) in projects {
            take(&mut out, format!("{path}:"), project.get("mcpServers"));
        }
    }
    out
}

/// How many servers the configuration declares, wherever its client keeps
/// them.
pub fn server_count(value: &Value) -> usize {
    servers(value).iter().map(|(_, m)| m.len()).sum()
}

/// What reading a configuration gives: its rows, and the literal secrets
/// it held (which the caller keeps only as hashes, for the gate).
pub struct Read {
    pub rows: Vec<Identity>,
    pub literals: Vec<String>,
}

/// Server fields read as their own places; every other string field is
/// classified under its name (`oauth.clientSecret`).
const KNOWN_FIELDS: &[&str] = &[
    "command",
    "args",
    "env",
    "headers",
    "url",
    "serverUrl",
    "httpUrl",
    "type",
    "transport",
    "disabled",
    "cwd",
    "envFile",
    "description",
    "alwaysAllow",
    "autoApprove",
    "timeout",
];

/// The identity and credential rows of a configuration.
pub fn identities(value: &Value, client: &'static str, raw_ref: &RawRef) -> Result<Read, String> {
    let all = servers(value);
    if all.is_empty() {
        return Err("no `servers` or `mcpServers` object of servers".into());
    }
    let rules = crate::secrets::active();
    let fingerprints = Fingerprinter::global();
    let declared: Vec<&Value> = value
        .get("inputs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let inputs = Inputs {
        masked: declared
            .iter()
            .filter(|i| i.get("password").and_then(Value::as_bool) == Some(true))
            .filter_map(|i| i.get("id").and_then(Value::as_str))
            .map(str::to_string)
            .collect(),
    };
    // A prompted input's default value, when it is a secret, is one.
    let mut literals = Vec::new();
    let literal_defaults: Vec<String> = declared
        .iter()
        .filter_map(|i| {
            let id = i.get("id").and_then(Value::as_str)?;
            let default = i.get("default").and_then(Value::as_str)?;
            (classify(Some(id), default, &Inputs::default(), rules) == ValueClass::InlineLiteral)
                .then(|| {
                    literals.push(default.trim().to_string());
                    id.to_string()
                })
        })
        .collect();
    let c = Classifier {
        rules,
        inputs: &inputs,
        literal_defaults: &literal_defaults,
        fingerprints,
    };
    let mut rows = Vec::new();
    for (prefix, servers) in all {
        for (server_name, server) in servers {
            let name = format!("{prefix}{server_name}");
            let mut reading = Reading::default();
            let (rows_of_server, literals_of_server) =
                server_rows(&name, server, &c, client, raw_ref, &mut reading);
            rows.extend(rows_of_server);
            literals.extend(literals_of_server);
        }
    }
    Ok(Read { rows, literals })
}

/// One server's rows: its identity and a row per credential place.
fn server_rows(
    name: &str,
    server: &Value,
    c: &Classifier<'_>,
    client: &'static str,
    raw_ref: &RawRef,
    reading: &mut Reading,
) -> (Vec<Identity>, Vec<String>) {
    let id = format!("mcp:{name}@{}", raw_ref.file);
    let url = ["url", "serverUrl", "httpUrl"]
        .iter()
        .find_map(|k| server.get(*k).and_then(Value::as_str));
    let transport = server
        .get("type")
        .or_else(|| server.get("transport"))
        .and_then(Value::as_str)
        .unwrap_or(if url.is_some() { "http" } else { "stdio" });
    let mut target = Vec::new();
    if let Some(url) = url {
        target.push(format!("url={}", read_url(url, "url", c, reading)));
    }
    if let Some(command) = server.get("command").and_then(Value::as_str) {
        // A whole command line in `command` is split as a shell would
        // split plain words.
        let mut words: Vec<&str> = command.split_whitespace().collect();
        let executable = if words.is_empty() {
            "?"
        } else {
            words.remove(0)
        };
        let shown_exe = c.redacted(executable, ValueClass::NotCredential);
        let args: Vec<&str> = words
            .into_iter()
            .chain(
                server
                    .get("args")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str),
            )
            .collect();
        let shown = read_args(&args, c, reading);
        let mut line = vec![shown_exe];
        line.extend(shown);
        target.push(format!("command={}", line.join(" ")));
    }
    for field in ["env", "headers"] {
        for (key, value) in server
            .get(field)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            match value.as_str() {
                Some(text) => {
                    c.place(format!("{field}.{key}"), Some(key), text, reading);
                }
                None => {
                    let mut copy = value.clone();
                    read_json(&mut copy, &format!("{field}.{key}"), Some(key), c, reading);
                }
            }
        }
    }
    if let Some(object) = server.as_object() {
        for (key, value) in object {
            if KNOWN_FIELDS.contains(&key.as_str()) {
                continue;
            }
            let mut copy = value.clone();
            read_json(&mut copy, key, Some(key), c, reading);
        }
    }
    let places = std::mem::take(&mut reading.places);
    let literals = std::mem::take(&mut reading.literals);
    let classes: Vec<String> = places
        .iter()
        .map(|p| format!("{}={}", p.key, p.class.as_str()))
        .collect();
    let (credential_type, credential_reason) = if places.is_empty() {
        (
            CredentialType::Unknown,
            "no credential in the configuration (a remote server may sign in with OAuth)",
        )
    } else {
        (
            CredentialType::Static,
            "API keys or tokens handed to the server in its configuration",
        )
    };
    let mut rows = vec![Row {
        id: id.clone(),
        kind: "mcp-server",
        owner_id: None,
        active: server.get("disabled").and_then(Value::as_bool) != Some(true),
        credential_type,
        credential_reason: credential_reason.into(),
        details: format!(
            "transport={}; {}{}",
            c.redacted(transport, ValueClass::NotCredential),
            target.join("; "),
            if classes.is_empty() {
                String::new()
            } else {
                format!("; credentials: {}", classes.join(", "))
            }
        ),
        position: format!("{}, server {name}", raw_ref.position),
    }
    .identity(client, raw_ref)];
    for place in places {
        let class = place.class;
        let mut reason = format!("{}: {}", class.as_str(), class.describe());
        if let Some(marker) = &place.marker {
            reason.push_str(&format!(" ({marker}"));
            if let Some(rule) = &place.rule {
                reason.push_str(&format!("; format {rule}"));
            }
            reason.push(')');
        }
        rows.push(
            Row {
                id: format!("{id}#{}", place.key),
                kind: "secret",
                owner_id: Some(id.clone()),
                // A placeholder is no credential yet.
                active: class != ValueClass::Placeholder,
                credential_type: match class {
                    ValueClass::Placeholder | ValueClass::Redacted => CredentialType::Unknown,
                    _ => CredentialType::Static,
                },
                credential_reason: reason,
                details: format!("mcp-credential={}", class.as_str()),
                position: format!("{}, server {name}, {}", raw_ref.position, place.key),
            }
            .identity(client, raw_ref),
        );
    }
    (rows, literals)
}

/// What differs between the rows of a configuration.
struct Row {
    id: String,
    kind: &'static str,
    owner_id: Option<String>,
    active: bool,
    credential_type: CredentialType,
    credential_reason: String,
    details: String,
    position: String,
}

impl Row {
    fn identity(self, client: &'static str, raw_ref: &RawRef) -> Identity {
        Identity {
            id: self.id,
            kind: self.kind.into(),
            provider: client,
            owner_id: self.owner_id,
            // A configuration says nothing of when a key was made or used.
            active: self.active,
            credential_type: self.credential_type,
            credential_reason: self.credential_reason,
            details: self.details,
            source_ref: RawRef {
                position: self.position,
                ..raw_ref.clone()
            },
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<Identity> {
        let value = parse_text(text.as_bytes()).unwrap();
        let raw = RawRef {
            file: "repo/.vscode/mcp.json".into(),
            position: "whole file".into(),
            sha256: String::new(),
        };
        identities(&value, "vscode", &raw).unwrap().rows
    }

    #[test]
    fn credentials_are_classified_and_their_values_never_copied() {
        let rows = rows(
            r#"{
            // VS Code allows comments
            "servers": {
                "gh": {"command": "npx", "args": ["-y", "server-github", "--token=ghp_abcdefghijklmnop"],
                       "env": {"GITHUB_TOKEN": "ghp_realsecretvalue123", "PATH_EXTRA": "/opt", "API_KEY": "${input:key}",
                               "OTHER_KEY": "${env:OTHER}", "PLACE_TOKEN": "YOUR_TOKEN", "CUT_KEY": "[REDACTED_API_KEY]",},},
                "remote": {"type": "http", "url": "https://mcp.example.com/mcp?token=abc", "headers": {"Authorization": "Bearer ${input:key}"}},
                "box": {"command": "docker", "args": ["run", "-e", "SLACK_TOKEN", "-e", "DB_PASSWORD=hunter2", "img"]},
            },
            "inputs": [{"type": "promptString", "id": "key", "password": true}],
        }"#,
        );
        let find = |id: &str| {
            rows.iter()
                .find(|r| r.id.ends_with(id))
                .unwrap_or_else(|| panic!("{id}"))
        };
        assert_eq!(
            find("#env.GITHUB_TOKEN").details,
            "mcp-credential=inline-literal"
        );
        assert_eq!(
            find("#env.API_KEY").details,
            "mcp-credential=prompted-input (masked)"
        );
        assert_eq!(
            find("#env.OTHER_KEY").details,
            "mcp-credential=environment-reference"
        );
        assert_eq!(
            find("#env.PLACE_TOKEN").details,
            "mcp-credential=placeholder"
        );
        assert_eq!(find("#env.CUT_KEY").details, "mcp-credential=redacted");
        assert_eq!(
            find("#headers.Authorization").details,
            "mcp-credential=prompted-input (masked)"
        );
        assert_eq!(
            find("#args.-e.SLACK_TOKEN").details,
            "mcp-credential=environment-reference"
        );
        assert_eq!(
            find("#args.-e.DB_PASSWORD").details,
            "mcp-credential=inline-literal"
        );
        assert!(rows.iter().all(|r| !r.id.contains("PATH_EXTRA")));
        let all = format!("{rows:?}");
        for secret in [
            "ghp_realsecretvalue123",
            "hunter2",
            "ghp_abcdefghijklmnop",
            "token=abc",
        ] {
            assert!(!all.contains(secret), "{secret} copied");
        }
        let remote = find("mcp:remote@repo/.vscode/mcp.json");
        assert_eq!(remote.details, "transport=http; url=https://mcp.example.com/mcp?token=<literal secret, 3 chars>; credentials: url.query.token=inline-literal, headers.Authorization=prompted-input (masked)");
    }

    #[test]
    fn clients_are_named_by_their_files_and_deep_nesting_is_refused() {
        assert_eq!(client("a/.vscode/mcp.json"), Some("vscode"));
        assert_eq!(client("a/.cursor/mcp.json"), Some("cursor"));
        assert_eq!(client("a/.mcp.json"), Some("claude-code"));
        assert_eq!(
            client("x/claude_desktop_config.json"),
            Some("claude-desktop")
        );
        assert_eq!(client("x/config.json"), None);
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_text(deep.as_bytes())
            .unwrap_err()
            .contains("nested deeper"));
    }
}
