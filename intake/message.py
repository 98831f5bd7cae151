"""Parsed e-mail: raw bytes (via mail-parser) become one immutable object the triage reads."""

from __future__ import annotations

import base64
import hashlib
import quopri
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email import policy as email_policy
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from types import MappingProxyType

import inscriptis
import lxml.etree
from inscriptis.css_profiles import STRICT_CSS_PROFILE
from inscriptis.html_properties import Display
from inscriptis.model.config import ParserConfig
from inscriptis.model.html_element import HtmlElement
from mailparser.const import ADDRESSES_HEADERS
from mailparser.core import MailParser

MSGID_RE = re.compile(r"<[^<>\s]+>")

# mail-parser builds a Python object per MIME part and recurses per level: 20,000 parts cost
# seconds and tens of MB in the worker, 1,000 levels raise. Above this many delimiter-like lines
# ("--" at a line start: an upper bound of the parts) the message is not given to it: only its
# headers and its first text/plain part are read, and the triage says so.
MAX_MIME_PARTS = 500
_SCAN_BYTES = 8 << 20  # how far into such a message its first text part is looked for
_TEXT_PART = re.compile(rb"(?im)^content-type:[ \t]*text/plain\b")

# Trace headers differ between two deliveries of the same mail; they are left out of the hash.
_TRACE_HEADERS = frozenset(
    {
        "received",
        "return-path",
        "delivered-to",
        "x-original-to",
        "authentication-results",
        "arc-seal",
        "arc-message-signature",
        "arc-authentication-results",
        "x-received",
    }
)


# Outlook writes every line as <p class=MsoNormal> with no margin and blank lines as <p>&nbsp;</p>.
_HTML_CONFIG = ParserConfig(css={**STRICT_CSS_PROFILE, "p": HtmlElement(display=Display.block)})
_EMPTY_PARAGRAPH = re.compile(
    r"<p\b[^>]*>(?:\s|&nbsp;|&#160;|\u00a0|</?o:p>|<span\b[^>]*>|</span>)*</p>", re.IGNORECASE
)


_WHITESPACE = re.compile(r"\s+")


class MessageParseError(ValueError):
    """Raised when bytes cannot be read as an e-mail message at all."""


