//! The async conformance kit: the checks of the [synchronous kit](crate::conformance), run
//! through the [async contract](crate::asynchronous).
//!
//! It uses the synchronous kit's data (the same seeded keys and values, the same `BTreeMap`
//! model and range oracle) and checks, under the same names, what the async contract
//! promises: round trips, `remove`'s answer, ranges in both directions with every bound kind
//! (and with limits), `len`, `clear`, empty and large values, edge keys, many tables, empty
//! table names, reading one's own writes, invisibility and rollback of uncommitted writes,
//! missing tables, `TableAlreadyOpen`, snapshot isolation (when claimed), guards keeping their
//! bytes, persistence (when claimed) and the entry limit (when claimed).
//!
//! The checks are executor-free `async fn`s over an [`AsyncHarness`];
//! [`async_conformance_tests!`](crate::async_conformance_tests) expands them into tests:
//!
//! ```ignore
//! // Native: any executor's block_on. Every sync backend runs the kit through SyncAsAsync.
//! netabase_backend_api::async_conformance_tests!(
//!     block_on = futures_executor::block_on;
//!     netabase_backend_api::async_conformance::Adapted<MyHarness>
//! );
//! // Browser: async tests under wasm-bindgen-test.
//! netabase_backend_api::async_conformance_tests!(#[wasm_bindgen_test] IdbHarness);
//! ```

mod checks;
mod support;

pub use checks::*;

use std::future::Future;

use super::Harness;
use crate::asynchronous::{AsyncBackend, SyncAsAsync};
use crate::{Backend, Capabilities};

/// Makes and reopens the async backend under test.
pub trait AsyncHarness: Sized {
    /// The backend under test.
    type Backend: AsyncBackend;

    /// A fresh, empty backend on storage of its own.
    fn new() -> impl Future<Output = Self>;

    /// The backend.
    fn backend(&self) -> &Self::Backend;

    /// Drops the backend and opens it again from the same storage (only called when the
    /// backend claims `persistent`).
    fn reopen(&mut self) -> impl Future<Output = ()>;
}

/// A synchronous [`Harness`] run through [`SyncAsAsync`]: both the async harness and the
/// async backend (whose transactions are the sync backend's, wrapped).
pub struct Adapted<H>(H);

impl<H: Harness + 'static> AsyncBackend for Adapted<H> {
    type ReadTxn<'db> = SyncAsAsync<<H::Backend as Backend>::ReadTxn<'db>>;
    type WriteTxn<'db> = SyncAsAsync<<H::Backend as Backend>::WriteTxn<'db>>;

    const CAPABILITIES: Capabilities = <H::Backend as Backend>::CAPABILITIES;

    fn begin_read(&self) -> impl Future<Output = crate::Result<Self::ReadTxn<'_>>> {
        std::future::ready(self.0.backend().begin_read().map(SyncAsAsync))
    }

    fn begin_write(&self) -> impl Future<Output = crate::Result<Self::WriteTxn<'_>>> {
        std::future::ready(self.0.backend().begin_write().map(SyncAsAsync))
    }
}

impl<H: Harness + 'static> AsyncHarness for Adapted<H> {
    type Backend = Self;

    async fn new() -> Self {
        Adapted(H::new())
    }

    fn backend(&self) -> &Self {
        self
    }

    async fn reopen(&mut self) {
        self.0.reopen();
    }
}

/// Expands into one test per async conformance check, for the given [`AsyncHarness`].
///
/// `async_conformance_tests!(block_on = path; Harness)` makes `#[test]` functions that run each
/// check with `path(future)`; `async_conformance_tests!(#[attr] Harness)` makes `async fn` tests
/// carrying `#[attr]` (such as `#[wasm_bindgen_test]`). Prefix the harness with `name:` to put
/// the tests in a module `name`.
#[macro_export]
macro_rules! async_conformance_tests {
    (@each $callback:ident ! ($($args:tt)*)) => {
        $crate::$callback!($($args)*;
            get_insert_remove_roundtrip => check_get_insert_remove_roundtrip,
            remove_reports_presence => check_remove_reports_presence,
            range_matches_model => check_range_matches_model,
            len_and_is_empty => check_len_and_is_empty,
            clear => check_clear,
            empty_and_large_values => check_empty_and_large_values,
            edge_keys => check_edge_keys,
            many_tables => check_many_tables,
            empty_table_name_is_an_error => check_empty_table_name_is_an_error,
            read_your_own_writes => check_read_your_own_writes,
            uncommitted_writes_are_invisible => check_uncommitted_writes_are_invisible,
            rollback_on_drop => check_rollback_on_drop,
            rollback_on_abort => check_rollback_on_abort,
            missing_table_reads_empty => check_missing_table_reads_empty,
            table_already_open => check_table_already_open,
            snapshot_isolation => check_snapshot_isolation,
            guards_keep_their_bytes => check_guards_keep_their_bytes,
            persistence_across_reopen => check_persistence_across_reopen,
            value_too_large => check_value_too_large,
        );
    };
    (block_on = $block_on:path; $module:ident : $harness:ty) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $crate::async_conformance_tests!(block_on = $block_on; $harness);
        }
    };
    (block_on = $block_on:path; $harness:ty) => {
        $crate::async_conformance_tests!(@each __async_conformance_blocking!($block_on, $harness));
    };
    (#[$attr:meta] $module:ident : $harness:ty) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $crate::async_conformance_tests!(#[$attr] $harness);
        }
    };
    (#[$attr:meta] $harness:ty) => {
        $crate::async_conformance_tests!(@each __async_conformance_async!($attr, $harness));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __async_conformance_blocking {
    ($block_on:path, $harness:ty; $($test:ident => $check:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                $block_on($crate::async_conformance::$check::<$harness>());
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __async_conformance_async {
    ($attr:meta, $harness:ty; $($test:ident => $check:ident),* $(,)?) => {
        $(
            #[$attr]
            async fn $test() {
                $crate::async_conformance::$check::<$harness>().await;
            }
        )*
    };
}
