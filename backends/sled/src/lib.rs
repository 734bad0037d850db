//! The [sled](https://docs.rs/sled/0.34.7) 0.34 backend of `netabase_store`.
//!
//! [`SledBackend`] implements the byte-level contract of [`netabase_backend_api`] on a sled
//! 0.34 database. Every table of the contract is one sled [`Tree`], opened with
//! `db.open_tree(name)`, so a database written through this backend can be inspected with
//! plain sled ([`SledBackend::db`] gives raw access). The backend's only metadata is its
//! generation record (the tree `__netabase_sled_generation`, which is not a table, and the file
//! `netabase.manifest`; see "Damaged files" below). (The table named `__sled__default` is
//! sled's default tree, the one `db.insert(..)` writes to.)
//!
//! # Opening
//!
//! ```no_run
//! use netabase_backend_sled::{SledBackend, SledDurability, SledOptions};
//!
//! # fn main() -> Result<(), netabase_backend_api::BackendError> {
//! // Create or open with defaults (a sled database is a directory).
//! let db = SledBackend::create("data.sled")?;
//! # drop(db);
//!
//! // Or configure it.
//! let options = SledOptions::new()
//!     .cache_size_bytes(64 * 1024 * 1024)
//!     .durability(SledDurability::None);
//! let db = SledBackend::open("data.sled", &options)?;
//! # drop(db);
//!
//! // A scratch database, deleted when the handle drops.
//! let scratch = SledBackend::temporary()?;
//! # drop(scratch);
//! # Ok(())
//! # }
//! ```
//!
//! # Isolation: reads are read-committed
//!
//! sled 0.34 has no snapshots, so **read transactions are read-committed, not snapshots**:
//! every `get`, `range` and `len` of a read transaction sees the latest committed state, and a
//! commit that happens while a read transaction is open becomes visible to it
//! ([`SledBackend::CAPABILITIES`](Backend::CAPABILITIES) says `snapshot_reads: false`). Two
//! reads of one read transaction may therefore disagree. A range walks sled's tree lazily,
//! so a commit that lands while a range is being walked may show up in the part not yet
//! walked.
//!
//! Uncommitted writes are never visible outside their write transaction.
//!
//! # Write transactions: serialised and buffered
//!
//! sled 0.34's own transactions are closures that sled re-runs on conflict and that cannot
//! scan ranges, so a write transaction here is built differently:
//!
//! * **One writer at a time.** [`begin_write`](Backend::begin_write) takes a store-wide
//!   mutex; a second caller blocks until the first commits, aborts or is dropped. Readers
//!   never wait for it.
//! * **Buffered.** Inserts, removes and clears are kept in memory, per table, until commit.
//!   Reads in the write transaction (`get`, `range` in both directions, `len`) merge the
//!   buffer over the committed tree, so the transaction reads its own writes. Nothing touches
//!   sled before commit, so dropping or aborting the transaction just discards the buffer
//!   (and a table a rolled-back transaction opened is not even created).
//! * **Atomic commit.** [`commit`](WriteTransaction::commit) applies every touched table's
//!   buffer in one multi-tree sled transaction, so a commit is all-or-nothing across tables,
//!   also across a crash. A `clear` removes the keys the tree held when the commit began;
//!   the serialising mutex guarantees no other writer *of this backend* adds keys meanwhile.
//!   Writers that bypass the backend (raw [`SledBackend::db`] users, or another process
//!   sharing the files, which sled's file lock normally prevents) are not covered.
//!
//! The buffer costs memory proportional to the transaction's writes (a large bulk load is
//! best split into several transactions) and a `clear` of a large table reads its keys at
//! commit.
//!
//! Value guards ([`SledGuard`]) are either sled's own [`IVec`] (reference
//! counted: values longer than 22 bytes are shared with sled's cache, not copied; shorter ones
//! are held inline in the guard) or, for data written earlier in the same transaction, a
//! slice borrowed from the buffer. Keys yielded by sled's ranges are rebuilt by sled (it
//! stores them prefix-compressed).
//!
//! # Durability
//!
//! [`SledDurability::Immediate`] (the default) flushes sled's log (write + fsync) after every
//! commit, so a commit is durable when `commit()` returns. With [`SledDurability::None`] a
//! commit is written to sled's log buffers only; sled's background flusher makes it durable
//! within about 500 ms, and [`Backend::flush`] makes it durable at once. A crash loses the
//! commits made since the last flush, never part of one.
//!
//! # Damaged files
//!
//! A path that is not a directory, a directory whose files sled did not write, and a damaged
//! `conf` file are [`BackendError::Corrupted`]; sled panicking while opening is caught and
//! reported the same way. sled 0.34 recovers its log by replaying checksummed segments up to
//! the first invalid one and treats everything after it as a torn write, so on its own a
//! damaged data file opens without error, holding only the commits before the damage. To
//! turn that silent loss into an error, a backend opened from a path keeps a record of how
//! far the database got (module `manifest`): a generation counter and per-table entry counts
//! inside sled, written atomically with every durable commit (a non-durable commit only marks
//! the record dirty, once, so it costs nothing more; the record catches up at the next durable
//! commit, flush or clean close, and a dirty record found at open means the counts are taken
//! again), and the file `netabase.manifest` next to sled's files, rewritten after every flush
//! that made commits durable.
//!
//! Detected, as [`BackendError::Corrupted`] at open:
//! * **on every open:** sled recovered fewer commits than were made durable: a damaged or
//!   truncated data file (sled drops the damaged segment and everything after it), sled's
//!   files replaced by an older copy, or deleted while the manifest stayed; a damaged
//!   manifest (it carries a checksum);
//! * **with [`SledOptions::check_integrity_on_open`]** (one pass over every table): a table
//!   whose entry count differs from the count committed with the recovered generation
//!   (entries lost or added inside sled's files while the generation survived), unless the
//!   record was dirty (the last session ended after non-durable commits without a flush or a
//!   clean close): then the counts are taken again instead of checked.
//!
//! Not detected: changed bytes inside a value or key that sled still returns (sled checks its
//! own segments; the typed layer validates every archive it reads, and `Store::check_integrity`
//! compares records and indexes); commits made with [`SledDurability::None`] and lost before a
//! flush (the documented contract); a manifest deleted together with the data (a new one is
//! started from what sled holds); databases opened with [`SledBackend::from_db`] or
//! [`SledBackend::temporary`], which keep no record. A database written without the record (by
//! plain sled or an earlier release) starts one at its first writable open; a read-only open
//! writes nothing.
//!
//! # Closing
//!
//! sled 0.34 closes its files asynchronously (log writes run on a global thread pool), so
//! dropping a [`SledBackend`] opened from a path waits, up to 2 s, until sled has released its
//! file lock: the database can then be opened again at once, in this process or another.
//!
//! # Read-only
//!
//! sled 0.34 has no read-only mode: [`SledOptions::read_only`] is enforced by this backend
//! ([`begin_write`](Backend::begin_write) fails with [`BackendError::ReadOnly`]). sled still
//! opens its files read-write and takes its exclusive lock, so a read-only handle cannot share
//! a database with another process.
#![deny(unsafe_code)]
#![warn(missing_docs)]

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, btree_map};
use std::convert::Infallible;
use std::fmt;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use netabase_backend_api::{
    Backend, BackendError, Capabilities, Direction, ReadTable, ReadTransaction, Result,
    StableBytes, WriteTable, WriteTransaction, is_empty_range,
};
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::{Transactional, Tree};

