"""Delivery of finished messages: SMTP (STARTTLS or implicit TLS, AUTH) or .eml files (demo)."""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import tempfile
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from intake.config import ConfigError, SmtpSettings
from intake.oauth import TokenError, provider_for, scrub, xoauth2_string
from intake.store.db import private_directory

log = logging.getLogger(__name__)

# An envelope address as smtplib will put it between < >: no spaces, brackets or line breaks.
_ENVELOPE_RE = re.compile(r"^[^\s<>@]+@[^\s<>@]+$")


class TransportError(Exception):
    """A message was not delivered.

    permanent: retrying this message will not help (a 5xx reply, an impossible address).
    Temporary: 4xx replies, timeouts, refused or dropped connections, TLS trouble.
    stage: where it failed: connect | tls | auth | sender | recipient | data | write.
    Failures at connect, tls and auth are about the server or settings, not the message.
    """

    def __init__(
        self, message: str, *, permanent: bool, stage: str, code: int | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.stage = stage
        self.code = code


class SmtpTransport:
    """Sends through one SMTP server; as a context manager, one connection and AUTH per batch."""

    def __init__(self, settings: SmtpSettings) -> None:
        if settings.tls not in ("starttls", "implicit", "none"):
            raise ValueError(f"unknown smtp.tls {settings.tls!r}")
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._batch = False

    def __enter__(self) -> SmtpTransport:
        self._batch = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._batch = False
        self.close()

    def open(self) -> None:
        """Connect, secure and log in now (send() does this by itself when needed)."""
        if self._smtp is None:
            self._smtp = self._connect()

    def close(self) -> None:
        """Say QUIT and drop the connection; errors on the way out do not matter."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def send(
        self,
        mail_from: str,
        recipients: Sequence[str],
        data: bytes,
        before_data: Callable[[], None] | None = None,
    ) -> str:
        """Deliver one message; returns the server's final reply, e.g. "250 2.0.0 Ok queued".

        Raises TransportError. When some (not all) recipients are refused the message is sent
        to the others and the refusals are named in the result. `before_data` is called once
        the envelope is accepted, just before DATA: from there on the server may take the
        message even if we never see its answer.
        """
        _check_envelope(mail_from, recipients)
        started: list[bool] = []

        def data_starts() -> None:
            started.append(True)
            if before_data is not None:
                before_data()

        try:
            reused = self._smtp is not None
            self.open()
            try:
                return self._transaction(mail_from, recipients, data, data_starts)
            except smtplib.SMTPServerDisconnected:
                if not reused or started:
                    raise
                # An idle connection of the batch was closed by the server before MAIL: nothing
                # was sent yet, so a fresh connection is safe.
                log.info("smtp connection to %s was closed; reconnecting", self.settings.host)
                self._drop()
                self.open()
                return self._transaction(mail_from, recipients, data, data_starts)
        except TransportError:
            raise
        except smtplib.SMTPResponseException as exc:
            self._reset()
            raise _from_reply(exc.smtp_code, exc.smtp_error, "data") from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise _from_exception(exc, self.settings, "data") from exc
        finally:
            if not self._batch:
                self.close()

    def _transaction(
        self,
        mail_from: str,
        recipients: Sequence[str],
        data: bytes,
        before_data: Callable[[], None],
    ) -> str:
        smtp = self._smtp
        assert smtp is not None
        mail_from = _ascii_domain(mail_from)
        recipients = [_ascii_domain(r) for r in recipients]
        options = ["BODY=8BITMIME"] if smtp.has_extn("8bitmime") and not data.isascii() else []
        if _needs_smtputf8(mail_from, recipients, data):
            if not smtp.has_extn("smtputf8"):
                # No retry will help with this server: the case is flagged for staff instead.
                raise TransportError(
                    f"{self.settings.host} does not offer SMTPUTF8, needed for an address with "
                    "non-ASCII characters (RFC 6532)", permanent=True, stage="recipient",
                )
            options.append("SMTPUTF8")
        code, reply = smtp.mail(mail_from, options)
        if code != 250:
            self._reset()
            raise _from_reply(code, reply, "sender")
        refused: dict[str, tuple[int, bytes]] = {}
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, reply)
        if len(refused) == len(recipients):
            self._reset()
            # Permanent only if every refusal is: one 4xx means a retry may still reach someone.
            answers = list(refused.values())
            permanent = all(500 <= answer[0] < 600 for answer in answers)
            code, reply = next((a for a in answers if not 500 <= a[0] < 600), answers[0])
            raise _from_reply(code, reply, "recipient", permanent=permanent)
        before_data()
        code, reply = smtp.data(data)  # raises only when DATA itself is refused, not the message
        if code != 250:
            self._reset()
            raise _from_reply(code, reply, "data")
        result = _reply_text(code, reply)
        if refused:
            log.warning("smtp: %d of %d recipient(s) refused", len(refused), len(recipients))
            result += "; refused: " + ", ".join(
                f"{addr} {_reply_text(*answer)}" for addr, answer in refused.items()
            )
        log.debug("smtp: delivered to %d recipient(s): %s", len(recipients) - len(refused), code)
        return result

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.tls == "none" and not s.allow_plaintext:
            raise TransportError(
                'smtp.tls = "none" needs allow_plaintext = true', permanent=True, stage="tls"
            )
        stage = "connect"
        smtp: smtplib.SMTP | None = None
        try:
            context = ssl.create_default_context(cafile=s.ca_file or None)
            if s.tls == "implicit":
                stage = "tls"
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.tls == "starttls":
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise TransportError(
                        f"{s.host}:{s.port} does not offer STARTTLS; refusing to continue "
                        "without TLS (use tls = \"implicit\" if the port expects TLS at once)",
                        permanent=False, stage="tls",
                    )
                stage = "tls"
                smtp.starttls(context=context)
                smtp.ehlo()
            smtp.ehlo_or_helo_if_needed()  # the extensions (AUTH, 8BITMIME) are known from here
            if s.username:
                stage = "auth"
                self._login(smtp)
            return smtp
        except TransportError:
            if smtp is not None:
                smtp.close()
            raise
        except smtplib.SMTPResponseException as exc:
            if smtp is not None:
                smtp.close()
            raise _from_reply(exc.smtp_code, exc.smtp_error, stage) from exc
        except (smtplib.SMTPException, OSError) as exc:
            if smtp is not None:
                smtp.close()
            raise _from_exception(exc, s, stage) from exc

    def _login(self, smtp: smtplib.SMTP) -> None:
        if self.settings.auth == "oauth2":
            self._oauth2_login(smtp)
            return
        s = self.settings
        try:
            password = s.password.resolve()
        except ConfigError as exc:
            raise TransportError(str(exc), permanent=True, stage="auth") from exc
        if password is None:
            raise TransportError(
                "smtp.username is set but no password_env or password_credential",
                permanent=True, stage="auth",
            )
        if not smtp.has_extn("auth"):
            raise TransportError(
                f"{s.host}:{s.port} offers no AUTH (after TLS); cannot log in",
                permanent=True, stage="auth",
            )
        smtp.login(s.username, password)

    def _oauth2_login(self, smtp: smtplib.SMTP) -> None:
        """AUTH XOAUTH2; a refused token is replaced once by a fresh one."""
        s = self.settings
        assert s.oauth2 is not None
        if not smtp.has_extn("auth"):
            raise TransportError(
                f"{s.host}:{s.port} offers no AUTH (after TLS); cannot log in",
                permanent=True, stage="auth",
            )
        provider = provider_for(s.oauth2)
        for attempt in (1, 2):
            try:
                token = provider.token()
            except TokenError as exc:
                # Not permanent: a secret can be renewed without touching the queued replies.
                raise TransportError(
                    f"no OAuth2 token for {s.username}: {exc}", permanent=False, stage="auth"
                ) from None
            initial = xoauth2_string(s.username, token)
            try:
                # After a refusal the server sends a 334 error challenge; the answer is empty.
                smtp.auth(
                    "XOAUTH2",
                    lambda challenge=None, initial=initial: initial if challenge is None else "",
                    initial_response_ok=True,
                )
                return
            except smtplib.SMTPAuthenticationError as exc:
                provider.invalidate(token)
                reply = scrub(_reply_text(exc.smtp_code, exc.smtp_error), token)
                if attempt == 2:
                    raise TransportError(
                        f"XOAUTH2 login refused for {s.username} at {s.host}:{s.port}: {reply} "
                        "(does the app have SMTP.SendAsApp and access to this mailbox?)",
                        permanent=False, stage="auth", code=exc.smtp_code,
                    ) from None
                log.info("smtp: OAuth2 token refused, fetching a new one")

    def _reset(self) -> None:
        """RSET after a refused transaction so the batch connection can go on."""
        if self._smtp is None:
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()


class FileTransport:
    """Writes each message as an .eml file into a folder, atomically (demo, tests, dry runs)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def __enter__(self) -> FileTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release; present so both transports are used the same way."""

    def send(
        self,
        mail_from: str,
        recipients: Sequence[str],
        data: bytes,
        before_data: Callable[[], None] | None = None,
    ) -> str:
        """Write the message (with Return-Path and Delivered-To lines); returns the file's path."""
        _check_envelope(mail_from, recipients)
        if before_data is not None:
            before_data()
        newline = b"\r\n" if b"\r\n" in data[:2000] else b"\n"
        trace = [f"Return-Path: <{mail_from}>".encode()]
        trace += [f"Delivered-To: {rcpt}".encode() for rcpt in recipients]
        content = newline.join(trace) + newline + data
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = self.directory / f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
        tmp_name = None
        try:
            private_directory(self.directory)  # the spool holds replies: 0700, files 0600
            fd, tmp_name = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".eml")
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)
            tmp_name = None
            _fsync_dir(self.directory)
        except OSError as exc:
            raise TransportError(
                f"cannot write {target}: {exc.strerror or exc}", permanent=False, stage="write"
            ) from exc
        finally:
            if tmp_name is not None:
                Path(tmp_name).unlink(missing_ok=True)
        log.debug("file transport: wrote %s", target.name)
        return str(target)


