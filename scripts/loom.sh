#!/usr/bin/env bash
# Model-checks index maintenance and the change feed's commit-to-publish ordering under
# concurrency with loom (memory backend).
# Separate target dir: `--cfg loom` changes every crate's build.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="--cfg loom ${RUSTFLAGS:-}"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
export CARGO_TARGET_DIR="${LOOM_TARGET_DIR:-target/loom}"
cargo test --no-default-features --features memory --test loom_unique_index --test loom_subscriptions -- --test-threads=1
