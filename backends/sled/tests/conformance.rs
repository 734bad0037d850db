//! The conformance kit of `netabase_backend_api`, run against the sled backend (with immediate
//! and with deferred durability), plus tests of [`SledOptions`] and of what is specific to
//! sled: read-committed reads, buffered writes, atomic multi-table commits.

use std::ops::Bound;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use netabase_backend_api::conformance::Harness;
use netabase_backend_api::{
    Backend, BackendError, Direction, ReadTable, ReadTransaction, WriteTable, WriteTransaction,
};
use netabase_backend_sled::{SledBackend, SledDurability, SledOptions};

/// A sled database in a temporary directory, so `reopen` really closes and reopens it.
struct SledHarness {
    _dir: tempfile::TempDir,
    path: PathBuf,
    options: SledOptions,
    backend: Option<SledBackend>,
}

impl SledHarness {
    fn with_options(options: SledOptions) -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let path = dir.path().join("conformance.sled");
        let backend = SledBackend::open(&path, &options).expect("create the sled database");
        SledHarness {
            _dir: dir,
            path,
            options,
            backend: Some(backend),
        }
    }
}

impl Harness for SledHarness {
    type Backend = SledBackend;

    fn new() -> Self {
        SledHarness::with_options(SledOptions::new())
    }

    fn backend(&self) -> &SledBackend {
        self.backend.as_ref().expect("the backend is open")
    }

    fn reopen(&mut self) {
        drop(self.backend.take());
        self.backend =
            Some(SledBackend::open(&self.path, &self.options).expect("reopen the sled database"));
    }
}

/// The same, with deferred durability: `flush` must make commits durable, and reopening (a
/// clean close) must keep them.
struct SledNonDurableHarness(SledHarness);

impl Harness for SledNonDurableHarness {
    type Backend = SledBackend;

    fn new() -> Self {
        SledNonDurableHarness(SledHarness::with_options(
            SledOptions::new().durability(SledDurability::None),
        ))
    }

    fn backend(&self) -> &SledBackend {
        self.0.backend()
    }

    fn reopen(&mut self) {
        self.0.reopen();
    }
}

netabase_backend_api::conformance_tests!(SledHarness);
netabase_backend_api::conformance_tests!(non_durable: SledNonDurableHarness);
// The async conformance kit, through the sync-to-async adapter.
netabase_backend_api::async_conformance_tests!(
    block_on = futures_executor::block_on;
    async_kit: netabase_backend_api::async_conformance::Adapted<SledHarness>
);

// -------------------------------------------------------------------------------------------
// Helpers
// -------------------------------------------------------------------------------------------

fn write_one(backend: &SledBackend, table: &str, key: &[u8], value: &[u8]) {
    let txn = backend.begin_write().expect("begin_write");
    {
        let mut t = txn.open_table(table).expect("open_table");
        t.insert(key, value).expect("insert");
    }
    txn.commit().expect("commit");
}

fn read_one(backend: &SledBackend, table: &str, key: &[u8]) -> Option<Vec<u8>> {
    let txn = backend.begin_read().expect("begin_read");
    let t = txn.open_table(table).expect("open_table");
    t.get(key).expect("get").map(|g| g.as_ref().to_vec())
}

fn all_entries<T: ReadTable>(t: &T) -> Vec<(Vec<u8>, Vec<u8>)> {
    t.range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)
        .expect("range")
        .map(|item| {
            let (k, v) = item.expect("range item");
            (k.as_ref().to_vec(), v.as_ref().to_vec())
        })
        .collect()
}

fn tree_names(backend: &SledBackend) -> Vec<Vec<u8>> {
    backend
        .db()
        .tree_names()
        .into_iter()
        .map(|n| n.to_vec())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

// -------------------------------------------------------------------------------------------
// SledOptions
// -------------------------------------------------------------------------------------------

#[test]
fn read_only_refuses_writes_and_reads_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.sled");
    {
        let backend = SledBackend::create(&path).expect("create");
        write_one(&backend, "t", b"k", b"v");
    }
    let backend =
        SledBackend::open(&path, &SledOptions::new().read_only(true)).expect("open read-only");
    assert!(backend.is_read_only());
    assert!(matches!(backend.begin_write(), Err(BackendError::ReadOnly)));
    assert_eq!(read_one(&backend, "t", b"k").as_deref(), Some(&b"v"[..]));
    let txn = backend.begin_read().expect("begin_read");
    let missing = txn
        .open_table("missing")
        .expect("missing table reads as empty");
    assert!(missing.is_empty().expect("is_empty"));
    backend.flush().expect("flush of a read-only database");
}

