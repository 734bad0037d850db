//! The conformance kit: one test suite, written once, that every backend runs.
//!
//! The typed layer of `netabase_store` trusts nothing about a backend beyond the byte-level
//! contract of this crate. This module turns that contract into executable checks, so a backend
//! that passes them can carry every model, index and query of the typed layer.
//!
//! # Using it from a backend crate
//!
//! 1. Add `netabase_backend_api` as a dependency (it already is one) and whatever the harness
//!    needs to make scratch storage (for example `tempfile`) as a dev-dependency.
//! 2. In `tests/conformance.rs`, implement [`Harness`]: [`Harness::new`] makes a fresh, empty
//!    backend on its own storage, [`Harness::backend`] lends it, and [`Harness::reopen`] drops it
//!    and opens it again from the same storage (only called when
//!    [`Capabilities::persistent`](crate::Capabilities::persistent) is `true`).
//! 3. Invoke [`conformance_tests!`](crate::conformance_tests) with the harness type. It expands
//!    into one `#[test]` per check, so `cargo test` reports each failing check by name.
//!
//! ```ignore
//! use netabase_backend_api::conformance::Harness;
//!
//! struct MyHarness {
//!     dir: tempfile::TempDir,
//!     backend: Option<MyBackend>,
//! }
//!
//! impl Harness for MyHarness {
//!     type Backend = MyBackend;
//!
//!     fn new() -> Self {
//!         let dir = tempfile::tempdir().expect("temp dir");
//!         let backend = Some(MyBackend::open(dir.path()).expect("open"));
//!         MyHarness { dir, backend }
//!     }
//!
//!     fn backend(&self) -> &MyBackend {
//!         self.backend.as_ref().expect("backend is open")
//!     }
//!
//!     fn reopen(&mut self) {
//!         drop(self.backend.take());
//!         self.backend = Some(MyBackend::open(self.dir.path()).expect("reopen"));
//!     }
//! }
//!
//! netabase_backend_api::conformance_tests!(MyHarness);
//! // Several harnesses in one file: give each its own module.
//! // netabase_backend_api::conformance_tests!(in_memory: MyInMemoryHarness);
//! ```
//!
//! Every check is also a plain generic function (`check_*::<H>()`), so a backend may call one
//! directly, for example while debugging. A check panics with a message that says what the
//! contract promised and what the backend did.
//!
//! # What is checked
//!
//! The kit tests exactly what [`Capabilities`](crate::Capabilities) claims: snapshot isolation
//! only when `snapshot_reads` is claimed (read-committed otherwise), persistence only when
//! `persistent` is claimed, and the entry size limit only when `max_entry_len` is at most
//! 64 MiB (a larger limit would need more memory than a test should take). Everything else is
//! required of every backend.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::ops::Bound;
use std::sync::mpsc;
use std::time::Duration;

use crate::{
    Backend, BackendError, Direction, ReadTable, ReadTransaction, WriteTable, WriteTransaction,
};

/// Makes and reopens the backend under test. Implemented by a backend's test code.
pub trait Harness: Sized {
    /// The backend under test.
    type Backend: Backend;

    /// A fresh, empty backend on storage of its own (each check makes its own harness, and
    /// checks run in parallel).
    fn new() -> Self;

    /// The backend.
    fn backend(&self) -> &Self::Backend;

    /// Drops the backend and opens it again from the same storage. Only called when the backend
    /// claims [`Capabilities::persistent`](crate::Capabilities::persistent).
    fn reopen(&mut self);
}

/// Expands into one `#[test]` per conformance check, for the given [`Harness`] type.
///
/// `conformance_tests!(MyHarness)` puts the tests in the current module;
/// `conformance_tests!(name: MyHarness)` puts them in a new module `name` (which sees the
/// items of the current one), so one file can run the suite against several harnesses.
///
/// Each test is named after its check, without the `check_` prefix.
///
/// [`Harness`]: crate::conformance::Harness
#[macro_export]
macro_rules! conformance_tests {
    (@tests $harness:ty; $($test:ident => $check:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                $crate::conformance::$check::<$harness>();
            }
        )*
    };
    ($module:ident : $harness:ty) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $crate::conformance_tests!($harness);
        }
    };
    ($harness:ty) => {
        $crate::conformance_tests!(@tests $harness;
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
            reader_does_not_block_writer => check_reader_does_not_block_writer,
            persistence_across_reopen => check_persistence_across_reopen,
            flush => check_flush,
            value_too_large => check_value_too_large,
            guards_keep_their_bytes => check_guards_keep_their_bytes,
        );
    };
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Owned `(key, value)` pairs, in the order a range yielded them.
pub(crate) type Entries = Vec<(Vec<u8>, Vec<u8>)>;
/// The reference model of one table.
pub(crate) type Model = BTreeMap<Vec<u8>, Vec<u8>>;

pub(crate) const TABLE: &str = "conformance";
pub(crate) const OTHER: &str = "conformance_other";
/// The largest `max_entry_len` the kit tests (allocating more is not reasonable in a test).
pub(crate) const MAX_TESTED_ENTRY_LEN: usize = 64 * 1024 * 1024;
/// How long the concurrency check waits for a writer before declaring it blocked.
const WRITER_TIMEOUT: Duration = Duration::from_secs(10);

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

fn name<H: Harness>() -> &'static str {
    <H::Backend as Backend>::CAPABILITIES.name
}

/// The largest entry the backend accepts (test data is kept within it).
fn entry_limit<H: Harness>() -> usize {
    <H::Backend as Backend>::CAPABILITIES
        .max_entry_len
        .unwrap_or(usize::MAX)
}

