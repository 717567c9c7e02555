#!/bin/bash
# A real PostgreSQL for the archive adapter's contract tests and the end-to-end request with the archive in
# PostgreSQL (tests/integration/support/postgres.ts: they run when CALMS_TEST_POSTGRES_URL is set).
#
# As root, on Debian:
#   eval "$(.ci/postgres.sh)"         # start: installs postgresql if missing, prints export lines
#   npx jest tests/integration/archive.test.ts
#   .ci/postgres.sh stop              # stop the server, remove its files (uses CALMS_TEST_POSTGRES_DIR)
#
# A throwaway cluster made with initdb in a temporary directory, run by the postgres user (the server refuses
# to run as root), listening on 127.0.0.1 only, on a free port from CALMS_TEST_POSTGRES_PORT (default 15432),
# its socket in that directory. The tests log in as calms, with a fresh random password, over TCP (scram);
# calms may create databases, so each test file makes one of its own.
# Only the export lines go to standard output; everything else goes to standard error.
set -euo pipefail

owner=postgres

say() { echo "postgres.sh: $*" >&2; }

# Debian's packages install the server under /usr/lib/postgresql/<major>/bin, off the PATH; the newest wins.
server_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$bin" ] && [ -x "$bin/initdb" ] && echo "$bin"
}

stop() {
  local dir=${CALMS_TEST_POSTGRES_DIR:?CALMS_TEST_POSTGRES_DIR is not set: eval the output of .ci/postgres.sh first}
  local bin
  bin=$(server_bin) || { say 'no PostgreSQL server installed'; return 1; }
  if [ -f "$dir/data/postmaster.pid" ]; then
    runuser -u "$owner" -- "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 20 stop >&2 || say "could not stop the server in $dir"
  fi
  rm -rf -- "$dir"
  say "removed $dir"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  [ "$(id -u)" -eq 0 ] || { say 'run me as root'; exit 1; }
  local bin
  if ! bin=$(server_bin); then
    say 'installing postgresql'
    { apt-get install -y --no-install-recommends postgresql ||
      { apt-get update && apt-get install -y --no-install-recommends postgresql; }; } >&2
    bin=$(server_bin)
  fi
  id "$owner" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$owner"

  local started port password
  started=$(date +%s%3N)
  # Global, for the EXIT trap.
  dir=$(mktemp -d /tmp/calms-postgres.XXXXXX)
  # A failed start leaves nothing running; its log is shown before the directory goes.
  trap 'status=$?; if [ $status -ne 0 ]; then say "start failed; last log lines:"; tail -n 20 "$dir/server.log" >&2 || true; CALMS_TEST_POSTGRES_DIR=$dir stop; fi' EXIT
  chown "$owner" "$dir"
  chmod 700 "$dir"

  port=${CALMS_TEST_POSTGRES_PORT:-15432}
  while port_in_use "$port"; do port=$((port + 1)); done
  password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')

  say "creating a cluster in $dir/data ($("$bin/postgres" --version))"
  # Local socket connections (the set-up below) trust the postgres user; TCP asks every user for a password.
  runuser -u "$owner" -- "$bin/initdb" -D "$dir/data" --username=postgres --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >&2
  cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
# Throwaway data: nothing needs to survive a crash.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

  say "starting the server on 127.0.0.1:$port"
  runuser -u "$owner" -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >&2
  runuser -u "$owner" -- "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q >&2 <<EOF
CREATE ROLE calms LOGIN CREATEDB PASSWORD '$password';
CREATE DATABASE calms OWNER calms;
EOF
  say "ready after $(( $(date +%s%3N) - started )) ms: server $(head -n 1 "$dir/data/postmaster.pid") on 127.0.0.1:$port;" \
    'stop it with: .ci/postgres.sh stop'

  cat <<EOF
export CALMS_TEST_POSTGRES_DIR='$dir'
export CALMS_TEST_POSTGRES_URL='postgres://calms:$password@127.0.0.1:$port/calms'
EOF
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) say "usage: $0 [start|stop]"; exit 2 ;;
esac
