//! The [redb](https://docs.rs/redb) backend of `netabase_store`.
//!
//! [`RedbBackend`] implements the byte-level contract of [`netabase_backend_api`] on a redb 4
//! database. Every table of the contract is one redb table, `TableDefinition<&[u8], &[u8]>`,
//! named by the table's name, so a database written through this backend can be inspected with
//! plain redb ([`RedbBackend::database`] gives raw access).
//!
//! Reads are **zero-copy**: a value guard ([`RedbGuard`]) wraps redb's own
//! [`AccessGuard`](redb::AccessGuard) and lends the bytes straight out of redb's page.
//!
//! # Opening
//!
//! ```no_run
//! use netabase_backend_redb::{RedbBackend, RedbDurability, RedbOptions};
//!
//! # fn main() -> Result<(), netabase_backend_api::BackendError> {
//! // Create or open with defaults.
//! let db = RedbBackend::create("data.redb")?;
//! # drop(db);
//!
//! // Or configure it.
//! let options = RedbOptions::new()
//!     .cache_size_bytes(64 * 1024 * 1024)
//!     .durability(RedbDurability::None);
//! let db = RedbBackend::open("data.redb", &options)?;
//! # drop(db);
//!
//! // A scratch database in memory.
//! let scratch = RedbBackend::in_memory()?;
//! # drop(scratch);
//! # Ok(())
//! # }
//! ```
//!
//! # What this backend guarantees
//!
//! See [`RedbBackend::CAPABILITIES`](netabase_backend_api::Backend::CAPABILITIES): snapshot
//! reads (a read transaction sees one consistent snapshot), zero-copy value guards, persistence
//! (for file databases; an [`in_memory`](RedbBackend::in_memory) database lives as long as the
//! handle), and entries (key plus value) of up to 3 GiB.
//!
//! Borrowing follows redb: a value guard borrows its table handle, so a live guard blocks
//! writes through the same handle, and a write transaction cannot commit while a table handle
//! of it is alive. redb opens a table at most once per write transaction: open one handle per
//! table per write transaction (a second open fails with
//! [`BackendError::TableAlreadyOpen`]).
//!
//! A read-only database ([`RedbOptions::read_only`]) refuses [`begin_write`] with
//! [`BackendError::ReadOnly`].
//!
//! [`begin_write`]: netabase_backend_api::Backend::begin_write
#![deny(unsafe_code)]

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Bound;
use std::panic::AssertUnwindSafe;
use std::path::Path;

use netabase_backend_api::{
    Backend, BackendError, Capabilities, Direction, ReadTable, ReadTransaction, Result,
    StableBytes, WriteTable, WriteTransaction, is_empty_range,
};
use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};

/// The backend's name in [`Capabilities`] and in [`BackendError::Engine`].
const NAME: &str = "redb";

/// The largest entry (key plus value) this backend accepts: redb's limit on a single value,
/// 3 GiB. redb also caps keys at 3 GiB and a pair at 3.75 GiB; checking the sum against the
/// smaller limit makes the contract's single `max_entry_len` exact.
pub const MAX_ENTRY_LEN: usize = 3 * 1024 * 1024 * 1024;

/// Every table of the contract, as redb sees it.
type Def<'n> = redb::TableDefinition<'n, &'static [u8], &'static [u8]>;

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/// How a write transaction's commit reaches the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RedbDurability {
    /// A commit is held in memory; it becomes durable with the next commit of
    /// [`Immediate`](RedbDurability::Immediate) durability or with
    /// [`Backend::flush`]. Much faster; a crash loses
    /// the commits made since then (never more, and never leaves the file inconsistent).
    None,
    /// A commit is durable when `commit()` returns (redb's default).
    #[default]
    Immediate,
}

impl From<RedbDurability> for redb::Durability {
    fn from(d: RedbDurability) -> Self {
        match d {
            RedbDurability::None => redb::Durability::None,
            RedbDurability::Immediate => redb::Durability::Immediate,
        }
    }
}

