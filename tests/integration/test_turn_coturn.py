# Per-room TURN credentials against the real coturn: issued credentials relay, wrong ones fail, revocation (delete,
# purge, room expiry) refuses new allocations and ends live relay sessions, and credential expiry refuses new
# allocations only (live relays end with their room).
"""Every test runs turnpiked and coturn (`turnserver -c <turnpikectl coturn-config output> --log-file=stdout
--pidfile=<tmp>`) on loopback on one database file, in both turn.mode values.

Live sessions are real `turnutils_uclient` runs relaying through coturn to a `turnutils_peer`, which echoes every
message back. A session counts as ended when uclient's echoed-message count (`tot_recv_msgs` in its once-a-second
progress line) stops growing while its sent count (`tot_send_msgs`) keeps growing; coturn's CLI no longer lists the
session and coturn's log names it in "Session <id> to be forcefully canceled". A session that must survive keeps
its echo count growing.
"""
import re
import sqlite3
import time

import pytest
import requests

import wsutil
from httputil import parse_iso_ms, wait_for
from turnutil import REALM, TurnClient, coturn_available, rest_credential, try_allocate

pytestmark = pytest.mark.skipif(not coturn_available(), reason="coturn is not installed")

MODES = ["long-term", "rest"]

# uclient sends one message every 20 ms after 1-5 s of setup; 900 messages keep a live session sending
# for about 18 s, longer than any observation window below.
LIVE_MESSAGES = 900
# How long after a revocation the session must have stopped relaying (the contract says "well under a second";
# uclient only reports once a second).
KILL_DEADLINE = 2.0
# How long a stopped session is watched to show that it stays stopped while uclient keeps sending.
STALL_WINDOW = 2.0


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


def sleep_until(when):
    left = when - time.monotonic()
    if left > 0:
        time.sleep(left)


def room_exists(db_path, roomid):
    con = sqlite3.connect(str(db_path), timeout=2)
    try:
        return con.execute("SELECT 1 FROM rooms WHERE roomid = ?", (roomid,)).fetchone() is not None
    finally:
        con.close()


def assert_refused(result, what):
    assert not result.ok and result.code == 401, f"{what}: expected 401 from coturn, got {result}"


def assert_allocates(result, what):
    assert result.ok, f"{what}: expected a successful allocation, got {result}"


def assert_username_shape(mode, creds, room, slot):
    """Opaque usernames: 32 random hex characters (rest: `<expiry>:<32 hex>`), nothing of the room id or the
    device ids in them (the room id is the room's bearer capability)."""
    exp = int(parse_iso_ms(creds.expires_at))
    if mode == "long-term":
        assert re.fullmatch(r"[0-9a-f]{32}", creds.username), creds.username
        assert len(creds.credential) == 32 and all(c in "0123456789abcdef" for c in creds.credential), creds.body
    else:
        m = re.fullmatch(r"(\d+):[0-9a-f]{32}", creds.username)
        assert m, creds.username
        assert abs(int(m.group(1)) - exp) <= 1, (creds.username, creds.expires_at)
    for secret in (room.roomid, room.client1, room.client2):
        assert not any(secret[i:i + 6] in creds.username for i in range(len(secret) - 5)), (creds.username, secret)


# --- credentials work ------------------------------------------------------------------------------------------


