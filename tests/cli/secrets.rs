//! No secret ever leaves in a package: credential values in MCP
//! configurations, command lines and records are found, classified and
//! never copied; the gate stops any package or ingest folder that would
//! hold one.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use polars::prelude::{DataType, ParquetReader, SerReader};

use crate::ingest::{ingest, samples};
use crate::util::{
    csv_records, proofpack, read_json, result, run, schema_dir, stderr, verify_json,
};

/// Real configurations from public repositories (see its SOURCES.md).
fn real_configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mcp-real")
}

/// Every file under `dir` that `ingest` reads as an MCP configuration.
fn config_files(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| e.path().to_path_buf())
        .collect()
}

/// `value` appears nowhere under `dir`: not in any file's bytes, and not in
/// any string cell of any Parquet table (whose pages are compressed).
fn assert_nowhere(dir: &Path, value: &str) {
    for entry in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
    {
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        let bytes = std::fs::read(path).unwrap();
        assert!(
            !bytes.windows(value.len()).any(|w| w == value.as_bytes()),
            "a secret of {} chars is in {}",
            value.len(),
            path.display()
        );
        if path.extension().is_some_and(|x| x == "parquet") {
            let frame = ParquetReader::new(std::fs::File::open(path).unwrap())
                .finish()
                .unwrap();
            for column in frame.columns() {
                if column.dtype() != &DataType::String {
                    continue;
                }
                for cell in column.str().unwrap().iter().flatten() {
                    assert!(
                        !cell.contains(value),
                        "a secret is in {} column {}",
                        path.display(),
                        column.name()
                    );
                }
            }
        }
    }
}

