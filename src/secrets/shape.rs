//! What a value in a configuration or a record is, from its name and its
//! shape: a literal secret, a reference resolved elsewhere (the
//! environment, a prompted input), a placeholder, something already
//! redacted, or no credential at all. The rules and the reason for each are
//! in the manual (docs/src/secrets.md, "How credentials are told apart").

use super::rules::{shannon_entropy, RuleSet};

/// The class of one credential-bearing place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueClass {
    /// The secret itself is written here.
    InlineLiteral,
    /// Read from the environment when the program starts.
    EnvironmentReference,
    /// Prompted for when the program starts (VS Code `${input:id}`).
    PromptedInput { masked: bool },
    /// A placeholder: no secret has been filled in.
    Placeholder,
    /// Removed before the file was shared.
    Redacted,
    /// Not a credential (a path, a URL without credentials, a number, a
    /// boolean, a plain word).
    NotCredential,
}

impl ValueClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueClass::InlineLiteral => "inline-literal",
            ValueClass::EnvironmentReference => "environment-reference",
            ValueClass::PromptedInput { masked: true } => "prompted-input (masked)",
            ValueClass::PromptedInput { masked: false } => "prompted-input",
            ValueClass::Placeholder => "placeholder",
            ValueClass::Redacted => "redacted",
            ValueClass::NotCredential => "not-a-credential",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            ValueClass::InlineLiteral => "the secret itself is written in the configuration file",
            ValueClass::EnvironmentReference => "read from the environment when the server starts",
            ValueClass::PromptedInput { masked: true } => {
                "prompted for as a password when the server starts"
            }
            ValueClass::PromptedInput { masked: false } => {
                "prompted for when the server starts, not stored in the file"
            }
            ValueClass::Placeholder => "a placeholder: no secret has been filled in",
            ValueClass::Redacted => "removed from the file before it was shared",
            ValueClass::NotCredential => "not a credential",
        }
    }

    /// Whether the value may be copied: only what cannot be a secret.
    pub fn harmless(self) -> bool {
        !matches!(self, ValueClass::InlineLiteral)
    }
}

/// Words in a name that say it holds a credential.
const CREDENTIAL_WORDS: &[&str] = &[
    "KEY",
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "PASS",
    "PWD",
    "CREDENTIAL",
    "CREDS",
    "AUTH",
    "BEARER",
    "COOKIE",
    "SESSION",
    "PAT",
    "APIKEY",
    "PRIVATE",
    "SIGNATURE",
    "DSN",
    "CONNECTION_STRING",
    "CONNSTR",
];

/// Last words of a name that make it describe a credential rather than
/// hold one (`KEY_ID`, `TOKEN_URL`, `AUTH_TYPE`, `KEY_FILE`).
const DESCRIPTIVE_ENDS: &[&str] = &[
    "ID", "IDS", "NAME", "USER", "USERNAME", "URL", "URI", "ENDPOINT", "HOST", "PORT", "REGION",
    "PATH", "FILE", "DIR", "TYPE", "NAMES", "COUNT", "KIND", "MODE", "METHOD", "PROVIDER", "SCOPE",
    "SCOPES", "TTL", "EXPIRY", "EXPIRES", "ENABLED", "DISABLED", "REQUIRED", "HEADER", "PREFIX",
    "FORMAT", "VERSION", "LENGTH", "SIZE", "TIMEOUT", "LOCATION", "ALIAS", "ISSUER", "AUDIENCE",
];