def open_transport(settings: SmtpSettings) -> SmtpTransport | FileTransport:
    """The transport the settings ask for (smtp.transport = "smtp" | "file")."""
    if settings.transport == "smtp":
        return SmtpTransport(settings)
    if settings.transport == "file":
        return FileTransport(settings.file_dir)
    raise ValueError(f"unknown smtp.transport {settings.transport!r}")


def _check_envelope(mail_from: str, recipients: Sequence[str]) -> None:
    if isinstance(recipients, str):
        raise TypeError("recipients must be a sequence of addresses, not one string")
    if not recipients:
        raise TransportError("no recipients", permanent=True, stage="recipient")
    if mail_from and not _ENVELOPE_RE.match(mail_from):
        raise TransportError("the envelope sender is not a plain address",
                             permanent=True, stage="sender")
    for rcpt in recipients:
        if not _ENVELOPE_RE.match(rcpt):
            raise TransportError("a recipient is not a plain address",
                                 permanent=True, stage="recipient")


def _ascii_domain(address: str) -> str:
    """An address whose local part is ASCII, with its domain in ASCII (IDNA) form."""
    local, at, domain = address.rpartition("@")
    if not at or not local.isascii() or domain.isascii():
        return address
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


def _needs_smtputf8(mail_from: str, recipients: Sequence[str], data: bytes) -> bool:
    """A UTF-8 address in the envelope or in the header fields (RFC 6531/6532)."""
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    return not (mail_from.isascii() and all(r.isascii() for r in recipients) and head.isascii())


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}"


