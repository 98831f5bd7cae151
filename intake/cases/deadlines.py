"""The legal clock: GDPR Art. 12(3) due dates under Regulation 1182/71, pure date arithmetic."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, overload

import holidays
from dateutil.relativedelta import relativedelta

from intake.store.timezone import BRUSSELS

DEFAULT_EXTRA_HOLIDAYS: tuple[str, ...] = ("07-11",)  # Flemish Community holiday
FIRST_PERIOD_MONTHS = 1
EXTENDED_PERIOD_MONTHS = 3  # one month plus the two-month extension of Art. 12(3)

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EXTRA_RE = re.compile(r"^(?:(\d{4})-)?(\d{2})-(\d{2})$")
# Enough to cross any plausible run of closed days; only a broken calendar gets near it.
_MAX_CLOSED_RUN = 60

Suspension = tuple[date, date | None]


@dataclass(frozen=True)
class SkippedDay:
    """A day the period could not end on, and why."""

    day: date
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"date": self.day.isoformat(), "reason": self.reason}


@lru_cache(maxsize=256)
def _belgian_holidays(year: int) -> dict[date, str]:
    """Belgian legal holidays of one year, with their Dutch names (shared by all calendars)."""
    found = holidays.country_holidays("BE", years=year, language="nl")
    return dict(found.items())


class Calendar:
    """Working days: Monday to Friday, minus Belgian legal holidays and configured extra days."""

    def __init__(self, extra_holidays: Sequence[str] = ()) -> None:
        self.extra_holidays: tuple[str, ...] = tuple(extra_holidays)
        self._every_year: dict[tuple[int, int], str] = {}
        self._once: dict[date, str] = {}
        for spec in self.extra_holidays:
            match = _EXTRA_RE.match(spec.strip())
            if not match:
                raise ValueError(f"extra holiday {spec!r} is neither MM-DD nor YYYY-MM-DD")
            year, month, day = match.groups()
            try:
                # 2000 is a leap year, so "02-29" is accepted as a yearly day.
                when = date(int(year) if year else 2000, int(month), int(day))
            except ValueError:
                raise ValueError(f"extra holiday {spec!r} is not a date in the calendar") from None
            if year:
                self._once[when] = spec.strip()
            else:
                self._every_year[(when.month, when.day)] = spec.strip()
        self._years: dict[int, dict[date, str]] = {}

    @classmethod
    def default(cls) -> Calendar:
        """Belgian legal holidays plus 11 July, the holiday of the Flemish Community."""
        return cls(DEFAULT_EXTRA_HOLIDAYS)

    def describe(self) -> str:
        """One line for people: what this calendar closes."""
        extra = ", ".join(self.extra_holidays) if self.extra_holidays else "none"
        return (f"Belgian legal holidays (holidays {holidays.__version__}), Saturdays and Sundays; "
                f"extra holidays: {extra}")

    def __repr__(self) -> str:
        return f"Calendar(extra_holidays={list(self.extra_holidays)!r})"

    def holidays_in(self, year: int) -> dict[date, str]:
        """Closed days of one year (not counting weekends) -> reason. Computed once per year."""
        cached = self._years.get(year)
        if cached is not None:
            return cached
        days = {d: f"holiday: {name}" for d, name in _belgian_holidays(year).items()}
        for (month, day), spec in self._every_year.items():
            try:
                when = date(year, month, day)
            except ValueError:  # 29 February outside a leap year
                continue
            days.setdefault(when, f"configured holiday {spec}")
        for when, spec in self._once.items():
            if when.year == year:
                days.setdefault(when, f"configured holiday {spec}")
        self._years[year] = days
        return days

    def why_not_working(self, d: date) -> str | None:
        """None for a working day, else the reason, e.g. "Saturday" or "holiday: Paasmaandag"."""
        holiday = self.holidays_in(d.year).get(d)
        if d.weekday() >= 5:
            weekday = _WEEKDAY_NAMES[d.weekday()]
            return f"{weekday}, {holiday}" if holiday else weekday
        return holiday

    def is_working_day(self, d: date) -> bool:
        return self.why_not_working(d) is None

    def next_working_day_on_or_after(self, d: date) -> tuple[date, list[SkippedDay]]:
        """The first working day from d on, and the closed days passed over to reach it."""
        skipped: list[SkippedDay] = []
        current = d
        for _ in range(_MAX_CLOSED_RUN):
            reason = self.why_not_working(current)
            if reason is None:
                return current, skipped
            skipped.append(SkippedDay(current, reason))
            current += timedelta(days=1)
        raise ValueError(f"{self!r} has no working day in the {_MAX_CLOSED_RUN} days from {d}")


def to_brussels(value: str | date | datetime) -> datetime:
    """A receipt moment in Europe/Brussels.

    An ISO date is midnight in Brussels; a naive date-time is Brussels local time; a date-time
    with an offset (or another zone) is converted to Brussels time.
    """
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"{value!r} is not an ISO date or date-time (expected YYYY-MM-DD, "
                "YYYY-MM-DDTHH:MM[:SS] or YYYY-MM-DDTHH:MM[:SS]+HH:MM)"
            ) from None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=BRUSSELS)
        return value.astimezone(BRUSSELS)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=BRUSSELS)
    raise TypeError(f"expected an ISO string, date or datetime, not {type(value).__name__}")


def add_months(start: date, months: int) -> date:
    """Reg. 1182/71 Art. 3(2)(c): the same day number, or that month's last day if it has none."""
    return start + relativedelta(months=months)


