#!/usr/bin/env bash
# Runs the benchmark workload (docs/workload.md) on every backend and writes
# the results page.
#
#   bash scripts/bench.sh            every backend at 10,000 users, 3 runs each
#   bash scripts/bench.sh --scale    and then once more at 1,000,000 users
#   bash scripts/bench.sh --authjs   and the official Auth.js adapters in Node
#                                    (scripts/bench-authjs.sh) on the same servers
#
# Options:
#   --scale               add the scale run (default size 1,000,000 users)
#   --scale-users N       the scale run's size for every backend
#   --scale-users B=N     the scale run's size for backend B only (repeatable;
#                         0 leaves B out of the scale run)
#   --runs N              runs at 10,000 users; the page shows medians (default 3)
#   --backends "A B"      only these backends (default: every adapter crate with
#                         a bench target, plus redis-cluster when
#                         REDIS_CLUSTER_URLS is set)
#   --authjs              after the Rust runs, run the official Auth.js adapters
#                         through the same workload (scripts/bench-authjs.sh,
#                         same number of runs, the backends of this run that
#                         have one: postgres mysql mongodb redis) into
#                         docs/benchmarks/authjs.jsonl; the page gets its
#                         "Against Auth.js" table. Needs Node.js 20+.
#   --merge               replace only these backends' rows in results.jsonl and
#                         keep the other backends' rows of the previous run
#                         (machine.txt then names both runs' dates)
#   -- FLAGS              passed to every bench binary (e.g. -- --concurrency 64)
# Per backend, BENCH_ARGS_<BACKEND> (e.g. BENCH_ARGS_MONGODB="--ops 2000")
# adds bench flags.
#
# It starts the servers (scripts/services.sh), writes the rows to
# docs/benchmarks/results.jsonl and the machine to docs/benchmarks/machine.txt,
# then generates docs/benchmarks.md and its charts with `bench-report`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

command_line="bash scripts/bench.sh $*"
log() { echo "[bench] $*" >&2; }
die() { log "$*"; exit 2; }

scale=0
scale_users=1000000
declare -A scale_for=()
runs=3
backends=""
merge=0
authjs=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale=1 ;;
    --scale-users)
      [ $# -ge 2 ] || die "--scale-users needs a value"
      case "$2" in
        *=*) scale_for[${2%%=*}]=${2#*=} ;;
        *) scale_users=$2 ;;
      esac
      shift ;;
    --runs) [ $# -ge 2 ] || die "--runs needs a value"; runs=$2; shift ;;
    --backends) [ $# -ge 2 ] || die "--backends needs a value"; backends=$2; shift ;;
    --merge) merge=1 ;;
    --authjs) authjs=1 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

# Servers and their URLs. URLs already in the environment win.
saved_env=$(export -p | grep -E ' (POSTGRES|MYSQL|MONGODB|REDIS|REDIS_CLUSTER)_URLS?=' || true)
bash scripts/services.sh >/dev/null
# shellcheck source=/dev/null
source .services/env
eval "$saved_env"

