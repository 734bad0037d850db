//! Durability: persistence across a reopen.

use crate::asynchronous::{AsyncBackend, AsyncWriteTable, AsyncWriteTransaction};
use crate::conformance::asynchronous::AsyncHarness;
use crate::conformance::asynchronous::support::{commit_entries, committed_entries, entry_limit};
use crate::conformance::model::{OTHER, TABLE, model_entries, random_model};
use crate::conformance::rng::Rng;
use crate::conformance::support::OrFail;

/// With `persistent`, committed data (and only committed data) survives reopening.
pub async fn check_persistence_across_reopen<H: AsyncHarness>() {
    if !<H::Backend as AsyncBackend>::CAPABILITIES.persistent {
        return;
    }
    let mut harness = H::new().await;
    let mut rng = Rng::new(0x5EED_0004);
    let a = random_model(&mut rng, 80, entry_limit::<H>());
    {
        let backend = harness.backend();
        commit_entries(backend, TABLE, &a).await;
        let txn = backend.begin_write().await.or_fail("begin_write");
        txn.open_table(OTHER)
            .await
            .or_fail("open_table")
            .insert(b"uncommitted", b"x")
            .await
            .or_fail("insert");
        drop(txn);
    }
    harness.reopen().await;
    let backend = harness.backend();
    assert_eq!(
        committed_entries(backend, TABLE).await,
        model_entries(&a),
        "after reopen"
    );
    assert!(
        committed_entries(backend, OTHER).await.is_empty(),
        "uncommitted"
    );
}
