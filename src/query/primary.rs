//! Queries by primary key over a transaction's tree, and the iterator they return.

use std::marker::PhantomData;
use std::ops::Bound;

use netabase_backend_api::{Direction, ReadTable};

use super::{Cursor, Page, Scan, collect_page, count_entries, paging_methods, primary_filters};
use crate::error::Result;
use crate::guard::Ref;
use crate::key::{KeyNewtype, KeyPrefix, KeyRange};
use crate::traits::model::NetabaseModelTrait;
use crate::tree::Tree;

/// A query over a tree's records by primary key; see the [module docs](crate::query).
#[must_use = "a query does nothing until `iter`, `page` or `count` runs it"]
pub struct PrimaryQuery<'a, 't, M: NetabaseModelTrait, T> {
    tree: &'a Tree<'t, M, T>,
    scan: Scan,
}

impl<'a, 't, M: NetabaseModelTrait, T: ReadTable> PrimaryQuery<'a, 't, M, T> {
    pub(crate) fn new(tree: &'a Tree<'t, M, T>) -> Self {
        PrimaryQuery {
            tree,
            scan: Scan::new(Bound::Unbounded, Bound::Unbounded),
        }
    }

    /// A query of `tree` over the bytes `scan` selects (the auto-commit query's run).
    pub(crate) fn with_scan(tree: &'a Tree<'t, M, T>, scan: Scan) -> Self {
        PrimaryQuery { tree, scan }
    }

    primary_filters!();

    paging_methods!("key");

    /// Runs the query, yielding records read in place.
    pub fn iter(self) -> Result<Iter<'a, M, T>> {
        let (lower, upper) = self.scan.bounds();
        Ok(Iter {
            range: self
                .tree
                .primary_table()
                .range(lower, upper, self.scan.direction)?,
            remaining: self.scan.limit,
            _model: PhantomData,
        })
    }

    /// Runs the query and returns one page (of `limit` records, or all if no limit was set)
    /// with the cursor of the next page.
    pub fn page(self) -> Result<Page<Ref<M, T::Guard<'a>>>> {
        let (lower, upper) = self.scan.bounds();
        let range = self
            .tree
            .primary_table()
            .range(lower, upper, self.scan.direction)?;
        collect_page(range, self.scan.limit, |key, value| {
            Ref::new(value, M::INFO.table, key).map(Some)
        })
    }

    /// Counts the matching records without reading them.
    pub fn count(self) -> Result<u64> {
        let (lower, upper) = self.scan.bounds();
        count_entries(
            self.tree
                .primary_table()
                .range(lower, upper, self.scan.direction)?,
            self.scan.limit,
        )
    }
}

/// An iterator over records in primary-key order.
pub struct Iter<'a, M: NetabaseModelTrait, T: ReadTable + 'a> {
    range: T::Range<'a>,
    remaining: Option<usize>,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: NetabaseModelTrait, T: ReadTable + 'a> Iterator for Iter<'a, M, T> {
    type Item = Result<Ref<M, T::Guard<'a>>>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(n) = &mut self.remaining {
            *n = n.checked_sub(1)?;
        }
        Some(match self.range.next()? {
            Ok((key, value)) => Ref::new(value, M::INFO.table, &key),
            Err(e) => Err(e.into()),
        })
    }
}
