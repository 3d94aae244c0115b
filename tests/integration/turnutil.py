# coturn test helpers: free loopback ports, a minimal STUN/TURN client, and wrappers for turnserver, its CLI,
# turnutils_peer and turnutils_uclient.
"""Helpers shared by test_turn_coturn.py and tests/load/coturn_login_bench.py.

Everything runs on 127.0.0.1. Every process started here is a `subprocess.Popen` owned by the object that started
it, and `stop()` ends exactly that process (SIGTERM, then SIGKILL), so a fixture can always clean up after a
failing test.

`TurnClient` speaks just enough STUN/TURN (RFC 5389/5766) to allocate with long-term credentials, refresh, create
permissions and exchange Send/Data indications, and it reports the exact error code coturn answers with. The
login benchmark times its authenticated Allocate round trip.

`Uclient` runs the real `turnutils_uclient` and timestamps its once-a-second progress lines
(`start_mclient: ... tot_send_msgs=S, tot_recv_msgs=R ...`) as they arrive. uclient echoes its messages through
the relay off a `turnutils_peer`, so R stops growing while S keeps growing as soon as coturn has ended the relay
session: that is the observable for "a live session was ended".
"""
import base64
import copy
import hashlib
import hmac
import os
import random
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import zlib
from pathlib import Path

TURNSERVER = os.environ.get("TURNSERVER", "/usr/bin/turnserver")
UCLIENT = os.environ.get("TURNUTILS_UCLIENT", "/usr/bin/turnutils_uclient")
PEER = os.environ.get("TURNUTILS_PEER", "/usr/bin/turnutils_peer")
LOOPBACK = "127.0.0.1"


def coturn_available():
    return all(shutil.which(p) for p in (TURNSERVER, UCLIENT, PEER))


# ---------------------------------------------------------------------------------------------------------------
# Ports


