# Every HTTP limit is hit once, plus malformed and unusual HTTP/1.1 over raw sockets.
import re
import socket
import time

import pytest
import requests

from httputil import (HEALTH_LINE, ROOMID_RE, Api, RawConn, assert_error, assert_json, assert_serving, chunked,
                      create_obj, json_text, next_joinid, padded, raw_exchange, request_bytes, session_from)


def assert_closed(conn, timeout=2.0):
    assert conn.wait_closed(timeout), "server kept the connection open"
    assert conn.buf == b"", f"unexpected bytes after the response: {conn.buf[:200]!r}"


def assert_refused_or_503(conn):
    """A connection over a connection limit: 503 too_many_connections (best effort), then closed."""
    conn.try_send(request_bytes("GET", "/"))
    try:
        resp = conn.read_response()
    except (socket.timeout, TimeoutError):
        raise AssertionError("an over-limit connection was neither answered nor closed")
    if resp is not None:
        assert_error(resp, 503, "too_many_connections")
    assert conn.wait_closed(2)


# --- body and header size ------------------------------------------------------------------------------------------


def test_body_over_max_body_bytes_is_413_and_closes(start_daemon):
    d = start_daemon({"limits.max_body_bytes": 100})
    exact = padded(create_obj(), 100)
    with RawConn(d.port) as c:
        c.send(request_bytes("POST", "/api/rooms", exact))
        r = c.read_response()
        assert r.status_code == 201, r
        c.send(request_bytes("POST", "/api/rooms", padded(create_obj(), 101)))
        assert_error(c.read_response(), 413, "body_too_large")
        assert_closed(c)
    assert_serving(d)


def test_chunked_body_over_max_body_bytes_is_413(start_daemon):
    d = start_daemon({"limits.max_body_bytes": 100})
    body = padded(create_obj(), 100)
    with RawConn(d.port) as c:  # exactly the limit in three chunks is fine
        c.send(request_bytes("POST", "/api/rooms", chunked(body[:40], body[40:80], body[80:]),
                             headers={"Transfer-Encoding": "chunked"}))
        r = c.read_response()
        assert r.status_code == 201, r
    body = padded(create_obj(), 120)
    with RawConn(d.port) as c:
        c.send(request_bytes("POST", "/api/rooms", chunked(body[:40], body[40:80], body[80:]),
                             headers={"Transfer-Encoding": "chunked"}))
        assert_error(c.read_response(), 413, "body_too_large")
        assert_closed(c)
    assert_serving(d)


def test_oversized_content_length_is_refused_before_the_body_arrives(start_daemon):
    d = start_daemon({"limits.max_body_bytes": 100})  # request timeout stays 10 s: the answer must not wait for it
    with RawConn(d.port, timeout=2) as c:
        c.send("POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: 1000000\r\n\r\n")
        assert_error(c.read_response(), 413, "body_too_large")
        assert c.wait_closed(2)
    assert_serving(d)


def test_default_max_body_bytes_is_16384(daemon):
    api = Api(daemon.url)
    r = api.post("/api/rooms", padded(create_obj(), 16384))
    assert r.status_code == 201, r.text
    r = api.post("/api/rooms", padded(create_obj(), 16385))
    assert_error(r, 413, "body_too_large")


def test_headers_over_max_header_bytes_are_431_and_close(start_daemon):
    d = start_daemon({"limits.max_header_bytes": 1024})
    ok = request_bytes("GET", "/", headers={"X-Pad": "a" * 600})
    r, c = raw_exchange(d.port, ok)
    assert r.status_code == 200 and r.text == HEALTH_LINE
    c.close()
    for name, data in [
        ("one big header", request_bytes("GET", "/", headers={"X-Pad": "a" * 1100})),
        ("long request line", request_bytes("GET", "/?pad=" + "a" * 1100)),
        ("many headers", request_bytes("GET", "/", headers={f"X-H{i}": "v" * 30 for i in range(40)})),
    ]:
        r, c = raw_exchange(d.port, data)
        assert r is not None, name
        assert_error(r, 431, "headers_too_large")
        assert c.wait_closed(2), name
        c.close()
    assert_serving(d)


