# Integration tests for the WebSocket transport: handshake, framing, close codes, limits, heartbeat, rates, shutdown.
import json
import threading
import time

import pytest
import requests
import websockets

from wsutil import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    PEER_DISCONNECTED,
    PONG,
    RawWs,
    accept_value,
    assert_serving,
    close_payload,
    connect,
    dumps,
    encode_frame,
    error,
    http_exchange,
    join,
    pair,
    room_joined,
    room_ready,
    upgrade_request,
)

RATE_LIMITED = '{"type":"error","error":"Rate limit exceeded"}'
OPEN_ROOMS = {"signaling.require_known_room": False}


def ping_of_size(n):
    """An application ping message of exactly n bytes."""
    base = '{"type":"ping","pad":""}'
    assert n >= len(base)
    return '{"type":"ping","pad":"' + "x" * (n - len(base)) + '"}'


def settings(**kv):
    out = dict(OPEN_ROOMS)
    out.update({k.replace("__", "."): v for k, v in kv.items()})
    return out


# --------------------------------------------------------------------------------------------------------------
# opening handshake


def test_handshake_accept_and_no_subprotocol_or_extension(daemon):
    raw = RawWs(daemon.port, extra_headers=["Sec-WebSocket-Protocol: chat, superchat",
                                            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"])
    h = raw.response_headers
    assert h["upgrade"].lower() == "websocket"
    assert "upgrade" in h["connection"].lower()
    assert "sec-websocket-protocol" not in h
    assert "sec-websocket-extensions" not in h
    assert raw.hello_text.startswith('{"type":"connected","clientId":"')
    raw.send_json({"type": "ping"})
    assert raw.read_text() == PONG
    raw.close()


def test_handshake_on_root_with_query(daemon):
    with RawWs(daemon.port, path="/?a=b") as raw:
        assert raw.hello_text.startswith('{"type":"connected"')


def test_get_ws_without_upgrade_is_426(daemon):
    r = requests.get(f"{daemon.url}/ws", timeout=5)
    assert r.status_code == 426
    assert r.json() == {"error": "upgrade_required"}


@pytest.mark.parametrize("path", ["/foo", "/foo/bar?x=1", "/api/rooms", "/wss"])
def test_upgrade_on_other_path_is_404(daemon, path):
    request, _ = upgrade_request(path)
    status, headers, body = http_exchange(daemon.port, request)
    assert status == 404
    assert json.loads(body) == {"error": "not_found"}
    assert_serving(daemon)


@pytest.mark.parametrize("kwargs", [
    {"include_key": False},
    {"key": "c2hvcnQ="},            # decodes to 5 bytes, not 16
    {"key": "not base64 at all!!"},
    {"method": "POST"},
], ids=["missing-key", "short-key", "garbage-key", "post"])
def test_bad_handshake_is_400(daemon, kwargs):
    request, _ = upgrade_request("/ws", **kwargs)
    if kwargs.get("method") == "POST":
        request = request.replace(b"\r\n\r\n", b"\r\nContent-Length: 0\r\n\r\n")
    status, headers, body = http_exchange(daemon.port, request)
    assert status == 400
    assert json.loads(body) == {"error": "bad_websocket_handshake"}


def test_unsupported_websocket_version_is_426(daemon):
    request, _ = upgrade_request("/ws", version="8")
    status, headers, body = http_exchange(daemon.port, request)
    assert status == 426
    assert headers.get("sec-websocket-version") == "13"


def test_origin_check(start_daemon):
    d = start_daemon(settings(server__allowed_origins="https://app.example,https://other.example"))
    request, _ = upgrade_request("/ws", extra_headers=["Origin: https://evil.example"])
    status, _, body = http_exchange(d.port, request)
    assert status == 403
    assert json.loads(body) == {"error": "forbidden_origin"}
    with RawWs(d.port, extra_headers=["Origin: https://app.example"]) as ok:
        assert ok.hello_text.startswith('{"type":"connected"')
    with RawWs(d.port, extra_headers=["Origin: https://other.example"]) as ok:
        assert ok.hello_text.startswith('{"type":"connected"')
    with RawWs(d.port) as no_origin:
        assert no_origin.hello_text.startswith('{"type":"connected"')


def test_accept_value_helper_matches_rfc_example():
    assert accept_value("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


# --------------------------------------------------------------------------------------------------------------
# framing


def test_fragmented_message_is_reassembled(daemon):
    with RawWs(daemon.port) as raw:
        raw.send_frame(OP_TEXT, b'{"type":', fin=False)
        raw.send_frame(OP_CONT, b'"pi', fin=False)
        raw.send_frame(OP_CONT, b'ng"}', fin=True)
        assert raw.read_text() == PONG


def test_control_frame_between_fragments(daemon):
    with RawWs(daemon.port) as raw:
        raw.send_frame(OP_TEXT, b'{"type"', fin=False)
        raw.send_frame(OP_PING, b"mid")
        raw.send_frame(OP_CONT, b':"ping"}', fin=True)
        frame = raw.read_frame()
        assert (frame.opcode, frame.payload, frame.fin) == (OP_PONG, b"mid", True)
        assert not frame.masked
        assert raw.read_text(answer_pings=False) == PONG


def test_fragmented_binary_message(daemon):
    with RawWs(daemon.port) as raw:
        raw.send_frame(OP_BINARY, b'{"type":"pi', fin=False)
        raw.send_frame(OP_CONT, b'ng"}', fin=True)
        assert raw.read_text() == PONG


def test_utf8_sequence_split_across_fragments_is_valid(daemon):
    euro = "\u20ac".encode()
    with RawWs(daemon.port) as raw:
        raw.send_frame(OP_TEXT, b'{"type":"' + euro[:2], fin=False)
        raw.send_frame(OP_CONT, euro[2:] + b'"}', fin=True)
        assert json.loads(raw.read_text()) == {"type": "error", "error": "Unknown message type: \u20ac"}


def test_ws_ping_payload_is_echoed(daemon):
    with RawWs(daemon.port) as raw:
        raw.send_frame(OP_PING, b"\x00\x01payload")
        frame = raw.read_frame()
        assert (frame.opcode, frame.payload) == (OP_PONG, b"\x00\x01payload")
        raw.send_frame(OP_PONG, b"unsolicited")  # must be ignored
        raw.send_json({"type": "ping"})
        assert raw.read_text() == PONG


def test_client_close_is_answered(daemon):
    with RawWs(daemon.port) as raw:
        raw.send_close(1000, b"bye")
        raw.expect_close(1000)
    assert_serving(daemon)


def test_client_close_leaves_room_with_peer_disconnected(daemon):
    a = RawWs(daemon.port)
    a.send_json({"type": "join_room", "roomId": "cl"})
    assert a.read_text() == room_joined("cl", 1, True)
    b = connect(daemon)
    join(b, "cl")
    assert b.recv_text() == room_ready("cl", False)
    a.send_close(1000)
    a.expect_close(1000)
    assert b.recv_text() == PEER_DISCONNECTED


def test_unmasked_frame_is_1002_and_peer_is_told(daemon):
    a = RawWs(daemon.port)
    a.send_json({"type": "join_room", "roomId": "um"})
    assert a.read_text() == room_joined("um", 1, True)
    b = connect(daemon)
    join(b, "um")
    assert b.recv_text() == room_ready("um", False)
    a.read_text()  # room_ready
    a.send_frame(OP_TEXT, b'{"type":"ping"}', mask=False)
    a.expect_close(1002)
    assert b.recv_text() == PEER_DISCONNECTED
    assert_serving(daemon)


@pytest.mark.parametrize("rsv", [4, 2, 1, 7])
def test_rsv_bits_are_1002(daemon, rsv):
    with RawWs(daemon.port) as raw:
        raw.send_frame(OP_TEXT, b'{"type":"ping"}', rsv=rsv)
        raw.expect_close(1002)
    assert_serving(daemon)


@pytest.mark.parametrize("opcode", [0x3, 0x7, 0xB, 0xF])
def test_unknown_opcode_is_1002(daemon, opcode):
    with RawWs(daemon.port) as raw:
        raw.send_frame(opcode, b"xx")
        raw.expect_close(1002)
    assert_serving(daemon)


@pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, OP_CLOSE])
def test_fragmented_control_frame_is_1002(daemon, opcode):
    with RawWs(daemon.port) as raw:
        raw.send_frame(opcode, b"", fin=False)
        raw.expect_close(1002)
    assert_serving(daemon)


def test_control_frame_over_125_bytes_is_1002(daemon):
    with RawWs(daemon.port) as raw:
        raw.send_frame(OP_PING, b"p" * 126)
        raw.expect_close(1002)
    assert_serving(daemon)


def test_continuation_without_start_is_1002(daemon):
    with RawWs(daemon.port) as raw:
        raw.send_frame(OP_CONT, b'{"type":"ping"}', fin=True)
        raw.expect_close(1002)
    assert_serving(daemon)


def test_new_message_inside_fragmented_message_is_1002(daemon):
    with RawWs(daemon.port) as raw:
        raw.send_frame(OP_TEXT, b'{"type":', fin=False)
        raw.send_frame(OP_TEXT, b'{"type":"ping"}', fin=True)
        raw.expect_close(1002)
    assert_serving(daemon)


@pytest.mark.parametrize("payload", [
    b'{"type":"\xff"}',
    b'{"type":"\xc0\xaf"}',
    b'{"type":"\xed\xa0\x80"}',
    b'{"type":"\xf4\x90\x80\x80"}',
    b'{"type":"ping"}\xe2\x82',
], ids=["ff", "overlong", "surrogate", "above-max", "truncated"])
def test_invalid_utf8_text_is_1007(daemon, payload):
    with RawWs(daemon.port) as raw:
        raw.send_frame(OP_TEXT, payload)
        raw.expect_close(1007)
    assert_serving(daemon)


def test_invalid_utf8_across_fragments_is_1007(daemon):
    with RawWs(daemon.port) as raw:
        raw.send_frame(OP_TEXT, b'{"type":"\xe2\x82', fin=False)
        raw.send_frame(OP_CONT, b'("}', fin=True)
        raw.expect_close(1007)
    assert_serving(daemon)


def test_deeply_nested_json_does_not_crash(daemon):
    c = connect(daemon)
    depth = 30000
    c.send("[" * depth + "]" * depth)
    assert c.recv_text() in (error("Unknown message type: undefined"), error("Invalid JSON format"))
    c.send('{"a":' * 10000 + "1" + "}" * 10000)
    assert c.recv_text() in (error("Unknown message type: undefined"), error("Invalid JSON format"))
    c.assert_alive()
    assert_serving(daemon)


# --------------------------------------------------------------------------------------------------------------
# message size limit


def test_message_at_limit_passes_and_one_byte_more_is_1009(start_daemon):
    d = start_daemon(settings(limits__max_message_bytes=1000))
    c = connect(d)
    c.send(ping_of_size(1000))
    assert c.recv_text() == PONG
    c.send(ping_of_size(1001))
    assert c.wait_closed() == 1009
    assert_serving(d)


def test_oversized_single_frame_is_1009_raw(start_daemon):
    d = start_daemon(settings(limits__max_message_bytes=1000))
    with RawWs(d.port) as raw:
        raw.send_text(ping_of_size(1000))
        assert raw.read_text() == PONG
        raw.send_frame(OP_BINARY, b"[" + b"0," * 600 + b"0]")
        raw.expect_close(1009)
    assert_serving(d)


def test_oversized_fragmented_message_is_1009(start_daemon):
    d = start_daemon(settings(limits__max_message_bytes=1000))
    with RawWs(d.port) as raw:
        # Every fragment is under the limit; the reassembled message is not.
        raw.send_frame(OP_TEXT, b'{"type":"ping","pad":"' + b"x" * 380, fin=False)
        raw.send_frame(OP_CONT, b"x" * 400, fin=False)
        raw.send_frame(OP_CONT, b"x" * 400 + b'"}', fin=True)
        raw.expect_close(1009)
    assert_serving(d)


def test_fragmented_message_at_limit_passes(start_daemon):
    d = start_daemon(settings(limits__max_message_bytes=1000))
    message = ping_of_size(1000).encode()
    with RawWs(d.port) as raw:
        raw.send_frame(OP_TEXT, message[:400], fin=False)
        raw.send_frame(OP_CONT, message[400:800], fin=False)
        raw.send_frame(OP_CONT, message[800:], fin=True)
        assert raw.read_text() == PONG


def test_default_message_limit_is_65536(daemon):
    c = connect(daemon)
    c.send(ping_of_size(65536))
    assert c.recv_text(timeout=3) == PONG
    with RawWs(daemon.port) as raw:
        raw.send_text(ping_of_size(65537))
        raw.expect_close(1009)
    c.assert_alive()


def test_large_relay_under_the_limit(start_daemon):
    d = start_daemon(settings(limits__max_message_bytes=1_000_000))
    a, b = pair(d, "big")
    sdp = "a=x-big:" + "y" * 600_000
    a.send_json({"type": "webrtc_offer", "sdp": sdp})
    got = b.recv_text(timeout=4)
    assert got == dumps({"type": "webrtc_offer", "from": a.client_id, "roomId": "big", "sdp": sdp})


# --------------------------------------------------------------------------------------------------------------
# rate limits


def test_rate_limit_error_at_most_once_per_second(start_daemon):
    d = start_daemon(settings(limits__ws_messages_per_second=1, limits__ws_message_burst=2,
                              limits__ws_rate_strikes=1000))
    c = connect(d)
    c.send_many([dumps({"type": "ping"})] * 8)
    assert c.drain(0.5) == [PONG, PONG, RATE_LIMITED]
    time.sleep(0.6)
    # More than a second after the first error: refilled tokens give pongs, the first drop gives one new error.
    c.send_many([dumps({"type": "ping"})] * 4)
    later = c.drain(0.5)
    assert later[-1] == RATE_LIMITED, later
    assert later.count(RATE_LIMITED) == 1, later
    assert 1 <= len(later) - 1 <= 3 and all(m == PONG for m in later[:-1]), later
    assert c.open
    assert_serving(d)


def test_dropped_messages_are_not_processed(start_daemon):
    d = start_daemon(settings(limits__ws_messages_per_second=1, limits__ws_message_burst=2,
                              limits__ws_rate_strikes=1000))
    a = connect(d)
    b = connect(d)
    assert join(a, "rl") == room_joined("rl", 1, True)
    assert join(b, "rl") == room_joined("rl", 2, False)
    assert b.recv_text() == room_ready("rl", False)
    assert a.recv_text() == room_ready("rl", True)
    # a has one token left.
    a.send_many([dumps({"type": "webrtc_offer", "sdp": f"s{i}"}) for i in range(5)])
    assert a.drain(0.4) == [RATE_LIMITED]
    assert b.drain(0.1) == [dumps({"type": "webrtc_offer", "from": a.client_id, "roomId": "rl", "sdp": "s0"})]


def test_rate_strikes_close_with_1008(start_daemon):
    d = start_daemon(settings(limits__ws_messages_per_second=1, limits__ws_message_burst=1,
                              limits__ws_rate_strikes=3))
    c = connect(d)
    c.send_many([dumps({"type": "ping"})] * 4)  # 1 passes, 3 dropped: not more than the strike limit
    assert c.drain(0.3) == [PONG, RATE_LIMITED]
    assert c.open
    time.sleep(1.0)
    assert c.request({"type": "ping"}) == PONG
    c.send_json({"type": "ping"})  # the 4th drop within 10 s
    seen = []
    try:
        while True:
            m = c.try_recv(2.0)
            if m is None:
                break
            seen.append(m)
    except websockets.ConnectionClosed:
        pass
    assert all(m == RATE_LIMITED for m in seen), seen
    assert c.wait_closed() == 1008
    assert_serving(d)


def test_rate_strikes_close_a_flooding_client(start_daemon):
    d = start_daemon(settings(limits__ws_messages_per_second=5, limits__ws_message_burst=5,
                              limits__ws_rate_strikes=10))
    with RawWs(d.port) as raw:
        # 30 pings in one write: 5 pass, the 11th drop closes the connection.
        raw.send_raw(b"".join(encode_frame(OP_TEXT, b'{"type":"ping"}') for _ in range(30)))
        code, frames = raw.read_until_close(timeout=3)
        assert code == 1008
        texts = [f.payload.decode() for f in frames]
        assert texts == [PONG] * 5 + [RATE_LIMITED], texts
        raw.expect_eof(3)
    assert_serving(d)


def test_rate_zero_is_off(start_daemon):
    d = start_daemon(settings(limits__ws_messages_per_second=0, limits__ws_rate_strikes=5))
    c = connect(d)
    c.send_many([dumps({"type": "ping"})] * 400)
    replies = c.drain(0.5)
    assert replies == [PONG] * 400
    assert c.open


def test_default_rate_allows_burst_of_200(daemon):
    c = connect(daemon)
    c.send_many([dumps({"type": "ping"})] * 250)
    replies = c.drain(0.5)
    pongs = replies.count(PONG)
    assert replies.count(RATE_LIMITED) == 1, replies[-5:]
    assert 200 <= pongs <= 230, pongs
    assert len(replies) == pongs + 1
    assert c.open


def test_rate_is_per_connection(start_daemon):
    d = start_daemon(settings(limits__ws_messages_per_second=1, limits__ws_message_burst=1,
                              limits__ws_rate_strikes=1000))
    a = connect(d)
    b = connect(d)
    a.send_many([dumps({"type": "ping"})] * 3)
    assert a.drain(0.3) == [PONG, RATE_LIMITED]
    assert b.request({"type": "ping"}) == PONG


def test_sockets_of_one_address_share_its_message_budget(start_daemon):
    """limits.ws_messages_per_second_per_address: many sockets of one client address cannot multiply the
    per-socket rate; another address (here named by a trusted proxy) has a budget of its own."""
    d = start_daemon(settings(limits__ws_messages_per_second=1000, limits__ws_message_burst=1000,
                              limits__ws_messages_per_second_per_address=0.01,
                              limits__ws_message_burst_per_address=3, limits__ws_rate_strikes=1000,
                              server__trusted_proxies="127.0.0.1"))
    first = {"X-Forwarded-For": "198.51.100.1"}
    a, b = connect(d, extra_headers=first), connect(d, extra_headers=first)
    a.send_many([dumps({"type": "ping"})] * 2)
    assert a.drain(0.3) == [PONG, PONG]
    b.send_many([dumps({"type": "ping"})] * 3)
    assert b.drain(0.3) == [PONG, RATE_LIMITED]  # the third of the address's 3
    other = connect(d, extra_headers={"X-Forwarded-For": "198.51.100.2"})
    assert other.request({"type": "ping"}) == PONG
    # the same /64 is the same client
    v6 = [connect(d, extra_headers={"X-Forwarded-For": f"2001:db8:7:7::{i}"}) for i in (1, 2)]
    v6[0].send_many([dumps({"type": "ping"})] * 3)
    assert v6[0].drain(0.3) == [PONG] * 3
    assert v6[1].request({"type": "ping"}) == RATE_LIMITED


# --------------------------------------------------------------------------------------------------------------
# outbound cap (a peer that never reads)


def test_socket_that_never_reads_is_closed_at_outbound_cap(start_daemon):
    d = start_daemon(settings(limits__max_outbound_bytes=262144, limits__ws_messages_per_second=0))
    slow = RawWs(d.port, rcvbuf=4096)
    slow.send_json({"type": "join_room", "roomId": "slow"})
    assert slow.read_text() == room_joined("slow", 1, True)
    peer = connect(d)
    assert join(peer, "slow") == room_joined("slow", 2, False)
    assert peer.recv_text() == room_ready("slow", False)
    # From here on `slow` reads nothing. Send until the kernel buffers and the daemon's queue overflow.
    offer = dumps({"type": "webrtc_offer", "sdp": "y" * 60000})
    first = None
    sent = 0
    deadline = time.monotonic() + 4.5
    while first is None and time.monotonic() < deadline:
        if sent < 400:
            peer.send_many([offer] * 10)
            sent += 10
        first = peer.try_recv(0.01 if sent < 400 else 0.2)
    assert first == PEER_DISCONNECTED, f"after {sent} offers of 60 kB: {first!r}"
    rest = peer.drain(0.3)
    assert all(m == error("Room must have exactly 2 users for WebRTC") for m in rest), rest[:3]
    peer.assert_alive()
    assert_serving(d)
    # The slow socket was closed: reading what is left of it ends in EOF.
    slow.expect_eof(3)
    slow.close()


@pytest.mark.parametrize("bound", ["per_address", "total"])
def test_slow_sockets_are_bounded_together(start_daemon, bound):
    """limits.max_outbound_bytes_per_address (two slow sockets of one address) and limits.max_outbound_bytes_total
    (two slow sockets of two addresses): together they may hold at most that much; the one whose next message
    would go over it is closed, although its own queue is far below limits.max_outbound_bytes. The senders
    connect from 127.0.0.2."""
    caps = {"per_address": (1048576, 0), "total": (0, 1048576)}[bound]
    d = start_daemon(settings(limits__max_outbound_bytes=64 * 1048576, limits__max_outbound_bytes_per_address=caps[0],
                              limits__max_outbound_bytes_total=caps[1], limits__ws_messages_per_second=0,
                              limits__ws_messages_per_second_per_address=0))
    sources = {"per_address": ("127.0.0.1", "127.0.0.1"), "total": ("127.0.0.1", "127.0.0.3")}[bound]
    senders, slows = [], []
    for room, source in zip(("slow-1", "slow-2"), sources):
        slow = RawWs(d.port, rcvbuf=4096, source=source)
        slows.append(slow)  # kept open: a socket collected would close itself
        slow.send_json({"type": "join_room", "roomId": room})
        assert slow.read_text() == room_joined(room, 1, True)
        sender = connect(d, local_addr=("127.0.0.2", 0))
        assert join(sender, room) == room_joined(room, 2, False)
        assert sender.recv_text() == room_ready(room, False)
        senders.append(sender)
    # Both slow sockets read nothing from here on: fill them in turn, at most 300 offers of 60 kB each (18 MB,
    # a quarter of what one socket may queue), until one sender hears that its peer is gone.
    offer = dumps({"type": "webrtc_offer", "sdp": "y" * 60000})
    gone = None
    sent = 0
    deadline = time.monotonic() + 8
    while gone is None and time.monotonic() < deadline:
        for i, sender in enumerate(senders):
            if sent < 600:
                sender.send_many([offer] * 5)
                sent += 5
            if sender.try_recv(0.01 if sent < 600 else 0.2) == PEER_DISCONNECTED:
                gone = i
    assert gone is not None, f"no slow socket was closed after {sent} offers of 60 kB"
    # (the other slow socket may follow: alone it can fill the address's budget too)
    assert "event=websocket_outbound_overflow" in d.log(), d.log()[-2000:]
    for sender in senders:
        # Alive: it answers a ping, after at most the news that its own slow peer went too.
        sender.send_json({"type": "ping"})
        answer = sender.recv_text()
        if answer == PEER_DISCONNECTED:
            answer = sender.recv_text()
        assert answer == '{"type":"pong"}', answer
    assert_serving(d)
    slows[gone].expect_eof(3)
    for slow in slows:
        slow.close()


# --------------------------------------------------------------------------------------------------------------
# heartbeat


HEARTBEAT = settings(signaling__ping_interval_seconds=0.2, signaling__pong_timeout_seconds=0.6)


def test_server_sends_pings_and_a_client_that_answers_stays(start_daemon):
    d = start_daemon(HEARTBEAT)
    with RawWs(d.port) as raw:
        pings = 0
        deadline = time.monotonic() + 1.6
        while time.monotonic() < deadline:
            try:
                frame = raw.read_frame(max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break
            assert frame.opcode == OP_PING, frame
            assert not frame.masked
            raw.send_frame(OP_PONG, frame.payload)
            pings += 1
        assert pings >= 4, pings
        raw.send_json({"type": "ping"})
        assert raw.read_text() == PONG


def test_websockets_client_survives_heartbeat(start_daemon):
    d = start_daemon(HEARTBEAT)
    a, b = pair(d, "hb")
    time.sleep(1.6)
    assert a.open and b.open
    a.expect_silence(0.01)
    b.expect_silence(0.01)
    a.assert_alive()
    a.send_json({"type": "webrtc_offer", "sdp": "x"})
    assert b.recv_text() == dumps({"type": "webrtc_offer", "from": a.client_id, "roomId": "hb", "sdp": "x"})


def test_silent_client_is_closed_and_its_seat_freed(start_daemon):
    d = start_daemon(HEARTBEAT)
    dead = RawWs(d.port)
    dead.send_json({"type": "join_room", "roomId": "hb"})
    sent_at = time.monotonic()
    assert dead.read_text(answer_pings=False) == room_joined("hb", 1, True)
    peer = connect(d)
    assert join(peer, "hb") == room_joined("hb", 2, False)
    assert peer.recv_text() == room_ready("hb", False)
    # `dead` never sends another byte: not a pong, nothing.
    code, frames = dead.read_until_close(timeout=3)
    elapsed = time.monotonic() - sent_at
    assert code == 1001
    assert any(f.opcode == OP_PING for f in frames), frames
    assert 0.5 <= elapsed <= 2.5, elapsed
    dead.expect_eof(2)
    assert peer.recv_text(timeout=2) == PEER_DISCONNECTED
    newcomer = connect(d)
    assert join(newcomer, "hb") == room_joined("hb", 2, False)
    assert newcomer.recv_text() == room_ready("hb", False)
    assert peer.recv_text() == room_ready("hb", True)
    dead.close()


def test_client_that_only_sends_app_messages_stays(start_daemon):
    d = start_daemon(HEARTBEAT)
    with RawWs(d.port) as raw:
        # Never answers pings, but keeps sending messages: something arrives, so it is not dead.
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            raw.send_json({"type": "ping"})
            assert raw.read_text(answer_pings=False) == PONG
            time.sleep(0.2)
        raw.send_json({"type": "ping"})
        assert raw.read_text(answer_pings=False) == PONG


@pytest.mark.parametrize("ping,pong", [(1, 1), (2, 1), (0.05, 1)])
def test_bad_heartbeat_config_is_rejected(start_daemon, ping, pong):
    with pytest.raises(RuntimeError, match="exited with 2"):
        start_daemon(settings(signaling__ping_interval_seconds=ping, signaling__pong_timeout_seconds=pong))


# --------------------------------------------------------------------------------------------------------------
# shutdown


def test_sigterm_closes_every_socket_with_1001(start_daemon):
    d = start_daemon(settings(server__shutdown_timeout_seconds=3))
    a, b = pair(d, "bye")
    lone = connect(d)
    raw = RawWs(d.port)
    result = {}
    stopper = threading.Thread(target=lambda: result.update(code=d.stop()))
    started = time.monotonic()
    stopper.start()
    code, _ = raw.read_until_close(timeout=5)
    assert code == 1001
    raw.send_frame(OP_CLOSE, close_payload(1001))
    raw.expect_eof(5)
    for c in (a, b, lone):
        assert c.wait_closed(timeout=5) == 1001
    stopper.join(10)
    assert not stopper.is_alive()
    assert result["code"] == 0
    assert time.monotonic() - started < 5
