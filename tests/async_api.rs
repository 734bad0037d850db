//! The async typed API on every native backend (through `SyncAsAsync`): a model-based test
//! against a `BTreeMap` oracle, byte-for-byte equality with the synchronous path, and the
//! typed essentials (every kind of secondary key, ranges both ways, pages, rollback on drop,
//! unique violations, the auto-commit tree, reopening).
mod common;
use common::*;

use std::collections::BTreeMap;
use std::ops::Bound;

use futures_executor::block_on;
use netabase_store::backend::{
    AsyncBackend, AsyncReadTable, Backend, Direction, ReadTable, ReadTransaction, SyncAsAsync,
};
use netabase_store::traits::model::NetabaseModelTrait;
use netabase_store::{AsyncStore, AsyncTree, MemoryBackend, NetabaseError, RedbBackend, Store};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    PutUser { id: u64, email: u8, age: u8 },
    PutAccount { handle: u8, email: u8, plan: u8 },
    RemoveUser { id: u64 },
    RemoveAccount { handle: u8 },
    ClearUsers,
    Commit,
    Rollback,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0u64..8, 0u8..4, 0u8..3).prop_map(|(id, email, age)| Op::PutUser { id, email, age }),
        4 => (0u8..5, 0u8..4, 0u8..3).prop_map(|(handle, email, plan)| Op::PutAccount { handle, email, plan }),
        3 => (0u64..8).prop_map(|id| Op::RemoveUser { id }),
        2 => (0u8..5).prop_map(|handle| Op::RemoveAccount { handle }),
        1 => Just(Op::ClearUsers),
        2 => Just(Op::Commit),
        1 => Just(Op::Rollback),
    ]
}

fn email(n: u8) -> String {
    ["a", "a\0", "ab", ""][n as usize].to_string()
}

fn account(handle: u8, email_n: u8, plan: u8) -> Account {
    Account {
        handle: format!("h{handle}"),
        email: email(email_n),
        plan: [None, Some("free".to_string()), Some("pro".to_string())][plan as usize].clone(),
    }
}

#[derive(Clone, Default, Debug, PartialEq)]
struct Oracle {
    users: BTreeMap<u64, User>,
    accounts: BTreeMap<String, Account>,
}

/// Every read of the async API agrees with the oracle.
async fn check_reads(
    users: &AsyncTree<'_, User, impl AsyncReadTable>,
    accounts: &AsyncTree<'_, Account, impl AsyncReadTable>,
    oracle: &Oracle,
) {
    assert_eq!(users.len().await.unwrap(), oracle.users.len() as u64);
    for id in 0..8u64 {
        let got = users.get(UserPrimaryKey(id)).await.unwrap();
        let got = got.map(|r| r.deserialize().unwrap());
        assert_eq!(got.as_ref(), oracle.users.get(&id), "get({id})");
    }
    for e in 0..4 {
        let want: Vec<u64> = oracle
            .users
            .values()
            .filter(|u| u.email == email(e))
            .map(|u| u.id)
            .collect();
        let got: Vec<u64> = users
            .get_by(User::EMAIL, email(e))
            .await
            .unwrap()
            .iter()
            .map(|r| r.id.to_native())
            .collect();
        assert_eq!(got, want, "users by email {e}");
        let accounts_holding: Vec<String> = oracle
            .accounts
            .values()
            .filter(|a| a.email == email(e))
            .map(|a| a.handle.clone())
            .collect();
        let got: Vec<String> = accounts
            .get_by(Account::EMAIL, email(e))
            .await
            .unwrap()
            .iter()
            .map(|r| r.handle.as_str().to_string())
            .collect();
        assert_eq!(got, accounts_holding, "accounts by unique email {e}");
    }
    for age in 0..3u8 {
        let want = oracle.users.values().filter(|u| u.age == age).count() as u64;
        assert_eq!(users.count_by(User::AGE, age).await.unwrap(), want);
    }
    let forward: Vec<u64> = users
        .range(UserPrimaryKey(2)..UserPrimaryKey(6))
        .await
        .unwrap()
        .iter()
        .map(|r| r.id.to_native())
        .collect();
    let want: Vec<u64> = oracle.users.range(2..6).map(|(k, _)| *k).collect();
    assert_eq!(forward, want, "range");
    let reverse: Vec<u64> = users
        .range_rev(..)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id.to_native())
        .collect();
    let want: Vec<u64> = oracle.users.keys().rev().copied().collect();
    assert_eq!(reverse, want, "range_rev");
    // Pages of two, following cursors, cover the accounts exactly once, in order.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let mut query = accounts.query().limit(2);
        if let Some(c) = &cursor {
            query = query.after(c);
        }
        let page = query.page().await.unwrap();
        seen.extend(page.items.iter().map(|r| r.handle.as_str().to_string()));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let want: Vec<String> = oracle.accounts.keys().cloned().collect();
    assert_eq!(seen, want, "pages");
}

