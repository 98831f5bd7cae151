"""What the requester wrote: the text the classifier reads, without quoted history or clutter.

A reply loses its quoted thread, signature and disclaimer; a forward is judged by the message it
forwards; a body that only says "zie bijlage" is replaced by the attached PDF or DOCX letter.
Pure and bounded: no network, capped text and pages, and it never raises.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from intake.mailtext.forms import drop_unticked
from intake.mailtext.forwards import drop_header_block, forwards_in_subject, split_forward
from intake.mailtext.letters import LetterText, OcrFunction, letter_kind, read_letter
from intake.mailtext.replies import (
    cut_quote,
    drop_quoted_lines,
    normalise,
    strip_disclaimers,
    strip_signature,
)
from intake.message import Attachment, MessageParseError, ParsedMessage, parse_message

log = logging.getLogger(__name__)

MAX_CHARS = 20_000  # what the classifier gets (it reads no more either)
MAX_INPUT_CHARS = 25_000  # what the patterns look at: beyond it the text would be cut anyway
MAX_LETTERS = 3
MAX_ATTACHED_MESSAGE_BYTES = 10 * 1024 * 1024
COVERING_NOTE_WORDS = 30
MAX_NESTED_FORWARDS = 3  # a forward of a forward of a forward is read through, no deeper

SOURCES = ("body", "forwarded", "attachment", "empty")

_REPLY_SUBJECT = re.compile(r"^\s*(?:re|antw|aw|réf|sv)\s*:", re.IGNORECASE)
# Words by which a writer points at what follows: "ik plak ze hieronder", "see below".
_POINTS_BELOW = re.compile(
    r"\b(?:hieronder|onderstaande?|below|underneath|ci-dessous|ci-apr[eè]s|unten"
    r"|untenstehende[nmrs]?|nachstehende[nmrs]?)\b",
    re.IGNORECASE,
)
_QUOTE_MARK = re.compile(r"^>[ \t]?", re.MULTILINE)
_MENTIONS_ATTACHMENT = re.compile(
    r"\b(?:bijlage|bijgevoegd|attach\w*|enclosed|pièces?\s+jointes?|ci-joint|en\s+annexe|pj"
    r"|anhang|anbei|beigefügt|anlage)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RequesterText:
    """The text to classify, where it came from, and short notes for the triage explanation."""

    text: str
    source: str  # one of SOURCES
    notes: tuple[str, ...] = ()


LetterReader = Callable[[Attachment], LetterText]


def requester_text(msg: ParsedMessage, ocr: OcrFunction | None = None,
                   reader: LetterReader | None = None) -> RequesterText:
    """What the requester wrote in `msg`. `ocr` reads a scanned PDF letter (bytes -> text) when
    given; without it such a letter is only noted. `reader` replaces the whole reading of an
    attached letter (the triage passes one that reads it in the sandbox)."""
    try:
        return _requester_text(msg, ocr, reader)
    except Exception as exc:  # a bug here must not cost the message its triage
        log.warning("requester text failed",
                    extra={"message_id": msg.message_id, "error": type(exc).__name__})
        text = msg.text[:MAX_CHARS]
        note = f"extraction failed ({type(exc).__name__}); whole body used"
        return RequesterText(text, "body" if text.strip() else "empty", (note,))


def _requester_text(msg: ParsedMessage, ocr: OcrFunction | None,
                    reader: LetterReader | None = None) -> RequesterText:
    notes: list[str] = []
    body = _bounded(msg.text, notes)

    source, text = "body", ""
    attached = _attached_message(msg, notes)
    if attached is not None:
        inner = _bounded(attached.text, [])
        # mail-parser puts the attached message's text into the body too: take it out again.
        own = _bounded(msg.text.replace(attached.text, "", 1) if attached.text else msg.text, [])
        # The attached message may itself forward the request ("FW: FW: …" passed from desk to
        # desk): its forwarded content is read, not cut as a quoted reply.
        inner_text, _ = _own_or_forwarded(inner, attached.subject, _is_reply(attached), notes)
        text = _with_note(inner_text, _clean(own, False, []))
        notes.append("forwarded message (attached message/rfc822): classified the forwarded "
                     "content" + _plus_note(own))
        source = "forwarded"
    else:
        text, forwarded = _own_or_forwarded(body, msg.subject, _is_reply(msg), notes)
        if forwarded or (notes and notes[-1].startswith("nothing above")):
            source = "forwarded"

    if _is_covering_note(text):
        letters = _letters(msg, ocr, notes, reader)
        if letters:
            text = _with_note(letters, text)
            source = "attachment"
    text, unticked = drop_unticked(text)
    if unticked:
        notes.append(f"form: {unticked} unticked box line(s) left out (only the ticked count)")
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
        notes.append(f"text cut at {MAX_CHARS} characters")
    if not text.strip():
        source = "empty"
    return RequesterText(text, source, tuple(notes))


def _own_or_forwarded(body: str, subject: str, reply: bool, notes: list[str], depth: int = 0
                      ) -> tuple[str, bool]:
    """The text to classify in one message's body, and whether it forwards a message: the
    forwarded content with the forwarder's note when it does, else the body without quotes.

    A forward of a forward ("FW: FW: …", or a second forward marker in the content) is read
    through to the innermost message, at most MAX_NESTED_FORWARDS deep; each level only looks
    at what the level above left, so the work stays linear in the text."""
    forward = split_forward(body, subject)
    if forward is None:
        return _clean(body, reply, notes), False
    note = _clean(forward.note, False, [])
    if depth < MAX_NESTED_FORWARDS:
        # The subject vouches for one forward less at the next level; markers always count.
        inner_subject = "FW: " * max(0, forwards_in_subject(subject) - 1)
        content, _ = _own_or_forwarded(forward.content, inner_subject, False, notes, depth + 1)
    else:
        content = _clean(forward.content, False, notes)
    text = _with_note(content, note)
    notes.append(f"{forward.label}: classified the forwarded content" + _plus_note(note))
    return text, True


def _bounded(text: str, notes: list[str]) -> str:
    if len(text) > MAX_INPUT_CHARS:
        text = text[:MAX_INPUT_CHARS]
        notes.append(f"body cut at {MAX_INPUT_CHARS} characters")
    return normalise(text)


def _clean(text: str, reply: bool, notes: list[str], depth: int = 0) -> str:
    """The writer's own words in normalised text; what was removed goes into notes."""
    top, quote = cut_quote(text)
    if quote is not None and not reply and not depth and _introduces(top):
        # "Here is the mail I got:" over a header block: the writer shows a message and often
        # writes on below it; a reply's own text does not end by announcing the quote.
        notes.append(f"pasted message below an introduction ({quote.label}): classified both")
        pasted = _clean(drop_header_block(text[quote.start :]), False, notes, depth + 1)
        return f"{_clean(top, False, [], depth + 1)}\n\n{pasted}".strip()
    if quote is not None:
        below = _below_the_quote(text[quote.start :]) if reply and not top and not depth else ""
        if below:
            # Bottom-posted: the earlier mail quoted first, the answer typed under it.
            notes.append(f"text below the quoted message ({quote.label}): classified it")
            return _clean(below, reply, notes, depth + 1)
        if top or reply or depth:
            notes.append(f"quoted reply removed ({quote.label})"
                         + ("" if top else "; no text of its own above it"))
        else:  # not a reply and nothing above the header: a pasted or forwarded message
            notes.append(f"nothing above the quoted message ({quote.label}): classified it")
            return _clean(drop_header_block(text[quote.start :]), False, notes, depth + 1)
    kept, quoted = drop_quoted_lines(top)
    if quoted and not reply and not depth and _POINTS_BELOW.search(kept):
        # "Doorgestuurd door de webcare, zie hieronder." over "> " lines: what is shown counts.
        top = _QUOTE_MARK.sub("", top)
        notes.append("quoted lines read: the text above points at them (>)")
    elif quoted:
        top = kept
        notes.append("quoted lines removed (>)")
    top, removed = strip_disclaimers(top)
    if removed:
        notes.append("disclaimer removed")
    top, removed = strip_signature(top)
    if removed:
        notes.append("signature removed")
    return top.strip()


