//! The async conformance kit: the checks of the [synchronous kit](crate::conformance), run
//! through the [async contract](crate::asynchronous).
//!
//! It uses the synchronous kit's data (the same seeded keys and values, the same `BTreeMap`
//! model and range oracle) and checks, under the same names, what the async contract
//! promises: round trips, `remove`'s answer, ranges in both directions with every bound kind
//! (and with limits), `len`, `clear`, empty and large values, edge keys, many tables, empty
//! table names, reading one's own writes, invisibility and rollback of uncommitted writes,
//! missing tables, `TableAlreadyOpen`, snapshot isolation (when claimed), guards keeping their
//! bytes, persistence (when claimed) and the entry limit (when claimed).
//!
//! The checks are executor-free `async fn`s over an [`AsyncHarness`];
//! [`async_conformance_tests!`](crate::async_conformance_tests) expands them into tests:
//!
//! ```ignore
//! // Native: any executor's block_on. Every sync backend runs the kit through SyncAsAsync.
//! netabase_backend_api::async_conformance_tests!(
//!     block_on = futures_executor::block_on;
//!     netabase_backend_api::async_conformance::Adapted<MyHarness>
//! );
//! // Browser: async tests under wasm-bindgen-test.
//! netabase_backend_api::async_conformance_tests!(#[wasm_bindgen_test] IdbHarness);
//! ```

use std::future::Future;
use std::ops::Bound;

use crate::asynchronous::{
    AsyncBackend, AsyncReadTable, AsyncReadTransaction, AsyncWriteTable, AsyncWriteTransaction,
    SyncAsAsync,
};
use crate::conformance::{
    Entries, Harness, MAX_TESTED_ENTRY_LEN, Model, OTHER, OrFail, Rng, TABLE, bounds_of,
    first_difference, model_entries, model_of, model_range, probe_keys, random_model,
};
use crate::{Backend, BackendError, Capabilities, Direction};

/// Makes and reopens the async backend under test.
pub trait AsyncHarness: Sized {
    /// The backend under test.
    type Backend: AsyncBackend;

    /// A fresh, empty backend on storage of its own.
    fn new() -> impl Future<Output = Self>;

    /// The backend.
    fn backend(&self) -> &Self::Backend;

    /// Drops the backend and opens it again from the same storage (only called when the
    /// backend claims `persistent`).
    fn reopen(&mut self) -> impl Future<Output = ()>;
}

/// A synchronous [`Harness`] run through [`SyncAsAsync`]: both the async harness and the
/// async backend (whose transactions are the sync backend's, wrapped).
pub struct Adapted<H>(H);

impl<H: Harness + 'static> AsyncBackend for Adapted<H> {
    type ReadTxn<'db> = SyncAsAsync<<H::Backend as Backend>::ReadTxn<'db>>;
    type WriteTxn<'db> = SyncAsAsync<<H::Backend as Backend>::WriteTxn<'db>>;

    const CAPABILITIES: Capabilities = <H::Backend as Backend>::CAPABILITIES;

    fn begin_read(&self) -> impl Future<Output = crate::Result<Self::ReadTxn<'_>>> {
        std::future::ready(self.0.backend().begin_read().map(SyncAsAsync))
    }

    fn begin_write(&self) -> impl Future<Output = crate::Result<Self::WriteTxn<'_>>> {
        std::future::ready(self.0.backend().begin_write().map(SyncAsAsync))
    }
}

impl<H: Harness + 'static> AsyncHarness for Adapted<H> {
    type Backend = Self;

    async fn new() -> Self {
        Adapted(H::new())
    }

    fn backend(&self) -> &Self {
        self
    }

    async fn reopen(&mut self) {
        self.0.reopen();
    }
}

