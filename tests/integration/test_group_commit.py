# Integration tests of database.group_commit: concurrent writes share commits, every answer still reflects
# durable data, pipelined requests stay in order, and turning it off gives one commit per write.
import json
import re
import socket
import sqlite3

import pytest
import requests

from httputil import next_joinid

CLIENTS = 32


def db_counters(daemon):
    text = requests.get(daemon.url + "/metrics", timeout=5).text
    commits = int(re.search(r'^turnpike_db_commits_total\{result="ok"\} (\d+)$', text, re.M).group(1))
    failed = int(re.search(r'^turnpike_db_commits_total\{result="failed"\} (\d+)$', text, re.M).group(1))
    writes = int(re.search(r"^turnpike_db_writes_total (\d+)$", text, re.M).group(1))
    return commits, failed, writes


def create_request(joinid):
    body = json.dumps({"joinid": joinid, "client1": f"dev-{joinid}", "expiresInSeconds": 300})
    return (f"POST /api/rooms HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}").encode()


def read_responses(sock, count):
    """Reads `count` HTTP responses (Content-Length bodies) from one socket; returns [(status, body)]."""
    data = b""
    out = []
    sock.settimeout(10)
    while len(out) < count:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            head = data[:head_end].decode()
            length = int(re.search(r"(?im)^content-length: *(\d+)", head).group(1)) if "ontent-" in head else 0
            if len(data) >= head_end + 4 + length:
                out.append((int(head.split()[1]), data[head_end + 4:head_end + 4 + length].decode()))
                data = data[head_end + 4 + length:]
                continue
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {len(out)} responses"
        data += chunk
    return out


def concurrent_creates(daemon, rounds):
    """CLIENTS connections; each round writes one create on every connection before reading any answer."""
    sockets = [socket.create_connection(("127.0.0.1", daemon.port), timeout=10) for _ in range(CLIENTS)]
    joinids = []
    try:
        for _ in range(rounds):
            batch = [next_joinid() for _ in sockets]
            for sock, joinid in zip(sockets, batch):
                sock.sendall(create_request(joinid))
            for sock in sockets:
                [(status, body)] = read_responses(sock, 1)
                assert status == 201, body
            joinids += batch
    finally:
        for sock in sockets:
            sock.close()
    return joinids


def durable_joinids(daemon):
    with sqlite3.connect(daemon.db_path) as db:
        return {row[0] for row in db.execute("SELECT joinid FROM pendings")}


def test_concurrent_writes_share_commits(daemon):
    commits0, failed0, writes0 = db_counters(daemon)
    joinids = concurrent_creates(daemon, rounds=5)
    commits, failed, writes = db_counters(daemon)
    assert writes - writes0 == len(joinids)
    assert failed == failed0
    # Each round's 32 requests arrive within a few turns of the loop, so far fewer commits than writes.
    assert commits - commits0 <= (writes - writes0) // 2, (commits - commits0, writes - writes0)
    # Every 201 was answered after its row was durable: a second connection sees all of them.
    assert set(joinids) <= durable_joinids(daemon)


def test_without_group_commit_every_write_commits_alone(start_daemon):
    daemon = start_daemon({"database.group_commit": False, "signaling.require_known_room": False})
    commits0, _, writes0 = db_counters(daemon)
    joinids = concurrent_creates(daemon, rounds=2)
    commits, _, writes = db_counters(daemon)
    assert writes - writes0 == len(joinids)
    assert commits - commits0 == writes - writes0
    assert set(joinids) <= durable_joinids(daemon)


def test_pipelined_requests_are_answered_in_order(daemon):
    joinids = [next_joinid() for _ in range(6)]
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as sock:
        # Create, a duplicate (409), a bad body (400), then creates again, all in one write.
        requests_bytes = [create_request(joinids[0]), create_request(joinids[0]),
                          b"POST /api/rooms HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\n{x}"]
        requests_bytes += [create_request(j) for j in joinids[1:]]
        sock.sendall(b"".join(requests_bytes))
        answers = read_responses(sock, len(requests_bytes))
    assert [status for status, _ in answers] == [201, 409, 400] + [201] * 5
    assert json.loads(answers[2][1]) == {"error": "invalid_json"}
    assert set(joinids) <= durable_joinids(daemon)


@pytest.mark.parametrize("group_commit", [True, False])
def test_pairing_flow_works_either_way(start_daemon, group_commit):
    daemon = start_daemon({"database.group_commit": group_commit})
    joinid = next_joinid()
    r = requests.post(daemon.url + "/api/rooms", json={"joinid": joinid, "client1": "a", "expiresInSeconds": 60})
    assert r.status_code == 201
    r = requests.post(daemon.url + "/api/rooms/accept", json={"joinid": joinid, "client2": "b"})
    assert r.status_code == 200
    room = r.json()["roomid"]
    r = requests.post(daemon.url + "/api/rooms/check", json={"joinid": joinid, "client1": "a"})
    assert r.status_code == 200 and r.json()["roomid"] == room
    r = requests.delete(daemon.url + "/api/rooms", json={"roomid": room})
    assert r.status_code == 200
    assert requests.get(daemon.url + f"/api/rooms?roomid={room}").status_code == 404
