"""The "session" dialect of seed 002 over Socket.IO: what the seed's server does (checked against the reference
server on the real `socket.io` package and against turnpiked), and what turnpike adds from the seed's README and
the issue (marked @turnpike_only)."""
import queue
import time

import pytest
import requests

from sioutil import CLIENT_TRANSPORTS, dialect_namespace, turnpike_only

GOOGLE_STUN = [
    {"urls": "stun:stun.l.google.com:19302"},
    {"urls": "stun:stun1.l.google.com:19302"},
    {"urls": "stun:stun2.l.google.com:19302"},
]


def auth(user, session):
    return {"userId": user, "sessionId": session}


# ------------------------------------------------------------------------------------------------------ handshake


@pytest.mark.parametrize("transports", list(CLIENT_TRANSPORTS))
def test_auth_errors(server, sio, transports):
    srv = server.start()
    url = srv.url + dialect_namespace(srv)
    cases = [
        ("none", None, "Authentication required"),
        ("empty", {}, "Authentication required"),
        ("user_only", {"userId": "u"}, "Session ID required"),
        ("session_only", {"sessionId": "s"}, "Authentication required"),
        ("empty_strings", {"userId": "", "sessionId": ""}, "Authentication required"),
        ("empty_session", {"userId": "u", "sessionId": ""}, "Session ID required"),
    ]
    for name, handshake_auth, _ in cases:
        sio.connect(name, url, auth=handshake_auth, transports=CLIENT_TRANSPORTS[transports])
    for name, _, message in cases:
        report = sio.expect(name, ("connect", "connect_error"))
        assert (report["kind"], report["message"]) == ("connect_error", message), name


@pytest.mark.parametrize("transports", list(CLIENT_TRANSPORTS))
def test_connect_attempts_are_limited_per_user(server, sio, transports):
    """RateLimiter(10, 1000) on handshakes per userId: 12 rapid connects give 10 connections and 2
    "Rate limit exceeded"; another user is not affected; 1.2 s later the user may connect again."""
    srv = server.start()
    url = srv.url + dialect_namespace(srv)
    for i in range(12):  # each in its own session, so that no bound on members gets in the way
        sio.connect(f"r{i}", url, auth=auth("rapid", f"s{i}"), transports=CLIENT_TRANSPORTS[transports])
    sio.connected("other", url, auth=auth("someone-else", "s1"), transports=CLIENT_TRANSPORTS[transports])
    reports = [sio.expect(f"r{i}", ("connect", "connect_error")) for i in range(12)]
    kinds = [r["kind"] for r in reports]
    assert kinds.count("connect") == 10, reports
    refused = [r for r in reports if r["kind"] == "connect_error"]
    assert [r["message"] for r in refused] == ["Rate limit exceeded"] * 2
    time.sleep(1.2)
    sio.connected("later", url, auth=auth("rapid", "s1"), transports=CLIENT_TRANSPORTS[transports])


@turnpike_only
def test_connect_attempt_limit_can_be_turned_off(server, sio):
    srv = server.start(turnpike={"sessions.connect_attempts_per_second": 0})
    url = srv.url + dialect_namespace(srv)
    for i in range(20):
        sio.connect(f"r{i}", url, auth=auth("rapid", f"s{i}"), transports=["websocket"])
    reports = [sio.expect(f"r{i}", ("connect", "connect_error")) for i in range(20)]
    assert [r["kind"] for r in reports] == ["connect"] * 20, reports


@turnpike_only
def test_connect_attempt_limit_is_configurable(server, sio):
    srv = server.start(turnpike={"sessions.connect_attempts_per_second": 3})
    url = srv.url + dialect_namespace(srv)
    for i in range(5):
        sio.connect(f"r{i}", url, auth=auth("rapid", "s1"), transports=["websocket"])
    reports = [sio.expect(f"r{i}", ("connect", "connect_error")) for i in range(5)]
    assert [r["kind"] for r in reports].count("connect") == 3, reports
    assert [r["message"] for r in reports if r["kind"] == "connect_error"] == ["Rate limit exceeded"] * 2


# ------------------------------------------------------------------------------------ seed events (code dialect)


