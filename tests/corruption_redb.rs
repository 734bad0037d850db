//! Corrupt stored bytes are a typed error, never a panic, and never lead to a half-write.
//! The garbage is written through raw redb, bypassing the typed layer, as a damaged file or
//! a foreign writer would leave it.
mod common;
use common::*;

use netabase_store::{NetabaseError, RedbBackend, Store};
use proptest::prelude::*;
use redb::{ReadableTable, ReadableTableMetadata, TableDefinition};

const USERS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("User");
const USER_INDEX: TableDefinition<&[u8], &[u8]> = TableDefinition::new("User.idx");

fn store_with_garbage(garbage: &[u8]) -> Store<BlogDefinition, RedbBackend> {
    let store =
        Store::<BlogDefinition, _>::from_backend(RedbBackend::in_memory().unwrap()).unwrap();
    store.open_tree::<User>().put(user(1, "a@x", 5)).unwrap();
    let db = store.backend().database().unwrap();
    let w = db.begin_write().unwrap();
    {
        let mut t = w.open_table(USERS).unwrap();
        t.insert(netabase_store::key::key_bytes(&1u64).as_slice(), garbage)
            .unwrap();
    }
    w.commit().unwrap();
    store
}

fn is_corrupt(e: &NetabaseError) -> bool {
    matches!(e, NetabaseError::Corrupt { table: "User", key, .. } if key == &1u64.to_be_bytes())
}

#[test]
fn garbage_records_are_corrupt_errors_on_every_read_path() {
    for garbage in [&b""[..], &[0xff; 7], &[0u8; 3], &[0xab; 64]] {
        let store = store_with_garbage(garbage);
        let txn = store.read().unwrap();
        let tree = txn.open_tree::<User>().unwrap();
        let e = tree.get(UserPrimaryKey(1)).unwrap_err();
        assert!(is_corrupt(&e), "{e}");
        assert!(e.to_string().contains("corrupt record in table `User`"));
        let e = tree.iter().unwrap().next().unwrap().unwrap_err();
        assert!(is_corrupt(&e), "{e}");
        let e = tree
            .get_by_secondary_key(email_key("a@x"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err();
        assert!(is_corrupt(&e), "{e}");
        assert!(is_corrupt(
            &store
                .open_tree::<User>()
                .get(UserPrimaryKey(1))
                .unwrap_err()
        ));
        // Checks that do not read the record still work.
        assert!(tree.contains_key(UserPrimaryKey(1)).unwrap());
        assert_eq!(tree.count_by_secondary_key(email_key("a@x")).unwrap(), 1);
    }
}

#[test]
fn writes_over_a_corrupt_record_fail_and_write_nothing() {
    let store = store_with_garbage(&[0xff; 9]);
    let index_before: Vec<Vec<u8>> = {
        let r = store.backend().database().unwrap().begin_write().unwrap();
        let t = r.open_table(USER_INDEX).unwrap();
        t.iter()
            .unwrap()
            .map(|e| e.unwrap().0.value().to_vec())
            .collect()
    };
    let txn = store.write().unwrap();
    {
        let mut tree = txn.open_tree::<User>().unwrap();
        // Its old index entries cannot be found, so the put must not go ahead.
        assert!(is_corrupt(&tree.put(user(1, "b@x", 6)).unwrap_err()));
        assert!(is_corrupt(&tree.remove(UserPrimaryKey(1)).unwrap_err()));
        assert!(is_corrupt(&tree.delete(UserPrimaryKey(1)).unwrap_err()));
        // Other records are unaffected, and the transaction is not poisoned.
        tree.put(user(2, "c@x", 6)).unwrap();
    }
    txn.commit().unwrap();
    let db = store.backend().database().unwrap();
    let r = db.begin_write().unwrap();
    let users = r.open_table(USERS).unwrap();
    assert_eq!(
        users
            .get(1u64.to_be_bytes().as_slice())
            .unwrap()
            .unwrap()
            .value(),
        &[0xff; 9]
    );
    let index = r.open_table(USER_INDEX).unwrap();
    assert_eq!(
        index.len().unwrap() as usize,
        index_before.len() + 2,
        "only user 2's entries were added"
    );
    for k in index_before {
        assert!(index.get(k.as_slice()).unwrap().is_some());
    }
}

#[test]
fn an_index_entry_without_its_record_is_reported() {
    let store =
        Store::<BlogDefinition, _>::from_backend(RedbBackend::in_memory().unwrap()).unwrap();
    store.open_tree::<User>().put(user(1, "a@x", 5)).unwrap();
    let db = store.backend().database().unwrap();
    let w = db.begin_write().unwrap();
    {
        let mut t = w.open_table(USERS).unwrap();
        t.remove(1u64.to_be_bytes().as_slice()).unwrap();
    }
    w.commit().unwrap();
    let txn = store.read().unwrap();
    let tree = txn.open_tree::<User>().unwrap();
    let e = tree
        .get_by_secondary_key(email_key("a@x"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(
            e,
            NetabaseError::IndexInconsistent {
                table: "User.idx",
                ..
            }
        ),
        "{e}"
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_a_read(garbage in prop::collection::vec(any::<u8>(), 0..200)) {
        let store = store_with_garbage(&garbage);
        let txn = store.read().unwrap();
        let tree = txn.open_tree::<User>().unwrap();
        match tree.get(UserPrimaryKey(1)) {
            Ok(Some(r)) => { let _ = r.deserialize().unwrap(); }
            Ok(None) => prop_assert!(false, "record vanished"),
            Err(e) => prop_assert!(is_corrupt(&e)),
        }
    }
}