/// A small deterministic PRNG (xorshift64*), so every run checks the same data.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A key over a small alphabet (so keys share prefixes often) that includes 0x00 and 0xFF.
    pub(crate) fn key(&mut self) -> Vec<u8> {
        const ALPHABET: [u8; 8] = [0x00, 0x01, b'a', b'b', 0x7F, 0x80, 0xFE, 0xFF];
        let len = match self.below(20) {
            0 => 0,
            1 => 40 + self.below(400),
            _ => 1 + self.below(7),
        };
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len())])
            .collect()
    }

    /// A value that, with a key of `key_len` bytes, fits in an entry of `limit` bytes.
    pub(crate) fn value(&mut self, key_len: usize, limit: usize) -> Vec<u8> {
        let len = match self.below(10) {
            0 => 0,
            1 => 200 + self.below(3000),
            _ => 1 + self.below(40),
        };
        let len = len.min(limit.saturating_sub(key_len));
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

fn get_owned<T: ReadTable>(table: &T, key: &[u8]) -> Option<Vec<u8>> {
    table
        .get(key)
        .or_fail(format_args!("get({key:?})"))
        .map(|guard| guard.as_ref().to_vec())
}

fn collect_range<T: ReadTable>(
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

fn collect_all<T: ReadTable>(table: &T) -> Entries {
    collect_range(
        table,
        Bound::Unbounded,
        Bound::Unbounded,
        Direction::Forward,
    )
}

fn len_of<T: ReadTable>(table: &T) -> u64 {
    table.len().or_fail("len")
}

/// What a range over `model` must yield. Written independently of the crate's own
/// `in_bounds` / `is_empty_range`, so the kit does not check the backend against itself.
pub(crate) fn model_range(
    model: &Model,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
    direction: Direction,
) -> Entries {
    let mut out: Entries = model
        .iter()
        .filter(|(key, _)| {
            let key = key.as_slice();
            let above = match lower {
                Bound::Included(l) => key >= l,
                Bound::Excluded(l) => key > l,
                Bound::Unbounded => true,
            };
            let below = match upper {
                Bound::Included(u) => key <= u,
                Bound::Excluded(u) => key < u,
                Bound::Unbounded => true,
            };
            above && below
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if direction == Direction::Reverse {
        out.reverse();
    }
    out
}

pub(crate) fn model_entries(model: &Model) -> Entries {
    model_range(
        model,
        Bound::Unbounded,
        Bound::Unbounded,
        Direction::Forward,
    )
}

/// Commits `entries` into `table` in one write transaction.
fn commit_entries<B: Backend>(backend: &B, table: &str, entries: &Model) {
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
fn committed_entries<B: Backend>(backend: &B, table: &str) -> Entries {
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
fn committed_get<B: Backend>(backend: &B, table: &str, key: &[u8]) -> Option<Vec<u8>> {
    let txn = backend.begin_read().or_fail("begin_read");
    let t = txn.open_table(table).or_fail("open_table (read)");
    get_owned(&t, key)
}

pub(crate) fn model_of(pairs: &[(&[u8], &[u8])]) -> Model {
    pairs
        .iter()
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect()
}

/// A random model of `n` entries, each at most `limit` bytes.
pub(crate) fn random_model(rng: &mut Rng, n: usize, limit: usize) -> Model {
    let mut model = Model::new();
    while model.len() < n {
        let key = rng.key();
        if key.len() > limit {
            continue;
        }
        let value = rng.value(key.len(), limit);
        model.insert(key, value);
    }
    model
}

/// Bound probes: keys from the model, keys that are (most likely) absent, the empty key and a
/// key above every generated key.
pub(crate) fn probe_keys(
    rng: &mut Rng,
    model: &Model,
    from_model: usize,
    absent: usize,
) -> Vec<Vec<u8>> {
    let keys: Vec<&Vec<u8>> = model.keys().collect();
    let mut probes = vec![Vec::new(), vec![0xFF; 500]];
    for _ in 0..from_model {
        if !keys.is_empty() {
            probes.push(keys[rng.below(keys.len())].clone());
        }
    }
    if let (Some(first), Some(last)) = (keys.first(), keys.last()) {
        probes.push((*first).clone());
        probes.push((*last).clone());
    }
    for _ in 0..absent {
        probes.push(rng.key());
    }
    probes.sort();
    probes.dedup();
    probes
}

pub(crate) fn bounds_of(key: &[u8]) -> [Bound<&[u8]>; 2] {
    [Bound::Included(key), Bound::Excluded(key)]
}

/// Compares every combination of bounds built from `probes`, in both directions, against the
/// model. Inverted and empty ranges are part of the combinations and must yield nothing.
fn assert_ranges_match<T: ReadTable>(table: &T, model: &Model, probes: &[Vec<u8>], context: &str) {
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

pub(crate) fn first_difference(a: &Entries, b: &Entries) -> usize {
    a.iter()
        .zip(b.iter())
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

fn assert_table_is_empty<T: ReadTable>(table: &T, context: &str) {
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

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/// `get` returns what `insert` stored, `insert` overwrites (with longer and shorter values),
/// `remove` deletes; inside the write transaction and after commit. Several guards of one table
/// may be alive at once and keep their bytes.
pub fn check_get_insert_remove_roundtrip<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        assert_eq!(
            get_owned(&t, b"alpha"),
            None,
            "a fresh table should not contain `alpha`"
        );
        t.insert(b"alpha", b"1").or_fail("insert alpha");
        t.insert(b"beta", b"2").or_fail("insert beta");
        assert_eq!(
            get_owned(&t, b"alpha").as_deref(),
            Some(&b"1"[..]),
            "get after insert"
        );
        assert_eq!(
            get_owned(&t, b"beta").as_deref(),
            Some(&b"2"[..]),
            "get after insert"
        );
        {
            let first = t
                .get(b"alpha")
                .or_fail("get alpha")
                .expect("alpha is present");
            let second = t.get(b"beta").or_fail("get beta").expect("beta is present");
            assert_eq!(first.as_ref(), b"1", "first of two live guards");
            assert_eq!(second.as_ref(), b"2", "second of two live guards");
            assert_eq!(
                first.as_ref(),
                b"1",
                "a guard's bytes changed between calls"
            );
        }
        t.insert(b"alpha", b"a much longer value than before")
            .or_fail("overwrite alpha");
        assert_eq!(
            get_owned(&t, b"alpha").as_deref(),
            Some(&b"a much longer value than before"[..]),
            "get after overwriting with a longer value"
        );
        assert_eq!(len_of(&t), 2, "overwriting must not add an entry");
        t.insert(b"alpha", b"one").or_fail("overwrite alpha");
        assert_eq!(
            get_owned(&t, b"alpha").as_deref(),
            Some(&b"one"[..]),
            "get after overwriting with a shorter value"
        );
        assert!(t.remove(b"beta").or_fail("remove beta"), "beta was present");
        assert_eq!(get_owned(&t, b"beta"), None, "get after remove");
        assert_eq!(len_of(&t), 1, "len after remove");
    }
    txn.commit().or_fail("commit");

    assert_eq!(
        committed_entries(backend, TABLE),
        vec![(b"alpha".to_vec(), b"one".to_vec())],
        "committed state after the first transaction"
    );

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        assert_eq!(
            get_owned(&t, b"alpha").as_deref(),
            Some(&b"one"[..]),
            "a write transaction sees committed data"
        );
        t.insert(b"alpha", b"x")
            .or_fail("overwrite committed alpha");
    }
    txn.commit().or_fail("commit");
    assert_eq!(
        committed_get(backend, TABLE, b"alpha").as_deref(),
        Some(&b"x"[..]),
        "overwrite of a committed value"
    );

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        assert!(
            t.remove(b"alpha").or_fail("remove alpha"),
            "alpha was committed"
        );
        assert_eq!(
            get_owned(&t, b"alpha"),
            None,
            "get after removing a committed key"
        );
        t.insert(b"alpha", b"again").or_fail("re-insert alpha");
        assert_eq!(
            get_owned(&t, b"alpha").as_deref(),
            Some(&b"again"[..]),
            "get after remove + re-insert"
        );
    }
    txn.commit().or_fail("commit");
    assert_eq!(
        committed_get(backend, TABLE, b"alpha").as_deref(),
        Some(&b"again"[..]),
        "remove + re-insert in one transaction"
    );
    assert_eq!(
        committed_get(backend, TABLE, b"beta"),
        None,
        "removed key stays removed"
    );
}

/// `remove` returns `true` exactly when the key was present (committed or written earlier in
/// the same transaction).
pub fn check_remove_reports_presence<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        assert!(
            !t.remove(b"missing").or_fail("remove missing"),
            "remove of a key never written must return false"
        );
        t.insert(b"k", b"v").or_fail("insert");
        assert!(
            t.remove(b"k").or_fail("remove"),
            "remove of a present key must return true"
        );
        assert!(
            !t.remove(b"k").or_fail("remove again"),
            "a second remove of the same key must return false"
        );
        t.insert(b"kept", b"v").or_fail("insert");
        t.insert(b"empty value", b"").or_fail("insert");
    }
    txn.commit().or_fail("commit");

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        assert!(
            t.remove(b"empty value").or_fail("remove"),
            "remove of a committed key with an empty value must return true"
        );
        assert!(
            t.remove(b"kept").or_fail("remove"),
            "remove of a committed key must return true"
        );
        assert!(
            !t.remove(b"kept").or_fail("remove"),
            "second remove must return false"
        );
        assert!(
            !t.remove(b"k").or_fail("remove"),
            "k was removed before commit"
        );
    }
    drop(txn);

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        assert!(
            t.remove(b"kept").or_fail("remove"),
            "the rolled-back remove must not have removed `kept`"
        );
    }
    txn.commit().or_fail("commit");
    assert_eq!(
        committed_get(backend, TABLE, b"kept"),
        None,
        "committed remove"
    );
}

/// `range` in both directions with every bound kind (included, excluded, unbounded, on both
/// ends; empty and inverted ranges included) agrees with a `BTreeMap` model of a few hundred
/// keys of varied lengths, in a read transaction and in a write transaction. Ranges may be
/// dropped part-way and several may be alive at once.
pub fn check_range_matches_model<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let mut rng = Rng::new(0x5EED_0001);
    let model = random_model(&mut rng, 300, entry_limit::<H>());
    commit_entries(backend, TABLE, &model);
    let probes = probe_keys(&mut rng, &model, 10, 6);

    {
        let txn = backend.begin_read().or_fail("begin_read");
        let t = txn.open_table(TABLE).or_fail("open_table (read)");
        assert_eq!(collect_all(&t), model_entries(&model), "full forward range");
        assert_eq!(len_of(&t), model.len() as u64, "len");
        assert_ranges_match(&t, &model, &probes, "read transaction");

        // Explicit inverted and empty ranges, spelled out.
        let (a, b): (&[u8], &[u8]) = (b"a", b"b");
        let empty_cases = [
            (Bound::Included(b), Bound::Included(a)),
            (Bound::Included(b), Bound::Excluded(a)),
            (Bound::Excluded(b), Bound::Included(a)),
            (Bound::Excluded(b), Bound::Excluded(a)),
            (Bound::Included(a), Bound::Excluded(a)),
            (Bound::Excluded(a), Bound::Included(a)),
            (Bound::Excluded(a), Bound::Excluded(a)),
            (Bound::Excluded(&b""[..]), Bound::Excluded(&b""[..])),
            (Bound::Unbounded, Bound::Excluded(&b""[..])),
        ];
        for (lower, upper) in empty_cases {
            for direction in [Direction::Forward, Direction::Reverse] {
                assert_eq!(
                    collect_range(&t, lower, upper, direction),
                    Entries::new(),
                    "range({lower:?}, {upper:?}, {direction:?}) is empty and must yield nothing"
                );
            }
        }

        // Partial consumption and several live iterators.
        let mut forward = t
            .range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)
            .or_fail("range");
        let mut reverse = t
            .range(Bound::Unbounded, Bound::Unbounded, Direction::Reverse)
            .or_fail("range");
        let want = model_entries(&model);
        for i in 0..3 {
            let (k, v) = forward
                .next()
                .expect("forward item")
                .or_fail("forward item");
            assert_eq!(
                (k.as_ref(), v.as_ref()),
                (want[i].0.as_slice(), want[i].1.as_slice()),
                "forward item {i} with a reverse range alive"
            );
            let (k, v) = reverse
                .next()
                .expect("reverse item")
                .or_fail("reverse item");
            let j = want.len() - 1 - i;
            assert_eq!(
                (k.as_ref(), v.as_ref()),
                (want[j].0.as_slice(), want[j].1.as_slice()),
                "reverse item {i} with a forward range alive"
            );
        }
        drop(forward);
        drop(reverse);
    }

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let t = txn.open_table(TABLE).or_fail("open_table (write)");
        assert_ranges_match(&t, &model, &probes, "write transaction, committed data");
    }
    txn.abort().or_fail("abort");

    // An empty table.
    let txn = backend.begin_read().or_fail("begin_read");
    let t = txn.open_table(OTHER).or_fail("open_table (read)");
    assert_ranges_match(
        &t,
        &Model::new(),
        &probes[..4.min(probes.len())],
        "empty table",
    );
}

