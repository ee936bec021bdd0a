//! MCP client configurations as an inventory of agent tool identities:
//! VS Code `.vscode/mcp.json` (`servers`, JSON with comments and trailing
//! commas, `inputs` prompted at start), Cursor `.cursor/mcp.json`, Claude
//! Code `.mcp.json`, Claude Desktop `claude_desktop_config.json`, Windsurf
//! `mcp_config.json` (`mcpServers`).
//!
//! Each server becomes an identity (`kind = mcp-server`, provider the
//! client) with its transport and its command or URL, and each credential
//! it is handed (an `env` entry or `headers` entry whose name says it is a
//! key, token, secret or password; a `-e VAR` passed into a container)
//! becomes a credential row of that server, classified by how the config
//! holds it:
//!
//! - `inline-literal`: the value itself is in the file;
//! - `environment-reference`: `${env:VAR}`, `${VAR}`, `$VAR`, or `-e VAR`;
//! - `prompted-input`: `${input:id}` (with `password` when VS Code masks it);
//! - `placeholder`: `YOUR_...`, `<...>`, `xxx`, `changeme` — no secret yet;
//! - `redacted`: `[REDACTED...]`, a value someone already removed.
//!
//! Values are never copied: rows carry names and classes only.

use serde_json::{Map, Value};

use crate::model::{CredentialType, Identity, RawRef};

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
    servers(value).is_some()
}

fn servers(value: &Value) -> Option<&Map<String, Value>> {
    ["mcpServers", "servers"]
        .iter()
        .find_map(|k| value.get(*k).and_then(Value::as_object))
        .filter(|m| {
            m.values().all(|s| {
                s.get("command").is_some() || s.get("url").is_some() || s.get("type").is_some()
            })
        })
}

