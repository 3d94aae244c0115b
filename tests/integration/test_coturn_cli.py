# coturn 4.6.1's telnet admin CLI answers exactly as CoturnCliDialog (turn-auth/coturn_cli.hpp) expects.
"""Starts the real turnserver on loopback with live allocations made by turnutils_uclient, then talks to its
CLI with plain sockets, following the same steps and completion rules as CoturnCliDialog:

- coturn greets and asks "Enter password: \\r\\n"; a wrong password gets that line again;
- every command's output is complete when it ends with the prompt "> " at the start of a line, and the next
  command is sent only then (coturn treats one read as one command line);
- a listing has one "    N) id=<18 digits>, user <name>:" line per session and "  Total sessions: T";
  a truncated listing (cli-max-output-sessions) ends with "..." and a warning, so the dialog lists again;
- "cs <id>" answers with the bare prompt; "quit" drops the connection.

If a coturn update changes any of this, these tests fail before the daemon silently stops killing sessions.
"""
import random
import re
import shutil
import socket
import subprocess
import time

import pytest

TURNSERVER = shutil.which("turnserver")
UCLIENT = shutil.which("turnutils_uclient")
PEER = shutil.which("turnutils_peer")

pytestmark = pytest.mark.skipif(not (TURNSERVER and UCLIENT and PEER),
                                reason="coturn (turnserver, turnutils_uclient, turnutils_peer) is not installed")

CLI_PASSWORD = "cli-secret-1"
MAX_OUTPUT_SESSIONS = 2
REALM = "test"
ROOM7_USERS = {"room7.1.1700000000": "pw71", "room7.2.1700000000": "pw72"}
ROOM8_USER, ROOM8_PASSWORD = "room8.1.1700000000", "pw81"
OTHER_USER, OTHER_PASSWORD = "other", "pwo"

PASSWORD_PROMPT = b"Enter password: \r\n"
PROMPT = b"> "
GREETING = re.compile(rb"TURN Server\r\nCoturn-[0-9.]+ '[^'\r\n]*'\r\n\r\nType '\?' for help\r\nEnter password: \r\n")
SESSION_LINE = re.compile(rb"    (\d+)\) id=(\d{18}), user <([^>\r\n]*)>:")
DETAIL_LINE = re.compile(rb"      \S.*| {7}rate: .*| {10}\S+")
TOTAL_LINE = re.compile(rb"  Total sessions: (\d+)")
EMPTY_LISTING = b"\r\n  Total sessions: 0\r\n\r\n> "
TRUNCATED_TAIL = (b"\r\n...\r\n\r\n  Total sessions: %d\r\n\r\n"
                  b"  Warning: too many output sessions, more than the\r\n"
                  b"  current value of cli-max-output-sessions CLI parameter.\r\n"
                  b"  Refine your request or increase cli-max-output-sessions value.\r\n\r\n> ")
TIMEOUT = 5.0


def free_port():
    """A port that is free on 127.0.0.1 for both TCP and UDP (turnserver listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        return port


def output_complete(data):
    """CoturnCliDialog's rule: coturn waits for input after the password prompt or the "> " prompt."""
    return data.endswith(PASSWORD_PROMPT) or data == PROMPT or data.endswith(b"\n" + PROMPT)


