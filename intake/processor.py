"""One pass over a mailbox: fetch, triage, record in one transaction, then mark on the server.

The order is what makes processing exactly-once: the server flag (or move) is set only after the
transaction that records the message has committed; a message seen again is recognised in the
database (server position, then Message-ID / content hash) and only marked, never re-processed.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from intake import inflight
from intake.cases import manual
from intake.cases.recorder import SYSTEM_ACTOR, BatchRecorder, RecordOutcome
from intake.cases.workflow import record_event
from intake.config import MailboxSettings, Settings
from intake.guard import check_guard
from intake.identity.dmarc import ENFORCED, dmarc_failed, dmarc_policy
from intake.message import (
    MessageParseError,
    ParsedMessage,
    content_hash,
    header_fields,
    parse_message,
)
from intake.source.base import FetchedMessage, MessageSource
from intake.startup import DeferredPipeline
from intake.store.enums import CaseKind
from intake.store.locks import HeldLock, locks_for_sessions
from intake.store.models import Event, MailboxState, Message
from intake.triage import TriagePipeline, TriageResult

log = logging.getLogger(__name__)
BATCH_SIZE = 50  # messages per transaction and per server round trip
# A batch is held in memory from its fetch to its commit (raw bytes, parsed text, triage): it is
# also cut at this many bytes of mail (a message larger than this is a batch of its own).
BATCH_BYTES = 16 << 20
# A folder is locked by a lock that dies with its holder (intake.store.locks); lease_until is
# only informative, renewed this often / 4 while the lock's connection is also checked.
LEASE = timedelta(minutes=2)

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
    # recorded messages by what became of them (the triage's disposition), for the metrics
    dispositions: Counter[str] = field(default_factory=Counter)


class _MessageFailed(Exception):
    """Recording one message of a batch raised; the batch is recorded again, carefully."""


# A fetched message with its parse and triage, or the error that stopped them.
_Prepared = tuple[FetchedMessage, ParsedMessage | None, TriageResult | None, Exception | None]


class LeaseHeld(RuntimeError):
    """Another worker holds this mailbox folder (or this worker lost its lock on it).

    `lock_name` is set when a live worker holds the folder: the caller may stand by on that lock
    (intake.daemon) and take over the moment it is free."""

    def __init__(self, text: str, lock_name: str | None = None) -> None:
        super().__init__(text)
        self.lock_name = lock_name


class Processor:
    """Processes the pending messages of mailbox sources into the database."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        pipeline: TriagePipeline | DeferredPipeline,
        worker_id: str,
        fault_hook: Callable[[str, list[FetchedMessage]], None] | None = None,
        batch_size: int = BATCH_SIZE,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        triage_deadline: float | None = None,
        batch_bytes: int = BATCH_BYTES,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.pipeline = pipeline
        self.worker_id = worker_id
        self.fault_hook = fault_hook
        self.batch_size = batch_size
        self.batch_bytes = batch_bytes
        # When we last set each lease we hold: (mailbox key, folder) -> time. Mailboxes are
        # polled by concurrent jobs, each touching only its own key.
        self._lease_set_at: dict[tuple[str, str], datetime] = {}
        self._locks_held: dict[tuple[str, str], HeldLock] = {}  # the folder locks we hold
        self.now = now
        # Told the wall time and review flag of each triage (the worker's metrics), if set.
        self.observe_triage: Callable[[float, bool], None] | None = None
        # Seconds one message's triage may take before the worker ends itself (None: no limit).
        self.triage_deadline = triage_deadline

    def process_mailbox(
        self,
        mailbox: MailboxSettings,
        source: MessageSource,
        stop: threading.Event | None = None,
    ) -> PassStats:
        """Process every pending message; stops between batches when `stop` is set."""
        stats = PassStats(mailbox.key)
        source.connect()
        try:
            uidvalidity = source.uidvalidity()
            self._take_lease(mailbox.key, source.folder, uidvalidity)
            try:
                pending = source.pending_uids()
                sizes = getattr(source, "sizes", None)
                known = sizes(pending) if sizes is not None and pending else {}
                for uids in _batches(pending, known, self.batch_size, self.batch_bytes):
                    if stop is not None and stop.is_set():
                        break
                    batch = source.fetch(uids)
                    self.process_batch(mailbox, source, batch, stats)
                    del batch
                    release_memory()
            finally:
                self._release_lease(mailbox.key, source.folder)
        finally:
            source.close()
        return stats

    def process_batch(
        self,
        mailbox: MailboxSettings,
        source: MessageSource,
        batch: list[FetchedMessage],
        stats: PassStats,
    ) -> None:
        """Record a batch in one transaction, then mark it on the server.

        One commit and one server round trip per batch instead of per message; a crash before
        the commit loses the whole batch's work and the batch is simply processed again.
        Messages left in flight by a worker that died are read one at a time, so one poison
        message costs the others nothing; after two deaths it is quarantined unread.
        """
        if not batch:
            return
        stats.seen += len(batch)
        known = self._recorded(batch)
        if known:
            # Recorded before, but the server mark was lost (crash after commit): finish it.
            stats.already_recorded += len(known)
            self._mark(source, [(uid, status) for uid, status in known.items()])
            with self.sessions() as session, session.begin():
                inflight.clear(session, [f for f in batch if f.uid in known])
        new = [f for f in batch if f.uid not in known]
        if not new:
            return
        tried = inflight.attempts(self.sessions, new)
        died = [f for f in new if tried.get(f.uid, 0) >= inflight.DEATHS_BEFORE_QUARANTINE]
        if died:
            for fetched in died:
                log.error("worker died twice while reading this message: quarantined",
                          extra=self._log_ids(fetched))
            self._process(mailbox, source, died, stats, dead=True)
        for fetched in new:
            if 0 < tried.get(fetched.uid, 0) < inflight.DEATHS_BEFORE_QUARANTINE:
                self._process(mailbox, source, [fetched], stats, retry=True)
        fresh = [f for f in new if f.uid not in tried]
        if fresh:
            self._process(mailbox, source, fresh, stats)

    def _process(
        self,
        mailbox: MailboxSettings,
        source: MessageSource,
        batch: list[FetchedMessage],
        stats: PassStats,
        dead: bool = False,
        retry: bool = False,
    ) -> None:
        """Mark in flight, triage, record in one transaction, mark on the server."""
        new = batch
        prepared: list[_Prepared] = []
        if dead:
            prepared = [(f, None, None, inflight.WorkerDied()) for f in batch]
        else:
            # A worker that has just started may still be loading its classifier: wait for it
            # before marking in flight, so a death while loading is not a death on a message.
            pipeline = self.pipeline.wait()
            if retry:
                # A message a worker died on is read again with every language built first: the
                # build of its language (seconds, on demand) must not widen its window in flight,
                # or a second death there would quarantine mail that is not to blame.
                pipeline.classifier.warm()
            inflight.mark(self.sessions, batch, self.worker_id, self.now())
        for fetched in [] if dead else new:
            with inflight.Deadline(self.triage_deadline):
                prepared.append(self._triage(fetched))
            # OCR of attachments can make a batch slow: keep the lease while triaging.
            self._keep_lease(fetched.mailbox_key, fetched.folder)
        if retry:
            # A message a worker died on, read alone, went through triage: a death from here on
            # (recording, the server flag) is not its doing, so this attempt does not count
            # towards its quarantine. Recording takes longer than triage: without this, a
            # worker killed for another reason while recording it would quarantine it.
            inflight.read_through(self.sessions, new)

        try:
            try:
                outcomes, quarantined, cased = self._record(mailbox, batch, prepared,
                                                            careful=False)
            except _MessageFailed:
                # One message made recording fail; the transaction is gone. Record the batch
                # again with a savepoint per message, so that message alone is quarantined.
                outcomes, quarantined, cased = self._record(mailbox, batch, prepared,
                                                            careful=True)
        except IntegrityError:
            # Another worker recorded one of these positions meanwhile; the next pass sees them.
            log.warning("batch recorded concurrently", extra={"mailbox": mailbox.key})
            return
        self._fault("after_commit", batch)
        self._mark(
            source,
            [(f.uid, "quarantined" if f.uid in quarantined else "processed") for f in new],
            quarantined,
        )
        self._fault("after_mark", batch)

        for fetched, _msg, triage, _error in prepared:
            outcome = outcomes.get(fetched.uid)
            if outcome is None:
                continue
            if outcome.status == "duplicate":
                stats.duplicates += 1
            else:
                stats.recorded += 1
            stats.dispositions[_disposition(outcome.status, triage)] += 1
            stats.cases_opened += int(outcome.opened_case)
            stats.acknowledgements_queued += int(outcome.acknowledgement_queued)
            log.info(
                "message recorded",
                extra={
                    **self._log_ids(fetched),
                    "status": outcome.status,
                    "case": outcome.case_reference,
                    "kind": triage.kind if triage else None,
                },
            )
        stats.quarantined += len(quarantined)
        stats.cases_opened += len(cased)  # cases to classify for quarantined messages
        stats.acknowledgements_queued += sum(cased.values())
        stats.dispositions["quarantined"] += len(quarantined)
        stats.errors.extend(quarantined.values())

    def _record(
        self,
        mailbox: MailboxSettings,
        batch: list[FetchedMessage],
        prepared: list[_Prepared],
        careful: bool,
    ) -> tuple[dict[int, RecordOutcome], dict[int, str], dict[int, bool]]:
        """One transaction for the batch. Not careful: no savepoints (fast), and a message that
        fails raises _MessageFailed. Careful: a savepoint per message; failures are quarantined,
        each with a case to classify (the UIDs of those whose case was opened are returned)."""
        outcomes: dict[int, RecordOutcome] = {}
        quarantined: dict[int, str] = {}
        cased: dict[int, bool] = {}  # quarantined UID with a case -> acknowledgement queued
        with self.sessions() as session, session.begin():
            recorder = BatchRecorder(
                session,
                mailbox,
                self.settings.smtp,
                [msg for _fetched, msg, _triage, error in prepared if msg and error is None],
                self.now(),
            )
            for run in _runs(prepared, careful):
                fetched, error = run[0][0], run[0][3]
                if error is None:
                    try:
                        with session.begin_nested() if careful else nullcontext():
                            done = recorder.record(
                                [(f, m, t) for f, m, t, _e in run if m and t], self.now
                            )
                        outcomes.update(zip((f.uid for f, *_ in run), done, strict=True))
                    except (IntegrityError, OperationalError, InterfaceError):
                        raise  # the database, not the message: the batch is retried
                    except Exception as exc:  # a bug or hostile input: quarantine it
                        if not careful:
                            raise _MessageFailed from exc
                        error = exc
                if error is not None:
                    quarantined[fetched.uid], opened, acknowledged = self._record_quarantine(
                        session, recorder, mailbox, fetched, error
                    )
                    if opened:
                        cased[fetched.uid] = acknowledged
            self._advance_state(session, batch)
            inflight.clear(session, batch)
            self._fault("before_commit", batch)
        return outcomes, quarantined, cased

    def _triage(self, fetched: FetchedMessage) -> _Prepared:
        try:
            inflight.abort_if_marked(fetched.raw)
            msg = parse_message(fetched.raw)
            started = time.perf_counter()
            triage = self.pipeline.triage(msg)
            if self.observe_triage is not None:
                self.observe_triage(time.perf_counter() - started, triage.needs_review)
            # Recording reads the text and headers; the decoded attachments and the HTML are
            # not kept in memory until the batch commits (the raw bytes are the fetch's own).
            return fetched, dataclasses.replace(msg, attachments=(), html=None), triage, None
        except Exception as exc:  # hostile MIME or a bug in a stage: quarantined, never fatal
            return fetched, None, None, exc

    def _recorded(self, batch: list[FetchedMessage]) -> dict[int, str]:
        """UID -> status of the messages of this batch that are already in the database."""
        first = batch[0]
        with self.sessions() as session:
            rows = session.execute(
                select(Message.uid, Message.status).where(
                    Message.mailbox_key == first.mailbox_key,
                    Message.folder == first.folder,
                    Message.uidvalidity == first.uidvalidity,
                    Message.uid.in_([f.uid for f in batch]),
                )
            ).all()
        return {uid: status for uid, status in rows}

    def _mark(
        self,
        source: MessageSource,
        fates: list[tuple[int, str]],
        reasons: dict[int, str] | None = None,
    ) -> None:
        done = [uid for uid, status in fates if status != "quarantined"]
        source.mark_processed(done)
        for uid, status in fates:
            if status == "quarantined":
                source.quarantine(uid, (reasons or {}).get(uid, "quarantined earlier"))

    def _record_quarantine(
        self,
        session: Session,
        recorder: BatchRecorder,
        mailbox: MailboxSettings,
        fetched: FetchedMessage,
        exc: Exception,
    ) -> tuple[str, bool, bool]:
        """Record a message set aside unread, and open its case to classify (fail-safe).

        Returns the reason, whether the case was opened and whether its acknowledgement was
        queued."""
        reason = _reason(exc)
        log.error(
            "message quarantined",
            extra={**self._log_ids(fetched), "reason": reason},
            exc_info=not isinstance(exc, MessageParseError | inflight.WorkerDied),
        )
        headers = header_fields(fetched.raw)  # the header block only: the message is not read
        digest = headers.content_hash if headers else content_hash(fetched.raw)
        earlier = recorder.earlier_copy(digest, headers.message_id if headers else None,
                                        headers.from_address if headers else "")
        row = Message(
            mailbox_key=mailbox.key,
            folder=fetched.folder,
            uidvalidity=fetched.uidvalidity,
            uid=fetched.uid,
            message_id=headers.message_id if headers else None,
            content_hash=digest,
            received_at=fetched.internaldate,
            from_address=(headers.from_address if headers else "")[:320],
            from_name=(headers.from_name if headers else "")[:200],
            subject=(headers.subject if headers else "")[:500],
            status="quarantined",
            quarantine_reason=reason,
        )
        if earlier is not None:
            # A copy of mail recorded before (the same poison delivered twice): it joins the
            # first one's case, if any, as a duplicate does; it opens no case of its own.
            row.duplicate_of_id, row.case_id = earlier.id, earlier.case_id
        session.add(row)
        session.flush()
        if earlier is None:
            recorder.remember(row)  # a later copy of this mail is its duplicate (in its case)
        record_event(session, None, "quarantined", reason, "intake", message_pk=row.id)
        if earlier is not None:
            return reason, False, False
        opened = self._open_quarantine_case(session, mailbox, row, exc, headers)
        return reason, opened is not None, opened is not None and opened.acknowledgement is not None

    def _open_quarantine_case(
        self, session: Session, mailbox: MailboxSettings, row: Message, exc: Exception,
        headers: ParsedMessage | None,
    ) -> manual.Opened | None:
        """A case to classify for a quarantined message, its clock provisionally from receipt.

        The message may be a request: its legal clock runs whether or not it could be read, and
        its sender gets the neutral acknowledgement of a case to classify when the header checks
        the triage makes allow it (`_may_acknowledge_unread`). In a savepoint: should opening the
        case fail, the message is still quarantined and listed for staff, and the mailbox goes on.
        """
        why = ("worker died twice while reading it" if isinstance(exc, inflight.WorkerDied)
               else row.quarantine_reason or type(exc).__name__)
        review = f"quarantined ({why}): not read; to classify by hand"
        if len(review) > 300:
            review = f"quarantined ({why[:240]}…): not read; to classify by hand"
        now = self.now()
        try:
            with session.begin_nested():
                opened = manual.open_case(
                    session, mailbox,
                    # a server clock ahead of ours must not refuse the case
                    received=min(row.received_at, now),
                    requester_name=row.from_name, requester_address=row.from_address,
                    rights=(), kind=CaseKind.TO_CLASSIFY, actor=SYSTEM_ACTOR, now=now,
                    reason=f"to classify: message {row.message_id or row.id} quarantined "
                           f"({why}); the clock runs provisionally from its receipt",
                    message=row, acknowledge=self._may_acknowledge_unread(row, exc, headers),
                    language=mailbox.reply_languages[0] if mailbox.reply_languages else "nl",
                    review_reason=review, by_hand=False,
                )
        except (IntegrityError, OperationalError, InterfaceError):
            raise  # the database, not the message: the batch is retried
        except Exception:
            log.exception("case for a quarantined message not opened: staff must open it",
                          extra={"mailbox": row.mailbox_key, "uid": row.uid})
            return None
        log.warning("quarantined message: case to classify opened",
                    extra={"mailbox": row.mailbox_key, "uid": row.uid,
                           "case": opened.case.reference,
                           "acknowledgement": opened.acknowledgement is not None})
        return opened

    def _may_acknowledge_unread(self, row: Message, exc: Exception,
                                headers: ParsedMessage | None) -> bool:
        """Whether a quarantined message's sender gets the neutral acknowledgement: only when
        workers died while reading it (a message that failed to record may be broken in ways
        the header block does not show) and its header block alone passes what the triage
        checks before any reply: a person wrote it (no robot, list, bounce or loop to our own
        addresses) and DMARC did not fail under an enforced policy."""
        if not isinstance(exc, inflight.WorkerDied) or headers is None or not row.from_address:
            return False
        try:
            guard = check_guard(headers, self.settings.all_own_addresses)
            spoofed = dmarc_failed(headers) and dmarc_policy(headers) in ENFORCED
        except Exception:  # hostile header bytes: no reply
            return False
        return guard.may_reply and not spoofed

    def _advance_state(self, session: Session, batch: list[FetchedMessage]) -> None:
        """Note the highest UID recorded and renew the lease, in the batch's transaction."""
        state = session.get(MailboxState, (batch[0].mailbox_key, batch[0].folder))
        if state is None:
            return
        state.last_uid = max(state.last_uid or 0, *(f.uid for f in batch))
        if state.lease_holder == self.worker_id:
            now = self.now()
            state.lease_until = now + LEASE
            self._lease_set_at[(state.mailbox_key, state.folder)] = now

    def _take_lease(self, mailbox_key: str, folder: str, uidvalidity: int) -> None:
        """Lock the folder for this worker, or LeaseHeld at once when a live worker has it.

        The lock dies with its holder (PostgreSQL session advisory lock, or flock next to the
        SQLite file), so a killed worker's successor never waits; lease_holder only says who.
        """
        name = f"mailbox:{mailbox_key}/{folder}"
        lock = locks_for_sessions(self.sessions).try_acquire(name)
        if lock is None:
            with self.sessions() as session:
                state = session.get(MailboxState, (mailbox_key, folder))
                holder = state.lease_holder if state is not None else None
            who = holder or "another worker"
            raise LeaseHeld(f"{mailbox_key}/{folder} is being processed by {who}", name)
        try:
            self._record_lease(mailbox_key, folder, uidvalidity)
        except BaseException:
            lock.release()
            raise
        self._locks_held[(mailbox_key, folder)] = lock

    def _record_lease(self, mailbox_key: str, folder: str, uidvalidity: int) -> None:
        now = self.now()
        with self.sessions() as session, session.begin():
            state = session.get(MailboxState, (mailbox_key, folder), with_for_update=True)
            if state is None:
                state = MailboxState(mailbox_key=mailbox_key, folder=folder, last_uid=0)
                session.add(state)
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
        self._lease_set_at[(mailbox_key, folder)] = now

    def _keep_lease(self, mailbox_key: str, folder: str) -> None:
        """Every quarter LEASE: check that our lock still stands (its database session may have
        ended with a database restart) and note the time in lease_until, for people to see."""
        now = self.now()
        last = self._lease_set_at.get((mailbox_key, folder))
        if last is not None and now < last + LEASE / 4:
            return
        lock = self._locks_held.get((mailbox_key, folder))
        if lock is not None and not lock.alive():
            raise LeaseHeld(f"{mailbox_key}/{folder}: the lock was lost (database connection)")
        with self.sessions() as session, session.begin():
            state = session.get(MailboxState, (mailbox_key, folder))
            if state is not None and state.lease_holder == self.worker_id:
                state.lease_until = now + LEASE
        self._lease_set_at[(mailbox_key, folder)] = now

    def _release_lease(self, mailbox_key: str, folder: str) -> None:
        lock = self._locks_held.pop((mailbox_key, folder), None)
        try:
            with self.sessions() as session, session.begin():
                state = session.get(MailboxState, (mailbox_key, folder))
                if state is not None and state.lease_holder == self.worker_id:
                    state.lease_holder, state.lease_until = None, None
        finally:
            if lock is not None:
                lock.release()

    def _fault(self, point: str, batch: list[FetchedMessage]) -> None:
        if self.fault_hook is not None:
            self.fault_hook(point, batch)

    @staticmethod
    def _log_ids(fetched: FetchedMessage) -> dict[str, object]:
        return {
            "mailbox": fetched.mailbox_key,
            "folder": fetched.folder,
            "uidvalidity": fetched.uidvalidity,
            "uid": fetched.uid,
        }


