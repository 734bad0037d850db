//! The store facade: [`Store`] and its auto-commit [`StoreTree`].

use std::borrow::Borrow;

use crate::key::{KeyArg, KeyRange};
use crate::traits::model::{KeyField, SecondaryKey, SecondaryLookup};
use std::marker::PhantomData;

use netabase_backend_api::Backend;

use crate::config::FileConfig;
use crate::error::Result;
use crate::meta::{MigrationProgress, open_schema};
use crate::subscribe::{Feed, Subscription, SubscriptionBuilder};
use crate::traits::definition::{ModelVisitor, NetabaseDefinitionTrait};
use crate::traits::model::NetabaseModelTrait;
use crate::tree::ScratchSlot;
use crate::txn::{ReadTxn, WriteTxn};

/// A typed store of definition `D` on backend `B`.
///
/// Open one with [`Store::redb`], [`Store::temp`], [`Store::open`] (a
/// [`FileConfig`](crate::config::FileConfig)), or [`Store::from_backend`] for any backend.
/// Then either use transactions ([`read`](Store::read), [`write`](Store::write)) for
/// zero-copy reads and batched writes, or the auto-commit [`open_tree`](Store::open_tree)
/// for one-call-one-transaction convenience with owned values.
pub struct Store<D, B> {
    backend: B,
    scratch: ScratchSlot,
    /// The thread that began the live write transaction, if any: a second write begun on
    /// that thread would wait for itself forever, so it fails at once instead.
    writer: std::sync::Mutex<Option<crate::txn::WriterThread>>,
    feed: Feed,
    _definition: PhantomData<fn() -> D>,
}

/// The name the 0.0.x releases used for [`Store`].
pub type NetabaseStore<D, B> = Store<D, B>;

impl<D: NetabaseDefinitionTrait, B: Backend> std::fmt::Debug for Store<D, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("definition", &D::NAME)
            .field("backend", &B::CAPABILITIES.name)
            .field("checksums", &B::CAPABILITIES.checksums)
            .finish_non_exhaustive()
    }
}

impl<D: NetabaseDefinitionTrait, B: Backend> Store<D, B> {
    /// Wraps an open backend. Checks the schema recorded in the store against `D`, and
    /// records it when the store is new.
    ///
    /// A store whose records are an earlier version of a model (declared with
    /// `#[netabase(Def, version = N, from = Previous)]`) is migrated, and a store whose
    /// secondary keys changed is re-indexed, in one write transaction; see
    /// [`from_backend_with_progress`](Self::from_backend_with_progress) to follow a long
    /// migration. A store written with an incompatible schema is a
    /// [`SchemaMismatch`](crate::NetabaseError::SchemaMismatch) naming the change, one
    /// written by newer code is [`SchemaTooNew`](crate::NetabaseError::SchemaTooNew), and a
    /// failed migration is [`MigrationFailed`](crate::NetabaseError::MigrationFailed); in
    /// each case nothing was written.
    pub fn from_backend(backend: B) -> Result<Self> {
        Self::from_backend_with_progress(backend, |_| {})
    }

    /// [`from_backend`](Self::from_backend), calling `progress` for every record a
    /// migration converts and writes.
    ///
    /// ```
    /// # use netabase_store::{MemoryBackend, Store};
    /// # #[netabase_store::netabase_definition_module(AppDefinition, AppKeys)]
    /// # mod app {
    /// #     #[derive(netabase_store::NetabaseModel)]
    /// #     #[netabase(AppDefinition)]
    /// #     pub struct Note { #[primary_key] pub id: u64 }
    /// # }
    /// # use app::*;
    /// let store = Store::<AppDefinition, _>::from_backend_with_progress(
    ///     MemoryBackend::new(),
    ///     |p| eprintln!("{}: {:?} {}/{}", p.model, p.stage, p.done, p.total),
    /// )?;
    /// # Ok::<(), netabase_store::NetabaseError>(())
    /// ```
    pub fn from_backend_with_progress(
        backend: B,
        mut progress: impl FnMut(MigrationProgress),
    ) -> Result<Self> {
        let store = Store {
            backend,
            scratch: ScratchSlot::default(),
            writer: std::sync::Mutex::new(None),
            feed: Feed::default(),
            _definition: PhantomData,
        };
        open_schema(&store, &mut progress)?;
        Ok(store)
    }

