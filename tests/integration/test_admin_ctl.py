"""turnpikectl against the admin unix socket of a running turnpiked, plus the command-line rules the packaged
service relies on (refusing root, --migrate-only)."""
import json
import os
import sqlite3
import subprocess
import tempfile

import pytest
import requests

from conftest import TURNPIKECTL, TURNPIKED


@pytest.fixture
def admin(start_daemon):
    """A daemon with its admin socket in a short temp dir; yields (daemon, ctl) where ctl(*args) runs turnpikectl."""
    with tempfile.TemporaryDirectory(prefix="tp-") as short:
        sock = os.path.join(short, "admin.sock")
        d = start_daemon({"admin.socket": sock, "signaling.require_known_room": False})

        def ctl(*args, timeout=10):
            return subprocess.run([TURNPIKECTL, "--config", str(d.config_path), *args], capture_output=True,
                                  text=True, timeout=timeout)

        yield d, ctl


def pair(d, joinid="123456", client1="dev-a", client2="dev-b"):
    r = requests.post(d.url + "/api/rooms", json={"joinid": joinid, "client1": client1, "expiresInSeconds": 60})
    assert r.status_code == 201, r.text
    r = requests.post(d.url + "/api/rooms/accept", json={"joinid": joinid, "client2": client2})
    assert r.status_code == 200, r.text
    return r.json()["roomid"]


def test_socket_is_group_writable_only(admin):
    d, _ = admin
    mode = os.stat(d.settings["admin.socket"]).st_mode & 0o777
    assert mode == 0o660, oct(mode)


def test_status_human_and_json(admin):
    d, ctl = admin
    pair(d)
    out = ctl("status")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("turnpiked ") and ": ok, up " in out.stdout, out.stdout
    assert "rooms        1 " in out.stdout, out.stdout
    out = ctl("--json", "status")
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    assert list(status) == ["status", "version", "uptimeSeconds", "connections", "websockets", "rooms", "pendings",
                            "signalingRooms", "turn", "config"]
    assert status["rooms"] == 1 and status["pendings"] == 1 and status["turn"]["enabled"] is False


def test_rooms_lists_pairing_rooms(admin):
    d, ctl = admin
    assert ctl("rooms").stdout == "no rooms\n"
    roomid = pair(d)
    out = ctl("rooms")
    assert out.returncode == 0 and roomid in out.stdout and "dev-a" in out.stdout and "dev-b" in out.stdout
    rooms = json.loads(ctl("--json", "rooms").stdout)["rooms"]
    assert [r["roomid"] for r in rooms] == [roomid]
    assert rooms[0]["client1"] == "dev-a" and rooms[0]["client2"] == "dev-b" and rooms[0]["members"] == 0


def test_rooms_escapes_what_a_terminal_would_act_on(admin):
    """Device ids are client-supplied: a bidi override or a C1 CSI (both valid UTF-8, so the API takes them) and
    an ESC written into the database by hand are shown as escapes, never sent to the terminal raw."""
    d, ctl = admin
    roomid = pair(d, client1="abc\u202efdp.exe\u009b2J", client2="dev-b")
    with sqlite3.connect(d.db_path) as db:
        db.execute("UPDATE rooms SET client2 = ? WHERE roomid = ?", ("esc\x1b[31mred", roomid))
    out = ctl("rooms")
    assert out.returncode == 0, out.stderr
    raw = out.stdout.encode()
    for sequence in ("\u202e".encode(), "\u009b".encode(), b"\x1b"):
        assert sequence not in raw, out.stdout
    assert "abc\\u{202e}fdp.exe\\u{009b}2J" in out.stdout and "esc\\x1b[31mred" in out.stdout, out.stdout
    # --json output is JSON: its encoder escapes control characters itself
    rooms = json.loads(ctl("--json", "rooms").stdout)["rooms"]
    assert rooms[0]["client1"] == "abc\u202efdp.exe\u009b2J" and rooms[0]["client2"] == "esc\x1b[31mred"


def test_room_delete_and_purge(admin):
    d, ctl = admin
    first = pair(d, "111111", "a1", "b1")
    pair(d, "222222", "a2", "b2")
    out = ctl("room", "delete", first)
    assert out.returncode == 0 and out.stdout == f"room {first} deleted\n", out
    assert requests.get(d.url + "/api/rooms", params={"roomid": first}).status_code == 404
    out = ctl("purge", "a2", "nobody")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "purged 1 rooms and 1 pending join codes of 2 device ids\n"
    assert json.loads(ctl("--json", "status").stdout)["rooms"] == 0