/// `len` and `is_empty` track inserts, overwrites and removes, in and after a write
/// transaction.
pub fn check_len_and_is_empty<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();

    {
        let txn = backend.begin_read().or_fail("begin_read");
        let t = txn.open_table(TABLE).or_fail("open_table (read)");
        assert_eq!(len_of(&t), 0, "a never-written table has len 0");
        assert!(
            t.is_empty().or_fail("is_empty"),
            "a never-written table is empty"
        );
    }

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        assert_eq!(len_of(&t), 0, "len of a new table");
        assert!(t.is_empty().or_fail("is_empty"), "a new table is empty");
        for (i, key) in [&b"a"[..], b"b", b"c"].into_iter().enumerate() {
            t.insert(key, b"v").or_fail("insert");
            assert_eq!(len_of(&t), i as u64 + 1, "len after {} inserts", i + 1);
        }
        assert!(
            !t.is_empty().or_fail("is_empty"),
            "a table with entries is not empty"
        );
        t.insert(b"b", b"overwritten").or_fail("overwrite");
        assert_eq!(len_of(&t), 3, "an overwrite does not change len");
        t.remove(b"missing").or_fail("remove missing");
        assert_eq!(len_of(&t), 3, "removing a missing key does not change len");
        t.remove(b"a").or_fail("remove");
        assert_eq!(len_of(&t), 2, "len after a remove");
    }
    txn.commit().or_fail("commit");

    {
        let txn = backend.begin_read().or_fail("begin_read");
        let t = txn.open_table(TABLE).or_fail("open_table (read)");
        assert_eq!(len_of(&t), 2, "committed len");
        assert!(
            !t.is_empty().or_fail("is_empty"),
            "committed table is not empty"
        );
    }

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.remove(b"b").or_fail("remove");
        t.remove(b"c").or_fail("remove");
        assert_eq!(len_of(&t), 0, "len after removing everything");
        assert!(
            t.is_empty().or_fail("is_empty"),
            "empty after removing everything"
        );
    }
    txn.commit().or_fail("commit");

    let txn = backend.begin_read().or_fail("begin_read");
    let t = txn.open_table(TABLE).or_fail("open_table (read)");
    assert_table_is_empty(&t, "after committing the removal of every entry");
}

/// `clear` empties one table (and only that one), the table stays usable in the same
/// transaction, and a cleared table comes back when the transaction rolls back.
pub fn check_clear<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let mut rng = Rng::new(0x5EED_0002);
    let a = random_model(&mut rng, 50, entry_limit::<H>());
    let b = random_model(&mut rng, 10, entry_limit::<H>());
    commit_entries(backend, TABLE, &a);
    commit_entries(backend, OTHER, &b);

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.clear().or_fail("clear");
        assert_table_is_empty(&t, "right after clear, in the same transaction");
        t.clear().or_fail("clear of an empty table");
        t.insert(b"after clear", b"v").or_fail("insert after clear");
        assert_eq!(len_of(&t), 1, "len after clear + insert");
        let other = txn.open_table(OTHER).or_fail("open_table other");
        assert_eq!(
            collect_all(&other),
            model_entries(&b),
            "clear touched another table"
        );
    }
    txn.commit().or_fail("commit");

    assert_eq!(
        committed_entries(backend, TABLE),
        vec![(b"after clear".to_vec(), b"v".to_vec())],
        "committed state of the cleared table"
    );
    assert_eq!(
        committed_entries(backend, OTHER),
        model_entries(&b),
        "clear of one table changed another"
    );

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(OTHER).or_fail("open_table");
        t.clear().or_fail("clear");
    }
    drop(txn);
    assert_eq!(
        committed_entries(backend, OTHER),
        model_entries(&b),
        "a clear in a rolled-back transaction must not be visible"
    );

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table("never written").or_fail("open_table");
        t.clear().or_fail("clear of a new table");
        assert_table_is_empty(&t, "a new table after clear");
    }
    txn.commit().or_fail("commit");
    assert_eq!(committed_entries(backend, "never written"), Entries::new());
}

/// An empty value is stored and read back as present and empty (not as missing); values of
/// 1 MiB (or the largest the backend accepts, if less) roundtrip byte for byte.
pub fn check_empty_and_large_values<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let size = (1024 * 1024).min(entry_limit::<H>().saturating_sub(16));
    let large = |seed: u8| -> Vec<u8> {
        (0..size)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 12) as u8)
            .collect()
    };
    let (big1, big2, big3) = (large(7), large(101), large(200));

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.insert(b"empty", b"").or_fail("insert empty value");
        assert_eq!(
            get_owned(&t, b"empty"),
            Some(Vec::new()),
            "an empty value must read back as Some(empty), not None"
        );
        t.insert(b"big1", &big1).or_fail("insert a large value");
        t.insert(b"big2", &big2).or_fail("insert a large value");
        assert!(
            get_owned(&t, b"big1") == Some(big1.clone()),
            "large value (in transaction)"
        );
        assert!(
            get_owned(&t, b"big2") == Some(big2.clone()),
            "large value (in transaction)"
        );
    }
    txn.commit().or_fail("commit");

    {
        let txn = backend.begin_read().or_fail("begin_read");
        let t = txn.open_table(TABLE).or_fail("open_table (read)");
        assert_eq!(
            get_owned(&t, b"empty"),
            Some(Vec::new()),
            "committed empty value"
        );
        assert!(
            get_owned(&t, b"big1") == Some(big1.clone()),
            "committed large value"
        );
        assert!(
            get_owned(&t, b"big2") == Some(big2.clone()),
            "committed large value"
        );
        let all = collect_all(&t);
        let keys: Vec<&[u8]> = all.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(
            keys,
            vec![&b"big1"[..], b"big2", b"empty"],
            "keys of the range"
        );
        assert!(
            all[0].1 == big1 && all[1].1 == big2,
            "large values through range"
        );
        assert!(all[2].1.is_empty(), "empty value through range");
        assert_eq!(len_of(&t), 3, "len counts the empty value");
    }

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.insert(b"big1", &big3)
            .or_fail("overwrite large with large");
        t.insert(b"big2", b"small now")
            .or_fail("overwrite large with small");
        t.insert(b"empty", &big1)
            .or_fail("overwrite empty with large");
    }
    txn.commit().or_fail("commit");
    assert!(
        committed_get(backend, TABLE, b"big1") == Some(big3),
        "overwritten large value"
    );
    assert_eq!(
        committed_get(backend, TABLE, b"big2").as_deref(),
        Some(&b"small now"[..]),
        "large value overwritten with a small one"
    );
    assert!(
        committed_get(backend, TABLE, b"empty") == Some(big1),
        "empty overwritten with large"
    );
}

