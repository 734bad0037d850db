//! Ordered reads: ranges (with limits) against the model, and keys at the edges of the
//! byte order.

use std::ops::Bound;

use crate::Direction;
use crate::asynchronous::{AsyncBackend, AsyncReadTransaction, AsyncWriteTransaction};
use crate::conformance::asynchronous::AsyncHarness;
use crate::conformance::asynchronous::support::{
    assert_ranges_match, collect_all, collect_range, commit_entries, entry_limit, get_owned,
};
use crate::conformance::model::{Model, TABLE, model_entries, probe_keys, random_model};
use crate::conformance::rng::Rng;
use crate::conformance::support::OrFail;

/// `range` in both directions, with every bound kind and with limits, agrees with the model,
/// in a read transaction and in a write transaction.
pub async fn check_range_matches_model<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let mut rng = Rng::new(0x5EED_0001);
    let model = random_model(&mut rng, 120, entry_limit::<H>());
    commit_entries(backend, TABLE, &model).await;
    let probes = probe_keys(&mut rng, &model, 5, 3);
    {
        let txn = backend.begin_read().await.or_fail("begin_read");
        let t = txn.open_table(TABLE).await.or_fail("open_table (read)");
        assert_eq!(collect_all(&t).await, model_entries(&model), "full range");
        assert_ranges_match(&t, &model, &probes, "read transaction").await;
        let (a, b): (&[u8], &[u8]) = (b"a", b"b");
        for (lower, upper) in [
            (Bound::Included(b), Bound::Included(a)),
            (Bound::Included(a), Bound::Excluded(a)),
            (Bound::Excluded(a), Bound::Included(a)),
        ] {
            for direction in [Direction::Forward, Direction::Reverse] {
                let got = collect_range(&t, lower, upper, direction, None).await;
                assert!(got.is_empty(), "range({lower:?}, {upper:?}) must be empty");
            }
        }
    }
    let txn = backend.begin_write().await.or_fail("begin_write");
    {
        let t = txn.open_table(TABLE).await.or_fail("open_table");
        assert_ranges_match(&t, &model, &probes, "write transaction").await;
    }
    txn.abort().await.or_fail("abort");
}

/// The empty key and keys with 0x00 and 0xFF bytes are ordinary keys, ordered bytewise.
pub async fn check_edge_keys<H: AsyncHarness>() {
    let harness = H::new().await;
    let backend = harness.backend();
    let keys: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x00],
        vec![0x00, 0x00],
        vec![0x00, 0xFF],
        vec![0x01],
        b"a".to_vec(),
        b"a\0".to_vec(),
        b"a\xFF".to_vec(),
        b"ab".to_vec(),
        vec![0xFF],
        vec![0xFF, 0x00],
        vec![0xFF; 300],
    ];
    let model: Model = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), format!("value {i}").into_bytes()))
        .collect();
    commit_entries(backend, TABLE, &model).await;
    let txn = backend.begin_read().await.or_fail("begin_read");
    let t = txn.open_table(TABLE).await.or_fail("open_table (read)");
    for (k, v) in &model {
        assert_eq!(get_owned(&t, k).await.as_ref(), Some(v), "get({k:?})");
    }
    assert_ranges_match(&t, &model, &keys, "edge keys as bounds").await;
}
