# HTTP helpers for the integration tests: a raw-socket HTTP/1.1 client, REST call wrappers and assertions.
import base64
import itertools
import json
import os
import re
import socket
import sqlite3
import struct
import time
from datetime import datetime, timezone

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

REFERENCE_ALLOW_HEADERS = "Origin, X-Requested-With, Content-Type, Accept"
REFERENCE_ALLOW_METHODS = "GET, POST, DELETE, OPTIONS"
HEALTH_LINE = "WebRTC P2P Signaling Server Active - Ready for iOS clients"
EXPIRES_DETAILS = "must be 1-86400 seconds (1 sec to 24 hours)"

CREATE_RE = re.compile(r'^\{"ok":true,"exp":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"\}$')
ROOMID_RE = re.compile(r'^\{"roomid":"([0-9a-f]{48})"\}$')

_joinids = itertools.count((os.getpid() * 7919) % 500000)


def next_joinid():
    """A fresh 6-digit join code in 500000..999999, unique within this test process. Tests that spell out codes
    by hand use codes below 500000 so that they never collide with these."""
    return str(500000 + next(_joinids) % 500000)


class Raw:
    """A JSON fragment inserted verbatim by json_text(), e.g. Raw("1.5e5")."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return f"Raw({self.text})"


def json_text(fields):
    """Serialise a dict as compact JSON in key order; Raw values are inserted as written."""
    parts = []
    for key, value in fields.items():
        rendered = value.text if isinstance(value, Raw) else json.dumps(value, ensure_ascii=False)
        parts.append(json.dumps(key) + ":" + rendered)
    return "{" + ",".join(parts) + "}"


def padded(obj, size):
    """JSON text of `obj` padded with trailing spaces (still valid JSON) to exactly `size` bytes."""
    text = json_text(obj).encode()
    assert len(text) <= size
    return text + b" " * (size - len(text))


def create_obj(joinid=None, client1="dev-A", expires=60):
    """A valid POST /api/rooms body (a fresh join code unless one is given)."""
    return {"joinid": joinid or next_joinid(), "client1": client1, "expiresInSeconds": expires}


def parse_iso_ms(text):
    """'2025-01-02T03:04:05.678Z' -> POSIX seconds (float)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def ordered_pairs(text):
    """JSON object text -> list of (key, value) in wire order."""
    return json.loads(text, object_pairs_hook=lambda pairs: pairs)


def wait_for(predicate, timeout=3.0, interval=0.02, message="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(interval)


def wait_for_log(daemon, pattern, timeout=3.0):
    """Wait until the daemon log matches `pattern` (regex); returns the match."""
    regex = re.compile(pattern)
    return wait_for(lambda: regex.search(daemon.log()), timeout=timeout,
                    message=f"log line /{pattern}/; log tail:\n{daemon.log()[-2000:]}")


class SourceAddressAdapter(HTTPAdapter):
    """Makes a requests.Session connect from a chosen local address (e.g. 127.0.0.2)."""

    def __init__(self, source, **kwargs):
        self.source = source
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(source):
    s = requests.Session()
    s.mount("http://", SourceAddressAdapter(source))
    return s


# ---------------------------------------------------------------------------------------------------------------
# Raw-socket HTTP


class RawResponse:
    def __init__(self, version, status_code, reason, header_list, content):
        self.version = version
        self.status_code = status_code
        self.reason = reason
        self.header_list = header_list
        self.headers = CaseInsensitiveDict()
        for name, value in header_list:
            self.headers[name] = f"{self.headers[name]}, {value}" if name in self.headers else value
        self.content = content

    @property
    def text(self):
        return self.content.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.content)

    def __repr__(self):
        return f"<RawResponse {self.status_code} {self.headers!r} {self.content[:200]!r}>"


