#!/usr/bin/env bash
# Fuzz smoke test: builds the cargo-fuzz crate in fuzz/ once, then runs each fuzz target for
# FUZZ_SECONDS (default 30) and fails on the first crash, hang or assertion failure.
#
#   scripts/fuzz_smoke.sh                        # every target, 30 s each
#   FUZZ_SECONDS=300 scripts/fuzz_smoke.sh       # longer
#   FUZZ_TARGETS="index_model" scripts/fuzz_smoke.sh
#
# Needs the nightly toolchain (installed here if missing) and cargo-fuzz (installed here if
# missing, about 2.5 minutes). Idempotent: corpora accumulate in fuzz/corpus/<target>/ (not
# tracked), so a later run starts where the last one ended. A crash leaves its input in
# fuzz/artifacts/<target>/; reproduce it with
#   cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
# and shrink it with `cargo +nightly fuzz tmin <target> <file>`.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-30}"
targets="${FUZZ_TARGETS:-key_codec index_model archive_validation query_model byte_flip kad_format}"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz_smoke: installing the nightly toolchain"
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz_smoke: installing cargo-fuzz"
    cargo install cargo-fuzz --locked || cargo install cargo-fuzz
fi

# Two builds (release, debug assertions on):
# * AddressSanitizer and comparison tracing, for the targets that feed bytes to decoders and
#   to the unsafe zero-copy paths (key_codec, archive_validation, byte_flip, kad_format);
# * no sanitizer and no comparison tracing (fuzz/target-fast), for the model-based targets
#   (index_model, query_model). Their generators draw from small closed universes, so
#   comparison tracing finds nothing there, and their bugs are wrong answers, which the
#   oracle catches without a sanitizer; AddressSanitizer's allocator (a stack trace per
#   malloc) made index_model about ten times slower (105 against 1,000 inputs/s).
model_targets=" index_model query_model "
cargo +nightly fuzz build
if [[ " $targets " =~ \ (index_model|query_model)\  ]]; then
    cargo +nightly fuzz build -s none --no-trace-compares --target-dir fuzz/target-fast
fi

log_dir=fuzz/target/fuzz_smoke
mkdir -p "$log_dir"
for target in $targets; do
    # -len_control=0: use inputs up to -max_len from the start (the default grows the
    # length slowly, which would keep a 30 s run at a handful of operations per input).
    args=(-max_total_time="$seconds" -rss_limit_mb=4096 -timeout=60 -len_control=0
          -print_final_stats=1)
    case "$target" in
        # These keep one redb database per process (see `with_redb_store` in
        # fuzz/src/lib.rs), which LeakSanitizer's per-input check would rescan every run.
        index_model | query_model) args+=(-max_len=1024 -detect_leaks=0) ;;
        # Also one redb database per process (`redb_store` in fuzz_targets/byte_flip.rs).
        byte_flip) args+=(-max_len=512 -detect_leaks=0) ;;
        archive_validation) args+=(-max_len=1024) ;;
        *) args+=(-max_len=512) ;;
    esac
    mkdir -p "fuzz/corpus/$target"
    echo "fuzz_smoke: $target for ${seconds}s"
    log="$log_dir/$target.log"
    build=()
    if [[ "$model_targets" == *" $target "* ]]; then
        build=(-s none --no-trace-compares --target-dir fuzz/target-fast)
    fi
    if cargo +nightly fuzz run "${build[@]}" "$target" -- "${args[@]}" >"$log" 2>&1; then
        grep -a -E '^#[0-9]+.*DONE|stat::average_exec_per_sec' "$log" || true
    else
        tail -n 80 "$log"
        echo "fuzz_smoke: $target FAILED (log: $log; input: fuzz/artifacts/$target/)" >&2
        exit 1
    fi
done
echo "fuzz_smoke: all targets passed"
