//! Parquet from elsewhere, read without trusting it. polars' Parquet
//! reader trusts the lengths a file gives: a list or string length in the
//! footer, a page's value count. A corrupt or hostile file can make it
//! assert (a panic, turned into an error here) or ask for an allocation of
//! many gigabytes, which aborts the process where no error handling can
//! reach. Each read checks first what polars would trust (the footer's
//! structure and every length in it, the headers of the pages it decodes)
//! and runs the decode so that a panic is an error naming the file.
//! Found by the `evidence_parquet` fuzz target.

use polars::prelude::*;
use polars_parquet::parquet::metadata::FileMetadata;

/// Footers larger than this are refused (real ones are kilobytes to a few
/// megabytes, even for thousands of row groups).
const MAX_FOOTER: u64 = 64 << 20;
/// Elements one footer list may declare: bounds what polars reserves for it.
const MAX_LIST: u64 = 1 << 20;
/// Nesting of footer structures (the format nests a handful deep).
const MAX_DEPTH: usize = 64;

/// Refuses a page whose header gives a negative value count: polars'
/// decoder casts it to a length near 2^64 and the allocation for it aborts
/// the process, which no error handling can catch (a fuzz finding). Reads
/// the page headers of `columns` (every column when `None`) of every row
/// group in `metadata`, without decompressing any page.
pub fn check_page_headers(
    source: &mut (impl std::io::Read + std::io::Seek),
    metadata: &FileMetadata,
    columns: Option<&[&str]>,
) -> PolarsResult<()> {
    use polars_parquet::parquet::page::CompressedPage;
    use polars_parquet::parquet::read::PageReader;
    let size = source.seek(std::io::SeekFrom::End(0))?;
    for group in &metadata.row_groups {
        let chunks: Vec<_> = match columns {
            None => group.parquet_columns().iter().collect(),
            Some(names) => names
                .iter()
                .filter_map(|n| group.columns_under_root_iter(n))
                .flatten()
                .collect(),
        };
        for chunk in chunks {
            let column = chunk.descriptor().path_in_schema.join(".");
            let range = chunk.byte_range();
            if range.start > range.end || range.end > size {
                return Err(corrupt(format!(
                    "column {column} lies outside the file ({}..{} of {size} bytes)",
                    range.start, range.end
                )));
            }
            let mut bytes = vec![0u8; (range.end - range.start) as usize];
            source.seek(std::io::SeekFrom::Start(range.start))?;
            source.read_exact(&mut bytes)?;
            let pages = PageReader::new(
                std::io::Cursor::new(polars_buffer::Buffer::from(bytes)),
                chunk,
                Vec::new(),
                usize::MAX,
            );
            for page in pages {
                let page = page.map_err(|e| corrupt(format!("column {column}: {e}")))?;
                if let CompressedPage::Data(page) = page {
                    if page.num_values() > i32::MAX as usize {
                        return Err(corrupt(format!(
                            "column {column}: a page header gives a negative number of values"
                        )));
                    }
                }
            }
        }
    }
    source.seek(std::io::SeekFrom::Start(0))?;
    Ok(())
}

/// Reads a whole Parquet source (or `columns` of it) after checking its
/// page headers, through `decoded`.
pub fn checked_read(
    mut source: impl polars::io::mmap::MmapBytesReader,
    columns: Option<&[&str]>,
) -> PolarsResult<DataFrame> {
    let metadata = read_metadata(&mut source)?;
    decoded(|| {
        check_page_headers(&mut source, &metadata, columns)?;
        // The footer checked above, not parsed a second time.
        let mut reader = ParquetReader::new(source);
        reader.set_metadata(std::sync::Arc::new(metadata));
        match columns {
            Some(names) => reader
                .with_columns(Some(names.iter().map(|c| c.to_string()).collect()))
                .finish(),
            None => reader.finish(),
        }
    })
}

