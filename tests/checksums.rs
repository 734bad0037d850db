//! End-to-end checksums (`Store<D, Checksummed<B>>`): damage that still passes archive
//! validation (a changed integer, a record copied under another key, a changed index entry) is
//! a typed error on every read path, on redb, sled and memory; integrity checks count it and
//! repair purges it; a store is never read with the other setting than it was written with.
mod common;
#[macro_use]
mod suite;
use common::*;

use netabase_store::backend::{Backend, BackendError, WriteTable, WriteTransaction};
use netabase_store::key::key_bytes;
use netabase_store::{
    BackendStore, Checksummed, FileConfig, MemoryBackend, NetabaseError, RedbBackend, RedbStore,
    RepairOptions, SledBackend, Store,
};

type Checked<B> = Store<BlogDefinition, Checksummed<B>>;

/// Rewrites the stored bytes of `key` in `table` with `change`, below the checksum layer.
fn tamper<B: Backend>(store: &Checked<B>, table: &str, key: &[u8], change: impl Fn(&mut Vec<u8>)) {
    let inner = store.backend().inner();
    let txn = inner.begin_write().unwrap();
    {
        let mut t = txn.open_table(table).unwrap();
        let mut bytes = {
            use netabase_store::backend::ReadTable;
            t.get(key).unwrap().unwrap().as_ref().to_vec()
        };
        change(&mut bytes);
        t.insert(key, &bytes).unwrap();
    }
    txn.commit().unwrap();
}

fn is_mismatch(e: &NetabaseError) -> bool {
    matches!(
        e,
        NetabaseError::Backend(BackendError::ChecksumMismatch { .. })
    )
}

fn run<B: Backend>(store: Checked<B>) {
    let users = store.open_tree::<User>();
    users
        .put_many((1..=4).map(|i| user(i, &format!("u{i}@x"), 30 + i as u8)))
        .unwrap();
    // Transparent while nothing is damaged: the typed API reads zero-copy as always.
    {
        let txn = store.read().unwrap();
        let tree = txn.open_tree::<User>().unwrap();
        assert_eq!(tree.get(2).unwrap().unwrap().email.as_str(), "u2@x");
        assert_eq!(tree.get_by(User::AGE, 33).unwrap().count(), 1);
        assert_eq!(tree.iter().unwrap().count(), 4);
    }
    assert!(store.check_integrity().unwrap().is_clean());

    // User 1: flip the age byte (the archive still validates: any u8 is an age).
    tamper(&store, "User", &key_bytes(&1u64), |bytes| {
        let at = bytes.len() - 4 - 1 - 8;
        bytes[at] ^= 0x01;
    });
    // User 2's record copied under user 3's key: a valid archive in the wrong place.
    let two = {
        let txn = store.backend().inner().begin_read().unwrap();
        use netabase_store::backend::{ReadTable, ReadTransaction};
        let t = txn.open_table("User").unwrap();
        t.get(&key_bytes(&2u64)).unwrap().unwrap().as_ref().to_vec()
    };
    {
        let txn = store.backend().inner().begin_write().unwrap();
        txn.open_table("User")
            .unwrap()
            .insert(&key_bytes(&3u64), &two)
            .unwrap();
        txn.commit().unwrap();
    }
    // Every read path reports it, none returns the changed or moved record.
    let e = users.get(1).unwrap_err();
    assert!(is_mismatch(&e), "{e}");
    assert!(
        e.to_string().contains("checksum mismatch in table `User`"),
        "{e}"
    );
    assert!(is_mismatch(&users.get(3).unwrap_err()));
    assert!(users.iter().any(|r| r.is_err_and(|e| is_mismatch(&e))));
    assert!(users.get_by(User::AGE, 31).is_err());
    assert!(users.get_by(User::AGE, 33).is_err());
    assert_eq!(
        users.get(2).unwrap().unwrap(),
        user(2, "u2@x", 32),
        "untouched"
    );

    let report = store.check_integrity().unwrap();
    let model = report.model("User").unwrap();
    assert_eq!(model.undecodable, vec![key_bytes(&1u64), key_bytes(&3u64)]);
    assert_eq!(model.dangling_entries, 4, "{model}");
    let repaired = store
        .repair(RepairOptions::new().purge_undecodable(true))
        .unwrap();
    assert_eq!(repaired.purged(), 2);
    assert!(store.check_integrity().unwrap().is_clean());
    assert_eq!(users.len().unwrap(), 2);

    // A changed index entry: the lookup fails instead of answering from it.
    let mut entry = vec![1];
    entry.extend_from_slice(&key_bytes(&34u8));
    entry.extend_from_slice(&key_bytes(&4u64));
    tamper(&store, "User.idx", &entry, |bytes| bytes[0] ^= 0x80);
    assert!(
        users.count_by(User::AGE, 34).is_err(),
        "every entry read is verified"
    );
    assert!(users.get_by(User::AGE, 34).is_err());
    let report = store.check_integrity().unwrap();
    assert_eq!(report.model("User").unwrap().dangling_entries, 1);
    assert_eq!(report.model("User").unwrap().missing_entries, 1);
    store.repair(RepairOptions::new()).unwrap();
    assert!(store.check_integrity().unwrap().is_clean());
    assert_eq!(
        users.get_by(User::AGE, 34).unwrap(),
        vec![user(4, "u4@x", 34)]
    );
}

#[test]
fn checksums_on_redb() {
    run(Checked::<RedbBackend>::temp().unwrap());
}

#[test]
fn checksums_on_memory() {
    run(Checked::from_backend(Checksummed::new(MemoryBackend::new())).unwrap());
}

#[test]
fn checksums_on_sled() {
    run(Checked::<SledBackend>::temp().unwrap());
}

#[test]
fn a_store_is_only_opened_with_the_setting_it_was_written_with() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.redb");
    let checked = dir.path().join("checked.redb");
    RedbStore::<BlogDefinition>::open(FileConfig::new(&plain)).unwrap();
    Checked::<RedbBackend>::open(FileConfig::new(&checked)).unwrap();

    let e = Checked::<RedbBackend>::open(FileConfig::new(&plain)).unwrap_err();
    assert!(
        matches!(&e, NetabaseError::SchemaMismatch { details, .. } if details.contains("without checksums")),
        "{e}"
    );
    let e = RedbStore::<BlogDefinition>::open(FileConfig::new(&checked)).unwrap_err();
    assert!(
        matches!(&e, NetabaseError::SchemaMismatch { details, .. } if details.contains("through `Checksummed`")),
        "{e}"
    );
    // Each opens again the way it was written.
    Checked::<RedbBackend>::open(FileConfig::new(&checked)).unwrap();
    RedbStore::<BlogDefinition>::open(FileConfig::new(&plain)).unwrap();
}

// The typed suite passes unchanged on a checksummed backend.
typed_suite!(let s = netabase_store::Store::<crate::common::BlogDefinition, _>::from_backend(
    netabase_store::Checksummed::new(netabase_store::MemoryBackend::new())).unwrap(); s);
