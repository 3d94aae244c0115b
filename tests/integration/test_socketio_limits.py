# The limits of the Socket.IO transport, each hit: Engine.IO sessions in all and per client address, the connect
# timeout, maxPayload on a WebSocket, the message budget, the queue of a polling client that stops polling, and
# binary packets refused. (maxPayload on polling and the ping timeout are in test_socketio_transport.py.)
import json
import time

import requests

from httputil import session_from, wait_for
from sioutil import (EIO_PATH, SESSION_ID_UNKNOWN, EioPolling, parse_sio_event, sio_connect_packet,
                     sio_event_packet)
from wsutil import WsClient

NS = "/sessions"


def auth(user, session="s1"):
    return {"userId": user, "sessionId": session}


def handshake_status(daemon, source="127.0.0.1"):
    http = session_from(source)
    response = http.get(daemon.url + EIO_PATH, params={"EIO": "4", "transport": "polling"}, timeout=5)
    return response


def connected_polling(daemon, user, session="s1", source=None):
    eio = EioPolling(daemon.url)
    if source:
        eio.http = session_from(source)
    eio.handshake()
    eio.post(sio_connect_packet(NS, auth(user, session)))
    packets = eio.get()
    assert packets[0].startswith(f"40{NS},"), packets
    return eio


class EioWebSocket:
    """An Engine.IO session opened directly on a WebSocket (no polling), by hand."""

    def __init__(self, daemon, **kwargs):
        self.ws = WsClient(f"ws://127.0.0.1:{daemon.port}{EIO_PATH}?EIO=4&transport=websocket", read_hello=False,
                           **kwargs)
        self.open = json.loads(self.ws.recv_text()[1:])

    def connect(self, user, session="s1"):
        self.ws.send(sio_connect_packet(NS, auth(user, session)))
        while True:
            packet = self.ws.recv_text()
            if packet.startswith(f"40{NS},"):
                return packet

    def events(self, seconds):
        """The Socket.IO events of NS received within `seconds` (pings are answered)."""
        out = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            packet = self.ws.try_recv(timeout=max(0.05, deadline - time.monotonic()))
            if packet is None:
                continue
            if packet == "2":
                self.ws.send("3")
                continue
            event = parse_sio_event(NS, packet)
            if event:
                out.append(event)
        return out


def test_sessions_per_address_are_bounded(start_daemon):
    d = start_daemon({"socketio.max_sessions_per_address": 2})
    for _ in range(2):
        assert handshake_status(d).status_code == 200
    refused = handshake_status(d)
    assert (refused.status_code, refused.json()) == (503, {"error": "too_many_sessions_for_address"})
    assert handshake_status(d, source="127.0.0.2").status_code == 200  # another address has its own allowance


def test_sessions_in_all_are_bounded_and_a_closed_one_frees_its_place(start_daemon):
    d = start_daemon({"socketio.max_sessions": 2})
    first = EioPolling(d.url)
    first.handshake()
    assert handshake_status(d, source="127.0.0.2").status_code == 200
    refused = handshake_status(d, source="127.0.0.3")
    assert (refused.status_code, refused.json()) == (503, {"error": "too_many_sessions"})
    first.post("1")  # the client closes its session
    wait_for(lambda: handshake_status(d, source="127.0.0.3").status_code == 200, timeout=3,
             message="a place to free up")


def test_a_session_that_connects_no_namespace_is_closed(start_daemon):
    d = start_daemon({"socketio.connect_timeout_seconds": 0.5})
    eio = EioPolling(d.url)
    eio.handshake()
    started = time.monotonic()
    response = eio.get_response(timeout=5)
    assert response.status_code == 200 and response.text.split("\x1e")[-1] == "1", response.text
    assert time.monotonic() - started < 4
    after = eio.get_response(timeout=5)
    assert (after.status_code, after.json()) == (400, SESSION_ID_UNKNOWN)
    assert "socketio_connect_timeout" in d.log()


def test_a_websocket_message_over_max_payload_closes_it_with_1009(start_daemon):
    d = start_daemon({"socketio.max_payload_bytes": 2048})
    client = EioWebSocket(d)
    assert client.open["maxPayload"] == 2048
    client.connect("a")
    client.ws.send(sio_event_packet(NS, "signal", {"sdp": "x" * 3000}))
    assert client.ws.wait_closed() == 1009


