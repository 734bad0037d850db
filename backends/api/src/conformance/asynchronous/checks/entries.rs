//! Single entries: `get`, `insert`, `remove`, `len` and `clear` in one table.

use crate::asynchronous::{AsyncBackend, AsyncReadTable, AsyncWriteTable, AsyncWriteTransaction};
use crate::conformance::asynchronous::AsyncHarness;
use crate::conformance::asynchronous::support::{
    assert_table_is_empty, commit_entries, committed_entries, committed_get, entry_limit,
    get_owned, len_of,
};
use crate::conformance::model::{OTHER, TABLE, model_entries, model_of, random_model};
use crate::conformance::rng::Rng;
use crate::conformance::support::OrFail;

/// `get` returns what `insert` stored, `insert` overwrites, `remove` deletes; inside the write
/// transaction and after commit; two guards may be alive at once.
pub async fn check_get_insert_remove_roundtrip<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        assert_eq!(get_owned(&t, b"alpha").await, None, "fresh table");
        t.insert(b"alpha", b"1").await.or_fail("insert alpha");
        t.insert(b"beta", b"2").await.or_fail("insert beta");
        {
            let first = t.get(b"alpha").await.or_fail("get").expect("alpha");
            let second = t.get(b"beta").await.or_fail("get").expect("beta");
            assert_eq!(first.as_ref(), b"1", "first of two live guards");
            assert_eq!(second.as_ref(), b"2", "second of two live guards");
        }
        t.insert(b"alpha", b"a much longer value than before")
            .await
            .or_fail("overwrite");
        assert_eq!(
            get_owned(&t, b"alpha").await.as_deref(),
            Some(&b"a much longer value than before"[..]),
            "longer overwrite"
        );
        assert_eq!(len_of(&t).await, 2, "overwriting must not add an entry");
        t.insert(b"alpha", b"one").await.or_fail("overwrite");
        assert_eq!(get_owned(&t, b"alpha").await.as_deref(), Some(&b"one"[..]));
        assert!(
            t.remove(b"beta").await.or_fail("remove"),
            "beta was present"
        );
        assert_eq!(get_owned(&t, b"beta").await, None, "get after remove");
        assert_eq!(len_of(&t).await, 1, "len after remove");
    }
    txn.commit().await.or_fail("commit");
    assert_eq!(
        committed_entries(backend, TABLE).await,
        vec![(b"alpha".to_vec(), b"one".to_vec())],
        "committed state"
    );

    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        assert_eq!(get_owned(&t, b"alpha").await.as_deref(), Some(&b"one"[..]));
        assert!(
            t.remove(b"alpha").await.or_fail("remove"),
            "alpha committed"
        );
        assert_eq!(get_owned(&t, b"alpha").await, None, "removed committed key");
        t.insert(b"alpha", b"again").await.or_fail("re-insert");
    }
    txn.commit().await.or_fail("commit");
    assert_eq!(
        committed_get(backend, TABLE, b"alpha").await.as_deref(),
        Some(&b"again"[..]),
        "remove + re-insert in one transaction"
    );
    assert_eq!(committed_get(backend, TABLE, b"beta").await, None);
}

/// `remove` returns `true` exactly when the key was present (committed or written earlier in
/// the same transaction); a rolled-back remove removed nothing.
pub async fn check_remove_reports_presence<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        assert!(
            !t.remove(b"missing").await.or_fail("remove"),
            "never written"
        );
        t.insert(b"k", b"v").await.or_fail("insert");
        assert!(t.remove(b"k").await.or_fail("remove"), "present");
        assert!(!t.remove(b"k").await.or_fail("remove"), "second remove");
        t.insert(b"kept", b"v").await.or_fail("insert");
        t.insert(b"empty value", b"").await.or_fail("insert");
    }
    txn.commit().await.or_fail("commit");

    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        assert!(
            t.remove(b"empty value").await.or_fail("remove"),
            "empty value"
        );
        assert!(t.remove(b"kept").await.or_fail("remove"), "committed key");
        assert!(!t.remove(b"kept").await.or_fail("remove"), "second remove");
    }
    drop(txn);
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        assert!(
            t.remove(b"kept").await.or_fail("remove"),
            "the rolled-back remove must not have removed `kept`"
        );
    }
    txn.commit().await.or_fail("commit");
    assert_eq!(committed_get(backend, TABLE, b"kept").await, None);
}

/// `len` and `is_empty` follow inserts, overwrites and removes, before and after commit.
pub async fn check_len_and_is_empty<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        assert_table_is_empty(&t, "a new table").await;
        for i in 0u32..50 {
            t.insert(&i.to_be_bytes(), b"v").await.or_fail("insert");
        }
        t.insert(&7u32.to_be_bytes(), b"again")
            .await
            .or_fail("overwrite");
        assert_eq!(len_of(&t).await, 50, "50 keys, one overwritten");
        assert!(!t.is_empty().await.or_fail("is_empty"));
        for i in 0u32..20 {
            t.remove(&i.to_be_bytes()).await.or_fail("remove");
        }
        assert_eq!(len_of(&t).await, 30, "after 20 removes");
    }
    txn.commit().await.or_fail("commit");
    assert_eq!(committed_entries(backend, TABLE).await.len(), 30);
}

/// `clear` removes every entry of one table and nothing of another; a cleared table can be
/// written again in the same transaction; a rolled-back clear cleared nothing.
pub async fn check_clear<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let mut rng = Rng::new(0x5EED_0002);
    let model = random_model(&mut rng, 60, entry_limit::<H>());
    commit_entries(backend, TABLE, &model).await;
    commit_entries(backend, OTHER, &model_of(&[(b"o", b"1")])).await;

    let txn = backend.begin_write().await.or_fail("begin_write");
    txn.open_table(TABLE)
        .await
        .or_fail("open_table")
        .clear()
        .await
        .or_fail("clear");
    drop(txn);
    assert_eq!(
        committed_entries(backend, TABLE).await,
        model_entries(&model),
        "a rolled-back clear"
    );

    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        t.clear().await.or_fail("clear");
        assert_table_is_empty(&t, "after clear, in the transaction").await;
        t.insert(b"after", b"clear")
            .await
            .or_fail("insert after clear");
    }
    txn.commit().await.or_fail("commit");
    assert_eq!(
        committed_entries(backend, TABLE).await,
        vec![(b"after".to_vec(), b"clear".to_vec())]
    );
    assert_eq!(
        committed_get(backend, OTHER, b"o").await.as_deref(),
        Some(&b"1"[..]),
        "clear of one table leaves another alone"
    );
}
