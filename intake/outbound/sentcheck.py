"""Resolve "uncertain" replies: look their Message-ID up in the mailbox's Sent folder over IMAP.

A SentLookup for intake.outbound.outbox.resolve_uncertain / flush_outbox(resolver=...). It is
only conclusive where replies are saved in the Sent folder (by the server or by us); not found
is then "not known to be sent", and the reply stays uncertain for staff.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from intake.config import MailboxSettings
from intake.source.imap import ImapSource

log = logging.getLogger(__name__)


class ImapSentLookup:
    """(mail_from, message_id) -> found in the Sent folder of the mailbox with that address."""

    def __init__(self, mailboxes: Sequence[MailboxSettings], folder: str = "Sent") -> None:
        self.folder = folder
        self._by_address = {m.address.lower(): m for m in mailboxes if m.imap is not None}

    def __call__(self, mail_from: str, message_id: str) -> bool:
        mailbox = self._by_address.get(mail_from.lower())
        if mailbox is None or mailbox.imap is None:
            raise LookupError(f"no IMAP mailbox sends as {mail_from}")
        wanted = message_id.strip()
        if not wanted or any(c in wanted for c in '"\r\n\\'):
            raise ValueError("a Message-ID that cannot be searched for")
        # The source's own connect and login (TLS modes, CA file, credentials), not a copy.
        source = ImapSource(mailbox.key, mailbox.imap)
        client = source._open()
        try:
            source._login(client)
            client.select_folder(self.folder, readonly=True)
            found = client.search(["HEADER", "Message-ID", wanted])
        finally:
            try:
                client.logout()
            except Exception:
                client.shutdown()
        log.info("sent folder searched", extra={"mailbox": mailbox.key, "found": bool(found)})
        return bool(found)
