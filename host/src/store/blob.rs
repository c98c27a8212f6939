//! The exact bytes a plugin read and wrote, kept compressed.
//!
//! A decision is only provable if the very request the module saw can be fed to it again, and
//! a batch's request is a megabyte of JSON shared by a thousand decisions; zstd shrinks that
//! JSON about tenfold. Packing is a pure function so callers run it on the worker threads that
//! made the call, not inside the single write transaction.

use sha2::{Digest, Sha256};

/// zstd's frame magic number; rows written before compression hold raw JSON, which starts
/// with `{` and so can never be mistaken for a frame.
pub(crate) const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Level 1: batches must not wait on compression; higher levels gain little on JSON.
const LEVEL: i32 = 1;

/// Bytes as stored: their SHA-256 (of the uncompressed bytes) and the compressed frame.
#[derive(Debug, Clone)]
pub struct Packed {
    pub sha256: String,
    pub bytes: Vec<u8>,
}

pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Below this size bytes are kept raw: a one-employee request or answer is under a kilobyte,
/// zstd saves a few hundred bytes of it, and building the Huffman tables for it is a visible
/// share of the CPU of an HTTP appraisal.
const COMPRESS_FROM: usize = 2048;

/// Compresses `raw` (unless it is small); an in-memory zstd encode only fails on allocation,
/// where keeping the raw bytes (readable by [`unpack`]) is still correct.
pub fn pack(raw: &[u8]) -> Packed {
    if raw.len() < COMPRESS_FROM {
        return Packed {
            sha256: sha256_hex(raw),
            bytes: raw.to_vec(),
        };
    }
    thread_local! {
        // A compression context is ~1 MB of tables to set up; every call on the same worker
        // thread reuses one.
        static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
            std::cell::RefCell::new(zstd::bulk::Compressor::new(LEVEL).ok());
    }
    let bytes = COMPRESSOR
        .with(|c| c.borrow_mut().as_mut().and_then(|c| c.compress(raw).ok()))
        .unwrap_or_else(|| raw.to_vec());
    Packed {
        sha256: sha256_hex(raw),
        bytes,
    }
}

/// The original bytes of a stored row, compressed or (older rows) raw.
pub fn unpack(stored: &[u8]) -> Result<Vec<u8>, String> {
    if !stored.starts_with(&ZSTD_MAGIC) {
        return Ok(stored.to_vec());
    }
    zstd::stream::decode_all(stored).map_err(|e| format!("compressed bytes are unreadable: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_raw_rows() {
        let json = br#"{"abi":1,"hook":"appraise","cases":[]}"#.repeat(200);
        let p = pack(&json);
        assert!(p.bytes.len() < json.len() / 5, "{} bytes", p.bytes.len());
        assert_eq!(unpack(&p.bytes).unwrap(), json);
        assert_eq!(p.sha256, sha256_hex(&json));
        assert_eq!(unpack(b"{\"raw\":true}").unwrap(), b"{\"raw\":true}");
        let mut broken = p.bytes.clone();
        broken.truncate(8);
        assert!(unpack(&broken).is_err());
    }

    #[test]
    fn small_bytes_are_kept_raw() {
        let json = br#"{"abi":1,"hook":"appraise","cases":[{"nip":"199001012015031001"}]}"#;
        let p = pack(json);
        assert_eq!(p.bytes, json);
        assert_eq!(unpack(&p.bytes).unwrap(), json);
        assert_eq!(p.sha256, sha256_hex(json));
    }
}
