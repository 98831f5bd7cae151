"""The ORM versions of `register_rows` and `collect_digest` before their column queries
(commit 48e5f42), kept as the oracle: the column queries must give the very same rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from intake.cases.register import _iso, _midnight
from intake.cases.urgency import calendar_of, is_running, working_days_until
from intake.config import Settings
from intake.digest.collect import (
    FIRST_LOOKBACK,
    MAX_LINES,
    QUESTION_GROUP,
    SECTIONS,
    Digest,
    DigestLine,
    Group,
    Reason,
    Section,
    _failure_lines,
    _listed_groups,
    _mailbox_lines,
    previous_digest,
    scope_mailboxes,
)
from intake.outbound.stafftemplates import requester_text, safe_text
from intake.rights import RIGHTS
from intake.store.enums import LEGAL_CLOCK_KINDS, CaseKind
from intake.store.models import Case, Message
from intake.store.timezone import BRUSSELS


def register_rows(
    session: Session,
    settings: Settings,
    date_from: date | None = None,
    date_to: date | None = None,
    mailbox: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Cases received from `date_from` to `date_to` (Brussels dates, inclusive), oldest first."""
    controllers = {m.key: m.controller for m in settings.mailboxes}
    query = select(Case).options(selectinload(Case.rights)).order_by(Case.received_at, Case.id)
    if mailbox:
        query = query.where(Case.mailbox_key == mailbox)
    if date_from:
        query = query.where(Case.received_at >= _midnight(date_from))
    if date_to:
        query = query.where(Case.received_at < _midnight(date_to + timedelta(days=1)))
    for case in session.scalars(query.execution_options(yield_per=500)):
        yield {
            "reference": case.reference,
            "controller": controllers.get(case.mailbox_key, case.mailbox_key),
            "mailbox": case.mailbox_key,
            "kind": case.kind,
            "rights": list(case.right_names),
            "received": case.received_at.astimezone(BRUSSELS).date().isoformat(),
            "due": _iso(case.due_date),  # the legal due date; questions have none
            "extended": case.extended,
            "closed": _iso(case.answered_on),
            "outcome": case.outcome,
            "on_time": case.on_time,
        }


def collect_digest(session: Session, settings: Settings, scope: str, now: datetime) -> Digest:
    """The digest of `scope` as of `now`; reads only."""
    mailboxes = scope_mailboxes(settings, scope)
    keys = [m.key for m in mailboxes]
    today = now.astimezone(BRUSSELS).date()
    since = previous_digest(session, scope, now) or now - FIRST_LOOKBACK
    open_cases = session.scalars(
        select(Case).options(selectinload(Case.rights))
        .where(Case.mailbox_key.in_(keys), Case.status != "closed")
        .order_by(Case.received_at, Case.id)
    ).all()
    lines: dict[str, list[DigestLine]] = {key: [] for key in SECTIONS}
    for case in open_cases:
        _clock_lines(case, today, settings, lines)
    for key in ("overdue", "due_soon", "extension"):
        lines[key].sort(key=lambda line: line.due or date.max)  # the earliest due date first
    lines["identity"].sort(key=lambda line: line.reason.params["since"] if line.reason else today)
    # Fail-safe cases first: each may be a request whose legal clock already runs.
    lines["to_classify"] = sorted(
        (case_line(c, Reason("to_classify")) for c in open_cases
         if c.kind == CaseKind.TO_CLASSIFY),
        key=lambda line: (line.due or date.max, line.received))
    lines["review"] = _review_lines(session, keys, today)
    lines["failures"] = [*_mailbox_lines(session, settings, keys),
                         *_failure_lines(session, settings, mailboxes, scope)]
    new = session.scalars(
        select(Case).options(selectinload(Case.rights))
        .where(Case.mailbox_key.in_(keys), Case.created_at > since, Case.created_at <= now,
               Case.kind != CaseKind.TO_CLASSIFY)
        .order_by(Case.received_at, Case.id)
    ).all()
    sections = [
        _section(key, [Group(None, tuple(lines[key]))]) for key in SECTIONS
        if key not in ("new", "listed")
    ]
    sections.insert(SECTIONS.index("new"), _section("new", _by_right(new)))
    sections.append(_section("listed", _listed_groups(session, mailboxes, since, now)))
    return Digest(scope=scope, mailboxes=mailboxes, day=today, generated_at=now, since=since,
                  due_within_days=settings.digest.due_within_days, open_cases=len(open_cases),
                  sections=tuple(sections))


