# Integration tests for WebSocket signaling messages: greeting, rooms, relay, leave/disconnect and error replies.
import json
import re
import socket
import struct
import time

import pytest

from wsutil import (
    OP_BINARY,
    PEER_DISCONNECTED,
    PEER_LEFT,
    PONG,
    RawWs,
    assert_serving,
    connect,
    dumps,
    error,
    join,
    pair,
    room_joined,
    room_ready,
)

CONNECTED_RE = re.compile(r'^\{"type":"connected","clientId":"([0-9a-f-]{36})","server":"WebRTC P2P Signaling Server"\}$')
UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

NOT_IN_ROOM = error("Not in a valid room for WebRTC signaling")
NOT_TWO = error("Room must have exactly 2 users for WebRTC")
SDP = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
CANDIDATE = {"candidate": "candidate:842163049 1 udp 1677729535 192.0.2.1 54400 typ srflx", "sdpMLineIndex": 0,
             "sdpMid": "0"}


# --------------------------------------------------------------------------------------------------------------
# connect, transport, ping


def test_connected_greeting_has_v4_uuid_and_server_name(daemon):
    a = connect(daemon)
    b = connect(daemon)
    ids = []
    for c in (a, b):
        m = CONNECTED_RE.match(c.hello_text)
        assert m, c.hello_text
        assert UUID4_RE.match(m.group(1)), m.group(1)
        ids.append(m.group(1))
    assert ids[0] != ids[1]


@pytest.mark.parametrize("path", ["/", "/ws", "/ws?token=abc&x=1", "/?room=r1"])
def test_upgrade_on_root_and_ws_paths(daemon, path):
    c = connect(daemon, path)
    assert CONNECTED_RE.match(c.hello_text)
    c.assert_alive()


def test_app_ping_gets_pong_in_text_frame(daemon):
    c = connect(daemon)
    for _ in range(3):
        assert c.request({"type": "ping"}) == PONG


def test_binary_frame_is_read_as_json(daemon):
    c = connect(daemon)
    c.send(b'{"type":"ping"}')
    assert c.recv_text() == PONG
    c.send(dumps({"type": "join_room", "roomId": "bin-room"}).encode())
    assert c.recv_text() == room_joined("bin-room", 1, True)


def test_binary_garbage_is_invalid_json(daemon):
    c = connect(daemon)
    c.send(b"\x00\x01garbage")
    assert c.recv_text() == error("Invalid JSON format")
    c.assert_alive()


def test_raw_binary_frame_is_read_as_json(daemon):
    with RawWs(daemon.port) as raw:
        raw.send_frame(OP_BINARY, b'{"type":"ping"}')
        assert raw.read_text() == PONG


def test_websocket_ping_frame_gets_pong(daemon):
    c = connect(daemon)
    c.ping(b"hello")
    c.ping(b"")
    c.assert_alive()


def test_ping_with_extra_fields_still_pongs(daemon):
    c = connect(daemon)
    assert c.request({"type": "ping", "roomId": 5, "x": [1, 2]}) == PONG


# --------------------------------------------------------------------------------------------------------------
# join_room, room_ready, initiator rule


def test_first_joiner_is_initiator(daemon):
    c = connect(daemon)
    assert join(c, "r1") == '{"type":"room_joined","roomId":"r1","userCount":1,"isInitiator":true,"ready":false}'
    c.expect_silence(0.2)


def test_second_joiner_gets_room_joined_then_room_ready_and_first_gets_room_ready(daemon):
    a = connect(daemon)
    assert join(a, "r") == room_joined("r", 1, True)
    b = connect(daemon)
    assert join(b, "r") == '{"type":"room_joined","roomId":"r","userCount":2,"isInitiator":false,"ready":true}'
    assert b.recv_text() == ('{"type":"room_ready","roomId":"r","message":"Both users connected. Ready for WebRTC '
                             'handshake.","userCount":2,"isInitiator":false}')
    assert a.recv_text() == ('{"type":"room_ready","roomId":"r","message":"Both users connected. Ready for WebRTC '
                             'handshake.","userCount":2,"isInitiator":true}')
    a.expect_silence(0.2)
    b.expect_silence(0.01)