def test_header_limit_applies_to_headers_that_never_end(start_daemon):
    # The request timeout is 10 s; the 431 must come as soon as the limit is passed.
    d = start_daemon({"limits.max_header_bytes": 1024})
    with RawConn(d.port, timeout=2) as c:
        c.send("GET / HTTP/1.1\r\nHost: x\r\n")
        for _ in range(4):
            if not c.try_send("X-Pad: " + "a" * 500 + "\r\n"):
                break
            time.sleep(0.05)
        assert_error(c.read_response(), 431, "headers_too_large")
        assert c.wait_closed(2)
    assert_serving(d)


def test_default_max_header_bytes_is_8192(daemon):
    r = requests.get(daemon.url + "/", headers={"X-Pad": "a" * 7000}, timeout=5)
    assert r.status_code == 200
    r, c = raw_exchange(daemon.port, request_bytes("GET", "/", headers={"X-Pad": "a" * 9000}))
    assert_error(r, 431, "headers_too_large")
    c.close()


# --- id and purge limits -------------------------------------------------------------------------------------------


def test_max_id_bytes_counts_utf8_bytes(start_daemon):
    d = start_daemon({"limits.max_id_bytes": 64})
    api = Api(d.url)
    j = next_joinid()
    api.created(j, "x" * 64)
    api.accepted(j, "é" * 32)  # 64 bytes
    assert_error(api.create(next_joinid(), "x" * 65, 60), 400, "invalid_client1")
    assert_error(api.create(next_joinid(), "é" * 40, 60), 400, "invalid_client1")  # 40 characters, 80 bytes
    assert_error(api.accept(next_joinid(), "x" * 65), 400, "invalid_client2")
    assert_error(api.check(next_joinid(), "x" * 65), 400, "invalid_client1")
    assert_error(api.get_room("x" * 65), 400, "invalid_roomid")
    assert_error(api.get_room("x" * 64), 404, "not_found")
    assert_error(api.delete_room("x" * 65), 400, "invalid_roomid")
    assert_json(api.purge({"deviceIds": ["x" * 65, "y"]}), 400, '{"error":"invalid_device_ids","count":1}')
    assert_json(api.purge({"deviceIds": ["x" * 64]}), 200,
                '{"success":true,"deviceIdCount":1,"roomsDeleted":1,"pendingsDeleted":1}')


def test_max_purge_ids(start_daemon):
    api = Api(start_daemon({"limits.max_purge_ids": 3}).url)
    assert_json(api.purge({"deviceIds": ["a", "b", "c"]}), 200,
                '{"success":true,"deviceIdCount":3,"roomsDeleted":0,"pendingsDeleted":0}')
    assert_error(api.purge({"deviceIds": ["a", "b", "c", "d"]}), 400, "too_many_device_ids")
    assert_error(api.purge({"deviceIds": ["a", "a", "a", "a"]}), 400, "too_many_device_ids")  # duplicates count


def test_default_max_purge_ids_is_1000(daemon):
    api = Api(daemon.url)
    ids = [f"device-{i}" for i in range(1000)]
    r = api.purge({"deviceIds": ids})
    assert_json(r, 200, '{"success":true,"deviceIdCount":1000,"roomsDeleted":0,"pendingsDeleted":0}')
    assert_error(api.purge({"deviceIds": ids + ["one-more"]}), 400, "too_many_device_ids")


def test_max_pending_codes(start_daemon):
    api = Api(start_daemon({"limits.max_pending_codes": 2}).url)
    j1, j2 = next_joinid(), next_joinid()
    api.created(j1, "dev-A")
    api.created(j2, "dev-B")
    assert_error(api.create(next_joinid(), "dev-C", 60), 503, "too_many_pending_codes")
    roomid = api.accepted(j1, "dev-X")
    assert api.checked(j1, "dev-A") == roomid  # the check consumes pending j1
    api.created(next_joinid(), "dev-C")
    assert_error(api.create(next_joinid(), "dev-D", 60), 503, "too_many_pending_codes")


# --- rate limits -------------------------------------------------------------------------------------------------


