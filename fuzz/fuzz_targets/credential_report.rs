//! AWS IAM credential reports, as the CSV AWS writes and as the JSON of
//! `get-credential-report` (base64 content): every data row is inventoried
//! or rejected.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proofpack::ingest::aws_credential_report;

fuzz_target!(|data: &[u8]| {
    let _ = aws_credential_report::detect(data);
    let csv = match aws_credential_report::csv_from_json(data) {
        Some(Ok(csv)) => csv,
        Some(Err(reason)) => {
            assert!(!reason.is_empty());
            return;
        }
        None => data.to_vec(),
    };
    let report = aws_credential_report::parse("credential-report.csv", &csv);
    assert_eq!(
        report.inventoried + report.rejected.len(),
        report.rows,
        "every row is inventoried or rejected"
    );
});