/// The empty key and keys containing 0x00 and 0xFF bytes are ordinary keys: stored, found,
/// ordered bytewise, and usable as range bounds.
pub fn check_edge_keys<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let keys: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x00],
        vec![0x00, 0x00],
        vec![0x00, 0x01],
        vec![0x00, 0xFF],
        vec![0x01],
        b"a".to_vec(),
        b"a\0".to_vec(),
        b"a\0b".to_vec(),
        b"a\xFF".to_vec(),
        b"ab".to_vec(),
        vec![0xFE, 0xFF],
        vec![0xFF],
        vec![0xFF, 0x00],
        vec![0xFF, 0xFF],
        vec![0xFF; 300],
    ];
    let model: Model = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), format!("value {i}").into_bytes()))
        .collect();
    assert_eq!(model.len(), keys.len(), "the test keys are distinct");

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        for (k, v) in &model {
            t.insert(k, v).or_fail(format_args!("insert({k:?})"));
        }
        for (k, v) in &model {
            assert_eq!(
                get_owned(&t, k).as_ref(),
                Some(v),
                "get({k:?}) in the write transaction"
            );
        }
    }
    txn.commit().or_fail("commit");

    {
        let txn = backend.begin_read().or_fail("begin_read");
        let t = txn.open_table(TABLE).or_fail("open_table (read)");
        for (k, v) in &model {
            assert_eq!(
                get_owned(&t, k).as_ref(),
                Some(v),
                "get({k:?}) after commit"
            );
        }
        assert_eq!(
            get_owned(&t, &[0x00, 0x00, 0x00]),
            None,
            "get of an absent 0x00 key"
        );
        assert_eq!(
            get_owned(&t, &[0xFF, 0xFF, 0xFF]),
            None,
            "get of an absent 0xFF key"
        );
        assert_eq!(
            collect_all(&t),
            model_entries(&model),
            "keys must sort bytewise"
        );
        let empty: &[u8] = b"";
        assert_eq!(
            collect_range(
                &t,
                Bound::Included(empty),
                Bound::Included(empty),
                Direction::Forward
            ),
            vec![(Vec::new(), b"value 0".to_vec())],
            "range [empty, empty] holds exactly the empty key"
        );
        assert_eq!(
            collect_range(
                &t,
                Bound::Unbounded,
                Bound::Included(empty),
                Direction::Reverse
            ),
            vec![(Vec::new(), b"value 0".to_vec())],
            "range (.., empty] holds exactly the empty key"
        );
        let probes: Vec<Vec<u8>> = keys
            .iter()
            .cloned()
            .chain([
                vec![0x00, 0x00, 0x00],
                vec![0xFF, 0xFF, 0xFF],
                b"a\0a".to_vec(),
            ])
            .collect();
        assert_ranges_match(&t, &model, &probes, "edge keys");
    }

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        assert!(
            t.remove(b"").or_fail("remove empty key"),
            "the empty key was present"
        );
        assert!(
            t.remove(&[0xFF]).or_fail("remove [0xFF]"),
            "[0xFF] was present"
        );
    }
    txn.commit().or_fail("commit");
    assert_eq!(
        committed_get(backend, TABLE, b""),
        None,
        "the empty key was removed"
    );
    assert_eq!(
        committed_get(backend, TABLE, &[0xFF]),
        None,
        "[0xFF] was removed"
    );
    assert_eq!(
        committed_get(backend, TABLE, &[0xFF, 0x00]).as_deref(),
        Some(&b"value 13"[..]),
        "removing [0xFF] must not touch [0xFF, 0x00]"
    );
}

/// Forty tables, several open at once, names that are prefixes of one another: each keeps its
/// own entries, `len` and `clear`.
pub fn check_many_tables<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let mut names: Vec<String> = (0..34).map(|i| format!("table{i}")).collect();
    names.extend(["t", "t/", "t.x", "t x", "T", "tableau \u{fc}"].map(String::from));
    assert_eq!(names.len(), 40);
    let value = |table: usize, key: usize| format!("table {table} key {key}").into_bytes();
    let key = |key: usize| format!("k{key:03}").into_bytes();

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut handles = Vec::new();
        for name in &names {
            handles.push(
                txn.open_table(name)
                    .or_fail(format_args!("open_table({name:?})")),
            );
        }
        for (i, t) in handles.iter_mut().enumerate() {
            for j in 0..=i {
                t.insert(&key(j), &value(i, j)).or_fail("insert");
            }
        }
        for (i, t) in handles.iter().enumerate() {
            assert_eq!(len_of(t), i as u64 + 1, "len of table {:?}", names[i]);
        }
    }
    txn.commit().or_fail("commit");

    let expected = |i: usize| -> Entries { (0..=i).map(|j| (key(j), value(i, j))).collect() };
    let verify = |cleared: Option<usize>, removed_k0: Option<usize>| {
        let txn = backend.begin_read().or_fail("begin_read");
        for (i, name) in names.iter().enumerate() {
            let t = txn.open_table(name).or_fail("open_table (read)");
            let mut want = expected(i);
            if cleared == Some(i) {
                want.clear();
            }
            if removed_k0 == Some(i) {
                want.remove(0);
            }
            assert_eq!(collect_all(&t), want, "entries of table {name:?}");
            assert_eq!(len_of(&t), want.len() as u64, "len of table {name:?}");
            if !want.is_empty() && removed_k0 != Some(i) {
                assert_eq!(
                    get_owned(&t, &key(0)),
                    Some(value(i, 0)),
                    "k000 of table {name:?}"
                );
            }
        }
    };
    verify(None, None);

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(&names[3]).or_fail("open_table");
        t.clear().or_fail("clear");
        drop(t);
        let mut t = txn.open_table(&names[35]).or_fail("open_table");
        assert!(
            t.remove(&key(0)).or_fail("remove"),
            "k000 of table {:?}",
            names[35]
        );
    }
    txn.commit().or_fail("commit");
    verify(Some(3), Some(35));
}

/// An empty table name is an error (the contract reserves it), never a panic, in both kinds of
/// transaction; the transaction stays usable.
pub fn check_empty_table_name_is_an_error<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let txn = backend.begin_write().or_fail("begin_write");
    match txn.open_table("") {
        Err(BackendError::InvalidConfig { .. }) => {}
        Err(e) => {
            panic!("open_table(\"\") in a write transaction: expected InvalidConfig, got {e:?}")
        }
        Ok(_) => panic!("open_table(\"\") in a write transaction must fail with InvalidConfig"),
    }
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table after the error");
        t.insert(b"k", b"v").or_fail("insert");
    }
    txn.commit().or_fail("commit after an open_table error");
    let txn = backend.begin_read().or_fail("begin_read");
    match txn.open_table("") {
        Err(BackendError::InvalidConfig { .. }) => {}
        Err(e) => {
            panic!("open_table(\"\") in a read transaction: expected InvalidConfig, got {e:?}")
        }
        Ok(_) => panic!("open_table(\"\") in a read transaction must fail with InvalidConfig"),
    }
    let t = txn.open_table(TABLE).or_fail("open_table after the error");
    assert_eq!(
        get_owned(&t, b"k").as_deref(),
        Some(&b"v"[..]),
        "data committed after the error"
    );
}

