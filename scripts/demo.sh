#!/usr/bin/env bash
# Runs Kinerja with the demo data: builds the plugins, then serves with --demo, which loads the
# three regions' records and uploads and activates their policy plugins.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip1 >/dev/null
./scripts/build-plugins.sh
exec cargo run -p kinerja -- serve --demo --data-dir "${KINERJA_DATA_DIR:-./data}" "$@"
