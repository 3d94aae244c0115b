# Starts turnpiked the way turnpike.service does (unprivileged user, UMask 0007, NOTIFY_SOCKET) and checks its sd_notify protocol.
"""turnpike.service is Type=notify with WatchdogSec= and a SIGHUP ExecReload. These tests play systemd's part:
they bind the AF_UNIX datagram socket named by NOTIFY_SOCKET, start the built turnpiked as an unprivileged user
(`nobody`, through setpriv, with no capabilities and no_new_privs) and check what arrives:

- READY=1 once it listens, sent by the main PID (NotifyAccess=main drops anything else), and only then;
- SIGHUP: RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC, as systemd 253+ requires), then READY=1, also when the
  new file is invalid (the daemon keeps the old config and must still leave the reloading state);
- SIGTERM: STOPPING=1, then exit 0;
- WATCHDOG=1 at least every WATCHDOG_USEC/2 when WATCHDOG_USEC (and WATCHDOG_PID, as systemd sets it) are given;
- as root without --allow-root it refuses to run (exit 1) and never reports READY=1;
- the watchdog keeps being fed while a backlog of 100,000+ expired rows is cleared.

Runs as root (it switches users). TURNPIKED selects the binary (default build/daemon/turnpiked).
Run: sudo /usr/bin/python3 -m pytest -q tests/packaging/notify_test.py
"""
import os
import pwd
import sqlite3
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TURNPIKED = os.environ.get("TURNPIKED", str(REPO / "build" / "daemon" / "turnpiked"))
SERVICE_USER = "nobody"  # any unprivileged account works; the unit uses its own system user, turnpike


def _help_text():
    try:
        out = subprocess.run([TURNPIKED, "--help"], capture_output=True, text=True, timeout=10)
    except OSError:
        return ""
    return out.stdout + out.stderr


def _skip_reason():
    if os.geteuid() != 0:
        return "must run as root (starts turnpiked as another user)"
    if not os.access(TURNPIKED, os.X_OK):
        return f"no turnpiked at {TURNPIKED} (set TURNPIKED)"
    if "--allow-root" not in _help_text():
        return f"{TURNPIKED} predates the systemd integration (no --allow-root in --help)"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


