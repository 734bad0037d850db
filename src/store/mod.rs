//! The store facade: [`Store`], its constructors, and its auto-commit [`StoreTree`].
//!
//! `mod.rs` holds the store itself (transactions, subscriptions, store-wide index rebuild,
//! integrity check and repair); `constructors.rs` opens each backend from a path or a
//! [`FileConfig`]; `tree.rs` is the auto-commit [`StoreTree`] and its [`Batch`]; `query.rs`
//! its [`StoreQuery`].

use std::marker::PhantomData;

use netabase_backend_api::Backend;

use crate::config::FileConfig;
use crate::error::Result;
use crate::integrity::{IntegrityReport, ModelRepair, RepairOptions, RepairReport};
use crate::meta::{MigrationProgress, open_schema};
use crate::scratch::ScratchSlot;
use crate::subscribe::{Feed, Subscription, SubscriptionBuilder};
use crate::traits::definition::{ModelVisitor, NetabaseDefinitionTrait};
use crate::traits::model::NetabaseModelTrait;
use crate::txn::{ReadTxn, WriteTxn, WriterMark, WriterThread};

mod constructors;
mod query;
mod tree;

#[cfg(feature = "memory")]
pub use constructors::MemoryStore;
#[cfg(feature = "redb")]
pub use constructors::RedbStore;
#[cfg(feature = "sled")]
pub use constructors::SledStore;
pub use query::StoreQuery;
pub use tree::{Batch, StoreTree};

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
    writer: std::sync::Mutex<Option<WriterThread>>,
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
        open_schema::<D, B>(|| store.read(), || store.write(), &mut progress)?;
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
        let mark = WriterMark::check(&self.writer)?;
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
    pub fn check_integrity(&self) -> Result<IntegrityReport> {
        struct Check<'a, 'db, D: NetabaseDefinitionTrait, B: Backend> {
            txn: &'a ReadTxn<'db, D, B>,
            report: IntegrityReport,
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
            report: IntegrityReport::default(),
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
    pub fn repair(&self, options: RepairOptions) -> Result<RepairReport> {
        struct Repair<'a, 'db, D: NetabaseDefinitionTrait, B: Backend> {
            txn: &'a WriteTxn<'db, D, B>,
            options: RepairOptions,
            report: RepairReport,
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
                self.report.models.push(ModelRepair {
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
            report: RepairReport::default(),
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
        WriterMark::check(&self.writer)?;
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
