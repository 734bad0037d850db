#!/usr/bin/env bash
# Browser tests: the IndexedDB backend and the async typed API in headless Chromium, with
# wasm-bindgen-test (backends/indexeddb: the async conformance kit on IndexedDB and memory, the
# typed essentials, the foreign-await atomicity test, reopening, the native format fixture,
# and the browser example).
#
# Also clippy (-D warnings) on the crate for wasm32. Idempotent: installs only what is missing (the wasm32 rustup target, wasm-bindgen-cli at the
# exact version of Cargo.lock, Debian chromium + chromium-driver). Bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

# The CLI must equal the wasm-bindgen of Cargo.lock. Not --locked: its own lockfile pins crates
# this registry may lack. No TLS features needed (it talks http to chromedriver).
WB=$(awk '$0=="name = \"wasm-bindgen\""{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
[ -n "$WB" ] || { echo "no wasm-bindgen in Cargo.lock" >&2; exit 1; }
if [ "$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}')" != "$WB" ]; then
  timeout 1200 cargo install wasm-bindgen-cli --version "$WB" --no-default-features --force
fi

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  timeout 600 $SUDO apt-get update
  timeout 600 $SUDO apt-get install -y chromium chromium-driver
fi

# The crate compiles to nothing on native, so the workspace clippy does not see it: lint it here.
cargo clippy -p netabase_backend_indexeddb --target wasm32-unknown-unknown --all-targets -- -D warnings

WORK=$(mktemp -d)  # chromedriver leaves ~15 MB profiles in TMPDIR: keep them here, then delete
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/webdriver.json" <<'JSON'
{
  "goog:chromeOptions": {
    "binary": "/usr/bin/chromium",
    "args": ["--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--disable-gpu"]
  }
}
JSON
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
export CHROMEDRIVER=/usr/bin/chromedriver
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$WORK/webdriver.json"
# The runner adds --headless, --no-sandbox and --disable-dev-shm-usage itself. Its timeout is
# per test binary.
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-240}
TMPDIR=$WORK timeout 1800 cargo test -p netabase_backend_indexeddb --target wasm32-unknown-unknown "$@"
