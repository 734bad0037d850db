//! Range, prefix and paginated queries over primary keys and secondary keys.
//!
//! ```text
//! tree.query()                                   every record, by primary key
//!     .range(UserPrimaryKey(10)..)               any Rust range of primary keys
//!     .prefix((author_id,))                      or: primary keys starting with a prefix
//!     .rev()                                     descending
//!     .after(&cursor)                            resume after the last key of a page
//!     .limit(20)
//!     .iter()? / .page()? / .count()?
//!
//! tree.query_by::<UserAgeSecondaryKey>()         every record, by (age, primary key)
//!     .equal(UserAgeSecondaryKey(30))            or .range(..) or .prefix(..)
//!     ...same methods
//! ```
//!
//! Queries translate to one range scan of the backend table (records or index), because
//! keys are order-preserving: no filtering, no sorting.

use std::marker::PhantomData;
use std::ops::Bound;

use netabase_backend_api::{Direction, ReadTable};

use crate::error::{NetabaseError, Result};
use crate::guard::Ref;
use crate::key::{Key, KeyArg, KeyDecodeError, KeyNewtype, KeyPrefix, KeyRange, prefix_successor};
use crate::traits::model::{NetabaseModelTrait, SecondaryKey};
use crate::tree::Tree;

/// Where a page ended: pass it to [`PrimaryQuery::after`] / [`SecondaryQuery::after`] to
/// resume exactly after the last returned entry.
///
/// A cursor is the last entry's key bytes, so it stays exact under concurrent inserts and
/// removals: entries before it are never returned again, entries after it never skipped.
/// It can be stored and sent elsewhere as bytes ([`as_bytes`](Cursor::as_bytes),
/// [`from_bytes`](Cursor::from_bytes)).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor(Vec<u8>);

impl Cursor {
    /// The cursor's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// A cursor from bytes previously given by [`as_bytes`](Cursor::as_bytes).
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Cursor(bytes.into())
    }
}

/// One page of a query: at most `limit` items and, when more may follow, the cursor of the
/// next page.
#[derive(Debug)]
pub struct Page<T> {
    /// The page's records.
    pub items: Vec<T>,
    /// Where the next page starts, or `None` if this page reached the end.
    pub next: Option<Cursor>,
}

/// Byte-level bounds of a scan, plus paging.
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    pub(crate) lower: Bound<Vec<u8>>,
    pub(crate) upper: Bound<Vec<u8>>,
    pub(crate) direction: Direction,
    pub(crate) after: Option<Vec<u8>>,
    pub(crate) limit: Option<usize>,
}

impl Scan {
    pub(crate) fn new(lower: Bound<Vec<u8>>, upper: Bound<Vec<u8>>) -> Self {
        Scan {
            lower,
            upper,
            direction: Direction::Forward,
            after: None,
            limit: None,
        }
    }

    /// The bounds to scan: the query's, narrowed by the cursor.
    pub(crate) fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        let lower = as_slice(&self.lower);
        let upper = as_slice(&self.upper);
        match (&self.after, self.direction) {
            (Some(after), Direction::Forward) => (tighter_lower(lower, after), upper),
            (Some(after), Direction::Reverse) => (lower, tighter_upper(upper, after)),
            (None, _) => (lower, upper),
        }
    }

    pub(crate) fn set_prefix(&mut self, prefix: Vec<u8>) {
        self.upper = prefix_successor(&prefix).map_or(Bound::Unbounded, Bound::Excluded);
        self.lower = Bound::Included(prefix);
    }
}

fn as_slice(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v),
        Bound::Excluded(v) => Bound::Excluded(v),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// The stricter of a lower bound and "strictly after `after`".
fn tighter_lower<'a>(lower: Bound<&'a [u8]>, after: &'a [u8]) -> Bound<&'a [u8]> {
    match lower {
        Bound::Included(l) | Bound::Excluded(l) if l > after => lower,
        Bound::Excluded(l) if l == after => lower,
        _ => Bound::Excluded(after),
    }
}

