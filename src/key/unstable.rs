//! Codec helpers that are public only with the `internals` feature (for this workspace's
//! fuzz targets and benchmarks; not covered by semver).

use super::Key;

/// Returns the encoding of an archived key as a new vector: the same bytes as
/// [`key_bytes`](super::key_bytes) of the value it archives.
#[inline]
#[cfg_attr(not(any(test, feature = "internals")), allow(dead_code))]
pub fn archived_key_bytes<K: Key>(archived: &K::Archived) -> Vec<u8> {
    let mut out = Vec::new();
    K::encode_archived_key(archived, &mut out);
    out
}

/// Appends to `buf` the [`prefix_successor`](super::prefix_successor) of `buf[start..]`,
/// without allocating a new vector. Returns the successor's start, or `None` (appending nothing) if there is none.
pub fn push_prefix_successor(buf: &mut Vec<u8>, start: usize) -> Option<usize> {
    let prefix = buf.get(start..)?;
    let last = prefix.iter().rposition(|&b| b != 0xFF)?;
    let at = buf.len();
    buf.extend_from_within(start..=start + last);
    let byte = buf.last_mut()?;
    *byte += 1; // cannot overflow: it was not 0xFF
    Some(at)
}
