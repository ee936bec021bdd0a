//! A package's evidence table received from elsewhere: any bytes as
//! `access_events.parquet`, read the way `query` and the checks read it
//! (row group by row group, filters pushed down to column statistics).
//! Whatever the bytes: an answer or an error naming the file, never a
//! panic; and what the pushed-down scan answers for a filter is exactly
//! what that filter keeps of every row it can read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proofpack::checks::aggregate::{read, stats::Needs};
use proofpack::model::Decision;
use proofpack::query::{scan, Filter};

fn filters() -> Vec<Filter> {
    vec![
        Filter {
            decision: Some(Decision::Deny),
            ..Filter::default()
        },
        Filter {
            principal: Some("role".into()),
            ..Filter::default()
        },
        Filter {
            resource: Some("s3".into()),
            source: Some("aws-cloudtrail".into()),
            ..Filter::default()
        },
        Filter {
            // 2026-10-28 .. 2026-10-30
            since: Some(1_793_145_600_000_000),
            until: Some(1_793_318_400_000_000),
            ..Filter::default()
        },
    ]
}

fuzz_target!(|data: &[u8]| {
    // polars' decoders panic on some corrupt pages and proofpack turns
    // those panics into errors; libFuzzer's hook, which aborts, is kept
    // for every other panic.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(proofpack::model::parquet_guard::quiet_decoder_panics);
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access_events.parquet");
    std::fs::write(&path, bytes).unwrap();
    let _ = read::event_stats(&path, &Needs::default());
    let Ok(files) = scan::locate(dir.path()) else {
        return;
    };
    let filters = filters();
    let filter = &filters[pick as usize % filters.len()];
    let limit = (pick & 0x80 != 0).then_some(3);
    let (Ok(all), Ok(found)) = (
        scan::scan(&files, &Filter::default(), None),
        scan::scan(&files, filter, limit),
    ) else {
        return;
    };
    let mut expected: Vec<_> = all.into_iter().filter(|e| filter.matches(e)).collect();
    if let Some(n) = limit {
        expected.truncate(n);
    }
    assert_eq!(found.len(), expected.len(), "{filter:?}");
});
