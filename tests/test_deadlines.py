"""The legal clock: due dates, holidays, suspensions and extensions checked against a calendar.

Every expected date below was worked out by hand from a printed calendar (weekdays) and the
Belgian legal holidays (Easter: 20 Apr 2025, 5 Apr 2026, 28 Mar 2027, 16 Apr 2028), not by
running the code under test.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from intake.cases.deadlines import (
    BRUSSELS,
    Calendar,
    ClockEnd,
    DueDate,
    add_months,
    current_due,
    days_left,
    due_date,
    extended_due_date,
    extension_allowed,
    resume_after_suspension,
    resume_with_days_left,
    to_brussels,
)

CALENDARS = {
    "default": Calendar.default(),  # Belgian legal holidays + 11 July
    "belgian": Calendar(()),  # Belgian legal holidays only
    "xmas_eve": Calendar(["07-11", "2026-12-24"]),  # plus a one-off closing day
}

D = date.fromisoformat

# (received, calendar, months, expected due)
DUE_CASES = [
    # EDPB 01/2022 example: 5 March -> 5 April (Mon 5 Apr 2027, a working day)
    ("2027-03-05", "default", 1, "2027-04-05"),
    # EDPB example: 31 August -> 30 September (no 31 September); Tue 30 Sep 2025
    ("2025-08-31", "default", 1, "2025-09-30"),
    # Reg. 1182/71 Art. 3(2)(c): 31 Jan -> last day of February, leap year (Tue 29 Feb 2028)
    ("2028-01-31", "default", 1, "2028-02-29"),
    # 31 Jan -> 28 Feb in a common year; 28 Feb 2027 is a Sunday -> Mon 1 Mar 2027
    ("2027-01-31", "default", 1, "2027-03-01"),
    # 30 Jan -> 29 Feb 2028 (no 30 February): last day of the month
    ("2028-01-30", "default", 1, "2028-02-29"),
    # 29 Feb 2028 + 1 month -> same day number, Wed 29 Mar 2028
    ("2028-02-29", "default", 1, "2028-03-29"),
    # the 31st -> 30th of a 30-day month: 31 Mar 2026 -> Thu 30 Apr 2026
    ("2026-03-31", "default", 1, "2026-04-30"),
    # the 31st -> 30th: 31 May 2026 -> Tue 30 Jun 2026
    ("2026-05-31", "default", 1, "2026-06-30"),
    # the 31st -> 30th: 31 Oct 2026 -> Mon 30 Nov 2026
    ("2026-10-31", "default", 1, "2026-11-30"),
    # the 30th -> 30th: 30 Apr 2027 -> 30 May 2027 is a Sunday -> Mon 31 May 2027
    ("2027-04-30", "default", 1, "2027-05-31"),
    # across the year end: 31 Dec 2026 -> 31 Jan 2027 (Sunday) -> Mon 1 Feb 2027
    ("2026-12-31", "default", 1, "2027-02-01"),
    # Easter: 5 Apr 2026 is Easter Sunday, 6 Apr Easter Monday -> Tue 7 Apr 2026 (FIELD-NOTES)
    ("2026-03-05", "default", 1, "2026-04-07"),
    # Easter Monday alone: 17 Apr 2028 -> Tue 18 Apr 2028
    ("2028-03-17", "default", 1, "2028-04-18"),
    # Ascension Day: Thu 14 May 2026 -> Fri 15 May 2026
    ("2026-04-14", "default", 1, "2026-05-15"),
    # Ascension Day: Thu 6 May 2027 -> Fri 7 May 2027
    ("2027-04-06", "default", 1, "2027-05-07"),
    # Whit Monday: Mon 25 May 2026 -> Tue 26 May 2026
    ("2026-04-25", "default", 1, "2026-05-26"),
    # Whit Monday: Mon 5 Jun 2028 -> Tue 6 Jun 2028
    ("2028-05-05", "default", 1, "2028-06-06"),
    # Labour Day: Thu 1 May 2025 -> Fri 2 May 2025
    ("2025-04-01", "default", 1, "2025-05-02"),
    # National Day: Tue 21 Jul 2026 -> Wed 22 Jul 2026
    ("2026-06-21", "default", 1, "2026-07-22"),
    # 11 July (Flemish Community, default calendar): Fri 11 Jul 2025 -> Sat, Sun -> Mon 14 Jul
    ("2025-06-11", "default", 1, "2025-07-14"),
    # 11 July is no Belgian legal holiday: without it, Fri 11 Jul 2025 is the due date
    ("2025-06-11", "belgian", 1, "2025-07-11"),
    # Assumption: Fri 15 Aug 2025 -> Mon 18 Aug 2025
    ("2025-07-15", "default", 1, "2025-08-18"),
    # All Saints: Mon 1 Nov 2027 -> Tue 2 Nov 2027 (All Souls is no legal holiday)
    ("2027-10-01", "default", 1, "2027-11-02"),
    # Armistice: Wed 11 Nov 2026 -> Thu 12 Nov 2026
    ("2026-10-11", "default", 1, "2026-11-12"),
    # Christmas: Thu 25 Dec 2025 -> Fri 26 Dec 2025 (26 Dec is no Belgian legal holiday)
    ("2025-11-25", "default", 1, "2025-12-26"),
    # Christmas chain: Fri 25 Dec 2026, Sat, Sun -> Mon 28 Dec 2026
    ("2026-11-25", "default", 1, "2026-12-28"),
    # New Year: Thu 1 Jan 2026 -> Fri 2 Jan 2026
    ("2025-12-01", "default", 1, "2026-01-02"),
    # New Year chain: Fri 1 Jan 2027, Sat, Sun -> Mon 4 Jan 2027
    ("2026-12-01", "default", 1, "2027-01-04"),
    # Saturday: Sat 12 Sep 2026 -> Mon 14 Sep 2026
    ("2026-08-12", "default", 1, "2026-09-14"),
    # Sunday: Sun 13 Sep 2026 -> Mon 14 Sep 2026
    ("2026-08-13", "default", 1, "2026-09-14"),
    # chain: Sat 4 Apr, Easter Sunday 5 Apr, Easter Monday 6 Apr 2026 -> Tue 7 Apr
    ("2026-03-04", "default", 1, "2026-04-07"),
    # chain: Sat 23 May, Whit Sunday 24 May, Whit Monday 25 May 2026 -> Tue 26 May
    ("2026-04-23", "default", 1, "2026-05-26"),
    # chain: Sunday 30 Apr 2028, then Labour Day Mon 1 May -> Tue 2 May 2028
    ("2028-03-31", "default", 1, "2028-05-02"),
    # received on a holiday itself: the day of receipt is not counted; Tue 5 May 2026
    ("2026-04-05", "default", 1, "2026-05-05"),
    # configured one-off day: Thu 24 Dec 2026 closed, Christmas Fri, Sat, Sun -> Mon 28 Dec
    ("2026-11-24", "xmas_eve", 1, "2026-12-28"),
    # the same without that configured day: Thu 24 Dec 2026 is a working day
    ("2026-11-24", "default", 1, "2026-12-24"),
    # offset crossing midnight: 23:30 UTC on 31 Mar is 01:30 on 1 Apr in Brussels (CEST);
    # 1 May 2026 is Labour Day (Fri), then Sat, Sun -> Mon 4 May 2026
    ("2026-03-31T23:30:00+00:00", "default", 1, "2026-05-04"),
    # the same evening, two hours earlier, is still 31 Mar in Brussels -> Thu 30 Apr 2026
    ("2026-03-31T21:30:00+00:00", "default", 1, "2026-04-30"),
    # "Z" suffix, winter time (CET, +1): 23:30Z on 15 Jan is 00:30 on 16 Jan -> Mon 16 Feb 2026
    ("2026-01-15T23:30:00Z", "default", 1, "2026-02-16"),
    # naive date-time is Brussels local time: 23:30 on 31 Mar stays 31 Mar -> Thu 30 Apr 2026
    ("2026-03-31T23:30:00", "default", 1, "2026-04-30"),
    # DST starts 29 Mar 2026 at 01:00 UTC: 23:30Z on 28 Mar is 00:30 CET on 29 Mar -> Wed 29 Apr
    ("2026-03-28T23:30:00+00:00", "default", 1, "2026-04-29"),
    # DST still on at 22:30Z on 24 Oct 2026 (CEST, +2): 00:30 on 25 Oct -> Wed 25 Nov 2026
    ("2026-10-24T22:30:00+00:00", "default", 1, "2026-11-25"),
    # one hour earlier it is 23:30 on 24 Oct in Brussels -> Tue 24 Nov 2026
    ("2026-10-24T21:30:00+00:00", "default", 1, "2026-11-24"),
    # extended (3 months): 31 Jan 2028 -> 30 Apr (Sunday), 1 May (holiday) -> Tue 2 May 2028
    ("2028-01-31", "default", 3, "2028-05-02"),
    # extended: 5 Mar 2026 -> Fri 5 Jun 2026
    ("2026-03-05", "default", 3, "2026-06-05"),
    # extended: 5 Mar 2027 -> 5 Jun 2027 is a Saturday -> Mon 7 Jun 2027
    ("2027-03-05", "default", 3, "2027-06-07"),
    # extended from 29 Feb 2028 -> Mon 29 May 2028
    ("2028-02-29", "default", 3, "2028-05-29"),
]


@pytest.mark.parametrize(("received", "calendar", "months", "expected"), DUE_CASES)
def test_due_date_table(received: str, calendar: str, months: int, expected: str) -> None:
    result = due_date(received, CALENDARS[calendar], months=months)
    assert result.due == D(expected)
    assert result.months == months


def test_table_is_large_enough() -> None:
    assert len(DUE_CASES) >= 30


def test_extended_due_date_is_three_months() -> None:
    result = extended_due_date("2028-01-31", Calendar.default())
    assert (result.raw_end, result.due, result.months) == (D("2028-04-30"), D("2028-05-02"), 3)
    assert result.extended


def test_easter_skipped_days_are_explained() -> None:
    result = due_date("2026-03-05", Calendar.default())
    assert result.raw_end == D("2026-04-05")
    assert [s.day for s in result.skipped] == [D("2026-04-05"), D("2026-04-06")]
    assert result.skipped[0].reason.startswith("Sunday")
    assert result.skipped[1].reason == "holiday: Paasmaandag"


def test_configured_holiday_reason() -> None:
    calendar = Calendar.default()
    assert calendar.why_not_working(D("2025-07-11")) == "configured holiday 07-11"
    assert Calendar(()).why_not_working(D("2025-07-11")) is None
    assert CALENDARS["xmas_eve"].why_not_working(D("2026-12-24")) == "configured holiday 2026-12-24"
    # a one-off day closes that year only: Fri 24 Dec 2027 is a working day
    assert CALENDARS["xmas_eve"].is_working_day(D("2027-12-24"))


def test_weekend_reasons_and_working_days() -> None:
    calendar = Calendar.default()
    assert calendar.why_not_working(D("2026-09-12")) == "Saturday"
    assert calendar.why_not_working(D("2026-09-13")) == "Sunday"
    assert calendar.is_working_day(D("2026-09-14"))
    assert calendar.is_working_day(D("2025-12-26"))  # 26 Dec: not a Belgian legal holiday
    assert calendar.is_working_day(D("2026-11-02"))  # All Souls: not a legal holiday
    assert not calendar.is_working_day(D("2026-11-11"))


def test_next_working_day_on_or_after() -> None:
    calendar = Calendar.default()
    day, skipped = calendar.next_working_day_on_or_after(D("2026-12-25"))
    assert day == D("2026-12-28")
    assert [s.day for s in skipped] == [D("2026-12-25"), D("2026-12-26"), D("2026-12-27")]
    day, skipped = calendar.next_working_day_on_or_after(D("2026-12-28"))
    assert (day, skipped) == (D("2026-12-28"), [])


def test_yearly_29_february_only_in_leap_years() -> None:
    calendar = Calendar(["02-29"])
    assert calendar.why_not_working(D("2028-02-29")) == "configured holiday 02-29"
    assert calendar.is_working_day(D("2027-03-01"))  # no crash in a common year


@pytest.mark.parametrize("spec", ["02-30", "7-11", "2026/07/11", "13-01", "2027-02-29", "xx"])
def test_bad_extra_holiday(spec: str) -> None:
    with pytest.raises(ValueError, match="extra holiday"):
        Calendar([spec])


def test_holiday_years_are_cached() -> None:
    calendar = Calendar.default()
    assert calendar.holidays_in(2026) is calendar.holidays_in(2026)


def test_calendar_describe_names_extra_days() -> None:
    assert "07-11" in Calendar.default().describe()
    assert "none" in Calendar(()).describe()


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2026-03-05", 1, "2026-04-05"),
        ("2025-08-31", 1, "2025-09-30"),
        ("2028-01-31", 1, "2028-02-29"),
        ("2027-01-31", 1, "2027-02-28"),
        ("2026-12-31", 2, "2027-02-28"),
        ("2026-11-30", 3, "2027-02-28"),
        ("2028-02-29", 12, "2029-02-28"),
    ],
)
def test_add_months(start: str, months: int, expected: str) -> None:
    assert add_months(D(start), months) == D(expected)


def test_to_brussels_forms() -> None:
    midnight = to_brussels("2026-03-05")
    assert midnight == datetime(2026, 3, 5, tzinfo=BRUSSELS)
    assert midnight.utcoffset() == timedelta(hours=1)
    assert to_brussels(date(2026, 7, 1)).utcoffset() == timedelta(hours=2)
    assert to_brussels(datetime(2026, 7, 1, 12, 0)).hour == 12
    converted = to_brussels(datetime(2026, 7, 1, 22, 30, tzinfo=UTC))
    assert (converted.date(), converted.hour, converted.minute) == (D("2026-07-02"), 0, 30)
    assert to_brussels("2026-03-31T23:30:00+00:00").date() == D("2026-04-01")


@pytest.mark.parametrize("junk", ["", "yesterday", "05/03/2026", "2026-13-01", "2026-02-30",
                                  "2026-03-05T25:00"])
def test_to_brussels_rejects_junk(junk: str) -> None:
    with pytest.raises(ValueError, match="not an ISO date"):
        to_brussels(junk)


def test_to_brussels_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        to_brussels(20260305)  # type: ignore[arg-type]


def test_due_date_rejects_zero_months() -> None:
    with pytest.raises(ValueError):
        due_date("2026-03-05", Calendar.default(), months=0)


def test_due_date_json_shape() -> None:
    data = due_date("2026-03-31T23:30:00+00:00", Calendar.default()).to_json()
    json.dumps(data)  # serialisable as is
    assert data["received"] == "2026-04-01T01:30:00+02:00"
    assert data["months"] == 1
    assert data["extended"] is False
    assert data["raw_end"] == "2026-05-01"
    assert data["due"] == "2026-05-04"
    assert [s["date"] for s in data["skipped"]] == ["2026-05-01", "2026-05-02", "2026-05-03"]
    assert data["skipped"][1]["reason"] == "Saturday"
    assert data["suspended_days"] == 0


# --- suspension (EDPB 01/2022 §159) ---------------------------------------------------------

def test_suspension_from_day_of_receipt() -> None:
    # received Thu 5 Mar 2026, ID asked the same day, proof on Tue 10 Mar: 31 days were left
    # (5 Mar -> raw end 5 Apr), so the period now ends 10 Mar + 31 = Fri 10 Apr 2026
    calendar = Calendar.default()
    result = resume_after_suspension(due_date("2026-03-05", calendar), D("2026-03-05"),
                                     D("2026-03-10"), calendar)
    assert isinstance(result, DueDate)
    assert (result.raw_end, result.due) == (D("2026-04-10"), D("2026-04-10"))
    assert result.suspended_days == 5
    assert result.suspensions == ((D("2026-03-05"), D("2026-03-10")),)


def test_suspension_mid_period() -> None:
    # received 5 Mar 2027 (raw end 5 Apr); stopped 15 Mar with 21 days left, resumed 25 Mar:
    # new raw end 25 Mar + 21 = Thu 15 Apr 2027
    calendar = Calendar.default()
    result = resume_after_suspension(due_date("2027-03-05", calendar), D("2027-03-15"),
                                     D("2027-03-25"), calendar)
    assert (result.raw_end, result.due, result.suspended_days) == (D("2027-04-15"),
                                                                   D("2027-04-15"), 10)


def test_suspension_counts_days_left_from_raw_end_then_rolls_forward() -> None:
    # received 5 Mar 2026: raw end Sun 5 Apr (due Tue 7 Apr). A one-day stop moves the raw end
    # to Easter Monday 6 Apr 2026, which rolls forward to Tue 7 Apr.
    calendar = Calendar.default()
    result = resume_after_suspension(due_date("2026-03-05", calendar), D("2026-03-05"),
                                     D("2026-03-06"), calendar)
    assert result.raw_end == D("2026-04-06")
    assert result.due == D("2026-04-07")
    assert [s.reason for s in result.skipped] == ["holiday: Paasmaandag"]


def test_suspension_on_a_bare_raw_end_date() -> None:
    result = resume_after_suspension(D("2027-04-05"), D("2027-03-15"), D("2027-03-25"),
                                     Calendar.default())
    assert isinstance(result, ClockEnd) and not isinstance(result, DueDate)
    assert (result.raw_end, result.due, result.suspended_days) == (D("2027-04-15"),
                                                                   D("2027-04-15"), 10)


def test_suspension_starting_in_the_weekend_after_the_raw_end() -> None:
    # received 12 Aug 2026: raw end Sat 12 Sep, due Mon 14 Sep. Stopped Sun 13 Sep (0 days
    # left), resumed Sun 20 Sep: the period ends on the next working day, Mon 21 Sep 2026.
    calendar = Calendar.default()
    result = resume_after_suspension(due_date("2026-08-12", calendar), D("2026-09-13"),
                                     D("2026-09-20"), calendar)
    assert result.due == D("2026-09-21")


@pytest.mark.parametrize(
    ("stopped", "resumed", "message"),
    [
        ("2026-03-10", "2026-03-09", "cannot resume"),
        ("2026-03-04", "2026-03-09", "precedes receipt"),
        ("2026-04-08", "2026-04-20", "cannot revive"),  # after the due date, Tue 7 Apr 2026
    ],
)
def test_suspension_errors(stopped: str, resumed: str, message: str) -> None:
    calendar = Calendar.default()
    with pytest.raises(ValueError, match=message):
        resume_after_suspension(due_date("2026-03-05", calendar), D(stopped), D(resumed), calendar)


def test_current_due_without_suspensions_is_the_plain_due_date() -> None:
    result = current_due("2026-03-05", Calendar.default(), [], extended=False)
    assert result is not None and result.due == D("2026-04-07")


def test_current_due_is_none_while_suspended() -> None:
    assert current_due("2026-03-05", Calendar.default(), [(D("2026-03-05"), None)], False) is None


def test_current_due_adds_closed_suspensions() -> None:
    # received 5 Mar 2027 (raw end 5 Apr); stopped 3 days then 2 days: raw end Sat 10 Apr,
    # then Sun 11 Apr -> Mon 12 Apr 2027. Given out of order on purpose.
    suspensions = [(D("2027-03-20"), D("2027-03-22")), (D("2027-03-05"), D("2027-03-08"))]
    result = current_due("2027-03-05", Calendar.default(), suspensions, extended=False)
    assert result is not None
    assert (result.raw_end, result.due, result.suspended_days) == (D("2027-04-10"),
                                                                   D("2027-04-12"), 5)


def test_current_due_extended_with_suspension() -> None:
    # 31 Jan 2028 + 3 months = 30 Apr; a 10-day stop -> Wed 10 May 2028
    result = current_due("2028-01-31", Calendar.default(), [(D("2028-02-01"), D("2028-02-11"))],
                         extended=True)
    assert result is not None and result.due == D("2028-05-10") and result.months == 3


@pytest.mark.parametrize(
    "suspensions",
    [
        [(D("2027-03-05"), D("2027-03-10")), (D("2027-03-08"), D("2027-03-12"))],  # overlap
        [(D("2027-03-05"), None), (D("2027-03-20"), D("2027-03-22"))],  # open one not last
    ],
)
def test_current_due_rejects_inconsistent_suspensions(
    suspensions: list[tuple[date, date | None]],
) -> None:
    with pytest.raises(ValueError):
        current_due("2027-03-05", Calendar.default(), suspensions, extended=False)


# --- extension (Art. 12(3) GDPR) ------------------------------------------------------------

def test_extension_allowed_on_the_last_day_of_the_first_month() -> None:
    # received 5 Mar 2026: first-month due date Tue 7 Apr 2026; extended due Fri 5 Jun 2026
    ok, message = extension_allowed("2026-03-05", Calendar.default(), D("2026-04-07"),
                                    "veel gegevens in verschillende systemen", False)
    assert ok
    assert "2026-06-05" in message


def test_extension_refused_after_the_first_month() -> None:
    ok, message = extension_allowed("2026-03-05", Calendar.default(), D("2026-04-08"),
                                    "veel gegevens", False)
    assert not ok
    assert "art. 12, lid 3 AVG" in message
    assert "één maand" in message
    assert "2026-04-07" in message


def test_extension_refused_twice() -> None:
    ok, message = extension_allowed("2026-03-05", Calendar.default(), D("2026-03-10"),
                                    "veel gegevens", True)
    assert not ok and "één verlenging" in message


@pytest.mark.parametrize("reason", ["", "   "])
def test_extension_refused_without_reason(reason: str) -> None:
    ok, message = extension_allowed("2026-03-05", Calendar.default(), D("2026-03-10"), reason,
                                    False)
    assert not ok and "gemotiveerd" in message


def test_extension_window_moves_with_a_suspension() -> None:
    # stopped 5-10 Mar 2026: the first month now ends Fri 10 Apr, so 9 Apr is still in time
    calendar = Calendar.default()
    args = ("2026-03-05", calendar, D("2026-04-09"), "veel gegevens", False)
    assert not extension_allowed(*args)[0]
    assert extension_allowed(*args, suspensions=[(D("2026-03-05"), D("2026-03-10"))])[0]


def test_extension_allowed_while_clock_stopped() -> None:
    ok, _ = extension_allowed("2026-03-05", Calendar.default(), D("2026-03-20"), "veel gegevens",
                              False, suspensions=[(D("2026-03-05"), None)])
    assert ok


def test_extension_message_in_english() -> None:
    ok, message = extension_allowed("2026-03-05", Calendar.default(), D("2026-04-08"), "x", False,
                                    language="en")
    assert not ok and "Art. 12(3) GDPR" in message and "within one month" in message


def test_extension_before_receipt_is_an_error() -> None:
    with pytest.raises(ValueError):
        extension_allowed("2026-03-05", Calendar.default(), D("2026-03-04"), "x", False)


def test_resume_with_stored_days_left() -> None:
    # what a stored case keeps: received 5 Mar 2026, stopped the same day with 31 days left
    # (raw end 5 Apr); proof on Tue 31 Mar -> 31 Mar + 31 = Fri 1 May 2026, Labour Day,
    # then Sat, Sun -> Mon 4 May 2026
    left = days_left(D("2026-04-05"), D("2026-03-05"))
    assert left == 31
    result = resume_with_days_left(D("2026-03-31"), left, Calendar.default())
    assert (result.raw_end, result.due) == (D("2026-05-01"), D("2026-05-04"))
    assert days_left(D("2026-09-12"), D("2026-09-13")) == 0  # stopped after the raw end
    with pytest.raises(ValueError):
        resume_with_days_left(D("2026-04-03"), -1, Calendar.default())