/// sled's value type, which [`SledGuard::into_ivec`] and `From<IVec> for SledGuard` use.
pub use sled::IVec;

mod manifest;

/// The backend's name in [`Capabilities`] and in [`BackendError::Engine`].
const NAME: &str = "sled";

/// The name sled gives its default tree (the one `Db` derefs to). A table of this name is
/// that tree; `Db::open_tree` would hand out a second, independent handle on it.
const DEFAULT_TREE: &str = "__sled__default";

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/// How a write transaction's commit reaches the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SledDurability {
    /// A commit is written to sled's log buffers only. sled's background flusher makes it
    /// durable within about 500 ms; [`Backend::flush`] makes it durable at once. Much faster;
    /// a crash loses the commits made since the last flush (never part of a commit).
    None,
    /// A commit is durable when `commit()` returns: the backend flushes sled's log (write and
    /// fsync) after every commit.
    #[default]
    Immediate,
}

/// How to open a sled database directory. Build one with [`SledOptions::new`] (or `Default`)
/// and the chained setters, or set the public fields.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SledOptions {
    /// The size of sled's page cache in bytes; `None` keeps sled's default (1 GiB, capped at
    /// the cgroup memory limit).
    pub cache_size_bytes: Option<u64>,
    /// Create the database when the directory holds none (default `true`). When `false`, a
    /// missing directory, or one without a sled database in it, is
    /// [`BackendError::InvalidConfig`].
    pub create_if_missing: bool,
    /// Start with an empty database, discarding what an existing one holds (default `false`).
    /// The database is opened first (so one another handle has open is
    /// [`BackendError::AlreadyOpen`], never wiped from under it), then every tree is dropped
    /// (sled's default tree is cleared) and the result flushed. The wipe is not atomic: a
    /// crash during it may leave some tables behind. A database sled cannot open is reported
    /// ([`BackendError::Corrupted`]), not deleted. Cannot be combined with
    /// [`read_only`](SledOptions::read_only).
    pub truncate: bool,
    /// Refuse writes (default `false`): reads work, and
    /// [`begin_write`](netabase_backend_api::Backend::begin_write) fails with
    /// [`BackendError::ReadOnly`]. The database must exist. sled 0.34 has no read-only mode,
    /// so this is enforced by the backend; sled still opens its files read-write and locks
    /// them exclusively.
    pub read_only: bool,
    /// The durability of every write transaction (default
    /// [`Immediate`](SledDurability::Immediate)).
    pub durability: SledDurability,
    /// Also compare every table's entry count with the count committed with the generation
    /// sled recovered (default `false`): catches entries lost inside sled's data file even
    /// when the generation record survived. Costs one pass over every table at open. The
    /// generation check (see "Damaged files" in the crate docs) runs on every open.
    pub check_integrity_on_open: bool,
}

impl Default for SledOptions {
    fn default() -> Self {
        SledOptions {
            cache_size_bytes: None,
            create_if_missing: true,
            truncate: false,
            read_only: false,
            durability: SledDurability::Immediate,
            check_integrity_on_open: false,
        }
    }
}

impl SledOptions {
    /// The defaults: create if missing, no truncation, read-write, immediate durability,
    /// sled's default cache size.
    pub fn new() -> Self {
        SledOptions::default()
    }

    /// Sets the size of sled's page cache, in bytes.
    pub fn cache_size_bytes(mut self, bytes: u64) -> Self {
        self.cache_size_bytes = Some(bytes);
        self
    }

    /// Sets whether a missing database is created.
    pub fn create_if_missing(mut self, yes: bool) -> Self {
        self.create_if_missing = yes;
        self
    }

    /// Sets whether existing data is wiped when opening.
    pub fn truncate(mut self, yes: bool) -> Self {
        self.truncate = yes;
        self
    }

    /// Sets whether writes are refused.
    pub fn read_only(mut self, yes: bool) -> Self {
        self.read_only = yes;
        self
    }

    /// Sets the durability of write transactions.
    pub fn durability(mut self, durability: SledDurability) -> Self {
        self.durability = durability;
        self
    }

