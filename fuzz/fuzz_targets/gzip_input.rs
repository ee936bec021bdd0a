//! Gzip input: any bytes decode to themselves (not gzip), to their
//! decompressed content, to the part before a break (flagged), or to a
//! size error; a stream is never inflated past the limit.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use proofpack::ingest::reader;

const LIMIT: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    // Arbitrary bytes as they come.
    if let Ok(file) = reader::decode("input".into(), bytes.to_vec(), LIMIT) {
        assert!(file.bytes.len() as u64 <= LIMIT.max(bytes.len() as u64));
    }
    // A real gzip stream of the bytes, whole or cut short.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    let stream = gz.finish().unwrap();
    let cut = if pick & 1 == 0 {
        stream.len()
    } else {
        (pick as usize * 7) % stream.len()
    };
    match reader::decode("input.gz".into(), stream[..cut].to_vec(), LIMIT) {
        Ok(file) if cut == stream.len() => {
            assert!(file.truncated.is_none());
            let bom = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            assert_eq!(file.bytes, bom, "a whole stream decodes to its content");
        }
        Ok(file) => {
            let bom = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            if cut >= 2 {
                // Fewer than 2 bytes is not gzip at all, and passes through.
                assert!(bom.starts_with(&file.bytes) || file.truncated.is_none());
            }
        }
        Err(e) => assert!(bytes.len() as u64 > LIMIT || cut < stream.len(), "{e}"),
    }
});
