//! The typed test suite, written once and run on every backend by `typed_suite!`.
//!
//! Each function takes a fresh, empty store.
#![allow(dead_code)]

use netabase_store::backend::Backend;
use netabase_store::prelude::*;

use crate::common::*;

type S<B> = Store<BlogDefinition, B>;

fn emails<B: Backend>(store: &S<B>, email: &str) -> Vec<u64> {
    let txn = store.read().unwrap();
    let tree = txn.open_tree::<User>().unwrap();
    tree.get_by_secondary_key(email_key(email))
        .unwrap()
        .map(|r| r.unwrap().id.to_native())
        .collect()
}

fn put_users<B: Backend>(store: &S<B>, users: &[User]) {
    let txn = store.write().unwrap();
    {
        let mut tree = txn.open_tree::<User>().unwrap();
        tree.put_many(users).unwrap();
    }
    txn.commit().unwrap();
}

pub fn put_then_get_reads_the_archived_record<B: Backend>(store: &S<B>) {
    put_users(store, &[user(1, "a@x", 30)]);
    let txn = store.read().unwrap();
    let tree = txn.open_tree::<User>().unwrap();
    let r = tree.get(UserPrimaryKey(1)).unwrap().expect("stored");
    assert_eq!(r.id, 1);
    assert_eq!(r.username, "user1");
    assert_eq!(r.email, "a@x");
    assert_eq!(r.deserialize().unwrap(), user(1, "a@x", 30));
    assert!(tree.get(UserPrimaryKey(2)).unwrap().is_none());
    assert!(tree.contains_key(UserPrimaryKey(1)).unwrap());
    let by_ref = UserPrimaryKey(2);
    assert!(!tree.contains_key(&by_ref).unwrap());
}

pub fn put_replaces_and_moves_secondary_entries<B: Backend>(store: &S<B>) {
    put_users(store, &[user(1, "old@x", 30), user(2, "old@x", 31)]);
    assert_eq!(emails(store, "old@x"), vec![1, 2]);
    put_users(store, &[user(1, "new@x", 30)]);
    assert_eq!(emails(store, "old@x"), vec![2]);
    assert_eq!(emails(store, "new@x"), vec![1]);
    let txn = store.read().unwrap();
    let tree = txn.open_tree::<User>().unwrap();
    assert_eq!(tree.len().unwrap(), 2);
    assert_eq!(tree.count_by_secondary_key(age_key(30)).unwrap(), 1);
    assert_eq!(tree.get(UserPrimaryKey(1)).unwrap().unwrap().email, "new@x");
}

pub fn remove_returns_the_record_and_drops_its_index_entries<B: Backend>(store: &S<B>) {
    put_users(store, &[user(1, "a@x", 30), user(2, "b@x", 30)]);
    let txn = store.write().unwrap();
    {
        let mut tree = txn.open_tree::<User>().unwrap();
        assert_eq!(
            tree.remove(UserPrimaryKey(1)).unwrap(),
            Some(user(1, "a@x", 30))
        );
        assert_eq!(tree.remove(UserPrimaryKey(1)).unwrap(), None);
        assert!(tree.delete(UserPrimaryKey(2)).unwrap());
        assert!(!tree.delete(UserPrimaryKey(2)).unwrap());
    }
    txn.commit().unwrap();
    assert!(emails(store, "a@x").is_empty());
    let txn = store.read().unwrap();
    let tree = txn.open_tree::<User>().unwrap();
    assert_eq!(tree.count_by_secondary_key(age_key(30)).unwrap(), 0);
    assert!(tree.is_empty().unwrap());
}

