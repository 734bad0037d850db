//! Value sizes: empty and large values, and the entry size limit.

use crate::BackendError;
use crate::asynchronous::{AsyncBackend, AsyncWriteTable, AsyncWriteTransaction};
use crate::conformance::asynchronous::AsyncHarness;
use crate::conformance::asynchronous::support::{
    committed_entries, committed_get, entry_limit, get_owned, name,
};
use crate::conformance::model::{MAX_TESTED_ENTRY_LEN, TABLE};
use crate::conformance::support::OrFail;

/// An empty value reads back as `Some(empty)`; large values round-trip exactly.
pub async fn check_empty_and_large_values<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let size = (1024 * 1024).min(entry_limit::<H>().saturating_sub(16));
    let large = |seed: u8| -> Vec<u8> {
        (0..size)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 12) as u8)
            .collect()
    };
    let (big1, big2) = (large(7), large(101));
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        t.insert(b"empty", b"").await.or_fail("insert empty");
        assert_eq!(
            get_owned(&t, b"empty").await,
            Some(Vec::new()),
            "empty value"
        );
        t.insert(b"big1", &big1).await.or_fail("insert large");
        t.insert(b"big2", &big2).await.or_fail("insert large");
        assert!(
            get_owned(&t, b"big1").await == Some(big1.clone()),
            "large value"
        );
    }
    txn.commit().await.or_fail("commit");
    let all = committed_entries(backend, TABLE).await;
    let keys: Vec<&[u8]> = all.iter().map(|(k, _)| k.as_slice()).collect();
    assert_eq!(keys, vec![&b"big1"[..], b"big2", b"empty"]);
    assert!(
        all[0].1 == big1 && all[1].1 == big2,
        "large values via range"
    );
    assert!(all[2].1.is_empty(), "empty value via range");
}

/// With `max_entry_len` (up to 64 MiB), a larger entry is `ValueTooLarge`, stores nothing, and
/// the transaction stays usable.
pub async fn check_value_too_large<H: AsyncHarness>() {
    let Some(max) = <H::Backend as AsyncBackend>::CAPABILITIES.max_entry_len else {
        return;
    };
    if max > MAX_TESTED_ENTRY_LEN {
        return;
    }
    let harness = H::new().await;
    let backend = harness.backend();
    let too_big = vec![0x5A; max + 1];
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).await.or_fail("open_table");
        t.insert(b"before", b"1").await.or_fail("insert");
        match t.insert(b"too big", &too_big).await {
            Err(BackendError::ValueTooLarge { len, max: reported }) => {
                assert_eq!(reported, max, "ValueTooLarge reports the limit");
                assert!(len > max, "ValueTooLarge reports a length above the limit");
            }
            Err(e) => panic!("expected ValueTooLarge, got {e:?}"),
            Ok(()) => panic!("{}: an entry over max_entry_len was accepted", name::<H>()),
        }
        t.insert(b"after", b"2")
            .await
            .or_fail("insert after ValueTooLarge");
    }
    txn.commit().await.or_fail("commit");
    assert_eq!(committed_get(backend, TABLE, b"too big").await, None);
    assert_eq!(
        committed_get(backend, TABLE, b"after").await.as_deref(),
        Some(&b"2"[..])
    );
}
