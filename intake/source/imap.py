"""An IMAP folder as a message source (imapclient): TLS, UID-based, never deletes."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timezone
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import (
    CapabilityError,
    IMAPClientAbortError,
    IMAPClientError,
    IMAPClientReadOnlyError,
    LoginError,
)

from intake.config import ConfigError, ImapSettings
from intake.oauth import TokenError, provider_for, scrub
from intake.source.base import (
    PROCESSED_KEYWORD,
    QUARANTINE_KEYWORD,
    FetchedMessage,
    SourceError,
)

log = logging.getLogger(__name__)

FETCH_CHUNK = 25  # messages per UID FETCH: bounded memory for large attachments
_BODY_PEEK = b"BODY.PEEK[]"  # unlike RFC822 / BODY[], does not set \Seen
_BODY = b"BODY[]"
_INTERNALDATE = b"INTERNALDATE"
_SIZE = b"RFC822.SIZE"
SIZE_CHUNK = 1_000  # UIDs per UID FETCH of sizes (a few bytes of answer each)


class ImapSource:
    """One folder of one IMAP mailbox; the connection stays open between calls.

    After processing a message is either flagged with the keyword $DPOIntake
    (`after = "flag"`) or moved to `move_to` (`after = "move"`). Nothing is ever
    deleted except the original of a move on servers without MOVE, by UID
    EXPUNGE of that single UID after a successful COPY.
    """

    def __init__(self, mailbox_key: str, settings: ImapSettings) -> None:
        self.mailbox_key = mailbox_key
        self.settings = settings
        self.folder = settings.folder
        self._client: IMAPClient | None = None
        self._uidvalidity = 0
        self._known_folders: set[str] = set()

    # -- connection -------------------------------------------------------------------------

    @property
    def address(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    @property
    def connected(self) -> bool:
        return self._client is not None

    def connect(self) -> None:
        """Connect, secure, log in, select the folder and check what the server allows."""
        self.close()
        client = self._open()
        try:
            self._login(client)
            self._select(client)
        except BaseException:
            _drop(client)
            raise
        self._client = client
        log.info(
            "mailbox %s: connected to %s, folder %s, UIDVALIDITY %d",
            self.mailbox_key, self.address, self.folder, self._uidvalidity,
        )

    def close(self) -> None:
        """Log out (safe to call twice or after the connection was lost)."""
        client, self._client = self._client, None
        self._known_folders.clear()
        if client is None:
            return
        try:
            client.logout()
        except (IMAPClientError, OSError):
            _drop(client)

    def keepalive(self) -> None:
        """NOOP to keep the session alive; reconnect once if the server dropped us.

        After a reconnect the folder's UIDVALIDITY may differ: callers read uidvalidity() again.
        """
        if self._client is None:
            self.connect()
            return
        try:
            with self._guard("NOOP") as client:
                client.noop()
        except SourceError as exc:
            log.info("mailbox %s: reconnecting after: %s", self.mailbox_key, exc)
            self.connect()

    def _ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file or None)

    def _open(self) -> IMAPClient:
        s = self.settings
        if s.tls == "none" and not s.allow_plaintext:
            raise SourceError(
                f"refusing a plain-text IMAP connection to {self.address}: "
                'set allow_plaintext = true to accept tls = "none"'
            )
        if s.tls not in ("implicit", "starttls", "none"):
            raise SourceError(f"unknown tls mode {s.tls!r} for {self.address}")
        try:
            context = self._ssl_context()
        except (OSError, ssl.SSLError) as exc:
            raise SourceError(f"cannot load CA file {s.ca_file!r}: {exc}") from exc
        try:
            client = IMAPClient(
                s.host, port=s.port, ssl=s.tls == "implicit",
                ssl_context=context if s.tls == "implicit" else None, timeout=s.timeout,
            )
        except ssl.SSLCertVerificationError as exc:
            raise self._certificate_error(exc) from exc
        except ssl.SSLError as exc:
            raise SourceError(f"TLS handshake with {self.address} failed: {exc}") from exc
        except socket.gaierror as exc:
            raise SourceError(
                f"cannot connect to {self.address}: host name not resolved ({exc.strerror})"
            ) from exc
        except TimeoutError as exc:
            raise SourceError(
                f"cannot connect to {self.address}: timed out after {s.timeout:g}s"
            ) from exc
        except OSError as exc:
            raise SourceError(
                f"cannot connect to {self.address}: {exc.strerror or exc}"
            ) from exc
        except IMAPClientError as exc:  # a greeting that is not IMAP (BYE, garbage)
            raise SourceError(f"{self.address} is not an IMAP server we can use: {exc}") from exc
        client.normalise_times = False  # INTERNALDATE with its UTC offset
        if s.tls == "starttls":
            try:
                client.starttls(context)
            except CapabilityError as exc:
                _drop(client)
                raise SourceError(f"{self.address} does not offer STARTTLS") from exc
            except ssl.SSLCertVerificationError as exc:
                _drop(client)
                raise self._certificate_error(exc) from exc
            except (ssl.SSLError, OSError, IMAPClientError) as exc:
                _drop(client)
                raise SourceError(f"STARTTLS with {self.address} failed: {exc}") from exc
        return client

    def _certificate_error(self, exc: ssl.SSLCertVerificationError) -> SourceError:
        hint = "" if self.settings.ca_file else " (set ca_file for a private CA)"
        return SourceError(
            f"certificate verification failed for {self.address}: "
            f"{exc.verify_message or exc.reason}{hint}"
        )

    def _login(self, client: IMAPClient) -> None:
        if self.settings.auth == "oauth2":
            self._oauth2_login(client)
            return
        s = self.settings
        try:
            password = s.password.resolve()
        except ConfigError as exc:
            raise SourceError(f"no IMAP password for user {s.username}: {exc}") from exc
        if password is None:
            raise SourceError(f"no IMAP password configured for user {s.username}")
        try:
            client.login(s.username, password)
        except LoginError as exc:
            # The server's reason is safe to show; scrub the password anyway, just in case.
            reason = str(exc).replace(password, "***") if password else str(exc)
            raise SourceError(
                f"login refused for user {s.username} at {self.address}: {reason}"
            ) from None  # the chained exception would carry nothing more useful
        except (IMAPClientError, OSError) as exc:
            raise SourceError(
                f"connection to {self.address} lost during login: {exc}"
            ) from None

    def _oauth2_login(self, client: IMAPClient) -> None:
        """AUTHENTICATE XOAUTH2; a refused token is replaced once by a fresh one."""
        s = self.settings
        assert s.oauth2 is not None
        provider = provider_for(s.oauth2)
        for attempt in (1, 2):
            try:
                token = provider.token()
            except TokenError as exc:
                raise SourceError(f"no OAuth2 token for {s.username}: {exc}") from None
            try:
                client.oauth2_login(s.username, token)
                return
            except LoginError as exc:
                reason = scrub(str(exc), token)
                provider.invalidate(token)
                if attempt == 2:
                    raise SourceError(
                        f"OAuth2 login refused for {s.username} at {self.address}: {reason} "
                        "(does the app have access to this mailbox?)"
                    ) from None
                log.info(
                    "mailbox %s: OAuth2 token refused, fetching a new one", self.mailbox_key
                )
            except (IMAPClientError, OSError) as exc:
                raise SourceError(
                    f"connection to {self.address} lost during login: {scrub(str(exc), token)}"
                ) from None

    def _select(self, client: IMAPClient) -> None:
        s = self.settings
        try:
            response = client.select_folder(self.folder, readonly=False)
        except IMAPClientReadOnlyError as exc:  # the server answered [READ-ONLY]
            raise SourceError(
                f"folder {self.folder!r} at {self.address} is read-only for {s.username}: "
                "messages could not be marked as processed"
            ) from exc
        except IMAPClientError as exc:
            if not _folder_exists(client, self.folder):
                raise SourceError(
                    f"folder {self.folder!r} does not exist for user {s.username} "
                    f"at {self.address}"
                ) from exc
            raise SourceError(f"cannot select folder {self.folder!r}: {exc}") from exc
        except OSError as exc:
            raise SourceError(f"connection to {self.address} lost: {exc}") from exc
        self._uidvalidity = int(response.get(b"UIDVALIDITY", 0))
        if not self._uidvalidity:
            raise SourceError(f"{self.address} reported no UIDVALIDITY for {self.folder!r}")
        keywords_ok = _keywords_allowed(response)
        if s.after == "flag" and not keywords_ok:
            raise SourceError(
                f"{self.address} does not allow custom keywords (like {PROCESSED_KEYWORD}) in "
                f'{self.folder!r}: set after = "move" for this mailbox'
            )
        if not s.quarantine_to and not keywords_ok:
            raise SourceError(
                f"{self.address} does not allow the keyword {QUARANTINE_KEYWORD}: set "
                "quarantine_to to a folder for messages that cannot be processed"
            )
        if (s.after == "move" or s.quarantine_to) and not (
            client.has_capability("MOVE") or client.has_capability("UIDPLUS")
        ):
            raise SourceError(
                f"{self.address} offers neither MOVE nor UIDPLUS, so a single message cannot "
                'be moved safely: use after = "flag" and no quarantine_to'
            )

    @contextmanager
    def _guard(self, action: str) -> Iterator[IMAPClient]:
        """Run one IMAP exchange; a lost connection is closed and reported as SourceError."""
        client = self._client
        if client is None:
            raise SourceError(f"mailbox {self.mailbox_key}: not connected (call connect())")
        try:
            yield client
        except (IMAPClientAbortError, OSError) as exc:
            self._client = None
            _drop(client)
            raise SourceError(f"connection to {self.address} lost during {action}: {exc}") from exc
        except IMAPClientError as exc:
            raise SourceError(f"{action} failed at {self.address}: {exc}") from exc

    # -- the MessageSource interface --------------------------------------------------------

    def uidvalidity(self) -> int:
        if self._client is None:
            raise SourceError(f"mailbox {self.mailbox_key}: not connected (call connect())")
        return self._uidvalidity

    def pending_uids(self) -> list[int]:
        """UIDs to process: without $DPOIntake (flag mode) and without $DPOQuarantine."""
        criteria: list[str] = ["NOT", "KEYWORD", QUARANTINE_KEYWORD]
        if self.settings.after == "flag":
            criteria = ["NOT", "KEYWORD", PROCESSED_KEYWORD, *criteria]
        with self._guard("UID SEARCH") as client:
            return sorted(int(uid) for uid in client.search(criteria))

    def sizes(self, uids: list[int]) -> dict[int, int]:
        """RFC822.SIZE of each message (no body is read); vanished UIDs are left out."""
        found: dict[int, int] = {}
        for start in range(0, len(uids), SIZE_CHUNK):
            chunk = uids[start:start + SIZE_CHUNK]
            with self._guard("UID FETCH") as client:
                response = client.fetch(chunk, [_SIZE])
            for uid, data in response.items():
                size = data.get(_SIZE)
                if isinstance(size, int):
                    found[int(uid)] = size
        return found

    def fetch(self, uids: list[int]) -> list[FetchedMessage]:
        """Exact bytes and INTERNALDATE, in the order asked; vanished UIDs are left out."""
        found: list[FetchedMessage] = []
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[start:start + FETCH_CHUNK]
            with self._guard("UID FETCH") as client:
                response = client.fetch(chunk, [_BODY_PEEK, _INTERNALDATE])
            for uid in chunk:
                data = response.get(uid, {})
                raw, when = data.get(_BODY), data.get(_INTERNALDATE)
                if raw is None or not isinstance(when, datetime):
                    log.warning(
                        "mailbox %s: UID %d not returned by %s (expunged meanwhile?)",
                        self.mailbox_key, uid, self.address,
                    )
                    continue
                found.append(FetchedMessage(
                    mailbox_key=self.mailbox_key, folder=self.folder,
                    uidvalidity=self._uidvalidity, uid=uid,
                    internaldate=_aware(when), raw=bytes(raw),
                ))
        return found

    def mark_processed(self, uids: Sequence[int]) -> None:
        """One STORE (or MOVE) for the whole set: a batch costs one round trip."""
        if not uids:
            return
        if self.settings.after == "move":
            self._move(list(uids), self.settings.move_to)
        else:
            with self._guard("UID STORE") as client:
                client.add_flags(list(uids), [PROCESSED_KEYWORD], silent=True)
        log.debug("mailbox %s: %d UID(s) marked processed (%s)",
                  self.mailbox_key, len(uids), self.settings.after)

    def quarantine(self, uid: int, reason: str) -> None:
        if self.settings.quarantine_to:
            self._move([uid], self.settings.quarantine_to)
        else:
            with self._guard("UID STORE") as client:
                client.add_flags([uid], [QUARANTINE_KEYWORD], silent=True)
        log.warning("mailbox %s: UID %d quarantined: %s", self.mailbox_key, uid, reason)

    def supports_idle(self) -> bool:
        with self._guard("CAPABILITY") as client:
            return bool(client.has_capability("IDLE"))

    def idle_wait(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Wait in IDLE up to `seconds`; True as soon as the server reports new or changed mail.

        Checks `stop` every second so that a shutdown does not wait for the whole IDLE period.
        """
        deadline = time.monotonic() + seconds
        changed = False
        with self._guard("IDLE") as client:
            client.idle()
            try:
                while not changed and time.monotonic() < deadline:
                    if stop is not None and stop.is_set():
                        break
                    wait = max(0.05, min(1.0, deadline - time.monotonic()))
                    changed = _mail_changed(client.idle_check(timeout=wait))
            finally:
                # What arrived between the last check and DONE comes with DONE's answer.
                _text, late = client.idle_done()
            changed = changed or _mail_changed(late)
        return changed

    def store_copy(self, folder: str, raw: bytes, message_id: str, when: datetime) -> bool:
        """APPEND a sent message to `folder` marked \\Seen, unless one with this Message-ID is
        already there (a retry after an APPEND whose answer was lost). True if stored now.

        The folder is never created: a misspelt name must be an error, not a new folder.
        """
        with self._guard(f"APPEND to {folder}") as client:
            if not client.folder_exists(folder):
                raise SourceError(
                    f"folder {folder!r} does not exist for user {self.settings.username} "
                    f"at {self.address} (sent_folder)"
                )
            client.select_folder(folder, readonly=True)
            try:
                found = client.search(["HEADER", "Message-ID", message_id]) if message_id else []
                if not found:
                    client.append(folder, raw, flags=(b"\\Seen",), msg_time=when)
            finally:
                client.select_folder(self.folder, readonly=False)  # back to the folder we read
        return not found

    def folder_exists(self, name: str) -> bool:
        """Whether a folder of this name exists in the mailbox (`config check --connect`)."""
        with self._guard(f"LIST {name}") as client:
            return bool(client.folder_exists(name))

    # -- moving -----------------------------------------------------------------------------

    def _ensure_folder(self, name: str) -> None:
        if name in self._known_folders:
            return
        with self._guard(f"CREATE {name}") as client:
            if not client.folder_exists(name):
                try:
                    client.create_folder(name)
                except IMAPClientError:
                    if not client.folder_exists(name):  # another client may have just made it
                        raise
                log.info("mailbox %s: created folder %s", self.mailbox_key, name)
        self._known_folders.add(name)

    def _move(self, uids: list[int], target: str) -> None:
        if target == self.folder:
            raise SourceError(f"cannot move a message from {target!r} into itself")
        self._ensure_folder(target)
        with self._guard(f"MOVE to {target}") as client:
            if client.has_capability("MOVE"):
                client.move(uids, target)
                return
            # COPY, then remove only these UIDs (UIDPLUS), leaving other \Deleted messages alone.
            client.copy(uids, target)
            client.add_flags(uids, [b"\\Deleted"], silent=True)
            client.uid_expunge(uids)


