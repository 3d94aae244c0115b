# REST input validation and error responses: missing/invalid fields, JSON bodies, routing errors, CORS.
import json

import pytest
import requests

from httputil import (EXPIRES_DETAILS, REFERENCE_ALLOW_HEADERS, REFERENCE_ALLOW_METHODS, Api, Raw, RawConn,
                      assert_cors, assert_error, assert_json, json_text, lock_database, media_type, next_joinid,
                      request_bytes)

INVALID_EXPIRES = json_text({"error": "invalid_expiresInSeconds", "details": EXPIRES_DETAILS})


def err(code):
    return json_text({"error": code})


@pytest.fixture
def api(daemon, http):
    return Api(daemon.url, http)


def expect_all(api, cases):
    """cases: (method, path, body, status, exact_text). Every response must also be application/json (unless
    empty) and carry the CORS headers. All mismatches are reported together."""
    failures = []
    for method, path, body, status, text in cases:
        r = api.request(method, path, body)
        problems = []
        if (r.status_code, r.text) != (status, text):
            problems.append(f"got {r.status_code} {r.text!r}, want {status} {text!r}")
        if text and media_type(r) != "application/json":
            problems.append(f"Content-Type {r.headers.get('Content-Type')!r}")
        if r.headers.get("Access-Control-Allow-Origin") != "*" or \
                r.headers.get("Access-Control-Expose-Headers") != "Retry-After":
            problems.append("missing CORS headers")
        if problems:
            failures.append(f"{method} {path} {body!r}: " + "; ".join(problems))
    assert not failures, "\n".join(failures)


def created_text_ok(r):
    return r.status_code == 201 and r.text.startswith('{"ok":true,"exp":"')


# --- bodies ------------------------------------------------------------------------------------------------------


def test_empty_body_is_treated_as_empty_object(api, daemon):
    cases = [
        ("POST", "/api/rooms", b"", 400, err("missing_joinid")),
        ("POST", "/api/rooms/accept", b"", 400, err("missing_joinid")),
        ("POST", "/api/rooms/check", b"", 400, err("missing_joinid")),
        ("DELETE", "/api/rooms", b"", 400, err("missing_roomid")),
        ("POST", "/api/user/purge", b"", 400, err("missing_deviceIds_or_deviceId")),
        ("POST", "/api/rooms", None, 400, err("missing_joinid")),
        ("DELETE", "/api/rooms", None, 400, err("missing_roomid")),
        ("GET", "/api/rooms", None, 400, err("missing_roomid")),
        ("POST", "/api/rooms", {}, 400, err("missing_joinid")),
    ]
    expect_all(api, cases)
    # A POST without Content-Length or Transfer-Encoding has an empty body (RFC 9112).
    with RawConn(daemon.port) as c:
        c.send("POST /api/rooms HTTP/1.1\r\nHost: x\r\n\r\n")
        assert_error(c.read_response(), 400, "missing_joinid")


NOT_JSON_OBJECTS = [
    "garbage", "{", '{"joinid":"123456"', "[1,2]", "[]", '"just a string"', "5", "null", "true",
    '{"joinid":"123456"} trailing', "{'joinid':'123456'}", '{"joinid":"123456",}', "<html></html>",
]


def test_body_that_is_not_a_json_object_is_invalid_json(api):
    routes = [("POST", "/api/rooms"), ("POST", "/api/rooms/accept"), ("POST", "/api/rooms/check"),
              ("DELETE", "/api/rooms"), ("POST", "/api/user/purge")]
    expect_all(api, [(m, p, body, 400, err("invalid_json")) for body in NOT_JSON_OBJECTS for m, p in routes])


def test_body_is_parsed_as_json_whatever_the_content_type(api, daemon):
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/octet-stream"):
        r = api.post("/api/rooms", {"joinid": next_joinid(), "client1": "dev-A", "expiresInSeconds": 60},
                     headers={"Content-Type": content_type})
        assert created_text_ok(r), (content_type, r.status_code, r.text)
    with RawConn(daemon.port) as c:  # no Content-Type at all
        c.send(request_bytes("POST", "/api/rooms", {"joinid": next_joinid(), "client1": "d", "expiresInSeconds": 9}))
        r = c.read_response()
        assert r.status_code == 201, r


# --- fields ------------------------------------------------------------------------------------------------------


