"""How urgent a case's clock is on a given day: working days left and the reminder flags.

Shared by the daily reminders and the digest, so both say the same about the same case.
"""

from __future__ import annotations

from datetime import date, timedelta

from intake.cases.deadlines import Calendar
from intake.cases.workflow import calendar_for
from intake.config import ConfigError, ReminderSettings, Settings
from intake.store.enums import LEGAL_CLOCK_KINDS
from intake.store.models import Case

KINDS = ("overdue", "due_soon", "extension_window")  # most urgent first


def working_days_until(today: date, day: date, calendar: Calendar) -> int:
    """Working days after `today` up to and including `day` (0 when `day` is today or earlier)."""
    count, current = 0, today + timedelta(days=1)
    while current <= day:
        count += calendar.is_working_day(current)
        current += timedelta(days=1)
    return count


def calendar_of(settings: Settings, mailbox_key: str) -> Calendar:
    """The mailbox's calendar; the default one for a mailbox no longer configured."""
    try:
        return calendar_for(settings.mailbox(mailbox_key).extra_holidays)
    except ConfigError:
        return Calendar.default()


def is_running(case: Case) -> bool:
    """A request or a case to classify whose legal clock runs: open, not suspended, due."""
    return (case.kind in LEGAL_CLOCK_KINDS and case.status == "open"
            and case.clock_suspended_on is None and case.due_date is not None)


def clock_flags(case: Case, today: date, calendar: Calendar,
                reminders: ReminderSettings) -> tuple[str, ...]:
    """The reminder kinds a case earns today, most urgent first; none unless its clock runs.

    overdue: the due date has passed. due_soon: due within `due_within_working_days` working
    days. extension_window: not extended, and the first month ends within
    `extension_window_working_days` working days.
    """
    if not is_running(case):
        return ()
    assert case.due_date is not None
    if case.due_date < today:
        return ("overdue",)
    left = working_days_until(today, case.due_date, calendar)
    flags = []
    if left <= reminders.due_within_working_days:
        flags.append("due_soon")
    # Not extended: the due date is the end of the first month, the last day to notify one.
    if not case.extended and left <= reminders.extension_window_working_days:
        flags.append("extension_window")
    return tuple(flags)
