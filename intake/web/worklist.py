"""The Werkvoorraad: open cases sorted into the digest's sections of urgency, per mailbox.

Read-only. The sections and their thresholds are the digest's ([digest] due_within_days,
[reminders] extension_window_working_days), so the page and the mail say the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from intake.cases.deadlines import Calendar
from intake.cases.urgency import calendar_of, working_days_until
from intake.config import Settings
from intake.outbound.stafftemplates import requester_text
from intake.store.models import Case, CaseRight

BUCKETS = ("to_classify", "overdue", "due_soon", "extension", "identity", "review", "other")
PAGE = 100  # rows per page; the counts cover every case


@dataclass(frozen=True)
class Filters:
    mailbox: str = ""
    status: str = ""
    right: str = ""
    assignee: str = ""
    due_before: date | None = None
    needs_review: bool = False
    q: str = ""
    page: int = 1


@dataclass
class Row:
    id: int
    reference: str
    mailbox: str
    kind: str
    status: str
    requester: str
    rights: list[str]
    received: datetime
    due: date | None
    left: int | None
    assignee: str | None
    needs_review: bool
    extended: bool
    bucket: str = "other"


@dataclass
class Worklist:
    rows: list[Row]  # this page, most urgent first
    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0
    page: int = 1
    pages: int = 1


@lru_cache(maxsize=4096)
def _days(today: date, due: date, calendar: Calendar) -> int:
    return working_days_until(today, due, calendar)


def _working_days(today: date, due: date, mailbox: str, settings: Settings) -> int:
    """Working days left (many cases share a due date: counted once per mailbox calendar)."""
    return _days(today, due, calendar_of(settings, mailbox))


def _bucket(kind: str, status: str, suspended: bool, due: date | None, extended: bool,
            needs_review: bool, mailbox: str, today: date, soon: date, window: int,
            settings: Settings) -> str:
    """The case's most urgent digest section (the order of BUCKETS)."""
    if kind == "to_classify" or status == "to_classify":
        return "to_classify"
    if suspended or status == "awaiting_identity":
        return "identity"
    if due is not None and status == "open":
        if due < today:
            return "overdue"
        if due <= soon:
            return "due_soon"
        # Working days are counted only when they can be within the window (a cheap bound).
        if (kind == "request" and not extended and (due - today).days <= window * 3 + 7
                and _working_days(today, due, mailbox, settings) <= window):
            return "extension"
    if needs_review:
        return "review"
    return "other"


def _filtered(query, filters: Filters):
    if filters.mailbox:
        query = query.where(Case.mailbox_key == filters.mailbox)
    if filters.status:
        query = query.where(Case.status == filters.status)
    if filters.right:
        query = query.where(Case.rights.any(CaseRight.right == filters.right))
    if filters.assignee:
        query = query.where(func.lower(Case.assignee).contains(filters.assignee.lower(),
                                                                autoescape=True))
    if filters.due_before:
        query = query.where(Case.due_date <= filters.due_before)
    if filters.needs_review:
        query = query.where(Case.needs_review.is_(True))
    if filters.q.strip():
        needle = filters.q.strip().lower()
        query = query.where(or_(func.lower(Case.reference).contains(needle, autoescape=True),
                                func.lower(Case.requester_name).contains(needle, autoescape=True),
                                func.lower(Case.requester_address).contains(needle,
                                                                            autoescape=True)))
    return query


def build_worklist(session: Session, settings: Settings, mailboxes: Sequence[str],
                   filters: Filters, today: date) -> Worklist:
    """Open cases of `mailboxes` matching `filters`, sorted by section, then due date.

    Two steps: the few columns that sort every open case, then the details of one page.
    """
    query = _filtered(
        select(Case.id, Case.reference, Case.mailbox_key, Case.kind, Case.status,
               Case.received_at, Case.due_date, Case.target_date, Case.clock_suspended_on,
               Case.needs_review, Case.extended)
        .where(Case.status != "closed", Case.mailbox_key.in_(list(mailboxes))), filters)
    soon = today + timedelta(days=settings.digest.due_within_days)
    window = settings.reminders.extension_window_working_days
    order = {b: i for i, b in enumerate(BUCKETS)}
    keys = []
    for (case_id, reference, mailbox, kind, status, received, due_date, target, suspended_on,
         needs_review, extended) in session.execute(query):
        suspended = suspended_on is not None
        due = None if suspended else (due_date if kind == "request" else target)
        bucket = _bucket(kind, status, suspended, due, extended, needs_review, mailbox, today,
                         soon, window, settings)
        keys.append((order[bucket], due or date.max, received, reference, case_id, bucket, due))
    keys.sort()
    counts = {b: 0 for b in BUCKETS}
    for key in keys:
        counts[key[5]] += 1
    pages = max(1, -(-len(keys) // PAGE))
    page = min(max(1, filters.page), pages)
    chosen = keys[(page - 1) * PAGE: page * PAGE]
    details = {r.id: r for r in session.execute(
        select(Case.id, Case.kind, Case.status, Case.requester_name, Case.requester_address,
               Case.assignee, Case.needs_review, Case.extended, Case.mailbox_key)
        .where(Case.id.in_([k[4] for k in chosen])))} if chosen else {}
    shown = []
    for _order, _due, received, reference, case_id, bucket, due in chosen:
        r = details[case_id]
        shown.append(Row(case_id, reference, r.mailbox_key, r.kind, r.status,
                         requester_text(r.requester_name, r.requester_address), [], received, due,
                         (due - today).days if due else None, r.assignee, r.needs_review,
                         r.extended, bucket))
    _add_rights(session, shown)
    return Worklist(shown, counts, len(keys), page, pages)


def _add_rights(session: Session, rows: list[Row]) -> None:
    by_id = {row.id: row for row in rows}
    if not by_id:
        return
    for case_id, right in session.execute(
        select(CaseRight.case_id, CaseRight.right).where(CaseRight.case_id.in_(list(by_id)))
        .order_by(CaseRight.case_id, CaseRight.position)
    ):
        by_id[case_id].rights.append(right)
