# Pairing REST API against the contract: happy path, exact bodies, fixed reference bugs, expiry, purge, concurrency.
import threading
import time

import pytest
import requests

from httputil import (CREATE_RE, ROOMID_RE, Api, assert_cors, assert_error, assert_json, json_text, media_type,
                      next_joinid, parse_iso_ms)


@pytest.fixture
def api(daemon, http):
    return Api(daemon.url, http)


def room_text(roomid, client1, client2):
    return json_text({"roomid": roomid, "client1": client1, "client2": client2})


def sleep_until(t):
    delay = t - time.time()
    if delay > 0:
        time.sleep(delay)


def align_to_fraction(frac):
    """Sleep until the wall clock is `frac` into a second, so that exp = now + 1 s keeps that fraction."""
    time.sleep((frac - time.time() % 1) % 1)


# --- happy path ------------------------------------------------------------------------------------------------


def test_create_returns_201_with_exact_body_and_millisecond_exp(api):
    before = time.time()
    r = api.create(next_joinid(), "dev-A", 300)
    after = time.time()
    assert r.status_code == 201
    assert media_type(r) == "application/json"
    assert_cors(r)
    m = CREATE_RE.match(r.text)  # exactly {"ok":true,"exp":"YYYY-MM-DDTHH:MM:SS.mmmZ"}
    assert m, r.text
    exp = parse_iso_ms(m.group(1))
    assert before + 300 - 0.002 <= exp <= after + 300 + 0.002, (before, m.group(1), after)


def test_full_flow_with_exact_bodies(api, daemon):
    j = next_joinid()
    api.created(j, "dev-A", 120)

    waiting = api.check(j, "dev-A")
    assert waiting.status_code == 204
    assert waiting.content == b""
    assert_cors(waiting)

    accept = api.accept(j, "dev-B")
    assert accept.status_code == 200 and media_type(accept) == "application/json"
    assert_cors(accept)
    m = ROOMID_RE.match(accept.text)
    assert m, accept.text
    roomid = m.group(1)

    assert_json(api.check(j, "dev-A"), 200, json_text({"roomid": roomid}))
    # A successful check deletes the pending: the next check is 404.
    assert_error(api.check(j, "dev-A"), 404, "not_found_or_expired")

    assert_json(api.get_room(roomid), 200, room_text(roomid, "dev-A", "dev-B"))
    # roomid may also come in a JSON body of a GET, as in the reference.
    r = requests.get(daemon.url + "/api/rooms", data=json_text({"roomid": roomid}),
                     headers={"Content-Type": "application/json"}, timeout=5)
    assert_json(r, 200, room_text(roomid, "dev-A", "dev-B"))

    assert_json(api.delete_room(roomid), 200, '{"ok":true}')
    assert_json(api.delete_room(roomid), 200, '{"ok":true}')  # idempotent
    assert_error(api.get_room(roomid), 404, "not_found")


def test_check_keeps_answering_204_until_accepted(api):
    j = next_joinid()
    api.created(j, "dev-A")
    for _ in range(3):
        r = api.check(j, "dev-A")
        assert (r.status_code, r.content) == (204, b"")
    roomid = api.accepted(j, "dev-B")
    assert api.checked(j, "dev-A") == roomid


def test_accept_and_check_of_unknown_code_are_404(api):
    j = next_joinid()
    assert_error(api.accept(j, "dev-B"), 404, "not_found_or_expired")
    assert_error(api.check(j, "dev-A"), 404, "not_found_or_expired")


def test_check_by_other_client1_is_404_and_does_not_disturb_the_owner(api):
    j = next_joinid()
    api.created(j, "dev-A")
    assert_error(api.check(j, "dev-Z"), 404, "not_found_or_expired")
    roomid = api.accepted(j, "dev-B")
    assert_error(api.check(j, "dev-Z"), 404, "not_found_or_expired")
    assert api.checked(j, "dev-A") == roomid


def test_delete_of_unknown_room_is_ok(api):
    assert_json(api.delete_room("f" * 48), 200, '{"ok":true}')
    assert_json(api.delete_room("no-such-room"), 200, '{"ok":true}')


def test_self_accept_works_as_in_reference(api):
    _, roomid = api.pair("dev-S", "dev-S")
    assert_json(api.get_room(roomid), 200, room_text(roomid, "dev-S", "dev-S"))


def test_numeric_and_string_joinid_name_the_same_code(api):
    api.created(246810, "dev-A")  # JSON number
    roomid = api.accepted("246810", "dev-B")
    r = api.post("/api/rooms/check", '{"joinid":246810.0,"client1":"dev-A"}')
    assert_json(r, 200, json_text({"roomid": roomid}))
    # and the code is taken while live, whatever its spelling
    api.created("135790", "dev-C")
    assert_error(api.create(135790, "dev-D", 60), 409, "conflict")