def create_body(joinid, client1="dev-A", expires=60):
    return {"joinid": joinid, "client1": client1, "expiresInSeconds": expires}


def test_missing_fields_in_order_on_create(api):
    cases = [
        ({}, "missing_joinid"),
        ({"client1": "dev-A", "expiresInSeconds": 60}, "missing_joinid"),
        ({"joinid": None, "client1": "dev-A", "expiresInSeconds": 60}, "missing_joinid"),
        ({"joinid": "", "client1": "dev-A", "expiresInSeconds": 60}, "missing_joinid"),
        ({"joinid": "123456"}, "missing_client1"),
        ({"joinid": "123456", "client1": None, "expiresInSeconds": 60}, "missing_client1"),
        ({"joinid": "123456", "client1": "", "expiresInSeconds": 60}, "missing_client1"),
        ({"joinid": "123456", "client1": "dev-A"}, "missing_expiresInSeconds"),
        ({"joinid": "123456", "client1": "dev-A", "expiresInSeconds": None}, "missing_expiresInSeconds"),
        ({"joinid": "123456", "client1": "dev-A", "expiresInSeconds": ""}, "missing_expiresInSeconds"),
    ]
    expect_all(api, [("POST", "/api/rooms", b, 400, err(code)) for b, code in cases])


def test_missing_fields_in_order_on_accept_and_check(api):
    cases = [
        ("/api/rooms/accept", {}, "missing_joinid"),
        ("/api/rooms/accept", {"client2": "dev-B"}, "missing_joinid"),
        ("/api/rooms/accept", {"joinid": "123456"}, "missing_client2"),
        ("/api/rooms/accept", {"joinid": "123456", "client2": ""}, "missing_client2"),
        ("/api/rooms/accept", {"joinid": "123456", "client2": None}, "missing_client2"),
        ("/api/rooms/check", {"client1": "dev-A"}, "missing_joinid"),
        ("/api/rooms/check", {"joinid": "", "client1": "dev-A"}, "missing_joinid"),
        ("/api/rooms/check", {"joinid": "123456"}, "missing_client1"),
        ("/api/rooms/check", {"joinid": "123456", "client1": ""}, "missing_client1"),
    ]
    expect_all(api, [("POST", p, b, 400, err(code)) for p, b, code in cases])


VALID_JOINIDS = ["123456", Raw("234567"), Raw("345678.0"), Raw("1.5e5"), "000001", "099999"]
INVALID_JOINIDS = [
    "12345", "1234567", "12a456", " 123456", "123456 ", "+12345", "-12345", "12345.", "1e5",
    "١٢٣٤٥٦", "１２３４５６", Raw("12345"), Raw("1234567"), Raw("-123456"), Raw("123456.5"), Raw("1e6"),
    Raw("0"), Raw("true"), Raw("false"), Raw("[]"), Raw('["123456"]'), Raw("{}"), Raw('{"a":1}'),
]


def test_joinid_rules_on_create(api):
    expect_all(api, [("POST", "/api/rooms", create_body(j), 400, err("invalid_joinid")) for j in INVALID_JOINIDS])
    failures = []
    for j in VALID_JOINIDS:
        r = api.post("/api/rooms", create_body(j))
        if not created_text_ok(r):
            failures.append(f"joinid {j!r}: {r.status_code} {r.text}")
    assert not failures, failures


def test_joinid_rules_on_accept_and_check(api):
    cases = []
    for j in INVALID_JOINIDS:
        cases.append(("POST", "/api/rooms/accept", {"joinid": j, "client2": "dev-B"}, 400, err("invalid_joinid")))
        cases.append(("POST", "/api/rooms/check", {"joinid": j, "client1": "dev-A"}, 400, err("invalid_joinid")))
    # well-formed but unknown codes are 404 (numbers too)
    for j in ("424242", Raw("434343"), Raw("444444.0")):
        cases.append(("POST", "/api/rooms/accept", {"joinid": j, "client2": "dev-B"}, 404, err("not_found_or_expired")))
    expect_all(api, cases)


