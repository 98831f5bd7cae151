"""Every recorded message, whatever became of it: listing, detail and what the triage concluded."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.store.models import Case, Message
from intake.store.timezone import BRUSSELS


def list_messages(
    session: Session,
    mailbox: str | None = None,
    disposition: str | None = None,
    since: date | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Recorded messages, newest first, as plain dicts (no bodies)."""
    query = (select(Message, Case.reference).outerjoin(Case, Case.id == Message.case_id)
             .order_by(Message.received_at.desc(), Message.id.desc()).limit(limit))
    if mailbox:
        query = query.where(Message.mailbox_key == mailbox)
    if disposition:
        query = query.where(Message.disposition == disposition)
    if since:
        query = query.where(Message.received_at >= datetime.combine(since, time(), BRUSSELS))
    return [summary(m, reference) for m, reference in session.execute(query)]


def summary(m: Message, reference: str | None) -> dict[str, Any]:
    return {
        "id": m.id,
        "mailbox": m.mailbox_key,
        "received": m.received_at.astimezone(BRUSSELS).isoformat(),
        "from": m.from_address,
        "from_name": m.from_name,
        "subject": m.subject,
        "status": m.status,
        "kind": m.kind,
        "disposition": m.disposition,
        "case": reference,
        "reason": reason(m),
    }


def reason(m: Message) -> str:
    """One line: why the message has the fate it has."""
    if m.status == "quarantined":
        return f"quarantined: {m.quarantine_reason or ''}"
    if m.status == "duplicate":
        return f"duplicate of message #{m.duplicate_of_id}"
    explanation = [str(e) for e in (m.triage or {}).get("explanation") or ()]
    for prefix in ("no case: ", "fail-safe: "):
        found = [e for e in explanation if e.startswith(prefix)]
        if found:
            return found[0]
    guard = [e for e in explanation if e.startswith("guard: ")]
    if guard and m.disposition == "robot":
        return guard[0]
    return f"disposition: {m.disposition}" if m.disposition else ""


def message_detail(session: Session, message_id: int, body: bool = False) -> dict[str, Any] | None:
    """One message with the triage's full conclusion (the `intake inspect --json` object)."""
    m = session.get(Message, message_id)
    if m is None:
        return None
    reference = m.case.reference if m.case is not None else None
    detail = summary(m, reference)
    detail.update({
        "folder": m.folder, "uidvalidity": m.uidvalidity, "uid": m.uid,
        "message_id": m.message_id, "language": m.language,
        "duplicate_of": m.duplicate_of_id, "quarantine_reason": m.quarantine_reason,
        "triage": m.triage,
    })
    if body:
        detail["body"] = m.body_text
    return detail
