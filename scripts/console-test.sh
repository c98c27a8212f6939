#!/usr/bin/env bash
# Browser tests of the web console: starts `kinerja serve --demo` on a free port with a fresh
# data directory, issues region_admin/agency/employee tokens through the API, and runs the
# tests in tests/console/ in headless Chromium. Screenshots go to a temporary directory, or to
# docs/screenshots/ (the ones docs/console.md shows) with KINERJA_UPDATE_SCREENSHOTS=1, so that
# a test run does not rewrite tracked files.
# Exits non-zero on any failure; the server is stopped on exit whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
# Built as scripts/test.sh builds (incremental state off), so a run on its own reuses that build.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
ROOT=$(pwd)

# What the tests need: Debian's chromium and the npm packages of the lock file.
if [ ! -x /usr/bin/chromium ]; then
  echo "console-test: installing chromium" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
# pdftotext reads back the documents the tests print to PDF.
if ! command -v pdftotext >/dev/null; then
  echo "console-test: installing poppler-utils" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq poppler-utils >/dev/null
fi
command -v node >/dev/null || { echo "console-test: node is required" >&2; exit 1; }
(cd tests/console && npm ci --no-audit --no-fund --loglevel=error)

# The demo activates the region plugins, and the tests upload the simple test plugin.
PLUGIN_DIR="$ROOT/target/wasm32-wasip1/plugin"
for f in kinerja_plugin_jambi kinerja_plugin_jakarta kinerja_plugin_tenayan_raya kinerja_test_simple; do
  if [ ! -f "$PLUGIN_DIR/$f.wasm" ]; then
    ./scripts/build-plugins.sh
    break
  fi
done

# The same selection as the test command, so the build reuses its dependencies.
cargo build --workspace --all-targets
BIN="$ROOT/target/debug/kinerja"

DATA=$(mktemp -d)
SERVER_PID=""
cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ $rc -ne 0 ] && [ -f "$DATA/server.log" ]; then
    echo "---- server log (last 40 lines) ----" >&2
    tail -n 40 "$DATA/server.log" >&2 || true
  fi
  rm -rf "$DATA"
  exit $rc
}
trap cleanup EXIT INT TERM

PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
URL="http://127.0.0.1:$PORT"
"$BIN" serve --demo --data-dir "$DATA/db" --listen "127.0.0.1:$PORT" >"$DATA/server.log" 2>&1 &
SERVER_PID=$!

# Loading the demo and compiling three plugins takes a while on a debug build.
for _ in $(seq 1 600); do
  if curl -fsS "$URL/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "console-test: the server exited" >&2; exit 1; fi
  sleep 0.5
done
curl -fsS "$URL/ready" >/dev/null || { echo "console-test: the server did not become ready" >&2; exit 1; }

ADMIN_TOKEN=$(cat "$DATA/db/admin.token")
eval "$(node tests/console/setup.mjs "$URL" "$ADMIN_TOKEN")"
if [ "${KINERJA_UPDATE_SCREENSHOTS:-0}" = 1 ]; then
  SCREENSHOT_DIR="$ROOT/docs/screenshots"
else
  SCREENSHOT_DIR="$DATA/screenshots"
  mkdir -p "$SCREENSHOT_DIR"
fi
export KINERJA_URL="$URL" ADMIN_TOKEN PLUGIN_DIR SCREENSHOT_DIR

(cd tests/console && npm test)
