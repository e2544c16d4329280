//! Reading a file into memory, gunzipping it when it starts with the gzip magic.

use std::io::Read;
use std::path::Path;

use crate::error::{GraphError, Result};

pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The file's bytes, decompressed if it is gzip (detected from the content, not the name).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| GraphError::io(path, e))?;
    if raw.starts_with(&GZIP_MAGIC) {
        gunzip(path, &raw)
    } else {
        Ok(raw)
    }
}

/// Decompresses gzip content (one or more members).
pub(crate) fn gunzip(path: &Path, raw: &[u8]) -> Result<Vec<u8>> {
    // Mainnet snapshots compress about 7:1; reserving that avoids regrowth copies.
    let mut out = Vec::with_capacity(raw.len().saturating_mul(8));
    flate2::read::MultiGzDecoder::new(raw)
        .read_to_end(&mut out)
        .map_err(|source| GraphError::Gzip {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(out)
}
