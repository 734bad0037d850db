//! Bulk and batch operations: `put_many`, `get_many`, `get_many_by_secondary_keys`,
//! `remove_many`, and atomic batches (all or nothing).
//!
//! Run with `cargo run --example batch_operations`.

#[path = "shared/schema.rs"]
mod schema;

use netabase_store::prelude::*;
use schema::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = NetabaseStore::<BlogDefinition, _>::redb(dir.path().join("batch.redb"))?;
    let users = store.open_tree::<User>();

    // put_many: one transaction for all of them.
    users.put_many((1..=1000).map(user))?;
    assert_eq!(users.len()?, 1000);
    println!("put_many: {} users in one transaction", users.len()?);

    // get_many: one read transaction, results in order.
    let some = users.get_many([UserPrimaryKey(7), UserPrimaryKey(5000), UserPrimaryKey(42)])?;
    println!(
        "get_many(7, 5000, 42) -> {:?}",
        some.iter()
            .map(|u| u.as_ref().map(|u| u.id))
            .collect::<Vec<_>>()
    );

    // get_many_by_secondary_keys: one result list per key.
    let by_email =
        |id: u64| UserSecondaryKeys::Email(UserEmailSecondaryKey(format!("user{id}@example.com")));
    let lists = users.get_many_by_secondary_keys([by_email(3), by_email(4), by_email(9999)])?;
    println!(
        "get_many_by_secondary_keys -> sizes {:?}",
        lists.iter().map(Vec::len).collect::<Vec<_>>()
    );

    // A batch: applied atomically at commit.
    let mut batch = users.batch();
    for id in 1001..=1100 {
        batch.insert(user(id));
    }
    batch.delete(UserPrimaryKey(1));
    batch.commit()?;
    println!("batch of {} ops committed: {} users", 101, users.len()?);

    // A batch with a unique-key clash in the middle writes nothing at all.
    let mut batch = users.batch();
    batch.insert(user(2000));
    batch.insert(User {
        id: 2001,
        username: "dup".into(),
        email: "user2@example.com".into(),
    });
    batch.insert(user(2002));
    match batch.commit() {
        Err(e) => println!(
            "failed batch rolled back ({e}); user 2000 stored: {}",
            users.get(UserPrimaryKey(2000))?.is_some()
        ),
        Ok(()) => return Err("a batch with a duplicate email committed".into()),
    }

    // remove_many: one transaction.
    let removed = users.remove_many((1001..=1100).map(UserPrimaryKey))?;
    assert!(removed > 0);
    println!("remove_many removed {removed}; {} users left", users.len()?);

    // Inside one explicit write transaction, bulk helpers mix with single operations.
    let txn = store.write()?;
    {
        let mut posts = txn.open_tree::<Post>()?;
        posts.put_many((1..=50).map(|id| post(id, id % 5)))?;
        posts.remove_many([PostPrimaryKey(1), PostPrimaryKey(2)])?;
    }
    txn.commit()?;
    let txn = store.read()?;
    let posts = txn.open_tree::<Post>()?;
    let rust = posts
        .get_by_secondary_key(PostSecondaryKeys::Tags(PostTagsSecondaryKey("rust".into())))?
        .count();
    let by_author_2024 = posts
        .query_by::<PostAuthorYearSecondaryKey>()
        .equal(PostAuthorYearSecondaryKey((4, 2024)))
        .count()?;
    println!(
        "{} posts, {rust} tagged rust, {by_author_2024} by author 4 in 2024",
        posts.len()?
    );
    Ok(())
}
