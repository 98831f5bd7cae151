"""Guard stage: recognise mail that must never be answered (auto-replies, bounces, lists, loops).

Signals follow RFC 3834 (automatic responses), RFC 3464 / RFC 6522 (delivery status reports),
RFC 2369 / RFC 2919 (list headers) and the habits of common clients (Exchange, Outlook, Gmail,
Postfix). Every signal that fires is listed in the verdict, so a decision explains itself.
The word lists are module constants: extend them, the patterns are built from them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message
from email.utils import getaddresses

from intake.message import ParsedMessage

log = logging.getLogger(__name__)

AUTO_REPLY = "auto_reply"
BOUNCE = "bounce"
BULK = "bulk"
LOOP = "loop"
PRECEDENCE = (BOUNCE, AUTO_REPLY, BULK, LOOP)  # the first kind that has a signal wins

# Outgoing replies should carry these naming the mailbox address; seeing one back is a loop.
LOOP_HEADERS = ("x-loop", "x-dpo-intake")

# RFC 3834 and vendor headers whose mere presence marks an automatic answer.
AUTO_REPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-autoreply-from", "x-mail-autoreply")
# X-Auto-Response-Suppress values that Exchange puts on its own automatic messages.
AUTO_RESPONSE_SUPPRESS_VALUES = frozenset({"all", "oof", "autoreply"})
PRECEDENCE_KINDS = {"auto_reply": AUTO_REPLY, "bulk": BULK, "list": BULK, "junk": BULK}
LIST_HEADERS = ("list-id", "list-unsubscribe", "list-post", "list-help", "list-subscribe",
                "list-owner", "list-archive")

# Out-of-office subject prefixes. STRONG ones may be followed by anything; WEAK ones are
# ordinary words ("Absence de réponse", "Abwesend seit...") and count only when the subject
# is the word alone or the word followed by ':' / '-' / '(' (how auto-responders build it).
OOO_SUBJECTS_STRONG: dict[str, tuple[str, ...]] = {
    "nl": ("automatisch antwoord", "automatische reactie", "automatisch bericht",
           "afwezigheidsmelding", "afwezigheidsbericht"),
    "fr": ("réponse automatique", "message d'absence", "message automatique",
           "absent du bureau", "absente du bureau", "absent(e) du bureau"),
    "en": ("out of office", "out of the office", "automatic reply", "auto-reply", "autoreply",
           "auto reply", "auto response", "auto-response", "automatic response"),
    "de": ("abwesenheitsnotiz", "automatische antwort", "abwesenheitsnachricht",
           "automatische abwesenheitsnachricht", "nicht im büro"),
}
OOO_SUBJECTS_WEAK: dict[str, tuple[str, ...]] = {
    "nl": ("afwezig", "niet aanwezig", "met verlof", "vakantie"),
    "fr": ("absence", "absent", "absente", "en congé"),
    "en": ("away", "on leave", "on vacation", "on holiday"),
    "de": ("abwesend", "abwesenheit", "im urlaub", "urlaub"),
}
# First-line patterns (regular expressions, matched case-insensitively at the start of the
# body's first non-empty lines). Kept strict: "Ik ben afwezig geweest..." must not match.
OOO_FIRST_LINES: dict[str, tuple[str, ...]] = {
    "nl": (r"dit is een automatisch(e)? (antwoord|bericht|reactie)",
           r"ik ben (momenteel |tijdelijk |vandaag )?(afwezig|niet aanwezig|niet op kantoor|"
           r"met verlof)( en| tot| t/m| van| vanaf|[.,])"),
    "fr": (r"ceci est une? (réponse|message) automatique",
           r"je suis (actuellement )?(absente?|en congé)( du bureau| jusqu| et|[.,])"),
    "en": (r"this is an? (automatic|automated|auto-?generated) (reply|response|message)",
           r"i am (currently )?(out of (the )?office|away|on leave|on holiday|on vacation)"
           r"( until| till| from| and|[.,])",
           r"i'm (currently )?(out of (the )?office|away)( until| till| from| and|[.,])"),
    "de": (r"dies ist eine automatische (antwort|nachricht|abwesenheitsnotiz)",
           r"ich bin (derzeit |zurzeit |momentan )?(nicht im büro|abwesend|im urlaub)"
           r"( bis| vom| und|[.,])",
           r"ich bin (vom .{1,30}? )?bis .{1,40}? (nicht im büro|abwesend|im urlaub)\b"),
}
FIRST_LINES_SCANNED = 2

# Bounces: sender local parts, sender names and subject prefixes of delivery failures.
BOUNCE_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster", "mail-daemon"})
BOUNCE_SENDER_NAMES = ("mail delivery system", "mail delivery subsystem")
BOUNCE_SUBJECTS = (
    "undeliverable:", "undelivered mail", "delivery status notification",
    "mail delivery failed", "returned mail:", "delivery failure", "failure notice",
    "onbestelbaar:", "niet bezorgd:", "non remis :", "non remis:", "non distribuable",
    "unzustellbar:", "nicht zustellbar",
)

# Senders that say in their address that they read nothing.
NO_REPLY_LOCAL_PARTS = re.compile(r"^(no-?reply|do-?not-?reply|noreply-[\w.-]+)$", re.I)

_ADDRESS_RE = re.compile(r"^[^@\s<>()\[\],;:\"]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
                         r"(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$", re.I)
# "Re:", "AW:", "[EXTERNAL]" and similar in front of an auto-responder's subject.
_SUBJECT_LEAD = r"^\s*(?:(?:re|aw|antw|sv)\s*:\s*|\[[^\]]{1,20}\]\s*)*"


def _alternation(phrases: Iterable[str]) -> str:
    ordered = sorted(set(phrases), key=len, reverse=True)  # longest first: "out of the office"
    return "|".join(re.escape(p) for p in ordered)


_OOO_SUBJECT_RES = {
    lang: re.compile(
        _SUBJECT_LEAD + r"(?:(?:" + _alternation(OOO_SUBJECTS_STRONG.get(lang, ())) + r")\b"
        r"|(?:" + _alternation(OOO_SUBJECTS_WEAK.get(lang, ())) + r")\s*(?:$|[:(\-–—]))",
        re.I,
    )
    for lang in sorted(set(OOO_SUBJECTS_STRONG) | set(OOO_SUBJECTS_WEAK))
}
_OOO_FIRST_LINE_RES = {
    lang: re.compile(r"^\s*(?:" + "|".join(patterns) + ")", re.I)
    for lang, patterns in OOO_FIRST_LINES.items()
}
_BOUNCE_SUBJECT_RE = re.compile(r"^\s*(?:" + _alternation(BOUNCE_SUBJECTS) + ")", re.I)


@dataclass(frozen=True)
class GuardVerdict:
    """Whether a machine or a list sent this, and why; kind None means a person wrote it."""

    kind: str | None  # "auto_reply" | "bounce" | "bulk" | "loop" | None
    reasons: tuple[str, ...]
    sender_usable: bool = True
    # A list or tracker post: bulk by its list headers alone (see _list_post); what a person
    # posted may be a request to us.
    list_post: bool = False

    @property
    def may_reply(self) -> bool:
        """True only for mail from a person with an address we can answer."""
        return self.kind is None and self.sender_usable


def check_guard(msg: ParsedMessage, own_addresses: Collection[str]) -> GuardVerdict:
    """Look at the headers (and the first lines) of msg; never raises on odd input."""
    own = frozenset(a.strip().lower() for a in own_addresses if a and a.strip())
    hits: dict[str, list[str]] = {kind: [] for kind in PRECEDENCE}
    hits[BOUNCE] += _bounce_signals(msg)
    hits[AUTO_REPLY] += _auto_reply_signals(msg)
    hits[BULK] += _bulk_signals(msg)
    hits[LOOP] += _loop_signals(msg, own)

    null_sender = _null_return_path(msg)
    if null_sender:
        # RFC 3834 asks auto-responders to send with a null sender too (Exchange does), so a
        # null Return-Path makes a bounce only when nothing else names the kind.
        if hits[AUTO_REPLY] and not hits[BOUNCE]:
            hits[AUTO_REPLY].append(null_sender)
        else:
            hits[BOUNCE].append(null_sender)

    sender_problem = _sender_problem(msg.from_address)
    reasons = [reason for kind in PRECEDENCE for reason in hits[kind]]
    if sender_problem:
        reasons.append(sender_problem)
    kind = next((k for k in PRECEDENCE if hits[k]), None)
    if kind:
        log.debug("guard: %s %s (%d signals)", msg.message_id, kind, len(reasons))
    list_post = kind == BULK and not hits[LOOP] and _list_post(msg)
    return GuardVerdict(kind=kind, reasons=tuple(reasons), sender_usable=not sender_problem,
                        list_post=list_post)


def relays_a_person(msg: ParsedMessage, verdict: GuardVerdict) -> bool:
    """An automated sender that is not answering anything: a web form or ticket system passing
    on what a person wrote (Auto-Submitted: auto-generated, no In-Reply-To), or a mailing list
    or issue tracker passing on what a person posted (`GuardVerdict.list_post`). Auto-replies,
    bounces and newsletters are never taken for it."""
    if verdict.list_post:
        return True
    if verdict.kind != AUTO_REPLY or msg.in_reply_to:
        return False
    tokens = [v.split(";", 1)[0].strip().lower() for v in msg.header_values("auto-submitted")]
    return bool(tokens) and all(t == "auto-generated" for t in tokens)


def _bounce_signals(msg: ParsedMessage) -> list[str]:
    found = []
    content_type = _content_type_header(msg)
    if content_type.get_content_type() == "multipart/report":
        report_type = str(content_type.get_param("report-type") or "").lower()
        if report_type == "delivery-status":
            found.append("Content-Type: multipart/report; report-type=delivery-status")
    if _has_delivery_status_part(msg):
        found.append("has a message/delivery-status part")
    local, _, _ = msg.from_address.partition("@")
    if local.lower() in BOUNCE_LOCAL_PARTS:
        found.append(f"From is {local.upper()}")
    elif msg.from_name.strip().lower() in BOUNCE_SENDER_NAMES:
        found.append(f"From name is {msg.from_name.strip()!r}")
    if _BOUNCE_SUBJECT_RE.search(msg.subject):
        found.append("subject looks like a delivery failure")
    return found


def _auto_reply_signals(msg: ParsedMessage) -> list[str]:
    found = []
    for value in msg.header_values("auto-submitted"):
        token = value.split(";", 1)[0].strip().lower()
        if token and token != "no":
            found.append(f"Auto-Submitted: {token}")
    for name in AUTO_REPLY_HEADERS:
        for value in msg.header_values(name):
            if value.strip().lower() not in ("no", "false", "0"):
                found.append(f"{_canonical(name)}: {value.strip()[:40]}")
    for value in msg.header_values("x-auto-response-suppress"):
        tokens = {t.strip().lower() for t in re.split(r"[,\s]+", value) if t.strip()}
        if tokens & AUTO_RESPONSE_SUPPRESS_VALUES:
            found.append(f"X-Auto-Response-Suppress: {value.strip()[:40]}")
    for value in msg.header_values("precedence"):
        if PRECEDENCE_KINDS.get(value.strip().lower()) == AUTO_REPLY:
            found.append(f"Precedence: {value.strip().lower()}")
    content_type = _content_type_header(msg)
    if (content_type.get_content_type() == "multipart/report"
            and str(content_type.get_param("report-type") or "").lower()
            == "disposition-notification"):
        found.append("read receipt (multipart/report; report-type=disposition-notification)")
    for lang, pattern in _OOO_SUBJECT_RES.items():
        if pattern.search(msg.subject):
            found.append(f"subject looks like out-of-office ({lang})")
            break
    first_lines = [line.strip() for line in msg.text.splitlines() if line.strip()]
    for line in first_lines[:FIRST_LINES_SCANNED]:
        lang = next((lg for lg, rx in _OOO_FIRST_LINE_RES.items() if rx.search(line)), None)
        if lang:
            found.append(f"first line looks like out-of-office ({lang})")
            break
    return found


def _list_post(msg: ParsedMessage) -> bool:
    """A post that a mailing list or an issue tracker passes on (List-Id names the list), not a
    mass mailing: newsletters and campaigns say `Precedence: bulk` (or junk) and lists say
    `list`, where they say anything. Such a post is a person's words: an issue opened on the
    open data portal's tracker that the DPO mailbox follows can be a request."""
    if not msg.header_values("list-id"):
        return False
    return all(value.strip().lower() not in ("bulk", "junk")
               for value in msg.header_values("precedence"))


