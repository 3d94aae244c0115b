#!/usr/bin/env bash
# Installs the turnpike .deb in a booted Debian 12 container (systemd-nspawn) and tests it as an appliance end to end.
#
# Usage (as root): tests/packaging/nspawn_test.sh [path/to/turnpike_*.deb]   (default: the newest dist/turnpike_*.deb)
#
# Steps: a debootstrapped bookworm root (cached in /var/cache/turnpike-nspawn/, reused across runs) is copied and
# booted with systemd as PID 1; the package's dependencies (and coturn) are downloaded on the host and bound in.
# Inside: apt-get install; the user, directories, conffile and CLI password; systemctl enable --now turnpike
# (Type=notify: active only after READY=1); hardening of the running process; pairing and WebSocket signaling;
# [turn] configured in turnpike.conf, systemctl reload and restart; systemctl enable --now turnpike-coturn (Debian's
# coturn.service stopped by Conflicts=); a TURN allocation and a relay with credentials from POST /api/rooms/turn;
# revocation; the package upgraded over itself (database, edited conf and CLI password survive); systemd-analyze
# verify and security on the installed units; apt-get purge (nothing left); poweroff.
# The container has only a loopback interface (--private-network); the HTTP, WebSocket and TURN clients are host
# tools run in its network namespace (nsenter -n): /usr/bin/python3 with python3-websockets, and coturn's
# turnutils_uclient/turnutils_peer. Every wait is bounded, the whole run takes well under 5 minutes, and the
# container, its cgroups and the copied root are removed on success and on failure (KEEP_ROOT=1 keeps the root).
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${TURNPIKE_NSPAWN_CACHE:-/var/cache/turnpike-nspawn}
base=$cache/bookworm
debcache=$cache/debs
started=$(date +%s)
deadline=$((started + 290))
results=()
nspawn_pid=""
cpid=""
run=""
helper_pids=()

say() { printf '%s\n' "$*"; }
ok() {
  results+=("ok    $*")
  say "ok: $*"
}
fail() {
  results+=("FAIL  $*")
  say "FAIL: $*" >&2
  exit 1
}
check_deadline() {
  [ "$(date +%s)" -lt "$deadline" ] || fail "time limit reached before: $*"
}

summary() {
  local rc=$1
  say ""
  say "== summary ($(($(date +%s) - started)) s)"
  local line
  for line in "${results[@]}"; do say "  $line"; done
  if [ "$rc" = 0 ]; then say "nspawn_test: PASS"; else say "nspawn_test: FAIL"; fi
}

# The container gets a cgroup of its own (below the name=systemd and unified hierarchies), so that the payload/
# supervisor cgroups that --keep-unit creates next to nspawn are not shared with another container started the
# same way, and can be removed afterwards without touching anything else.
cgname=turnpike-nspawn-$$
cgroup_dirs() {
  local h
  for h in systemd unified; do [ -d "/sys/fs/cgroup/$h" ] && echo "/sys/fs/cgroup/$h/$cgname"; done
}
remove_cgroups() {
  local d
  for d in $(cgroup_dirs); do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2> /dev/null
  done
  return 0
}

