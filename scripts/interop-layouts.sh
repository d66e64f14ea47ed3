#!/usr/bin/env bash
# Checks the SQL adapters' table layouts against the official Auth.js
# adapters that own them (pinned in scripts/interop/package.json), on the
# same database: each official adapter writes users, accounts, sessions and
# verification tokens that the Rust adapter reads, and the reverse.
# Needs Node 20+ and npm, and the servers of scripts/services.sh (or their
# URLs in the environment). Not part of CI. Exits non-zero when a check fails.
#
#   bash scripts/interop-layouts.sh              # every backend
#   bash scripts/interop-layouts.sh pg           # PostgreSQL: drizzle, pg-adapter
#   bash scripts/interop-layouts.sh mysql sqlite # drizzle on MariaDB/MySQL, on SQLite
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
interop="$root/scripts/interop"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

command -v node >/dev/null || { echo "FAIL  node is not installed"; exit 1; }
if [[ -f "$root/.services/env" ]]; then
    # shellcheck disable=SC1091
    source "$root/.services/env"
fi

backends=("$@")
if [[ ${#backends[@]} -eq 0 ]]; then
    backends=(pg mysql sqlite)
fi

echo "== npm install (scripts/interop)"
(cd "$interop" && npm install --no-audit --no-fund --loglevel=error)

status=0
for backend in "${backends[@]}"; do
    case "$backend" in
    pg)
        echo "== PostgreSQL layouts (drizzle, pg-adapter)"
        : "${POSTGRES_URL:?set POSTGRES_URL (or run scripts/services.sh) for the pg checks}"
        (cd "$root" && cargo build --quiet -p adapter-postgres --example pg_layout_interop)
        (cd "$interop" && node layouts-pg.mjs "$target_dir/debug/examples/pg_layout_interop" "$POSTGRES_URL") || status=1
        ;;
    mysql)
        echo "== MySQL / MariaDB layout (drizzle)"
        : "${MYSQL_URL:?set MYSQL_URL (or run scripts/services.sh) for the mysql checks}"
        (cd "$root" && cargo build --quiet -p adapter-mysql --example mysql_layout_interop)
        (cd "$interop" && node layouts-mysql-sqlite.mjs mysql \
            "$target_dir/debug/examples/mysql_layout_interop" "$MYSQL_URL") || status=1
        ;;
    sqlite)
        echo "== SQLite layout (drizzle)"
        (cd "$root" && cargo build --quiet -p adapter-sqlite --example sqlite_layout_interop)
        scratch="$(mktemp -d)"
        (cd "$interop" && node layouts-mysql-sqlite.mjs sqlite \
            "$target_dir/debug/examples/sqlite_layout_interop" "$scratch") || status=1
        rm -rf "$scratch"
        ;;
    *)
        echo "FAIL  unknown backend $backend (known: pg, mysql, sqlite)"
        status=1
        ;;
    esac
done
exit "$status"
