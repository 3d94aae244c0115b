# A throwaway certificate authority for the TLS tests, made with the openssl command line in a temp dir.
"""`TestCa` makes a CA and server certificates (EC P-256, SAN 127.0.0.1, ::1 and localhost) with `openssl req` and
`openssl ca`, which can also back-date a certificate so that it has already expired. Nothing here is committed:
every key is generated when a test runs."""
import os
import re
import socket
import ssl
import subprocess
import time
from pathlib import Path

CA_CONFIG = """\
[ca]
default_ca = test_ca

[test_ca]
dir = {dir}
database = {dir}/index.txt
serial = {dir}/serial
new_certs_dir = {dir}/issued
certificate = {dir}/ca.pem
private_key = {dir}/ca.key
default_md = sha256
policy = any_name
unique_subject = no
email_in_dn = no
copy_extensions = none
x509_extensions = server_cert

[any_name]
commonName = supplied

[server_cert]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,IP:::1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def openssl(*args, input=None):
    result = subprocess.run(["openssl", *args], input=input, capture_output=True, timeout=30)
    assert result.returncode == 0, f"openssl {' '.join(args)} failed:\n{result.stderr.decode(errors='replace')}"
    return result.stdout.decode(errors="replace")


class ServerCertificate:
    def __init__(self, cert_path, key_path):
        self.cert_path = Path(cert_path)
        self.key_path = Path(key_path)
        self.serial = openssl("x509", "-in", str(cert_path), "-noout", "-serial").strip().split("=", 1)[1].upper()


class TestCa:
    __test__ = False  # not a pytest test class

    def __init__(self, workdir):
        self.dir = Path(workdir)
        (self.dir / "issued").mkdir(parents=True, exist_ok=True)
        (self.dir / "index.txt").write_text("")
        (self.dir / "serial").write_text(os.urandom(8).hex().upper() + "\n")  # openssl ca counts up from here
        self.config = self.dir / "ca.cnf"
        self.config.write_text(CA_CONFIG.format(dir=self.dir))
        self.cert_path = self.dir / "ca.pem"
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", str(self.dir / "ca.key"), "-out", str(self.cert_path), "-days", "2",
                "-subj", "/CN=turnpike test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self.count = 0

    def issue(self, name="server", start=None, end=None):
        """A server certificate and key in <dir>/<name>.pem and <name>.key; the certificate file holds the full
        chain (server, then CA). `start`/`end` are openssl dates (YYYYMMDDHHMMSSZ); default: valid now for 1 day."""
        self.count += 1
        key = self.dir / f"{name}.key"
        csr = self.dir / f"{name}.csr"
        leaf = self.dir / f"{name}.leaf.pem"
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", str(key), "-out", str(csr), "-subj", f"/CN=localhost {name} {self.count}")
        dates = ["-startdate", start, "-enddate", end] if start else ["-days", "1"]
        openssl("ca", "-batch", "-config", str(self.config), "-in", str(csr), "-out", str(leaf), "-notext", *dates)
        chain = self.dir / f"{name}.pem"
        chain.write_text(leaf.read_text() + self.cert_path.read_text())
        return ServerCertificate(chain, key)

    def client_context(self, **versions):
        """An ssl client context that trusts only this CA; `minimum_version`/`maximum_version` may be given."""
        ctx = ssl.create_default_context(cafile=str(self.cert_path))
        for attr, value in versions.items():
            setattr(ctx, attr, value)
        return ctx


def tls_ports(daemon, timeout=10):
    """The ports of the daemon's `listening ... tls=true` lines (they follow the plain ones)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ports = [int(p) for p in re.findall(r"event=listening address=[^ ]*:(\d+) tls=true", daemon.log())]
        if ports:
            return ports
        time.sleep(0.02)
    raise AssertionError(f"no TLS listening line:\n{daemon.log()}")


def served_serial(ca, port, host="127.0.0.1"):
    """The serial number of the certificate a new TLS connection is given (verified against the test CA)."""
    with socket.create_connection((host, port), timeout=5) as raw:
        with ca.client_context().wrap_socket(raw, server_hostname=host) as tls:
            return tls.getpeercert()["serialNumber"].upper()