/// Expands into one test per async conformance check, for the given [`AsyncHarness`].
///
/// `async_conformance_tests!(block_on = path; Harness)` makes `#[test]` functions that run each
/// check with `path(future)`; `async_conformance_tests!(#[attr] Harness)` makes `async fn` tests
/// carrying `#[attr]` (such as `#[wasm_bindgen_test]`). Prefix the harness with `name:` to put
/// the tests in a module `name`.
#[macro_export]
macro_rules! async_conformance_tests {
    (@each $callback:ident ! ($($args:tt)*)) => {
        $crate::$callback!($($args)*;
            get_insert_remove_roundtrip => check_get_insert_remove_roundtrip,
            remove_reports_presence => check_remove_reports_presence,
            range_matches_model => check_range_matches_model,
            len_and_is_empty => check_len_and_is_empty,
            clear => check_clear,
            empty_and_large_values => check_empty_and_large_values,
            edge_keys => check_edge_keys,
            many_tables => check_many_tables,
            empty_table_name_is_an_error => check_empty_table_name_is_an_error,
            read_your_own_writes => check_read_your_own_writes,
            uncommitted_writes_are_invisible => check_uncommitted_writes_are_invisible,
            rollback_on_drop => check_rollback_on_drop,
            rollback_on_abort => check_rollback_on_abort,
            missing_table_reads_empty => check_missing_table_reads_empty,
            table_already_open => check_table_already_open,
            snapshot_isolation => check_snapshot_isolation,
            guards_keep_their_bytes => check_guards_keep_their_bytes,
            persistence_across_reopen => check_persistence_across_reopen,
            value_too_large => check_value_too_large,
        );
    };
    (block_on = $block_on:path; $module:ident : $harness:ty) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $crate::async_conformance_tests!(block_on = $block_on; $harness);
        }
    };
    (block_on = $block_on:path; $harness:ty) => {
        $crate::async_conformance_tests!(@each __async_conformance_blocking!($block_on, $harness));
    };
    (#[$attr:meta] $module:ident : $harness:ty) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $crate::async_conformance_tests!(#[$attr] $harness);
        }
    };
    (#[$attr:meta] $harness:ty) => {
        $crate::async_conformance_tests!(@each __async_conformance_async!($attr, $harness));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __async_conformance_blocking {
    ($block_on:path, $harness:ty; $($test:ident => $check:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                $block_on($crate::async_conformance::$check::<$harness>());
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __async_conformance_async {
    ($attr:meta, $harness:ty; $($test:ident => $check:ident),* $(,)?) => {
        $(
            #[$attr]
            async fn $test() {
                $crate::async_conformance::$check::<$harness>().await;
            }
        )*
    };
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn name<H: AsyncHarness>() -> &'static str {
    <H::Backend as AsyncBackend>::CAPABILITIES.name
}

fn entry_limit<H: AsyncHarness>() -> usize {
    <H::Backend as AsyncBackend>::CAPABILITIES
        .max_entry_len
        .unwrap_or(usize::MAX)
}

async fn get_owned<T: AsyncReadTable>(table: &T, key: &[u8]) -> Option<Vec<u8>> {
    table
        .get(key)
        .await
        .or_fail(format_args!("get({key:?})"))
        .map(|guard| guard.as_ref().to_vec())
}

async fn collect_range<T: AsyncReadTable>(
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

async fn collect_all<T: AsyncReadTable>(table: &T) -> Entries {
    collect_range(
        table,
        Bound::Unbounded,
        Bound::Unbounded,
        Direction::Forward,
        None,
    )
    .await
}

async fn len_of<T: AsyncReadTable>(table: &T) -> u64 {
    table.len().await.or_fail("len")
}

async fn commit_entries<B: AsyncBackend>(backend: &B, table: &str, entries: &Model) {
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

async fn committed_entries<B: AsyncBackend>(backend: &B, table: &str) -> Entries {
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

async fn committed_get<B: AsyncBackend>(backend: &B, table: &str, key: &[u8]) -> Option<Vec<u8>> {
    let txn = backend.begin_read().await.or_fail("begin_read");
    let t = txn.open_table(table).await.or_fail("open_table (read)");
    get_owned(&t, key).await
}

/// Every combination of bounds built from `probes`, both directions, against the model; every
/// fourth combination also with a limit.
async fn assert_ranges_match<T: AsyncReadTable>(
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

async fn assert_table_is_empty<T: AsyncReadTable>(table: &T, context: &str) {
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

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/// `get` returns what `insert` stored, `insert` overwrites, `remove` deletes; inside the write
/// transaction and after commit; two guards may be alive at once.
pub async fn check_get_insert_remove_roundtrip<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        assert_eq!(get_owned(&t, b"alpha").await, None, "fresh table");
        t.insert(b"alpha", b"1").await.or_fail("insert alpha");
        t.insert(b"beta", b"2").await.or_fail("insert beta");
        {
            let first = t.get(b"alpha").await.or_fail("get").expect("alpha");
            let second = t.get(b"beta").await.or_fail("get").expect("beta");
            assert_eq!(first.as_ref(), b"1", "first of two live guards");
            assert_eq!(second.as_ref(), b"2", "second of two live guards");
        }
        t.insert(b"alpha", b"a much longer value than before")
            .await
            .or_fail("overwrite");
        assert_eq!(
            get_owned(&t, b"alpha").await.as_deref(),
            Some(&b"a much longer value than before"[..]),
            "longer overwrite"
        );
        assert_eq!(len_of(&t).await, 2, "overwriting must not add an entry");
        t.insert(b"alpha", b"one").await.or_fail("overwrite");
        assert_eq!(get_owned(&t, b"alpha").await.as_deref(), Some(&b"one"[..]));
        assert!(
            t.remove(b"beta").await.or_fail("remove"),
            "beta was present"
        );
        assert_eq!(get_owned(&t, b"beta").await, None, "get after remove");
        assert_eq!(len_of(&t).await, 1, "len after remove");
    }
    txn.commit().await.or_fail("commit");
    assert_eq!(
        committed_entries(backend, TABLE).await,
        vec![(b"alpha".to_vec(), b"one".to_vec())],
        "committed state"
    );

    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        assert_eq!(get_owned(&t, b"alpha").await.as_deref(), Some(&b"one"[..]));
        assert!(
            t.remove(b"alpha").await.or_fail("remove"),
            "alpha committed"
        );
        assert_eq!(get_owned(&t, b"alpha").await, None, "removed committed key");
        t.insert(b"alpha", b"again").await.or_fail("re-insert");
    }
    txn.commit().await.or_fail("commit");
    assert_eq!(
        committed_get(backend, TABLE, b"alpha").await.as_deref(),
        Some(&b"again"[..]),
        "remove + re-insert in one transaction"
    );
    assert_eq!(committed_get(backend, TABLE, b"beta").await, None);
}

/// `remove` returns `true` exactly when the key was present (committed or written earlier in
/// the same transaction); a rolled-back remove removed nothing.
pub async fn check_remove_reports_presence<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        assert!(
            !t.remove(b"missing").await.or_fail("remove"),
            "never written"
        );
        t.insert(b"k", b"v").await.or_fail("insert");
        assert!(t.remove(b"k").await.or_fail("remove"), "present");
        assert!(!t.remove(b"k").await.or_fail("remove"), "second remove");
        t.insert(b"kept", b"v").await.or_fail("insert");
        t.insert(b"empty value", b"").await.or_fail("insert");
    }
    txn.commit().await.or_fail("commit");

    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        assert!(
            t.remove(b"empty value").await.or_fail("remove"),
            "empty value"
        );
        assert!(t.remove(b"kept").await.or_fail("remove"), "committed key");
        assert!(!t.remove(b"kept").await.or_fail("remove"), "second remove");
    }
    drop(txn);
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        assert!(
            t.remove(b"kept").await.or_fail("remove"),
            "the rolled-back remove must not have removed `kept`"
        );
    }
    txn.commit().await.or_fail("commit");
    assert_eq!(committed_get(backend, TABLE, b"kept").await, None);
}

/// `range` in both directions, with every bound kind and with limits, agrees with the model,
/// in a read transaction and in a write transaction.
pub async fn check_range_matches_model<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let mut rng = Rng::new(0x5EED_0001);
    let model = random_model(&mut rng, 120, entry_limit::<H>());
    commit_entries(backend, TABLE, &model).await;
    let probes = probe_keys(&mut rng, &model, 5, 3);
    {
        let txn = backend.begin_read().await.or_fail("begin_read");
        let t = txn.open_table(TABLE).await.or_fail("open_table (read)");
        assert_eq!(collect_all(&t).await, model_entries(&model), "full range");
        assert_ranges_match(&t, &model, &probes, "read transaction").await;
        let (a, b): (&[u8], &[u8]) = (b"a", b"b");
        for (lower, upper) in [
            (Bound::Included(b), Bound::Included(a)),
            (Bound::Included(a), Bound::Excluded(a)),
            (Bound::Excluded(a), Bound::Included(a)),
        ] {
            for direction in [Direction::Forward, Direction::Reverse] {
                let got = collect_range(&t, lower, upper, direction, None).await;
                assert!(got.is_empty(), "range({lower:?}, {upper:?}) must be empty");
            }
        }
    }
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let t = txn.open_table(TABLE).await.or_fail("open_table");
        assert_ranges_match(&t, &model, &probes, "write transaction").await;
    }
    txn.abort().await.or_fail("abort");
}

