//! Change notifications: subscribe to a model, write in transactions, and receive the
//! committed changes in commit order, read in place, with filters and lag detection.
//!
//! Run with `cargo run --example subscription_demo`.

#[path = "shared/schema.rs"]
mod schema;

use netabase_store::prelude::*;
use netabase_store::{ChangeKind, Event};
use schema::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = NetabaseStore::<BlogDefinition, _>::redb(dir.path().join("feed.redb"))?;

    // Every change to users, and only the changes to users 10..20.
    let all = store.subscribe::<User>();
    let some = store
        .subscription::<User>()
        .range(UserPrimaryKey(10)..UserPrimaryKey(20))
        .subscribe();

    let users = store.open_tree::<User>();
    users.put(user(1))?;
    users.put(user(12))?;
    users.put(User {
        username: "renamed".into(),
        ..user(12)
    })?;
    users.remove(UserPrimaryKey(1))?;

    // An aborted transaction publishes nothing.
    let txn = store.write()?;
    txn.open_tree::<User>()?.put(user(99))?;
    txn.abort()?;

    let mut kinds = Vec::new();
    while let Some(event) = all.try_recv() {
        let Event::Change(change) = event? else {
            unreachable!("a queue of 1024 does not lag on four changes")
        };
        // The change derefs to the archived record: no copy, no deserialization.
        println!(
            "seq {} {:?}: user {} ({})",
            change.seq(),
            change.kind(),
            change.id,
            change.username
        );
        kinds.push((change.kind(), change.id.to_native()));
    }
    assert_eq!(
        kinds,
        [
            (ChangeKind::Inserted, 1),
            (ChangeKind::Inserted, 12),
            (ChangeKind::Updated, 12),
            (ChangeKind::Removed, 1),
        ]
    );

    // The filtered subscriber saw only user 12: the insert, then the rename (old and new).
    let filtered: Vec<_> = std::iter::from_fn(|| some.try_recv()).collect::<Result<_, _>>()?;
    assert_eq!(filtered.len(), 2);
    let Event::Change(rename) = &filtered[1] else {
        unreachable!("no lag")
    };
    assert_eq!(rename.old().map(|u| u.username.as_str()), Some("user12"));
    assert_eq!(rename.deserialize()?.username, "renamed");
    println!(
        "filtered 10..20: {} changes, the last renames user12",
        filtered.len()
    );

    // A slow subscriber never blocks writers: it is told how much it missed.
    let slow = store.subscription::<User>().capacity(2).subscribe();
    users.put_many((100..110).map(user))?; // one transaction, ten changes
    let mut received = 0;
    let missed = loop {
        match slow.recv().expect("the store is open")? {
            Event::Change(_) => received += 1,
            Event::Lagged { missed } => break missed,
        }
    };
    assert_eq!((received, missed), (2, 8));
    println!(
        "slow subscriber: received {received}, then lagged: {missed} missed (re-read to resync)"
    );
    assert_eq!(users.len()?, 11, "the writer finished regardless");
    Ok(())
}
