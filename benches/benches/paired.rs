//! Paired wall-time ratios: each typed subject and its baseline run alternately, sample by
//! sample (ABBA order), on the same machine at the same moment, so load from other
//! processes hits both alike. The ratio is the median of the per-round ratios.
//!
//! ```sh
//! cargo bench -p netabase_benches --features bench --bench paired
//! NETABASE_BENCH_SIZES=1000 NETABASE_PAIRED_ROUNDS=21 cargo bench -p netabase_benches --features bench --bench paired
//! # typed subjects against other baselines (a list; here the peers), on some workloads:
//! NETABASE_PAIRED_SUBJECTS=typed_redb,typed_memory NETABASE_PAIRED_VS=raw_redb_serde,native_db \
//!   NETABASE_PAIRED_WORKLOADS=get_random,get_secondary cargo bench -p netabase_benches --features bench --bench paired
//! # every typed subject against its baseline and (redb, memory) the peers, as scripts/bench.sh does:
//! NETABASE_PAIRED_PEERS=1 cargo bench -p netabase_benches --features bench --bench paired
//! ```
//!
//! Writes `<target>/netabase-bench/paired-results.json` (or the file named by
//! `NETABASE_PAIRED_OUT`, in the same directory) for `scripts/bench_report.py`, which reads
//! every `paired-results*.json` there. Criterion
//! (`benches/wall.rs`) gives the absolute times; on a shared machine its typed ÷ raw ratios
//! come from measurements minutes apart and swing with the load, these do not.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use netabase_benches::iteration::{WriteState, timed};
use netabase_benches::{
    Fixture, Inputs, Role, Workload, all_sizes, sizes, sizes_for, subject, subjects,
};

/// The minimum timed length of one sample.
const SAMPLE: Duration = Duration::from_millis(25);

fn rounds() -> usize {
    std::env::var("NETABASE_PAIRED_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15)
}

/// The comma-separated list in environment variable `var`, if set.
fn list(var: &str) -> Option<Vec<String>> {
    std::env::var(var)
        .ok()
        .map(|s| s.split(',').map(|x| x.trim().to_owned()).collect())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

fn main() {
    // `cargo bench` passes `--bench`; this harness takes no arguments.
    let rounds = rounds();
    let only = list("NETABASE_PAIRED_SUBJECTS");
    let workloads = list("NETABASE_PAIRED_WORKLOADS");
    let versus = list("NETABASE_PAIRED_VS");
    let peers = std::env::var_os("NETABASE_PAIRED_PEERS").is_some_and(|v| v != "0");
    let out = std::env::var("NETABASE_PAIRED_OUT").unwrap_or_else(|_| "paired-results.json".into());
    let mut results = Vec::new();
    for n in all_sizes() {
        let inputs = Inputs::new(n);
        for typed in subjects().into_iter().filter(|s| {
            s.role == Role::Typed
                && only.as_ref().is_none_or(|o| o.contains(&s.name))
                && sizes_for(s.backend).contains(&n)
        }) {
            let own = typed.baseline.expect("typed subjects name a baseline");
            let bases: Vec<String> = versus.clone().unwrap_or_else(|| {
                let mut bases = vec![own.to_owned()];
                // The peers compare with redb-backed subjects and the memory backend (whose
                // target is set against raw redb); sled's target is raw sled alone. At the
                // memory backend's extra size only raw redb joins (the target's baseline).
                if peers && typed.backend != "sled" {
                    let more: &[&str] = if sizes().contains(&n) {
                        &["raw_redb", "raw_redb_serde", "native_db"]
                    } else {
                        &["raw_redb"]
                    };
                    bases.extend(more.iter().filter(|&&b| b != own).map(|&b| b.to_owned()));
                }
                bases
            });
            for base in bases.iter().map(|name| subject(name)) {
                let fixtures = [
                    Fixture::populated(&base, &inputs),
                    Fixture::populated(&typed, &inputs),
                ];
                let specs = [&base, &typed];
                for w in Workload::ALL {
                    if workloads
                        .as_ref()
                        .is_some_and(|ws| !ws.iter().any(|x| x == w.name()))
                    {
                        continue;
                    }
                    let mut states = [WriteState::new(n), WriteState::new(n)];
                    // Warm-up, and the number of iterations that makes one sample long enough.
                    let mut reps = [1usize; 2];
                    for i in 0..2 {
                        let t = timed(w, specs[i], &fixtures[i], &inputs, &mut states[i]);
                        let t = t.max(Duration::from_micros(1));
                        reps[i] = (SAMPLE.as_secs_f64() / t.as_secs_f64()).ceil().max(1.0) as usize;
                    }
                    let reps = reps[0].max(reps[1]).min(10_000);
                    let mut per_op = [Vec::new(), Vec::new()];
                    let mut ratios = Vec::new();
                    for round in 0..rounds {
                        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
                        let mut sample = [0.0f64; 2];
                        for &i in &order {
                            let total: Duration = (0..reps)
                                .map(|_| timed(w, specs[i], &fixtures[i], &inputs, &mut states[i]))
                                .sum();
                            sample[i] = total.as_secs_f64() * 1e9 / (reps as f64 * w.ops(n) as f64);
                        }
                        ratios.push(sample[1] / sample[0]);
                        per_op[0].push(sample[0]);
                        per_op[1].push(sample[1]);
                    }
                    for i in 0..2 {
                        states[i].restore(&fixtures[i]);
                    }
                    let ratio = median(&mut ratios);
                    let (lo, hi) = (ratios[rounds / 4], ratios[rounds * 3 / 4]);
                    let base_ns = median(&mut per_op[0]);
                    let typed_ns = median(&mut per_op[1]);
                    println!(
                        "{:<14} {:>7} {:<13} ÷ {:<13} {:>10.1} ns / {:>10.1} ns = {:.3}  (interquartile {:.3} – {:.3}, {} rounds × {} iterations)",
                        w.name(),
                        n,
                        typed.name,
                        base.name,
                        typed_ns,
                        base_ns,
                        ratio,
                        lo,
                        hi,
                        rounds,
                        reps
                    );
                    results.push(format!(
                    "{{\"workload\":\"{}\",\"records\":{},\"typed\":\"{}\",\"baseline\":\"{}\",\"typed_ns\":{:.3},\"baseline_ns\":{:.3},\"ratio\":{:.4},\"ratio_q1\":{:.4},\"ratio_q3\":{:.4},\"rounds\":{},\"iterations\":{}}}",
                    w.name(),
                    n,
                    typed.name,
                    base.name,
                    typed_ns,
                    base_ns,
                    ratio,
                    lo,
                    hi,
                    rounds,
                    reps
                ));
                }
            }
        }
    }
    let dir = target_dir().join("netabase-bench");
    std::fs::create_dir_all(&dir).expect("create the results directory");
    let path = dir.join(&out);
    let mut file = std::fs::File::create(&path).expect("create the results file");
    writeln!(file, "[\n{}\n]", results.join(",\n")).expect("write the results file");
    println!("wrote {}", path.display());
}