def test_initiator_moves_to_longest_present_member(daemon):
    a, b = pair(daemon, "r")
    assert a.request({"type": "leave_room"}) == '{"type":"left_room","roomId":"r"}'
    assert b.recv_text() == PEER_LEFT
    c = connect(daemon)
    assert join(c, "r") == room_joined("r", 2, False)
    assert c.recv_text() == room_ready("r", False)
    assert b.recv_text() == room_ready("r", True)
    a.expect_silence(0.2)


def test_room_full_has_exact_error_and_leaves_members_alone(daemon):
    a, b = pair(daemon, "r")
    c = connect(daemon)
    assert join(c, "r") == '{"type":"room_full","error":"Room is full (max 2 users)","roomId":"r"}'
    a.expect_silence(0.2)
    b.expect_silence(0.01)
    # c is in no room.
    assert c.request({"type": "webrtc_offer", "sdp": SDP}) == NOT_IN_ROOM
    assert c.request({"type": "leave_room"}) == '{"type":"left_room","roomId":null}'


def test_rejoin_alone_is_idempotent(daemon):
    a = connect(daemon)
    assert join(a, "solo") == room_joined("solo", 1, True)
    assert join(a, "solo") == room_joined("solo", 1, True)
    a.expect_silence(0.2)
    b = connect(daemon)
    assert join(b, "solo") == room_joined("solo", 2, False)
    assert b.recv_text() == room_ready("solo", False)
    assert a.recv_text() == room_ready("solo", True)


def test_rejoin_of_own_full_room_is_idempotent(daemon):
    a, b = pair(daemon, "r")
    assert join(a, "r") == room_joined("r", 2, True)
    assert a.recv_text() == room_ready("r", True)
    b.expect_silence(0.2)
    assert join(b, "r") == room_joined("r", 2, False)
    assert b.recv_text() == room_ready("r", False)
    a.expect_silence(0.2)
    # Still the same two members: the relay works both ways.
    a.send_json({"type": "webrtc_offer", "sdp": "x"})
    assert b.recv_text() == dumps({"type": "webrtc_offer", "from": a.client_id, "roomId": "r", "sdp": "x"})
    a.expect_silence(0.05)


def test_rejoin_initiator_follows_room_ready_rule(daemon):
    a, b = pair(daemon, "r")
    a.request({"type": "leave_room"})
    assert b.recv_text() == PEER_LEFT
    c = connect(daemon)
    assert join(c, "r") == room_joined("r", 2, False)
    assert c.recv_text() == room_ready("r", False)
    assert b.recv_text() == room_ready("r", True)
    # b's own room_joined said isInitiator:false, but b is now the member present longest.
    assert join(b, "r") == room_joined("r", 2, True)
    assert b.recv_text() == room_ready("r", True)
    c.expect_silence(0.2)
    assert join(c, "r") == room_joined("r", 2, False)
    assert c.recv_text() == room_ready("r", False)
    b.expect_silence(0.2)


def test_moving_rooms_sends_peer_left_to_old_peer_and_no_left_room_to_mover(daemon):
    a, b = pair(daemon, "old")
    assert join(a, "new") == room_joined("new", 1, True)
    assert b.recv_text() == PEER_LEFT
    a.expect_silence(0.2)
    # b is alone in "old" now.
    assert b.request({"type": "webrtc_offer", "sdp": "x"}) == NOT_TWO
    c = connect(daemon)
    assert join(c, "old") == room_joined("old", 2, False)
    assert c.recv_text() == room_ready("old", False)
    assert b.recv_text() == room_ready("old", True)
    a.expect_silence(0.1)


def test_moving_out_of_a_solo_room_deletes_it(daemon):
    a = connect(daemon)
    assert join(a, "first") == room_joined("first", 1, True)
    assert join(a, "second") == room_joined("second", 1, True)
    b = connect(daemon)
    assert join(b, "first") == room_joined("first", 1, True)


def test_join_to_full_room_keeps_client_in_old_room(daemon):
    a, b = pair(daemon, "one")
    c, d = pair(daemon, "two")
    assert join(c, "one") == '{"type":"room_full","error":"Room is full (max 2 users)","roomId":"one"}'
    d.expect_silence(0.2)
    c.send_json({"type": "webrtc_offer", "sdp": "still-here"})
    assert d.recv_text() == dumps({"type": "webrtc_offer", "from": c.client_id, "roomId": "two", "sdp": "still-here"})
    a.expect_silence(0.05)
    b.expect_silence(0.05)


