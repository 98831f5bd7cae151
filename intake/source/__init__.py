"""Where messages come from: an IMAP folder or a local Maildir, behind one interface."""

from __future__ import annotations

from intake.config import MailboxSettings
from intake.source.base import (
    PROCESSED_KEYWORD,
    QUARANTINE_KEYWORD,
    FetchedMessage,
    MessageSource,
    SourceError,
)
from intake.source.imap import ImapSource
from intake.source.maildir import MaildirSource

__all__ = [
    "PROCESSED_KEYWORD",
    "QUARANTINE_KEYWORD",
    "FetchedMessage",
    "ImapSource",
    "MaildirSource",
    "MessageSource",
    "SourceError",
    "open_source",
]


def open_source(mailbox: MailboxSettings) -> MessageSource:
    """The source for a mailbox's settings, not yet connected (call connect())."""
    if mailbox.imap is not None:
        return ImapSource(mailbox.key, mailbox.imap)
    if mailbox.maildir is not None:
        return MaildirSource(mailbox.key, mailbox.maildir)
    raise SourceError(f"mailbox {mailbox.key} has neither [mailbox.imap] nor [mailbox.maildir]")
