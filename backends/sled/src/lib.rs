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
//! ([`SledBackend::CAPABILITIES`][Backend::CAPABILITIES] says `snapshot_reads: false`). Two
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
//! * **One writer at a time.** [`begin_write`][Backend::begin_write] takes a store-wide
//!   mutex; a second caller blocks until the first commits, aborts or is dropped. Readers
//!   never wait for it.
//! * **Buffered.** Inserts, removes and clears are kept in memory, per table, until commit.
//!   Reads in the write transaction (`get`, `range` in both directions, `len`) merge the
//!   buffer over the committed tree, so the transaction reads its own writes. Nothing touches
//!   sled before commit, so dropping or aborting the transaction just discards the buffer
//!   (and a table a rolled-back transaction opened is not even created).
//! * **Atomic commit.** [`commit`][WriteTransaction::commit] applies every touched table's
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
//! ([`begin_write`][Backend::begin_write] fails with [`BackendError::ReadOnly`]). sled still
//! opens its files read-write and takes its exclusive lock, so a read-only handle cannot share
//! a database with another process.
//!
//! [`Backend::flush`]: netabase_backend_api::Backend::flush
//! [`BackendError::Corrupted`]: netabase_backend_api::BackendError::Corrupted
//! [`BackendError::ReadOnly`]: netabase_backend_api::BackendError::ReadOnly
//! [`Tree`]: sled::Tree
//! [Backend::CAPABILITIES]: netabase_backend_api::Backend::CAPABILITIES
//! [Backend::begin_write]: netabase_backend_api::Backend::begin_write
//! [WriteTransaction::commit]: netabase_backend_api::WriteTransaction::commit
#![deny(unsafe_code)]
#![warn(missing_docs)]

/// sled's value type, which [`SledGuard::into_ivec`] and `From<IVec> for SledGuard` use.
pub use sled::IVec;

mod backend;
mod error;
mod generation;
mod guard;
mod manifest;
mod options;
mod range;
mod read;
mod write;

pub use backend::SledBackend;
pub use guard::SledGuard;
pub use options::{SledDurability, SledOptions};
pub use range::SledRange;
pub use read::{SledReadTable, SledReadTxn};
pub use write::{SledWriteTable, SledWriteTxn};

/// The backend's name in [`Capabilities`](netabase_backend_api::Capabilities) and in
/// [`BackendError::Engine`](netabase_backend_api::BackendError::Engine).
const NAME: &str = "sled";

/// The name sled gives its default tree (the one `Db` derefs to). A table of this name is
/// that tree; `Db::open_tree` would hand out a second, independent handle on it.
const DEFAULT_TREE: &str = "__sled__default";

#[cfg(test)]
mod tests {
    use netabase_backend_api::{Backend, BackendError};

    use super::*;
    use crate::error::map_sled_error;

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
