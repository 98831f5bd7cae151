"""IMAP IDLE watchers: one thread per mailbox that wakes the mailbox's poll when mail arrives.

The watcher only says "look now"; the scheduled poll still runs at its interval and does all the
work, so nothing depends on a push arriving. Servers without IDLE are simply polled.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from intake.config import MailboxSettings
from intake.source.base import SourceError
from intake.source.imap import ImapSource

log = logging.getLogger(__name__)
IDLE_RENEW_SECONDS = 24 * 60  # RFC 2177: re-issue IDLE at least every 29 min; Exchange drops ~30
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 300.0


class IdleWatcher(threading.Thread):
    """Holds a second connection to one IMAP folder in IDLE and calls `wake` on new mail."""

    def __init__(
        self,
        mailbox: MailboxSettings,
        wake: Callable[[], None],
        stop: threading.Event,
        renew_seconds: float = IDLE_RENEW_SECONDS,
    ) -> None:
        super().__init__(name=f"idle-{mailbox.key}", daemon=True)
        if mailbox.imap is None:
            raise ValueError(f"mailbox {mailbox.key} is not an IMAP mailbox")
        self.mailbox = mailbox
        self.wake = wake
        self.stop = stop
        self.renew_seconds = renew_seconds
        self.supported: bool | None = None  # known after the first connection
        self.wakes = 0
        self.reconnects = 0

    def run(self) -> None:
        assert self.mailbox.imap is not None
        delay = BACKOFF_FIRST
        source = ImapSource(self.mailbox.key, self.mailbox.imap)
        while not self.stop.is_set():
            try:
                source.connect()
                if not source.supports_idle():
                    self.supported = False
                    log.info("server offers no IDLE: polling only",
                             extra={"mailbox": self.mailbox.key})
                    return
                self.supported = True
                delay = BACKOFF_FIRST
                # Mail may have arrived while we were not listening.
                self._wake()
                while not self.stop.is_set():
                    if source.idle_wait(self.renew_seconds, self.stop):
                        self._wake()
            except SourceError as exc:
                self.reconnects += 1
                log.warning(
                    "IDLE connection lost; reconnecting",
                    extra={"mailbox": self.mailbox.key, "error": str(exc),
                           "retry_seconds": delay},
                )
                self.stop.wait(delay)
                delay = min(delay * 2, BACKOFF_MAX)
            except Exception:
                log.exception("IDLE watcher failed", extra={"mailbox": self.mailbox.key})
                self.stop.wait(delay)
                delay = min(delay * 2, BACKOFF_MAX)
            finally:
                source.close()

    def _wake(self) -> None:
        self.wakes += 1
        try:
            self.wake()
        except Exception:
            log.exception("waking the mailbox poll failed", extra={"mailbox": self.mailbox.key})
