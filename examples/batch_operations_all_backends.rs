//! The same bulk and batch code on redb, sled and memory.
//!
//! Run with `cargo run --example batch_operations_all_backends`.

#[path = "shared/schema.rs"]
mod schema;

use netabase_store::backend::Backend;
use netabase_store::prelude::*;
use schema::*;

fn run<B: Backend>(name: &str, store: Store<BlogDefinition, B>) -> Result<(), NetabaseError> {
    let users = store.open_tree::<User>();
    users.put_many((1..=500).map(user))?;

    let mut batch = users.batch();
    for id in 501..=600 {
        batch.insert(user(id));
    }
    batch.delete(UserPrimaryKey(1));
    batch.commit()?;

    let mut clash = users.batch();
    clash.insert(user(700));
    clash.insert(User {
        id: 701,
        username: "dup".into(),
        email: "user5@example.com".into(),
    });
    let refused = clash.commit().is_err() && users.get(UserPrimaryKey(700))?.is_none();

    let txn = store.read()?;
    let tree = txn.open_tree::<User>()?;
    let page = tree.query().range(UserPrimaryKey(100)..).limit(3).page()?;
    let ids: Vec<u64> = page.items.iter().map(|u| u.id.to_native()).collect();
    assert!(refused, "{name}: a failed batch must leave nothing behind");
    assert_eq!(ids, [100, 101, 102], "{name}");
    assert!(page.next.is_some(), "{name}");
    assert!(
        tree.get(UserPrimaryKey(1))?.is_none(),
        "{name}: the batch's delete"
    );
    println!(
        "{name:>6}: {} users; failed batch left nothing: {refused}; first page from 100: {ids:?}, more: {}",
        tree.len()?,
        page.next.is_some()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    run(
        "redb",
        Store::<BlogDefinition, _>::redb(dir.path().join("b.redb"))?,
    )?;
    run(
        "sled",
        Store::<BlogDefinition, _>::sled(dir.path().join("b.sled"))?,
    )?;
    run("memory", Store::<BlogDefinition, _>::memory()?)?;
    Ok(())
}
