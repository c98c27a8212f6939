#!/usr/bin/env bash
# Conformance of every plugin against plugins/fixtures/ with `kinerja plugin test`:
#   - the Rust region modules (jambi, jakarta, tenayan-raya), each against all three regions'
#     fixtures: its own region must pass; the other two must fail (the fixtures tell regions apart);
#   - the Tenayan Raya appraise hook written in C, Zig, AssemblyScript and JavaScript, against
#     plugins/fixtures/tenayan-raya (their rotate fixtures are skipped: they offer appraise only);
#   - ABI 2 components: Jambi in Rust (wasm32-wasip2) and in Python (componentize-py, whose rules
#     are also checked under plain CPython), against plugins/fixtures/jambi.
#
# Installs what it needs when it is missing (Debian packages, the ziglang wheel from PyPI, npm
# packages from the committed lock file; the QuickJS-ng sources and componentize-py from PyPI), builds each module and
# tests it. A language whose toolchain cannot be installed is reported as "SKIPPED: <lang>: <why>"
# and does not fail the run; a module that fails to build or fails a fixture does.
#
# Environment: KINERJA_BIN (default target/debug/kinerja, built if missing); ONLY="c zig" to run
# some languages; NO_INSTALL=1 to install nothing (missing toolchains are then skipped).
set -uo pipefail
cd "$(dirname "$0")/../.."
# Built as scripts/test.sh builds (incremental state off), so a run on its own reuses that build.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
ROOT=$(pwd)
EX=examples/plugins
FIX=plugins/fixtures
ZIG_VERSION=0.14.1
APT_PACKAGES=(clang lld wasi-libc libclang-rt-dev-wasm32)
LANGS=${ONLY:-"c zig assemblyscript javascript python"}

declare -a SUMMARY=()
declare -a SKIPS=()
passed=0 failed=0 skipped=0

say() { printf '\n==> %s\n' "$*"; }
record() { # record <status> <what> <detail>
  SUMMARY+=("$(printf '%-8s %-34s %s' "$1" "$2" "$3")")
  case $1 in PASS) passed=$((passed + 1)) ;; FAIL) failed=$((failed + 1)) ;; SKIPPED) skipped=$((skipped + 1)) ;; esac
}
skip() { # skip <lang> <reason>
  local msg="SKIPPED: $1: $2"
  SKIPS+=("$msg")
  printf '\n%s\n%s\n%s\n' "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" "!!! $msg" \
    "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
  record SKIPPED "$1" "$2"
}

# ---- tools ---------------------------------------------------------------------------------

apt_updated=0
apt_install() { # apt_install pkg...: installs the missing ones; fails if it cannot
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ -n "${NO_INSTALL:-}" ] && { echo "missing Debian packages: ${missing[*]} (NO_INSTALL is set)"; return 1; }
  command -v apt-get >/dev/null || { echo "no apt-get to install ${missing[*]}"; return 1; }
  [ "$(id -u)" = 0 ] || { echo "not root: cannot apt-get install ${missing[*]}"; return 1; }
  if [ $apt_updated = 0 ]; then
    apt-get update -qq >/dev/null || { echo "apt-get update failed"; return 1; }
    apt_updated=1
  fi
  echo "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { echo "apt-get install ${missing[*]} failed"; return 1; }
}

# Why the C toolchain (clang + wasi-libc) is unusable, or nothing when it works.
c_toolchain_problem() {
  local log
  log=$(apt_install "${APT_PACKAGES[@]}" 2>&1) || { echo "$log" | tail -1; return 0; }
  command -v "${CC:-clang}" >/dev/null || { echo "no ${CC:-clang} on PATH"; return 0; }
  local probe; probe=$(mktemp -d)
  printf '#include <stdio.h>\nint main(void){puts("ok");return 0;}\n' > "$probe/t.c"
  if ! "${CC:-clang}" --target=wasm32-wasi -o "$probe/t.wasm" "$probe/t.c" > "$probe/log" 2>&1; then
    echo "clang cannot build for wasm32-wasi: $(head -1 "$probe/log")"
  fi
  rm -rf "$probe"
}