def test_client_ids_with_spaces_and_non_ascii_round_trip(api):
    c1 = "Anna's iPhone 15 — Gerät Ünïcödé 设备"
    c2 = "📱" * 32  # 128 bytes of UTF-8: the default maximum
    assert len(c2.encode()) == 128
    j = next_joinid()
    api.created(j, c1)
    roomid = api.accepted(j, c2)
    assert api.checked(j, c1) == roomid
    r = api.get_room(roomid)
    assert r.status_code == 200
    assert list(r.json().items()) == [("roomid", roomid), ("client1", c1), ("client2", c2)]


def test_paths_are_case_insensitive_allow_one_trailing_slash_and_ignore_query(api, daemon):
    j = next_joinid()
    r = api.post("/API/Rooms/", {"joinid": j, "client1": "dev-A", "expiresInSeconds": 60})
    assert r.status_code == 201, r.text
    r = api.post("/api/rooms/ACCEPT?x=1", {"joinid": j, "client2": "dev-B"})
    assert r.status_code == 200, r.text
    roomid = ROOMID_RE.match(r.text).group(1)
    r = api.post("/api/Rooms/Check/?y=2", {"joinid": j, "client1": "dev-A"})
    assert_json(r, 200, json_text({"roomid": roomid}))
    r = requests.get(daemon.url + "/API/ROOMS/", params={"roomid": roomid}, timeout=5)
    assert_json(r, 200, room_text(roomid, "dev-A", "dev-B"))


def test_head_works_where_get_does(api, daemon):
    _, roomid = api.pair("dev-A", "dev-B")
    r = requests.head(daemon.url + "/api/rooms", params={"roomid": roomid}, timeout=5)
    assert r.status_code == 200 and r.content == b""
    assert media_type(r) == "application/json"
    assert_cors(r)
    r = requests.head(daemon.url + "/api/rooms", params={"roomid": "nope"}, timeout=5)
    assert r.status_code == 404 and r.content == b""


# --- deliberate differences 1-4 -----------------------------------------------------------------------------------


def test_second_accept_is_409_and_changes_nothing(api):
    j = next_joinid()
    api.created(j, "dev-A")
    roomid = api.accepted(j, "dev-B")
    assert_error(api.accept(j, "dev-Mallory"), 409, "conflict")
    assert_error(api.accept(j, "dev-B"), 409, "conflict")
    # client 1 is not stranded: its check still gets the first room, with the first client2
    assert api.checked(j, "dev-A") == roomid
    assert_json(api.get_room(roomid), 200, room_text(roomid, "dev-A", "dev-B"))


def test_check_returns_the_room_of_this_code_not_an_older_room_of_the_same_pair(api):
    _, first = api.pair("dev-A", "dev-B")
    j2 = next_joinid()
    api.created(j2, "dev-A")
    second = api.accepted(j2, "dev-B")
    assert second != first
    assert api.checked(j2, "dev-A") == second
    # Two codes accepted before either is checked: each check gets its own room.
    j3, j4 = next_joinid(), next_joinid()
    api.created(j3, "dev-A")
    api.created(j4, "dev-A")
    r3 = api.accepted(j3, "dev-B")
    r4 = api.accepted(j4, "dev-B")
    assert api.checked(j4, "dev-A") == r4
    assert api.checked(j3, "dev-A") == r3
    assert len({first, second, r3, r4}) == 4


def test_duplicate_live_code_is_409_until_the_pending_is_gone(api):
    j = next_joinid()
    api.created(j, "dev-A")
    assert_error(api.create(j, "dev-A", 60), 409, "conflict")
    assert_error(api.create(j, "dev-Other", 60), 409, "conflict")
    roomid = api.accepted(j, "dev-B")
    assert_error(api.create(j, "dev-Other", 60), 409, "conflict")  # accepted but not yet checked: still live
    assert api.checked(j, "dev-A") == roomid
    api.created(j, "dev-Other")  # the check consumed the pending; the code is free again


def test_accept_and_check_just_before_exp_succeed(start_daemon):
    # The sweeper is effectively off, so only the comparison with exp decides. The code is created ~0.55 s into
    # a second, so exp - 0.35 s lies in the same whole second as exp: a server comparing whole seconds fails.
    d = start_daemon({"pairing.sweep_interval_seconds": 3600})
    api = Api(d.url)
    j = next_joinid()
    align_to_fraction(0.55)
    exp = api.created(j, "dev-A", 1)
    sleep_until(exp - 0.35)
    roomid = api.accepted(j, "dev-B")
    sleep_until(exp - 0.2)
    assert api.checked(j, "dev-A") == roomid
    assert time.time() < exp


