//! Queries by secondary key over a transaction's tree: index range scans resolved to the
//! records they name.

use std::marker::PhantomData;
use std::ops::Bound;

use netabase_backend_api::{Direction, ReadTable};

use super::{Cursor, Page, Scan, collect_page, count_entries, paging_methods, secondary_filters};
use crate::error::{NetabaseError, Result};
use crate::guard::Ref;
use crate::key::{Key, KeyArg, KeyDecodeError, KeyPrefix, KeyRange, prefix_successor};
use crate::traits::model::{NetabaseModelTrait, SecondaryKey};
use crate::tree::Tree;

/// How to find the primary key inside an index entry `[tag] ++ enc(value) ++ enc(pk)`.
#[derive(Clone, Copy)]
pub(crate) enum PkAt {
    /// Every entry of the scan has the same `[tag] ++ enc(value)` prefix of this length.
    Fixed(usize),
    /// Skip the tag byte, then one encoded value of the key type.
    Skip(fn(&mut &[u8]) -> std::result::Result<(), KeyDecodeError>),
}

impl PkAt {
    pub(crate) fn split<'k>(&self, index_key: &'k [u8]) -> Option<&'k [u8]> {
        match self {
            PkAt::Fixed(n) => index_key.get(*n..),
            PkAt::Skip(skip) => {
                let mut rest = index_key.get(1..)?;
                skip(&mut rest).ok()?;
                Some(rest)
            }
        }
    }
}

/// A query over a tree's records by one secondary key `K`; see the [module docs](crate::query).
///
/// Results come in `(secondary value, primary key)` order.
#[must_use = "a query does nothing until `iter`, `page` or `count` runs it"]
pub struct SecondaryQuery<'a, 't, M: NetabaseModelTrait, T, K> {
    tree: &'a Tree<'t, M, T>,
    scan: Scan,
    pk_at: PkAt,
    _key: PhantomData<fn() -> K>,
}

impl<'a, 't, M, T, K> SecondaryQuery<'a, 't, M, T, K>
where
    M: NetabaseModelTrait,
    T: ReadTable,
    K: SecondaryKey<M>,
{
    pub(crate) fn new(tree: &'a Tree<'t, M, T>) -> Self {
        let tag = [K::TAG];
        let mut scan = Scan::new(Bound::Unbounded, Bound::Unbounded);
        scan.set_prefix(tag.to_vec());
        SecondaryQuery {
            tree,
            scan,
            pk_at: PkAt::Skip(<K as Key>::skip_key),
            _key: PhantomData,
        }
    }

    secondary_filters!();

    paging_methods!("`(value, primary key)`");

    /// Runs the query, yielding records read in place.
    pub fn iter(self) -> Result<SecondaryIter<'a, M, T>> {
        let (lower, upper) = self.scan.bounds();
        let index = self.tree.index_table();
        Ok(SecondaryIter {
            range: match index {
                Some(index) => Some(index.range(lower, upper, self.scan.direction)?),
                None => None,
            },
            primary: self.tree.primary_table(),
            pk_at: self.pk_at,
            read_committed: self.tree.read_committed(),
            remaining: self.scan.limit,
            _model: PhantomData,
        })
    }

    /// Runs the query and returns one page with the cursor of the next page.
    pub fn page(self) -> Result<Page<Ref<M, T::Guard<'a>>>> {
        let (lower, upper) = self.scan.bounds();
        let Some(index) = self.tree.index_table() else {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        };
        let range = index.range(lower, upper, self.scan.direction)?;
        let primary = self.tree.primary_table();
        let pk_at = self.pk_at;
        let read_committed = self.tree.read_committed();
        collect_page(range, self.scan.limit, |key, _| {
            resolve::<M, T>(primary, pk_at, key, read_committed)
        })
    }

    /// Counts the matching records by reading only the index.
    pub fn count(self) -> Result<u64> {
        let (lower, upper) = self.scan.bounds();
        match self.tree.index_table() {
            Some(index) => count_entries(
                index.range(lower, upper, self.scan.direction)?,
                self.scan.limit,
            ),
            None => Ok(0),
        }
    }
}

