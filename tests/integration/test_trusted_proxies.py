# server.trusted_proxies without a proxy in front: requests from 127.0.0.1 play the proxy, requests bound to
# 127.0.0.2 play an untrusted client. The header rules decide admin access, rate-limit buckets, the failed-join
# budget, the WebSocket session's address and the once-only misconfiguration warning.
import re

import requests

from httputil import Api, RawConn, assert_error, next_joinid, request_bytes, session_from, wait_for_log
from wsutil import RawWs

PROXY_SETTINGS = {"server.trusted_proxies": "127.0.0.1", "admin.allow_from": "127.0.0.1, 2001:db8::/32"}


def get(url, path, headers=None, source=None):
    session = session_from(source) if source else requests.Session()
    with session:
        return session.get(url + path, headers=headers or {}, timeout=10)


def test_untrusted_peer_cannot_forge_its_address(start_daemon):
    d = start_daemon(PROXY_SETTINGS)
    for forged in [{"X-Forwarded-For": "127.0.0.1"}, {"Forwarded": "for=127.0.0.1"},
                   {"Forwarded": 'for="[2001:db8::1]"'}, {"X-Forwarded-For": "unknown"}]:
        assert_error(get(d.url, "/metrics", forged, source="127.0.0.2"), 403, "forbidden", origin=None)
    assert get(d.url, "/metrics").status_code == 200  # the proxy itself, without a header, is 127.0.0.1


def test_client_named_by_a_trusted_proxy_is_not_admin(start_daemon):
    d = start_daemon(PROXY_SETTINGS)
    assert_error(get(d.url, "/metrics", {"X-Forwarded-For": "198.51.100.7"}), 403, "forbidden", origin=None)
    assert_error(get(d.url, "/rooms", {"Forwarded": "for=198.51.100.7;proto=https"}), 403, "forbidden", origin=None)
    # a client that prepends a forged entry: the right-most address that is not a trusted proxy wins
    assert_error(get(d.url, "/metrics", {"X-Forwarded-For": "127.0.0.1, 198.51.100.7"}), 403, "forbidden", origin=None)
    # a quoted IPv6 node with a port, inside allow_from
    assert get(d.url, "/metrics", {"Forwarded": 'for="[2001:db8::1]:4711"'}).status_code == 200
    # Forwarded is preferred when both are present
    both = {"Forwarded": "for=198.51.100.7", "X-Forwarded-For": "2001:db8::1"}
    assert_error(get(d.url, "/metrics", both), 403, "forbidden", origin=None)
    both = {"Forwarded": 'for="[2001:db8::1]"', "X-Forwarded-For": "198.51.100.7"}
    assert get(d.url, "/metrics", both).status_code == 200


def test_headers_are_ignored_without_trusted_proxies(start_daemon):
    d = start_daemon({"admin.allow_from": "2001:db8::/32"})
    assert_error(get(d.url, "/metrics", {"Forwarded": 'for="[2001:db8::1]"'}), 403, "forbidden", origin=None)
    assert_error(get(d.url, "/metrics", {"X-Forwarded-For": "2001:db8::1"}), 403, "forbidden", origin=None)


def test_each_forwarded_client_has_its_own_rest_bucket(start_daemon):
    d = start_daemon({**PROXY_SETTINGS, "limits.rest_rate_per_second": 0.01, "limits.rest_rate_burst": 3})
    a = {"X-Forwarded-For": "198.51.100.1"}
    b = {"X-Forwarded-For": "198.51.100.2"}
    api = Api(d.url)
    assert [api.request("DELETE", "/api/rooms", {"roomid": "x"}, a).status_code for _ in range(3)] == [200] * 3
    assert_error(api.request("DELETE", "/api/rooms", {"roomid": "x"}, a), 429, "rate_limited")
    assert api.request("DELETE", "/api/rooms", {"roomid": "x"}, b).status_code == 200


def test_headers_do_not_split_buckets_from_an_untrusted_peer(start_daemon):
    d = start_daemon({"limits.rest_rate_per_second": 0.01, "limits.rest_rate_burst": 3})
    api = Api(d.url)
    for i in range(3):
        assert api.request("DELETE", "/api/rooms", {"roomid": "x"}, {"X-Forwarded-For": f"198.51.100.{i}"}).ok
    r = api.request("DELETE", "/api/rooms", {"roomid": "x"}, {"X-Forwarded-For": "198.51.100.99"})
    assert_error(r, 429, "rate_limited")


