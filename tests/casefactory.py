"""A fixture database with cases in every state a digest or reminder must handle (fictional data).

`populate(session)` writes, as of NOW (Tuesday 9 June 2026, 08:00 Brussels), for mailbox "ago":
a new request, one due soon (extended), one overdue, one whose extension window is closing, one
extended and far from due, one awaiting proof of identity, a question and a request flagged for
review, a closed request, a question past its service target, a quarantined message, a failed
and an uncertain reply; for mailbox "wse": one overdue request. Every message body holds a marker
and a (fictional) national number that no staff mail may show.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from itertools import count
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from intake.cases.deadlines import Calendar, due_date, extended_due_date
from intake.cases.references import allocate_reference
from intake.config import Settings, parse_settings
from intake.store.models import Case, CaseRight, DigestRun, Message, OutboxItem
from intake.store.timezone import BRUSSELS

NOW = datetime(2026, 6, 9, 8, 0, tzinfo=BRUSSELS)  # a Tuesday
LAST_DIGEST = datetime(2026, 6, 8, 8, 0, tzinfo=BRUSSELS)  # the ago digest of the day before
BODY_MARKER = "BERICHTINHOUD-NIET-TONEN"
NATIONAL_NUMBER = "85.07.30-033.61"  # fictional, shaped like a Belgian national number
STAFF_AGO = "privacy.team@ago.example.be"
STAFF_WSE = "privacy.team@wse.example.be"
DIGEST_TO = "dpo.office@example.be"
CALENDAR = Calendar.default()
_uids = count(1)


def settings(**digest: Any) -> Settings:
    """Two mailboxes with staff, [digest] to one more address; `digest` overrides [digest]."""
    data = {
        "database": {"url": "sqlite://"},
        "digest": {"to": [DIGEST_TO], **digest},
        "mailbox": [
            {"key": "ago", "controller": "Agentschap Overheidspersoneel",
             "address": "dpo.ago@vlaanderen.be", "reference_prefix": "DPO-AGO",
             "staff": [STAFF_AGO], "maildir": {"path": "unused/ago"}},
            {"key": "wse", "controller": "Departement Werk en Sociale Economie",
             "address": "dpo.wse@vlaanderen.be", "reference_prefix": "DPO-WSE",
             "staff": [STAFF_WSE], "maildir": {"path": "unused/wse"}},
        ],
    }
    return parse_settings(data, "<casefactory>")


def without_staff(base: Settings) -> Settings:
    """The same settings with no staff address anywhere."""
    return replace(base, digest=replace(base.digest, to=()),
                   mailboxes=tuple(replace(m, staff=()) for m in base.mailboxes))


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=BRUSSELS)


class Factory:
    """Writes cases with consistent clocks; references DPO-<MAILBOX>-<YEAR>-<NNNN>."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seq: dict[str, int] = {}

    def case(self, mailbox: str, received: datetime, rights: tuple[str, ...] = ("access",), *,
             kind: str = "request", name: str = "Jan Peeters",
             address: str = "jan.peeters@example.be", created: datetime | None = None,
             extended: bool = False, **fields: Any) -> Case:
        # The real counter, so cases opened later by the code under test get the next number.
        reference, seq = allocate_reference(self.session, mailbox, f"DPO-{mailbox.upper()}",
                                            received.year)
        self.seq[mailbox] = seq
        case = Case(
            reference=reference, mailbox_key=mailbox,
            year=received.year, seq=seq, kind=kind, status="open", requester_address=address,
            requester_name=name, language="nl", received_at=received,
            created_at=created or received, extended=extended, identity_status="id_copy",
            confidence=0.9,
        )
        if kind == "request":
            clock = extended_due_date if extended else due_date
            case.due_date = clock(received, CALENDAR).due
        else:
            case.target_date = received.date() + timedelta(days=30)
        for key, value in fields.items():
            setattr(case, key, value)
        case.rights = [CaseRight(right=r, position=i) for i, r in enumerate(rights)]
        self.session.add(case)
        self.session.flush()
        self.message(mailbox, received, case=case, name=name, address=address)
        return case

    def message(self, mailbox: str, received: datetime, *, case: Case | None = None,
                name: str = "Jan Peeters", address: str = "jan.peeters@example.be",
                status: str = "processed", quarantine_reason: str | None = None) -> Message:
        uid = next(_uids)
        row = Message(
            mailbox_key=mailbox, folder="INBOX", uidvalidity=1, uid=uid,
            message_id=f"<m{uid}@example.be>", content_hash=f"{uid:064x}", status=status,
            case_id=case.id if case else None, received_at=received, from_address=address,
            from_name=name, subject=f"Verzoek {NATIONAL_NUMBER}",
            body_text=f"{BODY_MARKER}: mijn rijksregisternummer is {NATIONAL_NUMBER}.",
            quarantine_reason=quarantine_reason, created_at=received,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def outbox(self, case: Case, status: str, error: str, mail_from: str) -> OutboxItem:
        item = OutboxItem(
            case_id=case.id, purpose="acknowledgement",
            message_id=f"<ack.{case.reference}.{status}@vlaanderen.be>", mail_from=mail_from,
            recipient=case.requester_address, raw=f"Subject: x\r\n\r\n{BODY_MARKER}".encode(),
            status=status, attempts=3, last_error=error, created_at=case.received_at,
            next_attempt_at=case.received_at,
        )
        self.session.add(item)
        self.session.flush()
        return item


def received_for_due(due: date) -> datetime:
    """A receipt moment whose first-month due date is exactly `due` (checked)."""
    received = at(due - relativedelta(months=1))
    assert due_date(received, CALENDAR).due == due, f"no receipt gives due date {due}"
    return received


def populate(session: Session) -> dict[str, str]:
    """Write the fixture cases; returns role -> case reference (see the module docstring)."""
    f = Factory(session)
    ago = "dpo.ago@vlaanderen.be"
    cases: dict[str, Case] = {}

    def keep(role: str, case: Case) -> Case:
        cases[role] = case
        return case

    keep("overdue", f.case("ago", received_for_due(date(2026, 5, 29)), ("access", "erasure"),
                           name="Els Janssens", address="els.janssens@example.be",
                           assignee="an.devos"))
    keep("closed", f.case("ago", at(date(2026, 4, 1)), ("rectification",), status="closed",
                          outcome="answered", closed_at=at(date(2026, 4, 20)),
                          answered_on=date(2026, 4, 20), on_time=True))
    # Extended: three months from 12 March 2026 is Friday 12 June.
    keep("due_soon", f.case("ago", at(date(2026, 3, 12)), ("portability",), extended=True,
                            name="Pieter Claes", address="pieter.claes@example.be"))
    keep("extended", f.case("ago", at(date(2026, 5, 4)), ("objection",), extended=True))
    keep("extension", f.case("ago", received_for_due(date(2026, 6, 15)), ("restriction",),
                             name="Sofie Maes", address="sofie.maes@example.be"))
    suspended_on = date(2026, 5, 26)
    identity = keep("identity", f.case("ago", at(suspended_on), ("access",),
                                       name="Lucas Wouters", address="lucas.wouters@example.be",
                                       status="awaiting_identity", identity_status="none",
                                       clock_suspended_on=suspended_on))
    identity.suspended_days_left = (identity.due_date - suspended_on).days
    keep("question_late", f.case("ago", at(date(2026, 5, 1)), (), kind="question",
                                 name="Nora Peeters", address="nora.peeters@example.be"))
    keep("new", f.case("ago", at(date(2026, 6, 8)), ("access",), name="Tom Jacobs",
                       address="tom.jacobs@example.be"))
    keep("review_question", f.case(
        "ago", at(date(2026, 6, 8), 12), (), kind="question", name="Hanne Willems",
        address="hanne.willems@example.be", confidence=0.3, needs_review=True,
        review_reason="low confidence"))
    keep("review_sender", f.case(
        "ago", at(date(2026, 6, 8), 14), ("erasure",),
        name=f"Bram Goossens {NATIONAL_NUMBER}", address="bram.goossens@example.org",
        needs_review=True, review_reason="follow-up names another requester's case"))
    keep("wse_overdue", f.case("wse", received_for_due(date(2026, 6, 1)), ("access",),
                               name="Ines Lambert", address="ines.lambert@example.be"))
    f.message("ago", at(date(2026, 6, 8), 9), status="quarantined",
              name="Onbekende Afzender", address="onbekend@example.net",
              quarantine_reason=f"MIME parse error near {NATIONAL_NUMBER}")
    f.outbox(cases["extended"], "failed",
             "550 5.1.1 <jan.peeters@example.be>: mailbox unavailable", ago)
    f.outbox(cases["new"], "uncertain", "the sender stopped during delivery", ago)
    session.add(DigestRun(scope="ago", period="2026-06-08", kind="digest", status="queued",
                          counts={}, created_at=LAST_DIGEST))
    session.flush()
    return {role: case.reference for role, case in cases.items()}
