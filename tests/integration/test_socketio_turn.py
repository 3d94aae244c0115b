# Per-session TURN credentials of the session dialect (seed 002) against the real coturn: the `ice_servers` event
# and POST /turn/credentials hand out the same per-user credentials, which relay; they stay valid while the
# session has members and are revoked, live relays included, sessions.turn_grace_seconds after its last member
# left; another session's relay goes on.
"""turnpiked and coturn share one database file (conftest.turn_stack), in both turn.mode values; relays are real
turnutils_uclient runs echoed by turnutils_peer (see test_turn_coturn)."""
import time

import pytest
import requests

from httputil import wait_for
from sioutil import CLIENT_TRANSPORTS
from test_turn_coturn import (LIVE_MESSAGES, MODES, assert_allocates, assert_refused, assert_session_alive,
                              assert_session_ended)
from turnutil import Credentials, coturn_available

pytestmark = pytest.mark.skipif(not coturn_available(), reason="coturn is not installed")

GRACE_SECONDS = 1


def session_credentials(ice_servers_payload):
    """turnutil.Credentials from an {iceServers, timestamp} payload (it carries no ttl/expiresAt)."""
    return Credentials({"iceServers": ice_servers_payload["iceServers"], "ttl": None, "expiresAt": None})


def first_event(sio, id):
    report = sio.expect(id, "event")
    assert report["event"] == "ice_servers", report
    return report["args"][0]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("transports", list(CLIENT_TRANSPORTS))
def test_session_credentials_relay_and_end_with_the_session(turn_stack, sio, mode, transports):
    stack = turn_stack(mode, {"sessions.turn_grace_seconds": GRACE_SECONDS})
    url = stack.daemon.url + "/sessions"
    t = CLIENT_TRANSPORTS[transports]
    sio.connected("a", url, auth={"userId": "alice", "sessionId": "call-1"}, transports=t)
    sio.connected("b", url, auth={"userId": "bob", "sessionId": "call-2"}, transports=t)
    creds_a = session_credentials(first_event(sio, "a"))
    creds_b = session_credentials(first_event(sio, "b"))
    assert creds_a.username != creds_b.username

    # The REST route hands a user with a live socket the same credentials; anyone else gets STUN only.
    r = requests.post(stack.daemon.url + "/turn/credentials", json={"userId": "alice", "sessionId": "call-1"},
                      timeout=5)
    assert r.status_code == 200 and set(r.json()) == {"iceServers", "timestamp"}, r.text
    assert session_credentials(r.json()).username == creds_a.username
    r = requests.post(stack.daemon.url + "/turn/credentials", json={"userId": "mallory", "sessionId": "call-1"},
                      timeout=5)
    assert all("username" not in entry for entry in r.json()["iceServers"]), r.text

    assert_allocates(stack.allocate(creds_a), "alice's session credential")
    peer = stack.peer()
    live_a = stack.uclient(creds_a, peer, transport="udp", messages=LIVE_MESSAGES, name="live-a")
    live_b = stack.uclient(creds_b, peer, transport="tcp", messages=LIVE_MESSAGES, name="live-b")
    live_a.wait_receiving()
    live_b.wait_receiving()
    assert stack.coturn.sessions(creds_a.username)

    # Alice leaves: her session is empty; after the grace period its credentials go, and her relay with them.
    sio.disconnect("a")
    left_at = time.monotonic()
    wait_for(lambda: not stack.coturn.sessions(creds_a.username), timeout=GRACE_SECONDS + 5,
             message="coturn to drop alice's relay")
    revoked_at = time.monotonic()
    assert revoked_at - left_at >= GRACE_SECONDS * 0.9, "revoked before the grace period was over"
    assert_session_ended(live_a, revoked_at)
    assert_session_alive(live_b, left_at, time.monotonic())
    assert_refused(stack.allocate(creds_a), "alice's credential after her session ended")
    assert_allocates(stack.allocate(creds_b), "bob's credential while his session lives")
    assert "session_credentials_revoked" in stack.daemon.log()
    wait_for(lambda: stack.kills_pending() == 0, timeout=5, message="turnKillsPending back to 0")


@pytest.mark.parametrize("mode", MODES)
def test_a_member_back_within_the_grace_period_keeps_the_credentials(turn_stack, sio, mode):
    stack = turn_stack(mode, {"sessions.turn_grace_seconds": 3})
    url = stack.daemon.url + "/sessions"
    sio.connected("a", url, auth={"userId": "alice", "sessionId": "call-1"}, transports=["websocket"])
    creds = session_credentials(first_event(sio, "a"))
    sio.disconnect("a")
    time.sleep(0.5)
    sio.connected("again", url, auth={"userId": "alice", "sessionId": "call-1"}, transports=["websocket"])
    assert session_credentials(first_event(sio, "again")).username == creds.username
    time.sleep(3.5)  # past the grace period that started when the session was first empty
    assert_allocates(stack.allocate(creds), "the credential of a session that has a member again")


def test_credentials_of_sessions_from_before_a_restart_are_revoked(turn_stack, sio):
    stack = turn_stack("long-term")
    url = stack.daemon.url + "/sessions"
    sio.connected("a", url, auth={"userId": "alice", "sessionId": "call-1"}, transports=["websocket"])
    creds = session_credentials(first_event(sio, "a"))
    assert_allocates(stack.allocate(creds), "the session credential")
    sio.close_all()
    assert stack.daemon.stop() == 0
    stack.daemon.start()
    assert_refused(stack.allocate(creds), "a session credential after the daemon restarted")
    assert "session_credentials_revoked" in stack.daemon.log()


@pytest.mark.parametrize("mode", MODES)
def test_fresh_credentials_arrive_before_the_old_ones_expire(start_daemon, sio, mode):
    from test_turn_api import turn_config

    d = start_daemon(turn_config(mode, ttl_seconds=10, pairing__sweep_interval_seconds=0.2))
    sio.connected("a", d.url + "/sessions", auth={"userId": "alice", "sessionId": "call-1"},
                  transports=["websocket"])
    first = session_credentials(first_event(sio, "a"))
    received_at = time.time()
    pushed = sio.expect_event("a", "ice_servers", timeout=10)
    pushed_at = time.time()
    fresh = session_credentials(pushed[0])
    # Renewed once less than a third of the 10 s lifetime was left, before the old credential expired.
    assert 10 * 2 / 3 - 1 <= pushed_at - received_at < 10, pushed_at - received_at
    assert fresh.username != first.username and fresh.credential != first.credential
    assert [e["urls"] for e in pushed[0]["iceServers"]] == [e["urls"] for e in first.body["iceServers"]]
    # POST /turn/credentials hands out the fresh one now.
    r = requests.post(d.url + "/turn/credentials", json={"userId": "alice", "sessionId": "call-1"}, timeout=5)
    assert session_credentials(r.json()).username == fresh.username
