//! Typed trees: one model's records and secondary index inside one transaction.
//!
//! This module holds the tree, its point reads and its writes; the reads that run as queries
//! (`get_by`, `iter`, `range`, `query`, ...) are in `query/lookups.rs`, a layer above, so the
//! tree does not depend on the query types.

use std::borrow::Borrow;
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::ops::Bound;
use std::sync::Arc;

use crate::error::{NetabaseError, Result};
use crate::guard::{Ref, deserialize_archived};
use crate::key::{KeyArg, push_prefix_successor};
use crate::scratch::ScratchSlot;
use crate::steps::{UNIQUE_CHECK_READS, UniqueCheck, Write, WriteSteps};
use crate::subscribe::{Capture, RawChange};
use crate::traits::model::NetabaseModelTrait;
use netabase_backend_api::{Direction, ReadTable, WriteTable};

/// A record read from a tree whose tables are `T`.
pub type TreeRef<'a, M, T> = Ref<M, <T as ReadTable>::Guard<'a>>;

/// One model's records inside one transaction.
///
/// Obtained from [`ReadTxn::open_tree`](crate::ReadTxn::open_tree) or
/// [`WriteTxn::open_tree`](crate::WriteTxn::open_tree). Read methods exist on every tree;
/// write methods ([`put`](Tree::put), [`remove`](Tree::remove), [`clear`](Tree::clear))
/// exist only when `T` is a writable table, that is on a write transaction's tree, so
/// writing through a read transaction does not compile.
///
/// The tree keeps the model's tables open for its whole life (opening a table costs about
/// as much as a read). Open one tree per model per write transaction: opening a second tree
/// of the same model while the first lives is a [`TableAlreadyOpen`] error on backends
/// that enforce it (redb).
///
/// [`TableAlreadyOpen`]: netabase_backend_api::BackendError::TableAlreadyOpen
pub struct Tree<'t, M: NetabaseModelTrait, T> {
    primary: T,
    index: Option<T>,
    keys: RefCell<Vec<u8>>,
    write: WriteSteps,
    /// Where the write buffers came from and go back to when the tree drops, so the next
    /// write transaction starts with warm buffers (`None` for read trees).
    scratch_home: Option<&'t ScratchSlot>,
    poison: Option<&'t Cell<bool>>,
    /// Where committed changes are recorded for subscribers (`None`: nobody listens).
    capture: Option<&'t Capture>,
    /// A read tree on a backend without snapshot reads: index lookups skip entries that a
    /// concurrent commit made stale instead of calling them inconsistent.
    read_committed: bool,
    _model: PhantomData<fn() -> M>,
}

impl<M: NetabaseModelTrait, T> Drop for Tree<'_, M, T> {
    fn drop(&mut self) {
        if let Some(home) = self.scratch_home {
            home.give_back(std::mem::take(&mut self.write));
        }
    }
}

impl<'t, M: NetabaseModelTrait, T: ReadTable> Tree<'t, M, T> {
    pub(crate) fn new(
        primary: T,
        index: Option<T>,
        poison: Option<&'t Cell<bool>>,
        scratch_home: Option<&'t ScratchSlot>,
        capture: Option<&'t Capture>,
    ) -> Self {
        Tree {
            primary,
            index,
            keys: RefCell::new(Vec::new()),
            write: scratch_home.map(ScratchSlot::take).unwrap_or_default(),
            scratch_home,
            poison,
            capture,
            read_committed: false,
            _model: PhantomData,
        }
    }

    /// Marks a read tree of a backend without snapshot reads (see the field).
    pub(crate) fn with_read_committed(mut self, yes: bool) -> Self {
        self.read_committed = yes;
        self
    }

    pub(crate) fn read_committed(&self) -> bool {
        self.read_committed
    }

