# WebSocket side of per-room TURN: join_room with deviceId (iceServers in room_joined, seat takeover, refusal of
# non-members), ice_servers pushes before a credential runs out, and room_closed for device-bound rooms.
"""The daemons run with TURN on (see test_turn_api.turn_config) and no coturn. Unless a test says otherwise,
signaling.require_known_room keeps its default (true)."""
import json
import time

import pytest
import requests

from httputil import ordered_pairs, parse_iso_ms
from test_turn_api import MODES, check_username, issue, new_room, post_turn, turn_config
from wsutil import PEER_DISCONNECTED, connect, dumps, error, join, room_joined, room_ready

UNKNOWN_ROOM = error("Unknown room")
NOT_A_MEMBER = error("Not a member of this room")
NOT_IN_ROOM = error("Not in a valid room for WebRTC signaling")
REFERENCE_JOINED_KEYS = ["type", "roomId", "userCount", "isInitiator", "ready"]


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


@pytest.fixture
def ws(start_daemon):
    """Factory: ws(daemon) -> a connected wsutil.WsClient; every client is closed at teardown (before the
    daemons are stopped)."""
    clients = []

    def factory(daemon):
        client = connect(daemon)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


def join_as(client, room_id, device_id):
    """Send join_room with deviceId and return the raw text of the reply."""
    return client.request({"type": "join_room", "roomId": room_id, "deviceId": device_id})


def bound_joined(room_id, user_count, is_initiator, creds):
    """room_joined of a device-bound socket: the reference fields, then iceServers and expiresAt."""
    plain = room_joined(room_id, user_count, is_initiator)
    return plain[:-1] + ',"iceServers":' + dumps(creds.ice_servers) + ',"expiresAt":' + dumps(creds.expires_at) + "}"


def room_closed(room_id, reason):
    return dumps({"type": "room_closed", "roomId": room_id, "reason": reason})


# --------------------------------------------------------------------------------------------------------------
# join_room with deviceId


def test_bound_join_carries_that_devices_ice_servers(start_daemon, ws, mode):
    d = start_daemon(turn_config(mode, ttl_seconds=600))
    room = new_room(d, "dev-A", "dev-B")
    a = ws(d)
    text = join_as(a, room, "dev-A")
    pairs = ordered_pairs(text)
    assert [k for k, _ in pairs] == REFERENCE_JOINED_KEYS + ["iceServers", "expiresAt"], text
    # The same credential POST /api/rooms/turn hands that device (stable), byte for byte.
    creds_a = issue(d, room, "dev-A", ttl_seconds=600)
    assert text == bound_joined(room, 1, True, creds_a)
    check_username(d, mode, creds_a, room, 1, ("dev-A", "dev-B"))
    assert 595 <= parse_iso_ms(creds_a.expires_at) - time.time() <= 601

    b = ws(d)
    text_b = join_as(b, room, "dev-B")
    creds_b = issue(d, room, "dev-B", ttl_seconds=600)
    assert text_b == bound_joined(room, 2, False, creds_b)
    check_username(d, mode, creds_b, room, 2, ("dev-A", "dev-B"))
    assert creds_b.username != creds_a.username
    # room_ready is the reference's, without TURN fields.
    assert b.recv_text() == room_ready(room, False)
    assert a.recv_text() == room_ready(room, True)
    # Signaling works as usual.
    a.send_json({"type": "webrtc_offer", "sdp": "v=0\r\n"})
    assert b.recv_text() == dumps({"type": "webrtc_offer", "from": a.client_id, "roomId": room, "sdp": "v=0\r\n"})


def test_join_without_device_id_is_the_reference_join(start_daemon, ws):
    d = start_daemon(turn_config())
    room = new_room(d, "dev-A", "dev-B")
    a = ws(d)
    assert join(a, room) == room_joined(room, 1, True)
    b = ws(d)
    creds_b = issue(d, room, "dev-B")
    assert join_as(b, room, "dev-B") == bound_joined(room, 2, False, creds_b)
    assert b.recv_text() == room_ready(room, False)
    assert a.recv_text() == room_ready(room, True)
    a.expect_silence(0.3)


@pytest.mark.parametrize("device", ["stranger", "dev-C", "DEV-A", "dev-A "], ids=["stranger", "other-room",
                                                                                 "case", "trailing-space"])
def test_non_member_device_is_refused(start_daemon, ws, device):
    d = start_daemon(turn_config())
    room = new_room(d, "dev-A", "dev-B")
    new_room(d, "dev-C", "dev-D")
    c = ws(d)
    assert join_as(c, room, device) == NOT_A_MEMBER
    # Not joined: no signaling, and both seats are still free for the members.
    assert c.request({"type": "webrtc_offer", "sdp": "x"}) == NOT_IN_ROOM
    assert c.request({"type": "leave_room"}) == '{"type":"left_room","roomId":null}'
    a = ws(d)
    assert json.loads(join_as(a, room, "dev-A"))["userCount"] == 1
    b = ws(d)
    assert json.loads(join_as(b, room, "dev-B"))["userCount"] == 2
    c.expect_silence(0.2)
    c.assert_alive()