#[test]
fn read_only_on_a_missing_database_is_invalid_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("missing.sled");
    match SledBackend::open(&path, &SledOptions::new().read_only(true)) {
        Err(BackendError::InvalidConfig { message }) => {
            assert!(
                message.contains("missing.sled"),
                "message names the path: {message}"
            )
        }
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    assert!(
        !path.exists(),
        "a read-only open must not create the database"
    );
}

#[test]
fn truncate_wipes_existing_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.sled");
    {
        let backend = SledBackend::create(&path).expect("create");
        write_one(&backend, "t", b"k", b"v");
        write_one(&backend, "other", b"o", b"1");
        write_one(&backend, "__sled__default", b"d", b"1");
    }
    {
        let backend = SledBackend::open(&path, &SledOptions::new()).expect("reopen");
        assert_eq!(
            read_one(&backend, "t", b"k").as_deref(),
            Some(&b"v"[..]),
            "plain reopen keeps"
        );
    }
    {
        let backend =
            SledBackend::open(&path, &SledOptions::new().truncate(true)).expect("truncate");
        assert_eq!(read_one(&backend, "t", b"k"), None, "truncate must wipe");
        assert_eq!(read_one(&backend, "other", b"o"), None, "every table");
        assert_eq!(
            read_one(&backend, "__sled__default", b"d"),
            None,
            "default tree"
        );
        assert_eq!(
            tree_names(&backend),
            vec![
                b"__netabase_sled_generation".to_vec(),
                b"__sled__default".to_vec()
            ],
            "only sled's default tree and the backend's generation record are left"
        );
        write_one(&backend, "new", b"1", b"1");
    }
    // The wipe is durable: it survives a reopen.
    let backend = SledBackend::create(&path).expect("reopen");
    assert_eq!(read_one(&backend, "t", b"k"), None);
    assert_eq!(read_one(&backend, "new", b"1").as_deref(), Some(&b"1"[..]));
}

#[test]
fn truncate_on_a_missing_database_creates_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fresh.sled");
    let backend = SledBackend::open(&path, &SledOptions::new().truncate(true)).expect("open");
    write_one(&backend, "t", b"k", b"v");
    assert!(path.join("db").exists());
}

#[test]
fn truncate_with_read_only_is_invalid_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.sled");
    {
        let backend = SledBackend::create(&path).expect("create");
        write_one(&backend, "t", b"k", b"v");
    }
    let options = SledOptions::new().truncate(true).read_only(true);
    assert!(matches!(
        SledBackend::open(&path, &options),
        Err(BackendError::InvalidConfig { .. })
    ));
    let backend = SledBackend::create(&path).expect("reopen");
    assert_eq!(
        read_one(&backend, "t", b"k").as_deref(),
        Some(&b"v"[..]),
        "a refused truncate must not wipe anything"
    );
}

#[test]
fn create_if_missing_false_on_a_missing_path_is_invalid_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("absent.sled");
    match SledBackend::open(&path, &SledOptions::new().create_if_missing(false)) {
        Err(BackendError::InvalidConfig { message }) => {
            assert!(
                message.contains("absent.sled"),
                "message names the path: {message}"
            )
        }
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    assert!(!path.exists(), "the directory must not have been created");

    // An existing but empty directory holds no database either.
    let empty = dir.path().join("empty.sled");
    std::fs::create_dir(&empty).expect("mkdir");
    assert!(matches!(
        SledBackend::open(&empty, &SledOptions::new().create_if_missing(false)),
        Err(BackendError::InvalidConfig { .. })
    ));
    assert_eq!(
        std::fs::read_dir(&empty).expect("read_dir").count(),
        0,
        "nothing was created in the empty directory"
    );
}