/// Inside a write transaction, `get`, `range` and `len` see the transaction's own uncommitted
/// inserts, overwrites and removes, also through a handle reopened in the same transaction.
pub fn check_read_your_own_writes<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let mut rng = Rng::new(0x5EED_0003);
    let limit = entry_limit::<H>();
    let mut model = random_model(&mut rng, 120, entry_limit::<H>());
    commit_entries(backend, TABLE, &model);

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        let committed: Vec<Vec<u8>> = model.keys().cloned().collect();
        for round in 0..150 {
            match rng.below(4) {
                0 => {
                    let k = rng.key();
                    if k.len() > limit {
                        continue;
                    }
                    let v = rng.value(k.len(), limit);
                    t.insert(&k, &v).or_fail("insert");
                    model.insert(k, v);
                }
                1 => {
                    let k = committed[rng.below(committed.len())].clone();
                    let v = rng.value(k.len(), limit);
                    t.insert(&k, &v).or_fail("overwrite");
                    model.insert(k, v);
                }
                2 => {
                    let k = committed[rng.below(committed.len())].clone();
                    let was = t.remove(&k).or_fail("remove");
                    assert_eq!(
                        was,
                        model.remove(&k).is_some(),
                        "remove({k:?}) in round {round}"
                    );
                }
                _ => {
                    let k = rng.key();
                    let was = t.remove(&k).or_fail("remove");
                    assert_eq!(
                        was,
                        model.remove(&k).is_some(),
                        "remove({k:?}) in round {round}"
                    );
                }
            }
            if round % 25 == 0 {
                assert_eq!(
                    collect_all(&t),
                    model_entries(&model),
                    "full range in round {round}"
                );
            }
        }
        for (k, v) in &model {
            assert_eq!(
                get_owned(&t, k).as_ref(),
                Some(v),
                "get({k:?}) of an uncommitted write"
            );
        }
        for k in &committed {
            if !model.contains_key(k) {
                assert_eq!(
                    get_owned(&t, k),
                    None,
                    "get({k:?}) after an uncommitted remove"
                );
            }
        }
        assert_eq!(
            len_of(&t),
            model.len() as u64,
            "len with uncommitted writes"
        );
        let probes = probe_keys(&mut rng, &model, 6, 4);
        assert_ranges_match(&t, &model, &probes, "write transaction, uncommitted writes");
    }
    {
        let t = txn
            .open_table(TABLE)
            .or_fail("reopen table in the same transaction");
        assert_eq!(
            collect_all(&t),
            model_entries(&model),
            "a handle reopened in the same transaction must see its writes"
        );
    }
    txn.commit().or_fail("commit");
    assert_eq!(
        committed_entries(backend, TABLE),
        model_entries(&model),
        "committed state"
    );
}

/// Nothing a write transaction does is visible to read transactions before it commits: not to
/// one begun before the writes, not to one begun while the writer is still open.
pub fn check_uncommitted_writes_are_invisible<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let base = model_of(&[(b"a", b"1"), (b"b", b"2")]);
    commit_entries(backend, TABLE, &base);

    let before = backend.begin_read().or_fail("begin_read");
    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.insert(b"a", b"changed").or_fail("overwrite");
        t.insert(b"c", b"new").or_fail("insert");
        t.remove(b"b").or_fail("remove");
        let mut n = txn.open_table(OTHER).or_fail("open_table other");
        n.insert(b"x", b"y").or_fail("insert into a new table");
    }
    let during = backend
        .begin_read()
        .or_fail("begin_read while a writer is open");
    for (label, reader) in [
        ("begun before the writes", &before),
        ("begun during", &during),
    ] {
        let t = reader.open_table(TABLE).or_fail("open_table (read)");
        assert_eq!(
            collect_all(&t),
            model_entries(&base),
            "a read transaction {label} the write transaction saw uncommitted writes"
        );
        assert_eq!(
            get_owned(&t, b"a").as_deref(),
            Some(&b"1"[..]),
            "uncommitted overwrite seen"
        );
        assert_eq!(get_owned(&t, b"c"), None, "uncommitted insert seen");
        assert_eq!(len_of(&t), 2, "uncommitted writes changed len");
        let n = reader.open_table(OTHER).or_fail("open_table other (read)");
        assert_table_is_empty(&n, "a table created by an uncommitted transaction");
    }
    drop(before);
    drop(during);
    txn.commit().or_fail("commit");
    assert_eq!(
        committed_get(backend, TABLE, b"a").as_deref(),
        Some(&b"changed"[..]),
        "the commit"
    );
}

fn assert_rollback<H: Harness>(finish: impl FnOnce(<H::Backend as Backend>::WriteTxn<'_>)) {
    let harness = H::new();
    let backend = harness.backend();
    let base = model_of(&[(b"a", b"1"), (b"b", b"2")]);
    let other = model_of(&[(b"x", b"1")]);
    commit_entries(backend, TABLE, &base);
    commit_entries(backend, OTHER, &other);

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.insert(b"a", b"changed").or_fail("overwrite");
        t.insert(b"c", b"new").or_fail("insert");
        t.remove(b"b").or_fail("remove");
        let mut o = txn.open_table(OTHER).or_fail("open_table");
        o.clear().or_fail("clear");
        let mut n = txn
            .open_table("created then rolled back")
            .or_fail("open_table");
        n.insert(b"k", b"v").or_fail("insert");
    }
    finish(txn);

    assert_eq!(
        committed_entries(backend, TABLE),
        model_entries(&base),
        "rolled-back writes"
    );
    assert_eq!(
        committed_entries(backend, OTHER),
        model_entries(&other),
        "rolled-back clear"
    );
    assert_eq!(
        committed_entries(backend, "created then rolled back"),
        Entries::new(),
        "a table created by a rolled-back transaction must read as empty"
    );

    // The writer slot is free again and the next transaction commits normally.
    let txn = backend
        .begin_write()
        .or_fail("begin_write after a rollback");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.insert(b"d", b"4").or_fail("insert");
    }
    txn.commit().or_fail("commit after a rollback");
    assert_eq!(
        committed_get(backend, TABLE, b"d").as_deref(),
        Some(&b"4"[..])
    );
    assert_eq!(
        committed_get(backend, TABLE, b"a").as_deref(),
        Some(&b"1"[..])
    );
}

/// Dropping a write transaction without committing rolls back every write, in every table.
pub fn check_rollback_on_drop<H: Harness>() {
    assert_rollback::<H>(|txn| drop(txn));
}

/// `abort()` rolls back every write, in every table, and reports success.
pub fn check_rollback_on_abort<H: Harness>() {
    assert_rollback::<H>(|txn| txn.abort().or_fail("abort"));
}

/// A table that was never written reads as empty in a read transaction (not an error), before
/// and after other tables are written; a table opened and committed without writes too.
pub fn check_missing_table_reads_empty<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    {
        let txn = backend
            .begin_read()
            .or_fail("begin_read on a fresh backend");
        let t = txn
            .open_table("never")
            .or_fail("open_table of a never-written table");
        assert_table_is_empty(&t, "a never-written table in a fresh backend");
        assert_ranges_match(
            &t,
            &Model::new(),
            &[Vec::new(), b"a".to_vec(), vec![0xFF]],
            "never-written table",
        );
    }
    commit_entries(backend, TABLE, &model_of(&[(b"k", b"v")]));
    let txn = backend.begin_write().or_fail("begin_write");
    {
        let t = txn
            .open_table("opened, never written")
            .or_fail("open_table");
        assert_table_is_empty(&t, "a new table in a write transaction");
    }
    txn.commit().or_fail("commit");

    let txn = backend.begin_read().or_fail("begin_read");
    let t = txn
        .open_table("never")
        .or_fail("open_table of a never-written table");
    assert_table_is_empty(&t, "a never-written table next to a written one");
    let t = txn
        .open_table("opened, never written")
        .or_fail("open_table");
    assert_table_is_empty(&t, "a table opened and committed without writes");
}

/// Opening a table twice in one write transaction while the first handle lives fails with
/// [`BackendError::TableAlreadyOpen`] (no panic), leaves the transaction usable, and works again
/// once the first handle is dropped. Read transactions may open a table several times.
pub fn check_table_already_open<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut first = txn.open_table(TABLE).or_fail("open_table");
        first.insert(b"k", b"v").or_fail("insert");
        match txn.open_table(TABLE) {
            Err(BackendError::TableAlreadyOpen { table }) => assert_eq!(
                table, TABLE,
                "TableAlreadyOpen must name the table that is already open"
            ),
            Err(e) => panic!("opening an open table: expected TableAlreadyOpen, got {e:?}"),
            Ok(_) => panic!(
                "opening a table twice in one write transaction must fail with TableAlreadyOpen"
            ),
        }
        let mut other = txn
            .open_table(OTHER)
            .or_fail("open another table meanwhile");
        other.insert(b"o", b"1").or_fail("insert");
        first.insert(b"k2", b"v2").or_fail("insert after the error");
    }
    {
        let again = txn
            .open_table(TABLE)
            .or_fail("reopen after the first handle dropped");
        assert_eq!(
            get_owned(&again, b"k").as_deref(),
            Some(&b"v"[..]),
            "write via first handle"
        );
        assert_eq!(
            get_owned(&again, b"k2").as_deref(),
            Some(&b"v2"[..]),
            "write after error"
        );
    }
    txn.commit()
        .or_fail("commit after a TableAlreadyOpen error");

    let txn = backend.begin_read().or_fail("begin_read");
    let one = txn.open_table(TABLE).or_fail("open_table (read)");
    let two = txn
        .open_table(TABLE)
        .or_fail("open the same table twice in a read transaction");
    assert_eq!(
        collect_all(&one),
        collect_all(&two),
        "two read handles of one table"
    );
    assert_eq!(len_of(&one), 2, "committed entries");
    assert_eq!(
        committed_get(backend, OTHER, b"o").as_deref(),
        Some(&b"1"[..])
    );
}

