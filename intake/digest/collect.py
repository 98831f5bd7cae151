"""What a staff digest says: read-only queries that sort cases into sections, most urgent first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from intake.cases.urgency import calendar_of, is_running, working_days_until
from intake.config import MailboxSettings, Settings
from intake.outbound.stafftemplates import requester_text, safe_text
from intake.rights import RIGHTS
from intake.store.enums import LEGAL_CLOCK_KINDS, CaseKind, Disposition
from intake.store.models import Case, DigestRun, MailboxHealth, Message, OutboxItem
from intake.store.timezone import BRUSSELS

ALL = "all"  # the scope of a combined digest
SECTIONS = ("to_classify", "overdue", "due_soon", "extension", "identity", "review", "new",
            "failures", "listed")
MAX_LINES = 50  # per section; the rest is counted ("… and 12 more")
FIRST_LOOKBACK = timedelta(days=7)  # "new since" for a scope that never had a digest
QUESTION_GROUP = "question"
MAILBOX_GROUP = "mailbox:"  # the "listed" section's groups: one per mailbox key


@dataclass(frozen=True)
class Reason:
    """Why a line is listed: a code from staff.yaml `reasons` and its values."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DigestLine:
    """One case, quarantined message or undelivered mail, as staff see it (no bodies)."""

    reference: str | None
    mailbox: str
    requester: str  # "Name <address>"; the sender of a message, the recipient of a mail
    rights: tuple[str, ...]
    kind: str  # request | question | to_classify | message | outbox
    received: date
    due: date | None  # the legal due date, or a question's service target
    status: str
    extended: bool = False
    assignee: str | None = None
    reason: Reason | None = None


@dataclass(frozen=True)
class Group:
    key: str | None  # a right or "question" in the "new" section; None elsewhere
    lines: tuple[DigestLine, ...]


@dataclass(frozen=True)
class Section:
    key: str
    groups: tuple[Group, ...]
    total: int  # lines found; at most MAX_LINES are in `groups`

    @property
    def lines(self) -> tuple[DigestLine, ...]:
        return tuple(line for g in self.groups for line in g.lines)

    @property
    def hidden(self) -> int:
        return self.total - len(self.lines)


@dataclass(frozen=True)
class Digest:
    scope: str  # a mailbox key, or "all"
    mailboxes: tuple[MailboxSettings, ...]
    day: date  # Brussels date: the digest's period
    generated_at: datetime
    since: datetime  # "new since": the previous digest of this scope
    due_within_days: int
    open_cases: int
    sections: tuple[Section, ...]

    @property
    def empty(self) -> bool:
        return all(s.total == 0 for s in self.sections)

    @property
    def counts(self) -> dict[str, int]:
        return {s.key: s.total for s in self.sections}

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def scope_mailboxes(settings: Settings, scope: str) -> tuple[MailboxSettings, ...]:
    """The mailboxes a scope covers: all of them for "all", else the one named (or ConfigError)."""
    return settings.mailboxes if scope == ALL else (settings.mailbox(scope),)


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


def previous_digest(session: Session, scope: str, now: datetime) -> datetime | None:
    """When the last digest of this scope was recorded (sent or found empty), before `now`."""
    return session.scalars(
        select(DigestRun.created_at)
        .where(DigestRun.scope == scope, DigestRun.kind == "digest", DigestRun.created_at < now)
        .order_by(DigestRun.created_at.desc()).limit(1)
    ).first()


