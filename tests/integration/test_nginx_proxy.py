# The documented nginx recipe (docs/proxy/nginx-turnpike.conf) run with Debian's real nginx in front of turnpiked:
# pairing, TURN credentials and wss:// signaling work through it; a client behind it is not an admin although
# nginx connects from 127.0.0.1; clients behind it get their own rate-limit buckets; forged headers change nothing.
"""The site file is used as documented: only the lines marked "# set:" (ports, upstream, certificate paths) are
replaced by text substitution. The test CA and server certificate are made with the openssl CLI at test time.
Clients connect to nginx from 127.0.0.2 and 127.0.0.3, so nginx sees them as different addresses."""
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import REPO
from httputil import SourceAddressAdapter, assert_error, next_joinid
from test_turn_api import check_turn_answer, turn_config
from wsutil import WsClient, dumps, join, room_joined, room_ready

SITE = REPO / "docs" / "proxy" / "nginx-turnpike.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed "
                                "(packaging/install-build-deps installs it)")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args, cwd):
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, timeout=30)


def make_certificates(workdir):
    """A throwaway CA and a server certificate for localhost / 127.0.0.1 / ::1 signed by it."""
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=turnpike test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=workdir)
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost", cwd=workdir)
    (workdir / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
                                        "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "server.ext", cwd=workdir)
    return workdir / "ca.pem", workdir / "server.pem", workdir / "server.key"


def substitute(text, replacements):
    for old, new in replacements.items():
        assert text.count(old) == 1, f"the documented site no longer has exactly one {old!r}"
        text = text.replace(old, new)
    return text


class Nginx:
    """Debian's nginx running the documented site in the foreground, from a private prefix."""

    def __init__(self, workdir, upstream_port):
        self.prefix = workdir
        self.https_port = free_port()
        self.http_port = free_port()
        self.ca, cert, key = make_certificates(workdir)
        site = substitute(SITE.read_text(), {
            "server 127.0.0.1:8080;": f"server 127.0.0.1:{upstream_port};",
            "listen 80;": f"listen 127.0.0.1:{self.http_port};",
            "listen [::]:80;": f"listen [::1]:{self.http_port};",
            "listen 443 ssl;": f"listen 127.0.0.1:{self.https_port} ssl;",
            "listen [::]:443 ssl;": f"listen [::1]:{self.https_port} ssl;",
            "/etc/letsencrypt/live/turnpike.example.com/fullchain.pem": str(cert),
            "/etc/letsencrypt/live/turnpike.example.com/privkey.pem": str(key),
        })
        (workdir / "turnpike.site.conf").write_text(site)
        temp = workdir / "temp"
        temp.mkdir()
        # The frame nginx.conf of a distribution (/etc/nginx/nginx.conf) reduced to what a private prefix needs.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (workdir / "nginx.conf").write_text(
            f"{user}worker_processes 1;\nevents {{ worker_connections 256; }}\nhttp {{\n"
            f"  access_log {workdir}/access.log;\n"
            + "".join(f"  {kind}_temp_path {temp}/{kind};\n"
                      for kind in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"])
            + f"  include {workdir}/turnpike.site.conf;\n}}\n")
        self.globals = f"daemon off; pid {workdir}/nginx.pid; error_log {workdir}/error.log notice;"
        check = subprocess.run([NGINX, "-t", "-p", str(workdir), "-c", str(workdir / "nginx.conf"),
                                "-g", self.globals], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr
        self.proc = subprocess.Popen([NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf"),
                                      "-g", self.globals], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                break
            except OSError:
                assert self.proc.poll() is None, f"nginx exited:\n{self.error_log()}"
                assert time.monotonic() < deadline, f"nginx did not listen:\n{self.error_log()}"
                time.sleep(0.05)

    @property
    def url(self):
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def wss_url(self):
        return f"wss://127.0.0.1:{self.https_port}/ws"

    def error_log(self):
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def session(self, source):
        """A requests session that trusts the test CA and connects to nginx from `source`."""
        s = requests.Session()
        s.mount("https://", SourceAddressAdapter(source))
        s.mount("http://", SourceAddressAdapter(source))
        s.verify = str(self.ca)
        s.trust_env = False  # REQUESTS_CA_BUNDLE or a proxy from the environment must not take over
        return s

    def websocket(self, source):
        context = ssl.create_default_context(cafile=str(self.ca))
        return WsClient(self.wss_url, ssl=context, local_addr=(source, 0))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


PROXY_SETTINGS = {
    "server.trusted_proxies": "127.0.0.1, ::1",
    "admin.allow_from": "127.0.0.1, ::1",
    "log.level": "debug",
}


@pytest.fixture
def behind_nginx(start_daemon, tmp_path):
    """Factory: behind_nginx(settings) -> (daemon, nginx)."""
    started = []

    def factory(settings=None):
        d = start_daemon({**PROXY_SETTINGS, **(settings or {})})
        workdir = tmp_path / f"nginx{len(started)}"
        workdir.mkdir()
        started.append(Nginx(workdir, d.port))
        return d, started[-1]

    yield factory
    for n in started:
        n.stop()


def test_pairing_turn_and_signaling_through_nginx(behind_nginx):
    d, nginx = behind_nginx(turn_config())
    with nginx.session("127.0.0.2") as one, nginx.session("127.0.0.3") as two:
        assert one.get(nginx.url + "/", timeout=10).status_code == 200
        joinid = next_joinid()
        r = one.post(nginx.url + "/api/rooms", json={"joinid": joinid, "client1": "dev-A", "expiresInSeconds": 60},
                     timeout=10)
        assert r.status_code == 201, r.text
        r = two.post(nginx.url + "/api/rooms/accept", json={"joinid": joinid, "client2": "dev-B"}, timeout=10)
        assert r.status_code == 200, r.text
        roomid = r.json()["roomid"]
        r = one.post(nginx.url + "/api/rooms/check", json={"joinid": joinid, "client1": "dev-A"}, timeout=10)
        assert r.status_code == 200 and r.json() == {"roomid": roomid}, r.text
        turn = one.post(nginx.url + "/api/rooms/turn", json={"roomid": roomid, "deviceId": "dev-A"}, timeout=10)
        check_turn_answer(turn, 3600)
        # plain HTTP only redirects to HTTPS
        redirect = one.get(f"http://127.0.0.1:{nginx.http_port}/api/rooms", allow_redirects=False, timeout=10)
        assert redirect.status_code == 301
        assert redirect.headers["Location"].startswith("https://"), redirect.headers

    a = nginx.websocket("127.0.0.2")
    b = nginx.websocket("127.0.0.3")
    try:
        assert join(a, roomid) == room_joined(roomid, 1, True)
        assert join(b, roomid) == room_joined(roomid, 2, False)
        assert b.recv_text() == room_ready(roomid, False)
        assert a.recv_text() == room_ready(roomid, True)
        a.send_json({"type": "webrtc_offer", "sdp": "v=0\r\n"})
        assert b.recv_text() == dumps({"type": "webrtc_offer", "from": a.client_id, "roomId": roomid, "sdp": "v=0\r\n"})
        b.assert_alive()
    finally:
        a.close()
        b.close()
    # the WebSocket sessions know their clients, not nginx
    log = d.log()
    opened = [line for line in log.splitlines() if "event=websocket_opened" in line]
    assert any("peer=127.0.0.2" in line for line in opened), opened
    assert any("peer=127.0.0.3" in line for line in opened), opened
    assert not any("peer=127.0.0.1" in line for line in opened), opened
    assert "event=proxy_header_missing" not in log
    assert "event=proxy_header_unusable" not in log


def test_client_behind_nginx_is_not_an_admin(behind_nginx):
    d, nginx = behind_nginx()
    with nginx.session("127.0.0.2") as client:
        assert_error(client.get(nginx.url + "/metrics", timeout=10), 403, "forbidden", origin=None)
        assert_error(client.get(nginx.url + "/rooms", timeout=10), 403, "forbidden", origin=None)
        # a client that prepends forged entries: nginx appends the real address, turnpiked takes the right-most
        for forged in [{"X-Forwarded-For": "127.0.0.1"}, {"X-Forwarded-For": "::1, 127.0.0.1"},
                       {"Forwarded": "for=127.0.0.1"}, {"Forwarded": "for=unknown"},
                       {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}]:
            assert_error(client.get(nginx.url + "/metrics", headers=forged, timeout=10), 403, "forbidden", origin=None)
    # a user on the host itself is local through nginx too, and turnpiked serves /metrics directly
    with nginx.session("127.0.0.1") as local:
        assert local.get(nginx.url + "/metrics", timeout=10).status_code == 200
    assert requests.get(d.url + "/metrics", timeout=10).status_code == 200


def test_forged_headers_sent_directly_change_nothing(behind_nginx):
    d, _ = behind_nginx()
    s = requests.Session()
    s.mount("http://", SourceAddressAdapter("127.0.0.2"))
    with s:
        for forged in [{"X-Forwarded-For": "127.0.0.1"}, {"Forwarded": "for=127.0.0.1"},
                       {"Forwarded": 'for="[::1]:4711"'}]:
            assert_error(s.get(d.url + "/metrics", headers=forged, timeout=10), 403, "forbidden", origin=None)


def test_clients_behind_nginx_have_separate_rate_limit_buckets(behind_nginx):
    d, nginx = behind_nginx({"limits.rest_rate_per_second": 0.01, "limits.rest_rate_burst": 4})
    with nginx.session("127.0.0.2") as noisy, nginx.session("127.0.0.3") as quiet:
        statuses = [noisy.delete(nginx.url + "/api/rooms", json={"roomid": "nope"}, timeout=10).status_code
                    for _ in range(4)]
        assert statuses == [200] * 4
        r = noisy.delete(nginx.url + "/api/rooms", json={"roomid": "nope"}, timeout=10)
        assert_error(r, 429, "rate_limited")
        # forging another address does not give the noisy client a fresh bucket
        r = noisy.delete(nginx.url + "/api/rooms", json={"roomid": "nope"},
                         headers={"X-Forwarded-For": "198.51.100.9"}, timeout=10)
        assert_error(r, 429, "rate_limited")
        r = quiet.delete(nginx.url + "/api/rooms", json={"roomid": "nope"}, timeout=10)
        assert r.status_code == 200, r.text
        assert json.loads(r.text) == {"ok": True}