def test_issued_credentials_allocate_and_relay(turn_stack, mode):
    stack = turn_stack(mode)
    room = stack.room()
    creds = stack.credentials(room, slot=1)
    udp_url = f"turn:127.0.0.1:{stack.turn_port}?transport=udp"
    tcp_url = f"turn:127.0.0.1:{stack.turn_port}?transport=tcp"
    assert creds.body["iceServers"] == [{"urls": [udp_url, tcp_url], "username": creds.username,
                                         "credential": creds.credential}], creds.body
    assert 0 < creds.ttl <= 3600
    assert_username_shape(mode, creds, room, 1)

    # uclient over each advertised URL: allocate, relay 20 messages to the peer and get all 20 echoes back.
    peer = stack.peer()
    clients = {t: stack.uclient(creds, peer, transport=t, messages=20, name=f"relay-{t}") for t in ("udp", "tcp")}
    for transport, uc in clients.items():
        assert uc.wait(timeout=25) == 0, (transport, uc.output())
        assert uc.lost() == 0, (transport, uc.output())
        assert uc.progress()[-1][1:] == (20, 20), (transport, uc.output())

    # The room's other device gets its own credential, which works too (own client: allocate, permission, echo).
    creds2 = stack.credentials(room, slot=2)
    assert_username_shape(mode, creds2, room, 2)
    assert creds2.username != creds.username
    with TurnClient(creds2.port_for("udp")) as client:
        assert_allocates(client.allocate(creds2.username, creds2.credential), "slot 2")
        assert client.create_permission("127.0.0.1") == (True, None)
        client.send_to(("127.0.0.1", peer.port), b"slot-two")
        assert client.recv_data(timeout=2) == b"slot-two"

    # Asking again returns the same credential (it is stable until a third of its lifetime is left).
    again = stack.credentials(room, slot=1)
    assert (again.username, again.credential, again.expires_at) == (creds.username, creds.credential,
                                                                     creds.expires_at)


def test_wrong_credentials_are_refused(turn_stack, mode):
    stack = turn_stack(mode)
    a, b = stack.room("a"), stack.room("b")
    ca, cb = stack.credentials(a), stack.credentials(b)
    assert_allocates(stack.allocate(ca), "room A's own credential")

    peer = stack.peer()
    wrong = ca.with_credential("x" + ca.credential)
    uc = stack.uclient(wrong, peer, messages=5, name="wrong-password")
    assert uc.wait(timeout=10) != 0, uc.output()
    assert "Cannot complete Allocation" in uc.output(), uc.output()

    for transport in ("udp", "tcp"):
        assert_refused(stack.allocate(wrong, transport), f"wrong password over {transport}")
    # A username the daemon never issued (another opaque id; rest: another expiry) with a real credential.
    if mode == "long-term":
        forged = ca.username[:-1] + ("0" if ca.username[-1] != "0" else "1")
    else:
        expiry, userid = ca.username.split(":")
        forged = f"{int(expiry) + 1}:{userid}"
    assert_refused(try_allocate(stack.turn_port, forged, ca.credential), "forged username")
    if mode == "long-term":
        # One user per credential: room B's password does not open room A's user, nor the other way round.
        assert_refused(try_allocate(stack.turn_port, ca.username, cb.credential), "A's user with B's password")
        assert_refused(try_allocate(stack.turn_port, cb.username, ca.credential), "B's user with A's password")
    # rest mode: coturn tries every secret of the realm for any userid (coturn.md section 3), so a credential
    # minted with room B's secret for room A's userid would work; only revocation per secret can be asserted.


def test_deleting_a_room_revokes_only_its_credentials(turn_stack, mode):
    stack = turn_stack(mode)
    a, b = stack.room("a"), stack.room("b")
    creds = {(r, s): stack.credentials(room, slot=s) for r, room in (("a", a), ("b", b)) for s in (1, 2)}
    for key, c in creds.items():
        assert_allocates(stack.allocate(c), f"{key} before the delete")

    r = stack.api.delete_room(a.roomid)
    assert (r.status_code, r.json()) == (200, {"ok": True}), r.text
    for s in (1, 2):
        for transport in ("udp", "tcp"):
            assert_refused(stack.allocate(creds[("a", s)], transport), f"deleted room A slot {s} over {transport}")
        assert_allocates(stack.allocate(creds[("b", s)]), f"room B slot {s} after A was deleted")
    r = stack.credentials_response(a.roomid, a.client1)
    assert (r.status_code, r.json()) == (404, {"error": "not_found"}), r.text
    wait_for(lambda: stack.kills_pending() == 0, timeout=5, message="turnKillsPending back to 0")


# --- live sessions end on revocation ---------------------------------------------------------------------------


