"""The newest part of a reply: quoted history, signature and legal disclaimer cut off (nl/fr/en/de).

Quote headers come from mail-parser-reply's patterns first; the rules here add what it misses
(Gmail's "Op … schreef X <a@b>:", Apple's "het volgende geschreven", wrapped attribution lines,
"De:" without a space, "-----Oorspronkelijk bericht-----" and its French and German siblings).
Signatures and disclaimers are ours: the library cuts from any "Thanks," to the end of the mail
and so drops requests written after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailparser_reply.parser import EmailMessage

LANGUAGES = ("nl", "fr", "de", "en")

# The library compiles its header pattern per instance; one instance keeps it compiled.
_LIBRARY = EmailMessage(text="", languages=list(LANGUAGES))
_LIBRARY_HEADERS = _LIBRARY.HEADER_REGEX

_FROM_KEY = r"(?:Van|From|De|Von)"
_HEADER_KEYS = (
    r"(?:Van|Verzonden|Aan|Onderwerp|Datum|CC|Bcc|From|Sent|To|Subject|Date|Reply-To|De|Envoy[ée]"
    r"|[ÀA]|Objet|Von|Gesendet|An|Betreff|Kopie)"
)
# An Outlook-style header block: a From line, then at least one more header line.
_HEADER_BLOCK = re.compile(
    rf"^[>* \t]*{_FROM_KEY}[* \t]*:[^\n]*\n(?:[>* \t]*{_HEADER_KEYS}[* \t]*:[^\n]*\n?)+",
    re.MULTILINE | re.IGNORECASE,
)
# "Op … schreef …:" and friends: one line, or two when the mailer wrapped it (tried joined).
_OPENER_LINE = re.compile(r"^(?:> ?)*(?:Op|Le|Am|On)\s[^\n]*", re.MULTILINE | re.IGNORECASE)
_WROTE = re.compile(
    r"(?:> ?)*(?P<opener>Op|Le|Am|On)\s.{3,300}?\s"
    r"(?P<verb>het volgende geschreven|schreef|a\s+écrit|schrieb|wrote)\b.{0,200}?:[ \t]*$",
    re.IGNORECASE,
)
_WROTE_LABELS = {
    "op": "Op … schreef", "le": "Le … a écrit", "am": "Am … schrieb", "on": "On … wrote",
}
_SEPARATOR = re.compile(
    r"^[> \t]*-{2,}\s*(?:Original Message|Oorspronkelijk bericht|Origineel bericht"
    r"|Message d'origine|Ursprüngliche Nachricht)\s*-{2,}[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_QUOTED_LINE = re.compile(r"^>[^\n]*(?:\n|$)", re.MULTILINE)
_RULE_LINES = re.compile(r"(?:(?:^|\n)[ \t]*[_\-=*]{10,}[ \t]*)+\s*\Z")  # Outlook's ____

_CLOSING = re.compile(
    r"^(?:(?:met\s+)?(?:vriendelijke|hartelijke|beste|warme)\s+groet(?:en)?|groet(?:en|jes)?"
    r"|mvg|hoogachtend|met\s+(?:de\s+meeste\s+)?hoogachting|alvast\s+(?:hartelijk\s+)?bedankt"
    r"|(?:bien\s+)?cordialement|bien\s+à\s+vous|(?:meilleures|sincères)\s+salutations"
    r"|salutations(?:\s+distinguées)?|(?:veuillez|je\s+vous\s+prie\s+d)[^\n]{0,200}"
    r"(?:salutations|sentiments|considération)[^\n]{0,60}"
    r"|(?:kind|best|warm)\s+regards|regards|yours\s+(?:sincerely|faithfully|truly)|sincerely"
    r"|best\s+wishes|(?:many\s+)?thanks(?:\s+in\s+advance)?|thank\s+you"
    r"|mit\s+freundlichen\s+grüßen|(?:freundliche|viele|beste|herzliche|liebe)\s+grüße|mfg"
    r"|hochachtungsvoll)[\s,.!]*$",
    re.IGNORECASE,
)
_SIG_DASHES = re.compile(r"^--[ \t]*$", re.MULTILINE)
_DISCLAIMER = re.compile(
    r"^[* \t]*(?:"
    # nl
    r"(?:dit|deze)\s+(?:e-?mail)?(?:bericht|e-?mail)\b[^\n.]{0,100}?\b(?:is|zijn)\s+"
    r"(?:strikt\s+)?vertrouwelijk|de\s+informatie\s+(?:opgenomen\s+)?in\s+dit\s+(?:e-?mail)?bericht"
    r"|aan\s+(?:de\s+inhoud\s+van\s+)?dit\s+bericht\s+kunnen\s+geen\s+rechten"
    r"|disclaimer\s*:|vertrouwelijkheid\s*:"
    # en
    r"|this\s+(?:e-?mail|message|communication)\b[^\n.]{0,100}?\b(?:is|are|may\s+be|contains?)\b"
    r"[^\n.]{0,40}?(?:confidential|privileged)|the\s+information\s+(?:contained\s+)?in\s+this\s+"
    r"(?:e-?mail|message)|confidentiality\s+notice\s*:"
    # fr
    r"|ce\s+(?:message|courriel|e-?mail)\b[^\n.]{0,100}?\b(?:est|sont)\b[^\n.]{0,40}?confidenti"
    r"|les\s+informations\s+contenues\s+dans\s+ce\s+(?:message|courriel)|avertissement\s*:"
    r"|avis\s+de\s+confidentialité"
    # de
    r"|diese\s+(?:e-?mail|nachricht)\b[^\n.]{0,100}?\b(?:enthält|ist|sind)\b[^\n.]{0,40}?"
    r"vertraulich|der\s+inhalt\s+dieser\s+(?:e-?mail|nachricht)|haftungsausschluss\s*:"
    r"|vertraulichkeitshinweis\s*:"
    r")",
    re.MULTILINE | re.IGNORECASE,
)
# Lines a quote header can start with (attribution openers, header keys, separators).
_HEADER_START = re.compile(
    rf"^[>* \t]*(?:(?:Op|Le|Am|On)\s|{_HEADER_KEYS}[* \t]*:|-{{3,}})", re.IGNORECASE
)
_SKELETON_LINE_CHARS = 160
NAME_BLOCK_LINES = 8  # a signature's name, title, phone, address lines
_NAME_LINE_CHARS = 70


@dataclass(frozen=True)
class Quote:
    """Where the quoted history starts in a text, and what announced it."""

    start: int
    label: str


def normalise(text: str) -> str:
    """Unix newlines, no invisible padding around lines (the patterns match at line starts)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def first_quote(text: str) -> Quote | None:
    """The earliest quote header in normalised text, or None."""
    found: list[Quote] = []
    library = _library_header(text)
    if library:
        found.append(library)
    for pattern in (_SEPARATOR, _HEADER_BLOCK):
        match = pattern.search(text)
        if match:
            found.append(Quote(match.start(), _label(match.group(0))))
    wrote = _attribution_line(text)
    if wrote:
        found.append(wrote)
    return min(found, key=lambda q: q.start) if found else None


