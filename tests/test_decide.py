"""The case decision as a table: every disposition and every clock branch, without a database."""

from __future__ import annotations

from dataclasses import replace

import pytest

from intake.cases.decide import Action, Clock, Known, KnownCase, Reply, decide
from intake.classify.engine import Classification
from intake.guard import GuardVerdict
from intake.identity import IdentityFinding
from intake.nocase import NoCaseEvidence
from intake.store.enums import CaseKind, Disposition
from intake.thread import ThreadHint
from intake.triage import TriageResult

SENDER = "jan@example.org"
IDENTITY_FOR = ("access", "erasure")


def triage(
    disposition: Disposition,
    rights: tuple[str, ...] = (),
    *,
    kind: str = "other",
    topic: str = "unknown",
    guard: GuardVerdict | None = None,
    ref: str | None = None,
    reply_to: tuple[str, ...] = (),
    identity: str = "none",
    dmarc_failed: bool = False,
    policy: str | None = None,
    needs_review: bool = False,
    no_case: NoCaseEvidence | None = None,
) -> TriageResult:
    classification = Classification(
        language="nl", rights=rights, scores={}, confidence=0.9, needs_review=needs_review,
        topic=topic, hits=(), explanation=(), review_reasons=("close call",) if needs_review
        else (),
    )
    return TriageResult(
        kind=kind, disposition=disposition, language="nl", rights=rights, confidence=0.9,
        needs_review=needs_review, identity=IdentityFinding(identity, (), dmarc_failed),
        thread=ThreadHint((ref,) if ref else (), reply_to),
        guard=guard or GuardVerdict(None, ()), classification=classification,
        would_acknowledge=True, explanation=(), no_case=no_case, dmarc_policy=policy,
    )


def known(**kwargs) -> Known:
    return Known(SENDER, **kwargs)


def case(status: str = "open", requester: str = SENDER, rights=("access",)) -> KnownCase:
    return KnownCase("DPO-AGO-2026-0001", requester, status, tuple(rights),
                     "reference DPO-AGO-2026-0001 in the subject")


def plan_for(t: TriageResult, k: Known | None = None, limit: int = 5):
    return decide(t, k or known(), identity_required_for=IDENTITY_FOR, replies_per_day=limit)


ROBOT = GuardVerdict("auto_reply", ("Auto-Submitted: auto-replied",))
INVOICE = NoCaseEvidence("invoice", ("invoice wording, an amount (€ 12,50)", "an IBAN"))

