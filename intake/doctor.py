"""`intake config check --connect`: log in to every mailbox and to SMTP, say plainly what fails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from intake.config import ImapSettings, MailboxSettings, Settings, SmtpSettings
from intake.oauth import TokenError, provider_for
from intake.outbound.transport import SmtpTransport, TransportError
from intake.source.base import SourceError
from intake.source.imap import ImapSource

# What each TokenError kind means for the Exchange admin (docs/microsoft-365.md has the steps).
_TOKEN_ADVICE = {
    "tenant": "wrong tenant",
    "invalid_client": "client secret or certificate invalid, expired or revoked (invalid_client)",
    "permission": "permission missing",
    "network": "authority unreachable",
    "tls": "TLS failure",
    "config": "credential not readable",
    "other": "no token",
}


@dataclass(frozen=True)
class Finding:
    """One line of the report: what was checked, whether it is fine, and in plain words why not."""

    what: str
    ok: bool
    text: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.what}: {self.text}"


def check_connections(settings: Settings) -> list[Finding]:
    """Every mailbox (token, login, folders), then SMTP (token, login)."""
    findings: list[Finding] = []
    for mailbox in settings.mailboxes:
        if mailbox.imap is not None:
            findings += check_mailbox(mailbox)
    if settings.smtp.transport == "smtp":
        findings += check_smtp(settings.smtp)
    return findings


def check_mailbox(mailbox: MailboxSettings) -> list[Finding]:
    imap = mailbox.imap
    assert imap is not None
    what = f"mailbox {mailbox.key} (IMAP {imap.username} at {imap.host}:{imap.port})"
    findings: list[Finding] = []
    if imap.auth == "oauth2":
        token = _token_finding(what, imap)
        findings.append(token)
        if not token.ok:
            return findings
    source = ImapSource(mailbox.key, imap)
    try:
        source.connect()
    except SourceError as exc:
        findings.append(Finding(what, False, imap_problem(str(exc), imap)))
        return findings
    try:
        findings.append(Finding(what, True, f"logged in, folder {imap.folder!r} selected"))
        for role, name in _folders(imap):
            exists = source.folder_exists(name)
            findings.append(Finding(
                f"{what} {role} folder", exists,
                f"{name!r} exists" if exists else
                f"folder missing: {name!r} does not exist in this mailbox (check the name; "
                "Outlook shows localised names, e.g. \"Verzonden items\")",
            ))
    except SourceError as exc:
        findings.append(Finding(what, False, imap_problem(str(exc), imap)))
    finally:
        source.close()
    return findings


def _folders(imap: ImapSettings) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if imap.after == "move":
        found.append(("move_to", imap.move_to))
    if imap.quarantine_to:
        found.append(("quarantine", imap.quarantine_to))
    if imap.sent_folder and imap.sent_folder != "server":
        found.append(("sent", imap.sent_folder))
    return found


def check_smtp(smtp: SmtpSettings) -> list[Finding]:
    what = f"SMTP {smtp.username or '(no login)'} at {smtp.host}:{smtp.port}"
    findings: list[Finding] = []
    if smtp.auth == "oauth2":
        token = _token_finding(what, smtp)
        findings.append(token)
        if not token.ok:
            return findings
    transport = SmtpTransport(smtp)
    try:
        transport.open()
    except TransportError as exc:
        findings.append(Finding(what, False, smtp_problem(exc, smtp)))
        return findings
    finally:
        transport.close()
    findings.append(Finding(what, True, "connected" + (", logged in" if smtp.username else "")))
    return findings


def _token_finding(what: str, settings: ImapSettings | SmtpSettings) -> Finding:
    assert settings.oauth2 is not None
    provider = provider_for(settings.oauth2)
    try:
        provider.token()
    except TokenError as exc:
        return Finding(f"{what} token", False, f"{_TOKEN_ADVICE.get(exc.kind, 'no token')}: {exc}")
    return Finding(f"{what} token", True, f"token obtained from {settings.oauth2.authority_url}")


_IMAP_PATTERNS: list[tuple[Callable[[str], bool], str]] = [
    (lambda t: "Connection refused" in t, "connection refused: nothing listens at this host "
     "and port (check host, port and tls)"),
    (lambda t: "certificate verification failed" in t or "TLS handshake" in t
     or "STARTTLS" in t, "TLS failure"),
    (lambda t: "host name not resolved" in t, "host name not found"),
    (lambda t: "timed out" in t, "no answer (firewall? wrong port?)"),
    (lambda t: "does not exist" in t, "folder missing"),
]


def imap_problem(text: str, imap: ImapSettings) -> str:
    """A SourceError in plain words, with what it most likely means."""
    if "OAuth2 login refused" in text:
        return (
            f"mailbox not found or permission missing: the app may not open {imap.username} "
            "(Add-MailboxPermission FullAccess for the service principal, IMAP.AccessAsApp "
            f"with admin consent, IMAP enabled for the mailbox) — {text}"
        )
    if "login refused" in text:
        return f"login refused: wrong user name or password — {text}"
    for matches, label in _IMAP_PATTERNS:
        if matches(text):
            return f"{label} — {text}"
    return text


def smtp_problem(exc: TransportError, smtp: SmtpSettings) -> str:
    text = str(exc)
    if "no OAuth2 token" in text:
        return text
    if exc.stage == "auth":
        if smtp.auth == "oauth2":
            return (
                f"permission missing or mailbox not found: {smtp.username} may not send with "
                "this app (SMTP.SendAsApp with admin consent, Add-MailboxPermission, SMTP AUTH "
                f"enabled for the mailbox) — {text}"
            )
        return f"login refused: wrong user name or password — {text}"
    if "Connection refused" in text:
        return f"connection refused: nothing listens at this host and port — {text}"
    if exc.stage == "tls":
        return f"TLS failure — {text}"
    return text


def report_connections(settings: Settings) -> int:
    """Print one line per check; 0 when everything works, 1 when anything does not."""
    findings = check_connections(settings)
    print("connections:")
    for finding in findings:
        print(f"  {finding.line()}")
    problems = sum(not f.ok for f in findings)
    if not findings:
        print("  nothing to connect to (no IMAP mailbox, replies written as files)")
    print(f"  {problems} problem(s)" if problems else "  all connections work")
    return 1 if problems else 0