/// With `snapshot_reads`, a read transaction begun before a commit keeps seeing the old state
/// (through get, len and range; through a table opened before or after the commit). Always, a
/// read transaction begun after a commit sees the new state.
pub fn check_snapshot_isolation<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let snapshot = <H::Backend as Backend>::CAPABILITIES.snapshot_reads;
    let old = model_of(&[(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]);
    commit_entries(backend, TABLE, &old);
    let mut new = old.clone();
    new.insert(b"a".to_vec(), b"10".to_vec());
    new.remove(&b"b"[..]);
    new.insert(b"d".to_vec(), b"4".to_vec());

    let reader = backend.begin_read().or_fail("begin_read");
    let early = reader.open_table(TABLE).or_fail("open_table (read)");
    assert_eq!(
        collect_all(&early),
        model_entries(&old),
        "state before the commit"
    );

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.insert(b"a", b"10").or_fail("overwrite");
        t.remove(b"b").or_fail("remove");
        t.insert(b"d", b"4").or_fail("insert");
        let mut n = txn.open_table(OTHER).or_fail("open_table");
        n.insert(b"x", b"y").or_fail("insert");
    }
    txn.commit().or_fail("commit");

    if snapshot {
        let late = reader
            .open_table(TABLE)
            .or_fail("open_table (read) after the commit");
        for (label, t) in [("opened before", &early), ("opened after", &late)] {
            let context = format!("snapshot_reads: a table {label} a later commit");
            assert_eq!(collect_all(t), model_entries(&old), "{context}: full range");
            assert_eq!(
                collect_range(t, Bound::Unbounded, Bound::Unbounded, Direction::Reverse),
                model_range(&old, Bound::Unbounded, Bound::Unbounded, Direction::Reverse),
                "{context}: reverse range"
            );
            let b: &[u8] = b"b";
            assert_eq!(
                collect_range(t, Bound::Included(b), Bound::Unbounded, Direction::Forward),
                model_range(
                    &old,
                    Bound::Included(b),
                    Bound::Unbounded,
                    Direction::Forward
                ),
                "{context}: range [b, ..)"
            );
            assert_eq!(
                get_owned(t, b"a").as_deref(),
                Some(&b"1"[..]),
                "{context}: get(a)"
            );
            assert_eq!(
                get_owned(t, b"b").as_deref(),
                Some(&b"2"[..]),
                "{context}: get(b)"
            );
            assert_eq!(get_owned(t, b"d"), None, "{context}: get(d)");
            assert_eq!(len_of(t), 3, "{context}: len");
        }
        let n = reader.open_table(OTHER).or_fail("open_table (read)");
        assert_table_is_empty(
            &n,
            "snapshot_reads: a table first written by a later commit",
        );
    }
    drop(early);
    drop(reader);

    let txn = backend.begin_read().or_fail("begin_read");
    let t = txn.open_table(TABLE).or_fail("open_table (read)");
    assert_eq!(
        collect_all(&t),
        model_entries(&new),
        "a read transaction begun after a commit"
    );
    assert_eq!(len_of(&t), 3, "len after the commit");
    let n = txn.open_table(OTHER).or_fail("open_table (read)");
    assert_eq!(
        get_owned(&n, b"x").as_deref(),
        Some(&b"y"[..]),
        "new table after the commit"
    );
}

/// The `StableBytes` promise: a value guard's bytes (content and address) do not change while
/// it lives, whatever writers do meanwhile: overwrite its key with a longer and a shorter
/// value, remove it, clear the table, and commit each time. Covers a small value (which some
/// engines keep inline) and a large one.
pub fn check_guards_keep_their_bytes<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let small: &[u8] = b"abc";
    // Large, within the backend's entry limit if it has one.
    let big = <H::Backend as Backend>::CAPABILITIES
        .max_entry_len
        .map_or(3000, |max| (max / 2).min(3000));
    let large = vec![7u8; big];
    commit_entries(backend, TABLE, &model_of(&[(b"s", small), (b"l", &large)]));
    let txn = backend.begin_read().or_fail("begin_read");
    let table = txn.open_table(TABLE).or_fail("open_table");
    let gs = table.get(b"s").or_fail("get").expect("stored above");
    let gl = table.get(b"l").or_fail("get").expect("stored above");
    let (ps, pl) = (gs.as_ref().as_ptr(), gl.as_ref().as_ptr());
    let check = |when: &str| {
        assert_eq!(
            gs.as_ref(),
            small,
            "a small value's guard changed after {when}"
        );
        assert_eq!(
            gl.as_ref(),
            &large[..],
            "a large value's guard changed after {when}"
        );
        assert_eq!(
            gs.as_ref().as_ptr(),
            ps,
            "a small value's guard moved after {when}"
        );
        assert_eq!(
            gl.as_ref().as_ptr(),
            pl,
            "a large value's guard moved after {when}"
        );
    };
    #[allow(clippy::type_complexity)]
    let write = |f: &dyn Fn(
        &mut <<H::Backend as Backend>::WriteTxn<'_> as WriteTransaction>::Table<'_>,
    )| {
        let w = backend
            .begin_write()
            .or_fail("begin_write while a guard lives");
        {
            let mut t = w.open_table(TABLE).or_fail("open_table");
            f(&mut t);
        }
        w.commit().or_fail("commit while a guard lives");
    };
    write(&|t| {
        t.insert(b"s", &vec![9u8; big / 2])
            .or_fail("overwrite longer");
        t.insert(b"l", b"x").or_fail("overwrite shorter");
    });
    check("overwrites");
    write(&|t| {
        t.remove(b"s").or_fail("remove");
        t.remove(b"l").or_fail("remove");
    });
    check("removes");
    write(&|t| {
        t.insert(b"s", b"again").or_fail("insert");
        t.clear().or_fail("clear");
    });
    check("a clear");
}

/// A read transaction held open on another thread does not block a writer from beginning and
/// committing. The wait is bounded: a blocked writer fails the check instead of hanging it.
pub fn check_reader_does_not_block_writer<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let snapshot = <H::Backend as Backend>::CAPABILITIES.snapshot_reads;
    commit_entries(backend, TABLE, &model_of(&[(b"k", b"old")]));

    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<()>();

    let (committed, seen_before, seen_after) = std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let txn = backend
                .begin_read()
                .or_fail("begin_read on the reader thread");
            let t = txn
                .open_table(TABLE)
                .or_fail("open_table on the reader thread");
            let before = get_owned(&t, b"k");
            // Ignore a send error: the main thread only goes away by panicking.
            let _ = ready_tx.send(());
            // Hold the transaction until released (bounded, in case the main thread is stuck).
            let _ = release_rx.recv_timeout(WRITER_TIMEOUT + Duration::from_secs(10));
            let after = get_owned(&t, b"k");
            (before, after)
        });
        if ready_rx.recv_timeout(WRITER_TIMEOUT).is_err() {
            // The reader failed before it was ready; its panic is reported by join below.
            let _ = release_tx.send(());
            let result = reader.join();
            match result {
                Err(panic) => std::panic::resume_unwind(panic),
                Ok(_) => panic!("conformance: the reader thread never opened its transaction"),
            }
        }
        let writer = s.spawn(move || {
            let txn = backend
                .begin_write()
                .or_fail("begin_write while a reader is open");
            {
                let mut t = txn.open_table(TABLE).or_fail("open_table");
                t.insert(b"k", b"new").or_fail("insert");
            }
            txn.commit().or_fail("commit while a reader is open");
            let _ = done_tx.send(());
        });
        let committed = done_rx.recv_timeout(WRITER_TIMEOUT).is_ok();
        let _ = release_tx.send(());
        let (before, after) = match reader.join() {
            Ok(seen) => seen,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        if let Err(panic) = writer.join() {
            std::panic::resume_unwind(panic);
        }
        (committed, before, after)
    });

    assert!(
        committed,
        "a writer could not commit within {WRITER_TIMEOUT:?} while a read transaction was open \
         on another thread: readers must not block writers"
    );
    assert_eq!(
        seen_before.as_deref(),
        Some(&b"old"[..]),
        "the reader's first read"
    );
    if snapshot {
        assert_eq!(
            seen_after.as_deref(),
            Some(&b"old"[..]),
            "snapshot_reads: the reader must keep seeing its snapshot after the commit"
        );
    }
    assert_eq!(
        committed_get(backend, TABLE, b"k").as_deref(),
        Some(&b"new"[..]),
        "the writer's commit"
    );
}