async fn run<B: AsyncBackend>(store: &AsyncStore<BlogDefinition, B>, ops: Vec<Op>) {
    let mut committed = Oracle::default();
    let mut pending = committed.clone();
    let mut txn = None;
    for op in ops {
        if txn.is_none() {
            txn = Some(store.write().await.unwrap());
        }
        let w = txn.as_ref().unwrap();
        match op {
            Op::PutUser { id, email: e, age } => {
                let u = user(id, &email(e), age);
                w.open_tree::<User>().await.unwrap().put(&u).await.unwrap();
                pending.users.insert(id, u);
            }
            Op::PutAccount {
                handle,
                email: e,
                plan,
            } => {
                let a = account(handle, e, plan);
                let taken_by_other = pending
                    .accounts
                    .values()
                    .any(|o| o.email == a.email && o.handle != a.handle);
                let result = w.open_tree::<Account>().await.unwrap().put(&a).await;
                if taken_by_other {
                    assert!(
                        matches!(result, Err(NetabaseError::UniqueViolation { .. })),
                        "{result:?}"
                    );
                } else {
                    result.unwrap();
                    pending.accounts.insert(a.handle.clone(), a);
                }
            }
            Op::RemoveUser { id } => {
                let mut tree = w.open_tree::<User>().await.unwrap();
                let removed = tree.remove(UserPrimaryKey(id)).await.unwrap();
                assert_eq!(removed, pending.users.remove(&id));
            }
            Op::RemoveAccount { handle } => {
                let mut tree = w.open_tree::<Account>().await.unwrap();
                let removed = tree
                    .delete(AccountPrimaryKey(format!("h{handle}")))
                    .await
                    .unwrap();
                let handle = format!("h{handle}");
                assert_eq!(removed, pending.accounts.remove(&handle).is_some());
            }
            Op::ClearUsers => {
                w.open_tree::<User>().await.unwrap().clear().await.unwrap();
                pending.users.clear();
            }
            Op::Commit => {
                txn.take().unwrap().commit().await.unwrap();
                committed = pending.clone();
            }
            Op::Rollback => {
                drop(txn.take());
                pending = committed.clone();
            }
        }
        if let Some(w) = &txn {
            let users = w.open_tree::<User>().await.unwrap();
            let accounts = w.open_tree::<Account>().await.unwrap();
            check_reads(&users, &accounts, &pending).await;
        }
        let r = store.read().await.unwrap();
        let users = r.open_tree::<User>().await.unwrap();
        let accounts = r.open_tree::<Account>().await.unwrap();
        check_reads(&users, &accounts, &committed).await;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn async_memory_agrees_with_the_oracle(ops in prop::collection::vec(op(), 1..30)) {
        block_on(async {
            let store = AsyncStore::<BlogDefinition, _>::from_backend(SyncAsAsync(MemoryBackend::new())).await.unwrap();
            run(&store, ops).await;
        });
    }

    #[test]
    fn async_redb_agrees_with_the_oracle(ops in prop::collection::vec(op(), 1..30)) {
        block_on(async {
            let backend = SyncAsAsync(RedbBackend::in_memory().unwrap());
            let store = AsyncStore::<BlogDefinition, _>::from_backend(backend).await.unwrap();
            run(&store, ops).await;
        });
    }

    /// The async and the sync path write identical bytes for the same operations (they drive
    /// the same steps).
    #[test]
    fn async_and_sync_write_the_same_bytes(ops in prop::collection::vec(op(), 1..30)) {
        let sync = Store::<BlogDefinition, _>::memory().unwrap();
        let async_store = block_on(AsyncStore::<BlogDefinition, _>::from_backend(SyncAsAsync(MemoryBackend::new()))).unwrap();
        {
            let s = sync.write().unwrap();
            let a = block_on(async_store.write()).unwrap();
            for op in &ops {
                match op {
                    Op::PutUser { id, email: e, age } => {
                        let u = user(*id, &email(*e), *age);
                        s.open_tree::<User>().unwrap().put(&u).unwrap();
                        block_on(async { a.open_tree::<User>().await.unwrap().put(&u).await.unwrap() });
                    }
                    Op::PutAccount { handle, email: e, plan } => {
                        let acc = account(*handle, *e, *plan);
                        let rs = s.open_tree::<Account>().unwrap().put(&acc).map_err(|e| e.to_string());
                        let ra = block_on(async { a.open_tree::<Account>().await.unwrap().put(&acc).await }).map_err(|e| e.to_string());
                        prop_assert_eq!(rs, ra);
                    }
                    Op::RemoveUser { id } => {
                        let rs = s.open_tree::<User>().unwrap().remove(UserPrimaryKey(*id)).unwrap();
                        let ra = block_on(async { a.open_tree::<User>().await.unwrap().remove(UserPrimaryKey(*id)).await.unwrap() });
                        prop_assert_eq!(rs, ra);
                    }
                    Op::RemoveAccount { handle } => {
                        let key = AccountPrimaryKey(format!("h{handle}"));
                        let rs = s.open_tree::<Account>().unwrap().delete(key.clone()).unwrap();
                        let ra = block_on(async { a.open_tree::<Account>().await.unwrap().delete(key).await.unwrap() });
                        prop_assert_eq!(rs, ra);
                    }
                    Op::ClearUsers => {
                        s.open_tree::<User>().unwrap().clear().unwrap();
                        block_on(async { a.open_tree::<User>().await.unwrap().clear().await.unwrap() });
                    }
                    Op::Commit | Op::Rollback => {}
                }
            }
            s.commit().unwrap();
            block_on(a.commit()).unwrap();
        }
        for table in [User::INFO.table, User::INFO.index_table, Account::INFO.table, Account::INFO.index_table] {
            prop_assert_eq!(dump(sync.backend(), table), dump(async_store.backend().get_ref(), table), "table {}", table);
        }
    }
}

/// On sled, one store for every case (dropping a sled store waits for sled to close its
/// files); each case starts from empty trees.
#[test]
fn async_sled_agrees_with_the_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let config = netabase_store::FileConfig::builder()
        .path(dir.path().join("db"))
        .use_fsync(false)
        .build();
    let store = AsyncStore::from_sync(Store::<BlogDefinition, _>::open_sled(config).unwrap());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 32,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(op(), 1..30), |ops| {
            block_on(async {
                store.open_tree::<User>().clear().await.unwrap();
                store.open_tree::<Account>().clear().await.unwrap();
                run(&store, ops).await;
            });
            Ok(())
        })
        .unwrap();
}

