"""systemd integration over its real protocols: sd_notify datagrams, the watchdog a hung pass
silences, and journald's native log protocol."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from intake.logs import JournalHandler, journal_field
from intake.service import Watchdog, sd_notify, watchdog_interval
from tests import mailgen
from tests.fixtures.dovecot import PASSWORD_ENV, start_dovecot, stop_dovecot
from tests.test_cli_run import write_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def notify_socket():
    directory = Path(os.environ.get("TMPDIR", "/tmp")) / f"sdn-{os.getpid()}-{time.monotonic_ns()}"
    directory.mkdir()
    path = directory / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.2)
    try:
        yield sock, str(path)
    finally:
        sock.close()
        path.unlink(missing_ok=True)
        directory.rmdir()


def drain(
    sock: socket.socket, seconds: float, until: Callable[[list[str]], bool] | None = None
) -> list[str]:
    """The datagrams of the next `seconds`, or of the time until `until(datagrams)` holds."""
    end, got = time.monotonic() + seconds, []
    while time.monotonic() < end and not (until and until(got)):
        with contextlib.suppress(TimeoutError):
            got.append(sock.recv(65536).decode())
    return got


def pings(datagrams: list[str]) -> int:
    return sum("WATCHDOG=1" in m for m in datagrams)


def stuck(datagrams: list[str]) -> bool:
    return any("STATUS=stuck" in m for m in datagrams)


def wait_for(sock: socket.socket, needle: str, seconds: float) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            message = sock.recv(65536).decode()
        except TimeoutError:
            continue
        if needle in message:
            return message
    raise AssertionError(f"no {needle!r} within {seconds} s")


def test_sd_notify_speaks_the_datagram_protocol(notify_socket):
    sock, path = notify_socket
    assert sd_notify("READY=1\nSTATUS=hello", {"NOTIFY_SOCKET": path})
    assert sock.recv(1000) == b"READY=1\nSTATUS=hello"
    assert not sd_notify("READY=1", {})  # outside systemd: nothing, no error


def test_watchdog_interval_is_half_of_watchdog_sec():
    assert watchdog_interval({"WATCHDOG_USEC": "180000000", "WATCHDOG_PID": str(os.getpid())}) == 90
    assert watchdog_interval({"WATCHDOG_USEC": "180000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({}) is None


def test_a_stuck_pass_stops_the_pings(notify_socket):
    sock, path = notify_socket
    now = [0.0]
    dog = Watchdog(stuck_after=60, clock=lambda: now[0])
    env = {"NOTIFY_SOCKET": path}
    dog.started("poll-ago")
    now[0] = 59
    assert dog.ping(env) and sock.recv(100).startswith(b"WATCHDOG=1")
    now[0] = 61
    assert not dog.ping(env)
    assert sock.recv(100) == b"STATUS=stuck: poll-ago"  # a status line, but no WATCHDOG=1
    dog.finished("poll-ago")
    assert dog.ping(env)


def test_hung_imap_server_stops_the_watchdog_of_the_real_daemon(tmp_path, notify_socket,
                                                                 smtp_server):
    """`intake run` under a (simulated) systemd: READY, pings; the IMAP server freezes (SIGSTOP)
    in the middle of a pass, the pass hangs, the pings stop; it thaws, the pings come back."""
    sock, path = notify_socket
    server = start_dovecot()
    os.environ[PASSWORD_ENV] = server.password
    worker = None
    try:
        settings = write_settings(tmp_path, server, smtp_server)
        text = settings.read_text().replace("timeout = 5", "timeout = 120").replace(
            "[run]\n", "[run]\nstuck_poll_seconds = 2\n")
        settings.write_text(text)
        subprocess.run([sys.executable, "-m", "intake.cli", "--config", str(settings), "db",
                        "upgrade"], check=True, cwd=ROOT, capture_output=True)
        env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"}
        worker = subprocess.Popen([sys.executable, "-m", "intake.cli", "--config", str(settings),
                                   "run"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=open(tmp_path / "worker.log", "w"))  # noqa: SIM115
        ready = wait_for(sock, "READY=1", 120)  # loading the classifier takes a while
        assert "mailboxes, last poll" in ready, (tmp_path / "worker.log").read_text()[-2000:]
        # WATCHDOG_PID is unset for the child, so it pings (interval 0.5 s): 3 within 3 s
        got = drain(sock, 3, until=lambda got: pings(got) >= 3)
        assert pings(got) >= 3

        server.process.send_signal(signal.SIGSTOP)  # every IMAP process freezes: the poll hangs
        subprocess.run(["pkill", "-STOP", "-f", f"imap.*{server.root}"], check=False)
        subprocess.run(["pkill", "-STOP", "-P", str(server.process.pid)], check=False)
        got = drain(sock, 9, until=stuck)  # the pass has run > 2 s: stuck, within 9 s
        assert stuck(got)
        late = drain(sock, 3)  # and from then on no more pings
        assert pings(late) == 0

        subprocess.run(["pkill", "-CONT", "-P", str(server.process.pid)], check=False)
        server.process.send_signal(signal.SIGCONT)
        # it thaws: the pings come back within 8 s
        got = drain(sock, 8, until=lambda got: pings(got) > 0)
        assert pings(got) >= 1
    finally:
        # Thaw Dovecot first: a worker whose pass hangs on it (a failure above, while frozen)
        # would not stop, and a frozen Dovecot would outlive the test.
        with_cont = server.process
        if with_cont is not None:
            subprocess.run(["pkill", "-CONT", "-P", str(with_cont.pid)], check=False)
            with_cont.send_signal(signal.SIGCONT)
        try:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=60)
        finally:
            stop_dovecot(server)


def parse_journal(datagram: bytes) -> dict[str, str]:
    """journald's native protocol, as journald reads it."""
    fields, rest = {}, datagram
    while rest:
        line, _sep, after = rest.partition(b"\n")
        if b"=" in line:
            name, _, value = line.partition(b"=")
            fields[name.decode()] = value.decode()
            rest = after
        else:
            (size,) = struct.unpack("<Q", after[:8])
            fields[line.decode()] = after[8:8 + size].decode()
            rest = after[8 + size + 1:]
    return fields