/// How to open a redb database file. Build one with [`RedbOptions::new`] (or `Default`) and the
/// chained setters, or set the public fields.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedbOptions {
    /// The size of redb's page cache in bytes; `None` keeps redb's default (1 GiB, allocated
    /// as needed).
    pub cache_size_bytes: Option<usize>,
    /// Create the file when it does not exist (default `true`). When `false`, a missing file is
    /// [`BackendError::InvalidConfig`].
    pub create_if_missing: bool,
    /// Start with an empty database, discarding what an existing file holds (default
    /// `false`). The file is opened (so a file another handle has open is
    /// [`BackendError::AlreadyOpen`], never yanked from under it) and every table in it is
    /// deleted in one durable commit; a file that is not a redb database at all is deleted and
    /// created anew. Cannot be combined with [`read_only`](RedbOptions::read_only).
    pub truncate: bool,
    /// Open the database read-only (default `false`): reads work, and
    /// [`begin_write`](netabase_backend_api::Backend::begin_write) fails with
    /// [`BackendError::ReadOnly`]. The file must exist. Several processes may open one file
    /// read-only at once, but not while a writer has it open.
    pub read_only: bool,
    /// The durability of every write transaction (default
    /// [`Immediate`](RedbDurability::Immediate)).
    pub durability: RedbDurability,
    /// Verify the checksum of every page when opening (default `false`; read-write opens
    /// only). A file damaged since redb last wrote it then fails to open with
    /// [`BackendError::Corrupted`] instead of being trusted (redb may panic reading a damaged
    /// page of a file it trusted). Reads the whole file, so opening takes longer.
    pub check_integrity_on_open: bool,
}

impl Default for RedbOptions {
    fn default() -> Self {
        RedbOptions {
            cache_size_bytes: None,
            create_if_missing: true,
            truncate: false,
            read_only: false,
            durability: RedbDurability::Immediate,
            check_integrity_on_open: false,
        }
    }
}

impl RedbOptions {
    /// The defaults: create if missing, no truncation, read-write, immediate durability,
    /// redb's default cache size.
    pub fn new() -> Self {
        RedbOptions::default()
    }

    /// Sets the size of redb's page cache, in bytes.
    pub fn cache_size_bytes(mut self, bytes: usize) -> Self {
        self.cache_size_bytes = Some(bytes);
        self
    }

    /// Sets whether a missing file is created.
    pub fn create_if_missing(mut self, yes: bool) -> Self {
        self.create_if_missing = yes;
        self
    }

    /// Sets whether an existing file is deleted first.
    pub fn truncate(mut self, yes: bool) -> Self {
        self.truncate = yes;
        self
    }

    /// Sets whether the database is opened read-only.
    pub fn read_only(mut self, yes: bool) -> Self {
        self.read_only = yes;
        self
    }

    /// Sets the durability of write transactions.
    pub fn durability(mut self, durability: RedbDurability) -> Self {
        self.durability = durability;
        self
    }

    /// Sets whether every page's checksum is verified when the database is opened.
    pub fn check_integrity_on_open(mut self, yes: bool) -> Self {
        self.check_integrity_on_open = yes;
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Backend
// ---------------------------------------------------------------------------------------------

enum Db {
    ReadWrite(redb::Database),
    ReadOnly(redb::ReadOnlyDatabase),
}

/// A redb database, as a `netabase_store` backend.
pub struct RedbBackend {
    db: Db,
    durability: RedbDurability,
}

impl fmt::Debug for RedbBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedbBackend")
            .field("read_only", &matches!(self.db, Db::ReadOnly(_)))
            .field("durability", &self.durability)
            .finish()
    }
}