@dataclass(frozen=True, kw_only=True)
class ClockEnd:
    """Where a period ends: the raw end, the due date after roll-forward, and the days skipped."""

    raw_end: date
    due: date
    skipped: tuple[SkippedDay, ...] = ()
    suspended_days: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "raw_end": self.raw_end.isoformat(),
            "due": self.due.isoformat(),
            "skipped": [s.to_json() for s in self.skipped],
            "suspended_days": self.suspended_days,
        }


@dataclass(frozen=True, kw_only=True)
class DueDate(ClockEnd):
    """The legal due date of one request, and how it was reached."""

    received: datetime  # Europe/Brussels
    months: int = FIRST_PERIOD_MONTHS
    suspensions: tuple[tuple[date, date], ...] = field(default=())

    @property
    def extended(self) -> bool:
        return self.months > FIRST_PERIOD_MONTHS

    def to_json(self) -> dict[str, Any]:
        return {
            "received": self.received.isoformat(),
            "months": self.months,
            "extended": self.extended,
            **super().to_json(),
            "suspensions": [[start.isoformat(), end.isoformat()]
                            for start, end in self.suspensions],
        }


def _ending(raw_end: date, calendar: Calendar) -> tuple[date, tuple[SkippedDay, ...]]:
    due, skipped = calendar.next_working_day_on_or_after(raw_end)
    return due, tuple(skipped)


def due_date(
    received: str | date | datetime, calendar: Calendar, months: int = FIRST_PERIOD_MONTHS
) -> DueDate:
    """The due date of a request received at `received` (the IMAP INTERNALDATE).

    The day of receipt is not counted: the period ends on the same day number `months` later
    (or that month's last day), rolled forward past Saturdays, Sundays and holidays.
    """
    if months < 1:
        raise ValueError(f"a period of {months} months makes no sense")
    moment = to_brussels(received)
    raw_end = add_months(moment.date(), months)
    due, skipped = _ending(raw_end, calendar)
    return DueDate(received=moment, months=months, raw_end=raw_end, due=due, skipped=skipped)


def extended_due_date(received: str | date | datetime, calendar: Calendar) -> DueDate:
    """The due date after the two-month extension: three months from receipt, same rules."""
    return due_date(received, calendar, months=EXTENDED_PERIOD_MONTHS)


def days_left(raw_end: date, suspended_on: date) -> int:
    """Calendar days the period still had when the clock stopped (never negative)."""
    return max((raw_end - suspended_on).days, 0)


def resume_with_days_left(resumed_on: date, left: int, calendar: Calendar) -> ClockEnd:
    """The period end when the clock runs on from `resumed_on` with `left` days (a stored case).

    `resumed_on` is not counted, like the day of receipt; the end rolls forward to a working day.
    """
    if left < 0:
        raise ValueError(f"{left} days left makes no sense")
    raw_end = resumed_on + timedelta(days=left)
    due, skipped = _ending(raw_end, calendar)
    return ClockEnd(raw_end=raw_end, due=due, skipped=skipped)