# --------------------------------------------------------------------------------------------------------------
# relay


def test_offer_answer_and_candidate_relayed_exactly(daemon):
    a, b = pair(daemon, "relay")
    a.send_json({"type": "webrtc_offer", "sdp": SDP})
    assert b.recv_text() == dumps({"type": "webrtc_offer", "from": a.client_id, "roomId": "relay", "sdp": SDP})
    b.send_json({"type": "webrtc_answer", "sdp": SDP})
    assert a.recv_text() == dumps({"type": "webrtc_answer", "from": b.client_id, "roomId": "relay", "sdp": SDP})
    a.send_json({"type": "ice_candidate", "candidate": CANDIDATE})
    assert b.recv_text() == dumps({"type": "ice_candidate", "from": a.client_id, "roomId": "relay",
                                   "candidate": CANDIDATE})
    # The sender gets no acknowledgement.
    a.expect_silence(0.2)
    b.expect_silence(0.01)


def test_relay_ignores_spoofed_room_id_and_drops_extra_fields(daemon):
    a, b = pair(daemon, "real")
    c, d = pair(daemon, "other")
    a.send_json({"type": "webrtc_offer", "roomId": "other", "from": "spoofed", "sdp": "s", "extra": {"x": 1},
                 "to": d.client_id})
    assert b.recv_text() == dumps({"type": "webrtc_offer", "from": a.client_id, "roomId": "real", "sdp": "s"})
    a.send_json({"roomId": "other", "candidate": None, "type": "ice_candidate", "userCount": 7})
    assert b.recv_text() == dumps({"type": "ice_candidate", "from": a.client_id, "roomId": "real",
                                   "candidate": None})
    c.expect_silence(0.2)
    d.expect_silence(0.01)


def test_sdp_object_with_string_sdp_is_relayed_unchanged(daemon):
    a, b = pair(daemon, "obj")
    sdp = {"type": "offer", "sdp": SDP}
    a.send_json({"type": "webrtc_offer", "sdp": sdp})
    assert b.recv_text() == dumps({"type": "webrtc_offer", "from": a.client_id, "roomId": "obj", "sdp": sdp})
    answer = {"sdp": "v=0\r\n", "type": "answer", "extra": [1, True, None, {"k": "v"}]}
    b.send_json({"type": "webrtc_answer", "sdp": answer})
    received = a.recv_text()
    assert json.loads(received) == {"type": "webrtc_answer", "from": b.client_id, "roomId": "obj", "sdp": answer}
    assert received == dumps({"type": "webrtc_answer", "from": b.client_id, "roomId": "obj", "sdp": answer})


def test_non_ascii_and_escapes_survive_the_relay(daemon):
    a, b = pair(daemon, "uni")
    sdp = 'a=tool:caf\u00e9 \u2713 "q" \\ \t / \U0001f600\r\n'
    a.send_json({"type": "webrtc_offer", "sdp": sdp})
    assert json.loads(b.recv_text()) == {"type": "webrtc_offer", "from": a.client_id, "roomId": "uni", "sdp": sdp}


def test_null_candidate_is_relayed(daemon):
    a, b = pair(daemon, "eoc")
    b.send_json({"type": "ice_candidate", "candidate": None})
    assert a.recv_text() == ('{"type":"ice_candidate","from":"%s","roomId":"eoc","candidate":null}' % b.client_id)


@pytest.mark.parametrize("kind", ["webrtc_offer", "webrtc_answer"])
@pytest.mark.parametrize("message", [
    {},
    {"sdp": 5},
    {"sdp": None},
    {"sdp": True},
    {"sdp": ["v=0"]},
    {"sdp": {"type": "offer"}},
    {"sdp": {"type": "offer", "sdp": 5}},
    {"sdp": {"sdp": None}},
], ids=["missing", "number", "null", "bool", "array", "object-without-sdp", "object-number-sdp", "object-null-sdp"])
def test_invalid_sdp_is_refused_and_not_relayed(daemon, kind, message):
    a, b = pair(daemon, "bad-sdp")
    assert a.request({"type": kind, **message}) == error("Invalid sdp")
    b.expect_silence(0.2)
    a.assert_alive()
    assert_serving(daemon)
    a.send_json({"type": kind, "sdp": "ok"})
    assert b.recv_text() == dumps({"type": kind, "from": a.client_id, "roomId": "bad-sdp", "sdp": "ok"})