class NotifySocket:
    """The receiving end of NOTIFY_SOCKET. Records (monotonic time, sender pid, sender uid, {key: value})."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)  # the daemon runs as another user
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.messages = []

    def _receive_one(self, timeout):
        ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not ready:
            return None
        data, ancdata, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(struct.calcsize("3i")))
        pid = uid = None
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid, uid, _gid = struct.unpack("3i", payload[:12])
        fields = {}
        for line in data.decode().split("\n"):
            if line:
                key, _, value = line.partition("=")
                fields[key] = value
        message = (time.monotonic(), pid, uid, fields)
        self.messages.append(message)
        return message

    def wait_for(self, key, value="1", timeout=10.0, proc=None):
        """Returns the first new message with key=value; the messages read on the way stay in self.messages."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {key}={value} within {timeout}s; got {self.all_fields()}")
            message = self._receive_one(min(left, 0.2))
            if message is not None:
                if message[3].get(key) == value:
                    return message
            elif proc is not None and proc.poll() is not None:
                raise AssertionError(f"turnpiked exited with {proc.returncode} before {key}={value}; "
                                     f"got {self.all_fields()}")

    def drain(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._receive_one(deadline - time.monotonic())

    def all_fields(self):
        return [m[3] for m in self.messages]

    def close(self):
        self.sock.close()


class ServiceRun:
    """turnpiked started as turnpike.service would start it, in a temp dir the service user can write."""

    def __init__(self, workdir, user=SERVICE_USER, extra_env=None, extra_args=(), as_root=False, database=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o755)
        self.state = self.workdir / "state"  # plays /var/lib/turnpike (StateDirectory, 0770)
        self.state.mkdir(mode=0o770, exist_ok=True)
        account = pwd.getpwnam(user)
        self.uid, self.gid = (0, 0) if as_root else (account.pw_uid, account.pw_gid)
        os.chown(self.state, self.uid, self.gid)
        if database is not None:  # a database file made beforehand, owned by the service user like its own
            shutil.copyfile(database, self.state / "turnpike.db")
            os.chown(self.state / "turnpike.db", self.uid, self.gid)
        self.config_path = self.workdir / "turnpike.conf"
        self.settings = {
            "server": {"listen": "127.0.0.1:0"},
            "database": {"path": str(self.state / "turnpike.db")},
            "admin": {"socket": str(self.state / "admin.sock")},
        }
        self.write_config()
        self.notify = NotifySocket(self.workdir / "notify.sock")
        self.log_path = self.workdir / "turnpiked.log"
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "NOTIFY_SOCKET": self.notify.path}
        env.update(extra_env or {})
        daemon = [TURNPIKED, "--config", str(self.config_path), *extra_args]
        if as_root:
            command = daemon
        else:
            # User=, Group=, no supplementary groups, CapabilityBoundingSet= (empty), NoNewPrivileges=yes.
            command = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups",
                       "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--", *daemon]
        if "WATCHDOG_USEC" in env and env.get("WATCHDOG_PID") == "self":
            # systemd sets WATCHDOG_PID to the main PID; exec keeps the PID, so the shell's $$ is that PID.
            del env["WATCHDOG_PID"]
            command = ["/bin/sh", "-c", 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', "sh", *command]
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(command, env=env, stdout=self.log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, umask=0o007, cwd="/")

    def write_config(self):
        text = "".join(f"[{section}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()) + "\n"
                       for section, keys in self.settings.items())
        self.config_path.write_text(text)
        os.chmod(self.config_path, 0o644)

    def log(self):
        return self.log_path.read_text(errors="replace")

    def port(self):
        ports = re.findall(r"event=listening .*address=[^ ]*:(\d+)", self.log())
        assert ports, f"no event=listening line:\n{self.log()}"
        return int(ports[-1])

    def get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port()}{path}", timeout=5) as response:
            return response.status, response.read().decode()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        self.notify.close()
        return self.proc.returncode


@pytest.fixture
def start_service():
    # Not pytest's tmp_path: that lies under a 0700 directory the service user cannot enter.
    top = Path(tempfile.mkdtemp(prefix="turnpike-notify-"))
    os.chmod(top, 0o755)
    runs = []

    def factory(**kwargs):
        run = ServiceRun(top / f"run{len(runs)}", **kwargs)
        runs.append(run)
        return run

    yield factory
    for run in runs:
        run.stop()
    shutil.rmtree(top, ignore_errors=True)


def monotonic_usec():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def assert_from_main_pid(run, message):
    _, pid, uid, fields = message
    assert pid == run.proc.pid, f"{fields} came from pid {pid}, not the main pid {run.proc.pid}"
    assert uid == run.uid, f"{fields} came from uid {uid}, expected {run.uid}"


def test_ready_after_listening_as_unprivileged_user(start_service):
    run = start_service()
    ready = run.notify.wait_for("READY", proc=run.proc)
    assert_from_main_pid(run, ready)
    # READY=1 means the socket is already accepting.
    status, body = run.get("/health")
    assert status == 200 and '"status":"ok"' in body
    status_lines = Path(f"/proc/{run.proc.pid}/status").read_text()
    uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)", status_lines, re.M)
    assert (int(uids.group(1)), int(uids.group(2))) == (run.uid, run.uid)
    assert re.search(r"^CapEff:\s+0+$", status_lines, re.M), status_lines
    # The database and its WAL files are created group-writable and not world-readable (UMask=0007).
    db = run.state / "turnpike.db"
    assert db.exists()
    assert db.stat().st_uid == run.uid
    assert db.stat().st_mode & 0o007 == 0, oct(db.stat().st_mode)