class LiveSessions:
    """Room A's and room B's live uclient sessions, both relaying."""

    def __init__(self, stack, creds_a, creds_b, transport_b="tcp"):
        self.stack = stack
        self.peer = stack.peer()
        self.a = stack.uclient(creds_a, self.peer, transport="udp", messages=LIVE_MESSAGES, name="live-a")
        self.b = stack.uclient(creds_b, self.peer, transport=transport_b, messages=LIVE_MESSAGES, name="live-b")

    def wait_relaying(self, timeout=15):
        self.a.wait_receiving(timeout=timeout)
        self.b.wait_receiving(timeout=timeout)

    def sessions(self, room):
        return self.stack.sessions(room)


def assert_session_ended(uc, revoked_at):
    """uclient's echo count is frozen from revoked_at + KILL_DEADLINE on while it keeps sending."""
    sleep_until(revoked_at + KILL_DEADLINE + STALL_WINDOW + 0.1)
    sent0, recv0 = uc.counts_at(revoked_at + KILL_DEADLINE)
    sent1, recv1 = uc.counts_at(time.monotonic())
    assert sent1 - sent0 >= 40, f"uclient stopped sending, so the observation proves nothing:\n{uc.output()[-2000:]}"
    assert recv1 == recv0, (f"the revoked session still relays {KILL_DEADLINE}s after revocation "
                            f"(echoes {recv0} -> {recv1}):\n{uc.output()[-2000:]}")


def assert_session_alive(uc, start, end):
    _, recv0 = uc.counts_at(start)
    _, recv1 = uc.counts_at(end)
    assert recv1 - recv0 >= 40, (f"the other room's session stopped relaying (echoes {recv0} -> {recv1}):\n"
                                 f"{uc.output()[-2000:]}")


def assert_revoked_live(stack, live, room_a, room_b, creds_a, creds_b, ids_a, ids_b, revoked_at):
    """Room A's live session ended, room B's goes on; A's credential is refused, B's still works."""
    wait_for(lambda: not live.sessions(room_a), timeout=KILL_DEADLINE, message="coturn to drop room A's sessions")
    assert_session_ended(live.a, revoked_at)
    assert_session_alive(live.b, revoked_at, time.monotonic())
    canceled = set(stack.coturn.forced_cancels())
    assert ids_a <= canceled, (ids_a, canceled)
    assert not ids_b & canceled, (ids_b, canceled)
    assert {i for i, _ in live.sessions(room_b)} == ids_b
    assert_refused(stack.allocate(creds_a), "room A's credential after revocation")
    assert_allocates(stack.allocate(creds_b), "room B's credential after room A's revocation")
    wait_for(lambda: stack.kills_pending() == 0, timeout=5, message="turnKillsPending back to 0")


def start_two_rooms(stack):
    room_a, room_b = stack.room("a"), stack.room("b")
    creds_a, creds_b = stack.credentials(room_a), stack.credentials(room_b)
    live = LiveSessions(stack, creds_a, creds_b)
    live.wait_relaying()
    ids_a = {i for i, _ in live.sessions(room_a)}
    ids_b = {i for i, _ in live.sessions(room_b)}
    assert ids_a and ids_b and not ids_a & ids_b, (ids_a, ids_b)
    return room_a, room_b, creds_a, creds_b, live, ids_a, ids_b


@pytest.mark.parametrize("how", ["delete", "purge"])
def test_delete_or_purge_ends_live_sessions(turn_stack, mode, how):
    stack = turn_stack(mode)
    room_a, room_b, creds_a, creds_b, live, ids_a, ids_b = start_two_rooms(stack)

    revoked_at = time.monotonic()
    if how == "delete":
        r = stack.api.delete_room(room_a.roomid)
        assert (r.status_code, r.json()) == (200, {"ok": True}), r.text
    else:
        r = stack.api.purge({"deviceIds": [room_a.client1]})
        assert r.status_code == 200 and r.json()["roomsDeleted"] == 1, r.text
    assert_revoked_live(stack, live, room_a, room_b, creds_a, creds_b, ids_a, ids_b, revoked_at)


