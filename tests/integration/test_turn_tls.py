# TURN over TLS (turns:) and DTLS with the certificate named by turn.cert/turn.pkey, against the real coturn.
"""turnpiked runs with `turn.urls = turns:127.0.0.1:<tls port>?transport=tcp` and turn.cert/turn.pkey pointing at
files that packaging/certbot-deploy-hook installed from a certbot-style lineage (made with the openssl CLI, signed
by a throwaway CA). coturn runs on the turnserver.conf that `turnpikectl coturn-config` renders from the same
turnpike.conf (cert, pkey, tls-listening-port), on the same database.

- coturn's own client, `turnutils_uclient -S` (TLS over TCP with -t, DTLS without), verifying the server against
  the test CA (-E), relays through coturn with the per-room credentials from POST /api/rooms/turn; a wrong
  password is refused (401 over TLS).
- A renewal through the deploy hook reaches the running coturn: the hook replaces the files and signals coturn
  (SIGUSR2, what `systemctl kill --signal=SIGUSR2 turnpike-coturn.service` does); new TLS connections get the new
  certificate while a relay that was running keeps relaying.
"""
import socket
import ssl
import time

import pytest

import turnutil
from certs_openssl import OPENSSL, TestCa, certbot_lineage, subject_cn
from hookutil import HookRunner
from turnutil import LOOPBACK, TurnClient, coturn_available

pytestmark = [
    pytest.mark.skipif(not coturn_available(), reason="coturn is not installed"),
    pytest.mark.skipif(OPENSSL is None, reason="the openssl CLI is not installed"),
]

LINEAGE = "turn.test"


class TlsStack:
    """A turn_stack whose coturn serves TLS/DTLS on `tls_port` with a certificate installed by the deploy hook."""

    def __init__(self, turn_stack, tmp_path, mode):
        self.ca = TestCa(tmp_path / "ca")
        self.letsencrypt = tmp_path / "letsencrypt"
        self.tls_dir = tmp_path / "etc-turnpike-tls"
        self.hook = HookRunner(tmp_path / "hook")
        self.lineage = self.renew("turn-first", version=1, coturn_pid=None)
        self.tls_port = turnutil.free_port()  # TLS on TCP and DTLS on UDP
        self.url = f"turns:{LOOPBACK}:{self.tls_port}?transport=tcp"
        self.stack = turn_stack(mode, {
            "turn.urls": self.url,
            "turn.tls_listening_port": self.tls_port,
            "turn.cert": str(self.tls_dir / "fullchain.pem"),
            "turn.pkey": str(self.tls_dir / "privkey.pem"),
        })

    def renew(self, common_name, version, coturn_pid):
        """certbot issues (or renews) the lineage and runs the deploy hook; turnpike-coturn counts as active when
        a coturn pid is given, so the hook signals that process."""
        lineage = certbot_lineage(self.letsencrypt, LINEAGE, *self.ca.issue(common_name), version=version)
        active = ("turnpike-coturn.service",) if coturn_pid else ()
        out = self.hook.run(lineage, self.tls_dir, active=active, coturn_pid=coturn_pid)
        assert out.returncode == 0, out.stderr
        return lineage

    def client_context(self):
        ctx = ssl.create_default_context(cafile=str(self.ca.cert))
        ctx.check_hostname = True
        return ctx

    def served_certificate_cn(self):
        """CN of the certificate a new TLS connection to coturn gets, verified against the test CA."""
        with socket.create_connection((LOOPBACK, self.tls_port), timeout=5) as raw:
            with self.client_context().wrap_socket(raw, server_hostname="localhost") as tls:
                return subject_cn(ssl.DER_cert_to_PEM_cert(tls.getpeercert(binary_form=True)))

    def tls_allocate(self, username, password):
        """One authenticated Allocate over TLS (turnutil's TURN client on a verified TLS socket)."""
        client = TurnClient(self.tls_port, transport="tcp", timeout=5)
        try:
            client.sock = self.client_context().wrap_socket(client.sock, server_hostname="localhost")
            return client.allocate(username, password)
        finally:
            client.close()

    def uclient(self, creds, peer, dtls=False, messages=20, name="uclient-tls", password=None):
        u = turnutil.Uclient(self.stack.workdir, self.tls_port, creds.username, password or creds.credential,
                             peer.port, messages=messages, tcp=not dtls, name=name,
                             extra=["-S", "-E", str(self.ca.cert)])
        self.stack.processes.append(u)
        return u