class _BodyParser(MailParser):
    """mail-parser without three results nobody here reads (half of its time, or more).

    parse_message takes from mail-parser only the MIME walk (text/plain, text/html and the
    attachments), the decoded Subject and the Date; it reads From, To, Cc and Reply-To itself
    (parseaddr/getaddresses) and the defects from the stdlib parts. Left out here:
    mail-parser's own parse of the address headers (its `to`, `from_`, … values and their
    AddressHeaderDefect diagnostics), the `mail` / `mail_partial` dicts it builds at the end
    of parse() from every header, and its parse of the Received headers. These rely on private
    hooks of mail-parser 4.8.0, which pyproject.toml pins, and on the stdlib Message's header
    list; tests/test_message.py checks they still exist.
    """

    def _build_header_index(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = super()._build_header_index()
        return {name: values for name, values in index.items()
                if name not in ADDRESSES_HEADERS}

    def _make_mail(self, complete: bool = True) -> dict[str, object]:
        return {}

    def parse(self) -> None:
        """mail-parser's parse with the top-level Received headers out of its sight: it parses
        each one into its `received` hop list (~75 µs a header, and real mail has several),
        which nothing here reads. The message has them back before parse_message reads it."""
        message = self._message
        if message is None:
            super().parse()
            return
        kept = message._headers  # the stdlib Message's own list of (name, value) pairs
        message._headers = [item for item in kept if item[0].lower() != "received"]
        try:
            super().parse()
        finally:
            message._headers = kept


@dataclass(frozen=True)
class Attachment:
    """One attachment: its name, declared type, size and content."""

    filename: str | None
    content_type: str
    size: int
    payload: bytes = field(repr=False)
    sha256: str = ""


@dataclass(frozen=True)
class ParsedMessage:
    """Everything the triage needs from one message; the raw bytes are kept unchanged."""

    raw: bytes = field(repr=False)
    message_id: str | None
    subject: str
    from_name: str
    from_address: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: tuple[str, ...]
    date_header: datetime | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    headers: Mapping[str, tuple[str, ...]] = field(repr=False)
    text: str = field(repr=False)
    html: str | None = field(repr=False)
    attachments: tuple[Attachment, ...]
    authentication_results: tuple[str, ...]
    content_type: str
    content_hash: str
    defects: tuple[str, ...]
    # Set when the message was read only in part ("limit reached: …"): a person must look.
    limit: str | None = None

    def header(self, name: str) -> str | None:
        """First value of a header (case-insensitive), or None."""
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def header_values(self, name: str) -> tuple[str, ...]:
        """All values of a header (case-insensitive)."""
        return self.headers.get(name.lower(), ())

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this message replies to: In-Reply-To first, then References, newest first."""
        seen: dict[str, None] = dict.fromkeys(self.in_reply_to)
        for ref in reversed(self.references):
            seen.setdefault(ref, None)
        return tuple(seen)


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse raw RFC 5322 bytes. Raises MessageParseError when nothing usable is there."""
    if not raw or not raw.strip():
        raise MessageParseError("empty message")
    delimiters = raw.count(b"\n--")
    if delimiters > MAX_MIME_PARTS and _multipart(raw):
        return _headers_and_first_text(raw, delimiters)
    try:
        mail = _BodyParser.from_bytes(raw)
    except Exception as exc:  # mail-parser raises a variety of errors on hostile input
        raise MessageParseError(f"unparseable MIME: {type(exc).__name__}: {exc}") from exc
    msg = mail.message
    headers = _headers(msg)
    if not headers:
        raise MessageParseError("no headers")

    from_name, from_address = parseaddr(headers.get("from", ("",))[0])
    text_plain = _unix_newlines("\n".join(mail.text_plain)).strip()
    text_html = _unix_newlines("\n".join(mail.text_html)).strip() or None
    text = text_plain or (html_to_text(text_html) if text_html else "")
    defects = tuple(sorted({type(d).__name__ for d in _all_defects(msg)}))
    if not text and "NoBoundaryInMultipartDefect" in defects:
        text = _salvage_text(msg.get_payload())

    return ParsedMessage(
        raw=raw,
        message_id=_first_msgid(headers.get("message-id", ())),
        subject=_clean_line(mail.subject or ""),
        from_name=_clean_line(_decode_words(from_name)),
        from_address=from_address.strip().lower(),
        to=_addresses(headers.get("to", ())),
        cc=_addresses(headers.get("cc", ())),
        reply_to=_addresses(headers.get("reply-to", ())),
        date_header=mail.date if isinstance(mail.date, datetime) else None,
        in_reply_to=tuple(MSGID_RE.findall(" ".join(headers.get("in-reply-to", ())))),
        references=tuple(MSGID_RE.findall(" ".join(headers.get("references", ())))),
        headers=MappingProxyType(headers),
        text=text,
        html=text_html,
        attachments=tuple(_attachments(mail.attachments)),
        authentication_results=headers.get("authentication-results", ()),
        content_type=msg.get_content_type(),
        content_hash=content_hash(raw),
        defects=defects,
    )


# How much of a message header_fields() looks at: the header block of real mail is a few KB.
_HEADER_BYTES = 256 << 10


def header_fields(raw: bytes) -> ParsedMessage | None:
    """The message as its header block alone says it (sender, subject, Message-ID, the headers
    the guard and DMARC checks read; no MIME part and no body is read): for a message set aside
    unread, which must not be parsed again. None when there is no header at all."""
    window = raw[:_HEADER_BYTES]
    found = re.search(rb"\r?\n\r?\n", window)
    try:
        return _from_header_block(raw, window[: found.start()] if found else window, "", None)
    except Exception:  # hostile header bytes: nothing usable
        return None


def _multipart(raw: bytes) -> bool:
    """Whether the top-level Content-Type (header block only) is multipart: lines starting
    with "--" in a single-part text (dashed rulers, signatures) are not MIME parts."""
    found = re.search(rb"\r?\n\r?\n", raw[:_HEADER_BYTES])
    head = raw[: found.start()] if found else raw[:_HEADER_BYTES]
    try:
        msg = BytesHeaderParser(policy=email_policy.compat32).parsebytes(head + b"\r\n\r\n")
        return msg.get_content_maintype() == "multipart"
    except Exception:  # unreadable headers: treat as multipart, the bounded path
        return True


def _headers_and_first_text(raw: bytes, delimiters: int) -> ParsedMessage:
    """A message with too many MIME parts: its headers and first text/plain part, no
    attachments, marked `limit` (the triage flags it for a person)."""
    found = re.search(rb"\r?\n\r?\n", raw)
    head = raw[: found.start()] if found else raw
    body = raw[found.end():] if found else b""
    limit = (f"limit reached: {delimiters:,} MIME delimiter lines (more than "
             f"{MAX_MIME_PARTS:,}): only the headers and the first text part were read, "
             "no attachment")
    return _from_header_block(raw, head, _unix_newlines(_first_text(body)).strip(), limit)


def _from_header_block(raw: bytes, head: bytes, text: str, limit: str | None) -> ParsedMessage:
    """A ParsedMessage from a header block and a text read some other way (no attachments)."""
    msg = BytesHeaderParser(policy=email_policy.compat32).parsebytes(head + b"\r\n\r\n")
    headers = _headers(msg)
    if not headers:
        raise MessageParseError("no headers")
    from_name, from_address = parseaddr(headers.get("from", ("",))[0])
    try:
        date = parsedate_to_datetime(headers.get("date", ("",))[0])
    except (TypeError, ValueError, IndexError):
        date = None
    return ParsedMessage(
        raw=raw,
        message_id=_first_msgid(headers.get("message-id", ())),
        subject=_clean_line(_decode_words(headers.get("subject", ("",))[0])),
        from_name=_clean_line(_decode_words(from_name)),
        from_address=from_address.strip().lower(),
        to=_addresses(headers.get("to", ())),
        cc=_addresses(headers.get("cc", ())),
        reply_to=_addresses(headers.get("reply-to", ())),
        date_header=date if date is not None and date.tzinfo is not None else None,
        in_reply_to=tuple(MSGID_RE.findall(" ".join(headers.get("in-reply-to", ())))),
        references=tuple(MSGID_RE.findall(" ".join(headers.get("references", ())))),
        headers=MappingProxyType(headers),
        text=text,
        html=None,
        attachments=(),
        authentication_results=headers.get("authentication-results", ()),
        content_type=msg.get_content_type(),
        content_hash=content_hash(raw),
        defects=(),
        limit=limit,
    )


def _first_text(body: bytes) -> str:
    """The first text/plain part in the first 8 MB of a multipart body, decoded; or ""."""
    window = body[:_SCAN_BYTES]
    found = _TEXT_PART.search(window)
    if found is None:
        return ""
    start = window.rfind(b"\n--", 0, found.start())
    start = window.find(b"\n", start + 1) + 1 if start >= 0 else found.start()
    end = window.find(b"\n--", found.end())
    entity = window[start: end if end >= 0 else len(window)]
    split = re.search(rb"\r?\n\r?\n", entity)
    head, data = (entity[: split.start()], entity[split.end():]) if split else (entity, b"")
    part = BytesHeaderParser(policy=email_policy.compat32).parsebytes(head + b"\r\n\r\n")
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    try:
        if encoding == "base64":
            data = base64.b64decode(data)
        elif encoding == "quoted-printable":
            data = quopri.decodestring(data)
    except (ValueError, TypeError):
        data = b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def content_hash(raw: bytes) -> str:
    """SHA-256 over the message without its trace headers: equal for two deliveries of one mail."""
    head, sep, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    kept: list[bytes] = []
    keep = True
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if keep:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower().decode("ascii", "replace")
        keep = name not in _TRACE_HEADERS
        if keep:
            kept.append(line)
    return hashlib.sha256(b"\n".join(kept) + sep + body).hexdigest()


def html_to_text(markup: str) -> str:
    """Readable text from an HTML body (inscriptis; one line per paragraph, as Outlook shows it)."""
    markup = _EMPTY_PARAGRAPH.sub("<br>", markup)
    try:
        text = inscriptis.get_text(markup, _HTML_CONFIG)
    except (ValueError, lxml.etree.LxmlError):  # markup lxml cannot read at all
        return ""
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded ("=?utf-8?q?Jos=C3=A9?=" -> "José"); junk left as is."""
    try:
        return str(make_header(decode_header(value)))
    except (HeaderParseError, LookupError, UnicodeError, ValueError):
        return value


def _salvage_text(payload: object) -> str:
    """The readable lines of a multipart body whose boundary is missing (a broken mailer)."""
    if not isinstance(payload, str):
        return ""
    kept = [
        line for line in _unix_newlines(payload).split("\n")
        if not line.startswith("--") and not re.match(r"(?i)^content-[\w-]+\s*:", line)
    ]
    return "\n".join(kept).strip()


def _unix_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _headers(msg) -> dict[str, tuple[str, ...]]:
    headers: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        headers.setdefault(name.lower(), []).append(_clean_line(_header_text(value)))
    return {name: tuple(values) for name, values in headers.items()}


def _header_text(value: object) -> str:
    """A raw header value as text; 8-bit bytes are read as UTF-8 (RFC 6532), not replaced."""
    text = str(value)
    try:
        return text.encode("ascii", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # already text beyond ASCII
        return text


def _clean_line(value: str) -> str:
    """One line of text: folded whitespace, no CR/LF (no header injection downstream)."""
    return _WHITESPACE.sub(" ", value.replace("\x00", "")).strip()


def _first_msgid(values: tuple[str, ...]) -> str | None:
    for value in values:
        found = MSGID_RE.search(value)
        if found:
            return found.group(0)
    return None


def _addresses(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(addr.lower() for _, addr in getaddresses(list(values)) if "@" in addr)


def _attachments(items: list[dict]) -> list[Attachment]:
    found = []
    for item in items:
        payload = item.get("payload") or ""
        if item.get("binary"):
            try:
                data = base64.b64decode(payload)
            except (ValueError, TypeError):
                data = payload.encode("latin-1", "replace") if isinstance(payload, str) else b""
        else:
            data = payload.encode("utf-8", "replace") if isinstance(payload, str) else payload
        found.append(
            Attachment(
                filename=_clean_line(item.get("filename") or "") or None,
                content_type=(item.get("mail_content_type") or "application/octet-stream").lower(),
                size=len(data),
                payload=data,
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    return found


def _all_defects(msg):
    for part in msg.walk():
        yield from getattr(part, "defects", ())