class Cli:
    """One telnet CLI connection, read and written the way CoturnCliDialog does it."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)

    def close(self):
        self.sock.close()

    def read_output(self):
        data = b""
        deadline = time.monotonic() + TIMEOUT
        while not output_complete(data):
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            assert chunk, f"connection closed after {data!r}"
            data += chunk
        assert b"\xff" not in data, f"unexpected telnet IAC bytes in {data!r}"
        return data

    def command(self, line):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.read_output()

    def login(self):
        assert GREETING.fullmatch(self.read_output())
        assert self.command(CLI_PASSWORD) == PROMPT

    def read_until_closed(self):
        data = b""
        self.sock.settimeout(TIMEOUT)
        try:
            while chunk := self.sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
        return data


def parse_listing(data, users_match):
    """Checks a ps/psp reply line by line; returns (session ids in order, total, truncated)."""
    assert data.startswith(b"\r\n") and data.endswith(b"\r\n" + PROMPT), data
    lines = data[:-len(PROMPT)].split(b"\r\n")
    ids, total, numbers = [], None, []
    for line in lines:
        if m := SESSION_LINE.fullmatch(line):
            numbers.append(int(m.group(1)))
            ids.append(m.group(2).decode())
            assert users_match(m.group(3).decode()), line
        elif m := TOTAL_LINE.fullmatch(line):
            assert total is None, data
            total = int(m.group(1))
        else:
            assert line == b"" or line == b"..." or DETAIL_LINE.fullmatch(line) or line.startswith(b"  Warning: ") \
                or line.startswith(b"  current value of ") or line.startswith(b"  Refine your request"), line
    assert total is not None, data
    assert numbers == list(range(1, len(ids) + 1)), data
    assert len(set(ids)) == len(ids), data
    truncated = len(ids) < total
    if truncated:
        assert len(ids) == MAX_OUTPUT_SESSIONS
        assert data.endswith(TRUNCATED_TAIL % total), data
    else:
        assert len(ids) == total
        assert data.endswith(b"\r\n  Total sessions: %d\r\n\r\n> " % total), data
        assert b"..." not in lines and b"Warning" not in data
    return ids, total, truncated


def matcher(command):
    verb, pattern = command.split(" ", 1)
    return (lambda user: user == pattern) if verb == "ps" else (lambda user: pattern in user)


def kill_dialog(port, command, seconds=30):
    """The steps of CoturnCliDialog: login, list, cs each new id, list again while truncated, quit. coturn ends
    sessions asynchronously, so a listing can show killed sessions again for a while (longer on a busy machine):
    the dialog is bounded in time, not in listings."""
    cli = Cli(port)
    try:
        cli.login()
        killed, listings = [], 0
        deadline = time.monotonic() + seconds
        while True:
            listings += 1
            assert time.monotonic() < deadline, f"still truncated after {listings} listings"
            ids, _, truncated = parse_listing(cli.command(command), matcher(command))
            for session_id in ids:
                if session_id not in killed:
                    assert cli.command(f"cs {session_id}") == PROMPT
                    killed.append(session_id)
            if not truncated:
                break
        cli.sock.sendall(b"quit\r\n")
        assert cli.read_until_closed() in (b"", b"Bye !\r\n")
        return killed, listings
    finally:
        cli.close()


def list_sessions(port, command):
    cli = Cli(port)
    try:
        cli.login()
        return parse_listing(cli.command(command), matcher(command))
    finally:
        cli.close()


def wait_until(predicate, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def can_connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def coturn(tmp_path_factory):
    """turnserver with a CLI on loopback and live allocations: two for each room7 user and one each for room8
    and another user (turnutils_uclient may add a second allocation per client). Yields the CLI port."""
    workdir = tmp_path_factory.mktemp("coturn")
    listen_port, cli_port, peer_port = free_port(), free_port(), free_port()
    min_port = random.randrange(42000, 48000, 100)
    procs = []
    try:
        users = {**ROOM7_USERS, ROOM8_USER: ROOM8_PASSWORD, OTHER_USER: OTHER_PASSWORD}
        server_log = open(workdir / "turnserver.log", "wb")
        procs.append(subprocess.Popen(
            [TURNSERVER, "-n", "--log-file=stdout", f"--pidfile={workdir / 'turnserver.pid'}",
             f"--userdb={workdir / 'turndb'}", "--listening-ip=127.0.0.1", f"--listening-port={listen_port}",
             "--cli-ip=127.0.0.1", f"--cli-port={cli_port}", f"--cli-password={CLI_PASSWORD}",
             f"--cli-max-output-sessions={MAX_OUTPUT_SESSIONS}", "--lt-cred-mech", f"--realm={REALM}",
             *[f"--user={u}:{p}" for u, p in users.items()], "--allow-loopback-peers", "--no-tls", "--no-dtls",
             f"--min-port={min_port}", f"--max-port={min_port + 99}"],
            stdout=server_log, stderr=subprocess.STDOUT, cwd=workdir))
        procs.append(subprocess.Popen([PEER, "-L", "127.0.0.1", "-p", str(peer_port)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, cwd=workdir))
        wait_until(lambda: can_connect(cli_port), "the CLI listener")

        clients = [*ROOM7_USERS.items(), *ROOM7_USERS.items(), (ROOM8_USER, ROOM8_PASSWORD),
                   (OTHER_USER, OTHER_PASSWORD)]
        for user, password in clients:
            # -h keeps each client (and its allocation, refreshed) alive until it is terminated.
            procs.append(subprocess.Popen(
                [UCLIENT, "-c", "-h", "-n", "1", "-u", user, "-w", password, "-p", str(listen_port), "-e",
                 "127.0.0.1", "-r", str(peer_port), "127.0.0.1"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir))

        def allocations_settled():
            counts = (list_sessions(cli_port, "psp room7.")[1], list_sessions(cli_port, f"ps {ROOM8_USER}")[1],
                      list_sessions(cli_port, f"ps {OTHER_USER}")[1])
            if counts[0] < 4 or counts[1] < 1 or counts[2] < 1:
                return None
            time.sleep(0.3)
            return counts == (list_sessions(cli_port, "psp room7.")[1], list_sessions(cli_port, f"ps {ROOM8_USER}")[1],
                              list_sessions(cli_port, f"ps {OTHER_USER}")[1])

        wait_until(allocations_settled, "the allocations", timeout=10)
        yield cli_port
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# Tests run in file order; the last one kills sessions.

def test_greeting_wrong_and_right_password(coturn):
    cli = Cli(coturn)
    try:
        assert GREETING.fullmatch(cli.read_output())
        assert cli.command("wrong-password") == PASSWORD_PROMPT
        assert cli.command(CLI_PASSWORD) == PROMPT  # coturn allows retries; the dialog stops at the first miss
    finally:
        cli.close()


def test_fifth_wrong_password_closes_the_connection(coturn):
    cli = Cli(coturn)
    try:
        assert GREETING.fullmatch(cli.read_output())
        for attempt in range(4):
            assert cli.command(f"wrong-{attempt}") == PASSWORD_PROMPT
        cli.sock.sendall(b"wrong-4\r\n")
        assert cli.read_until_closed() == b""
    finally:
        cli.close()


def test_empty_listing_is_exactly_the_total(coturn):
    cli = Cli(coturn)
    try:
        cli.login()
        assert cli.command("ps nobody") == EMPTY_LISTING
        assert cli.command("psp room9.") == EMPTY_LISTING
        assert cli.command("cs 123456789") == PROMPT  # an unknown id is not an error either
    finally:
        cli.close()


def test_exact_listing_format(coturn):
    ids, total, truncated = list_sessions(coturn, f"ps {OTHER_USER}")
    assert not truncated and total == len(ids) >= 1
    ids, total, truncated = list_sessions(coturn, "ps room7.1")  # ps matches whole names only
    assert (ids, total, truncated) == ([], 0, False)


def test_truncated_listing_format(coturn):
    ids, total, truncated = list_sessions(coturn, "psp room7.")
    assert truncated and len(ids) == MAX_OUTPUT_SESSIONS and total >= 4


def test_unknown_command_has_no_total(coturn):
    cli = Cli(coturn)
    try:
        cli.login()
        assert cli.command("no-such-command") == b"Unknown command\r\n\r\n> "
    finally:
        cli.close()


def test_kill_dialog_ends_only_matching_sessions(coturn):
    _, room7_total, _ = list_sessions(coturn, "psp room7.")
    _, room8_total, _ = list_sessions(coturn, f"ps {ROOM8_USER}")
    _, other_total, _ = list_sessions(coturn, f"ps {OTHER_USER}")

    killed, listings = kill_dialog(coturn, "psp room7.")
    assert len(killed) == room7_total and listings >= 2  # truncated at 2 per listing, so listed again
    killed8, _ = kill_dialog(coturn, f"ps {ROOM8_USER}")
    assert len(killed8) == room8_total and not set(killed8) & set(killed)

    # coturn cancels asynchronously; the listings empty within moments.
    wait_until(lambda: list_sessions(coturn, "psp room7.")[1] == 0, "room7 sessions to end")
    wait_until(lambda: list_sessions(coturn, f"ps {ROOM8_USER}")[1] == 0, "room8 sessions to end")
    assert list_sessions(coturn, f"ps {OTHER_USER}")[1] == other_total

    # A second run finds nothing and finishes at once, as a retried kill must.
    assert kill_dialog(coturn, "psp room7.") == ([], 1)