/// With `persistent`, committed data (in several tables, including removes, clears, empty keys
/// and empty values) survives dropping and reopening the backend; rolled-back data does not.
pub fn check_persistence_across_reopen<H: Harness>() {
    if !<H::Backend as Backend>::CAPABILITIES.persistent {
        return;
    }
    let mut harness = H::new();
    let mut rng = Rng::new(0x5EED_0004);
    let mut a = random_model(&mut rng, 200, entry_limit::<H>());
    a.insert(Vec::new(), Vec::new());
    let mut b = model_of(&[(b"x", b"1"), (b"y", b"2")]);
    let c = model_of(&[(b"gone", b"soon")]);
    {
        let backend = harness.backend();
        commit_entries(backend, TABLE, &a);
        commit_entries(backend, OTHER, &b);
        commit_entries(backend, "cleared", &c);

        let txn = backend.begin_write().or_fail("begin_write");
        {
            let mut t = txn.open_table(TABLE).or_fail("open_table");
            let keys: Vec<Vec<u8>> = a
                .keys()
                .filter(|k| !k.is_empty())
                .take(20)
                .cloned()
                .collect();
            for k in keys {
                t.remove(&k).or_fail("remove");
                a.remove(&k);
            }
            let mut o = txn.open_table(OTHER).or_fail("open_table");
            o.insert(b"x", b"overwritten").or_fail("overwrite");
            b.insert(b"x".to_vec(), b"overwritten".to_vec());
            let mut cl = txn.open_table("cleared").or_fail("open_table");
            cl.clear().or_fail("clear");
        }
        txn.commit().or_fail("commit");

        let txn = backend.begin_write().or_fail("begin_write");
        {
            let mut t = txn.open_table(TABLE).or_fail("open_table");
            t.insert(b"rolled back", b"!").or_fail("insert");
        }
        drop(txn);
        let txn = backend.begin_write().or_fail("begin_write");
        {
            let mut t = txn.open_table(OTHER).or_fail("open_table");
            t.insert(b"aborted", b"!").or_fail("insert");
        }
        txn.abort().or_fail("abort");
    }

    harness.reopen();
    {
        let backend = harness.backend();
        assert_eq!(
            committed_entries(backend, TABLE),
            model_entries(&a),
            "table after reopen"
        );
        assert_eq!(
            committed_entries(backend, OTHER),
            model_entries(&b),
            "table after reopen"
        );
        assert_eq!(
            committed_entries(backend, "cleared"),
            Entries::new(),
            "cleared table"
        );
        assert_eq!(
            committed_get(backend, TABLE, b"rolled back"),
            None,
            "rolled-back write"
        );
        assert_eq!(
            committed_get(backend, OTHER, b"aborted"),
            None,
            "aborted write"
        );
        assert_eq!(
            committed_get(backend, TABLE, b""),
            Some(Vec::new()),
            "empty key with empty value after reopen"
        );
        let txn = backend.begin_write().or_fail("begin_write after reopen");
        {
            let mut t = txn.open_table(TABLE).or_fail("open_table");
            t.insert(b"after reopen", b"yes").or_fail("insert");
            a.insert(b"after reopen".to_vec(), b"yes".to_vec());
        }
        txn.commit().or_fail("commit after reopen");
    }

    harness.reopen();
    let backend = harness.backend();
    assert_eq!(
        committed_entries(backend, TABLE),
        model_entries(&a),
        "after a second reopen"
    );
    assert_eq!(
        committed_entries(backend, OTHER),
        model_entries(&b),
        "after a second reopen"
    );
}

/// `flush` succeeds on a fresh backend and after commits, does not change what is visible, and
/// (with `persistent`) committed data survives a reopen after it.
pub fn check_flush<H: Harness>() {
    let mut harness = H::new();
    let model = model_of(&[(b"a", b"1"), (b"b", b"2")]);
    {
        let backend = harness.backend();
        backend.flush().or_fail("flush of a fresh backend");
        commit_entries(backend, TABLE, &model);
        backend.flush().or_fail("flush after a commit");
        backend.flush().or_fail("a second flush");
        assert_eq!(
            committed_entries(backend, TABLE),
            model_entries(&model),
            "after flush"
        );
        let reader = backend.begin_read().or_fail("begin_read");
        backend
            .flush()
            .or_fail("flush with a read transaction open");
        drop(reader);
    }
    if <H::Backend as Backend>::CAPABILITIES.persistent {
        harness.reopen();
        let backend = harness.backend();
        assert_eq!(
            committed_entries(backend, TABLE),
            model_entries(&model),
            "flushed data after reopen"
        );
    }
}

/// With `max_entry_len` of at most 64 MiB: an entry of exactly the limit is stored, one byte
/// more fails with [`BackendError::ValueTooLarge`], and the transaction still commits its other
/// writes. Skipped for larger (or no) limits.
pub fn check_value_too_large<H: Harness>() {
    let Some(max) = <H::Backend as Backend>::CAPABILITIES.max_entry_len else {
        return;
    };
    if max > MAX_TESTED_ENTRY_LEN {
        return;
    }
    let harness = H::new();
    let backend = harness.backend();
    let key: &[u8] = b"k";
    let fits = vec![0xA5; max.saturating_sub(key.len())];
    let too_big = vec![0x5A; max + 1];

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.insert(b"before", b"1").or_fail("insert");
        if max >= key.len() {
            t.insert(key, &fits).or_fail(format_args!(
                "insert of an entry of exactly max_entry_len ({max})"
            ));
        }
        match t.insert(b"too big", &too_big) {
            Err(BackendError::ValueTooLarge { len, max: reported }) => {
                assert_eq!(
                    reported, max,
                    "ValueTooLarge must report the backend's limit"
                );
                assert!(
                    len > max,
                    "ValueTooLarge reports len {len}, not above the limit {max}"
                );
            }
            Err(e) => panic!(
                "{} entry over max_entry_len: expected ValueTooLarge, got {e:?}",
                name::<H>()
            ),
            Ok(()) => panic!(
                "{}: an entry of {} bytes was accepted although max_entry_len is {max}",
                name::<H>(),
                b"too big".len() + too_big.len()
            ),
        }
        t.insert(b"after", b"2")
            .or_fail("insert after ValueTooLarge");
    }
    txn.commit().or_fail("commit after ValueTooLarge");

    let txn = backend.begin_read().or_fail("begin_read");
    let t = txn.open_table(TABLE).or_fail("open_table (read)");
    assert_eq!(
        get_owned(&t, b"before").as_deref(),
        Some(&b"1"[..]),
        "write before the error"
    );
    assert_eq!(
        get_owned(&t, b"after").as_deref(),
        Some(&b"2"[..]),
        "write after the error"
    );
    assert_eq!(
        get_owned(&t, b"too big"),
        None,
        "the rejected entry must not be stored"
    );
    if max >= key.len() {
        assert!(
            get_owned(&t, key) == Some(fits),
            "the entry of exactly max_entry_len"
        );
    }
}

/// The kit run against a deliberately simple reference backend (copied values, a `BTreeMap`
/// per table), in two capability profiles, so that the checks that no shipped backend triggers
/// (read-committed reads, a small entry limit) are themselves tested.
#[cfg(test)]
mod self_test {
    use std::cell::RefCell;
    use std::collections::{BTreeMap, HashSet};
    use std::marker::PhantomData;
    use std::ops::Bound;
    use std::sync::{Arc, Mutex, MutexGuard};

    use super::Harness;
    use crate::{
        Backend, BackendError, Capabilities, Direction, ReadTable, ReadTransaction, Result,
        WriteTable, WriteTransaction, in_bounds, is_empty_range,
    };

    type State = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