impl RedbBackend {
    /// Opens (creating if needed) the database file at `path` with default options.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        Self::open(path, &RedbOptions::default())
    }

    /// Opens the database file at `path` as `options` say.
    ///
    /// Errors: a missing file with `create_if_missing(false)` or `read_only(true)`, or
    /// `truncate` together with `read_only`, is [`BackendError::InvalidConfig`]; a file another
    /// handle has open is [`BackendError::AlreadyOpen`]; a file that is not a redb database (or
    /// is damaged) is [`BackendError::Corrupted`]; file system errors are
    /// [`BackendError::Io`].
    pub fn open(path: impl AsRef<Path>, options: &RedbOptions) -> Result<Self> {
        let path = path.as_ref();
        if options.truncate && options.read_only {
            return Err(invalid_config(
                path,
                "`truncate` cannot be combined with `read_only`",
            ));
        }
        let exists = path.try_exists()?;
        if !exists && options.read_only {
            return Err(invalid_config(
                path,
                "does not exist, and a read-only database cannot be created",
            ));
        }
        if !exists && !options.create_if_missing {
            return Err(invalid_config(
                path,
                "does not exist, and `create_if_missing` is false",
            ));
        }
        let mut builder = redb::Builder::new();
        if let Some(bytes) = options.cache_size_bytes {
            builder.set_cache_size(bytes);
        }
        builder.set_check_integrity_on_open(options.check_integrity_on_open);
        // redb 4.6 panics (instead of erroring) when opening a file whose pages are damaged;
        // a damaged file is bad input, so it becomes `Corrupted` here.
        let open = || -> Result<Db> {
            Ok(if options.read_only {
                Db::ReadOnly(
                    builder
                        .open_read_only(path)
                        .map_err(|e| map_open_error(e, path))?,
                )
            } else if options.truncate && exists {
                Db::ReadWrite(open_truncated(&builder, path)?)
            } else if options.create_if_missing || options.truncate {
                Db::ReadWrite(builder.create(path).map_err(|e| map_open_error(e, path))?)
            } else {
                Db::ReadWrite(builder.open(path).map_err(|e| map_open_error(e, path))?)
            })
        };
        let db = guarded(&format!("opening {}", path.display()), open)?;
        Ok(RedbBackend {
            db,
            durability: options.durability,
        })
    }

    /// A fresh database in memory (redb's `InMemoryBackend`). It lives as long as this handle
    /// and is not persistent, although [`CAPABILITIES`](Backend::CAPABILITIES) (a property of
    /// the type) says `persistent`.
    pub fn in_memory() -> Result<Self> {
        let db = redb::Builder::new()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(map_database_error)?;
        Ok(Self::from_database(db))
    }

    /// Wraps a redb database opened elsewhere (with [`Immediate`](RedbDurability::Immediate)
    /// durability; see [`with_durability`](RedbBackend::with_durability)).
    pub fn from_database(db: redb::Database) -> Self {
        RedbBackend {
            db: Db::ReadWrite(db),
            durability: RedbDurability::Immediate,
        }
    }

    /// Sets the durability of the write transactions begun from now on.
    pub fn with_durability(mut self, durability: RedbDurability) -> Self {
        self.durability = durability;
        self
    }

    /// The durability of write transactions.
    pub fn durability(&self) -> RedbDurability {
        self.durability
    }

    /// Whether the database was opened read-only.
    pub fn is_read_only(&self) -> bool {
        matches!(self.db, Db::ReadOnly(_))
    }

    /// The underlying redb database, for raw access (`None` when opened read-only).
    ///
    /// Tables written by this backend are `TableDefinition<&[u8], &[u8]>` named by their table
    /// name.
    pub fn database(&self) -> Option<&redb::Database> {
        match &self.db {
            Db::ReadWrite(db) => Some(db),
            Db::ReadOnly(_) => None,
        }
    }

    /// The underlying read-only redb database (`None` unless opened read-only).
    pub fn read_only_database(&self) -> Option<&redb::ReadOnlyDatabase> {
        match &self.db {
            Db::ReadWrite(_) => None,
            Db::ReadOnly(db) => Some(db),
        }
    }
}

impl Backend for RedbBackend {
    type ReadTxn<'db> = RedbReadTxn<'db>;
    type WriteTxn<'db> = RedbWriteTxn<'db>;

    const CAPABILITIES: Capabilities = Capabilities::new(NAME)
        .with_snapshot_reads(true)
        .with_zero_copy_reads(true)
        .with_persistent(true)
        .with_max_entry_len(Some(MAX_ENTRY_LEN));

