# Operations: GET /, /health, admin /rooms and /metrics, the command line, SIGHUP reload, SIGTERM, restarts.
import os
import re
import subprocess
import time

import pytest
import requests

from conftest import TURNPIKED
from httputil import (HEALTH_LINE, Api, Metrics, RawConn, WsClient, assert_cors, assert_error, assert_json,
                      assert_serving, create_obj, json_text, lock_database, media_type, metric_deltas, next_joinid,
                      ordered_pairs, padded, parse_iso_ms, request_bytes, session_from, wait_for, wait_for_log)

HEALTH_KEYS = ["status", "rooms", "connections", "pendings", "uptimeSeconds", "version", "timestamp"]


def turnpiked_version():
    out = subprocess.run([TURNPIKED, "--version"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out
    m = re.fullmatch(r"turnpiked (\d+\.\d+\.\d+\S*)\n?", out.stdout)
    assert m, (out.stdout, out.stderr)
    return m.group(1)


def get_health(daemon):
    r = requests.get(daemon.url + "/health", timeout=5)
    assert media_type(r) == "application/json", r.headers
    assert_cors(r)
    pairs = ordered_pairs(r.text)
    assert [k for k, _ in pairs] == HEALTH_KEYS, r.text
    return r.status_code, dict(pairs)


def is_count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


# --- GET / and /health ---------------------------------------------------------------------------------------------


def test_root_is_the_reference_health_line(daemon):
    r = requests.get(daemon.url + "/", timeout=5)
    assert r.status_code == 200
    assert r.text == HEALTH_LINE
    assert r.headers.get("Content-Type", "").startswith("text/")
    assert_cors(r)
    r = requests.head(daemon.url + "/", timeout=5)
    assert r.status_code == 200 and r.content == b""


def test_health_fields_in_order(daemon):
    before = time.time()
    status, h = get_health(daemon)
    after = time.time()
    assert status == 200
    assert h["status"] == "ok"
    assert is_count(h["rooms"]) and is_count(h["connections"]) and is_count(h["pendings"]), h
    assert h["connections"] >= 1
    assert h["pendings"] == 0
    assert isinstance(h["uptimeSeconds"], (int, float)) and h["uptimeSeconds"] >= 0
    assert h["version"] == turnpiked_version()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", h["timestamp"]), h["timestamp"]
    assert before - 0.01 <= parse_iso_ms(h["timestamp"]) <= after + 0.01

    api = Api(daemon.url)
    api.created(next_joinid(), "dev-A")
    api.created(next_joinid(), "dev-B")
    time.sleep(1.1)
    status, h2 = get_health(daemon)
    assert status == 200 and h2["pendings"] == 2, h2
    assert h2["uptimeSeconds"] >= h["uptimeSeconds"] + 1


def test_health_is_503_while_the_database_is_write_locked(daemon):
    con = lock_database(daemon.db_path)
    try:
        started = time.monotonic()
        status, h = get_health(daemon)
        elapsed = time.monotonic() - started
        assert status == 503, h
        assert h["status"] == "unavailable"
        assert elapsed < 1.5, f"/health waited {elapsed:.2f} s for the lock instead of answering at once"
    finally:
        con.execute("COMMIT")
        con.close()
    status, h = get_health(daemon)
    assert (status, h["status"]) == (200, "ok")


# --- admin endpoints -----------------------------------------------------------------------------------------------


def ws_join(port, room):
    ws = WsClient(port)
    ws.recv_type("connected")
    ws.send_json({"type": "join_room", "roomId": room})
    ws.recv_type("room_joined")
    return ws


def test_rooms_lists_signaling_rooms_like_the_reference(daemon):
    r = requests.get(daemon.url + "/rooms", timeout=5)
    assert_json(r, 200, '{"rooms":[],"totalRooms":0}', origin=None)
    members = [ws_join(daemon.port, "LIM"), ws_join(daemon.port, "LIM"), ws_join(daemon.port, "solo")]
    try:
        r = requests.get(daemon.url + "/rooms", timeout=5)
        assert_json(r, 200, '{"rooms":[{"roomId":"LIM","userCount":2,"full":true},'
                            '{"roomId":"solo","userCount":1,"full":false}],"totalRooms":2}', origin=None)
    finally:
        for ws in members:
            ws.close()
    wait_for(lambda: requests.get(daemon.url + "/rooms", timeout=5).text == '{"rooms":[],"totalRooms":0}',
             message="rooms to empty after the members disconnect")


def scrape(session, daemon):
    r = session.get(daemon.url + "/metrics", timeout=5)
    assert r.status_code == 200, r.text
    content_type = r.headers.get("Content-Type", "")
    assert content_type.startswith("text/plain") and "version=0.0.4" in content_type, content_type
    return Metrics(r.text)


def test_metrics_format_request_counter_and_latency_histogram(daemon):
    s = requests.Session()
    m0 = scrape(s, daemon)
    for name, _ in m0.samples:
        family = m0.family(name)
        assert family is not None, f"sample {name} has no # TYPE line"
        assert family in m0.help, f"family {family} has no # HELP line"
    api = Api(daemon.url)
    assert api.post("/api/rooms", {}).status_code == 400
    assert api.post("/api/rooms", {}).status_code == 400
    assert api.post("/api/rooms/accept", {}).status_code == 400
    api.created(next_joinid(), "dev-A")
    api.created(next_joinid(), "dev-B")
    m1 = scrape(s, daemon)
    deltas = metric_deltas(m0, m1)

    # A counter of HTTP requests labelled by route and status: the two 400s of create and the one 400 of accept
    # are separate samples, and the 201s are counted too.
    by_route_and_status = False
    for family, typ in m1.types.items():
        if typ != "counter":
            continue
        fam = {key: d for key, d in deltas.items() if m1.family(key[0]) == family}
        d400 = sorted(d for (n, labels), d in fam.items() if "400" in dict(labels).values() and d)
        d201 = [d for (n, labels), d in fam.items() if "201" in dict(labels).values() and d]
        if d400 == [1, 2] and d201 == [2]:
            by_route_and_status = True
    assert by_route_and_status, "no counter of HTTP requests by route and status:\n" + m1.text

    histogram_ok = False
    for family, typ in m1.types.items():
        if typ != "histogram":
            continue
        counts = {labels: v for (n, labels), v in m1.samples.items() if n == family + "_count"}
        sums = {labels for (n, labels) in m1.samples if n == family + "_sum"}
        inf = {labels - {("le", "+Inf")}: v for (n, labels), v in m1.samples.items()
               if n == family + "_bucket" and ("le", "+Inf") in labels}
        if counts and set(counts) == sums and all(inf.get(labels) == v for labels, v in counts.items()):
            if sum(deltas.get((family + "_count", labels), 0) for labels in counts) >= 5:
                histogram_ok = True
    assert histogram_ok, "no request latency histogram (_bucket/_sum/_count) that counted the requests:\n" + m1.text


def test_metrics_connection_room_and_pending_gauges(daemon):
    s = requests.Session()
    m0 = scrape(s, daemon)
    held = []
    for _ in range(3):
        c = RawConn(daemon.port)
        c.send(request_bytes("GET", "/"))
        assert c.read_response().status_code == 200
        held.append(c)
    m1 = scrape(s, daemon)
    d01 = metric_deltas(m0, m1)
    conn_keys = [k for k, d in d01.items() if "connection" in k[0].lower() and m1.type_of(k[0]) == "gauge" and d == 3]
    assert conn_keys, "no connections gauge that rose by 3:\n" + m1.text
    for c in held:
        c.close()
    wait_for(lambda: any(scrape(s, daemon).value(k) == m0.value(k) for k in conn_keys),
             message="the connections gauge to fall back")

    m2 = scrape(s, daemon)
    j1, j2 = next_joinid(), next_joinid()
    api = Api(daemon.url)
    api.created(j1, "dev-A")
    api.created(j2, "dev-B")
    m3 = scrape(s, daemon)
    pending = [k for k, d in metric_deltas(m2, m3).items()
               if "pending" in k[0].lower() and m3.type_of(k[0]) == "gauge" and d == 2]
    assert pending, "no pendings gauge that rose by 2:\n" + m3.text

    api.accepted(j1, "dev-C")  # a pairing room
    ws = ws_join(daemon.port, "metrics-room")  # a signaling room
    try:
        m4 = scrape(s, daemon)
    finally:
        ws.close()
    rooms = [k for k, d in metric_deltas(m3, m4).items()
             if "room" in k[0].lower() and "pending" not in k[0].lower() and m4.type_of(k[0]) == "gauge" and d >= 1]
    assert rooms, "no rooms gauge that rose:\n" + m4.text


def test_metrics_count_rate_limit_rejections(start_daemon):
    d = start_daemon({"limits.rest_rate_per_second": 1, "limits.rest_rate_burst": 5})
    s = requests.Session()
    m0 = scrape(s, d)
    with session_from("127.0.0.2") as other:
        statuses = [Api(d.url, other).delete_room("nope").status_code for _ in range(10)]
    rejected = statuses.count(429)
    assert rejected >= 3, statuses
    m1 = scrape(s, d)

    def about_rate_limits(key):
        name, labels = key
        words = [name.lower()] + [v.lower() for _, v in labels]
        return any("rate" in w or "limit" in w for w in words)

    hits = [k for k, delta in metric_deltas(m0, m1).items()
            if delta == rejected and m1.type_of(k[0]) == "counter" and about_rate_limits(k)]
    assert hits, f"no rate-limit rejection counter that rose by {rejected}:\n" + m1.text


def test_admin_endpoints_are_forbidden_outside_allow_from(start_daemon):
    d = start_daemon({"admin.allow_from": "10.0.0.1"})
    for path in ("/rooms", "/metrics"):
        assert_error(requests.get(d.url + path, timeout=5), 403, "forbidden", origin=None)
    assert requests.get(d.url + "/health", timeout=5).status_code == 200
    assert_serving(d)


def test_admin_allow_from_takes_addresses_and_cidr_ranges(start_daemon):
    d = start_daemon({"admin.allow_from": "10.0.0.0/8, 127.0.0.2/32, ::1"})
    with session_from("127.0.0.2") as allowed:
        assert_json(allowed.get(d.url + "/rooms", timeout=5), 200, '{"rooms":[],"totalRooms":0}', origin=None)
        assert allowed.get(d.url + "/metrics", timeout=5).status_code == 200
    assert_error(requests.get(d.url + "/rooms", timeout=5), 403, "forbidden", origin=None)
    assert_error(requests.get(d.url + "/metrics", timeout=5), 403, "forbidden", origin=None)


# --- command line --------------------------------------------------------------------------------------------------


def run_turnpiked(*args, timeout=10):
    return subprocess.run([TURNPIKED, *args], capture_output=True, text=True, timeout=timeout)


def test_version():
    out = run_turnpiked("--version")
    assert out.returncode == 0
    assert re.fullmatch(r"turnpiked \d+\.\d+\.\d+\S*\n?", out.stdout), out.stdout


def test_check_config_accepts_a_valid_file(tmp_path):
    conf = tmp_path / "ok.conf"
    conf.write_text("\n".join([
        "# every kind of line the format allows",
        "; a semicolon comment",
        "",
        "[server]",
        "listen = 127.0.0.1:0",
        "request_timeout_seconds = 0.5",
        "allowed_origins = https://a.example, https://b.example",
        "",
        "[database]",
        f"path = {tmp_path / 'ok.db'}",
        "synchronous = normal",
        "",
        "[signaling]",
        "require_known_room = false",
        "ping_interval_seconds = 0.5",
        "pong_timeout_seconds = 1.5",
        "",
        "[limits]",
        "rest_rate_per_second = 0",
        "max_body_bytes = 100",
        "",
        "[admin]",
        "allow_from = 127.0.0.0/8, ::1",
        "",
        "[log]",
        "level = debug",
        "",
    ]))
    out = run_turnpiked("--config", str(conf), "--check-config")
    assert out.returncode == 0, out.stderr
    assert "config ok" in out.stdout + out.stderr


def base_lines(tmp_path):
    return ["# test config", "[server]", "listen = 127.0.0.1:0", "[database]", f"path = {tmp_path / 'cli.db'}"]


# (lines appended after base_lines, 1-based index within them of the line to be reported, or None for any line)
BAD_CONFIGS = {
    "unknown key": (["[limits]", "no_such_key = 1"], 2),
    "unknown section": (["[nosuch]", "key = 1"], 1),
    "bad number": (["[limits]", "max_body_bytes = abc"], 2),
    "duplicate key": (["[limits]", "max_body_bytes = 100", "", "max_body_bytes = 200"], 4),
    "not key = value": (["[limits]", "this line is not a setting"], 2),
    "bad boolean": (["[signaling]", "require_known_room = yes"], 2),
    "bad enum": (["synchronous = fast"], 1),
    "zero duration": (["[pairing]", "sweep_interval_seconds = 0"], 2),
    "negative duration": (["[pairing]", "room_ttl_seconds = -1"], 2),
    "bad log level": (["[log]", "level = loud"], 2),
    "turn url without host": (["[turn]", "realm = example.org", "cli_password = pw", "urls = turn:"], 4),
    "ipv6 cli address without brackets": (["[turn]", "cli_address = ::1:5766"], 2),
    "pong timeout not above ping interval": (
        ["[signaling]", "ping_interval_seconds = 30", "pong_timeout_seconds = 30"], None),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_check_config_reports_file_and_line(tmp_path, case):
    extra, index = BAD_CONFIGS[case]
    lines = base_lines(tmp_path) + extra
    expected_line = len(base_lines(tmp_path)) + index if index else None
    conf = tmp_path / "bad.conf"
    conf.write_text("\n".join(lines) + "\n")
    out = run_turnpiked("--config", str(conf), "--check-config")
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    if expected_line is None:
        assert re.search(re.escape(str(conf)) + r":\d+: \S", out.stderr), out.stderr
    elif case == "unknown section":  # the section header, or the first key in it
        assert f"{conf}:{expected_line}:" in out.stderr or f"{conf}:{expected_line + 1}:" in out.stderr, out.stderr
    else:
        assert f"{conf}:{expected_line}: " in out.stderr, out.stderr


def test_check_config_refuses_what_the_daemon_could_not_use(tmp_path):
    conf = tmp_path / "turn.conf"
    conf.write_text("\n".join(base_lines(tmp_path) + ["[turn]", "realm = example.org", "cli_password = pw",
                                                      "urls = stun:s.example.org, turn:"]) + "\n")
    out = run_turnpiked("--config", str(conf), "--check-config")
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert f'{conf}:9: turn.urls: ICE server URL "turn:" has no host' in out.stderr, out.stderr


def test_check_config_accepts_an_ipv6_cli_address(tmp_path):
    conf = tmp_path / "turn6.conf"
    conf.write_text("\n".join(base_lines(tmp_path) + ["[turn]", "cli_address = [::1]:5766"]) + "\n")
    out = run_turnpiked("--config", str(conf), "--check-config")
    assert out.returncode == 0, out.stderr


def test_check_config_never_echoes_a_secret(tmp_path):
    conf = tmp_path / "secret.conf"
    conf.write_text("\n".join(base_lines(tmp_path) + ["[turn]", 'cli_password = "hunter2 hunter3"']) + "\n")
    out = run_turnpiked("--config", str(conf), "--check-config")
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert f"{conf}:7: turn.cli_password: " in out.stderr, out.stderr
    assert "hunter" not in out.stderr + out.stdout


def test_start_with_an_unknown_key_fails_with_exit_2(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("\n".join(base_lines(tmp_path) + ["[limits]", "max_bodybytes = 100"]) + "\n")
    out = run_turnpiked("--config", str(conf), timeout=5)
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert f"{conf}:7: " in out.stderr, out.stderr
    assert "event=listening" not in out.stderr


# --- reload, shutdown, restart -------------------------------------------------------------------------------------


def post_body(daemon, body):
    return requests.post(daemon.url + "/api/rooms", data=body, headers={"Content-Type": "application/json"},
                         timeout=5)


def test_sighup_applies_a_valid_change(start_daemon):
    d = start_daemon({"limits.max_body_bytes": 1000})
    assert post_body(d, padded(create_obj(), 500)).status_code == 201
    d.reload({"limits.max_body_bytes": 100})
    wait_for_log(d, r"event=config_reloaded .*max_body_bytes")
    assert_error(post_body(d, padded(create_obj(), 500)), 413, "body_too_large")
    assert post_body(d, padded(create_obj(), 100)).status_code == 201


def test_sighup_with_an_invalid_file_keeps_the_old_config(start_daemon):
    d = start_daemon({"limits.max_body_bytes": 100})
    # One valid change and one invalid key: nothing of it may be applied.
    d.reload({"limits.max_body_bytes": 5000, "limits.no_such_key": 1})
    wait_for_log(d, r'event=config_reload_failed reason="?' + re.escape(str(d.config_path)) + r":\d+: ")
    assert d.proc.poll() is None, "the daemon exited on a bad reload"
    assert_serving(d)
    assert_error(post_body(d, padded(create_obj(), 500)), 413, "body_too_large")
    # fixing the file and reloading again works
    d.reload({"limits.max_body_bytes": 5000})
    wait_for_log(d, r"event=config_reloaded .*max_body_bytes")
    assert post_body(d, padded(create_obj(), 500)).status_code == 201


def test_sighup_keeps_restart_only_keys(start_daemon):
    d = start_daemon({})
    d.reload({"server.listen": "127.0.0.1:1", "database.synchronous": "normal"})
    wait_for_log(d, r"event=config_restart_required .*key=server\.listen")
    wait_for_log(d, r"event=config_restart_required .*key=database\.synchronous")
    assert_serving(d)  # still on the old port
    Api(d.url).pair("dev-A", "dev-B")


def test_sighup_keeps_the_running_cli_password_and_never_logs_it(start_daemon):
    d = start_daemon({"turn.cli_password": "pw-alpha-7781", "log.level": "debug"})
    d.reload({"turn.cli_password": "pw-bravo-9923", "limits.max_body_bytes": 1000})
    wait_for_log(d, r"event=config_restart_required .*key=turn\.cli_password")
    wait_for_log(d, r"event=config_reloaded .*changed=limits\.max_body_bytes")
    assert "pw-alpha-7781" not in d.log() and "pw-bravo-9923" not in d.log()


def test_sigterm_exits_0_promptly_with_open_connections(start_daemon):
    d = start_daemon({"server.shutdown_timeout_seconds": 1})
    idle = RawConn(d.port)
    idle.send(request_bytes("GET", "/"))
    assert idle.read_response().status_code == 200
    partial = RawConn(d.port)
    partial.send("POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
    try:
        started = time.monotonic()
        assert d.stop(timeout=5) == 0
        assert time.monotonic() - started < 3
        assert idle.wait_closed(1)
    finally:
        idle.close()
        partial.close()


def test_data_survives_a_restart(start_daemon, tmp_path):
    workdir = tmp_path / "persist"
    d1 = start_daemon({}, workdir=workdir)
    api = Api(d1.url)
    _, room = api.pair("dev-A", "dev-B")
    waiting = next_joinid()
    api.created(waiting, "dev-C", 600)
    accepted = next_joinid()
    api.created(accepted, "dev-E", 600)
    accepted_room = api.accepted(accepted, "dev-F")
    assert d1.stop() == 0
    # The fixture reads the port from the first `event=listening` line of the log; start the new daemon on a
    # fresh log so that it does not find the old daemon's line.
    os.replace(d1.log_path, workdir / "turnpiked.previous.log")

    d2 = start_daemon({}, workdir=workdir)
    api = Api(d2.url)
    assert_json(api.get_room(room), 200, json_text({"roomid": room, "client1": "dev-A", "client2": "dev-B"}))
    assert api.check(waiting, "dev-C").status_code == 204
    roomid = api.accepted(waiting, "dev-D")
    assert api.checked(waiting, "dev-C") == roomid
    assert api.checked(accepted, "dev-E") == accepted_room
    status, _ = get_health(d2)
    assert status == 200