@pytest.mark.parametrize("message", [
    {},
    {"candidate": "candidate:1 1 udp 1 192.0.2.1 1 typ host"},
    {"candidate": 5},
    {"candidate": []},
    {"candidate": {}},
    {"candidate": {"candidate": 5, "sdpMid": "0"}},
    {"candidate": {"sdpMid": "0", "sdpMLineIndex": 0}},
], ids=["missing", "string", "number", "array", "empty-object", "number-candidate", "object-without-candidate"])
def test_invalid_candidate_is_refused_and_not_relayed(daemon, message):
    a, b = pair(daemon, "bad-ice")
    assert a.request({"type": "ice_candidate", **message}) == error("Invalid candidate")
    b.expect_silence(0.2)
    a.assert_alive()
    assert_serving(daemon)


def test_candidate_with_empty_string_is_relayed(daemon):
    # An empty candidate string is how browsers signal end-of-candidates for one m-line.
    a, b = pair(daemon, "empty-ice")
    cand = {"candidate": "", "sdpMid": "0", "sdpMLineIndex": 0}
    a.send_json({"type": "ice_candidate", "candidate": cand})
    assert b.recv_text() == dumps({"type": "ice_candidate", "from": a.client_id, "roomId": "empty-ice",
                                   "candidate": cand})


@pytest.mark.parametrize("message", [
    {"type": "webrtc_offer", "sdp": SDP},
    {"type": "webrtc_answer", "sdp": SDP},
    {"type": "ice_candidate", "candidate": CANDIDATE},
], ids=["offer", "answer", "ice"])
def test_signaling_outside_a_room_is_refused(daemon, message):
    c = connect(daemon)
    assert c.request(message) == NOT_IN_ROOM
    c.assert_alive()


@pytest.mark.parametrize("message", [
    {"type": "webrtc_offer", "sdp": SDP},
    {"type": "webrtc_answer", "sdp": SDP},
    {"type": "ice_candidate", "candidate": CANDIDATE},
], ids=["offer", "answer", "ice"])
def test_signaling_alone_in_a_room_is_refused(daemon, message):
    c = connect(daemon)
    join(c, "alone")
    assert c.request(message) == NOT_TWO
    c.assert_alive()


def test_signaling_after_leave_is_refused(daemon):
    a, b = pair(daemon, "gone")
    a.request({"type": "leave_room"})
    assert a.request({"type": "webrtc_offer", "sdp": "x"}) == NOT_IN_ROOM
    assert b.recv_text() == PEER_LEFT
    assert b.request({"type": "webrtc_answer", "sdp": "x"}) == NOT_TWO


# --------------------------------------------------------------------------------------------------------------
# leave, disconnect


def test_leave_room_notifies_peer_then_confirms(daemon):
    a, b = pair(daemon, "lv")
    a.send_json({"type": "leave_room"})
    assert a.recv_text() == '{"type":"left_room","roomId":"lv"}'
    # The peer's notice was sent before the leaver's confirmation, so it is already on its way.
    assert b.recv_text(timeout=0.5) == PEER_LEFT
    a.expect_silence(0.1)
    assert a.request({"type": "leave_room"}) == '{"type":"left_room","roomId":null}'


def test_leave_without_room_gives_null_room(daemon):
    c = connect(daemon)
    assert c.request({"type": "leave_room"}) == '{"type":"left_room","roomId":null}'
    assert c.request({"type": "leave_room", "roomId": "x"}) == '{"type":"left_room","roomId":null}'


def test_last_member_leaving_deletes_room(daemon):
    a = connect(daemon)
    join(a, "tmp")
    assert a.request({"type": "leave_room"}) == '{"type":"left_room","roomId":"tmp"}'
    b = connect(daemon)
    assert join(b, "tmp") == room_joined("tmp", 1, True)


def test_closing_socket_sends_peer_disconnected(daemon):
    a, b = pair(daemon, "dc")
    a.close()
    assert b.recv_text() == PEER_DISCONNECTED
    b.expect_silence(0.2)
    # The seat is free again and b is now the initiator.
    c = connect(daemon)
    assert join(c, "dc") == room_joined("dc", 2, False)
    assert c.recv_text() == room_ready("dc", False)
    assert b.recv_text() == room_ready("dc", True)


