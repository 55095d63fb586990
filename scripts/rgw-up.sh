#!/usr/bin/env bash
# A real Ceph RGW on 127.0.0.1 for the S3 probe's tests (and for `ncconsole sim --s3-endpoint`):
# one mon, one OSD on memstore (1 GiB), RGW with the beast frontend, pool size 1, auth none.
#
#   scripts/rgw-up.sh install            apt-get radosgw, ceph-mon, ceph-osd (as root) unless present
#   scripts/rgw-up.sh start [DIR]        install if missing, start what is not running under DIR,
#                                        write DIR/rgw.env (endpoint, keys, conf, dir)
#   scripts/rgw-up.sh stop [DIR]         kill every daemon started under DIR, drop the cluster
#   scripts/rgw-up.sh stop DIR NAME...   stop only these (mon, osd, rgw; e.g. rgw, then `start`)
#   sudo scripts/rgw-up.sh               the same as `start`
#
# DIR defaults to $NCCONSOLE_RGW_DIR, else /tmp/ncconsole-rgw. With NCCONSOLE_RGW_WATCH_PID set,
# `start` also leaves a watchdog that stops everything once that process is gone, so the
# daemons never outlive the test session that started them.
#
# The simulator on this RGW:
#   set -a; . DIR/rgw.env; set +a
#   NCCONSOLE_SIM_S3_SECRET_KEY=$NCCONSOLE_RGW_SECRET_KEY ncconsole sim --workdir W \
#     --s3-endpoint "$NCCONSOLE_RGW_ENDPOINT" --s3-access-key "$NCCONSOLE_RGW_ACCESS_KEY"
set -euo pipefail

SCRIPT=$(readlink -f "$0")
PACKAGES=(radosgw ceph-mon ceph-osd)
START_TIMEOUT=${NCCONSOLE_RGW_START_TIMEOUT:-120}

source "$(dirname "$SCRIPT")/lib/daemons.sh"
mark_of() { # a string in each daemon's command line that ties it to DIR
  if [ "$1" = watchdog ]; then echo rgw-up; else echo "$CONF"; fi
}
say() { echo "rgw-up: $*" >&2; }
die() {
  say "$*"
  exit 1
}

installed() { command -v radosgw >/dev/null && command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null; }

install_packages() {
  if installed; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "Ceph is not installed; run: sudo $0 install"
  say "installing ${PACKAGES[*]} (apt-get --no-install-recommends)"
  local started=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
  installed || die "apt-get finished but radosgw/ceph-mon/ceph-osd are still missing"
  say "installed in $((SECONDS - started)) s"
}





write_conf() {
  local fsid mon_port rgw_port
  fsid=$(cat /proc/sys/kernel/random/uuid)
  mon_port=$(free_port)
  rgw_port=$(free_port)
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
# With auth none every messenger mode must be crc, or RGW waits 300 s for auth.
ms cluster mode = crc
ms service mode = crc
ms client mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
ms mon client mode = crc
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
run dir = $DIR/run
admin socket = $DIR/run/\$name.\$pid.asok
log file = $DIR/log/\$name.log
mon data = $DIR/mon/\$cluster-\$id
osd data = $DIR/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 1073741824

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw_enable_usage_log = false
EOF
  echo "http://127.0.0.1:$rgw_port" >"$DIR/endpoint"
}

ceph_cmd() { timeout 30 ceph -c "$CONF" "$@"; }

start_mon() {
  pid_of mon >/dev/null && return 0
  if [ ! -d "$DIR/mon/ceph-a" ]; then
    local mon_addr
    mon_addr=$(sed -n 's/^mon host = \(.*\)$/\1/p' "$CONF")
    monmaptool --create --fsid "$(sed -n 's/^fsid = //p' "$CONF")" --addv a "$mon_addr" \
      "$DIR/monmap" >/dev/null
    ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" >>"$DIR/log/mkfs.out" 2>&1
  fi
  launch mon ceph-mon -c "$CONF" -i a -f
  wait_until "the mon answering" ceph_cmd --connect-timeout 5 mon stat
}

start_osd() {
  pid_of osd >/dev/null && return 0
  if [ ! -d "$DIR/osd/ceph-0" ]; then
    local uuid id
    uuid=$(cat /proc/sys/kernel/random/uuid)
    id=$(ceph_cmd osd new "$uuid")
    [ "$id" = 0 ] || die "expected OSD id 0, the mon gave '$id'"
    mkdir -p "$DIR/osd/ceph-0"
    ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$uuid" >>"$DIR/log/mkfs.out" 2>&1
  fi
  launch osd ceph-osd -c "$CONF" -i 0 -f
  wait_until "the OSD coming up" osd_up
}

osd_up() { ceph_cmd osd dump | grep -q '^osd\.0 up'; }

start_rgw() {
  pid_of rgw >/dev/null && return 0
  launch rgw radosgw -c "$CONF" -n client.rgw.a -f
  wait_until "RGW serving on $(cat "$DIR/endpoint")" \
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "$(cat "$DIR/endpoint")"
}

create_user() {
  [ -s "$DIR/rgw.env" ] && return 0
  local access secret
  access=$(tr -dc 'A-Z0-9' </dev/urandom | head -c 20 || true)
  secret=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 40 || true)
  timeout 60 radosgw-admin -c "$CONF" user create --uid=ncconsole --display-name="ncconsole tests" \
    --access-key="$access" --secret-key="$secret" >/dev/null 2>>"$DIR/log/radosgw-admin.out"
  umask 077
  cat >"$DIR/rgw.env" <<EOF
NCCONSOLE_RGW_ENDPOINT=$(cat "$DIR/endpoint")
NCCONSOLE_RGW_ACCESS_KEY=$access
NCCONSOLE_RGW_SECRET_KEY=$secret
NCCONSOLE_RGW_CONF=$CONF
NCCONSOLE_RGW_DIR=$DIR
EOF
}


start() {
  install_packages
  mkdir -p "$DIR"/{run,log,pids,mon,osd}
  local started=$SECONDS
  [ -s "$CONF" ] || write_conf
  start_watchdog "${NCCONSOLE_RGW_WATCH_PID:-}" stop
  start_mon
  start_osd
  start_rgw
  create_user
  say "RGW serving at $(cat "$DIR/endpoint") after $((SECONDS - started)) s; settings in $DIR/rgw.env"
}

stop() { # stop SIGNAL NAME...: signal the named daemons together, wait until they are gone
  local signal=$1 name pid pids=()
  shift
  for name in "$@"; do
    if pid=$(pid_of "$name"); then
      kill "-$signal" "$pid" 2>/dev/null || true
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
  # The OSD keeps its objects in memory: a stopped cluster cannot come back, so end it at once
  # and drop its state (a later `start` makes a new one); the logs stay.
  stop KILL watchdog rgw osd mon
  rm -rf "${DIR:?}"/{mon,osd,run,pids} "$DIR"/{ceph.conf,monmap,endpoint,rgw.env}
}

command=${1:-start}
DIR=$(readlink -m "${2:-${NCCONSOLE_RGW_DIR:-/tmp/ncconsole-rgw}}")
CONF=$DIR/ceph.conf
case $command in
  install) install_packages ;;
  start) start ;;
  stop) if [ $# -gt 2 ]; then stop TERM "${@:3}"; else teardown; fi ;;
  *) die "unknown command '$command' (install | start [DIR] | stop [DIR] [mon|osd|rgw])" ;;
esac