def case_line(case: Case, reason: Reason | None = None) -> DigestLine:
    return DigestLine(
        reference=case.reference, mailbox=case.mailbox_key,
        requester=requester_text(case.requester_name, case.requester_address),
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
    for m in session.scalars(
        select(Message).where(Message.mailbox_key.in_(keys), Message.status == "quarantined")
        .order_by(Message.received_at, Message.id)
    ):
        found.append(DigestLine(
            reference=None, mailbox=m.mailbox_key,
            requester=requester_text(m.from_name, m.from_address) if m.from_address else "-",
            rights=(), kind="message", received=m.received_at.astimezone(BRUSSELS).date(),
            due=None, status="quarantined",
            reason=Reason("quarantined", {"why": safe_text(m.quarantine_reason, 160)}),
        ))
    return found


def _mailbox_lines(session: Session, settings: Settings, keys: Sequence[str]) -> list[DigestLine]:
    """Mailboxes that failed `[run] failures_degraded` passes in a row: no mail is read there."""
    rows = session.scalars(
        select(MailboxHealth).where(
            MailboxHealth.mailbox_key.in_(keys),
            MailboxHealth.consecutive_failures >= settings.run.failures_degraded)
        .order_by(MailboxHealth.mailbox_key)
    ).all()
    return [
        DigestLine(
            reference=None, mailbox=row.mailbox_key, requester=settings.mailbox(
                row.mailbox_key).address, rights=(), kind="mailbox",
            received=(row.last_success_at or row.last_attempt_at or datetime.min).astimezone(
                BRUSSELS).date() if (row.last_success_at or row.last_attempt_at) else date.min,
            due=None, status="failing",
            reason=Reason("mailbox_failing", {"failures": row.consecutive_failures,
                                              "why": safe_text(row.last_error or "", 160)}),
        )
        for row in rows
    ]


def _failure_lines(session: Session, settings: Settings, mailboxes: Sequence[MailboxSettings],
                   scope: str) -> list[DigestLine]:
    """Mail the outbox gave up on (failed) or cannot vouch for (uncertain)."""
    query = (
        select(OutboxItem, Case.reference, Case.mailbox_key)
        .outerjoin(Case, Case.id == OutboxItem.case_id)
        .where(OutboxItem.status.in_(("failed", "uncertain")))
        .order_by(OutboxItem.created_at, OutboxItem.id)
    )
    if scope != ALL:
        query = query.where(or_(Case.mailbox_key.in_([m.key for m in mailboxes]),
                                OutboxItem.mail_from.in_([m.address for m in mailboxes])))
    by_address = {m.address: m.key for m in settings.mailboxes}
    return [
        DigestLine(
            reference=reference, mailbox=mailbox_key or by_address.get(item.mail_from, ""),
            requester=item.recipient, rights=(), kind="outbox",
            received=item.created_at.astimezone(BRUSSELS).date(), due=None, status=item.status,
            reason=Reason("outbox", {"purpose": item.purpose,
                                     "why": safe_text(item.last_error or item.status, 160)}),
        )
        for item, reference, mailbox_key in session.execute(query)
    ]


def _listed_groups(session: Session, mailboxes: Sequence[MailboxSettings], since: datetime,
                   now: datetime) -> list[Group]:
    """Per mailbox, the mail recorded without a case since the last digest (list_only, robot):
    sender, subject and the triage's reason, never the body, so a wrong `list_only` is seen."""
    groups = []
    for mailbox in mailboxes:
        rows = session.scalars(
            select(Message).where(
                Message.mailbox_key == mailbox.key, Message.status == "processed",
                Message.case_id.is_(None),
                Message.disposition.in_((Disposition.LIST_ONLY, Disposition.ROBOT)),
                Message.created_at > since, Message.created_at <= now)
            .order_by(Message.received_at, Message.id)
        ).all()
        lines = tuple(
            DigestLine(
                reference=None, mailbox=m.mailbox_key,
                requester=requester_text(m.from_name, m.from_address) if m.from_address else "-",
                rights=(), kind="message", received=m.received_at.astimezone(BRUSSELS).date(),
                due=None, status=m.disposition or "",
                reason=Reason("listed", {"subject": safe_text(m.subject, 100) or "-",
                                         "why": safe_text(listed_reason(m), 160)}),
            )
            for m in rows
        )
        if lines:
            groups.append(Group(f"{MAILBOX_GROUP}{mailbox.key}", lines))
    return groups


def listed_reason(message: Message) -> str:
    """Why the triage gave a message no case: its `no case:` evidence or its guard signals."""
    explanation = [str(e) for e in (message.triage or {}).get("explanation") or ()]
    evidence = [e.removeprefix("no case: ") for e in explanation if e.startswith("no case: ")]
    if evidence:
        return evidence[0]
    guard = [e.removeprefix("guard: ") for e in explanation if e.startswith("guard: ")]
    if guard:
        return f"{message.kind or 'robot'}: {guard[0]}"
    return message.disposition or ""


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
