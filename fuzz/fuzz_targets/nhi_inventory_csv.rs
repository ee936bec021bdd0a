//! The generic NHI inventory CSV (`id,kind,...`): every data row is
//! inventoried or rejected with its line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proofpack::ingest::nhi_inventory;

fuzz_target!(|data: &[u8]| {
    let _ = nhi_inventory::detect_csv(data);
    let inventory = nhi_inventory::from_csv("inventory.csv", data);
    assert_eq!(
        inventory.inventoried + inventory.rejected.len(),
        inventory.entries,
        "every row is inventoried or rejected"
    );
    for reject in &inventory.rejected {
        assert!(reject.raw_ref.position.starts_with("line "));
    }
});
