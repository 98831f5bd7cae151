"""Resolve "uncertain" replies: look their Message-ID up in the mailbox's Sent folder over IMAP.

A SentLookup for intake.outbound.outbox.resolve_uncertain / flush_outbox(resolver=...). The
folder is the mailbox's `sent_folder` setting: a named folder, or with `sent_folder = "server"`
(the SMTP server files what is submitted through it) the folder the server marks \\Sent
(RFC 6154 SPECIAL-USE). Found is proof the reply went out (nothing else puts a message with
that Message-ID there). Not found is only "not known to be sent", never a reason to send it
again: our own copies are made of replies recorded as sent, so in a named folder an uncertain
reply is found only where the server files submitted mail itself. Without a sent_folder, or
when the server cannot be asked, the lookup raises and the reply stays uncertain for staff.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from imapclient.exceptions import IMAPClientError

from intake.config import MailboxSettings
from intake.source.base import SourceError
from intake.source.imap import ImapSource

log = logging.getLogger(__name__)
SERVER_FOLDER = "server"  # sent_folder value: the server keeps copies (found by \Sent)
# After a mailbox's server could not be asked, its other uncertain replies are not tried again
# for this long (each try could wait for the connection time-out).
FAILURE_MEMORY_SECONDS = 60.0


class SentFolderUnknown(LookupError):
    """The Sent folder of this mailbox is not configured or cannot be found: cannot tell."""


class ImapSentLookup:
    """(mail_from, message_id) -> found in the Sent folder of the mailbox with that address.

    Raises SentFolderUnknown (no sent_folder, no \\Sent folder on the server, no IMAP mailbox
    with that address) or SourceError (the server cannot be reached or refuses us).
    """

    def __init__(
        self,
        mailboxes: Sequence[MailboxSettings],
        folder: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`folder` overrides every mailbox's sent_folder (tests, one-off checks)."""
        self.folder = folder
        self._by_address = {m.address.lower(): m for m in mailboxes if m.imap is not None}
        self._clock = clock
        self._failed: dict[str, tuple[float, str]] = {}  # mailbox key -> (when, why)

    def configured(self) -> bool:
        """Whether any mailbox has a Sent folder to look in."""
        return bool(self.folder) or any(
            m.imap is not None and m.imap.sent_folder for m in self._by_address.values()
        )

    def __call__(self, mail_from: str, message_id: str) -> bool:
        mailbox = self._by_address.get(mail_from.lower())
        if mailbox is None or mailbox.imap is None:
            raise SentFolderUnknown(f"no IMAP mailbox sends as {mail_from}")
        setting = self.folder or mailbox.imap.sent_folder
        if not setting:
            raise SentFolderUnknown(f"mailbox {mailbox.key}: no sent_folder configured")
        wanted = message_id.strip()
        if not wanted or any(c in wanted for c in '"\r\n\\'):
            raise ValueError("a Message-ID that cannot be searched for")
        failed = self._failed.get(mailbox.key)
        if failed is not None and self._clock() - failed[0] < FAILURE_MEMORY_SECONDS:
            raise SourceError(f"mailbox {mailbox.key}: {failed[1]} (not tried again yet)")
        try:
            found, folder = self._search(mailbox, setting, wanted)
        except SourceError as exc:
            self._failed[mailbox.key] = (self._clock(), str(exc)[:200])
            raise
        self._failed.pop(mailbox.key, None)
        log.info("sent folder searched",
                 extra={"mailbox": mailbox.key, "folder": folder, "found": found})
        return found

    def _search(self, mailbox: MailboxSettings, setting: str, wanted: str) -> tuple[bool, str]:
        assert mailbox.imap is not None
        # The source's own connect and login (TLS modes, CA file, credentials), not a copy.
        source = ImapSource(mailbox.key, mailbox.imap)
        client = source._open()  # SourceError when the server cannot be reached
        try:
            try:
                source._login(client)
                folder = _special_use_sent(client) if setting == SERVER_FOLDER else setting
                if folder is None:
                    raise SentFolderUnknown(
                        f'mailbox {mailbox.key}: sent_folder = "server" but the server marks '
                        "no folder \\Sent")
                if not client.folder_exists(folder):
                    raise SentFolderUnknown(
                        f"mailbox {mailbox.key}: no folder {folder!r} (sent_folder)")
                client.select_folder(folder, readonly=True)
                found = client.search(["HEADER", "Message-ID", wanted])
            except (IMAPClientError, OSError) as exc:
                raise SourceError(f"mailbox {mailbox.key}: Sent folder not searched: {exc}"
                                  ) from exc
        finally:
            try:
                client.logout()
            except Exception:
                client.shutdown()
        return bool(found), folder


def _special_use_sent(client: object) -> str | None:
    """The folder the server marks \\Sent (RFC 6154), or None."""
    for flags, _delimiter, name in client.list_folders():  # type: ignore[attr-defined]
        if any((f.decode() if isinstance(f, bytes) else str(f)).lower() == "\\sent"
               for f in flags):
            return str(name)
    return None
