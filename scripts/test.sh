#!/usr/bin/env bash
# Runs every test of Kinerja on a fresh machine: installs what it needs, builds the Wasm
# plugins, checks formatting, lints, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# A fresh clone gains nothing from incremental state; it is gigabytes on a shared disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

echo "==> toolchain: wasm32-wasip1 and wasm32-wasip2 targets"
rustup target add wasm32-wasip1 wasm32-wasip2 >/dev/null

echo "==> building the plugins (wasm32-wasip1 and, for ABI 2, wasm32-wasip2; profile plugin)"
./scripts/build-plugins.sh

echo "==> ABI 2 in Python: examples/plugins/python (componentize-py from PyPI)"
./examples/plugins/python/build.sh

echo "==> rustfmt"
cargo fmt --all --check

echo "==> tests"
cargo test --workspace --all-targets

echo "==> conformance: the region plugins (ABI 1 and 2) and the C, Zig, AssemblyScript, JavaScript and Python examples"
./examples/plugins/test.sh

echo "==> schemathesis against /openapi.json"
./scripts/schemathesis.sh

echo "==> cluster: three nodes behind HAProxy"
./scripts/cluster-test.sh

echo "==> web console in headless Chromium"
./scripts/console-test.sh

echo "==> clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "==> all tests passed"
