//! Deterministic OSCAL UUIDs: version 5 (SHA-1, name-based) in proofpack's
//! own namespace, from the parts that identify an object. The same inputs
//! give the same UUIDs run after run, so documents are byte-identical.

use uuid::Uuid;

/// proofpack's namespace: UUIDv5 of its URL in the RFC 4122 URL namespace.
fn namespace() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://proofpack.dev/oscal")
}

/// The UUID of an object named by `parts` (joined with a separator no part
/// contains in practice).
pub fn uuid(parts: &[&str]) -> String {
    Uuid::new_v5(&namespace(), parts.join("\u{1f}").as_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_distinct() {
        assert_eq!(uuid(&["a", "b"]), uuid(&["a", "b"]));
        assert_ne!(uuid(&["a", "b"]), uuid(&["ab"]));
        assert_eq!(uuid(&["x"]).as_bytes()[14], b'5', "version 5");
    }
}
