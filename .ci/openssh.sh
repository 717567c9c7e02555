#!/bin/bash
# A real OpenSSH node for the cluster adapter's integration tests (tests/integration/cluster.test.ts runs
# its real-OpenSSH cases only when the variables printed here are set).
#
# As root, on Debian:
#   eval "$(.ci/openssh.sh)"          # start: installs openssh-server if missing, prints export lines
#   npx jest tests/integration/cluster.test.ts
#   .ci/openssh.sh stop               # stop the sshd, remove the test user and files (uses CALMS_TEST_OPENSSH_DIR)
#
# It creates a test user (CALMS_TEST_OPENSSH_USER, default calmstest) with a fresh ed25519 key, and starts
# its own sshd on 127.0.0.1 on a free high port (from CALMS_TEST_OPENSSH_PORT, default 22222) with its own
# configuration: key-only, no root login, only the test user. The stand-in casa and Slurm stand-ins of
# localstack/cluster/bin, and a Node 22 to run casa, are on that user's PATH; the stand-in reads a copy of
# the archive snapshot (CALMS_ARCHIVE_SNAPSHOT, default localstack/archive/snapshot.json).
# Only the export lines go to standard output; everything else goes to standard error.
set -euo pipefail

repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
user=${CALMS_TEST_OPENSSH_USER:-calmstest}
fail_mous=${CALMS_TEST_OPENSSH_FAIL_MOUS:-uid___A001_Xfa11_X1}
fail_exit_code=${CALMS_TEST_OPENSSH_FAIL_EXIT_CODE:-7}

say() { echo "openssh.sh: $*" >&2; }

stop() {
  local dir=${CALMS_TEST_OPENSSH_DIR:?CALMS_TEST_OPENSSH_DIR is not set: eval the output of .ci/openssh.sh first}
  if [ -f "$dir/sshd.pid" ]; then
    local pid
    pid=$(cat "$dir/sshd.pid")
    kill "$pid" 2>/dev/null || true
    say "stopped sshd $pid"
  fi
  if [ -f "$dir/created-user" ]; then
    userdel "$(cat "$dir/created-user")" 2>/dev/null || true
    say "removed user $(cat "$dir/created-user")"
  fi
  rm -rf -- "$dir"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  [ "$(id -u)" -eq 0 ] || { say 'run me as root'; exit 1; }
  if [ ! -x /usr/sbin/sshd ]; then
    say 'installing openssh-server'
    { apt-get install -y --no-install-recommends openssh-server ||
      { apt-get update && apt-get install -y --no-install-recommends openssh-server; }; } >&2
  fi

  local dir port node_binary snapshot
  dir=$(mktemp -d /tmp/calms-openssh.XXXXXX)
  # The test user has to reach its work root and the stand-ins inside.
  chmod 755 "$dir"
  mkdir -p "$dir/bin"

  if ! id "$user" >/dev/null 2>&1; then
    # Without PAM, sshd refuses a locked account ('!' password); '*' allows no password but is not locked.
    useradd --home-dir "$dir/home" --create-home --shell /bin/bash --password '*' "$user"
    echo "$user" >"$dir/created-user"
  fi
  install -d -o "$user" -m 755 "$dir/work"

  ssh-keygen -q -t ed25519 -N '' -C 'calms-test-node' -f "$dir/ssh_host_ed25519_key"
  ssh-keygen -q -t ed25519 -N '' -C 'calms-test-user' -f "$dir/id_ed25519"
  cp "$dir/id_ed25519.pub" "$dir/authorized_keys"

  cp "$repo"/localstack/cluster/bin/* "$dir/bin/"
  node_binary=$repo/node_modules/node/bin/node
  [ -x "$node_binary" ] || node_binary=$(command -v node)
  # Linked when the test user can run it where it is (the repository may sit in a private home).
  if runuser -u "$user" -- test -x "$node_binary"; then ln -s "$node_binary" "$dir/bin/node"; else cp "$node_binary" "$dir/bin/node"; fi
  snapshot=${CALMS_ARCHIVE_SNAPSHOT:-$repo/localstack/archive/snapshot.json}
  cp "$snapshot" "$dir/snapshot.json"
  chmod 644 "$dir/snapshot.json"

  port=${CALMS_TEST_OPENSSH_PORT:-22222}
  while port_in_use "$port"; do port=$((port + 1)); done

  cat >"$dir/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
AllowUsers $user
PermitRootLogin no
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# The keys live in a temporary directory that sshd's ownership checks would reject.
StrictModes no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
LogLevel VERBOSE
SetEnv PATH=$dir/bin:/usr/local/bin:/usr/bin:/bin CALMS_CASA_EMULATOR_SNAPSHOT=$dir/snapshot.json CALMS_CASA_EMULATOR_SECONDS=1 CALMS_CASA_EMULATOR_BYTES=65536 CALMS_CASA_EMULATOR_CALIBRATOR_BYTES=8192 CALMS_CASA_EMULATOR_FAIL_MOUS=$fail_mous CALMS_CASA_EMULATOR_FAIL_EXIT_CODE=$fail_exit_code
EOF

  # sshd's privilege separation directory; a container may not have it.
  install -d -m 755 /run/sshd
  /usr/sbin/sshd -t -f "$dir/sshd_config"
  /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
  for _ in $(seq 50); do port_in_use "$port" && break; sleep 0.1; done
  port_in_use "$port" || { say "sshd did not start; see $dir/sshd.log"; exit 1; }
  say "sshd $(cat "$dir/sshd.pid") listening on 127.0.0.1:$port for $user; stop it with: .ci/openssh.sh stop"

  cat <<EOF
export CALMS_TEST_OPENSSH_DIR='$dir'
export CALMS_TEST_OPENSSH_NODE='127.0.0.1:$port'
export CALMS_TEST_OPENSSH_USER='$user'
export CALMS_TEST_OPENSSH_PRIVATE_KEY='$(cat "$dir/id_ed25519")'
export CALMS_TEST_OPENSSH_KNOWN_HOSTS='[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/ssh_host_ed25519_key.pub")'
export CALMS_TEST_OPENSSH_WORK_ROOT='$dir/work'
export CALMS_TEST_OPENSSH_ARCHIVE_SNAPSHOT='$dir/snapshot.json'
export CALMS_TEST_OPENSSH_FAIL_MOUS='$fail_mous'
export CALMS_TEST_OPENSSH_FAIL_EXIT_CODE='$fail_exit_code'
EOF
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) say "usage: $0 [start|stop]"; exit 2 ;;
esac
