"""What a staff digest says: read-only queries that sort cases into sections, most urgent first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from intake.cases.columns import cases_with_rights
from intake.cases.deadlines import Calendar
from intake.cases.urgency import calendar_of, is_running, working_days_until
from intake.config import MailboxSettings, Settings
from intake.outbound.stafftemplates import requester_text, safe_text
from intake.rights import RIGHTS
from intake.store.enums import LEGAL_CLOCK_KINDS, CaseKind, CaseStatus, Disposition
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


class CaseFacts(NamedTuple):
    """The columns of a case a digest reads (a column query: no ORM object, no lazy load), and
    which of the digest's lists it belongs to (worked out by the database)."""

    reference: str
    mailbox_key: str
    kind: str
    status: str
    requester_name: str
    requester_address: str
    received_at: datetime
    due_date: date | None
    target_date: date | None
    clock_suspended_on: date | None
    suspended_days_left: int | None
    extended: bool
    assignee: str | None
    review_reason: str | None
    is_open: bool  # not closed
    for_review: bool  # flagged for review (cases to classify have their own section)
    is_new: bool  # created since the last digest (not a case to classify)
    right_names: tuple[str, ...] = ()


FACT_COLUMNS = (Case.reference, Case.mailbox_key, Case.kind, Case.status, Case.requester_name,
                Case.requester_address, Case.received_at, Case.due_date, Case.target_date,
                Case.clock_suspended_on, Case.suspended_days_left, Case.extended, Case.assignee,
                Case.review_reason)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """A condition as a true/false column on every backend."""
    return sql_case((condition, True), else_=False)


def digest_cases(session: Session, keys: Sequence[str], since: datetime,
                 now: datetime) -> list[CaseFacts]:
    """Every case a digest may list, oldest first (received, id), in one query: the open ones,
    those flagged for review and those new since the last digest."""
    not_to_classify = Case.kind != CaseKind.TO_CLASSIFY
    is_open = Case.status != CaseStatus.CLOSED
    for_review = and_(Case.needs_review.is_(True), not_to_classify)
    is_new = and_(Case.created_at > since, Case.created_at <= now, not_to_classify)
    columns = (*FACT_COLUMNS, _flag(is_open), _flag(for_review), _flag(is_new))
    where = (Case.mailbox_key.in_(list(keys)), or_(is_open, for_review, is_new))
    return [CaseFacts(*row[1:-1], rights)
            for row, rights in cases_with_rights(session, columns, where)]


def scope_mailboxes(settings: Settings, scope: str) -> tuple[MailboxSettings, ...]:
    """The mailboxes a scope covers: all of them for "all", else the one named (or ConfigError)."""
    return settings.mailboxes if scope == ALL else (settings.mailbox(scope),)


def collect_digest(session: Session, settings: Settings, scope: str, now: datetime) -> Digest:
    """The digest of `scope` as of `now`; reads only.

    Cases are read as columns (case_facts) and a case's line is written only when its section
    shows it (MAX_LINES each); the others are counted.
    """
    mailboxes = scope_mailboxes(settings, scope)
    keys = [m.key for m in mailboxes]
    today = now.astimezone(BRUSSELS).date()
    since = previous_digest(session, scope, now) or now - FIRST_LOOKBACK
    cases = digest_cases(session, keys, since, now)
    open_cases = [c for c in cases if c.is_open]
    lines: dict[str, list[Item]] = {key: [] for key in SECTIONS}
    for case in open_cases:
        _clock_lines(case, today, settings, lines)
    for key in ("overdue", "due_soon", "extension"):
        lines[key].sort(key=lambda item: _due(item) or date.max)  # the earliest due date first
    lines["identity"].sort(key=lambda item: _reason(item).params["since"])
    # Fail-safe cases first: each may be a request whose legal clock already runs.
    lines["to_classify"] = sorted(
        ((c, Reason("to_classify")) for c in open_cases if c.kind == CaseKind.TO_CLASSIFY),
        key=lambda item: (_due(item) or date.max, _received(item)))
    lines["review"] = _review_lines(session, [c for c in cases if c.for_review], keys)
    lines["failures"] = [*_mailbox_lines(session, settings, keys),
                         *_failure_lines(session, settings, mailboxes, scope)]
    new = [c for c in cases if c.is_new]
    sections = [
        _section(key, [(None, lines[key])]) for key in SECTIONS if key not in ("new", "listed")
    ]
    sections.insert(SECTIONS.index("new"), _section("new", _by_right(new)))
    sections.append(_section("listed", [(g.key, g.lines) for g in _listed_groups(
        session, mailboxes, since, now)]))
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