/// The words of a name: split at `_ - . ` and at lower-to-upper changes
/// (`apiKey` → `API KEY`), upper-cased.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        word.push(c.to_ascii_uppercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Whether a name (an environment variable, a header, a flag, a JSON key)
/// says its value is a credential.
pub fn is_credential_name(name: &str) -> bool {
    let words = words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if words.len() > 1 && DESCRIPTIVE_ENDS.contains(&last.as_str()) {
        return false;
    }
    let joined = words.join("_");
    words.iter().any(|w| {
        CREDENTIAL_WORDS.contains(&w.as_str())
            // `APIKEY`, `ACCESSTOKEN`, `CLIENTSECRET` written as one word.
            || [
                "TOKEN", "SECRET", "PASSWORD", "APIKEY", "ACCESSKEY", "SECRETKEY", "PRIVATEKEY",
                "AUTHKEY", "SIGNINGKEY",
            ]
            .iter()
            .any(|c| w.len() > c.len() && w.ends_with(c))
    }) || joined.contains("CONNECTION_STRING")
        || name.eq_ignore_ascii_case("authorization")
}

/// A name for a password: any literal value is a secret, however it looks
/// (a password may well be a number or a word).
fn is_password_name(name: &str) -> bool {
    words(name).iter().any(|w| {
        matches!(
            w.as_str(),
            "PASSWORD" | "PASSWD" | "PASS" | "PWD" | "PASSPHRASE"
        ) || w.ends_with("PASSWORD")
    })
}

/// Prompted inputs, as VS Code declares them in `inputs`.
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    /// Ids of inputs declared with `password: true`.
    pub masked: Vec<String>,
}

/// A variable reference in any MCP client's syntax, and where it ends.
/// `${env:X}`, `${input:id}`, `${X}`, `${X:-default}`, `$X`, `{env:X}`,
/// `%X%`, `{{X}}`.
#[derive(Debug, PartialEq, Eq)]
pub enum Reference<'a> {
    Env {
        default: Option<&'a str>,
    },
    Input(&'a str),
    /// `${workspaceFolder}`, `${userHome}` and such: not a credential.
    Client,
}

const CLIENT_VARIABLES: &[&str] = &[
    "workspaceFolder",
    "workspaceFolderBasename",
    "userHome",
    "cwd",
    "pathSeparator",
    "file",
    "fileDirname",
    "CLAUDE_PROJECT_DIR",
    "CLAUDE_PLUGIN_ROOT",
];

/// The reference at the start of `text`, and its length in bytes.
pub fn reference_at(text: &str) -> Option<(Reference<'_>, usize)> {
    let ident = |s: &str| {
        s.char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map_or(s.len(), |(i, _)| i)
    };
    if let Some(rest) = text.strip_prefix("${") {
        let close = rest.find('}')?;
        let inner = &rest[..close];
        let len = close + 3;
        if let Some(id) = inner.strip_prefix("input:") {
            return Some((Reference::Input(id.trim()), len));
        }
        if let Some(var) = inner.strip_prefix("env:") {
            return (ident(var) == var.len() && !var.is_empty())
                .then_some((Reference::Env { default: None }, len));
        }
        if let Some(var) = inner
            .strip_prefix("config:")
            .or_else(|| inner.strip_prefix("command:"))
        {
            return (!var.is_empty()).then_some((Reference::Client, len));
        }
        let name_len = ident(inner);
        if name_len == 0 {
            return None;
        }
        let name = &inner[..name_len];
        let rest = &inner[name_len..];
        if rest.is_empty() {
            let class = if CLIENT_VARIABLES.contains(&name) {
                Reference::Client
            } else {
                Reference::Env { default: None }
            };
            return Some((class, len));
        }
        // Claude Code's `${X:-default}` (and the shell's `${X-default}`).
        let default = rest.strip_prefix(":-").or_else(|| rest.strip_prefix('-'))?;
        return Some((
            Reference::Env {
                default: Some(default),
            },
            len,
        ));
    }
    if let Some(rest) = text.strip_prefix("{env:") {
        let close = rest.find('}')?;
        let var = &rest[..close];
        return (!var.is_empty() && ident(var) == var.len())
            .then_some((Reference::Env { default: None }, close + 6));
    }
    if let Some(rest) = text.strip_prefix("{{") {
        let close = rest.find("}}")?;
        let inner = rest[..close].trim();
        let inner = inner.strip_prefix("env.").unwrap_or(inner);
        return (!inner.is_empty() && ident(inner) == inner.len())
            .then_some((Reference::Env { default: None }, close + 4));
    }
    if let Some(rest) = text.strip_prefix('$') {
        let n = ident(rest);
        let starts_alpha = rest
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        return (n > 0 && starts_alpha).then_some((Reference::Env { default: None }, n + 1));
    }
    if let Some(rest) = text.strip_prefix('%') {
        let n = ident(rest);
        return (n > 0 && rest[n..].starts_with('%'))
            .then_some((Reference::Env { default: None }, n + 2));
    }
    None
}

