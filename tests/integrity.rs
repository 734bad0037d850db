//! `check_integrity`, `repair` and `purge` on every native backend: damage is written through
//! the raw backend handle (as a damaged file or a foreign writer would leave it), the report
//! counts exactly what was done, and the repairs leave a clean store with nothing valid lost.
mod common;
use common::*;

use netabase_store::backend::{Backend, WriteTable, WriteTransaction};
use netabase_store::key::key_bytes;
use netabase_store::{
    BackendStore, MemoryBackend, NetabaseError, RedbBackend, RepairOptions, SledBackend, Store,
};

type Blog<B> = Store<BlogDefinition, B>;

fn account(handle: &str, email: &str) -> Account {
    Account {
        handle: handle.into(),
        email: email.into(),
        plan: Some("pro".into()),
    }
}

/// Writes `value` under `key` in `table`, bypassing the typed layer.
fn raw_insert<B: Backend>(store: &Blog<B>, table: &str, key: &[u8], value: &[u8]) {
    let txn = store.backend().begin_write().unwrap();
    txn.open_table(table).unwrap().insert(key, value).unwrap();
    txn.commit().unwrap();
}

fn raw_remove<B: Backend>(store: &Blog<B>, table: &str, key: &[u8]) {
    let txn = store.backend().begin_write().unwrap();
    assert!(txn.open_table(table).unwrap().remove(key).unwrap());
    txn.commit().unwrap();
}

fn populate<B: Backend>(store: &Blog<B>) {
    store
        .open_tree::<User>()
        .put_many((1..=5).map(|i| user(i, &format!("u{i}@x"), 30)))
        .unwrap();
    store
        .open_tree::<Account>()
        .put_many([account("ann", "ann@x"), account("bob", "bob@x")])
        .unwrap();
    store
        .open_tree::<Setting>()
        .put(Setting {
            name: "theme".into(),
            value: vec![1],
        })
        .unwrap();
}

/// The index entry `tag | value | primary key` of a `User`.
fn user_entry(tag: u8, value: &[u8], id: u64) -> Vec<u8> {
    let mut entry = vec![tag];
    entry.extend_from_slice(value);
    entry.extend_from_slice(&key_bytes(&id));
    entry
}

fn check_and_repair<B: Backend>(store: Blog<B>) {
    populate(&store);
    let report = store.check_integrity().unwrap();
    assert!(report.is_clean(), "{report}");
    let users = report.model("User").unwrap();
    assert_eq!((users.records, users.index_entries), (5, 10));
    assert_eq!(report.model("Account").unwrap().index_entries, 4);
    assert_eq!(report.model("Setting").unwrap().records, 1);
    assert_eq!(
        report.models.len(),
        5,
        "one entry per model of the definition"
    );

    // Damage: user 1's bytes are garbage; user 4 holds user 3's record (a misplaced copy);
    // one index entry of user 2 is gone; an entry points at a user that does not exist.
    raw_insert(&store, "User", &key_bytes(&1u64), &[0xab; 16]);
    let user3 = {
        let txn = store.read().unwrap();
        let tree = txn.open_tree::<User>().unwrap();
        tree.get(3).unwrap().unwrap().as_bytes().to_vec()
    };
    raw_insert(&store, "User", &key_bytes(&4u64), &user3);
    raw_remove(&store, "User.idx", &user_entry(1, &key_bytes(&30u8), 2));
    raw_insert(
        &store,
        "User.idx",
        &user_entry(1, &key_bytes(&77u8), 99),
        &[],
    );

    let report = store.check_integrity().unwrap();
    assert!(!report.is_clean());
    let users = report.model("User").unwrap();
    assert_eq!(users.records, 5);
    assert_eq!(users.undecodable, vec![key_bytes(&1u64)]);
    assert_eq!(users.misplaced, vec![key_bytes(&4u64)]);
    assert_eq!(users.missing_entries, 1, "{users}");
    // User 1's two entries, user 4's two entries (its record is not its own) and the stray one.
    assert_eq!(users.dangling_entries, 5, "{users}");
    assert!(report.model("Account").unwrap().is_clean());
    assert!(
        report.to_string().contains("1 undecodable records"),
        "{report}"
    );

    // Without purging, the undecodable record makes repair fail, and nothing changes.
    let e = store.repair(RepairOptions::new()).unwrap_err();
    assert!(
        matches!(e, NetabaseError::Corrupt { table: "User", .. }),
        "{e}"
    );
    assert_eq!(store.check_integrity().unwrap(), report);

    // With purging: the two bad records go, every index is rebuilt, the store is clean and
    // every valid record is still there and found by its keys.
    let repaired = store
        .repair(RepairOptions::new().purge_undecodable(true))
        .unwrap();
    assert_eq!(repaired.purged(), 2);
    let users = repaired.models.iter().find(|m| m.model == "User").unwrap();
    assert_eq!(users.purged, vec![key_bytes(&1u64), key_bytes(&4u64)]);
    assert_eq!(users.index_entries, 6);
    let report = store.check_integrity().unwrap();
    assert!(report.is_clean(), "{report}");
    let tree = store.open_tree::<User>();
    assert_eq!(tree.len().unwrap(), 3);
    assert_eq!(tree.count_by(User::AGE, 30).unwrap(), 3);
    assert_eq!(
        tree.get_by(User::EMAIL, "u2@x").unwrap(),
        vec![user(2, "u2@x", 30)]
    );
    assert!(tree.get_by(User::EMAIL, "u1@x").unwrap().is_empty());
    assert_eq!(store.open_tree::<Account>().len().unwrap(), 2);
}

