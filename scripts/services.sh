#!/usr/bin/env bash
# Installs (if missing) and starts every server the test suite needs, on
# loopback, idempotently, then writes their URLs to .services/env and prints
# them:
#   PostgreSQL   127.0.0.1:5432   (Debian package)
#   MariaDB      127.0.0.1:3306   (Debian package; root, empty password)
#   Redis        127.0.0.1:6379   (Debian package)
#   Redis Cluster 127.0.0.1:7001-7006 (three masters on 7001-7003, one replica
#                                 each on 7004-7006)
#   MongoDB wire 127.0.0.1:27017  (SecantusDB from PyPI in a virtualenv, its
#                                 data in .services/mongodb-data)
#   Chromium + chromedriver       (Debian packages, for the demo's browser test)
# Made for Debian 12 as root (CI, the dev machines). On a laptop with Docker you
# do not need it: the tests start containers when no URL is set.
#
# Usage: bash scripts/services.sh && source .services/env
#
# One server at a time (the fault harness, scripts/faults.sh, uses these):
#   bash scripts/services.sh restart NAME   stop it cleanly, start it again, and
#                                           return once it answers; its data is kept
#   bash scripts/services.sh stop NAME      stop it cleanly
#   bash scripts/services.sh kill NAME      SIGKILL it (no clean shutdown)
#   bash scripts/services.sh start NAME     start it if it is not running
#   bash scripts/services.sh pause NAME     SIGSTOP its processes (it stops answering)
#   bash scripts/services.sh resume NAME    SIGCONT them
#   bash scripts/services.sh pids NAME      print its process ids
#   bash scripts/services.sh cluster-masters  print the ports of the cluster's masters
#   bash scripts/services.sh cluster-owner KEY  print the port of the master serving KEY
# NAME is postgres, mariadb, redis, mongodb, or cluster-PORT (one Redis
# Cluster node, e.g. cluster-7001).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${SERVICES_DIR:-$ROOT/.services}
mkdir -p "$STATE"

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

