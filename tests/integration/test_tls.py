# TLS in the daemon: HTTPS and WSS on server.tls_listen, versions, ALPN, resumption, limits, certificate renewal on
# reload, and the startup and --check-config errors for bad certificate files.
"""Every certificate comes from a test CA made with the openssl command line when the test runs (tlsutil.TestCa).
Clients are the real ones: curl --cacert, openssl s_client, Python's ssl module and the `websockets` library."""
import json
import os
import re
import socket
import ssl
import subprocess
import time
import warnings

import pytest
import requests

from conftest import TURNPIKED
from httputil import next_joinid
from test_turn_api import turn_config
from tlsutil import TestCa, served_serial, tls_ports
from wsutil import WsClient, dumps, join, room_joined, room_ready


@pytest.fixture
def ca(tmp_path):
    return TestCa(tmp_path / "ca")


def tls_settings(certificate, **extra):
    settings = {"server.listen": "127.0.0.1:0", "server.tls_listen": "127.0.0.1:0",
                "server.tls_certificate": str(certificate.cert_path),
                "server.tls_private_key": str(certificate.key_path)}
    settings.update(extra)
    return settings


def start_tls(start_daemon, certificate, settings=None):
    """A daemon with one plain and one TLS listener; `daemon.tls_port` is the TLS one."""
    d = start_daemon(tls_settings(certificate, **(settings or {})))
    d.tls_port = tls_ports(d)[0]
    return d


def curl(ca, port, method, path, body=None):
    """(status, body text) of one request made by curl over https, trusting only the test CA."""
    args = ["curl", "-sS", "--max-time", "10", "--cacert", str(ca.cert_path), "-X", method,
            "-o", "-", "-w", "\n%{http_code}", f"https://127.0.0.1:{port}{path}"]
    if body is not None:
        args += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, f"curl {method} {path}: {result.stderr}"
    text, _, status = result.stdout.rpartition("\n")
    return int(status), text


def s_client(port, *args, input_text="", timeout=20):
    """openssl s_client against 127.0.0.1:port; returns (exit code, stdout + stderr)."""
    result = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
                             *args], input=input_text, capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout + result.stderr


def wss(daemon, ca, read_hello=True):
    return WsClient(f"wss://127.0.0.1:{daemon.tls_port}/ws", read_hello=read_hello, ssl=ca.client_context())


def wss_pair(daemon, ca, room_id):
    a = wss(daemon, ca)
    assert join(a, room_id) == room_joined(room_id, 1, True)
    b = wss(daemon, ca)
    assert join(b, room_id) == room_joined(room_id, 2, False)
    assert b.recv_text() == room_ready(room_id, False)
    assert a.recv_text() == room_ready(room_id, True)
    return a, b


def metric(daemon, name):
    text = requests.get(daemon.url + "/metrics", timeout=5).text
    m = re.search(rf"^{name} (\d+)$", text, re.M)
    assert m, f"{name} missing from /metrics"
    return int(m.group(1))