fn dump<B: Backend>(backend: &B, table: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let txn = backend.begin_read().unwrap();
    let t = txn.open_table(table).unwrap();
    t.range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)
        .unwrap()
        .map(|e| {
            let (k, v) = e.unwrap();
            (k.as_ref().to_vec(), v.as_ref().to_vec())
        })
        .collect()
}

/// Optional, multi-valued, compound and unique secondary keys; ranges, prefixes and pages by
/// a secondary key; rollback on drop; `put_many` all or nothing; the auto-commit tree.
#[test]
fn typed_essentials_on_the_async_api() {
    block_on(async {
        let store =
            AsyncStore::<BlogDefinition, _>::from_backend(SyncAsAsync(MemoryBackend::new()))
                .await
                .unwrap();
        let txn = store.write().await.unwrap();
        {
            let mut articles = txn.open_tree::<Article>().await.unwrap();
            let mut a = article(7, "intro", 2024, Some("news"), &["rust", "db"]);
            a.slug = Some("intro".into());
            articles.put(&a).await.unwrap();
            articles
                .put(article(7, "later", 2025, None, &["rust"]))
                .await
                .unwrap();
            articles
                .put(article(8, "other", 2024, Some("news"), &[]))
                .await
                .unwrap();
            let mut dup = article(9, "dup", 2020, None, &[]);
            dup.slug = Some("intro".into());
            assert!(matches!(
                articles.put(&dup).await,
                Err(NetabaseError::UniqueViolation { key: "slug", .. })
            ));
            assert!(!articles.contains_key((9, "dup".to_string())).await.unwrap());
        }
        txn.commit().await.unwrap();

        let txn = store.read().await.unwrap();
        let articles = txn.open_tree::<Article>().await.unwrap();
        assert_eq!(articles.count_by(Article::TAGS, "rust").await.unwrap(), 2);
        assert_eq!(articles.count_by(Article::TAGS, "db").await.unwrap(), 1);
        assert_eq!(
            articles
                .count_by(Article::AUTHOR_YEAR, (7, 2024))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            articles.count_by(Article::CATEGORY, "news").await.unwrap(),
            2
        );
        // An optional key that is `None` has no index entry: the query by category sees two.
        assert_eq!(
            articles
                .query_by::<ArticleCategorySecondaryKey>()
                .count()
                .await
                .unwrap(),
            2
        );
        let by_slug = articles.get_by(Article::SLUG, "intro").await.unwrap();
        assert_eq!(by_slug.len(), 1);
        assert_eq!(by_slug[0].key.1, "intro");
        // Author 7's articles by primary-key prefix, both ways.
        let titles = |v: &[netabase_store::Ref<Article, _>]| {
            v.iter().map(|r| r.key.1.to_string()).collect::<Vec<_>>()
        };
        let of_7 = articles.query().prefix((7u64,)).collect().await.unwrap();
        assert_eq!(titles(&of_7), ["intro", "later"]);
        let of_7_rev = articles
            .query()
            .prefix((7u64,))
            .rev()
            .collect()
            .await
            .unwrap();
        assert_eq!(titles(&of_7_rev), ["later", "intro"]);
        // A secondary range (years 2024..=2025 of author 7) and pages over a secondary key.
        let years = articles
            .query_by::<ArticleAuthorYearSecondaryKey>()
            .range(
                ArticleAuthorYearSecondaryKey((7, 2024))..=ArticleAuthorYearSecondaryKey((7, 2025)),
            )
            .collect()
            .await
            .unwrap();
        assert_eq!(titles(&years), ["intro", "later"]);
        let first = articles
            .query_by::<ArticleTagsSecondaryKey>()
            .equal("rust")
            .limit(1)
            .page()
            .await
            .unwrap();
        assert_eq!(titles(&first.items), ["intro"]);
        let cursor = first.next.expect("a second page");
        let second = articles
            .query_by::<ArticleTagsSecondaryKey>()
            .equal("rust")
            .limit(1)
            .after(&cursor)
            .page()
            .await
            .unwrap();
        assert_eq!(titles(&second.items), ["later"]);
        assert!(second.next.is_none());
        drop(articles);
        drop(txn);

        // Rollback on drop, and put_many is all or nothing.
        {
            let txn = store.write().await.unwrap();
            let mut users = txn.open_tree::<User>().await.unwrap();
            users.put(user(1, "dropped", 1)).await.unwrap();
        }
        let users = store.open_tree::<User>();
        assert_eq!(users.len().await.unwrap(), 0, "a dropped transaction");
        let accounts = store.open_tree::<Account>();
        let err = accounts
            .put_many([account(1, 0, 0), account(2, 1, 0), account(3, 0, 0)])
            .await;
        assert!(matches!(err, Err(NetabaseError::UniqueViolation { .. })));
        assert_eq!(accounts.len().await.unwrap(), 0, "put_many rolled back");

        // The auto-commit tree.
        users
            .put_many([user(1, "a@x", 30), user(2, "b@x", 30)])
            .await
            .unwrap();
        assert_eq!(
            users.get(UserPrimaryKey(1)).await.unwrap(),
            Some(user(1, "a@x", 30))
        );
        assert_eq!(users.get_by(User::AGE, 30).await.unwrap().len(), 2);
        assert_eq!(
            users.remove(UserPrimaryKey(2)).await.unwrap(),
            Some(user(2, "b@x", 30))
        );
        assert_eq!(users.all().await.unwrap(), [user(1, "a@x", 30)]);
        assert_eq!(
            users
                .remove_many([UserPrimaryKey(1), UserPrimaryKey(9)])
                .await
                .unwrap(),
            1
        );
        assert!(users.is_empty().await.unwrap());
        users.put(user(5, "c@x", 1)).await.unwrap();
        users.clear().await.unwrap();
        assert!(users.is_empty().await.unwrap());

        // One writer at a time: a second write while the first is alive is an error, not a
        // self-deadlock.
        let first = store.write().await.unwrap();
        assert!(matches!(
            store.write().await,
            Err(NetabaseError::ReentrantWrite)
        ));
        drop(first);
        store.write().await.unwrap().abort().await.unwrap();
    });
}

