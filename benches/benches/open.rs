//! What `FileConfig::check_integrity_on_open` costs: opening a store (redb and sled) of N
//! users with and without the check, in one run.
//!
//! ```sh
//! cargo bench -p netabase_benches --features bench --bench open
//! NETABASE_BENCH_SIZES=1000 cargo bench -p netabase_benches --features bench --bench open
//! ```
//!
//! Ids are `open/<backend>-<plain|checked>/<records>`. The files are written once per size
//! (durably) and reopened on every iteration; the page cache of the operating system is warm,
//! so the numbers are the check's CPU cost, not a cold disk's.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion};
use netabase_benches::{BenchDefinition, User, sizes, user};
use netabase_store::{BackendStore, FileConfig, RedbStore, SledStore};

fn config(path: &Path, checked: bool) -> FileConfig {
    FileConfig::builder()
        .path(path)
        .check_integrity_on_open(checked)
        .build()
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("open");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    for n in sizes() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let redb = dir.path().join("store.redb");
        let sled = dir.path().join("store.sled");
        {
            let store = RedbStore::<BenchDefinition>::open(config(&redb, false)).expect("redb");
            store
                .open_tree::<User>()
                .put_many((0..n as u64).map(user))
                .expect("populate redb");
            let store = SledStore::<BenchDefinition>::open(config(&sled, false)).expect("sled");
            store
                .open_tree::<User>()
                .put_many((0..n as u64).map(user))
                .expect("populate sled");
        }
        for checked in [false, true] {
            let mode = if checked { "checked" } else { "plain" };
            group.bench_function(BenchmarkId::new(format!("redb-{mode}"), n), |b| {
                b.iter(|| {
                    black_box(RedbStore::<BenchDefinition>::open(config(&redb, checked)))
                        .expect("open")
                })
            });
            group.bench_function(BenchmarkId::new(format!("sled-{mode}"), n), |b| {
                b.iter(|| {
                    black_box(SledStore::<BenchDefinition>::open(config(&sled, checked)))
                        .expect("open")
                })
            });
        }
    }
    group.finish();
}

criterion::criterion_group!(open, benches);
criterion::criterion_main!(open);