/// `len` and `is_empty` follow inserts, overwrites and removes, before and after commit.
pub async fn check_len_and_is_empty<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        assert_table_is_empty(&t, "a new table").await;
        for i in 0u32..50 {
            t.insert(&i.to_be_bytes(), b"v").await.or_fail("insert");
        }
        t.insert(&7u32.to_be_bytes(), b"again")
            .await
            .or_fail("overwrite");
        assert_eq!(len_of(&t).await, 50, "50 keys, one overwritten");
        assert!(!t.is_empty().await.or_fail("is_empty"));
        for i in 0u32..20 {
            t.remove(&i.to_be_bytes()).await.or_fail("remove");
        }
        assert_eq!(len_of(&t).await, 30, "after 20 removes");
    }
    txn.commit().await.or_fail("commit");
    assert_eq!(committed_entries(backend, TABLE).await.len(), 30);
}

/// `clear` removes every entry of one table and nothing of another; a cleared table can be
/// written again in the same transaction; a rolled-back clear cleared nothing.
pub async fn check_clear<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let mut rng = Rng::new(0x5EED_0002);
    let model = random_model(&mut rng, 60, entry_limit::<H>());
    commit_entries(backend, TABLE, &model).await;
    commit_entries(backend, OTHER, &model_of(&[(b"o", b"1")])).await;

    let txn = backend.begin_write().await.or_fail("begin_write");
    txn.open_table(TABLE)
        .await
        .or_fail("open_table")
        .clear()
        .await
        .or_fail("clear");
    drop(txn);
    assert_eq!(
        committed_entries(backend, TABLE).await,
        model_entries(&model),
        "a rolled-back clear"
    );

    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        t.clear().await.or_fail("clear");
        assert_table_is_empty(&t, "after clear, in the transaction").await;
        t.insert(b"after", b"clear")
            .await
            .or_fail("insert after clear");
    }
    txn.commit().await.or_fail("commit");
    assert_eq!(
        committed_entries(backend, TABLE).await,
        vec![(b"after".to_vec(), b"clear".to_vec())]
    );
    assert_eq!(
        committed_get(backend, OTHER, b"o").await.as_deref(),
        Some(&b"1"[..]),
        "clear of one table leaves another alone"
    );
}

