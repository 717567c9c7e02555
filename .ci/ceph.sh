#!/bin/bash
# A real S3 for the storage tests: a throwaway one-monitor, one-OSD Ceph cluster with a RADOS Gateway, from
# Debian's packages (storage tests run against it when CALMS_TEST_CEPH_ENDPOINT is set; see
# tests/integration/support/ceph.ts).
#
# As root, on Debian:
#   eval "$(.ci/ceph.sh)"             # start: installs the Ceph packages if missing, prints export lines
#   npx jest tests/integration/...
#   .ci/ceph.sh stop                  # stop every daemon it started, remove its files (uses CALMS_TEST_CEPH_DIR)
#
# Everything (configuration, monitor store, the OSD's in-memory store, sockets, pid files, logs) lives in one
# temporary directory; authentication between the daemons is off, and everything binds 127.0.0.1 only. The
# gateway listens on a free port from CALMS_TEST_CEPH_PORT (default 17480), path-style, plain HTTP; the monitor
# on the next free port after it, the OSD on free ports of Ceph's usual 6800-7300. A gateway user with fresh
# random keys is created for the tests.
# Lifecycle rules run every CALMS_TEST_CEPH_LC_DAY_SECONDS seconds, and a rule's "day" lasts that long
# (rgw lc debug interval).
# Only the export lines go to standard output; everything else goes to standard error.
set -euo pipefail

lc_day_seconds=10
packages=(radosgw ceph-mon ceph-osd ceph-common)

say() { echo "ceph.sh: $*" >&2; }

# Every daemon writes its pid file into $dir/run; stopping them all is the same after a failed start. Nothing
# is kept, so a daemon still shutting down after 2 s (radosgw takes about 6) is killed.
stop_daemons() {
  local dir=$1 pidfile pid pids=()
  for pidfile in "$dir"/run/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    # Only a daemon of this cluster, not whatever took over the number of one that died.
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$dir/ceph.conf" || continue
    if kill "$pid" 2>/dev/null; then
      pids+=("$pid")
      say "stopping $(basename "$pidfile" .pid) $pid"
    fi
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  wait_until 2 none_alive "${pids[@]}" && return 0
  for pid in "${pids[@]}"; do
    if ! none_alive "$pid"; then kill -9 "$pid" 2>/dev/null && say "killed $pid"; fi
  done
  wait_until 5 none_alive "${pids[@]}" || { say "could not end ${pids[*]}"; return 1; }
}

# A zombie counts as ended: the daemons detach, and a container's init may never reap them.
none_alive() {
  local pid state
  for pid in "$@"; do
    state=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) || continue
    [ "$state" = Z ] || return 1
  done
  return 0
}

# Runs a command until it succeeds, for at most $1 seconds.
wait_until() {
  local deadline=$(($(date +%s%3N) + $1 * 1000))
  shift
  until "$@"; do
    [ "$(date +%s%3N)" -lt $deadline ] || return 1
    sleep 0.1
  done
}

