#!/usr/bin/env python3
# Measures the worst event-loop stall and the time to clear while turnpiked expires a large backlog at once.
"""A week's backlog, all expired at once: how long clients wait, and how long the backlog takes to clear.

Builds a database in a temp dir with the built turnpiked (--migrate-only), fills it with --rooms rooms that have
been idle for days (each with two long-term TURN credentials and their coturn turnusers_lt rows, as turnpiked
writes them) and --pendings expired join codes, starts turnpiked on it, and then, until every expired row is
gone, sends GET / (or --path) every 10 ms on one keep-alive connection and times each answer (the cheapest request, so its
time is the time it waited for the event loop). Prints one JSON object: rows, seconds to clear, the slowest
and the 99th-percentile answer, and the loop-lag histogram the daemon itself recorded
(turnpike_loop_lag_seconds).

Usage:
  tests/load/mass_expiry_bench.py --turnpiked build/daemon/turnpiked                 # 1,000,000 rooms
  tests/load/mass_expiry_bench.py --turnpiked build/daemon/turnpiked --rooms 100000 --pendings 100000
  tests/load/mass_expiry_bench.py --turnpiked build/daemon/turnpiked --path /health
"""
import argparse
import http.client
import json
import os
import re
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

REALM = "example.org"


def fill(db_path, rooms, pendings):
    db = sqlite3.connect(db_path)
    with db:
        db.executemany("INSERT INTO rooms VALUES (?, ?, ?, 1000, 1000)",
                       ((f"{i:048x}", f"c1-{i}", f"c2-{i}") for i in range(rooms)))
        for slot in (1, 2):
            db.executemany("INSERT INTO turn_credentials VALUES (?, ?, ?, ?, 'long-term', 'pw', 1000, ?)",
                           ((f"{i:048x}.{slot}.9999999999", f"{i:048x}", slot, REALM, 9_999_999_999_000)
                            for i in range(rooms)))
            db.executemany("INSERT INTO turnusers_lt VALUES (?, ?, ?)",
                           ((REALM, f"{i:048x}.{slot}.9999999999", "0" * 32) for i in range(rooms)))
        db.executemany("INSERT INTO pendings (joinid, client1, client2, roomid, exp_ms, created_ms) "
                        "VALUES (?, ?, NULL, NULL, 1000, 1000)",
                       ((f"{i:012d}", f"p-{i}") for i in range(pendings)))
    db.close()


def remaining(db_path):
    db = sqlite3.connect(db_path, timeout=5)
    try:
        return sum(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                   for t in ("rooms", "pendings", "turn_credentials", "turnusers_lt"))
    finally:
        db.close()


def any_left(db_path):
    """Whether an expired row is left: one short read (a count over millions of rows would hold a snapshot for
    a long time and keep the daemon's checkpoints from copying the WAL, which no real reader does)."""
    db = sqlite3.connect(db_path, timeout=5)
    try:
        return any(db.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone()
                   for t in ("rooms", "pendings", "turn_credentials", "turnusers_lt"))
    finally:
        db.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turnpiked", required=True)
    parser.add_argument("--rooms", type=int, default=1_000_000)
    parser.add_argument("--pendings", type=int, default=100_000)
    parser.add_argument("--path", default="/", help="the request timed meanwhile (e.g. /health, which counts rows)")
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many seconds")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="turnpike-expiry-"))
    db_path, conf = work / "turnpike.db", work / "turnpike.conf"
    conf.write_text(f"[server]\nlisten = 127.0.0.1:0\n[database]\npath = {db_path}\n[admin]\nsocket =\n")
    root = ["--allow-root"] if os.geteuid() == 0 else []
    subprocess.run([args.turnpiked, "--config", str(conf), "--migrate-only", *root], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fill(db_path, args.rooms, args.pendings)
    rows = remaining(db_path)

    log = open(work / "turnpiked.log", "wb")
    daemon = subprocess.Popen([args.turnpiked, "--config", str(conf), *root], stdout=log, stderr=subprocess.STDOUT)
    try:
        port = None
        while port is None:
            found = re.findall(r"event=listening .*:(\d+)", (work / "turnpiked.log").read_text(errors="replace"))
            port = int(found[0]) if found else None
            time.sleep(0.01)
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies = []
        checked = started
        while time.monotonic() - started < args.timeout:
            t0 = time.monotonic()
            conn.request("GET", args.path)
            conn.getresponse().read()
            latencies.append(time.monotonic() - t0)
            if time.monotonic() - checked > 1:
                checked = time.monotonic()
                if not any_left(db_path):
                    break
            time.sleep(0.01)
        cleared = time.monotonic() - started
        conn.request("GET", "/metrics")
        metrics = conn.getresponse().read().decode()
        lag = {m.group(1): int(m.group(2)) for m in
               re.finditer(r'^turnpike_loop_lag_seconds_bucket\{le="([^"]+)"\} (\d+)', metrics, re.M)}
        latencies.sort()
        print(json.dumps({
            "path": args.path, "rows": rows, "rooms": args.rooms, "pendings": args.pendings,
            "left": remaining(db_path), "seconds_to_clear": round(cleared, 1),
            "requests": len(latencies),
            "slowest_answer_ms": round(latencies[-1] * 1000, 1),
            "p99_answer_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
            "loop_lag_buckets": lag,
            "slow_turns_logged": (work / "turnpiked.log").read_text(errors="replace").count("event=slow_loop_turn"),
        }))
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)


if __name__ == "__main__":
    main()