    /// The record stored under `key`, read in place.
    #[inline]
    pub fn get(&self, key: impl KeyArg<M::PrimaryKey>) -> Result<Option<Ref<M, T::Guard<'_>>>> {
        let mut buf = self.keys.borrow_mut();
        buf.clear();
        key.encode_as(&mut buf);
        match self.primary.get(&buf)? {
            Some(guard) => Ref::new(guard, M::INFO.table, &*buf).map(Some),
            None => Ok(None),
        }
    }

    /// Whether a record is stored under `key` (without validating it).
    pub fn contains_key(&self, key: impl KeyArg<M::PrimaryKey>) -> Result<bool> {
        let mut buf = self.keys.borrow_mut();
        buf.clear();
        key.encode_as(&mut buf);
        Ok(self.primary.get(&buf)?.is_some())
    }

    /// The records stored under `keys`, in order (`None` where there is none).
    pub fn get_many<I>(&self, keys: I) -> Result<Vec<Option<TreeRef<'_, M, T>>>>
    where
        I: IntoIterator,
        I::Item: KeyArg<M::PrimaryKey>,
    {
        keys.into_iter().map(|k| self.get(k)).collect()
    }

    /// The tree's reused key buffer (lookups encode into it).
    pub(crate) fn key_buf(&self) -> &RefCell<Vec<u8>> {
        &self.keys
    }

    pub(crate) fn primary_table(&self) -> &T {
        &self.primary
    }

    pub(crate) fn index_table(&self) -> Option<&T> {
        self.index.as_ref()
    }

    /// The number of records.
    pub fn len(&self) -> Result<u64> {
        Ok(self.primary.len()?)
    }

    /// Whether the tree has no records.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.primary.is_empty()?)
    }
}

impl<'t, M: NetabaseModelTrait, T: WriteTable> Tree<'t, M, T> {
    /// The tables and transaction state, for write paths outside this module (purge).
    pub(crate) fn parts_mut(
        &mut self,
    ) -> (
        &mut T,
        Option<&mut T>,
        Option<&'t Cell<bool>>,
        Option<&'t Capture>,
    ) {
        (
            &mut self.primary,
            self.index.as_mut(),
            self.poison,
            self.capture,
        )
    }

    /// Inserts `model`, or replaces the record with the same primary key, and updates
    /// every secondary index in the same transaction.
    ///
    /// A unique secondary key already held by another record is
    /// [`NetabaseError::UniqueViolation`], and nothing of this put is written. A stored
    /// record that fails validation is [`NetabaseError::Corrupt`] (its index entries cannot
    /// be found), and nothing is written either.
    #[inline]
    pub fn put(&mut self, model: impl Borrow<M>) -> Result<()> {
        match self.capture {
            None => self.put_record(model.borrow()),
            Some(capture) => self.put_captured(model.borrow(), capture),
        }
    }

    /// A put while subscribers listen: also records the old and new archive bytes.
    #[cold]
    #[inline(never)]
    fn put_captured(&mut self, model: &M, capture: &Capture) -> Result<()> {
        let mut key = Vec::new();
        model.encode_primary_key(&mut key);
        let old = self
            .primary
            .get(&key)?
            .map(|g| Arc::<[u8]>::from(g.as_ref()));
        self.put_record(model)?;
        capture.borrow_mut().push(RawChange {
            table: M::INFO.table,
            key: key.into(),
            old,
            new: Some(Arc::from(self.write.value())),
        });
        Ok(())
    }

    #[inline]
    fn put_record(&mut self, model: &M) -> Result<()> {
        let w = &mut self.write;
        w.start_put(model)?;
        if let Some(index) = &self.index {
            {
                let old = match self.primary.get(w.key())? {
                    Some(g) => Some(Ref::<M, _>::new(g, M::INFO.table, w.key())?),
                    None => None,
                };
                w.plan_put::<M>(old.as_ref().map(|r| r.archived()), model);
            }
            for check in w.unique_checks() {
                run_unique_check::<M, T>(index, check, &mut self.keys.borrow_mut())?;
            }
        }
        let result = apply_writes(w, &mut self.primary, self.index.as_mut());
        poison_on_err(self.poison, result)
    }