/// An empty value reads back as `Some(empty)`; large values round-trip exactly.
pub async fn check_empty_and_large_values<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let size = (1024 * 1024).min(entry_limit::<H>().saturating_sub(16));
    let large = |seed: u8| -> Vec<u8> {
        (0..size)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 12) as u8)
            .collect()
    };
    let (big1, big2) = (large(7), large(101));
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        t.insert(b"empty", b"").await.or_fail("insert empty");
        assert_eq!(
            get_owned(&t, b"empty").await,
            Some(Vec::new()),
            "empty value"
        );
        t.insert(b"big1", &big1).await.or_fail("insert large");
        t.insert(b"big2", &big2).await.or_fail("insert large");
        assert!(
            get_owned(&t, b"big1").await == Some(big1.clone()),
            "large value"
        );
    }
    txn.commit().await.or_fail("commit");
    let all = committed_entries(backend, TABLE).await;
    let keys: Vec<&[u8]> = all.iter().map(|(k, _)| k.as_slice()).collect();
    assert_eq!(keys, vec![&b"big1"[..], b"big2", b"empty"]);
    assert!(
        all[0].1 == big1 && all[1].1 == big2,
        "large values via range"
    );
    assert!(all[2].1.is_empty(), "empty value via range");
}

/// The empty key and keys with 0x00 and 0xFF bytes are ordinary keys, ordered bytewise.
pub async fn check_edge_keys<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let keys: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x00],
        vec![0x00, 0x00],
        vec![0x00, 0xFF],
        vec![0x01],
        b"a".to_vec(),
        b"a\0".to_vec(),
        b"a\xFF".to_vec(),
        b"ab".to_vec(),
        vec![0xFF],
        vec![0xFF, 0x00],
        vec![0xFF; 300],
    ];
    let model: Model = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), format!("value {i}").into_bytes()))
        .collect();
    commit_entries(backend, TABLE, &model).await;
    let txn = backend.begin_read().await.or_fail("begin_read");
    let t = txn.open_table(TABLE).await.or_fail("open_table (read)");
    for (k, v) in &model {
        assert_eq!(get_owned(&t, k).await.as_ref(), Some(v), "get({k:?})");
    }
    assert_ranges_match(&t, &model, &keys, "edge keys as bounds").await;
}