    /// Begins a read transaction.
    pub fn read(&self) -> Result<ReadTxn<'_, D, B>> {
        Ok(ReadTxn::new(self.backend.begin_read()?))
    }

    /// Begins a write transaction (one at a time; a writer on another thread waits its turn).
    ///
    /// On a thread that already holds a write transaction of this store (including one
    /// inside an auto-commit call), this fails at once with
    /// [`NetabaseError::ReentrantWrite`](crate::NetabaseError::ReentrantWrite) instead of
    /// waiting for itself forever.
    pub fn write(&self) -> Result<WriteTxn<'_, D, B>> {
        let mark = crate::txn::WriterMark::check(&self.writer)?;
        let txn = self.backend.begin_write()?;
        Ok(WriteTxn::new(txn, &self.scratch, mark.hold(), &self.feed))
    }

    /// Subscribes to the committed changes of model `M`, in commit order, with the default
    /// queue length. See [`subscribe`](crate::subscribe) for the guarantees.
    pub fn subscribe<M>(&self) -> Subscription<M>
    where
        M: NetabaseModelTrait<Definition = D>,
    {
        self.subscription::<M>().subscribe()
    }

    /// A filtered or sized subscription to model `M`'s changes: a primary-key range, a
    /// secondary-key value or range, the queue length.
    pub fn subscription<M>(&self) -> SubscriptionBuilder<'_, M>
    where
        M: NetabaseModelTrait<Definition = D>,
    {
        SubscriptionBuilder::new(&self.feed)
    }

    /// Model-checking knob (loom builds only): publish changes without holding the publish
    /// lock across the backend commit, so a loom model can show the ordering it breaks.
    #[cfg(loom)]
    #[doc(hidden)]
    pub fn __weaken_publish_ordering(&self) {
        self.feed.weaken_ordering();
    }

    /// An auto-commit handle on model `M`: each call runs in its own transaction and
    /// returns owned values.
    pub fn open_tree<M>(&self) -> StoreTree<'_, D, B, M>
    where
        M: NetabaseModelTrait<Definition = D>,
    {
        StoreTree {
            store: self,
            _model: PhantomData,
        }
    }

    /// Recomputes every secondary index of every model from the records, in one write
    /// transaction (see [`Tree::rebuild_index`](crate::Tree::rebuild_index)); returns each
    /// model's name with the number of entries written. On any error nothing changes.
    pub fn rebuild_indexes(&self) -> Result<Vec<(&'static str, u64)>> {
        struct Rebuild<'a, 'db, D: NetabaseDefinitionTrait, B: Backend> {
            txn: &'a WriteTxn<'db, D, B>,
            written: Vec<(&'static str, u64)>,
        }
        impl<D: NetabaseDefinitionTrait, B: Backend> ModelVisitor<D> for Rebuild<'_, '_, D, B> {
            fn visit<M: NetabaseModelTrait<Definition = D>>(&mut self) -> Result<()> {
                let n = self.txn.open_tree::<M>()?.rebuild_index()?;
                self.written.push((M::INFO.name, n));
                Ok(())
            }
        }
        let txn = self.write()?;
        let mut rebuild = Rebuild {
            txn: &txn,
            written: Vec::new(),
        };
        D::visit_models(&mut rebuild)?;
        let written = rebuild.written;
        txn.commit()?;
        Ok(written)
    }

    /// Checks every model's records and secondary index against each other, in one read
    /// transaction, and reports what disagrees (see [`IntegrityReport`]).
    ///
    /// Reads every record and index entry once; the expected index entries of one model are
    /// held in memory while it is checked. It changes nothing: see [`repair`](Self::repair)
    /// and [`Tree::purge`](crate::Tree::purge) for the fixes.
    ///
    /// [`IntegrityReport`]: crate::IntegrityReport
    pub fn check_integrity(&self) -> Result<crate::IntegrityReport> {
        struct Check<'a, 'db, D: NetabaseDefinitionTrait, B: Backend> {
            txn: &'a ReadTxn<'db, D, B>,
            report: crate::IntegrityReport,
        }
        impl<D: NetabaseDefinitionTrait, B: Backend> ModelVisitor<D> for Check<'_, '_, D, B> {
            fn visit<M: NetabaseModelTrait<Definition = D>>(&mut self) -> Result<()> {
                let model = self.txn.open_tree::<M>()?.check_integrity()?;
                self.report.models.push(model);
                Ok(())
            }
        }
        let txn = self.read()?;
        let mut check = Check {
            txn: &txn,
            report: crate::IntegrityReport::default(),
        };
        D::visit_models(&mut check)?;
        Ok(check.report)
    }

    /// Rebuilds every secondary index from the records, in one write transaction, after
    /// first purging the records that no longer validate when
    /// [`RepairOptions::purge_undecodable`](crate::RepairOptions) is set.
    ///
    /// All or nothing: a record that does not validate (without the purge option) is
    /// [`NetabaseError::Corrupt`](crate::NetabaseError::Corrupt), two records holding one
    /// unique value are [`NetabaseError::UniqueViolation`](crate::NetabaseError::UniqueViolation)
    /// (repair cannot choose which to keep: remove one, then repair again), and either leaves
    /// the store as it was. After a successful repair, [`check_integrity`](Self::check_integrity)
    /// is clean.
    pub fn repair(&self, options: crate::RepairOptions) -> Result<crate::RepairReport> {
        struct Repair<'a, 'db, D: NetabaseDefinitionTrait, B: Backend> {
            txn: &'a WriteTxn<'db, D, B>,
            options: crate::RepairOptions,
            report: crate::RepairReport,
        }
        impl<D: NetabaseDefinitionTrait, B: Backend> ModelVisitor<D> for Repair<'_, '_, D, B> {
            fn visit<M: NetabaseModelTrait<Definition = D>>(&mut self) -> Result<()> {
                let mut tree = self.txn.open_tree::<M>()?;
                let purged = if self.options.purge_undecodable {
                    tree.purge_undecodable()?
                } else {
                    Vec::new()
                };
                let index_entries = tree.rebuild_index()?;
                self.report.models.push(crate::ModelRepair {
                    model: M::INFO.name,
                    purged,
                    index_entries,
                });
                Ok(())
            }
        }
        let txn = self.write()?;
        let mut repair = Repair {
            txn: &txn,
            options,
            report: crate::RepairReport::default(),
        };
        D::visit_models(&mut repair)?;
        let report = repair.report;
        txn.commit()?;
        Ok(report)
    }

    /// Makes every committed transaction durable (see
    /// [`FileConfig::use_fsync`](crate::config::FileConfig::use_fsync)).
    ///
    /// A flush may need the writer lock (redb commits an empty durable transaction), so on a
    /// thread that holds this store's write transaction it is
    /// [`NetabaseError::ReentrantWrite`](crate::NetabaseError::ReentrantWrite) instead of a
    /// self-deadlock.
    pub fn flush(&self) -> Result<()> {
        crate::txn::WriterMark::check(&self.writer)?;
        Ok(self.backend.flush()?)
    }

    /// The backend, for backend-specific features.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Unwraps the backend.
    pub fn into_backend(self) -> B {
        self.backend
    }
}