    /// Sets whether table entry counts are checked at open (see the field).
    pub fn check_integrity_on_open(mut self, yes: bool) -> Self {
        self.check_integrity_on_open = yes;
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Backend
// ---------------------------------------------------------------------------------------------

/// A sled database, as a `netabase_store` backend.
pub struct SledBackend {
    /// Always `Some`, except inside `Drop` (which drops the database before waiting for its
    /// files to close).
    db: Option<sled::Db>,
    /// sled's data file, `<dir>/db`, when this backend opened the database from a path: drop
    /// waits until sled has released its lock on it.
    data_file: Option<PathBuf>,
    /// Serialises write transactions. It guards no data: see [`Backend::begin_write`].
    writer: Mutex<()>,
    /// Trees known to exist, by table name. sled's `Db::open_tree` is as cheap as a lookup
    /// here for an existing tree, but it *creates* a missing one, and reads must not create
    /// trees; asking sled whether a tree exists (`tree_names`) copies every name. So existing
    /// trees are remembered here, and sled is asked only on a miss.
    trees: RwLock<HashMap<String, Tree>>,
    read_only: bool,
    durability: SledDurability,
    /// The record of how far the database got, for a database opened from a path (see
    /// [`manifest`]); `None` for [`from_db`](SledBackend::from_db) and temporary databases.
    tracking: Option<Tracking>,
}

/// The generation tree and the manifest file of a database opened from a path.
struct Tracking {
    tree: Tree,
    file: manifest::ManifestFile,
    /// What the last commit reached and what sled's record holds (writers are serialised).
    state: Mutex<TrackState>,
    /// Serialises manifest writes; holds the generation last written.
    written: Mutex<u64>,
}

/// What a commit needs from the record's state (see [`SledWriteTxn::commit`]).
struct RecordBase {
    generation: u64,
    dirty: bool,
    /// The current count of each table the commit writes, in the commit's order.
    counts: Vec<u64>,
    /// Counts that differ from what sled's record holds (for a durable commit after
    /// non-durable ones).
    stale: Vec<(String, u64)>,
}

/// The generation record, in memory.
///
/// A durable commit writes the record in its own sled transaction. A non-durable one only
/// marks the record dirty (the first after it was up to date; later ones skip it, which keeps
/// a non-durable commit as cheap as without the record), and the record is brought up to date
/// at the next durable commit, flush or clean close. The manifest always states the record's
/// generation, never more, so the check "sled's record >= manifest" stays exact.
#[derive(Clone, Default)]
struct TrackState {
    /// The generation and counts after the last commit.
    current: manifest::Progress,
    /// What sled's record holds (the last time it was written).
    recorded: manifest::Progress,
    /// Whether sled's record is marked dirty.
    dirty: bool,
}

impl Tracking {
    /// Opens the record of `backend`'s database in `dir` and checks it (see [`manifest`]).
    fn open(backend: &SledBackend, dir: &Path, options: &SledOptions) -> Result<Option<Tracking>> {
        let db = backend.db();
        let exists = db
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == manifest::GENERATION_TREE.as_bytes());
        let tree = if exists || !options.read_only {
            Some(
                db.open_tree(manifest::GENERATION_TREE)
                    .map_err(map_sled_error)?,
            )
        } else {
            None
        };
        let read = manifest::read_from_sled(tree.as_ref().filter(|_| exists))?;
        let was_dirty = read.as_ref().is_some_and(|(_, dirty)| *dirty);
        let recovered = read.map(|(progress, _)| progress);
        let file = manifest::ManifestFile::in_dir(dir);
        let recorded = file.read()?;
        manifest::verify(dir, recovered.as_ref(), recorded.as_ref())?;
        // A dirty record (the last session ended without bringing it up to date after
        // non-durable commits) has counts that may lag: count again, and check nothing more.
        let counted = match (&recovered, options.check_integrity_on_open || was_dirty) {
            (Some(_), false) => None,
            _ => Some(table_counts(db)?),
        };
        let rewrite = !exists || was_dirty;
        let progress = match recovered {
            Some(progress) if was_dirty => manifest::Progress {
                generation: progress.generation,
                counts: counted.unwrap_or_default(),
            },
            Some(progress) => {
                if let Some(actual) = &counted {
                    manifest::verify_counts(dir, &progress, actual)?;
                }
                progress
            }
            // A new database, or one written before this record existed: start it now.
            None => manifest::Progress {
                generation: 0,
                counts: counted.unwrap_or_default(),
            },
        };
        let Some(tree) = tree else {
            // Read-only, and sled holds no record: nothing is written, so nothing to track.
            return Ok(None);
        };
        if rewrite && !options.read_only {
            let mut batch = sled::Batch::default();
            if was_dirty {
                // Tables counted before may be empty now: their old counts must go.
                for key in tree.scan_prefix(manifest::COUNT_PREFIX).keys() {
                    batch.remove(key.map_err(map_sled_error)?);
                }
            }
            for (name, count) in &progress.counts {
                batch.insert(manifest::count_key(name), &count.to_be_bytes());
            }
            batch.insert(manifest::GENERATION_KEY, &progress.generation.to_be_bytes());
            batch.insert(manifest::DIRTY_KEY, &0u64.to_be_bytes());
            tree.apply_batch(batch).map_err(map_sled_error)?;
            db.flush().map_err(map_sled_error)?;
        }
        let tracking = Tracking {
            tree,
            file,
            state: Mutex::new(TrackState {
                current: progress.clone(),
                recorded: progress.clone(),
                dirty: was_dirty && options.read_only,
            }),
            written: Mutex::new(recorded.as_ref().map_or(0, |m| m.generation)),
        };
        if !options.read_only && recorded.as_ref() != Some(&progress) {
            // What sled recovered is on disk: the manifest may say so.
            tracking.record(&progress)?;
        }
        Ok(Some(tracking))
    }

    /// Writes `progress` to the manifest unless a later one was written already.
    fn record(&self, progress: &manifest::Progress) -> Result<()> {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        if progress.generation < *written {
            return Ok(());
        }
        self.file.write(progress)?;
        *written = progress.generation;
        Ok(())
    }

    /// The record state.
    fn snapshot(&self) -> TrackState {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Brings sled's record up to the last commit if it is dirty (one atomic batch on the
    /// record's tree); returns what the record holds. The caller holds the writer lock, so no
    /// commit runs meanwhile.
    fn catch_up(&self) -> Result<manifest::Progress> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.dirty {
            let mut batch = sled::Batch::default();
            for (name, count) in &state.current.counts {
                if state.recorded.counts.get(name) != Some(count) {
                    batch.insert(manifest::count_key(name), &count.to_be_bytes());
                }
            }
            batch.insert(
                manifest::GENERATION_KEY,
                &state.current.generation.to_be_bytes(),
            );
            batch.insert(manifest::DIRTY_KEY, &0u64.to_be_bytes());
            self.tree.apply_batch(batch).map_err(map_sled_error)?;
            state.recorded = state.current.clone();
            state.dirty = false;
        }
        Ok(state.recorded.clone())
    }
}

/// Every table's entry count (one pass over every tree).
fn table_counts(db: &sled::Db) -> Result<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    for name in db.tree_names() {
        let Ok(name) = std::str::from_utf8(&name) else {
            continue;
        };
        if name == manifest::GENERATION_TREE {
            continue;
        }
        let tree: Tree = if name == DEFAULT_TREE {
            (**db).clone()
        } else {
            db.open_tree(name).map_err(map_sled_error)?
        };
        let len = tree_len(&tree)?;
        if len > 0 {
            counts.insert(name.to_owned(), len);
        }
    }
    Ok(counts)
}

impl fmt::Debug for SledBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledBackend")
            .field("read_only", &self.read_only)
            .field("durability", &self.durability)
            .finish()
    }
}

