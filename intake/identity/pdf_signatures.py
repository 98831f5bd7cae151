"""Signatures inside PDF attachments (PAdES / PKCS#7), validated offline with pyHanko."""

from __future__ import annotations

from dataclasses import replace
from io import BytesIO

from pyhanko.pdf_utils.crypt import AuthStatus
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel

from intake.identity import Evidence
from intake.identity.cms_check import (
    ANY_USAGE,
    to_check,
    too_many_certificates,
    validation_context,
    validation_moment,
)
from intake.identity.verdict import Check, Judge, failure
from intake.untrusted.capped import TooLarge, check_pdf_streams

MAX_PDF_BYTES = 50 << 20
MAX_SIGNATURES = 5


def has_signature(data: bytes) -> bool:
    """Cheap pre-check: a signature dictionary always carries a /ByteRange."""
    return data.startswith(b"%PDF") and b"/ByteRange" in data


def modification_problem(status: PdfSignatureStatus) -> str:
    """Why an intact PDF signature must still count as invalid, or "" if it need not."""
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return ""
    if status.coverage in (None, SignatureCoverageLevel.UNCLEAR):
        return "signature does not cover the document"
    if status.docmdp_ok is False or status.modification_level == ModificationLevel.OTHER:
        return "document modified after signing (incremental update)"
    return ""


def _modification_note(status: PdfSignatureStatus) -> str:
    level = status.modification_level
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE or level is None:
        return "covers the whole file"
    return f"later updates: {level.name.lower()}"


def pdf_signatures(data: bytes, name: str | None, sha256: str | None,
                   judge: Judge) -> list[Evidence]:
    """One piece of evidence per signature in the PDF (at most MAX_SIGNATURES)."""
    if not has_signature(data):
        return []
    where = {"attachment": name, "sha256": sha256}
    if len(data) > MAX_PDF_BYTES:
        return [failure("pdf_signature", "PDF signature", "PDF too large to validate", **where)]
    try:
        check_pdf_streams(data)
    except TooLarge as exc:
        return [Evidence(type="pdf_signature", status="unverified_signature",
                         detail=f"PDF signature; not verified: {exc}", **where)]
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        if reader.encrypted and reader.decrypt(b"").status == AuthStatus.FAILED:
            return [Evidence(type="pdf_signature", status="unverified_signature",
                             detail="PDF signature in a password-protected PDF: not checked",
                             **where)]
        embedded = reader.embedded_regular_signatures[:MAX_SIGNATURES]
    except MemoryError:  # the sandbox reports it as a limit reached
        raise
    except Exception as exc:  # a malformed PDF is a finding, never a crash
        return [failure("pdf_signature", "PDF signature",
                        f"PDF unreadable ({type(exc).__name__})", **where)]
    found = []
    for sig in embedded:
        what = f"PDF signature {sig.field_name!r}"
        try:
            refused = too_many_certificates(sig.signed_data)
            if refused:
                found.append(judge.evidence(Check(intact=True, valid=True, unverified=refused),
                                            "pdf_signature", what, **where))
                continue
            claimed = sig.self_reported_timestamp
            context = validation_context(judge.anchors, validation_moment(claimed, judge.now))
            status = validate_pdf_signature(sig, context, key_usage_settings=ANY_USAGE)
            check = replace(to_check(status, judge.anchors, claimed),
                            broken=modification_problem(status))
            what = f"{what} ({sig.sig_object.get('/SubFilter', '?')}, {_modification_note(status)})"
        except MemoryError:  # the sandbox reports it as a limit reached
            raise
        except Exception as exc:  # broken CMS inside the PDF: a finding, never a crash
            found.append(failure("pdf_signature", what,
                                 f"signature unreadable ({type(exc).__name__})", **where))
            continue
        found.append(judge.evidence(check, "pdf_signature", what, **where))
    return found
