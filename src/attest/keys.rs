//! Signing and verifying keys: ECDSA P-256 with SHA-256 (what Sigstore and
//! cosign use) and Ed25519, through `ring` (already in the tree for TLS).
//! Private keys are PKCS#8 PEM, public keys SubjectPublicKeyInfo PEM, as
//! OpenSSL and cosign write them. A key's id is the SHA-256 of its public
//! key's DER, in hex.

use std::path::{Path, PathBuf};

use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};

use super::AttestError;
use crate::hash::sha256_hex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    EcdsaP256,
    Ed25519,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::EcdsaP256 => "ecdsa-p256-sha256",
            Algorithm::Ed25519 => "ed25519",
        }
    }

    /// The DER that precedes the raw public key in its SubjectPublicKeyInfo:
    /// the algorithm identifier (and curve) and the BIT STRING header.
    fn spki_prefix(self) -> &'static [u8] {
        match self {
            // SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (65 bytes) }
            Algorithm::EcdsaP256 => &[
                0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
                0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
            ],
            // SEQUENCE { SEQUENCE { id-Ed25519 }, BIT STRING (32 bytes) }
            Algorithm::Ed25519 => &[
                0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
            ],
        }
    }

    fn raw_public_len(self) -> usize {
        match self {
            Algorithm::EcdsaP256 => 65,
            Algorithm::Ed25519 => 32,
        }
    }
}

impl std::str::FromStr for Algorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ecdsa-p256" | "ecdsa-p256-sha256" | "p256" => Ok(Algorithm::EcdsaP256),
            "ed25519" => Ok(Algorithm::Ed25519),
            other => Err(format!(
                "unknown key algorithm `{other}`: use ecdsa-p256 or ed25519"
            )),
        }
    }
}

enum Pair {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private key, ready to sign.
pub struct SigningKey {
    pair: Pair,
    public: PublicKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey({}, {})",
            self.public.algorithm.name(),
            self.public.keyid
        )
    }
}

/// A public key, ready to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub algorithm: Algorithm,
    /// The raw key (an uncompressed P-256 point, or 32 Ed25519 bytes).
    raw: Vec<u8>,
    /// SHA-256 of the SubjectPublicKeyInfo DER, hex.
    pub keyid: String,
    /// Where it was read from, for messages.
    pub source: String,
}

impl PublicKey {
    fn from_raw(algorithm: Algorithm, raw: Vec<u8>, source: String) -> Self {
        let keyid = sha256_hex(&[algorithm.spki_prefix(), &raw].concat());
        PublicKey {
            algorithm,
            raw,
            keyid,
            source,
        }
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> Vec<u8> {
        [self.algorithm.spki_prefix(), &self.raw].concat()
    }

    pub fn to_pem(&self) -> String {
        pem::encode(&pem::Pem::new("PUBLIC KEY", self.spki_der()))
    }

    /// Reads a `PUBLIC KEY` PEM (SubjectPublicKeyInfo) of either algorithm.
    pub fn from_pem(text: &[u8], source: &str) -> Result<Self, AttestError> {
        let bad = |reason: String| AttestError::Key {
            path: source.to_string(),
            reason,
        };
        let block = pem::parse(text).map_err(|e| bad(format!("not a PEM public key: {e}")))?;
        if block.tag() != "PUBLIC KEY" {
            return Err(bad(format!(
                "a `{}` PEM block where a `PUBLIC KEY` (SubjectPublicKeyInfo) belongs",
                block.tag()
            )));
        }
        let der = block.contents();
        for algorithm in [Algorithm::EcdsaP256, Algorithm::Ed25519] {
            if let Some(raw) = der.strip_prefix(algorithm.spki_prefix()) {
                if raw.len() == algorithm.raw_public_len() {
                    return Ok(Self::from_raw(algorithm, raw.to_vec(), source.to_string()));
                }
            }
        }
        Err(bad(
            "not an ECDSA P-256 or Ed25519 public key (RSA and other curves are not supported)"
                .into(),
        ))
    }

    /// Whether `signature` is this key's over `message`.
    pub fn verifies(&self, message: &[u8], signature_bytes: &[u8]) -> bool {
        let algorithm: &dyn signature::VerificationAlgorithm = match self.algorithm {
            Algorithm::EcdsaP256 => &signature::ECDSA_P256_SHA256_ASN1,
            Algorithm::Ed25519 => &signature::ED25519,
        };
        signature::UnparsedPublicKey::new(algorithm, &self.raw)
            .verify(message, signature_bytes)
            .is_ok()
    }

    /// Every `*.pem` public key in a folder, in name order.
    pub fn from_dir(dir: &Path) -> Result<Vec<PublicKey>, AttestError> {
        let io = |source| AttestError::Io {
            path: dir.display().to_string(),
            source,
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "pem"))
            .collect();
        paths.sort();
        paths.iter().map(|p| PublicKey::from_file(p)).collect()
    }

