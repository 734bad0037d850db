//! Byte flips in stored values and index entries, on redb, sled and memory: every typed
//! read gives a typed error or the intact record, never a panic and never a wrong record
//! silently; `check_integrity()` sees the damage, `purge` and `repair()` clear it. The checks
//! are in `tests/flip/mod.rs` (shared with the cargo-fuzz target `byte_flip`).
//!
//! Each backend runs `NETABASE_FLIP_ROUNDS` seeded plans (default 150; the seed is
//! `NETABASE_FLIP_SEED`, default fixed) and prints what was noted: flipped records that
//! still validate (the checksum case) and lookups served or missed through flipped entries.
//! The same plans on `Checksummed` stores must never read flipped bytes as data.
mod flip;

use flip::{FlipDefinition, Outcome, Plan};
use netabase_store::backend::Backend;
use netabase_store::{Checksummed, Store};
use proptest::prelude::RngExt;
use proptest::test_runner::{RngAlgorithm, TestRng};

fn rounds() -> u64 {
    std::env::var("NETABASE_FLIP_ROUNDS").map_or(150, |v| v.parse().expect("NETABASE_FLIP_ROUNDS"))
}

fn plans(backend: &str) -> impl Iterator<Item = Plan> {
    let seed: u64 =
        std::env::var("NETABASE_FLIP_SEED").map_or(16, |v| v.parse().expect("NETABASE_FLIP_SEED"));
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..8 + backend.len()].copy_from_slice(backend.as_bytes());
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    (0..rounds()).map(move |_| Plan::draw(|n| rng.random_range(0..n)))
}

fn flip_all<B: Backend>(backend: &str, open: impl Fn() -> Store<FlipDefinition, B>) {
    let mut total = Outcome::default();
    for (round, plan) in plans(backend).enumerate() {
        let store = open();
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| flip::run(&store, &plan)))
                .unwrap_or_else(|_| panic!("{backend}, round {round}: {plan:?}"));
        total.add(outcome);
    }
    println!("byte flips on {backend}, {} rounds: {total:?}", rounds());
    assert!(
        total.flips > 0 && total.records_corrupt > 0 && total.purged > 0,
        "the flips reached the reads: {total:?}"
    );
}

/// With checksums, nothing flipped reads as data: the noted cases must not happen.
fn flip_all_checksummed<B: Backend>(
    backend: &str,
    open: impl Fn() -> Store<FlipDefinition, Checksummed<B>>,
) {
    let mut total = Outcome::default();
    for (round, plan) in plans(backend).enumerate() {
        let store = open();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            flip::run_checksummed(&store, &plan)
        }))
        .unwrap_or_else(|_| panic!("{backend} with checksums, round {round}: {plan:?}"));
        total.add(outcome);
    }
    println!(
        "byte flips on {backend} with checksums, {} rounds: {total:?}",
        rounds()
    );
    assert!(total.records_corrupt > 0 && total.purged > 0, "{total:?}");
    assert_eq!(
        (
            total.records_changed_undetected,
            total.lookups_served_by_damaged_entry,
            total.repairs_refused_unique
        ),
        (0, 0, 0),
        "{total:?}"
    );
}

#[test]
fn byte_flips_with_checksums() {
    flip_all_checksummed("redb", || {
        Store::from_backend(Checksummed::new(
            netabase_store::RedbBackend::in_memory().unwrap(),
        ))
        .unwrap()
    });
    flip_all_checksummed("memory", || {
        Store::from_backend(Checksummed::new(netabase_store::MemoryBackend::new())).unwrap()
    });
    flip_all_checksummed("sled", || {
        Store::from_backend(Checksummed::new(
            netabase_store::SledBackend::temporary().unwrap(),
        ))
        .unwrap()
    });
}

#[test]
fn byte_flips_on_redb() {
    flip_all("redb", || {
        Store::from_backend(netabase_store::RedbBackend::in_memory().unwrap()).unwrap()
    });
}

#[test]
fn byte_flips_on_memory() {
    flip_all("memory", || Store::memory().unwrap());
}

#[test]
fn byte_flips_on_sled() {
    flip_all("sled", || {
        Store::from_backend(netabase_store::SledBackend::temporary().unwrap()).unwrap()
    });
}
