//! Tables: independent tables, names, never-written tables and `TableAlreadyOpen`.

use crate::BackendError;
use crate::asynchronous::{
    AsyncBackend, AsyncReadTransaction, AsyncWriteTable, AsyncWriteTransaction,
};
use crate::conformance::asynchronous::AsyncHarness;
use crate::conformance::asynchronous::support::{
    assert_table_is_empty, collect_all, committed_entries, get_owned, len_of, name,
};
use crate::conformance::model::{OTHER, TABLE};
use crate::conformance::support::OrFail;

/// Tables are independent: the same key in many tables holds each table's own value.
pub async fn check_many_tables<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let names: Vec<String> = (0..12).map(|i| format!("table_{i}")).collect();
    let txn = backend.begin_write().await.or_fail("begin_write");
    for (i, table) in names.iter().enumerate() {
        let mut t = txn.open_table(table).await.or_fail("open_table");
        for j in 0..=i {
            t.insert(&[j as u8], table.as_bytes())
                .await
                .or_fail("insert");
        }
    }
    txn.commit().await.or_fail("commit");
    for (i, table) in names.iter().enumerate() {
        let all = committed_entries(backend, table).await;
        assert_eq!(all.len(), i + 1, "entries of {table}");
        assert!(all.iter().all(|(_, v)| v == table.as_bytes()), "{table}");
    }
}

/// An empty table name is `InvalidConfig`, in read and write transactions, and the
/// transaction stays usable.
pub async fn check_empty_table_name_is_an_error<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let txn = backend.begin_write().await.or_fail("begin_write");
    match txn.open_table("").await {
        Err(BackendError::InvalidConfig { .. }) => {}
        Err(e) => panic!(
            "{}: empty table name: expected InvalidConfig, got {e:?}",
            name::<H>()
        ),
        Ok(_) => panic!("{}: an empty table name was accepted", name::<H>()),
    }
    txn.open_table(TABLE)
        .await
        .or_fail("open_table after the error")
        .insert(b"k", b"v")
        .await
        .or_fail("insert");
    txn.commit().await.or_fail("commit");
    let txn = backend.begin_read().await.or_fail("begin_read");
    assert!(
        matches!(
            txn.open_table("").await,
            Err(BackendError::InvalidConfig { .. })
        ),
        "empty table name in a read transaction"
    );
    let t = txn.open_table(TABLE).await.or_fail("open_table");
    assert_eq!(get_owned(&t, b"k").await.as_deref(), Some(&b"v"[..]));
}

/// A table never written reads as empty, in read and write transactions.
pub async fn check_missing_table_reads_empty<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let txn = backend.begin_read().await.or_fail("begin_read");
    let t = txn.open_table("never_written").await.or_fail("open_table");
    assert_table_is_empty(&t, "a missing table, read transaction").await;
    drop(t);
    drop(txn);
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let t = txn.open_table("never_written").await.or_fail("open_table");
        assert_table_is_empty(&t, "a missing table, write transaction").await;
    }
    txn.abort().await.or_fail("abort");
}

/// A table open in a write transaction cannot be opened again until its handle drops; another
/// table can, and read transactions may open a table twice.
pub async fn check_table_already_open<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut first = txn.open_table(TABLE).await.or_fail("open_table");
        first.insert(b"k", b"v").await.or_fail("insert");
        match txn.open_table(TABLE).await {
            Err(BackendError::TableAlreadyOpen { table }) => assert_eq!(table, TABLE),
            Err(e) => panic!("expected TableAlreadyOpen, got {e:?}"),
            Ok(_) => panic!(
                "{}: a table was opened twice in one write transaction",
                name::<H>()
            ),
        }
        let mut other = txn.open_table(OTHER).await.or_fail("another table");
        other.insert(b"o", b"1").await.or_fail("insert");
        first
            .insert(b"k2", b"v2")
            .await
            .or_fail("insert after the error");
    }
    {
        let again = txn.open_table(TABLE).await.or_fail("reopen after drop");
        assert_eq!(get_owned(&again, b"k2").await.as_deref(), Some(&b"v2"[..]));
    }
    txn.commit().await.or_fail("commit");
    let txn = backend.begin_read().await.or_fail("begin_read");
    let one = txn.open_table(TABLE).await.or_fail("open_table");
    let two = txn
        .open_table(TABLE)
        .await
        .or_fail("open_table twice (read)");
    assert_eq!(collect_all(&one).await, collect_all(&two).await);
    assert_eq!(len_of(&one).await, 2);
}
