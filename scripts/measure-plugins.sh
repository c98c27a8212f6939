#!/usr/bin/env bash
# Measures each region plugin's module size and the fuel it uses per appraisal case and per
# rotation on the demo data (dry runs, nothing stored), and prints a Markdown table for the
# README. Re-run it whenever a plugin or the demo data changes.
set -euo pipefail
cd "$(dirname "$0")/.."
# Built as scripts/test.sh builds (incremental state off), so a run on its own reuses that build.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
./scripts/build-plugins.sh >/dev/null 2>&1
cargo build -q -p kinerja
dir=$(mktemp -d)
out=$(mktemp)
./target/debug/kinerja serve --demo --data-dir "$dir" --listen 127.0.0.1:0 >"$out" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir" "$out"' EXIT
for _ in $(seq 1 200); do grep -q listening "$out" && break; sleep 0.1; done
base=$(awk '/listening/ {print $NF}' "$out")
for _ in $(seq 1 300); do curl -sf "$base/ready" >/dev/null && break; sleep 0.1; done
token=$(cat "$dir/admin.token")
echo "| region | module bytes | appraise: cases | fuel per case | rotate: employees × positions | fuel per rotation |"
echo "|---|---|---|---|---|---|"
for region in jambi jakarta tenayan-raya; do
  file="target/wasm32-wasip1/plugin/kinerja_plugin_${region//-/_}.wasm"
  id=$(curl -s "$base/api/v1/regions/$region/policies" -H "Authorization: Bearer $token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["active"]["appraise"]["plugin"])')
  curl -s -o "$dir/ap.json" -X POST "$base/api/v1/regions/$region/plugins/$id/dry-run" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{"hook":"appraise","period":"2025"}'
  curl -s -o "$dir/rot.json" -X POST "$base/api/v1/regions/$region/plugins/$id/dry-run" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{"hook":"rotate","as_of":"2026-01-31"}'
  emps=$(curl -s "$base/api/v1/regions/$region/employees?limit=1000" -H "Authorization: Bearer $token" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
  poss=$(curl -s "$base/api/v1/regions/$region/positions?limit=1000" -H "Authorization: Bearer $token" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
  python3 - "$region" "$(stat -c %s "$file")" "$dir/ap.json" "$dir/rot.json" "$emps" "$poss" <<'PY'
import json, sys
region, size, ap, rot, emps, poss = sys.argv[1], int(sys.argv[2]), json.load(open(sys.argv[3])), json.load(open(sys.argv[4])), sys.argv[5], sys.argv[6]
n = len(ap["results"])
print(f"| {region} | {size:,} | {n} | {ap['fuel'] // max(n, 1):,} | {emps} × {poss} | {rot['fuel']:,} |")
PY
done
