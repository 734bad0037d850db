//! Model-based differential test of index maintenance, driven by arbitrary operation
//! sequences, on the memory backend and on redb (in memory).
//!
//! Operations: put (insert or update), put_many (a refusal after an earlier put of the same
//! call poisons the transaction: its commit must fail and roll back), remove, delete, clear,
//! commit, rollback (drop the transaction), and unique clashes (a put taking another record's unique value:
//! it must fail with `UniqueViolation` naming the holder and change nothing). After every
//! operation, inside the open write transaction and in a fresh read transaction:
//!
//! * the raw index table (`Item.idx`) holds exactly the entries the records imply,
//!   computed here from docs/format.md with `key_bytes`, not by the planner;
//! * the raw primary table holds exactly the records' keys;
//! * `get` of every record the operation touched and `len` answer as the model does.
//!
//! A fresh read transaction sees exactly the committed records, raw and typed; it is checked
//! after every commit and rollback and at the end of the input (the committed state changes
//! only there; a reader that saw uncommitted writes is caught at the end, while the last write
//! transaction is still open). Every secondary lookup and count, `get`, `len` and `iter` are
//! checked against the model at the same points, in the read transaction and in the open
//! write transaction. A per-operation raw check already pins every index entry, so running the
//! whole lookup universe after every operation (as this target once did) found nothing more
//! and cost nine tenths of the time.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use netabase_store::backend::{Backend, ReadTransaction, WriteTransaction};
use netabase_store::key::key_bytes;
use netabase_store::traits::model::NetabaseModelTrait;
use netabase_store::{NetabaseError, Store};
use netabase_store_fuzz::*;

#[derive(Arbitrary, Debug, Clone)]
enum Op {
    Put {
        id: Bounded<IDS>,
        spec: Spec,
    },
    PutMany {
        items: SmallVec<(Bounded<IDS>, Spec), 3>,
    },
    Remove {
        id: Bounded<IDS>,
    },
    Delete {
        id: Bounded<IDS>,
    },
    /// A put of record `id` that takes the handle (or, with `slug`, the slug) of the
    /// `victim`-th other record.
    Clash {
        id: Bounded<IDS>,
        victim: Bounded<IDS>,
        slug: bool,
        spec: Spec,
    },
    Clear,
    Commit,
    Rollback,
}

type Db<B> = Store<FuzzDefinition, B>;

/// What the model says a put must do.
fn expect_put(pending: &Records, item: &Item) -> Result<(), (&'static str, Vec<u8>)> {
    match unique_clash(pending, item) {
        Some((key, holder)) => Err((key, key_bytes(&holder.id))),
        None => Ok(()),
    }
}

fn assert_violation(result: netabase_store::Result<()>, key: &'static str, holder: &[u8]) {
    match result {
        Err(NetabaseError::UniqueViolation {
            model,
            key: k,
            existing_primary_key,
        }) => {
            assert_eq!(model, "Item");
            assert_eq!(k, key);
            assert_eq!(existing_primary_key, holder);
        }
        other => panic!("expected a UniqueViolation on `{key}`, got {other:?}"),
    }
}

/// Both raw tables of a write transaction, as bytes.
type Raw = (Entries, Entries);

fn raw_write<B: Backend>(w: &netabase_store::WriteTxn<'_, FuzzDefinition, B>) -> Raw {
    let txn = w.backend_txn();
    let primary = scan_entries(&txn.open_table(Item::INFO.table).expect("open primary"));
    let index = scan_entries(&txn.open_table(Item::INFO.index_table).expect("open index"));
    (primary, index)
}

fn check_raw(raw: &Raw, records: &Records) {
    let primary: Vec<Vec<u8>> = raw.0.iter().map(|(k, _)| k.clone()).collect();
    let index: Vec<Vec<u8>> = raw.1.iter().map(|(k, _)| k.clone()).collect();
    let want_index: Vec<Vec<u8>> = expected_index(records).into_iter().collect();
    assert_eq!(index, want_index, "raw index table");
    assert!(
        raw.1.iter().all(|(_, v)| v.is_empty()),
        "index values are empty"
    );
    let want_primary: Vec<Vec<u8>> = expected_primary_keys(records).into_iter().collect();
    assert_eq!(primary, want_primary, "raw primary table");
}

