#!/usr/bin/env bash
# Runs the benchmarks in their full mode and prints their figures (ratios against baselines
# measured in the same run; see docs/performance.md for the targets and the last results).
#   benches/plugin.rs      plugin call vs native, instantiation, Rego peer, rotation, cold start
#   benches/throughput.rs  batch, HTTP and ingest throughput
# The full mode builds with the bench (release) profile; `cargo test` runs the same binaries in
# a short, correctness-only mode.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build-plugins.sh
cargo bench -p kinerja-tests "$@"