#[test]
fn create_if_missing_false_opens_an_existing_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.sled");
    {
        let backend = SledBackend::create(&path).expect("create");
        write_one(&backend, "t", b"k", b"v");
    }
    let options = SledOptions::new()
        .create_if_missing(false)
        .cache_size_bytes(1 << 20);
    let backend = SledBackend::open(&path, &options).expect("open existing");
    assert_eq!(read_one(&backend, "t", b"k").as_deref(), Some(&b"v"[..]));
}

#[test]
fn a_second_open_of_the_same_database_is_already_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.sled");
    let first = SledBackend::create(&path).expect("create");
    write_one(&first, "t", b"k", b"v");
    for options in [
        SledOptions::new(),
        SledOptions::new().read_only(true),
        SledOptions::new().truncate(true),
    ] {
        match SledBackend::open(&path, &options) {
            Err(BackendError::AlreadyOpen) => {}
            other => panic!("expected AlreadyOpen ({options:?}), got {other:?}"),
        }
    }
    assert_eq!(
        read_one(&first, "t", b"k").as_deref(),
        Some(&b"v"[..]),
        "a refused truncate must not wipe the open database"
    );
    drop(first);
    let again = SledBackend::create(&path).expect("open after the first handle is dropped");
    assert_eq!(read_one(&again, "t", b"k").as_deref(), Some(&b"v"[..]));
}

/// Deterministic pseudo-random bytes (xorshift).
fn garbage(size: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn a_path_that_is_a_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("file.sled");
    let bytes = garbage(4096, 7);
    std::fs::write(&path, &bytes).expect("write");
    for options in [
        SledOptions::new(),
        SledOptions::new().truncate(true),
        SledOptions::new().read_only(true),
    ] {
        match SledBackend::open(&path, &options) {
            Err(BackendError::Corrupted { message }) => {
                assert!(message.contains("file.sled"), "{message}")
            }
            other => panic!("expected Corrupted ({options:?}), got {other:?}"),
        }
    }
    assert_eq!(std::fs::read(&path).expect("read back"), bytes);
}

#[test]
fn a_garbage_config_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (i, size) in [9usize, 64, 4096].into_iter().enumerate() {
        let path = dir.path().join(format!("conf{i}.sled"));
        {
            let backend = SledBackend::create(&path).expect("create");
            write_one(&backend, "t", b"k", b"v");
        }
        let mut bytes = garbage(size, 11 + i as u64);
        // Not valid UTF-8 and no `key: value` lines.
        bytes[0] = 0xFF;
        std::fs::write(path.join("conf"), &bytes).expect("write garbage conf");
        match SledBackend::create(&path) {
            Err(BackendError::Corrupted { message }) => {
                assert!(message.contains(&format!("conf{i}.sled")), "{message}")
            }
            Err(other) => panic!("garbage conf ({size} bytes): expected Corrupted, got {other:?}"),
            Ok(_) => panic!("a garbage conf file of {size} bytes was accepted"),
        }
    }
}

#[test]
fn a_data_file_sled_did_not_write_is_corrupted_and_left_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (i, size) in [0usize, 1, 512, 70_000, 600_000].into_iter().enumerate() {
        let path = dir.path().join(format!("garbage{i}.sled"));
        std::fs::create_dir(&path).expect("mkdir");
        let bytes = garbage(size, 0x9E37_79B9 + i as u64);
        std::fs::write(path.join("db"), &bytes).expect("write garbage");
        for options in [
            SledOptions::new(),
            SledOptions::new().create_if_missing(false),
            SledOptions::new().read_only(true),
            SledOptions::new().truncate(true),
        ] {
            match SledBackend::open(&path, &options) {
                Err(BackendError::Corrupted { message }) => {
                    assert!(message.contains(&format!("garbage{i}.sled")), "{message}")
                }
                Err(other) => panic!("garbage data file ({size} bytes): got {other:?}"),
                Ok(_) => panic!("a garbage data file of {size} bytes opened ({options:?})"),
            }
        }
        assert_eq!(
            std::fs::read(path.join("db")).expect("read back"),
            bytes,
            "a failed open must not modify the file"
        );
    }
}