def test_rest_rate_limit_is_429_with_retry_after_per_address(start_daemon):
    d = start_daemon({"limits.rest_rate_per_second": 1, "limits.rest_rate_burst": 3})
    api = Api(d.url)
    assert [api.delete_room("nope").status_code for _ in range(3)] == [200, 200, 200]
    r = api.delete_room("nope")
    assert_error(r, 429, "rate_limited")
    assert re.fullmatch(r"\d+", r.headers.get("Retry-After", "")), r.headers
    retry_after = int(r.headers["Retry-After"])
    assert 1 <= retry_after <= 2
    with session_from("127.0.0.2") as other:  # another client address has its own bucket
        assert_json(Api(d.url, other).delete_room("nope"), 200, '{"ok":true}')
    time.sleep(retry_after + 0.1)
    assert_json(api.delete_room("nope"), 200, '{"ok":true}')


def test_rest_rate_zero_means_off(start_daemon):
    d = start_daemon({"limits.rest_rate_per_second": 0, "limits.rest_rate_burst": 1})
    api = Api(d.url)
    statuses = [api.delete_room("nope").status_code for _ in range(300)]
    assert statuses == [200] * 300


def failed_join_daemon(start_daemon, budget=3):
    return start_daemon({"limits.failed_join_per_minute": budget, "limits.rest_rate_per_second": 0})


def test_failed_joins_over_budget_block_even_a_valid_accept(start_daemon):
    d = failed_join_daemon(start_daemon, budget=4)
    api = Api(d.url)
    j = next_joinid()
    api.created(j, "dev-A")  # spends one of the 4: three failed joins are left
    assert_error(api.accept("111111", "dev-B"), 404, "not_found_or_expired")
    assert_error(api.check("111112", "dev-A"), 404, "not_found_or_expired")
    assert_error(api.accept("111113", "dev-B"), 404, "not_found_or_expired")
    r = api.accept(j, "dev-B")  # a correct code, but this address has used its budget
    assert_error(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) >= 1
    assert_error(api.check(j, "dev-A"), 429, "rate_limited")
    # another address is unaffected, and the code was not consumed by the refused accept
    with session_from("127.0.0.2") as other:
        assert re.fullmatch(r"[0-9a-f]{48}", Api(d.url, other).accepted(j, "dev-B"))


def test_only_404s_of_accept_and_check_count_against_the_failed_join_budget(start_daemon):
    d = failed_join_daemon(start_daemon)
    api = Api(d.url)

    def created_elsewhere(j, n):  # creates spend their own address's budget: make them from other addresses
        with session_from(f"127.0.0.{10 + n}") as s:
            Api(d.url, s).created(j, "dev-A")

    for n in range(5):  # successful accepts and checks, 204 checks
        j = next_joinid()
        created_elsewhere(j, n)
        assert api.check(j, "dev-A").status_code == 204
        roomid = api.accepted(j, "dev-B")
        assert api.checked(j, "dev-A") == roomid
    for _ in range(5):  # 400s, 409s and GET 404s are not failed joins
        assert_error(api.accept("12", "dev-B"), 400, "invalid_joinid")
        assert_error(api.check("123456", ""), 400, "missing_client1")
        assert_error(api.get_room("nope"), 404, "not_found")
    j = next_joinid()
    created_elsewhere(j, 5)
    api.accepted(j, "dev-B")
    for _ in range(5):
        assert_error(api.accept(j, "dev-C"), 409, "conflict")
    # the budget (3) is untouched so far
    assert_error(api.accept("111111", "dev-B"), 404, "not_found_or_expired")
    assert_error(api.check("111112", "dev-A"), 404, "not_found_or_expired")
    assert_error(api.check("111113", "dev-A"), 404, "not_found_or_expired")
    assert_error(api.accept("111114", "dev-B"), 429, "rate_limited")


def test_failed_join_zero_means_off(start_daemon):
    api = Api(start_daemon({"limits.failed_join_per_minute": 0, "limits.rest_rate_per_second": 0}).url)
    for i in range(40):
        assert_error(api.accept(str(110000 + i), "dev-B"), 404, "not_found_or_expired")


# --- slow and idle clients -----------------------------------------------------------------------------------------


