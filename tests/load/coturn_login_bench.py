#!/usr/bin/env python3
# Measures coturn's authenticated Allocate latency against turnpike's database with 1 .. 100000 rooms' credentials.
"""coturn login time vs number of rooms, in both turn.mode values.

For every (mode, rooms) case this builds a database from sql/*.sql in a temp dir (WAL mode, as turnpiked sets it),
fills coturn's table the way turnpiked would for that many rooms, starts the installed turnserver on 127.0.0.1
with a config like the one `turnpikectl coturn-config` renders (plus --log-file=stdout and --pidfile in the temp
dir), and times authenticated Allocates of one room's credential:

- long-term: two turnusers_lt rows per room (client1 and client2); username: 32 random hex characters (opaque),
  hmackey = MD5(username:realm:password).
- rest: one turn_secret row per room; username `<expiry>:<32 random hex>`,
  password base64(HMAC-SHA1(secret, username)).
  The measured room's secret sorts last, so coturn, which tries the realm's secrets in index order, tries every
  other room's secret first (the worst case for a legitimate login).

Each sample is one new client (a fresh UDP socket, so a fresh coturn session that must look its key up): the
unauthenticated Allocate gets 401 with REALM and NONCE, then the signed Allocate (MESSAGE-INTEGRITY, FINGERPRINT)
is timed from send to its success response. The allocation is then released (Refresh lifetime 0, not timed). The
client is tests/integration/turnutil.py's TurnClient; no retransmissions, so a slow answer is measured as is.
Twenty logins with a wrong password are timed the same way (until the 401).
A few warm-up logins precede the samples. A case stops at --allocations samples or after --case-seconds
(at least --min-samples), so the slow rest cases fit in the run.

Usage:
  tests/load/coturn_login_bench.py                      # 1, 1000, 100000 rooms x long-term, rest
  tests/load/coturn_login_bench.py --write-doc          # also (re)writes "Login time vs rooms" in docs/TURN.md
  tests/load/coturn_login_bench.py --rooms 1,1000 --modes rest --allocations 100
"""
import argparse
import os
import platform
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))

import turnutil  # noqa: E402  (path set up above)

REALM = "turnpike.bench"
DOC = REPO / "docs" / "TURN.md"
SECTION = "## Login time vs rooms"
WRONG_SAMPLES = 20


def build_database(path, mode, rooms):
    """The schema from sql/*.sql plus `rooms` rooms' worth of coturn rows. Returns (username, password) of the
    measured credential."""
    con = sqlite3.connect(str(path), isolation_level=None)
    for sql in sorted((REPO / "sql").glob("*.sql")):
        con.executescript(sql.read_text())
    con.execute("PRAGMA journal_mode=WAL")
    expiry = int(time.time()) + 86400
    con.execute("BEGIN")
    if mode == "long-term":
        def rows():
            for _ in range(rooms):
                for _slot in (1, 2):
                    name = secrets.token_hex(16)
                    password = secrets.token_hex(16)
                    yield name, turnutil.long_term_key(name, REALM, password).hex(), password

        measured = None
        batch = []
        for name, hmackey, password in rows():
            batch.append((REALM, name, hmackey))
            measured = (name, password)
            if len(batch) >= 10000:
                con.executemany("INSERT INTO turnusers_lt(realm, name, hmackey) VALUES (?, ?, ?)", batch)
                batch.clear()
        con.executemany("INSERT INTO turnusers_lt(realm, name, hmackey) VALUES (?, ?, ?)", batch)
    else:
        # Every other room's secret starts with 0-e, the measured room's with f: it sorts last.
        def other_secret():
            return "0123456789abcde"[secrets.randbelow(15)] + secrets.token_hex(32)[:63]

        con.executemany("INSERT OR IGNORE INTO turn_secret(realm, value) VALUES (?, ?)",
                        ((REALM, other_secret()) for _ in range(rooms - 1)))
        secret = "f" + secrets.token_hex(32)[:63]
        con.execute("INSERT INTO turn_secret(realm, value) VALUES (?, ?)", (REALM, secret))
        name = f"{expiry}:{secrets.token_hex(16)}"
        measured = (name, turnutil.rest_credential(secret, name))
    con.execute("COMMIT")
    table = "turnusers_lt" if mode == "long-term" else "turn_secret"
    count = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    if mode == "rest":
        last = con.execute("SELECT value FROM turn_secret WHERE realm = ? ORDER BY value DESC LIMIT 1",
                           (REALM,)).fetchone()[0]
        assert last == secret, "the measured secret must sort last"
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return measured, table, count