def _library_header(text: str) -> Quote | None:
    """mail-parser-reply's first quote header, run on a skeleton of the text: only the lines a
    header can start with, cut short, the others blank (same line numbers). Its patterns nest
    lazy quantifiers and take seconds on long crafted lines otherwise."""
    lines = text.split("\n")
    kept = [line[:_SKELETON_LINE_CHARS] if _HEADER_START.match(line) else "" for line in lines]
    if not any(kept):
        # Nothing but newlines, which every one of the library's patterns needs more than
        # (tests/test_requester_text.py): most mail. Scanning them still costs a match attempt
        # per line and pattern.
        return None
    skeleton = "\n".join(kept)
    for match in _LIBRARY_HEADERS.finditer(skeleton):
        header = match.group(0)
        # The library takes any two of To:/Date:/Subject: as a quote (a pasted letter has those)
        # and "On 3 March I wrote:" as an attribution: ask for a From line, an address or a time.
        wrote = _WROTE.match(header.strip())
        if (wrote and _looks_like_attribution(header)) or _SEPARATOR.search(header) or (
            not wrote and re.search(rf"(?im)^[>* \t]*{_FROM_KEY}[* \t]*:", header)
        ):
            start = match.start() + len(header) - len(header.lstrip())
            line_number = skeleton.count("\n", 0, start)
            offset = sum(len(line) + 1 for line in lines[:line_number])
            return Quote(offset, _label(header))
    return None