@overload
def resume_after_suspension(
    due: DueDate, suspended_on: date, resumed_on: date, calendar: Calendar
) -> DueDate: ...
@overload
def resume_after_suspension(
    due: date, suspended_on: date, resumed_on: date, calendar: Calendar
) -> ClockEnd: ...
def resume_after_suspension(
    due: DueDate | date, suspended_on: date, resumed_on: date, calendar: Calendar
) -> ClockEnd:
    """The period after the clock stood still from `suspended_on` until `resumed_on` (EDPB §159).

    Convention: the days left are counted on the raw end (before any weekend or holiday
    roll-forward): `days_left = raw_end - suspended_on` in calendar days. The clock runs on from
    `resumed_on`, which, like the day of receipt, is not counted: `new raw end = resumed_on +
    days_left`, then rolled forward to a working day. The net effect is that the raw end moves
    by `resumed_on - suspended_on` days.

    A suspension may start on the day of receipt (the acknowledgement asks for ID at once): all
    the days of the period are then left. It may start as late as the due date; a suspension
    that starts after the raw end (on the weekend or holiday before the due date) leaves 0 days,
    so the period then ends on the first working day from `resumed_on`.

    `due` is a DueDate (the result is a DueDate that remembers the suspension) or the raw end
    of a running period (the result is a ClockEnd).
    """
    if resumed_on < suspended_on:
        raise ValueError(
            f"the clock cannot resume ({resumed_on}) before it stopped ({suspended_on})"
        )
    raw_end, current_due = (due.raw_end, due.due) if isinstance(due, ClockEnd) else (due, due)
    if isinstance(due, DueDate) and suspended_on < due.received.date():
        raise ValueError(f"suspension on {suspended_on} precedes receipt on {due.received.date()}")
    if suspended_on > current_due:
        raise ValueError(f"the period ended on {current_due}; a suspension from {suspended_on} "
                         "cannot revive it")
    resumed = resume_with_days_left(resumed_on, days_left(raw_end, suspended_on), calendar)
    new_raw_end, new_due, skipped = resumed.raw_end, resumed.due, resumed.skipped
    stopped = (resumed_on - suspended_on).days
    if isinstance(due, DueDate):
        return DueDate(
            received=due.received, months=due.months, raw_end=new_raw_end, due=new_due,
            skipped=skipped, suspended_days=due.suspended_days + stopped,
            suspensions=(*due.suspensions, (suspended_on, resumed_on)),
        )
    return ClockEnd(raw_end=new_raw_end, due=new_due, skipped=skipped, suspended_days=stopped)


def current_due(
    received: str | date | datetime,
    calendar: Calendar,
    suspensions: Sequence[Suspension] = (),
    extended: bool = False,
) -> DueDate | None:
    """The due date now, from what a case records; None while a suspension is open.

    `suspensions` are (start, end-or-None) pairs; they are applied in date order and must not
    overlap. Only the last may be open (end None): the clock is then stopped.
    """
    months = EXTENDED_PERIOD_MONTHS if extended else FIRST_PERIOD_MONTHS
    result = due_date(received, calendar, months=months)
    ordered = sorted(suspensions, key=lambda s: s[0])
    previous_end: date | None = None
    for index, (start, end) in enumerate(ordered):
        if previous_end is not None and start < previous_end:
            raise ValueError(f"suspension from {start} overlaps the one that ended {previous_end}")
        if end is None:
            if index != len(ordered) - 1:
                raise ValueError(f"suspension from {start} is open but a later one exists")
            if start > result.due:
                raise ValueError(f"the period ended on {result.due}; a suspension from {start} "
                                 "cannot revive it")
            return None
        result = resume_after_suspension(result, start, end, calendar)
        previous_end = end
    return result


