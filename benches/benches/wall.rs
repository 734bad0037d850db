//! Wall-time benchmarks (criterion): every workload on every subject at every size.
//!
//! ```sh
//! cargo bench -p netabase_benches --features bench --bench wall                      # everything
//! cargo bench -p netabase_benches --features bench --bench wall -- get_random/       # one workload
//! NETABASE_BENCH_SIZES=1000 cargo bench -p netabase_benches --features bench --bench wall
//! ```
//!
//! Ids are `<workload>/<subject>/<records>`. Subjects run one after the other; each gets one
//! populated store per size, built on first use, shared by its workloads in the order of
//! `Workload::ALL` (reads first; the write workloads change records the reads no longer
//! need) and dropped before the next subject starts. Stores are files in
//! a temporary directory; commits are not fsynced (`use_fsync: false` / `Durability::None`),
//! and every write iteration starts, untimed, with a flush, so it starts from a durable
//! state (redb keeps the bookkeeping of non-durable commits in memory until the next durable
//! one, which would make later iterations slower than earlier ones).

use std::cell::{OnceCell, RefCell};
use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Bencher, BenchmarkId, Criterion, Throughput};
use netabase_benches::data::Batches;
use netabase_benches::{Fixture, Inputs, Spec, Workload, all_sizes, sizes_for, subjects};

fn benches(c: &mut Criterion) {
    let specs = subjects();
    for n in all_sizes() {
        let inputs = Inputs::new(n);
        // One subject at a time, with only its own store alive: another subject's store
        // (sled's background threads, a 256 MiB page cache) must not run beside it.
        for spec in specs.iter().filter(|s| sizes_for(s.backend).contains(&n)) {
            let fixture: OnceCell<Fixture> = OnceCell::new();
            let fixture = || fixture.get_or_init(|| Fixture::populated(spec, &inputs));
            let batches = RefCell::new(Batches::new(n));
            for w in Workload::ALL {
                if !spec.runs_wall(w) {
                    continue;
                }
                let mut group = c.benchmark_group(w.name());
                group.throughput(Throughput::Elements(w.ops(n)));
                group.bench_function(BenchmarkId::new(&spec.name, n), |b| {
                    run(b, w, spec, &inputs, fixture, &batches)
                });
                group.finish();
            }
        }
    }
}

fn run<'f>(
    b: &mut Bencher<'_>,
    w: Workload,
    spec: &Spec,
    inputs: &Inputs,
    fixture: impl Fn() -> &'f Fixture,
    batches: &RefCell<Batches>,
) {
    match w {
        Workload::InsertBulk => b.iter_batched(
            || Fixture::empty(spec),
            |f| {
                f.subject.put_all(&inputs.users);
                f // dropped (the store closed and deleted) outside the timing
            },
            BatchSize::PerIteration,
        ),
        Workload::GetRandom => {
            let f = fixture();
            b.iter(|| black_box(f.subject.get(&inputs.get_ids)));
        }
        Workload::GetSecondary => {
            let f = fixture();
            b.iter(|| black_box(f.subject.get_by_email(&inputs.email_keys, &inputs.emails)));
        }
        Workload::ScanFull => {
            let f = fixture();
            b.iter(|| black_box(f.subject.scan()));
        }
        Workload::ScanRange => {
            let f = fixture();
            b.iter(|| {
                black_box(
                    f.subject
                        .scan_ranges(&inputs.range_starts, netabase_benches::RANGE_WIDTH),
                )
            });
        }
        Workload::GetMany => {
            let f = fixture();
            b.iter(|| black_box(f.subject.get_many(&inputs.many_ids)));
        }
        Workload::PutLoop => {
            let f = fixture();
            b.iter_batched(
                || {
                    f.subject.flush();
                    batches.borrow_mut().renamed()
                },
                |users| f.subject.put_each(&users),
                BatchSize::PerIteration,
            );
        }
        Workload::UpdateEmail => {
            let f = fixture();
            b.iter_batched(
                || {
                    f.subject.flush();
                    batches.borrow_mut().re_emailed()
                },
                |users| f.subject.put_all(&users),
                BatchSize::PerIteration,
            );
        }
        Workload::Remove => {
            let f = fixture();
            // Each iteration first puts back (untimed) what the previous one removed.
            let removed: RefCell<Vec<u64>> = RefCell::new(Vec::new());
            b.iter_batched(
                || {
                    let back: Vec<_> = removed
                        .borrow()
                        .iter()
                        .map(|&id| netabase_benches::user(id))
                        .collect();
                    f.subject.put_all(&back);
                    f.subject.flush();
                    let ids = batches.borrow_mut().ids();
                    removed.replace(ids.clone());
                    ids
                },
                |ids| f.subject.delete_all(&ids),
                BatchSize::PerIteration,
            );
            let back: Vec<_> = removed
                .borrow()
                .iter()
                .map(|&id| netabase_benches::user(id))
                .collect();
            f.subject.put_all(&back);
        }
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10)
        .without_plots()
        .configure_from_args()
}

fn main() {
    let mut c = config();
    benches(&mut c);
    c.final_summary();
}
