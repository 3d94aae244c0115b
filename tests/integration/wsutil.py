# WebSocket test helpers: a synchronous wrapper around the `websockets` client and a raw-socket frame codec.
"""Helpers for the WebSocket integration tests.

`WsClient` drives a real third-party client (`websockets` 10.x, legacy asyncio API) from plain synchronous tests.
All clients share one event loop running in a background thread, so a client keeps reading (and answering server
pings) while the test thread sleeps.

`RawWs` speaks the wire protocol by hand over a plain socket, for everything a well-behaved client library
refuses to do: unmasked frames, reserved bits, bad opcodes, fragmented control frames, oversized or invalid
messages, and clients that never answer pings or never read.
"""
import asyncio
import base64
import hashlib
import json
import os
import socket
import struct
import threading
import time

import requests
import websockets

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA


def dumps(obj):
    """Compact JSON as the reference server writes it (JSON.stringify: no spaces, non-ASCII kept as is)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------------------------------------------
# The shared event loop


_loop = None
_loop_lock = threading.Lock()


def _get_loop():
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="ws-test-loop", daemon=True).start()
        return _loop


def run_async(coro, timeout=10.0):
    """Run `coro` on the shared loop and wait for its result from the calling thread."""
    future = asyncio.run_coroutine_threadsafe(coro, _get_loop())
    return future.result(timeout)


# --------------------------------------------------------------------------------------------------------------
# Synchronous client over `websockets`


class WsClient:
    """One WebSocket connection made with the `websockets` library.

    By default the `connected` greeting is read at once: its raw text is in `hello_text`, the parsed object in
    `hello`, and the server's id for this socket in `client_id`.
    """

    def __init__(self, url, read_hello=True, **kwargs):
        self.url = url
        options = dict(ping_interval=None, max_size=None, open_timeout=5, close_timeout=2, max_queue=None)
        options.update(kwargs)

        async def _connect():
            return await websockets.connect(url, **options)

        self.ws = run_async(_connect(), timeout=10)
        self.hello_text = None
        self.hello = None
        self.client_id = None
        if read_hello:
            self.hello_text = self.recv_text()
            self.hello = json.loads(self.hello_text)
            self.client_id = self.hello.get("clientId")

    # sending ----------------------------------------------------------------------------------------------
    def send(self, data):
        """Send a text frame (str) or a binary frame (bytes)."""
        run_async(self.ws.send(data), timeout=10)

    def send_json(self, obj):
        self.send(dumps(obj))

    def send_many(self, messages):
        """Send several messages back to back from one coroutine (no round trip to the test thread between them).
        Stops quietly if the server closes the connection part-way."""

        async def _send_all():
            for message in messages:
                try:
                    await self.ws.send(message)
                except websockets.ConnectionClosed:
                    return

        run_async(_send_all(), timeout=30)

    # receiving --------------------------------------------------------------------------------------------
    def try_recv(self, timeout=2.0):
        """The next message (str for text, bytes for binary), or None if nothing arrives within `timeout`.
        Raises websockets.ConnectionClosed when the connection is closed."""

        async def _recv():
            try:
                return await asyncio.wait_for(self.ws.recv(), timeout)
            except asyncio.TimeoutError:
                return None

        return run_async(_recv(), timeout=timeout + 10)

    def recv(self, timeout=2.0):
        message = self.try_recv(timeout)
        assert message is not None, f"no message within {timeout} s"
        return message

    def recv_text(self, timeout=2.0):
        """The next message, which must be a text frame; returns its raw text."""
        message = self.recv(timeout)
        assert isinstance(message, str), f"expected a text frame, got binary {message!r}"
        return message

    def recv_json(self, timeout=2.0):
        return json.loads(self.recv_text(timeout))

    def drain(self, timeout=0.3):
        """Every message that arrives until `timeout` passes without one."""
        out = []
        while True:
            message = self.try_recv(timeout)
            if message is None:
                return out
            out.append(message)

    def expect_silence(self, seconds=0.3):
        """Assert that no message arrives within `seconds`."""
        message = self.try_recv(seconds)
        assert message is None, f"expected no message, got {message!r}"

    def request(self, obj, timeout=2.0):
        """Send `obj` as JSON and return the raw text of the next message."""
        self.send_json(obj)
        return self.recv_text(timeout)

    def assert_alive(self):
        """The connection is open and answers an application-level ping."""
        assert self.request({"type": "ping"}) == '{"type":"pong"}'

    # control ----------------------------------------------------------------------------------------------
    def ping(self, data=b"", timeout=2.0):
        """Send a WebSocket PING frame and wait for the matching PONG."""

        async def _ping():
            waiter = await self.ws.ping(data)
            await asyncio.wait_for(waiter, timeout)

        run_async(_ping(), timeout=timeout + 10)

    def wait_closed(self, timeout=3.0):
        """Wait until the connection is closed; return the close code received from the server
        (1006 if the TCP connection ended without a close frame)."""

        async def _wait():
            await asyncio.wait_for(self.ws.wait_closed(), timeout)

        try:
            run_async(_wait(), timeout=timeout + 10)
        except asyncio.TimeoutError:
            raise AssertionError(f"connection still open after {timeout} s") from None
        return self.ws.close_code

    @property
    def open(self):
        return self.ws.open

    @property
    def close_code(self):
        return self.ws.close_code

    def close(self, code=1000):
        try:
            run_async(self.ws.close(code), timeout=10)
        except Exception:  # already gone; nothing to clean up
            pass


def connect(daemon, path="/ws", read_hello=True, **kwargs):
    """A WsClient connected to `daemon` on `path` (which may carry a query string)."""
    return WsClient(f"ws://127.0.0.1:{daemon.port}{path}", read_hello=read_hello, **kwargs)


def join(client, room_id):
    """Send join_room and return the raw text of the reply."""
    return client.request({"type": "join_room", "roomId": room_id})


def room_joined(room_id, user_count, is_initiator):
    return dumps({"type": "room_joined", "roomId": room_id, "userCount": user_count, "isInitiator": is_initiator,
                  "ready": user_count == 2})


def room_ready(room_id, is_initiator):
    return dumps({"type": "room_ready", "roomId": room_id, "message": "Both users connected. Ready for WebRTC handshake.",
                  "userCount": 2, "isInitiator": is_initiator})


def error(text):
    return dumps({"type": "error", "error": text})


PEER_LEFT = '{"type":"peer_left","message":"Other user left the room"}'
PEER_DISCONNECTED = '{"type":"peer_disconnected","message":"Other user disconnected"}'
PONG = '{"type":"pong"}'


def pair(daemon, room_id):
    """Two clients A (initiator) and B in `room_id`, with all join traffic consumed."""
    a = connect(daemon)
    assert join(a, room_id) == room_joined(room_id, 1, True)
    b = connect(daemon)
    assert join(b, room_id) == room_joined(room_id, 2, False)
    assert b.recv_text() == room_ready(room_id, False)
    assert a.recv_text() == room_ready(room_id, True)
    return a, b


def assert_serving(daemon):
    """A fresh client connects, is greeted and gets a pong: the daemon still serves."""
    c = connect(daemon)
    assert c.hello["type"] == "connected"
    c.assert_alive()
    c.close()


# --------------------------------------------------------------------------------------------------------------
# REST helpers (pairing API)


def create_room(daemon, client1="device-one", client2="device-two", joinid=None):
    """Create a join code and accept it; return the roomid."""
    joinid = joinid or f"{int.from_bytes(os.urandom(4), 'big') % 1000000:06d}"
    r = requests.post(f"{daemon.url}/api/rooms", json={"joinid": joinid, "client1": client1, "expiresInSeconds": 300},
                      timeout=5)
    assert r.status_code == 201, r.text
    r = requests.post(f"{daemon.url}/api/rooms/accept", json={"joinid": joinid, "client2": client2}, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["roomid"]


# --------------------------------------------------------------------------------------------------------------
# Raw frames


def encode_frame(opcode, payload=b"", fin=True, mask=True, rsv=0, mask_key=None):
    """One WebSocket frame. `rsv` is the 3-bit RSV1..RSV3 value; `mask` False writes an unmasked frame."""
    if isinstance(payload, str):
        payload = payload.encode()
    first = (0x80 if fin else 0) | ((rsv & 0x7) << 4) | (opcode & 0xF)
    n = len(payload)
    mask_bit = 0x80 if mask else 0
    if n < 126:
        header = struct.pack("!BB", first, mask_bit | n)
    elif n < 65536:
        header = struct.pack("!BBH", first, mask_bit | 126, n)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, n)
    if not mask:
        return header + payload
    key = mask_key if mask_key is not None else os.urandom(4)
    return header + key + apply_mask(payload, key)


def apply_mask(payload, key):
    if not payload:
        return b""
    repeated = (key * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


class Frame:
    def __init__(self, fin, rsv, opcode, masked, payload):
        self.fin = fin
        self.rsv = rsv
        self.opcode = opcode
        self.masked = masked
        self.payload = payload

    @property
    def close_code(self):
        """The status code of a close frame (1005 when it has none)."""
        assert self.opcode == OP_CLOSE
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else 1005

    def __repr__(self):
        return f"Frame(fin={self.fin}, opcode={self.opcode:#x}, len={len(self.payload)}, {self.payload[:60]!r})"


class ConnectionEnded(Exception):
    """The server closed the TCP connection (EOF or reset)."""


def read_http_response(sock, deadline):
    """Read an HTTP response head (and a Content-Length body). Returns (status, headers, body, leftover)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = _recv_until(sock, deadline)
        if not chunk:
            raise ConnectionEnded(f"connection closed during the HTTP response head: {buf!r}")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = b""
    if status != 101:
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = _recv_until(sock, deadline)
            if not chunk:
                break
            rest += chunk
        body, rest = rest[:length], rest[length:]
    return status, headers, body, rest


