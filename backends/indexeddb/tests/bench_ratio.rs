//! Browser benchmark (feature `browser-bench`): the typed IndexedDB layer against
//! `indexed_db_futures` doing the same work by hand on the same bytes, as ratios in one run.
//!
//! `scripts/browser_tests.sh --features browser-bench --test bench_ratio` prints a table; the
//! test asserts only that both sides stored and read the same bytes (timings are reported, never
//! judged). Results: `docs/benchmarks.md`, "Browser (IndexedDB)".
#![cfg(all(target_arch = "wasm32", feature = "browser-bench"))]

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::ops::Bound;

use common::*;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use js_sys::Uint8Array;
use netabase_backend_api::{
    AsyncBackend as _, AsyncReadTable, AsyncReadTransaction, Backend, Direction, ReadTable,
    ReadTransaction,
};
use netabase_backend_indexeddb::IndexedDbBackend;
use netabase_store::traits::model::NetabaseModelTrait;
use netabase_store::{IndexedDBStore, Store};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const N: u64 = 500;
const ROUNDS: usize = 5;

fn now() -> f64 {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
    let now: js_sys::Function = js_sys::Reflect::get(&performance, &"now".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    now.call0(&performance).unwrap().as_f64().unwrap()
}

fn users() -> Vec<User> {
    (0..N)
        .map(|i| user(i, &format!("user{i}@x"), (i % 50) as u8))
        .collect()
}

/// The exact entries the typed layer writes, computed by the sync store on memory.
fn entries() -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    let store = Store::<BlogDefinition, _>::memory().unwrap();
    store.open_tree::<User>().put_many(users()).unwrap();
    let txn = store.backend().begin_read().unwrap();
    let mut out = Vec::new();
    for table in [User::INFO.table, User::INFO.index_table] {
        let t = txn.open_table(table).unwrap();
        for e in t
            .range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)
            .unwrap()
        {
            let (k, v) = e.unwrap();
            out.push((table, k.to_vec(), v.to_vec()));
        }
    }
    out
}

fn js(bytes: &[u8]) -> JsValue {
    Uint8Array::from(bytes).into()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[wasm_bindgen_test]
async fn typed_indexeddb_against_indexed_db_futures_by_hand() {
    let entries = entries();
    let keys: Vec<Vec<u8>> = entries
        .iter()
        .filter(|(t, _, _)| *t == User::INFO.table)
        .map(|(_, k, _)| k.clone())
        .collect();
    let users = users();
    let mut rows = Vec::new();
    let mut times: [[Vec<f64>; 2]; 3] = Default::default();
    for round in 0..ROUNDS {
        // Typed: one write transaction of N puts (index maintained), N point gets, a full scan.
        let name = format!("bench-typed-{}-{round}", js_sys::Date::now() as u64);
        let store = IndexedDBStore::<BlogDefinition>::new(&name).await.unwrap();
        let t0 = now();
        let txn = store.write().await.unwrap();
        txn.open_tree::<User>()
            .await
            .unwrap()
            .put_many(&users)
            .await
            .unwrap();
        txn.commit().await.unwrap();
        let t1 = now();
        let read = store.read().await.unwrap();
        let tree = read.open_tree::<User>().await.unwrap();
        let mut ages = 0u64;
        for id in 0..N {
            ages += u64::from(tree.get(UserPrimaryKey(id)).await.unwrap().unwrap().age);
        }
        let t2 = now();
        let all = tree.iter().await.unwrap();
        let t3 = now();
        assert_eq!(all.len() as u64, N);
        times[0][0].push(t1 - t0);
        times[1][0].push(t2 - t1);
        times[2][0].push(t3 - t2);
        let typed_dump = {
            let r = store.backend().begin_read().await.unwrap();
            let mut out = Vec::new();
            for table in [User::INFO.table, User::INFO.index_table] {
                let t = r.open_table(table).await.unwrap();
                for (k, v) in t
                    .range(Bound::Unbounded, Bound::Unbounded, Direction::Forward, None)
                    .await
                    .unwrap()
                {
                    out.push((table, k, v));
                }
            }
            out
        };
        assert_eq!(
            typed_dump, entries,
            "the typed layer wrote the expected bytes"
        );

        // By hand: the same entries in one readwrite transaction, N gets in one readonly
        // transaction (copying each value out), a cursor walk over the records.
        let name = format!("bench-raw-{}-{round}", js_sys::Date::now() as u64);
        let backend = IndexedDbBackend::open(&name, &[User::INFO.table, User::INFO.index_table])
            .await
            .unwrap();
        backend.close();
        let db = indexed_db_futures::database::Database::open(name.as_str())
            .await
            .unwrap();
        let t0 = now();
        let tx = db
            .transaction([User::INFO.table, User::INFO.index_table])
            .with_mode(TransactionMode::Readwrite)
            .build()
            .unwrap();
        for (table, k, v) in &entries {
            tx.object_store(table)
                .unwrap()
                .put(js(v))
                .with_key(js(k))
                .primitive()
                .unwrap();
        }
        tx.commit().await.unwrap();
        let t1 = now();
        let tx = db.transaction(User::INFO.table).build().unwrap();
        let store = tx.object_store(User::INFO.table).unwrap();
        let mut raw_len = 0usize;
        for k in &keys {
            let v: Option<JsValue> = store.get(js(k)).primitive().unwrap().await.unwrap();
            raw_len += Uint8Array::new(&v.unwrap()).to_vec().len();
        }
        let t2 = now();
        let mut cursor = store
            .open_cursor()
            .primitive()
            .unwrap()
            .await
            .unwrap()
            .unwrap();
        let mut scanned = Vec::new();
        while let Some(v) = cursor.next_record::<JsValue>().await.unwrap() {
            let key: Option<JsValue> = cursor.key().unwrap();
            // Into wasm memory, as the typed layer does (an archive is read there).
            let key = Uint8Array::new(&key.unwrap()).to_vec();
            scanned.push((key, Uint8Array::new(&v).to_vec()));
        }
        let t3 = now();
        drop(store);
        drop(tx);
        db.close();
        assert_eq!(scanned.len() as u64, N);
        assert!(raw_len > 0 && ages > 0);
        times[0][1].push(t1 - t0);
        times[1][1].push(t2 - t1);
        times[2][1].push(t3 - t2);
    }
    for (name, [typed, raw]) in [
        "bulk insert (one transaction)",
        "point get x N",
        "full scan",
    ]
    .iter()
    .zip(times)
    {
        let (t, r) = (median(typed), median(raw));
        rows.push(format!(
            "| {name} | {t:.1} ms | {r:.1} ms | {:.2}x |",
            t / r
        ));
    }
    console_log!(
        "browser benchmark, {N} users, median of {ROUNDS} rounds, typed vs indexed_db_futures by hand\n| workload | typed | by hand | ratio |\n| --- | --- | --- | --- |\n{}",
        rows.join("\n")
    );
}
