//! Committed data that sled lost is `Corrupted` at open, not an empty (or older) store: the
//! generation sled recovers is checked against the manifest written after each durable commit,
//! and, with `check_integrity_on_open`, every table's entry count against the committed count.

use std::path::Path;

use netabase_backend_api::{
    Backend, BackendError, ReadTable, ReadTransaction, WriteTable, WriteTransaction,
};
use netabase_backend_sled::{SledBackend, SledDurability, SledOptions};

fn commit_n(backend: &SledBackend, table: &str, from: u32, n: u32) {
    for i in from..from + n {
        let txn = backend.begin_write().unwrap();
        {
            let mut t = txn.open_table(table).unwrap();
            t.insert(&i.to_be_bytes(), b"value").unwrap();
        }
        txn.commit().unwrap();
    }
}

fn len(backend: &SledBackend, table: &str) -> u64 {
    let txn = backend.begin_read().unwrap();
    txn.open_table(table).unwrap().len().unwrap()
}

fn assert_corrupted(result: Result<SledBackend, BackendError>, what: &str) {
    match result {
        Err(BackendError::Corrupted { message }) => {
            assert!(!message.is_empty());
        }
        Err(e) => panic!("{what}: expected Corrupted, got {e:?}"),
        Ok(b) => panic!(
            "{what}: opened without error, holding {} entries",
            len(&b, "t")
        ),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// Replaces every sled file of `dir` by those of `from`, keeping `dir`'s manifest.
fn restore_sled_files(dir: &Path, from: &Path) {
    let manifest = std::fs::read(dir.join("netabase.manifest")).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
    copy_dir(from, dir);
    std::fs::write(dir.join("netabase.manifest"), manifest).unwrap();
}

#[test]
fn a_reopened_store_keeps_its_data_and_passes_both_checks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    commit_n(&SledBackend::create(&path).unwrap(), "t", 0, 20);
    let checked = SledOptions::new().check_integrity_on_open(true);
    let backend = SledBackend::open(&path, &checked).unwrap();
    assert_eq!(len(&backend, "t"), 20);
    // Overwrites and removes keep the counts right.
    commit_n(&backend, "t", 10, 20);
    let txn = backend.begin_write().unwrap();
    {
        let mut t = txn.open_table("t").unwrap();
        assert!(t.remove(&3u32.to_be_bytes()).unwrap());
        t.clear().unwrap();
        t.insert(b"only", b"1").unwrap();
    }
    txn.commit().unwrap();
    drop(backend);
    let backend = SledBackend::open(&path, &checked).unwrap();
    assert_eq!(len(&backend, "t"), 1);
}

#[test]
fn an_emptied_data_file_is_corrupted_not_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    commit_n(&SledBackend::create(&path).unwrap(), "t", 0, 50);
    // Truncate sled's data file: sled itself opens it as an empty database.
    std::fs::write(path.join("db"), b"").unwrap();
    for entry in std::fs::read_dir(&path).unwrap() {
        let name = entry.unwrap().file_name();
        if name.to_string_lossy().starts_with("snap.") {
            std::fs::remove_file(path.join(name)).unwrap();
        }
    }
    assert_corrupted(SledBackend::create(&path), "truncated data file");
}

#[test]
fn an_older_copy_of_the_data_is_corrupted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let old = dir.path().join("old");
    {
        let backend = SledBackend::create(&path).unwrap();
        commit_n(&backend, "t", 0, 10);
    }
    copy_dir(&path, &old);
    commit_n(&SledBackend::create(&path).unwrap(), "t", 10, 10);
    restore_sled_files(&path, &old);
    assert_corrupted(SledBackend::create(&path), "an older copy of sled's files");
}

#[test]
fn entries_lost_inside_sled_are_caught_by_the_count_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let backend = SledBackend::create(&path).unwrap();
        commit_n(&backend, "t", 0, 10);
        // Damage that keeps the generation: an entry vanishes past the backend.
        let tree = backend.db().open_tree("t").unwrap();
        tree.remove(5u32.to_be_bytes()).unwrap();
        backend.db().flush().unwrap();
    }
    // The generation check alone cannot see it...
    let backend = SledBackend::create(&path).unwrap();
    assert_eq!(len(&backend, "t"), 9);
    drop(backend);
    // ...the count check does.
    assert_corrupted(
        SledBackend::open(&path, &SledOptions::new().check_integrity_on_open(true)),
        "an entry removed inside sled",
    );
}

