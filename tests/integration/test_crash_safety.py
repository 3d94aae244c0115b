# Crash safety: turnpiked killed with SIGKILL at a random moment under load, rounds in a row, loses nothing it
# acknowledged, leaves no credential without a live room, and coturn (reading the same file) goes on
# authenticating across the restart.
"""Each round drives 64 concurrent clients, each repeating one flow as fast as the daemon answers: create a join
code, accept it, check it, take TURN credentials for both devices, and for one flow in four delete the room.
Every answer that was a 2xx is recorded. At a random moment (0.05-0.8 s in) the daemon gets SIGKILL, and is
started again on the same database. Then:

- every join code whose create got 201 is there, with its room if its accept got 200, unless a check of it was
  sent (a check that answers 200 uses the code up: those are gone); every accept that got 200 has its room
  (unless a delete of that room was sent); every room whose delete got 200 is gone;
- `PRAGMA integrity_check` is ok;
- every coturn row (turnusers_lt in long-term mode, turn_secret in rest mode) belongs to a credential of a live
  room, and every credential handed out for a room that is still live is still in the database;
- coturn, which was never restarted, allocates with credentials handed out before the kill (a sample per round)
  and refuses those of rooms whose delete got 200.
"""
import random
import signal
import socket
import sqlite3
import threading
import time

import pytest
import requests

from httputil import Api, next_joinid, request_bytes
from turnutil import REALM, coturn_available, try_allocate

pytestmark = pytest.mark.skipif(not coturn_available(), reason="coturn is not installed")

CLIENTS = 64
ROUNDS = {"long-term": 10, "rest": 5}
SAMPLE = 3  # credentials per round tried against coturn, each way


class Record:
    """What the daemon acknowledged (2xx) before it was killed."""

    def __init__(self):
        self.lock = threading.Lock()
        self.created = {}  # joinid -> client1
        self.accepted = {}  # joinid -> (roomid, client2)
        self.check_sent = set()  # joinids whose check was sent (a 200 uses the join code up)
        self.checked = set()  # joinids whose check got 200
        self.credentials = {}  # username -> (roomid, password)
        self.delete_sent = set()  # roomids whose delete was sent (answered or not)
        self.deleted = set()  # roomids whose delete got 200
        self.errors = []  # answers that were neither 2xx nor a dropped connection

    def add(self, table, key, value):
        with self.lock:
            table[key] = value


def flow(api, record, tag, delete):
    joinid = next_joinid()
    c1, c2 = f"{tag}-a", f"{tag}-b"
    r = api.create(joinid, c1)
    if r.status_code == 409:
        return  # a code of an earlier round that is still live
    if r.status_code != 201:
        record.errors.append(("create", r.status_code, r.text))
        return
    record.add(record.created, joinid, c1)
    r = api.accept(joinid, c2)
    if r.status_code != 200:
        record.errors.append(("accept", r.status_code, r.text))
        return
    roomid = r.json()["roomid"]
    record.add(record.accepted, joinid, (roomid, c2))
    with record.lock:
        record.check_sent.add(joinid)
    r = api.check(joinid, c1)
    if r.status_code != 200 or r.json().get("roomid") != roomid:
        record.errors.append(("check", r.status_code, r.text))
        return
    with record.lock:
        record.checked.add(joinid)
    for device in (c1, c2):
        r = api.post("/api/rooms/turn", {"roomid": roomid, "deviceId": device})
        if r.status_code != 200:
            record.errors.append(("turn", r.status_code, r.text))
            return
        entry = next(e for e in r.json()["iceServers"] if "username" in e)
        record.add(record.credentials, entry["username"], (roomid, entry["credential"]))
    if delete:
        with record.lock:
            record.delete_sent.add(roomid)
        r = api.delete_room(roomid)
        if r.status_code != 200:
            record.errors.append(("delete", r.status_code, r.text))
            return
        with record.lock:
            record.deleted.add(roomid)


def client(base_url, record, index, round_no):
    api = Api(base_url, timeout=10)
    n = 0
    try:
        while True:
            flow(api, record, f"crash{round_no}-{index}-{n}", delete=n % 4 == index % 4)
            n += 1
    except requests.RequestException:
        return  # the daemon is gone: whatever was in flight got no answer