/// The value with every reference taken out, and what the references were.
pub fn split_references(value: &str) -> (String, Vec<Reference<'_>>) {
    let mut literal = String::new();
    let mut refs = Vec::new();
    let mut i = 0;
    while i < value.len() {
        let rest = &value[i..];
        if let Some((r, len)) = reference_at(rest) {
            refs.push(r);
            i += len;
            continue;
        }
        let c = rest.chars().next().expect("non-empty");
        literal.push(c);
        i += c.len_utf8();
    }
    (literal, refs)
}

/// Placeholders people write where a secret goes.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim().trim_matches(['"', '\'']);
    if v.is_empty() {
        return true;
    }
    let upper = v.to_ascii_uppercase();
    let bracketed = (v.starts_with('<') && v.ends_with('>'))
        || (v.starts_with('[') && v.ends_with(']') && !upper.starts_with("[REDACTED"));
    if bracketed {
        return true;
    }
    // `sk-...`, `ghp_xxxx`, `pplx-XXXXXXXX`, `...`: a vendor prefix and a
    // filler in place of the secret.
    let tail = upper
        .trim_start_matches(|c: char| c.is_ascii_alphanumeric())
        .trim_start_matches(['-', '_']);
    let filler = |s: &str| {
        !s.is_empty()
            && (s.chars().all(|c| c == '.' || c == '…' || c == '*')
                || (s.len() >= 3 && s.chars().all(|c| c == 'X')))
    };
    if filler(&upper) || filler(tail) || upper.ends_with("...") || upper.ends_with('…') {
        return true;
    }
    let exact = [
        "YOUR",
        "YOUR_",
        "YOUR-",
        "MY_",
        "MY-",
        "INSERT",
        "ENTER",
        "REPLACE",
        "CHANGEME",
        "CHANGE_ME",
        "CHANGE-ME",
        "TODO",
        "PLACEHOLDER",
        "EXAMPLE",
        "DUMMY",
        "FAKE",
        "SAMPLE",
        "TBD",
        "FIXME",
        "PASTE",
    ];
    let w = words(v);
    let first = w.first().map(String::as_str).unwrap_or("");
    if [
        "YOUR", "MY", "INSERT", "ENTER", "REPLACE", "PASTE", "ADD", "PUT",
    ]
    .contains(&first)
    {
        return true;
    }
    w.iter().any(|word| {
        matches!(
            word.as_str(),
            "CHANGEME" | "PLACEHOLDER" | "TODO" | "FIXME" | "TBD" | "DUMMY" | "REDACTME"
        )
    }) || exact
        .iter()
        .any(|p| upper == *p || (p.ends_with(['_', '-']) && upper.starts_with(p)))
        || upper.contains("_HERE")
        || upper.contains("-HERE")
}

/// Values someone already removed.
pub fn is_redacted(value: &str) -> bool {
    let upper = value.trim().to_ascii_uppercase();
    upper.starts_with("[REDACTED")
        || upper.starts_with("<REDACTED")
        || upper == "REDACTED"
        || upper.starts_with("***")
        || upper.starts_with("••")
}

