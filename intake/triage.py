"""The triage of one message: parse → guard → thread hint → classify → identity. Pure code.

No database, no network: the daemon, `intake inspect` and the tests all run this same code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from intake.guard import GuardVerdict, check_guard
from intake.identity import IdentityChecker, IdentityFinding, build_checker
from intake.message import ParsedMessage, parse_message
from intake.requester_text import requester_text
from intake.thread import ThreadHint, thread_hint

if TYPE_CHECKING:
    from intake.classify import Classification, Classifier
    from intake.config import Settings

# What the case stage should do with a message, before it looks at the database.
OPEN_REQUEST = "open_request"  # a right is exercised: a case with the legal clock
OPEN_QUESTION = "open_question"  # a question or remark for the DPO: a case without the legal clock
FOLLOWUP = "followup"  # names an existing case: join it if the sender matches
LIST_ONLY = "list_only"  # invoices, spam, unclassified mail: recorded and listed, not answered
ROBOT = "robot"  # auto-replies, bounces, lists, our own mail: recorded, never answered

_REPLY_PREFIX = re.compile(r"^\s*((re|antw|aw|sv|wg|fw|fwd|tr)\s*:\s*)+", re.IGNORECASE)
_GUARD_KINDS = {"auto_reply": "auto_reply", "bounce": "bounce", "bulk": "bulk", "loop": "other"}


@dataclass(frozen=True)
class TriageResult:
    """Everything the triage concluded about one message, with the reasons."""

    kind: str
    disposition: str
    language: str
    rights: tuple[str, ...]
    confidence: float
    needs_review: bool
    identity: IdentityFinding
    thread: ThreadHint
    guard: GuardVerdict
    classification: Classification
    would_acknowledge: bool
    explanation: tuple[str, ...]

    @property
    def case_ref(self) -> str | None:
        return self.thread.case_ref

    def to_json(self) -> dict[str, Any]:
        """The `intake inspect --json` object (DESIGN.md contract), plus `disposition`."""
        return {
            "kind": self.kind,
            "language": self.language,
            "rights": list(self.rights),
            "confidence": round(self.confidence, 3),
            "needs_review": self.needs_review,
            "identity": self.identity.to_json(),
            "case_ref": self.case_ref,
            "would_acknowledge": self.would_acknowledge,
            "explanation": list(self.explanation),
            "disposition": self.disposition,
        }


class TriagePipeline:
    """Holds what is expensive to build (rules, language models) once, and triages many messages."""

    def __init__(
        self,
        classifier: Classifier,
        identity: IdentityChecker,
        own_addresses: Collection[str] = (),
        reference_prefixes: Collection[str] = (),
        ocr: Callable[[bytes], str] | None = None,
    ) -> None:
        self.classifier = classifier
        self.identity = identity
        self.own_addresses = frozenset(a.lower() for a in own_addresses)
        self.reference_prefixes = tuple(reference_prefixes)
        # Reads scanned PDF letters when the body only points to them ("zie bijlage").
        self.ocr: Callable[[bytes], str] | None = ocr

    @classmethod
    def from_settings(
        cls, settings: Settings, trust_anchors_dir: str | None = None, with_model: bool = True
    ) -> TriagePipeline:
        """The triage the settings describe; `with_model=False` classifies on the rules alone."""
        from intake.classify import Classifier
        from intake.classify.trained import load_model

        if with_model:
            model, note = load_model(settings.model_dir, settings.rules_dir)
        else:
            model, note = None, "left out on request"
        return cls(
            classifier=Classifier.load(settings.rules_dir, model=model, model_note=note),
            identity=build_checker(settings, trust_anchors_dir),
            own_addresses=settings.all_own_addresses,
            reference_prefixes=[m.reference_prefix for m in settings.mailboxes],
            ocr=_scanned_letter_reader() if settings.identity.ocr else None,
        )

    def triage_bytes(self, raw: bytes) -> TriageResult:
        return self.triage(parse_message(raw))

    def triage(self, msg: ParsedMessage) -> TriageResult:
        guard = check_guard(msg, self.own_addresses)
        thread = thread_hint(msg, self.reference_prefixes)
        text = requester_text(msg, ocr=self.ocr)
        # A reply's subject names the case's first request ("Re: Uw verzoek tot inzage DPO-…"),
        # not a right exercised anew: only the body of a reply to a known case is classified.
        reply_to_case = bool(thread.case_ref) and _REPLY_PREFIX.match(msg.subject or "") is not None
        classification = self.classifier.classify("" if reply_to_case else msg.subject, text.text)
        identity = self.identity.assess(msg)

        explanation: list[str] = [f"guard: {reason}" for reason in guard.reasons]
        if msg.defects:
            explanation.append(f"mime: defects {', '.join(msg.defects)}")
        explanation.extend(f"text: {note}" for note in text.notes)
        if guard.kind:
            kind, disposition = _GUARD_KINDS[guard.kind], ROBOT
        elif thread.case_ref:
            kind, disposition = "followup", FOLLOWUP
            explanation.append(f"thread: subject names case {thread.case_ref}")
        elif classification.rights:
            kind, disposition = "request", OPEN_REQUEST
        elif classification.topic == "question":
            kind, disposition = "other", OPEN_QUESTION
        else:
            kind, disposition = "other", LIST_ONLY
        explanation.extend(classification.explanation)
        explanation.append(f"identity: {identity.status}")
        explanation.extend(f"identity: {e.type} {e.status}: {e.detail}" for e in identity.evidence
                           if e.detail)
        if identity.dmarc_failed:
            explanation.append("identity: DMARC failed: the sender address proves nothing")
        explanation.append(f"disposition: {disposition}")

        return TriageResult(
            kind=kind,
            disposition=disposition,
            language=classification.language,
            rights=() if disposition == ROBOT else classification.rights,  # robots exercise none
            confidence=classification.confidence,
            needs_review=classification.needs_review and disposition != ROBOT,
            identity=identity,
            thread=thread,
            guard=guard,
            classification=classification,
            would_acknowledge=guard.may_reply and disposition in (OPEN_REQUEST, OPEN_QUESTION),
            explanation=tuple(explanation),
        )


def _scanned_letter_reader() -> Callable[[bytes], str]:
    from intake.mailtext.scanned import ocr_pdf_letter

    return ocr_pdf_letter