if [ -z "$backends" ]; then
  # The embedded default first, then servers; adapters added later follow.
  found=" $(for bench in adapter-*/benches/*.rs; do b=${bench%%/*}; echo "${b#adapter-}"; done | sort -u | tr '\n' ' ')"
  for name in sqlite postgres mysql mongodb redis; do
    [[ "$found" == *" $name "* ]] && backends+=" $name" && found=${found/ $name / }
  done
  # adapter-diesel's one bench target runs on three databases: a backend each.
  found=${found/ diesel / diesel-sqlite diesel-postgres diesel-mysql }
  backends+=" $found"
  if [[ " $backends " == *" redis "* ]] && [ -n "${REDIS_CLUSTER_URLS:-}" ]; then
    backends=${backends/ redis / redis redis-cluster }
  fi
  backends=$(echo $backends)
fi
log "backends: $backends"

# The MongoDB-wire server that services.sh starts (SecantusDB, in Python)
# scans the whole collection for findAndModify (update_session) and
# findOneAndDelete: ~140 ms per call at 10,000 sessions, growing linearly
# (and every operation runs twice: the adapter, then its ceiling).
# Unless told otherwise, give it fewer operations and leave it out of the
# scale run, which would measure that scan rather than the adapter.
if [[ " $backends " == *" mongodb "* ]] \
  && grep -qFx "export MONGODB_URL=$MONGODB_URL" .services/env 2>/dev/null; then
  : "${BENCH_ARGS_MONGODB=--ops 200}"
  [ -n "${scale_for[mongodb]:-}" ] || scale_for[mongodb]=0
  log "mongodb runs on SecantusDB: BENCH_ARGS_MONGODB='$BENCH_ARGS_MONGODB'; scale run: ${scale_for[mongodb]} users (0: not in it)"
fi

# MariaDB's default InnoDB buffer pool (128 MiB) holds the 10,000-user
# dataset but not the 1,000,000-user one, whose lookups would then measure
# the disk. Size it as a server holding that many users would be (the
# setting is dynamic; it lasts until the server restarts).
mysql_pool_mib=1024
if [[ " $backends " == *" mysql "* || " $backends " == *" diesel-mysql "* ]]; then
  if mysql -h 127.0.0.1 -u root -e "SET GLOBAL innodb_buffer_pool_size = $((mysql_pool_mib * 1048576))" 2>/dev/null; then
    log "mysql: innodb_buffer_pool_size = ${mysql_pool_mib} MiB"
  else
    log "mysql: could not set innodb_buffer_pool_size (root on 127.0.0.1:3306); the server keeps its own"
  fi
fi

out=docs/benchmarks
mkdir -p "$out"
rows="$out/results.jsonl.partial"
: >"$rows"
failed=()

# package_of BACKEND: the crate whose bench target runs BACKEND:
# adapter-NAME, but adapter-redis for redis-cluster and adapter-diesel for
# diesel-sqlite, diesel-postgres and diesel-mysql.
package_of() {
  case "$1" in
    diesel-*) echo adapter-diesel ;;
    *) echo "adapter-${1%-cluster}" ;;
  esac
}

log "building the bench binaries"
packages=()
for backend in $backends; do
  package=$(package_of "$backend")
  [[ " ${packages[*]} " == *" $package "* ]] || packages+=(-p "$package")
done
cargo bench --no-run -q "${packages[@]}"

# run_one BACKEND USERS RUN: one bench process; its rows go to $rows with the
# run number added. A failed run is recorded and the others go on.
run_one() {
  local backend=$1 users=$2 run=$3 args=()
  local var="BENCH_ARGS_${backend^^}"
  var=${var//-/_}
  if [ "$backend" = redis-cluster ]; then
    [ -n "${REDIS_CLUSTER_URLS:-}" ] || die "redis-cluster needs REDIS_CLUSTER_URLS"
    args+=(--url "$REDIS_CLUSTER_URLS")
  fi
  # adapter-diesel's bench picks the database by the URL's scheme; without
  # one it runs on a fresh SQLite file.
  case "$backend" in
    diesel-postgres) args+=(--url "$POSTGRES_URL") ;;
    diesel-mysql) args+=(--url "$MYSQL_URL") ;;
  esac
  # shellcheck disable=SC2206 # word splitting of the per-backend flags is wanted
  args+=(${!var:-})
  log "$backend: $users users, run $run"
  if ! cargo bench -q -p "$(package_of "$backend")" -- --users "$users" "${args[@]}" ${extra[@]+"${extra[@]}"} \
    | sed "s/}\$/,\"run\":$run}/" | tee -a "$rows"; then
    log "$backend: the run at $users users failed"
    failed+=("$backend at $users users, run $run")
  fi
}

started=$(date +%s)
for run in $(seq 1 "$runs"); do
  for backend in $backends; do
    run_one "$backend" 10000 "$run"
  done
