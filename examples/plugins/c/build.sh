#!/usr/bin/env bash
# Builds out/tenayan_raya_appraise.wasm with clang and wasi-libc (Debian: clang lld wasi-libc
# libclang-rt-dev-wasm32). CC may name another clang, e.g. CC=clang-19; WASI_SYSROOT a wasi-sdk
# sysroot when the compiler does not find wasi-libc by itself.
set -euo pipefail
cd "$(dirname "$0")"
CC=${CC:-clang}
mkdir -p out
sysroot=()
if [ -n "${WASI_SYSROOT:-}" ]; then sysroot=(--sysroot="$WASI_SYSROOT"); fi
"$CC" --target=wasm32-wasi "${sysroot[@]}" -std=c11 -O2 -Wall -Wextra -Werror \
  -mexec-model=reactor -Wl,--strip-all \
  -o out/tenayan_raya_appraise.wasm tenayan_raya_appraise.c
echo "built $(pwd)/out/tenayan_raya_appraise.wasm ($(wc -c < out/tenayan_raya_appraise.wasm) bytes)"
