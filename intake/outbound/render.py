"""Acknowledgement e-mails: Jinja2 templates per language and controller → a safe EmailMessage."""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email import message_from_bytes, quoprimime
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime, make_msgid
from functools import cache, cached_property
from importlib import resources
from typing import Any

import jinja2
import yaml

from intake.config import MailboxSettings
from intake.message import MSGID_RE, ParsedMessage
from intake.rights import LANGUAGES
from intake.store.masking import mask_numbers
from intake.store.timezone import BRUSSELS

VTC_URL = "https://www.vlaamsetoezichtcommissie.be"
KINDS = ("request", "question", "to_classify")
SUBJECT_MAX = 120
LINE_MAX = 78
MAX_REFERENCES = 20
_SEPARATOR = "\n\n" + "-" * 72 + "\n\n"
_ADDR_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$")
# RFC 6532: the same with UTF-8 (any printable non-ASCII character) in the local part and domain.
_UTF8_ADDR_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\u0080-\U0010ffff-]+"
    r"@[A-Za-z0-9.\u0080-\U0010ffff-]+\.[A-Za-z0-9\u0080-\U0010ffff-]+$"
)
_HEADERS = frozenset({
    "from", "to", "subject", "date", "message-id", "in-reply-to", "references",
    "auto-submitted", "x-auto-response-suppress", "x-loop", "content-language",
    "mime-version", "content-type", "content-transfer-encoding",
})


@dataclass(frozen=True)
class ReplyContext:
    """What an acknowledgement says about one case; the caller computes dates and rights."""

    kind: str  # "request" (legal clock) | "question" (service target days) | "to_classify"
    # ("to_classify": a neutral acknowledgement, the legal due date stated as a conditional)
    reference: str  # e.g. "DPO-AGO-2026-0042"
    received: datetime  # Europe/Brussels (naive values are taken as Brussels time)
    due: date | None  # legal due date (None while the clock is suspended for identity)
    service_days: int | None  # for questions; None: mailbox.question_service_days
    rights: tuple[str, ...]  # canonical right names (intake.config.RIGHTS)
    identity_needed: bool  # True: ask for proof; the period is suspended until it arrives
    days_left_when_suspended: int | None  # optional, shown when identity_needed
    language: str  # detected language of the request (nl/fr/en/de/...)
    mailbox: MailboxSettings

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        if self.kind == "request" and not self.identity_needed and self.due is None:
            raise ValueError("a request needs a due date unless the clock waits for identity")
        if self.kind == "to_classify" and self.due is None:
            raise ValueError("a message to classify states the provisional legal due date")
        if not re.fullmatch(r"[A-Z0-9][A-Z0-9-]{0,63}", self.reference):
            raise ValueError(f"reference {self.reference!r} is not of the form DPO-AGO-2026-0042")


def reply_languages(detected: str, configured: Sequence[str]) -> list[str]:
    """First configured language (Dutch by default), then the requester's if configured too."""
    usable = [lang for lang in configured if lang in LANGUAGES]
    first = usable[0] if usable else "nl"
    languages = [first]
    if detected in usable and detected != first:
        languages.append(detected)
    return languages


# A header field to write: a text value, or an address as (display name, addr-spec).
_Field = tuple[str, "str | tuple[str, str]"]


@dataclass(frozen=True)
class RenderedReply:
    """A built reply: its checked wire bytes and its Message-ID; `message` as an EmailMessage."""

    raw: bytes
    message_id: str
    fields: tuple[_Field, ...] = field(default=(), repr=False)
    body: str = field(default="", repr=False)
    languages: tuple[str, ...] = ()

    @cached_property
    def message(self) -> EmailMessage:
        """The same reply built with the email package's header registry (for reading)."""
        if not self.raw.split(b"\r\n\r\n", 1)[0].isascii():  # a UTF-8 address (RFC 6532)
            parsed = message_from_bytes(self.raw, _class=EmailMessage, policy=SMTPUTF8)
            assert isinstance(parsed, EmailMessage)
            return parsed
        msg = EmailMessage(policy=SMTP)
        for name, value in self.fields:
            if isinstance(value, tuple):
                msg[name] = Address(display_name=value[0], addr_spec=value[1])
            else:
                msg[name] = value
        msg.set_content(self.body, charset="utf-8", cte="quoted-printable")
        msg["Content-Language"] = ", ".join(self.languages)
        return msg