VALID_EXPIRES = [Raw("300"), Raw("300.0"), "300", Raw("1"), Raw("86400"), "86400", "1", Raw("3e2"), "00300"]
INVALID_EXPIRES_VALUES = [
    "+60", " 60", "60 ", "300abc", "1e3", "abc", "0", "86401", "-5", "1.5", "99999999999999999999999",
    Raw("1.9"), Raw("0"), Raw("86401"), Raw("-5"), Raw("-0.5"), Raw("99999999999999999999999"), Raw("true"),
    Raw("false"), Raw("[60]"), Raw("{}"),
]


def test_expires_in_seconds_rules(api):
    expect_all(api, [("POST", "/api/rooms", create_body(next_joinid(), expires=e), 400, INVALID_EXPIRES)
                     for e in INVALID_EXPIRES_VALUES])
    failures = []
    for e in VALID_EXPIRES:
        r = api.post("/api/rooms", create_body(next_joinid(), expires=e))
        if not created_text_ok(r):
            failures.append(f"expiresInSeconds {e!r}: {r.status_code} {r.text}")
    assert not failures, failures


VALID_IDS = ["a", "x" * 128, "é" * 64, "a b c", "Anna's iPhone", "日本語の端末", "📱" * 32, "é" * 63 + "ab"]
INVALID_IDS = [
    "x" * 129, "é" * 64 + "a", "é" * 65, "📱" * 32 + "a", "a\u0000b", "a\tb", "a\nb", "a\rb", "\u001f", "a\u007fb",
    "\u0001", Raw("5"), Raw("1.5"), Raw("0"), Raw("true"), Raw("false"), Raw("[]"), Raw('["a"]'), Raw("{}"),
]


def test_client_id_rules(api):
    cases = []
    for cid in INVALID_IDS:
        cases.append(("POST", "/api/rooms", create_body(next_joinid(), client1=cid), 400, err("invalid_client1")))
        cases.append(("POST", "/api/rooms/accept", {"joinid": "424242", "client2": cid}, 400, err("invalid_client2")))
        cases.append(("POST", "/api/rooms/check", {"joinid": "424242", "client1": cid}, 400, err("invalid_client1")))
    expect_all(api, cases)
    failures = []
    for cid in VALID_IDS:
        j = next_joinid()
        r = api.post("/api/rooms", create_body(j, client1=cid))
        if not created_text_ok(r):
            failures.append(f"client1 {cid!r}: {r.status_code} {r.text}")
            continue
        r = api.accept(j, cid)
        if r.status_code != 200:
            failures.append(f"client2 {cid!r}: {r.status_code} {r.text}")
    assert not failures, failures


def test_roomid_rules(api, daemon):
    base = daemon.url + "/api/rooms"
    failures = []

    def expect(r, status, text, what):
        if (r.status_code, r.text) != (status, text) or media_type(r) != "application/json":
            failures.append(f"{what}: {r.status_code} {r.headers.get('Content-Type')} {r.text!r}")

    expect(requests.get(base, timeout=5), 400, err("missing_roomid"), "GET no query")
    expect(requests.get(base + "?roomid=", timeout=5), 400, err("missing_roomid"), "GET empty roomid")
    for bad in ("x" * 129, "é" * 65, "a\u0001b", "a\u007fb", "a\nb", "\u0000"):
        expect(requests.get(base, params={"roomid": bad}, timeout=5), 400, err("invalid_roomid"), f"GET {bad!r}")
    for unknown in ("nope", "x" * 128, "é" * 64, "f" * 48, "room with spaces"):
        expect(requests.get(base, params={"roomid": unknown}, timeout=5), 404, err("not_found"), f"GET {unknown!r}")
    for body, status, text in [
        ({}, 400, err("missing_roomid")),
        ({"roomid": None}, 400, err("missing_roomid")),
        ({"roomid": 5}, 400, err("invalid_roomid")),
        ({"roomid": ["a"]}, 400, err("invalid_roomid")),
        ({"roomid": "x" * 129}, 400, err("invalid_roomid")),
        ({"roomid": "nope"}, 404, err("not_found")),
    ]:
        expect(requests.get(base, data=json_text(body).encode(), headers={"Content-Type": "application/json"},
                            timeout=5), status, text, f"GET body {body!r}")
    assert not failures, "\n".join(failures)

    expect_all(api, [("DELETE", "/api/rooms", body, status, text) for body, status, text in [
        ({"roomid": ""}, 400, err("missing_roomid")),
        ({"roomid": None}, 400, err("missing_roomid")),
        ({"roomid": 5}, 400, err("invalid_roomid")),
        ({"roomid": True}, 400, err("invalid_roomid")),
        ({"roomid": {}}, 400, err("invalid_roomid")),
        ({"roomid": "x" * 129}, 400, err("invalid_roomid")),
        ({"roomid": "a\u0001b"}, 400, err("invalid_roomid")),
        ({"roomid": "x" * 128}, 200, '{"ok":true}'),
        ({"roomid": "unknown room"}, 200, '{"ok":true}'),
    ]])