fn unique_conflicts_are_reported_and_refused<B: Backend>(store: Blog<B>) {
    populate(&store);
    // A valid `bob` record that claims ann's unique email, written past the typed layer.
    let forged = netabase_store::rkyv::to_bytes::<netabase_store::rkyv::rancor::Error>(&account(
        "bob", "ann@x",
    ))
    .unwrap();
    raw_insert(&store, "Account", &key_bytes(&"bob".to_string()), &forged);
    let report = store.check_integrity().unwrap();
    let accounts = report.model("Account").unwrap();
    assert_eq!(accounts.unique_conflicts, 1, "{accounts}");
    // bob's stored entry says bob@x (dangling); the entry his record implies is missing.
    assert_eq!(
        (accounts.dangling_entries, accounts.missing_entries),
        (1, 1)
    );

    let e = store
        .repair(RepairOptions::new().purge_undecodable(true))
        .unwrap_err();
    assert!(
        matches!(
            e,
            NetabaseError::UniqueViolation {
                model: "Account",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        store.check_integrity().unwrap(),
        report,
        "a refused repair changes nothing"
    );

    // The user decides which record stays; then the repair goes through.
    assert!(store.open_tree::<Account>().purge("bob").unwrap());
    store.repair(RepairOptions::new()).unwrap();
    assert!(store.check_integrity().unwrap().is_clean());
    assert_eq!(
        store
            .open_tree::<Account>()
            .get_by(Account::EMAIL, "ann@x")
            .unwrap(),
        vec![account("ann", "ann@x")]
    );
}

fn purge_removes_an_undecodable_record_and_its_entries<B: Backend>(store: Blog<B>) {
    populate(&store);
    raw_insert(&store, "User", &key_bytes(&2u64), b"not an archive");
    // `delete` must read the record to find its entries, so it refuses.
    let e = store.open_tree::<User>().delete(2).unwrap_err();
    assert!(matches!(e, NetabaseError::Corrupt { .. }), "{e}");

    let txn = store.write().unwrap();
    {
        let mut tree = txn.open_tree::<User>().unwrap();
        assert!(tree.purge(2).unwrap());
        assert!(!tree.purge(2).unwrap(), "nothing left to purge");
        assert_eq!(tree.count_by(User::EMAIL, "u2@x").unwrap(), 0);
        assert_eq!(tree.count_by(User::AGE, 30).unwrap(), 4);
    }
    txn.commit().unwrap();
    let report = store.check_integrity().unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.model("User").unwrap().records, 4);

    // A purge of a valid record is a plain removal; a model without an index purges too.
    assert!(store.open_tree::<User>().purge(3).unwrap());
    assert!(store.open_tree::<Setting>().purge("theme").unwrap());
    assert!(store.check_integrity().unwrap().is_clean());
    assert_eq!(store.open_tree::<User>().len().unwrap(), 3);

    // Every kind of key (tuple primary key; optional, multi-valued, unique, compound
    // secondary keys): purge finds each entry by parsing it.
    let articles = store.open_tree::<Article>();
    let mut a = article(7, "intro", 2024, Some("news"), &["rust", "db"]);
    a.slug = Some("intro".into());
    let b = article(7, "intro2", 2024, Some("news"), &["rust"]);
    articles.put_many([a.clone(), b.clone()]).unwrap();
    assert_eq!(
        store
            .check_integrity()
            .unwrap()
            .model("Article")
            .unwrap()
            .index_entries,
        8
    );
    assert!(articles.purge(&a.key).unwrap());
    let report = store.check_integrity().unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.model("Article").unwrap().index_entries, 3);
    assert_eq!(articles.get_by(Article::TAGS, "rust").unwrap(), vec![b]);

    // A purge that is rolled back changes nothing.
    raw_insert(&store, "User", &key_bytes(&5u64), &[0; 4]);
    {
        let txn = store.write().unwrap();
        txn.open_tree::<User>().unwrap().purge(5).unwrap();
    }
    assert_eq!(
        store
            .check_integrity()
            .unwrap()
            .model("User")
            .unwrap()
            .undecodable,
        vec![key_bytes(&5u64)]
    );
}

macro_rules! on_every_backend {
    ($($backend:ident => $make:expr;)*) => {
        $(mod $backend {
            use super::*;
            #[test]
            fn check_and_repair() {
                super::check_and_repair($make);
            }
            #[test]
            fn unique_conflicts_are_reported_and_refused() {
                super::unique_conflicts_are_reported_and_refused($make);
            }
            #[test]
            fn purge_removes_an_undecodable_record_and_its_entries() {
                super::purge_removes_an_undecodable_record_and_its_entries($make);
            }
        })*
    };
}

on_every_backend! {
    redb => Blog::<RedbBackend>::temp().unwrap();
    memory => Blog::<MemoryBackend>::temp().unwrap();
    sled => Blog::<SledBackend>::temp().unwrap();
}