fn corrupt(why: String) -> PolarsError {
    PolarsError::ComputeError(format!("corrupt Parquet ({why})").into())
}

thread_local! {
    /// Whether this thread is inside `decoded`, whose panics are errors.
    static DECODING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Decodes in progress on any thread: polars decodes on its own thread
/// pool, and a panic there reaches `decoded` on the calling thread.
static DECODES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether a panic on this thread is a decoder's that `decoded` catches:
/// inside `decoded`, or on polars' pool while a decode is in progress.
fn in_decode() -> bool {
    DECODING.get()
        || (DECODES.load(std::sync::atomic::Ordering::SeqCst) > 0
            && std::thread::current()
                .name()
                .is_some_and(|n| n.starts_with("polars")))
}

/// Keeps the panic hook in place (`previous`, the one set now) for every
/// panic but a decoder's inside `decoded`, which becomes an error naming
/// the file: without it, a corrupt file would print a panic message and a
/// backtrace above that error. For the binary's `main`, and fuzz targets
/// (whose hook aborts on any other panic).
pub fn quiet_decoder_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !in_decode() {
            previous(info);
        }
    }));
}

/// Runs a Parquet decode, turning a decoder panic into an error: polars'
/// decoders assert on some corrupt pages (a dictionary index past its
/// dictionary, a length that does not match), and a file from elsewhere
/// (an input, a package's evidence, a state folder) must get an error
/// naming it, never a crash.
pub fn decoded<T>(decode: impl FnOnce() -> PolarsResult<T>) -> PolarsResult<T> {
    let outer = DECODING.replace(true);
    DECODES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode));
    DECODES.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    DECODING.set(outer);
    result.unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("the decoder stopped");
        // The assertion's own text spans lines (left/right values).
        Err(corrupt(why.lines().next().unwrap_or(why).to_string()))
    })
}

/// The file's footer, after checking that polars can parse it without an
/// outsized allocation.
pub fn read_metadata(
    source: &mut (impl std::io::Read + std::io::Seek),
) -> PolarsResult<FileMetadata> {
    check_footer(source)?;
    decoded(|| {
        polars_parquet::parquet::read::read_metadata(source).map_err(|e| corrupt(e.to_string()))
    })
}

/// Walks the footer's Thrift (compact protocol) structure: every field
/// type known, every string and list no longer than the bytes left, every
/// list within MAX_LIST, nesting within MAX_DEPTH.
fn check_footer(source: &mut (impl std::io::Read + std::io::Seek)) -> PolarsResult<()> {
    use std::io::SeekFrom;
    let size = source.seek(SeekFrom::End(0))?;
    if size < 12 {
        return Err(corrupt(format!("{size} bytes, too short for Parquet")));
    }
    let mut tail = [0u8; 8];
    source.seek(SeekFrom::End(-8))?;
    source.read_exact(&mut tail)?;
    if &tail[4..] != b"PAR1" {
        return Err(corrupt("no PAR1 at the end".into()));
    }
    let length = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if length + 12 > size || length > MAX_FOOTER {
        return Err(corrupt(format!(
            "the footer claims {length} bytes of a {size}-byte file"
        )));
    }
    let mut footer = vec![0u8; length as usize];
    source.seek(SeekFrom::Start(size - 8 - length))?;
    source.read_exact(&mut footer)?;
    source.seek(SeekFrom::Start(0))?;
    let mut walk = Thrift {
        bytes: &footer,
        at: 0,
        depth: 0,
    };
    walk.structure()
        .map_err(|why| corrupt(format!("footer byte {}: {why}", walk.at)))
}

/// A reader of Thrift's compact protocol that only checks.
struct Thrift<'a> {
    bytes: &'a [u8],
    at: usize,
    depth: usize,
}

