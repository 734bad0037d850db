//! Browser tests in headless Chromium (`scripts/browser_tests.sh`): the async conformance kit
//! on IndexedDB and on the memory backend, the typed essentials on IndexedDB, the atomicity of
//! a write transaction across a foreign await, persistence across closing and reopening, and
//! the cross-platform format fixture written on native.
#![cfg(target_arch = "wasm32")]

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::cell::Cell;
use std::fmt::Write as _;
use std::ops::Bound;

use common::*;
use netabase_backend_api::async_conformance::{Adapted, AsyncHarness};
use netabase_backend_api::conformance::Harness;
use netabase_backend_api::{
    AsyncBackend, AsyncReadTable, AsyncReadTransaction, AsyncWriteTable, AsyncWriteTransaction,
    Direction,
};
use netabase_backend_indexeddb::IndexedDbBackend;
use netabase_backend_memory::MemoryBackend;
use netabase_store::traits::definition::NetabaseDefinitionTrait;
use netabase_store::{IndexedDBStore, NetabaseError};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    static COUNTER: Cell<u32> = const { Cell::new(0) };
}

/// A database name no other test (or earlier run in the same profile) uses.
fn unique(prefix: &str) -> String {
    let n = COUNTER.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    format!("{prefix}-{}-{n}", js_sys::Date::now() as u64)
}

/// Awaits a macrotask (`setTimeout`): the kind of await that makes IndexedDB auto-commit.
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let set_timeout: js_sys::Function =
            js_sys::Reflect::get(&js_sys::global(), &"setTimeout".into())
                .expect("setTimeout")
                .dyn_into()
                .expect("a function");
        set_timeout
            .call2(&wasm_bindgen::JsValue::NULL, &resolve, &ms.into())
            .expect("setTimeout call");
    });
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .expect("timer");
}

// ---------------------------------------------------------------------------------------------
// The async conformance kit
// ---------------------------------------------------------------------------------------------

struct IdbHarness {
    name: String,
    backend: Option<IndexedDbBackend>,
}

impl AsyncHarness for IdbHarness {
    type Backend = IndexedDbBackend;

    async fn new() -> Self {
        let name = unique("kit");
        let backend = IndexedDbBackend::open(&name, &[]).await.expect("open");
        IdbHarness {
            name,
            backend: Some(backend),
        }
    }

    fn backend(&self) -> &IndexedDbBackend {
        self.backend.as_ref().expect("open")
    }

    async fn reopen(&mut self) {
        self.backend.take().expect("open").close();
        self.backend = Some(
            IndexedDbBackend::open(&self.name, &[])
                .await
                .expect("reopen"),
        );
    }
}