def test_room_expiry_ends_live_sessions(turn_stack, mode):
    # Room A has no WebSocket member and expires after 10 s of inactivity; room B stays alive through its member.
    stack = turn_stack(mode, {"pairing.room_ttl_seconds": 10})
    room_a, room_b = stack.room("a"), stack.room("b")
    member = wsutil.connect(stack.daemon)
    stack.closers.append(member.close)
    assert '"room_joined"' in wsutil.join(member, room_b.roomid)
    creds_a, creds_b = stack.credentials(room_a), stack.credentials(room_b)
    live = LiveSessions(stack, creds_a, creds_b)
    live.wait_relaying()
    ids_a = {i for i, _ in live.sessions(room_a)}
    ids_b = {i for i, _ in live.sessions(room_b)}
    assert ids_a and ids_b, (ids_a, ids_b)
    assert room_exists(stack.daemon.db_path, room_a.roomid), "room A expired before its session was relaying"

    wait_for(lambda: not room_exists(stack.daemon.db_path, room_a.roomid), timeout=12, message="room A to expire")
    revoked_at = time.monotonic()
    assert room_exists(stack.daemon.db_path, room_b.roomid)
    assert_revoked_live(stack, live, room_a, room_b, creds_a, creds_b, ids_a, ids_b, revoked_at)


# uclient sends for about 30 s after its setup: through the credential's expiry (15 s), the observation after it
# and the room's delete.
EXPIRY_MESSAGES = 1500


def credential_expired(db_path, username):
    """The sweeper has expired `username`: it is no longer a credential (nor a coturn user), only a name kept
    to end its room's relays."""
    con = sqlite3.connect(str(db_path), timeout=2)
    try:
        valid = con.execute("SELECT 1 FROM turn_credentials WHERE username = ?", (username,)).fetchone()
        return valid is None
    finally:
        con.close()


def test_credential_expiry_refuses_new_allocations_but_keeps_live_relays(turn_stack, mode):
    # Credentials live 15 s. Room A's relays (a uclient run, and a client of our own that refreshes) were
    # allocated before the expiry and must go on after it while the room lives; they end when the room does.
    stack = turn_stack(mode, {"turn.ttl_seconds": 15})
    room_a = stack.room("a")
    creds_a = stack.credentials(room_a)
    assert 14 <= creds_a.ttl <= 15, creds_a.body
    peer = stack.peer()
    ua = stack.uclient(creds_a, peer, messages=EXPIRY_MESSAGES, name="live-a")
    own = TurnClient(creds_a.port_for("udp"))
    stack.closers.append(own.close)
    assert_allocates(own.allocate(creds_a.username, creds_a.credential), "own client before the expiry")
    assert own.create_permission("127.0.0.1") == (True, None)
    expires_a = time.monotonic() + (parse_iso_ms(creds_a.expires_at) - time.time())

    ua.wait_receiving(timeout=max(1.0, expires_a - time.monotonic() - 1.0))
    ids_a = {i for i, _ in stack.sessions(room_a)}
    assert len(ids_a) >= 2, ids_a  # uclient's and ours
    assert time.monotonic() < expires_a - 0.5, "room A's credential expired before its session was relaying"

    # The sweeper expires the credential...
    sleep_until(expires_a)
    wait_for(lambda: credential_expired(stack.daemon.db_path, creds_a.username), timeout=5,
             message="the sweeper to expire room A's credential")
    expired_at = time.monotonic()
    # ...while the relays allocated before go on: echoes keep coming well after the sweep (when the old sweeper's
    # kill had stopped them), Refresh and a new permission work, data is relayed, and nothing was canceled or
    # queued for a kill...
    sleep_until(expired_at + KILL_DEADLINE + STALL_WINDOW)
    assert_session_alive(ua, expired_at + KILL_DEADLINE, time.monotonic())
    assert own.refresh(600) == (True, None)
    assert own.create_permission("127.0.0.1") == (True, None)
    own.send_to(("127.0.0.1", peer.port), b"after-expiry")
    assert own.recv_data(timeout=2) == b"after-expiry"
    assert {i for i, _ in stack.sessions(room_a)} == ids_a
    assert not ids_a & set(stack.coturn.forced_cancels())
    assert stack.kills_pending() == 0
    # ...but a new allocation with it is refused (rest: coturn accepts a username until the end of its expiry
    # second, which is long past here).
    assert_refused(stack.allocate(creds_a), "a new allocation with the expired credential")
    # The room itself gets a fresh credential, which allocates.
    fresh = stack.credentials(room_a)
    assert fresh.username != creds_a.username
    assert_allocates(stack.allocate(fresh), "room A's fresh credential")

    # The room ends: now its relays end, the ones of the expired credential included.
    deleted_at = time.monotonic()
    r = stack.api.delete_room(room_a.roomid)
    assert (r.status_code, r.json()) == (200, {"ok": True}), r.text
    wait_for(lambda: not stack.sessions(room_a), timeout=KILL_DEADLINE, message="coturn to drop room A's sessions")
    assert_session_ended(ua, deleted_at)
    assert ids_a <= set(stack.coturn.forced_cancels())
    assert own.refresh(600)[0] is False
    assert_refused(stack.allocate(fresh), "room A's fresh credential after the delete")
    wait_for(lambda: stack.kills_pending() == 0, timeout=5, message="turnKillsPending back to 0")