    trait Profile: Send + Sync + 'static {
        const CAPS: Capabilities;
    }

    struct SnapshotSmallLimit;
    impl Profile for SnapshotSmallLimit {
        const CAPS: Capabilities = Capabilities::new("reference-snapshot")
            .with_snapshot_reads(true)
            .with_max_entry_len(Some(1024));
    }

    struct ReadCommitted;
    impl Profile for ReadCommitted {
        const CAPS: Capabilities = Capabilities::new("reference-read-committed");
    }

    struct Reference<P> {
        committed: Mutex<Arc<State>>,
        writer: Mutex<()>,
        _profile: PhantomData<P>,
    }

    fn check_name(name: &str) -> Result<()> {
        if name.is_empty() {
            return Err(BackendError::InvalidConfig {
                message: "empty table name".into(),
            });
        }
        Ok(())
    }

    fn range_of(
        table: Option<&BTreeMap<Vec<u8>, Vec<u8>>>,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
    ) -> std::vec::IntoIter<Result<(Vec<u8>, Vec<u8>)>> {
        let mut out: Vec<Result<(Vec<u8>, Vec<u8>)>> = Vec::new();
        if let Some(table) = table
            && !is_empty_range(lower, upper)
        {
            out = table
                .iter()
                .filter(|(k, _)| in_bounds(k, lower, upper))
                .map(|(k, v)| Ok((k.clone(), v.clone())))
                .collect();
        }
        if direction == Direction::Reverse {
            out.reverse();
        }
        out.into_iter()
    }

    impl<P: Profile> Backend for Reference<P> {
        type ReadTxn<'db> = RefRead<'db, P>;
        type WriteTxn<'db> = RefWrite<'db, P>;
        const CAPABILITIES: Capabilities = P::CAPS;

        fn begin_read(&self) -> Result<RefRead<'_, P>> {
            let snapshot = P::CAPS
                .snapshot_reads
                .then(|| self.committed.lock().expect("lock").clone());
            Ok(RefRead {
                backend: self,
                snapshot,
            })
        }

        fn begin_write(&self) -> Result<RefWrite<'_, P>> {
            let lock = self.writer.lock().expect("writer lock");
            let state = (**self.committed.lock().expect("lock")).clone();
            Ok(RefWrite {
                backend: self,
                _lock: lock,
                state: RefCell::new(state),
                open: RefCell::new(HashSet::new()),
            })
        }

        fn flush(&self) -> Result<()> {
            Ok(())
        }
    }

    struct RefRead<'db, P> {
        backend: &'db Reference<P>,
        snapshot: Option<Arc<State>>,
    }

    impl<P: Profile> ReadTransaction for RefRead<'_, P> {
        type Table<'t>
            = RefReadTable<'t, P>
        where
            Self: 't;

        fn open_table(&self, name: &str) -> Result<RefReadTable<'_, P>> {
            check_name(name)?;
            Ok(RefReadTable {
                txn: self,
                name: name.to_owned(),
            })
        }
    }

    struct RefReadTable<'t, P> {
        txn: &'t RefRead<'t, P>,
        name: String,
    }

    impl<P: Profile> RefReadTable<'_, P> {
        fn state(&self) -> Arc<State> {
            match &self.txn.snapshot {
                Some(s) => s.clone(),
                None => self.txn.backend.committed.lock().expect("lock").clone(),
            }
        }
    }

    impl<P: Profile> ReadTable for RefReadTable<'_, P> {
        type Guard<'g>
            = Vec<u8>
        where
            Self: 'g;
        type Range<'g>
            = std::vec::IntoIter<Result<(Vec<u8>, Vec<u8>)>>
        where
            Self: 'g;

        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
            Ok(self
                .state()
                .get(&self.name)
                .and_then(|t| t.get(key).cloned()))
        }

        fn range(
            &self,
            lower: Bound<&[u8]>,
            upper: Bound<&[u8]>,
            direction: Direction,
        ) -> Result<Self::Range<'_>> {
            Ok(range_of(
                self.state().get(&self.name),
                lower,
                upper,
                direction,
            ))
        }

        fn len(&self) -> Result<u64> {
            Ok(self.state().get(&self.name).map_or(0, |t| t.len() as u64))
        }
    }

    struct RefWrite<'db, P> {
        backend: &'db Reference<P>,
        _lock: MutexGuard<'db, ()>,
        state: RefCell<State>,
        open: RefCell<HashSet<String>>,
    }

    impl<P: Profile> WriteTransaction for RefWrite<'_, P> {
        type Table<'t>
            = RefWriteTable<'t, P>
        where
            Self: 't;

        fn open_table(&self, name: &str) -> Result<RefWriteTable<'_, P>> {
            check_name(name)?;
            if !self.open.borrow_mut().insert(name.to_owned()) {
                return Err(BackendError::TableAlreadyOpen {
                    table: name.to_owned(),
                });
            }
            Ok(RefWriteTable {
                txn: self,
                name: name.to_owned(),
            })
        }

        fn commit(self) -> Result<()> {
            *self.backend.committed.lock().expect("lock") = Arc::new(self.state.take());
            Ok(())
        }

        fn abort(self) -> Result<()> {
            Ok(())
        }
    }

    struct RefWriteTable<'t, P: Profile> {
        txn: &'t RefWrite<'t, P>,
        name: String,
    }

    impl<P: Profile> Drop for RefWriteTable<'_, P> {
        fn drop(&mut self) {
            self.txn.open.borrow_mut().remove(&self.name);
        }
    }

    impl<P: Profile> ReadTable for RefWriteTable<'_, P> {
        type Guard<'g>
            = Vec<u8>
        where
            Self: 'g;
        type Range<'g>
            = std::vec::IntoIter<Result<(Vec<u8>, Vec<u8>)>>
        where
            Self: 'g;

        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
            let state = self.txn.state.borrow();
            Ok(state.get(&self.name).and_then(|t| t.get(key).cloned()))
        }

        fn range(
            &self,
            lower: Bound<&[u8]>,
            upper: Bound<&[u8]>,
            direction: Direction,
        ) -> Result<Self::Range<'_>> {
            let state = self.txn.state.borrow();
            Ok(range_of(state.get(&self.name), lower, upper, direction))
        }

        fn len(&self) -> Result<u64> {
            let state = self.txn.state.borrow();
            Ok(state.get(&self.name).map_or(0, |t| t.len() as u64))
        }
    }

    impl<P: Profile> WriteTable for RefWriteTable<'_, P> {
        fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
            if let Some(max) = P::CAPS.max_entry_len {
                let len = key.len() + value.len();
                if len > max {
                    return Err(BackendError::ValueTooLarge { len, max });
                }
            }
            let mut state = self.txn.state.borrow_mut();
            state
                .entry(self.name.clone())
                .or_default()
                .insert(key.to_vec(), value.to_vec());
            Ok(())
        }

        fn remove(&mut self, key: &[u8]) -> Result<bool> {
            let mut state = self.txn.state.borrow_mut();
            Ok(state
                .get_mut(&self.name)
                .is_some_and(|t| t.remove(key).is_some()))
        }

        fn clear(&mut self) -> Result<()> {
            self.txn.state.borrow_mut().remove(&self.name);
            Ok(())
        }
    }

    struct RefHarness<P>(Reference<P>);

    impl<P: Profile> Harness for RefHarness<P> {
        type Backend = Reference<P>;

        fn new() -> Self {
            RefHarness(Reference {
                committed: Mutex::new(Arc::new(State::new())),
                writer: Mutex::new(()),
                _profile: PhantomData,
            })
        }

        fn backend(&self) -> &Reference<P> {
            &self.0
        }

        fn reopen(&mut self) {
            unreachable!("the reference backend does not claim persistence");
        }
    }

    type SnapshotHarness = RefHarness<SnapshotSmallLimit>;
    type ReadCommittedHarness = RefHarness<ReadCommitted>;

    crate::conformance_tests!(snapshot_small_limit: SnapshotHarness);
    crate::conformance_tests!(read_committed: ReadCommittedHarness);

    /// Drives a future of the sync-to-async adapter, which is ready at its first poll.
    fn ready<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(out) => out,
            std::task::Poll::Pending => panic!("an adapter future was not ready at once"),
        }
    }

    // The async kit, on the same two profiles (read-committed reads and a small entry limit
    // exercise its capability-dependent checks).
    crate::async_conformance_tests!(
        block_on = ready;
        async_snapshot_small_limit: crate::async_conformance::Adapted<SnapshotHarness>
    );
    crate::async_conformance_tests!(
        block_on = ready;
        async_read_committed: crate::async_conformance::Adapted<ReadCommittedHarness>
    );
}
