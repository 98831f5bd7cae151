"""Identity stage: what proof of identity a message carries (ID copies, electronic signatures).

Detectors plug in here: id_documents.IdDocumentDetector (OCR, MRZ, national number) and
signatures.SignatureDetector (S/MIME, PDF, PGP, XAdES). `build_checker` wires both from the
settings. The sender address itself is never proof; when DMARC failed it is not even a hint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from intake.identity.dmarc import dmarc_failed
from intake.message import ParsedMessage

if TYPE_CHECKING:
    from intake.config import Settings
    from intake.untrusted.sandbox import Sandbox

# Strongest first: the status of a message is that of its strongest piece of evidence.
STATUS_ORDER = (
    "verified_signature",
    "id_copy",
    "unverified_signature",
    "invalid_signature",
    "none",
)
PROOF_STATUSES = frozenset({"verified_signature", "id_copy"})


@dataclass(frozen=True)
class Evidence:
    """One piece of identity evidence, in the shape of `intake inspect --json`."""

    type: str  # id_copy | smime | pdf_signature | pgp | xades
    status: str  # which identity status this piece supports (one of STATUS_ORDER)
    attachment: str | None = None
    document: str | None = None  # be_eid | passport | driving_licence | unknown
    valid: bool = False
    trusted: bool = False
    qualified: bool = False
    signer: str | None = None
    detail: str = ""
    # Added to the contract's keys; never the image, never a whole national number.
    side: str | None = None  # id_copy: front | back | both | data_page
    masked_number: str | None = None  # e.g. "85.07.30-***.**" or "BE ***4567 **"
    number_hash: str | None = None  # salted hash of the national number, to match, not to read
    name_match: bool | None = None  # name on the document/certificate vs the sender's display name
    sha256: str | None = None  # of the attachment that carried the evidence

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("status")
        return data


@dataclass(frozen=True)
class IdentityFinding:
    status: str = "none"
    evidence: tuple[Evidence, ...] = ()
    # The receiving server saw the From domain fail DMARC: the sender address proves nothing,
    # so a follow-up "from the requester" is not joined to the case on that address alone.
    dmarc_failed: bool = False

    @property
    def is_proof(self) -> bool:
        """True when the evidence is enough to treat the requester as identified."""
        return self.status in PROOF_STATUSES

    def to_json(self) -> dict[str, object]:
        return {
            "status": self.status,
            "evidence": [e.to_json() for e in self.evidence],
            "dmarc_failed": self.dmarc_failed,
        }


Detector = Callable[[ParsedMessage], Iterable[Evidence]]


class IdentityChecker:
    """Runs every registered detector over a message and reduces the evidence to one status."""

    def __init__(
        self, trust_anchors_dir: str | None = None, detectors: Sequence[Detector] = ()
    ) -> None:
        self.trust_anchors_dir = trust_anchors_dir
        self.detectors = tuple(detectors)

    def assess(self, msg: ParsedMessage) -> IdentityFinding:
        evidence = tuple(e for detector in self.detectors for e in detector(msg))
        failed = dmarc_failed(msg)
        if not evidence:
            return IdentityFinding(dmarc_failed=failed)
        status = min((e.status for e in evidence), key=STATUS_ORDER.index)
        return IdentityFinding(status=status, evidence=evidence, dmarc_failed=failed)


def build_checker(settings: Settings, trust_anchors_dir: str | None = None,
                  sandbox: Sandbox | None = None) -> IdentityChecker:
    """The identity stage the daemon and `intake inspect` use: ID copies and signatures,
    decoded in `sandbox` (a child process with hard limits) when one is given."""
    from intake.identity.signatures import SignatureDetector

    anchors = trust_anchors_dir or settings.trust.anchors_dir
    secret = settings.identity.number_salt
    salt = (secret.resolve() or "").encode() if secret.configured else b""
    detectors: list[Detector] = []
    if settings.identity.ocr:
        from intake.identity.id_documents import IdDocumentDetector
        from intake.identity.images import Limits

        limits = Limits(message_seconds=min(Limits.message_seconds,
                                            settings.identity.sandbox_message_seconds))
        detectors.append(IdDocumentDetector(number_salt=salt, limits=limits, sandbox=sandbox))
    detectors.append(SignatureDetector(anchors, number_salt=salt, sandbox=sandbox))
    return IdentityChecker(anchors, detectors=detectors)


def build_sandbox(settings: Settings) -> Sandbox | None:
    """The sandbox of the settings (`[identity] sandbox = false`: decode in-process)."""
    from intake.untrusted.sandbox import Sandbox, SandboxLimits

    idt = settings.identity
    if not idt.sandbox:
        return None
    return Sandbox(SandboxLimits(
        memory_mb=idt.sandbox_memory_mb, cpu_seconds=idt.sandbox_cpu_seconds,
        wall_seconds=idt.sandbox_wall_seconds, message_seconds=idt.sandbox_message_seconds))
