"""IMAP IDLE against the private Dovecot: an APPEND wakes the worker, drops are survived."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest

from intake.idle import IdleWatcher
from intake.source.imap import ImapSource
from tests import mailgen
from tests.fixtures.dovecot import PASSWORD_ENV, _dovecot_binary, start_dovecot, stop_dovecot
from tests.fixtures.pipeline import AGO, mailbox
from tests.test_cli_run import AGO as AGO_ADDRESS
from tests.test_cli_run import RECEIVED, ROOT, intake, write_settings

pytestmark = pytest.mark.imap
MAIL = b"From: a@example.org\r\nTo: dpo.test@intake.test\r\nSubject: t\r\n\r\nHallo\r\n"


class Wakes:
    def __init__(self) -> None:
        self.count = 0
        self.cond = threading.Condition()

    def __call__(self) -> None:
        with self.cond:
            self.count += 1
            self.cond.notify_all()

    def wait_beyond(self, n: int, timeout: float = 10.0) -> float:
        started = time.monotonic()
        with self.cond:
            assert self.cond.wait_for(lambda: self.count > n, timeout), f"no wake after {n}"
        return time.monotonic() - started


def start_watcher(imap, renew: float = 60.0) -> tuple[IdleWatcher, Wakes, threading.Event]:
    wakes, stop = Wakes(), threading.Event()
    watcher = IdleWatcher(mailbox(AGO, imap.imap_settings()), wakes, stop, renew_seconds=renew)
    watcher.start()
    wakes.wait_beyond(0)  # the wake-up after connecting: mail may have come while away
    assert watcher.supported is True
    return watcher, wakes, stop


def test_append_wakes_the_watcher(imap):
    watcher, wakes, stop = start_watcher(imap)
    try:
        before = wakes.count
        imap.append(MAIL)
        assert wakes.wait_beyond(before, timeout=5) < 5
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert not watcher.is_alive()


def test_idle_is_renewed_and_survives_a_kick(imap):
    watcher, wakes, stop = start_watcher(imap, renew=0.5)
    try:
        time.sleep(1.6)  # several IDLE / DONE rounds
        before = wakes.count
        imap.append(MAIL)
        wakes.wait_beyond(before, timeout=5)
        # The server drops every session of the user (as Exchange does now and then).
        subprocess.run([_dovecot_binary("doveadm"), "-c", str(imap.conf), "kick", imap.user],
                       check=True, capture_output=True, timeout=30)
        deadline = time.monotonic() + 10
        while watcher.reconnects == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watcher.reconnects >= 1
        before = wakes.count
        wakes.wait_beyond(before, timeout=10)  # reconnected: the catch-up wake-up
        before = wakes.count
        imap.append(MAIL)
        wakes.wait_beyond(before, timeout=5)
    finally:
        stop.set()
        watcher.join(timeout=5)


def test_source_reports_idle_capability(imap):
    source = ImapSource("ago", imap.imap_settings())
    source.connect()
    try:
        assert source.supports_idle()
        assert source.idle_wait(0.3) is False  # nothing happened
    finally:
        source.close()


def test_daemon_acknowledges_at_once_with_idle(tmp_path, imap, smtp_server):
    path = write_settings(tmp_path, imap, smtp_server)
    text = path.read_text().replace("poll_seconds = 1\noutbox_seconds = 1",
                                    "poll_seconds = 300\noutbox_seconds = 300")
    text = text.replace("timeout = 5\n", 'timeout = 5\nsent_folder = "Verzonden items"\n', 1)
    path.write_text(text)
    settings = str(path)
    imap.append(b"Subject: oud\r\n\r\nx\r\n", folder="Verzonden items")
    intake("--config", settings, "db", "upgrade")
    imap.append(mailgen.request("access", "nl", to=AGO_ADDRESS, seed=61,
                                sender=("Jan Peeters", "jan.peeters@example.be")),
                msg_time=RECEIVED)
    daemon = subprocess.Popen([sys.executable, "-m", "intake.cli", "run", "--config", settings],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        smtp_server.wait_for(1, timeout=60)  # the pass at start-up
        started = time.monotonic()
        imap.append(mailgen.request("erasure", "nl", to=AGO_ADDRESS, seed=62,
                                    sender=("Els Janssens", "els.janssens@example.be")),
                    msg_time=RECEIVED)
        # With a 300 s poll and outbox interval only the IDLE push can explain a quick answer.
        smtp_server.wait_for(2, timeout=30)
        assert time.monotonic() - started < 30
        # ... and the copies reach the Sent folder soon after, not at the 300 s interval.
        deadline = time.monotonic() + 30
        while len(imap.uids("Verzonden items")) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(imap.uids("Verzonden items")) == 3
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, stderr


def test_server_without_idle_is_polled(monkeypatch):
    # Dovecot announcing what it can do without IDLE (like a server that lacks it).
    server = start_dovecot(capability="IMAP4rev1 LITERAL+ SASL-IR ID ENABLE UIDPLUS MOVE")
    monkeypatch.setenv(PASSWORD_ENV, server.password)
    try:
        wakes, stop = Wakes(), threading.Event()
        watcher = IdleWatcher(mailbox(AGO, server.imap_settings()), wakes, stop)
        watcher.start()
        watcher.join(timeout=10)
        assert not watcher.is_alive() and watcher.supported is False and wakes.count == 0
    finally:
        stop_dovecot(server)