/// An async store records its schema like the sync one: a store written through the async API
/// reopens with the sync store, and the other way round, with data intact.
#[test]
fn async_and_sync_stores_open_each_others_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.redb");
    block_on(async {
        let backend = SyncAsAsync(RedbBackend::create(&path).unwrap());
        let store = AsyncStore::<BlogDefinition, _>::from_backend(backend)
            .await
            .unwrap();
        store
            .open_tree::<User>()
            .put(user(1, "a@x", 3))
            .await
            .unwrap();
    });
    let sync =
        Store::<BlogDefinition, _>::from_backend(RedbBackend::create(&path).unwrap()).unwrap();
    sync.open_tree::<User>().put(user(2, "b@x", 3)).unwrap();
    let store = AsyncStore::from_sync(sync);
    block_on(async {
        let users = store.open_tree::<User>();
        assert_eq!(users.get_by(User::AGE, 3).await.unwrap().len(), 2);
    });
    drop(store);
    block_on(async {
        let backend = SyncAsAsync(RedbBackend::create(&path).unwrap());
        let store = AsyncStore::<BlogDefinition, _>::from_backend(backend)
            .await
            .unwrap();
        assert_eq!(store.open_tree::<User>().len().await.unwrap(), 2);
    });
}

/// A store of another definition is refused by the async open too, naming the definition.
#[test]
fn async_open_refuses_another_definition() {
    #[netabase_store::netabase_definition_module(OtherDefinition, OtherKeys)]
    mod other {
        #[derive(netabase_store::NetabaseModel, Clone, Debug)]
        #[netabase(OtherDefinition)]
        pub struct Note {
            #[primary_key]
            pub id: u64,
        }
    }
    let backend = Store::<other::OtherDefinition, _>::memory()
        .unwrap()
        .into_backend();
    let err = block_on(AsyncStore::<BlogDefinition, _>::from_backend(SyncAsAsync(
        backend,
    )));
    match err {
        Err(NetabaseError::SchemaMismatch { details, .. }) => {
            assert!(details.contains("OtherDefinition"), "{details}")
        }
        other => panic!("expected SchemaMismatch, got {:?}", other.map(|_| ())),
    }
}