/// Tables are independent: the same key in many tables holds each table's own value.
pub async fn check_many_tables<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let names: Vec<String> = (0..12).map(|i| format!("table_{i}")).collect();
    let txn = backend.begin_write().await.or_fail("begin_write");
    for (i, table) in names.iter().enumerate() {
        let mut t = txn.open_table(table).await.or_fail("open_table");
        for j in 0..=i {
            t.insert(&[j as u8], table.as_bytes())
                .await
                .or_fail("insert");
        }
    }
    txn.commit().await.or_fail("commit");
    for (i, table) in names.iter().enumerate() {
        let all = committed_entries(backend, table).await;
        assert_eq!(all.len(), i + 1, "entries of {table}");
        assert!(all.iter().all(|(_, v)| v == table.as_bytes()), "{table}");
    }
}

/// An empty table name is `InvalidConfig`, in read and write transactions, and the
/// transaction stays usable.
pub async fn check_empty_table_name_is_an_error<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let txn = backend.begin_write().await.or_fail("begin_write");
    match txn.open_table("").await {
        Err(BackendError::InvalidConfig { .. }) => {}
        Err(e) => panic!(
            "{}: empty table name: expected InvalidConfig, got {e:?}",
            name::<H>()
        ),
        Ok(_) => panic!("{}: an empty table name was accepted", name::<H>()),
    }
    txn.open_table(TABLE)
        .await
        .or_fail("open_table after the error")
        .insert(b"k", b"v")
        .await
        .or_fail("insert");
    txn.commit().await.or_fail("commit");
    let txn = backend.begin_read().await.or_fail("begin_read");
    assert!(
        matches!(
            txn.open_table("").await,
            Err(BackendError::InvalidConfig { .. })
        ),
        "empty table name in a read transaction"
    );
    let t = txn.open_table(TABLE).await.or_fail("open_table");
    assert_eq!(get_owned(&t, b"k").await.as_deref(), Some(&b"v"[..]));
}

