# Socket.IO test helpers: the socket.io-client driver (tests/socketio/driver.mjs), a raw Engine.IO v4 polling
# client, the seed-002 reference server, and what the `server`/`sio` fixtures (conftest.py) start.
"""Helpers for the Socket.IO integration tests.

`SioDriver` runs `node tests/socketio/driver.mjs`, a long-lived process that drives any number of sockets of the
real `socket.io-client` package; commands go in as JSON lines, reports come back as JSON lines and are queued
until a test takes them with `expect()`.

`EioPolling` speaks Engine.IO v4 long-polling by hand over `requests`, for what a client library never sends.

The `server` fixture (conftest.py) is parametrized over "reference" (tests/socketio/seed002_server.mjs: the
seed-002 server on the real `socket.io` package) and "turnpike" (the daemon; skipped only while it answers the
Engine.IO handshake with 404, that is until it serves the path). Tests of what only turnpike does use
`@turnpike_only`.
"""
import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
SIO_DIR = REPO / "tests" / "socketio"
DRIVER = SIO_DIR / "driver.mjs"
REFERENCE_SERVER = SIO_DIR / "seed002_server.mjs"
EIO_PATH = "/socket.io/"
RS = "\x1e"  # Engine.IO v4 payload separator (polling)

# What engine.io 6.6 answers to bad requests (status 400, JSON bodies).
SESSION_ID_UNKNOWN = {"code": 1, "message": "Session ID unknown"}
TRANSPORT_UNKNOWN = {"code": 0, "message": "Transport unknown"}
BAD_HANDSHAKE_METHOD = {"code": 2, "message": "Bad handshake method"}
UNSUPPORTED_PROTOCOL_VERSION = {"code": 5, "message": "Unsupported protocol version"}

# Both client transport setups of socket.io-client: its default (polling, then upgrade) and WebSocket only.
CLIENT_TRANSPORTS = {"default": None, "websocket": ["websocket"]}


def node_available():
    return shutil.which("node") is not None


def ensure_node_modules():
    """Runs `npm ci` in tests/socketio when node_modules is missing or older than the lockfile (as
    tests/browser/run.sh does). Skips the calling test when node is not installed. Serialised with a lock file,
    since ctest may run several test files at once."""
    if not node_available():
        pytest.skip("node is not installed (apt-get install nodejs npm): the Socket.IO tests need it")
    installed = SIO_DIR / "node_modules" / ".package-lock.json"
    lockfile = SIO_DIR / "package-lock.json"

    def fresh():
        return installed.exists() and installed.stat().st_mtime >= lockfile.stat().st_mtime

    if fresh():
        return
    with open("/tmp/turnpike-socketio-npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if fresh():
            return
        if shutil.which("npm") is None:
            pytest.fail("node is installed but npm is not (apt-get install npm): tests/socketio needs `npm ci`")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=SIO_DIR, check=True,
                       timeout=300)


# --------------------------------------------------------------------------------------------------------------
# socket.io-client driver


