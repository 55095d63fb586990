#!/usr/bin/env bash
# The shared platform's real servers on 127.0.0.1, for the platform clients' tests and the demo:
# PostgreSQL behind PgBouncer (admin console on), Redis and Prometheus Alertmanager.
#
#   scripts/platform-servers.sh install          apt-get postgresql, pgbouncer, redis-server,
#                                                prometheus-alertmanager (as root) unless present
#   scripts/platform-servers.sh start [DIR]      install if missing, start what is not running
#                                                under DIR, write DIR/platform.env (ports, passwords)
#   scripts/platform-servers.sh stop [DIR]       stop every server started under DIR, drop its data
#
# DIR defaults to $NCCONSOLE_PLATFORM_DIR, else /tmp/ncconsole-platform. Every server listens on
# 127.0.0.1 only, on a free port. PostgreSQL and PgBouncer refuse to run as root: as root they
# run as the `postgres` user the package creates, with their files in a directory of its own
# (DIR may sit under a root-only temp dir). With NCCONSOLE_PLATFORM_WATCH_PID set, `start` also
# leaves a watchdog that stops everything once that process is gone.
#
# PgBouncer is small on purpose so that tests can saturate it: a pool of
# NCCONSOLE_PGBOUNCER_POOL_SIZE (2) server connections per database, NCCONSOLE_PGBOUNCER_MAX_CLIENT_CONN
# (20) clients in all, transaction pooling, any database name forwarded to PostgreSQL (create
# the database there first). Redis: maxmemory NCCONSOLE_REDIS_MAXMEMORY (16mb), allkeys-lru,
# maxclients 64, a password.
set -euo pipefail

SCRIPT=$(readlink -f "$0")
PACKAGES=(postgresql pgbouncer redis-server prometheus-alertmanager)
START_TIMEOUT=${NCCONSOLE_PLATFORM_START_TIMEOUT:-120}

source "$(dirname "$SCRIPT")/lib/daemons.sh"
say() { echo "platform-servers: $*" >&2; }
die() {
  say "$*"
  exit 1
}

pg_bin() { # the newest installed PostgreSQL's bin directory
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

installed() {
  pg_bin >/dev/null && command -v pgbouncer >/dev/null && command -v redis-server >/dev/null &&
    command -v prometheus-alertmanager >/dev/null
}

install_packages() {
  if installed; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "the platform servers are not installed; run: sudo $0 install"
  say "installing ${PACKAGES[*]} (apt-get --no-install-recommends)"
  local started=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # The packages' own services must not start (no init system here, and not on their ports).
  local policy=/usr/sbin/policy-rc.d created_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null || {
    [ -z "$created_policy" ] || rm -f "$policy"
    die "apt-get install ${PACKAGES[*]} failed"
  }
  [ -z "$created_policy" ] || rm -f "$policy"
  installed || die "apt-get finished but a server is still missing (postgresql, pgbouncer, redis-server, prometheus-alertmanager)"
  say "installed in $((SECONDS - started)) s"
}


port_open() { python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$1"; }

http_ok() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1"; }

random_secret() { tr -dc 'A-Za-z0-9' </dev/urandom | head -c "${1:-24}" || true; }

# The prefix that runs a command as the user owning the PostgreSQL/PgBouncer files. setpriv
# execs the command, so a launched server's recorded pid is the server itself.
OWNER=()
[ "$(id -u)" != 0 ] || OWNER=(setpriv --reuid=postgres --regid=postgres --init-groups --)
as_owner() { "${OWNER[@]}" "$@"; }


mark_of() { # a string in each server's command line that ties it to DIR
  case $1 in
    postgres | pgbouncer) echo "$PGHOME" ;;
    watchdog) echo "platform-servers" ;;
    redis) echo "127.0.0.1:$REDIS_PORT" ;; # redis-server sets its title to its address
    *) echo "$DIR" ;;
  esac
}



timed() { # timed NAME FUNCTION: run FUNCTION, note how long NAME took to start
  local began=$EPOCHREALTIME
  "$2"
  echo "$1 $(python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.2f}")' "$began" "$EPOCHREALTIME")" >>"$DIR/start-times"
}