@pytest.fixture(params=["long-term", "rest"])
def tls_stack(request, turn_stack, tmp_path):
    return TlsStack(turn_stack, tmp_path, request.param)


def test_turns_url_relays_over_tls_and_dtls_with_room_credentials(tls_stack):
    stack = tls_stack.stack
    rendered = stack.conf_path.read_text().splitlines()
    for line in (f"tls-listening-port={tls_stack.tls_port}", f"cert={tls_stack.tls_dir / 'fullchain.pem'}",
                 f"pkey={tls_stack.tls_dir / 'privkey.pem'}"):
        assert line in rendered, f"{line} not in the rendered turnserver.conf:\n{stack.conf_path.read_text()}"
    assert "no-tls" not in rendered and "no-dtls" not in rendered

    room = stack.room()
    creds = stack.credentials(room)
    assert creds.body["iceServers"] == [{"urls": [turns_url := tls_stack.url], "username": creds.username,
                                         "credential": creds.credential}], creds.body
    assert turns_url.startswith("turns:")
    assert tls_stack.served_certificate_cn() == "turn-first"

    peer = stack.peer()
    for dtls in (False, True):
        uc = tls_stack.uclient(creds, peer, dtls=dtls, name=f"uclient-{'dtls' if dtls else 'tls'}")
        assert uc.wait(timeout=30) == 0, uc.output()[-3000:]
        assert uc.progress() and uc.progress()[-1][1:] == (20, 20), uc.output()[-3000:]
    assert tls_stack.tls_allocate(creds.username, creds.credential).ok


def test_wrong_credentials_are_refused_over_tls(tls_stack):
    stack = tls_stack.stack
    room = stack.room()
    creds = stack.credentials(room)
    wrong = ("0" * 32) if stack.mode == "long-term" else "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
    refused = tls_stack.tls_allocate(creds.username, wrong)
    assert not refused.ok and refused.code == 401, refused
    other_room = stack.credentials(stack.room())
    refused = tls_stack.tls_allocate(creds.username, other_room.credential)
    assert not refused.ok and refused.code == 401, refused

    peer = stack.peer()
    uc = tls_stack.uclient(creds, peer, password=wrong, name="uclient-tls-wrong")
    code = uc.wait(timeout=30)
    output = uc.output()
    # The TLS session comes up (the certificate verifies against the CA), then coturn refuses the allocation.
    assert "tls_connect: client session connected" in output, output[-3000:]
    assert "Cannot complete Allocation" in output and code != 0, f"exit {code}:\n{output[-3000:]}"
    assert not uc.progress(), f"relayed with a wrong password:\n{output[-3000:]}"
    # The right password on the same TLS listener still works.
    assert tls_stack.tls_allocate(creds.username, creds.credential).ok


def test_a_certbot_renewal_reaches_the_running_coturn_and_keeps_its_relays(tls_stack):
    stack = tls_stack.stack
    creds = stack.credentials(stack.room())
    peer = stack.peer()
    live = tls_stack.uclient(creds, peer, messages=900, name="uclient-tls-live")
    live.wait_receiving(at_least=25, timeout=20)
    assert tls_stack.served_certificate_cn() == "turn-first"

    tls_stack.renew("turn-renewed", version=2, coturn_pid=stack.coturn.proc.pid)
    renewed_at = time.monotonic()
    deadline = renewed_at + 10
    while tls_stack.served_certificate_cn() != "turn-renewed":
        assert time.monotonic() < deadline, "coturn still serves the old certificate 10 s after SIGUSR2"
        time.sleep(0.2)
    assert "Reloading TLS certificates and keys" in stack.coturn.current_log()
    assert stack.coturn.alive()

    # The relay that was running before the renewal keeps relaying after it (no restart, no dropped allocation).
    _, received_before = live.counts_at(renewed_at)
    deadline = time.monotonic() + 10
    while live.progress()[-1][2] < received_before + 50:
        assert time.monotonic() < deadline, f"the live relay stopped after the renewal:\n{live.output()[-3000:]}"
        assert live.proc.poll() is None, live.output()[-3000:]
        time.sleep(0.2)
    # New TLS allocations work with the renewed certificate.
    assert tls_stack.tls_allocate(creds.username, creds.credential).ok
    live.stop()