/// Documents a limitation of sled 0.34 (see the crate docs): damage inside the data file of a
/// real database reads as a torn write. sled opens it without error, keeping the commits
/// before the damage. What must hold: no panic, and nothing invented.
#[test]
fn damage_inside_the_data_file_is_not_detected_by_sled() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (i, (from, to)) in [(0.0, 0.01), (0.25, 0.5), (0.9, 1.0)]
        .into_iter()
        .enumerate()
    {
        let path = dir.path().join(format!("damaged{i}.sled"));
        {
            let backend = SledBackend::create(&path).expect("create");
            for chunk in 0u32..4 {
                let txn = backend.begin_write().expect("begin_write");
                {
                    let mut t = txn.open_table("t").expect("open_table");
                    for j in 0u32..500 {
                        let key = (chunk * 1000 + j).to_be_bytes();
                        t.insert(&key, &[j as u8; 100]).expect("insert");
                    }
                }
                txn.commit().expect("commit");
            }
        }
        let file = path.join("db");
        let mut bytes = std::fs::read(&file).expect("read");
        let n = bytes.len() as f64;
        for b in &mut bytes[(n * from) as usize..(n * to) as usize] {
            *b ^= 0x5A;
        }
        std::fs::write(&file, &bytes).expect("damage");
        match SledBackend::create(&path) {
            Err(BackendError::Corrupted { .. }) => {}
            Err(other) => panic!("damaged data file: got {other:?}"),
            Ok(backend) => {
                let txn = backend.begin_read().expect("begin_read");
                let t = txn.open_table("t").expect("open_table");
                let entries = all_entries(&t);
                assert!(entries.len() <= 2000);
                for (k, v) in entries {
                    let k = u32::from_be_bytes(k.try_into().expect("4-byte key"));
                    assert_eq!(
                        v,
                        vec![(k % 1000) as u8; 100],
                        "a recovered value is intact"
                    );
                }
            }
        }
    }
}

#[test]
fn non_durable_commits_survive_flush_and_reopen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.sled");
    {
        let options = SledOptions::new().durability(SledDurability::None);
        let backend = SledBackend::open(&path, &options).expect("open");
        assert_eq!(backend.durability(), SledDurability::None);
        write_one(&backend, "t", b"k", b"v");
        backend.flush().expect("flush");
    }
    let backend = SledBackend::create(&path).expect("reopen");
    assert_eq!(backend.durability(), SledDurability::Immediate);
    assert_eq!(read_one(&backend, "t", b"k").as_deref(), Some(&b"v"[..]));
}

#[test]
fn temporary_database_works() {
    let backend = SledBackend::temporary().expect("temporary");
    write_one(&backend, "t", b"k", b"v");
    assert_eq!(read_one(&backend, "t", b"k").as_deref(), Some(&b"v"[..]));
    backend.flush().expect("flush");
}

// -------------------------------------------------------------------------------------------
// Transactions
// -------------------------------------------------------------------------------------------

#[test]
fn a_commit_over_three_tables_is_applied_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.sled");
    {
        let backend = SledBackend::create(&path).expect("create");
        write_one(&backend, "b", b"old", b"1");
        write_one(&backend, "c", b"gone", b"1");
        let txn = backend.begin_write().expect("begin_write");
        {
            let mut a = txn.open_table("a").expect("open a");
            let mut b = txn.open_table("b").expect("open b");
            let mut c = txn.open_table("c").expect("open c");
            for i in 0u32..500 {
                a.insert(&i.to_be_bytes(), b"a").expect("insert");
            }
            b.insert(b"new", b"2").expect("insert");
            assert!(b.remove(b"old").expect("remove"));
            c.clear().expect("clear");
            c.insert(b"fresh", b"3").expect("insert");
        }
        // Nothing is visible before commit.
        assert_eq!(read_one(&backend, "a", &0u32.to_be_bytes()), None);
        assert_eq!(read_one(&backend, "b", b"old").as_deref(), Some(&b"1"[..]));
        assert_eq!(read_one(&backend, "c", b"gone").as_deref(), Some(&b"1"[..]));
        txn.commit().expect("commit");
    }
    let backend = SledBackend::create(&path).expect("reopen");
    let txn = backend.begin_read().expect("begin_read");
    assert_eq!(txn.open_table("a").expect("a").len().expect("len"), 500);
    assert_eq!(
        all_entries(&txn.open_table("b").expect("b")),
        vec![(b"new".to_vec(), b"2".to_vec())]
    );
    assert_eq!(
        all_entries(&txn.open_table("c").expect("c")),
        vec![(b"fresh".to_vec(), b"3".to_vec())]
    );
}

