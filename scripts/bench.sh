#!/usr/bin/env bash
# Runs the BENCH.md workload on every backend and collects the JSON rows in
# bench-results.jsonl. Extra arguments go to every bench binary, e.g.
# `bash scripts/bench.sh --users 1000000`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/services.sh >/dev/null
# shellcheck source=/dev/null
source .services/env
out=bench-results.jsonl
: >"$out"
for backend in sqlite postgres mysql mongodb redis; do
  echo "== $backend" >&2
  cargo bench -q -p "adapter-$backend" -- "$@" | tee -a "$out"
done
echo "rows written to $out" >&2
