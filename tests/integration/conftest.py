"""Fixtures that start the real turnpiked on a free loopback port with a temp config and database."""
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
TURNPIKED = os.environ.get("TURNPIKED", str(REPO / "build" / "daemon" / "turnpiked"))


def render_config(settings):
    """settings: {"section.key": value} -> INI text. Booleans become true/false."""
    sections = {}
    for dotted, value in settings.items():
        section, key = dotted.split(".", 1)
        if isinstance(value, bool):
            value = "true" if value else "false"
        sections.setdefault(section, []).append(f"{key} = {value}")
    return "".join(f"[{s}]\n" + "\n".join(lines) + "\n\n" for s, lines in sections.items())


class Daemon:
    """A running turnpiked. Its stderr goes to log_path; the port is read from its `event=listening` line."""

    def __init__(self, workdir, settings):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.workdir / "turnpike.db"
        self.config_path = self.workdir / "turnpike.conf"
        self.log_path = self.workdir / "turnpiked.log"
        # No admin socket unless a test asks for one (unix socket paths are limited to 107 bytes).
        self.settings = {"server.listen": "127.0.0.1:0", "database.path": str(self.db_path), "admin.socket": ""}
        # Every create spends the per-address join-code budget (30 a minute by default) and every test runs from
        # 127.0.0.1, so tests get a budget that pairing flows cannot exhaust; the tests of the budget set their own.
        self.settings["limits.failed_join_per_minute"] = 1000000
        self.settings.update(settings)
        self.write_config(self.settings)
        self.proc = None
        self.port = None

    def write_config(self, settings):
        self.config_path.write_text(render_config(settings))

    def start(self, timeout=15):
        log_start = len(self.log())
        self.log_file = open(self.log_path, "ab")
        # turnpiked refuses to run as root unless told that this is a throwaway test.
        allow_root = ["--allow-root"] if os.geteuid() == 0 else []
        self.proc = subprocess.Popen([TURNPIKED, "--config", str(self.config_path), *allow_root], stdout=self.log_file,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # One line per listening address; the first is server.listen's first address.
            ports = re.findall(r"event=listening .*address=[^ ]*:(\d+)", self.log()[log_start:])
            if ports:
                self.port = int(ports[0])
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"turnpiked exited with {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.02)
        raise RuntimeError(f"turnpiked did not start listening:\n{self.log()}")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/ws"

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def reload(self, settings=None):
        """Rewrite the config with `settings` merged in (None keeps it) and send SIGHUP."""
        if settings is not None:
            merged = dict(self.settings)
            merged.update(settings)
            self.write_config(merged)
        self.proc.send_signal(signal.SIGHUP)

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"turnpiked did not exit on SIGTERM:\n{self.log()}")
        self.log_file.close()
        return self.proc.returncode


@pytest.fixture
def start_daemon(tmp_path):
    """Factory: start_daemon({"limits.max_body_bytes": 100}) -> Daemon. Each daemon is stopped at teardown and
    must exit 0 (under ASan a leak makes it non-zero)."""
    started = []

    def factory(settings=None, workdir=None):
        d = Daemon(workdir or tmp_path / f"d{len(started)}", settings or {})
        started.append(d)
        return d.start()

    yield factory
    for d in started:
        if d.proc is not None and d.proc.returncode is None:
            code = d.stop()
            assert code == 0, f"turnpiked exited with {code}:\n{d.log()[-4000:]}"


@pytest.fixture
def daemon(start_daemon):
    """A daemon with the shipped defaults, except that any roomId may be joined over WebSocket."""
    return start_daemon({"signaling.require_known_room": False})


@pytest.fixture
def strict_daemon(start_daemon):
    """A daemon with the shipped defaults (signaling.require_known_room = true)."""
    return start_daemon({})


@pytest.fixture
def http(daemon):
    s = requests.Session()
    yield s
    s.close()


# --- coturn ------------------------------------------------------------------------------------------------------

TURNPIKECTL = os.environ.get("TURNPIKECTL", str(Path(TURNPIKED).parent / "turnpikectl"))


@pytest.fixture
def turn_stack(start_daemon, tmp_path):
    """Factory: turn_stack("long-term" | "rest", {"pairing.room_ttl_seconds": 10}) -> turnutil.TurnStack.

    Starts turnpiked with a [turn] section on free loopback ports (TURN port, CLI port, relay range), renders
    turnserver.conf with `turnpikectl coturn-config --config <its turnpike.conf>` and starts coturn from it on the
    same database file. coturn, peers and uclients are stopped at teardown, before the daemon is."""
    import turnutil

    if not turnutil.coturn_available():
        pytest.skip("coturn is not installed (turnserver, turnutils_uclient, turnutils_peer)")
    stacks = []

    def factory(mode, settings=None):
        turn_port = turnutil.free_port(count=2)  # coturn may also want port + 1 (RFC 5780 alternate port)
        tls_port = turnutil.free_port()
        cli_port = turnutil.free_port(udp=False)
        cli_password = turnutil.random_hex(12)
        config = turnutil.turn_settings(mode, turn_port, tls_port, cli_port, cli_password,
                                        turnutil.free_relay_range())
        config.update(settings or {})
        workdir = tmp_path / f"turn{len(stacks)}"
        daemon = start_daemon(config, workdir=workdir)
        stack = turnutil.TurnStack(daemon, workdir, TURNPIKECTL, mode, turn_port, cli_port, cli_password)
        stacks.append(stack)
        stack.start_coturn()
        return stack

    yield factory
    for stack in stacks:
        stack.close()


# --- Socket.IO -----------------------------------------------------------------------------------------------------


@pytest.fixture(params=["reference", "turnpike"])
def server(request, start_daemon):
    """sioutil.ServerLauncher for the seed-002 reference server (node, the real socket.io package) or turnpiked:
    `srv = server.start(turnpike={...}, reference_env={...})`. `@sioutil.turnpike_only` keeps only "turnpike"."""
    import sioutil

    launcher = sioutil.ServerLauncher(request.param, start_daemon)
    yield launcher
    launcher.stop_all()


@pytest.fixture
def sio():
    """A sioutil.SioDriver: socket.io-client sockets driven from the test (npm ci in tests/socketio if needed)."""
    import sioutil

    driver = sioutil.SioDriver()
    yield driver
    driver.close()
