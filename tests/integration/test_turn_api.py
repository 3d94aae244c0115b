# POST /api/rooms/turn: response shape, usernames and credentials in both turn.mode values, stability, renewal,
# errors, and revocation of a room's TURN rows on delete, purge, expiry and a hand-made DELETE of the room row.
"""No coturn runs here: turn.cli_address points at a loopback port nobody listens on, so every kill of live relay
sessions fails and stays pending (which /health and /metrics show). The database file is read with Python's
sqlite3, read-only, except in the one test that deletes a room row by hand."""
import base64
import hashlib
import hmac
import json
import random
import re
import socket
import sqlite3
import threading
import time

import pytest
import requests

from httputil import Metrics, assert_cors, assert_error, json_text, media_type, next_joinid, ordered_pairs, \
    parse_iso_ms, wait_for
from wsutil import connect, create_room, dumps

REALM = "test.local"
STUN_URLS = ["stun:127.0.0.1:3478"]
TURN_URLS = ["turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp",
             "turns:127.0.0.1:5349?transport=tcp"]
URLS_SETTING = "stun:127.0.0.1:3478, turn:127.0.0.1:3478?transport=udp, turn:127.0.0.1:3478?transport=tcp, " \
               "turns:127.0.0.1:5349?transport=tcp"
MODES = ["long-term", "rest"]
ISO_MS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
HEX32_RE = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


# --------------------------------------------------------------------------------------------------------------
# Helpers (also used by test_ws_turn.py)


