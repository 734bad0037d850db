//! Model-based test of index maintenance: random sequences of put / update / remove /
//! clear / commit / rollback run against the store and against a `BTreeMap` model. After
//! every step, the raw secondary index table must hold exactly the entries the records
//! imply, and every secondary lookup must return exactly the model's answer.
mod common;
use common::*;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use netabase_store::Store;
use netabase_store::backend::{Backend, Direction, ReadTable, ReadTransaction, WriteTransaction};
use netabase_store::key::Key;
use netabase_store::traits::model::NetabaseModelTrait;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Put { id: u64, email: u8, age: u8 },
    Remove { id: u64 },
    Clear,
    Commit,
    Rollback,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u64..8, 0u8..4, 0u8..3).prop_map(|(id, email, age)| Op::Put { id, email, age }),
        3 => (0u64..8).prop_map(|id| Op::Remove { id }),
        1 => Just(Op::Clear),
        2 => Just(Op::Commit),
        1 => Just(Op::Rollback),
    ]
}

fn email(n: u8) -> String {
    // Includes a NUL byte and a prefix of another value, the cases a naive encoding confuses.
    ["a", "a\0", "ab", ""][n as usize].to_string()
}

/// The index entries the records imply, computed independently of the planner.
fn expected_index(records: &BTreeMap<u64, User>) -> BTreeSet<Vec<u8>> {
    let mut out = BTreeSet::new();
    for u in records.values() {
        for (tag, value) in [(0u8, u.email.key_bytes()), (1u8, u.age.key_bytes())] {
            let mut k = vec![tag];
            k.extend(value);
            k.extend(u.id.key_bytes());
            out.insert(k);
        }
    }
    out
}

trait KeyBytes {
    fn key_bytes(&self) -> Vec<u8>;
}
impl<K: Key> KeyBytes for K {
    fn key_bytes(&self) -> Vec<u8> {
        netabase_store::key::key_bytes(self)
    }
}

fn scan<T: ReadTable>(table: &T) -> BTreeSet<Vec<u8>> {
    table
        .range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)
        .unwrap()
        .map(|e| e.unwrap().0.as_ref().to_vec())
        .collect()
}

fn check_lookups<T: ReadTable>(
    tree: &netabase_store::Tree<'_, User, T>,
    records: &BTreeMap<u64, User>,
) {
    for e in 0..4 {
        let want: Vec<u64> = records
            .values()
            .filter(|u| u.email == email(e))
            .map(|u| u.id)
            .collect();
        let got: Vec<u64> = tree
            .get_by_secondary_key(email_key(&email(e)))
            .unwrap()
            .map(|r| r.unwrap().id.to_native())
            .collect();
        assert_eq!(got, want, "lookup of email {:?}", email(e));
    }
    assert_eq!(tree.len().unwrap(), records.len() as u64);
    let all: Vec<User> = tree
        .iter()
        .unwrap()
        .map(|r| r.unwrap().deserialize().unwrap())
        .collect();
    assert_eq!(all, records.values().cloned().collect::<Vec<_>>());
}

fn run<B: Backend>(store: &Store<BlogDefinition, B>, ops: Vec<Op>) {
    let mut committed: BTreeMap<u64, User> = BTreeMap::new();
    let mut pending = committed.clone();
    let mut txn = Some(store.write().unwrap());
    for op in ops {
        let w = txn.get_or_insert_with(|| store.write().unwrap());
        match op {
            Op::Put { id, email: e, age } => {
                let u = user(id, &email(e), age);
                w.open_tree::<User>().unwrap().put(&u).unwrap();
                pending.insert(id, u);
            }
            Op::Remove { id } => {
                let removed = w
                    .open_tree::<User>()
                    .unwrap()
                    .remove(UserPrimaryKey(id))
                    .unwrap();
                assert_eq!(removed, pending.remove(&id));
            }
            Op::Clear => {
                w.open_tree::<User>().unwrap().clear().unwrap();
                pending.clear();
            }
            Op::Commit => {
                txn.take().unwrap().commit().unwrap();
                committed = pending.clone();
            }
            Op::Rollback => {
                drop(txn.take());
                pending = committed.clone();
            }
        }
        // Inside the open transaction (read-your-own-writes) ...
        if let Some(w) = &txn {
            {
                let raw = w.backend_txn().open_table(User::INFO.index_table).unwrap();
                assert_eq!(scan(&raw), expected_index(&pending));
            }
            check_lookups(&w.open_tree::<User>().unwrap(), &pending);
        }
        // ... and in a fresh read transaction, which sees only what was committed.
        let r = store.read().unwrap();
        assert_eq!(
            scan(&r.backend_txn().open_table(User::INFO.index_table).unwrap()),
            expected_index(&committed)
        );
        check_lookups(&r.open_tree::<User>().unwrap(), &committed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn redb_indexes_always_equal_what_records_imply(ops in prop::collection::vec(op(), 1..40)) {
        run(&Store::<BlogDefinition, _>::from_backend(netabase_store::RedbBackend::in_memory().unwrap()).unwrap(), ops);
    }

    #[test]
    fn sled_indexes_always_equal_what_records_imply(ops in prop::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        run(&Store::<BlogDefinition, _>::sled(dir.path().join("db")).unwrap(), ops);
    }

    #[test]
    fn memory_indexes_always_equal_what_records_imply(ops in prop::collection::vec(op(), 1..40)) {
        run(&Store::<BlogDefinition, _>::memory().unwrap(), ops);
    }
}