def test_first_wrong_field_in_route_order_is_reported(api):
    cases = [
        ("/api/rooms", {"joinid": "12", "expiresInSeconds": 60}, err("invalid_joinid")),
        ("/api/rooms", {"joinid": "12", "client1": 5, "expiresInSeconds": 0}, err("invalid_joinid")),
        ("/api/rooms", {"expiresInSeconds": 0, "client1": 5, "joinid": "12"}, err("invalid_joinid")),
        ("/api/rooms", {"client1": 5, "expiresInSeconds": 0}, err("missing_joinid")),
        ("/api/rooms", {"joinid": "123456", "client1": 5, "expiresInSeconds": "x"}, err("invalid_client1")),
        ("/api/rooms", {"joinid": "123456", "client1": "x" * 129}, err("invalid_client1")),
        ("/api/rooms", {"joinid": "123456", "client1": "", "expiresInSeconds": "x"}, err("missing_client1")),
        ("/api/rooms", {"joinid": "123456", "client1": "dev-A", "expiresInSeconds": 0}, INVALID_EXPIRES),
        ("/api/rooms/accept", {"joinid": "x", "client2": 5}, err("invalid_joinid")),
        ("/api/rooms/accept", {"joinid": "12"}, err("invalid_joinid")),
        ("/api/rooms/accept", {"client2": 5}, err("missing_joinid")),
        ("/api/rooms/accept", {"joinid": "123456", "client2": 5}, err("invalid_client2")),
        ("/api/rooms/check", {"joinid": "x", "client1": "\t"}, err("invalid_joinid")),
        ("/api/rooms/check", {"joinid": "123456", "client1": "\t"}, err("invalid_client1")),
    ]
    expect_all(api, [("POST", p, b, 400, text) for p, b, text in cases])


def test_invalid_expires_details_are_the_reference_text(api):
    r = api.create(next_joinid(), "dev-A", 0)
    assert_json(r, 400, '{"error":"invalid_expiresInSeconds","details":"must be 1-86400 seconds (1 sec to 24 hours)"}')


def test_purge_validation(api):
    cases = [
        ({}, 400, err("missing_deviceIds_or_deviceId")),
        ({"deviceIds": "dev-A"}, 400, err("missing_deviceIds_or_deviceId")),
        ({"deviceIds": {}}, 400, err("missing_deviceIds_or_deviceId")),
        ({"deviceIds": None}, 400, err("missing_deviceIds_or_deviceId")),
        ({"deviceId": ""}, 400, err("missing_deviceIds_or_deviceId")),
        ({"deviceId": 5}, 400, err("missing_deviceIds_or_deviceId")),
        ({"deviceId": None}, 400, err("missing_deviceIds_or_deviceId")),
        ({"deviceId": ["dev-A"]}, 400, err("missing_deviceIds_or_deviceId")),
        ({"deviceIds": []}, 400, err("empty_deviceIds_array")),
        ({"deviceIds": ["ok", "", 5, "  "]}, 400, '{"error":"invalid_device_ids","count":3}'),
        ({"deviceId": "   "}, 400, '{"error":"invalid_device_ids","count":1}'),
        ({"deviceIds": [None, True, {}, [], "fine"]}, 400, '{"error":"invalid_device_ids","count":4}'),
        ({"deviceIds": ["x" * 129, "x" * 128]}, 400, '{"error":"invalid_device_ids","count":1}'),
        ({"deviceIds": ["a\tb", "a\u0000", "a\u007f", "ok"]}, 400, '{"error":"invalid_device_ids","count":3}'),
        ({"deviceIds": ["nobody", "é" * 64, "has space"]}, 200,
         '{"success":true,"deviceIdCount":3,"roomsDeleted":0,"pendingsDeleted":0}'),
        ({"deviceIds": None, "deviceId": "nobody"}, 200,
         '{"success":true,"deviceIdCount":1,"roomsDeleted":0,"pendingsDeleted":0}'),
    ]
    expect_all(api, [("POST", "/api/user/purge", b, s, t) for b, s, t in cases])