def render_acknowledgement(
    ctx: ReplyContext, incoming: ParsedMessage, *, now: datetime | None = None
) -> EmailMessage:
    """The acknowledgement for one incoming message (text/plain, utf-8)."""
    return build_acknowledgement(ctx, incoming, now=now).message


def build_acknowledgement(
    ctx: ReplyContext, incoming: ParsedMessage, *, now: datetime | None = None
) -> RenderedReply:
    """The acknowledgement, serialised once and checked, ready for the outbox.

    Raises ValueError when the incoming sender gives no usable reply address.
    """
    recipient = usable_address(incoming.from_address)
    if recipient is None:
        raise ValueError("the incoming message has no usable sender address to reply to")
    languages = reply_languages(ctx.language, ctx.mailbox.reply_languages)
    words = {lang: words_for(lang) for lang in languages}
    body = join_sections([_render_section(ctx, lang, words[lang]) for lang in languages],
                         languages)
    return compose_reply(
        ctx.mailbox,
        to_name=incoming.from_name,
        to_address=recipient,
        subject=subject_line(ctx.reference, [words[lang]["subject"] for lang in languages],
                             incoming.subject),
        body=body,
        languages=languages,
        parent_id=incoming.message_id,
        references=incoming.references,
        now=now,
    )


def join_sections(sections: Sequence[str], languages: Sequence[str]) -> str:
    """One body from one section per language: first language first, a notice that the others
    follow below, separators, long paragraphs wrapped."""
    parts = list(sections)
    if len(languages) > 1:
        notices = "\n".join(words_for(lang)["notice_below"] for lang in languages[1:])
        parts[0] = f"{notices}\n\n{parts[0]}"
    return _reflow(_SEPARATOR.join(parts))


def compose_reply(
    mailbox: MailboxSettings,
    *,
    to_name: str,
    to_address: str,
    subject: str,
    body: str,
    languages: Sequence[str],
    parent_id: str | None,
    references: Sequence[str] = (),
    auto_submitted: str = "auto-replied",
    now: datetime | None = None,
) -> RenderedReply:
    """A text/plain reply from the mailbox with only allow-listed headers, serialised and checked.

    Untrusted values (names, subject) are cleaned; `parent_id` and `references` keep only
    well-formed Message-IDs. `auto_submitted` is "auto-replied" for replies to a message and
    "auto-generated" for notices a person's action caused (RFC 3834: both keep responders quiet).
    Raises ValueError when the recipient is not a usable address.
    """
    recipient = usable_address(to_address)
    if recipient is None:
        raise ValueError("no usable recipient address to reply to")
    if auto_submitted not in ("auto-replied", "auto-generated"):
        raise ValueError(f"Auto-Submitted {auto_submitted!r} is not a value we send")
    message_id = make_msgid(domain=mailbox.address.rpartition("@")[2])
    fields: list[_Field] = [
        ("From", (clean_header_text(mailbox.controller), mailbox.address)),
        ("To", (clean_header_text(to_name), recipient)),
        ("Subject", clean_header_text(subject)),
        ("Date", format_datetime((now or datetime.now(BRUSSELS)).astimezone(BRUSSELS))),
        ("Message-ID", message_id),
    ]
    parent = _msgid(parent_id)
    if parent:
        fields.append(("In-Reply-To", parent))
    chain = _references(references, parent)
    if chain:
        fields.append(("References", " ".join(chain)))
    fields += [
        ("Auto-Submitted", auto_submitted),
        ("X-Auto-Response-Suppress", "All"),
        ("X-Loop", mailbox.address),  # the guard recognises our own replies coming back
    ]
    body = mask_numbers(body)  # a number a person typed in a notice's reasons, too
    head = b"".join(_header_line(name, value) for name, value in fields)
    # set_content() writes the Content-* headers, then Content-Language follows.
    head += _TEXT_HEADERS + _header_line("Content-Language", ", ".join(languages))
    raw = _check_headers(head + b"\r\n" + _qp_body(body))
    return RenderedReply(raw, message_id, tuple(fields), body, tuple(languages))


# What EmailMessage.set_content(text, charset="utf-8", cte="quoted-printable") writes.
_TEXT_HEADERS = (
    b'Content-Type: text/plain; charset="utf-8"\r\n'
    b"Content-Transfer-Encoding: quoted-printable\r\nMIME-Version: 1.0\r\n"
)
_ATOMS_RE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOT_ATOM_RE = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
)
_NEWLINES_RE = re.compile(r"\r\n|\r|\n")
_WIRE_MAX = SMTP.max_line_length


