//! [`Checksummed`]: end-to-end checksums over any backend.
//!
//! Wrapping a backend in `Checksummed` stores every value as `value ++ crc32(key ++ value)`
//! (CRC-32/ISO-HDLC, 4 bytes little-endian) and verifies the checksum on every read, so bytes
//! that changed on disk (or a value that moved to another key) are
//! [`BackendError::ChecksumMismatch`] instead of data, even when they would still pass the
//! typed layer's archive validation. Reads stay zero-copy: a guard is the inner guard, showing
//! all but the last 4 bytes.
//!
//! The wrapper is a backend like any other (it passes the conformance kit), so it works on
//! redb, sled, memory and custom backends alike. A store written through it must always be
//! opened through it: the typed layer records the choice in its format tag and refuses the
//! other way with a clear error.
//!
//! With `netabase_store`: `Store::<Def, Checksummed<RedbBackend>>::open(config)` (through
//! `BackendStore`), or `Store::from_backend(Checksummed::new(backend))` for any backend; the
//! `netabase_store::integrity` module docs show damage caught by it.

use std::ops::Bound;

use crate::{
    Backend, BackendError, Capabilities, Direction, ReadTable, ReadTransaction, Result,
    StableBytes, WriteTable, WriteTransaction,
};

/// The bytes a checksum adds to every value.
pub const CHECKSUM_LEN: usize = 4;

/// A backend whose every value carries a checksum of its key and value, verified on read.
/// See the [module docs](self).
#[derive(Debug)]
pub struct Checksummed<B>(B);

impl<B> Checksummed<B> {
    /// Wraps `backend`.
    pub fn new(backend: B) -> Self {
        Checksummed(backend)
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &B {
        &self.0
    }

    /// Unwraps the backend.
    pub fn into_inner(self) -> B {
        self.0
    }
}

fn checksum(key: &[u8], value: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(key);
    hasher.update(value);
    hasher.finalize().to_le_bytes()
}

/// Checks `stored` (value ++ checksum) against `key`.
#[inline]
fn verify(table: &str, key: &[u8], stored: &[u8]) -> Result<()> {
    let ok = stored
        .len()
        .checked_sub(CHECKSUM_LEN)
        .and_then(|at| stored.split_at_checked(at))
        .is_some_and(|(value, sum)| checksum(key, value) == sum);
    if ok {
        Ok(())
    } else {
        Err(mismatch(table, key))
    }
}

#[cold]
#[inline(never)]
fn mismatch(table: &str, key: &[u8]) -> BackendError {
    BackendError::ChecksumMismatch {
        table: table.to_owned(),
        key: key.to_vec(),
    }
}

impl<B: Backend> Backend for Checksummed<B> {
    type ReadTxn<'db>
        = Txn<B::ReadTxn<'db>>
    where
        Self: 'db;
    type WriteTxn<'db>
        = Txn<B::WriteTxn<'db>>
    where
        Self: 'db;

    /// The inner backend's, with the entry limit lowered by the checksum and `checksums` set.
    const CAPABILITIES: Capabilities = {
        let inner = B::CAPABILITIES;
        let max = match inner.max_entry_len {
            Some(max) => Some(max.saturating_sub(CHECKSUM_LEN)),
            None => None,
        };
        inner.with_max_entry_len(max).with_checksums(true)
    };

    fn begin_read(&self) -> Result<Self::ReadTxn<'_>> {
        self.0.begin_read().map(Txn)
    }

    fn begin_write(&self) -> Result<Self::WriteTxn<'_>> {
        self.0.begin_write().map(Txn)
    }

    fn flush(&self) -> Result<()> {
        self.0.flush()
    }
}

/// A transaction of a [`Checksummed`] backend.
#[derive(Debug)]
pub struct Txn<T>(T);

impl<T: ReadTransaction> ReadTransaction for Txn<T> {
    type Table<'t>
        = Table<T::Table<'t>>
    where
        Self: 't;

    fn open_table(&self, name: &str) -> Result<Self::Table<'_>> {
        Ok(Table::new(self.0.open_table(name)?, name))
    }
}

impl<T: WriteTransaction> WriteTransaction for Txn<T> {
    type Table<'t>
        = Table<T::Table<'t>>
    where
        Self: 't;

