#!/usr/bin/env python3
# Measures relayed WebSocket messages per second over ws:// and wss:// against one turnpiked run.
"""Relay throughput, plain vs TLS, in the same daemon run.

Makes a throwaway CA and server certificate with the openssl command line (tests/integration/tlsutil.py), starts
the built turnpiked with one plain and one TLS listener (WebSocket message rate limit off), and for each scheme
puts --pairs pairs of clients (the `websockets` library) into rooms. In every pair one member sends --messages
webrtc_offer messages as fast as it can while the other receives them; the time from the first send to the last
message received, over all pairs, gives messages per second. The clients run in this one Python process, so the
number is a floor for the daemon (check the daemon's CPU with --show-cpu); what matters is the ws/wss ratio.
Prints one JSON object.

Usage:
  tests/load/wss_relay_bench.py --turnpiked build/daemon/turnpiked
  tests/load/wss_relay_bench.py --turnpiked build/daemon/turnpiked --pairs 8 --messages 5000
"""
import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from tlsutil import TestCa  # noqa: E402


def start_daemon(turnpiked, workdir, certificate):
    config = workdir / "turnpike.conf"
    config.write_text("[server]\nlisten = 127.0.0.1:0\ntls_listen = 127.0.0.1:0\n"
                      f"tls_certificate = {certificate.cert_path}\ntls_private_key = {certificate.key_path}\n"
                      f"[database]\npath = {workdir / 'turnpike.db'}\n[admin]\nsocket =\n"
                      "[signaling]\nrequire_known_room = false\n"
                      "[limits]\nws_messages_per_second = 0\nrest_rate_per_second = 0\n")
    log = open(workdir / "turnpiked.log", "wb")
    allow_root = ["--allow-root"] if os.geteuid() == 0 else []
    proc = subprocess.Popen([turnpiked, "--config", str(config), *allow_root], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        text = (workdir / "turnpiked.log").read_text(errors="replace")
        plain = re.findall(r"event=listening address=[^ ]*:(\d+) version=", text)
        secure = re.findall(r"event=listening address=[^ ]*:(\d+) tls=true", text)
        if plain and secure:
            return proc, int(plain[0]), int(secure[0])
        if proc.poll() is not None:
            raise SystemExit(f"turnpiked exited:\n{text}")
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("turnpiked did not start")


async def run_pair(url, ssl_context, room, messages):
    options = dict(ping_interval=None, max_size=None, max_queue=None, ssl=ssl_context)
    a = await websockets.connect(url, **options)
    b = await websockets.connect(url, **options)
    for client in (a, b):
        await client.recv()  # connected
    await a.send(json.dumps({"type": "join_room", "roomId": room}))
    await a.recv()
    await b.send(json.dumps({"type": "join_room", "roomId": room}))
    await b.recv()
    await a.recv()  # room_ready for both
    await b.recv()
    payload = json.dumps({"type": "webrtc_offer", "sdp": "v=0 " + "x" * 200})

    async def send_all():
        for _ in range(messages):
            await a.send(payload)

    async def receive_all():
        for _ in range(messages):
            await b.recv()

    return a, b, send_all, receive_all


async def measure(url, ssl_context, pairs, messages, tag):
    prepared = [await run_pair(url, ssl_context, f"{tag}-{i}", messages) for i in range(pairs)]
    started = time.monotonic()
    await asyncio.gather(*(job() for _, _, send_all, receive_all in prepared for job in (send_all, receive_all)))
    elapsed = time.monotonic() - started
    for a, b, _, _ in prepared:
        await a.close()
        await b.close()
    return {"messages": pairs * messages, "seconds": round(elapsed, 3),
            "messages_per_second": round(pairs * messages / elapsed)}


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turnpiked", default="build/daemon/turnpiked")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--messages", type=int, default=5000, help="messages per pair")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        ca = TestCa(workdir / "ca")
        proc, plain_port, tls_port = start_daemon(args.turnpiked, workdir, ca.issue())
        try:
            result = {"pairs": args.pairs}
            for scheme, port, context in (("ws", plain_port, None), ("wss", tls_port, ca.client_context())):
                cpu_before = cpu_seconds(proc.pid)
                result[scheme] = asyncio.run(measure(f"{scheme}://127.0.0.1:{port}/ws", context, args.pairs,
                                                     args.messages, scheme))
                result[scheme]["daemon_cpu_seconds"] = round(cpu_seconds(proc.pid) - cpu_before, 3)
            print(json.dumps(result))
        finally:
            proc.terminate()
            proc.wait(timeout=20)


if __name__ == "__main__":
    main()