def usable_address(address: str) -> str | None:
    """The address to reply to, or None: plain ASCII as it is; an internationalised domain with
    an ASCII local part in its ASCII (IDNA) form; a UTF-8 local part as UTF-8 (RFC 6532, sent
    with SMTPUTF8)."""
    address = unicodedata.normalize("NFC", (address or "").strip())
    if _ADDR_RE.match(address):
        return address
    if not _UTF8_ADDR_RE.match(address) or not address.isprintable():
        return None
    local, _, domain = address.rpartition("@")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if local.isascii():
        candidate = f"{local}@{ascii_domain}"
        return candidate if _ADDR_RE.match(candidate) else None
    return address


def needs_smtputf8(address: str) -> bool:
    """Whether replying to this address needs an SMTP server that offers SMTPUTF8."""
    return not address.isascii()


def _utf8_address_line(name: str, display_name: str, addr_spec: str) -> bytes:
    """An address field holding a UTF-8 addr-spec (RFC 6532): UTF-8 as it is, name quoted."""
    if display_name:
        quoted = display_name.replace("\\", "\\\\").replace('"', '\\"')
        return f'{name}: "{quoted}" <{addr_spec}>\r\n'.encode()
    return f"{name}: {addr_spec}\r\n".encode()


def _header_line(name: str, value: str | tuple[str, str]) -> bytes:
    """One header field exactly as EmailMessage(policy=SMTP).as_bytes() writes it, CRLF included.

    Short printable ASCII values need neither encoding nor folding, so they are written as they
    are; anything else goes through the email package's header registry, as before.
    """
    if isinstance(value, tuple) and not value[1].isascii():
        return _utf8_address_line(name, *value)
    if isinstance(value, tuple):
        value = _address(*value)
    if (
        isinstance(value, str)
        and value
        and value.isascii()
        and value.isprintable()
        and value == value.strip()
        and "  " not in value
        and "=?" not in value
        and len(name) + 2 + len(value) <= _WIRE_MAX
    ):
        return f"{name}: {value}\r\n".encode("ascii")
    return SMTP.fold_binary(*SMTP.header_store_parse(name, value))


def _address(display_name: str, addr_spec: str) -> str | Address:
    """"Name <addr>" when neither part needs quoting or encoding, else an Address.

    Address() checks the address as it always did (the same ValueError for a bad one); a plain
    dot-atom address and a name of plain words pass that check and print as they are.
    """
    if _DOT_ATOM_RE.fullmatch(addr_spec) and (
        not display_name or _ATOMS_RE.fullmatch(display_name)
    ):
        return f"{display_name} <{addr_spec}>" if display_name else addr_spec
    return Address(display_name=display_name, addr_spec=addr_spec)


def _qp_body(text: str) -> bytes:
    """The text as utf-8 quoted-printable with CRLF line ends, as set_content + as_bytes give."""
    lines = text.encode("utf-8").splitlines()
    encoded = quoprimime.body_encode((b"\n".join(lines) + b"\n").decode("latin-1"), _WIRE_MAX)
    parts = _NEWLINES_RE.split(encoded)
    wire = "\r\n".join(parts[:-1]) + ("\r\n" if len(parts) > 1 else "") + parts[-1]
    return wire.encode("ascii")


def clean_header_text(value: str) -> str:
    """One harmless line from untrusted text: encoded words decoded, control characters gone."""
    text = value or ""
    for _ in range(3):  # encoded words can hide further encoded words
        if "=?" not in text:  # none left to decode
            break
        try:
            decoded = str(make_header(decode_header(text)))
        except (HeaderParseError, LookupError, UnicodeError, ValueError):
            break
        if decoded == text:
            break
        text = decoded
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )
    # Whatever still looks like an encoded word must not be decoded by the header parser.
    text = text.replace("=?", "= ?")
    # A national number in an echoed subject or name is masked like everything we keep.
    return mask_numbers(re.sub(r"\s+", " ", text).strip())


def format_long_date(day: date, language: str) -> str:
    """A date written out in the language: "7 april 2026", "1er avril 2026", "7. April 2026"."""
    words = words_for(language)
    day_text = words.get("day_one", "1") if day.day == 1 else str(day.day)
    return words["date"].format(day=day_text, month=words["months"][day.month - 1], year=day.year)