def test_abrupt_tcp_close_sends_peer_disconnected(daemon):
    a = RawWs(daemon.port)
    a.send_json({"type": "join_room", "roomId": "abrupt"})
    assert a.read_text() == room_joined("abrupt", 1, True)
    b = connect(daemon)
    assert join(b, "abrupt") == room_joined("abrupt", 2, False)
    assert b.recv_text() == room_ready("abrupt", False)
    # No close frame: the TCP connection just goes away (with RST).
    a.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    a.close()
    assert b.recv_text() == PEER_DISCONNECTED
    assert_serving(daemon)


def test_disconnect_of_a_client_outside_rooms_disturbs_nobody(daemon):
    a, b = pair(daemon, "calm")
    c = connect(daemon)
    c.close()
    a.expect_silence(0.2)
    b.expect_silence(0.01)


# --------------------------------------------------------------------------------------------------------------
# error replies


@pytest.mark.parametrize("payload", ["{not json", "null", "", "{\"type\":\"ping\"", "'single'", "{type:'ping'}",
                                     "[1,2", "nul"])
def test_invalid_json_format(daemon, payload):
    c = connect(daemon)
    c.send(payload)
    assert c.recv_text() == '{"type":"error","error":"Invalid JSON format"}'
    c.assert_alive()
    assert_serving(daemon)


@pytest.mark.parametrize("payload,shown", [
    ('{"type":"bogus"}', "bogus"),
    ('{"type":"PING"}', "PING"),
    ('{"type":"join"}', "join"),
    ("{}", "undefined"),
    ('{"roomId":"r"}', "undefined"),
    ("5", "undefined"),
    ("[]", "undefined"),
    ('"join_room"', "undefined"),
    ("true", "undefined"),
    ('{"type":{}}', "[object Object]"),
    ('{"type":{"a":1}}', "[object Object]"),
    ('{"type":5}', "5"),
    ('{"type":null}', "null"),
    ('{"type":true}', "true"),
])
def test_unknown_message_type(daemon, payload, shown):
    c = connect(daemon)
    c.send(payload)
    assert c.recv_text() == dumps({"type": "error", "error": f"Unknown message type: {shown}"})
    c.assert_alive()
    assert_serving(daemon)


def test_unknown_message_type_text_is_json_escaped(daemon):
    c = connect(daemon)
    c.send_json({"type": 'a"b\\c\n\u00e9'})
    raw = c.recv_text()
    assert json.loads(raw) == {"type": "error", "error": 'Unknown message type: a"b\\c\n\u00e9'}


@pytest.mark.parametrize("message", [
    {"type": "join_room"},
    {"type": "join_room", "roomId": ""},
    {"type": "join_room", "roomId": 5},
    {"type": "join_room", "roomId": 0},
    {"type": "join_room", "roomId": None},
    {"type": "join_room", "roomId": True},
    {"type": "join_room", "roomId": ["r"]},
    {"type": "join_room", "roomId": {"id": "r"}},
    {"type": "join_room", "roomId": "a" * 129},
    {"type": "join_room", "roomId": "\u00e9" * 65},
], ids=["missing", "empty", "number", "zero", "null", "bool", "array", "object", "129-bytes", "130-utf8-bytes"])
def test_invalid_room_id(daemon, message):
    c = connect(daemon)
    assert c.request(message) == '{"type":"error","error":"Invalid roomId"}'
    c.assert_alive()
    assert_serving(daemon)
    # Nothing changed: the client is still in no room.
    assert c.request({"type": "leave_room"}) == '{"type":"left_room","roomId":null}'


def test_room_id_at_byte_limit_is_accepted(daemon):
    c = connect(daemon)
    long_id = "a" * 128
    assert join(c, long_id) == room_joined(long_id, 1, True)
    utf8_id = "\u00e9" * 64  # 128 bytes
    d = connect(daemon)
    raw = join(d, utf8_id)
    assert json.loads(raw) == {"type": "room_joined", "roomId": utf8_id, "userCount": 1, "isInitiator": True,
                               "ready": False}


def test_room_id_limit_follows_config(start_daemon):
    d = start_daemon({"signaling.require_known_room": False, "limits.max_id_bytes": 8})
    c = connect(d)
    assert join(c, "12345678") == room_joined("12345678", 1, True)
    assert join(c, "123456789") == error("Invalid roomId")


