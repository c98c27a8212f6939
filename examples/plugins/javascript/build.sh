#!/usr/bin/env bash
# Builds out/tenayan_raya_appraise.wasm: the QuickJS-ng engine compiled to wasm32-wasi with clang
# and wasi-libc (as for ../c), the generic host quickjs_host.c, and the plugin's script embedded.
#
# QuickJS-ng's C sources come from PyPI: the source distribution of the `quickjs-ng` Python
# binding carries them under upstream-quickjs/. It is pinned by version and SHA-256 and kept in
# out/ so later builds need no network.
set -euo pipefail
cd "$(dirname "$0")"
CC=${CC:-clang}
SCRIPT=${1:-tenayan_raya_appraise.js}
QJS_VERSION=0.17.0.2
QJS_SHA256=43d2e48272208721a7aaea8e3f02d4b9318f12ef20cc4f5421b59d9a470706ef
QJS_SDIST=out/quickjs_ng-$QJS_VERSION.tar.gz
QJS_DIR=out/quickjs_ng-$QJS_VERSION/upstream-quickjs
mkdir -p out

if [ ! -f "$QJS_DIR/quickjs.c" ]; then
  if [ ! -f "$QJS_SDIST" ]; then
    python3 -m pip download --quiet --no-deps --no-binary :all: \
      "quickjs-ng==$QJS_VERSION" -d out/
  fi
  echo "$QJS_SHA256  $QJS_SDIST" | sha256sum -c --quiet -
  tar -xzf "$QJS_SDIST" -C out/
fi

sysroot=()
if [ -n "${WASI_SYSROOT:-}" ]; then sysroot=(--sysroot="$WASI_SYSROOT"); fi
cflags=(--target=wasm32-wasi "${sysroot[@]}" -O2 -DNDEBUG -D_GNU_SOURCE)

# The engine: compiled once, kept in out/qjs/ (quickjs.c takes a minute on two cores).
mkdir -p out/qjs
for f in quickjs libregexp libunicode dtoa; do
  if [ ! -f "out/qjs/$f.o" ] || [ "$QJS_DIR/$f.c" -nt "out/qjs/$f.o" ]; then
    "$CC" "${cflags[@]}" -w -c "$QJS_DIR/$f.c" -o "out/qjs/$f.o"
  fi
done

# The script, as a C string (bytes in hex, so no character needs escaping).
python3 - "$SCRIPT" out/plugin_js.h <<'PY'
import sys
src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
with open(dst, "w") as f:
    f.write(f"#define PLUGIN_JS_NAME {src.rsplit('/', 1)[-1]!r}\n".replace("'", '"'))
    f.write("static const char plugin_js[] = {\n")
    for i in range(0, len(data), 20):
        f.write("  " + ", ".join(f"0x{b:02x}" for b in data[i:i + 20]) + ",\n")
    f.write("  0x00\n};\n")
PY

"$CC" "${cflags[@]}" -std=gnu11 -Wall -Wextra -Werror -I"$QJS_DIR" -Iout -mexec-model=reactor \
  -Wl,-z,stack-size=1048576 -Wl,--strip-all \
  -o out/tenayan_raya_appraise.wasm quickjs_host.c out/qjs/*.o
echo "built $(pwd)/out/tenayan_raya_appraise.wasm ($(wc -c < out/tenayan_raya_appraise.wasm) bytes)"
