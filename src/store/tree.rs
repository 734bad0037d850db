//! The auto-commit [`StoreTree`] (each call its own transaction, owned values) and its
//! atomic [`Batch`].

use std::borrow::Borrow;
use std::marker::PhantomData;

use netabase_backend_api::Backend;

use super::{Store, StoreQuery};
use crate::error::Result;
use crate::key::{KeyArg, KeyRange};
use crate::traits::definition::NetabaseDefinitionTrait;
use crate::traits::model::{KeyField, NetabaseModelTrait, SecondaryKey, SecondaryLookup};
use crate::txn::{ReadTree, WriteTree};

/// An auto-commit handle on one model, from [`Store::open_tree`].
///
/// Every call opens its own transaction (a write transaction for writes, committed before
/// the call returns) and hands back owned values. That is the simplest API and the slowest
/// for many operations: each write is one commit. Use
/// [`Store::write`] / [`Store::read`] to batch work and to read in place without copies.
pub struct StoreTree<'s, D, B, M> {
    pub(super) store: &'s Store<D, B>,
    pub(super) _model: PhantomData<fn() -> M>,
}

impl<'s, D, B, M> StoreTree<'s, D, B, M>
where
    D: NetabaseDefinitionTrait,
    B: Backend,
    M: NetabaseModelTrait<Definition = D>,
{
    fn with_write<R>(
        &self,
        f: impl FnOnce(&mut WriteTree<'_, '_, M, B>) -> Result<R>,
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
        f: impl FnOnce(&ReadTree<'_, 's, M, B>) -> Result<R>,
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
    /// transaction open); iterate a [`ReadTxn`](crate::ReadTxn) tree to stream in place instead.
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
    pub fn query(&self) -> StoreQuery<'s, D, B, M> {
        StoreQuery::new(StoreTree {
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
