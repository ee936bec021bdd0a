//! One non-human identity or credential from an inventory.

use serde::{Deserialize, Serialize};

use super::{CredentialType, RawRef};

/// An identity (a user, role, service account) or one of its credentials (an
/// access key, a certificate), as an inventory lists it. Credentials name
/// their identity in `owner_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// Canonical id: the identity's ARN / e-mail / name; for a credential,
    /// its identity's id and the slot (`arn:...:user/ci#access_key_1`).
    pub id: String,
    /// `iam-user`, `root`, `access-key`, `certificate`, `service-account`, ...
    pub kind: String,
    /// `aws`, `gcp`, `kubernetes`, ...
    pub provider: &'static str,
    /// For a credential, the identity it belongs to.
    pub owner_id: Option<String>,
    /// The accountable person or team, where the inventory names one (an
    /// owner label, the generic inventory's `owner`).
    pub owner: Option<String>,
    /// Account, project or cluster.
    pub environment: Option<String>,
    /// µs since the epoch, UTC.
    pub created_us: Option<i64>,
    pub last_used_us: Option<i64>,
    pub last_rotated_us: Option<i64>,
    pub expires_us: Option<i64>,
    pub active: bool,
    pub credential_type: CredentialType,
    /// Why `credential_type` was chosen.
    pub credential_reason: String,
    /// Source-specific facts worth keeping (console password, MFA, last
    /// service used), as `key=value` pairs separated by `; `.
    pub details: String,
    pub source_ref: RawRef,
}
