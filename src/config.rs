//! Unified configuration of the file-backed stores.

use std::path::PathBuf;

use crate::error::{NetabaseError, Result};

/// When a commit is durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Durability {
    /// A commit is on disk before it returns (redb `Durability::Immediate`; sled flushes after
    /// every commit).
    #[default]
    Immediate,
    /// A commit returns before it is on disk. A crash may lose recent commits but never tears
    /// one: the store reopens at a consistent earlier commit. [`Store::flush`] makes every
    /// commit durable (redb `Durability::None`; sled's background flusher).
    ///
    /// [`Store::flush`]: crate::Store::flush
    Eventual,
}

/// How to open a file-backed store. The same value opens any file backend, so switching
/// backends is one line.
///
/// ```
/// use netabase_store::config::FileConfig;
///
/// let config = FileConfig::builder()
///     .path("my_app.db")
///     .cache_size_mb(512)
///     .build();
/// assert!(config.create_if_missing);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileConfig {
    /// The database file (redb) or directory (sled).
    pub path: PathBuf,
    /// Page cache size in MiB (default 256).
    pub cache_size_mb: usize,
    /// Create the database when it does not exist (default `true`). When `false`, opening
    /// a missing path is an error.
    pub create_if_missing: bool,
    /// Delete any existing data on open (default `false`).
    pub truncate: bool,
    /// Open read-only: every write transaction fails with a typed error (default `false`).
    pub read_only: bool,
    /// Make every commit durable before it returns (default `true`). When `false`, commits
    /// may be lost on a crash until [`Store::flush`](crate::Store::flush) is called, but are
    /// never torn: the database reopens at a consistent earlier commit.
    pub use_fsync: bool,
    /// Verify the whole file before opening it (default `false`; redb only).
    ///
    /// redb trusts a file that was shut down cleanly: a file damaged outside redb (a bad disk,
    /// a stray write) may open and then fail on the pages it reads, as
    /// [`BackendError::Corrupted`](crate::backend::BackendError::Corrupted) (the store turns
    /// redb's panics into that error). With this option redb checks every page's checksum and
    /// the allocator state first, so such a file is refused at open with `Corrupted`, or, when
    /// only the last commit is damaged, rolled back to the commit before it (redb's repair).
    /// Cost: one pass over the whole file at every open, proportional to its size (measured in
    /// `benches/benches/open.rs`; see `docs/benchmarks.md`).
    ///
    /// On sled, which keeps no page checksums, the option compares every table's entry count
    /// with the count committed with the generation sled recovered (one pass over every
    /// table). The generation check itself (committed data that sled lost is `Corrupted`,
    /// not an empty store) runs on every open; see the sled backend's "Damaged files" docs.
    pub check_integrity_on_open: bool,
}

impl Default for FileConfig {
    fn default() -> Self {
        FileConfig {
            path: PathBuf::new(),
            cache_size_mb: 256,
            create_if_missing: true,
            truncate: false,
            read_only: false,
            use_fsync: true,
            check_integrity_on_open: false,
        }
    }
}

impl FileConfig {
    /// The default configuration for `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileConfig {
            path: path.into(),
            ..FileConfig::default()
        }
    }

    /// A builder starting from the defaults.
    pub fn builder() -> FileConfigBuilder {
        FileConfigBuilder {
            config: FileConfig::default(),
        }
    }

    /// Checks the options against each other; every store constructor calls this first.
    pub fn validate(&self) -> Result<()> {
        let bad = |message: &str| {
            Err(NetabaseError::Config {
                message: message.to_owned(),
            })
        };
        if self.path.as_os_str().is_empty() {
            return bad("no path given (FileConfig::path)");
        }
        if self.read_only && self.truncate {
            return bad("`read_only` and `truncate` exclude each other");
        }
        if self.cache_size_mb == 0 {
            return bad("`cache_size_mb` must be at least 1");
        }
        if self.cache_size_mb.checked_mul(1024 * 1024).is_none() {
            return bad("`cache_size_mb` is too large for this platform");
        }
        Ok(())
    }

    /// The cache size in bytes.
    pub fn cache_size_bytes(&self) -> usize {
        self.cache_size_mb.saturating_mul(1024 * 1024)
    }

    /// The durability `use_fsync` selects.
    pub fn durability(&self) -> Durability {
        if self.use_fsync {
            Durability::Immediate
        } else {
            Durability::Eventual
        }
    }
}

/// Builds a [`FileConfig`]; see [`FileConfig::builder`].
#[derive(Clone, Debug)]
#[must_use]
pub struct FileConfigBuilder {
    config: FileConfig,
}

impl FileConfigBuilder {
    /// The database file or directory.
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.path = path.into();
        self
    }

    /// Page cache size in MiB.
    pub fn cache_size_mb(mut self, mb: usize) -> Self {
        self.config.cache_size_mb = mb;
        self
    }

    /// Whether to create a missing database.
    pub fn create_if_missing(mut self, yes: bool) -> Self {
        self.config.create_if_missing = yes;
        self
    }

    /// Whether to delete existing data on open.
    pub fn truncate(mut self, yes: bool) -> Self {
        self.config.truncate = yes;
        self
    }

    /// Whether to open read-only.
    pub fn read_only(mut self, yes: bool) -> Self {
        self.config.read_only = yes;
        self
    }

    /// Whether commits are durable before they return.
    pub fn use_fsync(mut self, yes: bool) -> Self {
        self.config.use_fsync = yes;
        self
    }

    /// Verify the whole file before opening it (see
    /// [`FileConfig::check_integrity_on_open`]).
    pub fn check_integrity_on_open(mut self, yes: bool) -> Self {
        self.config.check_integrity_on_open = yes;
        self
    }

    /// When commits are durable (the same setting as [`use_fsync`](Self::use_fsync)).
    pub fn durability(mut self, durability: Durability) -> Self {
        self.config.use_fsync = durability == Durability::Immediate;
        self
    }

    /// The configuration.
    pub fn build(self) -> FileConfig {
        self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_ones() {
        let c = FileConfig::new("x");
        assert_eq!(c.cache_size_mb, 256);
        assert!(c.create_if_missing && !c.truncate && !c.read_only && c.use_fsync);
        assert!(!c.check_integrity_on_open);
        assert_eq!(c.durability(), Durability::Immediate);
        assert_eq!(FileConfig::builder().path("x").build(), c);
    }

    #[test]
    fn builder_sets_every_option() {
        let c = FileConfig::builder()
            .path("p")
            .cache_size_mb(3)
            .create_if_missing(false)
            .truncate(true)
            .read_only(false)
            .durability(Durability::Eventual)
            .check_integrity_on_open(true)
            .build();
        assert!(c.check_integrity_on_open);
        assert_eq!(c.cache_size_bytes(), 3 * 1024 * 1024);
        assert!(!c.create_if_missing && c.truncate && !c.use_fsync);
        assert_eq!(c.durability(), Durability::Eventual);
    }

    #[test]
    fn contradictory_options_are_typed_errors() {
        let bad = |c: FileConfig| matches!(c.validate(), Err(NetabaseError::Config { .. }));
        assert!(bad(FileConfig::default()));
        assert!(bad(FileConfig::builder()
            .path("p")
            .read_only(true)
            .truncate(true)
            .build()));
        assert!(bad(FileConfig::builder()
            .path("p")
            .cache_size_mb(0)
            .build()));
        assert!(bad(FileConfig::builder()
            .path("p")
            .cache_size_mb(usize::MAX)
            .build()));
        assert!(FileConfig::new("p").validate().is_ok());
    }
}