impl SledBackend {
    /// Opens (creating if needed) the database directory at `path` with default options.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        Self::open(path, &SledOptions::default())
    }

    /// Opens the database directory at `path` as `options` say.
    ///
    /// Errors: a missing database with `create_if_missing(false)` or `read_only(true)`, or
    /// `truncate` together with `read_only`, is [`BackendError::InvalidConfig`]; a database
    /// another handle (in this process or another) has open is [`BackendError::AlreadyOpen`];
    /// a path that is not a directory, a directory whose files sled did not write, or a
    /// damaged `conf` file are [`BackendError::Corrupted`] (but see the crate docs: sled does
    /// not detect damage inside its data file); file system errors are [`BackendError::Io`].
    pub fn open(path: impl AsRef<Path>, options: &SledOptions) -> Result<Self> {
        let path = path.as_ref();
        if options.truncate && options.read_only {
            return Err(invalid_config(
                path,
                "`truncate` cannot be combined with `read_only`",
            ));
        }
        if path.try_exists()? && !path.is_dir() {
            return Err(BackendError::Corrupted {
                message: format!(
                    "`{}` is not a directory, so it is not a sled database",
                    path.display()
                ),
            });
        }
        // sled keeps its data in `<dir>/db`; without it the directory holds no database.
        let has_database = path.join("db").try_exists()?;
        // sled writes `<dir>/conf` before it creates `<dir>/db`, so a `db` without a `conf` was
        // not written by sled. sled would take it for a torn log and overwrite it.
        if has_database && !path.join("conf").try_exists()? {
            return Err(BackendError::Corrupted {
                message: format!(
                    "`{}` holds a `db` file but no `conf` file, so it is not a sled database",
                    path.display()
                ),
            });
        }
        if !has_database && options.read_only {
            return Err(invalid_config(
                path,
                "holds no database, and a read-only database cannot be created",
            ));
        }
        if !has_database && !options.create_if_missing {
            return Err(invalid_config(
                path,
                "holds no database, and `create_if_missing` is false",
            ));
        }
        let mut config = sled::Config::new().path(path);
        if let Some(bytes) = options.cache_size_bytes {
            config = config.cache_capacity(bytes);
        }
        let db = open_config(&config, Some(path))?;
        let mut backend = SledBackend::from_db(db)
            .with_durability(options.durability)
            .with_read_only(options.read_only);
        backend.data_file = Some(path.join("db"));
        if options.truncate {
            backend.wipe()?;
            match std::fs::remove_file(path.join(manifest::FILE_NAME)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        backend.tracking = Tracking::open(&backend, path, options)?;
        Ok(backend)
    }

    /// A fresh database in a temporary directory (sled's `Config::temporary`, under
    /// `/dev/shm` on Linux), deleted when this handle drops. Its commits are not flushed
    /// ([`SledDurability::None`]): it does not outlive the handle anyway, although
    /// [`CAPABILITIES`](Backend::CAPABILITIES) (a property of the type) says `persistent`.
    pub fn temporary() -> Result<Self> {
        let db = open_config(&sled::Config::new().temporary(true), None)?;
        Ok(SledBackend::from_db(db).with_durability(SledDurability::None))
    }

    /// Wraps a sled database opened elsewhere (read-write, with
    /// [`Immediate`](SledDurability::Immediate) durability; see
    /// [`with_durability`](SledBackend::with_durability)).
    ///
    /// Every tree the database holds is a table of the backend, named by the tree's name
    /// (trees whose names are not UTF-8 cannot be opened as tables).
    pub fn from_db(db: sled::Db) -> Self {
        SledBackend {
            db: Some(db),
            data_file: None,
            writer: Mutex::new(()),
            trees: RwLock::new(HashMap::new()),
            read_only: false,
            durability: SledDurability::Immediate,
            tracking: None,
        }
    }

    /// Sets the durability of the write transactions committed from now on.
    pub fn with_durability(mut self, durability: SledDurability) -> Self {
        self.durability = durability;
        self
    }

    /// Sets whether write transactions are refused.
    pub fn with_read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// The durability of write transactions.
    pub fn durability(&self) -> SledDurability {
        self.durability
    }

    /// Whether writes are refused.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The underlying sled database, for raw access.
    ///
    /// Tables are trees named by their table name. Writes made here bypass the backend's
    /// writer serialisation (see the crate docs); dropping a tree the backend has used makes
    /// its later operations on that table fail. A clone of the database kept alive keeps
    /// its files open (and locked) after the backend is dropped.
    pub fn db(&self) -> &sled::Db {
        self.db
            .as_ref()
            .expect("the database is only taken out while the backend is dropped")
    }

    /// The tree of table `name`, if it exists. Never creates it.
    fn existing_tree(&self, name: &str) -> Result<Option<Tree>> {
        if name == DEFAULT_TREE {
            return Ok(Some((**self.db()).clone()));
        }
        if let Some(tree) = read_lock(&self.trees).get(name) {
            return Ok(Some(tree.clone()));
        }
        let exists = self
            .db()
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == name.as_bytes());
        if !exists {
            return Ok(None);
        }
        self.open_tree(name).map(Some)
    }

    /// The tree of table `name`, created if needed.
    fn open_tree(&self, name: &str) -> Result<Tree> {
        if name == DEFAULT_TREE {
            return Ok((**self.db()).clone());
        }
        if let Some(tree) = read_lock(&self.trees).get(name) {
            return Ok(tree.clone());
        }
        let tree = self.db().open_tree(name).map_err(map_sled_error)?;
        write_lock(&self.trees).insert(name.to_owned(), tree.clone());
        Ok(tree)
    }

    /// Drops every tree, clears the default tree, and flushes.
    fn wipe(&self) -> Result<()> {
        write_lock(&self.trees).clear();
        for name in self.db().tree_names() {
            if name.as_ref() == DEFAULT_TREE.as_bytes() {
                self.db().clear().map_err(map_sled_error)?;
            } else {
                self.db().drop_tree(&name).map_err(map_sled_error)?;
            }
        }
        self.db().flush().map_err(map_sled_error)?;
        Ok(())
    }
}

/// How long dropping a backend waits for sled to close its files.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

