//! What stands in a package where a secret was: a marker that says what
//! the value was (`<literal secret, 40 chars, fp:3f9a0c12be47>`), never the
//! value.
//!
//! The fingerprint is HMAC-SHA256 of the value, cut to 12 hex digits (48
//! bits), so the same key can be recognised across files, inputs and runs
//! without being recoverable:
//! - keyed: with `PROOFPACK_FINGERPRINT_KEY` set, the HMAC key is that
//!   value; nobody without it can test a guess against a fingerprint.
//! - salted (the default): the HMAC key is a fixed, public label. A random
//!   secret of 60 bits or more cannot be found from 48 bits of its hash, but
//!   a weak one (a short word password) could be guessed and tested, so
//!   such values get no fingerprint at all in this mode.

use std::sync::OnceLock;

use ring::hmac;

use super::rules::shannon_entropy;

/// Environment variable holding the fingerprint key.
pub const FINGERPRINT_KEY_ENV: &str = "PROOFPACK_FINGERPRINT_KEY";
const PUBLIC_SALT: &[u8] = b"proofpack secret fingerprint v1";
/// Below this estimated strength a salted fingerprint could be brute-forced.
const MIN_BITS_UNKEYED: f64 = 60.0;

/// Makes fingerprints and markers.
pub struct Fingerprinter {
    key: hmac::Key,
    keyed: bool,
}

impl Fingerprinter {
    pub fn new(key: Option<&[u8]>) -> Self {
        Fingerprinter {
            key: hmac::Key::new(hmac::HMAC_SHA256, key.unwrap_or(PUBLIC_SALT)),
            keyed: key.is_some(),
        }
    }

    /// The process's fingerprinter: keyed when the environment says so.
    pub fn global() -> &'static Fingerprinter {
        static GLOBAL: OnceLock<Fingerprinter> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            let key = std::env::var(FINGERPRINT_KEY_ENV)
                .ok()
                .filter(|k| !k.is_empty());
            Fingerprinter::new(key.as_deref().map(str::as_bytes))
        })
    }

    /// `keyed` or `salted`, for the manifest.
    pub fn mode(&self) -> &'static str {
        if self.keyed {
            "keyed (HMAC-SHA256 with the key in PROOFPACK_FINGERPRINT_KEY, 48 bits)"
        } else {
            "salted (HMAC-SHA256 with a public label, 48 bits; none for values under 60 bits of estimated strength)"
        }
    }

    /// 12 hex digits, or `None` for a weak value when unkeyed.
    pub fn fingerprint(&self, value: &str) -> Option<String> {
        let chars = value.chars().count() as f64;
        if !self.keyed && chars * shannon_entropy(value.as_bytes()) < MIN_BITS_UNKEYED {
            return None;
        }
        let tag = hmac::sign(&self.key, value.as_bytes());
        Some(
            tag.as_ref()[..6]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }

    /// `<what, N chars, fp:...>`: what stands where the value was.
    pub fn marker(&self, what: &str, value: &str) -> String {
        let chars = value.chars().count();
        match self.fingerprint(value) {
            Some(fp) => format!("<{what}, {chars} chars, fp:{fp}>"),
            None => format!("<{what}, {chars} chars>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_never_hold_the_value_and_weak_values_get_no_fingerprint() {
        let f = Fingerprinter::new(None);
        let key = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        let m = f.marker("literal secret", key);
        assert!(m.starts_with("<literal secret, 40 chars, fp:"), "{m}");
        assert!(!m.contains("ghp_"));
        assert_eq!(f.marker("literal secret", key), m, "stable");
        assert_eq!(
            f.marker("literal secret", "hunter2"),
            "<literal secret, 7 chars>"
        );
        let keyed = Fingerprinter::new(Some(b"k"));
        assert_ne!(keyed.fingerprint(key), f.fingerprint(key));
        assert!(keyed.fingerprint("hunter2").is_some());
    }
}