class SioDriver:
    """One `node driver.mjs` process. Reports are dicts such as {"id":"a","kind":"event","event":"signal",
    "args":[...]}; `expect()` takes the first queued report that matches and leaves the others queued."""

    def __init__(self):
        ensure_node_modules()
        self.proc = subprocess.Popen(["node", str(DRIVER)], cwd=SIO_DIR, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        self.pending = []  # reports not taken yet, in arrival order
        self.all = []  # every report, for failure messages
        self.incoming = queue.Queue()
        self.stderr_lines = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        self._tokens = 0

    def _read_stdout(self):
        for line in self.proc.stdout:
            line = line.strip()
            if line:
                try:
                    self.incoming.put(json.loads(line))
                except ValueError:
                    self.incoming.put({"id": None, "kind": "garbage", "line": line})

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line.rstrip("\n"))

    def send(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    # -- commands

    def connect(self, id, url, auth=None, transports=None, **opts):
        """Opens socket `id` (io(url, opts) with forceNew, reconnection off, timeout 5 s unless opts say
        otherwise). auth=None sends no auth at all; transports=None keeps the client's default."""
        if auth is not None:
            opts["auth"] = auth
        if transports is not None:
            opts["transports"] = transports
        self.send(op="connect", id=id, url=url, opts=opts)

    def connected(self, id, url, auth=None, transports=None, timeout=5, **opts):
        """connect() and wait for its "connect" report, which is returned."""
        self.connect(id, url, auth=auth, transports=transports, **opts)
        report = self.expect(id, ("connect", "connect_error"), timeout=timeout)
        assert report["kind"] == "connect", f"{id} did not connect: {report}"
        return report

    def emit(self, id, event, *args, ack=False, ack_timeout_ms=5000):
        self.send(op="emit", id=id, event=event, args=list(args), ack=ack, ack_timeout_ms=ack_timeout_ms)

    def emit_raw(self, id, data):
        self.send(op="emit_raw", id=id, data=data)

    def disconnect(self, id):
        self.send(op="disconnect", id=id)

    def close_all(self):
        self.send(op="close_all")

    def sync(self, timeout=5):
        """Round trip through the driver: every report emitted before this call returns is queued."""
        self._tokens += 1
        token = f"t{self._tokens}"
        self.send(op="sync", id="__sync__", token=token)
        self.expect("__sync__", "sync", timeout=timeout)

    # -- reports

    def _pump(self, timeout):
        try:
            report = self.incoming.get(timeout=max(timeout, 0))
        except queue.Empty:
            return False
        self.pending.append(report)
        self.all.append(report)
        return True

    def _take(self, match):
        for i, report in enumerate(self.pending):
            if match(report):
                return self.pending.pop(i)
        return None

    @staticmethod
    def _matcher(id, kind, event):
        kinds = (kind,) if isinstance(kind, str) else tuple(kind) if kind is not None else None

        def match(report):
            return (report.get("id") == id and (kinds is None or report.get("kind") in kinds)
                    and (event is None or report.get("event") == event))

        return match

    def expect(self, id, kind, event=None, timeout=5):
        """The next report of socket `id` of this kind (a string or a tuple of kinds) and, if given, event name.
        Other reports stay queued. Fails after `timeout` seconds."""
        match = self._matcher(id, kind, event)
        deadline = time.monotonic() + timeout
        while True:
            report = self._take(match)
            if report is not None:
                return report
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._pump(remaining)
        raise AssertionError(f"no {kind} {event or ''} report for {id} within {timeout} s; queued: "
                             f"{self.pending[-20:]}; driver stderr: {self.stderr_lines[-10:]}")

    def expect_event(self, id, event, timeout=5):
        """The arguments of the next `event` that socket `id` receives."""
        return self.expect(id, "event", event, timeout=timeout)["args"]

    def assert_nothing(self, id, event=None, seconds=0.5, kind="event"):
        """Waits `seconds` and fails if socket `id` got a report of `kind` ("event" by default; None: any) with
        this event name (None: any name) meanwhile or before (queued)."""
        match = self._matcher(id, kind, event)
        deadline = time.monotonic() + seconds
        while True:
            report = self._take(match)
            assert report is None, f"{id} got an unexpected report: {report}"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._pump(remaining)

    def drain(self, id=None):
        """Pumps what has arrived and returns (and removes) every queued report of `id` (None: all)."""
        while self._pump(0):
            pass
        taken = [r for r in self.pending if id is None or r.get("id") == id]
        self.pending = [r for r in self.pending if not (id is None or r.get("id") == id)]
        return taken

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --------------------------------------------------------------------------------------------------------------
# Raw Engine.IO v4 long-polling


def parse_open(text):
    """'0{...}' -> the open packet's JSON object."""
    assert text.startswith("0"), f"not an open packet: {text[:200]!r}"
    return json.loads(text[1:])


class EioPolling:
    """One Engine.IO v4 polling session by hand. `handshake()` opens it; `get()` returns the packets of one poll
    (the payload split on \\x1e); `post(*packets)` sends packets joined with \\x1e."""

    def __init__(self, base_url, path=EIO_PATH, timeout=10):
        self.base_url = base_url.rstrip("/")
        self.path = path
        self.timeout = timeout
        self.http = requests.Session()
        self.sid = None
        self.open = None

    def url(self):
        return self.base_url + self.path

    def params(self, sid=True, **extra):
        params = {"EIO": "4", "transport": "polling"}
        if sid and self.sid is not None:
            params["sid"] = self.sid
        params.update(extra)
        return params

    def request(self, method, params, data=None, headers=None, timeout=None):
        return self.http.request(method, self.url(), params=params, data=data, headers=headers,
                                 timeout=timeout or self.timeout)

    def handshake(self, headers=None):
        response = self.request("GET", self.params(sid=False), headers=headers)
        assert response.status_code == 200, f"handshake: {response.status_code} {response.text[:200]}"
        self.open = parse_open(response.text)
        self.sid = self.open["sid"]
        return self.open

    def get_response(self, timeout=None, headers=None):
        return self.request("GET", self.params(), headers=headers, timeout=timeout)

    def get(self, timeout=None):
        response = self.get_response(timeout=timeout)
        assert response.status_code == 200, f"poll: {response.status_code} {response.text[:200]}"
        return response.text.split(RS)

    def post_response(self, data, headers=None):
        return self.request("POST", self.params(), data=data.encode() if isinstance(data, str) else data,
                            headers=headers)

    def post(self, *packets):
        response = self.post_response(RS.join(packets))
        assert response.status_code == 200 and response.text == "ok", \
            f"post: {response.status_code} {response.text[:200]}"
        return response

    def raw_post_status(self, data, chunk=65536):
        """POSTs `data` on a fresh plain socket, tolerating a server that answers and closes before the body is
        all sent (as engine.io does with 413), and returns the status code of the answer."""
        import socket
        from urllib.parse import urlencode, urlsplit

        parts = urlsplit(self.base_url)
        body = data.encode() if isinstance(data, str) else data
        head = (f"POST {self.path}?{urlencode(self.params())} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {len(body)}\r\n\r\n")
        with socket.create_connection((parts.hostname, parts.port), timeout=self.timeout) as sock:
            sock.sendall(head.encode())
            try:
                for i in range(0, len(body), chunk):
                    sock.sendall(body[i:i + chunk])
            except OSError:
                pass
            answer = b""
            while b"\r\n" not in answer:
                piece = sock.recv(4096)
                if not piece:
                    break
                answer += piece
        assert answer.startswith(b"HTTP/1.1 "), f"no HTTP answer: {answer[:200]!r}"
        return int(answer.split(b" ", 2)[1])

    def close(self):
        self.http.close()


def sio_connect_packet(namespace, auth):
    """A Socket.IO CONNECT packet as Engine.IO message text: 40{auth} or 40/ns,{auth}."""
    prefix = "40" if namespace == "/" else f"40{namespace},"
    return prefix + (json.dumps(auth, separators=(",", ":")) if auth is not None else "")


def raw_websocket_upgrade(port, target, timeout=5):
    """Sends a WebSocket upgrade request for `target` (path?query) to 127.0.0.1:port on a plain socket and returns
    (status, body text) of a refusal; for a 101 the body is empty."""
    import socket

    request = (f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            piece = sock.recv(4096)
            if not piece:
                break
            data += piece
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status == 101:
            return status, ""
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while length is None or len(body) < length:
            piece = sock.recv(4096)
            if not piece:
                break
            body += piece
    return status, body.decode(errors="replace")


def sio_event_packet(namespace, name, *args):
    """A Socket.IO EVENT as Engine.IO message text: 42["name",...] or 42/ns,["name",...]."""
    prefix = "42" if namespace == "/" else f"42{namespace},"
    return prefix + json.dumps([name, *args], separators=(",", ":"))


def parse_sio_event(namespace, packet):
    """Engine.IO message text -> (name, [args]) when it is a Socket.IO EVENT (without ack id) of `namespace`,
    else None."""
    prefix = "42" if namespace == "/" else f"42{namespace},"
    if not packet.startswith(prefix) or not packet[len(prefix):].startswith("["):
        return None
    name, *args = json.loads(packet[len(prefix):])
    return name, args


# --------------------------------------------------------------------------------------------------------------
# Servers under test


class ReferenceServer:
    """node tests/socketio/seed002_server.mjs on a free 127.0.0.1 port."""

    kind = "reference"
    namespaces = ["/"]

    def __init__(self, env=None):
        ensure_node_modules()
        self.proc = subprocess.Popen(["node", str(REFERENCE_SERVER), "0"], cwd=SIO_DIR, env={**os.environ,
                                     **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self._first_line(timeout=10)
        assert line.startswith("listening "), f"reference server: {line!r} {self.proc.stderr.read()}"
        self.port = int(line.split()[1])
        self.stderr_lines = []
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _first_line(self, timeout):
        result = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not result:
            self.proc.kill()
            raise AssertionError("the reference server did not print its port")
        return result[0].strip()

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line.rstrip("\n"))

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def alive(self):
        return self.proc.poll() is None

    def log(self):
        return "\n".join(self.stderr_lines)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class TurnpikeServer:
    """A Daemon (conftest.py) seen through the same interface as ReferenceServer."""

    kind = "turnpike"
    namespaces = ["/", "/sessions"]

    def __init__(self, daemon):
        self.daemon = daemon
        self.port = daemon.port

    @property
    def url(self):
        return self.daemon.url

    def alive(self):
        return self.daemon.proc.poll() is None

    def log(self):
        return self.daemon.log()


class ServerLauncher:
    """What the `server` fixture yields: `.kind` and `start(turnpike=None, reference_env=None)`, which starts the
    server of that kind (turnpike with those config settings over the defaults; the reference server with those
    extra environment variables) and returns it. Servers are stopped at teardown."""

    def __init__(self, kind, start_daemon):
        self.kind = kind
        self._start_daemon = start_daemon
        self.started = []

    def start(self, turnpike=None, reference_env=None):
        if self.kind == "reference":
            srv = ReferenceServer(reference_env)
            self.started.append(srv)
            return srv
        if not os.path.exists(os.environ.get("TURNPIKED", str(REPO / "build" / "daemon" / "turnpiked"))):
            pytest.skip("turnpiked is not built (set TURNPIKED)")
        # Probe with the defaults first: a daemon without Socket.IO also refuses the [socketio] config keys.
        daemon = self._start_daemon({})
        response = requests.get(daemon.url + EIO_PATH, params={"EIO": "4", "transport": "polling"}, timeout=5)
        if response.status_code == 404:
            pytest.skip("turnpike socketio not built yet")
        if turnpike:
            assert daemon.stop() == 0, daemon.log()[-4000:]
            daemon = self._start_daemon(turnpike)
        return TurnpikeServer(daemon)

    def stop_all(self):
        for srv in self.started:
            srv.stop()


def dialect_namespace(srv):
    """The namespace of the session dialect: /sessions on turnpike, / on the seed's server (its only one)."""
    return "/sessions" if srv.kind == "turnpike" else "/"


turnpike_only = pytest.mark.parametrize("server", ["turnpike"], indirect=True)
