//! The async typed API: [`AsyncStore`], with the same type-state as [`Store`].
//!
//! ```
//! use netabase_store::prelude::*;
//! use netabase_store::{AsyncStore, MemoryBackend, backend::SyncAsAsync};
//!
//! #[netabase_definition_module(AppDefinition, AppKeys)]
//! pub mod app {
//!     use netabase_store::NetabaseModel;
//!
//!     #[derive(NetabaseModel, Clone, Debug, PartialEq)]
//!     #[netabase(AppDefinition)]
//!     pub struct User {
//!         #[primary_key]
//!         pub id: u64,
//!         #[secondary_key]
//!         pub email: String,
//!     }
//! }
//! use app::*;
//!
//! # fn main() -> Result<(), NetabaseError> {
//! # futures_executor::block_on(async {
//! // Any backend of the async contract; here memory, through the sync-to-async adapter.
//! let store =
//!     AsyncStore::<AppDefinition, _>::from_backend(SyncAsAsync(MemoryBackend::new())).await?;
//! let txn = store.write().await?;
//! {
//!     let mut users = txn.open_tree::<User>().await?;
//!     users.put(User { id: 1, email: "a@x".into() }).await?;
//! }
//! txn.commit().await?;
//!
//! let txn = store.read().await?;
//! let users = txn.open_tree::<User>().await?;
//! let alice = users.get(UserPrimaryKey(1)).await?.expect("stored above");
//! assert_eq!(alice.email, "a@x"); // `alice` derefs to `ArchivedUser`
//! assert_eq!(users.get_by(User::EMAIL, "a@x").await?.len(), 1);
//!
//! // Auto-commit: one call, one transaction, owned values.
//! let users = store.open_tree::<User>();
//! users.put(User { id: 2, email: "b@x".into() }).await?;
//! assert_eq!(users.len().await?, 2);
//! # Ok(())
//! # })
//! # }
//! ```
//!
//! Writes drive the same sans-I/O steps as the synchronous [`Tree`](crate::Tree) (read the old
//! record, plan, unique checks, writes; see `src/steps.rs`), so index maintenance exists once.
//! On a synchronous backend wrapped in [`SyncAsAsync`] every future is ready at its first poll
//! and reads stay zero-copy; native synchronous code keeps using [`Store`].
//!
//! The async store does not publish changes to [subscriptions](crate::subscribe), and opening
//! records new models but does not migrate or re-index (see
//! [`from_backend`](AsyncStore::from_backend)).

use std::borrow::Borrow;
use std::cell::Cell;
use std::marker::PhantomData;
use std::ops::Bound;

use netabase_backend_api::{
    AsyncBackend, AsyncReadTable, AsyncReadTransaction, AsyncWriteTable, AsyncWriteTransaction,
    Backend, Direction, SyncAsAsync,
};

use crate::error::{NetabaseError, Result};
use crate::guard::{Ref, deserialize_archived};
use crate::key::{Key, KeyArg, KeyNewtype, KeyPrefix, KeyRange, prefix_successor};
use crate::query::{
    Cursor, Page, PkAt, Scan, holds_entry, paging_methods, primary_filters, secondary_filters,
    succ_or_unbounded_lower,
};
use crate::steps::{UNIQUE_CHECK_READS, Write, WriteSteps};
use crate::store::Store;
use crate::traits::definition::NetabaseDefinitionTrait;
use crate::traits::model::{KeyField, NetabaseModelTrait, SecondaryKey, SecondaryLookup};
use crate::tree::poison_on_err;
use crate::txn::{WriterMark, WriterThread};

/// A typed store of definition `D` on an async backend `B` (IndexedDB in the browser, or any
/// synchronous backend wrapped in [`SyncAsAsync`]).
pub struct AsyncStore<D, B> {
    backend: B,
    writer: std::sync::Mutex<Option<WriterThread>>,
    _definition: PhantomData<fn() -> D>,
}

/// The tree type of an async read transaction over backend `B`.
pub type AsyncReadTree<'t, 'db, M, B> =
    AsyncTree<'t, M, <<B as AsyncBackend>::ReadTxn<'db> as AsyncReadTransaction>::Table<'t>>;