netabase_backend_api::async_conformance_tests!(#[wasm_bindgen_test] indexeddb_kit: IdbHarness);

struct MemoryHarness(MemoryBackend);

impl Harness for MemoryHarness {
    type Backend = MemoryBackend;

    fn new() -> Self {
        MemoryHarness(MemoryBackend::new())
    }

    fn backend(&self) -> &MemoryBackend {
        &self.0
    }

    fn reopen(&mut self) {}
}

netabase_backend_api::async_conformance_tests!(
    #[wasm_bindgen_test] memory_kit: Adapted<MemoryHarness>
);

// ---------------------------------------------------------------------------------------------
// Typed essentials
// ---------------------------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn typed_put_get_update_remove_and_every_secondary_key() {
    let store = IndexedDBStore::<BlogDefinition>::new(&unique("typed"))
        .await
        .unwrap();
    let txn = store.write().await.unwrap();
    {
        let mut users = txn.open_tree::<User>().await.unwrap();
        users.put(user(1, "a@x", 30)).await.unwrap();
        users.put(user(2, "b@x", 30)).await.unwrap();
        users.put(user(3, "c@x", 40)).await.unwrap();
        // Update: the old email's index entry goes, the new one comes.
        users.put(user(2, "b2@x", 41)).await.unwrap();
        let mut articles = txn.open_tree::<Article>().await.unwrap();
        let mut a = article(7, "intro", 2024, Some("news"), &["rust", "db"]);
        a.slug = Some("intro".into());
        articles.put(&a).await.unwrap();
        articles
            .put(article(7, "later", 2025, None, &["rust"]))
            .await
            .unwrap();
        let mut dup = article(8, "dup", 2020, None, &[]);
        dup.slug = Some("intro".into());
        assert!(matches!(
            articles.put(&dup).await,
            Err(NetabaseError::UniqueViolation { key: "slug", .. })
        ));
        let mut accounts = txn.open_tree::<Account>().await.unwrap();
        accounts
            .put(Account {
                handle: "alice".into(),
                email: "alice@x".into(),
                plan: Some("pro".into()),
            })
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();

    let txn = store.read().await.unwrap();
    let users = txn.open_tree::<User>().await.unwrap();
    let one = users.get(UserPrimaryKey(1)).await.unwrap().unwrap();
    assert_eq!(one.email, "a@x"); // derefs to ArchivedUser
    assert_eq!(one.deserialize().unwrap(), user(1, "a@x", 30));
    assert!(users.get_by(User::EMAIL, "b@x").await.unwrap().is_empty());
    assert_eq!(users.get_by(User::EMAIL, "b2@x").await.unwrap().len(), 1);
    assert_eq!(users.count_by(User::AGE, 30).await.unwrap(), 1);
    let ids = |v: &[netabase_store::Ref<User, Vec<u8>>]| {
        v.iter().map(|r| r.id.to_native()).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&users.range(UserPrimaryKey(2)..).await.unwrap()),
        [2, 3]
    );
    assert_eq!(ids(&users.range_rev(..).await.unwrap()), [3, 2, 1]);
    let page = users.query().limit(2).page().await.unwrap();
    assert_eq!(ids(&page.items), [1, 2]);
    let rest = users
        .query()
        .limit(2)
        .after(page.next.as_ref().expect("more"))
        .page()
        .await
        .unwrap();
    assert_eq!(ids(&rest.items), [3]);
    assert!(rest.next.is_none());
    let by_age_rev = users
        .query_by::<UserAgeSecondaryKey>()
        .rev()
        .collect()
        .await
        .unwrap();
    assert_eq!(ids(&by_age_rev), [2, 3, 1]);

    let articles = txn.open_tree::<Article>().await.unwrap();
    assert_eq!(articles.count_by(Article::TAGS, "rust").await.unwrap(), 2);
    assert_eq!(
        articles
            .count_by(Article::AUTHOR_YEAR, (7, 2025))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        articles.count_by(Article::CATEGORY, "news").await.unwrap(),
        1
    );
    assert_eq!(
        articles.get_by(Article::SLUG, "intro").await.unwrap().len(),
        1
    );
    let accounts = txn.open_tree::<Account>().await.unwrap();
    assert_eq!(accounts.count_by(Account::PLAN, "pro").await.unwrap(), 1);

    // Remove, remove_many, clear through the auto-commit tree.
    let users = store.open_tree::<User>();
    assert_eq!(
        users.remove(UserPrimaryKey(1)).await.unwrap(),
        Some(user(1, "a@x", 30))
    );
    assert_eq!(
        users
            .remove_many([UserPrimaryKey(2), UserPrimaryKey(9)])
            .await
            .unwrap(),
        1
    );
    assert!(users.get_by(User::EMAIL, "a@x").await.unwrap().is_empty());
    assert_eq!(users.len().await.unwrap(), 1);
    users.clear().await.unwrap();
    assert!(users.is_empty().await.unwrap());
}