_EXTENSION_TEXT = {
    "nl": {
        "twice": "De termijn werd al verlengd: art. 12, lid 3 AVG staat maar één verlenging met "
                 "twee maanden toe.",
        "no_reason": "Een verlenging moet gemotiveerd worden (complexiteit of aantal verzoeken): "
                     "art. 12, lid 3 AVG verplicht de redenen van de vertraging mee te delen.",
        "late": "Te laat om te verlengen: volgens art. 12, lid 3 AVG moet de betrokkene binnen "
                "één maand na ontvangst van het verzoek van de verlenging op de hoogte worden "
                "gebracht, dus uiterlijk op {first_due}.",
        "stopped": "Verlenging mogelijk: de klok staat stil (wachten op een identiteitsbewijs); "
                   "de nieuwe uiterste datum volgt zodra de klok weer loopt.",
        "ok": "Verlenging mogelijk: meld ze de betrokkene met de redenen uiterlijk op {first_due}; "
              "de nieuwe uiterste datum wordt {extended_due}.",
    },
    "fr": {
        "twice": "Le délai a déjà été prolongé : l'art. 12, par. 3 RGPD ne permet qu'une seule "
                 "prolongation de deux mois.",
        "no_reason": "Une prolongation doit être motivée (complexité ou nombre de demandes) : "
                     "l'art. 12, par. 3 RGPD impose de communiquer les motifs du report.",
        "late": "Trop tard pour prolonger : selon l'art. 12, par. 3 RGPD, la personne concernée "
                "doit être informée de la prolongation dans un délai d'un mois à compter de la "
                "réception de la demande, soit au plus tard le {first_due}.",
        "stopped": "Prolongation possible : le délai est suspendu (preuve d'identité attendue) ; "
                   "la nouvelle échéance sera calculée dès que le délai reprendra.",
        "ok": "Prolongation possible : informez-en la personne concernée, avec les motifs, au "
              "plus tard le {first_due} ; la nouvelle échéance sera le {extended_due}.",
    },
    "en": {
        "twice": "The period was already extended: Art. 12(3) GDPR allows one extension by two "
                 "months only.",
        "no_reason": "An extension needs reasons (complexity or number of requests): Art. 12(3) "
                     "GDPR requires the reasons for the delay to be given.",
        "late": "Too late to extend: under Art. 12(3) GDPR the data subject must be told of the "
                "extension within one month of receipt of the request, that is by {first_due}.",
        "stopped": "Extension possible: the clock is stopped (waiting for proof of identity); "
                   "the new due date follows once it runs again.",
        "ok": "Extension possible: tell the data subject, with the reasons, by {first_due}; the "
              "new due date will be {extended_due}.",
    },
    "de": {
        "twice": "Die Frist wurde bereits verlängert: Art. 12 Abs. 3 DSGVO erlaubt nur eine "
                 "Verlängerung um zwei Monate.",
        "no_reason": "Eine Verlängerung muss begründet werden (Komplexität oder Anzahl der "
                     "Anträge): Art. 12 Abs. 3 DSGVO verlangt, die Gründe der Verzögerung "
                     "mitzuteilen.",
        "late": "Zu spät für eine Verlängerung: nach Art. 12 Abs. 3 DSGVO muss die betroffene "
                "Person innerhalb eines Monats nach Eingang des Antrags über die Verlängerung "
                "unterrichtet werden, also bis zum {first_due}.",
        "stopped": "Verlängerung möglich: die Frist ist gehemmt (Identitätsnachweis "
                   "angefordert); die neue Frist folgt, sobald sie wieder läuft.",
        "ok": "Verlängerung möglich: unterrichten Sie die betroffene Person mit den Gründen bis "
              "zum {first_due}; die neue Frist endet am {extended_due}.",
    },
}


def extension_allowed(
    received: str | date | datetime,
    calendar: Calendar,
    on: date,
    reason: str,
    already_extended: bool,
    suspensions: Sequence[Suspension] = (),
    language: str = "nl",
) -> tuple[bool, str]:
    """Whether the period may be extended on day `on`, and a message for staff saying why.

    Art. 12(3) GDPR: once, by two months, with reasons, and only if the requester is told within
    the first month (its due date here, moved by any closed suspensions). While a suspension is
    open the first month is not running, so it cannot have run out.
    """
    text = _EXTENSION_TEXT.get(language, _EXTENSION_TEXT["nl"])
    if already_extended:
        return False, text["twice"]
    if not reason.strip():
        return False, text["no_reason"]
    moment = to_brussels(received)
    if on < moment.date():
        raise ValueError(f"{on} is before the request was received ({moment.date()})")
    first = current_due(moment, calendar, suspensions, extended=False)
    extended = current_due(moment, calendar, suspensions, extended=True)
    if first is None or extended is None:
        return True, text["stopped"]
    if on > first.due:
        return False, text["late"].format(first_due=first.due.isoformat())
    return True, text["ok"].format(first_due=first.due.isoformat(),
                                   extended_due=extended.due.isoformat())