/// The tree type of an async write transaction over backend `B`.
pub type AsyncWriteTree<'t, 'db, M, B> =
    AsyncTree<'t, M, <<B as AsyncBackend>::WriteTxn<'db> as AsyncWriteTransaction>::Table<'t>>;

impl<D: NetabaseDefinitionTrait, B: AsyncBackend> AsyncStore<D, B> {
    /// Wraps an open async backend: records the schema of a new store, records models added
    /// to the definition, and otherwise checks that the stored schema is `D`'s.
    ///
    /// A store that needs migrating or re-indexing is a
    /// [`SchemaMismatch`](NetabaseError::SchemaMismatch) (nothing is written); on native, open
    /// it once with [`Store::from_backend`](crate::Store::from_backend), which evolves it, and
    /// then [`from_sync`](AsyncStore::from_sync).
    pub async fn from_backend(backend: B) -> Result<Self> {
        crate::meta::open_schema_async::<D, B>(&backend).await?;
        Ok(Self::wrap(backend))
    }

    fn wrap(backend: B) -> Self {
        AsyncStore {
            backend,
            writer: std::sync::Mutex::new(None),
            _definition: PhantomData,
        }
    }

    /// Begins a read transaction.
    pub async fn read(&self) -> Result<AsyncReadTxn<'_, D, B>> {
        Ok(AsyncReadTxn {
            txn: self.backend.begin_read().await?,
            _definition: PhantomData,
        })
    }

    /// Begins a write transaction. One at a time: while this thread (in the browser: the page)
    /// holds one, another is [`NetabaseError::ReentrantWrite`] instead of waiting for itself.
    pub async fn write(&self) -> Result<AsyncWriteTxn<'_, D, B>> {
        let mark = WriterMark::check(&self.writer)?;
        let txn = self.backend.begin_write().await?;
        Ok(AsyncWriteTxn {
            txn,
            _writer: mark.hold(),
            poisoned: Cell::new(false),
            _definition: PhantomData,
        })
    }

    /// An auto-commit handle on model `M`: each call runs in its own transaction and returns
    /// owned values.
    pub fn open_tree<M>(&self) -> AsyncStoreTree<'_, D, B, M>
    where
        M: NetabaseModelTrait<Definition = D>,
    {
        AsyncStoreTree {
            store: self,
            _model: PhantomData,
        }
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Unwraps the backend.
    pub fn into_backend(self) -> B {
        self.backend
    }
}

impl<D: NetabaseDefinitionTrait, B: Backend> AsyncStore<D, SyncAsAsync<B>> {
    /// The async API over an open synchronous store (whose open already checked and evolved
    /// the schema), so code written for the browser runs on native unchanged.
    pub fn from_sync(store: Store<D, B>) -> Self {
        Self::wrap(SyncAsAsync(store.into_backend()))
    }
}

/// An async read transaction; trees opened from it have only read methods.
pub struct AsyncReadTxn<'db, D, B: AsyncBackend> {
    txn: B::ReadTxn<'db>,
    _definition: PhantomData<fn() -> D>,
}

impl<'db, D: NetabaseDefinitionTrait, B: AsyncBackend> AsyncReadTxn<'db, D, B> {
    /// Opens the tree of model `M` for reading.
    pub async fn open_tree<M>(&self) -> Result<AsyncReadTree<'_, 'db, M, B>>
    where
        M: NetabaseModelTrait<Definition = D>,
    {
        let primary = self.txn.open_table(M::INFO.table).await?;
        let index = match M::INFO.secondary_keys.is_empty() {
            true => None,
            false => Some(self.txn.open_table(M::INFO.index_table).await?),
        };
        let mut tree = AsyncTree::new(primary, index, None);
        tree.read_committed = !B::CAPABILITIES.snapshot_reads;
        Ok(tree)
    }

    /// The backend's own transaction.
    pub fn backend_txn(&self) -> &B::ReadTxn<'db> {
        &self.txn
    }
}

/// An async write transaction. Its writes become visible atomically at
/// [`commit`](Self::commit); dropping it without committing rolls every write back.
pub struct AsyncWriteTxn<'db, D, B: AsyncBackend> {
    txn: B::WriteTxn<'db>,
    /// Declared after `txn`, so the backend transaction ends before the mark is cleared.
    _writer: WriterMark<'db>,
    poisoned: Cell<bool>,
    _definition: PhantomData<fn() -> D>,
}

