#!/usr/bin/env bash
# Runs demo_e2e.mjs, then seed002_e2e.mjs (the seed-002 Socket.IO session flow on the socket.io-client browser
# bundle), against turnpiked + coturn in a loopback-only network namespace (two headless Chromium pages each), once
# over http:// and ws://, then over https:// and wss:// (turnpiked's own TLS listener, test certificate).
#
# Environment: TURNPIKED, TURNPIKECTL (default <repo>/build/daemon/...), CHROMIUM (default /usr/bin/chromium),
# TURNSERVER (default turnserver), E2E_VIDEO=0 to skip the camera check, E2E_TESTS (default "demo_e2e seed002_e2e")
# to run only some of the tests, KEEP_WORKDIR=1 to keep the temp directory (it is always kept when a test fails).
# Exit code: that of the first failing test, or 2 when the setup failed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export TURNPIKED=${TURNPIKED:-$repo/build/daemon/turnpiked}
export TURNPIKECTL=${TURNPIKECTL:-$repo/build/daemon/turnpikectl}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export TURNSERVER=${TURNSERVER:-turnserver}

HTTP_PORT=8080
TLS_PORT=8443
TURN_PORT=3478
CLI_PORT=5766
TEST_TIMEOUT_SECONDS=180
GRACE_SECONDS=1  # sessions.turn_grace_seconds: seed002_e2e.mjs waits it out after the session empties

die() {
  echo "run.sh: $*" >&2
  exit 2
}

# ---------------------------------------------------------------- outside: prerequisites, then the namespace