stop_container() {
  [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2> /dev/null || return 0
  if [ -n "$cpid" ]; then
    timeout 10 nsenter -t "$cpid" -a -r -w env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin systemctl poweroff \
      > /dev/null 2>&1
  fi
  local _
  for _ in $(seq 1 150); do
    kill -0 "$nspawn_pid" 2> /dev/null || break
    sleep 0.2
  done
  if kill -0 "$nspawn_pid" 2> /dev/null; then
    say "container did not power off in 30 s; terminating systemd-nspawn ($nspawn_pid)" >&2
    kill -TERM "$nspawn_pid" 2> /dev/null
    for _ in $(seq 1 50); do
      kill -0 "$nspawn_pid" 2> /dev/null || break
      sleep 0.2
    done
    kill -KILL "$nspawn_pid" 2> /dev/null
  fi
  wait "$nspawn_pid" 2> /dev/null
  return 0
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local p
  for p in "${helper_pids[@]}"; do kill "$p" 2> /dev/null; done
  if [ "$rc" != 0 ] && [ -n "$cpid" ] && kill -0 "$cpid" 2> /dev/null; then
    say "-- journal of the turnpike units (last 40 lines)" >&2
    ct journalctl --no-pager -n 40 -u turnpike -u turnpike-coturn -u coturn >&2 2> /dev/null
  fi
  stop_container
  remove_cgroups
  if [ -n "$run" ] && [ -d "$run" ]; then
    if [ "${KEEP_ROOT:-0}" = 1 ]; then say "root kept in $run/root"; else rm -rf "$run"; fi
  fi
  summary "$rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM

# Runs a command inside the container (all its namespaces, its root), with a time limit (T=seconds, default 60).
ct() {
  timeout "${T:-60}" nsenter -t "$cpid" -a -r -w env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 "$@" < /dev/null
}
# Runs a host command in the container's network namespace only.
net() { timeout "${T:-60}" nsenter -t "$cpid" -n "$@" < /dev/null; }
# `systemctl show` of one property.
prop() { ct systemctl show -p "$2" --value "$1"; }

wait_active() { # unit, seconds
  local state
  for _ in $(seq 1 $(($2 * 5))); do
    state=$(ct systemctl is-active "$1" 2> /dev/null)
    [ "$state" = active ] && return 0
    [ "$state" = failed ] && break
    sleep 0.2
  done
  ct systemctl status --no-pager "$1" >&2
  return 1
}

# --- preconditions ---------------------------------------------------------------------------------------------

[ "$(id -u)" = 0 ] || {
  say "run as root" >&2
  exit 1
}
deb=${1:-$(ls -t "$repo"/dist/turnpike_*.deb 2> /dev/null | head -n1)}
[ -n "$deb" ] && [ -f "$deb" ] || fail "no package: build it with packaging/build deb, or pass the .deb's path"
deb=$(readlink -f "$deb")
say "package: $deb"
for tool in /usr/bin/python3 /usr/bin/turnutils_uclient /usr/bin/turnutils_peer; do
  [ -x "$tool" ] || fail "$tool is missing on the host (apt-get install python3 python3-websockets coturn)"
done
/usr/bin/python3 -c 'import websockets' 2> /dev/null || fail "python3-websockets is missing on the host"
need=()
command -v debootstrap > /dev/null || need+=(debootstrap)
command -v systemd-nspawn > /dev/null || need+=(systemd-container)
if [ ${#need[@]} -gt 0 ]; then
  timeout 120 apt-get install -y -qq --no-install-recommends "${need[@]}" > /dev/null || fail "apt-get install ${need[*]}"
fi
mkdir -p "$cache" "$debcache/partial"

# --- the cached bookworm root ----------------------------------------------------------------------------------

if [ ! -e "$base/.turnpike-base-complete" ]; then
  mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2> /dev/null)
  mirror=${mirror:-http://deb.debian.org/debian}
  say "debootstrap bookworm from $mirror into $base (once; about a minute)"
  rm -rf "$base" "$base.tmp"
  timeout 240 debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm "$base.tmp" "$mirror" \
    > "$cache/debootstrap.log" 2>&1 || fail "debootstrap (see $cache/debootstrap.log)"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$base.tmp/etc/apt/sources.list.d/"
    rm -f "$base.tmp/etc/apt/sources.list" # debootstrap's one-line copy of the same source
  fi
  chroot "$base.tmp" apt-get clean
  touch "$base.tmp/.turnpike-base-complete"
  mv "$base.tmp" "$base"
fi
ok "bookworm root in $base"
check_deadline "dependencies"

# --- dependencies, resolved against the container's package state, downloaded on the host ------------------------

apt_root=(-o "Dir::State::status=$base/var/lib/dpkg/status" -o "Dir::Cache::archives=$debcache"
  -o Debug::NoLocking=1)
T=120 timeout 120 apt-get "${apt_root[@]}" install --download-only -y -qq --no-install-recommends coturn "$deb" \
  > "$cache/download.log" 2>&1 || fail "downloading the dependencies (see $cache/download.log)"
run=$(mktemp -d "$cache/run.XXXXXX")
mkdir -p "$run/debs/deps"
cp "$deb" "$run/debs/"
deb_in=/debs/$(basename "$deb")
# Exactly the packages apt would install (the cache may hold other versions from earlier runs).
while read -r pkg ver; do
  [ "$pkg" = turnpike ] && continue
  f=$(ls "$debcache/${pkg}_${ver//:/%3a}"_*.deb 2> /dev/null | head -n1)
  [ -n "$f" ] || fail "no downloaded .deb for $pkg $ver"
  ln "$f" "$run/debs/deps/" 2> /dev/null || cp "$f" "$run/debs/deps/"
done < <(apt-get "${apt_root[@]}" -s install --no-install-recommends coturn "$deb" 2> /dev/null |
  sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1 \2/p')
ok "dependencies: $(ls "$run/debs/deps" | wc -l) packages"

# --- boot --------------------------------------------------------------------------------------------------------

cp -a --reflink=auto "$base" "$run/root" || fail "copying the root"
for d in $(cgroup_dirs); do mkdir -p "$d" || fail "cannot create cgroup $d"; done
machine=turnpike-test-$$
(
  for d in $(cgroup_dirs); do echo "$BASHPID" > "$d/cgroup.procs" || exit 1; done
  exec setsid systemd-nspawn -D "$run/root" --machine="$machine" --boot --register=no --keep-unit \
    --private-network --system-call-filter=bpf --bind-ro="$run/debs:/debs" --console=read-only
) > "$run/console.log" 2>&1 &
nspawn_pid=$!
descendants() {
  local c
  for c in $(cat /proc/"$1"/task/*/children 2> /dev/null); do
    echo "$c"
    descendants "$c"
  done
}
for _ in $(seq 1 100); do
  for p in $(descendants "$nspawn_pid"); do
    if [[ "$(readlink /proc/"$p"/exe 2> /dev/null)" == */systemd ]]; then
      cpid=$p
      break 2
    fi
  done
  kill -0 "$nspawn_pid" 2> /dev/null || break
  sleep 0.1
done
[ -n "$cpid" ] || fail "the container did not boot: $(tail -n 20 "$run/console.log")"
state=""
for _ in $(seq 1 150); do
  state=$(T=5 ct systemctl is-system-running 2> /dev/null)
  case "$state" in running | degraded) break ;; esac
  sleep 0.2
done
case "$state" in
  running) ok "container booted (systemd is PID 1, host PID $cpid)" ;;
  degraded) ok "container booted, degraded: $(ct systemctl --failed --no-legend --plain | awk '{print $1}' | xargs)" ;;
  *) fail "container did not reach running (state '$state')" ;;
esac

# --- install -----------------------------------------------------------------------------------------------------

deps_in=()
for f in "$run"/debs/deps/*.deb; do deps_in+=("/debs/deps/$(basename "$f")"); done
T=180 ct apt-get install -y -q --no-install-recommends "${deps_in[@]}" "$deb_in" > "$run/install.log" 2>&1 ||
  fail "apt-get install: $(tail -n 30 "$run/install.log")"
ok "apt-get install $(basename "$deb") (+ coturn and dependencies)"
check_deadline "install checks"

IFS=: read -r _ _ tp_uid tp_gid _ tp_home tp_shell <<< "$(ct getent passwd turnpike)"
[ -n "$tp_uid" ] && [ "$tp_uid" -lt 1000 ] && [ "$tp_home" = /var/lib/turnpike ] &&
  [[ "$tp_shell" == */nologin || "$tp_shell" == */false ]] ||
  fail "user turnpike: uid '$tp_uid' home '$tp_home' shell '$tp_shell'"
