"""Messages in flight: marked durably before triage, counted, quarantined after two worker deaths.

A row in `message_in_flight` is committed before a message is triaged and removed in the
transaction that records it. A row that is still there on the next pass means the worker died
(crash, abort, OOM kill, watchdog) while reading that message or its batch. Such a message is
then read alone, so a second death points at it; after two deaths it is quarantined unread.
While a message is read alone, only a death during its triage counts: once triage is over, the
attempt is taken back (`read_through`), so a worker killed for another reason while it records
the message does not quarantine it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from intake.source.base import FetchedMessage
from intake.store.models import Message, MessageInFlight

log = logging.getLogger(__name__)
WORKER_DIED = "worker died while reading it"
DEATHS_BEFORE_QUARANTINE = 2
# Test hook: when set, triage of a message whose bytes contain this marker aborts the process
# (stands for any crash of a decoding library). Never set in production.
ABORT_MARKER_ENV = "INTAKE_TEST_ABORT_MARKER"
# Test hook: the same for a triage that hangs (stands for a decoder in an endless loop).
HANG_MARKER_ENV = "INTAKE_TEST_HANG_MARKER"


class WorkerDied(Exception):
    """The reason a message is quarantined without being read again."""

    def __init__(self) -> None:
        super().__init__(WORKER_DIED)


def _position(fetched: FetchedMessage) -> tuple[str, str, int, int]:
    return fetched.mailbox_key, fetched.folder, fetched.uidvalidity, fetched.uid


def _where(batch: Sequence[FetchedMessage]):  # type: ignore[no-untyped-def]
    first = batch[0]
    return (
        MessageInFlight.mailbox_key == first.mailbox_key,
        MessageInFlight.folder == first.folder,
        MessageInFlight.uidvalidity == first.uidvalidity,
        MessageInFlight.uid.in_([f.uid for f in batch]),
    )


def attempts(sessions: sessionmaker[Session], batch: Sequence[FetchedMessage]) -> dict[int, int]:
    """UID -> how often a worker started reading it and did not finish (only UIDs with a row)."""
    if not batch:
        return {}
    with sessions() as session:
        rows = session.execute(
            select(MessageInFlight.uid, MessageInFlight.attempts).where(*_where(batch))
        ).all()
    return {uid: count for uid, count in rows}


def mark(
    sessions: sessionmaker[Session],
    batch: Sequence[FetchedMessage],
    worker: str,
    now: datetime,
) -> None:
    """Count one more attempt for each message and commit it, before any of them is triaged."""
    if not batch:
        return
    with sessions() as session, session.begin():
        rows = {
            (row.uid): row
            for row in session.scalars(select(MessageInFlight).where(*_where(batch)))
        }
        for fetched in batch:
            row = rows.get(fetched.uid)
            if row is None:
                key = _position(fetched)
                row = MessageInFlight(
                    mailbox_key=key[0], folder=key[1], uidvalidity=key[2], uid=key[3], attempts=0
                )
                session.add(row)
            row.attempts += 1
            row.started_at, row.worker = now, worker[:120]


def read_through(sessions: sessionmaker[Session], batch: Sequence[FetchedMessage]) -> None:
    """Take back the attempt counted by mark for messages whose triage ended (and commit):
    only a death while a message is being read counts against it."""
    if not batch:
        return
    with sessions() as session, session.begin():
        for row in session.scalars(select(MessageInFlight).where(*_where(batch))):
            row.attempts = max(0, row.attempts - 1)


def clear(session: Session, batch: Sequence[FetchedMessage]) -> None:
    """Forget the in-flight rows of recorded messages (in the caller's transaction)."""
    if batch:
        session.execute(delete(MessageInFlight).where(*_where(batch)))


@dataclass(frozen=True)
class InFlightMessage:
    """A message a worker started reading and has not recorded (yet, or because it died)."""

    mailbox_key: str
    folder: str
    uid: int
    attempts: int
    started_at: datetime
    worker: str


@dataclass(frozen=True)
class DeadWorkerMessage:
    """A message quarantined because the worker died while reading it."""

    message_pk: int
    mailbox_key: str
    folder: str
    uid: int
    received_at: datetime
    quarantined_at: datetime


@dataclass(frozen=True)
class CrashReport:
    """What `intake status` and the digest show about worker deaths."""

    in_flight: list[InFlightMessage]
    quarantined: list[DeadWorkerMessage]

    @property
    def suspect(self) -> list[InFlightMessage]:
        """Messages in flight at least once when a worker died (the next death quarantines)."""
        return [m for m in self.in_flight if m.attempts >= 1]


def crash_report(session: Session, mailbox_key: str | None = None) -> CrashReport:
    """Messages in flight now and messages quarantined because a worker died reading them."""
    flying = select(MessageInFlight).order_by(
        MessageInFlight.started_at, MessageInFlight.mailbox_key, MessageInFlight.uid
    )
    dead = (
        select(Message)
        .where(Message.status == "quarantined", Message.quarantine_reason == WORKER_DIED)
        .order_by(Message.id)
    )
    if mailbox_key is not None:
        flying = flying.where(MessageInFlight.mailbox_key == mailbox_key)
        dead = dead.where(Message.mailbox_key == mailbox_key)
    return CrashReport(
        [
            InFlightMessage(r.mailbox_key, r.folder, r.uid, r.attempts, r.started_at, r.worker)
            for r in session.scalars(flying)
        ],
        [
            DeadWorkerMessage(m.id, m.mailbox_key, m.folder, m.uid, m.received_at, m.created_at)
            for m in session.scalars(dead)
        ],
    )


def abort_if_marked(raw: bytes) -> None:
    """The test hooks: abort (or hang) when the marker env var is set and found in the mail."""
    marker = os.environ.get(ABORT_MARKER_ENV)
    if marker and marker.encode("utf-8") in raw:
        log.critical("test hook: aborting the process on a marked message")
        os.abort()
    marker = os.environ.get(HANG_MARKER_ENV)
    if marker and marker.encode("utf-8") in raw:
        log.critical("test hook: hanging on a marked message")
        threading.Event().wait()


class Deadline:
    """Ends the process when one message's triage runs past `seconds` (a hang is a crash too).

    A hung triage cannot be interrupted from Python; ending the process lets the service manager
    restart the worker, and the in-flight count then quarantines the message after two deaths.
    """

    def __init__(self, seconds: float | None, on_expiry: Callable[[], None] | None = None) -> None:
        self.seconds = seconds
        self.on_expiry = on_expiry or _die
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Deadline:
        if self.seconds:
            self._timer = threading.Timer(self.seconds, self.on_expiry)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _die() -> None:
    # Straight to the file descriptor: the hung thread may hold a logging lock.
    os.write(2, b"CRITICAL intake.inflight triage of one message ran past its deadline: "
                b"ending the worker (exit 70)\n")
    os._exit(70)
