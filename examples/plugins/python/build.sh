#!/usr/bin/env bash
# Builds out/jambi.wasm: Provinsi Jambi's policy (jambi/policy_rules.py, entered through
# jambi/app.py) as a WebAssembly component of ABI 2 (world `policy` of schemas/wit/policy.wit),
# with componentize-py (PyPI), which puts CPython and the app into one component.
#
# componentize-py is installed into .venv/ on the first run (needs PyPI), then reused.
# Also writes out/bindings/: the generated Python classes of the WIT records (for editors, and
# for check_fixtures.py, which runs app.py with them).
set -euo pipefail
cd "$(dirname "$0")"
CPY_VERSION=0.25.1
PYTHON=${PYTHON:-python3}
VENV=.venv
CPY=$VENV/bin/componentize-py
start=$(date +%s%N)

if ! "$CPY" --version 2>/dev/null | grep -qx "componentize-py $CPY_VERSION"; then
  echo "installing componentize-py $CPY_VERSION into $VENV"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "componentize-py==$CPY_VERSION"
fi

WIT=../../../schemas/wit  # package kinerja:policy@2.0.0
mkdir -p out
rm -rf out/bindings
"$CPY" -q -d "$WIT" -w policy bindings out/bindings

# VIRTUAL_ENV points at an empty folder: the app needs nothing from site-packages.
mkdir -p out/no-site-packages/lib/site-packages
VIRTUAL_ENV="$PWD/out/no-site-packages" \
  "$CPY" -q -d "$WIT" -w policy componentize app -p jambi -o out/jambi.wasm

ms=$(( ($(date +%s%N) - start) / 1000000 ))
printf 'built %s (%s bytes) in %d.%d s\n' "$PWD/out/jambi.wasm" "$(wc -c < out/jambi.wasm)" \
  $((ms / 1000)) $((ms % 1000 / 100))
