//! An MCP server's command line, read as the program will read it: flags
//! with their values (`--token VALUE`, `--token=VALUE`), Docker's
//! `-e NAME=VALUE`, `KEY=VALUE` words, JSON objects passed as one argument,
//! URLs with user-info or token parameters, `Name: value` headers, and bare
//! positional values. Each credential-bearing place is classified; the
//! command line is kept only in a redacted form in which every value not
//! proven harmless is a marker.

use serde_json::Value;

use crate::secrets::marker::Fingerprinter;
use crate::secrets::rules::RuleSet;
use crate::secrets::shape::{
    classify, is_credential_name, is_harmless_shape, is_placeholder, looks_random,
    split_references, Inputs, Reference, ValueClass,
};

/// A credential-bearing place in a server's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// `env.GITHUB_TOKEN`, `args.--access-token`, `args[2]`,
    /// `args.--config.apiKey`, `url.userinfo`, `headers.Authorization`.
    pub key: String,
    pub class: ValueClass,
    /// The marker of a literal (never the value).
    pub marker: Option<String>,
    /// The rule that recognised a literal's format, if one did.
    pub rule: Option<String>,
}

/// What reading a server's values gives.
#[derive(Debug, Default)]
pub struct Reading {
    pub places: Vec<Place>,
    /// Literal secrets seen (kept by the caller only as hashes).
    pub literals: Vec<String>,
}

/// The context every classification needs.
pub struct Classifier<'a> {
    pub rules: &'a RuleSet,
    pub inputs: &'a Inputs,
    /// Inputs' `default` values that are literal secrets, by input id.
    pub literal_defaults: &'a [String],
    pub fingerprints: &'a Fingerprinter,
}

impl Classifier<'_> {
    /// Classifies a value under a name, and records it as a place when it
    /// holds or points at a credential. Returns the class.
    pub fn place(
        &self,
        key: String,
        name: Option<&str>,
        value: &str,
        out: &mut Reading,
    ) -> ValueClass {
        let mut class = classify(name, value, self.inputs, self.rules);
        // A prompted input whose declared default is a literal secret
        // starts with that secret unless someone types another.
        if let ValueClass::PromptedInput { .. } = class {
            if self
                .literal_defaults
                .iter()
                .any(|id| value.contains(&format!("${{input:{id}}}")))
            {
                class = ValueClass::InlineLiteral;
            }
        }
        let credential_name = name.is_some_and(is_credential_name);
        let reported = match class {
            ValueClass::NotCredential => false,
            ValueClass::InlineLiteral => true,
            // A reference, input or placeholder matters where the name
            // says it is a credential, or an input VS Code masks.
            ValueClass::PromptedInput { masked: true } => true,
            _ => credential_name,
        };
        if reported {
            let (marker, rule) = if class == ValueClass::InlineLiteral {
                let literal = value.trim();
                out.literals.push(literal.to_string());
                let rule = self
                    .rules
                    .find(literal.as_bytes(), "")
                    .first()
                    .map(|h| self.rules.rule(h.rule).id.clone());
                (
                    Some(self.fingerprints.marker("literal secret", literal)),
                    rule,
                )
            } else {
                (None, None)
            };
            out.places.push(Place {
                key,
                class,
                marker,
                rule,
            });
        }
        class
    }

    /// The value as it may be copied under its name: a value under a
    /// credential name is copied only when it is a reference, an input, a
    /// placeholder or of a harmless shape (a path, a number, a boolean).
    pub fn shown(&self, name: Option<&str>, value: &str, class: ValueClass) -> String {
        if class == ValueClass::NotCredential
            && name.is_some_and(is_credential_name)
            && !is_harmless_shape(value, self.rules)
        {
            return self.fingerprints.marker("value", value.trim());
        }
        self.redacted(value, class)
    }

    /// The value as it may be copied: itself when harmless, else a marker.
    /// Stricter than [`classify`]: a value that is not a secret by any rule
    /// but is not provably plain either (a short mixed token) is masked.
    pub fn redacted(&self, value: &str, class: ValueClass) -> String {
        match class {
            ValueClass::InlineLiteral => self.fingerprints.marker("literal secret", value.trim()),
            ValueClass::EnvironmentReference
            | ValueClass::PromptedInput { .. }
            | ValueClass::Redacted => value.to_string(),
            ValueClass::Placeholder if is_placeholder(value) => value.to_string(),
            _ if provably_plain(value, self.rules) => value.to_string(),
            _ => self.fingerprints.marker("value", value),
        }
    }
}