def run_join_signal_leave(sio, url, transports):
    """a and b join s1, c joins s2; peer:joined, signal relay with `from` stamped, peer:left."""
    t = CLIENT_TRANSPORTS[transports]
    sio.connected("a", url, auth=auth("a", "s1"), transports=t)
    sio.connected("c", url, auth=auth("c", "s2"), transports=t)
    b_sid = sio.connected("b", url, auth=auth("b", "s1"), transports=t)["sid"]

    assert sio.expect_event("a", "peer:joined") == [{"userId": "b", "socketId": b_sid}]
    sio.assert_nothing("b", "peer:joined", seconds=0.3)

    # {...data, from: userId}: the server's `from` replaces the client's in place, or is appended.
    sio.emit("b", "signal", {"type": "offer", "sdp": "x", "from": "spoofed"})
    args = sio.expect_event("a", "signal")
    assert args == [{"type": "offer", "sdp": "x", "from": "b"}]
    sio.emit("b", "signal", {"type": "offer", "from": "spoofed", "sdp": "x"})
    assert list(sio.expect_event("a", "signal")[0].items()) == [("type", "offer"), ("from", "b"), ("sdp", "x")]
    candidate = {"candidate": "candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host", "sdpMid": "0",
                 "sdpMLineIndex": 0}
    sio.emit("a", "signal", {"type": "candidate", "candidate": candidate})
    assert sio.expect_event("b", "signal") == [{"type": "candidate", "candidate": candidate, "from": "a"}]

    # the sender gets nothing back, the other session nothing at all
    sio.assert_nothing("b", "signal", seconds=0.3)
    sio.assert_nothing("a", "signal", seconds=0)
    for event in ("peer:joined", "signal", "peer:left"):
        sio.assert_nothing("c", event, seconds=0)

    sio.disconnect("b")
    assert sio.expect_event("a", "peer:left") == [{"userId": "b", "socketId": b_sid}]
    sio.assert_nothing("c", "peer:left", seconds=0.3)


@pytest.mark.parametrize("transports", list(CLIENT_TRANSPORTS))
def test_peer_joined_signal_peer_left(server, sio, transports):
    srv = server.start()
    run_join_signal_leave(sio, srv.url + dialect_namespace(srv), transports)


@turnpike_only
@pytest.mark.parametrize("transports", list(CLIENT_TRANSPORTS))
def test_peer_joined_signal_peer_left_on_root_namespace(server, sio, transports):
    srv = server.start()
    run_join_signal_leave(sio, srv.url + "/", transports)


def test_same_user_twice_and_many_signals(server, sio):
    """A duplicate userId simply joins (the others see it again and it gets the first socket's signals); 50
    signals sent back to back are all relayed, in order."""
    srv = server.start()
    url = srv.url + dialect_namespace(srv)
    sio.connected("a", url, auth=auth("a", "s1"), transports=["websocket"])
    sio.connected("b", url, auth=auth("b", "s1"), transports=["websocket"])
    sio.expect_event("a", "peer:joined")
    b2_sid = sio.connected("b2", url, auth=auth("b", "s1"), transports=["websocket"])["sid"]
    assert sio.expect_event("a", "peer:joined") == [{"userId": "b", "socketId": b2_sid}]
    assert sio.expect_event("b", "peer:joined") == [{"userId": "b", "socketId": b2_sid}]
    for i in range(50):
        sio.emit("a", "signal", {"type": "candidate", "n": i})
    for receiver in ("b", "b2"):
        got = [sio.expect_event(receiver, "signal")[0]["n"] for _ in range(50)]
        assert got == list(range(50))


# -------------------------------------------------------------------------------------------------- HTTP routes


def test_health(server):
    srv = server.start()
    response = requests.get(srv.url + "/health", timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert "status" in body and "timestamp" in body


# turnpike hands out the STUN URLs of its own turn.urls where the seed hands out Google's.
TURNPIKE_TURN = {"turn.urls": "stun:127.0.0.1:3478, turn:127.0.0.1:3478?transport=udp", "turn.realm": "sio.test",
                 "turn.cli_password": "test-cli-password"}


@pytest.mark.parametrize("body", [None, {"userId": "ghost", "sessionId": "nowhere"}], ids=["no_body", "no_socket"])
def test_turn_credentials_without_a_live_socket_is_stun_only(server, body):
    srv = server.start(turnpike=TURNPIKE_TURN)
    before = time.time() * 1000
    response = requests.post(srv.url + "/turn/credentials", json=body, timeout=5)
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"iceServers", "timestamp"}
    assert isinstance(answer["timestamp"], (int, float)) and not isinstance(answer["timestamp"], bool)
    assert before - 60000 <= answer["timestamp"] <= time.time() * 1000 + 60000
    assert isinstance(answer["iceServers"], list) and answer["iceServers"]
    for entry in answer["iceServers"]:
        assert "urls" in entry and "username" not in entry and "credential" not in entry
    if srv.kind == "reference":
        assert answer["iceServers"] == GOOGLE_STUN
    else:
        assert answer["iceServers"] == [{"urls": ["stun:127.0.0.1:3478"]}]


