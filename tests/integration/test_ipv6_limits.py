# Per-address limits count an IPv6 client under its /limits.ipv6_prefix_length network (default /64), so one
# subscriber's /64 cannot multiply them: the REST rate, the failed-join budget (clients named by a trusted
# proxy), and open connections (real IPv6 sources, in a network namespace of their own).
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from httputil import Api, assert_error, wait_for_log

PROXY = {"server.trusted_proxies": "127.0.0.1"}
HERE = Path(__file__).resolve().parent


def via(address):
    return {"X-Forwarded-For": address}


def delete_status(api, address):
    return api.request("DELETE", "/api/rooms", {"roomid": "x"}, via(address)).status_code


def test_rest_rate_is_shared_by_a_64_and_reload_changes_the_prefix(start_daemon):
    d = start_daemon({**PROXY, "limits.rest_rate_per_second": 0.01, "limits.rest_rate_burst": 2})
    api = Api(d.url)
    assert [delete_status(api, "2001:db8:1:2::1"), delete_status(api, "2001:db8:1:2::2")] == [200, 200]
    # another address of the same /64 finds the bucket empty; the next /64 has its own
    assert_error(api.request("DELETE", "/api/rooms", {"roomid": "x"}, via("2001:db8:1:2:ffff::3")), 429,
                 "rate_limited")
    assert delete_status(api, "2001:db8:1:3::1") == 200
    # IPv4 clients are counted one by one
    assert [delete_status(api, f"198.51.100.{i}") for i in range(1, 4)] == [200] * 3

    d.reload({"limits.ipv6_prefix_length": 128})
    wait_for_log(d, r"event=config_reloaded changed=limits.ipv6_prefix_length")
    # each /128 alone now
    assert [delete_status(api, f"2001:db8:1:2::{i}") for i in range(10, 13)] == [200] * 3


def test_failed_join_budget_is_shared_by_a_64(start_daemon):
    d = start_daemon({**PROXY, "limits.failed_join_per_minute": 2, "limits.rest_rate_per_second": 0})
    api = Api(d.url)
    for code, address in [("111111", "2001:db8:5:6::1"), ("111112", "2001:db8:5:6::2")]:
        r = api.request("POST", "/api/rooms/accept", {"joinid": code, "client2": "dev-B"}, via(address))
        assert_error(r, 404, "not_found_or_expired")
    r = api.request("POST", "/api/rooms/accept", {"joinid": "111113", "client2": "dev-B"}, via("2001:db8:5:6::9"))
    assert_error(r, 429, "rate_limited")
    assert "event=failed_join_limited peer=2001:db8:5:6::9" in d.log()  # the log keeps the full address
    r = api.request("POST", "/api/rooms/accept", {"joinid": "111114", "client2": "dev-B"}, via("2001:db8:5:7::1"))
    assert_error(r, 404, "not_found_or_expired")


# Runs inside `unshare --net`: loopback with addresses of two /64s, turnpiked listening on one of them, and
# connections from the others. Prints one JSON object of outcomes.
NETNS_SCRIPT = textwrap.dedent("""
    import json, socket, subprocess, sys, time
    sys.path.insert(0, sys.argv[1])
    from conftest import Daemon
    from httputil import request_bytes
    for command in (["ip", "link", "set", "lo", "up"],
                    ["ip", "-6", "addr", "add", "2001:db8::1/64", "dev", "lo", "nodad"],
                    ["ip", "-6", "addr", "add", "2001:db8::2/64", "dev", "lo", "nodad"],
                    ["ip", "-6", "addr", "add", "2001:db8::3/64", "dev", "lo", "nodad"],
                    ["ip", "-6", "addr", "add", "2001:db8:0:1::2/64", "dev", "lo", "nodad"]):
        subprocess.run(command, check=True)
    d = Daemon(sys.argv[2], {"server.listen": "[2001:db8::1]:0", "limits.max_connections_per_ip": 2}).start()

    def connect(source):
        s = socket.create_connection(("2001:db8::1", d.port), timeout=5, source_address=(source, 0))
        s.sendall(request_bytes("GET", "/"))
        data = b""
        while b"\\r\\n\\r\\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return s, data.split(b" ", 2)[1].decode() if data else "closed"

    outcomes = {}
    held = []
    for name, source in [("a", "2001:db8::2"), ("b", "2001:db8::2"), ("same_64", "2001:db8::3"),
                         ("other_64", "2001:db8:0:1::2")]:
        s, status = connect(source)
        held.append(s)
        outcomes[name] = status
    d.reload({"limits.ipv6_prefix_length": 128})
    for _ in range(100):
        if "event=config_reloaded" in d.log():
            break
        time.sleep(0.05)
    outcomes["same_64_at_128"] = connect("2001:db8::3")[1]
    for s in held:
        s.close()
    outcomes["exit"] = d.stop()
    print(json.dumps(outcomes))
""")


def test_open_connections_are_counted_per_64(tmp_path):
    command = ["unshare", "--net", "--", sys.executable, "-c", NETNS_SCRIPT, str(HERE), str(tmp_path / "d")]
    if os.geteuid() != 0:
        command[1:1] = ["--map-root-user"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    log = (tmp_path / "d" / "turnpiked.log")
    assert done.returncode == 0, done.stderr + (log.read_text() if log.exists() else "")
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcomes == {"a": "200", "b": "200", "same_64": "503", "other_64": "200", "same_64_at_128": "200",
                        "exit": 0}, outcomes
