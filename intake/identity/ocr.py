"""Tesseract OCR of one image: orientation and skew, text lines with boxes, an MRZ re-read.

Tesseract runs as a subprocess (`OMP_THREAD_LIMIT=1`, a timeout, the image on stdin as PGM, so
it never touches the disk). Orientation is found without Tesseract's OSD, which is unreliable on
cards: the angle whose row profile of "ink" is sharpest gives the text-line direction (this finds
90/270 and small skews); 0 versus 180 is settled by reading both when the first gives nothing.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter, ImageOps

MRZ_WHITELIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"


class OcrError(RuntimeError):
    """Tesseract is missing, failed, or took longer than allowed."""


@dataclass(frozen=True)
class OcrLine:
    text: str
    conf: float  # mean word confidence 0–100
    box: tuple[int, int, int, int]  # left, top, right, bottom in the image that was read


@dataclass(frozen=True)
class OcrResult:
    lines: tuple[OcrLine, ...]
    angle: float  # counter-clockwise rotation applied before reading

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def words(self) -> int:
        return sum(len(line.text.split()) for line in self.lines)


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def run_tesseract(img: Image.Image, *, psm: int = 6, lang: str = "eng", timeout: float = 15.0,
                  whitelist: str | None = None) -> list[OcrLine]:
    """Text lines of a grey image (TSV output parsed into lines)."""
    buf = io.BytesIO()
    img.convert("L").save(buf, "PPM")
    cmd = ["tesseract", "stdin", "stdout", "-l", lang, "--psm", str(psm), "--dpi", "300"]
    if whitelist:
        cmd += ["-c", f"tessedit_char_whitelist={whitelist}"]
    cmd.append("tsv")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(cmd, input=buf.getvalue(), capture_output=True, env=env,
                              timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise OcrError("tesseract is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise OcrError(f"tesseract took longer than {timeout:g} s") from exc
    if done.returncode != 0:
        raise OcrError(f"tesseract exit {done.returncode}: "
                       f"{done.stderr.decode('utf-8', 'replace').strip()[:200]}")
    return _tsv_lines(done.stdout.decode("utf-8", "replace"))


def _tsv_lines(tsv: str) -> list[OcrLine]:
    grouped: dict[tuple[str, str, str], list[tuple[str, float, tuple[int, int, int, int]]]] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) != 12 or cols[0] != "5" or not cols[11].strip():
            continue
        left, top, width, height = (int(c) for c in cols[6:10])
        grouped.setdefault((cols[2], cols[3], cols[4]), []).append(
            (cols[11].strip(), float(cols[10]), (left, top, left + width, top + height)))
    lines = []
    for words in grouped.values():
        boxes = [w[2] for w in words]
        lines.append(OcrLine(
            text=" ".join(w[0] for w in words),
            conf=sum(w[1] for w in words) / len(words),
            box=(min(b[0] for b in boxes), min(b[1] for b in boxes),
                 max(b[2] for b in boxes), max(b[3] for b in boxes)),
        ))
    return lines


# --- preparing an image --------------------------------------------------------------------

def prepare(img: Image.Image, max_side: int = 2000, min_side: int = 900) -> Image.Image:
    """Grey, EXIF orientation applied, cut to the content of a page scan, and scaled so the long
    side is between min and max."""
    gray = crop_to_content(ImageOps.exif_transpose(img).convert("L"))
    long_side = max(gray.size)
    if long_side > max_side:
        gray = gray.resize(_scaled(gray.size, max_side / long_side), Image.Resampling.LANCZOS)
    elif long_side < min_side:
        gray = gray.resize(_scaled(gray.size, min_side / long_side), Image.Resampling.BICUBIC)
    return gray


def _scaled(size: tuple[int, int], factor: float) -> tuple[int, int]:
    return max(1, round(size[0] * factor)), max(1, round(size[1] * factor))


def crop_to_content(gray: Image.Image, margin: int = 30) -> Image.Image:
    """A scan with a uniform (light) paper around its content, cut to that content."""
    small = gray.reduce(4) if min(gray.size) > 400 else gray
    arr = np.asarray(small, dtype=np.int16)
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
    paper = int(np.median(border))
    if paper < 200 or np.std(border) > 12:  # not a page scan: leave it alone
        return gray
    rows = np.nonzero((np.abs(arr - paper) > 40).sum(axis=1) > 2)[0]
    cols = np.nonzero((np.abs(arr - paper) > 40).sum(axis=0) > 2)[0]
    if not len(rows) or not len(cols):
        return gray
    f = gray.size[0] / small.size[0]
    box = (max(0, int(cols[0] * f) - margin), max(0, int(rows[0] * f) - margin),
           min(gray.size[0], int((cols[-1] + 1) * f) + margin),
           min(gray.size[1], int((rows[-1] + 1) * f) + margin))
    return gray.crop(box)


def _ink_mask(gray: Image.Image, side: int = 800) -> Image.Image:
    """Pixels clearly darker than their neighbourhood (strokes), on a small copy."""
    factor = side / max(gray.size)
    small = gray.resize(_scaled(gray.size, min(1.0, factor)), Image.Resampling.BILINEAR)
    local = small.filter(ImageFilter.BoxBlur(12))
    diff = np.asarray(local, dtype=np.int16) - np.asarray(small, dtype=np.int16)
    return Image.fromarray(((diff > 28) * 255).astype(np.uint8))


def _sharpness(mask: Image.Image, angle: float) -> float:
    rows = np.asarray(mask.rotate(angle, expand=True), dtype=np.float64).sum(axis=1) / 255
    return float(np.sum(np.diff(rows) ** 2))


def text_angle(gray: Image.Image) -> tuple[float, float]:
    """The counter-clockwise rotation (degrees) that makes text lines horizontal, and how
    text-like the image is (sharpest row profile over the median one; cards score > 6, a photo
    without text ~2).

    The angle is near 0 or near 90; the 180° ambiguity stays open.
    """
    mask = _ink_mask(gray)
    if not np.asarray(mask).any():
        return 0.0, 0.0
    coarse = {a + base: _sharpness(mask, a + base) for base in (0, 90) for a in range(-12, 13, 2)}
    best = max(coarse, key=coarse.__getitem__)
    likeness = coarse[best] / max(float(np.median(list(coarse.values()))), 1e-9)
    fine = [best + d / 4 for d in range(-7, 8)]
    best = max(fine, key=lambda a: _sharpness(mask, a))
    return (0.0 if abs(best) < 0.4 else best), likeness


def rotated(gray: Image.Image, angle: float) -> Image.Image:
    if angle % 360 == 0:
        return gray
    if angle % 90 == 0:
        return gray.rotate(angle, expand=True)
    fill = int(np.median(np.asarray(gray.reduce(8) if min(gray.size) > 64 else gray)))
    return gray.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC, fillcolor=fill)


def looks_like_mrz(text: str, strict: bool = False) -> bool:
    """An OCR line shaped like an MRZ line (strict: long, with fillers)."""
    compact = text.replace(" ", "")
    if strict:
        return len(compact) >= 25 and compact.count("<") >= 2
    return len(compact) >= 18 and (compact.count("<") >= 2
                                   or sum(c.isdigit() for c in compact) >= 10)


def mrz_band(gray: Image.Image, lines: list[OcrLine]) -> Image.Image | None:
    """The region of the lines that look like an MRZ, a little enlarged, or None."""
    boxes = [line.box for line in lines if looks_like_mrz(line.text)]
    if not boxes:
        return None
    left, top = min(b[0] for b in boxes), min(b[1] for b in boxes)
    right, bottom = max(b[2] for b in boxes), max(b[3] for b in boxes)
    height = max(b[3] - b[1] for b in boxes)
    pad_x, pad_y = max(20, (right - left) // 12), height * 2
    band = gray.crop((max(0, left - pad_x), max(0, top - pad_y),
                      min(gray.size[0], right + pad_x), min(gray.size[1], bottom + pad_y)))
    if band.size[1] < 160:  # MRZ letters read best at ~30 px or more
        band = band.resize((band.size[0] * 2, band.size[1] * 2), Image.Resampling.BICUBIC)
    return band


def binarised(gray: Image.Image) -> Image.Image:
    """Black on white at the Otsu threshold: a second chance for a noisy band."""
    arr = np.asarray(ImageOps.autocontrast(gray, cutoff=1), dtype=np.uint8)
    hist = np.bincount(arr.ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256)
    weight = np.cumsum(hist)
    mean = np.cumsum(hist * levels)
    total, grand = weight[-1], mean[-1]
    between = (grand * weight - total * mean) ** 2 / np.maximum(weight * (total - weight), 1)
    threshold = int(np.argmax(between))
    return Image.fromarray(np.where(arr > threshold, 255, 0).astype(np.uint8))