impl<'db, D: NetabaseDefinitionTrait, B: AsyncBackend> AsyncWriteTxn<'db, D, B> {
    /// Opens the tree of model `M` for reading and writing.
    pub async fn open_tree<M>(&self) -> Result<AsyncWriteTree<'_, 'db, M, B>>
    where
        M: NetabaseModelTrait<Definition = D>,
    {
        let primary = self.txn.open_table(M::INFO.table).await?;
        let index = match M::INFO.secondary_keys.is_empty() {
            true => None,
            false => Some(self.txn.open_table(M::INFO.index_table).await?),
        };
        Ok(AsyncTree::new(primary, index, Some(&self.poisoned)))
    }

    /// The backend's own transaction. Writing model or index tables through it bypasses
    /// index maintenance.
    pub fn backend_txn(&self) -> &B::WriteTxn<'db> {
        &self.txn
    }

    /// Atomically publishes every write of this transaction; a transaction in which a write
    /// failed half-way is rolled back with [`NetabaseError::TransactionPoisoned`].
    pub async fn commit(self) -> Result<()> {
        if self.poisoned.get() {
            self.txn.abort().await?;
            return Err(NetabaseError::TransactionPoisoned);
        }
        Ok(self.txn.commit().await?)
    }

    /// Rolls every write of this transaction back.
    pub async fn abort(self) -> Result<()> {
        Ok(self.txn.abort().await?)
    }
}

/// One model's records inside one async transaction: the async twin of
/// [`Tree`](crate::Tree). Write methods exist only on a write transaction's trees.
pub struct AsyncTree<'t, M: NetabaseModelTrait, T> {
    primary: T,
    index: Option<T>,
    steps: WriteSteps,
    scratch: Vec<u8>,
    poison: Option<&'t Cell<bool>>,
    /// A read tree on a backend without snapshot reads: index entries a concurrent commit made
    /// stale are skipped (as on the sync [`Tree`](crate::Tree)).
    read_committed: bool,
    _model: PhantomData<fn() -> M>,
}

impl<'t, M: NetabaseModelTrait, T: AsyncReadTable> AsyncTree<'t, M, T> {
    fn new(primary: T, index: Option<T>, poison: Option<&'t Cell<bool>>) -> Self {
        AsyncTree {
            primary,
            index,
            steps: WriteSteps::default(),
            scratch: Vec::new(),
            poison,
            read_committed: false,
            _model: PhantomData,
        }
    }

