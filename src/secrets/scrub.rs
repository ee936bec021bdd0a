//! Masks secrets in free text a reader keeps (error messages, user agents,
//! resources, request parameters, details): every rule hit, every JWT and
//! every random-looking token under a credential name or standing alone is
//! replaced by a marker. The values masked are returned so the gate can
//! search every output for them.

use super::marker::Fingerprinter;
use super::rules::RuleSet;
use super::shape::{is_credential_name, looks_random};

/// Characters that end a token.
fn is_separator(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b'"' | b'\''
                | b','
                | b';'
                | b'='
                | b'('
                | b')'
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'<'
                | b'>'
                | b'&'
                | b'?'
                | b'|'
                | b'`'
        )
}

/// JWTs and long random-looking runs (AWS secret keys are 40 characters;
/// session tokens are hundreds), but not ARNs or URLs.
fn looks_secret_token(token: &str) -> bool {
    if token.starts_with("eyJ") && token.matches('.').count() >= 2 && token.len() >= 24 {
        return true;
    }
    if token.len() < 32 || token.starts_with("arn:") || token.contains("://") {
        return false;
    }
    let upper = token.chars().any(|c| c.is_ascii_uppercase());
    let lower = token.chars().any(|c| c.is_ascii_lowercase());
    looks_random(token) && upper && lower
}

/// Whether `text` could hold anything [`scrub_text`] masks: a cheap byte
/// scan so the clean majority of texts is passed without more work. Any
/// rule hit needs one of the rules' keywords, which `rules.find` tests.
fn may_hold_token(text: &[u8]) -> bool {
    let mut run = 0;
    for &b in text {
        if is_separator(b) {
            run = 0;
        } else {
            run += 1;
            if run >= 16 {
                return true;
            }
        }
    }
    false
}

/// A value masked, and whether it is surely a credential (a vendor
/// format, not a generic rule or a random look).
pub type Masked = (String, bool);

/// How a field is read: free text (a message, a user agent, details) is
/// also searched for random-looking tokens; an identifier (an event id, a
/// key id, a principal), random by design, only for the rules' formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    FreeText,
    Identifier,
}

/// Whether [`scrub_field`] could mask anything in `text`: a rule's keyword,
/// or (in free text) a long token. A byte sweep: most fields are passed
/// here without more work.
pub fn may_need_scrub(text: &str, rules: &RuleSet, field: Field) -> bool {
    (field == Field::FreeText && may_hold_token(text.as_bytes()))
        || rules.has_unkeyed()
        || rules.has_keyword(text.as_bytes())
}

/// The text with every secret masked, and the secrets masked; `None` when
/// it held none.
pub fn scrub_text(text: &str, rules: &RuleSet) -> Option<(String, Vec<Masked>)> {
    scrub_field(text, rules, Field::FreeText)
}

/// [`scrub_text`] for a field of the given kind.
pub fn scrub_field(text: &str, rules: &RuleSet, field: Field) -> Option<(String, Vec<Masked>)> {
    let bytes = text.as_bytes();
    let mut spans: Vec<(usize, usize, bool)> = rules
        .find(bytes, "")
        .into_iter()
        .map(|h| {
            (
                h.start,
                h.end,
                !rules.rule(h.rule).id.starts_with("generic"),
            )
        })
        .collect();
    if field == Field::FreeText && may_hold_token(bytes) {
        // Tokens between separators, and the name before `=` or `:`.
        let mut start = 0;
        let mut previous_name: Option<&str> = None;
        for (i, &b) in bytes.iter().enumerate().chain([(bytes.len(), &b' ')]) {
            if i < bytes.len() && !is_separator(b) {
                continue;
            }
            let token = &text[start..i];
            let named = previous_name.is_some_and(is_credential_name);
            if !token.is_empty()
                && (looks_secret_token(token)
                    || (named && token.len() >= 16 && looks_random(token)))
            {
                spans.push((start, i, false));
            }
            if !token.is_empty() {
                previous_name = Some(token.trim_start_matches('-'));
            }
            start = i + 1;
        }
    }
    if spans.is_empty() {
        return None;
    }
    // Keep whole spans, the earliest and longest first, without overlaps.
    spans.sort_by_key(|&(s, e, _)| (s, std::cmp::Reverse(e)));
    let mut merged: Vec<(usize, usize, bool)> = Vec::new();
    for (s, e, sure) in spans {
        match merged.last_mut() {
            Some(last) if s < last.1 => {
                last.1 = last.1.max(e);
                last.2 |= sure;
            }
            _ => merged.push((s, e, sure)),
        }
    }
    let fingerprints = Fingerprinter::global();
    let mut out = String::with_capacity(text.len());
    let mut masked = Vec::new();
    let mut at = 0;
    for (s, e, sure) in merged {
        // Spans are byte offsets from ASCII regexes; keep to char bounds.
        let (s, e) = (floor_char(text, s), ceil_char(text, e));
        if s < at {
            continue;
        }
        out.push_str(&text[at..s]);
        let value = &text[s..e];
        out.push_str(&fingerprints.marker("secret", value));
        masked.push((value.to_string(), sure));
        at = e;
    }
    out.push_str(&text[at..]);
    Some((out, masked))
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrub(text: &str) -> Option<String> {
        scrub_text(text, RuleSet::built_in()).map(|(t, _)| t)
    }

    #[test]
    fn masks_tokens_and_keys_but_not_identifiers() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        let out = scrub(&format!("bad token {jwt} given")).unwrap();
        assert!(out.starts_with("bad token <secret, "), "{out}");
        assert!(out.ends_with("> given"));
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let (out, masked) = scrub_text(&format!("key={secret}"), RuleSet::built_in()).unwrap();
        assert!(out.starts_with("key=<secret, 40 chars"), "{out}");
        assert_eq!(masked, [(secret.to_string(), false)]);
        assert_eq!(
            scrub("arn:aws:iam::111122223333:role/ci-deployer-with-a-very-long-name-2024"),
            None
        );
        assert_eq!(
            scrub("AccessDenied: User is not authorized to perform s3:GetObject"),
            None
        );
        assert_eq!(scrub("0828c0d2-3589-4390-b954-c78b4a7df44b"), None);
        assert_eq!(scrub("aws-cli/2.15.0 Python/3.11.6 Linux/5.10"), None);
        let out = scrub("--access-token sbp_0123456789abcdef0123456789abcdef01234567 x").unwrap();
        assert!(!out.contains("sbp_"), "{out}");
    }
}