#[wasm_bindgen_test]
async fn a_dropped_write_transaction_rolls_back() {
    let store = IndexedDBStore::<BlogDefinition>::new(&unique("drop"))
        .await
        .unwrap();
    store
        .open_tree::<User>()
        .put(user(1, "kept@x", 1))
        .await
        .unwrap();
    {
        let txn = store.write().await.unwrap();
        let mut users = txn.open_tree::<User>().await.unwrap();
        users.put(user(2, "lost@x", 1)).await.unwrap();
        users.delete(UserPrimaryKey(1)).await.unwrap();
        assert_eq!(
            users.len().await.unwrap(),
            1,
            "the transaction sees its own writes"
        );
    }
    let users = store.open_tree::<User>();
    assert_eq!(users.all().await.unwrap(), [user(1, "kept@x", 1)]);
    assert!(
        users
            .get_by(User::EMAIL, "lost@x")
            .await
            .unwrap()
            .is_empty()
    );
}

/// The hazard: a raw IndexedDB transaction is committed by the browser at the first foreign
/// await, so work after a timer fails and work before it is committed (half a transaction).
/// Our write transaction awaits timers freely: all of it commits, or (dropped) none of it.
#[wasm_bindgen_test]
async fn a_foreign_await_inside_a_write_transaction_never_commits_half() {
    use indexed_db_futures::prelude::*;
    use indexed_db_futures::transaction::TransactionMode;

    // Raw IndexedDB, to show the hazard is real in this browser.
    let name = unique("raw");
    let backend = IndexedDbBackend::open(&name, &["t"]).await.unwrap();
    backend.close();
    let db = indexed_db_futures::database::Database::open(name.as_str())
        .await
        .unwrap();
    let tx = db
        .transaction("t")
        .with_mode(TransactionMode::Readwrite)
        .build()
        .unwrap();
    let raw = tx.object_store("t").unwrap();
    raw.put(wasm_bindgen::JsValue::from(1))
        .with_key(wasm_bindgen::JsValue::from("first"))
        .primitive()
        .unwrap()
        .await
        .unwrap();
    sleep(20).await;
    let second = raw
        .put(wasm_bindgen::JsValue::from(2))
        .with_key(wasm_bindgen::JsValue::from("second"))
        .primitive();
    let failed = match second {
        Err(_) => true,
        Ok(request) => request.await.is_err(),
    };
    assert!(failed, "a raw transaction stays usable across a timer");
    drop(raw);
    drop(tx);
    db.close();
    let backend = IndexedDbBackend::open(&name, &["t"]).await.unwrap();
    let read = backend.begin_read().await.unwrap();
    let t = read.open_table("t").await.unwrap();
    assert_eq!(
        t.len().await.unwrap(),
        1,
        "the raw transaction committed half"
    );
    backend.close();

    // The store: timers between writes, a reader in the middle, then commit.
    let store = IndexedDBStore::<BlogDefinition>::new(&unique("atomic"))
        .await
        .unwrap();
    let txn = store.write().await.unwrap();
    {
        let mut users = txn.open_tree::<User>().await.unwrap();
        users.put(user(1, "a@x", 1)).await.unwrap();
        sleep(20).await;
        users.put(user(2, "b@x", 1)).await.unwrap();
        sleep(20).await;
        assert_eq!(
            store.open_tree::<User>().len().await.unwrap(),
            0,
            "nothing is visible before commit, across timers"
        );
        users.put(user(3, "c@x", 1)).await.unwrap();
    }
    sleep(20).await;
    txn.commit().await.unwrap();
    let users = store.open_tree::<User>();
    assert_eq!(users.len().await.unwrap(), 3);
    assert_eq!(users.get_by(User::AGE, 1).await.unwrap().len(), 3);

    // A transaction that awaits a timer and is then dropped leaves nothing behind.
    {
        let txn = store.write().await.unwrap();
        let mut tree = txn.open_tree::<User>().await.unwrap();
        tree.put(user(4, "d@x", 2)).await.unwrap();
        sleep(20).await;
        tree.delete(UserPrimaryKey(1)).await.unwrap();
        sleep(20).await;
    }
    assert_eq!(
        users.len().await.unwrap(),
        3,
        "the dropped transaction wrote nothing"
    );
    assert!(users.get(UserPrimaryKey(4)).await.unwrap().is_none());
    assert_eq!(users.count_by(User::AGE, 2).await.unwrap(), 0);
}

