//! `proofpack.toml`: any text is a config or an error naming the file and
//! what is wrong, never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use proofpack::checks::catalogue::Catalogue;
use proofpack::config::Config;

fuzz_target!(|data: &[u8]| {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    let catalogue = CATALOGUE.get_or_init(|| Catalogue::built_in().expect("built-in catalogue"));
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Config::parse(text, "proofpack.toml", catalogue) {
        assert!(e.to_string().contains("proofpack.toml"), "{e}");
    }
});