/// Opening a store from a [`FileConfig`], the same way for every file backend, so switching
/// backends is one line:
///
/// ```
/// use netabase_store::{BackendStore, FileConfig, RedbStore};
/// # #[netabase_store::netabase_definition_module(AppDefinition, AppKeys)]
/// # mod app {
/// #     #[derive(netabase_store::NetabaseModel)]
/// #     #[netabase(AppDefinition)]
/// #     pub struct Note { #[primary_key] pub id: u64 }
/// # }
/// # use app::*;
/// # let dir = tempfile::tempdir().unwrap();
/// let config = FileConfig::builder().path(dir.path().join("app.db")).cache_size_mb(64).build();
/// let store = <RedbStore<AppDefinition> as BackendStore<AppDefinition>>::new(config)?;
/// # Ok::<(), netabase_store::NetabaseError>(())
/// ```
pub trait BackendStore<D>: Sized {
    /// Creates or opens the store as `config` says.
    fn new(config: FileConfig) -> Result<Self>;

    /// The 0.0.x name of [`new`](Self::new), with the same rules: the store is created
    /// when missing unless [`FileConfig::create_if_missing`] is `false` (then a missing
    /// path is an error), like every other constructor.
    fn open(config: FileConfig) -> Result<Self> {
        Self::new(config)
    }

