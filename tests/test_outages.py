"""Outages of the real servers during a pass: IMAP stopped mid-batch, SMTP down for a while,
the database connections cut. Afterwards every message is recorded once and flagged, and every
acknowledgement goes out exactly once."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import uuid
from contextlib import ExitStack, suppress
from datetime import datetime

import pytest
from sqlalchemy import create_engine, func, select, text

from intake.daemon import Worker
from intake.outbound.outbox import flush_outbox
from intake.outbound.transport import open_transport
from intake.source.base import PROCESSED_KEYWORD
from intake.store.db import make_engine, make_session_factory, upgrade
from intake.store.locks import locks_for_sessions
from intake.store.models import Case, Message, OutboxItem
from intake.store.timezone import BRUSSELS
from tests import mailgen
from tests.fixtures import dovecot as dovecot_fixture
from tests.fixtures.database import PG_URL
from tests.fixtures.pipeline import AGO, mailbox, make_settings
from tests.fixtures.smtp import free_port, run_smtp_server

RECEIVED = datetime(2026, 6, 2, 9, 30, tzinfo=BRUSSELS)
AGO_ADDR = "dpo.ago@vlaanderen.be"


def requests(n: int, seed: int) -> list[bytes]:
    return [
        mailgen.request("access", "nl", to=AGO_ADDR, seed=seed + i,
                        sender=(f"Persoon {i}", f"persoon{seed}x{i}@example.be"))
        for i in range(n)
    ]


def totals(sessions) -> dict[str, int]:
    with sessions() as s:
        return {
            "messages": s.scalar(select(func.count()).select_from(Message)),
            "cases": s.scalar(select(func.count()).select_from(Case)),
            "sent": s.scalar(select(func.count()).select_from(OutboxItem)
                             .where(OutboxItem.status == "sent")),
        }


def once_each(smtp) -> int:
    """How many acknowledgements arrived; fails if one arrived twice."""
    ids = [email.message_from_bytes(m.data)["Message-ID"] for m in smtp.received]
    assert len(ids) == len(set(ids)), "an acknowledgement arrived twice"
    return len(ids)


# --- IMAP ---------------------------------------------------------------------------------


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop_imap(server: dovecot_fixture.DovecotServer) -> None:
    """Kill Dovecot and its session processes (a crash), keeping its mail on disk."""
    assert server.process is not None
    for pid in [server.process.pid, *_descendants(server.process.pid)]:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server.process.wait(timeout=10)


def start_imap(server: dovecot_fixture.DovecotServer) -> None:
    server.process = subprocess.Popen(
        [dovecot_fixture._dovecot_binary("dovecot"), "-F", "-c", str(server.conf)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    dovecot_fixture._wait_until_ready(server)


@pytest.fixture
def own_dovecot(dovecot):
    """A second private Dovecot this test may stop and start (the session's one stays up)."""
    server = dovecot_fixture.start_dovecot()
    try:
        yield server
    finally:
        dovecot_fixture.stop_dovecot(server)


def test_imap_server_stopped_mid_batch(own_dovecot, smtp_server, db, pipeline):
    server = own_dovecot
    uids = [server.append(raw, msg_time=RECEIVED) for raw in requests(4, seed=900)]
    settings = make_settings(db.url, [mailbox(AGO, server.imap_settings())],
                             smtp_server.settings())
    batches = []

    def hook(point: str, batch) -> None:
        # The first batch is committed; the server goes away before it is flagged.
        if point == "after_commit":
            batches.append(batch)
            if len(batches) == 1:
                stop_imap(server)

    worker = Worker(settings, pipeline=pipeline,
                    processor_kwargs={"fault_hook": hook, "batch_size": 2})
    report = worker.run_once()
    assert "ago" in report.errors  # the pass stopped: the server is gone
    assert totals(db.sessions)["messages"] == 2
    worker.engine.dispose()

    start_imap(server)
    assert all(PROCESSED_KEYWORD not in server.flags("INBOX", uid) for uid in uids)
    report = Worker(settings, pipeline=pipeline, processor_kwargs={"batch_size": 2}).run_once()
    assert report.errors == {}
    assert report.passes[0].already_recorded == 2  # recognised, only flagged now
    assert totals(db.sessions) == {"messages": 4, "cases": 4, "sent": 4}
    assert all(PROCESSED_KEYWORD in server.flags("INBOX", uid) for uid in uids)
    assert once_each(smtp_server) == 4


# --- SMTP ---------------------------------------------------------------------------------


def test_smtp_down_for_a_while_then_back(imap, smtp_tls_files, db, pipeline, monkeypatch):
    from tests.fixtures.smtp import PASSWORD_ENV, SMTP_PASSWORD

    monkeypatch.setenv(PASSWORD_ENV, SMTP_PASSWORD)
    port = free_port()
    for raw in requests(5, seed=950):
        imap.append(raw, msg_time=RECEIVED)
    with ExitStack() as stack:
        smtp = stack.enter_context(run_smtp_server(smtp_tls_files, port=port))
        smtp_settings = smtp.settings()
    # The server is down (nothing listens on its port): cases are recorded, replies wait.
    settings = make_settings(db.url, [mailbox(AGO, imap.imap_settings())], smtp_settings)
    worker = Worker(settings, pipeline=pipeline)
    report = worker.run_once()
    assert report.errors == {} and report.outbox.transport_error
    for _ in range(3):  # the sender keeps trying while it is down: no attempt is burnt
        assert worker.flush().transport_error
    with db.sessions() as s:
        rows = s.scalars(select(OutboxItem)).all()
        assert [(r.status, r.attempts) for r in rows] == [("pending", 0)] * 5

    # Back up; then it goes away again in the middle of the queue, and comes back once more.
    smtp_box = ExitStack()
    smtp = smtp_box.enter_context(run_smtp_server(smtp_tls_files, port=port))
    flushed = []

    def hook(point: str, _item_id: int) -> None:
        if point == "after_record":
            flushed.append(_item_id)
            if len(flushed) == 2:
                smtp_box.close()  # the server stops between two replies

    stats = flush_outbox(db.sessions, lambda: open_transport(smtp_settings), 8, fault_hook=hook)
    assert stats.sent == 2 and stats.transport_error
    delivered = once_each(smtp)
    with run_smtp_server(smtp_tls_files, port=port) as smtp_again:
        stats = worker.flush()
        assert stats.sent == 3 and stats.uncertain == 0
        assert delivered + once_each(smtp_again) == 5
    with db.sessions() as s:
        rows = s.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
        assert [(r.status, r.attempts) for r in rows] == [("sent", 1)] * 5
    worker.engine.dispose()


# --- the database ---------------------------------------------------------------------------


@pytest.fixture
def pg_db(db_url):
    """A PostgreSQL database whose connections carry a name of their own, to cut only them."""
    if not db_url.startswith("postgresql"):
        pytest.skip("cutting server connections is a PostgreSQL test")
    name = f"intake-outage-{uuid.uuid4().hex[:8]}"
    url = f"{db_url}&application_name={name}"
    engine = make_engine(url)
    upgrade(engine)
    try:
        yield url, name, make_session_factory(engine)
    finally:
        engine.dispose()


def cut(name: str) -> int:
    """Terminate every server connection of this test's application name (no one else's)."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"), {"name": name},
            ).all())
    finally:
        admin.dispose()


def test_database_connections_cut_during_a_pass(pg_db, imap, smtp_server, pipeline):
    url, name, sessions = pg_db
    uids = [imap.append(raw, msg_time=RECEIVED) for raw in requests(4, seed=980)]
    settings = make_settings(url, [mailbox(AGO, imap.imap_settings())], smtp_server.settings())
    seen = []

    def hook(point: str, batch) -> None:
        if point == "before_commit":
            seen.append(batch)
            if len(seen) == 2:  # the database "restarts" while the 2nd batch commits
                assert cut(name) >= 1

    worker = Worker(settings, pipeline=pipeline,
                    processor_kwargs={"fault_hook": hook, "batch_size": 2})
    report = worker.run_once()
    assert "ago" in report.errors
    # The first batch is in; the second was lost with its transaction, not half-recorded.
    assert totals(sessions)["messages"] == 2
    report = worker.run_once()  # the same worker, on fresh connections
    assert report.errors == {}
    assert totals(sessions) == {"messages": 4, "cases": 4, "sent": 4}
    assert all(PROCESSED_KEYWORD in imap.flags("INBOX", uid) for uid in uids)
    assert once_each(smtp_server) == 4
    worker.engine.dispose()


def test_lock_lost_with_its_connection_is_noticed(pg_db):
    _url, name, sessions = pg_db
    lock = locks_for_sessions(sessions).try_acquire("mailbox:ago/INBOX")
    assert lock is not None and lock.alive()
    assert cut(name) >= 1
    assert not lock.alive()
    # The server freed it with the session: someone else may take it now.
    again = locks_for_sessions(sessions).try_acquire("mailbox:ago/INBOX")
    assert again is not None
    again.release()
    lock.release()


def test_sqlite_lock_file_is_not_world_readable(db):
    if not db.url.startswith("sqlite"):
        pytest.skip("the flock files are SQLite's")
    lock = locks_for_sessions(db.sessions).try_acquire("mailbox:ago/INBOX")
    assert lock is not None
    try:
        database = db.url.removeprefix("sqlite:///")
        directory = f"{database}.locks"
        assert oct(os.stat(directory).st_mode & 0o777) == "0o700"
        assert all(oct(os.stat(os.path.join(directory, f)).st_mode & 0o777) == "0o600"
                   for f in os.listdir(directory))
    finally:
        lock.release()
