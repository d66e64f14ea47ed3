#!/usr/bin/env bash
# Runs the official Auth.js database adapters through the benchmark workload
# (docs/workload.md) in Node.js, for the results page's comparison with
# Auth.js. The runner is scripts/authjs-bench/bench.mjs; the adapters and
# drivers are pinned in scripts/authjs-bench/package-lock.json. Not part of CI.
#
#   bash scripts/bench-authjs.sh            every backend at 10,000 users, 3 runs
#   bash scripts/bench-authjs.sh --runs 1 --backends "postgres redis"
#
# Options:
#   --backends "A B"   only these backends (default: postgres mysql mongodb redis)
#   --users N          users seeded (default 10,000)
#   --ops N            operations per timed op (default 20,000; mongodb on the
#                      local SecantusDB server gets 500, see below)
#   --runs N           runs of every backend and variant (default 3)
#   --out FILE         where the rows go (default docs/benchmarks/authjs.jsonl)
#   -- FLAGS           passed to every bench.mjs run (e.g. -- --concurrency 64)
# Per backend, BENCH_ARGS_<BACKEND> (e.g. BENCH_ARGS_MONGODB="--ops 2000")
# adds bench.mjs flags after the others.
#
# Backends, adapters and variants (`as-shipped`: the schema the adapter's docs
# ship; `indexed`: plus the indexes a user would add for its lookups):
#   postgres  @auth/pg-adapter on pg (pool of 16)          as-shipped, indexed
#   mysql     @auth/kysely-adapter, MysqlDialect on mysql2 as-shipped, indexed
#   mongodb   @auth/mongodb-adapter on mongodb             as-shipped, indexed
#   redis     @auth/unstorage-adapter, unstorage + ioredis as-shipped
# Each run works in a fresh schema, database or key prefix and removes it.
#
# Needs Node.js 20 or newer and npm; runs `npm ci` in scripts/authjs-bench when
# node_modules is missing or older than package-lock.json. It starts the
# servers (scripts/services.sh); URLs already in the environment win. Every row
# is the Rust runner's row plus "variant", "adapter", "node", "peak_rss_kib"
# and "run". A failed run is reported, the others go on, and the script exits
# non-zero at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
caller=$PWD
cd "$ROOT"

log() { echo "[bench-authjs] $*" >&2; }
die() { log "$*"; exit 2; }

backends="postgres mysql mongodb redis"
users=10000
ops=20000
runs=3
out=
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --backends) [ $# -ge 2 ] || die "--backends needs a value"; backends=$2; shift ;;
    --users) [ $# -ge 2 ] || die "--users needs a value"; users=$2; shift ;;
    --ops) [ $# -ge 2 ] || die "--ops needs a value"; ops=$2; shift ;;
    --runs) [ $# -ge 2 ] || die "--runs needs a value"; runs=$2; shift ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
case "$out" in
  "") out=$ROOT/docs/benchmarks/authjs.jsonl ;;
  /*) ;;
  *) out=$caller/$out ;;
esac
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive number, not '$runs'"

variants_of() {
  case "$1" in
    postgres|mysql|mongodb) echo "as-shipped indexed" ;;
    redis) echo "as-shipped" ;;
    *) die "unknown backend '$1' (postgres, mysql, mongodb, redis)" ;;
  esac
}
for backend in $backends; do variants_of "$backend" >/dev/null; done

# Node.js 20+, and the pinned packages.
command -v node >/dev/null || die "Node.js 20 or newer is needed: node is not installed"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js 20 or newer is needed: found $(node -v)"
command -v npm >/dev/null || die "npm is needed (it comes with Node.js)"
bench_dir=scripts/authjs-bench
if [ ! -d "$bench_dir/node_modules" ] || [ "$bench_dir/package-lock.json" -nt "$bench_dir/node_modules" ]; then
  log "npm ci in $bench_dir"
  (cd "$bench_dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  touch "$bench_dir/node_modules"
fi

# Servers and their URLs. URLs already in the environment win.
saved_env=$(export -p | grep -E ' (POSTGRES|MYSQL|MONGODB|REDIS)_URL=' || true)
bash scripts/services.sh >/dev/null
# shellcheck source=/dev/null
source .services/env
eval "$saved_env"

# The MongoDB-wire server that services.sh starts (SecantusDB, in Python)
# scans the whole collection for findAndModify and findOneAndDelete; as in
# scripts/bench.sh, give it 500 operations unless told otherwise.
if [[ " $backends " == *" mongodb "* ]] \
  && grep -qFx "export MONGODB_URL=$MONGODB_URL" .services/env 2>/dev/null; then
  : "${BENCH_ARGS_MONGODB=--ops 500}"
  log "mongodb runs on SecantusDB: BENCH_ARGS_MONGODB='$BENCH_ARGS_MONGODB'"
fi

log "backends: $backends; $users users, $ops operations, $runs run(s); node $(node -v)"
mkdir -p "$(dirname "$out")"
rows=$(mktemp "${TMPDIR:-/tmp}/authjs-bench.XXXXXX")
trap 'rm -f "$rows"' EXIT
failed=()

# run_one BACKEND VARIANT RUN: one bench.mjs process; its rows go to $rows
# with the run number added. A failed run is recorded and the others go on.
run_one() {
  local backend=$1 variant=$2 run=$3
  local var="BENCH_ARGS_${backend^^}"
  local args=(--backend "$backend" --variant "$variant" --users "$users" --ops "$ops")
  # shellcheck disable=SC2206 # word splitting of the per-backend flags is wanted
  args+=(${!var:-})
  log "$backend ($variant): run $run"
  if ! (cd "$bench_dir" && node bench.mjs "${args[@]}" ${extra[@]+"${extra[@]}"}) \
    | sed "s/}\$/,\"run\":$run}/" | tee -a "$rows"; then
    log "$backend ($variant): run $run failed"
    failed+=("$backend ($variant), run $run")
  fi
}

started=$(date +%s)
for run in $(seq 1 "$runs"); do
  for backend in $backends; do
    for variant in $(variants_of "$backend"); do
      run_one "$backend" "$variant" "$run"
    done
  done
done
log "all runs took $(( $(date +%s) - started ))s"

if [ -s "$rows" ]; then
  cp "$rows" "$out"
  log "$(wc -l <"$out") rows in $out"
else
  log "no rows: $out is left as it was"
fi
if [ ${#failed[@]} -gt 0 ]; then
  log "these runs failed (their rows are missing):"
  printf '[bench-authjs]   %s\n' "${failed[@]}" >&2
  exit 1
fi