    pub fn from_file(path: &Path) -> Result<PublicKey, AttestError> {
        let text = std::fs::read(path).map_err(|source| AttestError::Io {
            path: path.display().to_string(),
            source,
        })?;
        PublicKey::from_pem(&text, &path.display().to_string())
    }
}

impl SigningKey {
    /// Reads a `PRIVATE KEY` PEM (PKCS#8) of either algorithm.
    pub fn from_pem(text: &[u8], source: &str) -> Result<Self, AttestError> {
        let bad = |reason: String| AttestError::Key {
            path: source.to_string(),
            reason,
        };
        let block = pem::parse(text).map_err(|e| bad(format!("not a PEM private key: {e}")))?;
        match block.tag() {
            "PRIVATE KEY" => {}
            "EC PRIVATE KEY" => {
                return Err(bad("a SEC1 `EC PRIVATE KEY`; convert it to PKCS#8 with `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.p8.pem`".into()))
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err(bad("an encrypted private key; proofpack reads unencrypted PKCS#8 (keep it in a file readable only by the signer, or in an environment variable)".into()))
            }
            other => {
                return Err(bad(format!(
                    "a `{other}` PEM block where a `PRIVATE KEY` (PKCS#8) belongs"
                )))
            }
        }
        let der = block.contents();
        let rng = SystemRandom::new();
        if let Ok(pair) =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, der, &rng)
        {
            let raw = pair.public_key().as_ref().to_vec();
            return Ok(SigningKey {
                pair: Pair::Ecdsa(pair),
                public: PublicKey::from_raw(Algorithm::EcdsaP256, raw, source.to_string()),
            });
        }
        // OpenSSL writes Ed25519 keys as PKCS#8 v1 (without the public key).
        if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            let raw = pair.public_key().as_ref().to_vec();
            return Ok(SigningKey {
                pair: Pair::Ed25519(pair),
                public: PublicKey::from_raw(Algorithm::Ed25519, raw, source.to_string()),
            });
        }
        Err(bad(
            "not an ECDSA P-256 or Ed25519 PKCS#8 key (RSA and other curves are not supported)"
                .into(),
        ))
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, AttestError> {
        match &self.pair {
            Pair::Ecdsa(pair) => pair
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| AttestError::Envelope("ECDSA signing failed".into())),
            Pair::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

/// Where a private key comes from: a file, or an environment variable
/// holding the PEM. Never a value on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    File(PathBuf),
    Env(String),
}

