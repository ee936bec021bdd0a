//! The bounded YAML loader (RBAC, mesh and ServiceAccount manifests): any
//! text gives documents and at most one error with its position; aliases
//! and nesting stay within the loader's limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (documents, error) = proofpack::yaml::documents(text);
    for (i, doc) in documents.iter().enumerate() {
        assert!(doc.line >= 1, "document {i} has no line");
    }
    if let Some(e) = error {
        assert!(e.line >= 1 && !e.reason.is_empty());
    }
});