#[test]
fn a_dropped_write_transaction_leaves_nothing_not_even_a_tree() {
    let backend = SledBackend::temporary().expect("temporary");
    let before = tree_names(&backend);
    let txn = backend.begin_write().expect("begin_write");
    {
        let mut t = txn.open_table("never committed").expect("open_table");
        t.insert(b"k", b"v").expect("insert");
        let _empty = txn.open_table("opened only").expect("open_table");
    }
    drop(txn);
    assert_eq!(read_one(&backend, "never committed", b"k"), None);
    assert_eq!(tree_names(&backend), before, "no sled tree was created");

    // A committed transaction that opened a table without writing creates no tree either.
    let txn = backend.begin_write().expect("begin_write");
    drop(txn.open_table("opened only").expect("open_table"));
    txn.commit().expect("commit of nothing");
    assert_eq!(tree_names(&backend), before, "no sled tree was created");
}

#[test]
fn reads_do_not_create_trees() {
    let backend = SledBackend::temporary().expect("temporary");
    let before = tree_names(&backend);
    let txn = backend.begin_read().expect("begin_read");
    let t = txn.open_table("ghost").expect("open_table");
    assert_eq!(t.len().expect("len"), 0);
    assert!(t.get(b"k").expect("get").is_none());
    assert_eq!(tree_names(&backend), before);
}

#[test]
fn clear_then_insert_in_one_transaction() {
    let backend = SledBackend::temporary().expect("temporary");
    let txn = backend.begin_write().expect("begin_write");
    {
        let mut t = txn.open_table("t").expect("open_table");
        for k in [&b"a"[..], b"b", b"c", b"d"] {
            t.insert(k, b"old").expect("insert");
        }
    }
    txn.commit().expect("commit");

    let txn = backend.begin_write().expect("begin_write");
    {
        let mut t = txn.open_table("t").expect("open_table");
        t.insert(b"a", b"before clear").expect("insert");
        t.clear().expect("clear");
        t.insert(b"b", b"new").expect("insert");
        t.insert(b"e", b"new").expect("insert");
        assert!(!t.remove(b"c").expect("remove"), "c was cleared");
        assert_eq!(t.len().expect("len"), 2);
        let reverse: Vec<Vec<u8>> = t
            .range(Bound::Unbounded, Bound::Unbounded, Direction::Reverse)
            .expect("range")
            .map(|item| item.expect("item").0.as_ref().to_vec())
            .collect();
        assert_eq!(reverse, vec![b"e".to_vec(), b"b".to_vec()]);
    }
    txn.commit().expect("commit");
    let txn = backend.begin_read().expect("begin_read");
    assert_eq!(
        all_entries(&txn.open_table("t").expect("open_table")),
        vec![
            (b"b".to_vec(), b"new".to_vec()),
            (b"e".to_vec(), b"new".to_vec())
        ]
    );
}

#[test]
fn reads_are_read_committed() {
    // sled 0.34 has no snapshots: an open read transaction sees a later commit, through a
    // table handle opened before it, including a table the commit created.
    let backend = SledBackend::temporary().expect("temporary");
    write_one(&backend, "t", b"k", b"old");
    let reader = backend.begin_read().expect("begin_read");
    let t = reader.open_table("t").expect("open_table");
    let n = reader.open_table("new").expect("open_table");
    assert_eq!(t.get(b"k").expect("get").expect("present").as_ref(), b"old");
    assert!(n.is_empty().expect("is_empty"));

    let txn = backend.begin_write().expect("begin_write");
    {
        let mut w = txn.open_table("t").expect("open_table");
        w.insert(b"k", b"new").expect("insert");
        w.insert(b"k2", b"2").expect("insert");
        let mut w = txn.open_table("new").expect("open_table");
        w.insert(b"x", b"y").expect("insert");
    }
    // Uncommitted: invisible.
    assert_eq!(t.get(b"k").expect("get").expect("present").as_ref(), b"old");
    txn.commit().expect("commit");

    assert_eq!(t.get(b"k").expect("get").expect("present").as_ref(), b"new");
    assert_eq!(t.len().expect("len"), 2);
    assert_eq!(n.get(b"x").expect("get").expect("present").as_ref(), b"y");
    const { assert!(!SledBackend::CAPABILITIES.snapshot_reads) };
}

