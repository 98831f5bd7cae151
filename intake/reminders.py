"""The daily deadline check: flags cases near or past their due date, alerts staff of overdue ones.

A running request (open, clock not suspended) is flagged, once per case, kind and Brussels day,
as an audit event `reminder` with data {"kind", "day"}:

- `extension_window`: not extended, and the first month (its due date) ends within
  `extension_window_working_days` working days: an extension must be decided now or never;
- `due_soon`: due within `due_within_working_days` working days (today included);
- `overdue`: the due date has passed. With `alert_overdue`, the mailbox's staff get an alert mail
  at once, at most one per case and day (a Message-ID fixed by case and day makes sure of it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from intake.cases.urgency import KINDS, calendar_of, clock_flags
from intake.cases.workflow import record_event
from intake.config import ConfigError, Settings
from intake.digest.queue import record_heartbeat
from intake.outbound.alerts import build_overdue_alert
from intake.outbound.outbox import pending_item
from intake.store.enums import LEGAL_CLOCK_KINDS
from intake.store.models import Case, Event
from intake.store.timezone import BRUSSELS

log = logging.getLogger(__name__)
ACTOR = "intake"


@dataclass
class ReminderReport:
    """What one run found and did."""

    day: date
    flagged: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    recorded: int = 0  # new reminder events (0 when the day's run had already happened)
    alerts_queued: int = 0  # alert mails queued (one per case and staff address)
    no_staff: list[str] = field(default_factory=list)  # overdue cases nobody could be told of


def run_reminders(session: Session, settings: Settings, now: datetime) -> ReminderReport:
    """Flag the running requests of every mailbox; the caller owns the transaction."""
    today = now.astimezone(BRUSSELS).date()
    report = ReminderReport(today)
    cases = session.scalars(
        select(Case).options(selectinload(Case.rights))
        .where(Case.kind.in_(LEGAL_CLOCK_KINDS), Case.status == "open",
               Case.clock_suspended_on.is_(None), Case.due_date.is_not(None))
        .order_by(Case.due_date, Case.id)
    ).all()
    done = _flagged_on(session, [c.id for c in cases], today, now)
    for case in cases:
        for kind in clock_flags(case, today, calendar_of(settings, case.mailbox_key),
                                settings.reminders):
            report.flagged[kind].append(case.reference)
            if (case.id, kind) in done:
                continue
            record_event(session, case, "reminder", _reason(case, kind, today), ACTOR,
                         {"kind": kind, "day": today.isoformat()}, at=now)
            report.recorded += 1
            if kind == "overdue" and settings.reminders.alert_overdue:
                _alert(session, settings, case, today, now, report)
    record_heartbeat(session, settings, now)  # daily, weekends too, unlike most digests
    log.info("reminders done", extra={
        "day": today.isoformat(), "recorded": report.recorded,
        "alerts_queued": report.alerts_queued,
        **{k: len(v) for k, v in report.flagged.items()},
    })
    return report


def _flagged_on(session: Session, case_ids: Iterable[int], today: date,
                now: datetime) -> set[tuple[int, str]]:
    """(case id, kind) pairs already flagged today."""
    ids = list(case_ids)
    if not ids:
        return set()
    # Events of the last two days, then the exact day from their data (JSON is not queried the
    # same way on every backend).
    rows = session.scalars(
        select(Event).where(Event.type == "reminder", Event.case_id.in_(ids),
                            Event.at >= now - timedelta(days=2))
    )
    return {(e.case_id, (e.data or {}).get("kind", "")) for e in rows
            if e.case_id is not None and (e.data or {}).get("day") == today.isoformat()}


def _reason(case: Case, kind: str, today: date) -> str:
    assert case.due_date is not None
    if kind == "overdue":
        return f"due {case.due_date.isoformat()}: {(today - case.due_date).days} day(s) overdue"
    if kind == "due_soon":
        return f"due {case.due_date.isoformat()}"
    return f"an extension must be notified by {case.due_date.isoformat()}"


def _alert(session: Session, settings: Settings, case: Case, today: date, now: datetime,
           report: ReminderReport) -> None:
    """Queue the overdue alert to each staff address of the case's mailbox."""
    try:
        mailbox = settings.mailbox(case.mailbox_key)
    except ConfigError:
        mailbox = None
    staff = settings.staff_for(case.mailbox_key) if mailbox else ()
    if mailbox is None or not staff:
        report.no_staff.append(case.reference)
        log.warning("overdue case but no staff address to alert",
                    extra={"case": case.reference, "mailbox": case.mailbox_key})
        return
    for recipient in staff:
        mail = build_overdue_alert(case, mailbox, recipient, today, settings.digest.language, now)
        try:
            with session.begin_nested():  # a concurrent run may have queued the same mail
                session.add(pending_item("overdue_alert", mail.message_id, mailbox.address,
                                         recipient, mail.raw, now, case.id))
        except IntegrityError:
            continue
        report.alerts_queued += 1
    record_event(session, case, "overdue_alert_queued",
                 f"alert to {len(staff)} staff address(es)", ACTOR,
                 {"day": today.isoformat()}, at=now)
