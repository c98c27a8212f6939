#!/usr/bin/env bash
# Builds out/tenayan_raya_appraise.wasm: Kecamatan Tenayan Raya's appraise hook
# (tenayan_raya_appraise.js) as a WebAssembly component of plugin ABI 2 (world `appraiser` of
# schemas/wit/policy.wit), with ComponentizeJS (npm): SpiderMonkey and the script in one component,
# pre-initialised with Wizer at build time.
#
#   ./build.sh        ComponentizeJS  → out/tenayan_raya_appraise.wasm      (~12 MB)
#   ./build.sh qjs    componentize-qjs → out/tenayan_raya_appraise.qjs.wasm (~1.7 MB, QuickJS)
#
# The tools come from package-lock.json (npm ci, on the first run or when node_modules is missing).
set -euo pipefail
cd "$(dirname "$0")"
WIT=../../../schemas/wit  # package kinerja:policy@2.0.0
SRC=tenayan_raya_appraise.js
start=$(date +%s%N)

if [ ! -d node_modules ]; then
  echo "installing the toolchain (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
mkdir -p out

case "${1:-componentize-js}" in
  componentize-js)
    OUT=out/tenayan_raya_appraise.wasm
    # All of the engine's WASI features off: the component imports only kinerja:policy/types
    # (a "pure component"; an uncaught Error traps instead of printing to stderr).
    node_modules/.bin/componentize-js --wit "$WIT" --world-name appraiser \
      --disable stdio random clocks http fetch-event -o "$OUT" "$SRC"
    ;;
  qjs)
    OUT=out/tenayan_raya_appraise.qjs.wasm
    # --sync: no component-model async ABI. Not --stub-wasi: its component has 3 linear
    # memories, which the host refuses (pooling allocator maximum 2); without it the component
    # imports WASI 0.2, which the host provides with nothing behind it.
    node_modules/.bin/componentize-qjs --wit "$WIT" --world appraiser --js "$SRC" --sync \
      -o "$OUT" >/dev/null
    ;;
  *) echo "usage: $0 [componentize-js|qjs]" >&2; exit 2 ;;
esac

ms=$(( ($(date +%s%N) - start) / 1000000 ))
printf 'built %s (%s bytes) in %d.%d s\n' "$PWD/$OUT" "$(wc -c < "$OUT")" $((ms / 1000)) $((ms % 1000 / 100))