#[test]
fn writers_are_serialised() {
    let backend = SledBackend::temporary().expect("temporary");
    let first = backend.begin_write().expect("begin_write");
    {
        let mut t = first.open_table("t").expect("open_table");
        t.insert(b"k", b"first").expect("insert");
    }
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(|| {
            let second = backend.begin_write().expect("second begin_write");
            let seen = {
                let t = second.open_table("t").expect("open_table");
                t.get(b"k").expect("get").map(|g| g.as_ref().to_vec())
            };
            tx.send(seen).expect("send");
        });
        assert!(
            rx.recv_timeout(Duration::from_millis(200)).is_err(),
            "a second writer began while the first was alive"
        );
        first.commit().expect("commit");
        let seen = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the second writer begins after the first commits");
        assert_eq!(seen.as_deref(), Some(&b"first"[..]));
    });
}

#[test]
fn a_panicking_writer_does_not_poison_the_store() {
    let backend = SledBackend::temporary().expect("temporary");
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            let txn = backend.begin_write().expect("begin_write");
            let mut t = txn.open_table("t").expect("open_table");
            t.insert(b"k", b"v").expect("insert");
            panic!("writer panics with its transaction open");
        })
        .join()
    });
    assert!(result.is_err());
    assert_eq!(
        read_one(&backend, "t", b"k"),
        None,
        "the panicked write is gone"
    );
    write_one(&backend, "t", b"k", b"after");
    assert_eq!(
        read_one(&backend, "t", b"k").as_deref(),
        Some(&b"after"[..])
    );
}

#[test]
fn the_default_tree_is_a_table() {
    let backend = SledBackend::temporary().expect("temporary");
    backend.db().insert(b"raw", b"1").expect("raw insert");
    assert_eq!(
        read_one(&backend, "__sled__default", b"raw").as_deref(),
        Some(&b"1"[..])
    );
    write_one(&backend, "__sled__default", b"typed", b"2");
    assert_eq!(
        backend.db().get(b"typed").expect("raw get").as_deref(),
        Some(&b"2"[..])
    );
}

#[test]
fn raw_trees_are_tables() {
    let backend = SledBackend::temporary().expect("temporary");
    write_one(&backend, "t", b"k", b"v");
    let tree = backend.db().open_tree("t").expect("open_tree");
    assert_eq!(tree.get(b"k").expect("get").as_deref(), Some(&b"v"[..]));
    // A tree created behind the backend's back is visible as a table.
    let raw = backend.db().open_tree("raw").expect("open_tree");
    raw.insert(b"r", b"1").expect("insert");
    assert_eq!(read_one(&backend, "raw", b"r").as_deref(), Some(&b"1"[..]));
}

#[test]
fn guards_share_sled_buffers_and_are_stable() {
    let backend = SledBackend::temporary().expect("temporary");
    write_one(&backend, "t", b"k", &[7u8; 10_000]);
    let txn = backend.begin_read().expect("begin_read");
    let t = txn.open_table("t").expect("open_table");
    let one = t.get(b"k").expect("get").expect("present");
    let two = t.get(b"k").expect("get").expect("present");
    assert!(one.is_from_sled());
    assert_eq!(
        one.as_ref().as_ptr(),
        two.as_ref().as_ptr(),
        "two guards of a large value share sled's buffer (no copy)"
    );
    assert_eq!(one.as_ref(), &[7u8; 10_000][..]);

    let w = backend.begin_write().expect("begin_write");
    let mut t = w.open_table("t").expect("open_table");
    t.insert(b"buffered", b"x").expect("insert");
    let g = t.get(b"buffered").expect("get").expect("present");
    assert!(!g.is_from_sled());
    assert_eq!(g.as_ref(), b"x");
}