    fn begin_read(&self) -> Result<RedbReadTxn<'_>> {
        let txn = guarded("beginning a read", || {
            match &self.db {
                Db::ReadWrite(db) => db.begin_read(),
                Db::ReadOnly(db) => db.begin_read(),
            }
            .map_err(map_transaction_error)
        })?;
        Ok(RedbReadTxn {
            txn,
            _db: PhantomData,
        })
    }

    fn begin_write(&self) -> Result<RedbWriteTxn<'_>> {
        let db = match &self.db {
            Db::ReadWrite(db) => db,
            Db::ReadOnly(_) => return Err(BackendError::ReadOnly),
        };
        let txn = guarded("beginning a write", || {
            let mut txn = db.begin_write().map_err(map_transaction_error)?;
            txn.set_durability(self.durability.into())
                .map_err(map_durability_error)?;
            Ok(txn)
        })?;
        Ok(RedbWriteTxn {
            txn,
            broken: Cell::new(false),
            _db: PhantomData,
        })
    }

    /// Makes every committed transaction durable by committing an empty transaction with
    /// immediate durability (redb persists every earlier non-durable commit with it). Waits for
    /// a running write transaction to finish. Does nothing on a read-only database.
    fn flush(&self) -> Result<()> {
        let db = match &self.db {
            Db::ReadWrite(db) => db,
            Db::ReadOnly(_) => return Ok(()),
        };
        let mut txn = db.begin_write().map_err(map_transaction_error)?;
        txn.set_durability(redb::Durability::Immediate)
            .map_err(map_durability_error)?;
        txn.commit().map_err(map_commit_error)
    }
}

// ---------------------------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------------------------

/// A read transaction: a consistent snapshot of the database.
pub struct RedbReadTxn<'db> {
    txn: redb::ReadTransaction,
    _db: PhantomData<&'db RedbBackend>,
}

impl RedbReadTxn<'_> {
    /// The underlying redb read transaction, for raw access.
    pub fn raw(&self) -> &redb::ReadTransaction {
        &self.txn
    }
}

impl ReadTransaction for RedbReadTxn<'_> {
    type Table<'t>
        = RedbReadTable<'t>
    where
        Self: 't;

    #[inline]
    fn open_table(&self, name: &str) -> Result<RedbReadTable<'_>> {
        let def = definition(name)?;
        let table = guarded("opening a table", || match self.txn.open_table(def) {
            Ok(table) => Ok(Some(table)),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(map_table_error(e)),
        })?;
        Ok(RedbReadTable {
            table,
            _txn: PhantomData,
        })
    }
}

/// A write transaction. Dropping it without [`commit`](WriteTransaction::commit) rolls back.
pub struct RedbWriteTxn<'db> {
    txn: redb::WriteTransaction,
    /// Set when redb panicked inside this transaction (a damaged file): its state is then
    /// unknown, so `commit` refuses and rolls back.
    broken: Cell<bool>,
    _db: PhantomData<&'db RedbBackend>,
}

impl RedbWriteTxn<'_> {
    /// The underlying redb write transaction, for raw access.
    pub fn raw(&self) -> &redb::WriteTransaction {
        &self.txn
    }
}

impl WriteTransaction for RedbWriteTxn<'_> {
    type Table<'t>
        = RedbWriteTable<'t>
    where
        Self: 't;

    #[inline]
    fn open_table(&self, name: &str) -> Result<RedbWriteTable<'_>> {
        let def = definition(name)?;
        let table = guarded_in(&self.broken, "opening a table", || {
            self.txn.open_table(def).map_err(map_table_error)
        })?;
        Ok(RedbWriteTable {
            table,
            broken: &self.broken,
        })
    }

    fn commit(self) -> Result<()> {
        if self.broken.get() {
            let _ = guarded("rolling back", || {
                self.txn.abort().map_err(map_storage_error)
            });
            return Err(BackendError::Corrupted {
                message: "redb failed inside this write transaction (the file is damaged); \
                          it was rolled back"
                    .to_owned(),
            });
        }
        guarded("committing", || self.txn.commit().map_err(map_commit_error))
    }

    fn abort(self) -> Result<()> {
        guarded("rolling back", || {
            self.txn.abort().map_err(map_storage_error)
        })
    }
}

/// Opens the existing file at `path` as an empty database.
///
/// The file is not simply deleted: another process may have it open, and deleting a live
/// database would lose that process's writes silently. So the database is opened first (which
/// takes redb's lock, or fails with [`BackendError::AlreadyOpen`]) and wiped in one committed
/// transaction. Only a file redb cannot read as a database at all is deleted and created anew.
fn open_truncated(builder: &redb::Builder, path: &Path) -> Result<redb::Database> {
    match builder.create(path) {
        Ok(db) => {
            wipe(&db)?;
            Ok(db)
        }
        Err(e) => match map_open_error(e, path) {
            BackendError::Corrupted { .. } => {
                std::fs::remove_file(path)?;
                builder.create(path).map_err(|e| map_open_error(e, path))
            }
            other => Err(other),
        },
    }
}