ok "system user turnpike (uid $tp_uid, home $tp_home, shell $tp_shell)"
perms() { ct stat -c '%a %U %G' "$1" 2> /dev/null; }
expect_perms() { # path, "mode user group"
  local actual
  actual=$(perms "$1")
  [ "$actual" = "$2" ] || fail "$1 is '$actual', expected '$2'"
  ok "$1 $actual"
}
expect_perms /var/lib/turnpike "770 turnpike turnpike"
expect_perms /etc/turnpike/turnpike.conf "640 root turnpike"
expect_perms /etc/turnpike/coturn-cli-password "640 root turnpike"
cli_password=$(ct cat /etc/turnpike/coturn-cli-password)
[[ "$cli_password" =~ ^[0-9a-f]{32}$ ]] || fail "coturn-cli-password is not 32 hex characters"
ct dpkg-query -W -f='${Conffiles}\n' turnpike | grep -q '^ /etc/turnpike/turnpike.conf ' ||
  fail "/etc/turnpike/turnpike.conf is not a conffile"
ok "turnpike.conf is a conffile; the CLI password is 32 hex characters"
for f in /lib/systemd/system/turnpike.service /lib/systemd/system/turnpike-coturn.service \
  /usr/lib/sysusers.d/turnpike.conf /usr/lib/tmpfiles.d/turnpike.conf /usr/sbin/turnpiked /usr/bin/turnpikectl; do
  ct test -e "$f" || fail "$f is not installed"
done
ok "units, sysusers.d and tmpfiles.d snippets, turnpiked and turnpikectl installed"
# Debian's coturn.service (enabled and started by coturn's postinst, an open relay as configured) is stopped and
# disabled by turnpike's first installation.
[ "$(ct systemctl is-enabled coturn 2> /dev/null)" = disabled ] ||
  fail "Debian's coturn.service is '$(ct systemctl is-enabled coturn 2>&1)' after installing turnpike, not disabled"
[ "$(ct systemctl is-active coturn 2> /dev/null)" != active ] || fail "Debian's coturn.service still runs"
grep -q "disabled Debian's coturn.service" "$run/install.log" || fail "the postinst did not say it disabled coturn.service"
ok "Debian's coturn.service: stopped and disabled by the first installation ($(ct systemctl is-active coturn))"
ct test -x /usr/lib/turnpike/certbot-deploy-hook || fail "/usr/lib/turnpike/certbot-deploy-hook is not installed"

# --- turnpike.service --------------------------------------------------------------------------------------------

