"""One pass over a mailbox: fetch, triage, record in one transaction, then mark on the server.

The order is what makes processing exactly-once: the server flag (or move) is set only after the
transaction that records the message has committed; a message seen again is recognised in the
database (server position, then Message-ID / content hash) and only marked, never re-processed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from intake.cases.models import Event, MailboxState, Message
from intake.cases.recorder import find_recorded, record_message
from intake.config import MailboxSettings, Settings
from intake.message import MessageParseError, ParsedMessage, content_hash, parse_message
from intake.source.base import FetchedMessage, MessageSource
from intake.triage import TriagePipeline

log = logging.getLogger(__name__)
FETCH_BATCH = 100
LEASE = timedelta(minutes=10)

# Points where tests interrupt processing to prove that nothing is lost or handled twice.
FAULT_POINTS = ("before_commit", "after_commit", "after_mark")


class SimulatedCrash(BaseException):
    """Raised by a fault hook in tests: behaves like the process dying at that point."""


@dataclass
class PassStats:
    """Counts of one pass over one mailbox."""

    mailbox: str
    seen: int = 0
    recorded: int = 0
    duplicates: int = 0
    already_recorded: int = 0
    quarantined: int = 0
    cases_opened: int = 0
    acknowledgements_queued: int = 0
    errors: list[str] = field(default_factory=list)


class LeaseHeld(RuntimeError):
    """Another worker holds this mailbox folder."""


class Processor:
    """Processes the pending messages of mailbox sources into the database."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        pipeline: TriagePipeline,
        worker_id: str,
        fault_hook: Callable[[str, FetchedMessage], None] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.pipeline = pipeline
        self.worker_id = worker_id
        self.fault_hook = fault_hook
        self.now = now

    def process_mailbox(
        self,
        mailbox: MailboxSettings,
        source: MessageSource,
        stop: threading.Event | None = None,
    ) -> PassStats:
        """Process every pending message; stops between messages when `stop` is set."""
        stats = PassStats(mailbox.key)
        source.connect()
        try:
            uidvalidity = source.uidvalidity()
            self._take_lease(mailbox.key, source.folder, uidvalidity)
            try:
                pending = source.pending_uids()
                for start in range(0, len(pending), FETCH_BATCH):
                    for fetched in source.fetch(pending[start : start + FETCH_BATCH]):
                        if stop is not None and stop.is_set():
                            return stats
                        self.process_one(mailbox, source, fetched, stats)
            finally:
                self._release_lease(mailbox.key, source.folder)
        finally:
            source.close()
        return stats

    def process_one(
        self,
        mailbox: MailboxSettings,
        source: MessageSource,
        fetched: FetchedMessage,
        stats: PassStats,
    ) -> None:
        stats.seen += 1
        with self.sessions() as session:
            known = find_recorded(session, fetched)
            if known is not None:
                # Recorded before, but the server mark was lost (crash after commit): finish it.
                stats.already_recorded += 1
                self._mark(source, fetched, known.status, known.quarantine_reason or "")
                return
        try:
            msg = parse_message(fetched.raw)
            triage = self.pipeline.triage(msg)
            with self.sessions() as session, session.begin():
                outcome = record_message(
                    session, mailbox, self.settings.smtp, fetched, msg, triage, self.now()
                )
                self._advance_state(session, fetched)
                self._fault("before_commit", fetched)
        except SimulatedCrash:
            raise
        except IntegrityError:
            # Another worker recorded this position between our check and our insert.
            log.warning("message recorded concurrently", extra=self._log_ids(fetched))
            stats.already_recorded += 1
            return
        except Exception as exc:  # a bug or hostile input must not stop the loop
            self._quarantine(mailbox, source, fetched, exc, stats)
            return
        self._fault("after_commit", fetched)
        status = "duplicate" if outcome.status == "duplicate" else "processed"
        self._mark(source, fetched, status, "")
        self._fault("after_mark", fetched)
        if outcome.status == "duplicate":
            stats.duplicates += 1
        else:
            stats.recorded += 1
        stats.cases_opened += int(outcome.opened_case)
        stats.acknowledgements_queued += int(outcome.acknowledgement_queued)
        log.info(
            "message recorded",
            extra={
                **self._log_ids(fetched),
                "status": outcome.status,
                "case": outcome.case_reference,
                "kind": triage.kind,
            },
        )

    def _mark(
        self, source: MessageSource, fetched: FetchedMessage, status: str, reason: str
    ) -> None:
        if status == "quarantined":
            source.quarantine(fetched.uid, reason)
        else:
            source.mark_processed(fetched.uid)

    def _quarantine(
        self,
        mailbox: MailboxSettings,
        source: MessageSource,
        fetched: FetchedMessage,
        exc: Exception,
        stats: PassStats,
    ) -> None:
        reason = _reason(exc)
        log.error(
            "message quarantined",
            extra={**self._log_ids(fetched), "reason": reason},
            exc_info=not isinstance(exc, MessageParseError),
        )
        headers = _safe_headers(fetched.raw)
        with self.sessions() as session, session.begin():
            row = Message(
                mailbox_key=mailbox.key,
                folder=fetched.folder,
                uidvalidity=fetched.uidvalidity,
                uid=fetched.uid,
                message_id=headers.message_id if headers else None,
                content_hash=content_hash(fetched.raw),
                received_at=fetched.internaldate,
                from_address=(headers.from_address if headers else "")[:320],
                subject=(headers.subject if headers else "")[:500],
                status="quarantined",
                quarantine_reason=reason,
            )
            session.add(row)
            session.flush()
            session.add(Event(message_pk=row.id, actor="intake", type="quarantined", reason=reason))
            self._advance_state(session, fetched)
        stats.quarantined += 1
        stats.errors.append(reason)
        source.quarantine(fetched.uid, reason)

    def _advance_state(self, session: Session, fetched: FetchedMessage) -> None:
        state = session.get(MailboxState, (fetched.mailbox_key, fetched.folder))
        if state is not None and fetched.uid > (state.last_uid or 0):
            state.last_uid = fetched.uid

    def _take_lease(self, mailbox_key: str, folder: str, uidvalidity: int) -> None:
        now = self.now()
        with self.sessions() as session, session.begin():
            state = session.get(MailboxState, (mailbox_key, folder), with_for_update=True)
            if state is None:
                state = MailboxState(mailbox_key=mailbox_key, folder=folder, last_uid=0)
                session.add(state)
            elif (
                state.lease_holder not in (None, self.worker_id)
                and state.lease_until is not None
                and state.lease_until > now
            ):
                raise LeaseHeld(
                    f"{mailbox_key}/{folder} is being processed by {state.lease_holder}"
                )
            if state.uidvalidity is not None and state.uidvalidity != uidvalidity:
                # The server renumbered the folder: positions are meaningless now, so recognition
                # falls back to Message-ID / content hash for every message there.
                log.warning(
                    "UIDVALIDITY changed",
                    extra={
                        "mailbox": mailbox_key,
                        "folder": folder,
                        "old": state.uidvalidity,
                        "new": uidvalidity,
                    },
                )
                session.add(
                    Event(
                        actor="intake",
                        type="uidvalidity_changed",
                        reason=f"{mailbox_key}/{folder}: {state.uidvalidity} -> {uidvalidity}",
                    )
                )
                state.last_uid = 0
            state.uidvalidity = uidvalidity
            state.lease_holder, state.lease_until, state.last_poll_at = (
                self.worker_id,
                now + LEASE,
                now,
            )

    def _release_lease(self, mailbox_key: str, folder: str) -> None:
        with self.sessions() as session, session.begin():
            state = session.get(MailboxState, (mailbox_key, folder))
            if state is not None and state.lease_holder == self.worker_id:
                state.lease_holder, state.lease_until = None, None

    def _fault(self, point: str, fetched: FetchedMessage) -> None:
        if self.fault_hook is not None:
            self.fault_hook(point, fetched)

    @staticmethod
    def _log_ids(fetched: FetchedMessage) -> dict[str, object]:
        return {
            "mailbox": fetched.mailbox_key,
            "folder": fetched.folder,
            "uidvalidity": fetched.uidvalidity,
            "uid": fetched.uid,
        }


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _safe_headers(raw: bytes) -> ParsedMessage | None:
    try:
        return parse_message(raw)
    except Exception:
        return None


def recorded_positions(session: Session, mailbox_key: str) -> list[tuple[str, int, int]]:
    """(folder, uidvalidity, uid) of every recorded message of a mailbox (for tests and tools)."""
    rows = session.execute(
        select(Message.folder, Message.uidvalidity, Message.uid).where(
            Message.mailbox_key == mailbox_key
        )
    )
    return [tuple(r) for r in rows]