def test_sighup_sends_reloading_with_monotonic_usec_then_ready(start_service):
    run = start_service()
    run.notify.wait_for("READY", proc=run.proc)
    run.settings["pairing"] = {"joinid_digits": "8"}
    run.write_config()
    before = monotonic_usec()
    run.proc.send_signal(signal.SIGHUP)
    reloading = run.notify.wait_for("RELOADING", proc=run.proc)
    after = monotonic_usec()
    assert_from_main_pid(run, reloading)
    assert "MONOTONIC_USEC" in reloading[3], reloading[3]
    stamp = int(reloading[3]["MONOTONIC_USEC"])
    assert before - 1000 <= stamp <= after + 1000, (before, stamp, after)
    ready = run.notify.wait_for("READY", proc=run.proc)
    assert_from_main_pid(run, ready)
    assert ready[0] >= reloading[0]
    deadline = time.monotonic() + 5
    while "event=config_reloaded" not in run.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "event=config_reloaded" in run.log()
    assert run.proc.poll() is None


def test_failed_reload_still_ends_with_ready_and_keeps_serving(start_service):
    run = start_service()
    run.notify.wait_for("READY", proc=run.proc)
    run.config_path.write_text(run.config_path.read_text() + "[nonsense]\nkey = 1\n")
    run.proc.send_signal(signal.SIGHUP)
    run.notify.wait_for("RELOADING", proc=run.proc)
    run.notify.wait_for("READY", proc=run.proc)
    deadline = time.monotonic() + 5
    while "event=config_reload_failed" not in run.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "event=config_reload_failed" in run.log()
    assert run.get("/health")[0] == 200


def test_sigterm_sends_stopping_and_exits_zero(start_service):
    run = start_service()
    run.notify.wait_for("READY", proc=run.proc)
    run.proc.send_signal(signal.SIGTERM)
    stopping = run.notify.wait_for("STOPPING", timeout=10)
    assert_from_main_pid(run, stopping)
    assert run.proc.wait(timeout=20) == 0, run.log()


def test_watchdog_pings_when_watchdog_usec_is_set(start_service):
    interval_usec = 200_000
    run = start_service(extra_env={"WATCHDOG_USEC": str(interval_usec), "WATCHDOG_PID": "self"})
    run.notify.wait_for("READY", proc=run.proc)
    start = time.monotonic()
    run.notify.drain(1.2)
    pings = [m for m in run.notify.messages if m[3].get("WATCHDOG") == "1" and m[0] >= start]
    # Every WATCHDOG_USEC/2 = 0.1 s: about 12 in 1.2 s; systemd would kill the service after a 0.2 s silence.
    assert len(pings) >= 6, run.notify.all_fields()
    for message in pings:
        assert_from_main_pid(run, message)
    times = [start] + [m[0] for m in pings]
    assert max(b - a for a, b in zip(times, times[1:])) < interval_usec / 1e6, times


def test_no_watchdog_pings_without_watchdog_usec(start_service):
    run = start_service()
    run.notify.wait_for("READY", proc=run.proc)
    run.notify.drain(0.6)
    assert not [m for m in run.notify.messages if "WATCHDOG" in m[3]], run.notify.all_fields()


def test_watchdog_for_another_pid_is_ignored(start_service):
    # systemd passes WATCHDOG_PID; a process that is not that PID (e.g. a child) must not ping.
    run = start_service(extra_env={"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"})
    run.notify.wait_for("READY", proc=run.proc)
    run.notify.drain(0.6)
    assert not [m for m in run.notify.messages if "WATCHDOG" in m[3]], run.notify.all_fields()


def test_refuses_to_run_as_root_without_allow_root(start_service):
    run = start_service(as_root=True)
    assert run.proc.wait(timeout=10) == 1, run.log()
    assert "must not run as root" in run.log()
    run.notify.drain(0.2)
    assert not [m for m in run.notify.messages if m[3].get("READY") == "1"], run.notify.all_fields()


def test_runs_as_root_with_allow_root(start_service):
    run = start_service(as_root=True, extra_args=["--allow-root"])
    ready = run.notify.wait_for("READY", proc=run.proc)
    assert_from_main_pid(run, ready)
    run.proc.send_signal(signal.SIGTERM)
    run.notify.wait_for("STOPPING")
    assert run.proc.wait(timeout=20) == 0, run.log()


