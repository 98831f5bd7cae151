"""Calls to case operations that another branch adds (manual cases, a case from listed mail).

The web layer keeps no case logic: these adapters translate a validated form into one call of
`intake.cases.manual.open_case` (and `check_scan` for a scanned letter). Where that module is
not present, they raise Unavailable, which the page shows in words.
"""

from __future__ import annotations

import importlib
import inspect
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from intake.config import MailboxSettings, Settings
from intake.store.models import Case, Message


class Unavailable(RuntimeError):
    """The operation is not in this version of the case package."""


@dataclass(frozen=True)
class ManualCase:
    """A validated "new case by hand" form."""

    mailbox: str
    channel: str  # post | phone | counter
    received: datetime
    requester_name: str
    requester_address: str
    kind: str  # request | question
    rights: tuple[str, ...]
    description: str
    acknowledge: bool
    language: str
    scan_name: str = ""
    scan: bytes = b""


def _manual():
    try:
        return importlib.import_module("intake.cases.manual")
    except ImportError:
        raise Unavailable("intake.cases.manual.open_case") from None


def _kind(name: str):
    try:
        enums = importlib.import_module("intake.store.enums")
    except ImportError:
        raise Unavailable("intake.store.enums.CaseKind") from None
    return enums.CaseKind(name)


def _identity(settings: Settings, form: ManualCase):
    """The identity check's finding on the scanned letter; the bytes go to a private temporary
    file that is deleted at once (check_scan reads a path)."""
    if not form.scan:
        return None
    from intake.identity import build_checker

    manual = _manual()
    suffix = Path(form.scan_name).suffix.lower()[:6]
    with tempfile.TemporaryDirectory(prefix="intake-scan-") as tmp:
        path = Path(tmp) / f"scan{suffix}"
        path.write_bytes(form.scan)
        return manual.check_scan(path, build_checker(settings))


def open_manual_case(session: Session, settings: Settings, mailbox: MailboxSettings,
                     form: ManualCase, actor: str, now: datetime) -> Case:
    """Open a case for a request by post, phone or at the counter (the caller's transaction)."""
    manual = _manual()
    opened = manual.open_case(
        session, mailbox, received=form.received, requester_name=form.requester_name,
        requester_address=form.requester_address, rights=list(form.rights),
        kind=_kind(form.kind), actor=actor, now=now,
        reason=f"{form.channel}: {form.description}".strip(),
        identity=_identity(settings, form), acknowledge=form.acknowledge,
        language=form.language,
    )
    return opened.case


def open_case_from_message(session: Session, mailbox: MailboxSettings, message: Message,
                           kind: str, rights: tuple[str, ...], actor: str, now: datetime,
                           reason: str) -> Case:
    """Open a case from mail that was recorded without one (listed mail)."""
    manual = _manual()
    opened = manual.open_case(
        session, mailbox, received=message.received_at, requester_name=message.from_name,
        requester_address=message.from_address, rights=list(rights), kind=_kind(kind),
        actor=actor, now=now, reason=reason or "opened from listed mail", message=message,
        acknowledge=False, language=message.language or "nl",
    )
    return opened.case


def reclassify(session: Session, case: Case, mailbox: MailboxSettings, rights: Sequence[str],
               actor: str, now: datetime, reason: str, no_case: bool) -> None:
    """`operations.reclassify`; "no case" (a case to classify that is not one) only where the
    operation has that outcome."""
    from intake.cases import operations

    if not no_case:
        operations.reclassify(session, case, mailbox, rights, actor, now, reason)
        return
    if "no_case" not in inspect.signature(operations.reclassify).parameters:
        raise Unavailable("intake.cases.operations.reclassify(no_case=True)")
    operations.reclassify(session, case, mailbox, rights, actor, now, reason, no_case=True)
