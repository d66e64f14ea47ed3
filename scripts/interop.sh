#!/usr/bin/env bash
# Checks auth-jwt against the real @auth/core 0.41.3 and next-auth 4.24.15:
# Rust-encoded tokens decode in Node and Node-encoded ones decode in Rust.
# Then the SQL adapters' table layouts against the official Auth.js adapters
# (scripts/interop-layouts.sh: Drizzle on PostgreSQL, MySQL and SQLite,
# pg-adapter), on the servers of scripts/services.sh.
# Needs Node 20+ and npm (the packages go to scripts/interop/node_modules).
# Not part of CI. Exits non-zero when a check fails.
#
#   bash scripts/interop.sh          # the checks
#   bash scripts/interop.sh --bench  # also @auth/core decode/encode per second
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
interop="$root/scripts/interop"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

command -v node >/dev/null || { echo "FAIL  node is not installed"; exit 1; }

echo "== npm install (scripts/interop)"
(cd "$interop" && npm install --no-audit --no-fund --loglevel=error)

echo "== cargo build --example authjs-token"
(cd "$root" && cargo build --quiet -p auth-jwt --example authjs-token)
cli="$target_dir/debug/examples/authjs-token"

echo "== interop checks"
(cd "$interop" && node interop.mjs "$cli")

echo "== table layouts (scripts/interop-layouts.sh)"
bash "$root/scripts/services.sh" >/dev/null
bash "$root/scripts/interop-layouts.sh"

if [[ "${1:-}" == "--bench" ]]; then
    echo "== @auth/core benchmark"
    (cd "$interop" && node bench.mjs)
fi
