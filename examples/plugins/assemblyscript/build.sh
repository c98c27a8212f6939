#!/usr/bin/env bash
# Builds out/tenayan_raya_appraise.wasm with AssemblyScript 0.28 and @assemblyscript/wasi-shim
# (pinned in package.json and package-lock.json; `npm ci` installs them when node_modules is
# missing). Options are in asconfig.json.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x node_modules/.bin/asc ]; then npm ci --no-audit --no-fund --loglevel=error; fi
mkdir -p out
node_modules/.bin/asc assembly/index.ts --config asconfig.json --target release
echo "built $(pwd)/out/tenayan_raya_appraise.wasm ($(wc -c < out/tenayan_raya_appraise.wasm) bytes)"
