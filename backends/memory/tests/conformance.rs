//! The conformance kit of `netabase_backend_api`, run against the memory backend, plus tests of
//! what is particular to it: many live snapshots, rollback under readers, and how readers and
//! writers on different threads wait (or do not wait) for each other.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use netabase_backend_api::conformance::Harness;
use netabase_backend_api::{
    Backend, Direction, ReadTable, ReadTransaction, WriteTable, WriteTransaction,
};
use netabase_backend_memory::MemoryBackend;

/// A fresh memory backend per check.
struct MemoryHarness(MemoryBackend);

impl Harness for MemoryHarness {
    type Backend = MemoryBackend;

    fn new() -> Self {
        MemoryHarness(MemoryBackend::new())
    }

    fn backend(&self) -> &MemoryBackend {
        &self.0
    }

    /// The kit calls this only for backends that claim `persistent`, which this one does not.
    /// Keeping the backend as it is would be the memory backend's notion of "reopen" anyway.
    fn reopen(&mut self) {}
}

netabase_backend_api::conformance_tests!(MemoryHarness);
// The async conformance kit, through the sync-to-async adapter.
netabase_backend_api::async_conformance_tests!(
    block_on = futures_executor::block_on;
    async_kit: netabase_backend_api::async_conformance::Adapted<MemoryHarness>
);

/// The checksum wrapper is a backend like any other: the whole kit passes on it too.
struct ChecksummedHarness(netabase_backend_api::checksum::Checksummed<MemoryBackend>);

impl Harness for ChecksummedHarness {
    type Backend = netabase_backend_api::checksum::Checksummed<MemoryBackend>;

    fn new() -> Self {
        ChecksummedHarness(netabase_backend_api::checksum::Checksummed::new(
            MemoryBackend::new(),
        ))
    }

    fn backend(&self) -> &Self::Backend {
        &self.0
    }

    fn reopen(&mut self) {}
}

netabase_backend_api::conformance_tests!(checksummed: ChecksummedHarness);

// -------------------------------------------------------------------------------------------
// Helpers
// -------------------------------------------------------------------------------------------

/// How long a test waits for something that must happen.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a test waits to conclude that something does not happen (a blocked writer).
const STILL_BLOCKED: Duration = Duration::from_millis(200);

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn write_one(backend: &MemoryBackend, table: &str, key: &[u8], value: &[u8]) {
    let txn = backend.begin_write().expect("begin_write");
    txn.open_table(table)
        .expect("open_table")
        .insert(key, value)
        .expect("insert");
    txn.commit().expect("commit");
}

fn read_one(backend: &MemoryBackend, table: &str, key: &[u8]) -> Option<Vec<u8>> {
    let txn = backend.begin_read().expect("begin_read");
    let t = txn.open_table(table).expect("open_table");
    t.get(key).expect("get").map(<[u8]>::to_vec)
}

fn all<T: ReadTable>(table: &T, direction: Direction) -> Vec<(Vec<u8>, Vec<u8>)> {
    table
        .range(Bound::Unbounded, Bound::Unbounded, direction)
        .expect("range")
        .map(|item| {
            let (k, v) = item.expect("range item");
            (k.as_ref().to_vec(), v.as_ref().to_vec())
        })
        .collect()
}