T=60 ct systemctl enable --now turnpike > "$run/enable.log" 2>&1 || fail "systemctl enable --now turnpike: $(cat "$run/enable.log")"
wait_active turnpike 20 || fail "turnpike.service is not active"
[ "$(prop turnpike Type)" = notify ] || fail "turnpike.service is not Type=notify"
[ "$(prop turnpike SubState)" = running ] || fail "turnpike.service is $(prop turnpike SubState)"
[ "$(ct systemctl is-enabled turnpike)" = enabled ] || fail "turnpike.service is not enabled"
ok "systemctl enable --now turnpike: active (running), Type=notify, enabled"
main_pid=$(prop turnpike MainPID)
status=$(ct cat /proc/"$main_pid"/status)
grep -Eq "^Uid:[[:space:]]+${tp_uid}[[:space:]]+${tp_uid}" <<< "$status" || fail "turnpiked does not run as turnpike"
grep -Eq '^NoNewPrivs:[[:space:]]+1' <<< "$status" || fail "turnpiked runs without no_new_privs"
grep -Eq '^Seccomp:[[:space:]]+2' <<< "$status" || fail "turnpiked runs without a seccomp filter"
grep -Eq '^CapEff:[[:space:]]+0+$' <<< "$status" || fail "turnpiked has effective capabilities"
ok "turnpiked (pid $main_pid in the container): uid turnpike, no_new_privs, seccomp filter, no capabilities"
say "   limits: $(ct grep 'open files' /proc/"$main_pid"/limits | tr -s ' ') (LimitNOFILE=65536, capped by the host)"
[ "$(prop turnpike WatchdogUSec)" = 30s ] || fail "WatchdogUSec is $(prop turnpike WatchdogUSec)"
ct test -S /run/turnpike/admin.sock || fail "no admin socket /run/turnpike/admin.sock"
ct turnpikectl status > "$run/status.txt" 2>&1 || fail "turnpikectl status: $(cat "$run/status.txt")"
ok "watchdog 30s; turnpikectl status over /run/turnpike/admin.sock"
ct test -s /var/lib/turnpike/turnpike.db || fail "no database /var/lib/turnpike/turnpike.db"
[ "$(ct od -An -tu1 -j18 -N2 /var/lib/turnpike/turnpike.db | xargs)" = "2 2" ] || fail "the database is not in WAL mode"
db_perms=$(perms /var/lib/turnpike/turnpike.db)
[ "$db_perms" = "660 turnpike turnpike" ] || fail "turnpike.db is '$db_perms', expected '660 turnpike turnpike'"
ok "database created, WAL mode, $db_perms"

# --- pairing and signaling (host python in the container's network namespace) -----------------------------------

cat > "$run/smoke.py" << 'PY'
# Client side of the appliance test: REST pairing, WebSocket signaling and TURN, against 127.0.0.1 in the container.
import asyncio, json, sys, urllib.error, urllib.request

BASE = "http://127.0.0.1:8080"


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def expect(cond, what):
    if not cond:
        sys.exit(f"smoke: {what}")


def pair(joinid, client1, client2):
    s, b = call("POST", "/api/rooms", {"joinid": joinid, "client1": client1, "expiresInSeconds": 300})
    expect(s == 201 and json.loads(b)["ok"] is True, f"create: {s} {b}")
    s, b = call("POST", "/api/rooms/check", {"joinid": joinid, "client1": client1})
    expect(s == 204, f"check before accept: {s} {b}")
    s, b = call("POST", "/api/rooms/accept", {"joinid": joinid, "client2": client2})
    expect(s == 200, f"accept: {s} {b}")
    roomid = json.loads(b)["roomid"]
    s, b = call("POST", "/api/rooms/check", {"joinid": joinid, "client1": client1})
    expect(s == 200 and json.loads(b)["roomid"] == roomid, f"check: {s} {b}")
    print(roomid)


async def signal(roomid, device1, device2):
    import websockets

    async def recv(ws, kind):
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if msg.get("type") == kind:
                return msg

    async with websockets.connect("ws://127.0.0.1:8080/ws") as a, websockets.connect("ws://127.0.0.1:8080/ws") as b:
        ida = (await recv(a, "connected"))["clientId"]
        await recv(b, "connected")
        await a.send(json.dumps({"type": "join_room", "roomId": roomid, "deviceId": device1}))
        joined = await recv(a, "room_joined")
        expect(joined["userCount"] == 1, f"room_joined: {joined}")
        await b.send(json.dumps({"type": "join_room", "roomId": roomid, "deviceId": device2}))
        ready_a, ready_b = await recv(a, "room_ready"), await recv(b, "room_ready")
        expect(ready_a["isInitiator"] and not ready_b["isInitiator"], f"room_ready: {ready_a} {ready_b}")
        await a.send(json.dumps({"type": "webrtc_offer", "sdp": {"type": "offer", "sdp": "v=0 appliance"}}))
        offer = await recv(b, "webrtc_offer")
        expect(offer["from"] == ida and offer["sdp"]["sdp"] == "v=0 appliance", f"relayed offer: {offer}")
        await b.send(json.dumps({"type": "ice_candidate", "candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host"}}))
        cand = await recv(a, "ice_candidate")
        expect(cand["candidate"]["candidate"].startswith("candidate:1"), f"relayed candidate: {cand}")
    print("signaling ok")


def turn(roomid, device):
    s, b = call("POST", "/api/rooms/turn", {"roomid": roomid, "deviceId": device})
    expect(s == 200, f"/api/rooms/turn: {s} {b}")
    servers = [x for x in json.loads(b)["iceServers"] if "username" in x]
    expect(servers, f"no TURN entry: {b}")
    print(servers[0]["username"], servers[0]["credential"])


def allocate(port, username, password, want):
    sys.path.insert(0, LIBDIR)  # tests/integration of the repository: turnutil's STUN/TURN client
    import turnutil
    result = turnutil.try_allocate(int(port), username, password)
    got = "ok" if result.ok else str(result.code)
    expect(got == want, f"allocate: wanted {want}, got {result!r}")
    print(f"allocate: {got} {result.relayed or ''}")


def demo():
    with urllib.request.urlopen(BASE + "/demo/", timeout=5) as r:
        body = r.read().decode()
        expect(r.status == 200 and r.headers.get_content_type() == "text/html" and "<script" in body,
               f"/demo/: {r.status} {r.headers.get_content_type()}")
    print("demo ok")