def _from_reply(
    code: int, reply: bytes | str, stage: str, *, permanent: bool | None = None
) -> TransportError:
    if permanent is None:
        permanent = 500 <= code < 600
    return TransportError(
        f"SMTP {stage} refused: {_reply_text(code, reply)}",
        permanent=permanent, stage=stage, code=code,
    )


def _from_exception(exc: BaseException, s: SmtpSettings, stage: str) -> TransportError:
    where = f"{s.host}:{s.port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        message = (
            f"the TLS certificate of {where} is not trusted ({exc.verify_message}); "
            "if the server uses a private CA, set smtp.ca_file"
        )
        return TransportError(message, permanent=False, stage="tls")
    if isinstance(exc, ssl.SSLError):
        return TransportError(f"TLS with {where} failed: {exc.reason or exc}",
                              permanent=False, stage="tls")
    if isinstance(exc, TimeoutError):
        return TransportError(f"{where} did not answer within {s.timeout:g} s",
                              permanent=False, stage=stage)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TransportError(f"{where} closed the connection ({exc})",
                              permanent=False, stage=stage)
    if isinstance(exc, smtplib.SMTPException):
        return TransportError(f"SMTP {stage} with {where} failed: {exc}",
                              permanent=True, stage=stage)
    if isinstance(exc, OSError):
        return TransportError(f"cannot reach {where}: {exc.strerror or exc}",
                              permanent=False, stage=stage)
    return TransportError(f"{where}: {exc}", permanent=False, stage=stage)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