pg_home() { # where PostgreSQL and PgBouncer keep their files (readable by their user)
  if [ -s "$DIR/pghome" ]; then
    cat "$DIR/pghome"
  elif [ "$(id -u)" = 0 ]; then
    local home
    home=$(mktemp -d /tmp/ncconsole-pg.XXXXXX)
    chown postgres:postgres "$home"
    chmod 700 "$home"
    echo "$home" | tee "$DIR/pghome"
  else
    echo "$DIR/pg" | tee "$DIR/pghome"
  fi
}

write_settings() {
  [ -s "$DIR/ports" ] && return 0
  cat >"$DIR/ports" <<EOF
POSTGRES_PORT=$(free_port)
PGBOUNCER_PORT=$(free_port)
REDIS_PORT=$(free_port)
ALERTMANAGER_PORT=$(free_port)
PGBOUNCER_ADMIN_PASSWORD=$(random_secret)
PGBOUNCER_CLIENT_PASSWORD=$(random_secret)
REDIS_PASSWORD=$(random_secret)
EOF
  chmod 600 "$DIR/ports"
}

start_postgres() {
  pid_of postgres >/dev/null && return 0
  local bin
  bin=$(pg_bin)
  if [ ! -s "$PGHOME/data/PG_VERSION" ]; then
    as_owner mkdir -p "$PGHOME/data" "$PGHOME/run"
    # trust on loopback: only PgBouncer (and the tests, as the superuser) talk to it.
    as_owner "$bin/initdb" -D "$PGHOME/data" -U postgres --auth=trust -E UTF8 --no-sync \
      >>"$DIR/log/initdb.out" 2>&1 || die "initdb failed (log: $DIR/log/initdb.out)"
  fi
  launch postgres "${OWNER[@]}" "$bin/postgres" -D "$PGHOME/data" -k "$PGHOME/run" \
    -c listen_addresses=127.0.0.1 -p "$POSTGRES_PORT" -c max_connections=60 \
    -c shared_buffers=16MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off
  wait_until "PostgreSQL answering on 127.0.0.1:$POSTGRES_PORT" \
    "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT"
}

start_pgbouncer() {
  pid_of pgbouncer >/dev/null && return 0
  as_owner sh -c "umask 077; cat >'$PGHOME/userlist.txt'" <<EOF
"pgbouncer_admin" "$PGBOUNCER_ADMIN_PASSWORD"
"nextcloud" "$PGBOUNCER_CLIENT_PASSWORD"
EOF
  as_owner sh -c "umask 077; cat >'$PGHOME/pgbouncer.ini'" <<EOF
[databases]
* = host=127.0.0.1 port=$POSTGRES_PORT user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $PGHOME/userlist.txt
admin_users = pgbouncer_admin
stats_users = pgbouncer_admin
pool_mode = transaction
max_client_conn = ${NCCONSOLE_PGBOUNCER_MAX_CLIENT_CONN:-20}
default_pool_size = ${NCCONSOLE_PGBOUNCER_POOL_SIZE:-2}
reserve_pool_size = 0
logfile = $PGHOME/pgbouncer.log
pidfile =
EOF
  launch pgbouncer "${OWNER[@]}" pgbouncer "$PGHOME/pgbouncer.ini"
  wait_until "PgBouncer listening on 127.0.0.1:$PGBOUNCER_PORT" port_open "$PGBOUNCER_PORT"
}

start_redis() {
  pid_of redis >/dev/null && return 0
  mkdir -p "$DIR/redis"
  # The password goes in a config file, not argv (where `ps` would show it).
  (umask 077 && cat >"$DIR/redis/redis.conf" <<EOF
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
dir $DIR/redis
requirepass $REDIS_PASSWORD
maxmemory ${NCCONSOLE_REDIS_MAXMEMORY:-16mb}
maxmemory-policy allkeys-lru
maxclients 64
save ""
appendonly no
daemonize no
EOF
  )
  launch redis redis-server "$DIR/redis/redis.conf"
  wait_until "Redis listening on 127.0.0.1:$REDIS_PORT" port_open "$REDIS_PORT"
}

