# Integration tests tying WebSocket rooms to the pairing API: require_known_room, room_closed, room expiry.
import re
import time

import pytest
import requests

from wsutil import (
    PONG,
    assert_serving,
    connect,
    create_room,
    dumps,
    error,
    join,
    pair,
    room_joined,
)

UNKNOWN_ROOM = '{"type":"error","error":"Unknown room"}'
NOT_IN_ROOM = error("Not in a valid room for WebRTC signaling")


def room_closed(room_id, reason):
    return dumps({"type": "room_closed", "roomId": room_id, "reason": reason})


def get_room(daemon, room_id):
    return requests.get(f"{daemon.url}/api/rooms", params={"roomid": room_id}, timeout=5)


# --------------------------------------------------------------------------------------------------------------
# signaling.require_known_room = true


def test_unknown_room_is_refused(strict_daemon):
    c = connect(strict_daemon)
    assert join(c, "R1") == UNKNOWN_ROOM
    assert join(c, "0" * 48) == UNKNOWN_ROOM
    c.assert_alive()
    assert c.request({"type": "leave_room"}) == '{"type":"left_room","roomId":null}'
    assert c.request({"type": "webrtc_offer", "sdp": "x"}) == NOT_IN_ROOM


def test_pairing_room_can_be_joined_and_used(strict_daemon):
    room = create_room(strict_daemon)
    assert re.fullmatch(r"[0-9a-f]{48}", room)
    a, b = pair(strict_daemon, room)
    a.send_json({"type": "webrtc_offer", "sdp": "v=0\r\n"})
    assert b.recv_text() == dumps({"type": "webrtc_offer", "from": a.client_id, "roomId": room, "sdp": "v=0\r\n"})
    c = connect(strict_daemon)
    assert join(c, room) == dumps({"type": "room_full", "error": "Room is full (max 2 users)", "roomId": room})


@pytest.mark.parametrize("room_id", [None, "", 5, ["x"], "a" * 129], ids=["missing", "empty", "number", "array",
                                                                              "too-long"])
def test_room_id_shape_is_checked_before_existence(strict_daemon, room_id):
    c = connect(strict_daemon)
    message = {"type": "join_room"} if room_id is None else {"type": "join_room", "roomId": room_id}
    assert c.request(message) == error("Invalid roomId")
    c.assert_alive()


def test_unknown_room_keeps_current_room(strict_daemon):
    room = create_room(strict_daemon)
    a, b = pair(strict_daemon, room)
    assert join(a, "no-such-room") == UNKNOWN_ROOM
    b.expect_silence(0.2)
    a.send_json({"type": "ice_candidate", "candidate": None})
    assert b.recv_text() == dumps({"type": "ice_candidate", "from": a.client_id, "roomId": room, "candidate": None})


def test_pending_join_code_is_not_a_room(strict_daemon):
    r = requests.post(f"{strict_daemon.url}/api/rooms",
                      json={"joinid": "123456", "client1": "dev-a", "expiresInSeconds": 60}, timeout=5)
    assert r.status_code == 201
    c = connect(strict_daemon)
    assert join(c, "123456") == UNKNOWN_ROOM


def test_deleted_room_cannot_be_joined(strict_daemon):
    room = create_room(strict_daemon)
    r = requests.delete(f"{strict_daemon.url}/api/rooms", json={"roomid": room}, timeout=5)
    assert r.status_code == 200
    c = connect(strict_daemon)
    assert join(c, room) == UNKNOWN_ROOM


# --------------------------------------------------------------------------------------------------------------
# room_closed


