//! Single entries: `get`, `insert`, `remove`, `len` and `clear` in one table.

use crate::conformance::Harness;
use crate::conformance::model::{Entries, OTHER, TABLE, model_entries, random_model};
use crate::conformance::rng::Rng;
use crate::conformance::support::{
    OrFail, assert_table_is_empty, collect_all, commit_entries, committed_entries, committed_get,
    entry_limit, get_owned, len_of,
};
use crate::{Backend, ReadTable, ReadTransaction, WriteTable, WriteTransaction};

/// `get` returns what `insert` stored, `insert` overwrites (with longer and shorter values),
/// `remove` deletes; inside the write transaction and after commit. Several guards of one table
/// may be alive at once and keep their bytes.
pub fn check_get_insert_remove_roundtrip<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        assert_eq!(
            get_owned(&t, b"alpha"),
            None,
            "a fresh table should not contain `alpha`"
        );
        t.insert(b"alpha", b"1").or_fail("insert alpha");
        t.insert(b"beta", b"2").or_fail("insert beta");
        assert_eq!(
            get_owned(&t, b"alpha").as_deref(),
            Some(&b"1"[..]),
            "get after insert"
        );
        assert_eq!(
            get_owned(&t, b"beta").as_deref(),
            Some(&b"2"[..]),
            "get after insert"
        );
        {
            let first = t
                .get(b"alpha")
                .or_fail("get alpha")
                .expect("alpha is present");
            let second = t.get(b"beta").or_fail("get beta").expect("beta is present");
            assert_eq!(first.as_ref(), b"1", "first of two live guards");
            assert_eq!(second.as_ref(), b"2", "second of two live guards");
            assert_eq!(
                first.as_ref(),
                b"1",
                "a guard's bytes changed between calls"
            );
        }
        t.insert(b"alpha", b"a much longer value than before")
            .or_fail("overwrite alpha");
        assert_eq!(
            get_owned(&t, b"alpha").as_deref(),
            Some(&b"a much longer value than before"[..]),
            "get after overwriting with a longer value"
        );
        assert_eq!(len_of(&t), 2, "overwriting must not add an entry");
        t.insert(b"alpha", b"one").or_fail("overwrite alpha");
        assert_eq!(
            get_owned(&t, b"alpha").as_deref(),
            Some(&b"one"[..]),
            "get after overwriting with a shorter value"
        );
        assert!(t.remove(b"beta").or_fail("remove beta"), "beta was present");
        assert_eq!(get_owned(&t, b"beta"), None, "get after remove");
        assert_eq!(len_of(&t), 1, "len after remove");
    }
    txn.commit().or_fail("commit");

    assert_eq!(
        committed_entries(backend, TABLE),
        vec![(b"alpha".to_vec(), b"one".to_vec())],
        "committed state after the first transaction"
    );

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        assert_eq!(
            get_owned(&t, b"alpha").as_deref(),
            Some(&b"one"[..]),
            "a write transaction sees committed data"
        );
        t.insert(b"alpha", b"x")
            .or_fail("overwrite committed alpha");
    }
    txn.commit().or_fail("commit");
    assert_eq!(
        committed_get(backend, TABLE, b"alpha").as_deref(),
        Some(&b"x"[..]),
        "overwrite of a committed value"
    );

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        assert!(
            t.remove(b"alpha").or_fail("remove alpha"),
            "alpha was committed"
        );
        assert_eq!(
            get_owned(&t, b"alpha"),
            None,
            "get after removing a committed key"
        );
        t.insert(b"alpha", b"again").or_fail("re-insert alpha");
        assert_eq!(
            get_owned(&t, b"alpha").as_deref(),
            Some(&b"again"[..]),
            "get after remove + re-insert"
        );
    }
    txn.commit().or_fail("commit");
    assert_eq!(
        committed_get(backend, TABLE, b"alpha").as_deref(),
        Some(&b"again"[..]),
        "remove + re-insert in one transaction"
    );
    assert_eq!(
        committed_get(backend, TABLE, b"beta"),
        None,
        "removed key stays removed"
    );
}

