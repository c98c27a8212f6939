#!/usr/bin/env bash
# Hostile clients: runs Schemathesis against the real `kinerja` binary with the demo data loaded,
# and fails on any 5xx and on any answer that the server's own OpenAPI document does not allow
# (undocumented status code, body not matching the schema, wrong content type).
#
# Usage: scripts/schemathesis.sh [extra schemathesis args...]
# Environment:
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default 50)
#   SCHEMATHESIS_SEED          random seed (default fixed, so a failure reproduces; "random" for none)
#   SCHEMATHESIS_WORKERS       concurrent workers (default 1: see WORKERS below)
#   SCHEMATHESIS_TIMEOUT       hard limit of the schemathesis run in seconds (default 600)
#   KINERJA_BIN                the server binary (default target/debug/kinerja, built if missing)
#   SCHEMATHESIS_VENV          where the pinned schemathesis is installed (default target/schemathesis-venv)
#
# The server's log and the schemathesis reports land in target/schemathesis/.
set -euo pipefail
cd "$(dirname "$0")/.."
# Built as scripts/test.sh builds (incremental state off), so a run on its own reuses that build.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
ROOT=$PWD

SCHEMATHESIS_VERSION=4.32.5
VENV=${SCHEMATHESIS_VENV:-$ROOT/target/schemathesis-venv}
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-50}
SEED=${SCHEMATHESIS_SEED:-20260401}
# One worker: schemathesis's workers are threads, and CPython 3.11's `ast` (hypothesis parses
# lambdas with it) can fail with a spurious "AST constructor recursion depth mismatch" when two
# threads parse at once (python/cpython#106905). It failed a CI run that way; one worker is
# also the deterministic order for the fixed seed.
WORKERS=${SCHEMATHESIS_WORKERS:-1}
TIMEOUT=${SCHEMATHESIS_TIMEOUT:-600}
BIN=${KINERJA_BIN:-$ROOT/target/debug/kinerja}
OUT=$ROOT/target/schemathesis
START=$(date +%s)

echo "==> schemathesis $SCHEMATHESIS_VERSION in $VENV"
if [ ! -x "$VENV/bin/schemathesis" ] || [ "$("$VENV/bin/schemathesis" --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

if [ ! -x "$BIN" ] && [ -z "${KINERJA_BIN:-}" ]; then
  echo "==> building the server (cargo build -p kinerja)"
  cargo build -p kinerja
fi
PLUGINS=$ROOT/target/wasm32-wasip1/plugin
if [ ! -f "$PLUGINS/kinerja_plugin_jambi.wasm" ] || [ ! -f "$PLUGINS/kinerja_plugin_jakarta.wasm" ] || [ ! -f "$PLUGINS/kinerja_plugin_tenayan_raya.wasm" ]; then
  echo "==> building the plugins"
  ./scripts/build-plugins.sh
fi

DATA=$(mktemp -d)
mkdir -p "$OUT"
rm -rf "$OUT/report"
LOG=$OUT/server.log
SERVER_PID=
cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$DATA"
  echo "==> schemathesis.sh finished in $(( $(date +%s) - START )) s (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> starting $BIN on a free port (data dir $DATA, demo data)"
# Port 0: the server binds a free port and prints it, so no other process can take it between
# choosing and binding.
"$BIN" serve --data-dir "$DATA" --listen 127.0.0.1:0 --demo --demo-plugins "$PLUGINS" >"$OUT/server.stdout" 2>"$LOG" &
SERVER_PID=$!

BASE=
for _ in $(seq 1 600); do
  BASE=$(sed -n 's/^kinerja listening on \(http:\/\/[0-9.:]*\).*/\1/p;T;q' "$OUT/server.stdout")
  [ -n "$BASE" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited early; its log:"; tail -n 40 "$LOG"; exit 1; }
  sleep 0.1
done
[ -n "$BASE" ] || { echo "server printed no address in 60 s; its log:"; tail -n 40 "$LOG"; exit 1; }

echo "==> waiting for $BASE/ready"
READY=
for _ in $(seq 1 1200); do
  if curl -fsS -o /dev/null "$BASE/ready" 2>/dev/null; then READY=1; break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited early; its log:"; tail -n 40 "$LOG"; exit 1; }
  sleep 0.1
done
[ -n "$READY" ] || { echo "server not ready in 120 s; its log:"; tail -n 40 "$LOG"; exit 1; }
TOKEN=$(tr -d '[:space:]' <"$DATA/admin.token")
[ -n "$TOKEN" ] || { echo "no admin token in $DATA/admin.token"; exit 1; }
echo "==> ready after $(( $(date +%s) - START )) s"

SEED_ARGS=()
[ "$SEED" != "random" ] && SEED_ARGS=(--seed "$SEED")

echo "==> schemathesis run: $MAX_EXAMPLES examples per operation, $WORKERS workers, seed $SEED"
# A region's move between nodes (move, release, resume, file) is left out: fuzzed, it would
# hand the demo's regions away mid-run; tests/cluster.rs runs those routes end to end.
# No --max-time: with it, fuzzing repeats until the budget is spent; the cases per operation
# bound the run instead, and `timeout` guards against a hang.
set +e
SCHEMATHESIS_HOOKS=$ROOT/scripts/schemathesis_hooks.py \
timeout --signal=INT --kill-after=30 "$TIMEOUT" \
"$VENV/bin/schemathesis" run "$BASE/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --header "Authorization: Bearer $TOKEN" \
  --max-examples "$MAX_EXAMPLES" \
  --workers "$WORKERS" \
  "${SEED_ARGS[@]}" \
  --phases examples,coverage,fuzzing \
  --exclude-path-regex '/(move|release|resume|file)$' \
  --request-timeout 90 \
  --generation-database none \
  --suppress-health-check all \
  --report junit,ndjson --report-dir "$OUT/report" \
  --no-color \
  "$@"
RC=$?
set -e

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "FAIL: the server died during the run; its log ends:"
  tail -n 40 "$LOG"
  exit 1
fi
if ! curl -fsS -o /dev/null "$BASE/health"; then
  echo "FAIL: the server no longer answers /health"
  exit 1
fi
if grep -q 'panicked' "$LOG"; then
  echo "FAIL: the server log has a panic:"
  grep -m5 -A3 'panicked' "$LOG"
  exit 1
fi
if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
  echo "FAIL: schemathesis did not finish within $TIMEOUT s"
  exit 1
fi
if [ "$RC" -ne 0 ]; then
  echo "FAIL: schemathesis found problems (exit $RC); reports in $OUT/report, server log $LOG"
  exit "$RC"
fi
echo "==> schemathesis: no server errors, every answer conforms to the document"
