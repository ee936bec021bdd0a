//! One statement of an access policy: what a principal may (or may not) do.

use serde::{Deserialize, Serialize};

use super::RawRef;

/// A policy statement, flattened, with the flags the checks read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    /// Who holds it (role / user / group ARN), when the input says.
    pub principal: Option<String>,
    /// The policy it comes from (name or ARN; a file's stem for a bare document).
    pub policy: String,
    /// `permission` (what the holder may do) or `trust` (who may assume a role).
    pub kind: &'static str,
    /// `Allow` or `Deny`.
    pub effect: String,
    /// Actions, space-separated; with `not_action`, the actions excluded.
    pub actions: String,
    pub not_action: bool,
    /// Resources, space-separated (for trust statements, the principals trusted).
    pub resources: String,
    pub not_resource: bool,
    pub has_conditions: bool,
    pub wildcard_action: bool,
    pub wildcard_resource: bool,
    /// Equivalent to full administrator access.
    pub admin: bool,
    /// Why it matters, `; `-separated (`iam:PassRole on *`, `any principal may assume`).
    pub flags: String,
    pub source_ref: RawRef,
}
