//! The conformance kit of `netabase_backend_api`, run against the redb backend (on a file, and
//! in memory), plus tests of [`RedbOptions`].

use std::path::PathBuf;

use netabase_backend_api::conformance::Harness;
use netabase_backend_api::{
    Backend, BackendError, ReadTable, ReadTransaction, WriteTable, WriteTransaction,
};
use netabase_backend_redb::{RedbBackend, RedbDurability, RedbOptions};

/// A redb database in a temporary file, so `reopen` really closes and reopens the file.
struct RedbHarness {
    _dir: tempfile::TempDir,
    path: PathBuf,
    backend: Option<RedbBackend>,
}

impl Harness for RedbHarness {
    type Backend = RedbBackend;

    fn new() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let path = dir.path().join("conformance.redb");
        let backend = RedbBackend::create(&path).expect("create the redb database");
        RedbHarness {
            _dir: dir,
            path,
            backend: Some(backend),
        }
    }

    fn backend(&self) -> &RedbBackend {
        self.backend.as_ref().expect("the backend is open")
    }

    fn reopen(&mut self) {
        drop(self.backend.take());
        self.backend = Some(RedbBackend::create(&self.path).expect("reopen the redb database"));
    }
}

/// The same, with non-durable commits: `flush` must make them durable, and reopening (a clean
/// close) must keep them.
struct RedbNonDurableHarness(RedbHarness);

impl Harness for RedbNonDurableHarness {
    type Backend = RedbBackend;

    fn new() -> Self {
        let mut inner = RedbHarness::new();
        inner.backend = inner
            .backend
            .take()
            .map(|b| b.with_durability(RedbDurability::None));
        RedbNonDurableHarness(inner)
    }

    fn backend(&self) -> &RedbBackend {
        self.0.backend()
    }

    fn reopen(&mut self) {
        self.0.reopen();
        self.0.backend = self
            .0
            .backend
            .take()
            .map(|b| b.with_durability(RedbDurability::None));
    }
}

/// redb's in-memory storage. Its storage is the handle itself, so "reopening" keeps it.
struct RedbMemoryHarness(RedbBackend);

impl Harness for RedbMemoryHarness {
    type Backend = RedbBackend;

    fn new() -> Self {
        RedbMemoryHarness(RedbBackend::in_memory().expect("in-memory redb database"))
    }

    fn backend(&self) -> &RedbBackend {
        &self.0
    }

    fn reopen(&mut self) {}
}

netabase_backend_api::conformance_tests!(RedbHarness);
netabase_backend_api::conformance_tests!(non_durable: RedbNonDurableHarness);
netabase_backend_api::conformance_tests!(in_memory: RedbMemoryHarness);
// The async conformance kit, through the sync-to-async adapter.
netabase_backend_api::async_conformance_tests!(
    block_on = futures_executor::block_on;
    async_kit: netabase_backend_api::async_conformance::Adapted<RedbHarness>
);

// -------------------------------------------------------------------------------------------
// RedbOptions
// -------------------------------------------------------------------------------------------

fn write_one(backend: &RedbBackend, key: &[u8], value: &[u8]) {
    let txn = backend.begin_write().expect("begin_write");
    {
        let mut t = txn.open_table("t").expect("open_table");
        t.insert(key, value).expect("insert");
    }
    txn.commit().expect("commit");
}

fn read_one(backend: &RedbBackend, key: &[u8]) -> Option<Vec<u8>> {
    let txn = backend.begin_read().expect("begin_read");
    let t = txn.open_table("t").expect("open_table");
    t.get(key).expect("get").map(|g| g.as_ref().to_vec())
}

#[test]
fn read_only_refuses_writes_and_reads_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.redb");
    {
        let backend = RedbBackend::create(&path).expect("create");
        write_one(&backend, b"k", b"v");
    }
    let backend =
        RedbBackend::open(&path, &RedbOptions::new().read_only(true)).expect("open read-only");
    assert!(backend.is_read_only());
    assert!(backend.database().is_none());
    assert!(backend.read_only_database().is_some());
    assert!(matches!(backend.begin_write(), Err(BackendError::ReadOnly)));
    assert_eq!(read_one(&backend, b"k").as_deref(), Some(&b"v"[..]));
    let txn = backend.begin_read().expect("begin_read");
    let missing = txn
        .open_table("missing")
        .expect("missing table reads as empty");
    assert!(missing.is_empty().expect("is_empty"));
    backend
        .flush()
        .expect("flush of a read-only database is a no-op");
}

