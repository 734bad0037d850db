//! The basic store, as in netabase_store 0.0.x: open, put, get, update, secondary lookup,
//! iterate, remove, all through the auto-commit tree, on an on-disk redb file.
//!
//! Run with `cargo run --example basic_store`.

#[path = "shared/schema.rs"]
mod schema;

use netabase_store::prelude::*;
use schema::*;

fn main() -> Result<(), NetabaseError> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = NetabaseStore::<BlogDefinition, _>::redb(dir.path().join("basic.redb"))?;
    let users = store.open_tree::<User>();

    users.put(user(1))?;
    users.put(user(2))?;
    assert_eq!(users.len()?, 2);
    assert_eq!(users.get(1)?, Some(user(1)));

    // Update: a put with the same primary key replaces the record and moves its index
    // entries.
    users.put(User {
        email: "new@example.com".into(),
        ..user(1)
    })?;
    assert!(users.get_by(User::EMAIL, "user1@example.com")?.is_empty());
    assert_eq!(users.get_by(User::EMAIL, "new@example.com")?[0].id, 1);

    // Iterate in primary-key order.
    let ids: Vec<u64> = users
        .iter()
        .map(|r| r.map(|(_, u)| u.id))
        .collect::<Result<_, _>>()?;
    assert_eq!(ids, [1, 2]);

    // Remove returns the record; the index forgets it.
    assert_eq!(users.remove(2)?, Some(user(2)));
    assert!(users.get_by(User::EMAIL, "user2@example.com")?.is_empty());
    assert_eq!(users.len()?, 1);
    drop(store);

    // Everything is on disk: reopen and read it back.
    let store = NetabaseStore::<BlogDefinition, _>::redb(dir.path().join("basic.redb"))?;
    assert_eq!(
        store.open_tree::<User>().get(1)?.map(|u| u.email),
        Some("new@example.com".into())
    );
    println!("basic_store: put, get, update, secondary lookup, iterate, remove, reopen: ok");
    Ok(())
}