    fn open_table(&self, name: &str) -> Result<Self::Table<'_>> {
        Ok(Table::new(self.0.open_table(name)?, name))
    }

    fn commit(self) -> Result<()> {
        self.0.commit()
    }

    fn abort(self) -> Result<()> {
        self.0.abort()
    }
}

/// A table of a [`Checksummed`] backend.
#[derive(Debug)]
pub struct Table<T> {
    inner: T,
    name: Box<str>,
    /// The value being written, with its checksum (reused across inserts).
    buf: Vec<u8>,
}

impl<T> Table<T> {
    fn new(inner: T, name: &str) -> Self {
        Table {
            inner,
            name: name.into(),
            buf: Vec::new(),
        }
    }
}

/// A guard of a [`Checksummed`] table: the inner guard, without the checksum for values.
#[derive(Debug)]
pub struct Guard<G> {
    inner: G,
    /// Bytes hidden at the end: [`CHECKSUM_LEN`] for values, 0 for keys.
    hidden: usize,
}

impl<G: AsRef<[u8]>> AsRef<[u8]> for Guard<G> {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        let bytes = self.inner.as_ref();
        bytes
            .get(..bytes.len().saturating_sub(self.hidden))
            .unwrap_or_default()
    }
}

// SAFETY: `as_ref` is a fixed-length prefix (`hidden` never changes) of the inner guard's
// bytes, which the inner guard's own `StableBytes` promise keeps unchanged while it lives.
#[allow(unsafe_code)]
unsafe impl<G: StableBytes> StableBytes for Guard<G> {}

/// A range of a [`Checksummed`] table: verifies every value it yields.
pub struct Range<'g, R> {
    inner: R,
    table: &'g str,
}

impl<'g, G: AsRef<[u8]>, R: Iterator<Item = Result<(G, G)>>> Iterator for Range<'g, R> {
    type Item = Result<(Guard<G>, Guard<G>)>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        Some(self.inner.next()?.and_then(|(key, value)| {
            verify(self.table, key.as_ref(), value.as_ref())?;
            Ok((
                Guard {
                    inner: key,
                    hidden: 0,
                },
                Guard {
                    inner: value,
                    hidden: CHECKSUM_LEN,
                },
            ))
        }))
    }
}

impl<T: ReadTable> ReadTable for Table<T> {
    type Guard<'g>
        = Guard<T::Guard<'g>>
    where
        Self: 'g;
    type Range<'g>
        = Range<'g, T::Range<'g>>
    where
        Self: 'g;

    #[inline]
    fn get(&self, key: &[u8]) -> Result<Option<Self::Guard<'_>>> {
        match self.inner.get(key)? {
            Some(value) => {
                verify(&self.name, key, value.as_ref())?;
                Ok(Some(Guard {
                    inner: value,
                    hidden: CHECKSUM_LEN,
                }))
            }
            None => Ok(None),
        }
    }

    fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<Self::Range<'_>> {
        Ok(Range {
            inner: self.inner.range(lower, upper, direction)?,
            table: &self.name,
        })
    }

    fn len(&self) -> Result<u64> {
        self.inner.len()
    }
}

impl<T: WriteTable> WriteTable for Table<T> {
    #[inline]
    fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.buf.clear();
        self.buf.extend_from_slice(value);
        self.buf.extend_from_slice(&checksum(key, value));
        self.inner.insert(key, &self.buf)
    }

    fn remove(&mut self, key: &[u8]) -> Result<bool> {
        self.inner.remove(key)
    }

    fn clear(&mut self) -> Result<()> {
        self.inner.clear()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_value_or_a_moved_value_is_a_mismatch() {
        let stored = [b"value".as_slice(), &checksum(b"k", b"value")].concat();
        assert!(verify("t", b"k", &stored).is_ok());
        assert!(
            verify("t", b"other", &stored).is_err(),
            "moved to another key"
        );
        for at in 0..stored.len() {
            for bit in 0..8 {
                let mut flipped = stored.clone();
                flipped[at] ^= 1 << bit;
                assert!(verify("t", b"k", &flipped).is_err(), "flip at {at}.{bit}");
            }
        }
        for len in 0..stored.len() {
            assert!(
                verify("t", b"k", &stored[..len]).is_err(),
                "truncated to {len}"
            );
        }
        // An empty value still carries its checksum (index entries).
        let empty = checksum(b"k", b"");
        assert!(verify("t", b"k", &empty).is_ok());
    }
}