def test_non_member_refusal_keeps_the_socket_where_it_was(start_daemon, ws):
    d = start_daemon(turn_config())
    room = new_room(d, "dev-A", "dev-B")
    other = new_room(d, "dev-C", "dev-D")
    a = ws(d)
    creds_a = issue(d, room, "dev-A")
    assert join_as(a, room, "dev-A") == bound_joined(room, 1, True, creds_a)
    assert join_as(a, other, "dev-A") == NOT_A_MEMBER
    b = ws(d)
    creds_b = issue(d, room, "dev-B")
    assert join_as(b, room, "dev-B") == bound_joined(room, 2, False, creds_b)
    assert b.recv_text() == room_ready(room, False)
    assert a.recv_text() == room_ready(room, True)


@pytest.mark.parametrize("with_peer", [True, False], ids=["with-peer", "alone"])
def test_reconnect_with_same_device_takes_over_the_seat(start_daemon, ws, mode, with_peer):
    d = start_daemon(turn_config(mode))
    room = new_room(d, "dev-A", "dev-B")
    creds_a = issue(d, room, "dev-A")
    old = ws(d)
    assert join_as(old, room, "dev-A") == bound_joined(room, 1, True, creds_a)
    if with_peer:
        b = ws(d)
        creds_b = issue(d, room, "dev-B")
        assert join_as(b, room, "dev-B") == bound_joined(room, 2, False, creds_b)
        assert b.recv_text() == room_ready(room, False)
        assert old.recv_text() == room_ready(room, True)
    # The old socket is still open (a phone that lost its network without a close) when the device comes back.
    assert old.open
    new = ws(d)
    if with_peer:
        # Not room_full: the device takes over its own seat. The peer has been in the room longest, so it is the
        # initiator now.
        assert join_as(new, room, "dev-A") == bound_joined(room, 2, False, creds_a)
        assert new.recv_text() == room_ready(room, False)
        # For the peer the old socket went away and the device came back as the second member.
        assert b.recv_text() == PEER_DISCONNECTED
        assert b.recv_text() == room_ready(room, True)
        b.expect_silence(0.3)
        new.send_json({"type": "webrtc_answer", "sdp": "a"})
        assert b.recv_text() == dumps({"type": "webrtc_answer", "from": new.client_id, "roomId": room, "sdp": "a"})
        b.send_json({"type": "ice_candidate", "candidate": None})
        assert new.recv_text() == dumps({"type": "ice_candidate", "from": b.client_id, "roomId": room,
                                         "candidate": None})
    else:
        assert join_as(new, room, "dev-A") == bound_joined(room, 1, True, creds_a)
        new.expect_silence(0.3)
    # The old socket is closed with 1000 (normal closure).
    assert old.wait_closed(timeout=3.0) == 1000
    new.assert_alive()


def test_socket_without_device_id_still_gets_room_full(start_daemon, ws):
    d = start_daemon(turn_config())
    room = new_room(d, "dev-A", "dev-B")
    a = ws(d)
    join_as(a, room, "dev-A")
    b = ws(d)
    join_as(b, room, "dev-B")
    assert b.recv_text() == room_ready(room, False)
    assert a.recv_text() == room_ready(room, True)
    c = ws(d)
    assert join(c, room) == dumps({"type": "room_full", "error": "Room is full (max 2 users)", "roomId": room})
    a.expect_silence(0.2)
    b.expect_silence(0.01)
    assert a.open and b.open


@pytest.mark.parametrize("with_device_id", [True, False], ids=["with-deviceId", "without-deviceId"])
def test_idempotent_rejoin_of_a_bound_socket_repeats_ice_servers(start_daemon, ws, with_device_id):
    d = start_daemon(turn_config())
    room = new_room(d, "dev-A", "dev-B")
    creds_a = issue(d, room, "dev-A")
    creds_b = issue(d, room, "dev-B")
    a = ws(d)
    assert join_as(a, room, "dev-A") == bound_joined(room, 1, True, creds_a)
    b = ws(d)
    assert join_as(b, room, "dev-B") == bound_joined(room, 2, False, creds_b)
    assert b.recv_text() == room_ready(room, False)
    assert a.recv_text() == room_ready(room, True)
    # Rejoin of the member present longest, then of the other one.
    rejoin_a = join_as(a, room, "dev-A") if with_device_id else join(a, room)
    assert rejoin_a == bound_joined(room, 2, True, creds_a)
    assert a.recv_text() == room_ready(room, True)
    rejoin_b = join_as(b, room, "dev-B") if with_device_id else join(b, room)
    assert rejoin_b == bound_joined(room, 2, False, creds_b)
    assert b.recv_text() == room_ready(room, False)
    # The other member gets nothing.
    a.expect_silence(0.3)
    b.expect_silence(0.01)


