#!/usr/bin/env bash
# Runs tests/miri_ref.rs and tests/miri_sled_guard.rs under Miri: the typed core's one
# `unsafe` block (`Ref::deref` in src/guard.rs) exercised on the memory backend, and over
# sled's guard type.
#
# Tree Borrows, because rkyv's bytecheck trips a known Stacked Borrows false positive
# (rkyv#436). Extra Miri flags can be appended through MIRIFLAGS_EXTRA, e.g.
#   MIRIFLAGS_EXTRA="-Zmiri-symbolic-alignment-check" scripts/miri.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "miri: installing the nightly toolchain"
    rustup toolchain install nightly --profile minimal
fi
installed="$(rustup +nightly component list --installed)"
if ! grep -q '^miri' <<<"$installed" || ! grep -q '^rust-src' <<<"$installed"; then
    echo "miri: adding the miri and rust-src components"
    rustup +nightly component add miri rust-src
fi

MIRIFLAGS="-Zmiri-tree-borrows ${MIRIFLAGS_EXTRA:-}" \
    cargo +nightly miri test -p netabase_store --no-default-features --features memory \
    --test miri_ref

# `Ref::deref` over sled's guard (inline `IVec`s move with the guard), on the memory backend.
MIRIFLAGS="-Zmiri-tree-borrows ${MIRIFLAGS_EXTRA:-}" \
    cargo +nightly miri test -p netabase_store --no-default-features --features memory,sled \
    --test miri_sled_guard
