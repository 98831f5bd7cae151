"""Folder locks between real processes: exclusive while alive, free at once after kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from intake.processor import LeaseHeld, Processor
from intake.store.locks import locks_for_sessions

ROOT = Path(__file__).resolve().parent.parent


def spawn(url: str, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.lockholder", url, mode],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def line(proc: subprocess.Popen[str], timeout: float = 30.0) -> str:
    """The next line the process prints (fails on timeout or exit)."""
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), True)
    import selectors

    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise AssertionError(f"no output within {timeout} s")
    text = proc.stdout.readline().strip()
    if not text:
        raise AssertionError(f"process ended: {proc.wait()} {proc.stderr.read()[-2000:]}")
    return text


def test_second_process_refused_until_first_is_killed(db):
    first = spawn(db.url, "hold")
    second = None
    try:
        assert line(first).startswith("held")
        second = spawn(db.url, "wait")
        assert line(second) == "refused"
        time.sleep(1.0)  # still refused while the first lives
        assert second.poll() is None
        killed_at = time.time()
        first.send_signal(signal.SIGKILL)
        first.wait()
        got = line(second)
        assert got.startswith("held")
        waited = float(got.split()[1]) - killed_at
        assert waited < 5.0, f"the successor waited {waited:.1f} s"
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


def test_two_holders_in_one_process_exclude_each_other(db):
    a = Processor(None, db.sessions, None, worker_id="a")  # type: ignore[arg-type]
    b = Processor(None, db.sessions, None, worker_id="b")  # type: ignore[arg-type]
    a._take_lease("ago", "INBOX", 1)
    with pytest.raises(LeaseHeld, match="being processed by a"):
        b._take_lease("ago", "INBOX", 1)
    b._take_lease("wse", "INBOX", 1)  # another folder is free
    a._release_lease("ago", "INBOX")
    b._take_lease("ago", "INBOX", 1)
    b._release_lease("ago", "INBOX")
    b._release_lease("wse", "INBOX")


def test_lock_names_are_independent(db):
    locks = locks_for_sessions(db.sessions)
    one = locks.try_acquire("mailbox:ago/INBOX")
    assert one is not None and one.alive()
    assert locks.try_acquire("mailbox:ago/INBOX") is None
    other = locks.try_acquire("outbox-sender")
    assert other is not None
    one.release()
    other.release()
    again = locks.try_acquire("mailbox:ago/INBOX")
    assert again is not None
    again.release()