/// Values that can be copied without a doubt: harmless shapes (paths, URLs
/// without credentials, numbers, booleans), package names and plain words.
fn provably_plain(value: &str, rules: &RuleSet) -> bool {
    let v = value.trim();
    if v.is_empty() || is_harmless_shape(v, rules) {
        return true;
    }
    // References (`${workspaceFolder}/x`, `${env:HOME}`) are names: what
    // is written around them, and any default, must be plain.
    let (literal, refs) = split_references(v);
    if !refs.is_empty() {
        let defaults_plain = refs.iter().all(|r| match r {
            Reference::Env { default: Some(d) } => provably_plain(d, rules),
            _ => true,
        });
        return defaults_plain && provably_plain(&literal, rules);
    }
    if looks_random(v) || !rules.find(v.as_bytes(), "").is_empty() {
        return false;
    }
    let allowed = v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._:/@+-=,~^ ".contains(c));
    if !allowed {
        return false;
    }
    // Mixed case with digits and no separator reads as a key, not a word.
    let upper = v.chars().any(|c| c.is_ascii_uppercase());
    let lower = v.chars().any(|c| c.is_ascii_lowercase());
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let separated = v.contains(['.', '/', '@', '-', '_', ':', ' ']);
    !(upper && lower && digits > 0 && !separated && v.len() >= 8)
}

/// Flags whose next argument is a container's environment entry.
fn is_env_flag(flag: &str) -> bool {
    matches!(flag, "-e" | "--env")
}

/// Flags whose next argument is an HTTP header (`mcp-remote --header`).
fn is_header_flag(flag: &str) -> bool {
    matches!(flag, "-H" | "--header" | "--headers")
}

fn flag_name(flag: &str) -> &str {
    flag.trim_start_matches('-')
}

/// Reads a server's arguments: the places and the redacted arguments.
pub fn read_args(args: &[&str], c: &Classifier<'_>, out: &mut Reading) -> Vec<String> {
    let mut shown = Vec::with_capacity(args.len());
    let mut i = 0;
    while i < args.len() {
        let arg = args[i];
        // `--flag=value`, `-e=NAME=value`.
        if arg.starts_with('-') && arg.len() > 1 {
            if let Some((flag, value)) = arg.split_once('=') {
                let value_shown = read_flag_value(flag, value, i, c, out);
                shown.push(format!("{flag}={value_shown}"));
                i += 1;
                continue;
            }
            // `--flag value`: the next argument is the flag's value unless
            // it is itself a flag.
            if let Some(next) = args
                .get(i + 1)
                .filter(|n| !n.starts_with('-') || n.len() == 1)
            {
                let takes_value = is_env_flag(arg)
                    || is_header_flag(arg)
                    || is_credential_name(flag_name(arg))
                    || looks_like_value(next);
                if takes_value {
                    shown.push(arg.to_string());
                    shown.push(read_flag_value(arg, next, i + 1, c, out));
                    i += 2;
                    continue;
                }
            }
            shown.push(arg.to_string());
            i += 1;
            continue;
        }
        shown.push(read_positional(arg, i, c, out));
        i += 1;
    }
    shown
}

/// A value that does not read as a sub-command or package: what a flag
/// before it most likely takes.
fn looks_like_value(next: &str) -> bool {
    next.contains('=')
        || next.starts_with('{')
        || next.contains("://")
        || looks_random(next)
        || next.contains("${")
}

/// The value of a flag, classified under the flag's name.
fn read_flag_value(
    flag: &str,
    value: &str,
    index: usize,
    c: &Classifier<'_>,
    out: &mut Reading,
) -> String {
    if is_env_flag(flag) {
        return read_assignment(value, &format!("args.{flag}"), true, c, out);
    }
    if is_header_flag(flag) {
        if let Some((name, v)) = value.split_once(':') {
            let class = c.place(
                format!("args.{flag}.{}", name.trim()),
                Some(name.trim()),
                v,
                out,
            );
            return format!("{name}:{}", shown_spaced(name.trim(), v, class, c));
        }
    }
    if let Some(shown) = read_structured(value, &format!("args.{}", flag), index, c, out) {
        return shown;
    }
    let name = flag_name(flag);
    let class = c.place(format!("args.{flag}"), Some(name), value, out);
    c.shown(Some(name), value, class)
}

/// A value with a leading space kept (`Authorization: Bearer x`).
fn shown_spaced(name: &str, v: &str, class: ValueClass, c: &Classifier<'_>) -> String {
    let lead = &v[..v.len() - v.trim_start().len()];
    format!("{lead}{}", c.shown(Some(name), v.trim_start(), class))
}