def test_the_message_budget_drops_what_goes_over_it(start_daemon):
    d = start_daemon({"limits.ws_messages_per_second": 1, "limits.ws_message_burst": 3})
    sender, receiver = EioWebSocket(d), EioWebSocket(d)
    receiver.connect("r")
    sender.connect("s")
    for i in range(20):
        sender.ws.send(sio_event_packet(NS, "signal", {"n": i}))
    got = [args[0]["n"] for name, args in receiver.events(1.5) if name == "signal"]
    # Every frame counts, the CONNECT included: the burst of 3 lets two signals through, then one per second.
    assert 2 <= len(got) <= 4, got
    assert got == sorted(got) and got[:2] == [0, 1]
    metrics = requests.get(d.url + "/metrics", timeout=5).text
    assert 'turnpike_rate_limited_total{kind="ws"}' in metrics


def test_a_polling_client_that_stops_polling_is_dropped_when_its_queue_is_full(start_daemon):
    d = start_daemon({"limits.max_outbound_bytes": 4096})
    idle = connected_polling(d, "idle")
    talker = EioWebSocket(d)
    talker.connect("talker")
    for i in range(8):
        talker.ws.send(sio_event_packet(NS, "signal", {"n": i, "sdp": "v" * 1000}))
    left = [args[0]["userId"] for name, args in talker.events(1.5) if name == "peer:left"]
    assert left == ["idle"]
    after = idle.get_response(timeout=5)
    assert (after.status_code, after.json()) == (400, SESSION_ID_UNKNOWN)
    assert "engineio_queue_full" in d.log()


def test_binary_packets_are_refused_and_end_the_session(start_daemon):
    d = start_daemon()
    # A binary Engine.IO packet in a polling body.
    eio = connected_polling(d, "a")
    r = eio.post_response("bAQID")
    assert r.status_code == 400
    assert eio.get_response(timeout=5).status_code == 400
    # A Socket.IO binary event (attachments follow as binary packets).
    eio = connected_polling(d, "b")
    eio.post('451-/sessions,["signal",{"_placeholder":true,"num":0}]')
    packets = eio.get(timeout=5)
    assert packets[-1] == "1", packets
    # A binary WebSocket frame.
    client = EioWebSocket(d)
    client.connect("c")
    client.ws.send(b"\x04\x01\x02")
    assert client.ws.wait_closed() == 1000
    # The daemon serves on.
    assert handshake_status(d).status_code == 200


def test_a_polling_client_over_its_budget_too_often_is_closed(start_daemon):
    d = start_daemon({"limits.ws_messages_per_second": 0.1, "limits.ws_message_burst": 2,
                      "limits.ws_rate_strikes": 3})
    eio = EioPolling(d.url)
    eio.handshake()
    eio.post(sio_connect_packet(NS, auth("a")))  # the CONNECT spends one of the two tokens
    assert eio.get()[0].startswith(f"40{NS},")
    eio.post(*[sio_event_packet(NS, "signal", {"n": i}) for i in range(6)])  # 1 admitted, then 4 strikes
    after = eio.get_response(timeout=5)
    assert after.status_code == 400 or after.text.split("\x1e")[-1] == "1", after.text
    assert "engineio_rate_closed" in d.log()


def test_polling_queues_count_against_the_outbound_caps_of_their_address(start_daemon):
    d = start_daemon({"limits.max_outbound_bytes_per_address": 8192})
    idle = [connected_polling(d, f"idle{i}", source="127.0.0.2") for i in range(2)]
    talker = EioWebSocket(d)
    talker.connect("talker")
    for i in range(4):  # each reaches both idle sessions: 2 x 4 x 1.5 KB > 8 KB for the address
        talker.ws.send(sio_event_packet(NS, "signal", {"n": i, "sdp": "v" * 1500}))
    left = [args[0]["userId"] for name, args in talker.events(1.5) if name == "peer:left"]
    assert len(left) >= 1 and set(left) <= {"idle0", "idle1"}, left
    assert "engineio_queue_full" in d.log()
    for eio in idle:
        eio.close()
