"""Electronic-signature detector: S/MIME, signed PDFs, PGP and XAdES/ASiC → identity Evidence.

    detector = SignatureDetector(settings.trust.anchors_dir, number_salt=salt)
    IdentityChecker(detectors=[detector]).assess(msg)

Never raises: a malformed signature is a finding ("invalid_signature" with the reason).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from intake.identity import Evidence
from intake.identity.dmarc import dmarc_failed
from intake.identity.mimeraw import RawPart, children, walk
from intake.identity.pdf_signatures import pdf_signatures
from intake.identity.pgp import inline_pgp, pgp_mime
from intake.identity.smime import detached, is_opaque_signed, is_smime_signed, opaque
from intake.identity.trust import load_anchors
from intake.identity.verdict import Judge
from intake.identity.xades import (
    container_signatures,
    looks_like_container,
    looks_like_signed_xml,
    xml_signature,
)
from intake.message import ParsedMessage

__all__ = ["SignatureDetector", "dmarc_failed"]

log = logging.getLogger(__name__)

MAX_NESTING = 2  # opaque S/MIME inside opaque S/MIME inside a message
MAX_TEXT_SCAN = 1 << 20
MAX_FILE_BYTES = 80 << 20  # encoded size; pdf_signatures refuses above 50 MB decoded anyway
_FILE_TYPES = frozenset({
    "application/pdf", "application/octet-stream", "application/zip", "application/xml",
    "text/xml", "application/vnd.etsi.asic-e+zip", "application/vnd.etsi.asic-s+zip",
})
_FILE_SUFFIXES = (".pdf", ".asice", ".sce", ".asics", ".scs", ".bdoc", ".xml", ".p7m")

Clock = datetime | Callable[[], datetime] | None

# Anything that could carry a signature shows one of these in a header of the raw message (or,
# for inline PGP, in the decoded text). Most mail has none: its MIME tree is then not walked.
_MAY_BE_SIGNED = re.compile(
    rb"pkcs7|pgp-signature|BEGIN PGP SIGNED|multipart/signed|application/(?:pdf|zip|xml|"
    rb"octet-stream|vnd\.etsi)|text/xml|\.(?:pdf|asice|sce|asics|scs|bdoc|xml|p7m|p7s)\b",
    re.IGNORECASE,
)


class SignatureDetector:
    """Finds and checks the electronic signatures a message carries (an identity Detector)."""

    def __init__(
        self, anchors_dir: str | Path | None, number_salt: bytes = b"", now: Clock = None
    ) -> None:
        self.anchors = load_anchors(anchors_dir)
        self.salt = number_salt
        self._now = now

    def now(self) -> datetime:
        if callable(self._now):
            return self._now()
        return self._now or datetime.now(UTC)

    def __call__(self, msg: ParsedMessage) -> list[Evidence]:
        if not _MAY_BE_SIGNED.search(msg.raw) and "BEGIN PGP SIGNED" not in msg.text:
            return []
        started = time.perf_counter()
        judge = Judge(self.anchors, self.now(), self.salt, msg.from_name)
        found: list[Evidence] = []
        try:
            self._scan(msg.raw, judge, found, nesting=0)
        except Exception as exc:  # a bug or hostile input must not stop the triage
            log.warning("signature scan failed", extra={"error": type(exc).__name__})
        log.info("signatures checked", extra={
            "found": len(found), "statuses": ",".join(e.status for e in found) or "-",
            "ms": round((time.perf_counter() - started) * 1000, 1)})
        return found

    def _scan(self, raw: bytes, judge: Judge, found: list[Evidence], nesting: int) -> None:
        for part in walk(raw):
            if is_smime_signed(part):
                found.append(detached(part, judge))
            elif part.content_type == "multipart/signed" and "pgp" in part.param("protocol"):
                subparts = children(part)
                signature = subparts[1].raw if len(subparts) == 2 else b""
                found.append(pgp_mime(signature, part.param("micalg")))
            elif is_opaque_signed(part):
                evidence, inner = opaque(part, judge)
                if evidence:
                    found.append(evidence)
                if inner and nesting < MAX_NESTING:
                    self._scan(inner, judge, found, nesting + 1)
            elif part.content_type == "text/plain" and len(part.body) <= MAX_TEXT_SCAN:
                evidence = inline_pgp(part.decoded())
                if evidence:
                    found.append(evidence)
            elif _may_carry_signature(part):
                found.extend(_file_signatures(part, judge))


def _may_carry_signature(part: RawPart) -> bool:
    if part.content_type.startswith(("multipart/", "message/")):
        return False
    name = (part.filename or "").lower()
    return part.content_type in _FILE_TYPES or name.endswith(_FILE_SUFFIXES)


def _file_signatures(part: RawPart, judge: Judge) -> list[Evidence]:
    if len(part.body) > MAX_FILE_BYTES:
        return []
    data = part.decoded()
    name, ctype = part.filename, part.content_type
    sha256 = hashlib.sha256(data).hexdigest()
    if data.startswith(b"%PDF"):
        return pdf_signatures(data, name, sha256, judge)
    if looks_like_container(name, ctype, data):
        return container_signatures(data, name, sha256, judge)
    if looks_like_signed_xml(name, ctype, data):
        return xml_signature(data, name, sha256, judge)
    return []