/// A value whose shape says it is not a secret: a path, a URL without
/// credentials, a number, a boolean, an e-mail address, a host name.
pub fn is_harmless_shape(value: &str, rules: &RuleSet) -> bool {
    let v = value.trim();
    if v.is_empty() {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "none"
    ) {
        return true;
    }
    if v.parse::<f64>().is_ok() {
        return true;
    }
    if let Some((scheme, rest)) = v.split_once("://") {
        let scheme_ok = !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'));
        if scheme_ok {
            // No user-info, and nothing a rule finds (a token parameter).
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            return !authority.contains('@') && rules.find(v.as_bytes(), "").is_empty();
        }
    }
    let path_like = v.starts_with('/')
        || v.starts_with("./")
        || v.starts_with("../")
        || v.starts_with("~/")
        || v.starts_with("\\\\")
        || (v.len() > 2 && v.as_bytes()[1] == b':' && matches!(v.as_bytes()[2], b'\\' | b'/'));
    if path_like && !v.contains(char::is_whitespace) {
        // A path: but not a base64 secret that happens to start with `/`.
        return v.matches(['/', '\\']).count() >= 2 || !looks_random(v);
    }
    false
}

/// A random-looking token: long enough, mixed characters, high entropy.
/// AWS secret keys (40), GitHub tokens (40), JWTs, most vendor keys pass;
/// words, identifiers with a few digits, and hex digests of 32 characters
/// or fewer do not.
pub fn looks_random(v: &str) -> bool {
    let v = v.trim();
    if v.len() < 16 || v.contains(char::is_whitespace) {
        return false;
    }
    let token = v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_' | '=' | '.' | '~'));
    if !token {
        return false;
    }
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let letters = v.chars().filter(char::is_ascii_alphabetic).count();
    if digits == 0 || letters == 0 {
        return false;
    }
    // Names and paths made of words (`deployer-token-7qk2z`,
    // `/Users/Me/tools/venv312/bin/python3`): most letters in segments
    // that read as words: lower-case, Capitalised, or short upper-case.
    let is_word = |s: &str| {
        let mut chars = s.chars();
        let first = chars.next();
        let rest: Vec<char> = chars.collect();
        s.len() >= 4
            && s.chars().all(|c| c.is_ascii_alphabetic())
            && (rest.iter().all(char::is_ascii_lowercase)
                || (s.len() <= 8 && s.chars().all(|c| c.is_ascii_uppercase())))
            && first.is_some()
    };
    // camelCase and PascalCase split at each capital that follows a small
    // letter: `exploitableResourceConstraint` is three words.
    let mut wordy = 0;
    for segment in v.split(|c: char| !c.is_ascii_alphabetic()) {
        let mut start = 0;
        let bytes = segment.as_bytes();
        for i in 1..=bytes.len() {
            let boundary = i == bytes.len()
                || (bytes[i].is_ascii_uppercase() && bytes[i - 1].is_ascii_lowercase());
            if boundary {
                let word = &segment[start..i];
                if is_word(word) {
                    wordy += word.len();
                }
                start = i;
            }
        }
    }
    if wordy * 5 >= letters * 3 {
        return false;
    }
    // A UUID or a hex digest is an identifier, not a key, unless named one.
    let hex = v.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if hex && v.chars().all(|c| !c.is_ascii_uppercase()) {
        return false;
    }
    let entropy = shannon_entropy(v.as_bytes());
    // Longer strings of random characters reach higher entropy.
    let threshold = if v.len() >= 32 { 3.7 } else { 3.4 };
    entropy > threshold
}

