"""The images and pages a message carries: image attachments, PDF pages, pictures in Office
documents, and the same inside attached (forwarded) messages — each bounded in size and pixels.

Nothing is written to disk. A file that cannot be read yields a Problem with the reason, never an
exception. The file name and declared type only help when the content itself is ambiguous: what
a file *is* comes from its first bytes.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, UnidentifiedImageError

from intake.message import Attachment, ParsedMessage
from intake.untrusted.capped import TooLarge, check_pdf_streams, read_member, render_scale

try:  # HEIC/HEIF photos from phones, when the library is there
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a pinned dependency
    pass

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic", ".heif", ".webp", ".bmp",
                    ".gif", ".jfif")
OFFICE_EXTENSIONS = (".docx", ".odt", ".pages")
_MAGIC = (
    (b"%PDF-", "pdf"), (b"\xff\xd8\xff", "image"), (b"\x89PNG", "image"), (b"II*\x00", "image"),
    (b"MM\x00*", "image"), (b"GIF8", "image"), (b"BM", "image"), (b"PK\x03\x04", "zip"),
)


@dataclass(frozen=True)
class Limits:
    """Bounds on what one message may cost. Defaults suit a 2-core host."""

    max_attachment_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 50_000_000  # decoded pixels per image (a 48 MP phone photo fits)
    max_pdf_pages: int = 30  # pages opened per PDF (text layer read; images rendered)
    max_ocr_images: int = 12  # images and pages OCR'd per message
    message_seconds: float = 60.0  # all attachments of one message
    ocr_timeout: float = 20.0  # one Tesseract run
    render_dpi: int = 300
    max_render_pixels: int = 12_000_000
    work_side: int = 2000  # images are scaled to this long side before OCR
    max_frames: int = 3  # multi-page TIFF / animated images
    max_office_images: int = 10


@dataclass(frozen=True)
class Source:
    """One file to look at: an attachment, or a part of an attached message."""

    name: str
    sha256: str
    data: bytes
    content_type: str


@dataclass
class Page:
    """One picture to read: a raster image (made on demand: a PDF page is only rendered when it
    is OCR'd), and a PDF page's text layer."""

    source: Source
    label: str  # "image", "page 3", "frame 2", "word/media/image1.png"
    render: Callable[[], Image.Image] | None = None
    text: str | None = None
    needs_ocr: bool = True


@dataclass(frozen=True)
class Problem:
    source: Source
    reason: str  # "unreadable: …" or "not examined: …" or "partly examined: …"


def sources(msg: ParsedMessage) -> Iterator[Source]:
    """Every attachment once (by content hash), then the parts of attached messages."""
    seen: set[str] = set()
    for att in msg.attachments:
        yield from _unique(_source_of(att), seen)
    for att in msg.attachments:
        if att.content_type == "message/rfc822" or (att.filename or "").lower().endswith(".eml"):
            for part in _message_parts(att.payload, att.filename or "message.eml"):
                yield from _unique(part, seen)


def _unique(source: Source, seen: set[str]) -> Iterator[Source]:
    if source.sha256 not in seen:
        seen.add(source.sha256)
        yield source


def _source_of(att: Attachment) -> Source:
    return Source(name=att.filename or f"({att.content_type})",
                  sha256=att.sha256 or hashlib.sha256(att.payload).hexdigest(),
                  data=att.payload, content_type=att.content_type)


def _message_parts(payload: bytes, outer: str, depth: int = 0) -> Iterator[Source]:
    """Leaf parts of an attached message (also when a mailer base64-encoded the whole thing)."""
    data = payload
    head = data.lstrip()[:200]
    if b":" not in head.split(b"\n", 1)[0]:
        try:
            data = base64.b64decode(data, validate=False)
        except (binascii.Error, ValueError):
            return
    inner = email.message_from_bytes(data, policy=email.policy.default)
    for part in inner.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        name = part.get_filename() or f"({ctype})"
        if ctype == "message/rfc822" and depth < 3:  # not parsed as such: an encoded message
            raw = part.get_payload(decode=True) or b""
            yield from _message_parts(raw, f"{outer}/{name}", depth + 1)
            continue
        if ctype.startswith("text/"):
            continue
        try:
            body = part.get_payload(decode=True) or b""
        except (ValueError, LookupError):
            continue
        yield Source(name=f"{outer}/{name}", sha256=hashlib.sha256(body).hexdigest(),
                     data=body, content_type=ctype)


def kind_of(source: Source) -> str | None:
    """pdf | image | office | None, from the first bytes, then the declared type and name."""
    head = source.data[:8]
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            if kind == "zip":
                return "office" if source.name.lower().endswith(OFFICE_EXTENSIONS) else None
            return kind
    if head[4:8] == b"ftyp" or (head[:4] == b"RIFF" and source.data[8:12] == b"WEBP"):
        return "image"
    name, ctype = source.name.lower(), source.content_type
    if ctype == "application/pdf" or name.endswith(".pdf"):
        return "pdf"  # declared a PDF but not one: reading it reports the problem
    if ctype.startswith("image/") or name.endswith(IMAGE_EXTENSIONS):
        return "image"
    return None


def pages(source: Source, limits: Limits) -> Iterator[Page | Problem]:
    """The pictures in one file, lazily (so time limits apply between pages)."""
    kind = kind_of(source)
    if kind is None:
        return
    size = len(source.data)
    if size > limits.max_attachment_bytes:
        yield Problem(source, f"not examined: {size / 2**20:.1f} MB is over the limit of "
                              f"{limits.max_attachment_bytes / 2**20:.0f} MB")
        return
    if kind == "image":
        yield from _image_pages(source, source.data, "image", limits)
    elif kind == "pdf":
        yield from _pdf_pages(source, limits)
    else:
        yield from _office_pages(source, limits)


def _image_pages(source: Source, data: bytes, label: str, limits: Limits
                 ) -> Iterator[Page | Problem]:
    try:
        img = Image.open(io.BytesIO(data))  # lazy: only the header is read here
        width, height = img.size
        if width * height > limits.max_pixels:
            yield Problem(source, f"not examined: {width}×{height} pixels is over the limit "
                                  f"(a decompression bomb or a huge scan)")
            return
        if img.format == "JPEG":  # decode big photos at a reduced scale: less time and memory
            img.draft("RGB", (limits.work_side, limits.work_side))
        frames = min(getattr(img, "n_frames", 1), limits.max_frames)
        for index in range(frames):
            img.seek(index)
            img.load()
            frame = img if frames == 1 else img.copy()
            name = label if frames == 1 else f"{label} frame {index + 1}"
            yield Page(source, name, render=lambda frame=frame: frame)
    except Image.DecompressionBombError:
        yield Problem(source, "not examined: decompression bomb (too many pixels)")
    except UnidentifiedImageError:
        yield Problem(source, "unreadable: not an image format that can be read")
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        yield Problem(source, f"unreadable: damaged image ({_short(exc)})")


def _pdf_pages(source: Source, limits: Limits) -> Iterator[Page | Problem]:
    try:
        check_pdf_streams(source.data)  # pdfium inflates without a limit of its own
    except TooLarge as exc:
        yield Problem(source, f"not examined: {exc}")
        return
    try:
        pdf = pdfium.PdfDocument(source.data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            yield Problem(source, "unreadable: encrypted PDF (password protected)")
        else:
            yield Problem(source, f"unreadable: damaged PDF ({_short(exc)})")
        return
    try:
        count = len(pdf)
        if count == 0:
            yield Problem(source, "unreadable: PDF without pages")
        for index in range(min(count, limits.max_pdf_pages)):
            try:
                yield _pdf_page(source, pdf, index, limits)
            except pdfium.PdfiumError as exc:
                yield Problem(source, f"unreadable: page {index + 1} ({_short(exc)})")
        if count > limits.max_pdf_pages:
            yield Problem(source, f"partly examined: the first {limits.max_pdf_pages} of "
                                  f"{count} pages")
    finally:
        pdf.close()


def _pdf_page(source: Source, pdf: pdfium.PdfDocument, index: int, limits: Limits) -> Page:
    page = pdf[index]
    textpage = page.get_textpage()
    text = textpage.get_text_bounded()
    textpage.close()
    pictures = [obj.get_bounds() for obj in page.get_objects(
        filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=3)]
    # A card is at least ~25 mm on its short side, even printed small; logos are skipped.
    big = [b for b in pictures if min(b[2] - b[0], b[3] - b[1]) >= 60]
    label = f"page {index + 1}"
    if not big:
        page.close()
        return Page(source, label, text=text, needs_ocr=False)

    def render() -> Image.Image:  # called while the document is still open (see pages())
        try:
            width, height = page.get_size()
            scale = render_scale(width, height, limits.render_dpi, limits.max_render_pixels)
            return page.render(scale=scale, grayscale=True).to_pil()
        finally:
            page.close()

    return Page(source, label, render=render, text=text)


def _office_pages(source: Source, limits: Limits) -> Iterator[Page | Problem]:
    """Pictures pasted into a Word or OpenDocument file (people do paste their ID there)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(source.data))
        members = [i for i in archive.infolist()
                   if i.filename.lower().endswith(IMAGE_EXTENSIONS)
                   and (i.filename.startswith(("word/media/", "Pictures/", "Data/")))]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield Problem(source, f"unreadable: damaged document ({_short(exc)})")
        return
    for info in members[: limits.max_office_images]:
        if info.file_size > limits.max_attachment_bytes:
            yield Problem(source, f"not examined: {info.filename} is too large")
            continue
        try:  # read with a hard cap: the declared size may lie (1 kB declared, 1 GB inflated)
            data = read_member(archive, info, limits.max_attachment_bytes)
        except TooLarge:
            yield Problem(source, f"not examined: {info.filename} unpacks to more than "
                                  f"{limits.max_attachment_bytes >> 20} MB")
            continue
        except (zipfile.BadZipFile, OSError, ValueError, RuntimeError) as exc:
            yield Problem(source, f"unreadable: {info.filename} ({_short(exc)})")
            continue
        yield from _image_pages(source, data, info.filename, limits)
    if len(members) > limits.max_office_images:
        yield Problem(source, f"partly examined: the first {limits.max_office_images} of "
                              f"{len(members)} pictures")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def describe(problems: Sequence[Problem]) -> str:
    return "; ".join(dict.fromkeys(p.reason for p in problems))
