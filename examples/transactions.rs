//! Transactions: several models in one atomic commit, rollback on drop, snapshot reads
//! while a writer works, and a failed write that cannot be half-committed.
//!
//! Run with `cargo run --example transactions`.

#[path = "shared/schema.rs"]
mod schema;

use netabase_store::prelude::*;
use schema::*;

fn main() -> Result<(), NetabaseError> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Store::<BlogDefinition, _>::redb(dir.path().join("txn.redb"))?;

    // Two models, one commit.
    let txn = store.write()?;
    {
        txn.open_tree::<User>()?.put(user(1))?;
        txn.open_tree::<Post>()?.put(post(10, 1))?;
    }
    txn.commit()?;
    assert!(store.open_tree::<User>().contains_key(1)?);
    assert!(store.open_tree::<Post>().contains_key(10)?);

    // Dropping a write transaction rolls everything back, indexes included.
    {
        let txn = store.write()?;
        txn.open_tree::<User>()?.put(user(2))?;
        txn.open_tree::<Post>()?.remove(10)?;
    }
    assert!(!store.open_tree::<User>().contains_key(2)?);
    assert_eq!(
        store.open_tree::<Post>().get_by(Post::TAGS, "rust")?.len(),
        1
    );

    // A reader keeps its snapshot while a writer commits.
    let snapshot = store.read()?;
    store.open_tree::<User>().put(user(3))?;
    assert!(!snapshot.open_tree::<User>()?.contains_key(3)?);
    assert!(store.read()?.open_tree::<User>()?.contains_key(3)?);
    drop(snapshot);

    // put_many is all or nothing: a unique clash after a successful put poisons the
    // transaction, so the first put is never published.
    let txn = store.write()?;
    {
        let mut users = txn.open_tree::<User>()?;
        let clash = [user(4), User { id: 5, ..user(1) }];
        assert!(matches!(
            users.put_many(&clash),
            Err(NetabaseError::UniqueViolation { .. })
        ));
    }
    assert!(matches!(
        txn.commit(),
        Err(NetabaseError::TransactionPoisoned)
    ));
    assert!(!store.open_tree::<User>().contains_key(4)?);
    println!("transactions: atomic commit, rollback, snapshots, poisoned put_many: ok");
    Ok(())
}
