"""A message that kills the worker costs the others nothing and ends quarantined, in a case to
classify with its legal clock (real servers)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

from intake.inflight import ABORT_MARKER_ENV, HANG_MARKER_ENV, WORKER_DIED, Deadline
from intake.source.base import PROCESSED_KEYWORD, QUARANTINE_KEYWORD
from tests import mailgen
from tests.test_cli_run import AGO, RECEIVED, ROOT, write_settings

MARKER = "POISON-7f3a91"


def run_once(settings: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "intake.cli", "run", "--once", "--json", "--config", settings],
        capture_output=True, text=True, cwd=ROOT, timeout=180,
        env={**os.environ, ABORT_MARKER_ENV: MARKER},
    )


def intake(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "intake.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120, check=True).stdout


def test_a_message_that_kills_the_worker_is_quarantined_and_the_others_get_their_case(
    tmp_path, imap, smtp_server
):
    senders = [("Jan Peeters", "jan.peeters@example.be"), ("Els Janssens", "els.j@example.be"),
               ("Tom Claes", "tom.claes@example.be")]
    uids = [imap.append(mailgen.request("access", "nl", to=AGO, seed=41, sender=senders[0]),
                        msg_time=RECEIVED)]
    poison = imap.append(mailgen.request("erasure", "nl", to=AGO, seed=42,
                                         subject=f"Verwijdering {MARKER}",
                                         sender=("Piet Gif", "piet.gif@example.be")),
                         msg_time=RECEIVED)
    for n, sender in enumerate(senders[1:]):
        uids.append(imap.append(mailgen.request("access", "nl", to=AGO, seed=43 + n,
                                                sender=sender), msg_time=RECEIVED))
    settings = str(write_settings(tmp_path, imap, smtp_server))
    intake("--config", settings, "db", "upgrade")

    # The first run dies on the poison message: its whole batch is in flight, nothing recorded.
    first = run_once(settings)
    assert first.returncode == -signal.SIGABRT, first.stderr[-2000:]
    db = sqlite3.connect(tmp_path / "intake.db")
    assert db.execute("select count(*), min(attempts) from message_in_flight").fetchone() == (4, 1)

    # First restart: the suspects are read one at a time; the first request is recorded, then
    # the poison kills the worker again.
    second = run_once(settings)
    assert second.returncode == -signal.SIGABRT
    assert db.execute("select count(*) from message where status='processed'").fetchone() == (1,)
    assert db.execute("select attempts from message_in_flight where uid=?",
                      (poison,)).fetchone() == (2,)

    # Second restart: the poison message is quarantined unread, in a case to classify whose
    # clock runs from its receipt; the others get their case.
    third = run_once(settings)
    assert third.returncode == 0, third.stderr[-2000:]
    report = json.loads(third.stdout)["mailboxes"][0]
    assert report["quarantined"] == 1 and report["cases_opened"] == 3
    rows = db.execute("select uid, status, quarantine_reason, case_id is not null from message "
                      "order by uid").fetchall()
    assert sorted(rows) == sorted(
        [(uid, "processed", None, 1) for uid in uids] + [(poison, "quarantined", WORKER_DIED, 1)])
    assert db.execute("select count(*) from message_in_flight").fetchone() == (0,)
    assert db.execute("select count(*) from \"case\" where due_date is not null").fetchone() == (4,)
    assert db.execute(
        "select c.kind, c.requester_address, c.needs_review, c.review_reason, c.due_date = "
        "(select due_date from \"case\" where requester_address = ?) from \"case\" c "
        "join message m on m.case_id = c.id where m.uid = ?",
        (senders[0][1], poison)).fetchone() == (
        "to_classify", "piet.gif@example.be", 1,
        "quarantined (worker died twice while reading it): not read; to classify by hand", 1)
    # The poison's sender too: the neutral acknowledgement of its case to classify (its
    # headers pass the checks every reply passes; the message itself is not read again).
    acknowledged = {m.rcpt_tos[0] for m in smtp_server.wait_for(4)}
    assert acknowledged == {address for _name, address in senders} | {"piet.gif@example.be"}
    assert db.execute("select count(*) from outbox").fetchone() == (4,)
    assert QUARANTINE_KEYWORD in imap.flags("INBOX", poison)
    assert all(PROCESSED_KEYWORD in imap.flags("INBOX", uid) for uid in uids)

    # The worker goes on: new mail is processed, the poison message is not read again.
    late = imap.append(mailgen.request("access", "nl", to=AGO, seed=49,
                                       sender=("Sofie Maes", "sofie.maes@example.be")),
                       msg_time=RECEIVED)
    fourth = run_once(settings)
    assert fourth.returncode == 0
    assert json.loads(fourth.stdout)["mailboxes"][0]["cases_opened"] == 1
    assert PROCESSED_KEYWORD in imap.flags("INBOX", late)

    # Staff see it: the quarantine listing and the digest name the reason.
    listing = intake("cases", "quarantine", "--config", settings)
    assert WORKER_DIED in listing and str(poison) in listing
    reference = db.execute("select c.reference from \"case\" c join message m on "
                           "m.case_id = c.id where m.uid = ?", (poison,)).fetchone()[0]
    assert reference in listing
    digest = intake("digest", "--preview", "--config", settings)
    assert WORKER_DIED in digest and reference in digest
    db.close()


def test_a_triage_that_hangs_past_its_deadline_ends_the_worker_and_is_counted(
    tmp_path, imap, smtp_server
):
    normal = imap.append(mailgen.request("access", "nl", to=AGO, seed=51,
                                         sender=("An Wouters", "an.wouters@example.be")),
                         msg_time=RECEIVED)
    hanging = imap.append(mailgen.request("access", "nl", to=AGO, seed=52,
                                          subject=f"Inzage {MARKER}",
                                          sender=("Koen Jacobs", "koen.jacobs@example.be")),
                          msg_time=RECEIVED)
    path = write_settings(tmp_path, imap, smtp_server)
    path.write_text(path.read_text().replace("outbox_seconds = 1\n",
                                             "outbox_seconds = 1\ntriage_deadline_seconds = 2\n"))
    settings = str(path)
    intake("--config", settings, "db", "upgrade")
    db = sqlite3.connect(tmp_path / "intake.db")
    env = {**os.environ, HANG_MARKER_ENV: MARKER}
    codes = []
    for _restart in range(3):
        done = subprocess.run(
            [sys.executable, "-m", "intake.cli", "run", "--once", "--json", "--config", settings],
            capture_output=True, text=True, cwd=ROOT, timeout=180, env=env)
        codes.append(done.returncode)
    assert codes == [70, 70, 0]
    rows = dict(db.execute("select uid, coalesce(quarantine_reason, status) from message"))
    assert rows == {normal: "processed", hanging: WORKER_DIED}
    # the request's acknowledgement, and the neutral one of the hanging message's case
    assert {m.rcpt_tos[0] for m in smtp_server.wait_for(2)} == {"an.wouters@example.be",
                                                                 "koen.jacobs@example.be"}
    db.close()


def test_deadline_fires_only_when_triage_overruns():
    fired = threading.Event()
    with Deadline(0.2, fired.set):
        time.sleep(0.5)
    assert fired.is_set()
    fired.clear()
    with Deadline(0.5, fired.set):
        pass
    time.sleep(0.7)
    assert not fired.is_set()


def test_in_flight_rows_count_attempts_and_are_reported(db):
    from datetime import UTC, datetime

    from intake import inflight
    from intake.source.base import FetchedMessage

    at = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    batch = [FetchedMessage("ago", "INBOX", 7, uid, at, b"x") for uid in (1, 2, 3)]
    inflight.mark(db.sessions, batch, "host:1", at)
    inflight.mark(db.sessions, batch[1:2], "host:2", at)
    assert inflight.attempts(db.sessions, batch) == {1: 1, 2: 2, 3: 1}
    with db.sessions() as session:
        report = inflight.crash_report(session)
        assert [(m.uid, m.attempts, m.worker) for m in report.in_flight] == [
            (1, 1, "host:1"), (2, 2, "host:2"), (3, 1, "host:1")]
        assert inflight.crash_report(session, "wse").in_flight == []
    with db.sessions() as session, session.begin():
        inflight.clear(session, batch[:2])
    assert inflight.attempts(db.sessions, batch) == {3: 1}


def test_a_worker_killed_after_reading_a_suspect_does_not_quarantine_it(
    tmp_path, imap, smtp_server
):
    """Only a death while a message is read counts against it: deaths while it is recorded
    (here: a SIGKILL just before the commit, at every pass) leave its count where it was."""
    uid = imap.append(mailgen.request("access", "nl", to=AGO, seed=51,
                                      sender=("An Wouters", "an.wouters@example.be")),
                      msg_time=RECEIVED)
    settings = str(write_settings(tmp_path, imap, smtp_server))
    intake("--config", settings, "db", "upgrade")
    killed = {**os.environ, "INTAKE_FAULTS": "processor.before_commit=1"}
    db = sqlite3.connect(tmp_path / "intake.db")
    for _death in range(3):  # one death with the batch in flight, then two while read alone
        run = subprocess.run(
            [sys.executable, "-m", "intake.cli", "run", "--once", "--json", "--config", settings],
            capture_output=True, text=True, cwd=ROOT, timeout=180, env=killed)
        assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
        assert db.execute("select attempts from message_in_flight where uid=?",
                          (uid,)).fetchone() == (1,)
    done = run_once(settings)
    assert done.returncode == 0, done.stderr[-2000:]
    assert db.execute("select status, case_id is not null from message where uid=?",
                      (uid,)).fetchone() == ("processed", 1)
    assert PROCESSED_KEYWORD in imap.flags("INBOX", uid)
    assert list(smtp_server.wait_for(1)[0].rcpt_tos) == ["an.wouters@example.be"]
    db.close()
