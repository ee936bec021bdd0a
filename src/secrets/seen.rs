//! The credential values proofpack saw in its inputs (literal secrets in
//! configurations, the secrets scanner reports found, values masked in
//! free text, the bearer token it was given), kept only as hashes, so the
//! gate can prove none of them reached a written file.
//!
//! Finding any of them inside any text is a rolling test: a value is known
//! by the hash of its first few bytes (a cheap set) and confirmed by the
//! SHA-256 of the whole window.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

/// Values shorter than this are not tracked: too short to be told from
/// ordinary text, and no credential format is that short.
pub const MIN_LEN: usize = 6;
const PREFIX: usize = MIN_LEN;

#[derive(Clone, Default)]
pub struct SeenSecrets {
    /// Hash of the first `PREFIX` bytes → (length, SHA-256 of the value).
    by_prefix: HashMap<u64, Vec<(usize, [u8; 32])>>,
    /// Every SHA-256, to count distinct values.
    all: HashSet<[u8; 32]>,
    /// The first two bytes of each value as a 65,536-bit set: most
    /// positions of a text are passed over without hashing.
    first_two: Vec<u64>,
}

impl std::fmt::Debug for SeenSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SeenSecrets({} values)", self.all.len())
    }
}

/// Two sets are equal when they hold the same values.
impl PartialEq for SeenSecrets {
    fn eq(&self, other: &Self) -> bool {
        self.all == other.all
    }
}

impl Eq for SeenSecrets {}

fn prefix_hash(bytes: &[u8]) -> u64 {
    // FNV-1a: stable, fast on six bytes, and not the value.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl SeenSecrets {
    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// Remembers a value (trimmed). Values shorter than [`MIN_LEN`] are
    /// not tracked.
    pub fn add(&mut self, value: &str) {
        let bytes = value.trim().as_bytes();
        if bytes.len() < MIN_LEN {
            return;
        }
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        if !self.all.insert(digest) {
            return;
        }
        if self.first_two.is_empty() {
            self.first_two = vec![0; 1 << 10];
        }
        let two = (usize::from(bytes[0]) << 8) | usize::from(bytes[1]);
        self.first_two[two / 64] |= 1 << (two % 64);
        self.by_prefix
            .entry(prefix_hash(&bytes[..PREFIX]))
            .or_default()
            .push((bytes.len(), digest));
    }

    pub fn extend(&mut self, other: SeenSecrets) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            *self = other;
            return;
        }
        for (prefix, values) in other.by_prefix {
            for (len, digest) in values {
                if self.all.insert(digest) {
                    self.by_prefix
                        .entry(prefix)
                        .or_default()
                        .push((len, digest));
                }
            }
        }
        for (mine, theirs) in self.first_two.iter_mut().zip(other.first_two) {
            *mine |= theirs;
        }
    }

    /// Where the first remembered value occurs in `text`, if any.
    pub fn find_in(&self, text: &[u8]) -> Option<usize> {
        self.find_from(text, 0)
    }

    /// Every position where a remembered value starts in `text`.
    pub fn find_all_in(&self, text: &[u8]) -> Vec<usize> {
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(at) = self.find_from(text, from) {
            out.push(at);
            from = at + 1;
        }
        out
    }

    fn find_from(&self, text: &[u8], from: usize) -> Option<usize> {
        if self.is_empty() || text.len() < MIN_LEN {
            return None;
        }
        for i in from..=text.len() - PREFIX {
            let two = (usize::from(text[i]) << 8) | usize::from(text[i + 1]);
            if self.first_two[two / 64] & (1 << (two % 64)) == 0 {
                continue;
            }
            let Some(values) = self.by_prefix.get(&prefix_hash(&text[i..i + PREFIX])) else {
                continue;
            };
            for &(len, digest) in values {
                if i + len <= text.len() {
                    let window: [u8; 32] = Sha256::digest(&text[i..i + len]).into();
                    if window == digest {
                        return Some(i);
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_found_anywhere_and_only_themselves() {
        let mut seen = SeenSecrets::default();
        seen.add("sbp_0123456789abcdef");
        seen.add("abc");
        assert_eq!(seen.len(), 1);
        assert_eq!(
            seen.find_in(b"x --access-token sbp_0123456789abcdef y"),
            Some(17)
        );
        assert_eq!(seen.find_in(b"sbp_0123456789abcde"), None);
        assert_eq!(seen.find_in(b"abc abc"), None);
        let mut other = SeenSecrets::default();
        other.add("hunter2!");
        seen.extend(other);
        assert_eq!(seen.find_in(b"pw=hunter2!"), Some(3));
    }
}
