#!/usr/bin/env bash
# Runs Kinerja with the demo data: builds the plugins, then serves with --demo, which loads the
# three regions' records and uploads and activates their policy plugins.
#
# The server is built exactly as scripts/test.sh builds it (`cargo build --workspace
# --all-targets`, the command the tests use for the binary too), so that cargo resolves the
# same features and either command reuses what the other compiled: `cargo run -p kinerja`
# unified features differently and compiled wasmtime a second time.
set -euo pipefail
cd "$(dirname "$0")/.."
# As scripts/test.sh builds (incremental state off), so neither command rebuilds what the other built.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
rustup target add wasm32-wasip1 >/dev/null
./scripts/build-plugins.sh
cargo build --workspace --all-targets
exec target/debug/kinerja serve --demo --data-dir "${KINERJA_DATA_DIR:-./data}" "$@"