    /// A throwaway store for tests, gone when dropped.
    fn temp() -> Result<Self>;
}

#[cfg(feature = "redb")]
mod redb_constructors {
    use std::path::Path;

    use netabase_backend_api::checksum::Checksummed;
    use netabase_backend_redb::{RedbBackend, RedbDurability, RedbOptions};

    use super::{BackendStore, Store};
    use crate::config::{Durability, FileConfig};
    use crate::error::Result;
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

    use super::Store;
    use crate::error::Result;
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

    use super::{BackendStore, Store};
    use crate::config::{Durability, FileConfig};
    use crate::error::Result;
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

/// An auto-commit handle on one model, from [`Store::open_tree`].
///
/// Every call opens its own transaction (a write transaction for writes, committed before
/// the call returns) and hands back owned values. That is the simplest API and the slowest
/// for many operations: each write is one commit. Use
/// [`Store::write`] / [`Store::read`] to batch work and to read in place without copies.
pub struct StoreTree<'s, D, B, M> {
    store: &'s Store<D, B>,
    _model: PhantomData<fn() -> M>,
}

impl<'s, D, B, M> StoreTree<'s, D, B, M>
where
    D: NetabaseDefinitionTrait,
    B: Backend,
    M: NetabaseModelTrait<Definition = D>,
{
    fn with_write<R>(
        &self,
        f: impl FnOnce(&mut crate::txn::WriteTree<'_, '_, M, B>) -> Result<R>,
    ) -> Result<R> {
        let txn = self.store.write()?;
        let result = {
            let mut tree = txn.open_tree::<M>()?;
            f(&mut tree)?
        };
        txn.commit()?;
        Ok(result)
    }

    pub(crate) fn with_read<R>(
        &self,
        f: impl FnOnce(&crate::txn::ReadTree<'_, 's, M, B>) -> Result<R>,
    ) -> Result<R> {
        let txn = self.store.read()?;
        let tree = txn.open_tree::<M>()?;
        f(&tree)
    }

    /// Inserts or replaces `model` (indexes maintained), in its own transaction.
    pub fn put(&self, model: impl Borrow<M>) -> Result<()> {
        self.with_write(|t| t.put(model))
    }

    /// Puts every model in one transaction: all or nothing.
    pub fn put_many<I>(&self, models: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Borrow<M>,
    {
        self.with_write(|t| t.put_many(models))
    }

    /// The record stored under `key`, deserialized.
    pub fn get(&self, key: impl KeyArg<M::PrimaryKey>) -> Result<Option<M>> {
        self.with_read(|t| t.get(key)?.map(|r| r.deserialize()).transpose())
    }

    /// The records stored under `keys`, in order, in one read transaction.
    pub fn get_many<I>(&self, keys: I) -> Result<Vec<Option<M>>>
    where
        I: IntoIterator,
        I::Item: KeyArg<M::PrimaryKey>,
    {
        self.with_read(|t| {
            keys.into_iter()
                .map(|k| t.get(k)?.map(|r| r.deserialize()).transpose())
                .collect()
        })
    }

    /// Every record holding the secondary key value `key`, deserialized.
    pub fn get_by_secondary_key(&self, key: impl SecondaryLookup<M>) -> Result<Vec<M>> {
        self.with_read(|t| {
            t.get_by_secondary_key(key)?
                .map(|r| r?.deserialize())
                .collect()
        })
    }

    /// One result list per secondary key value, in order, in one read transaction.
    pub fn get_many_by_secondary_keys<I>(&self, keys: I) -> Result<Vec<Vec<M>>>
    where
        I: IntoIterator,
        I::Item: SecondaryLookup<M>,
    {
        self.with_read(|t| {
            keys.into_iter()
                .map(|k| {
                    t.get_by_secondary_key(k)?
                        .map(|r| r?.deserialize())
                        .collect()
                })
                .collect()
        })
    }

    /// Removes the record stored under `key` and its index entries; returns whether it
    /// existed (without deserializing it).
    pub fn delete(&self, key: impl KeyArg<M::PrimaryKey>) -> Result<bool> {
        self.with_write(|t| t.delete(key))
    }

    /// Removes the record stored under `key` even if its bytes no longer validate, with
    /// every index entry pointing at it, in one transaction (see
    /// [`Tree::purge`](crate::Tree::purge)); returns whether a record was stored there.
    pub fn purge(&self, key: impl KeyArg<M::PrimaryKey>) -> Result<bool> {
        self.with_write(|t| t.purge(key))
    }

    /// Removes the record stored under `key`; returns it.
    pub fn remove(&self, key: impl KeyArg<M::PrimaryKey>) -> Result<Option<M>> {
        self.with_write(|t| t.remove(key))
    }

    /// Every record with its primary key, in primary-key order, read in one transaction.
    ///
    /// The records are collected before iteration starts (an auto-commit handle holds no
    /// transaction open); iterate a [`ReadTxn`] tree to stream in place instead.
    pub fn iter(
        &self,
    ) -> impl ExactSizeIterator<Item = Result<(M::PrimaryKey, M)>> + DoubleEndedIterator + use<D, B, M>
    {
        let all = self.with_read(|t| {
            Ok(t.iter()?
                .map(|r| {
                    let m = r?.deserialize()?;
                    Ok((m.primary_key(), m))
                })
                .collect::<Vec<_>>())
        });
        match all {
            Ok(items) => items.into_iter(),
            Err(e) => vec![Err(e)].into_iter(),
        }
    }

    /// Every record whose secondary key `K` holds `value`, deserialized: the short form
    /// (`users.get_by(User::EMAIL, "a@x")`); see [`Tree::get_by`](crate::Tree::get_by).
    pub fn get_by<K: SecondaryKey<M>>(
        &self,
        key: KeyField<K>,
        value: impl KeyArg<K>,
    ) -> Result<Vec<M>> {
        self.with_read(|t| t.get_by(key, value)?.map(|r| r?.deserialize()).collect())
    }

    /// How many records hold `value` in the secondary key `K` (reads only the index).
    pub fn count_by<K: SecondaryKey<M>>(
        &self,
        key: KeyField<K>,
        value: impl KeyArg<K>,
    ) -> Result<u64> {
        self.with_read(|t| t.count_by(key, value))
    }

    /// Whether a record is stored under `key`.
    pub fn contains_key(&self, key: impl KeyArg<M::PrimaryKey>) -> Result<bool> {
        self.with_read(|t| t.contains_key(key))
    }

    /// The records whose primary keys lie in `range` (`..`, `a..b`, `a..=b`, ...), in
    /// primary-key order, deserialized.
    pub fn range(&self, range: impl KeyRange<M::PrimaryKey>) -> Result<Vec<M>> {
        self.with_read(|t| t.range(range)?.map(|r| r?.deserialize()).collect())
    }

    /// Like [`range`](Self::range), in descending primary-key order.
    pub fn range_rev(&self, range: impl KeyRange<M::PrimaryKey>) -> Result<Vec<M>> {
        self.with_read(|t| t.range_rev(range)?.map(|r| r?.deserialize()).collect())
    }

    /// A query by primary key (ranges, prefixes, reverse order, limits, cursor pages) run
    /// in one read transaction, returning owned records; see [`StoreQuery`].
    ///
    /// ```
    /// # use netabase_store::prelude::*;
    /// # #[netabase_definition_module(AppDefinition, AppKeys)]
    /// # mod app {
    /// #     #[derive(netabase_store::NetabaseModel, Clone, Debug)]
    /// #     #[netabase(AppDefinition)]
    /// #     pub struct Note { #[primary_key] pub id: u64 }
    /// # }
    /// # use app::*;
    /// let store = Store::<AppDefinition, _>::temp()?;
    /// let notes = store.open_tree::<Note>();
    /// notes.put_many((1..=5).map(|id| Note { id }))?;
    /// let newest: Vec<u64> = notes.query().rev().limit(2).collect()?.iter().map(|n| n.id).collect();
    /// assert_eq!(newest, [5, 4]);
    /// let first = notes.query().range(2..).limit(2).page()?;
    /// assert_eq!(first.items.len(), 2);
    /// let rest = notes.query().range(2..).after(first.next.as_ref().unwrap()).collect()?;
    /// assert_eq!(rest.iter().map(|n| n.id).collect::<Vec<_>>(), [4, 5]);
    /// # Ok::<(), NetabaseError>(())
    /// ```
    ///
    /// [`StoreQuery`]: crate::query::StoreQuery
    pub fn query(&self) -> crate::query::StoreQuery<'s, D, B, M> {
        crate::query::StoreQuery::new(StoreTree {
            store: self.store,
            _model: PhantomData,
        })
    }

    /// How many records hold the secondary key value `key` (reads only the index).
    pub fn count_by_secondary_key(&self, key: impl SecondaryLookup<M>) -> Result<u64> {
        self.with_read(|t| t.count_by_secondary_key(key))
    }

    /// Removes the records stored under `keys` in one transaction; returns how many existed.
    pub fn remove_many<I>(&self, keys: I) -> Result<usize>
    where
        I: IntoIterator,
        I::Item: KeyArg<M::PrimaryKey>,
    {
        self.with_write(|t| t.remove_many(keys))
    }

    /// Starts a batch: puts and removes collected in memory and applied in one write
    /// transaction at [`Batch::commit`], all or nothing.
    pub fn batch(&self) -> Batch<'_, D, B, M> {
        Batch {
            tree: StoreTree {
                store: self.store,
                _model: PhantomData,
            },
            ops: Vec::new(),
        }
    }

    /// The 0.0.x name of [`batch`](Self::batch), which cannot fail.
    #[deprecated(since = "0.1.0", note = "use `batch()`, which cannot fail")]
    pub fn create_batch(&self) -> Result<Batch<'_, D, B, M>> {
        Ok(self.batch())
    }

    /// The number of records.
    pub fn len(&self) -> Result<u64> {
        self.with_read(|t| t.len())
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> Result<bool> {
        self.with_read(|t| t.is_empty())
    }

    /// Removes every record of this model.
    pub fn clear(&self) -> Result<()> {
        self.with_write(|t| t.clear())
    }
}