done
if [ "$scale" = 1 ]; then
  for backend in $backends; do
    users=${scale_for[$backend]:-$scale_users}
    if [ "$users" -gt 0 ]; then
      run_one "$backend" "$users" 1
    else
      log "$backend: not in the scale run"
    fi
  done
fi
if [ "$authjs" = 1 ]; then
  authjs_backends=""
  for backend in postgres mysql mongodb redis; do
    [[ " $backends " == *" $backend "* ]] && authjs_backends+=" $backend"
  done
  if [ -z "$authjs_backends" ]; then
    log "--authjs: none of this run's backends has an Auth.js adapter to compare with"
  # The same per-backend flags as the Rust runs (e.g. mongodb's fewer ops).
  elif ! BENCH_ARGS_MONGODB=${BENCH_ARGS_MONGODB-} BENCH_ARGS_POSTGRES=${BENCH_ARGS_POSTGRES-} \
    BENCH_ARGS_MYSQL=${BENCH_ARGS_MYSQL-} BENCH_ARGS_REDIS=${BENCH_ARGS_REDIS-} \
    bash scripts/bench-authjs.sh --runs "$runs" --backends "${authjs_backends# }" \
    --out "$out/authjs.jsonl"; then
    failed+=("the Auth.js runs (scripts/bench-authjs.sh)")
  fi
fi
previous_date=
if [ "$merge" = 1 ] && [ -f "$out/results.jsonl" ]; then
  previous_date=$(sed -n 's/^date: //p' "$out/machine.txt" 2>/dev/null | head -n 1)
  kept="$out/results.jsonl.kept"
  : >"$kept"
  while IFS= read -r line; do
    backend=$(printf '%s' "$line" | sed -n 's/^{"backend":"\([^"]*\)".*/\1/p')
    [[ " $backends " == *" $backend "* ]] || printf '%s\n' "$line" >>"$kept"
  done <"$out/results.jsonl"
  cat "$kept" "$rows" >"$out/results.jsonl"
  rm -f "$kept" "$rows"
else
  mv "$rows" "$out/results.jsonl"
fi
log "all runs took $(( $(date +%s) - started ))s"

# The machine the numbers come from.
first_line() { "$@" 2>/dev/null | head -n 1 || true; }
redis_version() { redis-cli -p 6379 INFO server 2>/dev/null | tr -d '\r' | sed -n 's/^redis_version://p'; }
mongodb_version() {
  .services/venv/bin/python - "$MONGODB_URL" 2>/dev/null <<'PY' || true
import sys
from importlib.metadata import version
import pymongo
info = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=3000).server_info()
print(f"SecantusDB {version('SecantusDB')}, MongoDB wire version {info['version']}")
PY
}
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "command: $command_line"
  if [ -n "$previous_date" ]; then
    echo "merged: the rows of $backends are from this run; the others from the run of $previous_date"
  fi
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "cores: $(nproc)"
  echo "memory: $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "rustc: $(first_line rustc -V)"
  echo "postgres: $(first_line psql "$POSTGRES_URL" -Atc 'SHOW server_version')"
  echo "mysql: $(first_line mysql -h 127.0.0.1 -u root -Nse 'SELECT VERSION()'), innodb_buffer_pool_size $(first_line mysql -h 127.0.0.1 -u root -Nse 'SELECT @@innodb_buffer_pool_size DIV 1048576') MiB"
  echo "postgres shared_buffers: $(first_line psql "$POSTGRES_URL" -Atc 'SHOW shared_buffers')"
  echo "redis: $(redis_version)"
  if [ -x .services/venv/bin/python ]; then
    echo "mongodb: $(mongodb_version)"
  fi
  if [ "$authjs" = 1 ]; then
    echo "node (Auth.js runs): $(first_line node -v)"
  fi
} >"$out/machine.txt"

cargo run -q --release -p bench-report -- "$out"
log "results page: docs/benchmarks.md"
if [ ${#failed[@]} -gt 0 ]; then
  log "these runs failed (their rows are missing from the page):"
  printf '[bench]   %s\n' "${failed[@]}" >&2
  exit 1
fi