def timeouts_daemon(start_daemon):
    return start_daemon({"server.request_timeout_seconds": 0.5, "server.idle_timeout_seconds": 5})


@pytest.mark.parametrize("partial", [
    b"GET / HTTP/1.1\r\nHost: x\r\n",
    b"GET / HTTP/1.1\r\nHo",
    b"POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Length: 60\r\n\r\n{\"joinid\":",
    b"POST /api/rooms HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"joi\r\n",
])
def test_incomplete_request_gets_408_and_is_closed(start_daemon, partial):
    d = timeouts_daemon(start_daemon)
    with RawConn(d.port, timeout=3) as c:
        started = time.monotonic()
        c.send(partial)
        r = c.read_response()
        elapsed = time.monotonic() - started
        assert_error(r, 408, "request_timeout")
        assert 0.4 <= elapsed <= 2.0, elapsed
        assert_closed(c)
    assert_serving(d)


def test_trickled_request_still_times_out(start_daemon):
    # One byte every 50 ms never completes the headers; the timeout counts from the first byte, not the last.
    d = timeouts_daemon(start_daemon)
    with RawConn(d.port, timeout=3) as c:
        started = time.monotonic()
        c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        c.sock.settimeout(0.05)
        while time.monotonic() - started < 3:
            if not c.try_send(b"a"):
                break
            try:
                if not c._fill():
                    break
                if b"\r\n\r\n" in c.buf:
                    break
            except (socket.timeout, TimeoutError):
                continue
        elapsed = time.monotonic() - started
        c.sock.settimeout(3)
        assert elapsed <= 2.0, elapsed
        r = c.read_response()
        assert_error(r, 408, "request_timeout")
    assert_serving(d)