/// The stricter of an upper bound and "strictly before `after`".
fn tighter_upper<'a>(upper: Bound<&'a [u8]>, after: &'a [u8]) -> Bound<&'a [u8]> {
    match upper {
        Bound::Included(u) | Bound::Excluded(u) if u < after => upper,
        Bound::Excluded(u) if u == after => upper,
        _ => Bound::Excluded(after),
    }
}

/// `rev`, `after` and `limit`, the same on both query types (they only set `self.scan`).
macro_rules! paging_methods {
    ($order:literal) => {
        #[doc = concat!("Walk in descending ", $order, " order.")]
        pub fn rev(mut self) -> Self {
            self.scan.direction = Direction::Reverse;
            self
        }

        /// Resume strictly after `cursor` (in the query's direction).
        pub fn after(mut self, cursor: &Cursor) -> Self {
            self.scan.after = Some(cursor.as_bytes().to_vec());
            self
        }

        /// Return at most `n` records.
        pub fn limit(mut self, n: usize) -> Self {
            self.scan.limit = Some(n);
            self
        }
    };
}

/// `range` and `prefix` over primary keys, the same on [`PrimaryQuery`] and the
/// auto-commit [`StoreQuery`] (they only set `self.scan`).
macro_rules! primary_filters {
    () => {
        /// Only primary keys within `range` (any Rust range: `a..b`, `a..=b`, `..b`, `a..`).
        pub fn range(mut self, range: impl KeyRange<M::PrimaryKey>) -> Self {
            (self.scan.lower, self.scan.upper) = range.encode_bounds(&[]);
            self
        }

        /// Only primary keys starting with `prefix` (see [`KeyPrefix`]): for a tuple key
        /// `(author, id)`, `(author,)` selects all of one author's records; for a string key,
        /// [`StrPrefix`](crate::key::StrPrefix) selects every key starting with some text.
        pub fn prefix<P>(mut self, prefix: P) -> Self
        where
            P: KeyPrefix<<M::PrimaryKey as KeyNewtype>::Inner>,
        {
            let mut bytes = Vec::new();
            prefix.encode_prefix(&mut bytes);
            self.scan.set_prefix(bytes);
            self
        }
    };
}

/// `equal`, `range` and `prefix` over one secondary key's values, the same on
/// [`SecondaryQuery`] and the async query (they only set `self.scan` and `self.pk_at`).
macro_rules! secondary_filters {
    () => {
        /// Only records holding exactly `key`.
        pub fn equal(mut self, key: impl KeyArg<K>) -> Self {
            let mut prefix = vec![K::TAG];
            key.encode_as(&mut prefix);
            self.pk_at = PkAt::Fixed(prefix.len());
            self.scan.set_prefix(prefix);
            self
        }

        /// Only records whose key value lies within `range`.
        pub fn range(mut self, range: impl KeyRange<K>) -> Self {
            let tag = [K::TAG];
            let (lower, upper) = range.encode_bounds(&tag);
            // Index keys continue past `[tag] ++ enc(value)` with the primary key, so a bound
            // on a value becomes a bound on the whole run of entries holding that value.
            self.scan.lower = match lower {
                Bound::Included(v) => Bound::Included(v),
                Bound::Excluded(v) => succ_or_unbounded_lower(&v, &tag),
                Bound::Unbounded => Bound::Included(tag.to_vec()),
            };
            self.scan.upper = match upper {
                Bound::Included(v) => {
                    prefix_successor(&v).map_or(Bound::Unbounded, Bound::Excluded)
                }
                Bound::Excluded(v) => Bound::Excluded(v),
                Bound::Unbounded => {
                    prefix_successor(&tag).map_or(Bound::Unbounded, Bound::Excluded)
                }
            };
            self.pk_at = PkAt::Skip(<K as Key>::skip_key);
            self
        }

        /// Only records whose key value starts with `prefix` (see [`KeyPrefix`]).
        pub fn prefix<P>(mut self, prefix: P) -> Self
        where
            P: KeyPrefix<K::Inner>,
        {
            let mut bytes = vec![K::TAG];
            prefix.encode_prefix(&mut bytes);
            self.scan.set_prefix(bytes);
            self.pk_at = PkAt::Skip(<K as Key>::skip_key);
            self
        }
    };
}

