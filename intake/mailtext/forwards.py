"""Forwarded mail: where the forwarded message starts in a body, and its header block removed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from intake.mailtext.replies import first_quote

# Markers that only a forward writes (nl/en/fr/de; Gmail, Thunderbird, Apple Mail).
_MARKER = re.compile(
    r"^[> \t]*(?:-{2,}\s*(?:Doorgestuurd bericht|Forwarded message|Message transféré"
    r"|Weitergeleitete Nachricht)\s*-{2,}"
    r"|Begin (?:forwarded message|doorgestuurd bericht)\s*:"
    r"|Début du message (?:réexpédié|transféré)\s*:"
    r"|Anfang der weitergeleiteten Nachricht\s*:)[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
# FW:, Fwd:, Doorst: (Outlook nl), TR: (fr), WG: (de), possibly after Re:/Antw:/AW:.
_SUBJECT = re.compile(r"^\s*(?:(?:re|antw|aw|réf)\s*:\s*)*(?:fwd?|doorst|tr|wg)\s*:", re.IGNORECASE)
_HEADER_LINE = re.compile(
    r"^[>* \t]*(?:Van|Verzonden|Aan|Onderwerp|Datum|CC|Bcc|From|Sent|To|Subject|Date|Reply-To|De"
    r"|Envoy[ée]|[ÀA]|Objet|Von|Gesendet|An|Betreff|Kopie|Antwort an|Répondre à)[* \t]*:",
    re.IGNORECASE,
)
_ADDRESS_CONTINUATION = re.compile(r"^[^\s:]*@[^\s]+[>,;]*$|^<[^>]+>[,;]?$")
MAX_HEADER_LINES = 16


@dataclass(frozen=True)
class Forward:
    """A forwarded message inside a body: the forwarder's note and the forwarded text."""

    note: str
    content: str
    label: str


# The prefixes in front of a subject ("FW: FW: Re: …"), to count the forwards among them.
_PREFIXES = re.compile(r"^\s*(?:(?:re|antw|aw|réf|sv|fwd?|doorst|tr|wg)\s*:\s*)+", re.IGNORECASE)
_FORWARD_PREFIX = re.compile(r"(?:fwd?|doorst|tr|wg)\s*:", re.IGNORECASE)


def is_forward_subject(subject: str) -> bool:
    return bool(_SUBJECT.match(subject))


def forwards_in_subject(subject: str) -> int:
    """How many times the subject says the message was forwarded: "FW: FW: x" -> 2."""
    prefixes = _PREFIXES.match(subject)
    return len(_FORWARD_PREFIX.findall(prefixes.group(0))) if prefixes else 0


def split_forward(text: str, subject: str) -> Forward | None:
    """The forward in normalised text, if a forward marker (or a FW: subject and a quoted
    header block) announces one; None when the body forwards nothing."""
    marker = _MARKER.search(text)
    if marker:
        label = f"forwarded message ({marker.group(0).strip('> -:')})"
        note, rest = text[: marker.start()], text[marker.end() :]
    elif is_forward_subject(subject):
        quote = first_quote(text)
        if quote is None:
            return None
        label = f"forwarded message (subject {subject.split(':', 1)[0].strip()}:, {quote.label})"
        note, rest = text[: quote.start], text[quote.start :]
    else:
        return None
    return Forward(note=note.strip(), content=drop_header_block(rest), label=label)


def drop_header_block(text: str) -> str:
    """The forwarded text without the From/Date/Subject/To lines (and the separator) on top."""
    lines = text.strip().split("\n")
    index, seen = 0, 0
    while index < len(lines) and index < MAX_HEADER_LINES:
        line = lines[index].strip()
        if _HEADER_LINE.match(line):
            seen += 1
        elif not (re.fullmatch(r"[_\-=*]{10,}|-{2,}.*-{2,}", line) or not line
                  or (seen and _ADDRESS_CONTINUATION.match(line))):
            break
        index += 1
    text = "\n".join(lines[index:]) if seen else text
    return unquote(text).strip()


def unquote(text: str) -> str:
    """One level of "> " removed when (nearly) every line of the text is quoted."""
    lines = [line for line in text.split("\n") if line.strip()]
    quoted = sum(line.startswith(">") for line in lines)
    if not lines or quoted < 0.8 * len(lines):
        return text
    return "\n".join(re.sub(r"^> ?", "", line) for line in text.split("\n"))
