//! Instruction counts (iai-callgrind) of the change feed: `put_loop` (one put per write
//! transaction, [`BATCH`](netabase_benches::BATCH) puts) on the typed memory store at 1,000
//! records with 0, 1 and 10 subscribers. With none a write transaction does one relaxed
//! atomic load and captures nothing.
//!
//! ```sh
//! cargo bench -p netabase_benches --features bench --bench subscriptions
//! ```
//!
//! A separate file from `instructions.rs` so it runs alone (the 0.16 runner's name filter
//! matches bench files, not benchmarks inside one).

// The benchmark macros generate undocumented items.
#![allow(missing_docs)]

use iai_callgrind::{library_benchmark, library_benchmark_group, main};
use netabase_benches::data::Batches;
use netabase_benches::{BenchDefinition, Inputs, User};
use netabase_store::{MemoryBackend, Store, Subscription};

/// The store size.
const N: usize = 1_000;

/// A memory store of [`N`] users with `subscribers` live subscriptions to `User` (queues
/// long enough that none lags), and the users `put_loop` writes.
type Subscribed = (
    Store<BenchDefinition, MemoryBackend>,
    Vec<Subscription<User>>,
    Vec<User>,
);

fn subscribed_fixture(subscribers: usize) -> Subscribed {
    let store = Store::memory().expect("memory store");
    let txn = store.write().expect("write");
    txn.open_tree::<User>()
        .expect("open_tree")
        .put_many(&Inputs::new(N).users)
        .expect("put_many");
    txn.commit().expect("commit");
    let subs = (0..subscribers)
        .map(|_| store.subscription::<User>().capacity(N).subscribe())
        .collect();
    (store, subs, Batches::new(N).renamed())
}

// `put_loop` (one put per write transaction) on the typed memory store with 0, 1 and 10
// subscribers: the cost of the change feed per put (with none: one relaxed load).
#[library_benchmark]
#[bench::subscribers_0(args = (0), setup = subscribed_fixture)]
#[bench::subscribers_1(args = (1), setup = subscribed_fixture)]
#[bench::subscribers_10(args = (10), setup = subscribed_fixture)]
fn put_subscribed(f: Subscribed) -> Subscribed {
    for user in &f.2 {
        let txn = f.0.write().expect("write");
        txn.open_tree::<User>()
            .expect("open_tree")
            .put(user)
            .expect("put");
        txn.commit().expect("commit");
    }
    f
}

library_benchmark_group!(
    name = subscriptions;
    benchmarks = put_subscribed
);

main!(library_benchmark_groups = subscriptions);