pub(crate) fn succ_or_unbounded_lower(value: &[u8], tag: &[u8]) -> Bound<Vec<u8>> {
    match prefix_successor(value) {
        Some(s) => Bound::Included(s),
        // `value` is all 0xFF: nothing of this tag lies above it.
        None => prefix_successor(tag).map_or(Bound::Excluded(value.to_vec()), Bound::Included),
    }
}

/// Reads the record an index entry points at.
///
/// With `read_committed` (a read on a backend without snapshot reads, sled), the index and
/// the records may be seen at different commits: an entry whose record is gone, or no longer
/// holds the entry's value, was changed by a commit that landed during the read, so it is
/// skipped (`Ok(None)`). On every other read the same finding is real damage:
/// [`NetabaseError::IndexInconsistent`].
fn resolve<'a, M: NetabaseModelTrait, T: ReadTable + 'a>(
    primary: &'a T,
    pk_at: PkAt,
    index_key: &[u8],
    read_committed: bool,
) -> Result<Option<Ref<M, T::Guard<'a>>>> {
    let inconsistent = || NetabaseError::IndexInconsistent {
        table: M::INFO.index_table,
        index_key: index_key.to_vec(),
    };
    let primary_key = pk_at.split(index_key).ok_or_else(inconsistent)?;
    match primary.get(primary_key)? {
        Some(guard) => {
            let record = Ref::new(guard, M::INFO.table, &primary_key)?;
            if read_committed && !holds_entry::<M>(&record, primary_key, index_key) {
                return Ok(None);
            }
            Ok(Some(record))
        }
        None if read_committed => Ok(None),
        None => Err(inconsistent()),
    }
}

/// Whether `record` implies the index entry `index_key` (the record was not changed by a
/// commit the index read did not see).
#[cold]
pub(crate) fn holds_entry<M: NetabaseModelTrait>(
    record: &M::Archived,
    primary_key: &[u8],
    index_key: &[u8],
) -> bool {
    let mut entries = crate::index::IndexEntries::new();
    entries.reset(primary_key);
    M::archived_index_entries(record, &mut entries);
    entries.iter().any(|entry| entry.key == index_key)
}

/// An iterator over the records a secondary index scan selects.
pub struct SecondaryIter<'a, M: NetabaseModelTrait, T: ReadTable + 'a> {
    range: Option<T::Range<'a>>,
    primary: &'a T,
    pk_at: PkAt,
    /// Skip entries a concurrent commit made stale (see `resolve`).
    read_committed: bool,
    remaining: Option<usize>,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: NetabaseModelTrait, T: ReadTable + 'a> SecondaryIter<'a, M, T> {
    pub(crate) fn new(
        range: Option<T::Range<'a>>,
        primary: &'a T,
        prefix_len: usize,
        read_committed: bool,
    ) -> Self {
        SecondaryIter {
            range,
            primary,
            pk_at: PkAt::Fixed(prefix_len),
            read_committed,
            remaining: None,
            _model: PhantomData,
        }
    }

    /// Counts the remaining entries without reading their records.
    pub(crate) fn count_entries(self) -> Result<u64> {
        match self.range {
            Some(range) => count_entries(range, self.remaining),
            None => Ok(0),
        }
    }
}

impl<'a, M: NetabaseModelTrait, T: ReadTable + 'a> Iterator for SecondaryIter<'a, M, T> {
    type Item = Result<Ref<M, T::Guard<'a>>>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(n) = &mut self.remaining {
            *n = n.checked_sub(1)?;
        }
        loop {
            let (index_key, _) = match self.range.as_mut()?.next()? {
                Ok(entry) => entry,
                Err(e) => return Some(Err(e.into())),
            };
            match resolve::<M, T>(
                self.primary,
                self.pk_at,
                index_key.as_ref(),
                self.read_committed,
            ) {
                Ok(Some(record)) => return Some(Ok(record)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