def coturn_config(workdir, mode, db_path, port, cli_port, cli_password, relay_range):
    """The shape of `turnpikectl coturn-config` output for a loopback-only server."""
    lines = [
        f"listening-port={port}",
        f"listening-ip={turnutil.LOOPBACK}",
        f"min-port={relay_range[0]}",
        f"max-port={relay_range[1]}",
        f"realm={REALM}",
        f"userdb={db_path}",
        "use-auth-secret" if mode == "rest" else "lt-cred-mech",
        "fingerprint",
        "no-multicast-peers",
        f"cli-ip={turnutil.LOOPBACK}",
        f"cli-port={cli_port}",
        f"cli-password={cli_password}",
        "no-tls",
        "no-dtls",
        "no-software-attribute",
        "simple-log",
    ]
    path = Path(workdir) / "turnserver.conf"
    path.write_text("\n".join(lines) + "\n")
    return path


def percentile(sorted_values, p):
    """Nearest-rank percentile."""
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def measure(port, username, password, allocations, case_seconds, min_samples, warmup=5, wrong=WRONG_SAMPLES):
    """(sorted login times, sorted wrong-password refusal times) in ms. Every client keeps its socket until the end,
    so no later client reuses the local port of a session coturn is still winding down (it deletes a released
    allocation at its next timer tick)."""
    clients = []

    def login():
        client = turnutil.TurnClient(port, timeout=30, retransmit=False)
        clients.append(client)
        result = client.allocate(username, password)
        assert result.ok, f"login failed: {result}"
        client.refresh(0)
        client.allocated = False
        return result.rtt * 1000

    try:
        for _ in range(warmup):
            login()
        refused = []
        for _ in range(wrong):
            client = turnutil.TurnClient(port, timeout=30, retransmit=False)
            clients.append(client)
            result = client.allocate(username, "x" + password)
            assert result.code == 401, f"a wrong password was not refused: {result}"
            refused.append(result.rtt * 1000)
        samples = []
        deadline = time.monotonic() + case_seconds
        while len(samples) < allocations and (len(samples) < min_samples or time.monotonic() < deadline):
            samples.append(login())
        return sorted(samples), sorted(refused)
    finally:
        for client in clients:
            client.close()


def run_case(mode, rooms, args):
    with tempfile.TemporaryDirectory(prefix="coturn-bench-") as tmp:
        db_path = Path(tmp) / "turnpike.db"
        started = time.monotonic()
        (username, password), table, count = build_database(db_path, mode, rooms)
        fill_seconds = time.monotonic() - started
        port = turnutil.free_port(count=2)
        cli_port = turnutil.free_port(udp=False)
        cli_password = secrets.token_hex(12)
        conf = coturn_config(tmp, mode, db_path, port, cli_port, cli_password, turnutil.free_relay_range(1024))
        coturn = turnutil.Coturn(tmp, conf, port, cli_port, cli_password)
        try:
            coturn.start()
            samples, refused = measure(port, username, password, args.allocations, args.case_seconds,
                                       args.min_samples)
        finally:
            coturn.stop()
        row = {
            "mode": mode, "rooms": rooms, "table": table, "rows": count, "samples": len(samples),
            "median": statistics.median(samples), "p95": percentile(samples, 95), "max": samples[-1],
            "wrong": statistics.median(refused),
        }
        print(f"  {mode:9} rooms={rooms:<7} {table}={count:<7} fill={fill_seconds:5.1f}s samples={len(samples):<4} "
              f"median={row['median']:.2f} ms p95={row['p95']:.2f} ms wrong-password={row['wrong']:.2f} ms", flush=True)
        return row


def markdown_table(results):
    out = ["| mode | rooms | rows in coturn's table | logins timed | median | p95 | max "
           f"| wrong password (median of {WRONG_SAMPLES}) |",
           "|---|---:|---|---:|---:|---:|---:|---:|"]
    for r in results:
        out.append(f"| {r['mode']} | {r['rooms']:,} | {r['rows']:,} {r['table']} | {r['samples']} | "
                   f"{r['median']:.2f} ms | {r['p95']:.2f} ms | {r['max']:.2f} ms | {r['wrong']:.2f} ms |")
    return "\n".join(out)


