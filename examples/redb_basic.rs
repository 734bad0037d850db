//! redb specifics: a `FileConfig`, data that survives reopening, read-only opens, and the
//! backend's own transaction next to typed trees.
//!
//! Run with `cargo run --example redb_basic`.

#[path = "shared/schema.rs"]
mod schema;

use netabase_store::backend::{ReadTable, ReadTransaction};
use netabase_store::prelude::*;
use netabase_store::{FileConfig, RedbStore};
use schema::*;

fn main() -> Result<(), NetabaseError> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("app.redb");
    let config = FileConfig::builder().path(&path).cache_size_mb(32).build();
    {
        let store = RedbStore::<BlogDefinition>::new(config.clone())?;
        store.open_tree::<User>().put_many((1..=100).map(user))?;
        store.flush()?;
    }

    // Read-only: reads work, writes are a typed error.
    let read_only = FileConfig::builder().path(&path).read_only(true).build();
    let store = RedbStore::<BlogDefinition>::new(read_only)?;
    let users = store.open_tree::<User>();
    assert_eq!(users.len()?, 100);
    assert!(users.put(user(101)).is_err());

    // The backend's transaction sits next to typed trees: here, the raw record bytes.
    let txn = store.read()?;
    let tree = txn.open_tree::<User>()?;
    let typed = tree.get(42)?.expect("stored");
    let raw_table = txn.backend_txn().open_table("User")?;
    let raw = raw_table
        .get(&netabase_store::key::key_bytes(&42u64))?
        .expect("stored");
    assert_eq!(typed.as_bytes(), raw.as_ref());
    println!("redb_basic: FileConfig, reopen, read-only, raw access: ok");
    Ok(())
}