def test_admin_reload_sends_reloading_then_ready(start_service):
    # POST /admin/reload is the same reload as SIGHUP, systemd notifications included.
    run = start_service()
    run.notify.wait_for("READY", proc=run.proc)
    run.settings["pairing"] = {"joinid_digits": "8"}
    run.write_config()
    request = urllib.request.Request(f"http://127.0.0.1:{run.port()}/admin/reload", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
        assert "pairing.joinid_digits" in response.read().decode()
    reloading = run.notify.wait_for("RELOADING", proc=run.proc)
    assert_from_main_pid(run, reloading)
    assert "MONOTONIC_USEC" in reloading[3], reloading[3]
    ready = run.notify.wait_for("READY", proc=run.proc)
    assert ready[0] >= reloading[0]
    assert run.proc.poll() is None


def expired_backlog(directory, rooms, pendings):
    """A database (schema by turnpiked --migrate-only) holding `rooms` rooms idle since 1970, each with a
    long-term TURN credential and its coturn row, and `pendings` expired join codes."""
    path = Path(directory) / "backlog.db"
    config = Path(directory) / "migrate.conf"
    config.write_text(f"[database]\npath = {path}\n")
    subprocess.run([TURNPIKED, "--config", str(config), "--migrate-only", "--allow-root"], check=True,
                   capture_output=True, timeout=60)
    db = sqlite3.connect(path)
    with db:
        db.executemany("INSERT INTO rooms VALUES (?, 'c1', 'c2', 1000, 1000)",
                       ((f"{i:048x}",) for i in range(rooms)))
        db.executemany("INSERT INTO turn_credentials VALUES (?, ?, 1, 'example.org', 'long-term', 'pw', 1000, ?)",
                       ((f"user-{i}", f"{i:048x}", 9_999_999_999_000) for i in range(rooms)))
        db.executemany("INSERT INTO turnusers_lt VALUES ('example.org', ?, ?)",
                       ((f"user-{i}", "0" * 32) for i in range(rooms)))
        db.executemany("INSERT INTO pendings (joinid, client1, client2, roomid, exp_ms, created_ms) "
                        "VALUES (?, 'p', NULL, NULL, 1000, 1000)",
                       ((f"{i:08d}",) for i in range(pendings)))
    db.close()
    return path


def test_watchdog_is_fed_while_a_backlog_is_cleared(start_service, tmp_path):
    # A restart after a long downtime finds everything expired. With WatchdogSec=1s systemd kills a service
    # that is silent for a second; the sweep works in short steps, so the pings keep coming until it is done.
    rooms, pendings = 40_000, 20_000  # with credentials and coturn rows: 140,000 rows to delete
    backlog = expired_backlog(tmp_path, rooms, pendings)
    watchdog_usec = 1_000_000
    run = start_service(extra_env={"WATCHDOG_USEC": str(watchdog_usec), "WATCHDOG_PID": "self"},
                        database=backlog)
    run.notify.wait_for("READY", timeout=30, proc=run.proc)
    start = time.monotonic()
    deadline = start + 120
    while True:
        run.notify.drain(0.5)
        status, body = run.get("/health")
        assert status == 200, body
        if '"rooms":0' in body.replace(" ", "") and '"pendings":0' in body.replace(" ", ""):
            break
        assert time.monotonic() < deadline, body
        assert run.proc.poll() is None, run.log()
    cleared = time.monotonic()
    pings = [m[0] for m in run.notify.messages if m[3].get("WATCHDOG") == "1" and m[0] >= start]
    times = [start] + pings + [cleared]
    assert max(b - a for a, b in zip(times, times[1:])) < watchdog_usec / 1e6, times
    removed = sum(int(n) for n in re.findall(r"event=rooms_expired count=(\d+)", run.log()))
    assert removed == rooms, run.log()[-2000:]
    db = sqlite3.connect(run.state / "turnpike.db", timeout=5)
    try:
        assert db.execute("SELECT count(*) FROM turnusers_lt").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM turn_credentials").fetchone()[0] == 0
    finally:
        db.close()
