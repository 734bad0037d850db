//! The queries of an [`AsyncTree`], by primary and by secondary key.

use std::marker::PhantomData;
use std::ops::Bound;

use netabase_backend_api::{AsyncReadTable, Direction};

use super::AsyncTree;
use crate::error::Result;
use crate::guard::Ref;
use crate::key::{Key, KeyArg, KeyNewtype, KeyPrefix, KeyRange, prefix_successor};
use crate::query::{
    Cursor, Page, PkAt, Scan, paging_methods, primary_filters, secondary_filters,
    succ_or_unbounded_lower,
};
use crate::traits::model::{NetabaseModelTrait, SecondaryKey};

/// A primary-key query of an [`AsyncTree`]: the same filters and paging as
/// [`PrimaryQuery`](crate::PrimaryQuery).
#[must_use = "a query does nothing until `collect`, `page` or `count` runs it"]
pub struct AsyncPrimaryQuery<'a, 't, M: NetabaseModelTrait, T> {
    pub(super) tree: &'a AsyncTree<'t, M, T>,
    pub(super) scan: Scan,
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
    pub(super) tree: &'a AsyncTree<'t, M, T>,
    pub(super) scan: Scan,
    pub(super) pk_at: PkAt,
    pub(super) _key: PhantomData<fn() -> K>,
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