answers() { # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

wait_for() { # name port seconds
  local name=$1 port=$2 secs=${3:-60}
  for _ in $(seq "$((secs * 4))"); do
    answers 127.0.0.1 "$port" && return 0
    sleep 0.25
  done
  die "$name did not start listening on 127.0.0.1:$port within ${secs}s"
}

APT_UPDATED=
apt_install() {
  [ "$(id -u)" = 0 ] || die "installing $* needs root (apt-get); install it or run as root"
  if [ -z "$APT_UPDATED" ]; then
    log "apt-get update"
    apt-get update -qq >&2
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# ------------------------------------------------------------------ PostgreSQL
start_postgres() {
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install postgresql
  fi
  if ! answers 127.0.0.1 5432; then
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    log "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2
    wait_for PostgreSQL 5432
  fi
  # Trust auth (CI image) ignores the password; a stock install checks it.
  if ! PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    log "setting the postgres user's password"
    su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >&2
  fi
  PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null ||
    die "PostgreSQL answers on 5432 but postgres/postgres cannot log in"
}

# --------------------------------------------------------------------- MariaDB
start_mariadb() {
  if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
    apt_install mariadb-server
  fi
  if ! answers 127.0.0.1 3306; then
    log "starting MariaDB"
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >&2
    wait_for MariaDB 3306
  fi
  if ! mariadb -h 127.0.0.1 -u root -e 'select 1' >/dev/null 2>&1; then
    # A stock install lets root in through the socket only.
    log "allowing root with an empty password over TCP"
    mariadb -u root -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
      CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
      GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
      FLUSH PRIVILEGES;" >&2
  fi
  mariadb -h 127.0.0.1 -u root -e 'CREATE DATABASE IF NOT EXISTS test' ||
    die "MariaDB answers on 3306 but root cannot log in"
}

# ----------------------------------------------------------------------- Redis
start_redis() {
  if ! command -v redis-server >/dev/null; then
    apt_install redis-server
  fi
  if ! answers 127.0.0.1 6379; then
    log "starting Redis on 6379"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir "$STATE" --logfile "$STATE/redis-6379.log" >&2
    wait_for Redis 6379
  fi
}

CLUSTER_MASTERS=(7001 7002 7003)
CLUSTER_REPLICAS=(7004 7005 7006)
CLUSTER_PORTS=("${CLUSTER_MASTERS[@]}" "${CLUSTER_REPLICAS[@]}")
start_cluster_node() { # port; keeps nodes.conf, so a node that was in the cluster rejoins it
  local port=$1
  answers 127.0.0.1 "$port" && return 0
  mkdir -p "$STATE/cluster-$port"
  log "starting Redis Cluster node on $port"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --cluster-enabled yes \
    --cluster-config-file nodes.conf --cluster-node-timeout 5000 --save "" --appendonly no \
    --dir "$STATE/cluster-$port" --logfile "$STATE/cluster-$port/redis.log" >&2
  wait_for "Redis Cluster node" "$port"
}

cluster_ok() { # port
  redis-cli -p "$1" cluster info 2>/dev/null | grep -q 'cluster_state:ok'
}

wait_cluster_ok() {
  local port
  for _ in $(seq 120); do
    for port in "${CLUSTER_PORTS[@]}"; do
      cluster_ok "$port" && return 0
    done
    sleep 0.5
  done
  die "the Redis Cluster on ${CLUSTER_PORTS[*]} did not reach cluster_state:ok"
}

cluster_masters() { # the ports of the masters that serve slots, from any live node
  local port
  for port in "${CLUSTER_PORTS[@]}"; do
    if answers 127.0.0.1 "$port"; then
      redis-cli -p "$port" cluster nodes 2>/dev/null |
        awk '$3 ~ /master/ && $3 !~ /fail/ && NF > 8 { split($2, a, "[:@]"); print a[2] }' | sort
      return 0
    fi
  done
}

cluster_owner() { # key: the port of the master serving the key's slot
  local port slot
  for port in "${CLUSTER_PORTS[@]}"; do
    if answers 127.0.0.1 "$port"; then
      slot=$(redis-cli -p "$port" cluster keyslot "$1")
      redis-cli -p "$port" cluster nodes 2>/dev/null | awk -v slot="$slot" '
        $3 ~ /master/ && $3 !~ /fail/ {
          for (i = 9; i <= NF; i++) {
            n = split($i, r, "-"); lo = r[1]; hi = (n > 1) ? r[2] : r[1]
            if (slot + 0 >= lo + 0 && slot + 0 <= hi + 0) { split($2, a, "[:@]"); print a[2]; exit }
          }
        }'
      return 0
    fi
  done
  die "no Redis Cluster node answers"
}

start_redis_cluster() {
  local port any_up=
  for port in "${CLUSTER_PORTS[@]}"; do
    answers 127.0.0.1 "$port" && any_up=1
  done
  if [ -z "$any_up" ]; then
    # A cold start: the nodes keep no data, so an old cluster map is stale.
    for port in "${CLUSTER_PORTS[@]}"; do rm -f "$STATE/cluster-$port/nodes.conf"; done
  fi
  for port in "${CLUSTER_PORTS[@]}"; do
    start_cluster_node "$port"
  done
  local known
  known=$(redis-cli -p "${CLUSTER_MASTERS[0]}" cluster info | sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p')
  if [ "${known:-1}" -le 1 ] && ! cluster_ok "${CLUSTER_MASTERS[0]}"; then
    log "creating the cluster (3 masters, 1 replica each)"
    redis-cli --cluster create "${CLUSTER_MASTERS[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >&2
    wait_cluster_ok
  fi
  # A cluster made by an older version of this script has no replicas: add them.
  for port in "${CLUSTER_REPLICAS[@]}"; do
    if [ "$(redis-cli -p "$port" cluster info | sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p')" -le 1 ]; then
      log "adding $port as a replica"
      redis-cli --cluster add-node "127.0.0.1:$port" "127.0.0.1:${CLUSTER_MASTERS[0]}" --cluster-slave >&2
    fi
  done
  wait_cluster_ok
  # Every master has its replica, in sync.
  for _ in $(seq 120); do
    local linked=0
    for port in "${CLUSTER_PORTS[@]}"; do
      if redis-cli -p "$port" info replication | grep -q 'master_link_status:up'; then
        linked=$((linked + 1))
      fi
    done
    [ "$linked" -ge "${#CLUSTER_REPLICAS[@]}" ] && return 0
    sleep 0.5
  done
  die "the Redis Cluster replicas did not sync with their masters"
}

# ------------------------------------------------------ MongoDB wire (SecantusDB)
# SecantusDB is GPL-licensed: it runs as a separate process, never linked.
SECANTUS_VERSION=0.7.0b3
mongodb_healthy() { # the port answers and a real command completes
  [ -x "$STATE/venv/bin/python3" ] || return 1
  timeout 20 "$STATE/venv/bin/python3" - <<'PY' >/dev/null 2>&1
import pymongo
client = pymongo.MongoClient("mongodb://127.0.0.1:27017/?directConnection=true",
                             serverSelectionTimeoutMS=5000, socketTimeoutMS=10000)
client.list_database_names()
PY
}

start_mongodb() {
  if answers 127.0.0.1 27017; then
    if mongodb_healthy; then
      return 0
    fi
    # Tests use throwaway databases, so a forced restart loses nothing of value.
    log "SecantusDB answers but does not serve requests: restarting it"
    pkill -KILL -f secantusd-py || true
    for _ in $(seq 40); do answers 127.0.0.1 27017 || break; sleep 0.25; done
  fi
  local venv=$STATE/venv
  if [ ! -x "$venv/bin/secantusd-py" ]; then
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
      apt_install python3-venv
    fi
    log "installing SecantusDB $SECANTUS_VERSION into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "SecantusDB==$SECANTUS_VERSION" >&2
  fi
  log "starting SecantusDB on 27017"
  nohup "$venv/bin/secantusd-py" --host 127.0.0.1 --port 27017 --storage-path "$STATE/mongodb-data" \
    >"$STATE/secantusd.log" 2>&1 &
  wait_for SecantusDB 27017 ||
    { tail -n 20 "$STATE/secantusd.log" >&2; exit 1; }
}

# ---------------------------------------------------- Chromium (browser test)
# demo/tests/browser.rs drives headless Chromium through chromedriver, which
# it starts itself; only the packages are needed here.
install_chromium() {
  if [ ! -x /usr/bin/chromium ] || ! command -v chromedriver >/dev/null; then
    apt_install chromium chromium-driver
  fi
}

# ------------------------------------------------------- one server at a time
port_of() { # name
  case "$1" in
    postgres) echo 5432 ;;
    mariadb) echo 3306 ;;
    redis) echo 6379 ;;
    mongodb) echo 27017 ;;
    cluster-*) echo "${1#cluster-}" ;;
    *) die "unknown server '$1' (postgres, mariadb, redis, mongodb, cluster-PORT)" ;;
  esac
}