/// Deletes every table, multimap table and persistent savepoint, in one durable commit.
fn wipe(db: &redb::Database) -> Result<()> {
    let mut txn = db.begin_write().map_err(map_transaction_error)?;
    txn.set_durability(redb::Durability::Immediate)
        .map_err(map_durability_error)?;
    let tables: Vec<_> = txn.list_tables().map_err(map_storage_error)?.collect();
    for table in tables {
        txn.delete_table(table).map_err(map_table_error)?;
    }
    let tables: Vec<_> = txn
        .list_multimap_tables()
        .map_err(map_storage_error)?
        .collect();
    for table in tables {
        txn.delete_multimap_table(table).map_err(map_table_error)?;
    }
    let savepoints: Vec<u64> = txn
        .list_persistent_savepoints()
        .map_err(map_storage_error)?
        .collect();
    for id in savepoints {
        txn.delete_persistent_savepoint(id)
            .map_err(map_savepoint_error)?;
    }
    txn.commit().map_err(map_commit_error)
}

/// The redb table definition of a contract table; an empty name is refused (redb panics on it).
fn definition(name: &str) -> Result<Def<'_>> {
    if name.is_empty() {
        return Err(BackendError::InvalidConfig {
            message: "table names must not be empty".to_owned(),
        });
    }
    Ok(Def::new(name))
}

// ---------------------------------------------------------------------------------------------
// Tables, guards, ranges
// ---------------------------------------------------------------------------------------------

/// A table in a read transaction. A table that does not exist reads as empty.
pub struct RedbReadTable<'t> {
    table: Option<redb::ReadOnlyTable<&'static [u8], &'static [u8]>>,
    _txn: PhantomData<&'t RedbReadTxn<'t>>,
}

impl ReadTable for RedbReadTable<'_> {
    type Guard<'g>
        = RedbGuard<'g>
    where
        Self: 'g;
    type Range<'g>
        = RedbRange<'g>
    where
        Self: 'g;

    #[inline]
    fn get(&self, key: &[u8]) -> Result<Option<RedbGuard<'_>>> {
        let Some(table) = &self.table else {
            return Ok(None);
        };
        guarded("a get", || {
            Ok(table
                .get(key)
                .map_err(map_storage_error)?
                .map(RedbGuard::checked))
        })
    }

    #[inline]
    fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<RedbRange<'_>> {
        let Some(table) = &self.table else {
            return Ok(RedbRange::empty());
        };
        if is_empty_range(lower, upper) {
            return Ok(RedbRange::empty());
        }
        let inner = guarded("a range", || {
            table
                .range::<&[u8]>((lower, upper))
                .map_err(map_storage_error)
        })?;
        Ok(RedbRange::new(inner, direction, None))
    }

    fn len(&self) -> Result<u64> {
        match &self.table {
            Some(table) => guarded("counting", || table.len().map_err(map_storage_error)),
            None => Ok(0),
        }
    }
}

/// A table in a write transaction.
pub struct RedbWriteTable<'t> {
    table: redb::Table<'t, &'static [u8], &'static [u8]>,
    broken: &'t Cell<bool>,
}

impl ReadTable for RedbWriteTable<'_> {
    type Guard<'g>
        = RedbGuard<'g>
    where
        Self: 'g;
    type Range<'g>
        = RedbRange<'g>
    where
        Self: 'g;

    #[inline]
    fn get(&self, key: &[u8]) -> Result<Option<RedbGuard<'_>>> {
        guarded_in(self.broken, "a get", || {
            Ok(self
                .table
                .get(key)
                .map_err(map_storage_error)?
                .map(RedbGuard::checked))
        })
    }

    #[inline]
    fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<RedbRange<'_>> {
        if is_empty_range(lower, upper) {
            return Ok(RedbRange::empty());
        }
        let inner = guarded_in(self.broken, "a range", || {
            self.table
                .range::<&[u8]>((lower, upper))
                .map_err(map_storage_error)
        })?;
        Ok(RedbRange::new(inner, direction, Some(self.broken)))
    }

    fn len(&self) -> Result<u64> {
        guarded_in(self.broken, "counting", || {
            self.table.len().map_err(map_storage_error)
        })
    }
}

