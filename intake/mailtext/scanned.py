"""OCR of a scanned letter (a PDF without a text layer), for the classifier to read."""

from __future__ import annotations

import pypdfium2 as pdfium

from intake.identity.ocr import run_tesseract
from intake.untrusted.capped import check_pdf_streams, render_scale

MAX_PAGES = 2  # a request states itself on its first page; OCR costs ~1 s a page
RENDER_SCALE = 200 / 72  # 200 dpi: enough for typed letters, half the pixels of 300 dpi
LANGUAGES = "nld+fra+deu+eng"
# An A4 page at 200 dpi is 3.9 MP; a 14,400 pt MediaBox would be 1.6 GP (4.8 GB): the scale
# is lowered to stay within this before pdfium renders anything.
MAX_RENDER_PIXELS = 8_000_000


def ocr_pdf_letter(data: bytes, timeout: float = 20.0) -> str:
    """The text Tesseract reads on the first pages of a PDF; raises on a broken PDF or OCR error."""
    check_pdf_streams(data)  # raises TooLarge on a flate bomb: pdfium has no limit of its own
    pdf = pdfium.PdfDocument(data)
    try:
        texts = []
        for index in range(min(len(pdf), MAX_PAGES)):
            page = pdf[index]
            try:
                width, height = page.get_size()
                scale = render_scale(width, height, RENDER_SCALE * 72, MAX_RENDER_PIXELS)
                image = page.render(scale=scale, grayscale=True).to_pil()
            finally:
                page.close()
            lines = run_tesseract(image, psm=3, lang=LANGUAGES, timeout=timeout)
            texts.append("\n".join(line.text for line in lines))
        return "\n\n".join(texts)
    finally:
        pdf.close()