    /// The record stored under `key`, validated once; derefs to the archived model.
    pub async fn get(
        &self,
        key: impl KeyArg<M::PrimaryKey>,
    ) -> Result<Option<Ref<M, T::Guard<'_>>>> {
        let mut buf = Vec::new();
        key.encode_as(&mut buf);
        match self.primary.get(&buf).await? {
            Some(guard) => Ref::new(guard, M::INFO.table, &buf).map(Some),
            None => Ok(None),
        }
    }

    /// Whether a record is stored under `key` (without validating it).
    pub async fn contains_key(&self, key: impl KeyArg<M::PrimaryKey>) -> Result<bool> {
        let mut buf = Vec::new();
        key.encode_as(&mut buf);
        Ok(self.primary.get(&buf).await?.is_some())
    }

    /// The records stored under `keys`, in order (`None` where there is none).
    pub async fn get_many<I>(&self, keys: I) -> Result<Vec<Option<Ref<M, T::Guard<'_>>>>>
    where
        I: IntoIterator,
        I::Item: KeyArg<M::PrimaryKey>,
    {
        let mut out = Vec::new();
        for key in keys {
            out.push(self.get(key).await?);
        }
        Ok(out)
    }

    /// Every record whose secondary key `K` holds `value`, in primary-key order.
    pub async fn get_by<K: SecondaryKey<M>>(
        &self,
        _key: KeyField<K>,
        value: impl KeyArg<K>,
    ) -> Result<Vec<Ref<M, T::Guard<'_>>>> {
        self.query_by::<K>().equal(value).collect().await
    }

    /// Every record holding the secondary key value `key` (the key enum or a key newtype).
    pub async fn get_by_secondary_key(
        &self,
        key: impl SecondaryLookup<M>,
    ) -> Result<Vec<Ref<M, T::Guard<'_>>>> {
        let mut prefix = vec![key.lookup_tag()];
        key.encode_lookup_value(&mut prefix);
        let pk_at = PkAt::Fixed(prefix.len());
        let mut scan = Scan::new(Bound::Unbounded, Bound::Unbounded);
        scan.set_prefix(prefix);
        Ok(self.secondary_scan(&scan, pk_at).await?.0)
    }

    /// How many records hold `value` in the secondary key `K` (reads only the index).
    pub async fn count_by<K: SecondaryKey<M>>(
        &self,
        _key: KeyField<K>,
        value: impl KeyArg<K>,
    ) -> Result<u64> {
        self.query_by::<K>().equal(value).count().await
    }

    /// Every record, in primary-key order.
    pub async fn iter(&self) -> Result<Vec<Ref<M, T::Guard<'_>>>> {
        self.query().collect().await
    }

    /// The records whose primary keys lie in `range`, in primary-key order.
    pub async fn range(
        &self,
        range: impl KeyRange<M::PrimaryKey>,
    ) -> Result<Vec<Ref<M, T::Guard<'_>>>> {
        self.query().range(range).collect().await
    }

    /// Like [`range`](Self::range), in descending primary-key order.
    pub async fn range_rev(
        &self,
        range: impl KeyRange<M::PrimaryKey>,
    ) -> Result<Vec<Ref<M, T::Guard<'_>>>> {
        self.query().range(range).rev().collect().await
    }

    /// A query by primary key: ranges, prefixes, reverse order, limits and cursor pages.
    pub fn query(&self) -> AsyncPrimaryQuery<'_, 't, M, T> {
        AsyncPrimaryQuery {
            tree: self,
            scan: Scan::new(Bound::Unbounded, Bound::Unbounded),
        }
    }

    /// A query by the secondary key `K`: exact values, ranges, prefixes, reverse order,
    /// limits and cursor pages.
    pub fn query_by<K: SecondaryKey<M>>(&self) -> AsyncSecondaryQuery<'_, 't, M, T, K> {
        let mut scan = Scan::new(Bound::Unbounded, Bound::Unbounded);
        scan.set_prefix(vec![K::TAG]);
        AsyncSecondaryQuery {
            tree: self,
            scan,
            pk_at: PkAt::Skip(<K as Key>::skip_key),
            _key: PhantomData,
        }
    }

    /// The number of records.
    pub async fn len(&self) -> Result<u64> {
        Ok(self.primary.len().await?)
    }

    /// Whether the tree has no records.
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.primary.is_empty().await?)
    }

    /// Runs a primary scan: up to `limit` records and whether more follow.
    #[allow(clippy::type_complexity)]
    async fn primary_scan(
        &self,
        scan: &Scan,
    ) -> Result<(Vec<Ref<M, T::Guard<'_>>>, bool, Option<Vec<u8>>)> {
        let (lower, upper) = scan.bounds();
        let mut entries = self
            .primary
            .range(
                lower,
                upper,
                scan.direction,
                scan.limit.map(|n| n.saturating_add(1)),
            )
            .await?;
        let more = scan.limit.is_some_and(|n| entries.len() > n);
        entries.truncate(scan.limit.unwrap_or(usize::MAX));
        let last = entries.last().map(|(k, _)| k.as_ref().to_vec());
        let records = entries
            .into_iter()
            .map(|(key, value)| Ref::new(value, M::INFO.table, &key))
            .collect::<Result<_>>()?;
        Ok((records, more, last))
    }

    /// Runs an index scan, reading the record of each entry: up to `limit` records, whether
    /// more follow, and the last index key (the cursor).
    #[allow(clippy::type_complexity)]
    async fn secondary_scan(
        &self,
        scan: &Scan,
        pk_at: PkAt,
    ) -> Result<(Vec<Ref<M, T::Guard<'_>>>, bool, Option<Vec<u8>>)> {
        let Some(index) = &self.index else {
            return Ok((Vec::new(), false, None));
        };
        let (lower, upper) = scan.bounds();
        let mut entries = index
            .range(
                lower,
                upper,
                scan.direction,
                scan.limit.map(|n| n.saturating_add(1)),
            )
            .await?;
        let more = scan.limit.is_some_and(|n| entries.len() > n);
        entries.truncate(scan.limit.unwrap_or(usize::MAX));
        let last = entries.last().map(|(k, _)| k.as_ref().to_vec());
        let mut records = Vec::with_capacity(entries.len());
        for (index_key, _) in &entries {
            let index_key = index_key.as_ref();
            let inconsistent = || NetabaseError::IndexInconsistent {
                table: M::INFO.index_table,
                index_key: index_key.to_vec(),
            };
            let primary_key = pk_at.split(index_key).ok_or_else(inconsistent)?;
            // As `query::resolve`: on a read-committed read, an entry whose record is gone or
            // no longer holds its value was changed by a commit during the read; skipped.
            match self.primary.get(primary_key).await? {
                Some(guard) => {
                    let record = Ref::new(guard, M::INFO.table, &primary_key)?;
                    if self.read_committed && !holds_entry::<M>(&record, primary_key, index_key) {
                        continue;
                    }
                    records.push(record);
                }
                None if self.read_committed => continue,
                None => return Err(inconsistent()),
            }
        }
        Ok((records, more, last))
    }
}