impl WriteTable for RedbWriteTable<'_> {
    #[inline]
    fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        check_entry_len(key.len(), value.len())?;
        // The old value's guard is dropped right here; it is never handed out.
        guarded_in(self.broken, "an insert", || {
            self.table
                .insert(key, value)
                .map_err(map_storage_error)
                .map(drop)
        })
    }

    #[inline]
    fn remove(&mut self, key: &[u8]) -> Result<bool> {
        // redb may finish the removal when the returned guard drops: drop it before returning.
        guarded_in(self.broken, "a remove", || {
            let old = self.table.remove(key).map_err(map_storage_error)?;
            Ok(old.is_some())
        })
    }

    fn clear(&mut self) -> Result<()> {
        guarded_in(self.broken, "a clear", || {
            self.table.retain(|_, _| false).map_err(map_storage_error)
        })
    }
}

/// Refuses an entry larger than [`MAX_ENTRY_LEN`] before redb sees it.
fn check_entry_len(key_len: usize, value_len: usize) -> Result<()> {
    let len = key_len.saturating_add(value_len);
    if len > MAX_ENTRY_LEN {
        return Err(BackendError::ValueTooLarge {
            len,
            max: MAX_ENTRY_LEN,
        });
    }
    Ok(())
}

/// Bytes of one key or value, lent straight out of redb's page (no copy).
pub struct RedbGuard<'g> {
    /// Where `guard.value()` points, read once when the guard was made.
    bytes: PageBytes,
    /// Keeps the page (and so `bytes`) alive.
    _guard: redb::AccessGuard<'g, &'static [u8]>,
}

/// The location of a guard's bytes inside its page.
struct PageBytes {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

// SAFETY: `PageBytes` is only the address of immutable bytes owned by the `AccessGuard` next
// to it (see the `StableBytes` argument below); reading them from another thread is as safe
// as reading them through the guard, so `RedbGuard` is `Send`/`Sync` exactly when redb's
// `AccessGuard` is.
#[allow(unsafe_code)]
unsafe impl Send for PageBytes {}
// SAFETY: as for `Send`: shared, read-only access to immutable bytes.
#[allow(unsafe_code)]
unsafe impl Sync for PageBytes {}

impl<'g> RedbGuard<'g> {
    /// Wraps a guard redb handed out, reading where its bytes are once: on a damaged page the
    /// guard's offset or length may point outside the page, and redb's `value()` panics.
    /// Called inside the caller's panic guard, so that panic becomes `Corrupted` there, and
    /// `as_ref` never calls into redb again (no panic, and no page lookup per deref).
    #[inline(always)]
    fn checked(guard: redb::AccessGuard<'g, &'static [u8]>) -> Self {
        let value = guard.value();
        RedbGuard {
            bytes: PageBytes {
                ptr: std::ptr::NonNull::from(value).cast(),
                len: value.len(),
            },
            _guard: guard,
        }
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        self.as_ref()
    }
}

impl AsRef<[u8]> for RedbGuard<'_> {
    #[inline(always)]
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `ptr` and `len` are `guard.value()` as `checked` read it, from the
        // `AccessGuard` this struct owns. That slice lies in memory the guard keeps alive on
        // the heap (every redb 4.6.0 page variant is an `Arc<[u8]>`, a `Vec<u8>` or a mutable
        // page buffer behind an `Arc`), so moving the guard does not move it, and it is not
        // written while the guard lives (the `StableBytes` argument below). The returned
        // borrow is tied to `&self`, so it cannot outlive the guard. The canary test
        // `backends/redb/tests/guard_canary.rs` checks that the address and the bytes stay put.
        #[allow(unsafe_code)]
        unsafe {
            std::slice::from_raw_parts(self.bytes.ptr.as_ptr(), self.bytes.len)
        }
    }
}

impl fmt::Debug for RedbGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RedbGuard").field(&self.bytes()).finish()
    }
}