def coturn_version():
    out = subprocess.run([turnutil.TURNSERVER, "--version"], capture_output=True, text=True, timeout=10)
    return (out.stdout.strip() or out.stderr.strip()).splitlines()[-1]


def section_text(results, command, total_seconds, args):
    return f"""{SECTION}

How long a client's TURN login (an authenticated Allocate) takes in coturn as the number of rooms grows, for both
`turn.mode` values. Measured with `tests/load/coturn_login_bench.py`, run from the repository root:

```
{command}
```

Setup: coturn {coturn_version()} (Debian) on 127.0.0.1, {os.cpu_count()} CPU cores, \
{platform.system()} {platform.release()}.

The database is built from `sql/*.sql` in WAL mode and filled as turnpiked would fill it: long-term mode has two
`turnusers_lt` rows per room (one per device), rest mode one `turn_secret` row per room. The measured room's
secret sorts last, so in rest mode coturn tries every other room's secret before the right one. coturn runs from
a config shaped like `turnpikectl coturn-config` output. Each timed login is a new UDP client (so a new coturn
session that must look its key up): the 401 challenge is not timed; the signed Allocate is timed from send to its
success response, then released. The last column times the 401 answer to a wrong password the same way. A case
stops after {args.allocations} logins or {args.case_seconds:g} s (at least {args.min_samples} logins); the whole \
run took {total_seconds:.0f} s.

{markdown_table(results)}

Long-term mode is one indexed lookup per login whatever the number of rooms. Rest mode loads and tries the
realm's secrets one by one on every login (coturn caches nothing between sessions), so its login time grows
linearly with the number of rooms{per_room_cost(results)}, and a wrong password always costs the full scan,
so a few clients sending wrong passwords can hold coturn's few auth threads. That is why `long-term` is the
default.
"""


def per_room_cost(results):
    """' (about N µs per room here)' from the rest rows with the fewest and the most rooms, or ''."""
    rest = sorted((r for r in results if r["mode"] == "rest"), key=lambda r: r["rooms"])
    if len(rest) < 2 or rest[-1]["rooms"] - rest[0]["rooms"] < 1000:
        return ""
    micros = (rest[-1]["median"] - rest[0]["median"]) * 1000 / (rest[-1]["rooms"] - rest[0]["rooms"])
    return f" (about {micros:.1f} µs per room here)"


def write_doc(text):
    if DOC.exists():
        doc = DOC.read_text()
        start = doc.find(SECTION)
        if start >= 0:
            end = doc.find("\n## ", start + len(SECTION))
            doc = doc[:start] + text + ("" if end < 0 else doc[end + 1:])
        else:
            doc = doc.rstrip("\n") + "\n\n" + text
    else:
        doc = "# TURN relay (coturn)\n\n" + text
    DOC.write_text(doc)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", default="1,1000,100000", help="comma-separated room counts")
    parser.add_argument("--modes", default="long-term,rest", help="comma-separated turn.mode values")
    parser.add_argument("--allocations", type=int, default=200, help="timed logins per case (at most)")
    parser.add_argument("--case-seconds", type=float, default=120, help="time budget per case")
    parser.add_argument("--min-samples", type=int, default=20, help="timed logins per case (at least)")
    parser.add_argument("--write-doc", action="store_true", help=f"write the results into {DOC}")
    args = parser.parse_args()
    if not turnutil.coturn_available():
        sys.exit("coturn is not installed (turnserver, turnutils_uclient, turnutils_peer)")

    command = "tests/load/coturn_login_bench.py " + " ".join(sys.argv[1:])
    started = time.monotonic()
    results = []
    for mode in args.modes.split(","):
        for rooms in (int(r) for r in args.rooms.split(",")):
            results.append(run_case(mode.strip(), rooms, args))
    total = time.monotonic() - started
    print()
    print(markdown_table(results))
    if args.write_doc:
        write_doc(section_text(results, command.strip(), total, args))
        print(f"\nwritten to {DOC}")


if __name__ == "__main__":
    main()
