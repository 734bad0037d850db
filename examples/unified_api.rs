//! One API over every backend: the same generic function runs on redb, sled and memory,
//! and switching backends is one line.
//!
//! Run with `cargo run --example unified_api --features sled`.

#[path = "shared/schema.rs"]
mod schema;

use netabase_store::backend::Backend;
use netabase_store::prelude::*;
use schema::*;

/// Works on any backend: writes in a transaction, reads in place, queries the indexes.
fn exercise<B: Backend>(name: &str, store: &Store<BlogDefinition, B>) -> Result<(), NetabaseError> {
    let txn = store.write()?;
    {
        let mut users = txn.open_tree::<User>()?;
        users.put_many((1..=3).map(user))?;
        let mut posts = txn.open_tree::<Post>()?;
        posts.put_many((1..=9).map(|id| post(id, id % 3 + 1)))?;
    }
    txn.commit()?;

    let txn = store.read()?;
    let posts = txn.open_tree::<Post>()?;
    let rust: Vec<u64> = posts
        .get_by(Post::TAGS, "rust")?
        .map(|p| p.map(|p| p.id.to_native()))
        .collect::<Result<_, _>>()?;
    assert_eq!(rust, [2, 4, 6, 8], "{name}");
    assert_eq!(posts.count_by(Post::AUTHOR_YEAR, (2, 2021))?, 1, "{name}");
    let newest = posts
        .query()
        .rev()
        .limit(1)
        .iter()?
        .next()
        .expect("nine posts")?;
    assert_eq!(newest.id, 9, "{name}");
    assert_eq!(
        txn.open_tree::<User>()?
            .get_by(User::EMAIL, "user3@example.com")?
            .count(),
        1
    );
    println!("unified_api: {name}: ok");
    Ok(())
}

fn main() -> Result<(), NetabaseError> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    exercise(
        "redb",
        &Store::<BlogDefinition, _>::redb(dir.path().join("u.redb"))?,
    )?;
    exercise(
        "sled",
        &Store::<BlogDefinition, _>::sled(dir.path().join("u.sled"))?,
    )?;
    exercise("memory", &Store::<BlogDefinition, _>::memory()?)?;
    Ok(())
}
