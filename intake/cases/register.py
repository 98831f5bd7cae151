"""The register of requests (GDPR Art. 5(2) accountability): one row per case, no personal data.

The requester is left out on purpose: the register shows *how* requests were handled (rights,
dates, outcome, timeliness), which is what accountability asks; the reference leads to the case
file when a person must be identified. A register export travels (spreadsheets, annual
reports), so data minimisation (Art. 5(1)(c)) keeps names, addresses and message bodies out.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from intake.config import Settings
from intake.store.models import Case
from intake.store.timezone import BRUSSELS

COLUMNS = ("reference", "controller", "mailbox", "kind", "rights", "received", "due",
           "extended", "closed", "outcome", "on_time")
FORMATS = ("csv", "jsonl")


def register_rows(
    session: Session,
    settings: Settings,
    date_from: date | None = None,
    date_to: date | None = None,
    mailbox: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Cases received from `date_from` to `date_to` (Brussels dates, inclusive), oldest first."""
    controllers = {m.key: m.controller for m in settings.mailboxes}
    query = select(Case).options(selectinload(Case.rights)).order_by(Case.received_at, Case.id)
    if mailbox:
        query = query.where(Case.mailbox_key == mailbox)
    if date_from:
        query = query.where(Case.received_at >= _midnight(date_from))
    if date_to:
        query = query.where(Case.received_at < _midnight(date_to + timedelta(days=1)))
    for case in session.scalars(query.execution_options(yield_per=500)):
        yield {
            "reference": case.reference,
            "controller": controllers.get(case.mailbox_key, case.mailbox_key),
            "mailbox": case.mailbox_key,
            "kind": case.kind,
            "rights": list(case.right_names),
            "received": case.received_at.astimezone(BRUSSELS).date().isoformat(),
            "due": _iso(case.due_date),  # the legal due date; questions have none
            "extended": case.extended,
            "closed": _iso(case.answered_on),
            "outcome": case.outcome,
            "on_time": case.on_time,
        }


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


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=BRUSSELS)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _csv_value(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")