/// The credential rows of an ingest: `id` (after the config's folder) →
/// class.
fn credentials(evidence: &Path, strip: &[&Path]) -> BTreeSet<(String, String)> {
    csv_records(&evidence.join("identities.csv"))
        .into_iter()
        .filter(|r| r["kind"] == "secret")
        .map(|r| {
            let mut id = r["id"].clone();
            for prefix in strip {
                id = id.replace(&format!("{}/", prefix.display()), "");
            }
            let class = r["details"]
                .trim_start_matches("mcp-credential=")
                .to_string();
            (id, class)
        })
        .collect()
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Every real configuration: each server's credentials classified as a
/// reviewer reading the file would, and no value copied anywhere.
#[test]
fn real_mcp_configurations_are_classified_and_no_value_is_copied() {
    let real = real_configs();
    let shared = samples().join("mcp-configs");
    let mut inputs = config_files(&real);
    inputs.extend(config_files(&shared));
    assert!(inputs.len() >= 27, "{} configurations", inputs.len());
    let (out, _) = ingest(&inputs, &[]);
    let evidence = out.path().join("evidence");
    let summary = read_json(&evidence.join("summary.json"));
    assert_eq!(summary["rejected"], 0, "{summary}");
    assert_eq!(summary["inventoried"].as_u64(), Some(inputs.len() as u64));
    let found = credentials(&evidence, &[&real, &shared]);
    let expected = set(&[
        // A Supabase personal token after --access-token: a literal.
        (
            "mcp:supabase@0247473--cursor-supabase-app/.cursor/mcp.json#args.--access-token",
            "inline-literal",
        ),
        (
            "mcp:home-assistant-mcp@0GiS0--home-assistant-mcp/.vscode/mcp.json#headers.Authorization",
            "prompted-input (masked)",
        ),
        // `-e OBSIDIAN_API_KEY=${input:...}` is a prompted input; the
        // paths and URL beside it are not credentials.
        (
            "mcp:obsidianLocalRest@15cm--obsidian-rest-mcp/.vscode/mcp.json#args.-e.OBSIDIAN_API_KEY",
            "prompted-input (masked)",
        ),
        (
            "mcp:stdio-mcp@0gis0-youtube-mcp-server/.vscode/mcp.json#env.YOUTUBE_API_KEY",
            "prompted-input (masked)",
        ),
        (
            "mcp:freee-hr-mcp@0xkohe-freee-hr-mcp/.vscode/mcp.json#env.FREEE_HR_ACCESS_TOKEN",
            "prompted-input",
        ),
        ("mcp:athena-neo4j@0k-cool-athena/.mcp.json#env.NEO4J_PASS", "environment-reference"),
        ("mcp:kali_internal@0k-cool-athena/.mcp.json#env.KALI_API_KEY", "redacted"),
        (
            "mcp:brave-search@3rzy-claude-google-workspace-config/claude_desktop_config.json#env.BRAVE_API_KEY",
            "placeholder",
        ),
        (
            "mcp:gdrive@3rzy-claude-google-workspace-config/claude_desktop_config.json#env.GOOGLE_CLIENT_SECRET",
            "placeholder",
        ),
        (
            "mcp:github@3rzy-claude-google-workspace-config/claude_desktop_config.json#env.GITHUB_PERSONAL_ACCESS_TOKEN",
            "placeholder",
        ),
        (
            "mcp:google-workspace-mcp@3rzy-claude-google-workspace-config/claude_desktop_config.json#env.GOOGLE_CLIENT_SECRET",
            "placeholder",
        ),
        (
            "mcp:google-workspace-mcp@3rzy-claude-google-workspace-config/claude_desktop_config.json#args.-e.GOOGLE_CLIENT_SECRET",
            "environment-reference",
        ),
    ]);
    assert_eq!(found, expected);
    // 20 repositories' files and the six shared ones: 51 servers.
    let servers = csv_records(&evidence.join("identities.csv"))
        .into_iter()
        .filter(|r| r["kind"] == "mcp-server")
        .count();
    assert_eq!(servers, 51);
    assert_nowhere(out.path(), "sbp_c0c46bc32330421d66fb959e01b1f318d2c4c62c");
    // What a reader needs is kept: the package, the flags, the paths.
    let rows = csv_records(&evidence.join("identities.csv"));
    let details = |file: &str| {
        rows.iter()
            .find(|r| r["id"].ends_with(file) && r["kind"] == "mcp-server")
            .map(|r| r["details"].clone())
            .unwrap()
    };
    let supabase = details("0247473--cursor-supabase-app/.cursor/mcp.json");
    assert!(
        supabase.contains(
            "command=npx -y @supabase/mcp-server-supabase@latest --access-token <literal secret, 44 chars, fp:"
        ),
        "{supabase}"
    );
    assert!(details("15cm--obsidian-rest-mcp/.vscode/mcp.json")
        .contains("-e OBSIDIAN_OPENAPI_PATH=/openapi.yaml"));
}

/// The value of every syntax a client reads, as a fixture: each secret a
/// literal, each other place what it is.
const SYNTAX_FIXTURES: &[(&str, &str)] = &[
    (
        // Neon's key as a bare positional argument; Perplexity's inside a
        // JSON string given to --config; Supabase's after --access-token.
        "issue/.cursor/mcp.json",
        r#"{"mcpServers": {
            "neon": {"command": "npx", "args": ["-y", "@neondatabase/mcp-server-neon", "start", "napi_0jpaa7mcu9n6163o1nx9lsnvqmd7tlhy3oc3nz8u5yvh95y9zgx3mrzo3ktxlwh4"]},
            "perplexity": {"command": "npx", "args": ["-y", "server-perplexity-ask", "--config", "{\"perplexityApiKey\":\"pplx-Zx81Qm4Lr7Tp2Vw9Yb3Nc6Hd0Kf5Js8Gq1Ae4Uo7Ix2Rt9Wy5\",\"model\":\"sonar-pro\"}"]},
            "supabase": {"command": "npx", "args": ["-y", "@supabase/mcp-server-supabase@latest", "--read-only", "--project-ref=wxpwxzdgdvinlbtnbgdf", "--access-token=sbp_011a1185238ac5457fba9009b9108b3bdce27c8a"]}
        }}"#,
    ),
    (
        // VS Code: inputs (one with a literal default), ${env:X}, headers.
        "vscode/.vscode/mcp.json",
        r#"{
            // comments and trailing commas, as VS Code allows
            "inputs": [
                {"type": "promptString", "id": "gh", "password": true},
                {"type": "promptString", "id": "legacy", "default": "ghp_Ab3De6Gh9Jk2Mn5Pq8St1Vw4Yz7Bc0Ef3Hi6"},
            ],
            "servers": {
                "github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/", "headers": {"Authorization": "Bearer ${input:gh}"}},
                "legacy": {"command": "node", "args": ["srv.js"], "env": {"GH_TOKEN": "${input:legacy}"}},
                "envref": {"command": "node", "args": ["srv.js"], "env": {"API_KEY": "${env:MY_API_KEY}", "LOG_LEVEL": "debug"}},
                "literal-header": {"type": "http", "url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer sk-proj-Ab3De6Gh9Jk2Mn5Pq8St1Vw4Yz7Bc0Ef3Hi6Lm9No2Qr5Tu8Wx1Za4"}},
            },
        }"#,
    ),
    (
        // Claude Code: ${X}, ${X:-default}, a literal default, {env:X}-style
        // (opencode), URL user-info and token parameters, KEY=VALUE words.
        "claude/.mcp.json",
        r#"{"mcpServers": {
            "defaults": {"command": "uvx", "args": ["mcp-server"], "env": {"SLACK_BOT_TOKEN": "${SLACK_BOT_TOKEN:-}", "DB_URL": "${DB_URL:-postgres://localhost/app}"}},
            "baked-default": {"command": "uvx", "args": ["mcp-server"], "env": {"OPENAI_API_KEY": "${OPENAI_API_KEY:-sk-proj-Zq8Xw2Ce4Rv6Bt8Yn0Um2Ik4Ol6Pp8Aa1Ss3Dd5Ff7Gg9Hh1Jj3Kk5}"}},
            "opencode-style": {"command": "node", "args": ["s.js"], "env": {"TOKEN": "{env:GITHUB_TOKEN}"}},
            "userinfo": {"command": "mcp-postgres", "args": ["postgresql://app:Tr0ub4dor-and-3-horses@db.internal:5432/prod"]},
            "query-token": {"type": "sse", "url": "https://mcp.example.net/sse?token=Zk29Xq81LmTt0PbA7wYcQe4R&region=eu"},
            "kv-words": {"command": "env", "args": ["STRIPE_API_KEY=sk_live_51H8xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "MEMORY_FILE_PATH=/home/me/.local/share/memory.json", "node", "s.js"]},
            "api-key-flag": {"command": "npx", "args": ["-y", "firecrawl-mcp", "--api-key", "fc-167f5c252b2b47c3aff6bf08f882555d"]}
        }}"#,
    ),
    (
        // Claude Desktop: docker -e NAME=VALUE literal and -e NAME passthrough,
        // placeholders of every shape, paths, and an mcp-remote header.
        "desktop/claude_desktop_config.json",
        r#"{"mcpServers": {
            "docker-literal": {"command": "docker", "args": ["run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN=github_pat_11ABCDEFG0abcdefghijklmn_OPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789ABCD", "-e", "GITHUB_TOOLSETS", "ghcr.io/github/github-mcp-server"]},
            "placeholders": {"command": "npx", "args": ["server"], "env": {"A_API_KEY": "<YOUR_KEY>", "B_API_KEY": "your-api-key", "C_TOKEN": "xxxxxxxxxxxx", "D_KEY": "sk-...", "E_SECRET": "YOUR_CLIENT_SECRET_HERE"}},
            "paths": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"], "env": {"MEMORY_FILE_PATH": "/Users/me/memory.jsonl", "OBSIDIAN_OPENAPI_PATH": "/openapi.yaml", "PORT": "3001", "DEBUG": "true"}},
            "remote-header": {"command": "npx", "args": ["mcp-remote", "https://mcp.example.org/mcp", "--header", "x-api-key:AbC9dEf2GhI5jKl8MnO1pQr4StU7vWx0"]}
        }}"#,
    ),
];