def join_words(items: Sequence[str], language: str) -> str:
    """"a, b en c" in the language."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {words_for(language)['and']} {items[-1]}"


def _render_section(ctx: ReplyContext, language: str, words: Mapping[str, Any]) -> str:
    received = ctx.received if ctx.received.tzinfo else ctx.received.replace(tzinfo=BRUSSELS)
    received = received.astimezone(BRUSSELS)
    env = template_environment()
    identity = env.select_template(
        [f"{language}/identity-{ctx.mailbox.key}.txt", f"{language}/identity.txt"]
    )
    right_words = [words["rights"].get(right, right) for right in ctx.rights]
    values = {
        "language": language,
        "reference": ctx.reference,
        "controller": ctx.mailbox.controller,
        "mailbox_key": ctx.mailbox.key,
        "address": ctx.mailbox.address,
        "dpo_contact": ctx.mailbox.dpo_contact or ctx.mailbox.address,
        "vtc_url": VTC_URL,
        "received_date": format_long_date(received.date(), language),
        "received_time": words["time"].format(hour=f"{received.hour:02d}",
                                              minute=f"{received.minute:02d}"),
        "due_date": format_long_date(ctx.due, language) if ctx.due else None,
        "service_days": ctx.service_days or ctx.mailbox.question_service_days,
        "rights": join_words(right_words, language) if right_words else words["rights_none"],
        "identity_needed": ctx.identity_needed,
        "identity_template": identity,
        "days_left": ctx.days_left_when_suspended,
    }
    text = env.get_template(f"{language}/{ctx.kind}.txt").render(values)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@cache
def template_environment() -> jinja2.Environment:
    """The Jinja2 environment over templates/ (plain text; an unknown variable is an error)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("intake.outbound", "templates"),
        auto_reload=False,  # package files, read once like words.yaml: no stat() per render
        autoescape=False,  # plain text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,  # an included file ends its paragraph
    )


@cache
def words_for(language: str) -> Mapping[str, Any]:
    """The words.yaml of one language: subject labels, month names, rights in words."""
    if language not in LANGUAGES:
        raise ValueError(f"no templates for language {language!r}")
    path = resources.files("intake.outbound") / "templates" / language / "words.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def subject_line(reference: str, labels: Sequence[str], original: str) -> str:
    """"[REF] Label / Label: original subject", the original cleaned and shortened."""
    original = clean_header_text(original)
    if len(original) > SUBJECT_MAX:
        original = original[: SUBJECT_MAX - 1].rstrip() + "…"
    prefix = f"[{reference}] {' / '.join(labels)}"
    return f"{prefix}: {original}" if original else prefix


def _msgid(value: str | None) -> str | None:
    found = MSGID_RE.fullmatch((value or "").strip())
    return found.group(0) if found else None


def _references(previous: Sequence[str], parent: str | None) -> list[str]:
    chain = [ref for ref in (_msgid(r) for r in previous) if ref]
    if parent:
        chain.append(parent)
    chain = list(dict.fromkeys(chain))
    if len(chain) > MAX_REFERENCES:  # keep the thread root and the most recent ones (RFC 5322)
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1):]]
    return chain


def _reflow(text: str) -> str:
    """Keep the template's line breaks, except in a paragraph that a value made too long."""
    blocks = []
    for block in text.split("\n\n"):
        lines = block.split("\n")
        if all(len(line) <= LINE_MAX for line in lines):
            blocks.append(block)
        elif any(line.startswith(("- ", " ")) for line in lines):  # a list: wrap item by item
            blocks.append("\n".join(
                textwrap.fill(line, LINE_MAX, subsequent_indent="  ", break_long_words=False,
                              break_on_hyphens=False) for line in lines
            ))
        else:
            blocks.append(textwrap.fill(" ".join(lines), LINE_MAX, break_long_words=False,
                                        break_on_hyphens=False))
    return "\n\n".join(blocks) + "\n"


def header_names(head: bytes) -> set[str]:
    """The lower-case names of the header fields in a serialised header block."""
    return {
        line.split(b":", 1)[0].decode("ascii", "replace").lower()
        for line in head.split(b"\r\n")
        if line[:1] not in (b" ", b"\t")
    }


def _check_headers(raw: bytes) -> bytes:
    """Last line of defence: the serialised header block holds exactly the headers we set.

    Returns the serialised message unchanged.
    """
    head = raw.split(b"\r\n\r\n", 1)[0]
    names = header_names(head)
    bare = head.replace(b"\r\n", b"")
    if not names <= _HEADERS or b"\n" in bare or b"\r" in bare:
        raise ValueError("refusing to build a reply whose headers were tampered with")
    return raw
