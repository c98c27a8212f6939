#!/usr/bin/env bash
# Builds out/tenayan_raya_appraise.wasm with Zig 0.14.1 (pip install ziglang==0.14.1 gives it as
# `python3 -m ziglang`; a `zig` on PATH is used when it is 0.14.x). No libc, no wasi-libc.
set -euo pipefail
cd "$(dirname "$0")"
if [ -n "${ZIG:-}" ]; then read -r -a zig <<< "$ZIG"
elif command -v zig >/dev/null && [[ "$(zig version)" == 0.14.* ]]; then zig=(zig)
else zig=(python3 -m ziglang); fi
mkdir -p out
# -fno-entry: no _start; -rdynamic: every `export fn` becomes a wasm export (here: appraise).
"${zig[@]}" build-exe tenayan_raya_appraise.zig -target wasm32-wasi -O ReleaseSmall \
  -fno-entry -rdynamic -fstrip --cache-dir out/.zig-cache --global-cache-dir out/.zig-global-cache \
  -femit-bin=out/tenayan_raya_appraise.wasm
echo "built $(pwd)/out/tenayan_raya_appraise.wasm ($(wc -c < out/tenayan_raya_appraise.wasm) bytes)"