def _bindable(port, udp=True, tcp=True):
    kinds = ([socket.SOCK_DGRAM] if udp else []) + ([socket.SOCK_STREAM] if tcp else [])
    socks = []
    try:
        for kind in kinds:
            s = socket.socket(socket.AF_INET, kind)
            socks.append(s)
            if kind == socket.SOCK_STREAM:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((LOOPBACK, port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def free_port(count=1, udp=True, tcp=True):
    """A port P on 127.0.0.1 such that P..P+count-1 are free for the given protocols right now."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM) as s:
            s.bind((LOOPBACK, 0))
            base = s.getsockname()[1]
        if base + count - 1 <= 65535 and all(_bindable(base + i, udp, tcp) for i in range(count)):
            return base
    raise AssertionError("no free loopback port found")


def free_relay_range(size=64):
    """(min_port, max_port) of `size` UDP ports below the kernel's ephemeral range, all free right now. coturn skips
    a relay port that turns out to be taken, so a later collision only costs it a retry."""
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    for _ in range(200):
        low = rng.randrange(20000, 32000 - size)
        if all(_bindable(p, udp=True, tcp=False) for p in range(low, low + size)):
            return low, low + size - 1
    raise AssertionError("no free relay port range found")


# ---------------------------------------------------------------------------------------------------------------
# STUN / TURN codec (RFC 5389, RFC 5766), IPv4 only

MAGIC_COOKIE = 0x2112A442

BINDING, ALLOCATE, REFRESH, SEND, DATA, CREATE_PERMISSION = 0x001, 0x003, 0x004, 0x006, 0x007, 0x008
REQUEST, INDICATION, SUCCESS, ERROR = 0x000, 0x010, 0x100, 0x110

ATTR_USERNAME = 0x0006
ATTR_MESSAGE_INTEGRITY = 0x0008
ATTR_ERROR_CODE = 0x0009
ATTR_LIFETIME = 0x000D
ATTR_XOR_PEER_ADDRESS = 0x0012
ATTR_DATA = 0x0013
ATTR_REALM = 0x0014
ATTR_NONCE = 0x0015
ATTR_XOR_RELAYED_ADDRESS = 0x0016
ATTR_REQUESTED_TRANSPORT = 0x0019
ATTR_XOR_MAPPED_ADDRESS = 0x0020
ATTR_FINGERPRINT = 0x8028

UDP_TRANSPORT = 17


def _pad4(n):
    return (4 - n % 4) % 4


def encode_message(method, cls, tid, attrs, key=None, fingerprint=True):
    """STUN message bytes. `attrs` is a list of (type, value bytes); with `key`, MESSAGE-INTEGRITY is appended
    (HMAC-SHA1 over the message with its length already covering the attribute), then FINGERPRINT."""
    body = b""
    for atype, value in attrs:
        body += struct.pack("!HH", atype, len(value)) + value + b"\0" * _pad4(len(value))
    msg_type = method | cls

    def header(length):
        return struct.pack("!HHI", msg_type, length, MAGIC_COOKIE) + tid

    if key is not None:
        mac = hmac.new(key, header(len(body) + 24) + body, hashlib.sha1).digest()
        body += struct.pack("!HH", ATTR_MESSAGE_INTEGRITY, 20) + mac
    if fingerprint:
        crc = zlib.crc32(header(len(body) + 8) + body) ^ 0x5354554E
        body += struct.pack("!HHI", ATTR_FINGERPRINT, 4, crc)
    return header(len(body)) + body


class StunMessage:
    def __init__(self, msg_type, tid, attrs):
        self.msg_type = msg_type
        self.tid = tid
        self.attrs = attrs  # list of (type, value bytes), in order

    @property
    def method(self):
        return self.msg_type & 0x3EEF

    @property
    def cls(self):
        return self.msg_type & 0x0110

    def get(self, atype):
        for t, v in self.attrs:
            if t == atype:
                return v
        return None

    def error_code(self):
        v = self.get(ATTR_ERROR_CODE)
        if v is None or len(v) < 4:
            return None, ""
        return (v[2] & 0x07) * 100 + v[3], v[4:].decode("utf-8", errors="replace")


def decode_message(data):
    """One STUN message from `data` (exactly its bytes), or None if it is not STUN."""
    if len(data) < 20:
        return None
    msg_type, length, cookie = struct.unpack("!HHI", data[:8])
    if cookie != MAGIC_COOKIE or msg_type & 0xC000 or len(data) < 20 + length:
        return None
    attrs, off = [], 20
    while off + 4 <= 20 + length:
        atype, alen = struct.unpack("!HH", data[off:off + 4])
        attrs.append((atype, data[off + 4:off + 4 + alen]))
        off += 4 + alen + _pad4(alen)
    return StunMessage(msg_type, data[8:20], attrs)


def xor_address(ip, port):
    x_port = port ^ (MAGIC_COOKIE >> 16)
    x_ip = struct.unpack("!I", socket.inet_aton(ip))[0] ^ MAGIC_COOKIE
    return struct.pack("!BBHI", 0, 1, x_port, x_ip)


def parse_xor_address(value):
    if value is None or len(value) < 8:
        return None
    _, family, x_port, x_ip = struct.unpack("!BBHI", value[:8])
    if family != 1:
        return None
    return socket.inet_ntoa(struct.pack("!I", x_ip ^ MAGIC_COOKIE)), x_port ^ (MAGIC_COOKIE >> 16)


def long_term_key(username, realm, password):
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).digest()


def rest_credential(secret, username):
    """coturn's TURN REST API password: base64(HMAC-SHA1(secret, username))."""
    return base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()


class AllocateResult:
    def __init__(self, ok, code=None, reason="", relayed=None, rtt=None):
        self.ok = ok
        self.code = code          # STUN error code of the authenticated attempt (None on success)
        self.reason = reason
        self.relayed = relayed    # (ip, port) on success
        self.rtt = rtt            # seconds: authenticated Allocate sent -> its answer received

    def __repr__(self):
        return f"AllocateResult(ok={self.ok}, code={self.code}, reason={self.reason!r}, relayed={self.relayed})"


class TurnClient:
    """One client 5-tuple (so one coturn session) over UDP or TCP. Long-term authentication: the first request is
    sent without credentials, the 401 supplies REALM and NONCE, and everything after that is signed."""

    def __init__(self, port, host=LOOPBACK, transport="udp", timeout=3.0, retransmit=True):
        self.server = (host, port)
        self.transport = transport
        self.timeout = timeout
        self.retransmit = retransmit and transport == "udp"
        kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
        self.sock = socket.socket(socket.AF_INET, kind)
        self.sock.settimeout(timeout)
        self.sock.connect(self.server)
        if transport == "tcp":
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rbuf = b""
        self.data_indications = []
        self.username = self.realm = self.nonce = self.key = None
        self.allocated = False

    # transport ------------------------------------------------------------------------------------------------

    def _send(self, data):
        self.sock.sendall(data) if self.transport == "tcp" else self.sock.send(data)

    def _recv_message(self, deadline):
        """The next STUN message, or None at the deadline."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                if self.transport == "udp":
                    msg = decode_message(self.sock.recv(65536))
                    if msg is not None:
                        return msg
                    continue
                while True:
                    if len(self.rbuf) >= 20:
                        length = struct.unpack("!H", self.rbuf[2:4])[0]
                        if len(self.rbuf) >= 20 + length:
                            raw, self.rbuf = self.rbuf[:20 + length], self.rbuf[20 + length:]
                            msg = decode_message(raw)
                            if msg is not None:
                                return msg
                            continue
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        raise ConnectionError("TURN server closed the TCP connection")
                    self.rbuf += chunk
            except (socket.timeout, TimeoutError):
                return None

    def transact(self, method, attrs, signed=True):
        """Send a request and return the matching response (None on timeout). UDP requests are retransmitted."""
        tid = os.urandom(12)
        full = list(attrs)
        key = None
        if signed and self.key is not None:
            full += [(ATTR_USERNAME, self.username.encode()), (ATTR_REALM, self.realm.encode()),
                     (ATTR_NONCE, self.nonce)]
            key = self.key
        data = encode_message(method, REQUEST, tid, full, key=key)
        deadline = time.monotonic() + self.timeout
        retransmit = [0.25, 0.75, 1.75] if self.retransmit else []
        start = time.monotonic()
        self._send(data)
        while True:
            wait_until = deadline
            if retransmit:
                wait_until = min(deadline, start + retransmit[0])
            msg = self._recv_message(wait_until)
            if msg is None:
                if time.monotonic() >= deadline:
                    return None
                retransmit.pop(0)
                self._send(data)
                continue
            if msg.method == DATA and msg.cls == INDICATION:
                self.data_indications.append(msg)
                continue
            if msg.tid == tid:
                return msg

    def _signed(self, method, attrs):
        """A signed request; a 438 (stale nonce) is retried once with the fresh nonce."""
        resp = self.transact(method, attrs)
        if resp is not None and resp.cls == ERROR and resp.error_code()[0] == 438:
            self.nonce = resp.get(ATTR_NONCE) or self.nonce
            resp = self.transact(method, attrs)
        return resp

    # TURN -----------------------------------------------------------------------------------------------------

    def binding(self):
        return self.transact(BINDING, [], signed=False)

    def allocate(self, username, password, lifetime=None):
        attrs = [(ATTR_REQUESTED_TRANSPORT, struct.pack("!B3x", UDP_TRANSPORT))]
        if lifetime is not None:
            attrs.append((ATTR_LIFETIME, struct.pack("!I", lifetime)))
        first = self.transact(ALLOCATE, attrs, signed=False)
        if first is None:
            return AllocateResult(False, code=None, reason="no answer to the unauthenticated Allocate")
        if first.cls == SUCCESS:
            self.allocated = True
            return AllocateResult(True, relayed=parse_xor_address(first.get(ATTR_XOR_RELAYED_ADDRESS)))
        code, reason = first.error_code()
        if code != 401 or first.get(ATTR_REALM) is None or first.get(ATTR_NONCE) is None:
            return AllocateResult(False, code=code, reason=reason)
        self.username = username
        self.realm = first.get(ATTR_REALM).decode()
        self.nonce = first.get(ATTR_NONCE)
        self.key = long_term_key(username, self.realm, password)
        start = time.perf_counter()
        resp = self.transact(ALLOCATE, attrs)
        rtt = time.perf_counter() - start
        if resp is not None and resp.cls == ERROR and resp.error_code()[0] == 438:
            self.nonce = resp.get(ATTR_NONCE) or self.nonce
            start = time.perf_counter()
            resp = self.transact(ALLOCATE, attrs)
            rtt = time.perf_counter() - start
        if resp is None:
            return AllocateResult(False, code=None, reason="no answer to the authenticated Allocate")
        if resp.cls == SUCCESS:
            self.allocated = True
            return AllocateResult(True, relayed=parse_xor_address(resp.get(ATTR_XOR_RELAYED_ADDRESS)), rtt=rtt)
        code, reason = resp.error_code()
        return AllocateResult(False, code=code, reason=reason, rtt=rtt)

    def refresh(self, lifetime):
        """(ok, error code)."""
        resp = self._signed(REFRESH, [(ATTR_LIFETIME, struct.pack("!I", lifetime))])
        if resp is None:
            return False, None
        return resp.cls == SUCCESS, resp.error_code()[0]

    def create_permission(self, peer_ip):
        resp = self._signed(CREATE_PERMISSION, [(ATTR_XOR_PEER_ADDRESS, xor_address(peer_ip, 0))])
        if resp is None:
            return False, None
        return resp.cls == SUCCESS, resp.error_code()[0]

    def send_to(self, peer, payload):
        """A Send indication carrying `payload` to peer (ip, port)."""
        data = encode_message(SEND, INDICATION, os.urandom(12),
                              [(ATTR_XOR_PEER_ADDRESS, xor_address(*peer)), (ATTR_DATA, payload)])
        self._send(data)

    def recv_data(self, timeout=1.0):
        """The payload of the next Data indication, or None within `timeout`."""
        if self.data_indications:
            return self.data_indications.pop(0).get(ATTR_DATA)
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self._recv_message(deadline)
            except (ConnectionError, OSError):
                return None
            if msg is None:
                return None
            if msg.method == DATA and msg.cls == INDICATION:
                return msg.get(ATTR_DATA)

    def close(self):
        """Release the allocation (Refresh lifetime 0, best effort) and close the socket."""
        if self.allocated:
            try:
                self.timeout = 0.5
                self.refresh(0)
            except OSError:
                pass
            self.allocated = False
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def try_allocate(port, username, password, transport="udp"):
    """One fresh session: allocate, release, and return the AllocateResult. coturn deletes a released allocation
    only at its next timer tick, so if the kernel hands out the local port of a session that is still winding down
    (437 Allocation Mismatch), the attempt is repeated from another port."""
    held = []
    try:
        for _ in range(3):
            client = TurnClient(port, transport=transport)
            held.append(client)
            result = client.allocate(username, password)
            if result.code != 437:
                return result
        return result
    finally:
        for client in held:
            client.close()


# ---------------------------------------------------------------------------------------------------------------
# Processes


def _stop_process(proc, timeout=5.0):
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


class _LineReader:
    """Reads a process's merged stdout/stderr in a thread; keeps (monotonic time, line) and optionally mirrors the
    lines into a file."""

    def __init__(self, proc, mirror_path=None):
        self.lines = []
        self.lock = threading.Lock()
        self.mirror = open(mirror_path, "a", encoding="utf-8", errors="replace") if mirror_path else None
        self.thread = threading.Thread(target=self._run, args=(proc,), daemon=True)
        self.thread.start()

    def _run(self, proc):
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            with self.lock:
                self.lines.append((time.monotonic(), line))
            if self.mirror:
                self.mirror.write(line + "\n")
                self.mirror.flush()
        proc.stdout.close()
        if self.mirror:
            self.mirror.close()

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def text(self):
        return "\n".join(line for _, line in self.snapshot())


class Coturn:
    """turnserver started from a config file, on loopback. Besides the file it gets only what a sandboxed test run
    needs: `--log-file=stdout` (the log is captured, no /var/log file) and `--pidfile` in the work dir (not
    /var/run/turnserver.pid)."""

    def __init__(self, workdir, conf_path, listening_port, cli_port, cli_password):
        self.workdir = Path(workdir)
        self.conf_path = Path(conf_path)
        self.port = listening_port
        self.cli_port = cli_port
        self.cli_password = cli_password
        self.log_path = self.workdir / "turnserver.log"
        self.pid_path = self.workdir / "turnserver.pid"
        self.proc = None
        self.reader = None
        self.starts = 0

    def command(self):
        return [TURNSERVER, "-c", str(self.conf_path), "--log-file=stdout", f"--pidfile={self.pid_path}"]

    def start(self, timeout=15.0):
        self.starts += 1
        with open(self.log_path, "a") as f:
            f.write(f"===== start {self.starts}: {' '.join(self.command())}\n")
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.reader = _LineReader(self.proc, self.log_path)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"turnserver exited with {self.proc.returncode}:\n{self.log()[-4000:]}")
            if self._answers_stun() and self._cli_listening():
                return self
            time.sleep(0.05)
        raise AssertionError(f"turnserver did not come up on 127.0.0.1:{self.port}:\n{self.log()[-4000:]}")

    def _answers_stun(self):
        try:
            with TurnClient(self.port, timeout=0.3) as c:
                resp = c.binding()
                return resp is not None and resp.cls == SUCCESS
        except OSError:
            return False

    def _cli_listening(self):
        try:
            with socket.create_connection((LOOPBACK, self.cli_port), timeout=0.3):
                return True
        except OSError:
            return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        _stop_process(self.proc)
        if self.reader:
            self.reader.thread.join(timeout=5)

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def current_log(self):
        """The log of the running (last started) instance only."""
        return self.reader.text() if self.reader else ""

    # CLI -----------------------------------------------------------------------------------------------------

    def cli(self, commands, timeout=3.0):
        """Run CLI commands (telnet protocol, password first); returns each command's output."""
        with socket.create_connection((LOOPBACK, self.cli_port), timeout=timeout) as s:
            buf = bytearray()

            def read_until(marker):
                deadline = time.monotonic() + timeout
                while marker not in buf:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise AssertionError(f"coturn CLI: no {marker!r} within {timeout}s; got {bytes(buf)!r}")
                    s.settimeout(left)
                    chunk = s.recv(65536)
                    if not chunk:
                        raise AssertionError(f"coturn CLI closed the connection; got {bytes(buf)!r}")
                    buf.extend(chunk)
                text = bytes(buf).decode("utf-8", errors="replace")
                buf.clear()
                return text

            read_until(b"password:")
            s.sendall(self.cli_password.encode() + b"\r\n")
            read_until(b"> ")
            outputs = []
            for command in commands:
                s.sendall(command.encode() + b"\r\n")
                outputs.append(read_until(b"> "))
            s.sendall(b"quit\r\n")
            return outputs

    def sessions(self, pattern):
        """[(session id, username)] of the live sessions whose username contains `pattern` (CLI `psp`)."""
        out = self.cli([f"psp {pattern}"])[0]
        return re.findall(r"id=(\d+), user <([^>]*)>", out)

    def forced_cancels(self):
        """Session ids coturn logged as forcefully canceled (CLI `cs`) since this instance started."""
        return re.findall(r"Session (\d+) to be forcefully canceled", self.current_log())


class Peer:
    """turnutils_peer: a UDP echo server on `port` and `port + 1`."""

    def __init__(self, workdir, port=None):
        self.port = port or free_port(count=2, udp=True, tcp=False)
        self.log_path = Path(workdir) / f"peer-{self.port}.log"
        self.proc = subprocess.Popen([PEER, "-L", LOOPBACK, "-p", str(self.port)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.reader = _LineReader(self.proc, self.log_path)
        deadline = time.monotonic() + 5
        while _bindable(self.port, udp=True, tcp=False):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"turnutils_peer did not start:\n{self.reader.text()}")
            time.sleep(0.02)

    def stop(self):
        _stop_process(self.proc)


PROGRESS_RE = re.compile(r"start_mclient: (?:msz=\d+, )?tot_send_msgs=(\d+), tot_recv_msgs=(\d+)")
LOST_RE = re.compile(r"Total lost packets (\d+)")


class Uclient:
    """turnutils_uclient relaying `messages` messages (100 bytes, one every 20 ms; it first spends 1-5 s
    setting up) through coturn to a turnutils_peer, which echoes them back.

    Flags: -u/-w credentials, -p TURN port, -e/-r peer address and port, -n message count, -c (no RTCP session),
    -t (TCP to the TURN server; the relay is UDP either way); `extra` adds more, e.g. -S (TLS, or DTLS without -t)
    and -E <CA file>."""

    def __init__(self, workdir, port, username, password, peer_port, messages=20, tcp=False, name="uclient",
                 extra=()):
        self.cmd = [UCLIENT, "-c", "-u", username, "-w", password, "-p", str(port), "-e", LOOPBACK,
                    "-r", str(peer_port), "-n", str(messages)] + (["-t"] if tcp else []) + list(extra) + [LOOPBACK]
        self.messages = messages
        self.log_path = Path(workdir) / f"{name}.log"
        Path(self.log_path).write_text(" ".join(self.cmd) + "\n")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.reader = _LineReader(self.proc, self.log_path)

    def progress(self):
        """[(monotonic time, sent, received)] from the progress lines so far."""
        out = []
        for t, line in self.reader.snapshot():
            m = PROGRESS_RE.search(line)
            if m:
                out.append((t, int(m.group(1)), int(m.group(2))))
        return out

    def counts_at(self, when):
        """(sent, received) as of the last progress line printed at or before `when` ((0, 0) before any)."""
        counts = (0, 0)
        for t, sent, received in self.progress():
            if t > when:
                break
            counts = (sent, received)
        return counts

    def wait_receiving(self, at_least=25, timeout=15.0):
        """Wait until uclient reports `at_least` echoed messages; returns the time it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            prog = self.progress()
            if prog and prog[-1][2] >= at_least:
                return prog[-1][0]
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"uclient did not start relaying:\n{self.output()[-3000:]}")

    def wait(self, timeout=30.0):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"uclient still running after {timeout}s:\n{self.output()[-3000:]}")
        finally:
            self.reader.thread.join(timeout=5)

    def lost(self):
        m = LOST_RE.search(self.output())
        return int(m.group(1)) if m else None

    def output(self):
        return self.reader.text()

    def stop(self):
        _stop_process(self.proc, timeout=2.0)


def random_hex(nbytes):
    return secrets.token_hex(nbytes)


# ---------------------------------------------------------------------------------------------------------------
# turnpiked + coturn on one database


REALM = "turnpike.test"


class Room:
    def __init__(self, roomid, client1, client2):
        self.roomid = roomid
        self.client1 = client1
        self.client2 = client2


class Credentials:
    """One answer of POST /api/rooms/turn."""

    def __init__(self, body):
        self.body = body
        entries = [e for e in body["iceServers"] if "username" in e]
        assert len(entries) == 1, body
        self.urls = entries[0]["urls"]
        self.username = entries[0]["username"]
        self.credential = entries[0]["credential"]
        self.ttl = body["ttl"]
        self.expires_at = body["expiresAt"]

    def with_credential(self, credential):
        """A copy with another password (for negative tests)."""
        other = copy.copy(self)
        other.credential = credential
        return other

    def url_for(self, transport):
        for url in self.urls:
            if url.startswith("turn:") and url.endswith(f"?transport={transport}"):
                return url
        raise AssertionError(f"no turn: URL with transport={transport} in {self.urls}")

    def port_for(self, transport):
        m = re.match(r"^turn:127\.0\.0\.1:(\d+)\?transport=", self.url_for(transport))
        assert m, self.urls
        return int(m.group(1))


def turn_settings(mode, turn_port, tls_port, cli_port, cli_password, relay_range):
    """The [turn] section (plus fast sweeps) of a turnpike.conf for a loopback-only test stack."""
    urls = f"turn:{LOOPBACK}:{turn_port}?transport=udp,turn:{LOOPBACK}:{turn_port}?transport=tcp"
    return {
        "pairing.sweep_interval_seconds": 0.2,
        "turn.mode": mode,
        "turn.realm": REALM,
        "turn.urls": urls,
        "turn.cli_address": f"{LOOPBACK}:{cli_port}",
        "turn.cli_password": cli_password,
        "turn.listening_ip": LOOPBACK,
        "turn.listening_port": turn_port,
        "turn.tls_listening_port": tls_port,
        "turn.min_port": relay_range[0],
        "turn.max_port": relay_range[1],
        "turn.denied_peer_ips": '""',
        "turn.allow_loopback_peers": True,
        "turn.kill_retry_seconds": 0.5,
    }


class TurnStack:
    """A running turnpiked with a [turn] section plus the coturn rendered from the same turnpike.conf (so on the
    same database file), and the peers and uclients a test starts. close() stops every process it started."""

    def __init__(self, daemon, workdir, turnpikectl, mode, turn_port, cli_port, cli_password):
        from httputil import Api  # the integration tests' REST wrapper

        self.daemon = daemon
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.turnpikectl = turnpikectl
        self.mode = mode
        self.turn_port = turn_port
        self.api = Api(daemon.url)
        self.conf_path = self.workdir / "turnserver.conf"
        self.coturn = Coturn(self.workdir, self.conf_path, turn_port, cli_port, cli_password)
        self.processes = []
        self.closers = []
        self._rooms = 0
        self.issued = {}  # roomid -> usernames handed out for it (usernames are opaque: only this maps them back)

    def render_coturn_config(self):
        out = subprocess.run([self.turnpikectl, "coturn-config", "--config", str(self.daemon.config_path)],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, f"turnpikectl coturn-config failed ({out.returncode}): {out.stderr}"
        text = out.stdout
        expected_auth = "use-auth-secret" if self.mode == "rest" else "lt-cred-mech"
        lines = text.splitlines()
        assert expected_auth in lines, text
        assert f"userdb={self.daemon.db_path}" in lines, text
        self.conf_path.write_text(text)
        return text

    def start_coturn(self):
        self.render_coturn_config()
        return self.coturn.start()

    # REST -----------------------------------------------------------------------------------------------------

    def room(self, tag=None):
        """A fresh pairing-API room with two devices of its own."""
        self._rooms += 1
        tag = tag or f"r{self._rooms}"
        suffix = random_hex(4)
        c1, c2 = f"{tag}-one-{suffix}", f"{tag}-two-{suffix}"
        _, roomid = self.api.pair(c1, c2)
        return Room(roomid, c1, c2)

    def credentials_response(self, roomid, device):
        return self.api.post("/api/rooms/turn", {"roomid": roomid, "deviceId": device})

    def credentials(self, room, slot=1):
        r = self.credentials_response(room.roomid, room.client1 if slot == 1 else room.client2)
        assert r.status_code == 200, (r.status_code, r.text)
        creds = Credentials(r.json())
        self.issued.setdefault(room.roomid, set()).add(creds.username)
        return creds

    def sessions(self, room):
        """[(session id, username)] of coturn's live sessions under the usernames issued for `room`."""
        return [s for username in sorted(self.issued.get(room.roomid, ())) for s in self.coturn.sessions(username)]

    def health(self):
        r = self.api.s.get(self.daemon.url + "/health", timeout=5)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def kills_pending(self):
        return self.health()["turnKillsPending"]

    # processes ------------------------------------------------------------------------------------------------

    def peer(self):
        p = Peer(self.workdir)
        self.processes.append(p)
        return p

    def uclient(self, creds, peer, transport="udp", messages=20, name="uclient"):
        u = Uclient(self.workdir, creds.port_for(transport), creds.username, creds.credential, peer.port,
                    messages=messages, tcp=transport == "tcp", name=name)
        self.processes.append(u)
        return u

    def allocate(self, creds, transport="udp"):
        return try_allocate(creds.port_for(transport), creds.username, creds.credential, transport=transport)

    def close(self):
        for p in reversed(self.processes):
            p.stop()
        self.coturn.stop()
        for closer in self.closers:
            try:
                closer()
            except Exception:  # a websocket that is already gone
                pass
