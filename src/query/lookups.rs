//! The reads of a transaction's [`Tree`] that run as queries: secondary-key lookups, counts,
//! iteration and primary-key ranges.

use std::ops::Bound;

use netabase_backend_api::{Direction, ReadTable};

use super::{Iter, PrimaryQuery, SecondaryIter, SecondaryQuery};
use crate::error::Result;
use crate::key::{KeyArg, KeyRange, push_prefix_successor};
use crate::traits::model::{KeyField, NetabaseModelTrait, SecondaryKey, SecondaryLookup};
use crate::tree::{Tree, TreeRef};

impl<'t, M: NetabaseModelTrait, T: ReadTable> Tree<'t, M, T> {
    /// Every record holding the secondary key value `key`, in primary-key order.
    ///
    /// `key` is the key enum (`UserSecondaryKeys::Email(..)`), one key newtype
    /// (`UserEmailSecondaryKey(..)`), or a reference to either; [`get_by`](Self::get_by)
    /// is the short form that takes the value by reference.
    pub fn get_by_secondary_key(
        &self,
        key: impl SecondaryLookup<M>,
    ) -> Result<SecondaryIter<'_, M, T>> {
        self.lookup(key.lookup_tag(), |out| key.encode_lookup_value(out))
    }

    /// Every record whose secondary key `K` holds `value`, in primary-key order: the short
    /// form of [`get_by_secondary_key`](Self::get_by_secondary_key), with the key named by
    /// its generated constant and the value in any borrowed form.
    ///
    /// `posts.get_by(Post::AUTHOR_ID, 1)`, `users.get_by(User::EMAIL, "a@x")`: the value is
    /// encoded straight into the tree's reused buffer, so a warm lookup allocates nothing.
    pub fn get_by<K: SecondaryKey<M>>(
        &self,
        _key: KeyField<K>,
        value: impl KeyArg<K>,
    ) -> Result<SecondaryIter<'_, M, T>> {
        self.lookup(K::TAG, |out| value.encode_as(out))
    }

    /// How many records hold `value` in the secondary key `K` (reads only the index).
    pub fn count_by<K: SecondaryKey<M>>(
        &self,
        key: KeyField<K>,
        value: impl KeyArg<K>,
    ) -> Result<u64> {
        self.get_by(key, value)?.count_entries()
    }

    fn lookup(
        &self,
        tag: u8,
        encode_value: impl FnOnce(&mut Vec<u8>),
    ) -> Result<SecondaryIter<'_, M, T>> {
        let Some(index) = self.index_table() else {
            return Ok(SecondaryIter::new(None, self.primary_table(), 0, false));
        };
        let mut buf = self.key_buf().borrow_mut();
        buf.clear();
        buf.push(tag);
        encode_value(&mut buf);
        let prefix_len = buf.len();
        let successor = push_prefix_successor(&mut buf, 0);
        let lower = buf.get(..prefix_len).unwrap_or_default();
        let upper = successor
            .and_then(|at| buf.get(at..))
            .map_or(Bound::Unbounded, Bound::Excluded);
        let range = index.range(Bound::Included(lower), upper, Direction::Forward)?;
        Ok(SecondaryIter::new(
            Some(range),
            self.primary_table(),
            prefix_len,
            self.read_committed(),
        ))
    }

    /// For each secondary key value, in order, the records holding it.
    pub fn get_many_by_secondary_keys<I>(&self, keys: I) -> Result<Vec<Vec<TreeRef<'_, M, T>>>>
    where
        I: IntoIterator,
        I::Item: SecondaryLookup<M>,
    {
        keys.into_iter()
            .map(|k| self.get_by_secondary_key(k)?.collect())
            .collect()
    }

    /// How many records hold the secondary key value `key` (reads only the index).
    pub fn count_by_secondary_key(&self, key: impl SecondaryLookup<M>) -> Result<u64> {
        self.get_by_secondary_key(key)?.count_entries()
    }

    /// A query over records by primary key: ranges, prefixes, reverse order, limits and
    /// cursor pagination. See [`PrimaryQuery`].
    pub fn query(&self) -> PrimaryQuery<'_, 't, M, T> {
        PrimaryQuery::new(self)
    }

    /// A query over records by the secondary key `K` (`UserEmailSecondaryKey`): exact
    /// values, ranges, prefixes, reverse order, limits and cursor pagination. See
    /// [`SecondaryQuery`].
    pub fn query_by<K: SecondaryKey<M>>(&self) -> SecondaryQuery<'_, 't, M, T, K> {
        SecondaryQuery::new(self)
    }

    /// Every record, in primary-key order.
    pub fn iter(&self) -> Result<Iter<'_, M, T>> {
        self.query().iter()
    }

    /// The records whose primary keys lie in `range` (any Rust range of primary keys, such
    /// as `UserPrimaryKey(10)..UserPrimaryKey(20)`, `10..20`, `..=UserPrimaryKey(5)` or
    /// `..`), in primary-key order.
    pub fn range(&self, range: impl KeyRange<M::PrimaryKey>) -> Result<Iter<'_, M, T>> {
        self.query().range(range).iter()
    }

    /// Like [`range`](Self::range), in descending primary-key order.
    pub fn range_rev(&self, range: impl KeyRange<M::PrimaryKey>) -> Result<Iter<'_, M, T>> {
        self.query().range(range).rev().iter()
    }
}