impl<'t, M: NetabaseModelTrait, T: AsyncWriteTable> AsyncTree<'t, M, T> {
    /// Inserts `model`, or replaces the record with the same primary key, and updates every
    /// secondary index in the same transaction. A unique key held by another record is
    /// [`NetabaseError::UniqueViolation`] and nothing of this put is written.
    pub async fn put(&mut self, model: impl Borrow<M>) -> Result<()> {
        let model = model.borrow();
        self.steps.start_put(model)?;
        if let Some(index) = &self.index {
            {
                let old = match self.primary.get(self.steps.key()).await? {
                    Some(g) => Some(Ref::<M, _>::new(g, M::INFO.table, self.steps.key())?),
                    None => None,
                };
                self.steps
                    .plan_put::<M>(old.as_ref().map(|r| r.archived()), model);
            }
            for check in self.steps.unique_checks() {
                let (lower, upper) = check.bounds(&mut self.scratch);
                let found = index
                    .range(lower, upper, Direction::Forward, Some(UNIQUE_CHECK_READS))
                    .await?;
                for (key, _) in found {
                    check.judge::<M>(key.as_ref())?;
                }
            }
        }
        let result = apply_writes(&self.steps, &mut self.primary, self.index.as_mut()).await;
        poison_on_err(self.poison, result)
    }

