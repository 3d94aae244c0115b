# Runs packaging/certbot-deploy-hook the way certbot does, with a recording systemctl in front of the real one.
"""systemd is not running where the integration tests run, so `systemctl` is a small script first on PATH that
appends each call to a log and answers `is-active` for the units listed in FAKE_ACTIVE_UNITS. For
`kill --signal=SIGUSR2 ... turnpike-coturn.service` it sends SIGUSR2 to the process in FAKE_COTURN_PID (when set),
which is what systemd would do for the packaged unit, so a test can run the hook against a real turnserver."""
import grp
import os
import subprocess
from pathlib import Path

from conftest import REPO

HOOK = REPO / "packaging" / "certbot-deploy-hook"

FAKE_SYSTEMCTL = r"""#!/bin/sh
echo "$*" >> "$FAKE_SYSTEMCTL_LOG"
case "$1" in
  is-active)
    for unit in $FAKE_ACTIVE_UNITS; do [ "$unit" = "$3" ] && exit 0; done
    exit 3 ;;
  reload) exit "${FAKE_RELOAD_STATUS:-0}" ;;
  kill)
    if [ -n "${FAKE_COTURN_PID:-}" ] && [ "$2" = --signal=SIGUSR2 ] && [ "$4" = turnpike-coturn.service ]; then
      kill -USR2 "$FAKE_COTURN_PID"
    fi
    exit 0 ;;
esac
exit 1
"""


def stand_in_group():
    """A group other than root that exists on the host, standing in for group turnpike."""
    for name in ("turnpike", "nogroup", "daemon", "users"):
        try:
            return grp.getgrnam(name)
        except KeyError:
            continue
    raise AssertionError("no usable group on this host")


class HookRunner:
    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.bin = self.workdir / "fakebin"
        self.bin.mkdir(parents=True, exist_ok=True)
        (self.bin / "systemctl").write_text(FAKE_SYSTEMCTL)
        (self.bin / "systemctl").chmod(0o755)
        self.log = self.workdir / "systemctl.log"
        self.group = stand_in_group()

    def run(self, lineage, tls_dir, active=(), reload_status=0, coturn_pid=None, extra_env=None):
        self.log.write_text("")
        env = dict(os.environ)
        env.update({
            "PATH": f"{self.bin}:{env.get('PATH', '/usr/bin:/bin')}",
            "FAKE_SYSTEMCTL_LOG": str(self.log),
            "FAKE_ACTIVE_UNITS": " ".join(active),
            "FAKE_RELOAD_STATUS": str(reload_status),
            "TURNPIKE_TLS_DIR": str(tls_dir),
            "TURNPIKE_TLS_GROUP": self.group.gr_name,
        })
        env.pop("FAKE_COTURN_PID", None)
        if coturn_pid is not None:
            env["FAKE_COTURN_PID"] = str(coturn_pid)
        if lineage is None:
            env.pop("RENEWED_LINEAGE", None)
        else:
            env["RENEWED_LINEAGE"] = str(lineage)
        env.update(extra_env or {})
        return subprocess.run([str(HOOK)], env=env, capture_output=True, text=True, timeout=60)

    def calls(self):
        return self.log.read_text().splitlines()
