//! An XLSX is a zip archive. Before any reader opens one, every entry is unpacked into
//! nothing (counting bytes, never keeping them) with a limit, so the sizes checked are the
//! real ones, not what the archive's headers claim: too much in all, or an entry that
//! compresses too well, and the file is refused as a zip bomb.

use std::io::{Cursor, Read};

use super::{FileError, MAX_RATIO, MAX_UNPACKED_BYTES};

/// Entries smaller than this unpacked are not judged by their ratio (tiny XML parts
/// compress very well and are harmless).
const RATIO_FLOOR: u64 = 1024 * 1024;

/// Checks the archive; `Ok` when a reader may open it.
pub fn check(bytes: &[u8]) -> Result<(), FileError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| FileError::Unreadable)?;
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|_| FileError::Unreadable)?;
        if entry.encrypted() {
            return Err(FileError::Unreadable);
        }
        let compressed = entry.compressed_size().max(1);
        let left = MAX_UNPACKED_BYTES.saturating_sub(total);
        // Claimed sizes first (cheap), then the real count.
        if entry.size() > left {
            return Err(FileError::ZipBomb);
        }
        let unpacked = std::io::copy(&mut (&mut entry).take(left + 1), &mut std::io::sink())
            .map_err(|_| FileError::Unreadable)?;
        if unpacked > left {
            return Err(FileError::ZipBomb);
        }
        if unpacked > RATIO_FLOOR && unpacked / compressed > MAX_RATIO {
            return Err(FileError::ZipBomb);
        }
        total += unpacked;
    }
    Ok(())
}
