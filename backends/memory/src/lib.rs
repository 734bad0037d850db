//! The in-memory backend of `netabase_store`.
//!
//! [`MemoryBackend`] implements the byte-level contract of [`netabase_backend_api`] entirely in
//! memory. It serves `Store::memory()` and `Store::temp()`, and it is the reference model the
//! other backends are compared against in differential tests, so it is written for clarity
//! first; it is also benchmarked, so no transaction does work proportional to the size of the
//! database.
//!
//! ```
//! use netabase_backend_api::{Backend, ReadTable, ReadTransaction, WriteTable, WriteTransaction};
//! use netabase_backend_memory::MemoryBackend;
//!
//! # fn main() -> Result<(), netabase_backend_api::BackendError> {
//! let db = MemoryBackend::new();
//! let txn = db.begin_write()?;
//! {
//!     let mut users = txn.open_table("users")?;
//!     users.insert(b"alice", b"1")?;
//! }
//! txn.commit()?;
//!
//! let txn = db.begin_read()?;
//! let users = txn.open_table("users")?;
//! assert_eq!(users.get(b"alice")?, Some(&b"1"[..]));
//! # Ok(())
//! # }
//! ```
//!
//! # Design: multi-version concurrency control with persistent maps
//!
//! The whole database is one immutable value, a [`Snapshot`]: a map from table name to table
//! (an [`imbl::OrdMap`]), where a table is this crate's own *persistent* B+ tree from key bytes
//! to value bytes: cloning one is O(1) (it shares the root), and changing a clone copies only
//! the O(log n) nodes on the path to the change, leaving every other clone untouched. Its nodes
//! are wide and pack their keys into one buffer, so a lookup binary-searches contiguous memory
//! instead of following a pointer per comparison, and its range iterator keeps no stack, so a
//! lookup or a range scan allocates nothing.
//!
//! * The backend holds the **current snapshot** behind a mutex, as an `Arc<Snapshot>`. The lock
//!   is held only long enough to clone or replace that `Arc`, never while reading or writing
//!   data.
//! * A **read transaction** clones the `Arc` and reads that snapshot for its whole life. Nothing
//!   can change it, so reads are snapshot-isolated, take no lock, and lend value bytes straight
//!   out of the snapshot (`&[u8]` guards, no copy). Any number of snapshots may be alive; each
//!   is freed when its last reader drops it.
//! * A **write transaction** first takes the writer lock (one writer at a time; a second
//!   [`begin_write`](Backend::begin_write) blocks until the first commits, aborts or is
//!   dropped), then starts a *working copy* by cloning the current snapshot's table map (O(1)).
//!   Its writes change only the working copy, so readers never see them and never wait for
//!   them; it reads its own writes because it reads the working copy.
//! * [`commit`](WriteTransaction::commit) replaces the current snapshot with the working copy
//!   in one pointer swap, so a commit is atomic across every table. Dropping or
//!   [`abort`](WriteTransaction::abort)ing the transaction just drops the working copy.
//!
//! A node holds at most 128 entries, so copying one on the path of a change is bounded: keys
//! and values of up to 256 bytes are packed into the node and copied with it, larger values
//! are `Arc<[u8]>`s whose reference count is incremented instead.
//!
//! # What this backend guarantees
//!
//! See [`MemoryBackend::CAPABILITIES`](netabase_backend_api::Backend::CAPABILITIES): snapshot
//! reads, zero-copy value guards, no persistence (the data lives as long as the
//! [`MemoryBackend`] value; [`flush`](Backend::flush) does nothing), and no entry size limit
//! beyond available memory.
//!
//! Borrowing follows the contract: a table handle borrows its transaction and a value guard
//! borrows its table handle. In a write transaction a table can be open once at a time (a
//! second open while the first handle lives is [`BackendError::TableAlreadyOpen`], as with
//! redb), and a write transaction cannot commit while a table handle of it is alive.
//!
//! A write transaction holds the writer lock's guard, so it is not `Send`: it must finish on
//! the thread that began it. Read transactions are `Send`.
//!
//! The crate has no `unsafe` code, and uses no threads, files or clocks, so it also builds for
//! `wasm32-unknown-unknown`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, PoisonError};

use sync::{Mutex, MutexGuard};

/// The locks this crate takes: std's, or loom's when model-checking (`--cfg loom`), so loom
/// explores every interleaving of readers, writers and commits. Snapshot data stays behind
/// std `Arc`s: it is immutable once published, so sharing it involves no synchronisation to
/// check.
mod sync {
    #[cfg(loom)]
    pub(crate) use loom::sync::{Mutex, MutexGuard};
    #[cfg(not(loom))]
    pub(crate) use std::sync::{Mutex, MutexGuard};
}

use imbl::OrdMap;

mod table;
mod tree;