/// `NAME=VALUE` (a Docker `-e` entry or a bare word); `NAME` alone after
/// `-e` passes the host's variable through.
fn read_assignment(
    word: &str,
    prefix: &str,
    env_flag: bool,
    c: &Classifier<'_>,
    out: &mut Reading,
) -> String {
    match word.split_once('=') {
        Some((name, value)) => {
            let class = c.place(format!("{prefix}.{name}"), Some(name), value, out);
            format!("{name}={}", c.shown(Some(name), value, class))
        }
        None if env_flag => {
            if is_credential_name(word) {
                out.places.push(Place {
                    key: format!("{prefix}.{word}"),
                    class: ValueClass::EnvironmentReference,
                    marker: None,
                    rule: None,
                });
            }
            if provably_plain(word, c.rules) {
                word.to_string()
            } else {
                c.fingerprints.marker("value", word)
            }
        }
        None => c.redacted(word, ValueClass::NotCredential),
    }
}

/// A JSON object or a URL given as one argument, read member by member.
fn read_structured(
    value: &str,
    key: &str,
    index: usize,
    c: &Classifier<'_>,
    out: &mut Reading,
) -> Option<String> {
    let trimmed = value.trim();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Ok(mut json) = serde_json::from_str::<Value>(trimmed) {
            read_json(&mut json, key, None, c, out);
            return Some(json.to_string());
        }
    }
    if trimmed.contains("://") && !trimmed.contains(char::is_whitespace) {
        let _ = index;
        return Some(read_url(trimmed, key, c, out));
    }
    None
}