pub fn dropping_a_write_transaction_rolls_back_records_and_indexes<B: Backend>(store: &S<B>) {
    put_users(store, &[user(1, "a@x", 30)]);
    {
        let txn = store.write().unwrap();
        let mut tree = txn.open_tree::<User>().unwrap();
        tree.put(user(1, "changed@x", 30)).unwrap();
        tree.put(user(2, "b@x", 30)).unwrap();
        // Read-your-own-writes inside the transaction.
        assert_eq!(
            tree.get(UserPrimaryKey(1)).unwrap().unwrap().email,
            "changed@x"
        );
        assert_eq!(
            tree.get_by_secondary_key(email_key("b@x")).unwrap().count(),
            1
        );
    }
    let txn = store.write().unwrap();
    {
        let mut tree = txn.open_tree::<User>().unwrap();
        tree.put(user(3, "c@x", 30)).unwrap();
    }
    txn.abort().unwrap();
    assert_eq!(emails(store, "a@x"), vec![1]);
    assert!(emails(store, "changed@x").is_empty());
    assert!(emails(store, "b@x").is_empty());
    assert!(emails(store, "c@x").is_empty());
    assert_eq!(
        store
            .read()
            .unwrap()
            .open_tree::<User>()
            .unwrap()
            .len()
            .unwrap(),
        1
    );
}

pub fn writes_are_invisible_to_readers_until_commit<B: Backend>(store: &S<B>) {
    let txn = store.write().unwrap();
    {
        let mut tree = txn.open_tree::<User>().unwrap();
        tree.put(user(1, "a@x", 30)).unwrap();
    }
    {
        let read = store.read().unwrap();
        assert!(
            read.open_tree::<User>()
                .unwrap()
                .get(UserPrimaryKey(1))
                .unwrap()
                .is_none()
        );
    }
    txn.commit().unwrap();
    let read = store.read().unwrap();
    assert!(
        read.open_tree::<User>()
            .unwrap()
            .get(UserPrimaryKey(1))
            .unwrap()
            .is_some()
    );
}