use netabase_backend_api::{
    Backend, BackendError, Capabilities, ReadTransaction, Result, WriteTransaction,
};
pub use table::{MemoryRange, MemoryReadTable, MemoryWriteTable};

/// The backend's name in [`Capabilities`].
const NAME: &str = "memory";

/// One table: key bytes to value bytes, in byte order (a persistent B+ tree, see [`tree`]).
type Table = tree::Tree;

/// Every table of the database, by name. Tables with no entries are not stored (a missing
/// table reads as empty).
type Tables = OrdMap<Arc<str>, Table>;

/// An immutable state of the whole database, as committed by one write transaction. Readers
/// share it through an `Arc`; nothing ever changes it.
#[derive(Clone, Default)]
pub struct Snapshot {
    tables: Tables,
}

impl Snapshot {
    /// The names of the tables that have at least one entry, in byte order.
    pub fn table_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.tables.keys().map(|name| &**name)
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.tables.iter().map(|(name, table)| (name, table.len())))
            .finish()
    }
}

/// Locks `mutex`, recovering the guard if an earlier holder panicked.
///
/// Recovering is correct here, and better than failing with [`BackendError::Poisoned`]:
/// neither mutex protects data that a panic could leave half-updated.
///
/// * `current` holds an `Arc<Snapshot>` that is only cloned or replaced by one assignment
///   while locked; no code that can unwind runs in between.
/// * `writer` protects `()`; it is held for the life of a write transaction. If that
///   transaction's thread panics, unwinding drops the transaction's working copy before the
///   guard, so nothing of it was published: the committed state is the last commit, exactly as
///   after an abort. Refusing all further work would turn one panicking thread into a dead
///   store and gain nothing.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Refuses the empty table name, as the contract says.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(BackendError::InvalidConfig {
            message: "table names must not be empty".to_owned(),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Backend
// ---------------------------------------------------------------------------------------------

/// An in-memory database with snapshot (MVCC) transactions. See the [crate docs](crate) for
/// the design.
///
/// The data lives as long as this value; it is not shared with other `MemoryBackend`s.
pub struct MemoryBackend {
    /// The last committed state. Locked only to clone or replace the `Arc`.
    current: Mutex<Arc<Snapshot>>,
    /// Serialises writers: a write transaction holds this guard for its whole life.
    writer: Mutex<()>,
}

impl MemoryBackend {
    /// A new, empty database.
    pub fn new() -> Self {
        MemoryBackend {
            current: Mutex::new(Arc::new(Snapshot::default())),
            writer: Mutex::new(()),
        }
    }

    /// The last committed state of the whole database (what a read transaction begun now
    /// sees). Cheap: it clones an `Arc`.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&lock(&self.current))
    }
}

impl Default for MemoryBackend {
    fn default() -> Self {
        MemoryBackend::new()
    }
}

impl fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryBackend")
            .field("tables", &*self.snapshot())
            .finish()
    }
}

impl Backend for MemoryBackend {
    type ReadTxn<'db> = MemoryReadTxn<'db>;
    type WriteTxn<'db> = MemoryWriteTxn<'db>;

    const CAPABILITIES: Capabilities = Capabilities::new(NAME)
        .with_snapshot_reads(true)
        .with_zero_copy_reads(true)
        .with_persistent(false)
        .with_max_entry_len(None);

    /// Takes the current snapshot. Never blocks on a writer.
    fn begin_read(&self) -> Result<MemoryReadTxn<'_>> {
        Ok(MemoryReadTxn {
            snapshot: self.snapshot(),
            _db: PhantomData,
        })
    }

    /// Waits for the writer lock, then starts a working copy of the current snapshot (O(1)).
    ///
    /// Beginning a second write transaction on the same thread while the first is alive never
    /// returns (it waits for itself).
    fn begin_write(&self) -> Result<MemoryWriteTxn<'_>> {
        let writer = lock(&self.writer);
        // Taken after the writer lock, so no commit can come between the two.
        let tables = self.snapshot().tables.clone();
        Ok(MemoryWriteTxn {
            backend: self,
            _writer: writer,
            working: RefCell::new(Working {
                tables,
                open: BTreeSet::new(),
            }),
        })
    }

    /// Does nothing: there is nothing to flush, and this backend is not durable.
    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------------------------

/// A read transaction: one immutable snapshot of the database, fixed when it began.
pub struct MemoryReadTxn<'db> {
    snapshot: Arc<Snapshot>,
    _db: PhantomData<&'db MemoryBackend>,
}

impl MemoryReadTxn<'_> {
    /// The snapshot this transaction reads.
    pub fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snapshot
    }
}

impl fmt::Debug for MemoryReadTxn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryReadTxn")
            .field("snapshot", &*self.snapshot)
            .finish()
    }
}