/// Classifies every string member of a JSON value under its key, and
/// replaces each value not proven harmless by its marker, in place.
pub fn read_json(
    value: &mut Value,
    key: &str,
    name: Option<&str>,
    c: &Classifier<'_>,
    out: &mut Reading,
) {
    match value {
        Value::String(s) => {
            let class = c.place(key.to_string(), name, s, out);
            let shown = if s.contains("://") && class != ValueClass::InlineLiteral {
                read_url(s, key, c, &mut Reading::default())
            } else {
                c.shown(name, s, class)
            };
            *s = shown;
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                read_json(item, &format!("{key}[{i}]"), name, c, out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map.iter_mut() {
                read_json(item, &format!("{key}.{k}"), Some(k), c, out);
            }
        }
        _ => {}
    }
}

/// A positional argument: a `KEY=VALUE` word, a JSON object, a URL, or a
/// bare value classified by its shape alone.
fn read_positional(arg: &str, index: usize, c: &Classifier<'_>, out: &mut Reading) -> String {
    if let Some(shown) = read_structured(arg, &format!("args[{index}]"), index, c, out) {
        return shown;
    }
    if let Some((name, _)) = arg.split_once('=') {
        let is_name = !name.is_empty()
            && name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' || ch == '.');
        if is_name {
            return read_assignment(arg, "args", false, c, out);
        }
    }
    let class = c.place(format!("args[{index}]"), None, arg, out);
    c.redacted(arg, class)
}

/// A URL with user-info and query values checked: the password and each
/// credential parameter classified, the URL shown with markers in their
/// place.
pub fn read_url(url: &str, key: &str, c: &Classifier<'_>, out: &mut Reading) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        let class = c.place(key.to_string(), None, url, out);
        return c.redacted(url, class);
    };
    let (before_fragment, fragment) = match rest.split_once('#') {
        Some((a, f)) => (a, Some(f)),
        None => (rest, None),
    };
    let (before_query, query) = match before_fragment.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (before_fragment, None),
    };
    let (authority, path) = match before_query.find('/') {
        Some(at) => (&before_query[..at], &before_query[at..]),
        None => (before_query, ""),
    };
    let mut shown = format!("{scheme}://");
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            match userinfo.split_once(':') {
                Some((user, password)) => {
                    let class = c.place(format!("{key}.userinfo"), Some("password"), password, out);
                    shown.push_str(&format!(
                        "{}:{}@",
                        c.redacted(user, ValueClass::NotCredential),
                        c.redacted(password, class)
                    ));
                }
                None => {
                    // A lone user-info is often a token (`https://TOKEN@host`).
                    let class = c.place(format!("{key}.userinfo"), Some("token"), userinfo, out);
                    shown.push_str(&format!("{}@", c.shown(Some("token"), userinfo, class)));
                }
            }
            shown.push_str(host);
        }
        None => shown.push_str(authority),
    }
    // Path segments can hold tokens too (Slack webhooks, `/sse/<key>`).
    let segments: Vec<String> = path
        .split('/')
        .map(|segment| {
            if segment.is_empty() || provably_plain(segment, c.rules) {
                segment.to_string()
            } else {
                let class = c.place(format!("{key}.path"), None, segment, out);
                c.redacted(segment, class)
            }
        })
        .collect();
    shown.push_str(&segments.join("/"));
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, value)) => {
                    let class = c.place(format!("{key}.query.{name}"), Some(name), value, out);
                    format!("{name}={}", c.shown(Some(name), value, class))
                }
                None => c.redacted(pair, ValueClass::NotCredential),
            })
            .collect();
        shown.push('?');
        shown.push_str(&params.join("&"));
    }
    if let Some(fragment) = fragment {
        shown.push('#');
        shown.push_str(&c.redacted(fragment, ValueClass::NotCredential));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(args: &[&str]) -> (Vec<String>, Reading) {
        let inputs = Inputs::default();
        let c = Classifier {
            rules: RuleSet::built_in(),
            inputs: &inputs,
            literal_defaults: &[],
            fingerprints: &Fingerprinter::new(None),
        };
        let mut out = Reading::default();
        let shown = read_args(args, &c, &mut out);
        (shown, out)
    }

    #[test]
    fn tokens_in_flags_positions_and_json_are_found_and_masked() {
        let sbp = "sbp_0123456789abcdef0123456789abcdef01234567";
        let (shown, out) = read(&[
            "-y",
            "@supabase/mcp-server-supabase@latest",
            "--access-token",
            sbp,
        ]);
        assert_eq!(out.places[0].key, "args.--access-token");
        assert_eq!(out.places[0].class, ValueClass::InlineLiteral);
        assert!(!shown.join(" ").contains("sbp_"));
        assert_eq!(shown[1], "@supabase/mcp-server-supabase@latest");

        let napi = format!("napi_{}", "a1b2c3d4".repeat(8));
        let (shown, out) = read(&["-y", "@neondatabase/mcp-server-neon", "start", &napi]);
        assert_eq!(out.places.len(), 1);
        assert_eq!(out.places[0].key, "args[3]");
        assert_eq!(shown[2], "start");
        assert!(shown[3].starts_with("<literal secret, 69 chars"));

        let pplx = format!("pplx-{}", "aB3dE5gH7jK9mN1pQ3sT5vW7".repeat(2));
        let config = format!(r#"{{"perplexityApiKey":"{pplx}","model":"sonar"}}"#);
        let (shown, out) = read(&["--config", &config]);
        assert_eq!(out.places[0].key, "args.--config.perplexityApiKey");
        assert!(shown[1].contains("\"model\":\"sonar\""), "{shown:?}");
        assert!(!shown[1].contains("pplx-"));

        let (shown, out) = read(&[
            "run",
            "-i",
            "--rm",
            "-e",
            "OBSIDIAN_API_KEY=${input:obsidian-api-key}",
            "-e",
            "OBSIDIAN_OPENAPI_PATH=/openapi.yaml",
            "mcp/obsidian",
        ]);
        assert_eq!(out.places.len(), 1);
        assert!(matches!(
            out.places[0].class,
            ValueClass::PromptedInput { .. }
        ));
        assert!(shown.contains(&"OBSIDIAN_OPENAPI_PATH=/openapi.yaml".to_string()));

        let (shown, out) =
            read(&["--url=https://api.example.com/sse?token=Zk29Xq81LmTt0PbA7wYc&x=1"]);
        assert_eq!(out.places[0].key, "args.--url.query.token");
        assert!(
            shown[0].contains("?token=<literal secret, 20 chars"),
            "{shown:?}"
        );
        assert!(shown[0].ends_with("&x=1"));

        let (shown, out) = read(&[
            "mcp-remote",
            "https://x.example/mcp",
            "--header",
            "Authorization: Bearer ${AUTH_TOKEN}",
        ]);
        assert_eq!(out.places[0].class, ValueClass::EnvironmentReference);
        assert_eq!(shown[3], "Authorization: Bearer ${AUTH_TOKEN}");
    }

    #[test]
    fn unproven_values_are_masked_but_not_reported() {
        let (shown, out) = read(&["serve", "Xy9kq2Lm0P", "--port", "3001"]);
        assert!(out.places.is_empty());
        assert!(shown[1].starts_with("<value, 10 chars"), "{shown:?}");
        assert_eq!(shown[3], "3001");
    }
}
