//! One `FileConfig`, every file backend: switching backends is one line.
//!
//! Run with `cargo run --example config_api_showcase`.

#[path = "shared/schema.rs"]
mod schema;

use netabase_store::backend::Backend;
use netabase_store::prelude::*;
use netabase_store::{MemoryStore, RedbStore, SledStore};
use schema::*;

/// The same code for any backend.
fn exercise<B: Backend>(name: &str, store: &Store<BlogDefinition, B>) -> Result<(), NetabaseError> {
    let users = store.open_tree::<User>();
    users.put_many((1..=100).map(user))?;
    let found = users.get_by_secondary_key(UserSecondaryKeys::Email(UserEmailSecondaryKey(
        "user42@example.com".into(),
    )))?;
    let txn = store.read()?;
    let tree = txn.open_tree::<User>()?;
    let in_range = tree
        .query()
        .range(UserPrimaryKey(10)..UserPrimaryKey(20))
        .count()?;
    assert_eq!(in_range, 10, "{name}");
    assert_eq!(found.len(), 1, "{name}");
    println!(
        "{name:>6}: {} users, lookup by email -> {:?}, 10..20 holds {in_range}",
        users.len()?,
        found.iter().map(|u| u.id).collect::<Vec<_>>()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    for (name, file) in [("redb", "app.redb"), ("sled", "app.sled")] {
        let config = FileConfig::builder()
            .path(dir.path().join(file))
            .cache_size_mb(64)
            .create_if_missing(true)
            .use_fsync(false)
            .build();
        // The only line that differs between backends:
        match name {
            "redb" => exercise(
                name,
                &<RedbStore<BlogDefinition> as BackendStore<_>>::new(config.clone())?,
            )?,
            _ => exercise(
                name,
                &<SledStore<BlogDefinition> as BackendStore<_>>::new(config.clone())?,
            )?,
        }
        // Every option is checked: this one cannot be honoured.
        let mut bad = config;
        bad.read_only = true;
        bad.truncate = true;
        let refused = match name {
            "redb" => RedbStore::<BlogDefinition>::new(bad).err(),
            _ => SledStore::<BlogDefinition>::new(bad).err(),
        };
        assert!(refused.is_some(), "read_only + truncate must be refused");
        println!(
            "        read_only + truncate -> {}",
            refused.map_or("opened?!".into(), |e| e.to_string())
        );
    }
    exercise("memory", &MemoryStore::<BlogDefinition>::memory()?)?;

    // Reopening read-only: reads work, writes are typed errors.
    let config = FileConfig::builder()
        .path(dir.path().join("app.redb"))
        .read_only(true)
        .build();
    let store = RedbStore::<BlogDefinition>::new(config)?;
    assert!(store.open_tree::<User>().put(user(999)).is_err());
    println!(
        "read-only redb: {} users; put -> {}",
        store.open_tree::<User>().len()?,
        store.open_tree::<User>().put(user(999)).unwrap_err()
    );
    Ok(())
}
