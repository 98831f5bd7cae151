"""The ID-copy detector: OCR of the images and PDF pages a message carries, one finding each.

Plugs into IdentityChecker as a Detector. For each attachment it returns at most one Evidence
per document found, and otherwise at most one note:
- a validated document: type "id_copy", status "id_copy", valid True (see documents.py);
- a possible document that did not validate, or a file that could not be (fully) read:
  type "id_copy", status "none", valid False, detail "possible …" / "unreadable: …" /
  "not examined: …" / "partly examined: …". Status "none" ranks last, so a note never lifts a
  message's identity status; it is there for staff, who see every piece of evidence.
Files with nothing ID-like give nothing. The image is never stored: only the finding.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from PIL import Image

from intake.identity import Evidence
from intake.identity.documents import Reading, analyse, name_match
from intake.identity.images import (
    Limits,
    Page,
    Problem,
    Source,
    describe,
    kind_of,
    pages,
    sources,
)
from intake.identity.numbers import (
    mask_card_number,
    mask_document_number,
    mask_national_number,
    number_hash,
)
from intake.identity.ocr import (
    MRZ_WHITELIST,
    OcrError,
    OcrLine,
    binarised,
    looks_like_mrz,
    mrz_band,
    prepare,
    rotated,
    run_tesseract,
    text_angle,
)
from intake.message import ParsedMessage

if TYPE_CHECKING:
    from intake.untrusted.sandbox import Sandbox

log = logging.getLogger(__name__)


@dataclass
class _Budget:
    deadline: float
    ocr_left: int

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()


class IdDocumentDetector:
    """Detector for copies of identity documents (ID cards, passports, driving licences,
    residence permits) in a message's attachments."""

    def __init__(self, number_salt: bytes | None = None, limits: Limits | None = None,
                 lang: str = "eng", sandbox: Sandbox | None = None) -> None:
        self.number_salt = number_salt or None
        self.limits = limits or Limits()
        self.lang = lang  # card texts are upper-case ASCII-ish: English is enough and 3× faster
        # Given: each file is decoded and read in the sandbox's child process, one call a file.
        self.sandbox = sandbox

    def __call__(self, msg: ParsedMessage) -> list[Evidence]:
        if not msg.attachments:
            return []
        started = time.monotonic()
        try:
            found = self._detect(msg)
        except Exception as exc:  # a hostile file must never stop the triage
            log.error("id_documents failed", extra={"error": type(exc).__name__})
            return [Evidence(type="id_copy", status="none", valid=False,
                             detail=f"failed: {type(exc).__name__} while reading the "
                                    "attachments; check them by hand")]
        log.debug("id_documents done", extra={
            "attachments": len(msg.attachments), "findings": len(found),
            "id_copies": sum(e.status == "id_copy" for e in found),
            "seconds": round(time.monotonic() - started, 2)})
        return found

    def _detect(self, msg: ParsedMessage) -> list[Evidence]:
        budget = _Budget(time.monotonic() + self.limits.message_seconds,
                         self.limits.max_ocr_images)
        found: list[Evidence] = []
        for source in sources(msg):
            if self.sandbox is None:
                found.extend(self.examine(source, msg.from_name, budget))
            elif kind_of(source) is not None:  # nothing to decode otherwise: no child call
                found.extend(self._examine_in_sandbox(source, msg.from_name, budget))
        return found

    def _examine_in_sandbox(self, source: Source, from_name: str, budget: _Budget
                            ) -> list[Evidence]:
        from intake.untrusted.sandbox import ExaminationFailed, LimitReached

        assert self.sandbox is not None
        if budget.seconds_left() <= 0:
            return [self._not_examined(source, f"time limit of {self.limits.message_seconds:g} "
                                               "s per message reached")]
        try:
            answer = self.sandbox.call(
                "id_examine", source, from_name, self.number_salt, self.limits, self.lang,
                budget.seconds_left(), budget.ocr_left)
        except LimitReached as exc:
            return [self._not_examined(source, exc.reason)]
        except ExaminationFailed as exc:
            return [replace(self._not_examined(source, ""),
                            detail=f"unreadable: {exc.kind} while reading")]
        budget.ocr_left = int(answer["ocr_left"])
        return [Evidence(**e) for e in answer["evidence"]]

    @staticmethod
    def _not_examined(source: Source, reason: str) -> Evidence:
        log.warning("id_documents not examined", extra={
            "sha256": source.sha256[:12], "reason": reason[:80]})
        return Evidence(type="id_copy", status="none", attachment=source.name, valid=False,
                        sha256=source.sha256, detail=f"not examined: {reason}")

    def examine(self, source: Source, from_name: str = "",
                budget: _Budget | None = None) -> list[Evidence]:
        """The findings for one file (public for the benchmark and evaluation)."""
        budget = budget or _Budget(time.monotonic() + self.limits.message_seconds,
                                   self.limits.max_ocr_images)
        readings: list[Reading] = []
        problems: list[Problem] = []
        skipped: dict[str, list[str]] = {}  # "not examined (why)" -> page labels
        try:
            for item in pages(source, self.limits):
                if isinstance(item, Problem):
                    problems.append(item)
                    continue
                reading = self._read(item, budget, skipped)
                if reading is not None:
                    readings.append(reading)
        except MemoryError:  # the sandbox reports it as a limit reached
            raise
        except Exception as exc:  # a library failing on a crafted file: say so, go on
            problems.append(Problem(source, f"unreadable: {type(exc).__name__} while reading"))
        for why, labels in skipped.items():
            where = labels[0] if len(labels) == 1 else f"{len(labels)} pages/images from " \
                                                        f"{labels[0]} on"
            problems.append(Problem(source, why.replace("{where}", where)))
        return self._findings(source, readings, problems, from_name)

    # --- reading one page ------------------------------------------------------------------

    def _read(self, page: Page, budget: _Budget, skipped: dict[str, list[str]]
              ) -> Reading | None:
        reading = analyse(page.text.splitlines()) if page.text else None
        if (reading and reading.validated) or not page.needs_ocr or page.render is None:
            return reading
        why = None
        if budget.seconds_left() <= 0:
            why = (f"not examined: {{where}} (time limit of {self.limits.message_seconds:g} s "
                   "per message reached)")
        elif budget.ocr_left <= 0:
            why = (f"not examined: {{where}} (limit of {self.limits.max_ocr_images} images per "
                   "message reached)")
        else:
            budget.ocr_left -= 1
            try:
                seen = self.read_image(page.render(), budget)
            except OcrError as exc:
                why = f"unreadable: {{where}} (OCR: {exc})"
            else:
                return max((r for r in (reading, seen) if r is not None),
                           key=lambda r: r.score, default=None)
        skipped.setdefault(why, []).append(page.label)
        return reading

    def read_image(self, image: Image.Image, budget: _Budget | None = None) -> Reading | None:
        """OCR one image the right way up, then re-read its MRZ band if that did not validate."""
        budget = budget or _Budget(time.monotonic() + self.limits.message_seconds, 1)
        gray = prepare(image, self.limits.work_side)
        angle, likeness = text_angle(gray)
        # Try the text-line direction both ways up, then the other axis, until one reads well
        # (or validates). An image without text lines (a photo) is read once.
        attempts = (angle, angle + 180, angle + 90, angle + 270) if likeness >= 3 else (angle,)
        tried: list[tuple[tuple[int, ...], Image.Image, list[OcrLine], Reading | None]] = []
        for attempt in attempts:
            view = rotated(gray, attempt)
            lines = self._ocr(view, budget)
            reading = analyse([line.text for line in lines])
            words = sum(len(line.text.split()) for line in lines)
            confident = sum(len(line.text.split()) for line in lines if line.conf >= 70)
            mrz_lines = sum(looks_like_mrz(line.text, strict=True) for line in lines)
            score = (*(reading.score if reading else (0, 0, 0)), mrz_lines, confident)
            tried.append((score, view, lines, reading))
            if (reading and reading.validated) or mrz_lines >= 2 or (
                    confident >= 8 and confident >= 0.6 * words):
                break  # the right way up: turning further will not read better
        _, view, lines, reading = max(tried, key=lambda t: t[0])
        if reading and reading.validated:
            return reading
        band = mrz_band(view, lines)
        if band is None:
            return reading
        texts = [line.text for line in lines]
        for variant in (band, binarised(band)):  # a noisy band may read better in black/white
            texts += [line.text for line in self._ocr(variant, budget, whitelist=MRZ_WHITELIST)]
            better = analyse(texts)
            if better is not None and (reading is None or better.score >= reading.score):
                reading = better
            if reading is not None and reading.validated:
                break
        return reading

    def _ocr(self, img: Image.Image, budget: _Budget,
             whitelist: str | None = None) -> list[OcrLine]:
        timeout = max(1.0, min(self.limits.ocr_timeout, budget.seconds_left()))
        return run_tesseract(img, psm=6, lang=self.lang, timeout=timeout, whitelist=whitelist)

    # --- from readings to findings ---------------------------------------------------------

    def _findings(self, source: Source, readings: Sequence[Reading], problems: Sequence[Problem],
                  from_name: str) -> list[Evidence]:
        validated_docs = list(dict.fromkeys(r.document for r in readings if r.validated))
        if validated_docs:
            return [self._id_copy(source, [r for r in readings if r.document == doc], from_name)
                    for doc in validated_docs]
        notes = []
        possible = [r for r in readings if r.signals]
        if possible:
            best = max(possible, key=lambda r: r.score)
            notes.append(f"possible {best.document.replace('_', ' ')} "
                         f"({'; '.join(best.signals)}); nothing validated: check by hand")
        if problems:
            notes.append(describe(problems))
        if not notes:
            return []
        best = max(possible, key=lambda r: r.score) if possible else None
        log.info("id_documents note", extra={
            "sha256": source.sha256[:12], "note": notes[0].split(":")[0].split(" (")[0]})
        return [Evidence(
            type="id_copy", status="none", attachment=source.name,
            document=best.document if best else None, valid=False,
            side=_side(best.sides) if best else None, sha256=source.sha256,
            detail="; ".join(notes),
        )]

    def _id_copy(self, source: Source, readings: Sequence[Reading], from_name: str) -> Evidence:
        document = readings[0].document
        good = [r for r in readings if r.validated]
        sides = frozenset().union(*(r.sides for r in readings))
        national = next((r.national_number for r in good if r.national_number), None)
        other = next((r.document_number for r in good if r.document_number), None)
        if national:
            masked, digest = (mask_national_number(national),
                              number_hash(self.number_salt, national))
        elif other:
            masked = mask_card_number(other) if len(other) == 12 and other.isdigit() \
                else mask_document_number(other)
            digest = number_hash(self.number_salt, other, kind=document)
        else:
            masked = digest = None
        names = next((r.names for r in readings if r.names), "")
        checks = list(dict.fromkeys(c for r in good for c in r.checks))
        checks += [s for r in good for s in r.signals if s.startswith("expired")]
        log.info("id_documents id_copy", extra={
            "sha256": source.sha256[:12], "document": document, "side": _side(sides)})
        return Evidence(
            type="id_copy", status="id_copy", attachment=source.name, document=document,
            valid=True, side=_side(sides), masked_number=masked, number_hash=digest,
            name_match=name_match(from_name, names), sha256=source.sha256,
            detail="; ".join(checks),
        )


def _side(sides: frozenset[str]) -> str | None:
    if {"front", "back"} <= sides:
        return "both"
    for side in ("data_page", "front", "back"):
        if side in sides:
            return side
    return None
