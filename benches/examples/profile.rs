//! Runs one workload on one subject at one size, for a profiler:
//!
//! ```sh
//! cargo build --release -p netabase_benches --example profile
//! valgrind --tool=callgrind --toggle-collect='*profile::measured*' \
//!     target/release/examples/profile typed_memory get_random 100000 3
//! ```
//!
//! Arguments: subject, workload, records, iterations (default 1). The store is filled (and
//! one warm-up iteration run) before `measured`, the only function a profiler needs to
//! collect, runs the iterations.

use netabase_benches::iteration::{WriteState, timed};
use netabase_benches::{Fixture, Inputs, Workload, subject};

#[inline(never)]
fn measured(
    w: Workload,
    spec: &netabase_benches::Spec,
    f: &Fixture,
    inputs: &Inputs,
    state: &mut WriteState,
    iterations: usize,
) -> std::time::Duration {
    (0..iterations)
        .map(|_| timed(w, spec, f, inputs, state))
        .sum()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: profile SUBJECT WORKLOAD RECORDS [ITERATIONS]";
    let spec = subject(args.first().expect(usage));
    let name = args.get(1).expect(usage);
    let w = Workload::ALL
        .into_iter()
        .find(|w| w.name() == name)
        .unwrap_or_else(|| panic!("no workload named {name}"));
    let n: usize = args.get(2).expect(usage).parse().expect(usage);
    let iterations: usize = args.get(3).map_or(1, |s| s.parse().expect(usage));
    let inputs = Inputs::new(n);
    let f = Fixture::populated(&spec, &inputs);
    let mut state = WriteState::new(n);
    timed(w, &spec, &f, &inputs, &mut state);
    let t = measured(w, &spec, &f, &inputs, &mut state, iterations);
    let per_op = t.as_secs_f64() * 1e9 / (iterations as f64 * w.ops(n) as f64);
    println!(
        "{} {} {n}: {per_op:.1} ns per operation",
        spec.name,
        w.name()
    );
}