    /// Puts every model of `models`, in order; all or nothing (a failure after the first
    /// put poisons the transaction, so `commit` rolls back).
    pub async fn put_many<I>(&mut self, models: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Borrow<M>,
    {
        for (i, model) in models.into_iter().enumerate() {
            if let Err(e) = self.put(model).await {
                if i > 0
                    && let Some(p) = self.poison
                {
                    p.set(true);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Removes the record stored under `key` and its index entries; returns it,
    /// deserialized.
    pub async fn remove(&mut self, key: impl KeyArg<M::PrimaryKey>) -> Result<Option<M>> {
        self.steps.start_remove::<M>(key);
        let taken = {
            let Some(old) = self.primary.get(self.steps.key()).await? else {
                return Ok(None);
            };
            let old = Ref::<M, _>::new(old, M::INFO.table, self.steps.key())?;
            if self.index.is_some() {
                self.steps.plan_remove::<M>(old.archived());
            }
            deserialize_archived::<M>(old.archived())?
        };
        let result = apply_writes(&self.steps, &mut self.primary, self.index.as_mut()).await;
        poison_on_err(self.poison, result)?;
        Ok(Some(taken))
    }

    /// Removes the record stored under `key`; returns whether it existed.
    pub async fn delete(&mut self, key: impl KeyArg<M::PrimaryKey>) -> Result<bool> {
        Ok(self.remove(key).await?.is_some())
    }

    /// Removes the records stored under `keys`; returns how many existed.
    pub async fn remove_many<I>(&mut self, keys: I) -> Result<usize>
    where
        I: IntoIterator,
        I::Item: KeyArg<M::PrimaryKey>,
    {
        let mut removed = 0;
        for key in keys {
            removed += usize::from(self.delete(key).await?);
        }
        Ok(removed)
    }

    /// Removes every record and index entry of this model.
    pub async fn clear(&mut self) -> Result<()> {
        let result = async {
            if let Some(index) = &mut self.index {
                index.clear().await?;
            }
            self.primary.clear().await
        }
        .await;
        poison_on_err(self.poison, result)
    }
}

/// Performs the writes of [`WriteSteps`] on async tables.
async fn apply_writes<T: AsyncWriteTable>(
    steps: &WriteSteps,
    primary: &mut T,
    mut index: Option<&mut T>,
) -> netabase_backend_api::Result<()> {
    for write in steps.writes() {
        match (write, index.as_deref_mut()) {
            (Write::IndexRemove(key), Some(index)) => {
                index.remove(key).await?;
            }
            (Write::IndexInsert(key), Some(index)) => index.insert(key, &[]).await?,
            (Write::IndexRemove(_) | Write::IndexInsert(_), None) => {}
            (Write::PrimaryInsert(key, value), _) => primary.insert(key, value).await?,
            (Write::PrimaryRemove(key), _) => {
                primary.remove(key).await?;
            }
        }
    }
    Ok(())
}

/// A primary-key query of an [`AsyncTree`]: the same filters and paging as
/// [`PrimaryQuery`](crate::PrimaryQuery).
#[must_use = "a query does nothing until `collect`, `page` or `count` runs it"]
pub struct AsyncPrimaryQuery<'a, 't, M: NetabaseModelTrait, T> {
    tree: &'a AsyncTree<'t, M, T>,
    scan: Scan,
}

impl<'a, 't, M: NetabaseModelTrait, T: AsyncReadTable> AsyncPrimaryQuery<'a, 't, M, T> {
    primary_filters!();

    paging_methods!("key");

    /// Runs the query: the matching records, read in place.
    pub async fn collect(self) -> Result<Vec<Ref<M, T::Guard<'a>>>> {
        Ok(self.tree.primary_scan(&self.scan).await?.0)
    }

    /// Runs the query and returns one page with the cursor of the next page.
    pub async fn page(self) -> Result<Page<Ref<M, T::Guard<'a>>>> {
        let (items, more, last) = self.tree.primary_scan(&self.scan).await?;
        let next = match more {
            true => last.map(Cursor::from_bytes),
            false => None,
        };
        Ok(Page { items, next })
    }

    /// Counts the matching records.
    pub async fn count(self) -> Result<u64> {
        let (lower, upper) = self.scan.bounds();
        let entries = self
            .tree
            .primary
            .range(lower, upper, self.scan.direction, self.scan.limit)
            .await?;
        Ok(entries.len() as u64)
    }
}

/// A query of an [`AsyncTree`] by one secondary key `K`: the same filters and paging as
/// [`SecondaryQuery`](crate::SecondaryQuery).
#[must_use = "a query does nothing until `collect`, `page` or `count` runs it"]
pub struct AsyncSecondaryQuery<'a, 't, M: NetabaseModelTrait, T, K> {
    tree: &'a AsyncTree<'t, M, T>,
    scan: Scan,
    pk_at: PkAt,
    _key: PhantomData<fn() -> K>,
}

impl<'a, 't, M, T, K> AsyncSecondaryQuery<'a, 't, M, T, K>
where
    M: NetabaseModelTrait,
    T: AsyncReadTable,
    K: SecondaryKey<M>,
{
    secondary_filters!();

    paging_methods!("`(value, primary key)`");

    /// Runs the query: the matching records, read in place.
    pub async fn collect(self) -> Result<Vec<Ref<M, T::Guard<'a>>>> {
        Ok(self.tree.secondary_scan(&self.scan, self.pk_at).await?.0)
    }

    /// Runs the query and returns one page with the cursor of the next page.
    pub async fn page(self) -> Result<Page<Ref<M, T::Guard<'a>>>> {
        let (items, more, last) = self.tree.secondary_scan(&self.scan, self.pk_at).await?;
        let next = match more {
            true => last.map(Cursor::from_bytes),
            false => None,
        };
        Ok(Page { items, next })
    }

    /// Counts the matching records by reading only the index.
    pub async fn count(self) -> Result<u64> {
        let Some(index) = &self.tree.index else {
            return Ok(0);
        };
        let (lower, upper) = self.scan.bounds();
        let entries = index
            .range(lower, upper, self.scan.direction, self.scan.limit)
            .await?;
        Ok(entries.len() as u64)
    }
}

/// The auto-commit handle of an [`AsyncStore`] on model `M`: each call is one transaction
/// and returns owned values.
pub struct AsyncStoreTree<'s, D, B, M> {
    store: &'s AsyncStore<D, B>,
    _model: PhantomData<fn() -> M>,
}