impl Drop for SledBackend {
    /// Drops the database, then waits (up to 2 s) until sled has released the lock on its
    /// data file, so the database can be opened again as soon as `drop` returns.
    ///
    /// sled 0.34 closes its files asynchronously: log writes run on a global thread pool
    /// whose jobs hold the file until they finish, so an immediate reopen would otherwise
    /// fail now and then (with [`BackendError::AlreadyOpen`]), more often under load. A clone
    /// of [`db`](SledBackend::db) kept alive holds the files open: drop then gives up after
    /// the timeout.
    fn drop(&mut self) {
        // A clean close brings the generation record up to date (after non-durable commits),
        // so the next open need not count every table again. Best effort: a failure here only
        // means that count.
        if self.tracking.as_ref().is_some_and(|t| t.snapshot().dirty) && !self.read_only {
            let _ = self.flush();
        }
        write_lock(&self.trees).clear();
        // The generation tree shares sled's files with the database: close it first, or the
        // files stay open until this function has waited out its timeout.
        drop(self.tracking.take());
        drop(self.db.take());
        let Some(data_file) = &self.data_file else {
            return;
        };
        let deadline = Instant::now() + CLOSE_TIMEOUT;
        let mut pause = Duration::from_micros(100);
        loop {
            let released = match std::fs::File::open(data_file) {
                // The lock is released when `file` is closed, at the end of this arm.
                Ok(file) => !matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
                // Gone or unreadable: nothing to wait for.
                Err(_) => true,
            };
            if released || Instant::now() >= deadline {
                return;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }
}

impl Backend for SledBackend {
    type ReadTxn<'db> = SledReadTxn<'db>;
    type WriteTxn<'db> = SledWriteTxn<'db>;

    /// Read-committed reads (no snapshots), zero-copy value guards, persistent, no entry size
    /// limit (sled stores large values in separate blob files).
    const CAPABILITIES: Capabilities = Capabilities::new(NAME)
        .with_snapshot_reads(false)
        .with_zero_copy_reads(true)
        .with_persistent(true)
        .with_max_entry_len(None);

    fn begin_read(&self) -> Result<SledReadTxn<'_>> {
        Ok(SledReadTxn { backend: self })
    }

    /// Takes the store-wide writer lock, blocking while another write transaction is alive.
    ///
    /// A poisoned lock (a thread panicked while holding a write transaction) is taken over,
    /// not reported: the lock guards no data, the panicking transaction's buffer died with
    /// it, and its sled commit, if it got that far, is atomic. So the database is consistent.
    fn begin_write(&self) -> Result<SledWriteTxn<'_>> {
        if self.read_only {
            return Err(BackendError::ReadOnly);
        }
        let lock = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(SledWriteTxn {
            backend: self,
            _lock: lock,
            tables: RefCell::new(HashMap::new()),
        })
    }

    /// Flushes sled's log (write and fsync): every commit so far becomes durable. Does not
    /// wait for a running write transaction (its writes are not in sled until it commits).
    fn flush(&self) -> Result<()> {
        let Some(tracking) = &self.tracking else {
            return self.db().flush().map(drop).map_err(map_sled_error);
        };
        // Bring the record up to date, unless a write transaction is running (then its
        // commit, or the next flush, will): never wait for it, a flush may come from the
        // thread that holds it.
        let recorded = match self.writer.try_lock() {
            Ok(_writer) => tracking.catch_up()?,
            Err(std::sync::TryLockError::Poisoned(p)) => {
                let _writer = p.into_inner();
                tracking.catch_up()?
            }
            Err(std::sync::TryLockError::WouldBlock) => tracking.snapshot().recorded,
        };
        self.db().flush().map_err(map_sled_error)?;
        // Everything up to `recorded` is durable now (perhaps more).
        tracking.record(&recorded)
    }
}

/// Opens a sled config; a panic inside sled while opening becomes [`BackendError::Corrupted`].
fn open_config(config: &sled::Config, path: Option<&Path>) -> Result<sled::Db> {
    let shown = path.map_or_else(
        || "temporary database".to_owned(),
        |p| format!("`{}`", p.display()),
    );
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open())).map_err(
        |panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            BackendError::Corrupted {
                message: format!("{shown}: sled failed while opening it: {message}"),
            }
        },
    )?;
    opened.map_err(|e| map_open_error(e, &shown))
}

fn read_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    // The map is only ever replaced whole-entry by `insert`/`clear`; a panic elsewhere cannot
    // leave it half-updated, so poisoning carries no meaning.
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(BackendError::InvalidConfig {
            message: "table names must not be empty".to_owned(),
        });
    }
    if name == manifest::GENERATION_TREE {
        return Err(BackendError::InvalidConfig {
            message: format!("`{name}` is the backend's own record, not a table"),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Read transactions
// ---------------------------------------------------------------------------------------------

/// A read transaction. sled has no snapshots: every read sees the latest committed state
/// (read-committed; see the crate docs).
pub struct SledReadTxn<'db> {
    backend: &'db SledBackend,
}

impl fmt::Debug for SledReadTxn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledReadTxn").finish_non_exhaustive()
    }
}

impl ReadTransaction for SledReadTxn<'_> {
    type Table<'t>
        = SledReadTable<'t>
    where
        Self: 't;

    fn open_table(&self, name: &str) -> Result<SledReadTable<'_>> {
        check_name(name)?;
        let tree = OnceLock::new();
        if let Some(existing) = self.backend.existing_tree(name)? {
            let _ = tree.set(existing);
        }
        Ok(SledReadTable {
            backend: self.backend,
            name: name.to_owned(),
            tree,
        })
    }
}

/// A table in a read transaction. A table that does not exist reads as empty (and is not
/// created); if a later commit creates it, the handle sees it (read-committed).
pub struct SledReadTable<'t> {
    backend: &'t SledBackend,
    name: String,
    tree: OnceLock<Tree>,
}

impl fmt::Debug for SledReadTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledReadTable")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SledReadTable<'_> {
    /// The table's tree, looked up again while it does not exist.
    fn tree(&self) -> Result<Option<&Tree>> {
        if let Some(tree) = self.tree.get() {
            return Ok(Some(tree));
        }
        Ok(self
            .backend
            .existing_tree(&self.name)?
            .map(|tree| self.tree.get_or_init(|| tree)))
    }
}

impl ReadTable for SledReadTable<'_> {
    type Guard<'g>
        = SledGuard<'g>
    where
        Self: 'g;
    type Range<'g>
        = SledRange<'g>
    where
        Self: 'g;

    fn get(&self, key: &[u8]) -> Result<Option<SledGuard<'_>>> {
        let Some(tree) = self.tree()? else {
            return Ok(None);
        };
        let value = tree.get(key).map_err(map_sled_error)?;
        Ok(value.map(SledGuard::shared))
    }

    fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<SledRange<'_>> {
        if is_empty_range(lower, upper) {
            return Ok(SledRange::empty());
        }
        let tree = self.tree()?.map(|tree| tree_range(tree, lower, upper));
        Ok(SledRange::new(tree, None, direction))
    }

    fn len(&self) -> Result<u64> {
        match self.tree()? {
            Some(tree) => tree_len(tree),
            None => Ok(0),
        }
    }
}

