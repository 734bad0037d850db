//! One model's records inside one async transaction: [`AsyncTree`] and its reads.

use std::cell::Cell;
use std::marker::PhantomData;
use std::ops::Bound;

use netabase_backend_api::AsyncReadTable;

use super::{AsyncPrimaryQuery, AsyncSecondaryQuery};
use crate::error::{NetabaseError, Result};
use crate::guard::Ref;
use crate::key::{Key, KeyArg, KeyRange};
use crate::query::{PkAt, Scan, holds_entry};
use crate::steps::WriteSteps;
use crate::traits::model::{KeyField, NetabaseModelTrait, SecondaryKey, SecondaryLookup};

/// One model's records inside one async transaction: the async twin of
/// [`Tree`](crate::Tree). Write methods exist only on a write transaction's trees.
pub struct AsyncTree<'t, M: NetabaseModelTrait, T> {
    pub(super) primary: T,
    pub(super) index: Option<T>,
    pub(super) steps: WriteSteps,
    pub(super) scratch: Vec<u8>,
    pub(super) poison: Option<&'t Cell<bool>>,
    /// A read tree on a backend without snapshot reads: index entries a concurrent commit made
    /// stale are skipped (as on the sync [`Tree`](crate::Tree)).
    pub(super) read_committed: bool,
    pub(super) _model: PhantomData<fn() -> M>,
}

impl<'t, M: NetabaseModelTrait, T: AsyncReadTable> AsyncTree<'t, M, T> {
    pub(super) fn new(primary: T, index: Option<T>, poison: Option<&'t Cell<bool>>) -> Self {
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
    pub(super) async fn primary_scan(
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
    pub(super) async fn secondary_scan(
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
