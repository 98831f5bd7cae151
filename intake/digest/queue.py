"""The scheduled digest job: one digest per scope and Brussels day, queued once, and a heartbeat."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.config import ConfigError, MailboxSettings, Settings
from intake.digest.collect import ALL, collect_digest, scope_mailboxes
from intake.digest.render import render_digest, scope_name
from intake.outbound.outbox import pending_item
from intake.outbound.staffmail import build_staff_mail, staff_message_id
from intake.store.enums import LEGAL_CLOCK_KINDS
from intake.store.models import Case, DigestRun, Message, OutboxItem
from intake.store.timezone import BRUSSELS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DigestOutcome:
    """What became of one scope's digest for the period."""

    scope: str
    period: str  # the Brussels date
    status: str  # queued | empty (recorded, not sent) | already_sent | no_recipients
    recipients: tuple[str, ...] = ()
    outbox_ids: tuple[int, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)


def digest_scopes(settings: Settings) -> list[str]:
    """"all" for a combined digest, else every mailbox key."""
    return [ALL] if settings.digest.combined else [m.key for m in settings.mailboxes]


def recipients_for(settings: Settings, mailboxes: Sequence[MailboxSettings]) -> tuple[str, ...]:
    """The staff addresses of these mailboxes ([digest] to first), each once."""
    return tuple(dict.fromkeys(a for m in mailboxes for a in settings.staff_for(m.key)))


def queue_digests(session: Session, settings: Settings, now: datetime, *, force: bool = False,
                  scopes: Sequence[str] | None = None) -> list[DigestOutcome]:
    """Record and queue the digest of every scope (or of `scopes`) for the day of `now`.

    Never twice for a scope and day: a recorded run (even an empty one) makes a second call
    return "already_sent". An empty digest is recorded but not sent unless `send_empty` is set
    or `force` is given. The caller owns the transaction; each scope has its own savepoint.
    Also records the day's heartbeat.
    """
    known = digest_scopes(settings)
    wanted = list(scopes) if scopes is not None else known
    for scope in wanted:
        if scope not in known:
            there = ("one combined digest, \"all\"" if settings.digest.combined
                     else f"one per mailbox: {', '.join(known) or 'none'}")
            raise ConfigError(settings.source, "digest", f"no digest {scope!r}: there is {there}")
    outcomes = [_queue_one(session, settings, scope, now, force) for scope in wanted]
    record_heartbeat(session, settings, now)
    return outcomes


def _queue_one(session: Session, settings: Settings, scope: str, now: datetime,
               force: bool) -> DigestOutcome:
    period = now.astimezone(BRUSSELS).date().isoformat()
    if _recorded(session, scope, period, "digest"):
        return DigestOutcome(scope, period, "already_sent")
    mailboxes = scope_mailboxes(settings, scope)
    recipients = recipients_for(settings, mailboxes)
    if not recipients:
        log.warning("digest not sent: no staff address", extra={"scope": scope})
        return DigestOutcome(scope, period, "no_recipients")
    digest = collect_digest(session, settings, scope, now)
    send = not digest.empty or settings.digest.send_empty or force
    language = settings.digest.language
    try:
        with session.begin_nested():
            run = DigestRun(scope=scope, period=period, kind="digest",
                            status="queued" if send else "empty", counts=digest.counts,
                            created_at=now)
            session.add(run)
            session.flush()  # a concurrent run of the same period fails here
            ids: list[int] = []
            if send:
                subject, text, html = render_digest(digest, language,
                                                    base_url=settings.web.base_url)
                sender = mailboxes[0]
                for recipient in recipients:
                    mail = build_staff_mail(
                        sender=sender.address,
                        sender_name=f"DPO Intake – {scope_name(digest, language)}",
                        recipient=recipient, subject=subject, text=text, html=html,
                        message_id=staff_message_id("digest", f"{scope}.{period}", recipient,
                                                    sender.address),
                        language=language, now=now,
                    )
                    item = pending_item("digest", mail.message_id, sender.address, recipient,
                                        mail.raw, now)
                    session.add(item)
                    session.flush()
                    ids.append(item.id)
                run.outbox_id = ids[0]
    except IntegrityError:
        return DigestOutcome(scope, period, "already_sent")
    status = "queued" if send else "empty"
    log.info("digest recorded", extra={"scope": scope, "period": period, "status": status,
                                       "recipients": len(ids), **digest.counts})
    return DigestOutcome(scope, period, status, recipients if send else (), tuple(ids),
                         digest.counts)


def record_heartbeat(session: Session, settings: Settings, now: datetime) -> bool:
    """Once per Brussels day: log that the daemon is alive, with a few counts, and record it."""
    period = now.astimezone(BRUSSELS).date().isoformat()
    if _recorded(session, ALL, period, "heartbeat"):
        return False
    counts = heartbeat_counts(session, now)
    try:
        with session.begin_nested():
            session.add(DigestRun(scope=ALL, period=period, kind="heartbeat", status="logged",
                                  counts=counts, created_at=now))
    except IntegrityError:
        return False
    log.info("digest heartbeat: daemon alive", extra=counts)
    return True


def heartbeat_counts(session: Session, now: datetime) -> dict[str, int]:
    """Open cases, overdue ones, awaiting identity, to review, outbox state, recent quarantine."""
    today = now.astimezone(BRUSSELS).date()

    def count(model: type, *where: object) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    running = (Case.kind.in_(LEGAL_CLOCK_KINDS), Case.status == "open",
               Case.clock_suspended_on.is_(None))
    return {
        "open_cases": count(Case, Case.status != "closed"),
        "overdue": count(Case, *running, Case.due_date < today),
        "awaiting_identity": count(Case, Case.status == "awaiting_identity"),
        "needs_review": count(Case, Case.needs_review.is_(True), Case.status != "closed"),
        "outbox_pending": count(OutboxItem, OutboxItem.status == "pending"),
        "outbox_failed": count(OutboxItem, OutboxItem.status.in_(("failed", "uncertain"))),
        "quarantined_24h": count(Message, Message.status == "quarantined",
                                 Message.created_at >= now - timedelta(days=1)),
    }


def _recorded(session: Session, scope: str, period: str, kind: str) -> bool:
    return session.scalars(
        select(DigestRun.id).where(DigestRun.scope == scope, DigestRun.period == period,
                                   DigestRun.kind == kind)
    ).first() is not None