zig_problem() {
  if python3 -m ziglang version 2>/dev/null | grep -qx "$ZIG_VERSION"; then return 0; fi
  if command -v zig >/dev/null && [ "$(zig version)" = "$ZIG_VERSION" ]; then return 0; fi # build.sh uses it
  [ -n "${NO_INSTALL:-}" ] && { echo "zig $ZIG_VERSION missing (NO_INSTALL is set)"; return 0; }
  command -v python3 >/dev/null || { echo "no python3 to install the ziglang wheel"; return 0; }
  echo "pip install ziglang==$ZIG_VERSION" >&2
  python3 -m pip install -q "ziglang==$ZIG_VERSION" >/dev/null 2>&1 ||
    python3 -m pip install -q --user --break-system-packages "ziglang==$ZIG_VERSION" >/dev/null 2>&1 ||
    { echo "pip install ziglang==$ZIG_VERSION failed"; return 0; }
  python3 -m ziglang version 2>/dev/null | grep -qx "$ZIG_VERSION" || echo "ziglang $ZIG_VERSION installed but python3 -m ziglang does not run"
}

as_problem() {
  if ! command -v npm >/dev/null; then
    local log; log=$(apt_install nodejs npm 2>&1) || { echo "no npm: $(echo "$log" | tail -1)"; return 0; }
  fi
  if [ -x "$EX/assemblyscript/node_modules/.bin/asc" ] && [ -d "$EX/assemblyscript/node_modules/@assemblyscript/wasi-shim" ]; then return 0; fi
  [ -n "${NO_INSTALL:-}" ] && { echo "node_modules missing (NO_INSTALL is set)"; return 0; }
  echo "npm ci in $EX/assemblyscript" >&2
  (cd "$EX/assemblyscript" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
    { echo "npm ci in $EX/assemblyscript failed"; return 0; }
}

js_problem() {
  local p; p=$(c_toolchain_problem)
  [ -n "$p" ] && { echo "$p"; return 0; }
  command -v python3 >/dev/null || { echo "no python3 (build.sh needs it to fetch QuickJS-ng and embed the script)"; return 0; }
  # build.sh fetches the QuickJS-ng sources (pip download, pinned by SHA-256) unless out/ has them.
  if ! ls "$EX"/javascript/out/quickjs_ng-*/upstream-quickjs/quickjs.c >/dev/null 2>&1 &&
     ! ls "$EX"/javascript/out/quickjs_ng-*.tar.gz >/dev/null 2>&1; then
    [ -n "${NO_INSTALL:-}" ] && { echo "QuickJS-ng sources missing (NO_INSTALL is set)"; return 0; }
    local v; v=$(sed -n 's/^QJS_VERSION=//p' "$EX/javascript/build.sh")
    mkdir -p "$EX/javascript/out"
    python3 -m pip download -q --no-deps --no-binary :all: "quickjs-ng==$v" -d "$EX/javascript/out" >/dev/null 2>&1 ||
      { echo "pip download quickjs-ng==$v (the QuickJS-ng C sources) failed"; return 0; }
  fi
}

# ---- the kinerja binary and the Rust modules ---------------------------------------------------

KINERJA=${KINERJA_BIN:-$ROOT/target/debug/kinerja}
if [ ! -x "$KINERJA" ]; then
  say "building the kinerja binary"
  cargo build -q -p kinerja || { echo "cannot build kinerja" >&2; exit 1; }
fi
export RUST_LOG=${RUST_LOG:-warn}

# run_fixtures <label> <module> <fixture dir> [expect-fail]
run_fixtures() {
  local label=$1 module=$2 dir=$3 expect=${4:-pass} out rc errlog
  errlog=$(mktemp)
  out=$("$KINERJA" plugin test "$module" "$dir" 2>"$errlog"); rc=$?
  if [ $rc != 0 ] && [ "$expect" = pass ]; then grep -v ' INFO ' "$errlog" | tail -5 >&2; fi
  rm -f "$errlog"
  local last; last=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed' | tail -1)
  local fuel; fuel=$(printf '%s\n' "$out" | sed -n 's/^PASS \([^ ]*\) (fuel \([0-9]*\).*/\1=\2/p' | grep -E '^appraise-(batch|case-01)=' | tr '\n' ' ')
  if [ "$expect" = pass ]; then
    printf '%s\n' "$out"
    if [ $rc = 0 ]; then record PASS "$label" "$last; $(wc -c < "$module") bytes; fuel $fuel"
    else record FAIL "$label" "${last:-kinerja plugin test failed}"; fi
  else
    if [ $rc != 0 ]; then record PASS "$label" "rejected as expected ($last)"
    else record FAIL "$label" "passed another region's fixtures: the fixtures do not tell regions apart"; fi
  fi
}

say "fixtures are up to date (plugins/fixtures/generate.py --check)"
if python3 "$FIX/generate.py" --check; then record PASS "fixtures" "generated files match plugins/vectors"
else record FAIL "fixtures" "stale: run python3 plugins/fixtures/generate.py"; fi

say "the Rust region modules"
rustup target add wasm32-wasip1 >/dev/null 2>&1 || true
if ./scripts/build-plugins.sh >/dev/null 2>&1 || cargo build -q --target wasm32-wasip1 --profile plugin \
     -p kinerja-plugin-jambi -p kinerja-plugin-jakarta -p kinerja-plugin-tenayan-raya; then
  for module_region in jambi jakarta tenayan-raya; do
    module=target/wasm32-wasip1/plugin/kinerja_plugin_${module_region//-/_}.wasm
    say "rust $module_region ← fixtures/$module_region"
    run_fixtures "rust $module_region" "$module" "$FIX/$module_region"
    for other in jambi jakarta tenayan-raya; do
      [ "$other" = "$module_region" ] ||
        run_fixtures "rust $module_region vs $other" "$module" "$FIX/$other" expect-fail
    done
  done
else
  record FAIL "rust region modules" "cargo build --target wasm32-wasip1 failed"
fi

# ---- ABI 2: the Jambi component in Rust -------------------------------------------------------

say "ABI 2: rust jambi component (wasm32-wasip2) ← fixtures/jambi"
module=target/wasm32-wasip2/plugin/kinerja_plugin_jambi_abi2.wasm
if [ -f "$module" ] || cargo build -q --target wasm32-wasip2 --profile plugin -p kinerja-plugin-jambi-abi2; then
  run_fixtures "rust jambi ABI 2" "$module" "$FIX/jambi"
  run_fixtures "rust jambi ABI 2 vs jakarta" "$module" "$FIX/jakarta" expect-fail
else
  record FAIL "rust jambi ABI 2" "cargo build --target wasm32-wasip2 failed"
fi

# ---- the four languages ------------------------------------------------------------------------

for lang in $LANGS; do
  say "$lang"
  [ "$lang" = python ] && continue # ABI 2, below
  case $lang in
    c) problem=$(c_toolchain_problem) ;;
    zig) problem=$(zig_problem) ;;
    assemblyscript) problem=$(as_problem) ;;
    javascript) problem=$(js_problem) ;;
    *) problem="unknown language (use c, zig, assemblyscript, javascript, python)" ;;
  esac
  if [ -n "$problem" ]; then skip "$lang" "$problem"; continue; fi
  rm -f "$EX/$lang/out/tenayan_raya_appraise.wasm"
  if ! "$EX/$lang/build.sh"; then
    record FAIL "$lang" "build.sh failed (the toolchain is installed: the example is broken)"
    continue
  fi
  run_fixtures "$lang" "$EX/$lang/out/tenayan_raya_appraise.wasm" "$FIX/tenayan-raya"