#[test]
fn read_only_on_a_missing_file_is_invalid_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("missing.redb");
    match RedbBackend::open(&path, &RedbOptions::new().read_only(true)) {
        Err(BackendError::InvalidConfig { message }) => {
            assert!(
                message.contains("missing.redb"),
                "message names the path: {message}"
            )
        }
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    assert!(!path.exists(), "a read-only open must not create the file");
}

#[test]
fn truncate_wipes_existing_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.redb");
    {
        let backend = RedbBackend::create(&path).expect("create");
        write_one(&backend, b"k", b"v");
    }
    {
        let backend = RedbBackend::open(&path, &RedbOptions::new()).expect("reopen");
        assert_eq!(
            read_one(&backend, b"k").as_deref(),
            Some(&b"v"[..]),
            "plain reopen keeps"
        );
    }
    let backend = RedbBackend::open(&path, &RedbOptions::new().truncate(true)).expect("truncate");
    assert_eq!(
        read_one(&backend, b"k"),
        None,
        "truncate must wipe the data"
    );
    write_one(&backend, b"new", b"1");
    assert_eq!(read_one(&backend, b"new").as_deref(), Some(&b"1"[..]));
}

#[test]
fn truncate_on_a_missing_file_creates_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fresh.redb");
    let backend = RedbBackend::open(&path, &RedbOptions::new().truncate(true)).expect("open");
    write_one(&backend, b"k", b"v");
    assert!(path.exists());
}

#[test]
fn truncate_with_read_only_is_invalid_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.redb");
    drop(RedbBackend::create(&path).expect("create"));
    let options = RedbOptions::new().truncate(true).read_only(true);
    assert!(matches!(
        RedbBackend::open(&path, &options),
        Err(BackendError::InvalidConfig { .. })
    ));
    assert!(path.exists(), "a refused truncate must not delete the file");
}

#[test]
fn create_if_missing_false_on_a_missing_file_is_invalid_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("absent.redb");
    match RedbBackend::open(&path, &RedbOptions::new().create_if_missing(false)) {
        Err(BackendError::InvalidConfig { message }) => {
            assert!(
                message.contains("absent.redb"),
                "message names the path: {message}"
            )
        }
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    assert!(!path.exists(), "the file must not have been created");
}

#[test]
fn create_if_missing_false_opens_an_existing_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.redb");
    {
        let backend = RedbBackend::create(&path).expect("create");
        write_one(&backend, b"k", b"v");
    }
    let options = RedbOptions::new()
        .create_if_missing(false)
        .cache_size_bytes(1 << 20);
    let backend = RedbBackend::open(&path, &options).expect("open existing");
    assert_eq!(read_one(&backend, b"k").as_deref(), Some(&b"v"[..]));
}

#[test]
fn a_garbage_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Deterministic pseudo-random bytes (xorshift), at a few sizes.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for (i, size) in [1usize, 7, 512, 4096, 70_000].into_iter().enumerate() {
        let bytes: Vec<u8> = (0..size)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let path = dir.path().join(format!("garbage{i}.redb"));
        std::fs::write(&path, &bytes).expect("write garbage");
        for options in [
            RedbOptions::new(),
            RedbOptions::new().create_if_missing(false),
            RedbOptions::new().read_only(true),
        ] {
            match RedbBackend::open(&path, &options) {
                Err(BackendError::Corrupted { message }) => {
                    assert!(message.contains(&format!("garbage{i}.redb")), "{message}")
                }
                Err(other) => {
                    panic!("garbage file ({size} bytes): expected Corrupted, got {other:?}")
                }
                Ok(_) => {
                    panic!("a garbage file of {size} bytes opened as a database ({options:?})")
                }
            }
        }
        assert_eq!(
            std::fs::read(&path).expect("read back"),
            bytes,
            "a failed open must not modify the file"
        );
    }
}

#[test]
fn a_second_open_of_the_same_file_is_already_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.redb");
    let first = RedbBackend::create(&path).expect("create");
    match RedbBackend::create(&path) {
        Err(BackendError::AlreadyOpen) => {}
        other => panic!("expected AlreadyOpen, got {other:?}"),
    }
    drop(first);
    RedbBackend::create(&path).expect("open after the first handle is dropped");
}

