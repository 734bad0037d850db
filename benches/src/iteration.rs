//! One timed iteration of a workload, with its untimed setup: what the paired harness
//! (`benches/paired.rs`) alternates between a typed subject and its baseline.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::data::Batches;
use crate::{Fixture, Inputs, RANGE_WIDTH, Spec, Workload, user};

/// The state the write workloads carry from one iteration to the next.
pub struct WriteState {
    batches: Batches,
    removed: Vec<u64>,
}

impl WriteState {
    /// State for a store of `n` users.
    pub fn new(n: usize) -> Self {
        WriteState {
            batches: Batches::new(n),
            removed: Vec::new(),
        }
    }

    /// Puts back what the last `remove` iteration removed.
    pub fn restore(&mut self, f: &Fixture) {
        let back: Vec<_> = self.removed.drain(..).map(user).collect();
        f.subject.put_all(&back);
    }
}

/// Runs one iteration of `w` on `f` (a populated store of `spec`); returns the time of the
/// timed part only. Setup (a fresh store for `insert_bulk`, a flush and the batch for the
/// write workloads) is not timed, as in the criterion harness.
pub fn timed(
    w: Workload,
    spec: &Spec,
    f: &Fixture,
    inputs: &Inputs,
    state: &mut WriteState,
) -> Duration {
    fn time(work: impl FnOnce()) -> Duration {
        let start = Instant::now();
        work();
        start.elapsed()
    }
    match w {
        Workload::InsertBulk => {
            let fresh = Fixture::empty(spec);
            let t = time(|| fresh.subject.put_all(&inputs.users));
            drop(fresh);
            t
        }
        Workload::GetRandom => time(|| {
            black_box(f.subject.get(&inputs.get_ids));
        }),
        Workload::GetSecondary => time(|| {
            black_box(f.subject.get_by_email(&inputs.email_keys, &inputs.emails));
        }),
        Workload::ScanFull => time(|| {
            black_box(f.subject.scan());
        }),
        Workload::ScanRange => time(|| {
            black_box(f.subject.scan_ranges(&inputs.range_starts, RANGE_WIDTH));
        }),
        Workload::GetMany => time(|| {
            black_box(f.subject.get_many(&inputs.many_ids));
        }),
        Workload::PutLoop => {
            f.subject.flush();
            let users = state.batches.renamed();
            time(|| f.subject.put_each(&users))
        }
        Workload::UpdateEmail => {
            f.subject.flush();
            let users = state.batches.re_emailed();
            time(|| f.subject.put_all(&users))
        }
        Workload::Remove => {
            state.restore(f);
            f.subject.flush();
            let ids = state.batches.ids();
            state.removed.clone_from(&ids);
            time(|| f.subject.delete_all(&ids))
        }
    }
}
