//! The async byte-level contract, beside the synchronous one.
//!
//! The same model as the crate root (ordered `key bytes -> value bytes` tables, read and write
//! transactions, guards borrowed from their table handle), with every operation a future, for
//! backends whose engine is asynchronous (IndexedDB in the browser). [`SyncAsAsync`] makes every
//! synchronous [`Backend`] an [`AsyncBackend`], so code written against this contract runs on
//! redb, sled and memory unchanged; the async conformance kit (`async_conformance`, feature
//! `conformance`) checks any implementation.
//!
//! Two differences from the synchronous contract:
//!
//! * [`AsyncReadTable::range`] takes a `limit` and returns the entries in a `Vec`: an async
//!   engine's cursor is walked with one request per step, so the caller says how far to go
//!   (unique checks read two entries, pages read one page).
//! * Nothing here is `Send`: browser engines are single-threaded, and the futures of the
//!   adapter are ready at their first poll, so any executor (or none) drives them.

use std::future::Future;
use std::ops::Bound;

use crate::{
    Backend, Capabilities, Direction, ReadTable, ReadTransaction, Result, StableBytes, WriteTable,
    WriteTransaction,
};

/// An async database handle.
pub trait AsyncBackend: 'static {
    /// A read transaction, borrowing the database.
    type ReadTxn<'db>: AsyncReadTransaction
    where
        Self: 'db;
    /// A write transaction, borrowing the database.
    type WriteTxn<'db>: AsyncWriteTransaction
    where
        Self: 'db;

    /// What this backend guarantees.
    const CAPABILITIES: Capabilities;

    /// Begins a read transaction.
    fn begin_read(&self) -> impl Future<Output = Result<Self::ReadTxn<'_>>>;

    /// Begins a write transaction (one writer at a time).
    fn begin_write(&self) -> impl Future<Output = Result<Self::WriteTxn<'_>>>;
}

/// An async read transaction.
pub trait AsyncReadTransaction {
    /// A read-only table handle, borrowing the transaction.
    type Table<'t>: AsyncReadTable
    where
        Self: 't;

    /// Opens a table; a table never written reads as empty. An empty name is
    /// [`BackendError::InvalidConfig`](crate::BackendError::InvalidConfig).
    fn open_table(&self, name: &str) -> impl Future<Output = Result<Self::Table<'_>>>;
}

/// An async write transaction. Dropping it without [`commit`](Self::commit) rolls every write
/// back.
pub trait AsyncWriteTransaction {
    /// A writable table handle, borrowing the transaction.
    type Table<'t>: AsyncWriteTable
    where
        Self: 't;

    /// Opens (creating if needed) a table for reading and writing. A table may be open once
    /// at a time per write transaction where the backend enforces it
    /// ([`BackendError::TableAlreadyOpen`](crate::BackendError::TableAlreadyOpen)).
    fn open_table(&self, name: &str) -> impl Future<Output = Result<Self::Table<'_>>>;

    /// Atomically publishes every write of this transaction.
    fn commit(self) -> impl Future<Output = Result<()>>;

    /// Discards every write of this transaction.
    fn abort(self) -> impl Future<Output = Result<()>>;
}

/// Async read access to one table.
pub trait AsyncReadTable {
    /// Bytes of one key or value, borrowing the table handle.
    type Guard<'g>: StableBytes
    where
        Self: 'g;

    /// The value stored under `key`, if any.
    fn get(&self, key: &[u8]) -> impl Future<Output = Result<Option<Self::Guard<'_>>>>;

    /// The first `limit` entries (all for `None`) whose keys lie within the bounds, walked in
    /// `direction`. Bounds describing an empty range yield nothing.
    #[allow(clippy::type_complexity)]
    fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
        limit: Option<usize>,
    ) -> impl Future<Output = Result<Vec<(Self::Guard<'_>, Self::Guard<'_>)>>>;

    /// The number of entries.
    fn len(&self) -> impl Future<Output = Result<u64>>;

    /// Whether the table has no entries.
    fn is_empty(&self) -> impl Future<Output = Result<bool>> {
        async move { Ok(self.len().await? == 0) }
    }
}