def room_status(roomid):
    print(call("GET", f"/api/rooms?roomid={roomid}")[0])


cmd, args, LIBDIR = sys.argv[1], sys.argv[2:-1], sys.argv[-1]
if cmd == "pair":
    pair(*args)
elif cmd == "signal":
    asyncio.run(signal(*args))
elif cmd == "turn":
    turn(*args)
elif cmd == "allocate":
    allocate(*args)
elif cmd == "room":
    room_status(*args)
elif cmd == "demo":
    demo()
PY
smoke() { T=30 net /usr/bin/python3 "$run/smoke.py" "$@" "$repo/tests/integration"; }

check_deadline "pairing"
room_a=$(smoke pair 424242 device-a1 device-a2) || fail "pairing: $room_a"
ok "pairing: POST /api/rooms, /accept, /check -> room $room_a"
out=$(smoke signal "$room_a" device-a1 device-a2 2>&1) || fail "signaling: $out"
ok "signaling: both devices joined, room_ready, offer and candidate relayed"
out=$(smoke demo 2>&1) || fail "demo page: $out"
ok "demo page: GET /demo/ serves the HTML page"

# --- [turn] in turnpike.conf, reload, restart, turnpike-coturn.service ---------------------------------------------

conf=/etc/turnpike/turnpike.conf
# A broken file: systemctl reload fails (ExecReload= validates first) and the daemon keeps running untouched.
pid_before=$(prop turnpike MainPID)
ct sh -c "printf '\n[bogus]\nkey = 1\n' >> $conf"
T=30 ct systemctl reload turnpike > /dev/null 2>&1 && fail "systemctl reload accepted an invalid turnpike.conf"
wait_active turnpike 10 || fail "turnpike.service is not active after a failed reload"
[ "$(prop turnpike MainPID)" = "$pid_before" ] || fail "a failed reload restarted the daemon"
ct journalctl -u turnpike -o cat --no-pager | grep -q "$conf:[0-9]*:.*bogus" ||
  fail "the journal does not name the bad line: $(ct journalctl -u turnpike -o cat --no-pager | tail -n 5)"
ct sed -i '/^\[bogus\]$/,$d' "$conf"
ok "systemctl reload with an invalid turnpike.conf fails with FILE:LINE in the journal; the daemon keeps running"

set_key() { # key, value: uncomments the packaged "# key = default" line
  ct sed -i "s|^# $1 = .*\$|$1 = $2|" "$conf"
  ct grep -qxF "$1 = $2" "$conf" || fail "could not set $1 in $conf (no '# $1 = ...' line?)"
}
# certbot's side, made on the host with openssl: a test CA and a lineage (live/ symlinks into archive/) in
# $run/debs/tls, which the container sees read-only as /debs/tls. The packaged deploy hook, run as certbot runs
# it, copies the certificate into /etc/turnpike/tls for coturn (group turnpike, inside its sandbox).
tls=$run/debs/tls
mkdir -p "$tls/live/turn.test" "$tls/archive/turn.test"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tls/ca.key" -out "$tls/ca.pem" \
  -days 2 -subj "/CN=turnpike nspawn CA" -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign > "$tls/openssl.log" 2>&1 || fail "openssl: $(cat "$tls/openssl.log")"
issue_cert() { # common name, lineage version
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$tls/ext"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$1" \
    -keyout "$tls/archive/turn.test/privkey$2.pem" -out "$tls/leaf.csr" > "$tls/openssl.log" 2>&1 &&
    openssl x509 -req -in "$tls/leaf.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -set_serial "$2" -days 2 \
      -extfile "$tls/ext" -out "$tls/leaf.pem" >> "$tls/openssl.log" 2>&1 || fail "openssl: $(cat "$tls/openssl.log")"
  cat "$tls/leaf.pem" "$tls/ca.pem" > "$tls/archive/turn.test/fullchain$2.pem"
  ln -sfn "../../archive/turn.test/fullchain$2.pem" "$tls/live/turn.test/fullchain.pem"
  ln -sfn "../../archive/turn.test/privkey$2.pem" "$tls/live/turn.test/privkey.pem"
}
journal_count() { ct journalctl -u turnpike -o cat --no-pager | grep -c -- "$1"; } # pattern
journal_grew() { # pattern, count before: waits up to 10 s for the count to pass it
  for _ in $(seq 1 50); do
    [ "$(journal_count "$1")" -gt "$2" ] && return 0
    sleep 0.2
  done
  return 1
}
deploy_hook() { ct env RENEWED_LINEAGE=/debs/tls/live/turn.test /usr/lib/turnpike/certbot-deploy-hook 2>&1; }
issue_cert turn-first 1
reloads_before=$(journal_count 'event=config_reloaded')
out=$(deploy_hook) || fail "certbot-deploy-hook: $out"
expect_perms /etc/turnpike/tls "750 root turnpike"
expect_perms /etc/turnpike/tls/fullchain.pem "640 root turnpike"
expect_perms /etc/turnpike/tls/privkey.pem "640 root turnpike"
journal_grew 'event=config_reloaded' "$reloads_before" ||
  fail "the deploy hook did not reload turnpike.service: $out"
