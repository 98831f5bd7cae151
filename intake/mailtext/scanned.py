"""OCR of a scanned letter (a PDF without a text layer), for the classifier to read."""

from __future__ import annotations

import pypdfium2 as pdfium

from intake.identity.ocr import run_tesseract

MAX_PAGES = 2  # a request states itself on its first page; OCR costs ~1 s a page
RENDER_SCALE = 200 / 72  # 200 dpi: enough for typed letters, half the pixels of 300 dpi
LANGUAGES = "nld+fra+deu+eng"


def ocr_pdf_letter(data: bytes, timeout: float = 20.0) -> str:
    """The text Tesseract reads on the first pages of a PDF; raises on a broken PDF or OCR error."""
    pdf = pdfium.PdfDocument(data)
    try:
        texts = []
        for index in range(min(len(pdf), MAX_PAGES)):
            page = pdf[index]
            try:
                image = page.render(scale=RENDER_SCALE, grayscale=True).to_pil()
            finally:
                page.close()
            lines = run_tesseract(image, psm=3, lang=LANGUAGES, timeout=timeout)
            texts.append("\n".join(line.text for line in lines))
        return "\n\n".join(texts)
    finally:
        pdf.close()