/// Async write access to one table, inside a write transaction.
pub trait AsyncWriteTable: AsyncReadTable {
    /// Stores `value` under `key`, replacing any previous value.
    fn insert(&mut self, key: &[u8], value: &[u8]) -> impl Future<Output = Result<()>>;

    /// Removes `key`; returns whether it was present.
    fn remove(&mut self, key: &[u8]) -> impl Future<Output = Result<bool>>;

    /// Removes every entry of the table.
    fn clear(&mut self) -> impl Future<Output = Result<()>>;
}

/// A synchronous backend (or transaction, or table) seen through the async contract. Every
/// future it returns is ready at its first poll; nothing is copied (redb's guards stay
/// zero-copy).
///
/// `SyncAsAsync(backend)` wraps a backend; its transactions and tables are wrapped the same
/// way. [`get_ref`](Self::get_ref) reaches the wrapped value.
#[derive(Debug, Default, Clone)]
pub struct SyncAsAsync<T>(pub T);

impl<T> SyncAsAsync<T> {
    /// The wrapped value.
    pub fn get_ref(&self) -> &T {
        &self.0
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<B: Backend> AsyncBackend for SyncAsAsync<B> {
    type ReadTxn<'db> = SyncAsAsync<B::ReadTxn<'db>>;
    type WriteTxn<'db> = SyncAsAsync<B::WriteTxn<'db>>;

    const CAPABILITIES: Capabilities = B::CAPABILITIES;

    fn begin_read(&self) -> impl Future<Output = Result<Self::ReadTxn<'_>>> {
        std::future::ready(self.0.begin_read().map(SyncAsAsync))
    }

    fn begin_write(&self) -> impl Future<Output = Result<Self::WriteTxn<'_>>> {
        std::future::ready(self.0.begin_write().map(SyncAsAsync))
    }
}

impl<T: ReadTransaction> AsyncReadTransaction for SyncAsAsync<T> {
    type Table<'t>
        = SyncAsAsync<T::Table<'t>>
    where
        Self: 't;

    fn open_table(&self, name: &str) -> impl Future<Output = Result<Self::Table<'_>>> {
        std::future::ready(self.0.open_table(name).map(SyncAsAsync))
    }
}

impl<T: WriteTransaction> AsyncWriteTransaction for SyncAsAsync<T> {
    type Table<'t>
        = SyncAsAsync<T::Table<'t>>
    where
        Self: 't;

    fn open_table(&self, name: &str) -> impl Future<Output = Result<Self::Table<'_>>> {
        std::future::ready(self.0.open_table(name).map(SyncAsAsync))
    }

    fn commit(self) -> impl Future<Output = Result<()>> {
        std::future::ready(self.0.commit())
    }

    fn abort(self) -> impl Future<Output = Result<()>> {
        std::future::ready(self.0.abort())
    }
}

impl<T: ReadTable> AsyncReadTable for SyncAsAsync<T> {
    type Guard<'g>
        = T::Guard<'g>
    where
        Self: 'g;

    fn get(&self, key: &[u8]) -> impl Future<Output = Result<Option<Self::Guard<'_>>>> {
        std::future::ready(self.0.get(key))
    }

    fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
        limit: Option<usize>,
    ) -> impl Future<Output = Result<Vec<(Self::Guard<'_>, Self::Guard<'_>)>>> {
        let result = self
            .0
            .range(lower, upper, direction)
            .and_then(|range| range.take(limit.unwrap_or(usize::MAX)).collect());
        std::future::ready(result)
    }

    fn len(&self) -> impl Future<Output = Result<u64>> {
        std::future::ready(self.0.len())
    }
}

impl<T: WriteTable> AsyncWriteTable for SyncAsAsync<T> {
    fn insert(&mut self, key: &[u8], value: &[u8]) -> impl Future<Output = Result<()>> {
        std::future::ready(self.0.insert(key, value))
    }

    fn remove(&mut self, key: &[u8]) -> impl Future<Output = Result<bool>> {
        std::future::ready(self.0.remove(key))
    }

    fn clear(&mut self) -> impl Future<Output = Result<()>> {
        std::future::ready(self.0.clear())
    }
}