def test_invalid_room_id_keeps_current_room(daemon):
    a, b = pair(daemon, "keep")
    assert a.request({"type": "join_room", "roomId": ""}) == error("Invalid roomId")
    assert a.request({"type": "join_room", "roomId": 42}) == error("Invalid roomId")
    b.expect_silence(0.2)
    a.send_json({"type": "webrtc_offer", "sdp": "x"})
    assert b.recv_text() == dumps({"type": "webrtc_offer", "from": a.client_id, "roomId": "keep", "sdp": "x"})


def test_join_ignores_extra_fields(daemon):
    c = connect(daemon)
    assert c.request({"type": "join_room", "roomId": "xf", "userCount": 9, "isInitiator": False}) == \
        room_joined("xf", 1, True)


def test_errors_in_sequence_never_close_the_connection(daemon):
    a, b = pair(daemon, "seq")
    for payload in ["garbage", "null", "{}", '{"type":"bogus"}', '{"type":"join_room"}',
                    '{"type":"webrtc_offer"}', '{"type":"ice_candidate","candidate":"x"}']:
        a.send(payload)
    replies = [a.recv_text() for _ in range(7)]
    assert replies == [error("Invalid JSON format"), error("Invalid JSON format"),
                       error("Unknown message type: undefined"), error("Unknown message type: bogus"),
                       error("Invalid roomId"), error("Invalid sdp"), error("Invalid candidate")]
    b.expect_silence(0.2)
    a.send_json({"type": "webrtc_offer", "sdp": "after"})
    assert b.recv_text() == dumps({"type": "webrtc_offer", "from": a.client_id, "roomId": "seq", "sdp": "after"})
    assert_serving(daemon)


def test_many_rooms_are_independent(daemon):
    pairs = [pair(daemon, f"room-{i}") for i in range(5)]
    for i, (a, b) in enumerate(pairs):
        a.send_json({"type": "webrtc_offer", "sdp": f"sdp-{i}"})
    for i, (a, b) in enumerate(pairs):
        assert b.recv_text() == dumps({"type": "webrtc_offer", "from": a.client_id, "roomId": f"room-{i}",
                                       "sdp": f"sdp-{i}"})
        a.expect_silence(0.01)
    time.sleep(0.1)
    for a, b in pairs:
        b.expect_silence(0.01)


@pytest.mark.parametrize("payload_text, compact", [
    # Written as JSON.stringify writes it: relayed byte for byte.
    ('{"type":"offer","sdp":"v=0\\r\\na=x:caf\u00e9"}', '{"type":"offer","sdp":"v=0\\r\\na=x:caf\u00e9"}'),
    # Written loosely (spaces, escaped slash, \\u escapes, a duplicate key, a float): relayed as the reference's
    # JSON.stringify of the parsed value would be, apart from how the float is printed.
    ('{ "type" : "offer", "sdp" : "a\\/b \\u0041" }', '{"type":"offer","sdp":"a/b A"}'),
    ('{"sdp":"old","type":"offer","sdp":"new"}', '{"sdp":"new","type":"offer"}'),
    ('{"type":"offer","sdp":"x","n":[1, 2.5]}', '{"type":"offer","sdp":"x","n":[1,2.5]}'),
], ids=["canonical", "loose", "duplicate-key", "spaced-array"])
def test_sdp_payload_reaches_the_peer_in_compact_form(daemon, payload_text, compact):
    a, b = pair(daemon, "compact")
    a.send('{"type":"webrtc_offer","sdp":%s}' % payload_text)
    assert b.recv_text() == '{"type":"webrtc_offer","from":"%s","roomId":"compact","sdp":%s}' % (a.client_id,
                                                                                                   compact)


def test_duplicate_type_and_payload_members_use_the_last_one(daemon):
    a, b = pair(daemon, "dupes")
    a.send('{"type":"ping","sdp":"first","type":"webrtc_answer","sdp":"second"}')
    assert b.recv_text() == dumps({"type": "webrtc_answer", "from": a.client_id, "roomId": "dupes",
                                   "sdp": "second"})
    a.send('{"type":"webrtc_offer","type":"ping"}')
    assert a.recv_text() == '{"type":"pong"}'