/// How a value is held, from its name (when it has one) and its shape.
pub fn classify(name: Option<&str>, value: &str, inputs: &Inputs, rules: &RuleSet) -> ValueClass {
    let v = value.trim();
    let credential_name = name.is_some_and(is_credential_name);
    if v.is_empty() {
        return if credential_name {
            ValueClass::Placeholder
        } else {
            ValueClass::NotCredential
        };
    }
    let (literal, refs) = split_references(v);
    if !refs.is_empty() {
        // What is written around the references: `Bearer ${input:x}` is
        // only the word; a default (`${KEY:-sk-...}`) is a literal.
        let defaults: Vec<&str> = refs
            .iter()
            .filter_map(|r| match r {
                Reference::Env { default: Some(d) } => Some(*d),
                _ => None,
            })
            .collect();
        for d in defaults {
            if classify(name, d, inputs, rules) == ValueClass::InlineLiteral {
                return ValueClass::InlineLiteral;
            }
        }
        let rest = literal
            .trim()
            .trim_start_matches("Bearer")
            .trim_start_matches("bearer")
            .trim_start_matches("Basic")
            .trim_start_matches("token")
            .trim_start_matches("Token")
            .trim();
        let rest_secret =
            rest.len() >= 8 && (looks_random(rest) || !rules.find(rest.as_bytes(), "").is_empty());
        if !rest_secret {
            if let Some(id) = refs.iter().find_map(|r| match r {
                Reference::Input(id) => Some(*id),
                _ => None,
            }) {
                return ValueClass::PromptedInput {
                    masked: inputs.masked.iter().any(|m| m == id),
                };
            }
            if refs.iter().any(|r| matches!(r, Reference::Env { .. })) {
                return ValueClass::EnvironmentReference;
            }
            // Only client variables (`${workspaceFolder}/x`).
            return if credential_name && !rest.is_empty() && !is_harmless_shape(&literal, rules) {
                classify_literal(name, &literal, rules, credential_name)
            } else {
                ValueClass::NotCredential
            };
        }
        return ValueClass::InlineLiteral;
    }
    if is_redacted(v) {
        return ValueClass::Redacted;
    }
    classify_literal(name, v, rules, credential_name)
}

