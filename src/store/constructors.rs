//! The constructors of each file and memory backend's store (`Store::redb`, `Store::sled`,
//! `Store::memory`), their [`BackendStore`](super::BackendStore) impls, and how a
//! [`FileConfig`](crate::config::FileConfig) maps onto each backend's options.

#[cfg(feature = "redb")]
mod redb_constructors {
    use std::path::Path;

    use netabase_backend_api::checksum::Checksummed;
    use netabase_backend_redb::{RedbBackend, RedbDurability, RedbOptions};

    use crate::config::{Durability, FileConfig};
    use crate::error::Result;
    use crate::store::{BackendStore, Store};
    use crate::traits::definition::NetabaseDefinitionTrait;

    /// A store on redb.
    pub type RedbStore<D> = Store<D, RedbBackend>;

    /// The redb options a [`FileConfig`] stands for.
    pub(crate) fn redb_options(config: &FileConfig) -> RedbOptions {
        RedbOptions::new()
            .cache_size_bytes(config.cache_size_bytes())
            .create_if_missing(config.create_if_missing)
            .truncate(config.truncate)
            .read_only(config.read_only)
            .check_integrity_on_open(config.check_integrity_on_open)
            .durability(match config.durability() {
                Durability::Immediate => RedbDurability::Immediate,
                Durability::Eventual => RedbDurability::None,
            })
    }

    impl<D: NetabaseDefinitionTrait> Store<D, RedbBackend> {
        /// Opens (creating if needed) a redb store in the file at `path`.
        pub fn redb(path: impl AsRef<Path>) -> Result<Self> {
            Self::open(FileConfig::new(path.as_ref()))
        }

        /// Opens a redb store as `config` says.
        pub fn open(config: FileConfig) -> Result<Self> {
            config.validate()?;
            Self::from_backend(RedbBackend::open(&config.path, &redb_options(&config))?)
        }
    }

    impl<D: NetabaseDefinitionTrait> BackendStore<D> for Store<D, RedbBackend> {
        fn new(config: FileConfig) -> Result<Self> {
            Self::open(config)
        }

        fn temp() -> Result<Self> {
            Self::from_backend(RedbBackend::in_memory()?)
        }
    }

    /// A redb store keeping a checksum with every value (see [`Checksummed`]).
    impl<D: NetabaseDefinitionTrait> BackendStore<D> for Store<D, Checksummed<RedbBackend>> {
        fn new(config: FileConfig) -> Result<Self> {
            config.validate()?;
            let backend = RedbBackend::open(&config.path, &redb_options(&config))?;
            Self::from_backend(Checksummed::new(backend))
        }

        fn temp() -> Result<Self> {
            Self::from_backend(Checksummed::new(RedbBackend::in_memory()?))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn file_config_reaches_the_redb_options() {
            let config = FileConfig::builder()
                .path("x")
                .cache_size_mb(7)
                .create_if_missing(false)
                .truncate(true)
                .use_fsync(false)
                .check_integrity_on_open(true)
                .build();
            let o = redb_options(&config);
            assert_eq!(o.cache_size_bytes, Some(7 * 1024 * 1024));
            assert!(!o.create_if_missing && o.truncate && !o.read_only);
            assert!(o.check_integrity_on_open);
            assert_eq!(o.durability, RedbDurability::None);
        }
    }
}

#[cfg(feature = "redb")]
pub use redb_constructors::RedbStore;

#[cfg(feature = "memory")]
mod memory_constructors {
    use netabase_backend_memory::MemoryBackend;

    use crate::error::Result;
    use crate::store::Store;
    use crate::traits::definition::NetabaseDefinitionTrait;

    /// A store in memory.
    pub type MemoryStore<D> = Store<D, MemoryBackend>;

    impl<D: NetabaseDefinitionTrait> Store<D, MemoryBackend> {
        /// A store in memory (MVCC snapshots; readers never block the writer), gone when
        /// dropped.
        pub fn memory() -> Result<Self> {
            Self::from_backend(MemoryBackend::new())
        }

        /// A throwaway store for tests: the same as [`memory`](Self::memory).
        pub fn temp() -> Result<Self> {
            Self::memory()
        }
    }
}

#[cfg(feature = "memory")]
pub use memory_constructors::MemoryStore;

#[cfg(feature = "sled")]
mod sled_constructors {
    use std::path::Path;

    use netabase_backend_api::checksum::Checksummed;
    use netabase_backend_sled::{SledBackend, SledDurability, SledOptions};

    use crate::config::{Durability, FileConfig};
    use crate::error::Result;
    use crate::store::{BackendStore, Store};
    use crate::traits::definition::NetabaseDefinitionTrait;

    /// A store on sled 0.34 (read-committed reads; see the backend's docs).
    pub type SledStore<D> = Store<D, SledBackend>;

    /// The sled options a [`FileConfig`] stands for.
    pub(crate) fn sled_options(config: &FileConfig) -> SledOptions {
        SledOptions::new()
            .cache_size_bytes(config.cache_size_bytes() as u64)
            .create_if_missing(config.create_if_missing)
            .truncate(config.truncate)
            .read_only(config.read_only)
            .check_integrity_on_open(config.check_integrity_on_open)
            .durability(match config.durability() {
                Durability::Immediate => SledDurability::Immediate,
                Durability::Eventual => SledDurability::None,
            })
    }

    impl<D: NetabaseDefinitionTrait> Store<D, SledBackend> {
        /// Opens (creating if needed) a sled store in the directory at `path`.
        pub fn sled(path: impl AsRef<Path>) -> Result<Self> {
            Self::open_sled(FileConfig::new(path.as_ref()))
        }

        /// Opens a sled store as `config` says.
        pub fn open_sled(config: FileConfig) -> Result<Self> {
            config.validate()?;
            Self::from_backend(SledBackend::open(&config.path, &sled_options(&config))?)
        }
    }

    impl<D: NetabaseDefinitionTrait> BackendStore<D> for Store<D, SledBackend> {
        fn new(config: FileConfig) -> Result<Self> {
            Self::open_sled(config)
        }

        fn temp() -> Result<Self> {
            Self::from_backend(SledBackend::temporary()?)
        }
    }

    /// A sled store keeping a checksum with every value (see [`Checksummed`]).
    impl<D: NetabaseDefinitionTrait> BackendStore<D> for Store<D, Checksummed<SledBackend>> {
        fn new(config: FileConfig) -> Result<Self> {
            config.validate()?;
            let backend = SledBackend::open(&config.path, &sled_options(&config))?;
            Self::from_backend(Checksummed::new(backend))
        }

        fn temp() -> Result<Self> {
            Self::from_backend(Checksummed::new(SledBackend::temporary()?))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn file_config_reaches_the_sled_options() {
            let config = FileConfig::builder()
                .path("x")
                .cache_size_mb(5)
                .read_only(true)
                .use_fsync(false)
                .build();
            let o = sled_options(&config);
            assert_eq!(o.cache_size_bytes, Some(5 * 1024 * 1024));
            assert!(o.create_if_missing && !o.truncate && o.read_only);
            assert_eq!(o.durability, SledDurability::None);
        }
    }
}

#[cfg(feature = "sled")]
pub use sled_constructors::SledStore;