#[test]
fn non_durable_commits_survive_flush_and_reopen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.redb");
    {
        let options = RedbOptions::new().durability(RedbDurability::None);
        let backend = RedbBackend::open(&path, &options).expect("open");
        assert_eq!(backend.durability(), RedbDurability::None);
        write_one(&backend, b"k", b"v");
        backend.flush().expect("flush");
    }
    let backend = RedbBackend::create(&path).expect("reopen");
    assert_eq!(read_one(&backend, b"k").as_deref(), Some(&b"v"[..]));
}

#[test]
fn raw_database_access_sees_the_same_tables() {
    let backend = RedbBackend::in_memory().expect("in memory");
    write_one(&backend, b"k", b"v");
    let db = backend.database().expect("read-write database");
    let def: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("t");
    let txn = redb::ReadableDatabase::begin_read(db).expect("begin_read");
    let table = txn.open_table(def).expect("open_table");
    let value = table.get(&b"k"[..]).expect("get").expect("present");
    assert_eq!(value.value(), b"v");
}

#[test]
fn guards_are_zero_copy_and_stable() {
    let backend = RedbBackend::in_memory().expect("in memory");
    write_one(&backend, b"k", &[7u8; 10_000]);
    let txn = backend.begin_read().expect("begin_read");
    let t = txn.open_table("t").expect("open_table");
    let guard = t.get(b"k").expect("get").expect("present");
    let first = guard.as_ref().as_ptr();
    assert_eq!(
        guard.as_ref().as_ptr(),
        first,
        "the guard lends the same bytes every time"
    );
    assert_eq!(guard.as_ref(), &[7u8; 10_000][..]);
}

#[test]
fn damaged_pages_fail_the_integrity_check_on_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.redb");
    {
        let backend = RedbBackend::create(&path).expect("create");
        let txn = backend.begin_write().expect("begin_write");
        {
            let mut t = txn.open_table("t").expect("open_table");
            for i in 0u32..2000 {
                t.insert(&i.to_be_bytes(), &[i as u8; 100]).expect("insert");
            }
        }
        txn.commit().expect("commit");
    }
    let mut bytes = std::fs::read(&path).expect("read file");
    let len = bytes.len();
    // Damage the data pages, leaving the header (first page) intact.
    for b in &mut bytes[len / 4..len / 2] {
        *b ^= 0x5A;
    }
    std::fs::write(&path, &bytes).expect("write damaged file");
    for options in [
        RedbOptions::new().check_integrity_on_open(true),
        RedbOptions::new(),
    ] {
        // Without the integrity check, redb itself panics on this file; the backend turns that
        // into an error too.
        match RedbBackend::open(&path, &options) {
            Err(BackendError::Corrupted { .. }) => {}
            Err(other) => panic!("expected Corrupted, got {other:?}"),
            Ok(_) => panic!("a damaged file opened ({options:?})"),
        }
    }
}

#[test]
fn truncate_never_deletes_a_database_that_is_open_elsewhere() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.redb");
    let first = RedbBackend::create(&path).expect("create");
    write_one(&first, b"k", b"v");
    match RedbBackend::open(&path, &RedbOptions::new().truncate(true)) {
        Err(BackendError::AlreadyOpen) => {}
        other => panic!("expected AlreadyOpen, got {other:?}"),
    }
    assert_eq!(read_one(&first, b"k").as_deref(), Some(&b"v"[..]));
    write_one(&first, b"k2", b"v2");
    drop(first);
    let reopened = RedbBackend::create(&path).expect("reopen");
    assert_eq!(read_one(&reopened, b"k2").as_deref(), Some(&b"v2"[..]));
}

#[test]
fn truncate_replaces_a_garbage_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("garbage.redb");
    std::fs::write(&path, [0xAB; 5000]).expect("write garbage");
    let backend = RedbBackend::open(&path, &RedbOptions::new().truncate(true)).expect("truncate");
    assert_eq!(read_one(&backend, b"k"), None);
    write_one(&backend, b"k", b"v");
    assert_eq!(read_one(&backend, b"k").as_deref(), Some(&b"v"[..]));
}