ok "certbot-deploy-hook: certificate copied to /etc/turnpike/tls (0640 root:turnpike), turnpike.service reloaded"

set_key realm turnpike.test
set_key urls "stun:127.0.0.1:3478, turn:127.0.0.1:3478?transport=udp, turn:127.0.0.1:3478?transport=tcp, turns:127.0.0.1:5349?transport=tcp"
# TLS in the daemon on 8443 with the certificate from the hook; coturn's turn.cert stays empty, so coturn uses
# the same files (one certificate for https:, wss: and turns:).
set_key tls_listen 127.0.0.1:8443
set_key tls_certificate /etc/turnpike/tls/fullchain.pem
set_key tls_private_key /etc/turnpike/tls/privkey.pem
set_key listening_ip 127.0.0.1
set_key relay_ip 127.0.0.1
set_key allow_loopback_peers true
set_key denied_peer_ips ""
out=$(ct turnpikectl check-config 2>&1) || fail "turnpikectl check-config: $out"
ok "[turn] configured in $conf (realm, urls, 127.0.0.1, loopback peers); check-config: $out"

pid_before=$(prop turnpike MainPID)
T=30 ct systemctl reload turnpike || fail "systemctl reload turnpike"
for _ in $(seq 1 50); do
  ct journalctl -u turnpike -o cat --no-pager | grep -q 'event=config_reloaded' && break
  sleep 0.2
done
ct journalctl -u turnpike -o cat --no-pager | grep -q 'event=config_reloaded' || fail "no event=config_reloaded after reload"
wait_active turnpike 10 || fail "turnpike.service is not active after reload"
[ "$(prop turnpike MainPID)" = "$pid_before" ] || fail "reload restarted the daemon"
ok "systemctl reload turnpike: SIGHUP, config_reloaded, same pid, still active"
# realm, the CLI password and coturn's addresses are restart-only keys.
T=60 ct systemctl restart turnpike || fail "systemctl restart turnpike"
wait_active turnpike 20 || fail "turnpike.service is not active after restart"
ok "systemctl restart turnpike (applies the restart-only [turn] keys)"

# Debian's coturn.service (enabled by its package) finds no usable address with only lo; give it one, so that
# Conflicts= has something to stop.
ct sh -c 'echo listening-ip=127.0.0.1 >> /etc/turnserver.conf'
ct systemctl reset-failed coturn > /dev/null 2>&1 # its restart loop since the installation hit the start limit
T=30 ct systemctl restart coturn > /dev/null 2>&1
wait_active coturn 10 > /dev/null 2>&1 ||
  fail "Debian's coturn.service does not start: $(ct systemctl status --no-pager -n 15 coturn 2>&1)"
T=60 ct systemctl enable --now turnpike-coturn > "$run/enable-coturn.log" 2>&1 ||
  fail "systemctl enable --now turnpike-coturn: $(cat "$run/enable-coturn.log")"
wait_active turnpike-coturn 20 || fail "turnpike-coturn.service is not active"
[ "$(ct systemctl is-active coturn)" != active ] || fail "coturn.service still runs next to turnpike-coturn"
ok "systemctl enable --now turnpike-coturn: active ($(prop turnpike-coturn SubState)); the running coturn.service was stopped (Conflicts=)"
expect_perms /run/turnpike-coturn/turnserver.conf "640 turnserver turnpike"
ct grep -qx 'realm=turnpike.test' /run/turnpike-coturn/turnserver.conf || fail "turnserver.conf lacks realm=turnpike.test"
ct grep -qx 'userdb=/var/lib/turnpike/turnpike.db' /run/turnpike-coturn/turnserver.conf ||
  fail "turnserver.conf does not use /var/lib/turnpike/turnpike.db"
ct grep -qx "cli-password=$cli_password" /run/turnpike-coturn/turnserver.conf ||
  fail "turnserver.conf does not use the generated CLI password"
coturn_pid=$(prop turnpike-coturn MainPID)
coturn_status=$(ct cat /proc/"$coturn_pid"/status)
grep -Eq "^Gid:[[:space:]]+${tp_gid}[[:space:]]" <<< "$coturn_status" || fail "coturn does not run with group turnpike"
grep -Eq '^NoNewPrivs:[[:space:]]+1' <<< "$coturn_status" || fail "coturn runs without no_new_privs"
ok "coturn: rendered config (realm, userdb, CLI password from turnpike), group turnpike, no_new_privs"

check_deadline "TURN"
out=$(smoke turn "$room_a" device-a1 2>&1) || fail "POST /api/rooms/turn: $out"
read -r turn_user turn_pass <<< "$out"
[ -n "$turn_pass" ] || fail "POST /api/rooms/turn gave no credential: $out"
out=$(smoke allocate 3478 "$turn_user" "$turn_pass" ok 2>&1) || fail "TURN allocation: $out"
ok "TURN: credentials from POST /api/rooms/turn, Allocate succeeded ($out)"
nsenter -t "$cpid" -n /usr/bin/turnutils_peer -L 127.0.0.1 -p 3490 > "$run/peer.log" 2>&1 < /dev/null &
helper_pids+=($!)
sleep 0.5
out=$(T=40 net /usr/bin/turnutils_uclient -c -u "$turn_user" -w "$turn_pass" -p 3478 -e 127.0.0.1 -r 3490 -n 20 \
  127.0.0.1 2>&1) || fail "turnutils_uclient: $(tail -n 15 <<< "$out")"