class RawConn:
    """One TCP connection speaking hand-written HTTP. Responses are parsed from a buffer, so pipelining works."""

    def __init__(self, port, host="127.0.0.1", source=None, timeout=3.0):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.eof = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def try_send(self, data):
        """send() that reports False instead of raising when the peer has closed."""
        try:
            self.send(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def _fill(self):
        if self.eof:
            return False
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _need(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise AssertionError(f"connection closed inside a response body: {self.buf[:300]!r}")

    def _line(self):
        while b"\r\n" not in self.buf:
            if not self._fill():
                raise AssertionError(f"connection closed inside a chunked body: {self.buf[:300]!r}")
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_response(self, head=False):
        """The next response, or None if the server closed the connection before sending one. A 1xx response is
        returned on its own (call again for the final one). Raises socket.timeout if nothing complete arrives."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                if self.buf:
                    raise AssertionError(f"connection closed inside a response head: {self.buf[:300]!r}")
                return None
        head_bytes, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head_bytes.decode("latin-1").split("\r\n")
        m = re.match(r"^(HTTP/\d\.\d) (\d{3})(?: (.*))?$", lines[0])
        assert m, f"bad status line {lines[0]!r}"
        version, status, reason = m.group(1), int(m.group(2)), m.group(3) or ""
        header_list = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            assert sep, f"bad response header line {line!r}"
            header_list.append((name.strip(), value.strip()))
        resp = RawResponse(version, status, reason, header_list, b"")
        if head or status < 200 or status in (204, 304):
            return resp
        if "chunked" in resp.headers.get("Transfer-Encoding", "").lower():
            body = b""
            while True:
                size = int(self._line().split(b";")[0].strip(), 16)
                if size == 0:
                    while self._line() != b"":
                        pass
                    break
                self._need(size + 2)
                body += self.buf[:size]
                self.buf = self.buf[size + 2:]
            resp.content = body
        elif "Content-Length" in resp.headers:
            n = int(resp.headers["Content-Length"])
            self._need(n)
            resp.content, self.buf = self.buf[:n], self.buf[n:]
        else:
            while self._fill():
                pass
            resp.content, self.buf = self.buf, b""
        return resp

    def final_response(self, head=False):
        """Like read_response but skips 1xx interim responses."""
        while True:
            resp = self.read_response(head=head)
            if resp is None or resp.status_code >= 200:
                return resp

    def wait_closed(self, timeout=2.0):
        """True once the server has closed (EOF or reset) within `timeout`. Bytes that arrive meanwhile are kept in
        self.buf so a test can assert there were none."""
        if self.eof:
            return True
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.sock.settimeout(left)
                if not self._fill():
                    return True
        except (socket.timeout, TimeoutError):
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def request_bytes(method, path, body=None, headers=None, version="HTTP/1.1", host="127.0.0.1"):
    """Build one request. `body` may be bytes, str or a dict (sent as JSON); Content-Length is added for a body
    unless `headers` already names Content-Length or Transfer-Encoding."""
    if isinstance(body, dict):
        body = json_text(body)
    if isinstance(body, str):
        body = body.encode()
    hdrs = {"Host": host}
    hdrs.update(headers or {})
    lower = {k.lower() for k in hdrs}
    if body is not None and "content-length" not in lower and "transfer-encoding" not in lower:
        hdrs["Content-Length"] = str(len(body))
    head = f"{method} {path} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    return head.encode("latin-1") + (body or b"")


def raw_exchange(port, data, source=None, timeout=3.0, head=False):
    """Open a connection, send `data`, read one final response. Returns (response or None, conn)."""
    conn = RawConn(port, source=source, timeout=timeout)
    conn.try_send(data)
    return conn.final_response(head=head), conn


def chunked(*pieces):
    """Encode pieces (bytes/str) as a chunked body, with the terminating zero chunk."""
    out = b""
    for p in pieces:
        if isinstance(p, str):
            p = p.encode()
        out += f"{len(p):x}\r\n".encode() + p + b"\r\n"
    return out + b"0\r\n\r\n"


# ---------------------------------------------------------------------------------------------------------------
# Assertions


def media_type(resp):
    return resp.headers.get("Content-Type", "").split(";")[0].strip().lower()


def assert_cors(resp, origin="*"):
    """The CORS headers of `origin`; origin=None: none at all (admin routes)."""
    if origin is None:
        assert not any(h.lower().startswith("access-control-") for h in resp.headers), resp.headers
        return
    assert resp.headers.get("Access-Control-Allow-Origin") == origin, resp.headers
    # the reference's CORS middleware sent these on every response, not only on preflights
    assert resp.headers.get("Access-Control-Allow-Headers") == REFERENCE_ALLOW_HEADERS, resp.headers
    assert resp.headers.get("Access-Control-Allow-Methods") == REFERENCE_ALLOW_METHODS, resp.headers
    assert resp.headers.get("Access-Control-Expose-Headers") == "Retry-After", resp.headers


def assert_json(resp, status, text, origin="*"):
    """Exact status, application/json, exact (compact) body text and the CORS headers."""
    assert resp is not None, "connection closed without a response"
    assert (resp.status_code, resp.text) == (status, text), f"{resp.status_code} {resp.text!r}"
    assert media_type(resp) == "application/json", resp.headers
    assert_cors(resp, origin)


def assert_error(resp, status, code, origin="*"):
    assert_json(resp, status, json.dumps({"error": code}, separators=(",", ":")), origin)


def assert_serving(daemon):
    """The daemon still answers a fresh client normally."""
    r = requests.get(daemon.url + "/", timeout=3)
    assert r.status_code == 200 and r.text == HEALTH_LINE, (r.status_code, r.text)


# ---------------------------------------------------------------------------------------------------------------
# REST wrappers


class Api:
    """Thin wrapper over the pairing REST API. Bodies given as dict are sent as compact JSON (Raw allowed); str and
    bytes bodies are sent verbatim."""

    def __init__(self, base_url, session=None, timeout=10):
        self.base = base_url
        self.s = session or requests.Session()
        self.timeout = timeout

    def request(self, method, path, body=None, headers=None, **kw):
        hdrs = {}
        if isinstance(body, dict):
            body = json_text(body)
        if isinstance(body, str):
            body = body.encode()
        if body is not None:
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        return self.s.request(method, self.base + path, data=body, headers=hdrs, timeout=self.timeout, **kw)

    def post(self, path, body=None, headers=None):
        return self.request("POST", path, body, headers)

    def create(self, joinid, client1, expires=60):
        return self.post("/api/rooms", {"joinid": joinid, "client1": client1, "expiresInSeconds": expires})

    def accept(self, joinid, client2):
        return self.post("/api/rooms/accept", {"joinid": joinid, "client2": client2})

    def check(self, joinid, client1):
        return self.post("/api/rooms/check", {"joinid": joinid, "client1": client1})

    def get_room(self, roomid):
        return self.s.get(self.base + "/api/rooms", params={"roomid": roomid}, timeout=self.timeout)

    def delete_room(self, roomid):
        return self.request("DELETE", "/api/rooms", {"roomid": roomid})

    def purge(self, body):
        return self.post("/api/user/purge", body)

    # Asserting shortcuts -------------------------------------------------------------------------------------

    def created(self, joinid, client1, expires=60):
        """Create and assert 201 with the exact body; returns exp as POSIX seconds."""
        r = self.create(joinid, client1, expires)
        assert r.status_code == 201, (r.status_code, r.text)
        m = CREATE_RE.match(r.text)
        assert m, r.text
        assert media_type(r) == "application/json"
        return parse_iso_ms(m.group(1))

    def accepted(self, joinid, client2):
        r = self.accept(joinid, client2)
        assert r.status_code == 200, (r.status_code, r.text)
        m = ROOMID_RE.match(r.text)
        assert m, r.text
        return m.group(1)

    def checked(self, joinid, client1):
        r = self.check(joinid, client1)
        assert r.status_code == 200, (r.status_code, r.text)
        m = ROOMID_RE.match(r.text)
        assert m, r.text
        return m.group(1)

    def pair(self, client1, client2, joinid=None):
        """create -> accept -> check; asserts both sides learn the same room. Returns (joinid, roomid)."""
        joinid = joinid or next_joinid()
        self.created(joinid, client1)
        roomid = self.accepted(joinid, client2)
        assert self.checked(joinid, client1) == roomid
        return joinid, roomid


# ---------------------------------------------------------------------------------------------------------------
# Minimal WebSocket client (RFC 6455 text frames only), enough to put members into signaling rooms.


class WsClient:
    def __init__(self, port, path="/ws", source=None, timeout=3.0):
        self.conn = RawConn(port, source=source, timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.conn.send(request_bytes("GET", path, headers={
            "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": key,
            "Sec-WebSocket-Version": "13"}, host=f"127.0.0.1:{port}"))
        resp = self.conn.read_response(head=True)
        assert resp is not None and resp.status_code == 101, resp

    def send_json(self, obj):
        payload = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x81, 0x80 | n)
        else:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.conn.send(header + mask + masked)

    def recv_json(self):
        """Next text/binary message as JSON; other frames (ping, pong) are skipped."""
        c = self.conn
        while True:
            c._need(2)
            b0, b1 = c.buf[0], c.buf[1]
            n, off = b1 & 0x7F, 2
            if n == 126:
                c._need(4)
                n, off = struct.unpack("!H", c.buf[2:4])[0], 4
            elif n == 127:
                c._need(10)
                n, off = struct.unpack("!Q", c.buf[2:10])[0], 10
            c._need(off + n)
            payload, c.buf = c.buf[off:off + n], c.buf[off + n:]
            if b0 & 0x0F in (1, 2):
                return json.loads(payload)
            if b0 & 0x0F == 8:
                raise AssertionError(f"websocket closed: {payload!r}")

    def recv_type(self, type_):
        msg = self.recv_json()
        assert msg.get("type") == type_, msg
        return msg

    def close(self):
        self.conn.close()


# ---------------------------------------------------------------------------------------------------------------
# Prometheus text format


_SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$")
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class Metrics:
    def __init__(self, text):
        self.text = text
        self.help = {}
        self.types = {}
        self.samples = {}  # (name, frozenset(labels.items())) -> value
        for line in text.splitlines():
            if not line.strip():
                continue
            if line.startswith("# HELP "):
                name, _, doc = line[7:].partition(" ")
                self.help[name] = doc
            elif line.startswith("# TYPE "):
                name, _, typ = line[7:].partition(" ")
                self.types[name] = typ.strip()
            elif line.startswith("#"):
                continue
            else:
                m = _SAMPLE_RE.match(line)
                assert m, f"bad metrics line {line!r}"
                labels = frozenset(_LABEL_RE.findall(m.group(3) or ""))
                self.samples[(m.group(1), labels)] = float(m.group(4))

    def family(self, sample_name):
        """The declared family of a sample name (histogram suffixes stripped when needed)."""
        if sample_name in self.types:
            return sample_name
        for suffix in ("_bucket", "_sum", "_count", "_total"):
            if sample_name.endswith(suffix) and sample_name[: -len(suffix)] in self.types:
                return sample_name[: -len(suffix)]
        return None

    def type_of(self, sample_name):
        fam = self.family(sample_name)
        return self.types.get(fam) if fam else None

    def value(self, key):
        return self.samples.get(key, 0.0)


def metric_deltas(before, after):
    """{(name, labels): after - before} for every sample present after."""
    return {key: value - before.value(key) for key, value in after.samples.items()}


def lock_database(path, attempts=100):
    """Take SQLite's write lock on the daemon's database from this process (BEGIN EXCLUSIVE); returns the open
    connection. The caller ends it with con.execute("COMMIT") and con.close()."""
    con = sqlite3.connect(str(path), timeout=0, isolation_level=None)
    for _ in range(attempts):
        try:
            con.execute("BEGIN EXCLUSIVE")
            return con
        except sqlite3.OperationalError:
            time.sleep(0.02)
    con.close()
    raise AssertionError("could not lock the daemon's database")
