//! Tables: many tables, names, never-written tables and `TableAlreadyOpen`.

use crate::conformance::Harness;
use crate::conformance::model::{Entries, Model, OTHER, TABLE, model_of};
use crate::conformance::support::{
    OrFail, assert_ranges_match, assert_table_is_empty, collect_all, commit_entries, committed_get,
    get_owned, len_of,
};
use crate::{Backend, BackendError, ReadTransaction, WriteTable, WriteTransaction};

/// Forty tables, several open at once, names that are prefixes of one another: each keeps its
/// own entries, `len` and `clear`.
pub fn check_many_tables<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let mut names: Vec<String> = (0..34).map(|i| format!("table{i}")).collect();
    names.extend(["t", "t/", "t.x", "t x", "T", "tableau \u{fc}"].map(String::from));
    assert_eq!(names.len(), 40);
    let value = |table: usize, key: usize| format!("table {table} key {key}").into_bytes();
    let key = |key: usize| format!("k{key:03}").into_bytes();

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut handles = Vec::new();
        for name in &names {
            handles.push(
                txn.open_table(name)
                    .or_fail(format_args!("open_table({name:?})")),
            );
        }
        for (i, t) in handles.iter_mut().enumerate() {
            for j in 0..=i {
                t.insert(&key(j), &value(i, j)).or_fail("insert");
            }
        }
        for (i, t) in handles.iter().enumerate() {
            assert_eq!(len_of(t), i as u64 + 1, "len of table {:?}", names[i]);
        }
    }
    txn.commit().or_fail("commit");

    let expected = |i: usize| -> Entries { (0..=i).map(|j| (key(j), value(i, j))).collect() };
    let verify = |cleared: Option<usize>, removed_k0: Option<usize>| {
        let txn = backend.begin_read().or_fail("begin_read");
        for (i, name) in names.iter().enumerate() {
            let t = txn.open_table(name).or_fail("open_table (read)");
            let mut want = expected(i);
            if cleared == Some(i) {
                want.clear();
            }
            if removed_k0 == Some(i) {
                want.remove(0);
            }
            assert_eq!(collect_all(&t), want, "entries of table {name:?}");
            assert_eq!(len_of(&t), want.len() as u64, "len of table {name:?}");
            if !want.is_empty() && removed_k0 != Some(i) {
                assert_eq!(
                    get_owned(&t, &key(0)),
                    Some(value(i, 0)),
                    "k000 of table {name:?}"
                );
            }
        }
    };
    verify(None, None);

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(&names[3]).or_fail("open_table");
        t.clear().or_fail("clear");
        drop(t);
        let mut t = txn.open_table(&names[35]).or_fail("open_table");
        assert!(
            t.remove(&key(0)).or_fail("remove"),
            "k000 of table {:?}",
            names[35]
        );
    }
    txn.commit().or_fail("commit");
    verify(Some(3), Some(35));
}

/// An empty table name is an error (the contract reserves it), never a panic, in both kinds of
/// transaction; the transaction stays usable.
pub fn check_empty_table_name_is_an_error<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let txn = backend.begin_write().or_fail("begin_write");
    match txn.open_table("") {
        Err(BackendError::InvalidConfig { .. }) => {}
        Err(e) => {
            panic!("open_table(\"\") in a write transaction: expected InvalidConfig, got {e:?}")
        }
        Ok(_) => panic!("open_table(\"\") in a write transaction must fail with InvalidConfig"),
    }
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table after the error");
        t.insert(b"k", b"v").or_fail("insert");
    }
    txn.commit().or_fail("commit after an open_table error");
    let txn = backend.begin_read().or_fail("begin_read");
    match txn.open_table("") {
        Err(BackendError::InvalidConfig { .. }) => {}
        Err(e) => {
            panic!("open_table(\"\") in a read transaction: expected InvalidConfig, got {e:?}")
        }
        Ok(_) => panic!("open_table(\"\") in a read transaction must fail with InvalidConfig"),
    }
    let t = txn.open_table(TABLE).or_fail("open_table after the error");
    assert_eq!(
        get_owned(&t, b"k").as_deref(),
        Some(&b"v"[..]),
        "data committed after the error"
    );
}

/// A table that was never written reads as empty in a read transaction (not an error), before
/// and after other tables are written; a table opened and committed without writes too.
pub fn check_missing_table_reads_empty<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    {
        let txn = backend
            .begin_read()
            .or_fail("begin_read on a fresh backend");
        let t = txn
            .open_table("never")
            .or_fail("open_table of a never-written table");
        assert_table_is_empty(&t, "a never-written table in a fresh backend");
        assert_ranges_match(
            &t,
            &Model::new(),
            &[Vec::new(), b"a".to_vec(), vec![0xFF]],
            "never-written table",
        );
    }
    commit_entries(backend, TABLE, &model_of(&[(b"k", b"v")]));
    let txn = backend.begin_write().or_fail("begin_write");
    {
        let t = txn
            .open_table("opened, never written")
            .or_fail("open_table");
        assert_table_is_empty(&t, "a new table in a write transaction");
    }
    txn.commit().or_fail("commit");

    let txn = backend.begin_read().or_fail("begin_read");
    let t = txn
        .open_table("never")
        .or_fail("open_table of a never-written table");
    assert_table_is_empty(&t, "a never-written table next to a written one");
    let t = txn
        .open_table("opened, never written")
        .or_fail("open_table");
    assert_table_is_empty(&t, "a table opened and committed without writes");
}

/// Opening a table twice in one write transaction while the first handle lives fails with
/// [`BackendError::TableAlreadyOpen`] (no panic), leaves the transaction usable, and works again
/// once the first handle is dropped. Read transactions may open a table several times.
pub fn check_table_already_open<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut first = txn.open_table(TABLE).or_fail("open_table");
        first.insert(b"k", b"v").or_fail("insert");
        match txn.open_table(TABLE) {
            Err(BackendError::TableAlreadyOpen { table }) => assert_eq!(
                table, TABLE,
                "TableAlreadyOpen must name the table that is already open"
            ),
            Err(e) => panic!("opening an open table: expected TableAlreadyOpen, got {e:?}"),
            Ok(_) => panic!(
                "opening a table twice in one write transaction must fail with TableAlreadyOpen"
            ),
        }
        let mut other = txn
            .open_table(OTHER)
            .or_fail("open another table meanwhile");
        other.insert(b"o", b"1").or_fail("insert");
        first.insert(b"k2", b"v2").or_fail("insert after the error");
    }
    {
        let again = txn
            .open_table(TABLE)
            .or_fail("reopen after the first handle dropped");
        assert_eq!(
            get_owned(&again, b"k").as_deref(),
            Some(&b"v"[..]),
            "write via first handle"
        );
        assert_eq!(
            get_owned(&again, b"k2").as_deref(),
            Some(&b"v2"[..]),
            "write after error"
        );
    }
    txn.commit()
        .or_fail("commit after a TableAlreadyOpen error");

    let txn = backend.begin_read().or_fail("begin_read");
    let one = txn.open_table(TABLE).or_fail("open_table (read)");
    let two = txn
        .open_table(TABLE)
        .or_fail("open the same table twice in a read transaction");
    assert_eq!(
        collect_all(&one),
        collect_all(&two),
        "two read handles of one table"
    );
    assert_eq!(len_of(&one), 2, "committed entries");
    assert_eq!(
        committed_get(backend, OTHER, b"o").as_deref(),
        Some(&b"1"[..])
    );
}