@turnpike_only
def test_turn_credentials_without_turn_configured_is_an_empty_list(server):
    srv = server.start()
    response = requests.post(srv.url + "/turn/credentials", json={"userId": "a", "sessionId": "s"}, timeout=5)
    assert response.status_code == 200
    assert response.json()["iceServers"] == []


# ------------------------------------------------------------------------------------ turnpike's additions


@turnpike_only
@pytest.mark.parametrize("transports", list(CLIENT_TRANSPORTS))
def test_ice_servers_is_the_first_event(server, sio, transports):
    srv = server.start()
    for ns in srv.namespaces:
        for user in ("a", "b"):
            sid = f"{user}{ns}"
            sio.connected(sid, srv.url + ns, auth=auth(user, "s1"), transports=CLIENT_TRANSPORTS[transports])
            first = sio.expect(sid, "event")
            assert first["event"] == "ice_servers", first
            assert len(first["args"]) == 1
            payload = first["args"][0]
            assert set(payload) == {"iceServers", "timestamp"}
            assert isinstance(payload["iceServers"], list)
            assert all(isinstance(entry, dict) and "urls" in entry for entry in payload["iceServers"])
            assert isinstance(payload["timestamp"], (int, float)) and not isinstance(payload["timestamp"], bool)


@turnpike_only
def test_user_joined_and_user_left(server, sio):
    srv = server.start()
    url = srv.url + dialect_namespace(srv)
    sio.connected("a", url, auth=auth("a", "s1"), transports=["websocket"])
    sio.connected("c", url, auth=auth("c", "s2"), transports=["websocket"])
    sio.connected("b", url, auth=auth("b", "s1"), transports=["websocket"])
    assert sio.expect_event("a", "user-joined") == [{"userId": "b"}]
    sio.assert_nothing("b", "user-joined", seconds=0.3)
    sio.disconnect("b")
    assert sio.expect_event("a", "user-left") == [{"userId": "b"}]
    for event in ("user-joined", "user-left"):
        sio.assert_nothing("c", event, seconds=0.2)


@turnpike_only
@pytest.mark.parametrize("event", ["signal:offer", "signal:answer", "signal:ice-candidate"])
def test_readme_signals_go_to_the_named_user_only(server, sio, event):
    srv = server.start()
    url = srv.url + dialect_namespace(srv)
    members = [("a", "a", "s1"), ("a2", "a", "s1"), ("b", "b", "s1"), ("c", "c", "s1"), ("elsewhere", "a", "s2")]
    for sid, user, session in members:
        sio.connected(sid, url, auth=auth(user, session), transports=["websocket"])
    message = {"type": event.split(":")[1], "to": "a", "sessionId": "s1", "from": "evil",
               "data": {"sdp": "x"} if event != "signal:ice-candidate" else {"candidate": {"candidate": "c"}}}
    sio.emit("b", event, message)
    for receiver in ("a", "a2"):
        got = sio.expect_event(receiver, event)
        assert got == [{**message, "from": "b"}]
    for bystander in ("b", "c", "elsewhere"):
        sio.assert_nothing(bystander, event, seconds=0.3)

    # `to` unknown (or absent): nobody gets anything
    sio.emit("b", event, {**message, "to": "nobody"})
    sio.emit("b", event, {k: v for k, v in message.items() if k != "to"})
    for sid, _, _ in members:
        sio.assert_nothing(sid, event, seconds=0.3)


@turnpike_only
def test_join_session_with_own_session_changes_nothing(server, sio):
    srv = server.start()
    url = srv.url + dialect_namespace(srv)
    sio.connected("a", url, auth=auth("a", "s1"), transports=["websocket"])
    sio.connected("b", url, auth=auth("b", "s1"), transports=["websocket"])
    sio.expect_event("a", "peer:joined")
    sio.expect_event("a", "user-joined")
    sio.emit("b", "join-session", {"sessionId": "s1"})
    for event in ("peer:joined", "user-joined", "peer:left", "user-left"):
        sio.assert_nothing("a", event, seconds=0.3 if event == "peer:joined" else 0)
    sio.emit("b", "signal", {"type": "offer", "sdp": "x"})
    assert sio.expect_event("a", "signal") == [{"type": "offer", "sdp": "x", "from": "b"}]
    sio.assert_nothing("a", "signal", seconds=0.3)  # delivered once, not once per join


