//! Type-state transactions: [`ReadTxn`] and [`WriteTxn`].

use std::cell::Cell;
use std::marker::PhantomData;

use netabase_backend_api::{Backend, ReadTransaction, WriteTransaction};

use crate::error::{NetabaseError, Result};
use crate::scratch::ScratchSlot;
use crate::subscribe::{Capture, Feed};
use crate::traits::definition::NetabaseDefinitionTrait;
use crate::traits::model::NetabaseModelTrait;
use crate::tree::Tree;

/// The tree type of a read transaction over backend `B`.
pub type ReadTree<'t, 'db, M, B> =
    Tree<'t, M, <<B as Backend>::ReadTxn<'db> as ReadTransaction>::Table<'t>>;

/// The tree type of a write transaction over backend `B`.
pub type WriteTree<'t, 'db, M, B> =
    Tree<'t, M, <<B as Backend>::WriteTxn<'db> as WriteTransaction>::Table<'t>>;

/// A read transaction: a consistent view of the store (on backends with snapshot reads;
/// see [`Capabilities`](netabase_backend_api::Capabilities)).
///
/// Trees opened from it have only read methods.
pub struct ReadTxn<'db, D, B: Backend> {
    txn: B::ReadTxn<'db>,
    _definition: PhantomData<fn() -> D>,
}

impl<'db, D: NetabaseDefinitionTrait, B: Backend> ReadTxn<'db, D, B> {
    pub(crate) fn new(txn: B::ReadTxn<'db>) -> Self {
        ReadTxn {
            txn,
            _definition: PhantomData,
        }
    }

    /// Opens the tree of model `M` for reading.
    pub fn open_tree<M>(&self) -> Result<ReadTree<'_, 'db, M, B>>
    where
        M: NetabaseModelTrait<Definition = D>,
    {
        let primary = self.txn.open_table(M::INFO.table)?;
        let index = if M::INFO.secondary_keys.is_empty() {
            None
        } else {
            Some(self.txn.open_table(M::INFO.index_table)?)
        };
        Ok(Tree::new(primary, index, None, None, None)
            .with_read_committed(!B::CAPABILITIES.snapshot_reads))
    }

    /// The backend's own transaction, for backend-specific reads next to typed ones.
    pub fn backend_txn(&self) -> &B::ReadTxn<'db> {
        &self.txn
    }
}

/// A write transaction. Its writes become visible atomically at
/// [`commit`](WriteTxn::commit); dropping it without committing rolls every write back.
///
/// Trees opened from it have read and write methods. A tree borrows the transaction, so
/// every tree must be dropped before `commit` (the borrow checker enforces it).
pub struct WriteTxn<'db, D, B: Backend> {
    txn: B::WriteTxn<'db>,
    /// Declared after `txn`, so the backend transaction ends before the mark is cleared.
    _writer: WriterMark<'db>,
    scratch: &'db ScratchSlot,
    poisoned: Cell<bool>,
    feed: &'db Feed,
    /// The changes to publish at commit; `None` (nothing captured) with no subscriber.
    capture: Option<Capture>,
    _definition: PhantomData<fn() -> D>,
}

impl<'db, D: NetabaseDefinitionTrait, B: Backend> WriteTxn<'db, D, B> {
    pub(crate) fn new(
        txn: B::WriteTxn<'db>,
        scratch: &'db ScratchSlot,
        writer: WriterMark<'db>,
        feed: &'db Feed,
    ) -> Self {
        WriteTxn {
            txn,
            _writer: writer,
            scratch,
            poisoned: Cell::new(false),
            feed,
            capture: feed.is_active().then(Capture::default),
            _definition: PhantomData,
        }
    }

    /// Opens the tree of model `M` for reading and writing.
    pub fn open_tree<M>(&self) -> Result<WriteTree<'_, 'db, M, B>>
    where
        M: NetabaseModelTrait<Definition = D>,
    {
        let primary = self.txn.open_table(M::INFO.table)?;
        let index = if M::INFO.secondary_keys.is_empty() {
            None
        } else {
            Some(self.txn.open_table(M::INFO.index_table)?)
        };
        Ok(Tree::new(
            primary,
            index,
            Some(&self.poisoned),
            Some(self.scratch),
            self.capture.as_ref(),
        ))
    }

    /// The backend's own transaction, for backend-specific work next to typed writes.
    /// Writing model or index tables through it bypasses index maintenance.
    pub fn backend_txn(&self) -> &B::WriteTxn<'db> {
        &self.txn
    }

    /// Atomically publishes every write of this transaction.
    ///
    /// Fails with [`NetabaseError::TransactionPoisoned`] (and rolls back) if a write inside
    /// it failed half-way, so a half-applied put can never be committed.
    pub fn commit(self) -> Result<()> {
        if self.poisoned.get() {
            self.txn.abort()?;
            return Err(NetabaseError::TransactionPoisoned);
        }
        match self.capture {
            None => Ok(self.txn.commit()?),
            Some(capture) => publish_commit(self.feed, capture.into_inner(), self.txn),
        }
    }

    /// Rolls every write of this transaction back (the same as dropping it, but reports
    /// errors).
    pub fn abort(self) -> Result<()> {
        self.txn.abort()?;
        Ok(())
    }
}

/// The id of a thread, as the re-entrance check compares them. Under loom, its model
/// threads all run on one OS thread, so they are told apart by loom's ids.
#[cfg(not(loom))]
pub(crate) type WriterThread = std::thread::ThreadId;
#[cfg(loom)]
pub(crate) type WriterThread = loom::thread::ThreadId;

fn current_thread() -> WriterThread {
    #[cfg(not(loom))]
    return std::thread::current().id();
    #[cfg(loom)]
    return loom::thread::current().id();
}

/// Records which thread holds a store's write transaction (see [`Store::write`]); cleared
/// when the transaction ends, on whatever thread that happens.
///
/// [`Store::write`]: crate::Store::write
pub(crate) struct WriterMark<'db> {
    slot: &'db std::sync::Mutex<Option<WriterThread>>,
    held: bool,
}

impl<'db> WriterMark<'db> {
    /// Fails if the current thread already holds the store's write transaction.
    pub(crate) fn check(slot: &'db std::sync::Mutex<Option<WriterThread>>) -> Result<Self> {
        let me = current_thread();
        let holder = *slot.lock().unwrap_or_else(|p| p.into_inner());
        if holder == Some(me) {
            return Err(NetabaseError::ReentrantWrite);
        }
        Ok(WriterMark { slot, held: false })
    }

    /// Marks the current thread as the holder (once the backend granted the transaction).
    pub(crate) fn hold(mut self) -> Self {
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(current_thread());
        self.held = true;
        self
    }
}

impl Drop for WriterMark<'_> {
    fn drop(&mut self) {
        if self.held {
            *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }
}

/// The commit of a transaction that began with subscribers: publishes its changes, in
/// commit order, once the backend commit succeeded.
#[cold]
#[inline(never)]
fn publish_commit<T: WriteTransaction>(
    feed: &Feed,
    changes: Vec<crate::subscribe::RawChange>,
    txn: T,
) -> Result<()> {
    if changes.is_empty() {
        return Ok(txn.commit()?);
    }
    feed.commit_and_publish(changes, || Ok(txn.commit()?))
}
