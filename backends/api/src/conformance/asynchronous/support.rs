//! What the async checks are written with: the async twins of the sync kit's readers,
//! committers and shared assertions.

use std::ops::Bound;

use super::AsyncHarness;
use crate::Direction;
use crate::asynchronous::{
    AsyncBackend, AsyncReadTable, AsyncReadTransaction, AsyncWriteTable, AsyncWriteTransaction,
};
use crate::conformance::model::{Entries, Model, bounds_of, first_difference, model_range};
use crate::conformance::support::OrFail;

pub(crate) fn name<H: AsyncHarness>() -> &'static str {
    <H::Backend as AsyncBackend>::CAPABILITIES.name
}

pub(crate) fn entry_limit<H: AsyncHarness>() -> usize {
    <H::Backend as AsyncBackend>::CAPABILITIES
        .max_entry_len
        .unwrap_or(usize::MAX)
}

pub(crate) async fn get_owned<T: AsyncReadTable>(table: &T, key: &[u8]) -> Option<Vec<u8>> {
    table
        .get(key)
        .await
        .or_fail(format_args!("get({key:?})"))
        .map(|guard| guard.as_ref().to_vec())
}

pub(crate) async fn collect_range<T: AsyncReadTable>(
    table: &T,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
    direction: Direction,
    limit: Option<usize>,
) -> Entries {
    table
        .range(lower, upper, direction, limit)
        .await
        .or_fail(format_args!(
            "range({lower:?}, {upper:?}, {direction:?}, {limit:?})"
        ))
        .into_iter()
        .map(|(k, v)| (k.as_ref().to_vec(), v.as_ref().to_vec()))
        .collect()
}

pub(crate) async fn collect_all<T: AsyncReadTable>(table: &T) -> Entries {
    collect_range(
        table,
        Bound::Unbounded,
        Bound::Unbounded,
        Direction::Forward,
        None,
    )
    .await
}

pub(crate) async fn len_of<T: AsyncReadTable>(table: &T) -> u64 {
    table.len().await.or_fail("len")
}

pub(crate) async fn commit_entries<B: AsyncBackend>(backend: &B, table: &str, entries: &Model) {
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(table).await.or_fail("open_table (write)");
        for (key, value) in entries {
            t.insert(key, value)
                .await
                .or_fail(format_args!("insert({key:?})"));
        }
    }
    txn.commit().await.or_fail("commit");
}

pub(crate) async fn committed_entries<B: AsyncBackend>(backend: &B, table: &str) -> Entries {
    let txn = backend.begin_read().await.or_fail("begin_read");
    let t = txn.open_table(table).await.or_fail("open_table (read)");
    let entries = collect_all(&t).await;
    assert_eq!(
        len_of(&t).await,
        entries.len() as u64,
        "len() of table `{table}` disagrees with its full range"
    );
    entries
}

pub(crate) async fn committed_get<B: AsyncBackend>(
    backend: &B,
    table: &str,
    key: &[u8],
) -> Option<Vec<u8>> {
    let txn = backend.begin_read().await.or_fail("begin_read");
    let t = txn.open_table(table).await.or_fail("open_table (read)");
    get_owned(&t, key).await
}

/// Every combination of bounds built from `probes`, both directions, against the model; every
/// fourth combination also with a limit.
pub(crate) async fn assert_ranges_match<T: AsyncReadTable>(
    table: &T,
    model: &Model,
    probes: &[Vec<u8>],
    context: &str,
) {
    let mut all_bounds: Vec<Bound<&[u8]>> = vec![Bound::Unbounded];
    for probe in probes {
        all_bounds.extend(bounds_of(probe));
    }
    let mut n = 0usize;
    for &lower in &all_bounds {
        for &upper in &all_bounds {
            for direction in [Direction::Forward, Direction::Reverse] {
                n += 1;
                let limit = n.is_multiple_of(4).then_some(n % 7);
                let got = collect_range(table, lower, upper, direction, limit).await;
                let mut want = model_range(model, lower, upper, direction);
                want.truncate(limit.unwrap_or(usize::MAX));
                if got != want {
                    let at = first_difference(&got, &want);
                    panic!(
                        "async conformance ({context}): range({lower:?}, {upper:?}, \
                         {direction:?}, {limit:?}) yielded {} entries, the model {}; first \
                         difference at {at}: got {:?}, want {:?}",
                        got.len(),
                        want.len(),
                        got.get(at).map(|e| &e.0),
                        want.get(at).map(|e| &e.0),
                    );
                }
            }
        }
    }
}

pub(crate) async fn assert_table_is_empty<T: AsyncReadTable>(table: &T, context: &str) {
    assert_eq!(len_of(table).await, 0, "{context}: len() should be 0");
    assert!(
        table.is_empty().await.or_fail("is_empty"),
        "{context}: is_empty() should be true"
    );
    for direction in [Direction::Forward, Direction::Reverse] {
        let all = collect_range(table, Bound::Unbounded, Bound::Unbounded, direction, None).await;
        assert_eq!(all, Entries::new(), "{context}: a full {direction:?} range");
    }
    assert_eq!(get_owned(table, b"anything").await, None, "{context}: get");
    assert_eq!(
        get_owned(table, b"").await,
        None,
        "{context}: get(empty key)"
    );
}
