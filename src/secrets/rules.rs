//! Secret-detection rules as data: gitleaks' default configuration (pinned
//! by SHA-256, never edited) and proofpack's own additions
//! (`secret-rules/proofpack.toml`), read in gitleaks' format and matched as
//! gitleaks matches them: a keyword prefilter, the rule's regex, its secret
//! group, a minimum Shannon entropy, and allowlists (regexes on the secret,
//! the match or the line; stopwords).
//!
//! Go's RE2 and Rust's `regex` read the same syntax; the regexes run on
//! bytes with Unicode classes off, so `\w`, `\s` and `\b` are ASCII as in Go.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

use crate::hash::sha256_hex;

/// proofpack's own rules, compiled into the binary.
pub const PROOFPACK_RULES: &str = include_str!("../../secret-rules/proofpack.toml");

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("{file}: not a gitleaks rule file: {reason}")]
    Parse { file: String, reason: String },
    #[error("{file}: rule {rule}: {reason}")]
    Rule {
        file: String,
        rule: String,
        reason: String,
    },
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    allowlist: Option<RawAllow>,
    #[serde(default)]
    allowlists: Vec<RawAllow>,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    identifiers: Vec<RawIdentifier>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRule {
    id: String,
    #[serde(default)]
    description: String,
    regex: Option<String>,
    #[serde(default)]
    secret_group: usize,
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    allowlists: Vec<RawAllow>,
    #[serde(default)]
    allowlist: Option<RawAllow>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawAllow {
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    regex_target: Option<String>,
    condition: Option<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    commits: Vec<String>,
}

#[derive(Deserialize)]
struct RawIdentifier {
    rule: String,
    reason: String,
}

/// Where an allowlist regex looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Secret,
    Match,
    Line,
}

#[derive(Debug)]
struct Allowlist {
    regexes: Vec<Regex>,
    stopwords: Vec<String>,
    paths: Vec<Regex>,
    /// Commits never match here: proofpack scans its own output, not git.
    has_commits: bool,
    target: Target,
    all: bool,
}

impl Allowlist {
    fn compile(file: &str, rule: &str, raw: RawAllow) -> Result<Self, RulesError> {
        let compile = |p: &String| {
            compile_regex(p).map_err(|reason| RulesError::Rule {
                file: file.into(),
                rule: rule.into(),
                reason: format!("allowlist regex {p:?}: {reason}"),
            })
        };
        Ok(Allowlist {
            regexes: raw.regexes.iter().map(compile).collect::<Result<_, _>>()?,
            stopwords: raw.stopwords.iter().map(|s| s.to_lowercase()).collect(),
            paths: raw.paths.iter().map(compile).collect::<Result<_, _>>()?,
            has_commits: !raw.commits.is_empty(),
            target: match raw.regex_target.as_deref() {
                Some("match") => Target::Match,
                Some("line") => Target::Line,
                _ => Target::Secret,
            },
            all: raw.condition.as_deref() == Some("AND"),
        })
    }

    /// Whether this allowlist lets the finding pass, as gitleaks decides:
    /// any of its kinds matching (OR), or every kind it names (AND).
    fn allows(&self, secret: &[u8], matched: &[u8], line: &[u8], path: &str) -> bool {
        let target = match self.target {
            Target::Secret => secret,
            Target::Match => matched,
            Target::Line => line,
        };
        let mut results = Vec::with_capacity(4);
        if self.has_commits {
            results.push(false);
        }
        if !self.paths.is_empty() {
            results.push(self.paths.iter().any(|r| r.is_match(path.as_bytes())));
        }
        if !self.regexes.is_empty() {
            results.push(self.regexes.iter().any(|r| r.is_match(target)));
        }
        if !self.stopwords.is_empty() {
            let lower = String::from_utf8_lossy(secret).to_lowercase();
            results.push(self.stopwords.iter().any(|w| lower.contains(w.as_str())));
        }
        if results.is_empty() {
            return false;
        }
        if self.all {
            results.iter().all(|r| *r)
        } else {
            results.iter().any(|r| *r)
        }
    }
}

