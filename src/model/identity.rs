//! One non-human identity or credential from an inventory.

use serde::{Deserialize, Serialize};

use super::{CredentialType, RawRef};

/// An identity (a user, role, service account) or one of its credentials (an
/// access key, a certificate), as an inventory lists it or a log shows it
/// (an agent runtime, a consented OAuth client). Credentials name their
/// identity in `owner_id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    /// Whose it is: the provider's own, or another organisation's.
    pub ownership: Ownership,
    /// The other organisation (the vendor), when third-party and named.
    pub vendor: Option<String>,
    /// What showed a third-party ownership: the consent, the installation,
    /// the trust of another account. Empty for internal identities.
    pub ownership_reason: String,
    /// When its access must next be reviewed, where the inventory says.
    pub review_by_us: Option<i64>,
    /// For an AI agent (or an AI platform's credential): the platform
    /// (`Amazon Bedrock AgentCore`, `Microsoft Entra Agent ID`, `OpenAI`).
    pub agent_platform: Option<String>,
    /// The human or workload it acts for, where the record shows it.
    pub on_behalf_of: Option<String>,
    /// Shown by an audit log in passing rather than listed by an inventory
    /// (column `origin`: `log` or `inventory`).
    pub from_log: bool,
    pub source_ref: RawRef,
}

/// Whose identity it is (the internal / third-party split every evidence
/// package must treat apart: another organisation's NHI is compromised
/// when that organisation is, OWASP NHI3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ownership {
    /// The provider's own, or nothing in the input says otherwise.
    #[default]
    Internal,
    /// Another organisation's app, role or integration holding access.
    ThirdParty,
    /// The cloud or platform provider's own machinery (a managed control
    /// plane's users, a service agent), documented by the provider.
    Provider,
}

impl Ownership {
    pub fn as_str(self) -> &'static str {
        match self {
            Ownership::Internal => "internal",
            Ownership::ThirdParty => "third-party",
            Ownership::Provider => "provider",
        }
    }
}
