//! Write transactions: reading one's own writes, invisibility before commit, rollback.

use crate::conformance::Harness;
use crate::conformance::model::{
    Entries, OTHER, TABLE, model_entries, model_of, probe_keys, random_model,
};
use crate::conformance::rng::Rng;
use crate::conformance::support::{
    OrFail, assert_ranges_match, assert_table_is_empty, collect_all, commit_entries,
    committed_entries, committed_get, entry_limit, get_owned, len_of,
};
use crate::{Backend, ReadTransaction, WriteTable, WriteTransaction};

/// Inside a write transaction, `get`, `range` and `len` see the transaction's own uncommitted
/// inserts, overwrites and removes, also through a handle reopened in the same transaction.
pub fn check_read_your_own_writes<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let mut rng = Rng::new(0x5EED_0003);
    let limit = entry_limit::<H>();
    let mut model = random_model(&mut rng, 120, entry_limit::<H>());
    commit_entries(backend, TABLE, &model);

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        let committed: Vec<Vec<u8>> = model.keys().cloned().collect();
        for round in 0..150 {
            match rng.below(4) {
                0 => {
                    let k = rng.key();
                    if k.len() > limit {
                        continue;
                    }
                    let v = rng.value(k.len(), limit);
                    t.insert(&k, &v).or_fail("insert");
                    model.insert(k, v);
                }
                1 => {
                    let k = committed[rng.below(committed.len())].clone();
                    let v = rng.value(k.len(), limit);
                    t.insert(&k, &v).or_fail("overwrite");
                    model.insert(k, v);
                }
                2 => {
                    let k = committed[rng.below(committed.len())].clone();
                    let was = t.remove(&k).or_fail("remove");
                    assert_eq!(
                        was,
                        model.remove(&k).is_some(),
                        "remove({k:?}) in round {round}"
                    );
                }
                _ => {
                    let k = rng.key();
                    let was = t.remove(&k).or_fail("remove");
                    assert_eq!(
                        was,
                        model.remove(&k).is_some(),
                        "remove({k:?}) in round {round}"
                    );
                }
            }
            if round % 25 == 0 {
                assert_eq!(
                    collect_all(&t),
                    model_entries(&model),
                    "full range in round {round}"
                );
            }
        }
        for (k, v) in &model {
            assert_eq!(
                get_owned(&t, k).as_ref(),
                Some(v),
                "get({k:?}) of an uncommitted write"
            );
        }
        for k in &committed {
            if !model.contains_key(k) {
                assert_eq!(
                    get_owned(&t, k),
                    None,
                    "get({k:?}) after an uncommitted remove"
                );
            }
        }
        assert_eq!(
            len_of(&t),
            model.len() as u64,
            "len with uncommitted writes"
        );
        let probes = probe_keys(&mut rng, &model, 6, 4);
        assert_ranges_match(&t, &model, &probes, "write transaction, uncommitted writes");
    }
    {
        let t = txn
            .open_table(TABLE)
            .or_fail("reopen table in the same transaction");
        assert_eq!(
            collect_all(&t),
            model_entries(&model),
            "a handle reopened in the same transaction must see its writes"
        );
    }
    txn.commit().or_fail("commit");
    assert_eq!(
        committed_entries(backend, TABLE),
        model_entries(&model),
        "committed state"
    );
}

/// Nothing a write transaction does is visible to read transactions before it commits: not to
/// one begun before the writes, not to one begun while the writer is still open.
pub fn check_uncommitted_writes_are_invisible<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let base = model_of(&[(b"a", b"1"), (b"b", b"2")]);
    commit_entries(backend, TABLE, &base);

    let before = backend.begin_read().or_fail("begin_read");
    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.insert(b"a", b"changed").or_fail("overwrite");
        t.insert(b"c", b"new").or_fail("insert");
        t.remove(b"b").or_fail("remove");
        let mut n = txn.open_table(OTHER).or_fail("open_table other");
        n.insert(b"x", b"y").or_fail("insert into a new table");
    }
    let during = backend
        .begin_read()
        .or_fail("begin_read while a writer is open");
    for (label, reader) in [
        ("begun before the writes", &before),
        ("begun during", &during),
    ] {
        let t = reader.open_table(TABLE).or_fail("open_table (read)");
        assert_eq!(
            collect_all(&t),
            model_entries(&base),
            "a read transaction {label} the write transaction saw uncommitted writes"
        );
        assert_eq!(
            get_owned(&t, b"a").as_deref(),
            Some(&b"1"[..]),
            "uncommitted overwrite seen"
        );
        assert_eq!(get_owned(&t, b"c"), None, "uncommitted insert seen");
        assert_eq!(len_of(&t), 2, "uncommitted writes changed len");
        let n = reader.open_table(OTHER).or_fail("open_table other (read)");
        assert_table_is_empty(&n, "a table created by an uncommitted transaction");
    }
    drop(before);
    drop(during);
    txn.commit().or_fail("commit");
    assert_eq!(
        committed_get(backend, TABLE, b"a").as_deref(),
        Some(&b"changed"[..]),
        "the commit"
    );
}

fn assert_rollback<H: Harness>(finish: impl FnOnce(<H::Backend as Backend>::WriteTxn<'_>)) {
    let harness = H::new();
    let backend = harness.backend();
    let base = model_of(&[(b"a", b"1"), (b"b", b"2")]);
    let other = model_of(&[(b"x", b"1")]);
    commit_entries(backend, TABLE, &base);
    commit_entries(backend, OTHER, &other);

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.insert(b"a", b"changed").or_fail("overwrite");
        t.insert(b"c", b"new").or_fail("insert");
        t.remove(b"b").or_fail("remove");
        let mut o = txn.open_table(OTHER).or_fail("open_table");
        o.clear().or_fail("clear");
        let mut n = txn
            .open_table("created then rolled back")
            .or_fail("open_table");
        n.insert(b"k", b"v").or_fail("insert");
    }
    finish(txn);

    assert_eq!(
        committed_entries(backend, TABLE),
        model_entries(&base),
        "rolled-back writes"
    );
    assert_eq!(
        committed_entries(backend, OTHER),
        model_entries(&other),
        "rolled-back clear"
    );
    assert_eq!(
        committed_entries(backend, "created then rolled back"),
        Entries::new(),
        "a table created by a rolled-back transaction must read as empty"
    );

    // The writer slot is free again and the next transaction commits normally.
    let txn = backend
        .begin_write()
        .or_fail("begin_write after a rollback");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.insert(b"d", b"4").or_fail("insert");
    }
    txn.commit().or_fail("commit after a rollback");
    assert_eq!(
        committed_get(backend, TABLE, b"d").as_deref(),
        Some(&b"4"[..])
    );
    assert_eq!(
        committed_get(backend, TABLE, b"a").as_deref(),
        Some(&b"1"[..])
    );
}

/// Dropping a write transaction without committing rolls back every write, in every table.
pub fn check_rollback_on_drop<H: Harness>() {
    assert_rollback::<H>(|txn| drop(txn));
}

/// `abort()` rolls back every write, in every table, and reports success.
pub fn check_rollback_on_abort<H: Harness>() {
    assert_rollback::<H>(|txn| txn.abort().or_fail("abort"));
}
