#!/usr/bin/env bash
# Builds the region plugins and the test plugins for wasm32-wasip1 into
# target/wasm32-wasip1/plugin/, where the demo and the tests look for them.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --target wasm32-wasip1 --profile plugin \
  -p kinerja-plugin-jambi -p kinerja-plugin-jakarta -p kinerja-plugin-tenayan-raya \
  -p kinerja-test-plugins -p kinerja-test-simple
# ABI 2: the components, for wasm32-wasip2 (into target/wasm32-wasip2/plugin/).
cargo build --target wasm32-wasip2 --profile plugin -p kinerja-plugin-jambi-abi2 -p kinerja-test-component