impl Thrift<'_> {
    fn left(&self) -> u64 {
        (self.bytes.len() - self.at) as u64
    }

    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.bytes.get(self.at).ok_or("ends early")?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a varint runs past 10 bytes".into())
    }

    fn skip(&mut self, n: u64) -> Result<(), String> {
        if n > self.left() {
            return Err(format!("a length of {n} with {} bytes left", self.left()));
        }
        self.at += n as usize;
        Ok(())
    }

    /// One value of compact type `ty`; `in_list` for booleans, which
    /// carry a byte in a list and none in a field.
    fn value(&mut self, ty: u8, in_list: bool) -> Result<(), String> {
        match ty {
            1 | 2 if in_list => self.skip(1),
            1 | 2 => Ok(()),
            3 => self.skip(1),
            4..=6 => self.varint().map(drop),
            7 => self.skip(8),
            8 => {
                let n = self.varint()?;
                self.skip(n)
            }
            9 | 10 => self.list(),
            11 => self.map(),
            12 => self.structure(),
            _ => Err(format!("unknown Thrift type {ty}")),
        }
    }

    fn count(&mut self, n: u64, per: u64) -> Result<u64, String> {
        if n > MAX_LIST || n.saturating_mul(per) > self.left() {
            return Err(format!(
                "a list of {n} elements with {} bytes left",
                self.left()
            ));
        }
        Ok(n)
    }

    fn list(&mut self) -> Result<(), String> {
        let head = self.byte()?;
        let n = match head >> 4 {
            15 => self.varint()?,
            n => u64::from(n),
        };
        let ty = head & 0x0f;
        for _ in 0..self.count(n, 1)? {
            self.value(ty, true)?;
        }
        Ok(())
    }

    fn map(&mut self) -> Result<(), String> {
        let n = self.varint()?;
        if n == 0 {
            return Ok(());
        }
        let types = self.byte()?;
        for _ in 0..self.count(n, 2)? {
            self.value(types >> 4, true)?;
            self.value(types & 0x0f, true)?;
        }
        Ok(())
    }

    fn structure(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("structures nest too deep".into());
        }
        loop {
            let head = self.byte()?;
            if head == 0 {
                break;
            }
            if head >> 4 == 0 {
                // A field id given in full (zigzag i16) rather than as a delta.
                self.varint()?;
            }
            self.value(head & 0x0f, false)?;
        }
        self.depth -= 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(bytes: &[u8]) -> Result<(), String> {
        Thrift {
            bytes,
            at: 0,
            depth: 0,
        }
        .structure()
    }

    #[test]
    fn a_footer_walk_accepts_well_formed_thrift_and_refuses_outsized_lengths() {
        // struct { 1: i32 = 1, 2: list<i32> [1, 2], 3: binary "ab" } stop
        assert_eq!(
            walk(&[0x15, 0x02, 0x19, 0x25, 0x02, 0x04, 0x18, 0x02, b'a', b'b', 0x00]),
            Ok(())
        );
        // A list claiming 2^20 + 1 elements, a string longer than the rest.
        assert!(walk(&[0x19, 0xf5, 0x81, 0x80, 0x40, 0x00]).is_err());
        assert!(walk(&[0x18, 0x7f, b'a', 0x00]).is_err());
        // Unknown types, truncation, and nesting past the limit.
        assert!(walk(&[0x1d, 0x00]).is_err());
        assert!(walk(&[0x15]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n(0x1c, 100)
            .chain(std::iter::repeat_n(0, 101))
            .collect();
        assert!(walk(&deep).unwrap_err().contains("too deep"));
    }

    #[test]
    fn every_file_proofpack_writes_passes_the_checks() {
        let mut frame = df!("time" => [1i64, 2, 3], "who" => ["a", "b", "a"]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        crate::model::tables::write_table(dir.path(), "t", &mut frame, 10).unwrap();
        let read = checked_read(
            std::fs::File::open(dir.path().join("t.parquet")).unwrap(),
            None,
        )
        .unwrap();
        assert_eq!(read.height(), 3);
    }
}