def test_delete_sends_room_closed_before_the_response(strict_daemon):
    room = create_room(strict_daemon)
    a, b = pair(strict_daemon, room)
    r = requests.delete(f"{strict_daemon.url}/api/rooms", json={"roomid": room}, timeout=5)
    assert r.status_code == 200
    assert r.json() == {"ok": True}
    # Sent while the DELETE was handled: already here (or on the wire) when the response has arrived.
    assert a.recv_text(timeout=0.25) == room_closed(room, "deleted")
    assert b.recv_text(timeout=0.25) == room_closed(room, "deleted")
    # The members are out of the room, without peer_left/peer_disconnected, and their sockets stay open.
    a.expect_silence(0.3)
    b.expect_silence(0.01)
    assert a.request({"type": "webrtc_offer", "sdp": "x"}) == NOT_IN_ROOM
    assert b.request({"type": "ice_candidate", "candidate": None}) == NOT_IN_ROOM
    assert a.request({"type": "leave_room"}) == '{"type":"left_room","roomId":null}'
    b.assert_alive()
    # Leaving for good after the room closed tells nobody anything.
    a.close()
    b.expect_silence(0.3)
    assert join(b, room) == UNKNOWN_ROOM


@pytest.mark.parametrize("body", [
    {"deviceIds": ["device-one"]},
    {"deviceIds": ["someone-else", "device-two"]},
    {"deviceId": "device-one"},
], ids=["client1", "client2", "legacy-deviceId"])
def test_purge_sends_room_closed_purged(strict_daemon, body):
    room = create_room(strict_daemon, "device-one", "device-two")
    a, b = pair(strict_daemon, room)
    r = requests.post(f"{strict_daemon.url}/api/user/purge", json=body, timeout=5)
    assert r.status_code == 200
    assert r.json()["success"] is True
    assert r.json()["roomsDeleted"] == 1
    assert a.recv_text(timeout=0.25) == room_closed(room, "purged")
    assert b.recv_text(timeout=0.25) == room_closed(room, "purged")
    a.expect_silence(0.3)
    b.expect_silence(0.01)
    assert a.request({"type": "webrtc_answer", "sdp": "x"}) == NOT_IN_ROOM
    b.close()
    a.expect_silence(0.3)
    a.assert_alive()
    assert get_room(strict_daemon, room).status_code == 404


def test_room_closed_reaches_a_lone_member(strict_daemon):
    room = create_room(strict_daemon)
    a = connect(strict_daemon)
    assert join(a, room) == room_joined(room, 1, True)
    r = requests.delete(f"{strict_daemon.url}/api/rooms", json={"roomid": room}, timeout=5)
    assert r.status_code == 200
    assert a.recv_text(timeout=0.25) == room_closed(room, "deleted")
    assert a.request({"type": "leave_room"}) == '{"type":"left_room","roomId":null}'


def test_purge_closes_every_room_of_the_device(strict_daemon):
    room1 = create_room(strict_daemon, "shared-dev", "peer-one")
    room2 = create_room(strict_daemon, "peer-two", "shared-dev")
    room3 = create_room(strict_daemon, "bystander-a", "bystander-b")
    a1, b1 = pair(strict_daemon, room1)
    a2, b2 = pair(strict_daemon, room2)
    a3, b3 = pair(strict_daemon, room3)
    r = requests.post(f"{strict_daemon.url}/api/user/purge", json={"deviceIds": ["shared-dev"]}, timeout=5)
    assert r.status_code == 200
    assert r.json()["roomsDeleted"] == 2
    for c in (a1, b1):
        assert c.recv_text(timeout=0.25) == room_closed(room1, "purged")
    for c in (a2, b2):
        assert c.recv_text(timeout=0.25) == room_closed(room2, "purged")
    a3.expect_silence(0.2)
    b3.expect_silence(0.01)
    a3.send_json({"type": "webrtc_offer", "sdp": "x"})
    assert b3.recv_text() == dumps({"type": "webrtc_offer", "from": a3.client_id, "roomId": room3, "sdp": "x"})


