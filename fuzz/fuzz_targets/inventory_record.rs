//! One JSON document handed to every inventory, policy, scanner and
//! Kubernetes-object reader, whether or not its detector would claim it:
//! each must answer with rows, a reason or nothing, never panic; entry
//! lists account for every entry.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proofpack::ingest::{
    aws_iam_policy, gcp_iam_policy, gcp_inventory, kubernetes, nhi_inventory, okta_inventory,
    secret_scanners, spire,
};
use proofpack::model::RawRef;

fuzz_target!(|data: &[u8]| {
    let Ok(record) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let raw_ref = RawRef {
        file: "inventory.json".into(),
        position: "record 1".into(),
        sha256: String::new(),
    };
    let _ = aws_iam_policy::detect(&record);
    let _ = aws_iam_policy::parse(&record, &raw_ref.file, &raw_ref);
    let _ = gcp_iam_policy::detect(&record);
    let _ = gcp_iam_policy::grants(&record, &raw_ref.file, &raw_ref);
    let _ = gcp_inventory::detect(&record);
    let _ = gcp_inventory::identities(&record, &raw_ref);
    let _ = kubernetes::detect(&record);
    let _ = kubernetes::parse(&record, &raw_ref);
    let _ = okta_inventory::detect(&record);
    if let okta_inventory::Object::Users(rows) = okta_inventory::parse(&record, &raw_ref) {
        assert_eq!(rows.len(), 1, "one user object is one identity");
    }
    let _ = secret_scanners::detect(&record);
    for tool in [secret_scanners::GITLEAKS, secret_scanners::TRUFFLEHOG] {
        if let Ok(finding) = secret_scanners::finding(tool, &record, &raw_ref) {
            // Scanner reports carry the secret itself: it is never kept.
            if let Some(secret) = record.get("Secret").and_then(|s| s.as_str()) {
                if secret.len() >= 8 {
                    assert!(!format!("{finding:?}").contains(secret), "a secret was copied");
                }
            }
        }
    }
    for inventory in [
        spire::detect(&record).then(|| spire::entries(&record, &raw_ref)),
        nhi_inventory::detect_json(&record).then(|| nhi_inventory::from_json(&record, &raw_ref)),
    ]
    .into_iter()
    .flatten()
    {
        assert_eq!(
            inventory.entries,
            inventory.inventoried + inventory.rejected.len(),
            "every entry is inventoried or rejected"
        );
    }
});
