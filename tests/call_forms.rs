//! Every lookup form the API promises compiles and finds the same records: keys by value,
//! by reference and in borrowed form (`&str`, integers, tuples of borrowed parts), the
//! secondary-key enum, a key newtype alone, the short `get_by(Model::KEY, value)`, ranges
//! without annotations, and the auto-commit tree's reads.

mod common;

use std::ops::Bound;

use common::*;
use netabase_store::prelude::*;

fn store() -> Store<BlogDefinition, netabase_store::MemoryBackend> {
    let store = Store::<BlogDefinition, _>::temp().unwrap();
    let txn = store.write().unwrap();
    {
        let mut users = txn.open_tree::<User>().unwrap();
        users
            .put_many([user(1, "a@x", 30), user(2, "b@x", 30), user(3, "c@x", 40)])
            .unwrap();
        let mut accounts = txn.open_tree::<Account>().unwrap();
        for (h, e) in [("alice", "alice@x"), ("bob", "bob@x")] {
            accounts
                .put(Account {
                    handle: h.into(),
                    email: e.into(),
                    plan: Some("pro".into()),
                })
                .unwrap();
        }
        let mut articles = txn.open_tree::<Article>().unwrap();
        articles
            .put(Article {
                key: (7, "intro".into()),
                author_id: 7,
                year: 2024,
                category: None,
                tags: vec!["rust".into()],
                slug: Some("intro".into()),
            })
            .unwrap();
    }
    txn.commit().unwrap();
    store
}

#[test]
fn primary_keys_by_value_reference_and_borrowed_form() {
    let store = store();
    let txn = store.read().unwrap();
    let users = txn.open_tree::<User>().unwrap();
    let pk = UserPrimaryKey(2);
    assert_eq!(users.get(pk.clone()).unwrap().unwrap().id, 2);
    assert_eq!(users.get(&pk).unwrap().unwrap().id, 2);
    assert_eq!(users.get(2u64).unwrap().unwrap().id, 2);
    assert_eq!(users.get(2).unwrap().unwrap().id, 2);
    assert!(users.contains_key(3).unwrap());
    let found: Vec<bool> = users
        .get_many([1, 9])
        .unwrap()
        .iter()
        .map(Option::is_some)
        .collect();
    assert_eq!(found, [true, false]);

    let accounts = txn.open_tree::<Account>().unwrap();
    let owned = "alice".to_string();
    assert_eq!(accounts.get("alice").unwrap().unwrap().email, "alice@x");
    assert_eq!(accounts.get(&owned).unwrap().unwrap().email, "alice@x");
    assert_eq!(
        accounts.get(owned.clone()).unwrap().unwrap().email,
        "alice@x"
    );
    assert_eq!(
        accounts
            .get(AccountPrimaryKey(owned))
            .unwrap()
            .unwrap()
            .email,
        "alice@x"
    );

    let articles = txn.open_tree::<Article>().unwrap();
    assert!(articles.get((7u64, "intro")).unwrap().is_some());
    assert!(articles.get((7, "intro".to_string())).unwrap().is_some());
    assert!(articles.get((7, "other")).unwrap().is_none());
}

#[test]
fn secondary_lookups_take_the_enum_a_newtype_or_the_short_form() {
    let store = store();
    let txn = store.read().unwrap();
    let users = txn.open_tree::<User>().unwrap();
    let ids = |it: netabase_store::SecondaryIter<'_, User, _>| {
        it.map(|r| r.unwrap().id.to_native()).collect::<Vec<u64>>()
    };
    let by_enum = UserSecondaryKeys::Age(UserAgeSecondaryKey(30));
    assert_eq!(ids(users.get_by_secondary_key(&by_enum).unwrap()), [1, 2]);
    assert_eq!(ids(users.get_by_secondary_key(by_enum).unwrap()), [1, 2]);
    assert_eq!(
        ids(users.get_by_secondary_key(UserAgeSecondaryKey(40)).unwrap()),
        [3]
    );
    assert_eq!(ids(users.get_by(User::AGE, 30).unwrap()), [1, 2]);
    assert_eq!(ids(users.get_by(User::EMAIL, "c@x").unwrap()), [3]);
    let email = String::from("b@x");
    assert_eq!(ids(users.get_by(User::EMAIL, &email).unwrap()), [2]);
    assert_eq!(users.count_by(User::AGE, 30u8).unwrap(), 2);
    assert_eq!(
        users
            .count_by_secondary_key(UserEmailSecondaryKey("a@x".into()))
            .unwrap(),
        1
    );

    let articles = txn.open_tree::<Article>().unwrap();
    assert_eq!(
        articles.count_by(Article::AUTHOR_YEAR, (7, 2024)).unwrap(),
        1
    );
    assert_eq!(articles.count_by(Article::TAGS, "rust").unwrap(), 1);
    assert_eq!(articles.count_by(Article::SLUG, "intro").unwrap(), 1);
}