fn tree_range(tree: &Tree, lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> sled::Iter {
    tree.range::<&[u8], _>((lower, upper))
}

/// The number of entries of a tree, reporting errors (sled's `Tree::len` counts them).
fn tree_len(tree: &Tree) -> Result<u64> {
    let mut n = 0;
    for item in tree.iter() {
        item.map_err(map_sled_error)?;
        n += 1;
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Write transactions
// ---------------------------------------------------------------------------------------------

/// The buffered state of one table in a write transaction.
#[derive(Default)]
struct TableState {
    /// The table's tree, if it existed when the table was first opened in this transaction.
    tree: Option<Tree>,
    /// Writes since then: `Some(value)` is an insert, `None` a remove.
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Whether the table was cleared: the tree's entries are then ignored.
    cleared: bool,
}

impl TableState {
    /// Whether commit has anything to do for this table.
    fn is_dirty(&self) -> bool {
        !self.writes.is_empty() || (self.cleared && self.tree.is_some())
    }

    /// The committed tree, unless the table was cleared in this transaction.
    fn visible_tree(&self) -> Option<&Tree> {
        if self.cleared {
            None
        } else {
            self.tree.as_ref()
        }
    }
}

enum Slot {
    /// A handle on the table is alive and holds its state.
    Open,
    /// No handle is alive; the state waits here for the next one (or for commit).
    Closed(TableState),
}

/// A write transaction: holds the store-wide writer lock and buffers every write until
/// [`commit`](WriteTransaction::commit). Dropping it without committing discards the buffer.
pub struct SledWriteTxn<'db> {
    backend: &'db SledBackend,
    _lock: MutexGuard<'db, ()>,
    tables: RefCell<HashMap<String, Slot>>,
}

impl fmt::Debug for SledWriteTxn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledWriteTxn")
            .field("tables", &self.tables.borrow().len())
            .finish_non_exhaustive()
    }
}

impl WriteTransaction for SledWriteTxn<'_> {
    type Table<'t>
        = SledWriteTable<'t>
    where
        Self: 't;

    fn open_table(&self, name: &str) -> Result<SledWriteTable<'_>> {
        check_name(name)?;
        let mut tables = self.tables.borrow_mut();
        let state = match tables.get_mut(name) {
            Some(slot) => match std::mem::replace(slot, Slot::Open) {
                Slot::Closed(state) => state,
                Slot::Open => {
                    return Err(BackendError::TableAlreadyOpen {
                        table: name.to_owned(),
                    });
                }
            },
            None => {
                let tree = self.backend.existing_tree(name)?;
                tables.insert(name.to_owned(), Slot::Open);
                TableState {
                    tree,
                    ..TableState::default()
                }
            }
        };
        Ok(SledWriteTable {
            txn: self,
            name: name.to_owned(),
            state,
        })
    }

    fn commit(self) -> Result<()> {
        let tables = self.tables.take();
        let mut plans: Vec<(String, Tree, TableState, Vec<IVec>)> = Vec::new();
        for (name, slot) in tables {
            // A handle borrows the transaction, so none is alive (`Open`) when it is consumed.
            let Slot::Closed(state) = slot else {
                continue;
            };
            if !state.is_dirty() {
                continue;
            }
            let tree = match &state.tree {
                Some(tree) => tree.clone(),
                None => self.backend.open_tree(&name)?,
            };
            // The keys a clear removes: every key the tree holds now that the buffer does not
            // overwrite anyway. Writers are serialised, so no writer of this backend adds keys
            // between here and the transaction below.
            let mut cleared_keys = Vec::new();
            if state.cleared && state.tree.is_some() {
                for key in tree.iter().keys() {
                    let key = key.map_err(map_sled_error)?;
                    if !state.writes.contains_key(key.as_ref()) {
                        cleared_keys.push(key);
                    }
                }
            }
            plans.push((name, tree, state, cleared_keys));
        }
        // sled panics on a transaction over no trees.
        if plans.is_empty() {
            return Ok(());
        }
        let tracking = self.backend.tracking.as_ref();
        let durable = self.backend.durability == SledDurability::Immediate;
        let mut trees: Vec<Tree> = plans.iter().map(|(_, tree, _, _)| tree.clone()).collect();
        // What the record needs from its state, read under the lock without cloning its maps.
        let base = tracking.map(|tracking| {
            let state = tracking
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            RecordBase {
                generation: state.current.generation,
                dirty: state.dirty,
                counts: plans
                    .iter()
                    .map(|(name, ..)| state.current.counts.get(name).copied().unwrap_or(0))
                    .collect(),
                // Counts of the non-durable commits since the record was written, which a
                // durable commit writes too.
                stale: if durable && state.dirty {
                    state
                        .current
                        .counts
                        .iter()
                        .filter(|(name, count)| state.recorded.counts.get(*name) != Some(count))
                        .map(|(name, count)| (name.clone(), *count))
                        .collect()
                } else {
                    Vec::new()
                },
            }
        });
        // A durable commit writes the record; a non-durable one only marks it dirty, and
        // only if it is not already (see `TrackState`).
        let touch_record = base.as_ref().is_some_and(|b| durable || !b.dirty);
        if let (Some(tracking), true) = (tracking, touch_record) {
            trees.push(tracking.tree.clone());
        }
        let applied = Transactional::<Infallible>::transaction(
            trees.as_slice(),
            |views: &Vec<TransactionalTree>| -> std::result::Result<
                Vec<u64>,
                ConflictableTransactionError<Infallible>,
            > {
                let mut counts = match &base {
                    Some(base) => base.counts.clone(),
                    None => vec![0; plans.len()],
                };
                for ((view, (_, _, state, cleared_keys)), count) in
                    views.iter().zip(&plans).zip(counts.iter_mut())
                {
                    for key in cleared_keys {
                        if view.remove(key.clone())?.is_some() {
                            *count = count.saturating_sub(1);
                        }
                    }
                    for (key, value) in &state.writes {
                        let old = match value {
                            Some(value) => view.insert(key.as_slice(), value.as_slice())?,
                            None => view.remove(key.as_slice())?,
                        };
                        match (old.is_some(), value.is_some()) {
                            (false, true) => *count += 1,
                            (true, false) => *count = count.saturating_sub(1),
                            _ => {}
                        }
                    }
                }
                if let (Some(record), Some(base)) = (views.get(plans.len()), &base) {
                    if durable {
                        for (name, count) in &base.stale {
                            record.insert(manifest::count_key(name), &count.to_be_bytes())?;
                        }
                        for ((name, ..), count) in plans.iter().zip(&counts) {
                            record.insert(manifest::count_key(name), &count.to_be_bytes())?;
                        }
                        let generation = base.generation + 1;
                        record.insert(manifest::GENERATION_KEY, &generation.to_be_bytes())?;
                        if base.dirty {
                            record.insert(manifest::DIRTY_KEY, &0u64.to_be_bytes())?;
                        }
                    } else {
                        record.insert(manifest::DIRTY_KEY, &1u64.to_be_bytes())?;
                    }
                }
                Ok(counts)
            },
        );
        let counts = applied.map_err(map_transaction_error)?;
        let recorded = tracking.and_then(|tracking| {
            let mut state = tracking
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            state.current.generation += 1;
            for ((name, ..), count) in plans.iter().zip(counts) {
                match state.current.counts.get_mut(name) {
                    Some(stored) => *stored = count,
                    None => {
                        state.current.counts.insert(name.clone(), count);
                    }
                }
            }
            if durable {
                state.recorded = state.current.clone();
                state.dirty = false;
                Some(state.recorded.clone())
            } else {
                state.dirty = true;
                None
            }
        });
        if durable {
            self.backend.db().flush().map_err(map_sled_error)?;
            if let (Some(tracking), Some(recorded)) = (tracking, recorded) {
                tracking.record(&recorded)?;
            }
        }
        Ok(())
    }

    fn abort(self) -> Result<()> {
        Ok(())
    }
}

