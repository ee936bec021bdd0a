//! The OSCAL validator on any bytes: tape, NIST schema, reference checks and
//! NIST's and FedRAMP's Metaschema constraints. Every outcome is a report
//! with a status, never a panic.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use proofpack::oscal::constraints::{ConstraintOptions, Selection};
use proofpack::oscal::schema_store::SchemaStore;
use proofpack::oscal::validate::{validate_bytes, ValidateOptions};

fn shared() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/oscal"))
}

fuzz_target!(|data: &[u8]| {
    static STORE: OnceLock<SchemaStore> = OnceLock::new();
    let store = STORE.get_or_init(|| {
        SchemaStore::locate(Some(&shared().join("schemas"))).expect("NIST's schemas in ../shared")
    });
    let options = ValidateOptions {
        max_bytes: 4 << 20,
        constraints: ConstraintOptions {
            selection: Selection::All,
            metaschema_dir: Some(shared().join("metaschema")),
            schema_dir: Some(shared().join("schemas")),
            fedramp_dir: Some(shared().join("fedramp")),
        },
        ..ValidateOptions::default()
    };
    let report = validate_bytes("document.json", data, None, false, store, &options);
    let _ = format!("{report:?}");
});
