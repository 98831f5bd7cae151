"""The register of requests (GDPR Art. 5(2) accountability): one row per case, no personal data.

The requester is left out on purpose: the register shows *how* requests were handled (rights,
dates, outcome, timeliness), which is what accountability asks; the reference leads to the case
file when a person must be identified. A register export travels (spreadsheets, annual
reports), so data minimisation (Art. 5(1)(c)) keeps names, addresses and message bodies out.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple, TextIO

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from intake.cases.columns import cases_with_rights
from intake.config import Settings
from intake.store.models import Case
from intake.store.timezone import BRUSSELS

COLUMNS = ("reference", "controller", "mailbox", "kind", "rights", "received", "due",
           "extended", "closed", "outcome", "on_time")
FORMATS = ("csv", "jsonl")
COLUMNS_READ = (Case.reference, Case.mailbox_key, Case.kind, Case.received_at, Case.due_date,
                Case.extended, Case.answered_on, Case.outcome, Case.on_time)


class Entry(NamedTuple):
    """One case in the register, as read (dates as dates); `row()` is its exported form."""

    reference: str
    controller: str
    mailbox: str
    kind: str
    rights: tuple[str, ...]
    received: date  # Brussels date
    due: date | None  # the legal due date; questions have none
    extended: bool
    closed: date | None
    outcome: str | None
    on_time: bool | None

    def row(self) -> dict[str, Any]:
        return {
            "reference": self.reference, "controller": self.controller, "mailbox": self.mailbox,
            "kind": self.kind, "rights": list(self.rights), "received": self.received.isoformat(),
            "due": _iso(self.due), "extended": self.extended, "closed": _iso(self.closed),
            "outcome": self.outcome, "on_time": self.on_time,
        }


def register_filter(
    date_from: date | None = None,
    date_to: date | None = None,
    mailbox: str | None = None,
    mailboxes: Sequence[str] | None = None,
) -> list[ColumnElement[bool]]:
    """Received from `date_from` to `date_to` (Brussels dates, inclusive); `mailbox` keeps one
    mailbox's cases, `mailboxes` those of several (the console's people see only theirs)."""
    where = []
    if mailbox:
        where.append(Case.mailbox_key == mailbox)
    if mailboxes is not None:
        where.append(Case.mailbox_key.in_(list(mailboxes)))
    if date_from:
        where.append(Case.received_at >= _midnight(date_from))
    if date_to:
        where.append(Case.received_at < _midnight(date_to + timedelta(days=1)))
    return where


def register_entries(session: Session, settings: Settings,
                     where: Sequence[ColumnElement[bool]]) -> Iterator[Entry]:
    """The cases matching `where`, oldest first: one streamed column query (cases.columns)."""
    controllers = {m.key: m.controller for m in settings.mailboxes}
    for row, rights in cases_with_rights(session, COLUMNS_READ, where):
        (_id, reference, mailbox_key, kind, received, due, extended, answered, outcome, on_time,
         _right) = row
        yield Entry(reference, controllers.get(mailbox_key, mailbox_key), mailbox_key, kind,
                    rights, received.astimezone(BRUSSELS).date(), due, extended, answered,
                    outcome, on_time)


def register_rows(
    session: Session,
    settings: Settings,
    date_from: date | None = None,
    date_to: date | None = None,
    mailbox: str | None = None,
    *,
    mailboxes: Sequence[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Cases received from `date_from` to `date_to` (Brussels dates, inclusive), oldest first."""
    for entry in register_entries(session, settings,
                                  register_filter(date_from, date_to, mailbox, mailboxes)):
        yield entry.row()


def write_register(rows: Iterable[dict[str, Any]], out: TextIO, fmt: str) -> int:
    """Write rows as CSV (header line, rights joined by ";") or JSON Lines; returns the count."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    count = 0
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n") if fmt == "csv" else None
    if writer:
        writer.writeheader()
    for row in rows:
        if writer:
            writer.writerow({**row, "rights": ";".join(row["rights"]),
                             **{k: _csv_value(row[k]) for k in ("extended", "on_time")}})
        else:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def register_csv_lines(session: Session, settings: Settings,
                       where: Sequence[ColumnElement[bool]]) -> Iterator[tuple[Any, ...]]:
    """The CSV's lines (fields) of the cases matching `where`, straight from the query: the
    same text as write_register's, for an export of every case without a dict per case."""
    controllers = {m.key: m.controller for m in settings.mailboxes}
    yes_no = {True: "yes", False: "no", None: ""}
    for row, rights in cases_with_rights(session, COLUMNS_READ, where):
        (_id, reference, mailbox_key, kind, received, due, extended, answered, outcome, on_time,
         _right) = row
        yield (reference, controllers.get(mailbox_key, mailbox_key), mailbox_key, kind,
               ";".join(rights), received.astimezone(BRUSSELS).date(), due, yes_no[extended],
               answered, outcome, yes_no[on_time])


def csv_chunks(lines: Iterable[Sequence[Any]], batch: int = 2000) -> Iterator[str]:
    """CSV text (the header, then `batch` lines a chunk) of register_csv_lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    lines = iter(lines)
    while True:
        writer.writerows(itertools.islice(lines, batch))
        chunk = out.getvalue()
        if not chunk:
            return
        yield chunk
        out.seek(0)
        out.truncate()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=BRUSSELS)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _csv_value(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")