def case_line(case: CaseFacts, reason: Reason | None = None) -> DigestLine:
    return DigestLine(
        reference=case.reference, mailbox=case.mailbox_key,
        # "-": a case without a requester (a quarantined message with no readable From)
        requester=requester_text(case.requester_name, case.requester_address) or "-",
        rights=case.right_names, kind=case.kind,
        received=case.received_at.astimezone(BRUSSELS).date(), due=shown_due(case),
        status=case.status, extended=case.extended,
        assignee=safe_text(case.assignee, 80) if case.assignee else None, reason=reason,
    )


def shown_due(case: CaseFacts) -> date | None:
    """The legal due date, or a question's service target; none while the clock stands still
    (there are only the days left to show)."""
    if case.clock_suspended_on is not None:
        return None
    return case.due_date if case.kind in LEGAL_CLOCK_KINDS else case.target_date


# A section's entry: a line, or a case and its reason whose line is written once it is shown.
Item = DigestLine | tuple[CaseFacts, Reason | None]


def _line(item: Item) -> DigestLine:
    return item if isinstance(item, DigestLine) else case_line(*item)


def _due(item: Item) -> date | None:
    return item.due if isinstance(item, DigestLine) else shown_due(item[0])


def _received(item: Item) -> date:
    return (item.received if isinstance(item, DigestLine)
            else item[0].received_at.astimezone(BRUSSELS).date())


def _reason(item: Item) -> Reason:
    reason = item.reason if isinstance(item, DigestLine) else item[1]
    assert reason is not None
    return reason


def _clock_lines(case: CaseFacts, today: date, settings: Settings,
                 lines: dict[str, list[Item]]) -> None:
    """Overdue, due soon, extension to decide, or waiting for identity: by the case's clock."""
    soon = today + timedelta(days=settings.digest.due_within_days)
    if case.clock_suspended_on is not None or case.status == "awaiting_identity":
        since = case.clock_suspended_on or case.received_at.astimezone(BRUSSELS).date()
        lines["identity"].append((case, Reason("suspended", {
            "since": since, "days": (today - since).days, "left": case.suspended_days_left,
        })))
        return
    if case.kind == "question" and case.target_date is not None:
        if case.target_date < today:
            lines["overdue"].append((case, Reason(
                "overdue_target", {"days": (today - case.target_date).days})))
        elif case.target_date <= soon:
            lines["due_soon"].append((case, Reason(
                "target_soon", {"days": (case.target_date - today).days})))
        return
    if not is_running(case):
        return
    due = case.due_date
    assert due is not None
    if due < today:
        lines["overdue"].append((case, Reason("overdue", {"days": (today - due).days})))
        return
    left = _working_days(today, due, calendar_of(settings, case.mailbox_key))
    if due <= soon:
        reason = Reason("due_today") if due == today else Reason("due_soon", {"working_days": left})
        lines["due_soon"].append((case, reason))
    if not case.extended and left <= settings.reminders.extension_window_working_days:
        lines["extension"].append((case, Reason(
            "extension", {"date": due, "working_days": left})))


@lru_cache(maxsize=4096)
def _working_days(today: date, due: date, calendar: Calendar) -> int:
    """working_days_until, counted once for the many cases that share a due date."""
    return working_days_until(today, due, calendar)


def _review_lines(session: Session, cases: Sequence[CaseFacts],
                  keys: Sequence[str]) -> list[Item]:
    """Cases flagged for review (whatever their status), then quarantined messages."""
    found: list[Item] = [(c, Reason("review", {"why": c.review_reason or ""})) for c in cases]
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


def _by_right(cases: Sequence[CaseFacts]) -> list[tuple[str | None, list[Item]]]:
    """New cases grouped by their first right (canonical order), questions last."""
    groups: dict[str, list[Item]] = {}
    for case in cases:
        key = case.right_names[0] if case.right_names else QUESTION_GROUP
        groups.setdefault(key, []).append((case, None))
    order = [*RIGHTS, QUESTION_GROUP]
    return [(key, groups[key])
            for key in sorted(groups, key=lambda k: order.index(k) if k in order else len(order))]


def _section(key: str, groups: Sequence[tuple[str | None, Sequence[Item]]]) -> Section:
    """Keep at most MAX_LINES lines (written now), counting the rest."""
    total, room, kept = sum(len(items) for _, items in groups), MAX_LINES, []
    for group_key, items in groups:
        if room <= 0:
            break
        kept.append(Group(group_key, tuple(_line(item) for item in items[:room])))
        room -= len(kept[-1].lines)
    return Section(key, tuple(kept), total)