impl ReadTransaction for MemoryReadTxn<'_> {
    type Table<'t>
        = MemoryReadTable<'t>
    where
        Self: 't;

    fn open_table(&self, name: &str) -> Result<MemoryReadTable<'_>> {
        check_name(name)?;
        Ok(MemoryReadTable {
            table: self.snapshot.tables.get(name),
        })
    }
}

/// The mutable state of a write transaction.
struct Working {
    /// The working copy: the snapshot the transaction began from, plus its writes. Tables
    /// whose handles are open are taken out of it (see `open`).
    tables: Tables,
    /// Tables whose handle is alive. Each handle owns its table's map while it lives and puts
    /// it back into `tables` when dropped.
    open: BTreeSet<Arc<str>>,
}

/// A write transaction: a private working copy of the database, published atomically by
/// [`commit`](WriteTransaction::commit). Dropping it without committing rolls back.
pub struct MemoryWriteTxn<'db> {
    backend: &'db MemoryBackend,
    _writer: MutexGuard<'db, ()>,
    working: RefCell<Working>,
}

impl fmt::Debug for MemoryWriteTxn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let working = self.working.borrow();
        f.debug_struct("MemoryWriteTxn")
            .field("tables", &working.tables.len())
            .field("open", &working.open)
            .finish()
    }
}

impl WriteTransaction for MemoryWriteTxn<'_> {
    type Table<'t>
        = MemoryWriteTable<'t>
    where
        Self: 't;

    /// Takes the table's map out of the working copy (a new table starts empty); the handle
    /// puts it back when dropped.
    fn open_table(&self, name: &str) -> Result<MemoryWriteTable<'_>> {
        check_name(name)?;
        let mut working = self.working.borrow_mut();
        if working.open.contains(name) {
            return Err(BackendError::TableAlreadyOpen {
                table: name.to_owned(),
            });
        }
        let (name, table) = working
            .tables
            .remove_with_key(name)
            .unwrap_or_else(|| (Arc::from(name), Table::new()));
        working.open.insert(Arc::clone(&name));
        Ok(MemoryWriteTable {
            working: &self.working,
            name,
            table,
        })
    }

    /// Publishes the working copy as the new current snapshot, in one pointer swap.
    ///
    /// Every table handle has been dropped by now (the borrow checker sees to it), unless one
    /// was leaked with [`std::mem::forget`]: its table's writes would then be missing from the
    /// working copy, so instead of publishing an incomplete state the commit fails with
    /// [`BackendError::TableAlreadyOpen`] and rolls back.
    fn commit(self) -> Result<()> {
        let Working { tables, open } = self.working.into_inner();
        if let Some(table) = open.first() {
            return Err(BackendError::TableAlreadyOpen {
                table: table.to_string(),
            });
        }
        *lock(&self.backend.current) = Arc::new(Snapshot { tables });
        // `self._writer` is dropped after this, so the next writer starts from this commit.
        Ok(())
    }

    /// Drops the working copy. Never fails.
    fn abort(self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use netabase_backend_api::{ReadTable, WriteTable};

    use super::*;

    #[test]
    fn capabilities() {
        let caps = MemoryBackend::CAPABILITIES;
        assert_eq!(caps.name, "memory");
        assert!(caps.snapshot_reads && caps.zero_copy_reads);
        assert!(!caps.persistent);
        assert_eq!(caps.max_entry_len, None);
    }

    #[test]
    fn send_sync() {
        fn send_sync<T: Send + Sync + 'static>() {}
        fn send<T: Send>() {}
        send_sync::<MemoryBackend>();
        send_sync::<Snapshot>();
        send::<MemoryReadTxn<'static>>();
        send::<MemoryReadTable<'static>>();
        send::<MemoryRange<'static>>();
    }

    #[test]
    fn empty_tables_are_not_stored() {
        let db = MemoryBackend::new();
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table("t").unwrap();
            t.insert(b"k", b"v").unwrap();
            drop(txn.open_table("empty").unwrap());
        }
        txn.commit().unwrap();
        assert_eq!(db.snapshot().table_names().collect::<Vec<_>>(), ["t"]);
        let txn = db.begin_write().unwrap();
        txn.open_table("t").unwrap().clear().unwrap();
        txn.commit().unwrap();
        assert_eq!(db.snapshot().table_names().count(), 0);
    }

    #[test]
    fn a_leaked_table_handle_fails_the_commit() {
        let db = MemoryBackend::new();
        let txn = db.begin_write().unwrap();
        let mut t = txn.open_table("t").unwrap();
        t.insert(b"k", b"v").unwrap();
        std::mem::forget(t);
        match txn.commit() {
            Err(BackendError::TableAlreadyOpen { table }) => assert_eq!(table, "t"),
            other => panic!("expected TableAlreadyOpen, got {other:?}"),
        }
        // The writer slot is free again and nothing was published.
        let txn = db.begin_write().unwrap();
        assert!(txn.open_table("t").unwrap().is_empty().unwrap());
    }
}