def case_line(case: Case, reason: Reason | None = None) -> DigestLine:
    return DigestLine(
        reference=case.reference, mailbox=case.mailbox_key,
        requester=requester_text(case.requester_name, case.requester_address) or "-",
        rights=case.right_names, kind=case.kind,
        received=case.received_at.astimezone(BRUSSELS).date(),
        # While the clock stands still there is no due date to show, only the days left.
        due=None if case.clock_suspended_on is not None
        else case.due_date if case.kind in LEGAL_CLOCK_KINDS else case.target_date,
        status=case.status, extended=case.extended,
        assignee=safe_text(case.assignee, 80) if case.assignee else None, reason=reason,
    )


def _clock_lines(case: Case, today: date, settings: Settings,
                 lines: dict[str, list[DigestLine]]) -> None:
    """Overdue, due soon, extension to decide, or waiting for identity: by the case's clock."""
    soon = today + timedelta(days=settings.digest.due_within_days)
    if case.clock_suspended_on is not None or case.status == "awaiting_identity":
        since = case.clock_suspended_on or case.received_at.astimezone(BRUSSELS).date()
        lines["identity"].append(case_line(case, Reason("suspended", {
            "since": since, "days": (today - since).days, "left": case.suspended_days_left,
        })))
        return
    if case.kind == "question" and case.target_date is not None:
        if case.target_date < today:
            lines["overdue"].append(case_line(case, Reason(
                "overdue_target", {"days": (today - case.target_date).days})))
        elif case.target_date <= soon:
            lines["due_soon"].append(case_line(case, Reason(
                "target_soon", {"days": (case.target_date - today).days})))
        return
    if not is_running(case):
        return
    due = case.due_date
    assert due is not None
    if due < today:
        lines["overdue"].append(case_line(case, Reason("overdue", {"days": (today - due).days})))
        return
    left = working_days_until(today, due, calendar_of(settings, case.mailbox_key))
    if due <= soon:
        reason = Reason("due_today") if due == today else Reason("due_soon", {"working_days": left})
        lines["due_soon"].append(case_line(case, reason))
    if not case.extended and left <= settings.reminders.extension_window_working_days:
        lines["extension"].append(case_line(case, Reason(
            "extension", {"date": due, "working_days": left})))


def _review_lines(session: Session, keys: Sequence[str], today: date) -> list[DigestLine]:
    """Cases flagged for review (whatever their status), then quarantined messages."""
    cases = session.scalars(
        select(Case).options(selectinload(Case.rights))
        .where(Case.mailbox_key.in_(keys), Case.needs_review.is_(True),
               Case.kind != CaseKind.TO_CLASSIFY)  # those have their own section
        .order_by(Case.received_at, Case.id)
    ).all()
    found = [case_line(c, Reason("review", {"why": c.review_reason or ""})) for c in cases]
    # A quarantined message has its case to classify (listed in that section, linked here);
    # one recorded before that, or whose case could not be opened, has none.
    for m, reference in session.execute(
        select(Message, Case.reference).outerjoin(Case, Case.id == Message.case_id)
        .where(Message.mailbox_key.in_(keys), Message.status == "quarantined")
        .order_by(Message.received_at, Message.id)
    ):
        found.append(DigestLine(
            reference=reference, mailbox=m.mailbox_key,
            requester=requester_text(m.from_name, m.from_address) if m.from_address else "-",
            rights=(), kind="message", received=m.received_at.astimezone(BRUSSELS).date(),
            due=None, status="quarantined",
            reason=Reason("quarantined", {"why": safe_text(m.quarantine_reason, 160)}),
        ))
    return found


def _by_right(cases: Sequence[Case]) -> list[Group]:
    """New cases grouped by their first right (canonical order), questions last."""
    groups: dict[str, list[DigestLine]] = {}
    for case in cases:
        key = case.right_names[0] if case.right_names else QUESTION_GROUP
        groups.setdefault(key, []).append(case_line(case))
    order = [*RIGHTS, QUESTION_GROUP]
    return [Group(key, tuple(groups[key]))
            for key in sorted(groups, key=lambda k: order.index(k) if k in order else len(order))]


def _section(key: str, groups: list[Group]) -> Section:
    """Keep at most MAX_LINES lines, counting the rest."""
    total, room, kept = sum(len(g.lines) for g in groups), MAX_LINES, []
    for group in groups:
        if room <= 0:
            break
        kept.append(Group(group.key, group.lines[:room]))
        room -= len(kept[-1].lines)
    return Section(key, tuple(kept), total)
