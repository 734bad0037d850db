//! Typed trees: one model's records and secondary index inside one transaction.

use std::borrow::Borrow;
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};

use netabase_backend_api::{Direction, ReadTable, WriteTable};
use rkyv::rancor;
use rkyv::ser::allocator::Arena;

use crate::error::{NetabaseError, Result};
use crate::guard::{Ref, deserialize_archived};
use crate::index::IndexPlanner;
use crate::key::{Key, prefix_successor};
use crate::traits::model::{NetabaseModelTrait, SecondaryKeyEnum};

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
    write: WriteScratch,
    poison: Option<&'t Cell<bool>>,
    _model: PhantomData<fn() -> M>,
}

/// Buffers reused by every write of a tree, so a warm tree allocates nothing per put.
#[derive(Default)]
struct WriteScratch {
    key: Vec<u8>,
    value: Vec<u8>,
    arena: Option<Arena>,
    planner: IndexPlanner,
}

impl<'t, M: NetabaseModelTrait, T: ReadTable> Tree<'t, M, T> {
    pub(crate) fn new(primary: T, index: Option<T>, poison: Option<&'t Cell<bool>>) -> Self {
        Tree {
            primary,
            index,
            keys: RefCell::new(Vec::new()),
            write: WriteScratch::default(),
            poison,
            _model: PhantomData,
        }
    }