def test_reload_reports_changes_and_refuses_a_broken_file(admin):
    d, ctl = admin
    d.write_config({**d.settings, "limits.max_body_bytes": 1000})
    out = ctl("reload")
    assert out.returncode == 0 and out.stdout == "reloaded; changed: limits.max_body_bytes\n", out
    d.write_config({**d.settings, "limits.max_bodybytes": 1000})
    out = ctl("reload")
    assert out.returncode == 2, out
    assert "invalid_config" in out.stderr and "unknown key limits.max_bodybytes" in out.stderr
    # The running config is unchanged: the lowered body limit from the first reload still holds.
    r = requests.post(d.url + "/api/rooms", data="x" * 2000)
    assert r.status_code == 413


def test_not_running_and_usage_exit_codes(tmp_path):
    conf = tmp_path / "t.conf"
    conf.write_text(f"[admin]\nsocket = {tmp_path}/none.sock\n")
    out = subprocess.run([TURNPIKECTL, "--config", str(conf), "status"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 69, out
    assert "turnpiked is not running" in out.stderr
    out = subprocess.run([TURNPIKECTL, "frobnicate"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 64 and "usage:" in out.stderr


def test_permission_denied_is_explained(admin):
    d, _ = admin
    out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", TURNPIKECTL, "--socket",
                          d.settings["admin.socket"], "status"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 77, out
    assert "permission denied" in out.stderr and "group turnpike" in out.stderr


def test_root_is_refused_without_allow_root(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to show the refusal")
    conf = tmp_path / "t.conf"
    conf.write_text(f"[server]\nlisten = 127.0.0.1:0\n[database]\npath = {tmp_path}/t.db\n[admin]\nsocket =\n")
    out = subprocess.run([TURNPIKED, "--config", str(conf)], capture_output=True, text=True, timeout=10)
    assert out.returncode == 1
    assert "must not run as root" in out.stderr
    assert not (tmp_path / "t.db").exists()


def test_migrate_only_creates_the_schema_and_exits(tmp_path):
    conf = tmp_path / "t.conf"
    conf.write_text(f"[server]\nlisten = 127.0.0.1:0\n[database]\npath = {tmp_path}/t.db\n[admin]\nsocket =\n")
    extra = ["--allow-root"] if os.geteuid() == 0 else []
    out = subprocess.run([TURNPIKED, "--config", str(conf), "--migrate-only", *extra], capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    assert "event=listening" not in out.stderr
    db = sqlite3.connect(tmp_path / "t.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] >= 2
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"rooms", "pendings", "turnusers_lt", "turn_secret"} <= tables


def test_unusable_database_path_fails_with_the_path_and_the_reason(tmp_path):
    conf = tmp_path / "t.conf"
    db_path = tmp_path / "no" / "such" / "dir" / "t.db"
    conf.write_text(f"[server]\nlisten = 127.0.0.1:0\n[database]\npath = {db_path}\n[admin]\nsocket =\n")
    extra = ["--allow-root"] if os.geteuid() == 0 else []
    out = subprocess.run([TURNPIKED, "--config", str(conf), *extra], capture_output=True, text=True, timeout=10)
    assert out.returncode == 1, out
    assert "event=startup_failed" in out.stderr and f"database {db_path}: " in out.stderr, out.stderr
    assert "unable to open database file" in out.stderr, out.stderr


def test_coturn_config_needs_turn(tmp_path):
    conf = tmp_path / "t.conf"
    conf.write_text("[server]\nlisten = 127.0.0.1:0\n")
    out = subprocess.run([TURNPIKECTL, "--config", str(conf), "coturn-config"], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode == 3 and "turn.urls is empty" in out.stderr


def test_coturn_config_into_a_file_is_not_world_readable(tmp_path):
    """The rendered turnserver.conf holds coturn's CLI password; `coturn-config > file` under umask 022 must still
    leave a file only owner and group can read."""
    conf = tmp_path / "turnpike.conf"
    conf.write_text("[turn]\nrealm = example.org\nurls = turn:192.0.2.1:3478\ncli_password = s3cret-cli\n"
                    f"[database]\npath = {tmp_path / 'turnpike.db'}\n")
    out = tmp_path / "turnserver.conf"
    done = subprocess.run(["sh", "-c", f'umask 022 && exec "$0" --config "$1" coturn-config > "$2"', TURNPIKECTL,
                           str(conf), str(out)], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr
    assert "cli-password=s3cret-cli" in out.read_text()
    assert os.stat(out).st_mode & 0o777 == 0o640, oct(os.stat(out).st_mode)
    # into a pipe it is printed as before
    piped = subprocess.run([TURNPIKECTL, "--config", str(conf), "coturn-config"], capture_output=True, text=True,
                           timeout=10)
    assert piped.returncode == 0 and piped.stdout == out.read_text()
