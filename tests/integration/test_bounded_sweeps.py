# A mass expiry runs in bounded steps: the daemon keeps answering while 100,000+ expired rows are removed in
# batches, TURN credentials and coturn's rows included.
import re
import sqlite3
import time

import requests

ROOMS = 40_000            # idle for ages: expire, and their credentials go by trigger
PENDINGS = 40_000         # expired join codes
CREDENTIALS = 30_000      # expired credentials of one room that stays alive
BATCH = 1000              # pairing.sweep_batch_rows (the default)
REALM = "example.org"


def hexid(prefix, i, width=48):
    return f"{prefix}{i:0{width - len(prefix)}x}"


def fill_backlog(db_path, now_ms):
    db = sqlite3.connect(db_path)
    with db:
        db.executemany("INSERT INTO rooms VALUES (?, ?, ?, 1000, 1000)",
                       ((hexid("a", i), f"c1-{i}", f"c2-{i}") for i in range(ROOMS)))
        db.executemany("INSERT INTO turn_credentials VALUES (?, ?, 1, ?, 'long-term', 'pw', 1000, ?)",
                       ((f"user-a-{i}", hexid("a", i), REALM, now_ms + 3_600_000) for i in range(ROOMS)))
        db.execute("INSERT INTO rooms VALUES (?, 'live-1', 'live-2', ?, ?)", (hexid("b", 0), now_ms, now_ms))
        db.executemany("INSERT INTO turn_credentials VALUES (?, ?, 1, ?, 'long-term', 'pw', 1000, 2000)",
                       ((f"user-b-{i}", hexid("b", 0), REALM) for i in range(CREDENTIALS)))
        db.executemany("INSERT INTO turnusers_lt VALUES (?, ?, ?)",
                       ((REALM, name, "0" * 32) for name in
                        [f"user-a-{i}" for i in range(ROOMS)] + [f"user-b-{i}" for i in range(CREDENTIALS)]))
    db.close()
    add_expired_pendings(db_path, PENDINGS)


def add_expired_pendings(db_path, n):
    db = sqlite3.connect(db_path)
    with db:
        db.executemany("INSERT INTO pendings (joinid, client1, client2, roomid, exp_ms, created_ms) "
                        "VALUES (?, ?, NULL, NULL, 1000, 1000)",
                       ((f"{i:08d}", f"p-{i}") for i in range(n)))
    db.close()


def count(db_path, table):
    db = sqlite3.connect(db_path, timeout=5)
    try:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        db.close()


def wait_until(done, seconds, what):
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_mass_expiry_runs_in_batches_while_health_answers(start_daemon):
    d = start_daemon({"pairing.room_ttl_seconds": 3600})
    assert d.stop() == 0  # the schema exists now
    fill_backlog(d.db_path, int(time.time() * 1000))
    assert count(d.db_path, "rooms") + count(d.db_path, "pendings") + count(d.db_path, "turn_credentials") \
        >= 100_000
    d.start()

    slowest, slowest_at, requests_made = 0.0, 0, 0
    deadline = time.monotonic() + 120
    while True:
        started = time.monotonic()
        r = requests.get(d.url + "/health", timeout=1)  # a stall of a second or more fails here
        requests_made += 1
        if time.monotonic() - started > slowest:
            slowest, slowest_at = time.monotonic() - started, requests_made
        assert r.status_code == 200, r.text
        if r.json()["rooms"] == 1 and r.json()["pendings"] == 0 and count(d.db_path, "turn_credentials") == 0:
            break
        assert time.monotonic() < deadline, f"backlog not cleared: {r.json()}"
        time.sleep(0.02)
    assert slowest < 1.0, slowest
    print(f"backlog cleared; slowest /health {slowest * 1000:.1f} ms (request {slowest_at} of {requests_made})")

    # Everything expired is gone, coturn's rows included; the live room stays.
    assert count(d.db_path, "rooms") == 1
    assert count(d.db_path, "pendings") == 0
    assert count(d.db_path, "turn_credentials") == 0
    assert count(d.db_path, "turnusers_lt") == 0

    # ...and it went in batches of at most pairing.sweep_batch_rows, each its own step.
    log = d.log()
    for event, total in (("rooms_expired", ROOMS), ("pendings_expired", PENDINGS),
                         ("turn_credentials_expired", CREDENTIALS)):
        batches = [int(n) for n in re.findall(rf"event={event} count=(\d+)", log)]
        assert sum(batches) == total, (event, sum(batches))
        assert max(batches) <= BATCH, (event, max(batches))
        assert len(batches) >= total // BATCH, (event, len(batches))  # (the batch adapts to the turn budget)
    metrics = requests.get(d.url + "/metrics", timeout=5).text
    assert f'turnpike_expired_total{{kind="rooms"}} {ROOMS}' in metrics
    assert f'turnpike_expired_total{{kind="pendings"}} {PENDINGS}' in metrics
    assert re.search(r"^turnpike_loop_lag_seconds_count [1-9]", metrics, re.M), metrics


def test_a_smaller_batch_makes_smaller_steps(start_daemon):
    d = start_daemon({"pairing.sweep_batch_rows": 50})
    assert d.stop() == 0
    add_expired_pendings(d.db_path, 1000)
    d.start()
    wait_until(lambda: count(d.db_path, "pendings") == 0, 30, "pendings not expired")
    batches = [int(n) for n in re.findall(r"event=pendings_expired count=(\d+)", d.log())]
    assert sum(batches) == 1000 and max(batches) == 50 and len(batches) >= 20, batches


def test_a_restart_in_the_middle_of_a_backlog_keeps_what_was_done(start_daemon):
    # Each step commits on its own: stopping the daemon mid-backlog loses nothing already removed, and the next
    # start goes on from there (no transaction of the whole backlog that rolls back and starts over).
    d = start_daemon({"pairing.sweep_batch_rows": 100, "pairing.sweep_interval_seconds": 0.05})
    assert d.stop() == 0
    add_expired_pendings(d.db_path, PENDINGS)
    d.start()
    deadline = time.monotonic() + 30
    while count(d.db_path, "pendings") == PENDINGS:
        assert time.monotonic() < deadline, "no batch committed"
        time.sleep(0.01)
    assert d.stop() == 0
    left = count(d.db_path, "pendings")
    removed = sum(int(n) for n in re.findall(r"event=pendings_expired count=(\d+)", d.log()))
    assert 0 < PENDINGS - left and PENDINGS - left >= removed - 100, (left, removed)  # all but the last step
    d.start()
    wait_until(lambda: count(d.db_path, "pendings") == 0, 30, "the second start did not finish the backlog")


def test_steps_that_overrun_the_turn_budget_get_smaller(start_daemon):
    # Dozens of deletions take longer than 0.1 ms, so steps shrink instead of growing towards the 1,000 rows
    # allowed: the loop is held for short steps, not for whole batches.
    d = start_daemon({"pairing.sweep_batch_rows": 1000, "pairing.sweep_turn_budget_ms": 0.1})
    assert d.stop() == 0
    add_expired_pendings(d.db_path, 5000)
    d.start()
    wait_until(lambda: count(d.db_path, "pendings") == 0, 60, "pendings not expired")
    batches = [int(n) for n in re.findall(r"event=pendings_expired count=(\d+)", d.log())]
    assert sum(batches) == 5000, batches
    assert max(batches) <= 64 and min(batches) < 16, batches  # (the first step is at most 64 rows)
