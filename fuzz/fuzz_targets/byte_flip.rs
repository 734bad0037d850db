//! Byte flips in stored values and index entries, on the memory backend, on redb (in memory)
//! and on a checksummed memory store (where nothing flipped may read as data): records
//! written through the typed API, bytes flipped through the raw backend, then every typed read
//! must be a typed error or the intact record, never a panic and never a wrong record
//! silently; `check_integrity()` must see the damage and `purge` / `repair()` clear it. The
//! plan and the checks are `tests/flip/mod.rs`, shared with the bounded test
//! `tests/byte_flip.rs` (which also runs sled); the fuzzer chooses the records, the flipped
//! entries, offsets and masks.
#![no_main]

#[path = "../../tests/flip/mod.rs"]
mod flip;

use arbitrary::Unstructured;
use flip::{FlipDefinition, Plan};
use libfuzzer_sys::fuzz_target;
use netabase_store::{Checksummed, MemoryBackend, RedbBackend, Store};

/// This process's redb store (see `with_redb_store` in `fuzz/src/lib.rs` for why one
/// database serves every input); `flip::run` empties it in its first transaction.
fn redb_store() -> &'static Store<FlipDefinition, RedbBackend> {
    static STORE: std::sync::OnceLock<Store<FlipDefinition, RedbBackend>> =
        std::sync::OnceLock::new();
    STORE.get_or_init(|| {
        Store::from_backend(netabase_store_fuzz::redb_backend()).expect("redb store")
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    // An exhausted input draws the range's start, so every input is a plan.
    let plan = Plan::draw(|n| u.int_in_range(0..=n - 1).unwrap_or(0));
    flip::run(
        &Store::<FlipDefinition, _>::memory().expect("memory store"),
        &plan,
    );
    flip::run(redb_store(), &plan);
    // With checksums nothing flipped may read as data.
    let checked = Store::<FlipDefinition, _>::from_backend(Checksummed::new(MemoryBackend::new()));
    flip::run_checksummed(&checked.expect("checksummed store"), &plan);
});
