"""The text of letters attached as PDF (text layer, first pages) or DOCX; never raises."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from intake.message import Attachment
from intake.untrusted.capped import TooLarge, check_pdf_streams, check_unpacked

MAX_PAGES = 5
MAX_CHARS = 20_000
MAX_LETTER_BYTES = 15 * 1024 * 1024
MAX_DOCX_UNPACKED = 50 * 1024 * 1024  # a zip bomb stops here
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NO_TEXT_LAYER = "no text layer; OCR comes with the identity stage"

OcrFunction = Callable[[bytes], str]


@dataclass(frozen=True)
class LetterText:
    """What could be read from one attachment, and a note saying how (or why not)."""

    text: str
    note: str


def letter_kind(attachment: Attachment) -> str | None:
    """"pdf", "docx" or None (not a letter this module reads)."""
    name = (attachment.filename or "").lower()
    if attachment.content_type == "application/pdf" or name.endswith(".pdf"):
        return "pdf"
    if attachment.content_type == DOCX_TYPE or name.endswith(".docx"):
        return "docx"
    return None


def read_letter(attachment: Attachment, ocr: OcrFunction | None = None) -> LetterText:
    """The text of a PDF or DOCX attachment; on any problem, empty text and the reason."""
    kind = letter_kind(attachment)
    name = display_name(attachment)
    if kind is None:
        return LetterText("", f"attachment {name}: not a PDF or DOCX letter")
    if attachment.size > MAX_LETTER_BYTES:
        return LetterText("", f"attachment {name}: too large to read ({attachment.size} bytes)")
    try:
        if kind == "docx":
            return LetterText(_docx_text(attachment.payload), f"attachment {name}: text read")
        text, pages, total = _pdf_text(attachment.payload)
    except TooLarge as exc:
        return LetterText("", f"attachment {name}: not examined: {exc}")
    except MemoryError:  # the sandbox reports it as a limit reached
        raise
    except Exception as exc:  # PDF/zip/XML parsers raise many types on bad input
        return LetterText("", f"attachment {name}: unreadable ({type(exc).__name__})")
    read = f"{pages} of {total} pages" if pages < total else f"{pages} page{'s' * (pages > 1)}"
    if text.strip():
        return LetterText(text, f"attachment {name}: text layer read ({read})")
    if ocr is None:
        return LetterText("", f"attachment {name}: {NO_TEXT_LAYER}")
    try:
        text = ocr(attachment.payload)[:MAX_CHARS]
    except TooLarge as exc:
        return LetterText("", f"attachment {name}: no text layer; not examined: {exc}")
    except MemoryError:  # the sandbox reports it as a limit reached
        raise
    except Exception as exc:  # the OCR seam must not break the triage
        failed = f"no text layer; OCR failed ({type(exc).__name__})"
        return LetterText("", f"attachment {name}: {failed}")
    return LetterText(text, f"attachment {name}: no text layer; OCR read")


def _pdf_text(data: bytes) -> tuple[str, int, int]:
    """(text of the first MAX_PAGES pages, pages read, pages in the file)."""
    from pypdf import PdfReader

    check_pdf_streams(data)
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        reader.decrypt("")  # many "protected" letters only restrict printing
    total = len(reader.pages)
    parts: list[str] = []
    size = 0
    for page in reader.pages[:MAX_PAGES]:
        part = page.extract_text() or ""
        parts.append(part)
        size += len(part)
        if size >= MAX_CHARS:
            break
    return "\n\n".join(parts)[:MAX_CHARS], len(parts), total


def _docx_text(data: bytes) -> str:
    from docx import Document

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if sum(info.file_size for info in archive.infolist()) > MAX_DOCX_UNPACKED:
            raise TooLarge(f"unpacks to more than {MAX_DOCX_UNPACKED >> 20} MB")
        # The declared sizes may lie: inflate every member as a stream, counting.
        check_unpacked(archive, MAX_DOCX_UNPACKED)
    document = Document(io.BytesIO(data))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("  ".join(cell.text for cell in row.cells))
    return "\n".join(parts)[:MAX_CHARS]


def display_name(attachment: Attachment) -> str:
    name = attachment.filename or "(no name)"
    return name if len(name) <= 60 else f"{name[:57]}..."