/// A table in a write transaction. Reads see the transaction's own writes merged over the
/// committed tree.
pub struct SledWriteTable<'t> {
    txn: &'t SledWriteTxn<'t>,
    name: String,
    state: TableState,
}

impl fmt::Debug for SledWriteTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledWriteTable")
            .field("name", &self.name)
            .field("buffered_writes", &self.state.writes.len())
            .field("cleared", &self.state.cleared)
            .finish_non_exhaustive()
    }
}

impl Drop for SledWriteTable<'_> {
    fn drop(&mut self) {
        let state = std::mem::take(&mut self.state);
        self.txn
            .tables
            .borrow_mut()
            .insert(std::mem::take(&mut self.name), Slot::Closed(state));
    }
}

impl ReadTable for SledWriteTable<'_> {
    type Guard<'g>
        = SledGuard<'g>
    where
        Self: 'g;
    type Range<'g>
        = SledRange<'g>
    where
        Self: 'g;

    fn get(&self, key: &[u8]) -> Result<Option<SledGuard<'_>>> {
        match self.state.writes.get(key) {
            Some(Some(value)) => Ok(Some(SledGuard::borrowed(value))),
            Some(None) => Ok(None),
            None => match self.state.visible_tree() {
                Some(tree) => Ok(tree
                    .get(key)
                    .map_err(map_sled_error)?
                    .map(SledGuard::shared)),
                None => Ok(None),
            },
        }
    }

    fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<SledRange<'_>> {
        if is_empty_range(lower, upper) {
            return Ok(SledRange::empty());
        }
        let tree = self
            .state
            .visible_tree()
            .map(|tree| tree_range(tree, lower, upper));
        let buffer = self.state.writes.range::<[u8], _>((lower, upper));
        Ok(SledRange::new(tree, Some(buffer), direction))
    }

    fn len(&self) -> Result<u64> {
        if self.state.writes.is_empty() {
            return match self.state.visible_tree() {
                Some(tree) => tree_len(tree),
                None => Ok(0),
            };
        }
        let mut n = 0;
        for item in self.range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)? {
            item?;
            n += 1;
        }
        Ok(n)
    }
}

impl WriteTable for SledWriteTable<'_> {
    fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        match self.state.writes.get_mut(key) {
            Some(slot) => *slot = Some(value.to_vec()),
            None => {
                self.state.writes.insert(key.to_vec(), Some(value.to_vec()));
            }
        }
        Ok(())
    }

    fn remove(&mut self, key: &[u8]) -> Result<bool> {
        let present = match self.state.writes.get_mut(key) {
            Some(slot) => slot.take().is_some(),
            None => {
                let present = match self.state.visible_tree() {
                    Some(tree) => tree.contains_key(key).map_err(map_sled_error)?,
                    None => false,
                };
                if present {
                    self.state.writes.insert(key.to_vec(), None);
                }
                present
            }
        };
        Ok(present)
    }

    fn clear(&mut self) -> Result<()> {
        self.state.writes.clear();
        self.state.cleared = true;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Guards and ranges
// ---------------------------------------------------------------------------------------------

/// Bytes of one key or value: sled's own reference-counted [`IVec`] (values longer than 22
/// bytes shared with sled's cache, not copied), or a slice of the write transaction's buffer.
pub struct SledGuard<'g>(Repr<'g>);

/// Private, so nothing outside this crate can reach the `IVec` mutably (see the `StableBytes`
/// safety comment).
enum Repr<'g> {
    Shared(IVec),
    Borrowed(&'g [u8]),
}

impl<'g> SledGuard<'g> {
    fn shared(value: IVec) -> Self {
        SledGuard(Repr::Shared(value))
    }

    fn borrowed(value: &'g [u8]) -> Self {
        SledGuard(Repr::Borrowed(value))
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Shared(value) => value.as_ref(),
            Repr::Borrowed(value) => value,
        }
    }

    /// The bytes as an [`IVec`] (a copy only for bytes borrowed from a write transaction's
    /// buffer).
    pub fn into_ivec(self) -> IVec {
        match self.0 {
            Repr::Shared(value) => value,
            Repr::Borrowed(value) => IVec::from(value),
        }
    }

    /// Whether the bytes come from sled (not from a write transaction's buffer).
    pub fn is_from_sled(&self) -> bool {
        matches!(self.0, Repr::Shared(_))
    }
}

/// Wraps an `IVec` as a guard (as the backend's reads do): for code that reads sled
/// directly and hands the bytes to the typed layer, and for tests of the guard itself.
impl From<IVec> for SledGuard<'_> {
    fn from(value: IVec) -> Self {
        SledGuard::shared(value)
    }
}

impl AsRef<[u8]> for SledGuard<'_> {
    fn as_ref(&self) -> &[u8] {
        self.bytes()
    }
}

impl fmt::Debug for SledGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SledGuard").field(&self.bytes()).finish()
    }
}

// SAFETY: `as_ref` returns the same bytes on every call for as long as the guard lives.
// * `Repr::Borrowed(&'g [u8])`: a shared slice, immutable for `'g`. It points into the write
//   table's buffer, which only `&mut self` methods of the table change, and the guard's `'g`
//   borrow of the table excludes them.
// * `Repr::Shared(IVec)` (sled 0.34.7, `ivec.rs`): `IVec::as_ref` returns either the inline
//   array held in the `IVec` itself (its content moves with the guard and never changes; the
//   address may differ after a move, which `StableBytes` allows), or a fixed `offset..len`
//   window of a reference-counted `Arc<[u8]>` (sled's own `Arc`, `arc.rs`). The only ways to
//   write through an `IVec` are `AsMut`/`DerefMut`, which take `&mut IVec` and first call
//   `make_mut`, which copies the buffer whenever the `Arc` is shared (strong count != 1). The
//   guard holds its own clone of the `Arc`, so every other `IVec` sees a count of at least 2
//   and copies instead of writing; and the guard's `IVec` is private (`Repr` is not exported
//   and no method hands out `&mut`), so nothing writes through it either. sled updates tree
//   nodes by replacing `IVec`s, never by writing into shared buffers.
#[allow(unsafe_code)]
unsafe impl StableBytes for SledGuard<'_> {}

