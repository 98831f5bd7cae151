"""Staff corrections as training examples: reclassified cases, with the requester's own words."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.classify.labels import LANGUAGES, RIGHTS
from intake.mailtext.replies import cut_quote, drop_quoted_lines, strip_disclaimers, strip_signature
from intake.store.models import Case, Event, Message

RECLASSIFIED = "reclassified"
SOURCE_PREFIX = "correction-"


def own_words(text: str) -> str:
    """The text above any quoted reply, without '>' lines, disclaimer and signature."""
    top, _ = cut_quote(text)
    top, _ = drop_quoted_lines(top)
    top, _ = strip_disclaimers(top)
    top, _ = strip_signature(top)
    return top.strip()


def correction_examples(session: Session) -> tuple[list[dict[str, Any]], list[str]]:
    """(examples, skipped references): one corpus line per case whose rights staff changed.

    The case's latest `reclassified` event gives the rights; the text is the message that opened
    the case (the event's message, else the case's first). Cases without text are skipped.
    """
    latest: dict[int, Event] = {}
    for event in session.scalars(
        select(Event).where(Event.type == RECLASSIFIED, Event.case_id.is_not(None))
        .order_by(Event.id)
    ):
        latest[event.case_id] = event  # type: ignore[index]
    examples: list[dict[str, Any]] = []
    skipped: list[str] = []
    cases = session.scalars(select(Case).where(Case.id.in_(latest)).order_by(Case.reference))
    for case in cases:
        event = latest[case.id]
        message = _opening(session, case, event)
        text = own_words(message.body_text or "") if message is not None else ""
        if not text:
            skipped.append(case.reference)
            continue
        rights = [r for r in RIGHTS if r in ((event.data or {}).get("rights") or [])]
        examples.append({
            "text": text,
            "language": case.language if case.language in LANGUAGES else "nl",
            "rights": rights,
            "source": f"{SOURCE_PREFIX}{case.reference}",
        })
    return examples, skipped


def _opening(session: Session, case: Case, event: Event) -> Message | None:
    if event.message_pk is not None:
        message = session.get(Message, event.message_pk)
        if message is not None:
            return message
    return session.scalars(
        select(Message).where(Message.case_id == case.id).order_by(Message.id).limit(1)
    ).first()


def write_jsonl(examples: Iterable[dict[str, Any]], out: TextIO) -> None:
    """One JSON object per line, as models/corpus/*.jsonl."""
    for example in examples:
        out.write(json.dumps(example, ensure_ascii=False) + "\n")
