//! The conformance kit: one test suite, written once, that every backend runs.
//!
//! The typed layer of `netabase_store` trusts nothing about a backend beyond the byte-level
//! contract of this crate. This module turns that contract into executable checks, so a backend
//! that passes them can carry every model, index and query of the typed layer.
//!
//! # Using it from a backend crate
//!
//! 1. Add `netabase_backend_api` as a dependency (it already is one) and whatever the harness
//!    needs to make scratch storage (for example `tempfile`) as a dev-dependency.
//! 2. In `tests/conformance.rs`, implement [`Harness`]: [`Harness::new`] makes a fresh, empty
//!    backend on its own storage, [`Harness::backend`] lends it, and [`Harness::reopen`] drops it
//!    and opens it again from the same storage (only called when
//!    [`Capabilities::persistent`](crate::Capabilities::persistent) is `true`).
//! 3. Invoke [`conformance_tests!`](crate::conformance_tests) with the harness type. It expands
//!    into one `#[test]` per check, so `cargo test` reports each failing check by name.
//!
//! ```ignore
//! use netabase_backend_api::conformance::Harness;
//!
//! struct MyHarness {
//!     dir: tempfile::TempDir,
//!     backend: Option<MyBackend>,
//! }
//!
//! impl Harness for MyHarness {
//!     type Backend = MyBackend;
//!
//!     fn new() -> Self {
//!         let dir = tempfile::tempdir().expect("temp dir");
//!         let backend = Some(MyBackend::open(dir.path()).expect("open"));
//!         MyHarness { dir, backend }
//!     }
//!
//!     fn backend(&self) -> &MyBackend {
//!         self.backend.as_ref().expect("backend is open")
//!     }
//!
//!     fn reopen(&mut self) {
//!         drop(self.backend.take());
//!         self.backend = Some(MyBackend::open(self.dir.path()).expect("reopen"));
//!     }
//! }
//!
//! netabase_backend_api::conformance_tests!(MyHarness);
//! // Several harnesses in one file: give each its own module.
//! // netabase_backend_api::conformance_tests!(in_memory: MyInMemoryHarness);
//! ```
//!
//! Every check is also a plain generic function (`check_*::<H>()`), so a backend may call one
//! directly, for example while debugging. A check panics with a message that says what the
//! contract promised and what the backend did.
//!
//! # What is checked
//!
//! The kit tests exactly what [`Capabilities`](crate::Capabilities) claims: snapshot isolation
//! only when `snapshot_reads` is claimed (read-committed otherwise), persistence only when
//! `persistent` is claimed, and the entry size limit only when `max_entry_len` is at most
//! 64 MiB (a larger limit would need more memory than a test should take). Everything else is
//! required of every backend.

mod checks;
mod model;
mod rng;
mod support;

pub mod asynchronous;
#[cfg(test)]
mod reference;

pub use checks::*;

use crate::Backend;

/// Makes and reopens the backend under test. Implemented by a backend's test code.
pub trait Harness: Sized {
    /// The backend under test.
    type Backend: Backend;

    /// A fresh, empty backend on storage of its own (each check makes its own harness, and
    /// checks run in parallel).
    fn new() -> Self;

    /// The backend.
    fn backend(&self) -> &Self::Backend;

    /// Drops the backend and opens it again from the same storage. Only called when the backend
    /// claims [`Capabilities::persistent`](crate::Capabilities::persistent).
    fn reopen(&mut self);
}

/// Expands into one `#[test]` per conformance check, for the given [`Harness`] type.
///
/// `conformance_tests!(MyHarness)` puts the tests in the current module;
/// `conformance_tests!(name: MyHarness)` puts them in a new module `name` (which sees the
/// items of the current one), so one file can run the suite against several harnesses.
///
/// Each test is named after its check, without the `check_` prefix.
///
/// [`Harness`]: crate::conformance::Harness
#[macro_export]
macro_rules! conformance_tests {
    (@tests $harness:ty; $($test:ident => $check:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                $crate::conformance::$check::<$harness>();
            }
        )*
    };
    ($module:ident : $harness:ty) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $crate::conformance_tests!($harness);
        }
    };
    ($harness:ty) => {
        $crate::conformance_tests!(@tests $harness;
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
            reader_does_not_block_writer => check_reader_does_not_block_writer,
            persistence_across_reopen => check_persistence_across_reopen,
            flush => check_flush,
            value_too_large => check_value_too_large,
            guards_keep_their_bytes => check_guards_keep_their_bytes,
        );
    };
}