// SAFETY: `AccessGuard::value` (redb 4.6, `tree_store/btree_base.rs`) returns
// `&page.memory()[offset..offset + len]`. `offset` and `len` are private fields set when the
// guard is made and never changed afterwards, and no `&self` method of the guard mutates
// anything. The memory behind `page` is one of: an immutable page (`PageImpl`, an `Arc<[u8]>`);
// an `Arc<[u8]>` of page bytes; a `Vec<u8>` owned by the guard; or a mutable page, which redb
// only creates for the guard `remove` returns and only writes to in the guard's `Drop`. redb
// writes page buffers only through `Arc::get_mut` (`WritablePage::mem_mut`), which cannot
// succeed while the guard holds its own clone of that `Arc`; and a page a read snapshot can see
// is never rewritten in place (redb is copy-on-write and frees pages only when no reader can
// reach them). So the bytes returned by `as_ref` are the same on every call for as long as the
// guard lives; `RedbGuard` exposes no way to reach the guard mutably.
#[allow(unsafe_code)]
unsafe impl StableBytes for RedbGuard<'_> {}

/// An iterator over the `(key, value)` pairs of a range, in the requested direction.
pub struct RedbRange<'g> {
    inner: Option<redb::Range<'g, &'static [u8], &'static [u8]>>,
    direction: Direction,
    /// The write transaction's broken flag (`None` in a read transaction).
    broken: Option<&'g Cell<bool>>,
}

impl<'g> RedbRange<'g> {
    fn empty() -> Self {
        RedbRange {
            inner: None,
            direction: Direction::Forward,
            broken: None,
        }
    }

    fn new(
        inner: redb::Range<'g, &'static [u8], &'static [u8]>,
        direction: Direction,
        broken: Option<&'g Cell<bool>>,
    ) -> Self {
        RedbRange {
            inner: Some(inner),
            direction,
            broken,
        }
    }
}

impl<'g> Iterator for RedbRange<'g> {
    type Item = Result<(RedbGuard<'g>, RedbGuard<'g>)>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let inner = self.inner.as_mut()?;
        let direction = self.direction;
        let step = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let item = match direction {
                Direction::Forward => inner.next(),
                Direction::Reverse => inner.next_back(),
            };
            item.map(|entry| entry.map(|(k, v)| (RedbGuard::checked(k), RedbGuard::checked(v))))
        }));
        let item = match step {
            Ok(item) => item?,
            Err(payload) => {
                // The iterator's state is unknown after a panic: end the range here.
                self.inner = None;
                if let Some(broken) = self.broken {
                    broken.set(true);
                }
                return Some(Err(panicked("a range step", &*payload)));
            }
        };
        Some(item.map_err(map_storage_error))
    }
}

impl fmt::Debug for RedbRange<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedbRange")
            .field("empty", &self.inner.is_none())
            .field("direction", &self.direction)
            .finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Error mapping: one function per redb error type
// ---------------------------------------------------------------------------------------------

/// Runs one redb operation; a panic inside redb becomes [`BackendError::Corrupted`].
///
/// redb 4.6 panics instead of erroring on some damaged pages (a slice index out of range
/// while decoding a page). A damaged file is bad input, so no such panic may escape the
/// store. On the path that does not panic this costs nothing measurable: `catch_unwind` adds
/// no instructions, only unwinding tables (see the instruction-count benchmark).
#[inline(always)]
fn guarded<R>(what: &str, op: impl FnOnce() -> Result<R>) -> Result<R> {
    match std::panic::catch_unwind(AssertUnwindSafe(op)) {
        Ok(result) => result,
        Err(payload) => Err(panicked(what, &*payload)),
    }
}

/// [`guarded`] inside a write transaction: a panic also marks the transaction broken, so
/// its commit rolls back instead of publishing a state redb was in when it failed.
#[inline(always)]
fn guarded_in<R>(broken: &Cell<bool>, what: &str, op: impl FnOnce() -> Result<R>) -> Result<R> {
    match std::panic::catch_unwind(AssertUnwindSafe(op)) {
        Ok(result) => result,
        Err(payload) => {
            broken.set(true);
            Err(panicked(what, &*payload))
        }
    }
}

