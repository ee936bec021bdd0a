//! Secrets: how a value is told to be one (`shape`, `rules`), what stands
//! in its place (`marker`), the values seen in the inputs (`seen`), masking
//! free text (`scrub`), and the gate that proves no secret is written
//! (`gate`). The rule files are found and pinned by `locate`.
//!
//! The rule set in force is installed once per process by the command that
//! located it; until then (library callers, unit tests) proofpack's own
//! rules alone apply.

pub mod gate;
pub mod locate;
pub mod marker;
pub mod rules;
pub mod scrub;
pub mod seen;
pub mod shape;

use std::sync::OnceLock;

use rules::RuleSet;

static ACTIVE: OnceLock<RuleSet> = OnceLock::new();

/// Makes `rules` the rule set every reader masks with. The first call wins
/// (a process reads one rule set).
pub fn install(rules: RuleSet) -> &'static RuleSet {
    let _ = ACTIVE.set(rules);
    active()
}

/// The installed rule set, or proofpack's own rules alone.
pub fn active() -> &'static RuleSet {
    ACTIVE.get().unwrap_or_else(|| RuleSet::built_in())
}