fn classify_literal(
    name: Option<&str>,
    v: &str,
    rules: &RuleSet,
    credential_name: bool,
) -> ValueClass {
    // A known vendor format is a secret whatever it is called, unless it
    // is a placeholder in that format (`sk-...`).
    if !rules.find(v.as_bytes(), "").is_empty() {
        return if is_placeholder(v) {
            ValueClass::Placeholder
        } else {
            ValueClass::InlineLiteral
        };
    }
    if is_placeholder(v) {
        return if credential_name || v.len() > 3 {
            ValueClass::Placeholder
        } else {
            ValueClass::NotCredential
        };
    }
    if name.is_some_and(is_password_name) {
        return ValueClass::InlineLiteral;
    }
    if is_harmless_shape(v, rules) {
        return ValueClass::NotCredential;
    }
    if credential_name {
        // A short plain word under a name that may be a setting (`AUTH=oauth`,
        // `SESSION=persistent`) is a setting; under a name for a value
        // (`TOKEN`, `SECRET`, `KEY`) anything is the value.
        let setting_name = name.is_some_and(|n| {
            words(n).iter().all(|w| {
                ![
                    "KEY",
                    "TOKEN",
                    "SECRET",
                    "PAT",
                    "APIKEY",
                    "CREDENTIAL",
                    "CREDS",
                ]
                .contains(&w.as_str())
                    && !w.ends_with("TOKEN")
                    && !w.ends_with("SECRET")
                    && !w.ends_with("KEY")
            })
        });
        let plain_word = setting_name
            && v.len() <= 12
            && v.chars()
                .all(|c| c.is_ascii_lowercase() || c == '-' || c == '_');
        return if plain_word {
            ValueClass::NotCredential
        } else {
            ValueClass::InlineLiteral
        };
    }
    if looks_random(v) {
        return ValueClass::InlineLiteral;
    }
    ValueClass::NotCredential
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(name: Option<&str>, value: &str) -> &'static str {
        let inputs = Inputs {
            masked: vec!["masked".into()],
        };
        classify(name, value, &inputs, RuleSet::built_in()).as_str()
    }

    #[test]
    fn names_say_credential_unless_they_describe_one() {
        for n in [
            "GITHUB_TOKEN",
            "apiKey",
            "API_KEY",
            "x-api-key",
            "Authorization",
            "CLIENT_SECRET",
            "DB_PASSWORD",
            "access-token",
            "GITHUB_PERSONAL_ACCESS_TOKEN",
            "ACCESSTOKEN",
        ] {
            assert!(is_credential_name(n), "{n}");
        }
        for n in [
            "AWS_ACCESS_KEY_ID",
            "TOKEN_URL",
            "AUTH_TYPE",
            "KEY_FILE",
            "MEMORY_FILE_PATH",
            "OBSIDIAN_OPENAPI_PATH",
            "GOOGLE_CLIENT_ID",
            "PATH",
            "MONKEY",
            "region",
        ] {
            assert!(!is_credential_name(n), "{n}");
        }
    }

    #[test]
    fn references_inputs_and_placeholders_are_not_literals() {
        assert_eq!(class(Some("K_TOKEN"), "${env:X}"), "environment-reference");
        assert_eq!(class(Some("K_TOKEN"), "${X}"), "environment-reference");
        assert_eq!(class(Some("K_TOKEN"), "$X_Y"), "environment-reference");
        assert_eq!(class(Some("K_TOKEN"), "{env:X}"), "environment-reference");
        assert_eq!(class(Some("K_TOKEN"), "${X:-}"), "environment-reference");
        assert_eq!(
            class(
                Some("K_TOKEN"),
                "${X:-ghp_0123456789abcdefghijABCDEFGHIJ012345}"
            ),
            "inline-literal"
        );
        assert_eq!(
            class(Some("K_TOKEN"), "${input:masked}"),
            "prompted-input (masked)"
        );
        assert_eq!(
            class(Some("Authorization"), "Bearer ${input:t}"),
            "prompted-input"
        );
        assert_eq!(
            class(Some("Authorization"), "Bearer ${env:T}"),
            "environment-reference"
        );
        for p in [
            "<YOUR_KEY>",
            "your-api-key",
            "YOUR_GITHUB_TOKEN",
            "xxxxxxxx",
            "sk-...",
            "pplx-xxxxxxxxxxxx",
            "",
            "changeme",
            "your_api_key_here",
            "<your-token>",
        ] {
            assert_eq!(class(Some("API_KEY"), p), "placeholder", "{p:?}");
        }
        assert_eq!(
            class(Some("KALI_API_KEY"), "[REDACTED_API_KEY]"),
            "redacted"
        );
    }

    #[test]
    fn literals_by_name_or_by_shape() {
        assert_eq!(
            class(Some("API_KEY"), "a8f5f167f44f4964e6c998dee827110c"),
            "inline-literal"
        );
        assert_eq!(class(Some("DB_PASSWORD"), "hunter2"), "inline-literal");
        assert_eq!(class(Some("DB_PASSWORD"), "1234"), "inline-literal");
        assert_eq!(
            class(None, "sbp_0123456789abcdef0123456789abcdef01234567"),
            "inline-literal"
        );
        assert_eq!(
            class(None, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "inline-literal"
        );
        // Not credentials.
        assert_eq!(class(Some("API_KEY"), "/openapi.yaml"), "not-a-credential");
        assert_eq!(class(Some("TOKEN_TTL"), "3600"), "not-a-credential");
        assert_eq!(class(Some("USE_AUTH"), "true"), "not-a-credential");
        assert_eq!(class(Some("AUTH"), "oauth"), "not-a-credential");
        assert_eq!(
            class(None, "https://mcp.example.com/sse"),
            "not-a-credential"
        );
        assert_eq!(
            class(None, "@modelcontextprotocol/server-github"),
            "not-a-credential"
        );
        assert_eq!(
            class(None, "/home/user/.local/share/memory.json"),
            "not-a-credential"
        );
        assert_eq!(
            class(None, "0828c0d2-3589-4390-b954-c78b4a7df44b"),
            "not-a-credential"
        );
        assert_eq!(class(None, "https://u:p4ssw0rdValue@h/x"), "inline-literal");
        assert_eq!(class(None, "${workspaceFolder}/src"), "not-a-credential");
    }
}
