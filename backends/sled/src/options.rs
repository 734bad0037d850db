//! Opening options: [`SledOptions`] and [`SledDurability`].

/// How a write transaction's commit reaches the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SledDurability {
    /// A commit is written to sled's log buffers only. sled's background flusher makes it
    /// durable within about 500 ms; [`Backend::flush`] makes it durable at once. Much faster;
    /// a crash loses the commits made since the last flush (never part of a commit).
    ///
    /// [`Backend::flush`]: netabase_backend_api::Backend::flush
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
    ///
    /// [`BackendError::InvalidConfig`]: netabase_backend_api::BackendError::InvalidConfig
    pub create_if_missing: bool,
    /// Start with an empty database, discarding what an existing one holds (default `false`).
    /// The database is opened first (so one another handle has open is
    /// [`BackendError::AlreadyOpen`], never wiped from under it), then every tree is dropped
    /// (sled's default tree is cleared) and the result flushed. The wipe is not atomic: a
    /// crash during it may leave some tables behind. A database sled cannot open is reported
    /// ([`BackendError::Corrupted`]), not deleted. Cannot be combined with
    /// [`read_only`](SledOptions::read_only).
    ///
    /// [`BackendError::AlreadyOpen`]: netabase_backend_api::BackendError::AlreadyOpen
    /// [`BackendError::Corrupted`]: netabase_backend_api::BackendError::Corrupted
    pub truncate: bool,
    /// Refuse writes (default `false`): reads work, and
    /// [`begin_write`](netabase_backend_api::Backend::begin_write) fails with
    /// [`BackendError::ReadOnly`]. The database must exist. sled 0.34 has no read-only mode,
    /// so this is enforced by the backend; sled still opens its files read-write and locks
    /// them exclusively.
    ///
    /// [`BackendError::ReadOnly`]: netabase_backend_api::BackendError::ReadOnly
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
