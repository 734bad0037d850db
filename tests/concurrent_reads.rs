//! Reads stay truthful while other threads commit: every record a secondary lookup, query or
//! page returns holds the queried value, and no concurrent commit is reported as damage
//! (`IndexInconsistent`). On sled (read-committed: the index and the records can be seen at
//! different commits) the typed layer skips entries a commit made stale; on redb and memory
//! (snapshots) the question never arises. Bounded by iteration counts, not time.
mod common;
use common::*;

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};

use netabase_store::backend::Backend;
use netabase_store::{BackendStore, MemoryBackend, RedbBackend, SledBackend, Store};

const USERS: u64 = 40;
const AGES: u8 = 4;
const WRITES_PER_WRITER: u64 = 400;

fn email(n: u64) -> String {
    format!("e{n}@x")
}

fn hammer<B: Backend>(store: Store<BlogDefinition, B>) {
    let users = store.open_tree::<User>();
    users
        .put_many((0..USERS).map(|id| user(id, &email(id % 8), (id % AGES as u64) as u8)))
        .unwrap();
    let done = AtomicBool::new(false);
    let start = Barrier::new(4);
    let mut lookups = 0u64;
    std::thread::scope(|s| {
        for w in 0..2u64 {
            let (store, done, start) = (&store, &done, &start);
            s.spawn(move || {
                start.wait();
                let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ w;
                for i in 0..WRITES_PER_WRITER {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let id = x % USERS;
                    let txn = store.write().unwrap();
                    {
                        let mut tree = txn.open_tree::<User>().unwrap();
                        if i % 5 == 0 {
                            tree.delete(id).unwrap();
                        } else {
                            tree.put(user(id, &email(x % 8), ((x >> 8) % AGES as u64) as u8))
                                .unwrap();
                        }
                    }
                    txn.commit().unwrap();
                }
                done.store(true, Ordering::Release);
            });
        }
        let readers: Vec<_> = (0..2)
            .map(|r| {
                let (store, done, start) = (&store, &done, &start);
                s.spawn(move || {
                    start.wait();
                    let mut n = 0u64;
                    let mut i = r;
                    while !done.load(Ordering::Acquire) || n < 200 {
                        i += 1;
                        let age = (i % AGES as u64) as u8;
                        let e = email(i % 8);
                        let txn = store.read().unwrap();
                        let tree = txn.open_tree::<User>().unwrap();
                        for u in tree.get_by(User::AGE, age).unwrap() {
                            let u = u.expect("a concurrent commit is not damage");
                            assert_eq!(u.age, age, "a lookup by age returned another age");
                        }
                        for u in tree.get_by(User::EMAIL, e.as_str()).unwrap() {
                            let u = u.expect("a concurrent commit is not damage");
                            assert_eq!(u.email.as_str(), e, "a lookup by email returned another");
                        }
                        let page = tree
                            .query_by::<UserAgeSecondaryKey>()
                            .range(1..3)
                            .limit(10)
                            .page()
                            .expect("a concurrent commit is not damage");
                        for u in &page.items {
                            assert!((1..3).contains(&u.age), "{:?}", u.age);
                        }
                        // The auto-commit surface goes through the same lookups.
                        for u in store.open_tree::<User>().get_by(User::AGE, age).unwrap() {
                            assert_eq!(u.age, age);
                        }
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        lookups = readers.into_iter().map(|h| h.join().unwrap()).sum();
    });
    assert!(lookups >= 400, "readers ran alongside the writers");
    // Afterwards the store is consistent.
    let report = store.check_integrity().unwrap();
    assert!(report.is_clean(), "{report}");
}

#[test]
fn sled_reads_stay_truthful_under_concurrent_commits() {
    hammer(Store::<BlogDefinition, SledBackend>::temp().unwrap());
}

#[test]
fn redb_reads_stay_truthful_under_concurrent_commits() {
    hammer(Store::<BlogDefinition, RedbBackend>::temp().unwrap());
}

#[test]
fn memory_reads_stay_truthful_under_concurrent_commits() {
    hammer(Store::<BlogDefinition, MemoryBackend>::temp().unwrap());
}
