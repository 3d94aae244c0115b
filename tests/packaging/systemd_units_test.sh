#!/usr/bin/env bash
# Checks the shipped systemd files offline: systemd-analyze verify (clean), security exposure, sysusers and tmpfiles.
#
# Usage: tests/packaging/systemd_units_test.sh [path/to/turnpike_*.deb]
#
# With a .deb the files are taken from the package (extracted with dpkg-deb -x); without one, from systemd/ in the
# repository. Nothing needs a booted systemd: everything runs against a throwaway root directory (--root=), which
# gets a copy of the host's unit tree (for targets such as multi-user.target), stand-ins for executables that are
# not part of the package (coturn's /usr/bin/turnserver, /usr/bin/sh) and, without a .deb, for turnpiked and
# turnpikectl. Fails when verify prints anything, when turnpike.service's exposure is above 2.0, when a directive
# in a shipped file has no comment above it, or when a setting the design relies on is missing.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
deb=${1:-}
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
pass() { echo "ok: $*"; }

if ! command -v systemd-analyze >/dev/null || ! command -v systemd-sysusers >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "systemd-analyze is missing; install the systemd package (as root: apt-get install systemd)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null
fi
echo "systemd $(systemd-analyze --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p') on the host"

root=$(mktemp -d /tmp/turnpike-units.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/lib/systemd" "$root/usr/bin" "$root/usr/sbin" "$root/etc"
for d in bin sbin lib; do ln -s "usr/$d" "$root/$d"; done
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"

unitdir=$root/usr/lib/systemd/system
if [ -n "$deb" ]; then
  [ -f "$deb" ] || { echo "no such package: $deb" >&2; exit 1; }
  echo "units from $deb"
  dpkg-deb -x "$deb" "$root/pkg"
  # A package may ship them under /lib (pre-usrmerge debhelper) or /usr/lib.
  for f in systemd/system/turnpike.service systemd/system/turnpike-coturn.service sysusers.d/turnpike.conf \
    tmpfiles.d/turnpike.conf; do
    src=""
    for base in usr/lib lib; do [ -e "$root/pkg/$base/$f" ] && src=$root/pkg/$base/$f && break; done
    if [ -z "$src" ]; then
      fail "the package does not ship /usr/lib/$f"
      continue
    fi
    mkdir -p "$(dirname "$root/usr/lib/$f")"
    cp "$src" "$root/usr/lib/$f"
  done
  for f in usr/sbin/turnpiked usr/bin/turnpikectl; do
    if [ -x "$root/pkg/$f" ]; then cp "$root/pkg/$f" "$root/$f"; else fail "the package does not ship /$f"; fi
  done
else
  echo "units from $repo/systemd"
  mkdir -p "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d"
  cp "$repo/systemd/turnpike.service" "$repo/systemd/turnpike-coturn.service" "$unitdir/"
  cp "$repo/systemd/turnpike.sysusers" "$root/usr/lib/sysusers.d/turnpike.conf"
  cp "$repo/systemd/turnpike.tmpfiles" "$root/usr/lib/tmpfiles.d/turnpike.conf"
fi
for f in usr/sbin/turnpiked usr/bin/turnpikectl usr/bin/turnserver usr/bin/sh; do
  if [ ! -e "$root/$f" ]; then
    printf '#!/bin/sh\nexit 0\n' >"$root/$f"
    chmod 0755 "$root/$f"
  fi
done
units=(turnpike.service turnpike-coturn.service)

echo "== every directive is commented"
for f in "$unitdir/turnpike.service" "$unitdir/turnpike-coturn.service" "$root/usr/lib/sysusers.d/turnpike.conf" \
  "$root/usr/lib/tmpfiles.d/turnpike.conf"; do
  [ -f "$f" ] || continue
  # Every line that is not blank, a comment or a [Section] header must follow a comment line.
  bad=$(awk '/^[[:space:]]*$/ {prev = ""; next}
             /^[[:space:]]*[#;]/ {prev = "comment"; next}
             /^\[.*\]$/ {prev = ""; next}
             { if (prev != "comment") print FILENAME ":" FNR ": " $0; prev = "" }' "$f")
  name=${f#"$root"/usr/lib/}
  if [ -n "$bad" ]; then fail "uncommented lines in $name:"$'\n'"${bad//"$root"/}"; else pass "$name"; fi
done

echo "== settings the packaging relies on"
expect() { # unit, exact line
  if grep -qxF -- "$2" "$unitdir/$1"; then pass "$1: $2"; else fail "$1 lacks '$2'"; fi
}
for line in "Type=notify" "NotifyAccess=main" "ExecStart=/usr/sbin/turnpiked --config /etc/turnpike/turnpike.conf" \
  "WatchdogSec=30s" "LimitNOFILE=65536" "Restart=on-failure" "User=turnpike" "Group=turnpike" "UMask=0007" \
  "StateDirectory=turnpike" "StateDirectoryMode=0770" "RuntimeDirectory=turnpike" "ProtectSystem=strict" \
  "NoNewPrivileges=yes" "PrivateTmp=yes" "SystemCallFilter=@system-service" "WantedBy=multi-user.target"; do
  expect turnpike.service "$line"
done
grep -q '^ExecReload=.*kill -HUP' "$unitdir/turnpike.service" && pass "turnpike.service: ExecReload sends SIGHUP" ||
  fail "turnpike.service: ExecReload does not send SIGHUP"
grep -q '^RestrictAddressFamilies=' "$unitdir/turnpike.service" && pass "turnpike.service: RestrictAddressFamilies" ||
  fail "turnpike.service lacks RestrictAddressFamilies="
for line in "Conflicts=coturn.service" "Requires=turnpike.service" "After=turnpike.service" "User=turnserver" \
  "Group=turnpike" "UMask=0007" "RuntimeDirectory=turnpike-coturn" "ReadWritePaths=/var/lib/turnpike" \
  "ExecStart=/usr/bin/turnserver -c /run/turnpike-coturn/turnserver.conf --pidfile= --log-file=stdout" \
  "ProtectSystem=strict" "NoNewPrivileges=yes" "PrivateTmp=yes"; do
  expect turnpike-coturn.service "$line"
done
grep -q '^ExecStartPre=.*/usr/bin/turnpikectl --config /etc/turnpike/turnpike.conf coturn-config > /run/turnpike-coturn/turnserver.conf' \
  "$unitdir/turnpike-coturn.service" && pass "turnpike-coturn.service: ExecStartPre renders turnserver.conf" ||
  fail "turnpike-coturn.service: ExecStartPre does not render /run/turnpike-coturn/turnserver.conf"
if grep -q '^ExecReload=' "$unitdir/turnpike-coturn.service"; then
  fail "turnpike-coturn.service has ExecReload= (coturn 4.6 cannot re-read its configuration; use restart)"
else
  pass "turnpike-coturn.service: no ExecReload (coturn cannot reload)"
fi

echo "== systemd-analyze verify"
out=$(cd / && systemd-analyze verify --man=no --root="$root" "${units[@]/#//usr/lib/systemd/system/}" 2>&1) && rc=0 || rc=$?
if [ "$rc" = 0 ] && [ -z "$out" ]; then pass "verify: clean"; else fail "verify (exit $rc):"$'\n'"$out"; fi

echo "== systemd-analyze security --offline=yes"
exposure() { sed -n "s/^→ Overall exposure level for $1: \([0-9.]*\).*/\1/p"; }
for unit in "${units[@]}"; do
  # --threshold=20 makes systemd-analyze fail above an exposure of 2.0 (its scale is 0..100 internally).
  out=$(systemd-analyze security --offline=yes --root="$root" --threshold=20 --no-pager \
    "/usr/lib/systemd/system/$unit" 2>&1) && rc=0 || rc=$?
  level=$(printf '%s\n' "$out" | exposure "$unit")
  if [ -z "$level" ]; then
    fail "$unit: no exposure level in the output:"$'\n'"$out"
    continue
  fi
  echo "$unit: exposure $level"
  printf '%s\n' "$out" | grep '✗' | sed 's/^/    /' || true
  if [ "$unit" = turnpike.service ]; then
    if [ "$rc" = 0 ] && awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'; then
      pass "$unit: exposure $level <= 2.0"
    else
      fail "$unit: exposure $level > 2.0 (exit $rc)"
    fi
  else
    pass "$unit: exposure $level (reported)"
  fi
done

if [ -z "$deb" ]; then
  echo "== the RPM's drop-in for turnpike-coturn.service (User=coturn)"
  dropin=$repo/packaging/rpm/turnpike-coturn-user.conf
  mkdir -p "$unitdir/turnpike-coturn.service.d"
  cp "$dropin" "$unitdir/turnpike-coturn.service.d/coturn-user.conf"
  bad=$(awk '/^[[:space:]]*$/ {prev = ""; next}
             /^[[:space:]]*[#;]/ {prev = "comment"; next}
             /^\[.*\]$/ {prev = ""; next}
             { if (prev != "comment") print FNR ": " $0; prev = "" }' "$dropin")
  if [ -n "$bad" ]; then fail "uncommented lines in $dropin:"$'\n'"$bad"; else pass "drop-in: every directive is commented"; fi
  if [ "$(grep -E '^[A-Za-z]' "$dropin")" = "User=coturn" ]; then pass "drop-in: sets only User=coturn"; else
    fail "drop-in: expected only User=coturn, got: $(grep -E '^[A-Za-z]' "$dropin" | xargs)"
  fi
  out=$(cd / && systemd-analyze verify --man=no --root="$root" /usr/lib/systemd/system/turnpike-coturn.service 2>&1) &&
    rc=0 || rc=$?
  if [ "$rc" = 0 ] && [ -z "$out" ]; then pass "verify with the drop-in: clean"; else fail "verify with the drop-in (exit $rc):"$'\n'"$out"; fi
  level=$(systemd-analyze security --offline=yes --root="$root" --no-pager \
    /usr/lib/systemd/system/turnpike-coturn.service 2>&1 | exposure turnpike-coturn.service)
  echo "turnpike-coturn.service with the RPM drop-in: exposure ${level:-none}"
  [ -n "$level" ] && pass "drop-in: exposure $level (reported)" || fail "drop-in: no exposure level"
  rm -r "$unitdir/turnpike-coturn.service.d"
fi

echo "== sysusers.d and tmpfiles.d, applied to the throwaway root"
if out=$(systemd-sysusers --root="$root" 2>&1); then
  entry=$(grep '^turnpike:' "$root/etc/passwd" || true)
  IFS=: read -r _ _ uid gid _ home shell <<<"$entry"
  if [ -n "$entry" ] && [ "$uid" -lt 1000 ] && [ "$home" = /var/lib/turnpike ] && [ "$shell" = /usr/sbin/nologin ] &&
    grep -q "^turnpike:x:$gid:" "$root/etc/group"; then
    pass "sysusers: $entry"
  else
    fail "sysusers: unexpected user entry '$entry'"$'\n'"$out"
  fi
  if out=$(systemd-tmpfiles --root="$root" --create 2>&1); then
    check_path() { # path, mode, type
      actual=$(stat -c '%a %u %g %F' "$root$1" 2>/dev/null || echo missing)
      if [ "$actual" = "$2 $uid $gid $3" ]; then pass "tmpfiles: $1 $actual"; else fail "tmpfiles: $1 is '$actual', expected '$2 $uid $gid $3'"; fi
    }
    check_path /var/lib/turnpike 770 directory
    check_path /run/turnpike 750 directory
    check_path /var/lib/turnpike/turnpike.db 660 "regular empty file"
    # A database that already exists is only chmod/chown'ed, never replaced (coturn keeps its inode open).
    echo data >"$root/var/lib/turnpike/turnpike.db"
    chmod 0600 "$root/var/lib/turnpike/turnpike.db"
    inode=$(stat -c %i "$root/var/lib/turnpike/turnpike.db")
    systemd-tmpfiles --root="$root" --create >/dev/null 2>&1 || true
    if [ "$(stat -c '%i %a' "$root/var/lib/turnpike/turnpike.db")" = "$inode 660" ] &&
      [ "$(cat "$root/var/lib/turnpike/turnpike.db")" = data ]; then
      pass "tmpfiles: an existing database keeps its inode and content, mode fixed to 0660"
    else
      fail "tmpfiles: the existing database was replaced or not fixed"
    fi
  else
    fail "systemd-tmpfiles --create:"$'\n'"$out"
  fi
else
  fail "systemd-sysusers:"$'\n'"$out"
fi

echo
if [ "$failures" -gt 0 ]; then
  echo "systemd_units_test: $failures failure(s)"
  exit 1
fi
echo "systemd_units_test: all checks passed"
