//! Content hashes, named as OSCAL names them (`SHA-256`, `SHA3-512`, ...).

use sha2::Digest;

/// A hash algorithm that OSCAL's `hash/@algorithm` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha3_224,
    Sha3_256,
    Sha3_384,
    Sha3_512,
}

impl HashAlgorithm {
    /// Looks up OSCAL's spelling of an algorithm name (case-insensitive).
    pub fn from_oscal_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_uppercase().as_str() {
            "SHA-224" => Self::Sha224,
            "SHA-256" => Self::Sha256,
            "SHA-384" => Self::Sha384,
            "SHA-512" => Self::Sha512,
            "SHA3-224" => Self::Sha3_224,
            "SHA3-256" => Self::Sha3_256,
            "SHA3-384" => Self::Sha3_384,
            "SHA3-512" => Self::Sha3_512,
            _ => return None,
        })
    }

    /// Lower-case hex digest of `bytes`.
    pub fn hex_digest(self, bytes: &[u8]) -> String {
        fn hex<D: Digest>(bytes: &[u8]) -> String {
            to_hex(&D::digest(bytes))
        }
        match self {
            Self::Sha224 => hex::<sha2::Sha224>(bytes),
            Self::Sha256 => hex::<sha2::Sha256>(bytes),
            Self::Sha384 => hex::<sha2::Sha384>(bytes),
            Self::Sha512 => hex::<sha2::Sha512>(bytes),
            Self::Sha3_224 => hex::<sha3::Sha3_224>(bytes),
            Self::Sha3_256 => hex::<sha3::Sha3_256>(bytes),
            Self::Sha3_384 => hex::<sha3::Sha3_384>(bytes),
            Self::Sha3_512 => hex::<sha3::Sha3_512>(bytes),
        }
    }
}

impl HashAlgorithm {
    /// Lower-case hex digest of the file at `path`, and its size: read in
    /// 1 MiB pieces, so memory does not grow with the file (a month's
    /// evidence table is hundreds of MB).
    pub fn hex_digest_file(self, path: &std::path::Path) -> std::io::Result<(String, u64)> {
        fn stream<D: Digest>(path: &std::path::Path) -> std::io::Result<(String, u64)> {
            use std::io::Read;
            let mut file = std::fs::File::open(path)?;
            let mut digest = D::new();
            let mut buffer = vec![0u8; 1 << 20];
            let mut size = 0u64;
            loop {
                let read = file.read(&mut buffer)?;
                if read == 0 {
                    return Ok((to_hex(&digest.finalize()), size));
                }
                digest.update(&buffer[..read]);
                size += read as u64;
            }
        }
        match self {
            Self::Sha224 => stream::<sha2::Sha224>(path),
            Self::Sha256 => stream::<sha2::Sha256>(path),
            Self::Sha384 => stream::<sha2::Sha384>(path),
            Self::Sha512 => stream::<sha2::Sha512>(path),
            Self::Sha3_224 => stream::<sha3::Sha3_224>(path),
            Self::Sha3_256 => stream::<sha3::Sha3_256>(path),
            Self::Sha3_384 => stream::<sha3::Sha3_384>(path),
            Self::Sha3_512 => stream::<sha3::Sha3_512>(path),
        }
    }
}

/// Lower-case hex SHA-256 of the file at `path`, and its size, streamed.
pub fn sha256_file_hex(path: &std::path::Path) -> std::io::Result<(String, u64)> {
    HashAlgorithm::Sha256.hex_digest_file(path)
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    HashAlgorithm::Sha256.hex_digest(bytes)
}

fn to_hex(bytes: &[u8]) -> String {
    // A table, not `write!("{:02x}")`: ingest hashes every record.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            HashAlgorithm::Sha3_256.hex_digest(b"abc"),
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"
        );
    }

    #[test]
    fn oscal_names() {
        assert_eq!(
            HashAlgorithm::from_oscal_name("sha-512"),
            Some(HashAlgorithm::Sha512)
        );
        assert_eq!(HashAlgorithm::from_oscal_name("MD5"), None);
    }
}
