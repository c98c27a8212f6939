#!/usr/bin/env bash
# Fetches the real OPA engine for the ABI 2 benchmark (tests/benches/plugin.rs, section 8):
# `libopabridge.so`, OPA's Go Rego evaluator built as a C library, from the PyPI wheel
# opa-golib-python-bindings (pinned, checked by SHA-256), into target/opa/. The benchmark loads
# it directly with dlopen: no Python, none of the wrapper's overhead.
#
# The wheel declares Requires-Python >= 3.14, so pip on this machine's Python 3.11 refuses it;
# the library itself needs no Python, so the wheel is downloaded as a file and unzipped.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=0.4.4
URL="https://files.pythonhosted.org/packages/b6/e2/6ca1b4d42517847789c7fdbcf243e03e96243fd9e62e20453886bed23d8f/opa_golib_python_bindings-${VERSION}-py3-none-manylinux_2_34_x86_64.whl"
SHA256=d411c901e14b8c7c3023e23e4a944f4cf429c1d31baf80e959e57d11efbfd24a
OUT=target/opa
if [ -f "$OUT/libopabridge.so" ] && [ "$(cat "$OUT/version" 2>/dev/null)" = "$VERSION" ]; then
  echo "$OUT/libopabridge.so (opa-golib-python-bindings $VERSION) is there"
  exit 0
fi
mkdir -p "$OUT"
curl -fsSL -o "$OUT/opa.whl" "$URL"
echo "$SHA256  $OUT/opa.whl" | sha256sum -c --quiet
python3 -m zipfile -e "$OUT/opa.whl" "$OUT/wheel"
mv "$OUT/wheel/opa_bindings/libopabridge.so" "$OUT/libopabridge.so"
rm -rf "$OUT/wheel" "$OUT/opa.whl"
echo "$VERSION" > "$OUT/version"
echo "fetched $OUT/libopabridge.so (opa-golib-python-bindings $VERSION)"