def test_delete_leaves_other_rooms_and_clients_alone(strict_daemon):
    room1 = create_room(strict_daemon, "d1", "d2")
    room2 = create_room(strict_daemon, "d3", "d4")
    a1, b1 = pair(strict_daemon, room1)
    a2, b2 = pair(strict_daemon, room2)
    idle = connect(strict_daemon)
    r = requests.delete(f"{strict_daemon.url}/api/rooms", json={"roomid": room1}, timeout=5)
    assert r.status_code == 200
    assert a1.recv_text(timeout=0.25) == room_closed(room1, "deleted")
    assert b1.recv_text(timeout=0.25) == room_closed(room1, "deleted")
    a2.expect_silence(0.2)
    b2.expect_silence(0.01)
    idle.expect_silence(0.01)
    b2.send_json({"type": "webrtc_answer", "sdp": "y"})
    assert a2.recv_text() == dumps({"type": "webrtc_answer", "from": b2.client_id, "roomId": room2, "sdp": "y"})


def test_delete_of_unknown_room_sends_nothing(strict_daemon):
    room = create_room(strict_daemon)
    a, b = pair(strict_daemon, room)
    for _ in range(2):
        r = requests.delete(f"{strict_daemon.url}/api/rooms", json={"roomid": "f" * 48}, timeout=5)
        assert r.status_code == 200
        assert r.json() == {"ok": True}
    a.expect_silence(0.2)
    b.expect_silence(0.01)


def test_deleting_twice_sends_room_closed_once(strict_daemon):
    room = create_room(strict_daemon)
    a, b = pair(strict_daemon, room)
    for _ in range(2):
        assert requests.delete(f"{strict_daemon.url}/api/rooms", json={"roomid": room}, timeout=5).status_code == 200
    assert a.recv_text(timeout=0.25) == room_closed(room, "deleted")
    assert b.recv_text(timeout=0.25) == room_closed(room, "deleted")
    a.expect_silence(0.2)
    b.expect_silence(0.01)


def test_room_closed_after_a_peer_moved_away(strict_daemon):
    room1 = create_room(strict_daemon, "m1", "m2")
    room2 = create_room(strict_daemon, "m1", "m3")
    a, b = pair(strict_daemon, room1)
    assert join(a, room2) == room_joined(room2, 1, True)
    assert b.recv_text() == '{"type":"peer_left","message":"Other user left the room"}'
    requests.delete(f"{strict_daemon.url}/api/rooms", json={"roomid": room1}, timeout=5)
    assert b.recv_text(timeout=0.25) == room_closed(room1, "deleted")
    a.expect_silence(0.2)
    assert a.request({"type": "ping"}) == PONG


# --------------------------------------------------------------------------------------------------------------
# room expiry


EXPIRY = {"pairing.room_ttl_seconds": 0.5, "pairing.sweep_interval_seconds": 0.2}


def test_idle_room_expires(start_daemon):
    d = start_daemon(EXPIRY)
    room = create_room(d)
    time.sleep(1.5)  # no GET in between: a GET counts as activity
    r = get_room(d, room)
    assert r.status_code == 404
    assert r.json() == {"error": "not_found"}
    c = connect(d)
    assert join(c, room) == UNKNOWN_ROOM
    assert_serving(d)


def test_connected_member_keeps_room_alive_until_it_leaves(start_daemon):
    d = start_daemon(EXPIRY)
    room = create_room(d)
    a = connect(d)
    assert join(a, room) == room_joined(room, 1, True)
    time.sleep(1.3)
    a.expect_silence(0.01)
    assert get_room(d, room).status_code == 200
    a.close()
    time.sleep(1.3)
    assert get_room(d, room).status_code == 404


def test_expired_room_is_gone_without_rest_touches(start_daemon):
    d = start_daemon(EXPIRY)
    expiring = create_room(d, "e1", "e2")
    kept = create_room(d, "k1", "k2")
    member = connect(d)
    assert join(member, kept) == room_joined(kept, 1, True)
    time.sleep(1.5)
    assert get_room(d, expiring).status_code == 404
    r = get_room(d, kept)
    assert r.status_code == 200
    assert r.json() == {"roomid": kept, "client1": "k1", "client2": "k2"}