received=$(sed -n 's/.*tot_recv_msgs=\([0-9]*\).*/\1/p' <<< "$out" | tail -n1)
[ "${received:-0}" -gt 0 ] || fail "turnutils_uclient relayed nothing: $(tail -n 15 <<< "$out")"
ok "TURN relay: turnutils_uclient echoed $received messages through coturn to turnutils_peer"
ct grep -qx 'cert=/etc/turnpike/tls/fullchain.pem' /run/turnpike-coturn/turnserver.conf ||
  fail "turnserver.conf lacks cert=/etc/turnpike/tls/fullchain.pem"
out=$(T=40 net /usr/bin/turnutils_uclient -c -S -t -E "$tls/ca.pem" -u "$turn_user" -w "$turn_pass" -p 5349 \
  -e 127.0.0.1 -r 3490 -n 20 127.0.0.1 2>&1) || fail "turnutils_uclient -S: $(tail -n 15 <<< "$out")"
received=$(sed -n 's/.*tot_recv_msgs=\([0-9]*\).*/\1/p' <<< "$out" | tail -n1)
[ "${received:-0}" -gt 0 ] || fail "turnutils_uclient -S relayed nothing: $(tail -n 15 <<< "$out")"
ok "TURN over TLS: turnutils_uclient -S -t (CA-verified) echoed $received messages via 127.0.0.1:5349"
served_cn() { # port
  net openssl s_client -connect "127.0.0.1:${1:-5349}" -CAfile "$tls/ca.pem" -verify_return_error < /dev/null \
    2> /dev/null | sed -n 's/^subject=.*CN *= *//p'
}
[ "$(served_cn)" = turn-first ] || fail "coturn does not serve the certificate from the hook: '$(served_cn)'"
out=$(net curl -sS --cacert "$tls/ca.pem" https://127.0.0.1:8443/health 2>&1) || fail "https://127.0.0.1:8443/health: $out"
grep -q '"status":"ok"' <<< "$out" || fail "https://127.0.0.1:8443/health: $out"
[ "$(served_cn 8443)" = turn-first ] || fail "turnpiked does not serve the certificate from the hook: '$(served_cn 8443)'"
ok "turnpiked serves https://127.0.0.1:8443/health with the certificate from the hook (CA-verified)"
coturn_pid=$(prop turnpike-coturn MainPID)
issue_cert turn-renewed 2
out=$(deploy_hook) || fail "certbot-deploy-hook (renewal): $out"
for _ in $(seq 1 50); do
  [ "$(served_cn)" = turn-renewed ] && break
  sleep 0.2
done
[ "$(served_cn)" = turn-renewed ] || fail "coturn still serves '$(served_cn)' after the renewal: $out"
[ "$(prop turnpike-coturn MainPID)" = "$coturn_pid" ] || fail "the renewal restarted coturn"
for _ in $(seq 1 50); do
  [ "$(served_cn 8443)" = turn-renewed ] && break
  sleep 0.2
done
[ "$(served_cn 8443)" = turn-renewed ] || fail "turnpiked still serves '$(served_cn 8443)' after the renewal"
ct journalctl -u turnpike-coturn -o cat --no-pager | grep -q 'Reloading TLS certificates' ||
  fail "coturn did not log the certificate reload"
ok "renewal through certbot-deploy-hook: turnpiked (reload) and coturn (same pid, SIGUSR2) serve the new certificate"
room_b=$(smoke pair 434343 device-b1 device-b2) || fail "pairing room B: $room_b"
out=$(smoke turn "$room_b" device-b1 2>&1) || fail "TURN credentials for room B: $out"
read -r user_b pass_b <<< "$out"
smoke allocate 3478 "$user_b" "$pass_b" ok > /dev/null || fail "allocation for room B before the delete"
# A live relay on room B's credentials (20 ms per message, 30 s at most), to be ended through coturn's CLI.
nsenter -t "$cpid" -n timeout 40 /usr/bin/turnutils_uclient -c -u "$user_b" -w "$pass_b" -p 3478 -e 127.0.0.1 \
  -r 3490 -n 1500 127.0.0.1 > "$run/uclient-b.log" 2>&1 < /dev/null &
uclient_b=$!
helper_pids+=("$uclient_b")
for _ in $(seq 1 75); do
  [ "$(sed -n 's/.*tot_recv_msgs=\([0-9]*\).*/\1/p' "$run/uclient-b.log" | tail -n1)" -gt 0 ] 2> /dev/null && break
  sleep 0.2
done
ended_before=$(journal_count 'event=turn_sessions_ended sessions=[1-9]')
ct turnpikectl room delete "$room_b" > /dev/null || fail "turnpikectl room delete"
out=$(smoke allocate 3478 "$user_b" "$pass_b" 401 2>&1) || fail "room B's credentials still work after delete: $out"
ok "revocation: after turnpikectl room delete, room B's credentials get 401 from coturn"
journal_grew 'event=turn_sessions_ended sessions=[1-9]' "$ended_before" ||
  fail "turnpiked did not end room B's live relay over coturn's CLI: $(ct journalctl -u turnpike -o cat --no-pager | grep turn_ | tail -n 5)"
kill "$uclient_b" 2> /dev/null
ok "revocation: turnpiked ended room B's live relay session over coturn's CLI (127.0.0.1:5766, generated password)"
say "   /var/lib/turnpike: $(ct ls -l /var/lib/turnpike | awk 'NR > 1 {print $1, $3, $4, $NF}' | paste -sd ';')"

# --- systemd-analyze on the installed units -----------------------------------------------------------------------

out=$(ct systemd-analyze verify --man=no /lib/systemd/system/turnpike.service /lib/systemd/system/turnpike-coturn.service 2>&1)
[ -z "$out" ] || fail "systemd-analyze verify in the container: $out"
ok "systemd-analyze verify (booted systemd 252): clean"
for unit in turnpike.service turnpike-coturn.service; do
  level=$(ct systemd-analyze security --no-pager "$unit" 2>&1 | sed -n 's/^→ Overall exposure level for .*: \([0-9.]*\).*/\1/p')
  [ -n "$level" ] || fail "systemd-analyze security $unit gave no level"
  ok "systemd-analyze security $unit: exposure $level"
  if [ "$unit" = turnpike.service ]; then
    awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }' || fail "turnpike.service exposure $level > 2.0"
  fi
