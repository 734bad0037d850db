//! Durability: persistence across a reopen, and `flush`.

use crate::conformance::Harness;
use crate::conformance::model::{Entries, OTHER, TABLE, model_entries, model_of, random_model};
use crate::conformance::rng::Rng;
use crate::conformance::support::{
    OrFail, commit_entries, committed_entries, committed_get, entry_limit,
};
use crate::{Backend, WriteTable, WriteTransaction};

/// With `persistent`, committed data (in several tables, including removes, clears, empty keys
/// and empty values) survives dropping and reopening the backend; rolled-back data does not.
pub fn check_persistence_across_reopen<H: Harness>() {
    if !<H::Backend as Backend>::CAPABILITIES.persistent {
        return;
    }
    let mut harness = H::new();
    let mut rng = Rng::new(0x5EED_0004);
    let mut a = random_model(&mut rng, 200, entry_limit::<H>());
    a.insert(Vec::new(), Vec::new());
    let mut b = model_of(&[(b"x", b"1"), (b"y", b"2")]);
    let c = model_of(&[(b"gone", b"soon")]);
    {
        let backend = harness.backend();
        commit_entries(backend, TABLE, &a);
        commit_entries(backend, OTHER, &b);
        commit_entries(backend, "cleared", &c);

        let txn = backend.begin_write().or_fail("begin_write");
        {
            let mut t = txn.open_table(TABLE).or_fail("open_table");
            let keys: Vec<Vec<u8>> = a
                .keys()
                .filter(|k| !k.is_empty())
                .take(20)
                .cloned()
                .collect();
            for k in keys {
                t.remove(&k).or_fail("remove");
                a.remove(&k);
            }
            let mut o = txn.open_table(OTHER).or_fail("open_table");
            o.insert(b"x", b"overwritten").or_fail("overwrite");
            b.insert(b"x".to_vec(), b"overwritten".to_vec());
            let mut cl = txn.open_table("cleared").or_fail("open_table");
            cl.clear().or_fail("clear");
        }
        txn.commit().or_fail("commit");

        let txn = backend.begin_write().or_fail("begin_write");
        {
            let mut t = txn.open_table(TABLE).or_fail("open_table");
            t.insert(b"rolled back", b"!").or_fail("insert");
        }
        drop(txn);
        let txn = backend.begin_write().or_fail("begin_write");
        {
            let mut t = txn.open_table(OTHER).or_fail("open_table");
            t.insert(b"aborted", b"!").or_fail("insert");
        }
        txn.abort().or_fail("abort");
    }

    harness.reopen();
    {
        let backend = harness.backend();
        assert_eq!(
            committed_entries(backend, TABLE),
            model_entries(&a),
            "table after reopen"
        );
        assert_eq!(
            committed_entries(backend, OTHER),
            model_entries(&b),
            "table after reopen"
        );
        assert_eq!(
            committed_entries(backend, "cleared"),
            Entries::new(),
            "cleared table"
        );
        assert_eq!(
            committed_get(backend, TABLE, b"rolled back"),
            None,
            "rolled-back write"
        );
        assert_eq!(
            committed_get(backend, OTHER, b"aborted"),
            None,
            "aborted write"
        );
        assert_eq!(
            committed_get(backend, TABLE, b""),
            Some(Vec::new()),
            "empty key with empty value after reopen"
        );
        let txn = backend.begin_write().or_fail("begin_write after reopen");
        {
            let mut t = txn.open_table(TABLE).or_fail("open_table");
            t.insert(b"after reopen", b"yes").or_fail("insert");
            a.insert(b"after reopen".to_vec(), b"yes".to_vec());
        }
        txn.commit().or_fail("commit after reopen");
    }

    harness.reopen();
    let backend = harness.backend();
    assert_eq!(
        committed_entries(backend, TABLE),
        model_entries(&a),
        "after a second reopen"
    );
    assert_eq!(
        committed_entries(backend, OTHER),
        model_entries(&b),
        "after a second reopen"
    );
}

/// `flush` succeeds on a fresh backend and after commits, does not change what is visible, and
/// (with `persistent`) committed data survives a reopen after it.
pub fn check_flush<H: Harness>() {
    let mut harness = H::new();
    let model = model_of(&[(b"a", b"1"), (b"b", b"2")]);
    {
        let backend = harness.backend();
        backend.flush().or_fail("flush of a fresh backend");
        commit_entries(backend, TABLE, &model);
        backend.flush().or_fail("flush after a commit");
        backend.flush().or_fail("a second flush");
        assert_eq!(
            committed_entries(backend, TABLE),
            model_entries(&model),
            "after flush"
        );
        let reader = backend.begin_read().or_fail("begin_read");
        backend
            .flush()
            .or_fail("flush with a read transaction open");
        drop(reader);
    }
    if <H::Backend as Backend>::CAPABILITIES.persistent {
        harness.reopen();
        let backend = harness.backend();
        assert_eq!(
            committed_entries(backend, TABLE),
            model_entries(&model),
            "flushed data after reopen"
        );
    }
}