def wait_for_log(daemon, pattern, count=1, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.findall(pattern, daemon.log())
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{pattern!r} not logged {count} time(s):\n{daemon.log()[-3000:]}")


def closed_within(sock, seconds):
    """True when the peer closes `sock` (EOF or reset) within `seconds`; whatever it sends first is ignored."""
    sock.settimeout(seconds)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if sock.recv(4096) == b"":
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return False


def client_hello_bytes():
    """The first flight of a real TLS client: a ClientHello, made without any network."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


# --- HTTPS and WSS ---------------------------------------------------------------------------------------------------


def test_every_rest_route_over_https_with_curl(start_daemon, ca):
    d = start_tls(start_daemon, ca.issue(), turn_config(signaling__require_known_room=False))
    port = d.tls_port
    status, text = curl(ca, port, "GET", "/")
    assert (status, text) == (200, requests.get(d.url + "/", timeout=5).text)
    status, text = curl(ca, port, "GET", "/health")
    assert status == 200 and json.loads(text)["status"] == "ok", text
    joinid = next_joinid()
    status, text = curl(ca, port, "POST", "/api/rooms", {"joinid": joinid, "client1": "dev-A", "expiresInSeconds": 60})
    assert status == 201 and json.loads(text)["ok"] is True, text
    status, text = curl(ca, port, "POST", "/api/rooms/accept", {"joinid": joinid, "client2": "dev-B"})
    assert status == 200, text
    roomid = json.loads(text)["roomid"]
    assert curl(ca, port, "POST", "/api/rooms/check", {"joinid": joinid, "client1": "dev-A"}) == \
        (200, json.dumps({"roomid": roomid}, separators=(",", ":")))
    status, text = curl(ca, port, "GET", f"/api/rooms?roomid={roomid}")
    assert status == 200 and json.loads(text)["roomid"] == roomid, text
    status, text = curl(ca, port, "POST", "/api/rooms/turn", {"roomid": roomid, "deviceId": "dev-A"})
    assert status == 200 and json.loads(text)["iceServers"], text
    status, text = curl(ca, port, "GET", "/rooms")
    assert (status, text) == (200, '{"rooms":[],"totalRooms":0}')
    status, text = curl(ca, port, "GET", "/metrics")
    assert status == 200 and "turnpike_tls_handshake_failures_total" in text
    status, text = curl(ca, port, "GET", "/admin/status")
    assert status == 200 and json.loads(text), text
    status, text = curl(ca, port, "GET", "/admin/rooms")
    assert status == 200, text
    status, text = curl(ca, port, "POST", "/admin/reload")
    assert status == 200, text
    status, text = curl(ca, port, "DELETE", "/api/rooms", {"roomid": roomid})
    assert status == 200, text
    status, text = curl(ca, port, "POST", "/api/user/purge", {"deviceId": "dev-A"})
    assert status == 200, text
    status, text = curl(ca, port, "GET", "/nothing-here")
    assert status == 404, text


def test_signaling_over_wss(start_daemon, ca):
    d = start_tls(start_daemon, ca.issue(), {"signaling.require_known_room": False})
    a, b = wss_pair(d, ca, "tls-room")
    a.send_json({"type": "webrtc_offer", "sdp": "offer-sdp"})
    assert b.recv_text() == dumps({"type": "webrtc_offer", "from": a.client_id, "roomId": "tls-room",
                                   "sdp": "offer-sdp"})
    b.send_json({"type": "webrtc_answer", "sdp": "answer-sdp"})
    assert a.recv_text() == dumps({"type": "webrtc_answer", "from": b.client_id, "roomId": "tls-room",
                                   "sdp": "answer-sdp"})
    a.ping(b"tls")
    a.close()
    assert b.recv_text() == '{"type":"peer_disconnected","message":"Other user disconnected"}'
    b.close()


# --- versions, ALPN, resumption --------------------------------------------------------------------------------------


def test_tls13_is_negotiated_by_default_with_alpn_http11(start_daemon, ca):
    d = start_tls(start_daemon, ca.issue())
    ctx = ca.client_context()
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", d.tls_port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() == "TLSv1.3"
            assert tls.selected_alpn_protocol() == "http/1.1"
    code, out = s_client(d.tls_port, "-alpn", "h2,http/1.1", "-CAfile", str(ca.cert_path))
    assert code == 0, out
    assert "New, TLSv1.3" in out and "ALPN protocol: http/1.1" in out, out
    assert "Verify return code: 0 (ok)" in out, out


@pytest.mark.parametrize("version_flag", ["-tls1", "-tls1_1"])
def test_tls_below_1_2_is_refused(start_daemon, ca, version_flag):
    d = start_tls(start_daemon, ca.issue())
    # SECLEVEL=0 lets this client offer the old version at all; the refusal must come from the server.
    code, out = s_client(d.tls_port, version_flag, "-cipher", "DEFAULT@SECLEVEL=0")
    assert code != 0, out
    # The client offered it, and the server answered with a protocol_version alert (number 70).
    assert "no protocols available" not in out, out
    assert "alert protocol version" in out and "SSL alert number 70" in out, out
    # The same client settings with TLS 1.2 do connect, so the refusal above is about the version.
    code, out = s_client(d.tls_port, "-tls1_2", "-cipher", "DEFAULT@SECLEVEL=0")
    assert code == 0 and "New, TLSv1.2" in out, out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # naming TLS 1.1 at all is deprecated in Python
        old = ca.client_context(minimum_version=ssl.TLSVersion.TLSv1_1, maximum_version=ssl.TLSVersion.TLSv1_1)
    old.set_ciphers("DEFAULT@SECLEVEL=0")
    with socket.create_connection(("127.0.0.1", d.tls_port), timeout=5) as raw:
        with pytest.raises(ssl.SSLError, match=r"(?i)version"):
            old.wrap_socket(raw, server_hostname="127.0.0.1")


def test_tls12_uses_forward_secret_aead_ciphers_only(start_daemon, ca):
    d = start_tls(start_daemon, ca.issue())
    code, out = s_client(d.tls_port, "-tls1_2", "-cipher", "AES256-SHA:AES128-SHA256")
    assert code != 0, out
    code, out = s_client(d.tls_port, "-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305")
    assert code == 0 and "Cipher is ECDHE-ECDSA-CHACHA20-POLY1305" in out, out


def test_tls12_session_resumption_with_openssl(start_daemon, ca, tmp_path):
    d = start_tls(start_daemon, ca.issue())
    session = tmp_path / "session.pem"
    code, out = s_client(d.tls_port, "-tls1_2", "-sess_out", str(session))
    assert code == 0 and "New, TLSv1.2" in out, out
    code, out = s_client(d.tls_port, "-tls1_2", "-sess_in", str(session))
    assert code == 0 and "Reused, TLSv1.2" in out, out


def test_tls13_session_resumption_with_python(start_daemon, ca):
    d = start_tls(start_daemon, ca.issue())
    ctx = ca.client_context()

    def get_health(session=None):
        with socket.create_connection(("127.0.0.1", d.tls_port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1", session=session) as tls:
                tls.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := tls.recv(4096):
                    data += chunk
                assert data.startswith(b"HTTP/1.1 200"), data
                return tls.session, tls.session_reused, tls.version()

    first, reused, version = get_health()
    assert (reused, version) == (False, "TLSv1.3")
    _, reused, _ = get_health(first)
    assert reused


# --- what is not TLS, stalls and limits ------------------------------------------------------------------------------


def test_plain_http_on_the_tls_port_is_closed_and_the_daemon_serves_on(start_daemon, ca):
    d = start_tls(start_daemon, ca.issue())
    before = metric(d, "turnpike_tls_handshake_failures_total")
    with socket.create_connection(("127.0.0.1", d.tls_port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert closed_within(s, 5)
    assert metric(d, "turnpike_tls_handshake_failures_total") == before + 1
    assert requests.get(d.url + "/health", timeout=5).status_code == 200
    assert curl(ca, d.tls_port, "GET", "/health")[0] == 200
    assert d.proc.poll() is None


@pytest.mark.parametrize("sent", ["nothing", "half_a_client_hello"])
def test_a_stalled_handshake_is_closed_at_the_request_timeout(start_daemon, ca, sent):
    d = start_tls(start_daemon, ca.issue(), {"server.request_timeout_seconds": 1,
                                             "server.idle_timeout_seconds": 120})
    hello = client_hello_bytes()
    with socket.create_connection(("127.0.0.1", d.tls_port), timeout=5) as s:
        if sent == "half_a_client_hello":
            s.sendall(hello[:len(hello) // 2])
        started = time.monotonic()
        # Only the 1 s request timeout can end it this soon (the idle timeout is 120 s).
        assert closed_within(s, 15)
        assert time.monotonic() - started >= 0.5
    assert metric(d, "turnpike_tls_handshake_failures_total") >= 1
    assert curl(ca, d.tls_port, "GET", "/health")[0] == 200


def test_tls_connections_count_against_the_connection_limits(start_daemon, ca):
    d = start_tls(start_daemon, ca.issue(), {"limits.max_connections_per_ip": 2})
    ctx = ca.client_context()
    held = []
    try:
        for _ in range(2):
            raw = socket.create_connection(("127.0.0.1", d.tls_port), timeout=5)
            held.append(ctx.wrap_socket(raw, server_hostname="127.0.0.1"))
        with socket.create_connection(("127.0.0.1", d.tls_port), timeout=5) as third:
            assert closed_within(third, 5)
        with socket.create_connection(("127.0.0.1", d.port), timeout=5) as plain:
            assert closed_within(plain, 5)
    finally:
        for tls in held:
            tls.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if requests.get(d.url + "/health", timeout=5).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    assert metric(d, "turnpike_connections_rejected_total") >= 2


# --- several addresses -----------------------------------------------------------------------------------------------


def ipv6_loopback_works():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_several_listen_and_tls_listen_addresses_all_serve(start_daemon, ca):
    hosts = ["127.0.0.1"] + (["[::1]"] if ipv6_loopback_works() else [])
    listen = ", ".join(f"{h}:0" for h in hosts)
    d = start_daemon(tls_settings(ca.issue(), **{"server.listen": listen, "server.tls_listen": listen}))
    lines = wait_for_log(d, r"event=listening address=(\S+)( tls=true)?", 2 * len(hosts))
    plain = [address for address, tls in lines if not tls]
    secure = [address for address, tls in lines if tls]
    assert len(plain) == len(hosts) and len(secure) == len(hosts), lines
    for address in plain:
        assert requests.get(f"http://{address}/health", timeout=5).status_code == 200, address
    for address in secure:
        result = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", str(ca.cert_path), "-o", "/dev/null",
                                 "-w", "%{http_code}", f"https://{address}/health"],
                                capture_output=True, text=True, timeout=20)
        assert result.stdout == "200", (address, result.stderr)


# --- renewal ---------------------------------------------------------------------------------------------------------


def install(certificate, cert_path, key_path):
    """Put a certificate and key where the config points, as a renewal tool would (new file, renamed over)."""
    for source, target in ((certificate.cert_path, cert_path), (certificate.key_path, key_path)):
        temporary = target.with_suffix(".new")
        temporary.write_bytes(source.read_bytes())
        os.replace(temporary, target)


def live_paths(tmp_path, certificate):
    cert_path, key_path = tmp_path / "live-cert.pem", tmp_path / "live-key.pem"
    install(certificate, cert_path, key_path)
    return cert_path, key_path


def test_a_renewed_certificate_serves_new_connections_and_live_ones_stay(start_daemon, ca, tmp_path):
    first = ca.issue("first")
    cert_path, key_path = live_paths(tmp_path, first)
    d = start_daemon({"server.listen": "127.0.0.1:0", "server.tls_listen": "127.0.0.1:0",
                      "server.tls_certificate": str(cert_path), "server.tls_private_key": str(key_path),
                      "signaling.require_known_room": False})
    d.tls_port = tls_ports(d)[0]
    assert served_serial(ca, d.tls_port) == first.serial
    a, b = wss_pair(d, ca, "renewal")

    second = ca.issue("second")
    assert second.serial != first.serial
    install(second, cert_path, key_path)
    d.reload()
    wait_for_log(d, r"event=tls_certificate_loaded ", 2)
    assert served_serial(ca, d.tls_port) == second.serial
    # The WebSockets opened on the first certificate still relay, both ways.
    a.send_json({"type": "webrtc_offer", "sdp": "after-renewal"})
    assert b.recv_text() == dumps({"type": "webrtc_offer", "from": a.client_id, "roomId": "renewal",
                                   "sdp": "after-renewal"})
    candidate = {"candidate": "candidate:1 1 udp 1 192.0.2.1 5000 typ host", "sdpMLineIndex": 0, "sdpMid": "0"}
    b.send_json({"type": "ice_candidate", "candidate": candidate})
    assert a.recv_text() == dumps({"type": "ice_candidate", "from": b.client_id, "roomId": "renewal",
                                   "candidate": candidate})

    # POST /admin/reload goes the same way.
    third = ca.issue("third")
    install(third, cert_path, key_path)
    r = requests.post(d.url + "/admin/reload", timeout=5)
    assert r.status_code == 200, r.text
    assert served_serial(ca, d.tls_port) == third.serial
    a.assert_alive()
    b.assert_alive()
    a.close()
    b.close()


@pytest.mark.parametrize("bad", ["mismatched_key", "garbage_certificate", "expired_certificate"])
def test_a_bad_renewal_keeps_the_old_certificate(start_daemon, ca, tmp_path, bad):
    first = ca.issue("first")
    cert_path, key_path = live_paths(tmp_path, first)
    d = start_daemon({"server.listen": "127.0.0.1:0", "server.tls_listen": "127.0.0.1:0",
                      "server.tls_certificate": str(cert_path), "server.tls_private_key": str(key_path)})
    d.tls_port = tls_ports(d)[0]
    other = ca.issue("other")
    if bad == "mismatched_key":
        cert_path.write_bytes(other.cert_path.read_bytes())  # the new certificate, but the old key
        reason = f"{key_path}: private key does not match the certificate"
    elif bad == "garbage_certificate":
        cert_path.write_text("not a certificate\n")
        reason = f"{cert_path}: no PEM certificate found"
    else:
        expired = ca.issue("expired", start="20200101000000Z", end="20200102000000Z")
        install(expired, cert_path, key_path)
        reason = f"{cert_path}: certificate expired on Jan  2 00:00:00 2020 GMT"
    d.reload()
    refused = wait_for_log(d, r"event=tls_certificate_refused reason=\"?([^\n]*)")
    assert reason in refused[0], refused
    wait_for_log(d, r"event=config_reload_failed ")
    assert served_serial(ca, d.tls_port) == first.serial
    r = requests.post(d.url + "/admin/reload", timeout=5)
    assert r.status_code != 200 and reason in r.text, (r.status_code, r.text)
    assert served_serial(ca, d.tls_port) == first.serial
    assert len(re.findall(r"event=tls_certificate_loaded ", d.log())) == 1


# --- startup and --check-config --------------------------------------------------------------------------------------


def bad_files(ca, tmp_path, kind):
    """(certificate path, key path, expected message) for a kind of broken certificate setup."""
    good = ca.issue("good")
    if kind == "expired":
        expired = ca.issue("expired", start="20200101000000Z", end="20200102000000Z")
        return expired.cert_path, expired.key_path, \
            f"{expired.cert_path}: certificate expired on Jan  2 00:00:00 2020 GMT"
    if kind == "not_yet_valid":
        future = ca.issue("future", start="20990101000000Z", end="20990102000000Z")
        return future.cert_path, future.key_path, \
            f"{future.cert_path}: certificate is not valid before Jan  1 00:00:00 2099 GMT"
    if kind == "mismatched":
        other = ca.issue("other")
        return good.cert_path, other.key_path, \
            f"{other.key_path}: private key does not match the certificate {good.cert_path}"
    if kind == "missing_certificate":
        missing = tmp_path / "missing.pem"
        return missing, good.key_path, f"{missing}: cannot open: No such file or directory"
    if kind == "missing_key":
        missing = tmp_path / "missing.key"
        return good.cert_path, missing, f"{missing}: cannot open: No such file or directory"
    if kind == "directory":
        return tmp_path, good.key_path, f"{tmp_path}: "
    if kind == "garbage_key":
        garbage = tmp_path / "garbage.key"
        garbage.write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
        return good.cert_path, garbage, f"{garbage}: no unencrypted PEM private key found"
    raise ValueError(kind)


BAD_KINDS = ["expired", "not_yet_valid", "mismatched", "missing_certificate", "missing_key", "directory",
             "garbage_key"]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_certificate_files_fail_startup_and_check_config(ca, tmp_path, kind):
    cert_path, key_path, message = bad_files(ca, tmp_path, kind)
    config = tmp_path / "turnpike.conf"
    config.write_text("[server]\nlisten = 127.0.0.1:0\ntls_listen = 127.0.0.1:0\n"
                      f"tls_certificate = {cert_path}\ntls_private_key = {key_path}\n"
                      f"[database]\npath = {tmp_path / 'db.sqlite'}\n[admin]\nsocket =\n")
    check = subprocess.run([TURNPIKED, "--config", str(config), "--check-config"], capture_output=True, text=True,
                           timeout=20)
    assert check.returncode == 2, (check.returncode, check.stdout, check.stderr)
    assert message in check.stderr, check.stderr
    allow_root = ["--allow-root"] if os.geteuid() == 0 else []
    run = subprocess.run([TURNPIKED, "--config", str(config), *allow_root], capture_output=True, text=True,
                         timeout=20)
    assert run.returncode != 0, run.stderr
    assert message in run.stderr, run.stderr
    assert "event=listening" not in run.stderr


def test_check_config_accepts_good_certificate_files(ca, tmp_path):
    good = ca.issue()
    config = tmp_path / "turnpike.conf"
    config.write_text("[server]\ntls_listen = 127.0.0.1:8443\n"
                      f"tls_certificate = {good.cert_path}\ntls_private_key = {good.key_path}\n")
    check = subprocess.run([TURNPIKED, "--config", str(config), "--check-config"], capture_output=True, text=True,
                           timeout=20)
    assert (check.returncode, check.stdout) == (0, "config ok\n"), check.stderr


def test_tls_listen_without_certificate_is_a_config_error(tmp_path):
    config = tmp_path / "turnpike.conf"
    config.write_text("[server]\ntls_listen = 127.0.0.1:8443\n")
    check = subprocess.run([TURNPIKED, "--config", str(config), "--check-config"], capture_output=True, text=True,
                           timeout=20)
    assert check.returncode == 2
    assert f"{config}:2: server.tls_listen is set, so server.tls_certificate and server.tls_private_key must be " \
           "set too" in check.stderr, check.stderr
