"""The triage of one message: parse → guard → thread hint → classify → identity. Pure code.

No database, no network: the daemon, `intake inspect` and the tests all run this same code.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from intake.guard import GuardVerdict, check_guard, relays_a_person
from intake.identity import IdentityChecker, IdentityFinding, build_checker, build_sandbox
from intake.identity.dmarc import ENFORCED, dmarc_policy
from intake.mailtext.letters import LetterText, display_name, letter_kind
from intake.message import Attachment, ParsedMessage, parse_message
from intake.nocase import NoCaseEvidence, no_case_evidence
from intake.requester_text import requester_text
from intake.rights import RIGHTS
from intake.store.enums import Disposition
from intake.thread import ThreadHint, thread_hint

if TYPE_CHECKING:
    from intake.classify import Classification, Classifier
    from intake.classify.rules import Rule
    from intake.classify.thresholds import Thresholds
    from intake.config import Settings
    from intake.untrusted.sandbox import Sandbox

# What the case stage should do with a message, before it looks at the database.
OPEN_REQUEST = Disposition.OPEN_REQUEST  # a right is exercised: a case with the legal clock
OPEN_QUESTION = Disposition.OPEN_QUESTION  # a question or remark: a case without the legal clock
TO_CLASSIFY = Disposition.TO_CLASSIFY  # a person's mail not placed: a case, clock provisionally
FOLLOWUP = Disposition.FOLLOWUP  # names an existing case: join it if the sender matches
LIST_ONLY = Disposition.LIST_ONLY  # positive evidence of nobody's request: listed, not answered
ROBOT = Disposition.ROBOT  # auto-replies, bounces, lists, our own mail: recorded, never answered

# Mail an automated sender relays for a person (a voicemail transcript, a chat export, a web
# form: Auto-Submitted: auto-generated, answering nothing) opens a case to classify when it shows
# some evidence of a right: a rule of a right matched, or the model gives a right at least this.
RELAYED_EVIDENCE_PROBABILITY = 0.2
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
    no_case: NoCaseEvidence | None = None  # the evidence behind a list_only disposition
    dmarc_policy: str | None = None  # the failing From domain's policy, when stated

    @property
    def sender_unverified(self) -> bool:
        """DMARC failed under a reject/quarantine policy: an answer could reach a spoofed
        address (backscatter), so none is sent; staff decide."""
        return self.identity.dmarc_failed and self.dmarc_policy in ENFORCED

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
            "disposition": str(self.disposition),
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
        sandbox: Sandbox | None = None,
    ) -> None:
        self.classifier = classifier
        self.identity = identity
        self.own_addresses = frozenset(a.lower() for a in own_addresses)
        self.own_domains = frozenset(a.rpartition("@")[2] for a in self.own_addresses if "@" in a)
        self.reference_prefixes = tuple(reference_prefixes)
        # Reads scanned PDF letters when the body only points to them ("zie bijlage").
        self.ocr: Callable[[bytes], str] | None = ocr
        # Decodes attachments in a child process with hard limits (letters here; the identity
        # checker holds the same one). None: in-process, as in most unit tests.
        self.sandbox = sandbox

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        trust_anchors_dir: str | None = None,
        with_model: bool = True,
        eager: bool = True,
        rules: tuple[Sequence[Rule], Thresholds] | None = None,
    ) -> TriagePipeline:
        """The triage the settings describe; `with_model=False` classifies on the rules alone.

        `eager=False` (the daemon's start): only the Dutch rules are built now, the other
        languages when first needed or when the worker warms them up (Classifier.warm);
        every rule is checked now all the same. `rules`: the rules and thresholds of
        `settings.rules_dir`, when the caller has read them already.
        """
        from intake.classify.engine import Classifier
        from intake.classify.labels import DEFAULT_LANGUAGE
        from intake.classify.rules import load_rules
        from intake.classify.thresholds import load_thresholds
        from intake.classify.trained import load_model

        if with_model:
            model, note = load_model(settings.model_dir, settings.rules_dir)
        else:
            model, note = None, "left out on request"
        sandbox = build_sandbox(settings)
        if rules is None:
            rules = load_rules(settings.rules_dir), load_thresholds(settings.rules_dir)
        classifier = Classifier(*rules, model=model, model_note=note, eager=eager,
                                cache_dir=rules_cache_dir(settings))
        if not eager:
            classifier.warm([DEFAULT_LANGUAGE])
        return cls(
            classifier=classifier,
            identity=build_checker(settings, trust_anchors_dir, sandbox=sandbox),
            own_addresses=settings.all_own_addresses,
            reference_prefixes=[m.reference_prefix for m in settings.mailboxes],
            ocr=_scanned_letter_reader() if settings.identity.ocr else None,
            sandbox=sandbox,
        )

    def wait(self) -> TriagePipeline:
        """This pipeline (built already); see intake.startup.DeferredPipeline."""
        return self

    def triage_bytes(self, raw: bytes) -> TriageResult:
        return self.triage(parse_message(raw))

    def triage(self, msg: ParsedMessage) -> TriageResult:
        guard = check_guard(msg, self.own_addresses)
        thread = thread_hint(msg, self.reference_prefixes)
        budget = self.sandbox.message() if self.sandbox else contextlib.nullcontext()
        with budget:  # one time budget for every attachment of the message
            reader = self._sandboxed_letter if self.sandbox else None
            text = requester_text(msg, ocr=self.ocr, reader=reader)
            # A reply's subject names the case's first request ("Re: Uw verzoek tot inzage
            # DPO-…"), not a right exercised anew: only the body of a reply to a known case counts.
            reply_to_case = (bool(thread.case_ref)
                             and _REPLY_PREFIX.match(msg.subject or "") is not None)
            classification = self.classifier.classify("" if reply_to_case else msg.subject,
                                                      text.text,
                                                      followup=bool(thread.case_ref))
            identity = self.identity.assess(msg)

        explanation: list[str] = [f"guard: {reason}" for reason in guard.reasons]
        if msg.defects:
            explanation.append(f"mime: defects {', '.join(msg.defects)}")
        if msg.limit:
            explanation.append(f"mime: not examined: {msg.limit}")
        explanation.extend(f"text: {note}" for note in text.notes)
        evidence: NoCaseEvidence | None = None
        relays = relays_a_person(msg, guard)
        relayed = relays and bool(classification.rights)
        channel = ("a mailing list or issue tracker" if guard.list_post
                   else "a contact form?" if relayed else "a voicemail, a chat, a form?")
        if relayed:
            # A contact form, ticket system or issue tracker mails what a person typed: never
            # answered (the sender is a machine or a list), but a request all the same, with its
            # case and clock.
            kind, disposition = "request", OPEN_REQUEST
            explanation.append(f"guard: an automated sender relays a person's request ({channel})"
                               ": a case, flagged for review, no acknowledgement")
        elif relays and _evidence_of_a_right(classification):
            # What a voicemail, chat system or list passes on is a person's words even when no
            # right reached its threshold: the clock runs (fail-safe), staff decide.
            kind, disposition = "other", TO_CLASSIFY
            explanation.append("guard: an automated sender relays what a person said, with some "
                               f"evidence of a right ({channel}): to classify, no acknowledgement")
        elif guard.kind:
            kind, disposition = _GUARD_KINDS[guard.kind], ROBOT
        elif thread.case_ref:
            kind, disposition = "followup", FOLLOWUP
            explanation.append(f"thread: subject names case {thread.case_ref}")
        elif classification.rights:
            kind, disposition = "request", OPEN_REQUEST
        elif classification.set_aside:
            # Rights found but read as a question about them: a question case, flagged; never
            # out of the register on no-case evidence, since the scores did reach a right.
            kind, disposition = "other", OPEN_QUESTION
        elif (evidence := no_case_evidence(msg, self.own_domains, identity.dmarc_failed)):
            kind, disposition = "other", LIST_ONLY
        elif classification.topic == "question":
            kind, disposition = "other", OPEN_QUESTION
        else:
            # Fail-safe: the legal clock runs from receipt whether or not we recognised a right.
            kind, disposition = "other", TO_CLASSIFY
        explanation.extend(classification.explanation)
        explanation.append(f"identity: {identity.status}")
        explanation.extend(f"identity: {e.type} {e.status}: {e.detail}" for e in identity.evidence
                           if e.detail)
        policy = dmarc_policy(msg) if identity.dmarc_failed else None
        if identity.dmarc_failed:
            explanation.append("identity: DMARC failed: the sender address proves nothing")
        if policy in ENFORCED and disposition not in (ROBOT, LIST_ONLY):
            explanation.append(f"identity: DMARC failed under p={policy}: sender not verified, "
                               "no acknowledgement (it could reach a spoofed address)")
        if disposition == LIST_ONLY and evidence is not None:
            explanation.append(evidence.explanation)
        if disposition == TO_CLASSIFY:
            explanation.append("fail-safe: a person's message that is not a recognised request, "
                               "question or follow-up: to classify, with the legal clock "
                               "provisionally from receipt")
        explanation.append(f"disposition: {disposition}")

        answerable = (OPEN_REQUEST, OPEN_QUESTION, TO_CLASSIFY)
        return TriageResult(
            kind=kind,
            disposition=disposition,
            language=classification.language,
            rights=() if disposition == ROBOT else classification.rights,  # robots exercise none
            confidence=classification.confidence,
            needs_review=_classification_asks_review(classification, disposition)
            or disposition == TO_CLASSIFY or relayed or bool(msg.limit)
            or (policy in ENFORCED and disposition not in (ROBOT, LIST_ONLY)),
            identity=identity,
            thread=thread,
            guard=guard,
            classification=classification,
            would_acknowledge=(guard.may_reply and disposition in answerable
                               and policy not in ENFORCED),
            explanation=tuple(explanation),
            no_case=evidence if disposition == LIST_ONLY else None,
            dmarc_policy=policy,
        )


    def _sandboxed_letter(self, attachment: Attachment) -> LetterText:
        """An attached letter read (text layer, DOCX, OCR) in the sandbox's child process."""
        from intake.untrusted.sandbox import ExaminationFailed, LimitReached

        assert self.sandbox is not None
        name = display_name(attachment)
        if letter_kind(attachment) is None:
            return LetterText("", f"attachment {name}: not a PDF or DOCX letter")
        try:
            answer = self.sandbox.call("letter", attachment, self.ocr is not None)
        except LimitReached as exc:
            return LetterText("", f"attachment {name}: not examined: {exc.reason}")
        except ExaminationFailed as exc:
            return LetterText("", f"attachment {name}: unreadable ({exc.kind})")
        return LetterText(str(answer["text"]), str(answer["note"]))


def rules_cache_dir(settings: Settings) -> Path:
    """Where what the rules need from spaCy's data is kept between starts: the model's build
    directory (`intake model train` replaces it, cache included)."""
    return Path(settings.model_dir) / "cache"


def _scanned_letter_reader() -> Callable[[bytes], str]:
    from intake.mailtext.scanned import ocr_pdf_letter

    return ocr_pdf_letter


def _classification_asks_review(classification: Classification, disposition: Disposition
                                ) -> bool:
    """The classifier's review flag, where it means something for this disposition: never for a
    robot; for a follow-up only when it is about the rights. A reply that sends an ID copy or
    asks for news has no topic of its own (the case it joins has), so an unknown topic or a
    question near its threshold says nothing; one that cannot join its case becomes a case to
    classify, reviewed all the same (cases.decide)."""
    if disposition == ROBOT or not classification.needs_review:
        return False
    if disposition == FOLLOWUP:
        return classification.rights_in_doubt
    return True


def _evidence_of_a_right(classification: Classification) -> bool:
    """A rule of a right matched, or the model gives some right RELAYED_EVIDENCE_PROBABILITY."""
    return (any(hit.score > 0 and hit.right in RIGHTS for hit in classification.hits)
            or any(classification.probabilities.get(right, 0.0) >= RELAYED_EVIDENCE_PROBABILITY
                   for right in RIGHTS))
