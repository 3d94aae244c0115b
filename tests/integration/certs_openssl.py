# Test certificates made with the openssl CLI: a throwaway CA and server certificates it signs, laid out like a
# certbot lineage (live/<name>/fullchain.pem and privkey.pem as symlinks into archive/<name>/).
import shutil
import subprocess
from pathlib import Path

OPENSSL = shutil.which("openssl")


def openssl(*args, cwd=None):
    out = subprocess.run([OPENSSL, *args], capture_output=True, text=True, timeout=60, cwd=cwd)
    assert out.returncode == 0, f"openssl {' '.join(args)}: {out.stderr}"
    return out.stdout


class TestCa:
    """A self-signed CA in `directory` (ca.pem, ca.key) that issues leaf certificates for 127.0.0.1/localhost."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory, name="turnpike test CA"):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cert = self.dir / "ca.pem"
        self.key = self.dir / "ca.key"
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", str(self.key), "-out", str(self.cert), "-days", "2", "-subj", f"/CN={name}",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
        self.issued = 0

    def issue(self, common_name):
        """(fullchain.pem, privkey.pem) paths of a new leaf certificate for 127.0.0.1 and localhost."""
        self.issued += 1
        base = self.dir / f"leaf{self.issued}"
        key, csr, cert = base.with_suffix(".key"), base.with_suffix(".csr"), base.with_suffix(".pem")
        ext = base.with_suffix(".ext")
        ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
                       "basicConstraints=CA:FALSE\n")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key),
                "-out", str(csr), "-subj", f"/CN={common_name}")
        openssl("x509", "-req", "-in", str(csr), "-CA", str(self.cert), "-CAkey", str(self.key),
                "-set_serial", str(1000 + self.issued), "-days", "2", "-extfile", str(ext), "-out", str(cert))
        chain = base.with_suffix(".chain.pem")
        chain.write_text(cert.read_text() + self.cert.read_text())
        return chain, key


def certbot_lineage(root, name, chain, key, version):
    """Writes root/archive/<name>/{fullchain,privkey}<version>.pem and points root/live/<name>/*.pem at them, as
    certbot does (it keeps both directories 0700); returns the live directory (certbot's RENEWED_LINEAGE)."""
    archive = Path(root) / "archive" / name
    live = Path(root) / "live" / name
    archive.mkdir(parents=True, exist_ok=True, mode=0o700)
    live.mkdir(parents=True, exist_ok=True, mode=0o700)
    for kind, source in (("fullchain", chain), ("privkey", key)):
        target = archive / f"{kind}{version}.pem"
        target.write_bytes(Path(source).read_bytes())
        target.chmod(0o600 if kind == "privkey" else 0o644)
        link = live / f"{kind}.pem"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(Path("..") / ".." / "archive" / name / target.name)
    return live


def subject_cn(pem_text):
    """The CN of the first certificate in PEM text."""
    out = subprocess.run([OPENSSL, "x509", "-noout", "-subject", "-nameopt", "multiline"], input=pem_text,
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    for line in out.stdout.splitlines():
        if line.strip().startswith("commonName"):
            return line.split("=", 1)[1].strip()
    raise AssertionError(f"no CN in {out.stdout}")
