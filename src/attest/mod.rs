//! Signed packages: a DSSE envelope (the format of Sigstore/cosign
//! attestations) holding an in-toto Statement whose subjects are every
//! file of the package and whose predicate is SLSA Provenance v1 saying how
//! proofpack made it. Anyone with the public key can check who produced
//! the package and that nothing changed since.

pub mod dsse;
pub mod keys;
pub mod statement;

use thiserror::Error;

/// The envelope's file name in a package.
pub const ATTESTATION: &str = "attestation.dsse.json";

#[derive(Debug, Error)]
pub enum AttestError {
    #[error("{path}: {reason}")]
    Key { path: String, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Envelope(String),
}