/// Every syntax: classified place by place, the literals reported by
/// `mcp-inline-secrets`, and none of their values in any file of the package.
#[test]
fn every_client_syntax_is_read_and_no_literal_reaches_the_package() {
    let tmp = tempfile::tempdir().unwrap();
    let configs = tmp.path().join("configs");
    for (path, text) in SYNTAX_FIXTURES {
        let file = configs.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, text).unwrap();
    }
    let config = write_config(
        tmp.path(),
        &format!("inventories = [{:?}]", configs.display().to_string()),
        "",
    );
    let out = generate(&config, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let pkg = tmp.path().join("pkg");
    let found = credentials(&pkg.join("evidence"), &[&configs]);
    let expected = set(&[
        ("mcp:neon@issue/.cursor/mcp.json#args[3]", "inline-literal"),
        ("mcp:perplexity@issue/.cursor/mcp.json#args.--config.perplexityApiKey", "inline-literal"),
        ("mcp:supabase@issue/.cursor/mcp.json#args.--access-token", "inline-literal"),
        ("mcp:github@vscode/.vscode/mcp.json#headers.Authorization", "prompted-input (masked)"),
        ("mcp:legacy@vscode/.vscode/mcp.json#env.GH_TOKEN", "inline-literal"),
        ("mcp:envref@vscode/.vscode/mcp.json#env.API_KEY", "environment-reference"),
        ("mcp:literal-header@vscode/.vscode/mcp.json#headers.Authorization", "inline-literal"),
        ("mcp:defaults@claude/.mcp.json#env.SLACK_BOT_TOKEN", "environment-reference"),
        ("mcp:baked-default@claude/.mcp.json#env.OPENAI_API_KEY", "inline-literal"),
        ("mcp:opencode-style@claude/.mcp.json#env.TOKEN", "environment-reference"),
        ("mcp:userinfo@claude/.mcp.json#args[0].userinfo", "inline-literal"),
        ("mcp:query-token@claude/.mcp.json#url.query.token", "inline-literal"),
        ("mcp:kv-words@claude/.mcp.json#args.STRIPE_API_KEY", "inline-literal"),
        ("mcp:api-key-flag@claude/.mcp.json#args.--api-key", "inline-literal"),
        (
            "mcp:docker-literal@desktop/claude_desktop_config.json#args.-e.GITHUB_PERSONAL_ACCESS_TOKEN",
            "inline-literal",
        ),
        ("mcp:placeholders@desktop/claude_desktop_config.json#env.A_API_KEY", "placeholder"),
        ("mcp:placeholders@desktop/claude_desktop_config.json#env.B_API_KEY", "placeholder"),
        ("mcp:placeholders@desktop/claude_desktop_config.json#env.C_TOKEN", "placeholder"),
        ("mcp:placeholders@desktop/claude_desktop_config.json#env.D_KEY", "placeholder"),
        ("mcp:placeholders@desktop/claude_desktop_config.json#env.E_SECRET", "placeholder"),
        (
            "mcp:remote-header@desktop/claude_desktop_config.json#args.--header.x-api-key",
            "inline-literal",
        ),
    ]);
    assert_eq!(found, expected);
    // The check reports exactly the literals, by the credential's id.
    let report = read_json(&pkg.join("checks.json"));
    let check = result(&report, "mcp-inline-secrets");
    assert_eq!(check["status"], "fail");
    let failing: BTreeSet<String> = check["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["id"]
                .as_str()
                .unwrap()
                .replace(&format!("{}/", configs.display()), "")
        })
        .collect();
    let literals: BTreeSet<String> = expected
        .iter()
        .filter(|(_, class)| class == "inline-literal")
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(failing, literals);
    for secret in [
        "napi_0jpaa7mcu9n6163o1nx9lsnvqmd7tlhy3oc3nz8u5yvh95y9zgx3mrzo3ktxlwh4",
        "pplx-Zx81Qm4Lr7Tp2Vw9Yb3Nc6Hd0Kf5Js8Gq1Ae4Uo7Ix2Rt9Wy5",
        "sbp_011a1185238ac5457fba9009b9108b3bdce27c8a",
        "ghp_Ab3De6Gh9Jk2Mn5Pq8St1Vw4Yz7Bc0Ef3Hi6",
        "sk-proj-Ab3De6Gh9Jk2Mn5Pq8St1Vw4Yz7Bc0Ef3Hi6Lm9No2Qr5Tu8Wx1Za4",
        "sk-proj-Zq8Xw2Ce4Rv6Bt8Yn0Um2Ik4Ol6Pp8Aa1Ss3Dd5Ff7Gg9Hh1Jj3Kk5",
        "Tr0ub4dor-and-3-horses",
        "Zk29Xq81LmTt0PbA7wYcQe4R",
        "sk_live_51H8xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "fc-167f5c252b2b47c3aff6bf08f882555d",
        "github_pat_11ABCDEFG0abcdefghijklmn_OPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789ABCD",
        "AbC9dEf2GhI5jKl8MnO1pQr4StU7vWx0",
    ] {
        assert_nowhere(&pkg, secret);
    }
    // Paths and package names are kept as written.
    let details: String = csv_records(&pkg.join("evidence/identities.csv"))
        .iter()
        .map(|r| r["details"].clone())
        .collect();
    assert!(details.contains("MEMORY_FILE_PATH=/home/me/.local/share/memory.json"));
    assert!(details.contains("@neondatabase/mcp-server-neon start <literal secret, 69 chars, fp:"));
    assert!(details.contains("-e GITHUB_TOOLSETS ghcr.io/github/github-mcp-server"));
    // The manifest says which rules gated the package.
    let manifest = read_json(&pkg.join("manifest.json"));
    let gate = &manifest["secret_gate"];
    assert_eq!(
        gate["rule_sets"][0]["sha256"],
        "e163e53b9e7e8a8511e77271e2b323ed057759542a6d988258afe3a1fa329caf"
    );
    assert!(
        gate["scanned"]["seen_values"].as_u64().unwrap() >= 12,
        "{gate}"
    );
}