def _mail_changed(responses: list[Any]) -> bool:
    """True if untagged IDLE responses report new mail (EXISTS/RECENT); BYE is a lost link."""
    changed = False
    for response in responses:
        if not isinstance(response, tuple) or len(response) < 2:
            continue
        if response[1] in (b"EXISTS", b"RECENT"):
            changed = True
        elif response[0] == b"BYE":
            raise IMAPClientAbortError("the server said BYE during IDLE")
    return changed


def _keywords_allowed(select_response: dict[bytes, object]) -> bool:
    """True if PERMANENTFLAGS lets us store our keywords (\\* or both already known)."""
    permanent = select_response.get(b"PERMANENTFLAGS")
    if not isinstance(permanent, tuple):
        return True  # RFC 3501 7.1: without PERMANENTFLAGS all flags can be changed permanently
    names = {f.decode() if isinstance(f, bytes) else str(f) for f in permanent}
    return "\\*" in names or {PROCESSED_KEYWORD, QUARANTINE_KEYWORD} <= names


def _folder_exists(client: IMAPClient, name: str) -> bool:
    try:
        return bool(client.folder_exists(name))
    except (IMAPClientError, OSError):
        return True  # cannot tell: report the original error rather than guess


def _aware(when: datetime) -> datetime:
    """Replace imapclient's own tzinfo with a stdlib fixed offset (UTC if none was sent)."""
    offset = when.utcoffset()
    return when.replace(tzinfo=timezone(offset) if offset is not None else UTC)


def _drop(client: IMAPClient) -> None:
    """Close a socket we give up on, ignoring errors from a half-dead connection."""
    with suppress(IMAPClientError, OSError):
        client.shutdown()