done

# ---- ABI 2: Jambi in Python (componentize-py) --------------------------------------------------

if [[ " $LANGS " == *" python "* ]]; then
  say "python (ABI 2): the rules under CPython, then the component ← fixtures/jambi"
  PY=$EX/python
  if python3 "$PY/check_fixtures.py" >/dev/null; then record PASS "python rules (CPython)" "check_fixtures.py"
  else record FAIL "python rules (CPython)" "check_fixtures.py found a mismatch"; fi
  # scripts/test.sh builds the component before the Rust tests; build again only if a source is newer.
  if [ ! -f "$PY/out/jambi.wasm" ] || [ -n "$(find "$PY/jambi" "$PY/build.sh" schemas/wit -newer "$PY/out/jambi.wasm" \( -name '*.py' -o -name '*.wit' -o -name build.sh \) 2>/dev/null)" ]; then
    if [ -n "${NO_INSTALL:-}" ] && [ ! -x "$PY/.venv/bin/componentize-py" ]; then
      skip python "componentize-py missing (NO_INSTALL is set)"
    elif ! "$PY/build.sh"; then
      record FAIL python "build.sh failed"
    fi
  fi
  [ -f "$PY/out/jambi.wasm" ] && run_fixtures "python jambi ABI 2" "$PY/out/jambi.wasm" "$FIX/jambi"
fi

# ---- summary -----------------------------------------------------------------------------------

say "summary"
printf '%s\n' "${SUMMARY[@]}"
for s in "${SKIPS[@]}"; do printf '%s\n' "$s" >&2; done
echo "examples: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