#[test]
fn a_damaged_manifest_is_corrupted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    commit_n(&SledBackend::create(&path).unwrap(), "t", 0, 3);
    let manifest = path.join("netabase.manifest");
    let mut bytes = std::fs::read(&manifest).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    std::fs::write(&manifest, bytes).unwrap();
    assert_corrupted(SledBackend::create(&path), "damaged manifest");
}

#[test]
fn commits_that_were_never_flushed_may_be_lost_without_an_error() {
    // With `SledDurability::None` a crash may lose the commits since the last flush: that is
    // the documented contract, not damage. The manifest only records flushed generations.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let options = SledOptions::new().durability(SledDurability::None);
        let backend = SledBackend::open(&path, &options).unwrap();
        commit_n(&backend, "t", 0, 5);
        backend.flush().unwrap();
        commit_n(&backend, "t", 5, 5);
    }
    let backend = SledBackend::open(&path, &SledOptions::new().check_integrity_on_open(true))
        .expect("the flushed state, at least, is there");
    assert!(len(&backend, "t") >= 5);
}

#[test]
fn a_store_without_a_record_starts_one_and_read_only_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        // Written by plain sled (or an earlier release): no generation, no manifest.
        let db = sled::open(&path).unwrap();
        let tree = db.open_tree("t").unwrap();
        tree.insert(b"a", b"1").unwrap();
        db.flush().unwrap();
    }
    let read_only = SledOptions::new().read_only(true);
    let backend = SledBackend::open(&path, &read_only).unwrap();
    assert_eq!(len(&backend, "t"), 1);
    drop(backend);
    assert!(!path.join("netabase.manifest").exists());
    // A writable open starts the record; from then on loss is detected.
    let backend = SledBackend::create(&path).unwrap();
    commit_n(&backend, "t", 0, 2);
    drop(backend);
    assert!(path.join("netabase.manifest").exists());
    let backend = SledBackend::open(&path, &SledOptions::new().check_integrity_on_open(true));
    assert_eq!(len(&backend.unwrap(), "t"), 3);
}

#[test]
fn the_generation_record_is_not_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let backend = SledBackend::create(dir.path().join("db")).unwrap();
    let txn = backend.begin_read().unwrap();
    assert!(matches!(
        txn.open_table("__netabase_sled_generation"),
        Err(BackendError::InvalidConfig { .. })
    ));
}

#[test]
fn non_durable_commits_keep_the_record_exact_after_a_crash_image() {
    // Non-durable commits mark the record dirty instead of writing it; a crash image taken
    // while it is dirty (sled's own flush ran, the record's catch-up did not) opens without a
    // false alarm, even with the count check, and holds every commit sled wrote.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let image = dir.path().join("image");
    let options = SledOptions::new().durability(SledDurability::None);
    {
        let backend = SledBackend::open(&path, &options).unwrap();
        commit_n(&backend, "t", 0, 5);
        backend.flush().unwrap();
        commit_n(&backend, "t", 5, 5);
        // sled's data is on disk, the generation record still says 5 commits (and dirty).
        backend.db().flush().unwrap();
        copy_dir(&path, &image);
    }
    let checked = SledOptions::new().check_integrity_on_open(true);
    let backend = SledBackend::open(&image, &checked).expect("no false alarm");
    assert_eq!(len(&backend, "t"), 10);
    commit_n(&backend, "t", 10, 1);
    drop(backend);
    let backend = SledBackend::open(&image, &checked).expect("the record was rewritten");
    assert_eq!(len(&backend, "t"), 11);
    drop(backend);
    // And the clean close of the original brought its record up to date.
    let backend = SledBackend::open(&path, &checked).unwrap();
    assert_eq!(len(&backend, "t"), 10);
}

#[test]
fn non_durable_stores_still_refuse_an_older_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let old = dir.path().join("old");
    let options = SledOptions::new().durability(SledDurability::None);
    {
        let backend = SledBackend::open(&path, &options).unwrap();
        commit_n(&backend, "t", 0, 10);
    }
    copy_dir(&path, &old);
    {
        let backend = SledBackend::open(&path, &options).unwrap();
        commit_n(&backend, "t", 10, 10);
        backend.flush().unwrap();
    }
    restore_sled_files(&path, &old);
    assert_corrupted(SledBackend::create(&path), "an older copy of sled's files");
}
