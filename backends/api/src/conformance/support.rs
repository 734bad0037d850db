//! What the sync checks are written with: unwrapping results with a message, reading a table
//! into owned entries, committing a model, and the assertions several checks share.

use std::fmt::Display;
use std::ops::Bound;

use super::Harness;
use super::model::{Entries, Model, bounds_of, first_difference, model_range};
use crate::{Backend, Direction, ReadTable, ReadTransaction, WriteTable, WriteTransaction};

/// Unwraps a backend result or panics with what was being done.
pub(crate) trait OrFail<T> {
    fn or_fail(self, what: impl Display) -> T;
}

impl<T> OrFail<T> for crate::Result<T> {
    #[track_caller]
    fn or_fail(self, what: impl Display) -> T {
        match self {
            Ok(value) => value,
            Err(e) => panic!("conformance: {what} failed: {e} ({e:?})"),
        }
    }
}

pub(crate) fn name<H: Harness>() -> &'static str {
    <H::Backend as Backend>::CAPABILITIES.name
}

/// The largest entry the backend accepts (test data is kept within it).
pub(crate) fn entry_limit<H: Harness>() -> usize {
    <H::Backend as Backend>::CAPABILITIES
        .max_entry_len
        .unwrap_or(usize::MAX)
}

pub(crate) fn get_owned<T: ReadTable>(table: &T, key: &[u8]) -> Option<Vec<u8>> {
    table
        .get(key)
        .or_fail(format_args!("get({key:?})"))
        .map(|guard| guard.as_ref().to_vec())
}

pub(crate) fn collect_range<T: ReadTable>(
    table: &T,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
    direction: Direction,
) -> Entries {
    table
        .range(lower, upper, direction)
        .or_fail(format_args!("range({lower:?}, {upper:?}, {direction:?})"))
        .map(|item| {
            let (key, value) = item.or_fail(format_args!(
                "an item of range({lower:?}, {upper:?}, {direction:?})"
            ));
            (key.as_ref().to_vec(), value.as_ref().to_vec())
        })
        .collect()
}

pub(crate) fn collect_all<T: ReadTable>(table: &T) -> Entries {
    collect_range(
        table,
        Bound::Unbounded,
        Bound::Unbounded,
        Direction::Forward,
    )
}

pub(crate) fn len_of<T: ReadTable>(table: &T) -> u64 {
    table.len().or_fail("len")
}

/// Commits `entries` into `table` in one write transaction.
pub(crate) fn commit_entries<B: Backend>(backend: &B, table: &str, entries: &Model) {
    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(table).or_fail("open_table (write)");
        for (key, value) in entries {
            t.insert(key, value)
                .or_fail(format_args!("insert({key:?})"));
        }
    }
    txn.commit().or_fail("commit");
}

/// Everything in `table`, read in a fresh read transaction.
pub(crate) fn committed_entries<B: Backend>(backend: &B, table: &str) -> Entries {
    let txn = backend.begin_read().or_fail("begin_read");
    let t = txn.open_table(table).or_fail("open_table (read)");
    let entries = collect_all(&t);
    let len = len_of(&t);
    assert_eq!(
        len,
        entries.len() as u64,
        "len() of table `{table}` disagrees with the number of entries its full range yields"
    );
    entries
}

/// The committed value under `key`, read in a fresh read transaction.
pub(crate) fn committed_get<B: Backend>(backend: &B, table: &str, key: &[u8]) -> Option<Vec<u8>> {
    let txn = backend.begin_read().or_fail("begin_read");
    let t = txn.open_table(table).or_fail("open_table (read)");
    get_owned(&t, key)
}

/// Compares every combination of bounds built from `probes`, in both directions, against the
/// model. Inverted and empty ranges are part of the combinations and must yield nothing.
pub(crate) fn assert_ranges_match<T: ReadTable>(
    table: &T,
    model: &Model,
    probes: &[Vec<u8>],
    context: &str,
) {
    let mut all_bounds: Vec<Bound<&[u8]>> = vec![Bound::Unbounded];
    for probe in probes {
        all_bounds.extend(bounds_of(probe));
    }
    for &lower in &all_bounds {
        for &upper in &all_bounds {
            for direction in [Direction::Forward, Direction::Reverse] {
                let got = collect_range(table, lower, upper, direction);
                let want = model_range(model, lower, upper, direction);
                if got != want {
                    panic!(
                        "conformance ({context}): range({lower:?}, {upper:?}, {direction:?}) \
                         yielded {} entries, the model {}; first difference at index {}: \
                         got {:?}, want {:?}",
                        got.len(),
                        want.len(),
                        first_difference(&got, &want),
                        got.get(first_difference(&got, &want)).map(|e| &e.0),
                        want.get(first_difference(&got, &want)).map(|e| &e.0),
                    );
                }
            }
        }
    }
}

pub(crate) fn assert_table_is_empty<T: ReadTable>(table: &T, context: &str) {
    assert_eq!(len_of(table), 0, "{context}: len() should be 0");
    assert!(
        table.is_empty().or_fail("is_empty"),
        "{context}: is_empty() should be true"
    );
    for direction in [Direction::Forward, Direction::Reverse] {
        assert_eq!(
            collect_range(table, Bound::Unbounded, Bound::Unbounded, direction),
            Entries::new(),
            "{context}: a full {direction:?} range should yield nothing"
        );
    }
    assert_eq!(
        get_owned(table, b"anything"),
        None,
        "{context}: get should find nothing"
    );
    assert_eq!(
        get_owned(table, b""),
        None,
        "{context}: get(empty key) should find nothing"
    );
}
