//! One machine-to-machine (or human) access, as every source is normalised to.

use serde::{Deserialize, Serialize};

/// The audit-log formats an access event can come from, by the name its
/// `source` column holds (each ingest reader's `SOURCE`).
pub const AUDIT_SOURCES: [&str; 14] = [
    "aws-cloudtrail",
    "k8s-audit",
    "gcp-audit",
    "entra-signin",
    "entra-audit",
    "azure-activity",
    "ocsf",
    "github-audit",
    "okta-system-log",
    "openai-audit",
    "bedrock-agentcore",
    "bedrock-invocation",
    "anthropic-audit",
    "google-workspace",
];

/// The static name of a source, for tables read back from disk.
pub fn audit_source(name: &str) -> Option<&'static str> {
    AUDIT_SOURCES.into_iter().find(|s| *s == name)
}

/// Who acted, by kind. The rule per source is in each ingest module and in
/// the `principal_reason` column of every row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalType {
    /// Code running as itself: a pod's service account, a role a job assumes.
    Workload,
    /// A cloud or platform service acting on its own behalf.
    Service,
    /// An AI agent: an agent platform's own identity (a Bedrock AgentCore
    /// runtime, an Entra agent identity) or a caller whose user agent names
    /// an agent framework (see `ingest::agent`).
    Agent,
    Human,
    /// No identity at all: an unauthenticated request (CloudTrail's
    /// `ANONYMOUS_PRINCIPAL`, Kubernetes' `system:anonymous`).
    Anonymous,
    Unknown,
}

/// Whether the credential expires by itself within hours.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum CredentialType {
    /// Short-lived and issued per session: STS keys, bound tokens, OIDC federation.
    Ephemeral,
    /// Long-lived until someone rotates it: IAM user keys, legacy tokens, client secrets.
    Static,
    #[default]
    Unknown,
}

/// What the policy decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Deny,
    /// The call failed for another reason (throttled, not found, server error).
    Error,
}

macro_rules! names {
    ($ty:ty { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),* }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($name => Some(Self::$variant),)* _ => None }
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

names!(PrincipalType { Workload => "workload", Service => "service", Agent => "agent", Human => "human", Anonymous => "anonymous", Unknown => "unknown" });
names!(CredentialType { Ephemeral => "ephemeral", Static => "static", Unknown => "unknown" });
names!(Decision { Allow => "allow", Deny => "deny", Error => "error" });

/// Where a row came from: enough to open the original record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawRef {
    /// The input as given (path, or URL), and for archives the member.
    pub file: String,
    /// `line N` for line-delimited input, `record N` (1-based) for arrays and
    /// wrappers, with the byte offset of the record where known.
    pub position: String,
    /// SHA-256 of the raw record's bytes as they stand in the input.
    pub sha256: String,
}

/// What a source says about one access, normalised: who, with which
/// credential, did what to which resource, with which outcome, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Access {
    /// Microseconds since the Unix epoch, UTC.
    pub time_us: i64,
    /// The record's own event id, when it has one.
    pub event_id: Option<String>,
    /// Canonical identity: an IAM role or user ARN (session split out),
    /// `system:serviceaccount:NS:NAME`, a service-account e-mail, an app id.
    pub principal_id: String,
    pub principal_type: PrincipalType,
    /// Why `principal_type` was chosen.
    pub principal_reason: String,
    /// The session name of an assumed role, when the log gives one.
    pub session_name: Option<String>,
    /// An identifier of the credential (access key id, token id, key name),
    /// never a secret value.
    pub credential_id: Option<String>,
    pub credential_type: CredentialType,
    /// Why `credential_type` was chosen, from what the log says.
    pub credential_reason: String,
    /// How the caller authenticated (`access-key`, `web-identity`, `bound-token`, ...).
    pub auth_method: String,
    pub action: String,
    pub resource: Option<String>,
    pub decision: Decision,
    /// The source's own words for the outcome (error code and message).
    pub decision_reason: Option<String>,
    pub source_address: Option<String>,
    pub user_agent: Option<String>,
    /// Cloud account, project or tenant.
    pub account: Option<String>,
    /// Region, cluster or other environment the call landed in.
    pub environment: Option<String>,
}

/// One normalised access record: the access, the format it was read from,
/// and where the original is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessEvent {
    /// The source format (`aws-cloudtrail`, `k8s-audit`, ...).
    pub source: &'static str,
    #[serde(flatten)]
    pub access: Access,
    pub raw_ref: RawRef,
}

/// A record that could not be normalised, with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    pub raw_ref: RawRef,
    /// The format the record was read as, if it was recognised.
    pub source: Option<&'static str>,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in [
            PrincipalType::Workload,
            PrincipalType::Service,
            PrincipalType::Agent,
            PrincipalType::Human,
            PrincipalType::Anonymous,
            PrincipalType::Unknown,
        ] {
            assert_eq!(PrincipalType::parse(t.as_str()), Some(t));
        }
        assert_eq!(Decision::parse("deny"), Some(Decision::Deny));
        assert_eq!(
            CredentialType::parse("static"),
            Some(CredentialType::Static)
        );
        assert_eq!(CredentialType::parse("weird"), None);
    }
}