type BufferRange<'g> = btree_map::Range<'g, Vec<u8>, Option<Vec<u8>>>;
type BufferItem<'g> = (&'g Vec<u8>, &'g Option<Vec<u8>>);

/// An iterator over the `(key, value)` pairs of a range, in the requested direction: the
/// committed tree's entries merged with a write transaction's buffer (buffered entries shadow
/// the tree's, buffered removes hide them).
pub struct SledRange<'g> {
    tree: Option<sled::Iter>,
    buffer: Option<BufferRange<'g>>,
    direction: Direction,
    next_tree: Option<(IVec, IVec)>,
    next_buffer: Option<BufferItem<'g>>,
}

impl<'g> SledRange<'g> {
    fn empty() -> Self {
        SledRange::new(None, None, Direction::Forward)
    }

    fn new(
        tree: Option<sled::Iter>,
        buffer: Option<BufferRange<'g>>,
        direction: Direction,
    ) -> Self {
        SledRange {
            tree,
            buffer,
            direction,
            next_tree: None,
            next_buffer: None,
        }
    }

    /// Fills the tree lookahead; an error ends the range after it is reported.
    fn fill_tree(&mut self) -> Result<()> {
        if self.next_tree.is_some() {
            return Ok(());
        }
        let Some(iter) = &mut self.tree else {
            return Ok(());
        };
        let item = match self.direction {
            Direction::Forward => iter.next(),
            Direction::Reverse => iter.next_back(),
        };
        match item {
            Some(Ok(pair)) => self.next_tree = Some(pair),
            Some(Err(e)) => {
                self.tree = None;
                self.buffer = None;
                self.next_buffer = None;
                return Err(map_sled_error(e));
            }
            None => self.tree = None,
        }
        Ok(())
    }

    fn fill_buffer(&mut self) {
        if self.next_buffer.is_some() {
            return;
        }
        let Some(iter) = &mut self.buffer else {
            return;
        };
        let item = match self.direction {
            Direction::Forward => iter.next(),
            Direction::Reverse => iter.next_back(),
        };
        match item {
            Some(pair) => self.next_buffer = Some(pair),
            None => self.buffer = None,
        }
    }
}

impl<'g> Iterator for SledRange<'g> {
    type Item = Result<(SledGuard<'g>, SledGuard<'g>)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Err(e) = self.fill_tree() {
                return Some(Err(e));
            }
            self.fill_buffer();
            let take_tree = match (&self.next_tree, &self.next_buffer) {
                (None, None) => return None,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((tree_key, _)), Some((buffer_key, _))) => {
                    let order = tree_key.as_ref().cmp(buffer_key.as_slice());
                    let order = match self.direction {
                        Direction::Forward => order,
                        Direction::Reverse => order.reverse(),
                    };
                    match order {
                        std::cmp::Ordering::Less => true,
                        std::cmp::Ordering::Equal => {
                            // The buffered entry shadows the committed one.
                            self.next_tree = None;
                            false
                        }
                        std::cmp::Ordering::Greater => false,
                    }
                }
            };
            if take_tree {
                let (key, value) = self.next_tree.take()?;
                return Some(Ok((SledGuard::shared(key), SledGuard::shared(value))));
            }
            let (key, value) = self.next_buffer.take()?;
            if let Some(value) = value {
                return Some(Ok((SledGuard::borrowed(key), SledGuard::borrowed(value))));
            }
            // A buffered remove: skip it (and the committed entry it shadowed).
        }
    }
}

impl fmt::Debug for SledRange<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledRange")
            .field("direction", &self.direction)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Error mapping
// ---------------------------------------------------------------------------------------------

fn invalid_config(path: &Path, what: &str) -> BackendError {
    BackendError::InvalidConfig {
        message: format!("sled database directory `{}` {what}", path.display()),
    }
}

/// Whether sled's error is its "could not acquire lock" on the `db` file (another handle has
/// the database open). sled 0.34 reports it as `io::ErrorKind::Other` with this message.
fn is_lock_error(e: &std::io::Error) -> bool {
    e.to_string().contains("could not acquire lock")
}

fn map_sled_error(e: sled::Error) -> BackendError {
    match e {
        sled::Error::Io(e) if is_lock_error(&e) => BackendError::AlreadyOpen,
        sled::Error::Io(e) => BackendError::Io(e),
        sled::Error::Corruption { at, .. } => BackendError::Corrupted {
            message: match at {
                Some(at) => format!("sled read corrupted data at {at:?}"),
                None => "sled read corrupted data".to_owned(),
            },
        },
        e => BackendError::engine(NAME, e),
    }
}

/// [`map_sled_error`] for errors of `Config::open`, naming the database. sled reports damaged
/// configuration files as `Unsupported`, so every `Unsupported` error here (this backend sets
/// no option sled could refuse) is [`BackendError::Corrupted`] too.
fn map_open_error(e: sled::Error, shown: &str) -> BackendError {
    let e = match e {
        sled::Error::Unsupported(message) => {
            return BackendError::Corrupted {
                message: format!("{shown}: {message}"),
            };
        }
        sled::Error::Io(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            ) =>
        {
            return BackendError::Corrupted {
                message: format!("{shown}: {e}"),
            };
        }
        e => e,
    };
    match map_sled_error(e) {
        BackendError::Corrupted { message } => BackendError::Corrupted {
            message: format!("{shown}: {message}"),
        },
        other => other,
    }
}

fn map_transaction_error(e: TransactionError<Infallible>) -> BackendError {
    match e {
        TransactionError::Abort(never) => match never {},
        TransactionError::Storage(e) => map_sled_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_match_sled() {
        let caps = SledBackend::CAPABILITIES;
        assert_eq!(caps.name, "sled");
        assert!(!caps.snapshot_reads, "sled 0.34 has no snapshots");
        assert!(caps.zero_copy_reads && caps.persistent);
        assert_eq!(caps.max_entry_len, None);
    }

    #[test]
    fn backend_is_send_sync() {
        fn assert<T: Send + Sync + 'static>() {}
        assert::<SledBackend>();
    }

    #[test]
    fn lock_errors_map_to_already_open() {
        let e = sled::Error::Io(std::io::Error::other(
            "could not acquire lock on \"/x/db\": Os { code: 11, kind: WouldBlock }",
        ));
        assert!(matches!(map_sled_error(e), BackendError::AlreadyOpen));
        let e = sled::Error::Io(std::io::Error::other("disk on fire"));
        assert!(matches!(map_sled_error(e), BackendError::Io(_)));
    }
}
