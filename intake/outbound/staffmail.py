"""Mail for staff (digests, overdue alerts): text or text+HTML, fixed headers, deterministic ids."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from intake.outbound.render import clean_header_text, header_names
from intake.store.timezone import BRUSSELS

_HEADERS = frozenset({
    "from", "to", "subject", "date", "message-id", "auto-submitted", "x-auto-response-suppress",
    "x-loop", "content-language", "mime-version", "content-type", "content-transfer-encoding",
})


@dataclass(frozen=True)
class StaffMail:
    """A finished staff mail: its wire bytes and Message-ID, ready for the outbox."""

    raw: bytes
    message_id: str


def staff_message_id(kind: str, key: str, recipient: str, sender: str) -> str:
    """A Message-ID fixed by what the mail is (e.g. one case's alert on one day) and for whom.

    `OutboxItem.message_id` is unique, so the same mail can never be queued twice.
    """
    who = hashlib.sha256(recipient.lower().encode()).hexdigest()[:10]
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{kind}.{key}.{who}@{domain}>"


def build_staff_mail(
    *,
    sender: str,
    sender_name: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    language: str,
    now: datetime,
) -> StaffMail:
    """text/plain, or multipart/alternative when `html` is given; utf-8, quoted-printable.

    `Auto-Submitted: auto-generated` (RFC 3834) tells mail systems not to answer it; X-Loop lets
    our own guard recognise it should it come back into the mailbox.
    """
    msg = EmailMessage(policy=SMTP)
    msg["From"] = Address(display_name=clean_header_text(sender_name), addr_spec=sender)
    msg["To"] = Address(addr_spec=recipient)
    msg["Subject"] = clean_header_text(subject)
    msg["Date"] = format_datetime(now.astimezone(BRUSSELS))
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["X-Loop"] = sender
    msg.set_content(text, charset="utf-8", cte="quoted-printable")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    msg["Content-Language"] = language
    raw = msg.as_bytes()
    names = header_names(raw.split(b"\r\n\r\n", 1)[0])
    if not names <= _HEADERS:
        raise ValueError(f"refusing a staff mail with unexpected headers: {sorted(names)}")
    return StaffMail(raw, message_id)