    /// Puts every model of `models`, in order, in this transaction.
    ///
    /// All or nothing, like the auto-commit [`StoreTree::put_many`](crate::StoreTree::put_many):
    /// if a put fails after earlier ones were written, the transaction is poisoned, so
    /// `commit` refuses ([`NetabaseError::TransactionPoisoned`]) and rolls every put back
    /// instead of publishing the first half. A failure on the first model poisons nothing.
    pub fn put_many<I>(&mut self, models: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Borrow<M>,
    {
        for (i, model) in models.into_iter().enumerate() {
            if let Err(e) = self.put(model) {
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

    /// Removes the record stored under `key` and its index entries; returns the removed
    /// record, deserialized. Use [`delete`](Self::delete) when you do not need it.
    pub fn remove(&mut self, key: impl KeyArg<M::PrimaryKey>) -> Result<Option<M>> {
        self.remove_with(key, |r| deserialize_archived::<M>(r).map(Some))
            .map(Option::flatten)
    }

    /// Removes the record stored under `key` and its index entries; returns whether it
    /// existed.
    pub fn delete(&mut self, key: impl KeyArg<M::PrimaryKey>) -> Result<bool> {
        self.remove_with(key, |_| Ok(())).map(|r| r.is_some())
    }

    /// Removes the records stored under `keys` (and their index entries); returns how many
    /// existed.
    pub fn remove_many<I>(&mut self, keys: I) -> Result<usize>
    where
        I: IntoIterator,
        I::Item: KeyArg<M::PrimaryKey>,
    {
        let mut removed = 0;
        for key in keys {
            removed += usize::from(self.delete(key)?);
        }
        Ok(removed)
    }

    fn remove_with<R>(
        &mut self,
        key: impl KeyArg<M::PrimaryKey>,
        take: impl FnOnce(&M::Archived) -> Result<R>,
    ) -> Result<Option<R>> {
        let w = &mut self.write;
        w.start_remove::<M>(key);
        let old_bytes;
        let taken = {
            let Some(old) = self.primary.get(w.key())? else {
                return Ok(None);
            };
            let old = Ref::<M, _>::new(old, M::INFO.table, w.key())?;
            old_bytes = self.capture.map(|_| Arc::<[u8]>::from(old.as_bytes()));
            if self.index.is_some() {
                w.plan_remove::<M>(old.archived());
            }
            take(old.archived())?
        };
        let result = apply_writes(w, &mut self.primary, self.index.as_mut());
        poison_on_err(self.poison, result)?;
        if let Some(capture) = self.capture {
            capture.borrow_mut().push(RawChange {
                table: M::INFO.table,
                key: w.key().into(),
                old: old_bytes,
                new: None,
            });
        }
        Ok(Some(taken))
    }

    /// Removes every record and index entry of this model.
    pub fn clear(&mut self) -> Result<()> {
        // With subscribers, every cleared record is published as a removal.
        let removed = match self.capture {
            None => Vec::new(),
            Some(_) => self
                .primary
                .range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)?
                .map(|entry| {
                    entry.map(|(k, v)| RawChange {
                        table: M::INFO.table,
                        key: k.as_ref().into(),
                        old: Some(Arc::from(v.as_ref())),
                        new: None,
                    })
                })
                .collect::<netabase_backend_api::Result<Vec<_>>>()?,
        };
        let result = (|| {
            if let Some(index) = &mut self.index {
                index.clear()?;
            }
            self.primary.clear()
        })();
        poison_on_err(self.poison, result)?;
        if let Some(capture) = self.capture {
            capture.borrow_mut().extend(removed);
        }
        Ok(())
    }
}

impl<'t, M: NetabaseModelTrait, T: WriteTable> Tree<'t, M, T> {
    /// Recomputes every secondary index entry of this model from its records: the index
    /// table is cleared, then every record is validated and its entries are written again,
    /// unique keys checked. Returns the number of entries written.
    ///
    /// Use it after writing model tables through [`backend_txn`](crate::WriteTxn::backend_txn),
    /// or to repair an index. A record that does not validate is
    /// [`NetabaseError::Corrupt`] and two records holding one unique value are
    /// [`NetabaseError::UniqueViolation`]; either poisons the transaction (the index was
    /// already cleared), so the store keeps its old index.
    pub fn rebuild_index(&mut self) -> Result<u64> {
        self.rebuild_index_tags(None)
    }

    /// Rebuilds the entries of the secondary keys `tags` only (all keys for `None`).
    pub(crate) fn rebuild_index_tags(&mut self, tags: Option<&[u8]>) -> Result<u64> {
        let Some(index) = self.index.as_mut() else {
            return Ok(0);
        };
        let primary = &self.primary;
        let scratch = &mut self.keys.borrow_mut();
        let result = (|| {
            match tags {
                None => index.clear()?,
                Some(tags) => {
                    for &tag in tags {
                        remove_prefix(index, &[tag], scratch)?;
                    }
                }
            }
            let mut entries = crate::index::IndexEntries::new();
            let mut written = 0;
            for item in primary.range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)? {
                let (key, value) = item?;
                let record = Ref::<M, _>::new(value, M::INFO.table, key.as_ref())?;
                entries.reset(key.as_ref());
                M::archived_index_entries(record.archived(), &mut entries);
                entries.sort_dedup();
                for entry in entries.iter() {
                    let tag = entry.key.first().copied().unwrap_or_default();
                    if tags.is_some_and(|t| !t.contains(&tag)) {
                        continue;
                    }
                    if entry.unique {
                        run_unique_check::<M, T>(index, UniqueCheck::of(entry), scratch)?;
                    }
                    index.insert(entry.key, &[])?;
                    written += 1;
                }
            }
            Ok(written)
        })();
        if result.is_err()
            && let Some(p) = self.poison
        {
            p.set(true);
        }
        result
    }
}

/// Removes every entry of `table` whose key starts with `prefix`.
fn remove_prefix<T: WriteTable>(table: &mut T, prefix: &[u8], scratch: &mut Vec<u8>) -> Result<()> {
    scratch.clear();
    scratch.extend_from_slice(prefix);
    let upper = push_prefix_successor(scratch, 0)
        .and_then(|at| scratch.get(at..))
        .map_or(Bound::Unbounded, Bound::Excluded);
    let keys = table
        .range(Bound::Included(prefix), upper, Direction::Forward)?
        .map(|entry| entry.map(|(k, _)| k.as_ref().to_vec()))
        .collect::<netabase_backend_api::Result<Vec<_>>>()?;
    for key in keys {
        table.remove(&key)?;
    }
    Ok(())
}

/// Runs one unique check of [`WriteSteps`] against a synchronous index table.
fn run_unique_check<M: NetabaseModelTrait, T: ReadTable>(
    index: &T,
    check: UniqueCheck<'_>,
    scratch: &mut Vec<u8>,
) -> Result<()> {
    let (lower, upper) = check.bounds(scratch);
    for entry in index
        .range(lower, upper, Direction::Forward)?
        .take(UNIQUE_CHECK_READS)
    {
        check.judge::<M>(entry?.0.as_ref())?;
    }
    Ok(())
}

/// Performs the writes of [`WriteSteps`] on synchronous tables.
fn apply_writes<T: WriteTable>(
    steps: &WriteSteps,
    primary: &mut T,
    mut index: Option<&mut T>,
) -> netabase_backend_api::Result<()> {
    for write in steps.writes() {
        match (write, index.as_deref_mut()) {
            (Write::IndexRemove(key), Some(index)) => {
                index.remove(key)?;
            }
            (Write::IndexInsert(key), Some(index)) => index.insert(key, &[])?,
            (Write::IndexRemove(_) | Write::IndexInsert(_), None) => {}
            (Write::PrimaryInsert(key, value), _) => primary.insert(key, value)?,
            (Write::PrimaryRemove(key), _) => {
                primary.remove(key)?;
            }
        }
    }
    Ok(())
}

/// Marks the transaction poisoned when a write failed after it may have begun changing
/// tables: committing it could publish half a put.
pub(crate) fn poison_on_err<R>(
    poison: Option<&Cell<bool>>,
    result: netabase_backend_api::Result<R>,
) -> Result<R> {
    result.map_err(|e| {
        if let Some(p) = poison {
            p.set(true);
        }
        NetabaseError::Backend(e)
    })
}
