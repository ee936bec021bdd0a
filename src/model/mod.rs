//! The evidence model: the one vocabulary every later stage speaks.
//!
//! Ingestion fills plain Rust rows ([`AccessEvent`], [`Rejected`]); the
//! tables module turns them into polars frames with a fixed schema, written
//! as Parquet and CSV so an auditor can open them with any tool.

pub mod access_event;
pub mod grant;
pub mod identity;
pub mod parquet_guard;
pub mod secret_finding;
pub mod tables;

pub use access_event::{
    Access, AccessEvent, CredentialType, Decision, PrincipalType, RawRef, Rejected,
};
pub use grant::Grant;
pub use identity::{Identity, Ownership};
pub use secret_finding::SecretFinding;
