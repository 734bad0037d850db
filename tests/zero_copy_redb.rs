//! Reads are zero-copy: the archived record a `Ref` derefs to lies inside the very bytes
//! redb lent from its page, at whatever offset redb put them, including addresses that
//! are not 8- (or even 2-) aligned.
mod common;
use common::*;
use netabase_store::Store;
use netabase_store::traits::model::NetabaseModelTrait;
use redb::TableDefinition;

const USERS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("User");

#[test]
fn archived_records_are_read_in_place_from_redb_pages_at_any_offset() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::<BlogDefinition, _>::redb(dir.path().join("z.redb")).unwrap();
    let n = 2_000u64;
    let txn = store.write().unwrap();
    {
        let mut tree = txn.open_tree::<User>().unwrap();
        for id in 0..n {
            // Varying lengths place values at every offset inside pages.
            let name = "x".repeat((id % 13) as usize);
            tree.put(User {
                id,
                username: name,
                email: format!("{id}@x"),
                age: (id % 90) as u8,
            })
            .unwrap();
        }
    }
    txn.commit().unwrap();

    let txn = store.read().unwrap();
    let tree = txn.open_tree::<User>().unwrap();
    let raw = txn.backend_txn().raw().open_table(USERS).unwrap();
    let mut misaligned = [0usize; 8];
    let mut key = Vec::new();
    for id in 0..n {
        let r = tree.get(UserPrimaryKey(id)).unwrap().unwrap();
        let bytes = r.as_bytes();
        let start = bytes.as_ptr() as usize;
        let end = start + bytes.len();

        // The same bytes redb hands out to a raw reader: the page, not a copy of it.
        key.clear();
        user(id, "", 0).encode_primary_key(&mut key);
        let raw_value = raw.get(key.as_slice()).unwrap().unwrap();
        assert_eq!(
            raw_value.value().as_ptr() as usize,
            start,
            "record {id} was copied"
        );

        // The archived struct and its string field point into those bytes.
        let archived: &ArchivedUser = &r;
        let at = archived as *const ArchivedUser as usize;
        assert!(
            start <= at && at + size_of::<ArchivedUser>() <= end,
            "record {id}"
        );
        let email = archived.email.as_str().as_ptr() as usize;
        assert!(
            start <= email && email <= end,
            "email of record {id} is not in the page"
        );

        assert_eq!(archived.id, id);
        assert_eq!(archived.email, format!("{id}@x"));
        assert_eq!(archived.username.len(), (id % 13) as usize);
        misaligned[start % 8] += 1;
    }
    let odd: usize = misaligned.iter().skip(1).step_by(2).sum();
    assert!(odd > 0, "no value sat at an odd address: {misaligned:?}");
    assert!(
        misaligned[4] > 0,
        "no value sat at address % 8 == 4: {misaligned:?}"
    );
}
