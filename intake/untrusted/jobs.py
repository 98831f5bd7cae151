"""What the sandbox child runs: each job examines one untrusted file and answers in JSON terms."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from functools import lru_cache
from typing import Any

from intake.identity import Evidence
from intake.identity.id_documents import IdDocumentDetector, _Budget
from intake.identity.images import Limits, Source
from intake.identity.mimeraw import entity
from intake.identity.trust import Anchors, load_anchors
from intake.identity.verdict import Judge
from intake.mailtext.letters import read_letter
from intake.message import Attachment

JudgeArgs = tuple[str | None, datetime, bytes, str]  # anchors dir, now, salt, display name


@lru_cache(maxsize=4)
def _anchors(directory: str | None) -> Anchors:
    return load_anchors(directory)


def _judge(args: JudgeArgs) -> Judge:
    directory, now, salt, display_name = args
    return Judge(_anchors(directory), now, salt, display_name)


def evidence_json(evidence: Evidence) -> dict[str, Any]:
    return asdict(evidence)


def id_examine(source: Source, from_name: str, salt: bytes | None, limits: Limits, lang: str,
               seconds_left: float, ocr_left: int) -> dict[str, Any]:
    """The ID-copy findings of one file, and how many OCR runs the message has left."""
    detector = IdDocumentDetector(number_salt=salt, limits=limits, lang=lang)
    budget = _Budget(time.monotonic() + seconds_left, ocr_left)
    found = detector.examine(source, from_name, budget)
    return {"evidence": [evidence_json(e) for e in found], "ocr_left": budget.ocr_left}


def sig_detached(raw: bytes, judge: JudgeArgs) -> dict[str, Any]:
    from intake.identity.smime import detached

    return evidence_json(detached(entity(raw), _judge(judge)))


def sig_opaque(raw: bytes, judge: JudgeArgs) -> dict[str, Any]:
    from intake.identity.smime import opaque

    evidence, inner = opaque(entity(raw), _judge(judge))
    return {"evidence": evidence_json(evidence) if evidence else None,
            "inner": base64.b64encode(inner).decode() if inner else None}


def sig_file(raw: bytes, judge: JudgeArgs) -> list[dict[str, Any]]:
    from intake.identity.signatures import file_signatures

    return [evidence_json(e) for e in file_signatures(entity(raw), _judge(judge))]


def letter(attachment: Attachment, ocr: bool) -> dict[str, str]:
    reader = None
    if ocr:
        from intake.mailtext.scanned import ocr_pdf_letter

        reader = ocr_pdf_letter
    found = read_letter(attachment, reader)
    return {"text": found.text, "note": found.note}


def ping() -> str:
    return "pong"


JOBS: dict[str, Callable[..., Any]] = {
    "id_examine": id_examine,
    "sig_detached": sig_detached,
    "sig_opaque": sig_opaque,
    "sig_file": sig_file,
    "letter": letter,
    "ping": ping,
}