start_alertmanager() {
  pid_of alertmanager >/dev/null && return 0
  mkdir -p "$DIR/alertmanager"
  cat >"$DIR/alertmanager/alertmanager.yml" <<EOF
route:
  receiver: nowhere
  group_by: [alertname, namespace]
receivers:
  - name: nowhere
EOF
  # An empty cluster address turns off the gossip listener (0.0.0.0:9094 by default).
  launch alertmanager prometheus-alertmanager \
    --config.file="$DIR/alertmanager/alertmanager.yml" \
    --storage.path="$DIR/alertmanager/data" \
    --web.listen-address="127.0.0.1:$ALERTMANAGER_PORT" \
    --cluster.listen-address=
  wait_until "Alertmanager ready on 127.0.0.1:$ALERTMANAGER_PORT" \
    http_ok "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready"
}

write_env() {
  (umask 077 && cat >"$DIR/platform.env" <<EOF
NCCONSOLE_POSTGRES_PORT=$POSTGRES_PORT
NCCONSOLE_POSTGRES_SOCKET_DIR=$PGHOME/run
NCCONSOLE_PGBOUNCER_PORT=$PGBOUNCER_PORT
NCCONSOLE_PGBOUNCER_ADMIN_USER=pgbouncer_admin
NCCONSOLE_PGBOUNCER_ADMIN_PASSWORD=$PGBOUNCER_ADMIN_PASSWORD
NCCONSOLE_PGBOUNCER_CLIENT_USER=nextcloud
NCCONSOLE_PGBOUNCER_CLIENT_PASSWORD=$PGBOUNCER_CLIENT_PASSWORD
NCCONSOLE_PGBOUNCER_MAX_CLIENT_CONN=${NCCONSOLE_PGBOUNCER_MAX_CLIENT_CONN:-20}
NCCONSOLE_PGBOUNCER_POOL_SIZE=${NCCONSOLE_PGBOUNCER_POOL_SIZE:-2}
NCCONSOLE_REDIS_PORT=$REDIS_PORT
NCCONSOLE_REDIS_PASSWORD=$REDIS_PASSWORD
NCCONSOLE_ALERTMANAGER_URL=http://127.0.0.1:$ALERTMANAGER_PORT
NCCONSOLE_PLATFORM_DIR=$DIR
EOF
  )
}


start() {
  install_packages
  mkdir -p "$DIR"/{log,pids}
  chmod 700 "$DIR"
  PGHOME=$(pg_home)
  write_settings
  # shellcheck disable=SC1091
  . "$DIR/ports"
  local started=$SECONDS
  rm -f "$DIR/start-times"
  start_watchdog "${NCCONSOLE_PLATFORM_WATCH_PID:-}" stop
  timed postgres start_postgres
  timed pgbouncer start_pgbouncer
  timed redis start_redis
  timed alertmanager start_alertmanager
  write_env
  say "started in $((SECONDS - started)) s ($(tr '\n' ' ' <"$DIR/start-times" | sed 's/ $//')); settings in $DIR/platform.env"
}

stop_servers() { # signal the named servers together, wait until they are gone
  local name pid pids=()
  for name in "$@"; do
    if pid=$(pid_of "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
    rm -f "$DIR/pids/$name"
  done
  local deadline=$((SECONDS + 20))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null; do
      if [ $SECONDS -ge $deadline ]; then
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.1
    done
  done
}

teardown() {
  [ -d "$DIR" ] || return 0
  PGHOME=$(cat "$DIR/pghome" 2>/dev/null || echo "$DIR/pg")
  # shellcheck disable=SC1091
  [ ! -s "$DIR/ports" ] || . "$DIR/ports"
  # Fast shutdown for PostgreSQL: SIGINT ends its sessions instead of waiting for them.
  if pid=$(pid_of postgres); then kill -INT "$pid" 2>/dev/null || true; fi
  stop_servers watchdog alertmanager redis pgbouncer postgres
  case $PGHOME in /tmp/ncconsole-pg.*) rm -rf "$PGHOME" ;; esac
  rm -rf "${DIR:?}"/{pg,redis,alertmanager,pids} "$DIR"/{pghome,ports,platform.env,start-times}
}

command=${1:-start}
DIR=$(readlink -m "${2:-${NCCONSOLE_PLATFORM_DIR:-/tmp/ncconsole-platform}}")
case $command in
  install) install_packages ;;
  start) start ;;
  stop) teardown ;;
  *) die "unknown command '$command' (install | start [DIR] | stop [DIR])" ;;
esac