def test_accept_and_check_just_after_exp_are_404(start_daemon):
    d = start_daemon({"pairing.sweep_interval_seconds": 3600})
    api = Api(d.url)
    j1, j2 = next_joinid(), next_joinid()
    align_to_fraction(0.3)
    exp1 = api.created(j1, "dev-A", 1)
    exp2 = api.created(j2, "dev-C", 1)
    # 40 ms after exp, still inside the same whole second: a server rounding exp up would still accept.
    sleep_until(max(exp1, exp2) + 0.04)
    assert_error(api.accept(j1, "dev-B"), 404, "not_found_or_expired")
    assert_error(api.check(j2, "dev-C"), 404, "not_found_or_expired")


def test_expired_code_can_be_created_again_at_once(start_daemon):
    d = start_daemon({"pairing.sweep_interval_seconds": 3600})
    api = Api(d.url)
    j = next_joinid()
    exp = api.created(j, "dev-A", 1)
    sleep_until(exp + 0.05)
    api.created(j, "dev-New", 60)  # not 409, not 500
    roomid = api.accepted(j, "dev-B")
    assert api.checked(j, "dev-New") == roomid
    assert_error(api.check(j, "dev-A"), 404, "not_found_or_expired")


def test_get_counts_as_room_activity_and_idle_rooms_expire(start_daemon):
    d = start_daemon({"pairing.room_ttl_seconds": 0.6, "pairing.sweep_interval_seconds": 0.1})
    api = Api(d.url)
    _, roomid = api.pair("dev-A", "dev-B")
    for _ in range(5):  # 1.5 s in all, well past the TTL, but never 0.6 s without a GET
        time.sleep(0.3)
        assert api.get_room(roomid).status_code == 200
    time.sleep(1.2)
    assert_error(api.get_room(roomid), 404, "not_found")


def test_joinid_digits_is_configurable(start_daemon):
    api = Api(start_daemon({"pairing.joinid_digits": 4}).url)
    api.created("0042", "dev-A")
    api.created(4321, "dev-B")
    assert_error(api.create("123456", "dev-C", 60), 400, "invalid_joinid")
    assert_error(api.create("123", "dev-C", 60), 400, "invalid_joinid")
    roomid = api.accepted("0042", "dev-X")
    assert api.checked("0042", "dev-A") == roomid
    assert_error(api.accept("123456", "dev-X"), 400, "invalid_joinid")


def test_max_expires_seconds_is_configurable(start_daemon):
    api = Api(start_daemon({"pairing.max_expires_seconds": 120}).url)
    assert api.create(next_joinid(), "dev-A", 120).status_code == 201
    r = api.create(next_joinid(), "dev-A", 121)
    assert r.status_code == 400 and r.json()["error"] == "invalid_expiresInSeconds", r.text
    assert media_type(r) == "application/json"


# --- purge ---------------------------------------------------------------------------------------------------------


def test_purge_deletes_rooms_and_pendings_and_counts_duplicates(api):
    _, r1 = api.pair("dev-A", "dev-B")
    _, r2 = api.pair("dev-A", "dev-B")  # same pair, second room
    _, r3 = api.pair("dev-C", "dev-A")  # dev-A as client2
    _, r4 = api.pair("dev-C", "dev-D")  # unrelated
    pending = next_joinid()
    api.created(pending, "dev-A")

    r = api.purge({"deviceIds": ["dev-A", "dev-A", "nobody"]})
    assert_json(r, 200, '{"success":true,"deviceIdCount":3,"roomsDeleted":3,"pendingsDeleted":1}')
    for roomid in (r1, r2, r3):
        assert_error(api.get_room(roomid), 404, "not_found")
    assert_json(api.get_room(r4), 200, room_text(r4, "dev-C", "dev-D"))
    assert_error(api.accept(pending, "dev-X"), 404, "not_found_or_expired")
    api.created(pending, "dev-E")  # the purged code is free again

    # legacy single deviceId
    r = api.purge({"deviceId": "dev-D"})
    assert_json(r, 200, '{"success":true,"deviceIdCount":1,"roomsDeleted":1,"pendingsDeleted":0}')
    assert_error(api.get_room(r4), 404, "not_found")
    r = api.purge({"deviceId": "dev-D"})
    assert_json(r, 200, '{"success":true,"deviceIdCount":1,"roomsDeleted":0,"pendingsDeleted":0}')


def test_purge_of_client2_removes_its_accepted_pending(api):
    # After accept and before check, the device has a room and (as client2) a pending row; purge counts both.
    j = next_joinid()
    api.created(j, "dev-A")
    roomid = api.accepted(j, "dev-B")
    r = api.purge({"deviceIds": ["dev-B"]})
    assert_json(r, 200, '{"success":true,"deviceIdCount":1,"roomsDeleted":1,"pendingsDeleted":1}')
    assert_error(api.check(j, "dev-A"), 404, "not_found_or_expired")
    assert_error(api.get_room(roomid), 404, "not_found")