pub fn unique_key_clash_is_an_error_and_writes_nothing<B: Backend>(store: &S<B>) {
    let account = |handle: &str, email: &str| Account {
        handle: handle.into(),
        email: email.into(),
        plan: Some("free".into()),
    };
    let txn = store.write().unwrap();
    {
        let mut tree = txn.open_tree::<Account>().unwrap();
        tree.put(account("alice", "a@x")).unwrap();
        tree.put(account("bob", "b@x")).unwrap();
        // Updating a record while keeping its own unique value is fine.
        tree.put(account("alice", "a@x")).unwrap();
        let err = tree.put(account("mallory", "a@x")).unwrap_err();
        assert!(
            matches!(
                err,
                NetabaseError::UniqueViolation {
                    model: "Account",
                    key: "email",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            tree.get(AccountPrimaryKey("mallory".into()))
                .unwrap()
                .is_none()
        );
        // A clash on update leaves the old record and its entries untouched.
        let err = tree.put(account("bob", "a@x")).unwrap_err();
        assert!(matches!(err, NetabaseError::UniqueViolation { .. }));
        assert_eq!(
            tree.get(AccountPrimaryKey("bob".into()))
                .unwrap()
                .unwrap()
                .email,
            "b@x"
        );
        let by_email = |e: &str| AccountSecondaryKeys::Email(AccountEmailSecondaryKey(e.into()));
        let holders: Vec<String> = tree
            .get_by_secondary_key(by_email("a@x"))
            .unwrap()
            .map(|r| r.unwrap().handle.to_string())
            .collect();
        assert_eq!(holders, ["alice"]);
        assert_eq!(tree.count_by_secondary_key(by_email("b@x")).unwrap(), 1);
        // Moving a unique value after its holder released it is allowed.
        tree.put(account("alice", "a2@x")).unwrap();
        tree.put(account("bob", "a@x")).unwrap();
    }
    // A clash is not a poisoned transaction: the other writes commit.
    txn.commit().unwrap();
    let txn = store.read().unwrap();
    let tree = txn.open_tree::<Account>().unwrap();
    assert_eq!(tree.len().unwrap(), 2);
    assert_eq!(
        tree.get(AccountPrimaryKey("bob".into()))
            .unwrap()
            .unwrap()
            .email,
        "a@x"
    );
}

pub fn ranges_follow_primary_key_order<B: Backend>(store: &S<B>) {
    let users: Vec<User> = (0..50)
        .rev()
        .map(|i| user(i * 2, "e@x", (i % 7) as u8))
        .collect();
    put_users(store, &users);
    let txn = store.read().unwrap();
    let tree = txn.open_tree::<User>().unwrap();
    let ids = |it: netabase_store::Iter<'_, User, _>| -> Vec<u64> {
        it.map(|r| r.unwrap().id.to_native()).collect()
    };
    assert_eq!(
        ids(tree.iter().unwrap()),
        (0..50).map(|i| i * 2).collect::<Vec<_>>()
    );
    assert_eq!(
        ids(tree.range(UserPrimaryKey(10)..UserPrimaryKey(16)).unwrap()),
        [10, 12, 14]
    );
    assert_eq!(
        ids(tree.range(UserPrimaryKey(11)..=UserPrimaryKey(16)).unwrap()),
        [12, 14, 16]
    );
    assert_eq!(ids(tree.range(..UserPrimaryKey(4)).unwrap()), [0, 2]);
    assert_eq!(ids(tree.range(UserPrimaryKey(95)..).unwrap()), [96, 98]);
    assert_eq!(
        ids(tree.range_rev(UserPrimaryKey(90)..).unwrap()),
        [98, 96, 94, 92, 90]
    );
    assert!(ids(tree.range(UserPrimaryKey(20)..UserPrimaryKey(10)).unwrap()).is_empty());
    let by_age: Vec<u64> = tree
        .get_by_secondary_key(age_key(3))
        .unwrap()
        .map(|r| r.unwrap().id.to_native())
        .collect();
    let mut expected: Vec<u64> = (0..50).filter(|i| i % 7 == 3).map(|i| i * 2).collect();
    expected.sort();
    assert_eq!(
        by_age, expected,
        "secondary lookups come back in primary-key order"
    );
}

pub fn clear_empties_records_and_indexes<B: Backend>(store: &S<B>) {
    put_users(store, &[user(1, "a@x", 1), user(2, "b@x", 2)]);
    let txn = store.write().unwrap();
    {
        let mut tree = txn.open_tree::<User>().unwrap();
        tree.clear().unwrap();
        assert!(tree.is_empty().unwrap());
    }
    txn.commit().unwrap();
    assert!(emails(store, "a@x").is_empty());
    put_users(store, &[user(1, "a@x", 1)]);
    assert_eq!(emails(store, "a@x"), vec![1]);
}

pub fn several_models_share_one_transaction<B: Backend>(store: &S<B>) {
    let txn = store.write().unwrap();
    {
        let mut users = txn.open_tree::<User>().unwrap();
        let mut posts = txn.open_tree::<Post>().unwrap();
        let mut settings = txn.open_tree::<Setting>().unwrap();
        users.put(user(7, "a@x", 1)).unwrap();
        for id in 0..3 {
            posts
                .put(Post {
                    id,
                    title: format!("t{id}"),
                    body: String::new(),
                    author_id: 7,
                })
                .unwrap();
        }
        settings
            .put(Setting {
                name: "theme".into(),
                value: vec![0, 1, 0xff],
            })
            .unwrap();
    }
    txn.commit().unwrap();
    let txn = store.read().unwrap();
    let posts = txn.open_tree::<Post>().unwrap();
    let by_author = PostSecondaryKeys::AuthorId(PostAuthorIdSecondaryKey(7));
    assert_eq!(posts.get_by_secondary_key(by_author).unwrap().count(), 3);
    let settings = txn.open_tree::<Setting>().unwrap();
    let theme = settings
        .get(SettingPrimaryKey("theme".into()))
        .unwrap()
        .unwrap();
    assert_eq!(theme.value.as_slice(), &[0, 1, 0xff]);
}

pub fn auto_commit_tree_returns_owned_values<B: Backend>(store: &S<B>) {
    let users = store.open_tree::<User>();
    assert!(users.is_empty().unwrap());
    users.put(user(1, "a@x", 20)).unwrap();
    users
        .put_many(vec![user(2, "b@x", 20), user(3, "b@x", 21)])
        .unwrap();
    assert_eq!(
        users.get(UserPrimaryKey(1)).unwrap(),
        Some(user(1, "a@x", 20))
    );
    assert_eq!(
        users
            .get(user(2, "", 0).primary_key())
            .unwrap()
            .unwrap()
            .email,
        "b@x"
    );
    assert_eq!(users.len().unwrap(), 3);
    let many = users
        .get_many([UserPrimaryKey(3), UserPrimaryKey(9), UserPrimaryKey(1)])
        .unwrap();
    assert_eq!(
        many.iter()
            .map(|u| u.as_ref().map(|u| u.id))
            .collect::<Vec<_>>(),
        [Some(3), None, Some(1)]
    );
    assert_eq!(
        users.get_by_secondary_key(email_key("b@x")).unwrap().len(),
        2
    );
    let lists = users
        .get_many_by_secondary_keys([email_key("a@x"), age_key(20), email_key("none")])
        .unwrap();
    assert_eq!(lists.iter().map(Vec::len).collect::<Vec<_>>(), [1, 2, 0]);
    let all: Vec<(UserPrimaryKey, User)> = users.iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(all.iter().map(|(k, _)| k.0).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(
        users.remove(UserPrimaryKey(2)).unwrap().map(|u| u.id),
        Some(2)
    );
    assert_eq!(
        users.get_by_secondary_key(email_key("b@x")).unwrap().len(),
        1
    );
    users.clear().unwrap();
    assert!(users.is_empty().unwrap());
}

pub fn definition_enum_wraps_and_unwraps_models<B: Backend>(_store: &S<B>) {
    let d: BlogDefinition = user(1, "a@x", 2).into();
    assert!(matches!(d, BlogDefinition::User(_)));
    let back = User::try_from(d).unwrap();
    assert_eq!(back.id, 1);
    let keys: BlogKeys = UserKeys::Primary(UserPrimaryKey(1)).into();
    assert!(matches!(
        keys,
        BlogKeys::User(UserKeys::Primary(UserPrimaryKey(1)))
    ));
    assert!(Post::try_from(BlogDefinition::from(back)).is_err());
}

/// Index entries damaged behind the typed layer's back (removed, and a stale one added) are
/// put right by `rebuild_index`; a unique clash found while rebuilding leaves the old index.
pub fn rebuild_index_recomputes_entries_from_records<B: Backend>(store: &S<B>) {
    use netabase_store::backend::{WriteTable, WriteTransaction};
    put_users(
        store,
        &[user(1, "a@x", 30), user(2, "b@x", 31), user(3, "c@x", 30)],
    );
    let index_before = raw_index(store);
    let txn = store.write().unwrap();
    {
        let mut idx = txn.backend_txn().open_table("User.idx").unwrap();
        let first = index_before.first().unwrap().clone();
        idx.remove(&first).unwrap();
        idx.insert(b"\x00stale-entry", &[]).unwrap();
    }
    txn.commit().unwrap();
    assert_ne!(raw_index(store), index_before);
    let rebuilt = store.rebuild_indexes().unwrap();
    assert_eq!(rebuilt.first(), Some(&("User", index_before.len() as u64)));
    assert_eq!(raw_index(store), index_before);
    assert_eq!(emails(store, "a@x"), vec![1]);

    // Two accounts holding one unique email (the second written around the index): the
    // rebuild fails and the transaction is poisoned, so the index stays as it was.
    let txn = store.write().unwrap();
    txn.open_tree::<Account>()
        .unwrap()
        .put(Account {
            handle: "a".into(),
            email: "same@x".into(),
            plan: None,
        })
        .unwrap();
    txn.commit().unwrap();
    let bytes = {
        let read = store.read().unwrap();
        let t = read.open_tree::<Account>().unwrap();
        t.get(AccountPrimaryKey("a".into()))
            .unwrap()
            .unwrap()
            .as_bytes()
            .to_vec()
    };
    let txn = store.write().unwrap();
    {
        let mut raw = txn.backend_txn().open_table("Account").unwrap();
        let mut other_key = Vec::new();
        netabase_store::key::Key::encode_key(&"z".to_string(), &mut other_key);
        raw.insert(&other_key, &bytes).unwrap();
    }
    txn.commit().unwrap();
    let txn = store.write().unwrap();
    {
        let mut tree = txn.open_tree::<Account>().unwrap();
        assert!(matches!(
            tree.rebuild_index(),
            Err(NetabaseError::UniqueViolation { key: "email", .. })
        ));
    }
    assert!(matches!(
        txn.commit(),
        Err(NetabaseError::TransactionPoisoned)
    ));
    assert!(store.rebuild_indexes().is_err());
    assert_eq!(raw_index(store), index_before);
    let read = store.read().unwrap();
    let accounts = read.open_tree::<Account>().unwrap();
    let by_email = AccountSecondaryKeys::Email(AccountEmailSecondaryKey("same@x".into()));
    assert_eq!(accounts.count_by_secondary_key(by_email).unwrap(), 1);
}

fn raw_index<B: Backend>(store: &S<B>) -> Vec<Vec<u8>> {
    use netabase_store::backend::{ReadTable, ReadTransaction};
    let txn = store.read().unwrap();
    let idx = txn.backend_txn().open_table("User.idx").unwrap();
    idx.range(
        std::ops::Bound::Unbounded,
        std::ops::Bound::Unbounded,
        netabase_store::backend::Direction::Forward,
    )
    .unwrap()
    .map(|e| e.unwrap().0.as_ref().to_vec())
    .collect()
}

/// A second write on the thread that holds a write transaction fails at once instead of
/// hanging; another thread waits its turn; once the first ends, writing works again.
pub fn reentrant_writes_fail_fast_and_other_threads_wait<B: Backend>(store: &S<B>) {
    let txn = store.write().unwrap();
    assert!(matches!(
        store.write().err(),
        Some(NetabaseError::ReentrantWrite)
    ));
    let users = store.open_tree::<User>();
    assert!(matches!(
        users.put(user(9, "r@x", 1)),
        Err(NetabaseError::ReentrantWrite)
    ));
    // Reads still work beside the write transaction.
    assert!(users.get(9).unwrap().is_none());
    std::thread::scope(|s| {
        let other = s.spawn(|| store.open_tree::<User>().put(user(8, "o@x", 1)));
        txn.open_tree::<User>()
            .unwrap()
            .put(user(7, "t@x", 1))
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        txn.commit().unwrap();
        other.join().unwrap().unwrap();
    });
    assert!(users.contains_key(7).unwrap() && users.contains_key(8).unwrap());
    users.put(user(9, "r@x", 1)).unwrap();
    // A transaction that ends by being dropped clears the mark too.
    drop(store.write().unwrap());
    store.write().unwrap().commit().unwrap();
}

/// Instantiates every suite function as a `#[test]` for one backend.
macro_rules! typed_suite {
    (let $h:ident = $make:expr; $store:expr) => {
        typed_suite!(@tests ($h, $make, $store);
            put_then_get_reads_the_archived_record,
            put_replaces_and_moves_secondary_entries,
            remove_returns_the_record_and_drops_its_index_entries,
            dropping_a_write_transaction_rolls_back_records_and_indexes,
            writes_are_invisible_to_readers_until_commit,
            unique_key_clash_is_an_error_and_writes_nothing,
            ranges_follow_primary_key_order,
            clear_empties_records_and_indexes,
            several_models_share_one_transaction,
            auto_commit_tree_returns_owned_values,
            definition_enum_wraps_and_unwraps_models,
            optional_multi_and_compound_keys_index_what_they_hold,
            unique_optional_key_clashes_on_insert_and_update,
            batches_apply_all_or_nothing,
            primary_prefix_and_pagination,
            rebuild_index_recomputes_entries_from_records,
            reentrant_writes_fail_fast_and_other_threads_wait,
        );
    };
    (@tests ($h:ident, $make:expr, $store:expr); $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let $h = $make;
                crate::suite::$name(&$store);
            }
        )*
    };
}

