"""Bounded decoding helpers: zip members read with a hard cap, page renders capped in pixels.

A zip member's declared size is never trusted: it is read as a stream and the read stops one
byte past the cap. A page's size is checked in pixels at the wanted resolution before pdfium
renders it, and the scale lowered to fit the cap.
"""

from __future__ import annotations

import re
import zipfile
import zlib


class TooLarge(ValueError):
    """Decoded data would pass a cap."""


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """The member's bytes, at most `cap`; raises TooLarge (whatever its header declares)."""
    with archive.open(info) as stream:
        data = stream.read(cap + 1)
    if len(data) > cap:
        raise TooLarge(f"{info.filename} unpacks to more than {cap >> 20} MB")
    return data


def read_members(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], member_cap: int,
                 total_cap: int) -> dict[str, bytes]:
    """Several members, each under `member_cap` and together under `total_cap` (as read)."""
    found: dict[str, bytes] = {}
    left = total_cap
    for info in infos:
        data = read_member(archive, info, min(member_cap, left))
        left -= len(data)
        found[info.filename] = data
    return found


def check_unpacked(archive: zipfile.ZipFile, total_cap: int) -> None:
    """Inflate every member as a stream and count: raises TooLarge past `total_cap` bytes."""
    left = total_cap
    for info in archive.infolist():
        if info.is_dir():
            continue
        with archive.open(info) as stream:
            while chunk := stream.read(1 << 20):
                left -= len(chunk)
                if left < 0:
                    raise TooLarge(f"unpacks to more than {total_cap >> 20} MB")


def render_scale(width_pt: float, height_pt: float, dpi: float, max_pixels: int) -> float:
    """The pdfium scale for `dpi`, lowered so the page stays within `max_pixels`."""
    scale = dpi / 72
    pixels = max(width_pt, 1.0) * max(height_pt, 1.0) * scale * scale
    if pixels > max_pixels:
        scale *= (max_pixels / pixels) ** 0.5
    return scale


_STREAM = re.compile(rb"stream\r?\n")
MAX_PDF_STREAM = 64 << 20  # one inflated PDF stream (a 300 dpi A4 page in grey is ~9 MB)


def check_pdf_streams(data: bytes, cap: int = MAX_PDF_STREAM) -> None:
    """Inflate every zlib stream of a PDF as a stream and count: raises TooLarge when one would
    pass `cap` bytes (a flate bomb or an object-stream bomb), before a PDF library sees it.

    Streams that are not zlib data (images in DCT, JBIG2, …) stop at their first bytes.
    """
    for match in _STREAM.finditer(data):
        start = match.end()
        if data[start:start + 1] not in (b"\x78", b"\x08", b"\x18", b"\x28", b"\x38", b"\x48",
                                         b"\x58", b"\x68"):
            continue  # not a zlib header: some other filter, or not a stream at all
        inflater = zlib.decompressobj()
        produced = 0
        position = start
        try:
            while position < len(data) and not inflater.eof:
                chunk = inflater.unconsumed_tail or data[position:position + (64 << 10)]
                if not inflater.unconsumed_tail:
                    position += len(chunk)
                produced += len(inflater.decompress(chunk, 1 << 20))
                if produced > cap:
                    raise TooLarge(f"a compressed PDF stream inflates to more than "
                                   f"{cap >> 20} MB")
        except zlib.error:
            continue  # not (valid) zlib data: the PDF library will judge it