def test_device_id_is_ignored_outside_pairing_rooms(start_daemon, ws):
    d = start_daemon(turn_config(signaling__require_known_room=False))
    pairing_room = new_room(d, "dev-A", "dev-B")
    a = ws(d)
    assert join_as(a, "lobby", "dev-A") == room_joined("lobby", 1, True)
    # A second socket with the same deviceId is just a second member (no takeover), any deviceId goes.
    a2 = ws(d)
    assert join_as(a2, "lobby", "dev-A") == room_joined("lobby", 2, False)
    assert a2.recv_text() == room_ready("lobby", False)
    assert a.recv_text() == room_ready("lobby", True)
    c = ws(d)
    assert join_as(c, "lobby", "stranger") == dumps({"type": "room_full", "error": "Room is full (max 2 users)",
                                                      "roomId": "lobby"})
    assert a.open and a2.open
    c2 = ws(d)
    assert join_as(c2, "hall", "stranger") == room_joined("hall", 1, True)
    # A pairing-API room still binds its members and refuses others.
    b = ws(d)
    assert join_as(b, pairing_room, "dev-B") == bound_joined(pairing_room, 1, True, issue(d, pairing_room, "dev-B"))
    assert join_as(c2, pairing_room, "stranger") == NOT_A_MEMBER
    a.expect_silence(0.2)
    a2.expect_silence(0.01)


# --------------------------------------------------------------------------------------------------------------
# ice_servers push


def test_bound_socket_gets_fresh_credentials_before_expiry(start_daemon, ws, mode):
    d = start_daemon(turn_config(mode, ttl_seconds=10, pairing__sweep_interval_seconds=0.2))
    room = new_room(d, "dev-A", "dev-B")
    a = ws(d)
    text = join_as(a, room, "dev-A")
    old = json.loads(text)
    old_username = old["iceServers"][-1]["username"]
    old_expires = parse_iso_ms(old["expiresAt"])
    b = ws(d)
    assert join(b, room) == room_joined(room, 2, False)  # unbound
    assert b.recv_text() == room_ready(room, False)
    assert a.recv_text() == room_ready(room, True)

    push_text = a.recv_text(timeout=max(0.5, old_expires - time.time() - 0.5))
    pushed_at = time.time()
    pairs = ordered_pairs(push_text)
    assert [k for k, _ in pairs] == ["type", "iceServers", "expiresAt"], push_text
    push = json.loads(push_text)
    assert push["type"] == "ice_servers"
    # Pushed once less than a third of the lifetime was left, before the old credential expired.
    assert old_expires - 10 / 3 - 0.5 <= pushed_at < old_expires - 0.3, (pushed_at, old["expiresAt"])
    new_turn = push["iceServers"][-1]
    assert new_turn["username"] != old_username
    assert new_turn["credential"] != old["iceServers"][-1]["credential"]
    assert [entry["urls"] for entry in push["iceServers"]] == [entry["urls"] for entry in old["iceServers"]]
    assert parse_iso_ms(push["expiresAt"]) > old_expires
    # The pushed credential is the device's current one.
    current = issue(d, room, "dev-A", ttl_seconds=10)
    assert push_text == dumps({"type": "ice_servers", "iceServers": current.ice_servers,
                               "expiresAt": current.expires_at})
    check_username(d, mode, current, room, 1, ("dev-A", "dev-B"))
    # The unbound member gets nothing, and nothing else arrives.
    b.expect_silence(0.3)
    a.expect_silence(0.01)


# --------------------------------------------------------------------------------------------------------------
# room_closed


@pytest.mark.parametrize("how", ["delete", "purge"])
def test_room_closed_for_a_bound_room(start_daemon, ws, mode, how):
    d = start_daemon(turn_config(mode))
    room = new_room(d, "dev-A", "dev-B")
    a = ws(d)
    join_as(a, room, "dev-A")
    b = ws(d)
    join_as(b, room, "dev-B")
    assert b.recv_text() == room_ready(room, False)
    assert a.recv_text() == room_ready(room, True)
    if how == "delete":
        r = requests.delete(d.url + "/api/rooms", json={"roomid": room}, timeout=5)
        reason = "deleted"
    else:
        r = requests.post(d.url + "/api/user/purge", json={"deviceIds": ["dev-A"]}, timeout=5)
        reason = "purged"
    assert r.status_code == 200, r.text
    assert a.recv_text(timeout=0.5) == room_closed(room, reason)
    assert b.recv_text(timeout=0.5) == room_closed(room, reason)
    a.expect_silence(0.3)
    b.expect_silence(0.01)
    assert a.request({"type": "webrtc_offer", "sdp": "x"}) == NOT_IN_ROOM
    # The room is gone: rejoining with the deviceId is an unknown room, and no credentials are handed out.
    assert join_as(a, room, "dev-A") == UNKNOWN_ROOM
    assert join_as(b, room, "dev-B") == UNKNOWN_ROOM
    r = post_turn(d, {"roomid": room, "deviceId": "dev-A"})
    assert (r.status_code, r.text) == (404, '{"error":"not_found"}')
    assert a.open and b.open
