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

//!
//! The queries of a transaction's [`Tree`](crate::Tree) are [`PrimaryQuery`] and
//! [`SecondaryQuery`] (`primary.rs`, `secondary.rs`); the tree's own lookups that run through
//! them (`get_by`, `iter`, `range`, ...) are in `lookups.rs`. The auto-commit
//! [`StoreQuery`] runs read transactions, so it lives with the store and is re-exported here.

use std::ops::Bound;

use netabase_backend_api::Direction;

use crate::error::Result;
use crate::key::prefix_successor;

mod lookups;
mod primary;
mod secondary;

pub use crate::store::StoreQuery;
pub use primary::{Iter, PrimaryQuery};
pub(crate) use secondary::{PkAt, holds_entry, succ_or_unbounded_lower};
pub use secondary::{SecondaryIter, SecondaryQuery};

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

/// Collects up to `limit` items of a scan and the cursor after the last one (if more follow).
pub(crate) fn collect_page<G, I, R>(
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

pub(crate) fn count_entries<I, E>(range: I, limit: Option<usize>) -> Result<u64>
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
