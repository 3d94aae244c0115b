"""Admin routes are not for web pages: no CORS headers, requests with Origin refused, and the Host header must name
this server (DNS rebinding), while turnpikectl on the admin socket and the pairing API's CORS stay as they were."""
import http.client
import json
import os
import socket
import subprocess
import tempfile
from urllib.parse import urlsplit

import pytest
import requests

from conftest import TURNPIKECTL
from httputil import assert_cors

ADMIN_GETS = ["/rooms", "/metrics", "/admin/status", "/admin/rooms"]


def raw(d, method, path, headers):
    """One request with exactly these headers (http.client adds no Host of its own here)."""
    u = urlsplit(d.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


def recv_all(s):
    data = b""
    for _ in range(100):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def port_of(d):
    return urlsplit(d.url).port


@pytest.fixture
def admin_daemon(start_daemon):
    return start_daemon({})


@pytest.fixture
def named_daemon(start_daemon):
    return start_daemon({"admin.allowed_hosts": "turnpike.example, ops.example:9999"})


@pytest.mark.parametrize("path", ADMIN_GETS)
def test_admin_answers_carry_no_cors(admin_daemon, path):
    r = requests.get(admin_daemon.url + path, timeout=5)
    assert r.status_code == 200, r.text
    assert "Access-Control-Allow-Origin" not in r.headers, r.headers
    assert not any(h.lower().startswith("access-control-") for h in r.headers), r.headers


@pytest.mark.parametrize("path", ADMIN_GETS + ["/admin/reload"])
def test_admin_preflight_allows_nothing(admin_daemon, path):
    status, headers, _ = raw(admin_daemon, "OPTIONS", path,
                             {"Host": f"127.0.0.1:{port_of(admin_daemon)}", "Origin": "https://evil.example",
                              "Access-Control-Request-Method": "POST"})
    assert status == 204
    assert not any(h.lower().startswith("access-control-") for h in headers), headers


@pytest.mark.parametrize("path,method", [(p, "GET") for p in ADMIN_GETS] + [("/admin/reload", "POST")])
def test_admin_request_with_origin_is_refused(admin_daemon, path, method):
    r = requests.request(method, admin_daemon.url + path, headers={"Origin": "https://evil.example"}, timeout=5)
    assert r.status_code == 403, r.text
    assert r.headers.get("Content-Type", "").startswith("application/json")
    assert r.json() == {"error": "cross_origin_refused"}
    assert "Access-Control-Allow-Origin" not in r.headers, r.headers


def test_admin_reload_with_origin_does_not_reload(named_daemon):
    d = named_daemon
    assert raw(d, "GET", "/rooms", {"Host": "new.example"})[0] == 421
    d.write_config({**d.settings, "admin.allowed_hosts": "new.example"})
    r = requests.post(d.url + "/admin/reload", headers={"Origin": "null"}, timeout=5)
    assert r.status_code == 403, r.text
    assert raw(d, "GET", "/rooms", {"Host": "new.example"})[0] == 421
    r = requests.post(d.url + "/admin/reload", timeout=5)
    assert r.status_code == 200, r.text
    assert raw(d, "GET", "/rooms", {"Host": "new.example"})[0] == 200
    assert raw(d, "GET", "/rooms", {"Host": "turnpike.example"})[0] == 421


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example:{port}",
                                  "ops.example:1234", "localhost.evil.example", "[::1]:{port}", "", "a b"])
def test_admin_foreign_host_is_misdirected(named_daemon, host):
    u = urlsplit(named_daemon.url)
    with socket.create_connection((u.hostname, u.port), timeout=5) as s:
        s.sendall(f"GET /rooms HTTP/1.1\r\nHost: {host.format(port=u.port)}\r\nConnection: close\r\n\r\n".encode())
        assert recv_all(s).startswith(b"HTTP/1.1 421 Misdirected Request\r\n")
    status, headers, body = raw(named_daemon, "GET", "/rooms", {"Host": host.format(port=port_of(named_daemon))})
    assert status == 421, body
    assert json.loads(body) == {"error": "host_not_allowed"}
    assert not any(h.lower().startswith("access-control-") for h in headers), headers


def test_admin_without_host_is_misdirected(admin_daemon):
    status, _, body = raw(admin_daemon, "GET", "/rooms", {})
    assert status in (400, 421), body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "127.0.0.1", "localhost:{port}", "LOCALHOST", "localhost"])
def test_admin_own_host_is_accepted(admin_daemon, host):
    status, _, body = raw(admin_daemon, "GET", "/rooms", {"Host": host.format(port=port_of(admin_daemon))})
    assert status == 200, body
    assert isinstance(json.loads(body), (list, dict))


@pytest.mark.parametrize("host", ["turnpike.example", "Turnpike.Example:443", "ops.example:9999", "localhost:1"])
def test_admin_allowed_hosts_are_accepted(named_daemon, host):
    status, _, body = raw(named_daemon, "GET", "/rooms", {"Host": host})
    assert status == 200, body


def test_wildcard_listen_accepts_ip_literals_and_localhost(start_daemon):
    d = start_daemon({"server.listen": "0.0.0.0:0"})
    port = port_of(d)
    for host in [f"127.0.0.1:{port}", f"localhost:{port}", "192.0.2.7", "[2001:db8::1]:8080"]:
        status, _, body = raw(d, "GET", "/metrics", {"Host": host})
        assert status == 200, (host, body)
    status, _, _ = raw(d, "GET", "/metrics", {"Host": "rebind.example"})
    assert status == 421


def test_pairing_api_keeps_its_cors(admin_daemon):
    r = requests.post(admin_daemon.url + "/api/rooms", json={"joinid": "123456", "client1": "dev-a", "expiresInSeconds": 60},
                      headers={"Origin": "https://app.example", "Host": "anything.example"}, timeout=5)
    assert r.status_code == 201, r.text
    assert_cors(r)
    status, headers, _ = raw(admin_daemon, "OPTIONS", "/api/rooms",
                             {"Host": "anything.example", "Origin": "https://app.example",
                              "Access-Control-Request-Method": "POST"})
    assert status == 204
    assert headers.get("Access-Control-Allow-Origin") == "*", headers
    assert "POST" in headers.get("Access-Control-Allow-Methods", ""), headers
    r = requests.get(admin_daemon.url + "/health", headers={"Origin": "https://app.example"}, timeout=5)
    assert r.status_code == 200
    assert_cors(r)


def test_turnpikectl_over_the_socket_still_works(start_daemon):
    with tempfile.TemporaryDirectory(prefix="tp-") as short:
        sock = os.path.join(short, "admin.sock")
        d = start_daemon({"admin.socket": sock, "admin.allow_from": "192.0.2.0/24"})
        out = subprocess.run([TURNPIKECTL, "--config", str(d.config_path), "status"], capture_output=True,
                             text=True, timeout=10)
        assert out.returncode == 0, out
        # Over TCP from 127.0.0.1 (not in admin.allow_from) the same request is refused.
        assert requests.get(d.url + "/admin/status", timeout=5).status_code == 403