# (name, triage, known, action, disposition, case kind, clock, suspended, reply)
TABLE = [
    ("request, identity needed", triage(Disposition.OPEN_REQUEST, ("erasure",), kind="request"),
     known(), Action.OPEN, Disposition.OPEN_REQUEST, CaseKind.REQUEST, Clock.LEGAL, True,
     Reply.ACKNOWLEDGEMENT),
    ("request, no identity needed",
     triage(Disposition.OPEN_REQUEST, ("objection",), kind="request"), known(), Action.OPEN,
     Disposition.OPEN_REQUEST, CaseKind.REQUEST, Clock.LEGAL, False, Reply.ACKNOWLEDGEMENT),
    ("request with proof of identity",
     triage(Disposition.OPEN_REQUEST, ("access",), kind="request", identity="id_copy"), known(),
     Action.OPEN, Disposition.OPEN_REQUEST, CaseKind.REQUEST, Clock.LEGAL, False,
     Reply.ACKNOWLEDGEMENT),
    ("question", triage(Disposition.OPEN_QUESTION, topic="question"), known(), Action.OPEN,
     Disposition.OPEN_QUESTION, CaseKind.QUESTION, Clock.SERVICE, False, Reply.ACKNOWLEDGEMENT),
    ("to classify", triage(Disposition.TO_CLASSIFY), known(), Action.OPEN,
     Disposition.TO_CLASSIFY, CaseKind.TO_CLASSIFY, Clock.PROVISIONAL, False,
     Reply.ACKNOWLEDGEMENT),
    ("list only (invoice)", triage(Disposition.LIST_ONLY, no_case=INVOICE), known(), Action.LIST,
     Disposition.LIST_ONLY, None, Clock.NONE, False, None),
    ("robot", triage(Disposition.ROBOT, kind="auto_reply", guard=ROBOT), known(), Action.LIST,
     Disposition.ROBOT, None, Clock.NONE, False, None),
    ("robot replying to a case is not joined",
     triage(Disposition.ROBOT, kind="auto_reply", guard=ROBOT, reply_to=("<a@b>",)),
     known(thread_case=case()), Action.LIST, Disposition.ROBOT, None, Clock.NONE, False, None),
    ("duplicate", triage(Disposition.OPEN_REQUEST, ("access",)), known(earlier_copy=7),
     Action.DUPLICATE, Disposition.OPEN_REQUEST, None, Clock.NONE, False, None),
    ("follow-up joins", triage(Disposition.FOLLOWUP, ref="DPO-AGO-2026-0001", kind="followup"),
     known(thread_case=case()), Action.JOIN, Disposition.FOLLOWUP, None, Clock.NONE, False,
     None),
    ("reply headers join a to-classify message",
     triage(Disposition.TO_CLASSIFY, reply_to=("<ack@x>",)), known(thread_case=case()),
     Action.JOIN, Disposition.FOLLOWUP, None, Clock.NONE, False, None),
    ("follow-up with proof resumes the clock",
     triage(Disposition.FOLLOWUP, ref="DPO-AGO-2026-0001", identity="id_copy"),
     known(thread_case=case("awaiting_identity")), Action.JOIN, Disposition.FOLLOWUP, None,
     Clock.NONE, False, Reply.IDENTITY_CONFIRMATION),
    ("follow-up from someone else: own case, to classify",
     triage(Disposition.FOLLOWUP, ref="DPO-AGO-2026-0001"),
     known(thread_case=case(requester="other@example.org")), Action.OPEN,
     Disposition.TO_CLASSIFY, CaseKind.TO_CLASSIFY, Clock.PROVISIONAL, False,
     Reply.ACKNOWLEDGEMENT),
    ("follow-up naming an unknown case with rights: a request",
     triage(Disposition.FOLLOWUP, ("objection",), ref="DPO-AGO-2026-0099"), known(),
     Action.OPEN, Disposition.OPEN_REQUEST, CaseKind.REQUEST, Clock.LEGAL, False,
     Reply.ACKNOWLEDGEMENT),
    ("follow-up naming an unknown case, a question",
     triage(Disposition.FOLLOWUP, ref="DPO-AGO-2026-0099", topic="question"), known(),
     Action.OPEN, Disposition.OPEN_QUESTION, CaseKind.QUESTION, Clock.SERVICE, False,
     Reply.ACKNOWLEDGEMENT),
    ("follow-up failing DMARC is not joined",
     triage(Disposition.FOLLOWUP, ref="DPO-AGO-2026-0001", dmarc_failed=True),
     known(thread_case=case()), Action.OPEN, Disposition.TO_CLASSIFY, CaseKind.TO_CLASSIFY,
     Clock.PROVISIONAL, False, Reply.ACKNOWLEDGEMENT),
    ("DMARC failed under p=reject: case, no acknowledgement",
     triage(Disposition.OPEN_REQUEST, ("objection",), dmarc_failed=True, policy="reject"),
     known(), Action.OPEN, Disposition.OPEN_REQUEST, CaseKind.REQUEST, Clock.LEGAL, False, None),
    ("DMARC failed under p=quarantine, to classify: case, no acknowledgement",
     triage(Disposition.TO_CLASSIFY, dmarc_failed=True, policy="quarantine"), known(),
     Action.OPEN, Disposition.TO_CLASSIFY, CaseKind.TO_CLASSIFY, Clock.PROVISIONAL, False, None),
    ("DMARC failed under p=none: acknowledged",
     triage(Disposition.TO_CLASSIFY, dmarc_failed=True, policy="none"), known(), Action.OPEN,
     Disposition.TO_CLASSIFY, CaseKind.TO_CLASSIFY, Clock.PROVISIONAL, False,
     Reply.ACKNOWLEDGEMENT),
    ("reply limit reached", triage(Disposition.TO_CLASSIFY), known(recent_replies=5),
     Action.OPEN, Disposition.TO_CLASSIFY, CaseKind.TO_CLASSIFY, Clock.PROVISIONAL, False, None),
    ("no usable sender", triage(Disposition.TO_CLASSIFY,
                                guard=GuardVerdict(None, ("no sender address",), False)),
     known(), Action.OPEN, Disposition.TO_CLASSIFY, CaseKind.TO_CLASSIFY, Clock.PROVISIONAL,
     False, None),
]