#[wasm_bindgen_test]
async fn data_survives_closing_and_reopening_the_database() {
    let name = unique("reopen");
    {
        let store = IndexedDBStore::<BlogDefinition>::new(&name).await.unwrap();
        store
            .open_tree::<User>()
            .put_many([user(1, "a@x", 5), user(2, "b@x", 5)])
            .await
            .unwrap();
        store.into_backend().close();
    }
    let store = IndexedDBStore::<BlogDefinition>::new(&name).await.unwrap();
    let users = store.open_tree::<User>();
    assert_eq!(
        users.get(UserPrimaryKey(2)).await.unwrap(),
        Some(user(2, "b@x", 5))
    );
    assert_eq!(users.get_by(User::AGE, 5).await.unwrap().len(), 2);
}

/// `IndexedDBConfig { database_name, version }` (the 0.0.x configuration): the version is a
/// floor; the store still bumps it when it needs object stores.
#[wasm_bindgen_test]
async fn the_config_sets_the_least_version() {
    let name = unique("config");
    let config = netabase_store::IndexedDBConfig::new(name.clone()).version(7);
    assert_eq!(config.database_name, name);
    let store = IndexedDBStore::<BlogDefinition>::with_config(config)
        .await
        .unwrap();
    assert_eq!(store.backend().version(), 7.0);
    store
        .open_tree::<User>()
        .put(user(1, "a@x", 1))
        .await
        .unwrap();
    store.into_backend().close();
    let store = IndexedDBStore::<BlogDefinition>::new(&name).await.unwrap();
    assert_eq!(
        store.backend().version(),
        7.0,
        "a lower floor keeps the version"
    );
    assert_eq!(store.open_tree::<User>().len().await.unwrap(), 1);
}

/// A definition that gains a model upgrades the database version itself and keeps the data.
#[wasm_bindgen_test]
async fn a_definition_that_gains_a_model_upgrades_the_database() {
    #[netabase_store::netabase_definition_module(BlogDefinition, BlogKeys)]
    mod v1 {
        #[derive(netabase_store::NetabaseModel, Clone, Debug, PartialEq)]
        #[netabase(BlogDefinition)]
        pub struct Setting {
            #[primary_key]
            pub name: String,
            pub value: Vec<u8>,
        }
    }
    let name = unique("gains");
    let version = {
        let store = IndexedDBStore::<v1::BlogDefinition>::new(&name)
            .await
            .unwrap();
        store
            .open_tree::<v1::Setting>()
            .put(v1::Setting {
                name: "theme".into(),
                value: vec![1],
            })
            .await
            .unwrap();
        let backend = store.into_backend();
        let version = backend.version();
        backend.close();
        version
    };
    let store = IndexedDBStore::<BlogDefinition>::new(&name).await.unwrap();
    assert!(
        store.backend().version() > version,
        "the version was bumped"
    );
    for table in netabase_store::indexeddb::definition_tables::<BlogDefinition>() {
        assert!(
            store.backend().tables().iter().any(|t| t == table),
            "{table}"
        );
    }
    assert_eq!(
        store.open_tree::<Setting>().get("theme").await.unwrap(),
        Some(Setting {
            name: "theme".into(),
            value: vec![1]
        })
    );
    store
        .open_tree::<User>()
        .put(user(1, "new@x", 1))
        .await
        .unwrap();
    assert_eq!(store.open_tree::<User>().len().await.unwrap(), 1);
}

// ---------------------------------------------------------------------------------------------
// Same bytes everywhere: the format fixture written on native x86_64
// ---------------------------------------------------------------------------------------------

const FIXTURE: &str = include_str!("../../../tests/fixtures/format-1.txt");