def _below_the_quote(quoted: str) -> str:
    """A bottom-posted reply's own text: what follows the ">" lines under the attribution line
    ("Op … schreef …:", possibly wrapped over two lines) at the start of `quoted`; empty when
    the quote is not a ">" block or nothing follows it."""
    lines = quoted.split("\n")
    index = 1
    while index < min(len(lines), 3) and not lines[index].startswith(">"):
        index += 1  # the attribution's second line, or a blank line
    seen = False
    while index < len(lines) and (lines[index].startswith(">") or not lines[index]):
        seen = seen or lines[index].startswith(">")
        index += 1
    return "\n".join(lines[index:]).strip() if seen else ""


def _attached_message(msg: ParsedMessage, notes: list[str]) -> ParsedMessage | None:
    for attachment in msg.attachments:
        if attachment.content_type != "message/rfc822":
            continue
        if attachment.size > MAX_ATTACHED_MESSAGE_BYTES:
            notes.append("attached message too large to read")
            return None
        try:
            return parse_message(attachment.payload)
        except MessageParseError as exc:
            notes.append(f"attached message unreadable ({exc})"[:120])
            return None
    return None


def _letters(msg: ParsedMessage, ocr: OcrFunction | None, notes: list[str],
             reader: LetterReader | None = None) -> str:
    texts: list[str] = []
    candidates = [a for a in msg.attachments if letter_kind(a)][:MAX_LETTERS]
    for attachment in candidates:
        letter = reader(attachment) if reader else read_letter(attachment, ocr)
        notes.append(letter.note)
        if letter.text.strip():
            texts.append(normalise(letter.text))
    return "\n\n".join(texts)


def _is_reply(msg: ParsedMessage) -> bool:
    return bool(_REPLY_SUBJECT.match(msg.subject) or msg.in_reply_to or msg.references)


def _introduces(top: str) -> bool:
    """The writer's text announces what follows: it ends with a colon ("Hier mijn mail van
    toen:") or points below ("Ik plak ze hieronder nog eens.")."""
    lines = [line for line in top.split("\n") if line.strip()]
    return bool(lines) and (lines[-1].rstrip().endswith(":") or bool(_POINTS_BELOW.search(top)))


def _is_covering_note(text: str) -> bool:
    """Empty, or a few words that point at an attachment ("zie bijlage", "see attached")."""
    words = re.findall(r"\w+", text)
    return not words or (
        len(words) <= COVERING_NOTE_WORDS and bool(_MENTIONS_ATTACHMENT.search(text))
    )


def _says_something(text: str) -> bool:
    """More than a greeting or "ter info": at least five words in lines of three or more."""
    counts = [len(re.findall(r"\w+", line)) for line in text.split("\n")]
    return sum(n for n in counts if n >= 3) >= 5


def _with_note(main: str, note: str) -> str:
    return f"{main}\n\n{note}".strip() if _says_something(note) else main


def _plus_note(note: str) -> str:
    return " and the note above it" if _says_something(note) else ""
