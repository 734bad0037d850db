//! The backend: opening a database, its table cache, closing it, and the `Backend` impl.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use netabase_backend_api::{Backend, BackendError, Capabilities, Result};
use sled::Tree;

use crate::error::{invalid_config, map_open_error, map_sled_error};
use crate::generation::Tracking;
use crate::options::{SledDurability, SledOptions};
use crate::read::SledReadTxn;
use crate::write::SledWriteTxn;
use crate::{DEFAULT_TREE, NAME, manifest};

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
    pub(crate) durability: SledDurability,
    /// The record of how far the database got, for a database opened from a path (see
    /// [`manifest`]); `None` for [`from_db`](SledBackend::from_db) and temporary databases.
    pub(crate) tracking: Option<Tracking>,
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
    pub(crate) fn existing_tree(&self, name: &str) -> Result<Option<Tree>> {
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
    pub(crate) fn open_tree(&self, name: &str) -> Result<Tree> {
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
pub(crate) const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

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
pub(crate) fn open_config(config: &sled::Config, path: Option<&Path>) -> Result<sled::Db> {
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

pub(crate) fn read_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    // The map is only ever replaced whole-entry by `insert`/`clear`; a panic elsewhere cannot
    // leave it half-updated, so poisoning carries no meaning.
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn write_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn check_name(name: &str) -> Result<()> {
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
