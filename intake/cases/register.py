"""The register of requests (GDPR Art. 5(2) accountability): one row per case, no personal data.

The requester is left out on purpose: the register shows *how* requests were handled (rights,
dates, outcome, timeliness), which is what accountability asks; the reference leads to the case
file when a person must be identified. A register export travels (spreadsheets, annual
reports), so data minimisation (Art. 5(1)(c)) keeps names, addresses and message bodies out.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, TextIO

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


def register_rows(
    session: Session,
    settings: Settings,
    date_from: date | None = None,
    date_to: date | None = None,
    mailbox: str | None = None,
    *,
    mailboxes: Sequence[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Cases received from `date_from` to `date_to` (Brussels dates, inclusive), oldest first.

    `mailbox` keeps one mailbox's cases, `mailboxes` those of several (the console's people see
    only theirs). One streamed column query (cases.columns), so 10,000 rows take a blink.
    """
    controllers = {m.key: m.controller for m in settings.mailboxes}
    where = []
    if mailbox:
        where.append(Case.mailbox_key == mailbox)
    if mailboxes is not None:
        where.append(Case.mailbox_key.in_(list(mailboxes)))
    if date_from:
        where.append(Case.received_at >= _midnight(date_from))
    if date_to:
        where.append(Case.received_at < _midnight(date_to + timedelta(days=1)))
    for row, rights in cases_with_rights(session, COLUMNS_READ, where):
        (_id, reference, mailbox_key, kind, received, due, extended, answered, outcome, on_time,
         _right) = row
        yield {
            "reference": reference,
            "controller": controllers.get(mailbox_key, mailbox_key),
            "mailbox": mailbox_key,
            "kind": kind,
            "rights": list(rights),
            "received": received.astimezone(BRUSSELS).date().isoformat(),
            "due": _iso(due),  # the legal due date; questions have none
            "extended": extended,
            "closed": _iso(answered),
            "outcome": outcome,
            "on_time": on_time,
        }


def write_register(rows: Iterable[dict[str, Any]], out: TextIO, fmt: str) -> int:
    """Write rows as CSV (header line, rights joined by ";") or JSON Lines; returns the count."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    count = 0
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([
            ";".join(row["rights"]) if k == "rights" else
            _csv_value(row[k]) if k in ("extended", "on_time") else row[k]
            for k in COLUMNS
        ])
        count += 1
    return count


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=BRUSSELS)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _csv_value(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")