pub(crate) use {paging_methods, primary_filters, secondary_filters};

/// A query over a tree's records by primary key; see the [module docs](self).
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

/// Collects up to `limit` items of a scan and the cursor after the last one (if more follow).
fn collect_page<G, I, R>(
    mut range: I,
    limit: Option<usize>,
    mut item: impl FnMut(&[u8], G) -> Result<Option<R>>,
) -> Result<Page<R>>
where
    G: AsRef<[u8]>,
    I: Iterator<Item = std::result::Result<(G, G), netabase_backend_api::BackendError>>,
{
    let limit = limit.unwrap_or(usize::MAX);
    let mut items = Vec::new();
    let mut last = Vec::new();
    while items.len() < limit {
        let Some(entry) = range.next() else {
            return Ok(Page { items, next: None });
        };
        let (key, value) = entry?;
        last.clear();
        last.extend_from_slice(key.as_ref());
        if let Some(found) = item(key.as_ref(), value)? {
            items.push(found);
        }
    }
    let next = match range.next() {
        None => None,
        Some(entry) => {
            entry?;
            (!items.is_empty()).then_some(Cursor(last))
        }
    };
    Ok(Page { items, next })
}

fn count_entries<I, E>(range: I, limit: Option<usize>) -> Result<u64>
where
    I: Iterator<Item = std::result::Result<E, netabase_backend_api::BackendError>>,
{
    let mut n = 0u64;
    for entry in range.take(limit.unwrap_or(usize::MAX)) {
        entry?;
        n += 1;
    }
    Ok(n)
}

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

/// A query over a tree's records by one secondary key `K`; see the [module docs](self).
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

/// A primary-key query of the auto-commit [`StoreTree`](crate::StoreTree), from
/// [`StoreTree::query`](crate::StoreTree::query): the same filters and paging as
/// [`PrimaryQuery`], run in one read transaction, returning owned records.
#[must_use = "a query does nothing until `collect`, `page` or `count` runs it"]
pub struct StoreQuery<'s, D, B, M: NetabaseModelTrait> {
    tree: crate::StoreTree<'s, D, B, M>,
    scan: Scan,
}

impl<'s, D, B, M> StoreQuery<'s, D, B, M>
where
    D: crate::traits::definition::NetabaseDefinitionTrait,
    B: netabase_backend_api::Backend,
    M: NetabaseModelTrait<Definition = D>,
{
    pub(crate) fn new(tree: crate::StoreTree<'s, D, B, M>) -> Self {
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
            PrimaryQuery { tree: t, scan }
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
            let page = PrimaryQuery { tree: t, scan }.page()?;
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
        tree.with_read(|t| PrimaryQuery { tree: t, scan }.count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_narrows_bounds_in_the_query_direction() {
        let after = b"m".as_slice();
        assert_eq!(
            tighter_lower(Bound::Unbounded, after),
            Bound::Excluded(after)
        );
        assert_eq!(
            tighter_lower(Bound::Included(b"a"), after),
            Bound::Excluded(after)
        );
        assert_eq!(
            tighter_lower(Bound::Included(b"z"), after),
            Bound::Included(&b"z"[..])
        );
        assert_eq!(
            tighter_lower(Bound::Included(b"m"), after),
            Bound::Excluded(after)
        );
        assert_eq!(
            tighter_lower(Bound::Excluded(b"m"), after),
            Bound::Excluded(&b"m"[..])
        );
        assert_eq!(
            tighter_upper(Bound::Unbounded, after),
            Bound::Excluded(after)
        );
        assert_eq!(
            tighter_upper(Bound::Included(b"z"), after),
            Bound::Excluded(after)
        );
        assert_eq!(
            tighter_upper(Bound::Excluded(b"a"), after),
            Bound::Excluded(&b"a"[..])
        );
        assert_eq!(
            tighter_upper(Bound::Included(b"m"), after),
            Bound::Excluded(after)
        );
    }
}