# --- routing -----------------------------------------------------------------------------------------------------


def allow_set(r):
    return {m.strip().upper() for m in r.headers.get("Allow", "").split(",") if m.strip()}


@pytest.mark.parametrize("method,path,allowed,not_allowed", [
    ("PUT", "/api/rooms", {"GET", "POST", "DELETE"}, {"PUT"}),
    ("PATCH", "/api/rooms", {"GET", "POST", "DELETE"}, {"PATCH"}),
    ("DELETE", "/api/rooms/accept", {"POST"}, {"DELETE"}),
    ("PUT", "/api/rooms/check", {"POST"}, {"PUT"}),
    ("GET", "/api/user/purge", {"POST"}, {"GET"}),
    ("DELETE", "/api/user/purge", {"POST"}, {"DELETE"}),
    ("POST", "/health", {"GET"}, {"POST"}),
    ("POST", "/", {"GET"}, {"POST"}),
])
def test_wrong_method_is_405_with_allow(daemon, method, path, allowed, not_allowed):
    r = requests.request(method, daemon.url + path, timeout=5)
    assert_error(r, 405, "method_not_allowed")
    assert "Allow" in r.headers
    assert allowed <= allow_set(r), r.headers["Allow"]
    assert not (not_allowed & allow_set(r)), r.headers["Allow"]


@pytest.mark.parametrize("method,path", [
    ("POST", "/api/rooms/abc/accept"),
    ("POST", "/api/rooms/123456/accept"),
    ("GET", "/api/rooms/abc"),
    ("GET", "/api/rooms/" + "f" * 48),
    ("GET", "/api/rooms/check"),  # legacy 410 wins over 405
    ("GET", "/api/rooms/accept"),
    ("GET", "/API/Rooms/xyz"),
])
def test_legacy_routes_are_410(daemon, method, path):
    r = requests.request(method, daemon.url + path, json={"joinid": "123456", "client2": "dev-B"}, timeout=5)
    assert_error(r, 410, "use_new_endpoints")


@pytest.mark.parametrize("method,path", [
    ("GET", "/nope"), ("POST", "/nope"), ("DELETE", "/nope/deeper"), ("GET", "/api"), ("GET", "/api/user"),
    ("POST", "/api/users/purge"), ("GET", "/healthz"), ("POST", "/api/room"),
])
def test_unknown_route_is_404_json(daemon, method, path):
    assert_error(requests.request(method, daemon.url + path, timeout=5), 404, "not_found")


def test_get_ws_without_upgrade_is_426(daemon):
    assert_error(requests.get(daemon.url + "/ws", timeout=5), 426, "upgrade_required")


@pytest.mark.parametrize("path", ["/", "/api/rooms", "/api/rooms/accept", "/api/rooms/check", "/api/user/purge",
                                  "/api/rooms/abc", "/no/such/path", "/health", "/ws"])
