#!/usr/bin/env python3
# Starts turnpiked with the message budgets off and runs tests/load/socketio_bench.mjs against it.
"""Socket.IO relay throughput next to the reference dialect's, on the same daemon in the same run, and Socket.IO
long-polling sessions per second (each: handshake, CONNECT, its answer, close).

Usage: tests/load/socketio_bench.py --turnpiked build/daemon/turnpiked [--pairs 50] [--window 8] [--seconds 5]
Needs node and `npm ci` in tests/socketio. Prints the JSON object of the node script.
"""
import argparse
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--turnpiked", required=True)
    parser.add_argument("--pairs", default="50")
    parser.add_argument("--window", default="8")
    parser.add_argument("--seconds", default="5")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        conf = Path(work) / "turnpike.conf"
        conf.write_text(f"""[server]
listen = 127.0.0.1:0
[database]
path = {work}/turnpike.db
[admin]
socket =
[signaling]
require_known_room = false
[limits]
ws_messages_per_second = 0
ws_messages_per_second_per_address = 0
rest_rate_per_second = 0
max_connections_per_ip = 10000
[socketio]
max_sessions_per_address = 100000
[sessions]
connect_attempts_per_second = 0
""")
        root = ["--allow-root"] if os.geteuid() == 0 else []
        log = open(Path(work) / "turnpiked.log", "wb")
        daemon = subprocess.Popen([args.turnpiked, "--config", str(conf), *root], stdout=log, stderr=subprocess.STDOUT)
        try:
            port = None
            deadline = time.monotonic() + 10
            while port is None and time.monotonic() < deadline:
                found = re.search(r"event=listening .*address=[^ ]*:(\d+)", (Path(work) / "turnpiked.log").read_text())
                port = found and found.group(1)
                time.sleep(0.05)
            assert port, "turnpiked did not start"
            out = subprocess.run(["node", str(HERE / "socketio_bench.mjs"), "--url", f"http://127.0.0.1:{port}",
                                  "--pairs", args.pairs, "--window", args.window, "--seconds", args.seconds],
                                 capture_output=True, text=True, timeout=300)
            if out.returncode != 0:
                raise SystemExit(out.stderr)
            print(out.stdout.strip())
        finally:
            daemon.terminate()
            daemon.wait(timeout=20)


if __name__ == "__main__":
    main()
