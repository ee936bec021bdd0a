//! One leaked secret reported by a scanner (gitleaks, trufflehog). The
//! secret itself is never kept: only where it is and what kind it is.

use serde::{Deserialize, Serialize};

use super::RawRef;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretFinding {
    /// `gitleaks` or `trufflehog`.
    pub tool: &'static str,
    /// The scanner's rule or detector (`aws-access-token`, `AWS`).
    pub rule: String,
    /// The file that holds the secret.
    pub file: Option<String>,
    pub line: Option<u64>,
    pub commit: Option<String>,
    pub repository: Option<String>,
    /// When the commit was made (µs, UTC), if the scanner says.
    pub committed_us: Option<i64>,
    /// Whether the scanner confirmed the secret works (trufflehog).
    pub verified: Option<bool>,
    /// A stable id that contains no part of the secret.
    pub fingerprint: String,
    pub source_ref: RawRef,
}
