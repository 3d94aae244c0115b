"""Engine.IO v4 / Socket.IO v5 transport contract at /socket.io/, checked against the seed-002 server on the real
`socket.io` 4.8 package ("reference") and against turnpiked ("turnpike"). Expected bodies and headers are what
engine.io 6.6 sends."""
import json
import re
import threading
import time

import pytest
import requests

from sioutil import (BAD_HANDSHAKE_METHOD, CLIENT_TRANSPORTS, EIO_PATH, SESSION_ID_UNKNOWN, TRANSPORT_UNKNOWN,
                     UNSUPPORTED_PROTOCOL_VERSION, EioPolling, parse_sio_event, raw_websocket_upgrade,
                     sio_connect_packet, sio_event_packet, turnpike_only)

SID_RE = re.compile(r"^[A-Za-z0-9_-]{16,}$")
AUTH = {"userId": "u", "sessionId": "s"}


def eio_get(srv, params, method="GET", data=None, headers=None):
    return requests.request(method, srv.url + EIO_PATH, params=params, data=data, headers=headers, timeout=10)


# -------------------------------------------------------------------------------------------- polling handshake


def test_polling_handshake(server):
    srv = server.start()
    response = eio_get(srv, {"EIO": "4", "transport": "polling"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].lower().startswith("text/plain")
    assert response.text.startswith("0")
    handshake = json.loads(response.text[1:])
    assert list(handshake) == ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"]
    assert isinstance(handshake["sid"], str) and SID_RE.match(handshake["sid"])
    assert handshake["upgrades"] == ["websocket"]
    assert handshake["pingInterval"] == 25000
    assert handshake["pingTimeout"] == 20000
    assert handshake["maxPayload"] == 1000000
    # Every handshake opens a new session.
    again = json.loads(eio_get(srv, {"EIO": "4", "transport": "polling"}).text[1:])
    assert again["sid"] != handshake["sid"]


BAD_REQUESTS = {
    "get_unknown_sid": ("GET", {"EIO": "4", "transport": "polling", "sid": "nope"}, None, SESSION_ID_UNKNOWN),
    "post_unknown_sid": ("POST", {"EIO": "4", "transport": "polling", "sid": "nope"}, "4hello", SESSION_ID_UNKNOWN),
    "unknown_transport": ("GET", {"EIO": "4", "transport": "carrier-pigeon"}, None, TRANSPORT_UNKNOWN),
    "missing_transport": ("GET", {"EIO": "4"}, None, TRANSPORT_UNKNOWN),
    "eio3": ("GET", {"EIO": "3", "transport": "polling"}, None, UNSUPPORTED_PROTOCOL_VERSION),
    "missing_eio": ("GET", {"transport": "polling"}, None, UNSUPPORTED_PROTOCOL_VERSION),
    "post_handshake": ("POST", {"EIO": "4", "transport": "polling"}, '40{"userId":"u","sessionId":"s"}',
                       BAD_HANDSHAKE_METHOD),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_requests_get_engineio_errors(server, case):
    srv = server.start()
    method, params, data, expected = BAD_REQUESTS[case]
    response = eio_get(srv, params, method=method, data=data)
    assert response.status_code == 400
    assert response.headers["Content-Type"].lower().startswith("application/json")
    assert response.text == json.dumps(expected, separators=(",", ":"))


def test_unknown_sid_after_a_real_session(server):
    """A sid of a live session on the wrong transport name, and a made-up sid of the right length."""
    srv = server.start()
    eio = EioPolling(srv.url)
    eio.handshake()
    fake = "A" * len(eio.sid)
    response = eio_get(srv, {"EIO": "4", "transport": "polling", "sid": fake})
    assert (response.status_code, response.json()) == (400, SESSION_ID_UNKNOWN)
    eio.close()


# -------------------------------------------------------------------------------------------------------- CORS


def test_cors_on_polling_reflects_origin_with_credentials(server):
    srv = server.start()
    origin = "https://x.example"
    response = eio_get(srv, {"EIO": "4", "transport": "polling"}, headers={"Origin": origin})
    assert response.status_code == 200
    assert response.headers.get("Access-Control-Allow-Origin") == origin
    assert response.headers.get("Access-Control-Allow-Credentials") == "true"
    assert "origin" in response.headers.get("Vary", "").lower()
    sid = json.loads(response.text[1:])["sid"]

    # The same on a POST and on an error answer.
    params = {"EIO": "4", "transport": "polling", "sid": sid}
    post = eio_get(srv, params, method="POST", data=sio_connect_packet("/", AUTH), headers={"Origin": origin})
    assert (post.status_code, post.text) == (200, "ok")
    assert post.headers.get("Access-Control-Allow-Origin") == origin
    assert post.headers.get("Access-Control-Allow-Credentials") == "true"
    error = eio_get(srv, {"EIO": "4", "transport": "polling", "sid": "nope"}, headers={"Origin": origin})
    assert error.status_code == 400
    assert error.headers.get("Access-Control-Allow-Origin") == origin
    assert error.headers.get("Access-Control-Allow-Credentials") == "true"


def test_cors_preflight_on_polling(server):
    srv = server.start()
    origin = "https://x.example"
    response = eio_get(srv, {"EIO": "4", "transport": "polling"}, method="OPTIONS",
                       headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    assert response.status_code == 204
    assert response.headers.get("Access-Control-Allow-Origin") == origin
    assert response.headers.get("Access-Control-Allow-Credentials") == "true"
    methods = [m.strip() for m in response.headers.get("Access-Control-Allow-Methods", "").split(",")]
    assert "GET" in methods and "POST" in methods
    if srv.kind == "reference":  # the cors package's default list
        assert methods == ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"]


# ------------------------------------------------------------------------------------- socket.io-client connects


@pytest.mark.parametrize("transports", list(CLIENT_TRANSPORTS))
def test_client_connects_on_every_namespace(server, sio, transports):
    srv = server.start()
    for i, ns in enumerate(srv.namespaces):
        sid = f"c{i}"
        report = sio.connected(sid, srv.url + ns, auth={"userId": f"u{i}", "sessionId": "s"},
                               transports=CLIENT_TRANSPORTS[transports])
        assert SID_RE.match(report["sid"])
        if transports == "default":
            # polling first, then the upgrade to WebSocket
            assert sio.expect(sid, "upgrade", timeout=5)["transport"] == "websocket"
        else:
            assert report["transport"] == "websocket"
            sio.assert_nothing(sid, kind="upgrade", seconds=0.2)
        sio.assert_nothing(sid, kind="disconnect", seconds=0)


@pytest.mark.parametrize("transports", list(CLIENT_TRANSPORTS))
def test_unknown_namespace_is_refused(server, sio, transports):
    srv = server.start()
    sio.connect("x", srv.url + "/nope", auth=AUTH, transports=CLIENT_TRANSPORTS[transports])
    report = sio.expect("x", ("connect", "connect_error"))
    assert report["kind"] == "connect_error"
    assert report["message"] == "Invalid namespace"


def test_client_stays_connected_across_pings(server, sio):
    """socket.io-client answers the server's pings: with a 1 s interval it is still connected after 3.5 s."""
    srv = server.start(turnpike={"socketio.ping_interval_seconds": 1, "socketio.ping_timeout_seconds": 1},
                       reference_env={"PING_INTERVAL_MS": "1000", "PING_TIMEOUT_MS": "1000"})
    sio.connected("a", srv.url + srv.namespaces[-1], auth=AUTH, transports=["websocket"])
    sio.connected("b", srv.url + srv.namespaces[-1], auth={"userId": "v", "sessionId": "s"})
    sio.assert_nothing("a", kind="disconnect", seconds=3.5)
    sio.assert_nothing("b", kind="disconnect", seconds=0)


# ------------------------------------------------------------------------------------------------- raw Engine.IO


def test_raw_polling_connect(server):
    srv = server.start()
    for ns in srv.namespaces:
        eio = EioPolling(srv.url)
        eio.handshake()
        eio.post(sio_connect_packet(ns, AUTH))
        packets = eio.get()
        prefix = "40" if ns == "/" else f"40{ns},"
        assert packets[0].startswith(prefix), packets
        body = json.loads(packets[0][len(prefix):])
        assert list(body) == ["sid"] and SID_RE.match(body["sid"])
        eio.close()


def poll_events(eio, ns, names, count, timeout=5):
    """Polls until `count` EVENT packets of namespace `ns` named in `names` arrived (other packets are skipped);
    returns [(name, first argument)]."""
    events = []
    deadline = time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        for packet in eio.get(timeout=timeout):
            event = parse_sio_event(ns, packet)
            if event and event[0] in names:
                events.append((event[0], event[1][0]))
    return events


def test_raw_polling_batched_packets_and_relay(server):
    """Packets joined with \x1e in one POST are all handled in order, and a poll returns what is queued joined
    the same way."""
    srv = server.start()
    ns = srv.namespaces[-1]
    a, b = EioPolling(srv.url), EioPolling(srv.url)
    for eio, user in ((a, "a"), (b, "b")):
        eio.handshake()
        eio.post(sio_connect_packet(ns, {"userId": user, "sessionId": "raw"}))
        assert eio.get()[0].startswith("40" if ns == "/" else f"40{ns},")
    b.post(sio_event_packet(ns, "signal", {"type": "offer", "sdp": "x", "from": "spoofed"}),
           sio_event_packet(ns, "signal", {"type": "candidate", "candidate": {"candidate": "c"}}))
    events = poll_events(a, ns, ("peer:joined", "signal"), 3)
    assert [name for name, _ in events] == ["peer:joined", "signal", "signal"]
    assert events[0][1]["userId"] == "b"
    assert list(events[1][1].items()) == [("type", "offer"), ("sdp", "x"), ("from", "b")]
    assert events[2][1] == {"type": "candidate", "candidate": {"candidate": "c"}, "from": "b"}
    a.close()
    b.close()


def wait_session_ended(eio, seconds=5):
    """Polls until the session has ended (a poll with the close packet, or the sid unknown); returns every packet
    polled meanwhile."""
    polled = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        response = eio.get_response(timeout=seconds)
        if response.status_code == 400:
            assert response.json() == SESSION_ID_UNKNOWN
            return polled
        assert response.status_code == 200
        polled += response.text.split("\x1e")
        if "1" in polled:
            return polled
    raise AssertionError(f"the session is still open after {seconds} s: {polled}")


def connect_then_batch_connect_and_event(url, ns):
    """a connects to `ns` in session "early"; b posts its CONNECT and a signal in one polling body."""
    a, b = EioPolling(url), EioPolling(url)
    a.handshake()
    a.post(sio_connect_packet(ns, {"userId": "a", "sessionId": "early"}))
    a.get()
    b.handshake()
    b.post(sio_connect_packet(ns, {"userId": "b", "sessionId": "early"}), sio_event_packet(ns, "signal", {"type": "x"}))
    return a, b


@pytest.mark.parametrize("server", ["reference"], indirect=True)
def test_raw_polling_event_before_connect_ends_the_session(server):
    """socket.io closes the Engine.IO session when an EVENT arrives for a namespace that is not connected yet
    (here: batched behind its own CONNECT, before its asynchronous middlewares accepted it); the peer never sees
    that event. turnpike admits a CONNECT synchronously, so the same batch is a connect followed by an event
    (see test_raw_polling_event_batched_behind_its_connect_is_delivered)."""
    srv = server.start()
    ns = srv.namespaces[-1]
    a, b = connect_then_batch_connect_and_event(srv.url, ns)
    polled = wait_session_ended(b)
    assert not any(p.startswith("40") for p in polled), polled
    # b never joined: the next things a hears of are c's join and c's signal.
    c = EioPolling(srv.url)
    c.handshake()
    c.post(sio_connect_packet(ns, {"userId": "c", "sessionId": "early"}))
    c.get()
    c.post(sio_event_packet(ns, "signal", {"type": "marker"}))
    events = poll_events(a, ns, ("peer:joined", "peer:left", "signal"), 2)
    assert [(name, payload.get("userId", payload.get("from"))) for name, payload in events] == \
        [("peer:joined", "c"), ("signal", "c")]
    for eio in (a, b, c):
        eio.close()


@turnpike_only
def test_raw_polling_event_batched_behind_its_connect_is_delivered(server):
    srv = server.start()
    ns = srv.namespaces[-1]
    a, b = connect_then_batch_connect_and_event(srv.url, ns)
    assert b.get()[0].startswith("40")
    events = poll_events(a, ns, ("peer:joined", "signal"), 2)
    assert [(name, payload.get("userId", payload.get("from"))) for name, payload in events] == \
        [("peer:joined", "b"), ("signal", "b")]
    for eio in (a, b):
        eio.close()


def test_raw_polling_event_for_a_namespace_never_connected_ends_the_session(server):
    """An EVENT for a namespace the client never connected to is Socket.IO's "invalid state": the session ends
    (its next poll gets the close packet, then the sid is unknown)."""
    srv = server.start()
    ns = srv.namespaces[-1]
    eio = EioPolling(srv.url)
    eio.handshake()
    eio.post(sio_event_packet(ns, "signal", {"type": "x"}))
    wait_session_ended(eio)
    eio.close()


def test_raw_polling_connect_error(server):
    """A CONNECT without auth is answered with CONNECT_ERROR 44{"message":"Authentication required"}."""
    srv = server.start()
    eio = EioPolling(srv.url)
    eio.handshake()
    eio.post(sio_connect_packet("/", None))
    assert eio.get()[0] == '44{"message":"Authentication required"}'
    eio.close()


def test_polling_post_over_max_payload_is_refused(server):
    srv = server.start()
    eio = EioPolling(srv.url)
    open_packet = eio.handshake()
    big = "4" + "x" * open_packet["maxPayload"]  # one byte over maxPayload
    assert eio.raw_post_status(big) == 413
    # engine.io closes the session on it
    after = eio.get_response()
    assert (after.status_code, after.json()) == (400, SESSION_ID_UNKNOWN)
    eio.close()


def test_polling_client_that_never_pongs_is_dropped(server):
    srv = server.start(turnpike={"socketio.ping_interval_seconds": 1, "socketio.ping_timeout_seconds": 1},
                       reference_env={"PING_INTERVAL_MS": "1000", "PING_TIMEOUT_MS": "1000"})
    silent = EioPolling(srv.url)
    handshake = silent.handshake()
    assert (handshake["pingInterval"], handshake["pingTimeout"]) == (1000, 1000)
    polite = EioPolling(srv.url)
    polite.handshake()

    started = time.monotonic()
    assert silent.get(timeout=5) == ["2"]  # the server's ping, after pingInterval
    assert 0.5 < time.monotonic() - started < 3
    assert polite.get(timeout=5) == ["2"]
    polite.post("3")

    # The silent one never answers: gone after pingInterval + pingTimeout (allow slack), the polite one is not.
    time.sleep(1.8)
    after = silent.get_response(timeout=5)
    assert (after.status_code, after.json()) == (400, SESSION_ID_UNKNOWN)
    polite_poll = polite.get_response(timeout=5)
    assert polite_poll.status_code == 200 and polite_poll.text.split("\x1e")[0] in ("2", "6")
    silent.close()
    polite.close()


# ------------------------------------------------------------------------------------- WebSocket transport by hand


def ws_url(srv, sid=None):
    query = "EIO=4&transport=websocket" + (f"&sid={sid}" if sid else "")
    return f"ws://127.0.0.1:{srv.port}{EIO_PATH}?{query}"


def ws_events(ws, ns, names, count, timeout=5):
    """Reads WebSocket messages until `count` EVENTs of `ns` named in `names` arrived (others are skipped)."""
    events = []
    deadline = time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        ws.settimeout(max(deadline - time.monotonic(), 0.01))
        event = parse_sio_event(ns, ws.recv())
        if event and event[0] in names:
            events.append((event[0], event[1][0]))
    return events


def test_upgrade_from_polling_to_websocket_by_hand(server):
    """2probe/3probe on the WebSocket, the pending poll answered with a noop, 5 completes the upgrade; then the
    polling transport of that sid is refused and events flow on the WebSocket."""
    websocket = pytest.importorskip("websocket", reason="python3-websocket is not installed")
    srv = server.start()
    ns = srv.namespaces[-1]
    a = EioPolling(srv.url)
    a.handshake()
    a.post(sio_connect_packet(ns, {"userId": "a", "sessionId": "up"}))
    assert a.get()[0].startswith("40")

    pending = []
    poller = threading.Thread(target=lambda: pending.append(a.get_response(timeout=8)), daemon=True)
    poller.start()
    time.sleep(0.2)
    ws = websocket.create_connection(ws_url(srv, a.sid), timeout=5)
    try:
        ws.send("2probe")
        assert ws.recv() == "3probe"
        poller.join(6)
        assert pending and pending[0].status_code == 200
        assert "6" in pending[0].text.split("\x1e"), pending[0].text
        ws.send("5")
        time.sleep(0.2)
        for response in (a.get_response(timeout=5), a.post_response(sio_event_packet(ns, "signal", {}))):
            assert (response.status_code, response.json()) == (400, {"code": 3, "message": "Bad request"})

        b = EioPolling(srv.url)
        b.handshake()
        b.post(sio_connect_packet(ns, {"userId": "b", "sessionId": "up"}))
        assert b.get()[0].startswith("40")
        joined = ws_events(ws, ns, ("peer:joined",), 1)
        assert joined and joined[0][1]["userId"] == "b"
        ws.send(sio_event_packet(ns, "signal", {"type": "offer", "sdp": "x"}))
        assert poll_events(b, ns, ("signal",), 1) == [("signal", {"type": "offer", "sdp": "x", "from": "a"})]
        b.close()
    finally:
        ws.close()
        a.close()


def test_websocket_only_handshake(server):
    """A WebSocket opened without sid is a session of its own: the open packet offers no upgrades."""
    websocket = pytest.importorskip("websocket", reason="python3-websocket is not installed")
    srv = server.start()
    ws = websocket.create_connection(ws_url(srv), timeout=5)
    try:
        opened = json.loads(ws.recv()[1:])
        assert list(opened) == ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"]
        assert SID_RE.match(opened["sid"])
        assert (opened["upgrades"], opened["pingInterval"], opened["pingTimeout"], opened["maxPayload"]) == \
            ([], 25000, 20000, 1000000)
        ns = srv.namespaces[-1]
        ws.send(sio_connect_packet(ns, AUTH))
        ws.settimeout(5)
        assert ws.recv().startswith("40" if ns == "/" else f"40{ns},")
    finally:
        ws.close()


WS_UPGRADE_ERRORS = {
    # engine.io refuses a bad upgrade with the bare message as text, not the JSON body of the polling errors
    "unknown_sid": ("EIO=4&transport=websocket&sid=nope", "Session ID unknown"),
    "unknown_transport": ("EIO=4&transport=carrier-pigeon", "Transport unknown"),
}


@pytest.mark.parametrize("case", list(WS_UPGRADE_ERRORS))
def test_websocket_upgrade_errors(server, case):
    srv = server.start()
    query, message = WS_UPGRADE_ERRORS[case]
    assert raw_websocket_upgrade(srv.port, f"{EIO_PATH}?{query}") == (400, message)


def test_websocket_eio3_gets_no_session(server):
    """EIO=3 over WebSocket never opens a session. (engine.io 6.6 completes the 101 handshake first and then writes
    a raw "HTTP/1.1 400 ... Unsupported protocol version" response on the upgraded connection and closes it; a plain
    400 refusal is as good.)"""
    websocket = pytest.importorskip("websocket", reason="python3-websocket is not installed")
    srv = server.start()
    try:
        ws = websocket.create_connection(f"ws://127.0.0.1:{srv.port}{EIO_PATH}?EIO=3&transport=websocket", timeout=5)
    except websocket.WebSocketBadStatusException as refused:
        assert refused.status_code == 400
        return
    try:
        ws.settimeout(3)
        first = ws.recv()
    except (websocket.WebSocketException, OSError):
        first = None
    finally:
        ws.close()
    assert not (isinstance(first, str) and first.startswith("0")), first


def test_websocket_transport_without_upgrade_is_a_bad_request(server):
    srv = server.start()
    response = eio_get(srv, {"EIO": "4", "transport": "websocket"})
    assert (response.status_code, response.text) == (400, '{"code":3,"message":"Bad request"}')