/// One compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub description: String,
    regex: Regex,
    secret_group: usize,
    entropy: Option<f64>,
    allowlists: Vec<Allowlist>,
}

/// A rule set file, as the manifest records it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RuleSource {
    pub name: String,
    pub sha256: String,
    /// Rules compiled from it (path-only rules, which look at file names
    /// proofpack never writes, are not).
    pub rules: usize,
}

/// A rule set aside because it finds identifiers, with the reason.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IdentifierRule {
    pub rule: String,
    pub reason: String,
}

/// A match: which rule, and where the secret is in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub rule: usize,
    pub start: usize,
    pub end: usize,
}

/// Every rule, ready to match.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    prefilter: AhoCorasick,
    /// For each keyword of `prefilter`, the rules it admits.
    keyword_rules: Vec<Vec<usize>>,
    /// Rules without keywords: always tried.
    always: Vec<usize>,
    global: Vec<Allowlist>,
    pub sources: Vec<RuleSource>,
    pub identifiers: Vec<IdentifierRule>,
}

/// Bytes of regex program per rule: gitleaks' largest rules need more than
/// the crate's default once case-insensitivity is expanded.
const REGEX_SIZE: usize = 64 << 20;

/// Go's RE2 reads a `{` that starts no repetition (`{\d+}` after `|`) as
/// a literal; Rust's parser refuses it. Such braces are escaped.
fn go_braces(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            out.push(c);
            if let Some(&next) = chars.get(i + 1) {
                out.push(next);
            }
            i += 2;
            continue;
        }
        match c {
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '{' if !in_class => {
                let rest: String = chars[i + 1..].iter().collect();
                let close = rest.find('}');
                let counted = close.is_some_and(|at| {
                    let inner = &rest[..at];
                    let (low, high) = inner.split_once(',').unwrap_or((inner, "0"));
                    !low.is_empty()
                        && low.chars().all(|d| d.is_ascii_digit())
                        && high.chars().all(|d| d.is_ascii_digit())
                });
                // A repetition must follow something it can repeat.
                let after_atom = i > 0 && !matches!(chars[i - 1], '(' | '|');
                if !(counted && after_atom) {
                    out.push_str("\\{");
                    i += 1;
                    continue;
                }
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

fn compile_regex(pattern: &str) -> Result<Regex, String> {
    let pattern = &go_braces(pattern);
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(REGEX_SIZE)
        .build()
        .or_else(|_| {
            // A pattern with a literal non-ASCII character needs Unicode
            // mode to parse; its classes are then Unicode-wide, which can
            // only find more.
            RegexBuilder::new(pattern).size_limit(REGEX_SIZE).build()
        })
        .map_err(|e| e.to_string())
}

impl RuleSet {
    /// Compiles rule files, given as (name, text), in order. Rules later
    /// files name as identifiers are set aside.
    pub fn compile(files: &[(&str, &str)]) -> Result<RuleSet, RulesError> {
        let mut raw_rules: Vec<(String, RawRule)> = Vec::new();
        let mut global = Vec::new();
        let mut identifiers = Vec::new();
        let mut sources = Vec::new();
        for (name, text) in files {
            let file: RawFile = toml::from_str(text).map_err(|e| RulesError::Parse {
                file: name.to_string(),
                reason: e.to_string(),
            })?;
            for allow in file.allowlist.into_iter().chain(file.allowlists) {
                global.push(Allowlist::compile(name, "global allowlist", allow)?);
            }
            let count = file.rules.iter().filter(|r| r.regex.is_some()).count();
            sources.push(RuleSource {
                name: name.to_string(),
                sha256: sha256_hex(text.as_bytes()),
                rules: count,
            });
            raw_rules.extend(file.rules.into_iter().map(|r| (name.to_string(), r)));
            identifiers.extend(file.identifiers.into_iter().map(|i| IdentifierRule {
                rule: i.rule,
                reason: i.reason,
            }));
        }
        let set_aside: BTreeSet<&str> = identifiers.iter().map(|i| i.rule.as_str()).collect();
        let mut rules = Vec::new();
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (file, raw) in raw_rules {
            let Some(pattern) = raw.regex.as_deref() else {
                continue;
            };
            if set_aside.contains(raw.id.as_str()) {
                continue;
            }
            let regex = compile_regex(pattern).map_err(|reason| RulesError::Rule {
                file: file.clone(),
                rule: raw.id.clone(),
                reason,
            })?;
            let mut allowlists = Vec::new();
            for allow in raw.allowlist.into_iter().chain(raw.allowlists) {
                allowlists.push(Allowlist::compile(&file, &raw.id, allow)?);
            }
            let index = rules.len();
            if raw.keywords.is_empty() {
                always.push(index);
            }
            for keyword in &raw.keywords {
                let keyword = keyword.to_lowercase();
                match keywords.iter().position(|k| *k == keyword) {
                    Some(at) => keyword_rules[at].push(index),
                    None => {
                        keywords.push(keyword);
                        keyword_rules.push(vec![index]);
                    }
                }
            }
            rules.push(Rule {
                id: raw.id,
                description: raw.description,
                secret_group: raw.secret_group,
                entropy: raw.entropy,
                regex,
                allowlists,
            });
        }
        let prefilter = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&keywords)
            .map_err(|e| RulesError::Parse {
                file: "keywords".into(),
                reason: e.to_string(),
            })?;
        Ok(RuleSet {
            rules,
            prefilter,
            keyword_rules,
            always,
            global,
            sources,
            identifiers,
        })
    }

    /// proofpack's own rules alone: what unit tests and library callers
    /// that installed nothing get.
    pub fn built_in() -> &'static RuleSet {
        static BUILT_IN: OnceLock<RuleSet> = OnceLock::new();
        BUILT_IN.get_or_init(|| {
            // Part of the source tree and compiled by the unit tests below:
            // a failure here is a build defect, not user input.
            RuleSet::compile(&[("proofpack.toml", PROOFPACK_RULES)])
                .expect("secret-rules/proofpack.toml compiles")
        })
    }

    /// Where any rule's keyword starts in `text`: a string without one
    /// cannot match a keyed rule, so a long text is passed over in one
    /// sweep and only the strings around these positions are tested.
    pub fn keyword_positions<'t>(&'t self, text: &'t [u8]) -> impl Iterator<Item = usize> + 't {
        self.prefilter
            .find_overlapping_iter(text)
            .map(|m| m.start())
    }

    /// Whether any rule's keyword is in `text`.
    pub fn has_keyword(&self, text: &[u8]) -> bool {
        self.prefilter.is_match(text)
    }

    /// Whether some rule has no keyword (and must be tried on every string).
    pub fn has_unkeyed(&self) -> bool {
        !self.always.is_empty()
    }

    /// The rule's regex as compiled (Go's literal braces escaped).
    pub fn pattern(&self, index: usize) -> &str {
        self.rules[index].regex.as_str()
    }

    /// Whether a rule of this id is in force.
    pub fn has(&self, id: &str) -> bool {
        self.rules.iter().any(|r| r.id == id)
    }

    pub fn rule(&self, index: usize) -> &Rule {
        &self.rules[index]
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Every secret the rules find in `text` (one fragment: a cell, a JSON
    /// string, a line). `path` is the file it comes from, for allowlists
    /// that look at paths.
    pub fn find(&self, text: &[u8], path: &str) -> Vec<Hit> {
        let mut candidates: Vec<usize> = self.always.clone();
        for m in self.prefilter.find_overlapping_iter(text) {
            candidates.extend_from_slice(&self.keyword_rules[m.pattern().as_usize()]);
        }
        if candidates.is_empty() {
            return Vec::new();
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut hits = Vec::new();
        for index in candidates {
            self.find_rule(index, text, path, &mut hits);
        }
        hits.sort_by_key(|h| (h.start, h.end, h.rule));
        hits
    }

    fn find_rule(&self, index: usize, text: &[u8], path: &str, hits: &mut Vec<Hit>) {
        let rule = &self.rules[index];
        for caps in rule.regex.captures_iter(text) {
            let whole = caps.get(0).expect("group 0 always matches");
            // gitleaks: the named secret group, else the first group that
            // matched, else the whole match.
            let secret = if rule.secret_group > 0 {
                caps.get(rule.secret_group)
            } else {
                (1..caps.len()).find_map(|g| caps.get(g))
            }
            .unwrap_or(whole);
            let bytes = secret.as_bytes();
            if bytes.is_empty() {
                continue;
            }
            if let Some(min) = rule.entropy {
                if shannon_entropy(bytes) <= min {
                    continue;
                }
                if rule.id.starts_with("generic") && !bytes.iter().any(u8::is_ascii_digit) {
                    continue;
                }
            }
            let line = line_around(text, whole.start(), whole.end());
            let allowed = self
                .global
                .iter()
                .chain(&rule.allowlists)
                .any(|a| a.allows(bytes, whole.as_bytes(), line, path));
            if !allowed {
                hits.push(Hit {
                    rule: index,
                    start: secret.start(),
                    end: secret.end(),
                });
            }
        }
    }
}

/// The line of `text` that holds `start..end`.
fn line_around(text: &[u8], start: usize, end: usize) -> &[u8] {
    let from = text[..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let to = text[end..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |p| end + p);
    &text[from..to]
}

/// Shannon entropy in bits per character, as gitleaks computes it (over
/// characters; bytes of invalid UTF-8 count one each).
pub fn shannon_entropy(bytes: &[u8]) -> f64 {
    let text = String::from_utf8_lossy(bytes);
    let mut counts: std::collections::HashMap<char, usize> = std::collections::HashMap::new();
    let mut total = 0usize;
    for c in text.chars() {
        *counts.entry(c).or_default() += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    let n = total as f64;
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_rules_compile_and_find_what_gitleaks_lacks() {
        let set = RuleSet::built_in();
        let find = |text: &str| -> Vec<String> {
            set.find(text.as_bytes(), "x")
                .iter()
                .map(|h| set.rule(h.rule).id.clone())
                .collect()
        };
        assert_eq!(
            find("--access-token sbp_0123456789abcdef0123456789abcdef01234567"),
            ["proofpack-supabase-personal-token"]
        );
        assert!(find("postgres://app:S3cr3tPassw0rd@db:5432/x")
            .contains(&"proofpack-url-password".to_string()));
        assert!(find("postgres://app:${DB_PASS}@db:5432/x").is_empty());
        assert!(find("Authorization: Bearer ${input:token}").is_empty());
        assert!(find("basic authentication is off").is_empty());
        assert_eq!(set.identifiers[0].rule, "aws-access-token");
    }

    #[test]
    fn gitleaks_pinned_rules_compile_when_present() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/secrets/gitleaks.toml");
        let Ok(text) = std::fs::read_to_string(&path) else {
            return;
        };
        let set = RuleSet::compile(&[
            ("gitleaks.toml", &text),
            ("proofpack.toml", PROOFPACK_RULES),
        ])
        .unwrap();
        // 222 rules, one of them by path only, one set aside as an identifier
        // (yandex-aws-access-token and aws-access-token: two).
        assert_eq!(set.sources[0].rules, 221);
        assert!(set.len() >= 219);
        let find = |text: &str| -> Vec<String> {
            set.find(text.as_bytes(), "x")
                .iter()
                .map(|h| set.rule(h.rule).id.clone())
                .collect()
        };
        assert!(find("token ghp_0123456789abcdefghijABCDEFGHIJ012345 here")
            .contains(&"github-pat".to_string()));
        // An access key id alone is an identifier.
        assert!(find("credential AKIAZ7QRSTUVWXYZ2345 used").is_empty());
        assert!(find("arn:aws:iam::123456789012:role/ci-deployer").is_empty());
    }

    #[test]
    fn go_literal_braces_are_escaped_and_repetitions_kept() {
        assert_eq!(go_braces(r"^\$(?:\d+|{\d+})$"), r"^\$(?:\d+|\{\d+})$");
        assert_eq!(go_braces(r"a{2,3}[{]"), r"a{2,3}[{]");
        assert!(compile_regex(r"^\$\{\{x}}$|^\{\{[ \t]*[\w ().|]+[ \t]*}}$").is_ok());
    }

    #[test]
    fn entropy_is_bits_per_character() {
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }
}