stop() {
  local dir=${CALMS_TEST_CEPH_DIR:?CALMS_TEST_CEPH_DIR is not set: eval the output of .ci/ceph.sh first}
  stop_daemons "$dir"
  rm -rf -- "$dir"
  say "removed $dir"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
osd_up() { ceph -c "$dir/ceph.conf" --connect-timeout 5 osd dump 2>/dev/null | grep -q "^osd\.$1 up"; }
free_port_from() {
  local port=$1
  while port_in_use "$port"; do port=$((port + 1)); done
  echo "$port"
}

start() {
  [ "$(id -u)" -eq 0 ] || { say 'run me as root'; exit 1; }
  local missing=0 package
  for package in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing=1; done
  if [ $missing -eq 1 ]; then
    say "installing ${packages[*]}"
    { apt-get install -y --no-install-recommends "${packages[@]}" ||
      { apt-get update && apt-get install -y --no-install-recommends "${packages[@]}"; }; } >&2
  fi

  local started fsid osd_uuid port mon_port access_key secret_key
  started=$(date +%s%3N)
  # Global, for the EXIT trap.
  dir=$(mktemp -d /tmp/calms-ceph.XXXXXX)
  # A failed start leaves nothing running; its logs are shown before the directory goes.
  trap 'status=$?; if [ $status -ne 0 ]; then say "start failed; last log lines:"; tail -n 20 "$dir"/log/*.log >&2 || true; stop_daemons "$dir"; rm -rf -- "$dir"; fi' EXIT
  mkdir -p "$dir"/{run,log,mon,osd,rgw,crash}

  port=$(free_port_from "${CALMS_TEST_CEPH_PORT:-17480}")
  mon_port=$(free_port_from $((port + 1)))
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)

  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
auth cluster required = none
auth service required = none
auth client required = none
keyring = $dir/keyring
run dir = $dir/run
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
mon cluster log file = $dir/log/cluster.log
crash dir = $dir/crash
log to stderr = false
err to stderr = false
# Fail within half a minute, not five, when a daemon or radosgw-admin cannot reach the monitor.
client mount timeout = 30
# One OSD: one copy, few placement groups, no autoscaler (there is no manager daemon).
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 1

[mon]
mon data = $dir/mon/\$cluster-\$id
# Commit map changes at once rather than batching them for a second: radosgw creates its pools one by one.
paxos propose interval = 0.05

[osd]
osd data = $dir/osd/\$cluster-\$id
# Objects in memory (the store is written to osd data when the OSD stops): starts fast, nothing to format.
osd objectstore = memstore
memstore device bytes = 2147483648
# Stop without waiting for the monitor to acknowledge (it may be stopping at the same time).
osd fast shutdown notify mon = false

[client]
rgw data = $dir/rgw

[client.rgw.calms]
# radosgw asks for an encrypted monitor connection by default, which authentication "none" cannot give.
ms mon client mode = crc secure
rgw frontends = beast endpoint=127.0.0.1:$port
# A lifecycle "day" lasts this many seconds, and lifecycle runs that often, at any time of day.
rgw lc debug interval = $lc_day_seconds
EOF
  local conf=(-c "$dir/ceph.conf")

  say "starting the monitor on 127.0.0.1:$mon_port"
  ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
  ceph-mon "${conf[@]}" -i a --mkfs --monmap "$dir/monmap" --keyring "$dir/keyring"
  ceph-mon "${conf[@]}" -i a

  say 'starting the OSD'
  local osd_id
  osd_id=$(ceph "${conf[@]}" --connect-timeout 30 osd new "$osd_uuid")
  mkdir -p "$dir/osd/ceph-$osd_id"
  ceph-osd "${conf[@]}" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >&2
  ceph-osd "${conf[@]}" -i "$osd_id"
  wait_until 60 osd_up "$osd_id" || { say "osd.$osd_id did not come up; see $dir/log/osd.$osd_id.log"; exit 1; }

  say "starting the gateway on 127.0.0.1:$port"
  radosgw "${conf[@]}" -n client.rgw.calms
  # It creates its pools before it listens.
  wait_until 60 port_in_use "$port" || { say "radosgw did not start; see $dir/log/client.rgw.calms.log"; exit 1; }

  access_key=$(head -c 10 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
  secret_key=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
  radosgw-admin "${conf[@]}" user create --uid calms-test --display-name 'CalMS tests' \
    --access-key "$access_key" --secret-key "$secret_key" >/dev/null
  say "ready after $(( $(date +%s%3N) - started )) ms:" \
    "gateway $(cat "$dir/run/client.rgw.calms.pid") on http://127.0.0.1:$port; stop it with: .ci/ceph.sh stop"

  cat <<EOF
export CALMS_TEST_CEPH_DIR='$dir'
export CALMS_TEST_CEPH_ENDPOINT='http://127.0.0.1:$port'
export CALMS_TEST_CEPH_ACCESS_KEY_ID='$access_key'
export CALMS_TEST_CEPH_SECRET_ACCESS_KEY='$secret_key'
export CALMS_TEST_CEPH_LC_DAY_SECONDS='$lc_day_seconds'
EOF
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) say "usage: $0 [start|stop]"; exit 2 ;;
esac