# --- coturn unavailable ----------------------------------------------------------------------------------------


def test_kill_waits_while_coturn_is_down(turn_stack, mode):
    stack = turn_stack(mode)
    room_a, room_b = stack.room("a"), stack.room("b")
    creds_a, creds_b = stack.credentials(room_a), stack.credentials(room_b)
    assert_allocates(stack.allocate(creds_a), "room A before the delete")
    assert stack.kills_pending() == 0

    stack.coturn.stop()
    r = stack.api.delete_room(room_a.roomid)
    assert (r.status_code, r.json()) == (200, {"ok": True}), r.text
    assert stack.kills_pending() > 0
    time.sleep(1.5)  # several retries (turn.kill_retry_seconds = 0.5) all fail
    health = stack.health()
    assert health["status"] == "ok" and health["turnKillsPending"] > 0, health
    assert stack.daemon.proc.poll() is None
    r = requests.get(stack.daemon.url + "/", timeout=5)
    assert r.status_code == 200
    # Issuing credentials does not need coturn.
    assert stack.credentials(room_b).username == creds_b.username

    stack.coturn.start()
    wait_for(lambda: stack.kills_pending() == 0, timeout=20,
             message="the pending kill to complete after coturn came back")
    assert "CLI authentication success" in stack.coturn.current_log(), stack.coturn.current_log()[-3000:]
    assert stack.daemon.proc.poll() is None and stack.coturn.alive()
    assert_refused(stack.allocate(creds_a), "deleted room A after coturn's restart")
    assert_allocates(stack.allocate(creds_b), "room B after coturn's restart")
    if mode == "rest":
        # The deleted room's secret is gone from coturn's table, room B's is still there.
        con = sqlite3.connect(str(stack.daemon.db_path), timeout=2)
        try:
            secrets = [v for (v,) in con.execute("SELECT value FROM turn_secret WHERE realm = ?", (REALM,))]
        finally:
            con.close()
        assert len(secrets) == 1
        assert rest_credential(secrets[0], creds_b.username) == creds_b.credential


# --- the kill backlog -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kills_per_login", [1, 256])
def test_kills_are_batched_per_cli_login(turn_stack, kills_per_login):
    # Both rooms are purged in one request; their live sessions end whether one CLI login serves both kills or
    # each needs its own (turn.kills_per_login = 1).
    stack = turn_stack("long-term", {"turn.kills_per_login": kills_per_login})
    room_a, room_b = stack.room("a"), stack.room("b")
    creds_a, creds_b = stack.credentials(room_a), stack.credentials(room_b)
    live = LiveSessions(stack, creds_a, creds_b)
    live.wait_relaying()
    ids = {i for i, _ in live.sessions(room_a)} | {i for i, _ in live.sessions(room_b)}
    assert len(ids) >= 2, ids

    revoked_at = time.monotonic()
    r = stack.api.purge({"deviceIds": [room_a.client1, room_b.client1]})
    assert r.status_code == 200 and r.json()["roomsDeleted"] == 2, r.text
    wait_for(lambda: not live.sessions(room_a) and not live.sessions(room_b), timeout=KILL_DEADLINE,
             message="coturn to drop both rooms' sessions")
    assert_session_ended(live.a, revoked_at)  # (room B's session runs over TCP, which coturn closes)
    assert ids <= set(stack.coturn.forced_cancels())
    wait_for(lambda: stack.kills_pending() == 0, timeout=5, message="turnKillsPending back to 0")
    batches = [int(k) for k in re.findall(r"event=turn_sessions_ended sessions=\d+ kills=(\d+)", stack.daemon.log())]
    assert sum(batches) == 2, batches
    assert max(batches) == min(2, kills_per_login), batches