@turnpike_only
def test_sessions_are_bounded(server, sio):
    srv = server.start(turnpike={"sessions.max_members": 2})
    url = srv.url + dialect_namespace(srv)
    sio.connected("a", url, auth=auth("a", "s1"), transports=["websocket"])
    sio.connected("b", url, auth=auth("b", "s1"), transports=["websocket"])
    assert sio.expect_event("a", "peer:joined")[0]["userId"] == "b"
    sio.connect("c", url, auth=auth("c", "s1"), transports=["websocket"])
    report = sio.expect("c", ("connect", "connect_error"))
    assert (report["kind"], report["message"]) == ("connect_error", "Session is full")
    sio.connected("d", url, auth=auth("d", "s2"), transports=["websocket"])  # another session is not affected
    sio.assert_nothing("a", "peer:joined", seconds=0.2)  # the refused one never joined
    sio.assert_nothing("b", "peer:joined", seconds=0)


@turnpike_only
@pytest.mark.parametrize("transports", list(CLIENT_TRANSPORTS))
def test_bad_payloads_never_crash_the_daemon(server, sio, transports):
    srv = server.start()
    url = srv.url + dialect_namespace(srv)
    t = CLIENT_TRANSPORTS[transports]
    sio.connected("a", url, auth=auth("a", "s1"), transports=t)
    sio.connected("b", url, auth=auth("b", "s1"), transports=t)
    sio.connected("x", url, auth=auth("x", "s2"), transports=t)
    sio.connected("y", url, auth=auth("y", "s2"), transports=t)
    assert sio.expect_event("x", "peer:joined")[0]["userId"] == "y"
    for bad in ([], [None], ["abc"], [42]):
        sio.emit("a", "signal", *bad)
        error = sio.expect_event("a", "error")
        assert len(error) == 1 and isinstance(error[0], dict) and isinstance(error[0].get("message"), str), error
    for event in ("signal:offer", "signal:answer", "signal:ice-candidate", "join-session"):
        for bad in ([], [None], ["abc"], [42], [[1, 2]]):
            sio.emit("a", event, *bad)
    sio.emit("a", "no-such-event", {"x": 1})
    sio.sync()
    assert srv.alive()
    # both sessions keep relaying, to sockets that were connected all along and to new ones
    sio.emit("a", "signal", {"type": "offer", "sdp": "ok"})
    assert sio.expect_event("b", "signal") == [{"type": "offer", "sdp": "ok", "from": "a"}]
    sio.emit("x", "signal", {"type": "answer", "sdp": "ok"})
    assert sio.expect_event("y", "signal") == [{"type": "answer", "sdp": "ok", "from": "x"}]
    sio.connected("z", url, auth=auth("z", "s2"), transports=t)
    assert sio.expect_event("x", "peer:joined")[0]["userId"] == "z"
    assert srv.alive()


# ---------------------------------------------------------------------------------- python3-socketio as client


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_python_socketio_client(server, transport):
    socketio = pytest.importorskip("socketio", reason="python3-socketio is not installed (apt-get install "
                                   "python3-socketio python3-websocket)")
    srv = server.start()
    for ns in srv.namespaces:
        inbox = queue.Queue()
        clients = {}
        try:
            for user in ("a", "b"):
                client = socketio.Client(reconnection=False)
                for event in ("peer:joined", "signal", "peer:left"):
                    client.on(event, (lambda e, u: lambda data: inbox.put((u, e, data)))(event, user), namespace=ns)
                client.connect(srv.url, auth=auth(user, f"py{ns}"), transports=[transport], namespaces=[ns],
                               wait_timeout=5)
                assert client.transport() == transport
                clients[user] = client

            def next_message(timeout=5):
                try:
                    return inbox.get(timeout=timeout)
                except queue.Empty:
                    raise AssertionError("no Socket.IO event within 5 s") from None

            b_sid = clients["b"].get_sid(namespace=ns)
            assert next_message() == ("a", "peer:joined", {"userId": "b", "socketId": b_sid})
            clients["b"].emit("signal", {"type": "offer", "sdp": "x", "from": "spoofed"}, namespace=ns)
            assert next_message() == ("a", "signal", {"type": "offer", "sdp": "x", "from": "b"})
            clients["a"].emit("signal", {"type": "answer", "sdp": "y"}, namespace=ns)
            got = next_message()
            assert got == ("b", "signal", {"type": "answer", "sdp": "y", "from": "a"})
            assert list(got[2]) == ["type", "sdp", "from"]
            clients["b"].disconnect()
            assert next_message() == ("a", "peer:left", {"userId": "b", "socketId": b_sid})
        finally:
            for client in clients.values():
                client.disconnect()
        assert inbox.empty(), list(inbox.queue)