def test_options_on_any_path_is_204_with_cors(daemon, path):
    for headers in ({}, {"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                         "Access-Control-Request-Headers": "content-type"}):
        r = requests.options(daemon.url + path, headers=headers, timeout=5)
        assert r.status_code == 204, (path, r.status_code, r.text)
        assert r.content == b""
        assert r.headers.get("Access-Control-Allow-Origin") == "*"
        assert r.headers.get("Access-Control-Allow-Headers") == REFERENCE_ALLOW_HEADERS
        assert r.headers.get("Access-Control-Allow-Methods") == REFERENCE_ALLOW_METHODS
        assert r.headers.get("Access-Control-Expose-Headers") == "Retry-After"


@pytest.mark.parametrize("path", ["/rooms", "/metrics", "/admin/status", "/admin/reload"])
def test_options_on_admin_paths_is_204_without_cors(daemon, path):
    r = requests.options(daemon.url + path, headers={"Origin": "https://app.example",
                                                     "Access-Control-Request-Method": "POST"}, timeout=5)
    assert r.status_code == 204, (path, r.status_code, r.text)
    assert not any(h.lower().startswith("access-control-") for h in r.headers), r.headers
    assert r.headers.get("Allow", "").startswith(("GET", "POST")), r.headers


def test_every_kind_of_response_carries_cors_headers(api, daemon):
    j = next_joinid()
    responses = {
        "create 201": api.create(j, "dev-A", 60),
        "create 409": api.create(j, "dev-A", 60),
        "check 204": api.check(j, "dev-A"),
        "accept 200": api.accept(j, "dev-B"),
        "accept 409": api.accept(j, "dev-C"),
        "check 200": api.check(j, "dev-A"),
        "check 404": api.check(j, "dev-A"),
        "create 400": api.post("/api/rooms", {}),
        "json 400": api.post("/api/rooms", "{"),
        "get 404": api.get_room("nope"),
        "delete 200": api.delete_room("nope"),
        "purge 200": api.purge({"deviceId": "nobody"}),
        "legacy 410": requests.get(daemon.url + "/api/rooms/x", timeout=5),
        "405": requests.put(daemon.url + "/api/rooms", timeout=5),
        "route 404": requests.get(daemon.url + "/nope", timeout=5),
        "426": requests.get(daemon.url + "/ws", timeout=5),
        "GET /": requests.get(daemon.url + "/", timeout=5),
        "health": requests.get(daemon.url + "/health", timeout=5),
        "HEAD /": requests.head(daemon.url + "/", timeout=5),
    }
    expected = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": REFERENCE_ALLOW_HEADERS,
                "Access-Control-Allow-Methods": REFERENCE_ALLOW_METHODS, "Access-Control-Expose-Headers": "Retry-After"}
    missing = [name for name, r in responses.items()
               if any(r.headers.get(header) != value for header, value in expected.items())]
    assert not missing, {name: dict(responses[name].headers) for name in missing}
    not_json = [name for name, r in responses.items() if r.status_code >= 400 and media_type(r) != "application/json"]
    assert not not_json, not_json


def test_allowed_origins_list(start_daemon):
    d = start_daemon({"server.allowed_origins": "https://a.example, https://b.example"})
    api = Api(d.url)

    def vary_has_origin(r):
        return "origin" in {v.strip().lower() for v in r.headers.get("Vary", "").split(",")}

    r = requests.get(d.url + "/", headers={"Origin": "https://b.example"}, timeout=5)
    assert r.status_code == 200
    assert_cors(r, "https://b.example")
    assert vary_has_origin(r), r.headers

    # REST is never refused for its Origin; an unlisted Origin gets the first listed origin
    r = api.post("/api/rooms", create_body(next_joinid()), headers={"Origin": "https://evil.example"})
    assert created_text_ok(r), r.text
    assert_cors(r, "https://a.example")
    assert vary_has_origin(r), r.headers

    r = requests.get(d.url + "/nope", timeout=5)  # no Origin at all
    assert_error(r, 404, "not_found", origin="https://a.example")
    assert vary_has_origin(r), r.headers

    r = api.post("/api/rooms", {}, headers={"Origin": "https://a.example"})
    assert_error(r, 400, "missing_joinid", origin="https://a.example")

    r = requests.options(d.url + "/api/rooms", headers={"Origin": "https://b.example"}, timeout=5)
    assert r.status_code == 204
    assert r.headers.get("Access-Control-Allow-Origin") == "https://b.example"
    assert r.headers.get("Access-Control-Allow-Headers") == REFERENCE_ALLOW_HEADERS
    assert r.headers.get("Access-Control-Allow-Methods") == REFERENCE_ALLOW_METHODS


def test_database_failure_is_500_internal_error_without_details(start_daemon):
    d = start_daemon({"database.busy_timeout_ms": 100})
    api = Api(d.url)
    j = next_joinid()
    con = lock_database(d.db_path)
    try:
        r = api.create(j, "dev-A", 60)
        assert_error(r, 500, "internal_error")
    finally:
        con.execute("COMMIT")
        con.close()
    assert created_text_ok(api.create(j, "dev-A", 60))


def test_error_bodies_are_never_html(api, daemon):
    for r in (api.post("/api/rooms", "<html>"), requests.get(daemon.url + "/x", timeout=5),
              api.post("/api/rooms", "{" * 50)):
        assert media_type(r) == "application/json"
        assert json.loads(r.text).keys() == {"error"}
