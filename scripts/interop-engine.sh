#!/usr/bin/env bash
# Cross-checks auth-engine with the real Auth.js on one PostgreSQL database
# and one secret: a session the Rust engine created is returned by
# @auth/core's /session with the official Kysely adapter, and a session
# @auth/core created is returned by the Rust engine.
# Needs Node 20+, npm and PostgreSQL (bash scripts/services.sh). Not in CI.
#
#   bash scripts/interop-engine.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
interop="$root/scripts/interop"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
command -v node >/dev/null || { echo "FAIL  node is not installed"; exit 1; }

bash "$root/scripts/services.sh" >/dev/null
# shellcheck source=/dev/null
source "$root/.services/env"
db="authjs_interop_$$"
base="${POSTGRES_URL%/*}"
database_url="$base/$db"
secret="interop-secret-$(date +%s)-0123456789abcdef"
port=$((20000 + $$ % 20000))
origin="http://127.0.0.1:$port"
work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    psql "$POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== npm install (scripts/interop)"
(cd "$interop" && npm install --no-audit --no-fund --loglevel=error)
echo "== cargo build --example minimal"
(cd "$root" && cargo build --quiet -p auth-axum --example minimal)
psql "$POSTGRES_URL" -qc "CREATE DATABASE $db" >/dev/null

echo "== the Rust engine on $origin, database $db"
PORT=$port AUTH_SECRET=$secret DATABASE_URL=$database_url \
    "$target_dir/debug/examples/minimal" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 120); do
    grep -q '^listening on' "$work/server.log" 2>/dev/null && break
    sleep 0.5
done
grep -q '^listening on' "$work/server.log" || { cat "$work/server.log"; echo "FAIL  the server did not start"; exit 1; }

fail=0
jar="$work/jar"
email="rust-$$@example.com"
csrf=$(curl -s -c "$jar" -b "$jar" "$origin/api/auth/csrf" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).csrfToken))')
curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "email=$email" --data-urlencode "csrfToken=$csrf" "$origin/api/auth/signin/email"
sleep 0.5
link=$(grep "^sign-in link for $email: " "$work/server.log" | tail -n 1 | sed 's/^.*: //')
curl -s -o /dev/null -c "$jar" -b "$jar" "$link"
cookie=$(awk '$6 == "authjs.session-token" { print "authjs.session-token=" $7 }' "$jar")
if [ -n "$cookie" ] && (cd "$interop" && node engine.mjs to-node "$origin" "$database_url" "$secret" "$cookie" "$email"); then
    echo "PASS  a session created by the Rust engine is returned by @auth/core (Kysely adapter)"
else
    echo "FAIL  a session created by the Rust engine is returned by @auth/core (Kysely adapter)"
    fail=1
fi

email="node-$$@example.com"
if node_cookie=$(cd "$interop" && node engine.mjs from-node "$origin" "$database_url" "$secret" "$email") &&
    body=$(curl -s -H "cookie: $node_cookie" "$origin/api/auth/session") &&
    [[ "$body" == *"\"email\":\"$email\""* ]]; then
    echo "PASS  a session created by @auth/core (Kysely adapter) is returned by the Rust engine: $body"
else
    echo "FAIL  a session created by @auth/core is returned by the Rust engine: ${body:-no answer}"
    fail=1
fi
exit $fail