pids_of() { # name
  case "$1" in
    postgres) pgrep -u postgres -x postgres || true ;;
    mariadb) pgrep -x mariadbd || true ;;
    mongodb) pgrep -f 'secantusd-py --host 127.0.0.1 --port 27017' || true ;;
    redis | cluster-*)
      local port
      port=$(port_of "$1")
      pgrep -f "redis-server (127\.0\.0\.1|\*)?:$port( |\$)" || true ;;
  esac
}

wait_closed() { # name port seconds
  for _ in $(seq "$(($3 * 4))"); do
    answers 127.0.0.1 "$2" || return 0
    sleep 0.25
  done
  die "$1 still answers on $2 after ${3}s"
}

start_one() { # name
  case "$1" in
    postgres) start_postgres ;;
    mariadb) start_mariadb ;;
    redis) start_redis ;;
    mongodb) start_mongodb ;;
    cluster-*) start_cluster_node "$(port_of "$1")" ;;
  esac
}

stop_one() { # name: a clean shutdown; the data stays
  local port
  port=$(port_of "$1")
  case "$1" in
    postgres)
      local version
      version=$(ls /etc/postgresql | sort -V | tail -n 1)
      pg_ctlcluster --skip-systemctl-redirect "$version" main stop -m fast >&2 ;;
    mariadb) mariadb-admin -h 127.0.0.1 -u root shutdown >&2 ;;
    redis)
      # The test server keeps nothing on disk by configuration; save the
      # dataset where start_redis reads it back, as a persistent Redis would.
      local dir file
      dir=$(redis-cli -p "$port" config get dir | sed -n 2p)
      file=$(redis-cli -p "$port" config get dbfilename | sed -n 2p)
      redis-cli -p "$port" shutdown save >&2 || true
      wait_closed "$1" "$port" 60
      if [ "$dir/$file" != "$STATE/dump.rdb" ] && [ -f "$dir/$file" ]; then
        cp "$dir/$file" "$STATE/dump.rdb"
      fi ;;
    cluster-*)
      redis-cli -p "$port" config set save "" >/dev/null
      redis-cli -p "$port" shutdown save >&2 || true ;;
    mongodb) pkill -TERM -f 'secantusd-py --host 127.0.0.1 --port 27017' || true ;;
  esac
  wait_closed "$1" "$port" 60
  for _ in $(seq 240); do
    [ -z "$(pids_of "$1")" ] && return 0
    sleep 0.25
  done
  die "$1 did not exit within 60s"
}

