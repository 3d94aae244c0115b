#!/usr/bin/env bash
# Builds the .deb and .rpm with packaging/build and checks them: lintian, files, modes, owners, conffiles, scripts.
# Usage: tests/packaging/check_packages.sh [--no-build]   (--no-build: check the packages already in dist/)
set -uo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

build=yes
case "${1:-}" in
  "") ;;
  --no-build) build=no ;;
  *)
    echo "usage: tests/packaging/check_packages.sh [--no-build]" >&2
    exit 64
    ;;
esac

passed=0
failed=0
ok() {
  passed=$((passed + 1))
  echo "ok    $*"
}
bad() {
  failed=$((failed + 1))
  echo "FAIL  $*"
}
# check DESCRIPTION COMMAND...: one result line per check.
check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
# has TEXT REGEX...: every extended regex matches a line of TEXT; lacks TEXT REGEX: none does.
has() {
  local text=$1 re
  shift
  for re in "$@"; do grep -qE -- "$re" <<< "$text" || return 1; done
}
lacks() { ! grep -qE -- "$2" <<< "$1"; }

if [ "$build" = yes ]; then
  if ! bash packaging/build; then
    echo "packaging: 0 passed, 1 failed"
    exit 1
  fi
fi

version=$(sed -n 's/^project(turnpike VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
arch=$(dpkg --print-architecture)
deb=dist/turnpike_${version}_${arch}.deb
rpm=$(ls dist/turnpike-"$version"-*.rpm 2> /dev/null | head -n 1)
if [ ! -f "$deb" ] || [ -z "$rpm" ]; then
  echo "missing packages in dist/ (deb: $deb, rpm: ${rpm:-none}); run packaging/build" >&2
  echo "packaging: 0 passed, 1 failed"
  exit 1
fi
work=$(mktemp -d /tmp/turnpike-check.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== lintian $deb"
lintian --tag-display-limit 0 "$deb" > "$work/lintian.txt" 2>&1
grep -v '^running with root privileges' "$work/lintian.txt" || true
errors=$(grep -c '^E: ' "$work/lintian.txt")
check "lintian: no errors ($errors)" test "$errors" -eq 0
# Every warning that is left must be explained in docs/PACKAGING.md.
for tag in $(sed -n 's/^W: [^ ]* \([a-z0-9.+-]*\).*/\1/p' "$work/lintian.txt" | sort -u); do
  check "lintian warning $tag is explained in docs/PACKAGING.md" grep -q -- "$tag" docs/PACKAGING.md
done

echo "== dpkg-deb -I / -c $deb"
info=$(dpkg-deb -f "$deb")
depends=$(dpkg-deb -f "$deb" Depends)
check "deb: package turnpike $version" has "$info" "^Package: turnpike$"
check "deb: version $version" has "$info" "^Version: $version$"
check "deb: depends on coturn" has "$depends" "(^|, )coturn(,|$| )"
check "deb: depends on the shared libraries (shlibs)" has "$depends" "libevent-core-2.1-7.*libsqlite3-0.*libssl3"
check "deb: no build tools or -dev packages in Depends" lacks "$(tr ',|' '\n\n' <<< "$depends" | sed 's/^ *//; s/ .*//')" \
  "^(cmake|gcc|g\+\+|cpp|make|debhelper|build-essential|pkg-config|pkgconf)$|-dev$"
check "deb: conffiles is exactly /etc/turnpike/turnpike.conf" \
  test "$(dpkg-deb -I "$deb" conffiles)" = /etc/turnpike/turnpike.conf

contents=$(dpkg-deb -c "$deb")
# expect_file MODE OWNER REGEX: one line of dpkg-deb -c with that mode, owner/group and path.
expect_file() {
  local line
  line=$(re="^\\./$3\$" awk '$6 ~ ENVIRON["re"]' <<< "$contents")
  if [ -z "$line" ]; then
    bad "deb: $3 is missing"
  elif [ "$(awk '{print $1 " " $2}' <<< "$line")" != "$1 $2" ]; then
    bad "deb: $3 is $(awk '{print $1 " " $2}' <<< "$line"), expected $1 $2"
  else
    ok "deb: $3 $1 $2"
  fi
}
expect_file -rwxr-xr-x root/root usr/sbin/turnpiked
expect_file -rwxr-xr-x root/root usr/bin/turnpikectl
# Shipped 0644 root:root; the postinst registers a dpkg-statoverride to 0640 root:turnpike (checked below).
expect_file -rw-r--r-- root/root etc/turnpike/turnpike.conf
expect_file -rw-r--r-- root/root "(usr/)?lib/systemd/system/turnpike\\.service"
expect_file -rw-r--r-- root/root "(usr/)?lib/systemd/system/turnpike-coturn\\.service"
expect_file -rw-r--r-- root/root usr/lib/sysusers.d/turnpike\\.conf
expect_file -rwxr-xr-x root/root usr/lib/turnpike/certbot-deploy-hook
expect_file -rw-r--r-- root/root usr/lib/tmpfiles.d/turnpike\\.conf
expect_file -rw-r--r-- root/root usr/share/man/man8/turnpiked\\.8\\.gz
expect_file -rw-r--r-- root/root usr/share/man/man8/turnpikectl\\.8\\.gz
expect_file -rw-r--r-- root/root usr/share/man/man5/turnpike\\.conf\\.5\\.gz
expect_file -rw-r--r-- root/root usr/share/doc/turnpike/copyright
expect_file -rw-r--r-- root/root "usr/share/doc/turnpike/README\\.md(\\.gz)?"
expect_file -rw-r--r-- root/root "usr/share/doc/turnpike/OPERATIONS\\.md(\\.gz)?"
expect_file -rw-r--r-- root/root "usr/share/doc/turnpike/PACKAGING\\.md(\\.gz)?"
expect_file -rw-r--r-- root/root "usr/share/doc/turnpike/SETUP\\.md(\\.gz)?"
check "deb: files only in /etc/turnpike, /usr/{bin,sbin,lib,share} and /lib/systemd" test -z "$(awk '{print $6}' <<< \
  "$contents" | grep -vE '^\./($|etc/$|etc/turnpike/|usr/$|usr/(bin|sbin|lib|share)/|lib/$|lib/systemd/)')"
check "deb: no state shipped (/var/lib/turnpike is made by tmpfiles)" lacks "$contents" '\./var/'
check "deb: no static libraries or headers" lacks "$contents" '\.(a|h|hpp)$'

mkdir -p "$work/deb"
dpkg-deb -x "$deb" "$work/deb"
conf=$work/deb/etc/turnpike/turnpike.conf
check "deb: turnpike.conf sets no key (every key commented)" \
  test -z "$(grep -vE '^[[:space:]]*(#|;|\[[a-z]+\][[:space:]]*$|$)' "$conf")"
check "deb: turnpike.conf matches turnpiked --print-default-config" \
  cmp -s "$conf" <("$work/deb/usr/sbin/turnpiked" --print-default-config)
for page in "$work"/deb/usr/share/man/man*/*.gz; do
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 > /dev/null)
  check "deb: man --warnings is silent for $(basename "$page")" test -z "$warnings"
done

mkdir -p "$work/ctrl"
dpkg-deb -e "$deb" "$work/ctrl"
for script in preinst postinst prerm postrm; do
  check "deb: $script exists and is valid sh" sh -n "$work/ctrl/$script"
done
postinst=$(cat "$work/ctrl/postinst")
preinst=$(cat "$work/ctrl/preinst")
prerm=$(cat "$work/ctrl/prerm")
postrm=$(cat "$work/ctrl/postrm")
check "deb postinst: creates the user (systemd-sysusers)" has "$postinst" "^ *systemd-sysusers turnpike\\.conf"
check "deb postinst: creates the state directory (systemd-tmpfiles)" has "$postinst" "systemd-tmpfiles --create turnpike\\.conf"
check "deb postinst: config 0640 root:turnpike via dpkg-statoverride" \
  has "$postinst" 'dpkg-statoverride --update --add root turnpike 0640 "\$CONF"'
check "deb postinst: generates the coturn CLI password 0640 root:turnpike" \
  has "$(grep -A8 '^create_cli_password' <<< "$postinst")" "chmod 0640"
check "deb postinst: creates/migrates the database as user turnpike" \
  has "$postinst" "runuser -u turnpike -- turnpiked --config \"\\\$CONF\" --migrate-only"
check "deb postinst: migration runs before the service starts" \
  test "$(grep -n -- '--migrate-only' <<< "$postinst" | head -n1 | cut -d: -f1)" -lt \
  "$(grep -n "deb-systemd-invoke start 'turnpike.service'" <<< "$postinst" | cut -d: -f1)"
check "deb postinst: enables turnpike.service on install" has "$postinst" \
  "was-enabled defaults to true" "deb-systemd-helper --quiet was-enabled 'turnpike.service'" \
  "deb-systemd-helper enable 'turnpike.service'"
check "deb postinst: starts turnpike.service" has "$postinst" "deb-systemd-invoke start 'turnpike.service'"
# dh_installsystemd --no-enable: only re-enables what the admin enabled before (debian-installed), never starts it.
check "deb postinst: does not enable turnpike-coturn.service on install" \
  has "$postinst" "if deb-systemd-helper debian-installed 'turnpike-coturn.service'; then"
check "deb postinst: does not start turnpike-coturn.service on install" \
  lacks "$postinst" "deb-systemd-invoke (start|restart) 'turnpike-coturn.service'"
# Debian's coturn.service runs /etc/turnserver.conf, an open relay as shipped: stopped and disabled on first install.
check "deb postinst: stops and disables Debian's coturn.service on first installation" \
  has "$postinst" '^ *\[ -n "\$2" \] \|\| disable_debian_coturn$' "deb-systemd-invoke stop coturn\\.service" \
  "deb-systemd-helper disable coturn\\.service"
check "deb postinst: restarts an enabled turnpike-coturn.service after an upgrade" \
  has "$postinst" "deb-systemd-invoke start turnpike-coturn.service"
check "deb preinst: stops turnpike.service before an upgrade" \
  has "$preinst" "= upgrade" "deb-systemd-invoke stop 'turnpike.service'"
check "deb prerm: stops turnpike.service on removal" has "$prerm" "deb-systemd-invoke stop 'turnpike.service'"
check "deb prerm: stops turnpike-coturn.service on removal" has "$prerm" "deb-systemd-invoke stop turnpike-coturn.service"
purge=$(sed -n '/^if \[ "\$1" = purge \]; then/,/^fi/p' <<< "$postrm")
check "deb postrm purge: removes /var/lib/turnpike" has "$purge" "rm -rf /var/lib/turnpike"
check "deb postrm purge: removes /etc/turnpike" has "$purge" "rm -rf /etc/turnpike"
check "deb postrm purge: removes the statoverride" has "$purge" "dpkg-statoverride --remove /etc/turnpike/turnpike.conf"
check "deb postrm purge: removes user and group" has "$purge" "userdel turnpike" "groupdel turnpike"

echo "== rpm queries $rpm"
qinfo=$(rpm -qip "$rpm" 2> /dev/null)
check "rpm -qip: name turnpike" has "$qinfo" "^Name *: turnpike$"
check "rpm -qip: version $version" has "$qinfo" "^Version *: $version$"
check "rpm -qip: license set" has "$qinfo" "^License *: [^ ]"
requires=$(rpm -qp --requires "$rpm" 2> /dev/null)
check "rpm: requires coturn" has "$requires" "^coturn"
check "rpm: requires the shared libraries" has "$requires" "^libevent_core-2\\.1\\.so\\.7" "^libsqlite3\\.so\\.0"
check "rpm: no build tools or -devel packages required" lacks "$(sed 's/ .*//' <<< "$requires")" \
  "^(cmake|gcc|gcc-c\+\+|cpp|make|pkgconf|pkgconfig|systemd-rpm-macros)$|-devel$"

qlist=$(rpm -qlp "$rpm" 2> /dev/null)
for path in /usr/sbin/turnpiked /usr/bin/turnpikectl /etc/turnpike /etc/turnpike/turnpike.conf \
  /etc/turnpike/coturn-cli-password /usr/lib/systemd/system/turnpike.service \
  /usr/lib/systemd/system/turnpike-coturn.service /usr/lib/sysusers.d/turnpike.conf \
  /usr/lib/tmpfiles.d/turnpike.conf /var/lib/turnpike /run/turnpike /usr/share/doc/turnpike/README.md \
  /usr/share/doc/turnpike/PACKAGING.md /usr/lib/turnpike/certbot-deploy-hook \
  /usr/lib/systemd/system/turnpike-coturn.service.d/coturn-user.conf; do
  check "rpm -qlp: $path" grep -qx -- "$path" <<< "$qlist"
done
for page in man8/turnpiked.8 man8/turnpikectl.8 man5/turnpike.conf.5; do
  check "rpm -qlp: /usr/share/man/$page" grep -qE -- "^/usr/share/man/$page(\\.gz)?$" <<< "$qlist"
done

qverbose=$(rpm -qlvp "$rpm" 2> /dev/null)
# expect_rpm_file MODE USER GROUP PATH: the rpm -qlvp line of PATH.
expect_rpm_file() {
  local got
  got=$(awk -v p="$4" '$NF == p {print $1, $3, $4}' <<< "$qverbose")
  if [ "$got" = "$1 $2 $3" ]; then ok "rpm -qlvp: $4 $1 $2:$3"; else bad "rpm -qlvp: $4 is '$got', expected $1 $2 $3"; fi
}
expect_rpm_file -rwxr-xr-x root root /usr/sbin/turnpiked
expect_rpm_file -rwxr-xr-x root root /usr/bin/turnpikectl
expect_rpm_file drwxr-xr-x root root /etc/turnpike
expect_rpm_file -rw-r----- root turnpike /etc/turnpike/turnpike.conf
expect_rpm_file -rw-r----- root turnpike /etc/turnpike/coturn-cli-password
expect_rpm_file drwxrwx--- turnpike turnpike /var/lib/turnpike
expect_rpm_file drwxr-x--- turnpike turnpike /run/turnpike
expect_rpm_file -rw-r--r-- root root /usr/lib/systemd/system/turnpike.service
expect_rpm_file -rw-r--r-- root root /usr/lib/systemd/system/turnpike-coturn.service.d/coturn-user.conf
expect_rpm_file -rwxr-xr-x root root /usr/lib/turnpike/certbot-deploy-hook
flags=$(rpm -qp --queryformat '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm" 2> /dev/null)
check "rpm: turnpike.conf is %config(noreplace)" grep -qx "cn /etc/turnpike/turnpike.conf" <<< "$flags"
check "rpm: coturn-cli-password is %ghost (generated, not shipped)" \
  grep -qx "g /etc/turnpike/coturn-cli-password" <<< "$flags"

scripts=$(rpm -qp --scripts "$rpm" 2> /dev/null)
for tag in PREIN POSTIN PREUN POSTUN POSTTRANS; do
  rpm -qp --queryformat "%{$tag}" "$rpm" > "$work/$tag.sh" 2> /dev/null
  check "rpm: %$tag scriptlet exists and is valid sh" sh -c "test -s '$work/$tag.sh' && sh -n '$work/$tag.sh'"
done
prein=$(cat "$work/PREIN.sh")
postin=$(cat "$work/POSTIN.sh")
preun=$(cat "$work/PREUN.sh")
postun=$(cat "$work/POSTUN.sh")
check "rpm %pre: creates user and group turnpike (sysusers, useradd fallback)" \
  has "$prein" "systemd-sysusers --replace=/usr/lib/sysusers.d/turnpike.conf" "^u +turnpike " "useradd -r -g turnpike"
check "rpm %pre: stops the units before an upgrade" has "$prein" "systemctl stop turnpike.service"
check "rpm %post: creates the state directory (systemd-tmpfiles)" has "$postin" "systemd-tmpfiles --create"
check "rpm %post: generates the coturn CLI password 0640 root:turnpike" \
  has "$postin" "chmod 0640 /etc/turnpike/coturn-cli-password" "chown root:turnpike"
check "rpm %post: creates/migrates the database as user turnpike" \
  has "$postin" "runuser -u turnpike -- /usr/sbin/turnpiked" "--migrate-only"
check "rpm %post: systemd_post (preset on first install)" \
  has "$postin" "preset turnpike.service|systemd-update-helper install-system-units turnpike.service"
check "rpm %preun: systemd_preun (disable --now on erase)" \
  has "$preun" "disable --now turnpike.service|systemd-update-helper remove-system-units turnpike.service"
check "rpm %postun: systemd_postun_with_restart" \
  has "$postun" "try-restart turnpike.service|systemd-update-helper mark-restart-system-units turnpike.service"
check "rpm -qp --scripts lists all five scriptlets" \
  test "$(grep -cE '^(preinstall|postinstall|preuninstall|postuninstall|posttrans) scriptlet' <<< "$scripts")" -eq 5

echo "packaging: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