done
[ "$(prop turnpike NRestarts)" = 0 ] || fail "turnpike.service was restarted $(prop turnpike NRestarts) times (watchdog?)"

# --- upgrade over itself -----------------------------------------------------------------------------------------

check_deadline "upgrade"
conf_sum=$(ct md5sum "$conf" | cut -d' ' -f1)
db_inode=$(ct stat -c %i /var/lib/turnpike/turnpike.db)
T=180 ct dpkg -i "$deb_in" > "$run/upgrade.log" 2>&1 || fail "dpkg -i (upgrade): $(tail -n 30 "$run/upgrade.log")"
wait_active turnpike 30 || fail "turnpike.service is not active after the upgrade"
wait_active turnpike-coturn 30 || fail "turnpike-coturn.service is not active after the upgrade"
[ "$(ct md5sum "$conf" | cut -d' ' -f1)" = "$conf_sum" ] || fail "the edited turnpike.conf changed in the upgrade"
ct grep -qx 'realm = turnpike.test' "$conf" || fail "the edited realm is gone after the upgrade"
expect_perms "$conf" "640 root turnpike"
[ "$(ct cat /etc/turnpike/coturn-cli-password)" = "$cli_password" ] || fail "the CLI password changed in the upgrade"
[ "$(ct stat -c %i /var/lib/turnpike/turnpike.db)" = "$db_inode" ] || fail "the database file was replaced in the upgrade"
[ "$(smoke room "$room_a")" = 200 ] || fail "room A is gone after the upgrade"
out=$(smoke allocate 3478 "$turn_user" "$turn_pass" ok 2>&1) || fail "room A's TURN credentials after the upgrade: $out"
ok "upgrade over itself: both units active again; edited conf, CLI password, database (same inode), room A and its TURN credentials kept"

# --- purge -------------------------------------------------------------------------------------------------------

check_deadline "purge"
T=120 ct apt-get purge -y -q turnpike > "$run/purge.log" 2>&1 || fail "apt-get purge: $(tail -n 30 "$run/purge.log")"
left=()
ct getent passwd turnpike > /dev/null && left+=("user turnpike")
ct getent group turnpike > /dev/null && left+=("group turnpike")
for p in /var/lib/turnpike /etc/turnpike /run/turnpike /run/turnpike-coturn /lib/systemd/system/turnpike.service \
  /lib/systemd/system/turnpike-coturn.service /usr/lib/sysusers.d/turnpike.conf /usr/lib/tmpfiles.d/turnpike.conf \
  /usr/sbin/turnpiked /usr/bin/turnpikectl /etc/systemd/system/multi-user.target.wants/turnpike.service \
  /etc/systemd/system/multi-user.target.wants/turnpike-coturn.service; do
  ct test -e "$p" && left+=("$p")
done
for unit in turnpike turnpike-coturn; do
  [ "$(ct systemctl is-active "$unit")" = active ] && left+=("$unit.service still active")
done
procs=$(ct find /proc -mindepth 1 -maxdepth 1 -name '[0-9]*' -uid "$tp_uid" | xargs)
[ -z "$procs" ] || left+=("processes of uid $tp_uid: $procs")
pkg_state=$(ct dpkg-query -W -f='${db:Status-Status}' turnpike 2> /dev/null)
[ -z "$pkg_state" ] || [ "$pkg_state" = not-installed ] || left+=("package state $pkg_state")
[ ${#left[@]} -eq 0 ] || fail "left after purge: ${left[*]}"
ok "apt-get purge: no user, group, /var/lib/turnpike, /etc/turnpike, units or processes left"

# --- power off ---------------------------------------------------------------------------------------------------

stop_container
kill -0 "$nspawn_pid" 2> /dev/null && fail "the container did not stop"
ok "container powered off"
exit 0