service_command() { # command name
  local cmd=$1 name=${2:-}
  [ -n "$name" ] || die "$cmd needs a server name (postgres, mariadb, redis, mongodb, cluster-PORT)"
  port_of "$name" >/dev/null
  case "$cmd" in
    start) start_one "$name" ;;
    stop) stop_one "$name" ;;
    restart) stop_one "$name"; start_one "$name" ;;
    kill)
      local pids
      pids=$(pids_of "$name")
      [ -n "$pids" ] || die "$name is not running"
      # shellcheck disable=SC2086
      kill -KILL $pids
      wait_closed "$name" "$(port_of "$name")" 30 ;;
    pause | resume)
      local pids signal=STOP
      [ "$cmd" = resume ] && signal=CONT
      pids=$(pids_of "$name")
      [ -n "$pids" ] || die "$name is not running"
      # shellcheck disable=SC2086
      kill "-$signal" $pids ;;
    pids) pids_of "$name" ;;
  esac
}

case "${1:-start}" in
  start | stop | restart | kill | pause | resume | pids)
    if [ $# -ge 2 ]; then
      service_command "$1" "$2"
      exit 0
    fi
    [ "${1:-start}" = start ] || die "$1 needs a server name (postgres, mariadb, redis, mongodb, cluster-PORT)"
    ;;
  cluster-masters) cluster_masters; exit 0 ;;
  cluster-owner) [ $# -ge 2 ] || die "cluster-owner needs a key"; cluster_owner "$2"; exit 0 ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown command $1 (see --help)" ;;
esac

start_postgres
start_mariadb
start_redis
start_redis_cluster
start_mongodb
install_chromium

cat >"$STATE/env" <<EOF
export POSTGRES_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres
export MYSQL_URL=mysql://root@127.0.0.1:3306/test
export REDIS_URL=redis://127.0.0.1:6379
export REDIS_CLUSTER_URLS=redis://127.0.0.1:7001,redis://127.0.0.1:7002,redis://127.0.0.1:7003
export MONGODB_URL=mongodb://127.0.0.1:27017/?directConnection=true
EOF
log "all services are up; URLs (source $STATE/env):"
cat "$STATE/env"
