#!/usr/bin/env bash
# The cluster test (issue 26): three `kinerja serve` nodes and a real HAProxy on loopback
# ports, started by tests/cluster.rs, which this runs. Installs haproxy (Debian's package) when
# it is missing. Every node, the proxy and the data dirs are the test's own and go with it.
set -euo pipefail
cd "$(dirname "$0")/.."
# Built as scripts/test.sh builds (incremental state off), so a run on its own reuses that build.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

if ! command -v haproxy >/dev/null; then
  echo "cluster-test: installing haproxy" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq haproxy >/dev/null
fi
# sed reads to the end: `head -1` would close the pipe early and, under pipefail, fail the run
# with SIGPIPE (141) whenever haproxy writes its second line after head has gone.
haproxy -v | sed -n 1p

cargo test -p kinerja-tests --test cluster -- --ignored --nocapture
