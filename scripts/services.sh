#!/usr/bin/env bash
# Installs (if missing) and starts every server the test suite needs, on
# loopback, idempotently, then writes their URLs to .services/env and prints
# them:
#   PostgreSQL   127.0.0.1:5432   (Debian package)
#   MariaDB      127.0.0.1:3306   (Debian package; root, empty password)
#   Redis        127.0.0.1:6379   (Debian package)
#   Redis Cluster 127.0.0.1:7001-7003 (three redis-server processes, no replicas)
#   MongoDB wire 127.0.0.1:27017  (SecantusDB from PyPI in a virtualenv, in memory)
#   Chromium + chromedriver       (Debian packages, for the demo's browser test)
# Made for Debian 12 as root (CI, the dev machines). On a laptop with Docker you
# do not need it: the tests start containers when no URL is set.
#
# Usage: bash scripts/services.sh && source .services/env
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

CLUSTER_PORTS=(7001 7002 7003)
start_redis_cluster() {
  local port
  for port in "${CLUSTER_PORTS[@]}"; do
    if ! answers 127.0.0.1 "$port"; then
      mkdir -p "$STATE/cluster-$port"
      rm -f "$STATE/cluster-$port/nodes.conf"
      log "starting Redis Cluster node on $port"
      redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --cluster-enabled yes \
        --cluster-config-file nodes.conf --cluster-node-timeout 5000 --save "" --appendonly no \
        --dir "$STATE/cluster-$port" --logfile "$STATE/cluster-$port/redis.log" >&2
      wait_for "Redis Cluster node" "$port"
    fi
  done
  if ! redis-cli -p "${CLUSTER_PORTS[0]}" cluster info | grep -q 'cluster_state:ok'; then
    local known
    known=$(redis-cli -p "${CLUSTER_PORTS[0]}" cluster info | sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p')
    if [ "${known:-1}" -le 1 ]; then
      log "creating the cluster"
      redis-cli --cluster create "${CLUSTER_PORTS[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >&2
    fi
    for _ in $(seq 120); do
      redis-cli -p "${CLUSTER_PORTS[0]}" cluster info | grep -q 'cluster_state:ok' && break
      sleep 0.5
    done
    redis-cli -p "${CLUSTER_PORTS[0]}" cluster info | grep -q 'cluster_state:ok' ||
      die "the Redis Cluster on ${CLUSTER_PORTS[*]} did not reach cluster_state:ok"
  fi
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
    # It keeps everything in memory, so a restart loses nothing of value.
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
  nohup "$venv/bin/secantusd-py" --host 127.0.0.1 --port 27017 --storage-path :memory: \
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
