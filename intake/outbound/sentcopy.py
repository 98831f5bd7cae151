"""Copies of sent replies in the mailbox's Sent folder, so staff see in Outlook what was promised.

Runs after the sender job, on outbox rows already recorded as "sent": a failure here is retried
with backoff and never touches the outbox row, so the mail itself is never sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.config import ImapSettings, Settings
from intake.source.base import SourceError
from intake.source.imap import ImapSource
from intake.store.models import Case, OutboxItem, SentCopy

log = logging.getLogger(__name__)
STAFF_PURPOSES = frozenset({"digest", "overdue_alert"})  # mail to staff: no copy
MAX_ATTEMPTS = 12
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
BATCH = 200


@dataclass
class CopyStats:
    queued: int = 0
    stored: int = 0
    already_there: int = 0
    retried: int = 0
    failed: int = 0


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def copy_sent_replies(
    sessions: sessionmaker[Session],
    settings: Settings,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    open_source: Callable[[str, ImapSettings], ImapSource] = ImapSource,
) -> CopyStats:
    """Queue a copy for every newly sent reply of a mailbox with a sent_folder; store due ones."""
    stats = CopyStats()
    folders = {
        m.key: m.imap.sent_folder
        for m in settings.mailboxes
        if m.imap is not None and m.imap.sent_folder
    }
    if not folders:
        return stats
    stats.queued = _queue(sessions, folders, now())
    for mailbox in settings.mailboxes:
        if mailbox.key in folders and folders[mailbox.key] != "server":
            assert mailbox.imap is not None
            _store(sessions, mailbox.key, mailbox.imap, now, open_source, stats)
    if stats.stored or stats.retried or stats.failed:
        log.info("sent copies", extra=vars(stats))
    return stats


def _queue(sessions: sessionmaker[Session], folders: dict[str, str], at: datetime) -> int:
    """A sent_copy row for each sent reply (to a requester) that has none yet."""
    with sessions() as session, session.begin():
        rows = session.execute(
            select(OutboxItem.id, Case.mailbox_key)
            .join(Case, Case.id == OutboxItem.case_id)
            .outerjoin(SentCopy, SentCopy.outbox_id == OutboxItem.id)
            .where(
                OutboxItem.status == "sent",
                OutboxItem.purpose.not_in(STAFF_PURPOSES),
                Case.mailbox_key.in_(list(folders)),
                SentCopy.outbox_id.is_(None),
            )
            .order_by(OutboxItem.id)
            .limit(5 * BATCH)
        ).all()
        for outbox_id, mailbox_key in rows:
            folder = folders[mailbox_key]
            session.add(SentCopy(
                outbox_id=outbox_id, mailbox_key=mailbox_key, folder=folder,
                status="server" if folder == "server" else "pending",
                attempts=0, next_attempt_at=at, created_at=at,
            ))
        return len(rows)


def _store(
    sessions: sessionmaker[Session],
    mailbox_key: str,
    imap: ImapSettings,
    now: Callable[[], datetime],
    open_source: Callable[[str, ImapSettings], ImapSource],
    stats: CopyStats,
) -> None:
    with sessions() as session:
        due = session.execute(
            select(SentCopy.outbox_id, SentCopy.folder, OutboxItem.message_id,
                   OutboxItem.sent_at, OutboxItem.raw)
            .join(OutboxItem, OutboxItem.id == SentCopy.outbox_id)
            .where(SentCopy.mailbox_key == mailbox_key, SentCopy.status == "pending",
                   SentCopy.next_attempt_at <= now())
            .order_by(SentCopy.outbox_id)
            .limit(BATCH)
        ).all()
    if not due:
        return
    source = open_source(mailbox_key, imap)
    remaining = list(due)
    try:
        source.connect()
        while remaining:
            outbox_id, folder, message_id, sent_at, raw = remaining[0]
            stored = source.store_copy(folder, raw, message_id, sent_at or now())
            _record(sessions, outbox_id, None, now())
            remaining.pop(0)
            if stored:
                stats.stored += 1
            else:
                stats.already_there += 1
    except SourceError as exc:
        # The rest of this batch waits for its next attempt.
        for outbox_id, *_ in remaining:
            if _record(sessions, outbox_id, str(exc), now()):
                stats.retried += 1
            else:
                stats.failed += 1
        log.warning("sent copy not stored",
                    extra={"mailbox": mailbox_key, "error": str(exc)[:200]})
    finally:
        source.close()


def _record(
    sessions: sessionmaker[Session], outbox_id: int, error: str | None, at: datetime
) -> bool:
    """Mark one copy stored (error None) or failed once; True while it will be retried."""
    with sessions() as session, session.begin():
        row = session.get(SentCopy, outbox_id)
        if row is None or row.status != "pending":
            return False
        if error is None:
            row.status, row.stored_at, row.last_error = "stored", at, None
            return False
        row.attempts += 1
        row.last_error = error[:500]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
            return False
        row.next_attempt_at = at + backoff(row.attempts)
        return True
