//! The byte-level backend contract of `netabase_store`.
//!
//! A backend is an ordered `key bytes -> value bytes` store with named tables and
//! read / write transactions. Everything typed (models, key codec, secondary indexes,
//! rkyv archives) lives above this contract, in the `netabase_store` crate, and is written
//! once for every backend.
//!
//! Everything a backend lends out is borrowed through generic associated types, so the
//! borrow checker ties it to its source:
//!
//! * a transaction borrows the database ([`Backend::ReadTxn`], [`Backend::WriteTxn`]);
//! * a table handle borrows its transaction ([`ReadTransaction::Table`],
//!   [`WriteTransaction::Table`]);
//! * a value guard borrows its table handle ([`ReadTable::Guard`]).
//!
//! A backend that can hand out bytes straight from its pages (redb) does so; the typed
//! layer then reads rkyv archives in place, with no copy.
//!
//! # Implementing a backend
//!
//! Implement [`Backend`], [`ReadTransaction`], [`WriteTransaction`], [`ReadTable`] and
//! [`WriteTable`], state what the backend guarantees in [`Capabilities`], and run the
//! conformance kit against it with `conformance_tests!` (and the async kit with
//! `async_conformance_tests!`). Nothing else is needed: the typed layer works on any backend
//! that passes the kit.
//!
//! # Features
//!
//! * `conformance` (off by default): the conformance kit, modules `conformance` and
//!   `async_conformance` and their macros. It is test code: a backend crate enables it in its
//!   dev-dependencies,
//!   `netabase_backend_api = { version = "0.1", features = ["conformance"] }`.
#![deny(unsafe_code)]
// The one unsafe item: the `StableBytes` promise (a marker trait, no unsafe code runs here).

mod error;

pub mod asynchronous;
pub mod checksum;
#[cfg(feature = "conformance")]
pub mod conformance;

/// The async conformance kit (feature `conformance`): the sync kit's checks through the async
/// contract. Its home is [`conformance::asynchronous`]; this is the path the macros and the
/// backend crates use.
#[cfg(feature = "conformance")]
pub use conformance::asynchronous as async_conformance;

pub use asynchronous::{
    AsyncBackend, AsyncReadTable, AsyncReadTransaction, AsyncWriteTable, AsyncWriteTransaction,
    SyncAsAsync,
};
pub use error::BackendError;

use std::ops::Bound;
use std::sync::Arc;

/// Result type of every backend operation.
pub type Result<T, E = BackendError> = std::result::Result<T, E>;

/// The direction in which [`ReadTable::range`] walks its keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Ascending byte order.
    #[default]
    Forward,
    /// Descending byte order.
    Reverse,
}

/// What a backend guarantees. The conformance kit tests exactly what is claimed here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Capabilities {
    /// Human-readable backend name, used in error messages (`"redb"`, `"sled"`, ...).
    pub name: &'static str,
    /// A read transaction sees one consistent snapshot for its whole life, whatever
    /// writers commit meanwhile. `false` means reads are read-committed: each read sees
    /// the latest committed state (sled 0.34).
    pub snapshot_reads: bool,
    /// Values are handed out straight from the backend's own storage, with no copy.
    pub zero_copy_reads: bool,
    /// Data survives dropping the backend and opening it again from the same path.
    pub persistent: bool,
    /// The largest `key.len() + value.len()` a single entry may have, if the backend has a
    /// limit. Larger writes fail with [`BackendError::ValueTooLarge`].
    pub max_entry_len: Option<usize>,
    /// Every value carries a checksum of its key and value, verified on every read
    /// ([`checksum::Checksummed`]). The typed layer records it in the store's format, so a
    /// store written with checksums is never read without them, or the other way round.
    pub checksums: bool,
}

impl Capabilities {
    /// Capabilities with the given name and nothing else claimed.
    pub const fn new(name: &'static str) -> Self {
        Capabilities {
            name,
            snapshot_reads: false,
            zero_copy_reads: false,
            persistent: false,
            max_entry_len: None,
            checksums: false,
        }
    }

    /// Claims snapshot isolation for read transactions.
    pub const fn with_snapshot_reads(mut self, yes: bool) -> Self {
        self.snapshot_reads = yes;
        self
    }

    /// Claims zero-copy value guards.
    pub const fn with_zero_copy_reads(mut self, yes: bool) -> Self {
        self.zero_copy_reads = yes;
        self
    }

    /// Claims persistence across reopen.
    pub const fn with_persistent(mut self, yes: bool) -> Self {
        self.persistent = yes;
        self
    }

    /// States the largest entry the backend accepts.
    pub const fn with_max_entry_len(mut self, max: Option<usize>) -> Self {
        self.max_entry_len = max;
        self
    }

    /// Claims end-to-end checksums on every value (see [`checksum::Checksummed`]).
    pub const fn with_checksums(mut self, yes: bool) -> Self {
        self.checksums = yes;
        self
    }
}

/// A database handle: the entry point of a backend.
///
/// `Backend` is `Send + Sync`: one handle is shared by every thread of the store.
pub trait Backend: Send + Sync + 'static {
    /// A read transaction, borrowing the database.
    type ReadTxn<'db>: ReadTransaction
    where
        Self: 'db;
    /// A write transaction, borrowing the database.
    type WriteTxn<'db>: WriteTransaction
    where
        Self: 'db;

    /// What this backend guarantees.
    const CAPABILITIES: Capabilities;

    /// Begins a read transaction.
    fn begin_read(&self) -> Result<Self::ReadTxn<'_>>;

    /// Begins a write transaction. Backends allow one writer at a time; a second caller
    /// blocks until the first commits or aborts.
    fn begin_write(&self) -> Result<Self::WriteTxn<'_>>;

    /// Makes every committed transaction durable, whatever durability it committed with.
    fn flush(&self) -> Result<()>;
}