fn titles<'a, T: netabase_store::backend::ReadTable + 'a>(
    it: netabase_store::SecondaryIter<'a, Article, T>,
) -> Vec<String> {
    it.map(|r| r.unwrap().key.1.to_string()).collect()
}

pub fn optional_multi_and_compound_keys_index_what_they_hold<B: Backend>(store: &S<B>) {
    let txn = store.write().unwrap();
    {
        let mut t = txn.open_tree::<Article>().unwrap();
        t.put(article(1, "a", 2020, Some("rust"), &["db", "zero-copy"]))
            .unwrap();
        t.put(article(1, "b", 2021, None, &["db"])).unwrap();
        t.put(article(2, "c", 2020, Some("rust"), &[])).unwrap();
        t.put(article(2, "d", 2021, Some("go"), &["db", "db"]))
            .unwrap();
    }
    txn.commit().unwrap();
    let txn = store.read().unwrap();
    let t = txn.open_tree::<Article>().unwrap();
    // Optional: `None` is not indexed.
    let rust = ArticleSecondaryKeys::Category(ArticleCategorySecondaryKey("rust".into()));
    assert_eq!(titles(t.get_by_secondary_key(rust).unwrap()), ["a", "c"]);
    assert_eq!(
        t.query_by::<ArticleCategorySecondaryKey>().count().unwrap(),
        3
    );
    // Multi-valued: one entry per element (duplicates collapse).
    let db = ArticleSecondaryKeys::Tags(ArticleTagsSecondaryKey("db".into()));
    assert_eq!(
        titles(t.get_by_secondary_key(db.clone()).unwrap()),
        ["a", "b", "d"]
    );
    assert_eq!(t.query_by::<ArticleTagsSecondaryKey>().count().unwrap(), 4);
    // Compound: queried as a tuple, and by a prefix of it.
    let k = ArticleAuthorYearSecondaryKey((1, 2021));
    assert_eq!(titles(t.query_by().equal(k).iter().unwrap()), ["b"]);
    assert_eq!(
        titles(
            t.query_by::<ArticleAuthorYearSecondaryKey>()
                .prefix((2u64,))
                .iter()
                .unwrap()
        ),
        ["c", "d"]
    );
    // secondary_keys() lists exactly what is indexed.
    let a = t
        .get(ArticlePrimaryKey((1, "a".to_string())))
        .unwrap()
        .unwrap()
        .deserialize()
        .unwrap();
    assert_eq!(a.secondary_keys().len(), 1 + 2 + 1);

    // Updates: a record whose multi-valued key loses an element no longer turns up under it;
    // an optional key set to None leaves its index.
    let txn = store.write().unwrap();
    {
        let mut t = txn.open_tree::<Article>().unwrap();
        t.put(article(1, "a", 2020, None, &["zero-copy"])).unwrap();
    }
    txn.commit().unwrap();
    let txn = store.read().unwrap();
    let t = txn.open_tree::<Article>().unwrap();
    assert_eq!(titles(t.get_by_secondary_key(db).unwrap()), ["b", "d"]);
    let rust = ArticleSecondaryKeys::Category(ArticleCategorySecondaryKey("rust".into()));
    assert_eq!(titles(t.get_by_secondary_key(rust).unwrap()), ["c"]);
}