def test_a_refused_cli_login_is_reported_and_retried(turn_stack):
    # coturn's CLI password no longer matches turnpike's: each kill attempt fails with a clear reason (once,
    # the reason was read from a dialog already freed), the daemon keeps serving, and the kill stays queued.
    stack = turn_stack("long-term")
    room = stack.room("a")
    stack.credentials(room)
    stack.coturn.stop()
    conf = stack.coturn.conf_path.read_text()
    stack.coturn.conf_path.write_text(re.sub(r"(?m)^cli-password=.*$", "cli-password=not-turnpikes", conf))
    stack.coturn.start()
    r = stack.api.delete_room(room.roomid)
    assert (r.status_code, r.json()) == (200, {"ok": True}), r.text
    wait_for(lambda: 'event=turn_kill_failed reason="wrong password"' in stack.daemon.log(), timeout=10,
             message="a turn_kill_failed line naming the wrong password")
    failures = re.findall(r'event=turn_kill_failed reason="([^"]*)"', stack.daemon.log())
    assert set(failures) == {"wrong password"}, failures
    assert stack.kills_pending() > 0
    assert stack.daemon.proc.poll() is None
    assert requests.get(stack.daemon.url + "/health", timeout=5).status_code == 200


def test_room_id_stays_out_of_logs_and_turn_usernames(turn_stack, mode):
    # The room id is the room's bearer capability: after pairing, signaling with both devices, relaying through
    # coturn and deleting the room (which ends the live session through coturn's CLI), neither turnpiked's
    # info-level log nor coturn's log holds a piece of it, and coturn's CLI lists only the opaque username.
    stack = turn_stack(mode, {"log.level": "info"})
    room = stack.room("logs")
    a, b = wsutil.connect(stack.daemon), wsutil.connect(stack.daemon)
    try:
        for client, device in ((a, room.client1), (b, room.client2)):
            text = client.request({"type": "join_room", "roomId": room.roomid, "deviceId": device})
            assert '"room_joined"' in text and '"iceServers"' in text, text
        creds = stack.credentials(room)
        assert_username_shape(mode, creds, room, 1)
        uc = stack.uclient(creds, stack.peer(), messages=LIVE_MESSAGES, name="logs")
        uc.wait_receiving(timeout=15)
        # coturn's CLI lists the session under the opaque username only.
        listed = stack.sessions(room)
        assert listed and {user for _, user in listed} == {creds.username}, listed
        r = stack.api.delete_room(room.roomid)
        assert (r.status_code, r.json()) == (200, {"ok": True}), r.text
        wait_for(lambda: not stack.sessions(room), timeout=KILL_DEADLINE, message="coturn to drop the session")
        wait_for(lambda: stack.kills_pending() == 0, timeout=5, message="turnKillsPending back to 0")
    finally:
        a.close()
        b.close()
    daemon_log, coturn_log = stack.daemon.log(), stack.coturn.current_log()
    assert "event=turn_sessions_ended" in daemon_log, daemon_log[-2000:]  # the flow really ran and was logged
    pieces = {room.roomid[i:i + 12] for i in range(len(room.roomid) - 11)}
    for name, log in (("turnpiked", daemon_log), ("coturn", coturn_log)):
        leaked = sorted(p for p in pieces if p in log)
        assert not leaked, f"{name}'s log holds pieces of the room id: {leaked[:3]}"