/// Inside a write transaction, `get`, `range` and `len` see its own uncommitted inserts,
/// overwrites and removes, also through a handle reopened in the same transaction.
pub async fn check_read_your_own_writes<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let mut rng = Rng::new(0x5EED_0003);
    let limit = entry_limit::<H>();
    let mut model = random_model(&mut rng, 60, limit);
    commit_entries(backend, TABLE, &model).await;
    let committed: Vec<Vec<u8>> = model.keys().cloned().collect();
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        for round in 0..80 {
            let k = match rng.below(2) {
                0 => committed[rng.below(committed.len())].clone(),
                _ => rng.key(),
            };
            if k.len() > limit {
                continue;
            }
            if rng.below(3) == 0 {
                let was = t.remove(&k).await.or_fail("remove");
                assert_eq!(was, model.remove(&k).is_some(), "remove in round {round}");
            } else {
                let v = rng.value(k.len(), limit);
                t.insert(&k, &v).await.or_fail("insert");
                model.insert(k, v);
            }
            if round % 20 == 0 {
                assert_eq!(
                    collect_all(&t).await,
                    model_entries(&model),
                    "round {round}"
                );
            }
        }
        assert_eq!(len_of(&t).await, model.len() as u64, "len");
        let probes = probe_keys(&mut rng, &model, 4, 3);
        assert_ranges_match(&t, &model, &probes, "uncommitted writes").await;
    }
    {
        let t = txn.open_table(TABLE).await.or_fail("reopen table");
        assert_eq!(
            collect_all(&t).await,
            model_entries(&model),
            "reopened handle"
        );
    }
    txn.commit().await.or_fail("commit");
    assert_eq!(
        committed_entries(backend, TABLE).await,
        model_entries(&model)
    );
}

/// Uncommitted writes are invisible to read transactions begun before or during them.
pub async fn check_uncommitted_writes_are_invisible<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let base = model_of(&[(b"a", b"1"), (b"b", b"2")]);
    commit_entries(backend, TABLE, &base).await;
    let before = backend.begin_read().await.or_fail("begin_read");
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        t.insert(b"a", b"changed").await.or_fail("insert");
        t.remove(b"b").await.or_fail("remove");
        t.insert(b"c", b"3").await.or_fail("insert");
        txn.open_table(OTHER)
            .await
            .or_fail("open_table")
            .insert(b"x", b"y")
            .await
            .or_fail("insert");
    }
    let during = backend.begin_read().await.or_fail("begin_read");
    for (label, reader) in [("before", &before), ("during", &during)] {
        let t = reader.open_table(TABLE).await.or_fail("open_table");
        assert_eq!(
            collect_all(&t).await,
            model_entries(&base),
            "reader begun {label}"
        );
        let o = reader.open_table(OTHER).await.or_fail("open_table");
        assert_table_is_empty(&o, "a table only the open writer wrote").await;
    }
    txn.commit().await.or_fail("commit");
    let mut now = base.clone();
    now.insert(b"a".to_vec(), b"changed".to_vec());
    now.remove(&b"b"[..]);
    now.insert(b"c".to_vec(), b"3".to_vec());
    assert_eq!(committed_entries(backend, TABLE).await, model_entries(&now));
}

async fn assert_rollback<H: AsyncHarness>(abort: bool) {
    let harness = H::new().await;
    let backend = harness.backend();
    let base = model_of(&[(b"a", b"1"), (b"b", b"2")]);
    commit_entries(backend, TABLE, &base).await;
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        t.insert(b"a", b"lost").await.or_fail("insert");
        t.remove(b"b").await.or_fail("remove");
        t.insert(b"c", b"lost").await.or_fail("insert");
        let mut o = txn.open_table(OTHER).await.or_fail("open_table");
        o.insert(b"x", b"lost").await.or_fail("insert");
        o.clear().await.or_fail("clear");
        o.insert(b"y", b"lost").await.or_fail("insert");
    }
    if abort {
        txn.abort().await.or_fail("abort");
    } else {
        drop(txn);
    }
    let how = if abort { "abort" } else { "drop" };
    assert_eq!(
        committed_entries(backend, TABLE).await,
        model_entries(&base),
        "{how}"
    );
    assert!(
        committed_entries(backend, OTHER).await.is_empty(),
        "{how}: other table"
    );
    commit_entries(backend, TABLE, &model_of(&[(b"z", b"after")])).await;
    assert_eq!(
        committed_entries(backend, TABLE).await.len(),
        3,
        "next writer after {how}"
    );
}