fn entries(model: &Model) -> Vec<(Vec<u8>, Vec<u8>)> {
    model.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// xorshift64, so every run uses the same data.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

// -------------------------------------------------------------------------------------------
// MVCC
// -------------------------------------------------------------------------------------------

/// Sixty transactions of random writes over three tables, each committed or rolled back; a
/// read transaction is taken after each and kept. At the end every one of them still sees
/// exactly the state committed when it began.
#[test]
fn many_live_snapshots_each_see_their_own_version() {
    const TABLES: [&str; 3] = ["a", "b", "c"];
    let backend = MemoryBackend::new();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut committed: Vec<Model> = vec![Model::new(); TABLES.len()];
    let mut readers = Vec::new();

    for round in 0..60u32 {
        let mut working = committed.clone();
        let txn = backend.begin_write().expect("begin_write");
        for (i, name) in TABLES.iter().enumerate() {
            let mut t = txn.open_table(name).expect("open_table");
            for _ in 0..rng.below(40) {
                let key = rng.below(64).to_be_bytes().to_vec();
                if rng.below(3) == 0 {
                    let existed = t.remove(&key).expect("remove");
                    assert_eq!(existed, working[i].remove(&key).is_some(), "remove result");
                } else {
                    let value = format!("{name} {round} {}", rng.below(1000)).into_bytes();
                    t.insert(&key, &value).expect("insert");
                    working[i].insert(key, value);
                }
            }
            if rng.below(15) == 0 {
                t.clear().expect("clear");
                working[i].clear();
            }
        }
        if rng.below(4) == 0 {
            drop(txn);
        } else {
            txn.commit().expect("commit");
            committed = working;
        }
        readers.push((backend.begin_read().expect("begin_read"), committed.clone()));
    }

    for (version, (reader, models)) in readers.iter().enumerate() {
        for (name, model) in TABLES.iter().zip(models) {
            let t = reader.open_table(name).expect("open_table");
            assert_eq!(
                all(&t, Direction::Forward),
                entries(model),
                "snapshot {version}, table {name}"
            );
            let mut reversed = entries(model);
            reversed.reverse();
            assert_eq!(all(&t, Direction::Reverse), reversed, "snapshot {version}");
            assert_eq!(t.len().expect("len"), model.len() as u64);
            for (k, v) in model {
                assert_eq!(t.get(k).expect("get"), Some(v.as_slice()));
            }
        }
    }
}

/// A write transaction dropped (or aborted) while readers from before and during it are alive:
/// the readers keep their state, nothing of the writer is published, and the next writer starts
/// from the last commit.
#[test]
fn a_write_transaction_dropped_while_readers_exist() {
    let backend = MemoryBackend::new();
    write_one(&backend, "t", b"k", b"old");
    let before = backend.begin_read().expect("begin_read");
    let before_table = before.open_table("t").expect("open_table");
    let guard = before_table.get(b"k").expect("get").expect("present");

    let txn = backend.begin_write().expect("begin_write");
    {
        let mut t = txn.open_table("t").expect("open_table");
        t.insert(b"k", b"new").expect("insert");
        t.insert(b"k2", b"new").expect("insert");
        txn.open_table("u")
            .expect("open_table")
            .insert(b"x", b"y")
            .expect("insert");
    }
    let during = backend.begin_read().expect("begin_read");
    drop(txn);

    assert_eq!(guard, b"old", "a guard taken before the writer");
    for reader in [&before, &during] {
        let t = reader.open_table("t").expect("open_table");
        assert_eq!(
            all(&t, Direction::Forward),
            [(b"k".to_vec(), b"old".to_vec())]
        );
        assert!(
            reader
                .open_table("u")
                .expect("open_table")
                .is_empty()
                .expect("is_empty")
        );
    }
    assert_eq!(
        read_one(&backend, "t", b"k2"),
        None,
        "the dropped writer's insert"
    );
    assert_eq!(
        read_one(&backend, "u", b"x"),
        None,
        "the dropped writer's table"
    );

    let txn = backend.begin_write().expect("begin_write after the drop");
    {
        let t = txn.open_table("t").expect("open_table");
        assert_eq!(t.get(b"k").expect("get"), Some(&b"old"[..]));
        assert_eq!(t.len().expect("len"), 1);
    }
    txn.abort().expect("abort");
    assert_eq!(read_one(&backend, "t", b"k").as_deref(), Some(&b"old"[..]));
}

/// Guards lend the snapshot's own bytes: the same address through `get` and `range`, in two
/// read transactions of one snapshot, and after a later commit replaced the value.
#[test]
fn guards_are_borrowed_from_the_snapshot_not_copied() {
    let backend = MemoryBackend::new();
    write_one(&backend, "t", b"k", &[7u8; 4096]);
    let one = backend.begin_read().expect("begin_read");
    let two = backend.begin_read().expect("begin_read");
    let t1 = one.open_table("t").expect("open_table");
    let t2 = two.open_table("t").expect("open_table");
    let g1 = t1.get(b"k").expect("get").expect("present");
    let g2 = t2.get(b"k").expect("get").expect("present");
    let (_, from_range) = t1
        .range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)
        .expect("range")
        .next()
        .expect("an item")
        .expect("ok");
    assert_eq!(g1.as_ptr(), g2.as_ptr(), "two readers of one snapshot");
    assert_eq!(g1.as_ptr(), from_range.as_ptr(), "get and range");

    write_one(&backend, "t", b"k", &[9u8; 4096]);
    assert_eq!(g1, &[7u8; 4096][..], "a guard outlives a commit unchanged");
    assert_eq!(
        read_one(&backend, "t", b"k").as_deref(),
        Some(&[9u8; 4096][..])
    );
}

