"""The interface every message source offers to the processor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

PROCESSED_KEYWORD = "$DPOIntake"
QUARANTINE_KEYWORD = "$DPOQuarantine"


class SourceError(RuntimeError):
    """The source could not be reached or refused us (connection, TLS, login, folder)."""


@dataclass(frozen=True)
class FetchedMessage:
    """One message as the server holds it: its identity there, arrival time and exact bytes."""

    mailbox_key: str
    folder: str
    uidvalidity: int
    uid: int
    internaldate: datetime  # timezone-aware; the legal clock starts here
    raw: bytes = field(repr=False)


class MessageSource(Protocol):
    """A mailbox folder. Messages are never deleted: only flagged or moved after processing."""

    mailbox_key: str
    folder: str

    def connect(self) -> None:
        """Open the connection and select the folder; raises SourceError with a clear reason."""

    def close(self) -> None:
        """Close the connection (safe to call twice)."""

    def uidvalidity(self) -> int:
        """The folder's current UIDVALIDITY."""

    def pending_uids(self) -> list[int]:
        """UIDs not yet marked processed or quarantined, ascending."""

    def fetch(self, uids: list[int]) -> list[FetchedMessage]:
        """The messages with these UIDs, without setting \\Seen (BODY.PEEK[] + INTERNALDATE)."""

    # Optional (the processor asks with getattr): `sizes(uids) -> dict[int, int]`, the size in
    # bytes of each message (RFC822.SIZE, a file's size), so that a batch is cut by bytes too.

    def mark_processed(self, uids: Sequence[int]) -> None:
        """Flag these messages $DPOIntake or move them to the configured folder."""

    def quarantine(self, uid: int, reason: str) -> None:
        """Flag the message $DPOQuarantine (or move it to the quarantine folder)."""