/// A read transaction.
pub trait ReadTransaction {
    /// A read-only table handle, borrowing the transaction.
    type Table<'t>: ReadTable
    where
        Self: 't;

    /// Opens a table. A table that was never written reads as empty (it is not an error).
    ///
    /// Table names are non-empty: an empty name fails with [`BackendError::InvalidConfig`].
    fn open_table(&self, name: &str) -> Result<Self::Table<'_>>;
}

/// A write transaction. Dropping it without [`commit`](WriteTransaction::commit) rolls
/// every write back.
pub trait WriteTransaction {
    /// A writable table handle, borrowing the transaction.
    type Table<'t>: WriteTable
    where
        Self: 't;

    /// Opens (creating if needed) a table for reading and writing.
    ///
    /// A table can be open at most once at a time within a write transaction: opening it
    /// again while a handle is alive fails with [`BackendError::TableAlreadyOpen`].
    ///
    /// Table names are non-empty: an empty name fails with [`BackendError::InvalidConfig`].
    fn open_table(&self, name: &str) -> Result<Self::Table<'_>>;

    /// Atomically publishes every write of this transaction.
    fn commit(self) -> Result<()>;

    /// Discards every write of this transaction (the same as dropping it, but reports
    /// errors).
    fn abort(self) -> Result<()>;
}

/// Bytes lent out by a backend.
///
/// # Safety
///
/// The typed layer validates an rkyv archive once, when a guard is created, and afterwards
/// reads it without re-validating. That is only sound if the bytes cannot change: an
/// implementor promises that [`AsRef::as_ref`] returns the same byte content (same length,
/// same bytes) on every call, for as long as the guard lives. The address may differ between
/// calls (a guard holding small values inline may be moved).
#[allow(unsafe_code)]
pub unsafe trait StableBytes: AsRef<[u8]> {}

// SAFETY: a shared slice is immutable for its lifetime.
#[allow(unsafe_code)]
unsafe impl StableBytes for &[u8] {}
// SAFETY: a Vec behind a guard is never mutated through `AsRef`; its content is fixed.
#[allow(unsafe_code)]
unsafe impl StableBytes for Vec<u8> {}
// SAFETY: a boxed slice has no interior mutability; its content is fixed.
#[allow(unsafe_code)]
unsafe impl StableBytes for Box<[u8]> {}
// SAFETY: an `Arc<[u8]>` has no interior mutability; its content is fixed.
#[allow(unsafe_code)]
unsafe impl StableBytes for Arc<[u8]> {}

/// Read access to one table.
pub trait ReadTable {
    /// Bytes of one key or value, borrowing the table handle.
    type Guard<'g>: StableBytes
    where
        Self: 'g;
    /// An iterator over `(key, value)` pairs in key order.
    type Range<'g>: Iterator<Item = Result<(Self::Guard<'g>, Self::Guard<'g>)>>
    where
        Self: 'g;

    /// The value stored under `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Self::Guard<'_>>>;

    /// The entries whose keys lie within the bounds, walked in `direction`.
    ///
    /// Bounds that describe an empty range (lower above upper, or equal and either
    /// excluded) yield nothing; they are not an error.
    fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<Self::Range<'_>>;

    /// The number of entries.
    fn len(&self) -> Result<u64>;

    /// Whether the table has no entries.
    fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}

/// Write access to one table, available only inside a write transaction.
pub trait WriteTable: ReadTable {
    /// Stores `value` under `key`, replacing any previous value.
    fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<()>;

    /// Removes `key`; returns whether it was present.
    fn remove(&mut self, key: &[u8]) -> Result<bool>;

    /// Removes every entry of the table.
    fn clear(&mut self) -> Result<()>;
}

/// Whether `(lower, upper)` can contain no key at all. Backends whose engines reject
/// inverted ranges (redb panics on some) use this to answer with an empty range instead.
pub fn is_empty_range(lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> bool {
    match (lower, upper) {
        (Bound::Included(l), Bound::Included(u)) => l > u,
        (Bound::Included(l), Bound::Excluded(u))
        | (Bound::Excluded(l), Bound::Included(u))
        | (Bound::Excluded(l), Bound::Excluded(u)) => l >= u,
        _ => false,
    }
}

/// Whether `key` lies within `(lower, upper)`.
pub fn in_bounds(key: &[u8], lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> bool {
    let above = match lower {
        Bound::Included(l) => key >= l,
        Bound::Excluded(l) => key > l,
        Bound::Unbounded => true,
    };
    let below = match upper {
        Bound::Included(u) => key <= u,
        Bound::Excluded(u) => key < u,
        Bound::Unbounded => true,
    };
    above && below
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_range_detection_matches_in_bounds() {
        let keys: [&[u8]; 4] = [b"", b"a", b"b", b"ab"];
        let bounds = |k: &'static [u8]| [Bound::Included(k), Bound::Excluded(k), Bound::Unbounded];
        for l in keys.iter().flat_map(|k| bounds(k)) {
            for u in keys.iter().flat_map(|k| bounds(k)) {
                if is_empty_range(l, u) {
                    for probe in keys.iter().chain([&b"aa".as_slice(), &b"zz".as_slice()]) {
                        assert!(!in_bounds(probe, l, u), "{l:?} {u:?} contains {probe:?}");
                    }
                }
            }
        }
    }
}