/// Async reads stay truthful while other threads commit (as `tests/concurrent_reads.rs` for
/// the sync trees): on sled (read-committed) every record a secondary lookup returns holds the
/// queried value, and a concurrent commit is never reported as `IndexInconsistent`. Bounded by
/// iteration counts.
#[test]
fn async_reads_stay_truthful_under_concurrent_commits_on_sled() {
    use std::sync::atomic::{AtomicBool, Ordering};
    const USERS: u64 = 40;
    let dir = tempfile::tempdir().unwrap();
    let config = netabase_store::FileConfig::builder()
        .path(dir.path().join("db"))
        .use_fsync(false)
        .build();
    let store = AsyncStore::from_sync(Store::<BlogDefinition, _>::open_sled(config).unwrap());
    block_on(
        store
            .open_tree::<User>()
            .put_many((0..USERS).map(|id| user(id, &format!("e{}", id % 8), (id % 4) as u8))),
    )
    .unwrap();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        for w in 0..2u64 {
            let (store, done) = (&store, &done);
            s.spawn(move || {
                let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ w;
                for i in 0..300u64 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let id = x % USERS;
                    block_on(async {
                        let txn = store.write().await.unwrap();
                        {
                            let mut tree = txn.open_tree::<User>().await.unwrap();
                            if i % 5 == 0 {
                                tree.delete(UserPrimaryKey(id)).await.unwrap();
                            } else {
                                let u = user(id, &format!("e{}", x % 8), ((x >> 8) % 4) as u8);
                                tree.put(u).await.unwrap();
                            }
                        }
                        txn.commit().await.unwrap();
                    });
                }
                done.store(true, Ordering::Release);
            });
        }
        for r in 0..2u64 {
            let (store, done) = (&store, &done);
            s.spawn(move || {
                let mut i = r;
                let mut n = 0;
                while !done.load(Ordering::Acquire) || n < 100 {
                    i += 1;
                    n += 1;
                    let age = (i % 4) as u8;
                    let email = format!("e{}", i % 8);
                    block_on(async {
                        let txn = store.read().await.unwrap();
                        let tree = txn.open_tree::<User>().await.unwrap();
                        let by_age = tree.get_by(User::AGE, age).await;
                        for u in by_age.expect("a concurrent commit is not damage") {
                            assert_eq!(u.age, age, "a lookup by age returned another age");
                        }
                        let by_email = tree.get_by(User::EMAIL, email.as_str()).await;
                        for u in by_email.expect("a concurrent commit is not damage") {
                            assert_eq!(u.email.as_str(), email, "a lookup by email");
                        }
                    });
                }
            });
        }
    });
}