pub fn unique_optional_key_clashes_on_insert_and_update<B: Backend>(store: &S<B>) {
    let with_slug = |title: &str, slug: Option<&str>| Article {
        slug: slug.map(str::to_string),
        ..article(1, title, 2020, None, &[])
    };
    let txn = store.write().unwrap();
    {
        let mut t = txn.open_tree::<Article>().unwrap();
        t.put(with_slug("a", Some("hello"))).unwrap();
        // Any number of records may have no slug.
        t.put(with_slug("b", None)).unwrap();
        t.put(with_slug("c", None)).unwrap();
        assert!(matches!(
            t.put(with_slug("d", Some("hello"))),
            Err(NetabaseError::UniqueViolation { key: "slug", .. })
        ));
        assert!(matches!(
            t.put(with_slug("b", Some("hello"))),
            Err(NetabaseError::UniqueViolation { .. })
        ));
        assert!(
            t.get(ArticlePrimaryKey((1, "d".to_string())))
                .unwrap()
                .is_none()
        );
        assert!(
            t.get(ArticlePrimaryKey((1, "b".to_string())))
                .unwrap()
                .unwrap()
                .slug
                .is_none()
        );
    }
    txn.commit().unwrap();
}

#[allow(deprecated)]
pub fn batches_apply_all_or_nothing<B: Backend>(store: &S<B>) {
    let accounts = store.open_tree::<Account>();
    let account = |h: &str, e: &str| Account {
        handle: h.into(),
        email: e.into(),
        plan: None,
    };
    accounts.put(account("taken", "t@x")).unwrap();
    // The 0.0.x names still work (deprecated: they return `Result`s that cannot fail).
    let mut batch = accounts.create_batch().unwrap();
    batch.put(account("a", "a@x")).unwrap();
    batch.put(account("b", "b@x")).unwrap();
    batch.remove(AccountPrimaryKey("taken".into())).unwrap();
    assert_eq!(batch.len(), 3);
    batch.commit().unwrap();
    assert_eq!(accounts.len().unwrap(), 2);

    let mut batch = accounts.batch();
    batch
        .insert(account("c", "c@x"))
        .delete(AccountPrimaryKey("a".into()))
        .insert(account("d", "b@x")); // clashes with b
    batch.put(account("e", "e@x")).unwrap();
    assert!(matches!(
        batch.commit(),
        Err(NetabaseError::UniqueViolation { .. })
    ));
    // Nothing of the failed batch was written.
    assert_eq!(accounts.len().unwrap(), 2);
    assert!(
        accounts
            .get(AccountPrimaryKey("a".into()))
            .unwrap()
            .is_some()
    );
    assert!(
        accounts
            .get(AccountPrimaryKey("c".into()))
            .unwrap()
            .is_none()
    );

    // Dropping a batch discards it.
    // The 0.0.x names still work (deprecated: they return `Result`s that cannot fail).
    let mut batch = accounts.create_batch().unwrap();
    batch.put(account("z", "z@x")).unwrap();
    drop(batch);
    assert_eq!(accounts.len().unwrap(), 2);
    assert_eq!(
        accounts
            .remove_many([AccountPrimaryKey("a".into()), AccountPrimaryKey("q".into())])
            .unwrap(),
        1
    );
}

