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
//!
//! `mod.rs` holds the store and its transactions; `tree.rs` the reads of an [`AsyncTree`],
//! `write.rs` its writes, `query.rs` its queries and `store_tree.rs` the auto-commit
//! [`AsyncStoreTree`].

use std::cell::Cell;
use std::marker::PhantomData;

use netabase_backend_api::{
    AsyncBackend, AsyncReadTransaction, AsyncWriteTransaction, Backend, SyncAsAsync,
};

use crate::error::{NetabaseError, Result};
use crate::meta::open_schema_async;
use crate::store::Store;
use crate::traits::definition::NetabaseDefinitionTrait;
use crate::traits::model::NetabaseModelTrait;
use crate::txn::{WriterMark, WriterThread};

mod query;
mod store_tree;
mod tree;
mod write;

pub use query::{AsyncPrimaryQuery, AsyncSecondaryQuery};
pub use store_tree::AsyncStoreTree;
pub use tree::AsyncTree;

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
        open_schema_async::<D, B>(&backend).await?;
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
        AsyncStoreTree::new(self)
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