impl KeySource {
    pub fn load(&self) -> Result<SigningKey, AttestError> {
        match self {
            KeySource::File(path) => {
                let text = std::fs::read(path).map_err(|source| AttestError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                SigningKey::from_pem(&text, &path.display().to_string())
            }
            KeySource::Env(var) => {
                let text = std::env::var(var).map_err(|_| AttestError::Key {
                    path: format!("${var}"),
                    reason: "the environment variable is not set".into(),
                })?;
                SigningKey::from_pem(text.as_bytes(), &format!("${var}"))
            }
        }
    }
}

/// Writes a new key pair into `dir`: `signing-key.pem` (PKCS#8, mode 0600)
/// and `signing-key.pub.pem` (SubjectPublicKeyInfo). Refuses to overwrite.
pub fn generate(dir: &Path, algorithm: Algorithm) -> Result<(PathBuf, PathBuf), AttestError> {
    let rng = SystemRandom::new();
    let failed = |what: &str| AttestError::Envelope(format!("key generation failed: {what}"));
    let pkcs8 = match algorithm {
        Algorithm::EcdsaP256 => {
            EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                .map_err(|_| failed("ECDSA P-256"))?
        }
        Algorithm::Ed25519 => {
            Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| failed("Ed25519"))?
        }
    };
    let private_pem = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.as_ref()));
    let key = SigningKey::from_pem(private_pem.as_bytes(), "generated key")?;
    std::fs::create_dir_all(dir).map_err(|source| AttestError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let private = dir.join("signing-key.pem");
    let public = dir.join("signing-key.pub.pem");
    for path in [&private, &public] {
        if path.exists() {
            return Err(AttestError::Key {
                path: path.display().to_string(),
                reason: "exists; refusing to overwrite a key".into(),
            });
        }
    }
    write_private(&private, private_pem.as_bytes())?;
    std::fs::write(&public, key.public().to_pem()).map_err(|source| AttestError::Io {
        path: public.display().to_string(),
        source,
    })?;
    Ok((private, public))
}

/// Creates the file readable and writable by its owner only, before any
/// key byte is written into it.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), AttestError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let io = |source| AttestError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = options.open(path).map_err(io)?;
    file.write_all(bytes).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_and_verify_and_refuse_others() {
        for algorithm in [Algorithm::EcdsaP256, Algorithm::Ed25519] {
            let dir = tempfile::tempdir().unwrap();
            let (private, public) = generate(dir.path(), algorithm).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&private).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600);
            }
            let key = KeySource::File(private.clone()).load().unwrap();
            let pubkey = PublicKey::from_file(&public).unwrap();
            assert_eq!(key.public().keyid, pubkey.keyid);
            assert_eq!(pubkey.algorithm, algorithm);
            let signature = key.sign(b"message").unwrap();
            assert!(pubkey.verifies(b"message", &signature));
            assert!(!pubkey.verifies(b"massage", &signature));
            assert!(generate(dir.path(), algorithm).is_err(), "no overwrite");
            // The key id is the SHA-256 of the SPKI DER.
            assert_eq!(pubkey.keyid, sha256_hex(&pubkey.spki_der()));
        }
    }

    #[test]
    fn openssl_keys_are_read() {
        // `openssl genpkey -algorithm ed25519` (PKCS#8 v1, no public key)
        // and its `openssl pkey -pubout`: RFC 8410's example key.
        let private = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        let public = b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
        let key = SigningKey::from_pem(private, "rfc8410.pem").unwrap();
        let pubkey = PublicKey::from_pem(public, "rfc8410.pub.pem").unwrap();
        assert_eq!(key.public().keyid, pubkey.keyid);
        assert!(pubkey.verifies(b"x", &key.sign(b"x").unwrap()));
    }

    #[test]
    fn wrong_key_kinds_say_what_to_do() {
        let sec1 = b"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n";
        let e = SigningKey::from_pem(sec1, "k.pem").unwrap_err().to_string();
        assert!(e.contains("openssl pkcs8 -topk8"), "{e}");
        let e = PublicKey::from_pem(b"nonsense", "p.pem")
            .unwrap_err()
            .to_string();
        assert!(e.contains("p.pem"), "{e}");
        let e = KeySource::Env("PROOFPACK_TEST_NO_SUCH_KEY".into())
            .load()
            .unwrap_err()
            .to_string();
        assert!(e.contains("$PROOFPACK_TEST_NO_SUCH_KEY"), "{e}");
    }
}