def unused_tcp_port():
    """A loopback TCP port with nothing listening on it (bound once by the kernel, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def turn_config(mode="long-term", ttl_seconds=None, urls=URLS_SETTING, **extra):
    """Settings that switch TURN on. `extra` uses `section__key` for dotted names."""
    settings = {
        "turn.mode": mode,
        "turn.realm": REALM,
        "turn.urls": urls,
        "turn.cli_password": "pw",
        "turn.cli_address": f"127.0.0.1:{unused_tcp_port()}",
    }
    if ttl_seconds is not None:
        settings["turn.ttl_seconds"] = ttl_seconds
    for key, value in extra.items():
        settings[key.replace("__", ".")] = value
    return settings


def new_room(daemon, client1, client2):
    """A pairing-API room (fresh join code) of client1 and client2; returns its roomid."""
    return create_room(daemon, client1, client2, joinid=next_joinid())


def post_turn(daemon, body):
    """POST /api/rooms/turn. A dict is sent as compact JSON; str/bytes verbatim."""
    if isinstance(body, dict):
        body = json_text(body)
    if isinstance(body, str):
        body = body.encode()
    return requests.post(daemon.url + "/api/rooms/turn", data=body, headers={"Content-Type": "application/json"},
                         timeout=5)


class Creds:
    """A checked 200 answer of POST /api/rooms/turn."""

    def __init__(self, text, stun_urls, turn_urls):
        self.text = text
        self.body = json.loads(text)
        self.ice_servers = self.body["iceServers"]
        turn_entry = self.ice_servers[-1]
        self.username = turn_entry["username"]
        self.credential = turn_entry["credential"]
        self.ttl = self.body["ttl"]
        self.expires_at = self.body["expiresAt"]
        self.expires_epoch = parse_iso_ms(self.expires_at)
        self.stun_urls = stun_urls
        self.turn_urls = turn_urls


def check_turn_answer(resp, ttl_seconds, stun_urls=STUN_URLS, turn_urls=TURN_URLS, fresh=False):
    """Assert the exact shape of a 200 answer and return it as Creds. `fresh`: the credential was just issued, so
    its ttl is (about) the whole turn.ttl_seconds."""
    now = time.time()
    assert resp.status_code == 200, (resp.status_code, resp.text)
    assert media_type(resp) == "application/json", resp.headers
    assert_cors(resp)
    text = resp.text
    # Compact JSON with nothing but the listed keys, in the listed order.
    assert dumps(json.loads(text)) == text, text
    top = ordered_pairs(text)
    assert [k for k, _ in top] == ["iceServers", "ttl", "expiresAt"], text
    ice = dict(top)["iceServers"]
    expected_len = 2 if stun_urls else 1
    assert isinstance(ice, list) and len(ice) == expected_len, text
    if stun_urls:
        assert ice[0] == [("urls", stun_urls)], text
    turn_entry = ice[-1]
    assert [k for k, _ in turn_entry] == ["urls", "username", "credential"], text
    turn_entry = dict(turn_entry)
    assert turn_entry["urls"] == turn_urls, text
    assert isinstance(turn_entry["username"], str) and turn_entry["username"], text
    assert isinstance(turn_entry["credential"], str) and turn_entry["credential"], text
    ttl = dict(top)["ttl"]
    assert isinstance(ttl, int) and not isinstance(ttl, bool), text
    assert 0 < ttl <= ttl_seconds, (ttl, ttl_seconds)
    if fresh:
        assert ttl >= ttl_seconds - 2, (ttl, ttl_seconds)
    expires_at = dict(top)["expiresAt"]
    assert ISO_MS_RE.match(expires_at), expires_at
    expires = parse_iso_ms(expires_at)
    # ttl is the whole seconds left until expiresAt.
    assert abs(expires - now - ttl) <= 1.5, (expires_at, ttl, now)
    return Creds(text, stun_urls, turn_urls)


def issue(daemon, roomid, device, ttl_seconds=3600, **kw):
    """POST /api/rooms/turn for (roomid, device) and check the 200 answer; returns Creds."""
    return check_turn_answer(post_turn(daemon, {"roomid": roomid, "deviceId": device}), ttl_seconds, **kw)


def shares_a_piece(username, secret, piece=6):
    """True when `username` contains any `piece`-character run of `secret` (compared case-insensitively)."""
    u, t = username.lower(), secret.lower()
    return any(t[i:i + piece] in u for i in range(max(1, len(t) - piece + 1)))


def check_username(daemon, mode, creds, roomid, slot, devices):
    """The username is opaque: 32 random hex characters (REST mode: `<expiry>:<32 hex>`), holding no piece of the
    room id (the room's bearer capability) nor of a device id. Only turnpike's own table maps it to the room and
    the slot (1 = client1, 2 = client2)."""
    if mode == "long-term":
        m = re.fullmatch(r"([0-9a-f]{32})", creds.username)
        assert m, creds.username
        (opaque,) = m.groups()
        assert HEX32_RE.match(creds.credential), creds.credential
    else:
        m = re.fullmatch(r"(\d+):([0-9a-f]{32})", creds.username)
        assert m, creds.username
        expiry, opaque = m.groups()
        assert len(base64.b64decode(creds.credential, validate=True)) == 20, creds.credential
        assert abs(int(expiry) - creds.expires_epoch) < 1, (creds.username, creds.expires_at)
    for secret in (roomid, *devices):
        assert not shares_a_piece(opaque, secret), (creds.username, secret)
    # Random: both hex halves are used and no character dominates (a real random 32-hex id passes this with
    # overwhelming probability; a counter, a timestamp or a hash-free encoding of the room does not).
    assert max(opaque.count(c) for c in set(opaque)) <= 10, opaque
    assert db_query(daemon, "SELECT roomid, slot FROM turn_credentials WHERE username = ?",
                    (creds.username,)) == [(roomid, slot)], creds.username


def db_query(daemon, sql, args=()):
    con = sqlite3.connect(f"file:{daemon.db_path}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def long_term_key(username, credential):
    return hashlib.md5(f"{username}:{REALM}:{credential}".encode()).hexdigest()


def rest_credential(secret, username):
    return base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()


def lt_row(daemon, username):
    """The hmackey of `username` in turnusers_lt (realm test.local), or None."""
    rows = db_query(daemon, "SELECT hmackey FROM turnusers_lt WHERE realm = ? AND name = ?", (REALM, username))
    assert len(rows) <= 1
    return rows[0][0] if rows else None


def turn_secrets(daemon):
    return [row[0] for row in db_query(daemon, "SELECT value FROM turn_secret WHERE realm = ?", (REALM,))]


def secret_of(daemon, creds):
    """The one turn_secret value that signs `creds` (rest mode), or None."""
    matching = [s for s in turn_secrets(daemon) if rest_credential(s, creds.username) == creds.credential]
    assert len(matching) <= 1, matching
    return matching[0] if matching else None


def check_coturn_row(mode, daemon, creds):
    """coturn can authenticate `creds` from the database."""
    if mode == "long-term":
        assert lt_row(daemon, creds.username) == long_term_key(creds.username, creds.credential)
    else:
        assert secret_of(daemon, creds) is not None, (creds.username, turn_secrets(daemon))


def coturn_row_present(mode, daemon, creds, secret=None):
    if mode == "long-term":
        return lt_row(daemon, creds.username) is not None
    return secret in turn_secrets(daemon)


def credential_rows(daemon, roomid):
    return db_query(daemon, "SELECT username, slot FROM turn_credentials WHERE roomid = ? ORDER BY slot", (roomid,))


def health(daemon):
    r = requests.get(daemon.url + "/health", timeout=5)
    assert r.status_code == 200, r.text
    return r.json()


def metrics(daemon):
    r = requests.get(daemon.url + "/metrics", timeout=5)
    assert r.status_code == 200, r.text
    return Metrics(r.text)


KILLS_PENDING = ("turnpike_turn_kills_pending", frozenset())
KILLS_FAILED = ("turnpike_turn_kills_total", frozenset({("result", "failed")}))


# --------------------------------------------------------------------------------------------------------------
# Success


def test_answer_shape_usernames_and_coturn_rows(start_daemon, mode):
    d = start_daemon(turn_config(mode, ttl_seconds=600))
    room = new_room(d, "dev-A", "dev-B")
    a = issue(d, room, "dev-A", ttl_seconds=600, fresh=True)
    b = issue(d, room, "dev-B", ttl_seconds=600, fresh=True)
    check_username(d, mode, a, room, 1, ("dev-A", "dev-B"))
    check_username(d, mode, b, room, 2, ("dev-A", "dev-B"))
    assert a.username != b.username and a.credential != b.credential
    # The credential's lifetime is turn.ttl_seconds.
    assert 598 <= a.expires_epoch - time.time() <= 601
    check_coturn_row(mode, d, a)
    check_coturn_row(mode, d, b)
    if mode == "long-term":
        assert turn_secrets(d) == []
    else:
        # One secret per room, signing both devices' credentials.
        assert len(turn_secrets(d)) == 1
        assert secret_of(d, a) == secret_of(d, b)
        assert db_query(d, "SELECT count(*) FROM turnusers_lt") == [(0,)]
    # Another room of the same devices gets other usernames.
    other = new_room(d, "dev-A", "dev-B")
    c = issue(d, other, "dev-A", ttl_seconds=600, fresh=True)
    check_username(d, mode, c, other, 1, ("dev-A", "dev-B"))
    assert c.username not in (a.username, b.username)
    assert not shares_a_piece(c.username.split(":")[-1], a.username.split(":")[-1], piece=8)


def test_credentials_are_stable_per_device(start_daemon, mode):
    d = start_daemon(turn_config(mode, ttl_seconds=600))
    room = new_room(d, "dev-A", "dev-B")
    a1 = issue(d, room, "dev-A", ttl_seconds=600)
    b1 = issue(d, room, "dev-B", ttl_seconds=600)
    time.sleep(1.1)
    a2 = issue(d, room, "dev-A", ttl_seconds=600)
    b2 = issue(d, room, "dev-B", ttl_seconds=600)
    for first, again in ((a1, a2), (b1, b2)):
        assert (again.username, again.credential, again.expires_at) == (first.username, first.credential,
                                                                        first.expires_at)
        assert again.ice_servers == first.ice_servers
        assert again.ttl <= first.ttl
    assert (a1.username, a1.credential) != (b1.username, b1.credential)
    # Still one credential per (room, device).
    assert [slot for _, slot in credential_rows(d, room)] == [1, 2]


def test_same_device_on_both_sides_gets_slot_1(start_daemon, mode):
    d = start_daemon(turn_config(mode))
    room = new_room(d, "one-device", "one-device")
    creds = issue(d, room, "one-device")
    check_username(d, mode, creds, room, 1, ("one-device",))
    check_coturn_row(mode, d, creds)


def test_device_ids_with_spaces_and_non_ascii_letters(start_daemon):
    d = start_daemon(turn_config())
    room = new_room(d, "Jörg's phone 📱", "tablet ü")
    devices = ("Jörg's phone 📱", "tablet ü")
    check_username(d, "long-term", issue(d, room, devices[0]), room, 1, devices)
    check_username(d, "long-term", issue(d, room, devices[1]), room, 2, devices)


def test_urls_are_listed_as_configured(start_daemon):
    urls = "  turn:turn.example.org:3478?transport=udp ,stun:stun.example.org:19302,   " \
           "turns:turn.example.org:443?transport=tcp,stun:127.0.0.1:3478  "
    d = start_daemon(turn_config(ttl_seconds=120, urls=urls))
    room = new_room(d, "dev-A", "dev-B")
    issue(d, room, "dev-A", ttl_seconds=120, fresh=True,
          stun_urls=["stun:stun.example.org:19302", "stun:127.0.0.1:3478"],
          turn_urls=["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443?transport=tcp"])


def test_stun_entry_is_omitted_without_stun_urls(start_daemon, mode):
    d = start_daemon(turn_config(mode, urls="turn:127.0.0.1:3478?transport=udp, turns:127.0.0.1:5349?transport=tcp"))
    room = new_room(d, "dev-A", "dev-B")
    # turn.ttl_seconds defaults to 3600.
    creds = issue(d, room, "dev-B", ttl_seconds=3600, fresh=True, stun_urls=[],
                  turn_urls=["turn:127.0.0.1:3478?transport=udp", "turns:127.0.0.1:5349?transport=tcp"])
    assert len(creds.ice_servers) == 1
    check_username(d, mode, creds, room, 2, ("dev-A", "dev-B"))
    check_coturn_row(mode, d, creds)


# --------------------------------------------------------------------------------------------------------------
# Renewal


def test_credential_is_renewed_when_less_than_a_third_is_left(start_daemon, mode):
    d = start_daemon(turn_config(mode, ttl_seconds=10, pairing__sweep_interval_seconds=0.1))
    room = new_room(d, "dev-A", "dev-B")
    old = issue(d, room, "dev-A", ttl_seconds=10, fresh=True)
    old_secret = secret_of(d, old) if mode == "rest" else None
    # More than a third left: unchanged.
    time.sleep(2.0)
    same = issue(d, room, "dev-A", ttl_seconds=10)
    assert (same.username, same.credential, same.expires_at) == (old.username, old.credential, old.expires_at)
    # Less than a third (3.3 s) left: a new credential with a later expiry.
    time.sleep(max(0.0, old.expires_epoch - 2.5 - time.time()))
    new = issue(d, room, "dev-A", ttl_seconds=10, fresh=True)
    assert new.username != old.username and new.credential != old.credential
    assert new.expires_epoch > old.expires_epoch
    check_username(d, mode, new, room, 1, ("dev-A", "dev-B"))
    check_coturn_row(mode, d, new)
    # The new one is stable in turn.
    again = issue(d, room, "dev-A", ttl_seconds=10)
    assert (again.username, again.credential, again.expires_at) == (new.username, new.credential, new.expires_at)
    # The old one stays valid until its own expiry.
    assert time.time() < old.expires_epoch - 0.5
    check_coturn_row(mode, d, old)
    usernames = {u for u, _ in credential_rows(d, room)}
    assert {old.username, new.username} <= usernames
    if mode == "rest":
        assert secret_of(d, new) == old_secret
    # After its expiry the sweeper removes it; the new one remains.
    time.sleep(max(0.0, old.expires_epoch - time.time()))
    wait_for(lambda: old.username not in {u for u, _ in credential_rows(d, room)}, timeout=2.0,
             message="the expired credential to be swept")
    assert new.username in {u for u, _ in credential_rows(d, room)}
    if mode == "long-term":
        assert lt_row(d, old.username) is None
    else:
        # rest: the room's one secret still signs the new credential; the old username is past its timestamp.
        assert turn_secrets(d) == [old_secret]
    check_coturn_row(mode, d, new)
    # Its live relays are not ended (only new allocations are refused): no kill is queued; the username is kept
    # to end them with the room.
    assert db_query(d, "SELECT count(*) FROM turn_pending_kills") == [(0,)]
    assert db_query(d, "SELECT roomid FROM turn_expired_credentials WHERE username = ?", (old.username,)) == [(room,)]
    assert requests.delete(d.url + "/api/rooms", json={"roomid": room}, timeout=5).status_code == 200
    kills = db_query(d, "SELECT pattern, exact FROM turn_pending_kills ORDER BY pattern")
    assert kills == sorted([(old.username, 1), (new.username, 1)]), kills


# --------------------------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize("body, code", [
    ("", "missing_roomid"),
    ("{}", "missing_roomid"),
    ('{"deviceId":"dev-A"}', "missing_roomid"),
    ('{"roomid":null,"deviceId":"dev-A"}', "missing_roomid"),
    ('{"roomid":"","deviceId":"dev-A"}', "missing_roomid"),
    ('{"deviceId":5}', "missing_roomid"),
    ('{"roomid":5,"deviceId":"dev-A"}', "invalid_roomid"),
    ('{"roomid":["r"],"deviceId":"dev-A"}', "invalid_roomid"),
    ('{"roomid":true,"deviceId":"dev-A"}', "invalid_roomid"),
    (json_text({"roomid": "r" * 129, "deviceId": "dev-A"}), "invalid_roomid"),
    ('{"roomid":"ab\\u0001cd","deviceId":"dev-A"}', "invalid_roomid"),
    ('{"roomid":5,"deviceId":5}', "invalid_roomid"),
    ('{"roomid":"ROOM"}', "missing_deviceId"),
    ('{"roomid":"ROOM","deviceId":null}', "missing_deviceId"),
    ('{"roomid":"ROOM","deviceId":""}', "missing_deviceId"),
    ('{"roomid":"ROOM","deviceId":5}', "invalid_deviceId"),
    ('{"roomid":"ROOM","deviceId":{"id":"dev-A"}}', "invalid_deviceId"),
    ('{"roomid":"ROOM","deviceId":["dev-A"]}', "invalid_deviceId"),
    (json_text({"roomid": "ROOM", "deviceId": "d" * 129}), "invalid_deviceId"),
    ('{"roomid":"ROOM","deviceId":"dev\\u0000A"}', "invalid_deviceId"),
    ('{"roomid":"ROOM","deviceId":"dev\\tA"}', "invalid_deviceId"),
    ('{"roomid":"ROOM","deviceId":"dev\\u007fA"}', "invalid_deviceId"),
    ("not json", "invalid_json"),
    ('{"roomid":', "invalid_json"),
    ("[1]", "invalid_json"),
    ('"ROOM"', "invalid_json"),
    ("5", "invalid_json"),
    ("null", "invalid_json"),
])
def test_bad_requests(start_daemon, body, code):
    d = start_daemon(turn_config())
    room = new_room(d, "dev-A", "dev-B")
    resp = post_turn(d, body.replace("ROOM", room))
    assert_error(resp, 400, code)
    assert db_query(d, "SELECT count(*) FROM turn_credentials") == [(0,)]


def test_unknown_room_and_non_members(start_daemon):
    d = start_daemon(turn_config())
    room = new_room(d, "dev-A", "dev-B")
    other = new_room(d, "dev-C", "dev-D")
    assert_error(post_turn(d, {"roomid": "0" * 48, "deviceId": "dev-A"}), 404, "not_found")
    # Longest valid roomid, unknown.
    assert_error(post_turn(d, {"roomid": "r" * 128, "deviceId": "dev-A"}), 404, "not_found")
    assert_error(post_turn(d, {"roomid": room, "deviceId": "dev-C"}), 403, "not_a_member")
    assert_error(post_turn(d, {"roomid": other, "deviceId": "dev-B"}), 403, "not_a_member")
    # Longest valid deviceId, not a member.
    assert_error(post_turn(d, {"roomid": room, "deviceId": "d" * 128}), 403, "not_a_member")
    # Case matters.
    assert_error(post_turn(d, {"roomid": room, "deviceId": "DEV-A"}), 403, "not_a_member")
    assert db_query(d, "SELECT count(*) FROM turn_credentials") == [(0,)]
    assert db_query(d, "SELECT count(*) FROM turnusers_lt") == [(0,)]


def test_deleted_room_is_not_found(start_daemon):
    d = start_daemon(turn_config())
    room = new_room(d, "dev-A", "dev-B")
    issue(d, room, "dev-A")
    assert requests.delete(d.url + "/api/rooms", json={"roomid": room}, timeout=5).status_code == 200
    assert_error(post_turn(d, {"roomid": room, "deviceId": "dev-A"}), 404, "not_found")


def test_other_methods(start_daemon):
    d = start_daemon(turn_config())
    # GET /api/rooms/<anything> is the reference's legacy route: 410 wins over 405.
    r = requests.get(d.url + "/api/rooms/turn", timeout=5)
    assert_error(r, 410, "use_new_endpoints")
    for method in ("DELETE", "PUT", "PATCH"):
        r = requests.request(method, d.url + "/api/rooms/turn", data=b"{}", timeout=5)
        assert_error(r, 405, "method_not_allowed")
        assert "POST" in [m.strip() for m in r.headers.get("Allow", "").split(",")], r.headers


def test_turn_not_configured(start_daemon):
    d = start_daemon({})  # turn.urls is empty by default
    room = new_room(d, "dev-A", "dev-B")
    assert_error(post_turn(d, {"roomid": room, "deviceId": "dev-A"}), 503, "turn_not_configured")
    assert db_query(d, "SELECT count(*) FROM turn_credentials") == [(0,)]


# --------------------------------------------------------------------------------------------------------------
# Revocation


def two_rooms_with_credentials(d, mode):
    """Room `gone` (dev-A, dev-B) and room `kept` (dev-C, dev-D), every device with a credential.
    Returns (gone, kept, {device: Creds}, {room: secret or None})."""
    gone = new_room(d, "dev-A", "dev-B")
    kept = new_room(d, "dev-C", "dev-D")
    creds = {dev: issue(d, room, dev) for room, dev in ((gone, "dev-A"), (gone, "dev-B"), (kept, "dev-C"),
                                                        (kept, "dev-D"))}
    secrets = {gone: None, kept: None}
    if mode == "rest":
        secrets = {gone: secret_of(d, creds["dev-A"]), kept: secret_of(d, creds["dev-C"])}
        assert None not in secrets.values() and secrets[gone] != secrets[kept]
        assert secret_of(d, creds["dev-B"]) == secrets[gone]
        assert sorted(turn_secrets(d)) == sorted(secrets.values())
    for c in creds.values():
        check_coturn_row(mode, d, c)
    return gone, kept, creds, secrets


def assert_revoked(d, mode, gone, kept, creds, secrets):
    """gone's rows are gone everywhere, kept's are intact and kept's credentials are still handed out."""
    assert credential_rows(d, gone) == []
    for dev in ("dev-A", "dev-B"):
        assert not coturn_row_present(mode, d, creds[dev], secrets[gone]), dev
    assert [slot for _, slot in credential_rows(d, kept)] == [1, 2]
    for dev in ("dev-C", "dev-D"):
        check_coturn_row(mode, d, creds[dev])
    if mode == "long-term":
        assert db_query(d, "SELECT count(*) FROM turnusers_lt") == [(2,)]
    else:
        assert turn_secrets(d) == [secrets[kept]]
    again = issue(d, kept, "dev-C")
    assert (again.username, again.credential) == (creds["dev-C"].username, creds["dev-C"].credential)
    # One exact kill per username of the ended room, none for the other room, none naming a room.
    assert sorted(db_query(d, "SELECT pattern, exact FROM turn_pending_kills")) == \
        sorted((creds[dev].username, 1) for dev in ("dev-A", "dev-B"))


def assert_kill_pending_and_retried(d):
    """No coturn listens, so the kill fails, stays pending and is retried."""
    assert health(d)["turnKillsPending"] >= 1
    m = metrics(d)
    assert KILLS_PENDING in m.samples and m.samples[KILLS_PENDING] >= 1, m.text
    assert m.types.get("turnpike_turn_kills_total") == "counter"

    def failed_runs():
        return metrics(d).samples.get(KILLS_FAILED, 0)

    wait_for(lambda: failed_runs() >= 1, timeout=3.0, message="a failed kill run")
    first = failed_runs()
    wait_for(lambda: failed_runs() > first, timeout=4.0, message="a retried kill run")
    assert health(d)["turnKillsPending"] >= 1


def revocation_config(mode, **extra):
    return turn_config(mode, turn__kill_retry_seconds=0.2, pairing__sweep_interval_seconds=0.1, **extra)


def test_delete_revokes_only_that_rooms_credentials(start_daemon, mode):
    d = start_daemon(revocation_config(mode))
    gone, kept, creds, secrets = two_rooms_with_credentials(d, mode)
    assert health(d)["turnKillsPending"] == 0
    assert metrics(d).samples.get(KILLS_FAILED, 0) == 0
    r = requests.delete(d.url + "/api/rooms", json={"roomid": gone}, timeout=5)
    assert r.status_code == 200
    assert_revoked(d, mode, gone, kept, creds, secrets)
    assert_kill_pending_and_retried(d)


def test_kills_connect_to_an_ipv6_cli_address(start_daemon):
    """turn.cli_address may be IPv6: the session killer connects there (here a listener that answers nothing)."""
    cli = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        cli.bind(("::1", 0))
    except OSError:
        cli.close()
        pytest.skip("no IPv6 loopback")
    with cli:
        cli.listen(4)
        cli.settimeout(5)
        port = cli.getsockname()[1]
        d = start_daemon(revocation_config("long-term", turn__cli_address=f"[::1]:{port}"))
        gone, _, _, _ = two_rooms_with_credentials(d, "long-term")
        r = requests.delete(d.url + "/api/rooms", json={"roomid": gone}, timeout=5)
        assert r.status_code == 200
        conn, peer = cli.accept()
        conn.close()
        assert peer[0] == "::1"


class LoopbackCli:
    """A loopback TCP server posing as coturn's CLI on turn.cli_address: handle(conn) answers each connection."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    self.handle(conn)
                except OSError:
                    pass

    def close(self):
        self.stopping = True
        self.thread.join(timeout=5)
        self.sock.close()


class HostileCli(LoopbackCli):
    """Answers every connection with `script`: a list of byte strings, each sent after reading one line from the
    client (the first one before reading anything)."""

    def __init__(self, script):
        self.script = script
        super().__init__()

    def handle(self, conn):
        for i, chunk in enumerate(self.script):
            if i > 0:
                conn.recv(4096)
            conn.sendall(chunk)
        conn.recv(4096)


@pytest.mark.parametrize("script, reason", [
    ([b"garbage\r\n> "], "unexpected output: no password prompt"),
    ([b"Enter password: \r\n", b"welcome, but not the prompt\r\n> "], "unexpected output after the password"),
    ([b"Enter password: \r\n", b"Enter password: \r\n"], "wrong password"),
])
def test_a_hostile_cli_peer_fails_the_kill_with_its_reason(start_daemon, script, reason):
    """Whatever a peer on turn.cli_address answers, the kill fails with the dialog's reason, read before the dialog
    is freed (under ASan, reading it afterwards is a use after free that stops the daemon), and is retried; the
    daemon keeps serving."""
    cli = HostileCli(script)
    try:
        d = start_daemon(revocation_config("long-term", turn__cli_address=f"127.0.0.1:{cli.port}"))
        gone, _, _, _ = two_rooms_with_credentials(d, "long-term")
        r = requests.delete(d.url + "/api/rooms", json={"roomid": gone}, timeout=5)
        assert r.status_code == 200
        line = f'event=turn_kill_failed reason="{reason}"'
        wait_for(lambda: d.log().count(line) >= 2, timeout=10, message=f"two kill attempts failing with {reason!r}")
        failures = set(re.findall(r'event=turn_kill_failed reason="([^"]*)"', d.log()))
        assert failures == {reason}, failures
        assert cli.connections >= 2
        assert d.proc.poll() is None, d.log()[-2000:]
        assert health(d)["turnKillsPending"] >= 1
    finally:
        cli.close()


class ListingCli(LoopbackCli):
    """Speaks coturn's CLI dialog (password prompt, "> " prompts, `ps <user>` listings with 18-digit session ids
    and a total, `cs <id>`) over a table of live sessions. With `stubborn`, `cs` answers as coturn does but the
    session stays listed, like a CLI that only claims to cancel."""

    def __init__(self, stubborn):
        self.stubborn = stubborn
        self.sessions = {}  # username -> set of session ids
        self.listings = 0
        self.cancels = 0
        self.lock = threading.Lock()
        super().__init__()

    def add_sessions(self, username, count):
        with self.lock:
            ids = self.sessions.setdefault(username, set())
            for _ in range(count):
                ids.add(f"{random.randrange(10 ** 17, 10 ** 18):018d}")

    def answer(self, line):
        command, _, arg = line.partition(" ")
        with self.lock:
            if command == "ps":
                self.listings += 1
                ids = sorted(self.sessions.get(arg, ()))
                body = "".join(f"    {i + 1}) id={sid}, user <{arg}>:\r\n      realm: x\r\n" for i, sid in enumerate(ids))
                return f"{body}\r\n  Total sessions: {len(ids)}\r\n\r\n> ".encode()
            if command == "cs":
                self.cancels += 1
                if not self.stubborn:
                    for ids in self.sessions.values():
                        ids.discard(arg)
                return b"> "
        return b"Unknown command\r\n\r\n> "

    def handle(self, conn):
        with conn.makefile("rb") as lines:
            conn.sendall(b"TURN Server\r\nCoturn-4.6.1 'x'\r\n\r\nType '?' for help\r\nEnter password: \r\n")
            lines.readline()
            conn.sendall(b"> ")
            for raw in lines:
                line = raw.decode(errors="replace").strip()
                if line == "quit":
                    break
                conn.sendall(self.answer(line))


@pytest.mark.parametrize("stubborn", [False, True])
def test_a_kill_is_done_only_when_a_fresh_listing_confirms_it(start_daemon, stubborn):
    """After `cs`, the killer lists the usernames again: a kill whose sessions are gone is done; one whose sessions
    are still listed (a CLI that claims to cancel but does not) is logged and counted, cancelled again, and stays
    queued, retried with backoff, while the daemon keeps serving."""
    cli = ListingCli(stubborn)
    try:
        d = start_daemon(revocation_config("long-term", turn__cli_address=f"127.0.0.1:{cli.port}"))
        gone, _, creds, _ = two_rooms_with_credentials(d, "long-term")
        for device in ("dev-A", "dev-B"):
            cli.add_sessions(creds[device].username, 2)
        r = requests.delete(d.url + "/api/rooms", json={"roomid": gone}, timeout=5)
        assert r.status_code == 200
        if not stubborn:
            wait_for(lambda: health(d)["turnKillsPending"] == 0, timeout=10, message="the kills to be confirmed")
            assert "event=turn_sessions_ended sessions=4 kills=2" in d.log(), d.log()[-2000:]
            assert cli.listings >= 4 and cli.cancels == 4  # a listing and a confirming listing per username
            assert "turn_kill_unconfirmed" not in d.log()
        else:
            wait_for(lambda: d.log().count("event=turn_kill_unconfirmed sessions=4") >= 2, timeout=15,
                     message="two verification rounds that still list the sessions")
            assert health(d)["turnKillsPending"] == 2
            assert "turn_sessions_ended" not in d.log()
            assert metrics(d).samples[("turnpike_turn_sessions_unconfirmed_total", frozenset())] >= 8
            assert requests.get(d.url + "/", timeout=5).status_code == 200
    finally:
        cli.close()


def test_purge_revokes_only_that_rooms_credentials(start_daemon, mode):
    d = start_daemon(revocation_config(mode))
    gone, kept, creds, secrets = two_rooms_with_credentials(d, mode)
    r = requests.post(d.url + "/api/user/purge", json={"deviceIds": ["dev-B"]}, timeout=5)
    assert r.status_code == 200 and r.json()["roomsDeleted"] == 1, r.text
    assert_revoked(d, mode, gone, kept, creds, secrets)
    assert_kill_pending_and_retried(d)


def test_room_expiry_revokes_only_that_rooms_credentials(start_daemon, mode):
    d = start_daemon(revocation_config(mode, pairing__room_ttl_seconds=1.0))
    gone, kept, creds, secrets = two_rooms_with_credentials(d, mode)
    # A connected member keeps `kept` alive.
    member = connect(d)
    try:
        joined = json.loads(member.request({"type": "join_room", "roomId": kept}))
        assert joined["type"] == "room_joined", joined
        wait_for(lambda: db_query(d, "SELECT count(*) FROM rooms WHERE roomid = ?", (gone,)) == [(0,)],
                 timeout=4.0, message="the idle room to expire")
        assert db_query(d, "SELECT count(*) FROM rooms WHERE roomid = ?", (kept,)) == [(1,)]
        assert_revoked(d, mode, gone, kept, creds, secrets)
        assert_kill_pending_and_retried(d)
    finally:
        member.close()


def test_deleting_the_room_row_by_hand_revokes(start_daemon, mode):
    d = start_daemon(revocation_config(mode))
    gone, kept, creds, secrets = two_rooms_with_credentials(d, mode)
    con = sqlite3.connect(str(d.db_path), timeout=5)
    try:
        con.execute("DELETE FROM rooms WHERE roomid = ?", (gone,))
        con.commit()
    finally:
        con.close()
    assert_revoked(d, mode, gone, kept, creds, secrets)
    assert health(d)["turnKillsPending"] >= 1
    assert_error(post_turn(d, {"roomid": gone, "deviceId": "dev-A"}), 404, "not_found")