#[test]
fn ranges_need_no_annotation() {
    let store = store();
    let txn = store.read().unwrap();
    let users = txn.open_tree::<User>().unwrap();
    let ids = |it: netabase_store::Iter<'_, User, _>| {
        it.map(|r| r.unwrap().id.to_native()).collect::<Vec<u64>>()
    };
    assert_eq!(ids(users.range(..).unwrap()), [1, 2, 3]);
    assert_eq!(ids(users.range(2..).unwrap()), [2, 3]);
    assert_eq!(ids(users.range(..=2).unwrap()), [1, 2]);
    assert_eq!(
        ids(users.range(UserPrimaryKey(1)..UserPrimaryKey(3)).unwrap()),
        [1, 2]
    );
    assert_eq!(
        ids(users.range((Bound::Excluded(1), Bound::Unbounded)).unwrap()),
        [2, 3]
    );
    assert_eq!(ids(users.range_rev(..).unwrap()), [3, 2, 1]);
    assert_eq!(users.query().range(..).count().unwrap(), 3);
    let accounts = txn.open_tree::<Account>().unwrap();
    assert_eq!(accounts.query().range("b"..).count().unwrap(), 1);
    let q = accounts.query_by::<AccountEmailSecondaryKey>();
    assert_eq!(q.equal("bob@x").count().unwrap(), 1);
    let q = accounts.query_by::<AccountEmailSecondaryKey>();
    assert_eq!(q.range("a".."b").count().unwrap(), 1);
}

#[test]
fn the_auto_commit_tree_offers_the_same_reads() {
    let store = store();
    let accounts = store.open_tree::<Account>();
    assert_eq!(accounts.get("bob").unwrap().unwrap().email, "bob@x");
    assert!(accounts.contains_key("alice").unwrap());
    assert_eq!(accounts.get_by(Account::EMAIL, "alice@x").unwrap().len(), 1);
    assert_eq!(accounts.count_by(Account::PLAN, "pro").unwrap(), 2);
    assert_eq!(accounts.range(..).unwrap().len(), 2);
    assert_eq!(accounts.range_rev("a"..).unwrap()[0].handle, "bob");
    assert_eq!(
        accounts.query().limit(1).collect().unwrap()[0].handle,
        "alice"
    );
    assert_eq!(accounts.query().count().unwrap(), 2);
    let page = accounts.query().limit(1).page().unwrap();
    let rest = accounts
        .query()
        .after(page.next.as_ref().unwrap())
        .collect()
        .unwrap();
    assert_eq!(rest[0].handle, "bob");
    assert!(accounts.delete("alice").unwrap());
    assert!(!accounts.delete("alice").unwrap());
    assert_eq!(accounts.remove_many(["bob", "nobody"]).unwrap(), 1);
    assert!(accounts.is_empty().unwrap());
    let mut iter = store.open_tree::<User>().iter();
    assert_eq!(iter.len(), 3);
    assert_eq!(iter.next_back().unwrap().unwrap().1.id, 3);
}

#[test]
fn put_many_in_a_transaction_is_all_or_nothing() {
    let store = store();
    let txn = store.write().unwrap();
    {
        let mut accounts = txn.open_tree::<Account>().unwrap();
        let clash = [
            Account {
                handle: "carol".into(),
                email: "carol@x".into(),
                plan: None,
            },
            Account {
                handle: "dave".into(),
                email: "bob@x".into(),
                plan: None,
            },
        ];
        assert!(matches!(
            accounts.put_many(&clash),
            Err(NetabaseError::UniqueViolation { .. })
        ));
    }
    // The first put was written, so the transaction refuses to commit half of put_many.
    assert!(matches!(
        txn.commit(),
        Err(NetabaseError::TransactionPoisoned)
    ));
    assert!(!store.open_tree::<Account>().contains_key("carol").unwrap());

    // A failure on the first model wrote nothing and poisons nothing.
    let txn = store.write().unwrap();
    {
        let mut accounts = txn.open_tree::<Account>().unwrap();
        let clash = [Account {
            handle: "erin".into(),
            email: "bob@x".into(),
            plan: None,
        }];
        assert!(accounts.put_many(&clash).is_err());
        accounts
            .put(Account {
                handle: "frank".into(),
                email: "frank@x".into(),
                plan: None,
            })
            .unwrap();
    }
    txn.commit().unwrap();
    assert!(store.open_tree::<Account>().contains_key("frank").unwrap());
}
