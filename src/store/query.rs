//! The auto-commit primary-key query, [`StoreQuery`].

use std::ops::Bound;

use netabase_backend_api::{Backend, Direction};

use super::StoreTree;
use crate::error::Result;
use crate::key::{KeyNewtype, KeyPrefix, KeyRange};
use crate::query::{Cursor, Page, PrimaryQuery, Scan, paging_methods, primary_filters};
use crate::traits::definition::NetabaseDefinitionTrait;
use crate::traits::model::NetabaseModelTrait;

/// A primary-key query of the auto-commit [`StoreTree`], from
/// [`StoreTree::query`]: the same filters and paging as
/// [`PrimaryQuery`], run in one read transaction, returning owned records.
#[must_use = "a query does nothing until `collect`, `page` or `count` runs it"]
pub struct StoreQuery<'s, D, B, M: NetabaseModelTrait> {
    tree: StoreTree<'s, D, B, M>,
    scan: Scan,
}

impl<'s, D, B, M> StoreQuery<'s, D, B, M>
where
    D: NetabaseDefinitionTrait,
    B: Backend,
    M: NetabaseModelTrait<Definition = D>,
{
    pub(crate) fn new(tree: StoreTree<'s, D, B, M>) -> Self {
        StoreQuery {
            tree,
            scan: Scan::new(Bound::Unbounded, Bound::Unbounded),
        }
    }

    primary_filters!();
    paging_methods!("key");

    /// Runs the query: the matching records, deserialized, in order.
    pub fn collect(self) -> Result<Vec<M>> {
        let StoreQuery { tree, scan } = self;
        tree.with_read(|t| {
            PrimaryQuery::with_scan(t, scan)
                .iter()?
                .map(|r| r?.deserialize())
                .collect()
        })
    }

    /// Runs the query and returns one page of deserialized records, with the cursor of the
    /// next page.
    pub fn page(self) -> Result<Page<M>> {
        let StoreQuery { tree, scan } = self;
        tree.with_read(|t| {
            let page = PrimaryQuery::with_scan(t, scan).page()?;
            Ok(Page {
                items: page
                    .items
                    .iter()
                    .map(|r| r.deserialize())
                    .collect::<Result<_>>()?,
                next: page.next,
            })
        })
    }

    /// Counts the matching records without reading them.
    pub fn count(self) -> Result<u64> {
        let StoreQuery { tree, scan } = self;
        tree.with_read(|t| PrimaryQuery::with_scan(t, scan).count())
    }
}