def _bulk_signals(msg: ParsedMessage) -> list[str]:
    found = []
    for value in msg.header_values("precedence"):
        if PRECEDENCE_KINDS.get(value.strip().lower()) == BULK:
            found.append(f"Precedence: {value.strip().lower()}")
    found.extend(f"has {_canonical(name)}" for name in LIST_HEADERS if msg.header_values(name))
    return found


def own_address_key(address: str) -> str:
    """An address as a mailbox receives it: lower case, no "+tag", no trailing dot."""
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    local = local.split("+", 1)[0] if local else local
    return f"{local}@{domain.rstrip('.')}" if local else address.strip().lower()


def _own_from(msg: ParsedMessage, own: frozenset[str]) -> str | None:
    """Our own address among the From addresses (every one, every From header), if any.

    Mail from ourselves is never answered, whatever the other headers say: a reply would
    come back to us (a loop). "+tag" subaddresses and case are mailbox details, not people.
    """
    keys = {own_address_key(a) for a in own}
    values = [msg.from_address, *msg.header_values("from")]
    addresses = [addr for _, addr in getaddresses([v for v in values if v])] + [msg.from_address]
    for address in addresses:
        if address and "@" in address and own_address_key(address) in keys:
            return address.strip().lower()
    return None


def _loop_signals(msg: ParsedMessage, own: frozenset[str]) -> list[str]:
    found = []
    ours = _own_from(msg, own) if own else None
    if ours:
        found.append(f"From is our own address {ours}")
    for name in LOOP_HEADERS:
        for value in msg.header_values(name):
            named = {addr.lower() for _, addr in getaddresses([value]) if addr}
            if named & own:
                found.append(f"{_canonical(name)} names us")
                break
    return found


