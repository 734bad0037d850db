//! A canary for the redb guard's `StableBytes` argument, which rests on redb 4.6.0's
//! internals (the workspace pins redb exactly): a guard's bytes neither move nor change while
//! it lives, whatever other transactions do to its key, its table and the pages around it.
//! If a redb upgrade breaks that, this fails before anything reads a moved archive.

use std::ops::Bound;

use netabase_backend_api::{
    Backend, Direction, ReadTable, ReadTransaction, WriteTable, WriteTransaction,
};
use netabase_backend_redb::{RedbBackend, RedbDurability};

fn write(backend: &RedbBackend, f: impl FnOnce(&mut netabase_backend_redb::RedbWriteTable<'_>)) {
    let txn = backend.begin_write().unwrap();
    {
        let mut t = txn.open_table("t").unwrap();
        f(&mut t);
    }
    txn.commit().unwrap();
}

fn value(i: u32, len: usize) -> Vec<u8> {
    (0..len).map(|j| (i as usize * 31 + j) as u8).collect()
}

/// Every way another transaction can change what a live guard's key, table and pages hold.
fn churn(backend: &RedbBackend, key: &[u8]) {
    write(backend, |t| t.insert(key, &value(99, 300)).unwrap());
    write(backend, |t| assert!(t.remove(key).unwrap()));
    write(backend, |t| {
        for i in 0..2_000u32 {
            t.insert(&i.to_be_bytes(), &value(i, 64)).unwrap();
        }
    });
    write(backend, |t| t.clear().unwrap());
    write(backend, |t| t.insert(key, &value(7, 5_000)).unwrap());
    backend.flush().unwrap();
}

fn canary(durability: RedbDurability) {
    let backend = RedbBackend::in_memory()
        .unwrap()
        .with_durability(durability);
    let key = b"canary";
    // A small value (in a leaf page with others) and a large one (its own pages).
    for len in [24usize, 20_000] {
        write(&backend, |t| {
            t.insert(key, &value(1, len)).unwrap();
            for i in 0..50u32 {
                t.insert(&i.to_be_bytes(), &value(i, 40)).unwrap();
            }
        });
        let txn = backend.begin_read().unwrap();
        let table = txn.open_table("t").unwrap();
        let guard = table.get(key).unwrap().unwrap();
        let (entry_key, entry_value) = table
            .range(Bound::Included(key), Bound::Unbounded, Direction::Forward)
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let before = guard.as_ref().to_vec();
        let at = guard.as_ref().as_ptr();
        let range_at = entry_value.as_ref().as_ptr();
        assert_eq!(before, value(1, len));

        churn(&backend, key);

        for _ in 0..3 {
            assert_eq!(guard.as_ref().as_ptr(), at, "the guard's bytes moved");
            assert_eq!(guard.as_ref(), &before[..], "the guard's bytes changed");
            assert_eq!(entry_value.as_ref().as_ptr(), range_at);
            assert_eq!(entry_value.as_ref(), &before[..]);
            assert_eq!(entry_key.as_ref(), key);
        }
    }
}

#[test]
fn guards_keep_their_bytes_in_place_across_durable_commits() {
    canary(RedbDurability::Immediate);
}

#[test]
fn guards_keep_their_bytes_in_place_across_non_durable_commits() {
    canary(RedbDurability::None);
}