/// `remove` returns `true` exactly when the key was present (committed or written earlier in
/// the same transaction).
pub fn check_remove_reports_presence<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        assert!(
            !t.remove(b"missing").or_fail("remove missing"),
            "remove of a key never written must return false"
        );
        t.insert(b"k", b"v").or_fail("insert");
        assert!(
            t.remove(b"k").or_fail("remove"),
            "remove of a present key must return true"
        );
        assert!(
            !t.remove(b"k").or_fail("remove again"),
            "a second remove of the same key must return false"
        );
        t.insert(b"kept", b"v").or_fail("insert");
        t.insert(b"empty value", b"").or_fail("insert");
    }
    txn.commit().or_fail("commit");

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        assert!(
            t.remove(b"empty value").or_fail("remove"),
            "remove of a committed key with an empty value must return true"
        );
        assert!(
            t.remove(b"kept").or_fail("remove"),
            "remove of a committed key must return true"
        );
        assert!(
            !t.remove(b"kept").or_fail("remove"),
            "second remove must return false"
        );
        assert!(
            !t.remove(b"k").or_fail("remove"),
            "k was removed before commit"
        );
    }
    drop(txn);

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        assert!(
            t.remove(b"kept").or_fail("remove"),
            "the rolled-back remove must not have removed `kept`"
        );
    }
    txn.commit().or_fail("commit");
    assert_eq!(
        committed_get(backend, TABLE, b"kept"),
        None,
        "committed remove"
    );
}

/// `len` and `is_empty` track inserts, overwrites and removes, in and after a write
/// transaction.
pub fn check_len_and_is_empty<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();

    {
        let txn = backend.begin_read().or_fail("begin_read");
        let t = txn.open_table(TABLE).or_fail("open_table (read)");
        assert_eq!(len_of(&t), 0, "a never-written table has len 0");
        assert!(
            t.is_empty().or_fail("is_empty"),
            "a never-written table is empty"
        );
    }

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        assert_eq!(len_of(&t), 0, "len of a new table");
        assert!(t.is_empty().or_fail("is_empty"), "a new table is empty");
        for (i, key) in [&b"a"[..], b"b", b"c"].into_iter().enumerate() {
            t.insert(key, b"v").or_fail("insert");
            assert_eq!(len_of(&t), i as u64 + 1, "len after {} inserts", i + 1);
        }
        assert!(
            !t.is_empty().or_fail("is_empty"),
            "a table with entries is not empty"
        );
        t.insert(b"b", b"overwritten").or_fail("overwrite");
        assert_eq!(len_of(&t), 3, "an overwrite does not change len");
        t.remove(b"missing").or_fail("remove missing");
        assert_eq!(len_of(&t), 3, "removing a missing key does not change len");
        t.remove(b"a").or_fail("remove");
        assert_eq!(len_of(&t), 2, "len after a remove");
    }
    txn.commit().or_fail("commit");

    {
        let txn = backend.begin_read().or_fail("begin_read");
        let t = txn.open_table(TABLE).or_fail("open_table (read)");
        assert_eq!(len_of(&t), 2, "committed len");
        assert!(
            !t.is_empty().or_fail("is_empty"),
            "committed table is not empty"
        );
    }

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.remove(b"b").or_fail("remove");
        t.remove(b"c").or_fail("remove");
        assert_eq!(len_of(&t), 0, "len after removing everything");
        assert!(
            t.is_empty().or_fail("is_empty"),
            "empty after removing everything"
        );
    }
    txn.commit().or_fail("commit");

    let txn = backend.begin_read().or_fail("begin_read");
    let t = txn.open_table(TABLE).or_fail("open_table (read)");
    assert_table_is_empty(&t, "after committing the removal of every entry");
}

/// `clear` empties one table (and only that one), the table stays usable in the same
/// transaction, and a cleared table comes back when the transaction rolls back.
pub fn check_clear<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let mut rng = Rng::new(0x5EED_0002);
    let a = random_model(&mut rng, 50, entry_limit::<H>());
    let b = random_model(&mut rng, 10, entry_limit::<H>());
    commit_entries(backend, TABLE, &a);
    commit_entries(backend, OTHER, &b);

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.clear().or_fail("clear");
        assert_table_is_empty(&t, "right after clear, in the same transaction");
        t.clear().or_fail("clear of an empty table");
        t.insert(b"after clear", b"v").or_fail("insert after clear");
        assert_eq!(len_of(&t), 1, "len after clear + insert");
        let other = txn.open_table(OTHER).or_fail("open_table other");
        assert_eq!(
            collect_all(&other),
            model_entries(&b),
            "clear touched another table"
        );
    }
    txn.commit().or_fail("commit");

    assert_eq!(
        committed_entries(backend, TABLE),
        vec![(b"after clear".to_vec(), b"v".to_vec())],
        "committed state of the cleared table"
    );
    assert_eq!(
        committed_entries(backend, OTHER),
        model_entries(&b),
        "clear of one table changed another"
    );

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(OTHER).or_fail("open_table");
        t.clear().or_fail("clear");
    }
    drop(txn);
    assert_eq!(
        committed_entries(backend, OTHER),
        model_entries(&b),
        "a clear in a rolled-back transaction must not be visible"
    );

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table("never written").or_fail("open_table");
        t.clear().or_fail("clear of a new table");
        assert_table_is_empty(&t, "a new table after clear");
    }
    txn.commit().or_fail("commit");
    assert_eq!(committed_entries(backend, "never written"), Entries::new());
}