if [[ "${1:-}" != "--inside-netns" ]]; then
  [[ -x "$TURNPIKED" ]] || die "no turnpiked at $TURNPIKED (build it, or set TURNPIKED)"
  [[ -x "$TURNPIKECTL" ]] || die "no turnpikectl at $TURNPIKECTL (build it, or set TURNPIKECTL)"
  missing=()
  [[ -x "$CHROMIUM" ]] || missing+=(chromium)
  command -v "$TURNSERVER" >/dev/null || missing+=(coturn)
  command -v node >/dev/null || missing+=(nodejs npm)
  if ((${#missing[@]})); then
    [[ $(id -u) -eq 0 ]] || die "missing: ${missing[*]} (install them as root)"
    echo "== installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
  fi
  installed="$here/node_modules/.package-lock.json"
  if [[ ! -f "$installed" || "$here/package-lock.json" -nt "$installed" ]]; then
    echo "== npm ci"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  # socket.io-client's browser bundle for seed002_e2e.mjs, from the lockfile the integration tests use.
  sio_dir="$repo/tests/socketio"
  sio_installed="$sio_dir/node_modules/.package-lock.json"
  if [[ ! -f "$sio_installed" || "$sio_dir/package-lock.json" -nt "$sio_installed" ]]; then
    echo "== npm ci (tests/socketio)"
    (cd "$sio_dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  # A private network namespace (only lo: nothing leaves the machine, fixed ports cannot clash) and a private PID
  # namespace (when this script ends, the kernel ends every process it left behind, Chromium included).
  unshare_args=(--net --pid --fork --mount-proc)
  [[ $(id -u) -eq 0 ]] || unshare_args+=(--map-root-user)
  exec unshare "${unshare_args[@]}" -- "$0" --inside-netns
fi

# ---------------------------------------------------------------- inside: only lo exists here

ip link set lo up
work=$(mktemp -d /tmp/turnpike-browser-e2e.XXXXXX)
pids=()
status=2

# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [[ $status -ne 0 ]]; then
    for log in turnpiked.log turnserver.log; do
      [[ -f "$work/$log" ]] && { echo "--- last lines of $work/$log" >&2; tail -n 40 "$work/$log" >&2; }
    done
    echo "run.sh: FAILED; files kept in $work" >&2
  elif [[ "${KEEP_WORKDIR:-0}" == 1 ]]; then
    echo "files kept in $work"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit' INT TERM

# Waits until something accepts TCP connections on 127.0.0.1:$1; $2 is the pid that must stay alive.
wait_for_port() {
  local port=$1 pid=$2 name=$3
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || die "$name exited during start-up"
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "$name is not listening on port $port after 10 s"
}

# A throwaway CA and server certificate for the TLS run, made here (nothing is committed).
mkdir "$work/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "/CN=turnpike e2e CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
  -keyout "$work/tls/ca.key" -out "$work/tls/ca.pem" 2>/dev/null || die "openssl could not make the test CA"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$work/tls/server.key" -out "$work/tls/server.csr" 2>/dev/null || die "openssl could not make a CSR"
printf 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n' >"$work/tls/server.ext"
openssl x509 -req -in "$work/tls/server.csr" -CA "$work/tls/ca.pem" -CAkey "$work/tls/ca.key" -CAcreateserial \
  -days 1 -extfile "$work/tls/server.ext" -out "$work/tls/server.pem" 2>/dev/null ||
  die "openssl could not sign the server certificate"

cat >"$work/turnpike.conf" <<EOF
# Test config for the browser end-to-end test (loopback only).
[server]
listen = 127.0.0.1:$HTTP_PORT
tls_listen = 127.0.0.1:$TLS_PORT
tls_certificate = $work/tls/server.pem
tls_private_key = $work/tls/server.key

[database]
path = $work/turnpike.db
synchronous = normal

[admin]
socket = $work/admin.sock

[turn]
realm = turnpike.test
urls = turn:127.0.0.1:$TURN_PORT?transport=udp, turn:127.0.0.1:$TURN_PORT?transport=tcp
cli_address = 127.0.0.1:$CLI_PORT
cli_password = $(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
listening_ip = 127.0.0.1
listening_port = $TURN_PORT
min_port = 49152
max_port = 49407
denied_peer_ips =
allow_loopback_peers = true
kill_retry_seconds = 0.5

[sessions]
turn_grace_seconds = $GRACE_SECONDS

[log]
level = info
EOF

echo "== turnpiked ($TURNPIKED)"
allow_root=()
[[ $(id -u) -ne 0 ]] || allow_root=(--allow-root)  # root inside the throwaway namespace
"$TURNPIKED" --config "$work/turnpike.conf" "${allow_root[@]}" >"$work/turnpiked.log" 2>&1 &
pids+=($!)
wait_for_port "$HTTP_PORT" "${pids[-1]}" turnpiked
wait_for_port "$TLS_PORT" "${pids[-1]}" "turnpiked (TLS)"

echo "== coturn ($("$TURNSERVER" --version 2>/dev/null | head -n1))"
"$TURNPIKECTL" coturn-config --config "$work/turnpike.conf" >"$work/turnserver.conf" ||
  die "turnpikectl coturn-config failed"
"$TURNSERVER" -c "$work/turnserver.conf" --log-file="$work/turnserver.log" --no-stdout-log \
  --pidfile="$work/turnserver.pid" --verbose >/dev/null 2>&1 &
pids+=($!)
wait_for_port "$TURN_PORT" "${pids[-1]}" turnserver
wait_for_port "$CLI_PORT" "${pids[-1]}" "turnserver CLI"

# Each test over plain HTTP, then over TLS. Node's fetch (the tests' /metrics reads) trusts the test CA; the pages
# ignore certificate errors.
for test in ${E2E_TESTS:-demo_e2e seed002_e2e}; do
  for base_url in "http://127.0.0.1:$HTTP_PORT" "https://127.0.0.1:$TLS_PORT"; do
    echo "== $test on $base_url"
    set +e
    BASE_URL="$base_url" E2E_ARTIFACTS="$work/artifacts-$test-${base_url%%:*}" NODE_EXTRA_CA_CERTS="$work/tls/ca.pem" \
      DAEMON_LOG="$work/turnpiked.log" GRACE_SECONDS="$GRACE_SECONDS" \
      timeout --kill-after=5 "$TEST_TIMEOUT_SECONDS" node "$here/$test.mjs"
    status=$?
    set -e
    ((status == 124)) && echo "run.sh: $test was killed after $TEST_TIMEOUT_SECONDS s" >&2
    ((status == 0)) || exit "$status"
  done
done
exit "$status"
