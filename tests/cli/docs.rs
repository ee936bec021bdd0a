//! The manual in `docs/` cannot drift from the code: every option of every
//! command, every configuration key the code reads and every key of the
//! bundled `samples/proofpack.toml` appears in the reference; every chapter
//! the book lists exists; every relative link and anchor of the manual and
//! the README resolves; the README stays a front door.

use std::path::{Path, PathBuf};

use crate::util::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn help(args: &[&str]) -> String {
    let cache = tempfile::tempdir().unwrap();
    let output = run(proofpack(cache.path()).args(args).arg("--help"));
    stdout(&output)
}

/// Every command path (`[]`, `["checks"]`, `["checks", "run"]`, ...).
fn commands() -> Vec<Vec<String>> {
    let mut all = vec![Vec::new()];
    let mut i = 0;
    while i < all.len() {
        let path = all[i].clone();
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let text = help(&args);
        if let Some(block) = text.split("Commands:").nth(1) {
            let block = block.split("Options:").next().unwrap_or("");
            for line in block.lines() {
                let Some(name) = line
                    .strip_prefix("  ")
                    .and_then(|l| l.split_whitespace().next())
                else {
                    continue;
                };
                if !line.starts_with("   ")
                    && name != "help"
                    && name.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                {
                    let mut next = path.clone();
                    next.push(name.to_string());
                    all.push(next);
                }
            }
        }
        i += 1;
    }
    all
}

#[test]
fn every_option_of_every_command_is_in_the_cli_reference() {
    let reference = read("docs/src/reference/cli.md");
    let option = regex::Regex::new(r"--[a-z][a-z0-9-]+").unwrap();
    let commands = commands();
    assert!(commands.len() > 10, "{commands:?}");
    for path in commands {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let title = format!(
            "## `proofpack{}`",
            args.iter().map(|a| format!(" {a}")).collect::<String>()
        );
        assert!(
            reference.contains(&title),
            "{title} is missing from docs/src/reference/cli.md"
        );
        for found in option.find_iter(&help(&args)) {
            assert!(
                reference.contains(found.as_str()),
                "{} (of `proofpack {}`) is missing from docs/src/reference/cli.md",
                found.as_str(),
                args.join(" ")
            );
        }
    }
}

/// Field names of the structs the configuration deserialises, from their
/// source (skipped fields excepted).
fn config_fields(source: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut in_struct = false;
    let mut skip_next = false;
    let mut deserialised = false;
    for line in source.lines() {
        let t = line.trim();
        if t.starts_with("#[derive(") {
            deserialised = t.contains("Deserialize");
        }
        if t.starts_with("pub struct ") && t.ends_with('{') {
            in_struct = deserialised;
            continue;
        }
        if t == "}" {
            in_struct = false;
        }
        if t.starts_with("#[serde(skip") {
            skip_next = true;
            continue;
        }
        if in_struct {
            if let Some(rest) = t.strip_prefix("pub ") {
                if let Some((name, _)) = rest.split_once(':') {
                    if !skip_next {
                        fields.push(name.to_string());
                    }
                }
                skip_next = false;
            }
        }
    }
    fields
}

fn toml_keys(value: &toml::Value, under: &str, out: &mut Vec<String>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                // Check ids and KSI ids are names, not keys.
                let named = matches!(under, "checks" | "ksi" | "poam.checks");
                if !named {
                    out.push(k.clone());
                }
                let path = if under.is_empty() {
                    k.clone()
                } else {
                    format!("{under}.{k}")
                };
                toml_keys(v, if named { "" } else { &path }, out);
            }
        }
        toml::Value::Array(items) => items.iter().for_each(|i| toml_keys(i, under, out)),
        _ => {}
    }
}