impl<D, B, M> AsyncStoreTree<'_, D, B, M>
where
    D: NetabaseDefinitionTrait,
    B: AsyncBackend,
    M: NetabaseModelTrait<Definition = D>,
{
    /// Inserts or replaces `model`, in its own transaction.
    pub async fn put(&self, model: impl Borrow<M>) -> Result<()> {
        let txn = self.store.write().await?;
        txn.open_tree::<M>().await?.put(model).await?;
        txn.commit().await
    }

    /// Puts every model of `models` in one transaction: all or nothing.
    pub async fn put_many<I>(&self, models: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Borrow<M>,
    {
        let txn = self.store.write().await?;
        txn.open_tree::<M>().await?.put_many(models).await?;
        txn.commit().await
    }

    /// The record stored under `key`, deserialized.
    pub async fn get(&self, key: impl KeyArg<M::PrimaryKey>) -> Result<Option<M>> {
        let txn = self.store.read().await?;
        let tree = txn.open_tree::<M>().await?;
        let found = tree.get(key).await?;
        found.map(|r| r.deserialize()).transpose()
    }

    /// Removes the record stored under `key`; returns it.
    pub async fn remove(&self, key: impl KeyArg<M::PrimaryKey>) -> Result<Option<M>> {
        let txn = self.store.write().await?;
        let removed = txn.open_tree::<M>().await?.remove(key).await?;
        txn.commit().await?;
        Ok(removed)
    }

    /// Removes the records stored under `keys` in one transaction; returns how many existed.
    pub async fn remove_many<I>(&self, keys: I) -> Result<usize>
    where
        I: IntoIterator,
        I::Item: KeyArg<M::PrimaryKey>,
    {
        let txn = self.store.write().await?;
        let removed = txn.open_tree::<M>().await?.remove_many(keys).await?;
        txn.commit().await?;
        Ok(removed)
    }

    /// Every record whose secondary key `K` holds `value`, deserialized.
    pub async fn get_by<K: SecondaryKey<M>>(
        &self,
        key: KeyField<K>,
        value: impl KeyArg<K>,
    ) -> Result<Vec<M>> {
        let txn = self.store.read().await?;
        let tree = txn.open_tree::<M>().await?;
        let found = tree.get_by(key, value).await?;
        found.iter().map(|r| r.deserialize()).collect()
    }

    /// How many records hold `value` in the secondary key `K`.
    pub async fn count_by<K: SecondaryKey<M>>(
        &self,
        key: KeyField<K>,
        value: impl KeyArg<K>,
    ) -> Result<u64> {
        let txn = self.store.read().await?;
        let tree = txn.open_tree::<M>().await?;
        tree.count_by(key, value).await
    }

    /// Every record, in primary-key order, deserialized.
    pub async fn all(&self) -> Result<Vec<M>> {
        let txn = self.store.read().await?;
        let tree = txn.open_tree::<M>().await?;
        let found = tree.iter().await?;
        found.iter().map(|r| r.deserialize()).collect()
    }

    /// The number of records.
    pub async fn len(&self) -> Result<u64> {
        let txn = self.store.read().await?;
        txn.open_tree::<M>().await?.len().await
    }

    /// Whether there are no records.
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.len().await? == 0)
    }

    /// Removes every record of this model.
    pub async fn clear(&self) -> Result<()> {
        let txn = self.store.write().await?;
        txn.open_tree::<M>().await?.clear().await?;
        txn.commit().await
    }
}