def test_purge_prefers_deviceIds_and_falls_back_to_deviceId(api):
    _, ra = api.pair("dev-A", "dev-B")
    _, rc = api.pair("dev-C", "dev-D")
    # deviceIds is an array: deviceId is ignored
    r = api.purge({"deviceIds": ["dev-A"], "deviceId": "dev-C"})
    assert_json(r, 200, '{"success":true,"deviceIdCount":1,"roomsDeleted":1,"pendingsDeleted":0}')
    assert_json(api.get_room(rc), 200, room_text(rc, "dev-C", "dev-D"))
    # deviceIds is not an array: the legacy deviceId is used
    r = api.purge({"deviceIds": "dev-X", "deviceId": "dev-C"})
    assert_json(r, 200, '{"success":true,"deviceIdCount":1,"roomsDeleted":1,"pendingsDeleted":0}')
    assert_error(api.get_room(ra), 404, "not_found")
    assert_error(api.get_room(rc), 404, "not_found")


# --- concurrency -------------------------------------------------------------------------------------------------


def run_threads(n, target):
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "worker threads hung"


def test_64_concurrent_pairing_flows_all_succeed(start_daemon):
    d = start_daemon({"limits.rest_rate_per_second": 0})  # database.synchronous stays at its default (full)
    n = 64
    barrier = threading.Barrier(n)
    results = [None] * n

    def flow(i):
        with requests.Session() as s:
            api = Api(d.url, s)
            j, c1, c2 = str(300000 + i), f"flow-{i}-one", f"flow-{i}-two"
            try:
                barrier.wait(timeout=10)
                out = [api.create(j, c1, 60), api.accept(j, c2), api.check(j, c1)]
                results[i] = [(r.status_code, r.text) for r in out]
            except Exception as exc:  # noqa: BLE001 - reported below
                results[i] = repr(exc)

    started = time.monotonic()
    run_threads(n, flow)
    elapsed = time.monotonic() - started
    failures = [(i, r) for i, r in enumerate(results)
                if not isinstance(r, list) or [s for s, _ in r] != [201, 200, 200]]
    assert not failures, failures[:5]
    roomids = []
    for i, ((_, created), (_, accepted), (_, checked)) in enumerate(results):
        assert accepted == checked, (i, accepted, checked)
        roomids.append(ROOMID_RE.match(accepted).group(1))
    assert len(set(roomids)) == n
    api = Api(d.url)
    for i in (0, 17, 63):
        assert_json(api.get_room(roomids[i]), 200, room_text(roomids[i], f"flow-{i}-one", f"flow-{i}-two"))
    assert elapsed < 10, elapsed


def test_concurrent_accepts_of_one_code_have_exactly_one_winner(start_daemon):
    d = start_daemon({"limits.rest_rate_per_second": 0})
    j = next_joinid()
    Api(d.url).created(j, "dev-A")
    n = 32
    barrier = threading.Barrier(n)
    results = [None] * n

    def accept(i):
        with requests.Session() as s:
            try:
                barrier.wait(timeout=10)
                r = Api(d.url, s).accept(j, f"dev-{i}")
                results[i] = (r.status_code, r.text)
            except Exception as exc:  # noqa: BLE001 - reported below
                results[i] = (None, repr(exc))

    run_threads(n, accept)
    winners = [i for i, (status, _) in enumerate(results) if status == 200]
    assert len(winners) == 1, results
    assert all(r == (409, '{"error":"conflict"}') for i, r in enumerate(results) if i != winners[0]), results
    roomid = ROOMID_RE.match(results[winners[0]][1]).group(1)
    api = Api(d.url)
    assert api.checked(j, "dev-A") == roomid
    assert_json(api.get_room(roomid), 200, room_text(roomid, "dev-A", f"dev-{winners[0]}"))


def test_concurrent_creates_of_one_code_have_exactly_one_winner(start_daemon):
    d = start_daemon({"limits.rest_rate_per_second": 0})
    j = next_joinid()
    n = 32
    barrier = threading.Barrier(n)
    results = [None] * n

    def create(i):
        with requests.Session() as s:
            try:
                barrier.wait(timeout=10)
                r = Api(d.url, s).create(j, f"dev-{i}", 60)
                results[i] = (r.status_code, r.text)
            except Exception as exc:  # noqa: BLE001 - reported below
                results[i] = (None, repr(exc))

    run_threads(n, create)
    winners = [i for i, (status, _) in enumerate(results) if status == 201]
    assert len(winners) == 1, results
    assert all(r == (409, '{"error":"conflict"}') for i, r in enumerate(results) if i != winners[0]), results
    api = Api(d.url)
    roomid = api.accepted(j, "dev-B")
    assert api.checked(j, f"dev-{winners[0]}") == roomid
