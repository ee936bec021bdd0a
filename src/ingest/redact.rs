//! Keeps secret values out of every output column. Sources are read field by
//! field, so secrets (session tokens, passwords, keys) are never copied on
//! purpose; this catches the ones embedded in free text such as error
//! messages and user agents.

use super::Normalised;

const MASK: &str = "[redacted]";

/// Replaces secret-looking tokens in the free-text columns.
pub fn scrub(n: &mut Normalised) {
    for field in [&mut n.decision_reason, &mut n.user_agent, &mut n.resource] {
        if let Some(text) = field.as_mut() {
            if let Some(clean) = scrub_text(text) {
                *text = clean;
            }
        }
    }
}

/// Characters that end a token.
fn is_separator(ch: char) -> bool {
    ch.is_whitespace()
        || matches!(
            ch,
            '"' | '\'' | ',' | ';' | '=' | '(' | ')' | '[' | ']' | '{' | '}'
        )
}

/// The text with secret-looking tokens masked, or `None` if it had none.
pub fn scrub_text(text: &str) -> Option<String> {
    // Nearly every text is clean: look before copying anything.
    if !may_hold_secret(text) || !text.split(is_separator).any(looks_secret) {
        return None;
    }
    let mut changed = false;
    let mut out = String::with_capacity(text.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String, changed: &mut bool| {
        if looks_secret(token) {
            out.push_str(MASK);
            *changed = true;
        } else {
            out.push_str(token);
        }
        token.clear();
    };
    for ch in text.chars() {
        if is_separator(ch) {
            flush(&mut token, &mut out, &mut changed);
            out.push(ch);
        } else {
            token.push(ch);
        }
    }
    flush(&mut token, &mut out, &mut changed);
    changed.then_some(out)
}

/// Whether `text` could hold a token [`looks_secret`] accepts: a JWT's
/// `eyJ`, or a run of 32 bytes without an ASCII separator. A byte scan, so
/// the clean majority is passed without splitting; only ASCII counts as a
/// separator here, which can only make runs longer (never miss one).
fn may_hold_secret(text: &str) -> bool {
    let mut run = 0;
    for &b in text.as_bytes() {
        if b.is_ascii() && is_separator(b as char) {
            run = 0;
        } else {
            run += 1;
            if run >= 32 {
                return true;
            }
        }
    }
    text.contains("eyJ")
}

/// JWTs, and long random-looking base64 runs (AWS secret keys are 40
/// characters; session tokens are hundreds).
fn looks_secret(token: &str) -> bool {
    if token.starts_with("eyJ") && token.matches('.').count() >= 2 {
        return true;
    }
    if token.len() < 32 || token.starts_with("arn:") || token.contains("://") {
        return false;
    }
    let base64 = token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_'));
    let upper = token.chars().any(|c| c.is_ascii_uppercase());
    let lower = token.chars().any(|c| c.is_ascii_lowercase());
    let digit = token.chars().any(|c| c.is_ascii_digit());
    base64 && upper && lower && digit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_tokens_and_keys_but_not_identifiers() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        assert_eq!(
            scrub_text(&format!("bad token {jwt} given")).unwrap(),
            "bad token [redacted] given"
        );
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assert_eq!(
            scrub_text(&format!("key={secret}")).unwrap(),
            "key=[redacted]"
        );
        assert_eq!(
            scrub_text("arn:aws:iam::111122223333:role/ci-deployer-with-a-very-long-name-2024"),
            None
        );
        assert_eq!(
            scrub_text("AccessDenied: User is not authorized to perform s3:GetObject"),
            None
        );
        assert_eq!(scrub_text("0828c0d2-3589-4390-b954-c78b4a7df44b"), None);
    }

    #[test]
    fn the_byte_precheck_never_passes_over_a_secret() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        for sep in [" ", "\u{3000}", "\u{a0}", "\t", "=", "é"] {
            for token in [secret, jwt, "short", "arn:aws:iam::1:role/x"] {
                let text = format!("a{sep}{token}{sep}b");
                let has = text.split(is_separator).any(looks_secret);
                assert!(!has || may_hold_secret(&text), "{text}");
            }
        }
        assert!(!may_hold_secret("aws-cli/2.15.0 Python/3.11.6 Linux/5.10"));
    }
}
