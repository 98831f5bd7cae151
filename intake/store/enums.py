"""The closed sets of values the database stores: message fates, dispositions, case kinds, states.

String enums, so a member compares equal to its stored text; the migration 0003 puts the same
sets in CHECK constraints, so a stray value is refused by the database too.
"""

from __future__ import annotations

from enum import StrEnum


class Disposition(StrEnum):
    """What the case stage does with a message (the `disposition` of `intake inspect --json`)."""

    OPEN_REQUEST = "open_request"  # a right is exercised: a case with the legal clock
    OPEN_QUESTION = "open_question"  # a question or remark: a case with a service target
    TO_CLASSIFY = "to_classify"  # a person's message not placed: a case, clock provisionally
    FOLLOWUP = "followup"  # names an existing case: join it if the sender matches
    LIST_ONLY = "list_only"  # positive evidence it is nobody's request: listed, not answered
    ROBOT = "robot"  # auto-replies, bounces, lists, our own mail: listed, never answered


class CaseKind(StrEnum):
    REQUEST = "request"  # legal clock (Art. 12(3))
    QUESTION = "question"  # service target, no legal clock
    TO_CLASSIFY = "to_classify"  # legal clock provisionally, until staff decide


class CaseStatus(StrEnum):
    OPEN = "open"
    AWAITING_IDENTITY = "awaiting_identity"
    CLOSED = "closed"


class MessageStatus(StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"


class MessageKind(StrEnum):
    """What the triage could tell a message is (the `kind` of `intake inspect --json`)."""

    REQUEST = "request"
    FOLLOWUP = "followup"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    BULK = "bulk"
    OTHER = "other"


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


# Case kinds whose legal clock runs (a case to classify runs it provisionally: fail-safe).
LEGAL_CLOCK_KINDS: tuple[str, ...] = (CaseKind.REQUEST.value, CaseKind.TO_CLASSIFY.value)
