"""MIME parts cut from the raw message bytes, never re-serialised (signatures cover exact bytes)."""

from __future__ import annotations

import binascii
import email
import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser

MAX_DEPTH = 8
MAX_PARTS = 500

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_HEADER_PARSER = BytesHeaderParser(policy=policy.compat32)


@dataclass(frozen=True)
class RawPart:
    """One MIME entity: its exact bytes (headers + body) and its parsed headers."""

    raw: bytes = field(repr=False)
    headers: Message = field(repr=False)
    body: bytes = field(repr=False)
    depth: int = 0

    @property
    def content_type(self) -> str:
        return self.headers.get_content_type()

    def param(self, name: str) -> str:
        value = self.headers.get_param(name, header="content-type")
        if isinstance(value, tuple):  # RFC 2231 (charset, language, value)
            value = email.utils.collapse_rfc2231_value(value)
        return str(value or "").strip().lower()

    @property
    def filename(self) -> str | None:
        name = self.headers.get_filename() or self.headers.get_param("name", header="content-type")
        if isinstance(name, tuple):
            name = email.utils.collapse_rfc2231_value(name)
        return str(name).strip() or None if name else None

    def decoded(self) -> bytes:
        """The body with its Content-Transfer-Encoding undone (stdlib codecs, lenient)."""
        encoding = str(self.headers.get("content-transfer-encoding", "")).strip().lower()
        try:
            if encoding == "base64":
                return binascii.a2b_base64(self.body)
            if encoding == "quoted-printable":
                return quopri.decodestring(self.body)
        except (binascii.Error, ValueError):
            return b""
        return self.body


def entity(raw: bytes, depth: int = 0) -> RawPart:
    """Split an entity into headers and body at the first empty line (CRLF or LF)."""
    found = _HEADER_END.search(raw)
    head, body = (raw[: found.start()], raw[found.end():]) if found else (raw, b"")
    return RawPart(raw=raw, headers=_HEADER_PARSER.parsebytes(head + b"\r\n\r\n"), body=body,
                   depth=depth)


def children(part: RawPart) -> list[RawPart]:
    """The body parts of a multipart entity, each exactly as it appears between delimiters.

    The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1), so it is not
    part of the body part before it. At most MAX_PARTS parts (a MIME bomb has 20,000).
    """
    boundary = part.headers.get_param("boundary", header="content-type")
    if not boundary or not isinstance(boundary, str):
        return []
    body = part.body
    # A literal first keeps the scan at C speed on a 30 MB attachment; line start checked below.
    delimiter = re.compile(
        rb"--" + re.escape(boundary.encode("latin-1", "replace")) + rb"(--)?[ \t]*(\r?\n|$)"
    )
    parts: list[RawPart] = []
    start: int | None = None
    for found in delimiter.finditer(body):
        at = found.start()
        if at and body[at - 1: at] != b"\n":
            continue
        if len(parts) >= MAX_PARTS:  # walk() stops there anyway: no header parse beyond it
            break
        if start is not None:
            end = max(start, at - (2 if body[at - 2: at] == b"\r\n" else 1))
            parts.append(entity(body[start:end], part.depth + 1))
        if found.group(1):  # close delimiter
            break
        start = found.end()
    return parts


def walk(raw: bytes) -> Iterator[RawPart]:
    """Every entity of a message, depth first, bounded in depth and count (hostile input)."""
    stack = [entity(raw)]
    seen = 0
    while stack and seen < MAX_PARTS:
        part = stack.pop()
        seen += 1
        yield part
        if part.depth >= MAX_DEPTH:
            continue
        if part.content_type.startswith("multipart/"):
            stack.extend(reversed(children(part)))
        elif part.content_type == "message/rfc822":
            stack.append(entity(part.decoded() or part.body, part.depth + 1))
