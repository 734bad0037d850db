#!/usr/bin/env bash
# Builds and runs README's quick start in a brand-new crate whose Cargo.toml has only the
# dependency line README gives (as a path dependency on this checkout), then once more
# under a renamed dependency (`store = { package = "netabase_store", .. }`), to prove the
# macros find the crate by its new name.
#
# It reuses this workspace's Cargo.lock and target dir, so nothing is built twice.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"

# The first ```rust block after "## Quick start".
quickstart() {
    awk '/^## Quick start/{q=1} q&&/^```rust/{f=1;next} f&&/^```/{exit} f{print}' "$repo/README.md"
}

new_crate() { # name, dependency line, main.rs source on stdin
    local dir="$work/$1"
    mkdir -p "$dir/src"
    cat > "$dir/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
$2

[workspace]
TOML
    cat > "$dir/src/main.rs"
    cp "$repo/Cargo.lock" "$dir/Cargo.lock"
    echo "fresh_crate: $1 ($2)"
    (cd "$dir" && cargo run --quiet)
}

quickstart | new_crate readme_quickstart "netabase_store = { path = \"$repo\" }"
quickstart | sed -e 's/netabase_store::/store::/g' -e 's/NetabaseStore::</store::NetabaseStore::</' \
    | new_crate renamed_dependency "store = { package = \"netabase_store\", path = \"$repo\" }"
echo "fresh_crate: both crates built and ran"