/// `generate` on `config` with NIST's schemas and `extra` flags.
fn generate(config: &Path, extra: &[&str]) -> std::process::Output {
    let cache = tempfile::tempdir().unwrap();
    run(proofpack(cache.path())
        .args(["generate", "--config"])
        .arg(config)
        .arg("--schema-dir")
        .arg(schema_dir())
        .args(extra))
}

fn write_config(dir: &Path, inputs: &str, extra: &str) -> PathBuf {
    let config = dir.join("proofpack.toml");
    std::fs::write(
        &config,
        format!(
            "[system]\nname = \"Gate\"\ndescription = \"The secret gate\"\norganization = \"Test\"\nclass = \"B\"\nboundary = \"test\"\n\n\
             [inputs]\n{inputs}\n\n[output]\ndir = \"pkg\"\n{extra}"
        ),
    )
    .unwrap();
    config
}

/// A secret planted where no reader masks it (an attested file copied into
/// the package) stops the run: exit 2, nothing written, the file and rule
/// named but not the value. Allowing the rule lets it through, on record.
#[test]
fn a_package_with_a_planted_secret_cannot_be_written() {
    let tmp = tempfile::tempdir().unwrap();
    let token = "ghp_Zy8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9Fe8Dc7";
    std::fs::write(
        tmp.path().join("review.md"),
        format!("# Access review\n\nRotated the deploy token; old value {token}.\n"),
    )
    .unwrap();
    let logs = samples().join("cloudtrail").display().to_string();
    let config = write_config(
        tmp.path(),
        &format!("logs = [{logs:?}]"),
        "\n[[attestations]]\ntitle = \"Access review\"\ndescription = \"Owners reviewed the NHIs.\"\nfile = \"review.md\"\nmethod = \"EXAMINE\"\nattested_by = \"A. Person\"\ndate = 2026-10-15\ncontrols = [\"ac-2\"]\n",
    );
    let out = generate(&config, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("attestations/") && err.contains("line 3: rule github-pat"),
        "{err}"
    );
    assert!(!err.contains(token));
    assert!(!tmp.path().join("pkg").exists(), "nothing is written");
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".proofpack"))
        .collect();
    assert!(leftovers.is_empty(), "no staging folder is left");

    // A typo in an allowed rule is refused rather than allowing nothing.
    let out = generate(&config, &["--allow-secret-rule", "github-pat-typo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no such rule"));

    let out = generate(&config, &["--allow-secret-rule", "github-pat"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let manifest = read_json(&tmp.path().join("pkg/manifest.json"));
    assert_eq!(manifest["secret_gate"]["allowed_rules"][0], "github-pat");
    assert_eq!(
        manifest["secret_gate"]["scanned"]["allowed_hits"]["github-pat"],
        1
    );

    // `verify` runs the gate again, honouring what the producer allowed...
    let pkg = tmp.path().join("pkg");
    let (code, report) = verify_json(&pkg, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["secrets"]["status"], "clean", "{report}");
    // ...and finds a secret added after the fact, by file and rule.
    let summary = pkg.join("summary.md");
    let mut text = std::fs::read_to_string(&summary).unwrap();
    text.push_str("\nslack: xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx\n");
    std::fs::write(&summary, text).unwrap();
    let (code, report) = verify_json(&pkg, &[]);
    assert_eq!(code, 1);
    assert_eq!(report["secrets"]["status"], "found");
    assert_eq!(report["secrets"]["findings"][0]["file"], "summary.md");
    assert_eq!(report["secrets"]["findings"][0]["rule"], "slack-bot-token");
}

/// `ingest` gates the folder it writes: a secret in an input's file name
/// (copied into every row's raw_file) stops it with nothing written.
#[test]
fn ingest_will_not_write_a_folder_that_holds_a_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let name = "trail-xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx.json";
    let sample = samples().join("cloudtrail");
    let first = config_files(&sample).into_iter().next().unwrap();
    std::fs::copy(&first, tmp.path().join(name)).unwrap();
    let out_dir = tmp.path().join("evidence");
    let cache = tempfile::tempdir().unwrap();
    let out = run(proofpack(cache.path())
        .arg("ingest")
        .arg(tmp.path().join(name))
        .arg("--out")
        .arg(&out_dir));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("rule slack-bot-token"), "{err}");
    assert!(!err.contains("AbCdEfGhIjKlMnOpQrStUvWx"));
    assert!(!out_dir.exists());
}

/// The gate's false positives on every table proofpack writes from the
/// shared samples (every reader, every source): none, with no rule allowed.
#[test]
fn the_gate_passes_every_shared_sample_without_an_allowed_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs: Vec<String> = std::fs::read_dir(samples())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| format!("{:?}", e.path().display().to_string()))
        .collect();
    assert!(dirs.len() >= 12);
    let config = write_config(tmp.path(), &format!("logs = [{}]", dirs.join(", ")), "");
    let out = generate(&config, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let manifest = read_json(&tmp.path().join("pkg/manifest.json"));
    let scanned = &manifest["secret_gate"]["scanned"];
    assert!(scanned["strings"].as_u64().unwrap() > 50_000, "{scanned}");
    assert!(scanned.get("allowed_hits").is_none(), "{scanned}");
}