@pytest.mark.parametrize(
    "t, k, action, disposition, kind, clock, suspended, reply",
    [row[1:] for row in TABLE], ids=[row[0] for row in TABLE],
)
def test_decision_table(t, k, action, disposition, kind, clock, suspended, reply):
    plan = plan_for(t, k)
    assert (plan.action, plan.disposition, plan.case_kind, plan.clock,
            plan.suspend_for_identity, plan.reply) == (
        action, disposition, kind, clock, suspended, reply)
    assert plan.reasons, "every plan says why"


def test_every_disposition_and_clock_is_in_the_table():
    plans = [plan_for(row[1], row[2]) for row in TABLE]
    assert {p.disposition for p in plans} == set(Disposition)
    assert {p.clock for p in plans} == set(Clock)
    assert {p.action for p in plans} == set(Action)


def test_to_classify_is_flagged_for_review_with_the_provisional_clock():
    plan = plan_for(triage(Disposition.TO_CLASSIFY))
    assert plan.review and "to classify" in plan.review and "provisionally" in plan.review


def test_dmarc_failed_sender_is_flagged_not_verified_and_the_withholding_is_an_event():
    plan = plan_for(triage(Disposition.OPEN_REQUEST, ("objection",), dmarc_failed=True,
                           policy="reject"))
    assert plan.review.startswith("sender not verified")
    assert [e[0] for e in plan.events] == ["acknowledgement_withheld"]


def test_list_only_event_carries_the_evidence():
    plan = plan_for(triage(Disposition.LIST_ONLY, no_case=INVOICE))
    assert plan.events == (("listed", "other: list_only; no case: invoice: invoice wording, "
                                      "an amount (€ 12,50); an IBAN"),)


def test_reply_limit_is_an_event_and_a_review():
    plan = plan_for(triage(Disposition.OPEN_REQUEST, ("objection",)), known(recent_replies=9))
    assert plan.events[0][0] == "acknowledgement_suppressed"
    assert "reply limit" in plan.review


def test_joined_case_review_for_closed_case_and_further_rights():
    closed = plan_for(triage(Disposition.FOLLOWUP, ref="DPO-AGO-2026-0001"),
                      known(thread_case=case("closed")))
    assert closed.review == "follow-up on a closed case"
    more = plan_for(triage(Disposition.FOLLOWUP, ("access", "erasure"),
                           ref="DPO-AGO-2026-0001"), known(thread_case=case()))
    assert more.review == "follow-up seems to exercise further rights: erasure"


def test_proof_in_a_follow_up_beyond_the_reply_limit_is_not_confirmed():
    plan = plan_for(triage(Disposition.FOLLOWUP, ref="DPO-AGO-2026-0001", identity="id_copy"),
                    known(thread_case=case("awaiting_identity"), recent_replies=5))
    assert plan.proof_arrived and plan.reply is None
    assert plan.events[0][0] == "identity_confirmation_suppressed"


def test_classifier_review_reason_reaches_the_request():
    plan = plan_for(replace(triage(Disposition.OPEN_REQUEST, ("objection",), needs_review=True)))
    assert plan.review == "close call"


RECLASSIFY = [
    ("to classify -> request keeps the clock from receipt", "to_classify", ("access",), False,
     CaseKind.REQUEST, "keep", False),
    ("to classify -> question stops the legal clock", "to_classify", (), False,
     CaseKind.QUESTION, "cancel", False),
    ("to classify -> no case closes it", "to_classify", (), True, None, "cancel", True),
    ("question -> request starts the clock", "question", ("erasure",), False, CaseKind.REQUEST,
     "start", False),
    ("request -> question cancels the clock", "request", (), False, CaseKind.QUESTION, "cancel",
     False),
    ("request -> other rights keeps the clock", "request", ("objection",), False,
     CaseKind.REQUEST, "keep", False),
]


@pytest.mark.parametrize("kind, rights, no_case, new_kind, clock, close",
                         [row[1:] for row in RECLASSIFY], ids=[row[0] for row in RECLASSIFY])
def test_reclassification_table(kind, rights, no_case, new_kind, clock, close):
    from intake.cases.decide import decide_reclassification

    change = decide_reclassification(kind, rights, no_case)
    assert (change.kind, change.clock.value, change.close) == (new_kind, clock, close)


def test_only_a_case_to_classify_becomes_no_case():
    from intake.cases.decide import decide_reclassification

    with pytest.raises(ValueError, match="only a case to classify"):
        decide_reclassification("request", (), no_case=True)