fn run<B: Backend>(db: &Db<B>, ops: &[Op]) {
    let mut committed = Records::new();
    let mut pending = Records::new();
    let mut poisoned = false;
    let mut txn = None;
    let mut touched: Vec<u8> = Vec::new();
    for op in ops {
        let w = txn.get_or_insert_with(|| db.write().expect("begin write"));
        match op {
            Op::Put { id, spec } => {
                let item = spec.item(id.0);
                touched.push(id.0);
                match expect_put(&pending, &item) {
                    Ok(()) => {
                        let result = w.open_tree::<Item>().expect("open tree").put(&item);
                        result.expect("put");
                        pending.insert(id.0, item);
                    }
                    Err((key, holder)) => {
                        let before = raw_write(w);
                        let result = w.open_tree::<Item>().expect("open tree").put(&item);
                        assert_violation(result, key, &holder);
                        assert_eq!(raw_write(w), before, "a refused put changed tables");
                    }
                }
            }
            Op::PutMany { items } => {
                let models: Vec<(u8, Item)> = items
                    .0
                    .iter()
                    .map(|(id, spec)| (id.0, spec.item(id.0)))
                    .collect();
                let result = w
                    .open_tree::<Item>()
                    .expect("open tree")
                    .put_many(models.iter().map(|(_, m)| m));
                // `put_many` puts in order and stops at the first refusal; the earlier puts stay
                // in the tables, and a refusal after at least one of them poisons the
                // transaction (its commit must then fail and roll everything back).
                let mut refused = None;
                touched.extend(models.iter().map(|(id, _)| *id));
                for (i, (id, item)) in models.iter().enumerate() {
                    match expect_put(&pending, item) {
                        Ok(()) => {
                            pending.insert(*id, item.clone());
                        }
                        Err(e) => {
                            refused = Some((i, e));
                            break;
                        }
                    }
                }
                match refused {
                    None => result.expect("put_many"),
                    Some((i, (key, holder))) => {
                        assert_violation(result, key, &holder);
                        poisoned |= i > 0;
                    }
                }
            }
            Op::Remove { id } => {
                touched.push(id.0);
                let removed = w
                    .open_tree::<Item>()
                    .expect("open tree")
                    .remove(ItemPrimaryKey(pk(id.0)))
                    .expect("remove");
                assert_eq!(removed, pending.remove(&id.0));
            }
            Op::Delete { id } => {
                touched.push(id.0);
                let existed = w
                    .open_tree::<Item>()
                    .expect("open tree")
                    .delete(ItemPrimaryKey(pk(id.0)))
                    .expect("delete");
                assert_eq!(existed, pending.remove(&id.0).is_some());
            }
            Op::Clash {
                id,
                victim,
                slug,
                spec,
            } => {
                let others: Vec<&Item> = pending
                    .iter()
                    .filter(|(k, _)| **k != id.0)
                    .map(|(_, v)| v)
                    .collect();
                if !others.is_empty() {
                    touched.push(id.0);
                    let victim = others[victim.get() % others.len()];
                    let mut item = spec.item(id.0);
                    if *slug && victim.slug.is_some() {
                        item.slug = victim.slug.clone();
                    } else {
                        item.handle = victim.handle.clone();
                    }
                    let (key, holder) =
                        expect_put(&pending, &item).expect_err("the model must predict the clash");
                    let before = raw_write(w);
                    let result = w.open_tree::<Item>().expect("open tree").put(&item);
                    assert_violation(result, key, &holder);
                    assert_eq!(raw_write(w), before, "a refused put changed tables");
                }
            }
            Op::Clear => {
                w.open_tree::<Item>()
                    .expect("open tree")
                    .clear()
                    .expect("clear");
                pending.clear();
            }
            Op::Commit => {
                let result = txn.take().expect("open").commit();
                if std::mem::take(&mut poisoned) {
                    assert!(
                        matches!(result, Err(NetabaseError::TransactionPoisoned)),
                        "a poisoned transaction committed: {result:?}"
                    );
                    pending = committed.clone();
                } else {
                    result.expect("commit");
                    committed = pending.clone();
                }
            }
            Op::Rollback => {
                drop(txn.take());
                poisoned = false;
                pending = committed.clone();
            }
        }
        // Inside the open transaction (read-your-own-writes): the raw tables, and the typed
        // reads of what this operation touched ...
        if let Some(w) = &txn {
            check_raw(&raw_write(w), &pending);
            check_gets(
                &w.open_tree::<Item>().expect("open tree"),
                &pending,
                &touched,
            );
        }
        touched.clear();
        // ... and, where the committed state changed, everything a reader sees.
        if matches!(op, Op::Commit | Op::Rollback) {
            check_reader(db, &committed, false);
        }
    }
    if let Some(w) = &txn {
        check_lookups(&w.open_tree::<Item>().expect("open tree"), &pending);
    }
    check_reader(db, &committed, true);
}

/// A fresh read transaction sees exactly the committed records in its raw tables and in
/// `len`; with `lookups`, also in every typed read of the universe.
fn check_reader<B: Backend>(db: &Db<B>, committed: &Records, lookups: bool) {
    let r = db.read().expect("begin read");
    {
        let t = r.backend_txn();
        let primary = scan_entries(&t.open_table(Item::INFO.table).expect("open primary"));
        let index = scan_entries(&t.open_table(Item::INFO.index_table).expect("open index"));
        check_raw(&(primary, index), committed);
    }
    let tree = r.open_tree::<Item>().expect("open tree");
    if lookups {
        check_lookups(&tree, committed);
    } else {
        check_gets(&tree, committed, &[]);
    }
}

fuzz_target!(|ops: SmallVec<Op, 32>| {
    assert_schema_info();
    run(&Db::memory().expect("memory store"), &ops.0);
    with_redb_store(|db| run(db, &ops.0));
});
