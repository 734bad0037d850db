//! Readers and writers together: snapshot isolation and guards that keep their bytes.

use crate::asynchronous::{
    AsyncBackend, AsyncReadTable, AsyncReadTransaction, AsyncWriteTable, AsyncWriteTransaction,
};
use crate::conformance::asynchronous::AsyncHarness;
use crate::conformance::asynchronous::support::{
    collect_all, commit_entries, committed_entries, entry_limit, get_owned, len_of,
};
use crate::conformance::model::{TABLE, model_entries, model_of};
use crate::conformance::support::OrFail;

/// With `snapshot_reads`, a reader begun before a commit keeps the old state; always, a
/// reader begun after a commit sees the new state.
pub async fn check_snapshot_isolation<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let snapshot = <H::Backend as AsyncBackend>::CAPABILITIES.snapshot_reads;
    let old = model_of(&[(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]);
    commit_entries(backend, TABLE, &old).await;
    let reader = backend.begin_read().await.or_fail("begin_read");
    let early = reader.open_table(TABLE).await.or_fail("open_table");
    assert_eq!(collect_all(&early).await, model_entries(&old));
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        t.insert(b"a", b"10").await.or_fail("overwrite");
        t.remove(b"b").await.or_fail("remove");
        t.insert(b"d", b"4").await.or_fail("insert");
    }
    txn.commit().await.or_fail("commit");
    let new = model_of(&[(b"a", b"10"), (b"c", b"3"), (b"d", b"4")]);
    if snapshot {
        let late = reader.open_table(TABLE).await.or_fail("open_table");
        for t in [&early, &late] {
            assert_eq!(collect_all(t).await, model_entries(&old), "snapshot");
            assert_eq!(get_owned(t, b"b").await.as_deref(), Some(&b"2"[..]));
            assert_eq!(len_of(t).await, 3);
        }
    }
    drop(early);
    drop(reader);
    assert_eq!(committed_entries(backend, TABLE).await, model_entries(&new));
}

/// A guard's bytes do not change while it lives, whatever a later commit does to its key.
pub async fn check_guards_keep_their_bytes<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let big = vec![0xA7u8; 5000.min(entry_limit::<H>().saturating_sub(8))];
    commit_entries(backend, TABLE, &model_of(&[(b"s", b"small"), (b"l", &big)])).await;
    let reader = backend.begin_read().await.or_fail("begin_read");
    let t = reader.open_table(TABLE).await.or_fail("open_table");
    let small = t.get(b"s").await.or_fail("get").expect("s");
    let large = t.get(b"l").await.or_fail("get").expect("l");
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut w = txn.open_table(TABLE).await.or_fail("open_table");
        w.insert(b"s", b"a longer small value")
            .await
            .or_fail("overwrite");
        w.remove(b"l").await.or_fail("remove");
    }
    txn.commit().await.or_fail("commit");
    let txn = backend.begin_write().await.or_fail("begin_write");
    txn.open_table(TABLE)
        .await
        .or_fail("open_table")
        .clear()
        .await
        .or_fail("clear");
    txn.commit().await.or_fail("commit");
    assert_eq!(small.as_ref(), b"small", "a small value's guard");
    assert!(large.as_ref() == big.as_slice(), "a large value's guard");
}