/// Dropping a write transaction rolls every write back, and the next writer works.
pub async fn check_rollback_on_drop<H: AsyncHarness>() {
    assert_rollback::<H>(false).await;
}

/// `abort` rolls every write back, and the next writer works.
pub async fn check_rollback_on_abort<H: AsyncHarness>() {
    assert_rollback::<H>(true).await;
}

/// A table never written reads as empty, in read and write transactions.
pub async fn check_missing_table_reads_empty<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let txn = backend.begin_read().await.or_fail("begin_read");
    let t = txn.open_table("never_written").await.or_fail("open_table");
    assert_table_is_empty(&t, "a missing table, read transaction").await;
    drop(t);
    drop(txn);
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let t = txn.open_table("never_written").await.or_fail("open_table");
        assert_table_is_empty(&t, "a missing table, write transaction").await;
    }
    txn.abort().await.or_fail("abort");
}

/// A table open in a write transaction cannot be opened again until its handle drops; another
/// table can, and read transactions may open a table twice.
pub async fn check_table_already_open<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut first = txn.open_table(TABLE).await.or_fail("open_table");
        first.insert(b"k", b"v").await.or_fail("insert");
        match txn.open_table(TABLE).await {
            Err(BackendError::TableAlreadyOpen { table }) => assert_eq!(table, TABLE),
            Err(e) => panic!("expected TableAlreadyOpen, got {e:?}"),
            Ok(_) => panic!(
                "{}: a table was opened twice in one write transaction",
                name::<H>()
            ),
        }
        let mut other = txn.open_table(OTHER).await.or_fail("another table");
        other.insert(b"o", b"1").await.or_fail("insert");
        first
            .insert(b"k2", b"v2")
            .await
            .or_fail("insert after the error");
    }
    {
        let again = txn.open_table(TABLE).await.or_fail("reopen after drop");
        assert_eq!(get_owned(&again, b"k2").await.as_deref(), Some(&b"v2"[..]));
    }
    txn.commit().await.or_fail("commit");
    let txn = backend.begin_read().await.or_fail("begin_read");
    let one = txn.open_table(TABLE).await.or_fail("open_table");
    let two = txn
        .open_table(TABLE)
        .await
        .or_fail("open_table twice (read)");
    assert_eq!(collect_all(&one).await, collect_all(&two).await);
    assert_eq!(len_of(&one).await, 2);
}

/// With `snapshot_reads`, a reader begun before a commit keeps the old state; always, a
/// reader begun after a commit sees the new state.
pub async fn check_snapshot_isolation<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let snapshot = <H::Backend as AsyncBackend>::CAPABILITIES.snapshot_reads;
    let old = model_of(&[(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]);
    commit_entries(backend, TABLE, &old).await;
    let reader = backend.begin_read().await.or_fail("begin_read");
    let early = reader.open_table(TABLE).await.or_fail("open_table");
    assert_eq!(collect_all(&early).await, model_entries(&old));
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        t.insert(b"a", b"10").await.or_fail("overwrite");
        t.remove(b"b").await.or_fail("remove");
        t.insert(b"d", b"4").await.or_fail("insert");
    }
    txn.commit().await.or_fail("commit");
    let new = model_of(&[(b"a", b"10"), (b"c", b"3"), (b"d", b"4")]);
    if snapshot {
        let late = reader.open_table(TABLE).await.or_fail("open_table");
        for t in [&early, &late] {
            assert_eq!(collect_all(t).await, model_entries(&old), "snapshot");
            assert_eq!(get_owned(t, b"b").await.as_deref(), Some(&b"2"[..]));
            assert_eq!(len_of(t).await, 3);
        }
    }
    drop(early);
    drop(reader);
    assert_eq!(committed_entries(backend, TABLE).await, model_entries(&new));
}