def _runs(prepared: list[_Prepared], careful: bool) -> Iterator[list[_Prepared]]:
    """The batch in runs recorded together, in order: a message whose triage failed alone, and
    every message alone when careful (each in its own savepoint)."""
    run: list[_Prepared] = []
    for item in prepared:
        if careful or item[3] is not None:
            if run:
                yield run
                run = []
            yield [item]
        else:
            run.append(item)
    if run:
        yield run


def _batches(uids: list[int], sizes: dict[int, int], count: int, limit: int
             ) -> Iterator[list[int]]:
    """`uids` in batches of at most `count` messages and, where sizes are known, at most
    `limit` bytes (a larger message alone)."""
    batch: list[int] = []
    held = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if batch and (len(batch) >= count or held + size > limit):
            yield batch
            batch, held = [], 0
        batch.append(uid)
        held += size
    if batch:
        yield batch


def release_memory() -> None:
    """Give the heap's free pages back to the system after a batch (glibc malloc_trim): a
    batch of big messages otherwise leaves the worker's resident size at its high-water mark."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    """glibc's malloc_trim, looked up once; None where the C library is not glibc."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def _disposition(status: str, triage: TriageResult | None) -> str:
    """What became of a recorded message, in the words of the triage contract."""
    if status == "duplicate":
        return "duplicate"
    found = getattr(triage, "disposition", None) if triage else None
    return str(found or (triage.kind if triage else "unknown"))


def _reason(exc: Exception) -> str:
    if isinstance(exc, inflight.WorkerDied):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"[:500]