def test_failed_join_budget_is_per_forwarded_client(start_daemon):
    d = start_daemon({**PROXY_SETTINGS, "limits.failed_join_per_minute": 2, "limits.rest_rate_per_second": 0})
    api = Api(d.url)
    guesser = {"X-Forwarded-For": "198.51.100.1"}
    for code in ["111111", "111112"]:
        r = api.request("POST", "/api/rooms/accept", {"joinid": code, "client2": "dev-B"}, guesser)
        assert_error(r, 404, "not_found_or_expired")
    r = api.request("POST", "/api/rooms/accept", {"joinid": "111113", "client2": "dev-B"}, guesser)
    assert_error(r, 429, "rate_limited")
    assert "event=failed_join_limited peer=198.51.100.1" in d.log()
    j = next_joinid()
    api.created(j, "dev-A")
    other = {"X-Forwarded-For": "198.51.100.2"}
    r = api.request("POST", "/api/rooms/accept", {"joinid": j, "client2": "dev-B"}, other)
    assert r.status_code == 200, r.text


def test_proxy_without_header_is_warned_about_once(start_daemon):
    d = start_daemon(PROXY_SETTINGS)
    for _ in range(5):
        assert get(d.url, "/metrics").status_code == 200  # treated as the proxy itself
    for _ in range(3):
        assert get(d.url, "/metrics", {"X-Forwarded-For": "unknown"}).status_code == 200
        assert get(d.url, "/metrics", {"Forwarded": "for=_hidden"}).status_code == 200
    log = d.log()
    assert len(re.findall(r"event=proxy_header_missing proxy=127\.0\.0\.1\b", log)) == 1, log
    assert len(re.findall(r"event=proxy_header_unusable proxy=127\.0\.0\.1\b", log)) == 1, log


def test_trusted_proxy_connections_are_not_held_to_the_per_ip_limit(start_daemon):
    d = start_daemon({**PROXY_SETTINGS, "limits.max_connections_per_ip": 2})
    held = [RawConn(d.port) for _ in range(5)]  # from the proxy: five connections carrying other clients
    held += [RawConn(d.port, source="127.0.0.2") for _ in range(2)]
    try:
        for c in held:
            c.send(request_bytes("GET", "/", headers={"X-Forwarded-For": "198.51.100.1"}))
            assert c.read_response().status_code == 200
        extra = RawConn(d.port, source="127.0.0.2")  # an ordinary client is still limited
        extra.try_send(request_bytes("GET", "/"))
        try:
            resp = extra.read_response()
        except OSError:
            resp = None
        assert resp is None or resp.status_code == 503
        assert extra.wait_closed(2)
        extra.close()
    finally:
        for c in held:
            c.close()


def test_websocket_session_keeps_the_address_of_its_upgrade_request(start_daemon):
    d = start_daemon({**PROXY_SETTINGS, "log.level": "debug", "signaling.require_known_room": False})
    with RawWs(d.port, extra_headers=["X-Forwarded-For: 198.51.100.42"]) as ws:
        ws.send_json({"type": "join_room", "roomId": "proxy-room"})
        assert ws.read_json()["type"] == "room_joined"
    assert re.search(r"event=websocket_opened conn=\d+ peer=198\.51\.100\.42\b", d.log()), d.log()[-2000:]


def test_trusted_proxies_follow_a_reload(start_daemon):
    d = start_daemon({"admin.allow_from": "2001:db8::/32"})
    named = {"X-Forwarded-For": "2001:db8::7"}
    assert_error(get(d.url, "/metrics", named), 403, "forbidden", origin=None)
    d.reload({"server.trusted_proxies": "127.0.0.1"})
    wait_for_log(d, r"event=config_reloaded .*server\.trusted_proxies")
    assert get(d.url, "/metrics", named).status_code == 200
    d.reload({"server.trusted_proxies": ""})
    wait_for_log(d, r"event=config_reloaded .*server\.trusted_proxies(?s:.*)event=config_reloaded .*server\.trusted_proxies")
    assert_error(get(d.url, "/metrics", named), 403, "forbidden", origin=None)