def test_journal_handler_sends_priority_and_structured_fields(tmp_path):
    path = tmp_path / "journal.sock"
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.bind(str(path))
    handler = JournalHandler(str(path))
    log = logging.getLogger("intake.test.journal")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.error("mailbox failing", extra={"mailbox": "ago", "case": "DPO-AGO-2026-0001",
                                            "uid": 42, "error": "line one\nline two"})
        fields = parse_journal(sink.recv(65536))
    finally:
        log.removeHandler(handler)
        handler.close()
        sink.close()
    assert fields["PRIORITY"] == "3"
    assert fields["MAILBOX"] == "ago" and fields["CASE_REF"] == "DPO-AGO-2026-0001"
    assert fields["MESSAGE_UID"] == "42" and fields["ERROR"] == "line one\nline two"
    assert fields["MESSAGE"].startswith("intake.test.journal mailbox failing")
    assert not fields["MESSAGE"][:4].isdigit()  # journald keeps the time: no second timestamp


def test_journal_field_names_follow_journald_rules():
    assert journal_field("mailbox") == "MAILBOX"
    assert journal_field("cases_opened") == "CASES_OPENED"
    assert journal_field("_secret") == "SECRET"
    assert journal_field("1x") == "X_1X"


def test_debug_for_nothing_new(tmp_path, imap, smtp_server, caplog):
    """A pass that finds nothing logs at debug: no news is not news in the journal."""
    from intake.config import load_settings
    from intake.daemon import Worker
    from intake.logs import KeyValueFormatter
    from intake.store.db import make_engine, upgrade

    settings = load_settings(write_settings(tmp_path, imap, smtp_server))
    upgrade(make_engine(settings.database.url))
    worker = Worker(settings)
    sender = ("Marieke Wouters", "marieke.wouters@example.be")
    subject = "Mijn gegevens bij jullie"
    try:
        with caplog.at_level(logging.DEBUG):
            worker.poll(settings.mailboxes[0])
            imap.append(mailgen.request("access", "nl", to="dpo.ago@vlaanderen.be", seed=3,
                                        sender=sender, subject=subject))
            worker.poll(settings.mailboxes[0])
            worker.flush()
    finally:
        worker.engine.dispose()
    passes = [r for r in caplog.records if r.getMessage() == "mailbox pass done"]
    assert [r.levelno for r in passes] == [logging.DEBUG, logging.INFO]
    # at info and above: no requester address, no subject, no body
    formatter = KeyValueFormatter("%(levelname)s %(name)s %(message)s")
    lines = [formatter.format(r) for r in caplog.records if r.levelno >= logging.INFO]
    assert lines
    for line in lines:
        assert "marieke" not in line.lower() and subject not in line, line