def test_request_sent_in_pieces_within_the_timeout_is_served(start_daemon):
    d = timeouts_daemon(start_daemon)
    data = request_bytes("POST", "/api/rooms", create_obj())
    with RawConn(d.port) as c:
        for i in range(0, len(data), len(data) // 3 + 1):
            c.send(data[i:i + len(data) // 3 + 1])
            time.sleep(0.1)
        r = c.read_response()
        assert r.status_code == 201, r


def test_idle_keepalive_connection_is_closed_silently(start_daemon):
    d = start_daemon({"server.idle_timeout_seconds": 0.5, "server.request_timeout_seconds": 5})
    with RawConn(d.port, timeout=3) as c:
        c.send(request_bytes("GET", "/"))
        assert c.read_response().status_code == 200
        started = time.monotonic()
        assert c.wait_closed(2.5), "idle connection was not closed"
        elapsed = time.monotonic() - started
        assert c.buf == b"", c.buf  # no 408 or other bytes
        assert 0.35 <= elapsed <= 2.0, elapsed
    assert_serving(d)


def test_active_keepalive_connection_is_not_closed_as_idle(start_daemon):
    d = start_daemon({"server.idle_timeout_seconds": 0.5, "server.request_timeout_seconds": 5})
    with RawConn(d.port, timeout=3) as c:
        for _ in range(6):  # 1.5 s in total, never 0.5 s idle
            c.send(request_bytes("GET", "/"))
            r = c.read_response()
            assert r is not None and r.status_code == 200
            time.sleep(0.25)


# --- connection limits ---------------------------------------------------------------------------------------------


def open_served(port, source=None):
    c = RawConn(port, source=source)
    c.send(request_bytes("GET", "/"))
    r = c.read_response()
    assert r is not None and r.status_code == 200, r
    return c


def test_max_connections(start_daemon):
    d = start_daemon({"limits.max_connections": 3})
    held = [open_served(d.port) for _ in range(3)]
    try:
        extra = RawConn(d.port)
        assert_refused_or_503(extra)
        extra.close()
        for c in held:  # existing connections are unaffected
            c.send(request_bytes("GET", "/"))
            assert c.read_response().status_code == 200
        held.pop().close()

        def fresh_served():
            try:
                open_served(d.port).close()
                return True
            except (AssertionError, OSError):
                return False

        deadline = time.monotonic() + 2
        while not fresh_served():
            assert time.monotonic() < deadline, "a freed connection slot was not reused"
            time.sleep(0.05)
    finally:
        for c in held:
            c.close()


def test_max_connections_per_ip(start_daemon):
    d = start_daemon({"limits.max_connections_per_ip": 2})
    held = [open_served(d.port), open_served(d.port)]
    try:
        extra = RawConn(d.port)
        assert_refused_or_503(extra)
        extra.close()
        held.append(open_served(d.port, source="127.0.0.2"))  # another address has its own allowance
        held.append(open_served(d.port, source="127.0.0.2"))
        for c in held:
            c.send(request_bytes("GET", "/"))
            assert c.read_response().status_code == 200
    finally:
        for c in held:
            c.close()


def test_default_max_connections_per_ip_is_100(start_daemon):
    """The default keeps a few addresses from holding every slot: one address gets 100, the next one is refused,
    and another address is still served."""
    d = start_daemon({"limits.rest_rate_per_second": 0})
    held = []
    try:
        for _ in range(100):
            held.append(open_served(d.port, source="127.0.0.2"))
        extra = RawConn(d.port, source="127.0.0.2")
        assert_refused_or_503(extra)
        extra.close()
        held.append(open_served(d.port, source="127.0.0.3"))
    finally:
        for c in held:
            c.close()


# --- malformed and unusual HTTP ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,data", [
    ("garbage request line", b"garbage\r\n\r\n"),
    ("binary garbage", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n"),
    ("NUL in request line", b"GE\x00T / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("missing version", b"GET /\r\nHost: x\r\n\r\n"),
    ("header without colon", b"GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n"),
    ("space before colon", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n"),
    ("Content-Length not a number", b"POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}"),
    ("negative Content-Length", b"POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}"),
    ("Content-Length with sign", b"POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\n{}"),
    ("Content-Length with junk", b"POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Length: 2x\r\n\r\n{}"),
    ("conflicting Content-Lengths",
     b"POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{} "),
    ("bad chunk size",
     b"POST /api/rooms HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
    ("chunk longer than declared",
     b"POST /api/rooms HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}xx\r\n0\r\n\r\n"),
])
def test_malformed_request_is_400_bad_request_and_closed(daemon, name, data):
    r, c = raw_exchange(daemon.port, data)
    with c:
        assert r is not None, name
        assert_error(r, 400, "bad_request")
        assert c.wait_closed(2), name
    assert_serving(daemon)


@pytest.mark.parametrize("version", ["HTTP/2.0", "HTTP/3.0"])
def test_unsupported_http_version_is_505(daemon, version):
    r, c = raw_exchange(daemon.port, f"GET / {version}\r\nHost: x\r\n\r\n".encode())
    c.close()
    assert_error(r, 505, "http_version_not_supported")
    assert_serving(daemon)


def test_unsupported_transfer_encoding_is_501(daemon):
    data = b"POST /api/rooms HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"
    r, c = raw_exchange(daemon.port, data)
    c.close()
    assert_error(r, 501, "not_implemented")
    assert_serving(daemon)


def test_transfer_encoding_with_content_length_is_not_smuggled(daemon):
    # RFC 9112 6.1: either reject, or use Transfer-Encoding alone; in both cases close after responding. Bytes that
    # only one of the two framings would treat as a second request must never be answered.
    body = json_text(create_obj()).encode()
    smuggled = b"GET /api/rooms/check HTTP/1.1\r\nHost: x\r\n\r\n"
    data = (b"POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
            + chunked(body) + smuggled)
    r, c = raw_exchange(daemon.port, data)
    with c:
        assert r is not None
        if r.status_code == 400:
            assert_error(r, 400, "bad_request")
        else:
            assert r.status_code == 201, r
        assert c.wait_closed(2)
        assert c.buf == b"", f"a second response was sent: {c.buf[:200]!r}"
    assert_serving(daemon)


def test_chunked_body_is_accepted(daemon):
    body = json_text(create_obj()).encode()
    data = request_bytes("POST", "/api/rooms", chunked(body[:7], body[7:20], body[20:]),
                         headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"})
    with RawConn(daemon.port) as c:
        c.send(data)
        r = c.read_response()
        assert r.status_code == 201 and r.text.startswith('{"ok":true,"exp":"'), r
        c.send(request_bytes("GET", "/"))  # the connection is still usable
        assert c.read_response().status_code == 200


def test_pipelined_requests_are_answered_in_order(daemon):
    j = next_joinid()
    data = b"".join([
        request_bytes("GET", "/"),
        request_bytes("POST", "/api/rooms", create_obj(j)),
        request_bytes("POST", "/api/rooms/accept", {"joinid": j, "client2": "dev-B"}),
        request_bytes("POST", "/api/rooms/check", {"joinid": j, "client1": "dev-A"}),
        request_bytes("GET", "/api/rooms?roomid=nope"),
        request_bytes("POST", "/api/rooms/check", {}),
    ])
    with RawConn(daemon.port) as c:
        c.send(data)
        rs = [c.read_response() for _ in range(6)]
    assert rs[0].status_code == 200 and rs[0].text == HEALTH_LINE
    assert rs[1].status_code == 201, rs[1]
    assert rs[2].status_code == 200, rs[2]
    roomid = ROOMID_RE.match(rs[2].text).group(1)
    assert_json(rs[3], 200, json_text({"roomid": roomid}))
    assert_error(rs[4], 404, "not_found")
    assert_error(rs[5], 400, "missing_joinid")


def test_keepalive_connection_is_reused(daemon):
    with RawConn(daemon.port) as c:
        for i in range(5):
            c.send(request_bytes("POST", "/api/rooms", create_obj()))
            r = c.read_response()
            assert r is not None and r.status_code == 201, (i, r)
            assert "close" not in r.headers.get("Connection", "").lower()
        c.send(request_bytes("GET", "/"))
        assert c.read_response().status_code == 200


def test_expect_100_continue(daemon):
    body = json_text(create_obj()).encode()
    with RawConn(daemon.port, timeout=2) as c:
        c.send(f"POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n")
        interim = c.read_response()
        assert interim is not None and interim.status_code == 100, interim
        c.send(body)
        r = c.read_response()
        assert r.status_code == 201, r


def test_http10_connection_is_closed_after_the_response(daemon):
    with RawConn(daemon.port) as c:
        c.send(b"GET / HTTP/1.0\r\n\r\n")
        r = c.read_response()
        assert r.status_code == 200 and r.text == HEALTH_LINE
        assert_closed(c)
    with RawConn(daemon.port) as c:
        c.send(request_bytes("POST", "/api/rooms", create_obj(), version="HTTP/1.0"))
        r = c.read_response()
        assert r.status_code == 201, r
        assert_closed(c)


def test_connection_close_is_honoured(daemon):
    with RawConn(daemon.port) as c:
        c.send(request_bytes("GET", "/", headers={"Connection": "close"}))
        r = c.read_response()
        assert r.status_code == 200
        assert_closed(c)


def test_head_has_headers_but_no_body(daemon):
    with RawConn(daemon.port) as c:
        c.send(request_bytes("HEAD", "/"))
        r = c.read_response(head=True)
        assert r.status_code == 200
        c.send(request_bytes("GET", "/"))  # a body after HEAD would corrupt this response
        r = c.read_response()
        assert r.status_code == 200 and r.text == HEALTH_LINE


def test_refusal_follows_the_cors_policy(start_daemon):
    # The 503 for a refused connection goes through the same CORS policy as every other answer: with an
    # allowlist it names the allowed origin, never "*".
    d = start_daemon({"limits.max_connections": 1, "server.allowed_origins": "https://b.example"})
    held = open_served(d.port)
    try:
        extra = RawConn(d.port)
        extra.try_send(request_bytes("GET", "/", headers={"Origin": "https://b.example"}))
        resp = extra.read_response()
        assert resp is not None, "the refused connection got no 503"
        assert resp.status_code == 503, resp
        assert resp.json() == {"error": "too_many_connections"}, resp
        assert resp.headers.get("Access-Control-Allow-Origin") == "https://b.example", resp
        assert resp.headers.get("Vary") == "Origin", resp
        assert resp.headers.get("Connection") == "close", resp
        assert extra.wait_closed(2)
        extra.close()
    finally:
        held.close()
