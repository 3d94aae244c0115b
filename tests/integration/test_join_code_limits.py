# Join-code guessing and growth bounds (issue 14, holes 2 and 10): creates spend the per-address join-code budget,
# failed joins also spend a global one that never blocks creates, live codes per address and rooms per device id
# are capped, and /health shows the live-code count to admin callers only.
import time

import requests

from httputil import Api, assert_error, next_joinid, ordered_pairs, session_from


def api_from(daemon, source):
    return Api(daemon.url, session_from(source))


def test_an_address_that_probes_through_create_is_refused_on_accept(start_daemon):
    d = start_daemon({"limits.failed_join_per_minute": 5, "limits.rest_rate_per_second": 0})
    victim = api_from(d, "127.0.0.2")
    live = next_joinid()
    victim.created(live, "dev-victim")

    attacker = api_from(d, "127.0.0.3")
    for _ in range(4):  # misses: short-lived codes of the attacker's own
        assert attacker.create(next_joinid(), "dev-x", expires=1).status_code == 201
    assert_error(attacker.create(live, "dev-x", expires=1), 409, "conflict")  # a hit: the code is live
    # the five probes spent the address's budget: it can neither take the code it found nor probe on
    r = attacker.accept(live, "dev-x")
    assert_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1
    assert_error(attacker.check(live, "dev-x"), 429, "rate_limited")
    assert_error(attacker.create(next_joinid(), "dev-x", expires=1), 429, "rate_limited")
    # the code is untouched: its rightful peer pairs normally
    roomid = api_from(d, "127.0.0.4").accepted(live, "dev-friend")
    assert victim.checked(live, "dev-victim") == roomid


def test_the_global_failed_join_budget_does_not_block_creates(start_daemon):
    d = start_daemon({"limits.failed_join_per_minute": 100, "limits.failed_join_global_per_minute": 3,
                      "limits.rest_rate_per_second": 0})
    for n in range(3):  # three addresses, one failed guess each
        assert_error(api_from(d, f"127.0.0.{10 + n}").accept("111111", "dev-x"), 404, "not_found_or_expired")
    # the global budget is spent: a fresh address may not guess either ...
    fresh = api_from(d, "127.0.0.20")
    assert_error(fresh.accept("111112", "dev-y"), 429, "rate_limited")
    assert_error(fresh.check("111113", "dev-y"), 429, "rate_limited")
    # ... but every address can still create codes
    for n in range(5):
        j = next_joinid()
        creator = api_from(d, f"127.0.0.{30 + n}")
        creator.created(j, "dev-c")
    assert "failed_join_limited" in d.log() and "budget=global" in d.log()


def test_live_codes_per_address_are_capped(start_daemon):
    d = start_daemon({"limits.max_pending_codes_per_address": 3, "limits.rest_rate_per_second": 0})
    a = api_from(d, "127.0.0.2")
    for _ in range(2):
        a.created(next_joinid(), "dev-a", expires=60)
    a.created(next_joinid(), "dev-a", expires=1)
    assert_error(a.create(next_joinid(), "dev-a"), 429, "too_many_pending_codes_for_address")
    api_from(d, "127.0.0.3").created(next_joinid(), "dev-b")  # another address is not held to a's codes
    time.sleep(1.2)  # a's short-lived code expires: it no longer counts
    a.created(next_joinid(), "dev-a")
    assert_error(a.create(next_joinid(), "dev-a"), 429, "too_many_pending_codes_for_address")
    # the count is kept with the codes: a restart does not reset it
    assert d.stop() == 0
    d.start()
    a = api_from(d, "127.0.0.2")
    assert_error(a.create(next_joinid(), "dev-a"), 429, "too_many_pending_codes_for_address")
    api_from(d, "127.0.0.3").created(next_joinid(), "dev-b")


def test_rooms_per_device_id_are_capped(start_daemon):
    d = start_daemon({"limits.max_rooms_per_client": 2, "limits.rest_rate_per_second": 0})
    api = Api(d.url)
    _, first = api.pair("dev-A", "dev-B")
    api.pair("dev-A", "dev-C")
    j = next_joinid()
    api.created(j, "dev-A")  # a code is fine; the third room is not
    assert_error(api.accept(j, "dev-D"), 403, "too_many_rooms")
    assert api.check(j, "dev-A").status_code == 204  # the refused accept changed nothing
    # the cap also holds for the accepting side
    api.pair("dev-P", "dev-Q")
    api.pair("dev-R", "dev-Q")
    j2 = next_joinid()
    api.created(j2, "dev-S")
    assert_error(api.accept(j2, "dev-Q"), 403, "too_many_rooms")
    api.pair("dev-S", "dev-T")  # other device ids are not affected
    # a deleted room frees its seat
    assert api.delete_room(first).status_code == 200
    roomid = api.accepted(j, "dev-D")
    assert api.checked(j, "dev-A") == roomid


def health_keys(daemon, headers=None):
    r = requests.get(daemon.url + "/health", headers=headers or {}, timeout=5)
    assert r.status_code == 200, r.text
    return [k for k, _ in ordered_pairs(r.text)], r.json()


def test_health_shows_pendings_to_admin_callers_only(start_daemon):
    public = ["status", "rooms", "connections", "uptimeSeconds", "version", "timestamp"]
    admin = ["status", "rooms", "connections", "pendings", "uptimeSeconds", "version", "timestamp"]
    d = start_daemon({"admin.allow_from": "127.0.0.1"})
    Api(d.url).created(next_joinid(), "dev-A")
    keys, body = health_keys(d)
    assert keys == admin and body["pendings"] == 1, body
    # not an admin address
    with session_from("127.0.0.2") as s:
        r = s.get(d.url + "/health", timeout=5)
        assert [k for k, _ in ordered_pairs(r.text)] == public, r.text
    # an admin address, but a browser's request (as the admin routes refuse it)
    keys, body = health_keys(d, {"Origin": "https://app.example"})
    assert keys == public, body
    assert body["rooms"] == 0


def test_turn_credentials_per_device_are_bounded_by_its_rooms(start_daemon):
    """One credential per (room, seat), reused while fresh: a device's live credentials are bounded by
    limits.max_rooms_per_client (and the credential being replaced)."""
    from test_turn_api import db_query, issue, new_room, turn_config

    d = start_daemon({**turn_config("long-term", ttl_seconds=600), "limits.max_rooms_per_client": 2,
                      "limits.rest_rate_per_second": 0})
    rooms = [new_room(d, "dev-A", "dev-B"), new_room(d, "dev-C", "dev-A")]
    for _ in range(10):
        for room in rooms:
            issue(d, room, "dev-A", ttl_seconds=600)
    api = Api(d.url)
    j = next_joinid()
    api.created(j, "dev-A")
    assert_error(api.accept(j, "dev-D"), 403, "too_many_rooms")  # no third room, so no third credential
    rows = db_query(d, "SELECT count(*) FROM turn_credentials c JOIN rooms r ON r.roomid = c.roomid "
                       "WHERE (c.slot = 1 AND r.client1 = 'dev-A') OR (c.slot = 2 AND r.client2 = 'dev-A')")
    assert rows == [(2,)], rows
