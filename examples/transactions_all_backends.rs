//! The transaction rules hold on every backend: commit publishes all, drop rolls back all,
//! a unique clash writes nothing, and `put_many` is all or nothing.
//!
//! Run with `cargo run --example transactions_all_backends --features sled`.

#[path = "shared/schema.rs"]
mod schema;

use netabase_store::backend::Backend;
use netabase_store::prelude::*;
use schema::*;

fn rules<B: Backend>(name: &str, store: &Store<BlogDefinition, B>) -> Result<(), NetabaseError> {
    let users = store.open_tree::<User>();
    let txn = store.write()?;
    txn.open_tree::<User>()?.put_many([user(1), user(2)])?;
    txn.commit()?;
    assert_eq!(users.len()?, 2, "{name}: commit publishes");

    {
        let txn = store.write()?;
        txn.open_tree::<User>()?.clear()?;
    }
    assert_eq!(users.len()?, 2, "{name}: drop rolls back");

    let clash = User { id: 3, ..user(1) };
    assert!(
        matches!(
            users.put(&clash),
            Err(NetabaseError::UniqueViolation { .. })
        ),
        "{name}"
    );
    assert!(!users.contains_key(3)?, "{name}: a clash writes nothing");

    assert!(users.put_many([user(4), clash]).is_err(), "{name}");
    assert!(
        !users.contains_key(4)?,
        "{name}: put_many is all or nothing"
    );
    println!("transactions_all_backends: {name}: ok");
    Ok(())
}

fn main() -> Result<(), NetabaseError> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    rules(
        "redb",
        &Store::<BlogDefinition, _>::redb(dir.path().join("t.redb"))?,
    )?;
    rules(
        "sled",
        &Store::<BlogDefinition, _>::sled(dir.path().join("t.sled"))?,
    )?;
    rules("memory", &Store::<BlogDefinition, _>::memory()?)?;
    Ok(())
}