enum BatchOp<M: NetabaseModelTrait> {
    Put(M),
    Remove(M::PrimaryKey),
}

/// Puts and removes applied atomically: all of them or none. From
/// [`StoreTree::create_batch`].
///
/// Nothing touches the store until [`commit`](Batch::commit); dropping the batch discards
/// it. Operations apply in the order they were added, so a later put of the same key wins.
#[must_use = "a batch does nothing until it is committed"]
pub struct Batch<'s, D, B, M: NetabaseModelTrait> {
    tree: StoreTree<'s, D, B, M>,
    ops: Vec<BatchOp<M>>,
}

impl<D, B, M> Batch<'_, D, B, M>
where
    D: NetabaseDefinitionTrait,
    B: Backend,
    M: NetabaseModelTrait<Definition = D>,
{
    /// Adds a put (nothing is written before [`commit`](Self::commit)).
    pub fn insert(&mut self, model: M) -> &mut Self {
        self.ops.push(BatchOp::Put(model));
        self
    }

    /// Adds a remove (nothing is removed before [`commit`](Self::commit)).
    pub fn delete(&mut self, key: M::PrimaryKey) -> &mut Self {
        self.ops.push(BatchOp::Remove(key));
        self
    }

    /// The 0.0.x name of [`insert`](Self::insert), which cannot fail.
    #[deprecated(since = "0.1.0", note = "use `insert`, which cannot fail")]
    pub fn put(&mut self, model: M) -> Result<()> {
        self.insert(model);
        Ok(())
    }

    /// The 0.0.x name of [`delete`](Self::delete), which cannot fail.
    #[deprecated(since = "0.1.0", note = "use `delete`, which cannot fail")]
    pub fn remove(&mut self, key: M::PrimaryKey) -> Result<()> {
        self.delete(key);
        Ok(())
    }

    /// The number of queued operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether no operation is queued.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Applies every operation in one write transaction. If any fails (a unique-key clash,
    /// a corrupt record, a backend error), the transaction is rolled back and nothing of the
    /// batch is written.
    pub fn commit(self) -> Result<()> {
        let Batch { tree, ops } = self;
        tree.with_write(|t| {
            for op in ops {
                match op {
                    BatchOp::Put(m) => t.put(m)?,
                    BatchOp::Remove(k) => {
                        t.delete(k)?;
                    }
                }
            }
            Ok(())
        })
    }
}