def _recv_until(sock, deadline, size=65536):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("timed out")
    sock.settimeout(remaining)
    try:
        return sock.recv(size)
    except socket.timeout:
        raise TimeoutError("timed out") from None
    except (ConnectionResetError, BrokenPipeError) as e:
        raise ConnectionEnded(str(e)) from None


def http_exchange(port, request, timeout=5.0):
    """Send raw request bytes on a fresh connection; return (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        status, headers, body, _ = read_http_response(sock, time.monotonic() + timeout)
        return status, headers, body


def upgrade_request(path="/ws", key=None, extra_headers=(), version="13", method="GET", include_key=True):
    """The bytes of a WebSocket opening handshake; returns (request, key)."""
    key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade"]
    if include_key:
        lines.append(f"Sec-WebSocket-Key: {key}")
    if version is not None:
        lines.append(f"Sec-WebSocket-Version: {version}")
    lines.extend(extra_headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), key


def accept_value(key):
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


class RawWs:
    """A hand-driven WebSocket connection over a plain TCP socket.

    `rcvbuf` sets SO_RCVBUF before connecting (a small value makes a client that never reads fill up fast);
    `source` is the local address to connect from (e.g. 127.0.0.3).
    After the handshake `hello_text` holds the `connected` greeting when `read_hello` is true.
    """

    def __init__(self, port, path="/ws", extra_headers=(), read_hello=True, rcvbuf=None, timeout=5.0, source=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if source is not None:
            self.sock.bind((source, 0))
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        request, key = upgrade_request(path, extra_headers=extra_headers)
        self.sock.sendall(request)
        status, headers, _, rest = read_http_response(self.sock, time.monotonic() + timeout)
        assert status == 101, f"handshake answered {status}"
        assert headers.get("sec-websocket-accept") == accept_value(key), headers
        self.response_headers = headers
        self.buf = rest
        self.hello_text = None
        if read_hello:
            self.hello_text = self.read_text()

    # sending ----------------------------------------------------------------------------------------------
    def send_raw(self, data):
        self.sock.sendall(data)

    def send_frame(self, opcode, payload=b"", fin=True, mask=True, rsv=0):
        self.sock.sendall(encode_frame(opcode, payload, fin=fin, mask=mask, rsv=rsv))

    def send_text(self, text):
        self.send_frame(OP_TEXT, text.encode() if isinstance(text, str) else text)

    def send_json(self, obj):
        self.send_text(dumps(obj))

    def send_close(self, code=1000, reason=b""):
        self.send_frame(OP_CLOSE, close_payload(code, reason))

    # receiving --------------------------------------------------------------------------------------------
    def _fill(self, n, deadline):
        while len(self.buf) < n:
            chunk = _recv_until(self.sock, deadline)
            if not chunk:
                raise ConnectionEnded("EOF")
            self.buf += chunk

    def read_frame(self, timeout=2.0):
        """The next frame from the server. Raises TimeoutError, or ConnectionEnded on EOF/reset."""
        deadline = time.monotonic() + timeout
        self._fill(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        n = b1 & 0x7F
        pos = 2
        if n == 126:
            self._fill(4, deadline)
            n = struct.unpack("!H", self.buf[2:4])[0]
            pos = 4
        elif n == 127:
            self._fill(10, deadline)
            n = struct.unpack("!Q", self.buf[2:10])[0]
            pos = 10
        masked = bool(b1 & 0x80)
        key = b""
        if masked:
            self._fill(pos + 4, deadline)
            key = self.buf[pos : pos + 4]
            pos += 4
        self._fill(pos + n, deadline)
        payload = self.buf[pos : pos + n]
        self.buf = self.buf[pos + n :]
        if masked:
            payload = apply_mask(payload, key)
        return Frame(bool(b0 & 0x80), (b0 >> 4) & 0x7, b0 & 0xF, masked, payload)

    def read_text(self, timeout=2.0, answer_pings=True):
        """The payload of the next data frame as text; pings are answered (or ignored) on the way."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.read_frame(max(0.0, deadline - time.monotonic()))
            if frame.opcode == OP_PING:
                if answer_pings:
                    self.send_frame(OP_PONG, frame.payload)
                continue
            if frame.opcode == OP_PONG:
                continue
            assert frame.opcode in (OP_TEXT, OP_BINARY) and frame.fin, f"unexpected {frame!r}"
            return frame.payload.decode()

    def read_json(self, timeout=2.0):
        return json.loads(self.read_text(timeout))

    def read_until_close(self, timeout=3.0):
        """Read frames until the server's close frame; return (close_code, frames before it). The close frame is
        not answered. Raises AssertionError if the connection ends or times out without a close frame."""
        deadline = time.monotonic() + timeout
        frames = []
        while True:
            try:
                frame = self.read_frame(max(0.0, deadline - time.monotonic()))
            except ConnectionEnded:
                raise AssertionError(f"connection ended without a close frame after {frames!r}") from None
            except TimeoutError:
                raise AssertionError(f"no close frame within {timeout} s; got {frames!r}") from None
            if frame.opcode == OP_CLOSE:
                assert not frame.masked, "server frames must not be masked"
                return frame.close_code, frames
            frames.append(frame)

    def expect_close(self, code, timeout=3.0):
        """The server sends a close frame with `code` and then ends the TCP connection."""
        got, frames = self.read_until_close(timeout)
        assert got == code, f"close code {got}, expected {code} (frames before: {frames!r})"
        self.expect_eof(timeout)

    def expect_eof(self, timeout=3.0):
        """The server ends the TCP connection within `timeout` (any further frames are discarded)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if not _recv_until(self.sock, deadline):
                    return
            except ConnectionEnded:
                return
            except TimeoutError:
                raise AssertionError(f"TCP connection still open after {timeout} s") from None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