/// The identity and credential rows of a configuration.
pub fn identities(
    value: &Value,
    client: &'static str,
    raw_ref: &RawRef,
) -> Result<Vec<Identity>, String> {
    let servers = servers(value).ok_or("no `servers` or `mcpServers` object of servers")?;
    let masked: Vec<&str> = value
        .get("inputs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|i| i.get("password").and_then(Value::as_bool) == Some(true))
        .filter_map(|i| i.get("id").and_then(Value::as_str))
        .collect();
    let mut rows = Vec::new();
    for (name, server) in servers {
        let id = format!("mcp:{name}@{}", raw_ref.file);
        let transport =
            server
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or(if server.get("url").is_some() {
                    "http"
                } else {
                    "stdio"
                });
        let target = match server.get("url").and_then(Value::as_str) {
            Some(url) => format!("url={}", without_query(url)),
            None => {
                let mut parts = vec![server
                    .get("command")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string()];
                parts.extend(args(server).map(|a| {
                    if looks_secret_arg(a) {
                        "[secret]".to_string()
                    } else {
                        a.to_string()
                    }
                }));
                format!("command={}", parts.join(" "))
            }
        };
        let mut credentials: Vec<(String, &'static str)> = Vec::new();
        for field in ["env", "headers"] {
            for (key, value) in server
                .get(field)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if field == "env" && !is_credential_name(key) {
                    continue;
                }
                let class = classify(value.as_str().unwrap_or(""), &masked);
                credentials.push((format!("{field}.{key}"), class));
            }
        }
        // `docker run -e VAR` passes the host's VAR into the container.
        let args: Vec<&str> = args(server).collect();
        for pair in args.windows(2) {
            if pair[0] == "-e" || pair[0] == "--env" {
                let (var, inline) = match pair[1].split_once('=') {
                    Some((var, _)) => (var, true),
                    None => (pair[1], false),
                };
                if is_credential_name(var) {
                    let class = if inline {
                        "inline-literal"
                    } else {
                        "environment-reference"
                    };
                    credentials.push((format!("args.-e.{var}"), class));
                }
            }
        }
        let classes: Vec<String> = credentials
            .iter()
            .map(|(k, c)| format!("{k}={c}"))
            .collect();
        let (credential_type, credential_reason) = if credentials.is_empty() {
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
        rows.push(
            Row {
                id: id.clone(),
                kind: "mcp-server",
                owner_id: None,
                active: server.get("disabled").and_then(Value::as_bool) != Some(true),
                credential_type,
                credential_reason: credential_reason.into(),
                details: format!(
                    "transport={transport}; {target}{}",
                    if classes.is_empty() {
                        String::new()
                    } else {
                        format!("; credentials: {}", classes.join(", "))
                    }
                ),
                position: format!("{}, server {name}", raw_ref.position),
            }
            .identity(client, raw_ref),
        );
        for (key, class) in credentials {
            rows.push(
                Row {
                    id: format!("{id}#{key}"),
                    kind: "secret",
                    owner_id: Some(id.clone()),
                    // A placeholder is no credential yet.
                    active: class != "placeholder",
                    credential_type: match class {
                        "placeholder" | "redacted" => CredentialType::Unknown,
                        _ => CredentialType::Static,
                    },
                    credential_reason: format!("{class}: {}", describe(class)),
                    details: format!("mcp-credential={class}"),
                    position: format!("{}, server {name}, {key}", raw_ref.position),
                }
                .identity(client, raw_ref),
            );
        }
    }
    Ok(rows)
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

fn args(server: &Value) -> impl Iterator<Item = &str> {
    server
        .get("args")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn describe(class: &str) -> &'static str {
    match class {
        "inline-literal" => "the secret itself is written in the configuration file",
        "environment-reference" => "read from the environment when the server starts",
        "prompted-input" => "prompted for when the server starts, not stored in the file",
        "prompted-input (masked)" => "prompted for as a password when the server starts",
        "placeholder" => "a placeholder: no secret has been filled in",
        _ => "removed from the file before it was shared",
    }
}

/// Names that say an environment variable holds a credential.
fn is_credential_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "KEY",
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "AUTH",
        "_PAT",
        "COOKIE",
        "SESSION",
    ]
    .iter()
    .any(|w| upper.contains(w))
        || upper == "PAT"
}

fn classify(value: &str, masked_inputs: &[&str]) -> &'static str {
    let v = value.trim();
    if let Some(id) = v.strip_prefix("${input:").and_then(|r| r.strip_suffix('}')) {
        return if masked_inputs.contains(&id) {
            "prompted-input (masked)"
        } else {
            "prompted-input"
        };
    }
    if v.contains("${input:") {
        return "prompted-input";
    }
    let reference = v.starts_with("${env:")
        || (v.starts_with("${") && v.ends_with('}'))
        || (v.starts_with('$')
            && v[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && v.len() > 1)
        || v.contains("${env:");
    if reference {
        return "environment-reference";
    }
    let upper = v.to_ascii_uppercase();
    if upper.starts_with("[REDACTED") || upper == "REDACTED" || upper.starts_with("***") {
        return "redacted";
    }
    let placeholder = v.is_empty()
        || upper.starts_with("YOUR_")
        || upper.starts_with("YOUR-")
        || upper.contains("YOUR_")
        || (v.starts_with('<') && v.ends_with('>'))
        || [
            "XXX",
            "CHANGEME",
            "CHANGE_ME",
            "TODO",
            "REPLACE_ME",
            "...",
            "PLACEHOLDER",
        ]
        .iter()
        .any(|p| upper == *p || upper.starts_with(p));
    if placeholder {
        return "placeholder";
    }
    "inline-literal"
}

/// An argument that carries a secret inline (`--api-key=...`, `--token=...`).
fn looks_secret_arg(arg: &str) -> bool {
    arg.split_once('=')
        .is_some_and(|(k, v)| is_credential_name(k.trim_start_matches('-')) && !v.is_empty())
}

fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
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
        identities(&value, "vscode", &raw).unwrap()
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
            "mcp-credential=prompted-input"
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
        assert_eq!(remote.details, "transport=http; url=https://mcp.example.com/mcp; credentials: headers.Authorization=prompted-input");
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
