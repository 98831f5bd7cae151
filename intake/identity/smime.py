"""S/MIME: multipart/signed (detached) and opaque application/pkcs7-mime signed-data."""

from __future__ import annotations

import re

from intake.identity import Evidence
from intake.identity.cms_check import NotSignedData, check_cms, load_signed_data
from intake.identity.mimeraw import RawPart, children
from intake.identity.verdict import Judge, failure

SIGNATURE_TYPES = frozenset({"application/pkcs7-signature", "application/x-pkcs7-signature"})
OPAQUE_TYPES = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime"})
_BARE_LF = re.compile(rb"(?<!\r)\n")


def is_smime_signed(part: RawPart) -> bool:
    if part.content_type != "multipart/signed":
        return False
    return part.param("protocol") in SIGNATURE_TYPES


def is_opaque_signed(part: RawPart) -> bool:
    """pkcs7-mime signed-data, or a .p7m file (CAdES) that does not say it is something else."""
    kind = part.param("smime-type")
    if part.content_type in OPAQUE_TYPES and kind == "signed-data":
        return True
    return not kind and (part.filename or "").lower().endswith(".p7m")


def detached(part: RawPart, judge: Judge) -> Evidence:
    """multipart/signed: the signature covers the first body part, byte for byte."""
    what = f"S/MIME multipart/signed ({part.param('protocol')})"
    parts = children(part)
    if len(parts) != 2:
        return failure("smime", what, f"{len(parts)} body parts (expected 2)")
    content, signature = parts
    if signature.content_type not in SIGNATURE_TYPES:
        return failure("smime", what, f"second part is {signature.content_type}")
    try:
        signed = load_signed_data(signature.decoded())
        check = check_cms(signed, content.raw, judge.anchors, judge.now)
        if not check.intact and _BARE_LF.search(content.raw):
            # Stored with LF line ends (Maildir, mbox): S/MIME signs the CRLF canonical form.
            canonical = check_cms(signed, _BARE_LF.sub(b"\r\n", content.raw), judge.anchors,
                                  judge.now)
            if canonical.intact:
                check, what = canonical, what + ", verified on CRLF line ends"
    except MemoryError:  # the sandbox reports it as a limit reached
        raise
    except Exception as exc:  # hostile or broken CMS: a finding, never a crash
        return failure("smime", what, f"signature unreadable ({type(exc).__name__})")
    return judge.evidence(check, "smime", what, attachment=signature.filename)


def opaque(part: RawPart, judge: Judge) -> tuple[Evidence | None, bytes | None]:
    """application/pkcs7-mime signed-data: the content travels inside the signature.

    Returns the evidence (None for encrypted or compressed data: not a signature) and the
    signed content (a MIME entity the caller may look into).
    """
    what = f"S/MIME opaque {part.content_type} signed-data"
    try:
        signed = load_signed_data(part.decoded())
        inner = signed["encap_content_info"]["content"].native
        check = check_cms(signed, None, judge.anchors, judge.now)
    except NotSignedData:
        return None, None
    except MemoryError:  # the sandbox reports it as a limit reached
        raise
    except Exception as exc:  # hostile or broken CMS: a finding, never a crash
        return failure("smime", what, f"signature unreadable ({type(exc).__name__})"), None
    content = inner if isinstance(inner, bytes) else None
    return judge.evidence(check, "smime", what, attachment=part.filename), content