/// The error for a panic redb raised during `what`.
#[cold]
#[inline(never)]
fn panicked(what: &str, payload: &(dyn Any + Send)) -> BackendError {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    BackendError::Corrupted {
        message: format!("redb failed during {what} (the file is damaged): {message}"),
    }
}

fn invalid_config(path: &Path, what: &str) -> BackendError {
    BackendError::InvalidConfig {
        message: format!("redb database file `{}` {what}", path.display()),
    }
}

fn map_storage_error(e: redb::StorageError) -> BackendError {
    match e {
        redb::StorageError::Corrupted(message) => BackendError::Corrupted { message },
        redb::StorageError::ValueTooLarge(len) => BackendError::ValueTooLarge {
            len,
            max: MAX_ENTRY_LEN,
        },
        // redb reports a file that is not a redb database as InvalidData.
        redb::StorageError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            BackendError::Corrupted {
                message: e.to_string(),
            }
        }
        redb::StorageError::Io(e) => BackendError::Io(e),
        e @ (redb::StorageError::PreviousIo | redb::StorageError::LockPoisoned(_)) => {
            BackendError::Poisoned {
                message: e.to_string(),
            }
        }
        e => BackendError::engine(NAME, e),
    }
}

fn map_database_error(e: redb::DatabaseError) -> BackendError {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => BackendError::AlreadyOpen,
        redb::DatabaseError::Storage(e) => map_storage_error(e),
        e => BackendError::engine(NAME, e),
    }
}

/// [`map_database_error`], naming the file in errors that say nothing without it.
fn map_open_error(e: redb::DatabaseError, path: &Path) -> BackendError {
    match map_database_error(e) {
        BackendError::Corrupted { message } => BackendError::Corrupted {
            message: format!("{message} (file `{}`)", path.display()),
        },
        other => other,
    }
}

fn map_transaction_error(e: redb::TransactionError) -> BackendError {
    match e {
        redb::TransactionError::Storage(e) => map_storage_error(e),
        e => BackendError::engine(NAME, e),
    }
}

fn map_table_error(e: redb::TableError) -> BackendError {
    match e {
        redb::TableError::TableAlreadyOpen(table, _) => BackendError::TableAlreadyOpen { table },
        redb::TableError::Storage(e) => map_storage_error(e),
        e => BackendError::engine(NAME, e),
    }
}

fn map_commit_error(e: redb::CommitError) -> BackendError {
    match e {
        redb::CommitError::Storage(e) => map_storage_error(e),
        e => BackendError::engine(NAME, e),
    }
}

fn map_savepoint_error(e: redb::SavepointError) -> BackendError {
    match e {
        redb::SavepointError::Storage(e) => map_storage_error(e),
        e => BackendError::engine(NAME, e),
    }
}

fn map_durability_error(e: redb::SetDurabilityError) -> BackendError {
    match e {
        redb::SetDurabilityError::NonDurableCommitUnsupported => BackendError::InvalidConfig {
            message: format!(
                "{e} (RedbDurability::None needs redb's default concurrency mode, ExclusiveWriter)"
            ),
        },
        e => BackendError::engine(NAME, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_limit_is_checked_on_the_sum() {
        assert!(check_entry_len(MAX_ENTRY_LEN, 0).is_ok());
        assert!(check_entry_len(1, MAX_ENTRY_LEN - 1).is_ok());
        match check_entry_len(MAX_ENTRY_LEN / 2 + 1, MAX_ENTRY_LEN / 2) {
            Err(BackendError::ValueTooLarge { len, max }) => {
                assert_eq!(max, MAX_ENTRY_LEN);
                assert_eq!(len, MAX_ENTRY_LEN + 1);
            }
            other => panic!("expected ValueTooLarge, got {other:?}"),
        }
        assert!(check_entry_len(usize::MAX, usize::MAX).is_err());
    }

    #[test]
    fn capabilities_match_redb() {
        let caps = RedbBackend::CAPABILITIES;
        assert_eq!(caps.name, "redb");
        assert!(caps.snapshot_reads && caps.zero_copy_reads && caps.persistent);
        assert_eq!(caps.max_entry_len, Some(MAX_ENTRY_LEN));
    }

    #[test]
    fn backend_is_send_sync() {
        fn assert<T: Send + Sync + 'static>() {}
        assert::<RedbBackend>();
    }
}
