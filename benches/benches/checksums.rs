//! Instruction counts (iai-callgrind) of end-to-end checksums: the same workloads on a typed
//! redb store (in memory, 1,000 users) with and without
//! [`Checksummed`](netabase_store::Checksummed), in one run.
//!
//! ```sh
//! cargo bench -p netabase_benches --features bench --bench checksums
//! ```
//!
//! `get_random`: one read transaction, a point get of every user in random order, reading two
//! fields. `get_secondary`: a lookup by email of every user. `put_loop`: 100 one-put write
//! transactions. A separate file from `instructions.rs` so it runs alone.

// The benchmark macros generate undocumented items.
#![allow(missing_docs)]

use std::hint::black_box;

use iai_callgrind::{library_benchmark, library_benchmark_group, main};
use netabase_benches::data::Batches;
use netabase_benches::{BenchDefinition, Inputs, User, touch};
use netabase_store::backend::Backend;
use netabase_store::{Checksummed, RedbBackend, Store};

/// The store size.
const N: usize = 1_000;

fn fixture<B: Backend>(backend: B, n: usize) -> (Store<BenchDefinition, B>, Inputs) {
    let store = Store::from_backend(backend).expect("store");
    let inputs = Inputs::new(n);
    store
        .open_tree::<User>()
        .put_many(&inputs.users)
        .expect("put_many");
    (store, inputs)
}

fn plain_store(n: usize) -> (Store<BenchDefinition, RedbBackend>, Inputs) {
    fixture(RedbBackend::in_memory().expect("redb"), n)
}

fn checked_store(n: usize) -> (Store<BenchDefinition, Checksummed<RedbBackend>>, Inputs) {
    fixture(Checksummed::new(RedbBackend::in_memory().expect("redb")), n)
}

fn get_random<B: Backend>(f: &(Store<BenchDefinition, B>, Inputs)) -> u64 {
    let txn = f.0.read().expect("read");
    let tree = txn.open_tree::<User>().expect("open_tree");
    let mut sum = 0;
    for &id in &f.1.get_ids {
        sum += touch(&tree.get(id).expect("get").expect("present"));
    }
    sum
}

fn get_secondary<B: Backend>(f: &(Store<BenchDefinition, B>, Inputs)) -> u64 {
    let txn = f.0.read().expect("read");
    let tree = txn.open_tree::<User>().expect("open_tree");
    let mut sum = 0;
    for user in &f.1.users {
        for found in tree
            .get_by(User::EMAIL, user.email.as_str())
            .expect("get_by")
        {
            sum += touch(&found.expect("record"));
        }
    }
    sum
}

fn put_loop<B: Backend>(f: &(Store<BenchDefinition, B>, Inputs)) {
    for user in Batches::new(N).renamed() {
        let txn = f.0.write().expect("write");
        txn.open_tree::<User>()
            .expect("open_tree")
            .put(&user)
            .expect("put");
        txn.commit().expect("commit");
    }
}

#[library_benchmark]
#[bench::plain(args = (N), setup = plain_store)]
fn get_random_plain(f: (Store<BenchDefinition, RedbBackend>, Inputs)) -> u64 {
    black_box(get_random(&f))
}

#[library_benchmark]
#[bench::checksummed(args = (N), setup = checked_store)]
fn get_random_checksummed(f: (Store<BenchDefinition, Checksummed<RedbBackend>>, Inputs)) -> u64 {
    black_box(get_random(&f))
}

#[library_benchmark]
#[bench::plain(args = (N), setup = plain_store)]
fn get_secondary_plain(f: (Store<BenchDefinition, RedbBackend>, Inputs)) -> u64 {
    black_box(get_secondary(&f))
}

#[library_benchmark]
#[bench::checksummed(args = (N), setup = checked_store)]
fn get_secondary_checksummed(f: (Store<BenchDefinition, Checksummed<RedbBackend>>, Inputs)) -> u64 {
    black_box(get_secondary(&f))
}

#[library_benchmark]
#[bench::plain(args = (N), setup = plain_store)]
fn put_loop_plain(f: (Store<BenchDefinition, RedbBackend>, Inputs)) {
    put_loop(&f)
}

#[library_benchmark]
#[bench::checksummed(args = (N), setup = checked_store)]
fn put_loop_checksummed(f: (Store<BenchDefinition, Checksummed<RedbBackend>>, Inputs)) {
    put_loop(&f)
}

library_benchmark_group!(
    name = checksums;
    benchmarks = get_random_plain, get_random_checksummed, get_secondary_plain,
        get_secondary_checksummed, put_loop_plain, put_loop_checksummed
);

main!(library_benchmark_groups = checksums);
