#!/usr/bin/env bash
# Runs the benchmark suite and regenerates docs/benchmarks.md and docs/benchmarks/*.svg.
#
#   scripts/bench.sh           criterion, paired ratios, iai-callgrind, then the report
#   scripts/bench.sh wall      criterion only, then the report
#   scripts/bench.sh paired    paired typed ÷ baseline ratios only, then the report
#   scripts/bench.sh iai       iai-callgrind only, then the report
#   scripts/bench.sh report    the report only, from the last results
#
# iai-callgrind needs valgrind and its runner, at exactly the library's version:
#   cargo install iai-callgrind-runner --version 0.16.1 --locked
# Extra arguments after the mode go to criterion (e.g. `scripts/bench.sh wall get_random/`).
# NETABASE_BENCH_SIZES=1000 limits the wall-time sizes (default 1000,100000, and 1000000 for
# the memory backend); NETABASE_PAIRED_ROUNDS sets the paired rounds (default 15).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
shift || true

wall=(cargo bench -p netabase_benches --features bench --bench wall -- --warm-up-time 1 --measurement-time 2 "$@")
# The paired run also pairs the typed redb and memory subjects with the peers (raw redb with
# u64 keys + bincode, native_db) and, at the memory backend's extra size, with raw redb.
paired=(env NETABASE_PAIRED_PEERS=1 cargo bench -p netabase_benches --features bench --bench paired)
iai=(cargo bench -p netabase_benches --features bench --bench instructions)

if [[ $what == all || $what == wall ]]; then
  python3 scripts/bench_report.py --record wall "${NETABASE_BENCH_SIZES:+NETABASE_BENCH_SIZES=$NETABASE_BENCH_SIZES }${wall[*]}"
  "${wall[@]}"
fi
if [[ $what == all || $what == paired ]]; then
  python3 scripts/bench_report.py --record paired "${NETABASE_BENCH_SIZES:+NETABASE_BENCH_SIZES=$NETABASE_BENCH_SIZES }${paired[*]}"
  "${paired[@]}"
fi
if [[ $what == all || $what == iai ]]; then
  python3 scripts/bench_report.py --record iai "IAI_CALLGRIND_SAVE_SUMMARY=json ${iai[*]}"
  IAI_CALLGRIND_SAVE_SUMMARY=json "${iai[@]}"
fi
python3 scripts/bench_report.py
