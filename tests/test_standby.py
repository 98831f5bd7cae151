"""Two real `intake run` workers (systemd/dpo-intake@.service): one folder holder at a time, and
the other takes over the moment the holder dies, not at its next poll."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from intake.source.base import PROCESSED_KEYWORD
from intake.store.models import Case, MailboxState, Message
from intake.store.timezone import BRUSSELS
from tests import mailgen
from tests.fixtures.dovecot import PASSWORD_ENV as IMAP_PASSWORD_ENV
from tests.test_locks import line, spawn

ROOT = Path(__file__).resolve().parent.parent
RECEIVED = datetime(2026, 3, 5, 10, 0, tzinfo=BRUSSELS)
AGO = "dpo.ago@vlaanderen.be"


def settings_file(tmp_path: Path, db_url: str, imap, smtp, *, idle: bool) -> Path:
    path = tmp_path / "intake.toml"
    path.write_text(f"""
[database]
url = "{db_url}"

[smtp]
transport = "smtp"
host = "{smtp.host}"
port = {smtp.port}
tls = "starttls"
ca_file = "{smtp.ca_file}"
username = "{smtp.username}"
password_env = "{smtp.password_env}"
replies_per_sender_per_day = 1000

[identity]
ocr = false

[run]
poll_seconds = 60
outbox_seconds = 1
idle = {"true" if idle else "false"}
state_dir = "{tmp_path / 'state'}"

[[mailbox]]
key = "ago"
controller = "Agentschap Overheidspersoneel"
address = "{AGO}"
reference_prefix = "DPO-AGO"

[mailbox.imap]
host = "{imap.host}"
port = {imap.tls_port}
tls = "implicit"
ca_file = "{imap.ca_file}"
username = "{imap.user}"
password_env = "{IMAP_PASSWORD_ENV}"
timeout = 5
""", encoding="utf-8")
    return path


def worker(settings: Path, log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "intake.cli", "run", "-v", "--config",
                             str(settings)], cwd=ROOT, stdout=handle, stderr=handle,
                            env={**os.environ, "OMP_THREAD_LIMIT": "1"})


def wait_for(condition, limit: float) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def request(i: int, seed: int) -> bytes:
    return mailgen.request(("erasure", "objection", "access")[i % 3], "nl", to=AGO,
                           seed=seed + i, sender=(f"Persoon {i}", f"p{seed}x{i}@example.be"))


def stop(*procs: subprocess.Popen[bytes] | None) -> None:
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


def test_standby_takes_over_when_the_holder_dies_without_waiting_for_its_poll(
        tmp_path, imap, smtp_server, db):
    """poll_seconds = 60 and no IDLE: only the stand-by on the lock can explain a take-over
    within seconds of the holder's death."""
    settings = settings_file(tmp_path, db.url, imap, smtp_server, idle=False)
    uids = [imap.append(request(i, 300), msg_time=RECEIVED) for i in range(3)]
    holder = spawn(db.url, "hold")  # another live worker in its pass, as far as locks go
    log = tmp_path / "worker.log"
    standby = None
    try:
        assert line(holder).startswith("held")
        standby = worker(settings, log)
        assert wait_for(lambda: "mailbox held by another worker" in log.read_text()
                        and "triage pipeline loaded" in log.read_text(), 120), \
            log.read_text()[-3000:]
        time.sleep(1.0)  # standing by (its first poll found the folder held)
        with db.sessions() as s:
            assert s.scalar(select(func.count()).select_from(Message)) == 0
        killed = time.monotonic()
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert wait_for(lambda: all(PROCESSED_KEYWORD in imap.flags("INBOX", u) for u in uids),
                        30), log.read_text()[-3000:]
        took = time.monotonic() - killed
        assert took < 10.0, f"the standby took {took:.1f} s (its next poll would be at 60 s)"
    finally:
        stop(holder, standby)
    text = log.read_text()
    assert "mailbox not processed" not in text  # a folder held by a live worker is no error
    assert "Traceback" not in text
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 3


def test_two_workers_never_process_a_message_twice_and_the_survivor_takes_over(
        tmp_path, imap, smtp_server, db):
    settings = settings_file(tmp_path, db.url, imap, smtp_server, idle=True)
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [worker(settings, logs[0]), worker(settings, logs[1])]
    uids: list[int] = []
    try:
        assert wait_for(lambda: all("triage pipeline loaded" in p.read_text() for p in logs),
                        120), logs[0].read_text()[-2000:] + logs[1].read_text()[-2000:]
        uids += [imap.append(request(i, 400), msg_time=RECEIVED) for i in range(12)]

        def holder() -> str | None:
            with db.sessions() as s:
                state = s.get(MailboxState, ("ago", "INBOX"))
                return state.lease_holder if state is not None else None

        # Kill the worker in its pass over the new mail, then more mail arrives.
        assert wait_for(lambda: holder() is not None, 30)
        pid = int((holder() or "x:0").rsplit(":", 1)[1])
        victim = next((p for p in procs if p.pid == pid), None)
        assert victim is not None, (pid, [p.pid for p in procs])
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        survivor = next(p for p in procs if p is not victim)
        uids += [imap.append(request(i, 400), msg_time=RECEIVED) for i in range(12, 18)]
        assert wait_for(lambda: all(PROCESSED_KEYWORD in imap.flags("INBOX", u) for u in uids),
                        60)
        assert survivor.poll() is None
        smtp_server.wait_for(len(uids) - 1, timeout=30)  # one reply may be left uncertain
        time.sleep(2.0)  # a last outbox interval
    finally:
        stop(*procs)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == len(uids)
        requesters = Counter(s.scalars(select(Case.requester_address)))
    assert len(requesters) == len(uids) and set(requesters.values()) == {1}
    acknowledged = Counter(r.lower() for m in smtp_server.received for r in m.rcpt_tos)
    assert all(n == 1 for n in acknowledged.values()), acknowledged
    for log in logs:
        assert "mailbox not processed" not in log.read_text()


def test_metrics_options_override_the_settings_per_process(tmp_path):
    import argparse

    import pytest

    from intake.cli.run import with_metrics_options
    from intake.config import ConfigError, default_settings

    settings = default_settings()
    same = with_metrics_options(settings, argparse.Namespace(metrics_listen=None,
                                                             metrics_textfile=None))
    assert same is settings
    second = with_metrics_options(settings, argparse.Namespace(
        metrics_listen="127.0.0.1:9469", metrics_textfile=str(tmp_path / "two.prom")))
    assert second.metrics.listen == "127.0.0.1:9469"
    assert second.metrics.textfile == str(tmp_path / "two.prom")
    off = with_metrics_options(second, argparse.Namespace(metrics_listen="off",
                                                          metrics_textfile="off"))
    assert off.metrics.listen == "" and off.metrics.textfile == ""
    with pytest.raises(ConfigError, match="--metrics-listen"):
        with_metrics_options(settings, argparse.Namespace(metrics_listen="9469",
                                                          metrics_textfile=None))


def test_a_wake_up_for_a_running_job_is_not_logged_as_a_warning():
    import logging

    from intake.logs import SkippedRunFilter

    def record(text: str) -> logging.LogRecord:
        return logging.LogRecord("apscheduler.scheduler", logging.WARNING, __file__, 1, text,
                                 None, None)

    keep = SkippedRunFilter()
    assert not keep.filter(record('Execution of job "Worker._safe_poll (trigger: interval'
                                  '[0:01:00])" skipped: maximum number of running instances '
                                  'reached (1)'))
    assert keep.filter(record('Run time of job "x" was missed by 0:00:05'))