/// A guard's bytes do not change while it lives, whatever a later commit does to its key.
pub async fn check_guards_keep_their_bytes<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let big = vec![0xA7u8; 5000.min(entry_limit::<H>().saturating_sub(8))];
    commit_entries(backend, TABLE, &model_of(&[(b"s", b"small"), (b"l", &big)])).await;
    let reader = backend.begin_read().await.or_fail("begin_read");
    let t = reader.open_table(TABLE).await.or_fail("open_table");
    let small = t.get(b"s").await.or_fail("get").expect("s");
    let large = t.get(b"l").await.or_fail("get").expect("l");
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut w = txn.open_table(TABLE).await.or_fail("open_table");
        w.insert(b"s", b"a longer small value")
            .await
            .or_fail("overwrite");
        w.remove(b"l").await.or_fail("remove");
    }
    txn.commit().await.or_fail("commit");
    let txn = backend.begin_write().await.or_fail("begin_write");
    txn.open_table(TABLE)
        .await
        .or_fail("open_table")
        .clear()
        .await
        .or_fail("clear");
    txn.commit().await.or_fail("commit");
    assert_eq!(small.as_ref(), b"small", "a small value's guard");
    assert!(large.as_ref() == big.as_slice(), "a large value's guard");
}

/// With `persistent`, committed data (and only committed data) survives reopening.
pub async fn check_persistence_across_reopen<H: AsyncHarness>() {
    if !<H::Backend as AsyncBackend>::CAPABILITIES.persistent {
        return;
    }
    let mut harness = H::new().await;
    let mut rng = Rng::new(0x5EED_0004);
    let a = random_model(&mut rng, 80, entry_limit::<H>());
    {
        let backend = harness.backend();
        commit_entries(backend, TABLE, &a).await;
        let txn = backend.begin_write().await.or_fail("begin_write");
        txn.open_table(OTHER)
            .await
            .or_fail("open_table")
            .insert(b"uncommitted", b"x")
            .await
            .or_fail("insert");
        drop(txn);
    }
    harness.reopen().await;
    let backend = harness.backend();
    assert_eq!(
        committed_entries(backend, TABLE).await,
        model_entries(&a),
        "after reopen"
    );
    assert!(
        committed_entries(backend, OTHER).await.is_empty(),
        "uncommitted"
    );
}

/// With `max_entry_len` (up to 64 MiB), a larger entry is `ValueTooLarge`, stores nothing, and
/// the transaction stays usable.
pub async fn check_value_too_large<H: AsyncHarness>() {
    let Some(max) = <H::Backend as AsyncBackend>::CAPABILITIES.max_entry_len else {
        return;
    };
    if max > MAX_TESTED_ENTRY_LEN {
        return;
    }
    let harness = H::new().await;
    let backend = harness.backend();
    let too_big = vec![0x5A; max + 1];
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        t.insert(b"before", b"1").await.or_fail("insert");
        match t.insert(b"too big", &too_big).await {
            Err(BackendError::ValueTooLarge { len, max: reported }) => {
                assert_eq!(reported, max, "ValueTooLarge reports the limit");
                assert!(len > max, "ValueTooLarge reports a length above the limit");
            }
            Err(e) => panic!("expected ValueTooLarge, got {e:?}"),
            Ok(()) => panic!("{}: an entry over max_entry_len was accepted", name::<H>()),
        }
        t.insert(b"after", b"2")
            .await
            .or_fail("insert after ValueTooLarge");
    }
    txn.commit().await.or_fail("commit");
    assert_eq!(committed_get(backend, TABLE, b"too big").await, None);
    assert_eq!(
        committed_get(backend, TABLE, b"after").await.as_deref(),
        Some(&b"2"[..])
    );
}
