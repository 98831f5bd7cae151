"""The daily reminders: working-day boundaries on the Belgian calendar, once per day, alerts."""

from __future__ import annotations

import email
from dataclasses import replace
from datetime import date, datetime, timedelta
from email import policy

import pytest
from sqlalchemy import func, select

from intake.cases.deadlines import Calendar
from intake.cases.urgency import clock_flags, working_days_until
from intake.config import ReminderSettings
from intake.digest import collect_digest
from intake.outbound.outbox import flush_outbox
from intake.outbound.transport import open_transport
from intake.reminders import ReminderReport, _alert, run_reminders
from intake.store.models import Case, Event, OutboxItem
from intake.store.timezone import BRUSSELS
from tests import casefactory as cf

# Thursday 2 April 2026: Good Friday is a working day in Belgium, Easter Monday (6 April) is not.
EASTER_WEEK = datetime(2026, 4, 2, 7, 0, tzinfo=BRUSSELS)
CALENDAR = Calendar.default()


def test_working_days_skip_weekends_and_belgian_holidays():
    today = EASTER_WEEK.date()
    # Fri 3, (Sat 4, Sun 5, Easter Monday 6), Tue 7, Wed 8.
    assert working_days_until(today, date(2026, 4, 8), CALENDAR) == 3
    assert working_days_until(today, date(2026, 4, 6), CALENDAR) == 1
    assert working_days_until(today, today, CALENDAR) == 0
    assert working_days_until(today, date(2026, 4, 1), CALENDAR) == 0
    # 11 July is closed only with the Flemish extra holiday (a Friday in 2025).
    assert working_days_until(date(2025, 7, 10), date(2025, 7, 14), CALENDAR) == 1
    assert working_days_until(date(2025, 7, 10), date(2025, 7, 14), Calendar(())) == 2


@pytest.mark.parametrize(("due", "extended", "flags"), [
    (date(2026, 4, 1), False, ("overdue",)),
    (date(2026, 4, 2), False, ("due_soon", "extension_window")),  # due today
    (date(2026, 4, 8), False, ("due_soon", "extension_window")),  # 3 working days (Easter)
    (date(2026, 4, 9), False, ("extension_window",)),  # 4 working days
    (date(2026, 4, 10), False, ("extension_window",)),  # 5 working days
    (date(2026, 4, 13), False, ()),  # 6 working days
    (date(2026, 4, 8), True, ("due_soon",)),  # extended: nothing left to decide
    (date(2026, 4, 9), True, ()),
])
def test_flag_boundaries(due, extended, flags):
    case = Case(kind="request", status="open", due_date=due, extended=extended,
                clock_suspended_on=None)
    assert clock_flags(case, EASTER_WEEK.date(), CALENDAR, ReminderSettings()) == flags


def test_no_flags_without_a_running_clock():
    today, settings = EASTER_WEEK.date(), ReminderSettings()
    base = {"kind": "request", "status": "open", "due_date": date(2026, 3, 1), "extended": False}
    assert clock_flags(Case(**{**base, "clock_suspended_on": date(2026, 2, 1),
                               "status": "awaiting_identity"}), today, CALENDAR, settings) == ()
    assert clock_flags(Case(**{**base, "status": "closed", "clock_suspended_on": None}),
                       today, CALENDAR, settings) == ()
    assert clock_flags(Case(**{**base, "kind": "question", "due_date": None,
                               "clock_suspended_on": None}), today, CALENDAR, settings) == ()


def reminder_events(db) -> list[tuple[str, str, str]]:
    with db.sessions() as session:
        rows = session.execute(
            select(Case.reference, Event.data).join(Case, Case.id == Event.case_id)
            .where(Event.type == "reminder").order_by(Event.id)
        ).all()
    return [(ref, data["kind"], data["day"]) for ref, data in rows]


def alerts(db) -> list[OutboxItem]:
    with db.sessions() as session:
        return list(session.scalars(select(OutboxItem).where(
            OutboxItem.purpose == "overdue_alert").order_by(OutboxItem.id)))