#[test]
fn every_configuration_key_is_in_the_config_reference() {
    let reference = read("docs/src/reference/config.md");
    let mut keys = Vec::new();
    for source in [
        "src/config.rs",
        "src/checks/waiver.rs",
        "src/checks/embedded.rs",
    ] {
        keys.extend(config_fields(&read(source)));
    }
    assert!(keys.len() > 40, "{keys:?}");
    let sample: toml::Value = toml::from_str(&read("samples/proofpack.toml")).unwrap();
    let mut sample_keys = Vec::new();
    toml_keys(&sample, "", &mut sample_keys);
    assert!(sample_keys.len() > 20, "{sample_keys:?}");
    // Parameter overrides under [checks.CHECK] are the checks' own (see
    // `proofpack checks list`).
    let params: Vec<String> = sample
        .get("checks")
        .and_then(|c| c.as_table())
        .into_iter()
        .flat_map(|t| t.values())
        .filter_map(|v| v.as_table())
        .flat_map(|t| t.keys().cloned())
        .collect();
    for key in keys
        .iter()
        .chain(sample_keys.iter().filter(|k| !params.contains(k)))
    {
        // `checks` and `validated` are the code's own bookkeeping names.
        if key == "validated" {
            continue;
        }
        // A key, or a table named in a heading (`[system]`, `[[waivers]]`).
        let named = [
            format!("`{key}`"),
            format!("[{key}]"),
            format!("[[{key}]]"),
            format!("[{key}."),
        ];
        assert!(
            named.iter().any(|n| reference.contains(n.as_str())),
            "`{key}` is missing from docs/src/reference/config.md"
        );
    }
}

#[test]
fn the_book_lists_chapters_that_exist_and_the_readme_is_a_front_door() {
    let summary = read("docs/src/SUMMARY.md");
    let link = regex::Regex::new(r"\]\(([^)]+\.md)\)").unwrap();
    let mut chapters = 0;
    for found in link.captures_iter(&summary) {
        chapters += 1;
        let path = repo().join("docs/src").join(&found[1]);
        assert!(path.is_file(), "{} is listed but missing", path.display());
    }
    assert!(chapters > 10);
    let readme = read("README.md");
    assert!(
        readme.lines().count() < 250,
        "README has {} lines",
        readme.lines().count()
    );
    assert!(readme.contains("cargo test"), "the test command");
    assert!(
        readme.contains("generate --config samples/proofpack.toml"),
        "the main command"
    );
    for target in link.captures_iter(&readme) {
        assert!(
            Path::new(&repo().join(&target[1])).is_file(),
            "{}",
            &target[1]
        );
    }
}

/// Every Markdown file of the manual, and the README.
fn manual_pages() -> Vec<PathBuf> {
    let mut pages = vec![repo().join("README.md")];
    let mut folders = vec![repo().join("docs/src")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

/// A heading's anchor as mdBook and GitHub make it: lower case, letters,
/// digits, `-` and `_` kept, spaces made `-`, the rest dropped.
fn anchor_of(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The links of a Markdown text, and the anchors of its headings.
fn links_and_anchors(text: &str) -> (Vec<String>, Vec<String>) {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let (mut links, mut anchors) = (Vec::new(), Vec::new());
    let mut heading: Option<String> = None;
    for event in Parser::new(text) {
        match event {
            Event::Start(Tag::Link { dest_url, .. }) => links.push(dest_url.to_string()),
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                anchors.extend(heading.take().map(|h| anchor_of(&h)));
            }
            _ => {}
        }
    }
    (links, anchors)
}

/// A link checker over the manual: every relative link names a file or
/// folder that exists, and every `#anchor` a heading of the page it
/// names (chapters moved out of the README once left links behind).
#[test]
fn every_link_in_the_manual_resolves() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in manual_pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let (links, own_anchors) = links_and_anchors(&text);
        for link in links {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = match link.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (link.as_str(), None),
            };
            let target = if path.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(path)
            };
            let anchors = if path.is_empty() {
                own_anchors.clone()
            } else if !target.exists() {
                broken.push(format!("{}: `{link}` names nothing", page.display()));
                continue;
            } else if target.extension().is_some_and(|e| e == "md") {
                links_and_anchors(&std::fs::read_to_string(&target).unwrap()).1
            } else {
                Vec::new()
            };
            if let Some(anchor) = anchor {
                if !anchors.iter().any(|a| a == anchor) {
                    broken.push(format!(
                        "{}: `{link}` names no heading of {}",
                        page.display(),
                        target.display()
                    ));
                }
            }
        }
    }
    assert!(checked > 40, "only {checked} links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_checker_reads_anchors_as_mdbook_makes_them() {
    assert_eq!(
        anchor_of("Secrets: never copied, and a gate that proves it"),
        "secrets-never-copied-and-a-gate-that-proves-it"
    );
    let (links, anchors) =
        links_and_anchors("# A `code` title\n\nsee [x](a.md#b) and [y](#a-code-title)\n");
    assert_eq!(links, ["a.md#b", "#a-code-title"]);
    assert_eq!(anchors, ["a-code-title"]);
}
