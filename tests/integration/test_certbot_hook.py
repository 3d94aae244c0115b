# packaging/certbot-deploy-hook: copies certbot's files into the services' TLS directory and makes them reload.
"""The hook runs as certbot runs it (RENEWED_LINEAGE = a live/<name> directory of symlinks into archive/, made with
the openssl CLI) with a recording `systemctl` first on PATH (hookutil.py), because systemd is not running here.
The hook's end-to-end effect on a real coturn (SIGUSR2, new certificate served, relays kept) is tested in
test_turn_tls.py; the packaged path on a booted system in tests/packaging/nspawn_test.sh."""
import os
import stat

import pytest

from certs_openssl import OPENSSL, TestCa, certbot_lineage
from hookutil import HookRunner

pytestmark = [
    pytest.mark.skipif(OPENSSL is None, reason="the openssl CLI is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="the hook gives the files to root:<group>, which needs root"),
]

BOTH = ("turnpike.service", "turnpike-coturn.service")


@pytest.fixture
def setup(tmp_path):
    ca = TestCa(tmp_path / "ca")
    letsencrypt = tmp_path / "letsencrypt"
    tls_dir = tmp_path / "etc-turnpike" / "tls"
    return ca, letsencrypt, tls_dir, HookRunner(tmp_path)


def assert_installed(tls_dir, lineage, group):
    st = os.stat(tls_dir)
    assert stat.S_IMODE(st.st_mode) == 0o750 and (st.st_uid, st.st_gid) == (0, group.gr_gid), oct(st.st_mode)
    for name in ("fullchain.pem", "privkey.pem"):
        path = tls_dir / name
        st = os.lstat(path)
        assert stat.S_ISREG(st.st_mode), f"{name} is not a regular file (a copy, not certbot's symlink)"
        assert stat.S_IMODE(st.st_mode) == 0o640, f"{name}: {oct(st.st_mode)}"
        assert (st.st_uid, st.st_gid) == (0, group.gr_gid), f"{name}: {st.st_uid}:{st.st_gid}"
        assert path.read_bytes() == (lineage / name).read_bytes(), name
    leftovers = sorted(p.name for p in tls_dir.iterdir() if p.name not in ("fullchain.pem", "privkey.pem"))
    assert leftovers == [], leftovers


def test_first_issue_installs_the_files_and_reloads_both_services(setup):
    ca, letsencrypt, tls_dir, hook = setup
    lineage = certbot_lineage(letsencrypt, "turn.example.org", *ca.issue("first"), version=1)
    out = hook.run(lineage, tls_dir, active=BOTH)
    assert out.returncode == 0, out.stderr
    assert_installed(tls_dir, lineage, hook.group)
    assert hook.calls() == [
        "is-active --quiet turnpike.service",
        "reload turnpike.service",
        "is-active --quiet turnpike-coturn.service",
        "kill --signal=SIGUSR2 --kill-who=main turnpike-coturn.service",
    ]


def test_renewal_replaces_the_files_by_rename(setup):
    ca, letsencrypt, tls_dir, hook = setup
    lineage = certbot_lineage(letsencrypt, "turn.example.org", *ca.issue("first"), version=1)
    assert hook.run(lineage, tls_dir, active=BOTH).returncode == 0
    before = {n: os.stat(tls_dir / n).st_ino for n in ("fullchain.pem", "privkey.pem")}
    old_chain = (tls_dir / "fullchain.pem").read_bytes()
    # A reader that opened the old file keeps reading the old content after the renewal.
    with open(tls_dir / "fullchain.pem", "rb") as still_open:
        certbot_lineage(letsencrypt, "turn.example.org", *ca.issue("renewed"), version=2)
        out = hook.run(lineage, tls_dir, active=BOTH)
        assert out.returncode == 0, out.stderr
        assert still_open.read() == old_chain
    assert_installed(tls_dir, lineage, hook.group)
    assert (tls_dir / "fullchain.pem").read_bytes() != old_chain
    after = {n: os.stat(tls_dir / n).st_ino for n in ("fullchain.pem", "privkey.pem")}
    assert all(before[n] != after[n] for n in before), (before, after)


def test_inactive_services_are_left_alone(setup):
    ca, letsencrypt, tls_dir, hook = setup
    lineage = certbot_lineage(letsencrypt, "turn.example.org", *ca.issue("first"), version=1)
    out = hook.run(lineage, tls_dir, active=())
    assert out.returncode == 0, out.stderr
    assert_installed(tls_dir, lineage, hook.group)
    assert hook.calls() == ["is-active --quiet turnpike.service", "is-active --quiet turnpike-coturn.service"]
    out = hook.run(lineage, tls_dir, active=("turnpike-coturn.service",))
    assert out.returncode == 0, out.stderr
    assert hook.calls() == ["is-active --quiet turnpike.service", "is-active --quiet turnpike-coturn.service",
                            "kill --signal=SIGUSR2 --kill-who=main turnpike-coturn.service"]


def test_a_failed_reload_fails_the_hook_but_coturn_still_gets_the_signal(setup):
    ca, letsencrypt, tls_dir, hook = setup
    lineage = certbot_lineage(letsencrypt, "turn.example.org", *ca.issue("first"), version=1)
    out = hook.run(lineage, tls_dir, active=BOTH, reload_status=1)
    assert out.returncode == 1
    assert "reload turnpike.service failed" in out.stderr
    assert "kill --signal=SIGUSR2 --kill-who=main turnpike-coturn.service" in hook.calls()
    assert_installed(tls_dir, lineage, hook.group)


def test_a_key_that_does_not_match_the_certificate_replaces_nothing(setup):
    ca, letsencrypt, tls_dir, hook = setup
    good = certbot_lineage(letsencrypt, "turn.example.org", *ca.issue("first"), version=1)
    assert hook.run(good, tls_dir, active=BOTH).returncode == 0
    installed = {n: (tls_dir / n).read_bytes() for n in ("fullchain.pem", "privkey.pem")}
    chain2, _ = ca.issue("second")
    _, key3 = ca.issue("third")
    bad = certbot_lineage(letsencrypt, "turn.example.org", chain2, key3, version=2)
    out = hook.run(bad, tls_dir, active=BOTH)
    assert out.returncode == 1
    assert "does not belong to" in out.stderr, out.stderr
    assert {n: (tls_dir / n).read_bytes() for n in installed} == installed
    assert hook.calls() == [], "nothing may be reloaded after a refused certificate"


@pytest.mark.parametrize("case", ["no RENEWED_LINEAGE", "missing privkey.pem", "not PEM"])
def test_bad_input_is_refused_with_a_reason(setup, case):
    ca, letsencrypt, tls_dir, hook = setup
    lineage = certbot_lineage(letsencrypt, "turn.example.org", *ca.issue("first"), version=1)
    if case == "no RENEWED_LINEAGE":
        out, reason = hook.run(None, tls_dir, active=BOTH), "RENEWED_LINEAGE is not set"
    elif case == "missing privkey.pem":
        (lineage / "privkey.pem").unlink()
        out, reason = hook.run(lineage, tls_dir, active=BOTH), "privkey.pem is missing or unreadable"
    else:
        (lineage / "fullchain.pem").unlink()
        (lineage / "fullchain.pem").write_text("not a certificate\n")
        out, reason = hook.run(lineage, tls_dir, active=BOTH), "fullchain.pem is not a PEM file"
    assert out.returncode == 1
    assert reason in out.stderr, out.stderr
    assert not tls_dir.exists()
    assert hook.calls() == []


def test_an_unknown_group_is_refused(setup):
    ca, letsencrypt, tls_dir, hook = setup
    lineage = certbot_lineage(letsencrypt, "turn.example.org", *ca.issue("first"), version=1)
    out = hook.run(lineage, tls_dir, active=BOTH, extra_env={"TURNPIKE_TLS_GROUP": "no-such-group-turnpike"})
    assert out.returncode == 1
    assert "group no-such-group-turnpike does not exist" in out.stderr
    assert not tls_dir.exists()