    /// The record stored under `key`, read in place.
    pub fn get(&self, key: impl Borrow<M::PrimaryKey>) -> Result<Option<Ref<M, T::Guard<'_>>>> {
        let mut buf = self.keys.borrow_mut();
        buf.clear();
        key.borrow().encode_key(&mut buf);
        match self.primary.get(&buf)? {
            Some(guard) => Ref::new(guard, M::INFO.table, &buf).map(Some),
            None => Ok(None),
        }
    }

    /// Whether a record is stored under `key` (without validating it).
    pub fn contains_key(&self, key: impl Borrow<M::PrimaryKey>) -> Result<bool> {
        let mut buf = self.keys.borrow_mut();
        buf.clear();
        key.borrow().encode_key(&mut buf);
        Ok(self.primary.get(&buf)?.is_some())
    }

    /// Every record holding the secondary key value `key`, in primary-key order.
    pub fn get_by_secondary_key(
        &self,
        key: impl Borrow<M::SecondaryKeys>,
    ) -> Result<SecondaryIter<'_, M, T>> {
        let key = key.borrow();
        let Some(index) = &self.index else {
            return Ok(SecondaryIter::empty(&self.primary));
        };
        let mut buf = self.keys.borrow_mut();
        buf.clear();
        buf.push(key.tag());
        key.encode_value(&mut buf);
        let prefix_len = buf.len();
        let upper = prefix_successor(&buf);
        let lower = buf.get(..prefix_len).unwrap_or_default();
        let upper = upper.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        let range = index.range(Bound::Included(lower), upper, Direction::Forward)?;
        Ok(SecondaryIter {
            range: Some(range),
            primary: &self.primary,
            prefix_len,
            _model: PhantomData,
        })
    }

    /// How many records hold the secondary key value `key` (reads only the index).
    pub fn count_by_secondary_key(&self, key: impl Borrow<M::SecondaryKeys>) -> Result<u64> {
        let iter = self.get_by_secondary_key(key)?;
        let Some(range) = iter.range else {
            return Ok(0);
        };
        let mut n = 0;
        for entry in range {
            entry?;
            n += 1;
        }
        Ok(n)
    }

    /// Every record, in primary-key order.
    pub fn iter(&self) -> Result<Iter<'_, M, T>> {
        self.range::<M::PrimaryKey, _>(..)
    }

    /// The records whose primary keys lie in `range` (any Rust range of primary keys, such
    /// as `UserPrimaryKey(10)..UserPrimaryKey(20)` or `..=UserPrimaryKey(5)`), in
    /// primary-key order.
    pub fn range<K, R>(&self, range: R) -> Result<Iter<'_, M, T>>
    where
        K: Borrow<M::PrimaryKey>,
        R: RangeBounds<K>,
    {
        self.range_in(range, Direction::Forward)
    }

    /// Like [`range`](Self::range), in descending primary-key order.
    pub fn range_rev<K, R>(&self, range: R) -> Result<Iter<'_, M, T>>
    where
        K: Borrow<M::PrimaryKey>,
        R: RangeBounds<K>,
    {
        self.range_in(range, Direction::Reverse)
    }

    fn range_in<K, R>(&self, range: R, direction: Direction) -> Result<Iter<'_, M, T>>
    where
        K: Borrow<M::PrimaryKey>,
        R: RangeBounds<K>,
    {
        let mut buf = self.keys.borrow_mut();
        buf.clear();
        let lower = encode_bound(range.start_bound(), &mut buf);
        let upper = encode_bound(range.end_bound(), &mut buf);
        let slice = |b: Bound<(usize, usize)>| b.map(|(s, e)| buf.get(s..e).unwrap_or_default());
        let range = self.primary.range(slice(lower), slice(upper), direction)?;
        Ok(Iter {
            range,
            _model: PhantomData,
        })
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

/// Encodes one bound into `buf`, returning where its bytes sit.
fn encode_bound<K: Key, Q: Borrow<K>>(
    bound: Bound<&Q>,
    buf: &mut Vec<u8>,
) -> Bound<(usize, usize)> {
    let mut at = |k: &Q| {
        let start = buf.len();
        k.borrow().encode_key(buf);
        (start, buf.len())
    };
    match bound {
        Bound::Included(k) => Bound::Included(at(k)),
        Bound::Excluded(k) => Bound::Excluded(at(k)),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl<'t, M: NetabaseModelTrait, T: WriteTable> Tree<'t, M, T> {
    /// Inserts `model`, or replaces the record with the same primary key, and updates
    /// every secondary index in the same transaction.
    ///
    /// A unique secondary key already held by another record is
    /// [`NetabaseError::UniqueViolation`], and nothing of this put is written. A stored
    /// record that fails validation is [`NetabaseError::Corrupt`] (its index entries cannot
    /// be found), and nothing is written either.
    pub fn put(&mut self, model: impl Borrow<M>) -> Result<()> {
        let model = model.borrow();
        let w = &mut self.write;
        w.key.clear();
        model.encode_primary_key(&mut w.key);
        serialize(model, &mut w.value, &mut w.arena)?;

        if let Some(index) = &mut self.index {
            {
                let old = self.primary.get(&w.key)?;
                let old = match old {
                    Some(g) => Some(Ref::<M, _>::new(g, M::INFO.table, &w.key)?),
                    None => None,
                };
                w.planner
                    .plan_put::<M>(&w.key, old.as_ref().map(|r| r.archived()), model);
            }
            let plan = w.planner.last_plan();
            for check in plan.unique_checks() {
                check_unique::<M, T>(index, check.prefix(), check.key)?;
            }
            let result = (|| {
                for entry in plan.removals() {
                    index.remove(entry.key)?;
                }
                for entry in plan.insertions() {
                    index.insert(entry.key, &[])?;
                }
                self.primary.insert(&w.key, &w.value)
            })();
            return poison_on_err(self.poison, result);
        }
        poison_on_err(self.poison, self.primary.insert(&w.key, &w.value))
    }

    /// Puts every model of `models`, in order, in this transaction.
    pub fn put_many<I>(&mut self, models: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Borrow<M>,
    {
        models.into_iter().try_for_each(|m| self.put(m))
    }

    /// Removes the record stored under `key` and its index entries; returns the removed
    /// record, deserialized. Use [`delete`](Self::delete) when you do not need it.
    pub fn remove(&mut self, key: impl Borrow<M::PrimaryKey>) -> Result<Option<M>> {
        self.remove_with(key, |r| deserialize_archived::<M>(r).map(Some))
            .map(Option::flatten)
    }

    /// Removes the record stored under `key` and its index entries; returns whether it
    /// existed.
    pub fn delete(&mut self, key: impl Borrow<M::PrimaryKey>) -> Result<bool> {
        self.remove_with(key, |_| Ok(())).map(|r| r.is_some())
    }

    fn remove_with<R>(
        &mut self,
        key: impl Borrow<M::PrimaryKey>,
        take: impl FnOnce(&M::Archived) -> Result<R>,
    ) -> Result<Option<R>> {
        let w = &mut self.write;
        w.key.clear();
        key.borrow().encode_key(&mut w.key);
        let taken = {
            let Some(old) = self.primary.get(&w.key)? else {
                return Ok(None);
            };
            let old = Ref::<M, _>::new(old, M::INFO.table, &w.key)?;
            if self.index.is_some() {
                w.planner.plan_remove::<M>(&w.key, old.archived());
            }
            take(old.archived())?
        };
        let result = (|| {
            if let Some(index) = &mut self.index {
                for entry in w.planner.last_plan().removals() {
                    index.remove(entry.key)?;
                }
            }
            self.primary.remove(&w.key)?;
            Ok(())
        })();
        poison_on_err(self.poison, result)?;
        Ok(Some(taken))
    }

    /// Removes every record and index entry of this model.
    pub fn clear(&mut self) -> Result<()> {
        let result = (|| {
            if let Some(index) = &mut self.index {
                index.clear()?;
            }
            self.primary.clear()
        })();
        poison_on_err(self.poison, result)
    }
}

/// Archives `model` into `out`, reusing `arena` across calls.
fn serialize<M: NetabaseModelTrait>(
    model: &M,
    out: &mut Vec<u8>,
    arena: &mut Option<Arena>,
) -> Result<()> {
    let arena = arena.get_or_insert_with(Arena::new);
    let mut buf = std::mem::take(out);
    buf.clear();
    match rkyv::api::high::to_bytes_in_with_alloc::<_, _, rancor::Error>(
        model,
        buf,
        arena.acquire(),
    ) {
        Ok(buf) => {
            *out = buf;
            Ok(())
        }
        Err(e) => Err(NetabaseError::Serialize {
            model: M::INFO.name,
            reason: e.to_string(),
        }),
    }
}

/// Fails if an index entry with `prefix` exists whose key is not `own_key`.
fn check_unique<M: NetabaseModelTrait, T: ReadTable>(
    index: &T,
    prefix: &[u8],
    own_key: &[u8],
) -> Result<()> {
    let upper = prefix_successor(prefix);
    let upper = upper.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    for entry in index.range(Bound::Included(prefix), upper, Direction::Forward)? {
        let (key, _) = entry?;
        let key = key.as_ref();
        if key != own_key {
            let tag = prefix.first().copied();
            let name = M::INFO
                .secondary_keys
                .iter()
                .find(|k| Some(k.tag) == tag)
                .map_or("?", |k| k.name);
            return Err(NetabaseError::UniqueViolation {
                model: M::INFO.name,
                key: name,
                existing_primary_key: key.get(prefix.len()..).unwrap_or_default().to_vec(),
            });
        }
    }
    Ok(())
}

/// Marks the transaction poisoned when a write failed after it may have begun changing
/// tables: committing it could publish half a put.
fn poison_on_err<R>(
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

/// An iterator over records in primary-key order, from [`Tree::iter`] and [`Tree::range`].
pub struct Iter<'a, M: NetabaseModelTrait, T: ReadTable + 'a> {
    range: T::Range<'a>,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: NetabaseModelTrait, T: ReadTable + 'a> Iterator for Iter<'a, M, T> {
    type Item = Result<Ref<M, T::Guard<'a>>>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(match self.range.next()? {
            Ok((key, value)) => Ref::new(value, M::INFO.table, key.as_ref()),
            Err(e) => Err(e.into()),
        })
    }
}

/// An iterator over the records holding one secondary key value, from
/// [`Tree::get_by_secondary_key`].
pub struct SecondaryIter<'a, M: NetabaseModelTrait, T: ReadTable + 'a> {
    range: Option<T::Range<'a>>,
    primary: &'a T,
    prefix_len: usize,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: NetabaseModelTrait, T: ReadTable + 'a> SecondaryIter<'a, M, T> {
    fn empty(primary: &'a T) -> Self {
        SecondaryIter {
            range: None,
            primary,
            prefix_len: 0,
            _model: PhantomData,
        }
    }
}

impl<'a, M: NetabaseModelTrait, T: ReadTable + 'a> Iterator for SecondaryIter<'a, M, T> {
    type Item = Result<Ref<M, T::Guard<'a>>>;

    fn next(&mut self) -> Option<Self::Item> {
        let (index_key, _) = match self.range.as_mut()?.next()? {
            Ok(entry) => entry,
            Err(e) => return Some(Err(e.into())),
        };
        let index_key = index_key.as_ref();
        let primary_key = index_key.get(self.prefix_len..).unwrap_or_default();
        Some(match self.primary.get(primary_key) {
            Ok(Some(guard)) => Ref::new(guard, M::INFO.table, primary_key),
            Ok(None) => Err(NetabaseError::IndexInconsistent {
                table: M::INFO.index_table,
                index_key: index_key.to_vec(),
            }),
            Err(e) => Err(e.into()),
        })
    }
}