def _attribution_line(text: str) -> Quote | None:
    """The first "Op … schreef …:" line (or two wrapped lines) that a mailer wrote."""
    for line in _OPENER_LINE.finditer(text):
        end = line.end()
        candidates = [line.group(0)]
        if end < len(text) and not line.group(0).rstrip().endswith(":"):
            following = text.find("\n", end + 1)
            following = len(text) if following < 0 else following
            candidates.append(f"{line.group(0)} {text[end + 1 : following]}")
        for candidate in candidates:
            match = _WROTE.match(candidate)
            if match and _looks_like_attribution(candidate):
                return Quote(line.start(), _WROTE_LABELS[match.group("opener").lower()])
    return None


def _looks_like_attribution(line: str) -> bool:
    """A mailer's attribution line names an address or a time, a sentence of the writer does not."""
    return "@" in line or bool(re.search(r"\d{1,2}[:.h]\d{2}", line))


def _label(header: str) -> str:
    """A short, name-free description of a quote header for the explanation."""
    wrote = _WROTE.match(header.strip())
    if wrote:
        return _WROTE_LABELS[wrote.group("opener").lower()]
    separator = _SEPARATOR.search(header)
    if separator:
        return separator.group(0).strip("> \t")
    keys = re.findall(rf"(?im)^[>* \t]*({_HEADER_KEYS})[* \t]*:", header)
    return " … ".join(f"{key.capitalize()}:" for key in keys[:2]) + " …"


def cut_quote(text: str) -> tuple[str, Quote | None]:
    """(the text above the first quote header, that header or None)."""
    quote = first_quote(text)
    top = text[: quote.start] if quote else text
    return _RULE_LINES.sub("", top).strip(), quote


def drop_quoted_lines(text: str) -> tuple[str, bool]:
    """Text without lines that start with ">" (inline quoting), and whether any were there."""
    kept = _QUOTED_LINE.sub("", text)
    return kept, kept != text


def strip_disclaimers(text: str) -> tuple[str, bool]:
    """Remove legal disclaimer paragraphs that follow the writer's text."""
    kept: list[str] = []
    position = 0
    first = len(text) - len(text.lstrip())  # a disclaimer follows text; it never opens it
    for match in _DISCLAIMER.finditer(text):
        if match.start() < position or match.start() <= first:
            continue
        kept.append(text[position : match.start()])
        end = text.find("\n\n", match.start())
        position = len(text) if end < 0 else end
    if not kept:
        return text, False
    kept.append(text[position:])
    return "".join(kept).strip(), True


def strip_signature(text: str) -> tuple[str, bool]:
    """Remove a "-- " signature, or a closing formula with the name block under it.

    Prose after the name block (a PS, a second request) is kept; only short lines count as the
    block. The writer's text above the closing always stays.
    """
    dashes = _SIG_DASHES.search(text)
    if dashes and text[: dashes.start()].strip():
        return text[: dashes.start()].strip(), True
    lines = text.split("\n")
    for index in range(len(lines) - 1, 0, -1):
        if not _CLOSING.match(lines[index]):
            continue
        end = index + 1
        taken = 0
        while end < len(lines) and taken < NAME_BLOCK_LINES and _is_name_line(lines[end]):
            taken += bool(lines[end])
            end += 1
        kept = lines[:index] + lines[end:]
        return "\n".join(kept).strip(), True
    return text, False


def _is_name_line(line: str) -> bool:
    if not line:
        return True
    if len(line) > _NAME_LINE_CHARS or re.match(r"(?i)p\.?s\b", line):
        return False
    # A sentence (words ending in . ? !) is the writer's text; names, titles, phones are not.
    return not (len(line.split()) >= 3 and line[-1] in ".?!")
