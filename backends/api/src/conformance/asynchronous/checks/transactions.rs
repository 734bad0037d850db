//! Write transactions: reading one's own writes, invisibility before commit, rollback.

use crate::asynchronous::{
    AsyncBackend, AsyncReadTransaction, AsyncWriteTable, AsyncWriteTransaction,
};
use crate::conformance::asynchronous::AsyncHarness;
use crate::conformance::asynchronous::support::{
    assert_ranges_match, assert_table_is_empty, collect_all, commit_entries, committed_entries,
    entry_limit, len_of,
};
use crate::conformance::model::{OTHER, TABLE, model_entries, model_of, probe_keys, random_model};
use crate::conformance::rng::Rng;
use crate::conformance::support::OrFail;

/// Inside a write transaction, `get`, `range` and `len` see its own uncommitted inserts,
/// overwrites and removes, also through a handle reopened in the same transaction.
pub async fn check_read_your_own_writes<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let mut rng = Rng::new(0x5EED_0003);
    let limit = entry_limit::<H>();
    let mut model = random_model(&mut rng, 60, limit);
    commit_entries(backend, TABLE, &model).await;
    let committed: Vec<Vec<u8>> = model.keys().cloned().collect();
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        for round in 0..80 {
            let k = match rng.below(2) {
                0 => committed[rng.below(committed.len())].clone(),
                _ => rng.key(),
            };
            if k.len() > limit {
                continue;
            }
            if rng.below(3) == 0 {
                let was = t.remove(&k).await.or_fail("remove");
                assert_eq!(was, model.remove(&k).is_some(), "remove in round {round}");
            } else {
                let v = rng.value(k.len(), limit);
                t.insert(&k, &v).await.or_fail("insert");
                model.insert(k, v);
            }
            if round % 20 == 0 {
                assert_eq!(
                    collect_all(&t).await,
                    model_entries(&model),
                    "round {round}"
                );
            }
        }
        assert_eq!(len_of(&t).await, model.len() as u64, "len");
        let probes = probe_keys(&mut rng, &model, 4, 3);
        assert_ranges_match(&t, &model, &probes, "uncommitted writes").await;
    }
    {
        let t = txn.open_table(TABLE).await.or_fail("reopen table");
        assert_eq!(
            collect_all(&t).await,
            model_entries(&model),
            "reopened handle"
        );
    }
    txn.commit().await.or_fail("commit");
    assert_eq!(
        committed_entries(backend, TABLE).await,
        model_entries(&model)
    );
}

/// Uncommitted writes are invisible to read transactions begun before or during them.
pub async fn check_uncommitted_writes_are_invisible<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let base = model_of(&[(b"a", b"1"), (b"b", b"2")]);
    commit_entries(backend, TABLE, &base).await;
    let before = backend.begin_read().await.or_fail("begin_read");
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        t.insert(b"a", b"changed").await.or_fail("insert");
        t.remove(b"b").await.or_fail("remove");
        t.insert(b"c", b"3").await.or_fail("insert");
        txn.open_table(OTHER)
            .await
            .or_fail("open_table")
            .insert(b"x", b"y")
            .await
            .or_fail("insert");
    }
    let during = backend.begin_read().await.or_fail("begin_read");
    for (label, reader) in [("before", &before), ("during", &during)] {
        let t = reader.open_table(TABLE).await.or_fail("open_table");
        assert_eq!(
            collect_all(&t).await,
            model_entries(&base),
            "reader begun {label}"
        );
        let o = reader.open_table(OTHER).await.or_fail("open_table");
        assert_table_is_empty(&o, "a table only the open writer wrote").await;
    }
    txn.commit().await.or_fail("commit");
    let mut now = base.clone();
    now.insert(b"a".to_vec(), b"changed".to_vec());
    now.remove(&b"b"[..]);
    now.insert(b"c".to_vec(), b"3".to_vec());
    assert_eq!(committed_entries(backend, TABLE).await, model_entries(&now));
}

async fn assert_rollback<H: AsyncHarness>(abort: bool) {
    let harness = H::new().await;
    let backend = harness.backend();
    let base = model_of(&[(b"a", b"1"), (b"b", b"2")]);
    commit_entries(backend, TABLE, &base).await;
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        t.insert(b"a", b"lost").await.or_fail("insert");
        t.remove(b"b").await.or_fail("remove");
        t.insert(b"c", b"lost").await.or_fail("insert");
        let mut o = txn.open_table(OTHER).await.or_fail("open_table");
        o.insert(b"x", b"lost").await.or_fail("insert");
        o.clear().await.or_fail("clear");
        o.insert(b"y", b"lost").await.or_fail("insert");
    }
    if abort {
        txn.abort().await.or_fail("abort");
    } else {
        drop(txn);
    }
    let how = if abort { "abort" } else { "drop" };
    assert_eq!(
        committed_entries(backend, TABLE).await,
        model_entries(&base),
        "{how}"
    );
    assert!(
        committed_entries(backend, OTHER).await.is_empty(),
        "{how}: other table"
    );
    commit_entries(backend, TABLE, &model_of(&[(b"z", b"after")])).await;
    assert_eq!(
        committed_entries(backend, TABLE).await.len(),
        3,
        "next writer after {how}"
    );
}

/// Dropping a write transaction rolls every write back, and the next writer works.
pub async fn check_rollback_on_drop<H: AsyncHarness>() {
    assert_rollback::<H>(false).await;
}

/// `abort` rolls every write back, and the next writer works.
pub async fn check_rollback_on_abort<H: AsyncHarness>() {
    assert_rollback::<H>(true).await;
}