#[wasm_bindgen_test]
async fn the_browser_writes_the_bytes_of_the_native_fixture() {
    let store = IndexedDBStore::<BlogDefinition>::new(&unique("fixture-write"))
        .await
        .unwrap();
    let (users, accounts, articles, settings) = fixture_records();
    let txn = store.write().await.unwrap();
    {
        txn.open_tree::<User>()
            .await
            .unwrap()
            .put_many(&users)
            .await
            .unwrap();
        txn.open_tree::<Account>()
            .await
            .unwrap()
            .put_many(&accounts)
            .await
            .unwrap();
        txn.open_tree::<Article>()
            .await
            .unwrap()
            .put_many(&articles)
            .await
            .unwrap();
        txn.open_tree::<Setting>()
            .await
            .unwrap()
            .put_many(&settings)
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
    let read = store.backend().begin_read().await.unwrap();
    let mut dump = String::new();
    for table in netabase_store::indexeddb::definition_tables::<BlogDefinition>() {
        let t = read.open_table(table).await.unwrap();
        let entries = t
            .range(Bound::Unbounded, Bound::Unbounded, Direction::Forward, None)
            .await
            .unwrap();
        for (k, v) in entries {
            let _ = writeln!(dump, "{table} {} {}", hex(&k), hex(&v));
        }
    }
    for (line, (native, browser)) in FIXTURE.lines().zip(dump.lines()).enumerate() {
        assert_eq!(native, browser, "line {} of the fixture", line + 1);
    }
    assert_eq!(FIXTURE.lines().count(), dump.lines().count());
}

#[wasm_bindgen_test]
async fn the_browser_reads_a_store_loaded_from_the_native_fixture() {
    let name = unique("fixture-read");
    let tables = netabase_store::indexeddb::definition_tables::<BlogDefinition>();
    let backend = IndexedDbBackend::open(&name, &tables).await.unwrap();
    {
        let txn = backend.begin_write().await.unwrap();
        for table in &tables {
            let mut t = txn.open_table(table).await.unwrap();
            for line in FIXTURE
                .lines()
                .filter(|l| l.split(' ').next() == Some(table))
            {
                let mut parts = line.split(' ').skip(1);
                let key = unhex(parts.next().unwrap());
                let value = unhex(parts.next().unwrap_or(""));
                t.insert(&key, &value).await.unwrap();
            }
        }
        txn.commit().await.unwrap();
    }
    let store = netabase_store::AsyncStore::<BlogDefinition, _>::from_backend(backend)
        .await
        .unwrap();
    assert_eq!(BlogDefinition::NAME, "BlogDefinition");
    let (users, accounts, articles, settings) = fixture_records();
    for u in &users {
        assert_eq!(
            store.open_tree::<User>().get(u.id).await.unwrap().as_ref(),
            Some(u)
        );
    }
    for a in &accounts {
        let found = store
            .open_tree::<Account>()
            .get_by(Account::EMAIL, &a.email)
            .await
            .unwrap();
        assert_eq!(found, vec![a.clone()]);
    }
    let txn = store.read().await.unwrap();
    let tree = txn.open_tree::<Article>().await.unwrap();
    assert_eq!(tree.count_by(Article::TAGS, "rust").await.unwrap(), 1);
    assert_eq!(
        tree.count_by(Article::AUTHOR_YEAR, (7, 2024))
            .await
            .unwrap(),
        1
    );
    let intro = tree.get((7, "intro")).await.unwrap().unwrap();
    assert_eq!(intro.deserialize().unwrap(), articles[0]);
    let settings_tree = txn.open_tree::<Setting>().await.unwrap();
    let theme = settings_tree.get("theme").await.unwrap().unwrap();
    assert_eq!(theme.deserialize().unwrap(), settings[0]);
}

/// `Store::temp()` (the synchronous memory store) works in the browser too.
#[wasm_bindgen_test]
fn the_memory_store_works_in_the_browser() {
    let store = netabase_store::Store::<BlogDefinition, _>::temp().unwrap();
    store.open_tree::<User>().put(user(1, "a@x", 1)).unwrap();
    assert_eq!(
        store
            .open_tree::<User>()
            .get_by(User::AGE, 1)
            .unwrap()
            .len(),
        1
    );
}