def _null_return_path(msg: ParsedMessage) -> str | None:
    for value in msg.header_values("return-path"):
        if value.replace(" ", "") in ("<>", ""):
            return "null Return-Path <>"
    return None


def _sender_problem(address: str) -> str | None:
    if not address:
        return "no sender address"
    if not _ADDRESS_RE.match(address):
        return "sender address is not usable"
    if NO_REPLY_LOCAL_PARTS.match(address.partition("@")[0]):
        return "sender is a no-reply address"
    return None


def _content_type_header(msg: ParsedMessage) -> Message:
    """The top-level Content-Type, parsed by the email package (parameters, quoting)."""
    holder = Message()
    holder["Content-Type"] = msg.header("content-type") or msg.content_type
    return holder


_DELIVERY_STATUS = re.compile(rb"(?i)message/(?:global-)?delivery-status")


def _has_delivery_status_part(msg: ParsedMessage) -> bool:
    """A message/delivery-status part directly inside the top-level multipart.

    Only direct children count: a person forwarding a bounce as an attachment (nested inside
    message/rfc822) is still a person.
    """
    if not msg.content_type.startswith("multipart/") or not _DELIVERY_STATUS.search(msg.raw):
        return False
    if msg.limit:  # too many MIME parts to walk (message.MAX_MIME_PARTS): not examined
        return False
    try:
        top = message_from_bytes(msg.raw, policy=email_policy.compat32)
        children = top.get_payload() if top.is_multipart() else []
    except Exception:  # hostile MIME: the other signals still decide
        log.debug("guard: could not walk the MIME tree of %s", msg.message_id)
        return False
    return any(isinstance(child, Message)
               and child.get_content_type() in ("message/delivery-status",
                                                "message/global-delivery-status")
               for child in children)


def _canonical(header: str) -> str:
    return "-".join(part.capitalize() for part in header.split("-")).replace("Id", "ID")