// -------------------------------------------------------------------------------------------
// Threads
// -------------------------------------------------------------------------------------------

/// A reader on another thread, holding a snapshot and a guard, does not keep a writer on a
/// third thread from committing, and keeps its snapshot after the commit.
///
/// The threads are detached (not scoped), so a writer that wrongly blocks makes the test fail
/// after the timeout instead of hanging it.
#[test]
fn a_reader_on_another_thread_does_not_block_commit() {
    let backend = Arc::new(MemoryBackend::new());
    write_one(&backend, "t", b"k", b"old");

    let (ready_tx, ready_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let reader = std::thread::spawn({
        let backend = Arc::clone(&backend);
        move || {
            let txn = backend.begin_read().expect("begin_read");
            let t = txn.open_table("t").expect("open_table");
            let guard = t.get(b"k").expect("get").expect("present");
            ready_tx.send(()).expect("send ready");
            release_rx.recv_timeout(TIMEOUT).expect("released");
            // After the commit: the same snapshot, the same bytes.
            (
                guard.to_vec(),
                t.get(b"k").expect("get").map(<[u8]>::to_vec),
                t.len().expect("len"),
            )
        }
    });
    ready_rx.recv_timeout(TIMEOUT).expect("reader ready");

    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn({
        let backend = Arc::clone(&backend);
        move || {
            let txn = backend.begin_write().expect("begin_write");
            {
                let mut t = txn.open_table("t").expect("open_table");
                t.insert(b"k", b"new").expect("insert");
                t.insert(b"k2", b"new").expect("insert");
            }
            txn.commit().expect("commit");
            done_tx.send(()).expect("send done");
        }
    });
    let committed = done_rx.recv_timeout(TIMEOUT);
    release_tx.send(()).expect("release the reader");
    committed.expect("the writer committed while the reader was alive");

    let (guard, again, len) = reader.join().expect("reader thread");
    assert_eq!(guard, b"old");
    assert_eq!(again.as_deref(), Some(&b"old"[..]));
    assert_eq!(len, 1);
    assert_eq!(read_one(&backend, "t", b"k").as_deref(), Some(&b"new"[..]));
}

/// A second `begin_write` waits while the first write transaction is alive, then starts from
/// its commit.
#[test]
fn a_second_writer_blocks_until_the_first_finishes() {
    let backend = &MemoryBackend::new();
    std::thread::scope(|s| {
        let first = backend.begin_write().expect("first begin_write");
        let (tx, rx) = mpsc::channel();
        s.spawn(move || {
            let second = backend.begin_write().expect("second begin_write");
            let seen = second
                .open_table("t")
                .expect("open_table")
                .get(b"k")
                .expect("get")
                .map(<[u8]>::to_vec);
            second.commit().expect("second commit");
            tx.send(seen).expect("send");
        });

        match rx.recv_timeout(STILL_BLOCKED) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            other => panic!("the second writer began while the first was alive: {other:?}"),
        }
        first
            .open_table("t")
            .expect("open_table")
            .insert(b"k", b"from the first")
            .expect("insert");
        first.commit().expect("first commit");

        let seen = rx
            .recv_timeout(TIMEOUT)
            .expect("the second writer began after the first committed");
        assert_eq!(
            seen.as_deref(),
            Some(&b"from the first"[..]),
            "the second writer starts from the first one's commit"
        );
    });
}

/// A thread that panics while holding a write transaction poisons the writer lock; the backend
/// recovers (the panicking transaction's writes are rolled back) instead of refusing all work.
#[test]
fn a_panicking_writer_rolls_back_and_does_not_poison_the_backend() {
    let backend = MemoryBackend::new();
    write_one(&backend, "t", b"k", b"kept");
    std::thread::scope(|s| {
        let result = s
            .spawn(|| {
                let txn = backend.begin_write().expect("begin_write");
                txn.open_table("t")
                    .expect("open_table")
                    .insert(b"k", b"lost")
                    .expect("insert");
                panic!("deliberate panic inside a write transaction");
            })
            .join();
        assert!(result.is_err(), "the thread panicked");
    });
    assert_eq!(read_one(&backend, "t", b"k").as_deref(), Some(&b"kept"[..]));
    write_one(&backend, "t", b"k", b"after");
    assert_eq!(
        read_one(&backend, "t", b"k").as_deref(),
        Some(&b"after"[..])
    );
}