def rows(db_path, sql, *params):
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def check_database(db_path, record, mode):
    assert rows(db_path, "PRAGMA integrity_check") == [("ok",)]
    pendings = {joinid: (client1, client2, roomid)
                for joinid, client1, client2, roomid in rows(db_path, "SELECT joinid, client1, client2, roomid FROM pendings")}
    live_rooms = {roomid for (roomid,) in rows(db_path, "SELECT roomid FROM rooms")}
    for joinid, client1 in record.created.items():
        if joinid in record.checked:
            assert joinid not in pendings, f"join code {joinid} is back after a check used it up"
        elif joinid not in record.check_sent:
            assert joinid in pendings and pendings[joinid][0] == client1, f"acknowledged create of {joinid} lost"
    for joinid, (roomid, client2) in record.accepted.items():
        if joinid not in record.check_sent:
            assert pendings[joinid][1:] == (client2, roomid), f"acknowledged accept of {joinid} lost"
        if roomid in record.deleted:
            assert roomid not in live_rooms, f"room {roomid} is back after its delete was acknowledged"
        elif roomid not in record.delete_sent:
            assert roomid in live_rooms, f"room {roomid} of an acknowledged accept is gone"
    credentials = dict(rows(db_path, "SELECT username, roomid FROM turn_credentials"))
    for username, (roomid, _) in record.credentials.items():
        if roomid in live_rooms:
            assert credentials.get(username) == roomid, f"credential {username} of live room {roomid} lost"
        else:
            assert username not in credentials, f"credential {username} outlived its room"
    assert all(roomid in live_rooms for roomid in credentials.values()), "a credential without a live room"
    if mode == "long-term":
        orphans = rows(db_path, "SELECT name FROM turnusers_lt WHERE name NOT IN "
                                "(SELECT username FROM turn_credentials WHERE roomid IN (SELECT roomid FROM rooms))")
    else:
        orphans = rows(db_path, "SELECT value FROM turn_secret WHERE value NOT IN "
                                "(SELECT secret FROM turn_room_secrets WHERE roomid IN (SELECT roomid FROM rooms))")
    assert orphans == [], f"coturn rows without a live room: {orphans[:5]}"
    return live_rooms


def check_coturn(stack, record, live_rooms, rng):
    live = [(u, p) for u, (roomid, p) in record.credentials.items() if roomid in live_rooms]
    dead = [(u, p) for u, (roomid, p) in record.credentials.items() if roomid in record.deleted]
    for username, password in rng.sample(live, min(SAMPLE, len(live))):
        result = try_allocate(stack.turn_port, username, password)
        assert result.ok, f"coturn refused {username} of a live room after the restart: {result}"
    for username, password in rng.sample(dead, min(SAMPLE, len(dead))):
        result = try_allocate(stack.turn_port, username, password)
        assert not result.ok, f"coturn allocated for {username} of a deleted room"


@pytest.mark.parametrize("mode", ["long-term", "rest"])
def test_sigkill_under_load_loses_nothing_acknowledged(turn_stack, mode):
    stack = turn_stack(mode, {"limits.rest_rate_per_second": 0, "limits.failed_join_per_minute": 0,
                              "limits.max_pending_codes_per_address": 1000000})
    daemon = stack.daemon
    rng = random.Random(20261207)
    acknowledged = 0
    for round_no in range(ROUNDS[mode]):
        record = Record()
        threads = [threading.Thread(target=client, args=(daemon.url, record, i, round_no), daemon=True)
                   for i in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.05, 0.8))
        daemon.proc.kill()
        daemon.proc.wait(timeout=10)
        for t in threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in threads), "a client did not notice the kill"
        assert record.errors == [], record.errors[:5]
        daemon.log_file.close()
        daemon.start()
        stack.api = Api(daemon.url)
        live_rooms = check_database(daemon.db_path, record, mode)
        check_coturn(stack, record, live_rooms, rng)
        acknowledged += (len(record.created) + len(record.accepted) + len(record.checked) + len(record.credentials)
                         + len(record.deleted))
    # the rounds did real work (not killed before anything was answered)
    assert acknowledged >= 100 * ROUNDS[mode], acknowledged


def test_sigterm_right_after_deletes_whose_clients_left_exits_cleanly(start_daemon):
    """Deletes whose clients hang up at once leave only their after-commit work (room_closed, TURN kills) waiting
    for the commit to be durable; a SIGTERM right then ends the loop with that work pending, and the daemon must
    still run it before it tears the connections and the TURN killer down, and exit 0."""
    settings = {"turn.realm": REALM, "turn.urls": "turn:127.0.0.1:3478", "turn.cli_password": "x" * 16,
                "server.shutdown_timeout_seconds": 0.1, "limits.rest_rate_per_second": 0}
    d = start_daemon(settings)
    for round_no in range(10):
        api = Api(d.url)
        roomids = [api.pair(f"term{round_no}-{i}-a", f"term{round_no}-{i}-b")[1] for i in range(20)]
        for roomid in roomids:
            with socket.create_connection(("127.0.0.1", d.port), timeout=5) as s:
                s.sendall(request_bytes("DELETE", "/api/rooms", {"roomid": roomid}))
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(timeout=30) == 0, d.log()[-3000:]
        assert "AddressSanitizer" not in d.log() and "runtime error" not in d.log(), d.log()[-3000:]
        d.log_file.close()
        d.start()
