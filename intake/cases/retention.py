"""Retention purge: cases closed longer ago than their mailbox keeps them, and old loose mail.

A case closed more than `retention_years` ago (per mailbox) goes with its messages, rights,
outbox items and audit events; messages that never belonged to a case (listed mail, duplicates,
quarantined messages) go when they were received more than `retention_years` ago. Open cases
are never purged. What remains is one anonymous `purged` event per case (case_id NULL): its
reference (a number, no personal data), mailbox, year, kind, rights, outcome and timeliness —
enough for the register's statistics, nothing about the person.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, selectinload

from intake.cases.workflow import purging_events, record_event
from intake.config import MailboxSettings, Settings
from intake.store.models import Case, CaseRight, Event, Message, OutboxItem
from intake.store.timezone import BRUSSELS

log = logging.getLogger(__name__)
CHUNK = 200  # ids per statement: well under every backend's limit on bound parameters


@dataclass(frozen=True)
class PurgedCase:
    """One case that goes (or would go): what the anonymous audit line keeps, plus its close."""

    reference: str
    mailbox: str
    year: int
    kind: str
    rights: tuple[str, ...]
    outcome: str | None
    on_time: bool | None
    closed_on: str  # Brussels date, for the report only

    def audit_data(self) -> dict[str, Any]:
        return {"reference": self.reference, "mailbox": self.mailbox, "year": self.year,
                "kind": self.kind, "rights": list(self.rights), "outcome": self.outcome,
                "on_time": self.on_time}


@dataclass
class PurgeReport:
    """What a purge removed, or on a dry run would remove."""

    now: datetime
    dry_run: bool
    cases: list[PurgedCase] = field(default_factory=list)
    loose_messages: dict[str, dict[str, int]] = field(default_factory=dict)  # mailbox -> status
    rows: Counter[str] = field(default_factory=Counter)  # table -> rows deleted (or to delete)
    cutoffs: dict[str, str] = field(default_factory=dict)  # mailbox -> closed/received before

    def to_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "cutoffs": self.cutoffs,
            "cases": [{**c.audit_data(), "closed_on": c.closed_on} for c in self.cases],
            "loose_messages": self.loose_messages,
            "rows": dict(sorted(self.rows.items())),
        }


def purge_expired(session: Session, settings: Settings, now: datetime, dry_run: bool = False,
                  actor: str = "intake") -> PurgeReport:
    """Delete (or, on a dry run, only count) what is past retention. The caller commits."""
    report = PurgeReport(now=now, dry_run=dry_run)
    for mailbox in settings.mailboxes:
        _purge_mailbox(session, mailbox, now, dry_run, actor, report)
    log.info("retention purge", extra={"dry_run": dry_run, "cases": len(report.cases),
                                       "rows": sum(report.rows.values())})
    return report


def _purge_mailbox(session: Session, mailbox: MailboxSettings, now: datetime, dry_run: bool,
                   actor: str, report: PurgeReport) -> None:
    cutoff = now - relativedelta(years=mailbox.retention_years)
    report.cutoffs[mailbox.key] = cutoff.astimezone(BRUSSELS).date().isoformat()
    cases = list(session.scalars(
        select(Case).options(selectinload(Case.rights))
        .where(Case.mailbox_key == mailbox.key, Case.status == "closed",
               Case.closed_at < cutoff)
        .order_by(Case.id)
    ))
    loose = session.execute(
        select(Message.id, Message.status).where(
            Message.mailbox_key == mailbox.key, Message.case_id.is_(None),
            Message.received_at < cutoff)
    ).all()
    if loose:
        report.loose_messages[mailbox.key] = dict(Counter(status for _, status in loose))
    lines = [
        PurgedCase(
            reference=case.reference, mailbox=case.mailbox_key, year=case.year, kind=case.kind,
            rights=case.right_names, outcome=case.outcome, on_time=case.on_time,
            closed_on=case.closed_at.astimezone(BRUSSELS).date().isoformat()
            if case.closed_at else "",
        )
        for case in cases
    ]
    report.cases.extend(lines)
    case_ids = [c.id for c in cases]
    message_ids = list(session.scalars(
        select(Message.id).where(Message.case_id.in_(case_ids))
    )) if case_ids else []
    message_ids += [m for m, _ in loose]
    _count_or_delete(session, case_ids, message_ids, dry_run, report)
    if dry_run:
        return
    for case in cases:  # deleted in bulk: they must not linger in the session
        session.expunge(case)
    years = mailbox.retention_years
    for line in lines:
        record_event(session, None, "purged",
                     f"{line.reference}: closed {line.closed_on}, kept {years} years", actor,
                     line.audit_data(), at=now)
    if loose:
        record_event(session, None, "messages_purged",
                     f"{len(loose)} message(s) without a case, received before "
                     f"{report.cutoffs[mailbox.key]}", actor,
                     {"mailbox": mailbox.key, "statuses": report.loose_messages[mailbox.key]},
                     at=now)


def _count_or_delete(session: Session, case_ids: list[int], message_ids: list[int],
                     dry_run: bool, report: PurgeReport) -> None:
    """Children before parents; ids in chunks. Counting runs the same filters as deleting."""
    steps: list[tuple[str, Any, Any]] = [
        ("event", Event, lambda c, m: or_(Event.case_id.in_(c), Event.message_pk.in_(m))),
        ("outbox", OutboxItem,
         lambda c, m: or_(OutboxItem.case_id.in_(c), OutboxItem.reply_to_pk.in_(m))),
        ("message", Message, lambda c, m: Message.id.in_(m)),
        ("case_right", CaseRight, lambda c, m: CaseRight.case_id.in_(c)),
        ("case", Case, lambda c, m: Case.id.in_(c)),
    ]
    if not case_ids and not message_ids:
        return
    with purging_events(session):
        for table, model, where in steps:
            if dry_run:
                keys = model.__mapper__.primary_key
                found = {tuple(row) for cases, messages in _chunks(case_ids, message_ids)
                         for row in session.execute(select(*keys).where(where(cases, messages)))}
                report.rows[table] += len(found)
                continue
            for cases, messages in _chunks(case_ids, message_ids):
                if model is Message:
                    # Later duplicates may point at a message that goes: they keep their own row.
                    session.execute(update(Message).where(Message.duplicate_of_id.in_(messages))
                                    .values(duplicate_of_id=None),
                                    execution_options={"synchronize_session": False})
                result = session.execute(delete(model).where(where(cases, messages)),
                                         execution_options={"synchronize_session": False})
                report.rows[table] += result.rowcount or 0


def _chunks(case_ids: Sequence[int], message_ids: Sequence[int]
            ) -> Iterator[tuple[list[int], list[int]]]:
    """Pairs of id slices covering both lists (the filters OR the two, so each pair is whole)."""
    for start in range(0, max(len(case_ids), len(message_ids)), CHUNK):
        yield list(case_ids[start:start + CHUNK]), list(message_ids[start:start + CHUNK])