def test_fixture_cases_flagged_once_per_day(db):
    with db.sessions() as session, session.begin():
        refs = cf.populate(session)
    settings = cf.settings()
    with db.sessions() as session, session.begin():
        report = run_reminders(session, settings, cf.NOW)
    assert report.flagged == {
        "overdue": [refs["overdue"], refs["wse_overdue"]],
        "due_soon": [refs["due_soon"]],  # Fri 12 June: 3 working days
        "extension_window": [refs["extension"]],  # Mon 15 June: 4 working days
    }
    assert report.recorded == 4
    day = "2026-06-09"
    assert sorted(reminder_events(db)) == sorted([
        (refs["overdue"], "overdue", day), (refs["wse_overdue"], "overdue", day),
        (refs["due_soon"], "due_soon", day), (refs["extension"], "extension_window", day)])
    # Again the same day, even later: nothing new.
    with db.sessions() as session, session.begin():
        again = run_reminders(session, settings, cf.NOW + timedelta(hours=10))
    assert again.recorded == 0 and again.alerts_queued == 0
    assert len(reminder_events(db)) == 4
    # The next day: flagged again (now due_soon has 2 working days, extension 3).
    with db.sessions() as session, session.begin():
        next_day = run_reminders(session, settings, cf.NOW + timedelta(days=1))
    assert next_day.flagged["due_soon"] == [refs["due_soon"], refs["extension"]]
    assert next_day.recorded == 5
    # The digest counts what the reminders flag: its overdue section holds the same requests.
    with db.sessions() as session:
        digest = collect_digest(session, settings, "all", cf.NOW)
    requests = [line.reference for line in digest.section("overdue").lines
                if line.kind == "request"]
    assert sorted(requests) == sorted(report.flagged["overdue"])


def test_overdue_alert_queued_once_per_case_per_day(db, smtp_server):
    with db.sessions() as session, session.begin():
        refs = cf.populate(session)
    settings = cf.settings()
    for hours in (0, 2, 9):
        with db.sessions() as session, session.begin():
            run_reminders(session, settings, cf.NOW + timedelta(hours=hours))
    items = alerts(db)
    # ago: [digest] to + ago staff; wse: [digest] to + wse staff.
    assert sorted((i.recipient, i.mail_from) for i in items) == sorted([
        (cf.DIGEST_TO, "dpo.ago@vlaanderen.be"), (cf.STAFF_AGO, "dpo.ago@vlaanderen.be"),
        (cf.DIGEST_TO, "dpo.wse@vlaanderen.be"), (cf.STAFF_WSE, "dpo.wse@vlaanderen.be")])
    assert all(".2026-06-09." in i.message_id for i in items)
    stats = flush_outbox(db.sessions, lambda: open_transport(smtp_server.settings()), 3,
                         now=lambda: cf.NOW)
    assert stats.sent == 4
    received = smtp_server.wait_for(4)
    ago_alert = next(m for m in received if m.rcpt_tos == (cf.STAFF_AGO,))
    msg = email.message_from_bytes(ago_alert.data, policy=policy.default)
    assert msg["Subject"] == f"[{refs['overdue']}] Termijn verstreken op 2026-05-29"
    assert msg["Auto-Submitted"] == "auto-generated"
    body = msg.get_content()
    assert "11 dagen over tijd" in body and "Els Janssens <els.janssens@example.be>" in body
    assert "toegewezen aan an.devos" in body
    assert cf.BODY_MARKER not in body and "85.07.30" not in body
    # The next day brings one more alert per case and address.
    with db.sessions() as session, session.begin():
        run_reminders(session, settings, cf.NOW + timedelta(days=1))
    assert len(alerts(db)) == 8
    with db.sessions() as session:
        queued = session.scalar(select(func.count()).select_from(Event).where(
            Event.type == "overdue_alert_queued"))
    assert queued == 4


def test_alerts_off_or_nobody_to_tell(db):
    with db.sessions() as session, session.begin():
        refs = cf.populate(session)
    base = cf.settings()
    quiet = replace(base, reminders=replace(base.reminders, alert_overdue=False))
    with db.sessions() as session, session.begin():
        report = run_reminders(session, quiet, cf.NOW)
    assert report.recorded == 4 and report.alerts_queued == 0 and alerts(db) == []
    with db.sessions() as session, session.begin():
        report = run_reminders(session, cf.without_staff(base), cf.NOW + timedelta(days=1))
    assert report.alerts_queued == 0 and alerts(db) == []
    assert sorted(report.no_staff) == sorted([refs["overdue"], refs["wse_overdue"]])


def test_a_second_identical_alert_is_refused_by_its_message_id(db):
    """Two runs racing past the daily check still queue one mail: the Message-ID is unique."""
    with db.sessions() as session, session.begin():
        refs = cf.populate(session)
    settings = cf.settings()
    with db.sessions() as session, session.begin():
        case = session.scalars(select(Case).where(Case.reference == refs["overdue"])).one()
        first, second = ReminderReport(cf.NOW.date()), ReminderReport(cf.NOW.date())
        _alert(session, settings, case, cf.NOW.date(), cf.NOW, first)
        _alert(session, settings, case, cf.NOW.date(), cf.NOW, second)
    assert (first.alerts_queued, second.alerts_queued) == (2, 0)
    assert len(alerts(db)) == 2