pub fn primary_prefix_and_pagination<B: Backend>(store: &S<B>) {
    let txn = store.write().unwrap();
    {
        let mut t = txn.open_tree::<Article>().unwrap();
        for author in 1..=3u64 {
            for title in ["alpha", "alpine", "beta", "gamma"] {
                t.put(article(author, title, 2000, None, &[])).unwrap();
            }
        }
    }
    txn.commit().unwrap();
    let txn = store.read().unwrap();
    let t = txn.open_tree::<Article>().unwrap();
    let keys = |it: netabase_store::Iter<'_, Article, _>| -> Vec<(u64, String)> {
        it.map(|r| {
            let r = r.unwrap();
            (r.key.0.to_native(), r.key.1.to_string())
        })
        .collect()
    };
    use netabase_store::key::StrPrefix;
    assert_eq!(keys(t.query().prefix((2u64,)).iter().unwrap()).len(), 4);
    assert_eq!(
        keys(t.query().prefix((2u64, StrPrefix("alp"))).iter().unwrap()),
        [(2, "alpha".to_string()), (2, "alpine".to_string())]
    );
    assert_eq!(
        keys(t.query().prefix((3u64,)).rev().limit(2).iter().unwrap()),
        [(3, "gamma".to_string()), (3, "beta".to_string())]
    );
    assert_eq!(t.query().prefix((1u64, StrPrefix(""))).count().unwrap(), 4);

    // Pages of 5 cover everything once, in order.
    let mut seen = Vec::new();
    let mut cursor: Option<netabase_store::Cursor> = None;
    loop {
        let mut q = t.query().limit(5);
        if let Some(c) = &cursor {
            q = q.after(c);
        }
        let page = q.page().unwrap();
        assert!(page.items.len() <= 5);
        seen.extend(
            page.items
                .iter()
                .map(|r| (r.key.0.to_native(), r.key.1.to_string())),
        );
        match page.next {
            Some(c) => cursor = Some(netabase_store::Cursor::from_bytes(c.as_bytes().to_vec())),
            None => break,
        }
    }
    assert_eq!(seen, keys(t.iter().unwrap()));
    assert_eq!(seen.len(), 12);
}
