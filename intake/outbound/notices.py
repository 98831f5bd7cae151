"""Notices to a requester about their case (extension, identity confirmation), via the outbox."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.config import MailboxSettings
from intake.outbound.outbox import pending_item
from intake.outbound.render import (
    VTC_URL,
    RenderedReply,
    compose_reply,
    format_long_date,
    join_sections,
    join_words,
    reply_languages,
    subject_line,
    template_environment,
    words_for,
)
from intake.store.models import Case, Message, OutboxItem
from intake.store.timezone import BRUSSELS

EXTENSION_NOTICE = "extension_notice"
IDENTITY_CONFIRMATION = "identity_confirmation"
# purpose -> (template name, subject label in words.yaml)
NOTICES = {
    EXTENSION_NOTICE: ("extension", "extension_subject"),
    IDENTITY_CONFIRMATION: ("identity_confirmation", "identity_subject"),
}


def first_message(session: Session, case: Case) -> Message | None:
    """The message that opened the case (notices answer it, so they join the requester's thread)."""
    return session.scalars(
        select(Message).where(Message.case_id == case.id, Message.status == "processed")
        .order_by(Message.id).limit(1)
    ).first()


def build_notice(
    purpose: str,
    case: Case,
    mailbox: MailboxSettings,
    reply_to: Message | None,
    values: dict[str, Any],
    now: datetime,
    auto_submitted: str = "auto-generated",
) -> RenderedReply:
    """Render the notice in the mailbox's languages (Dutch first) and wrap it as a safe reply.

    `values` are the notice's own template values, dates as `date` objects (written out per
    language here). `auto_submitted`: "auto-generated" when a person's action caused the notice,
    "auto-replied" when it answers `reply_to` as it comes in. Raises ValueError when the
    requester has no usable address.
    """
    template, label = NOTICES[purpose]
    languages = reply_languages(case.language, mailbox.reply_languages)
    env = template_environment()
    sections = []
    for lang in languages:
        words = words_for(lang)
        right_words = [words["rights"].get(r, r) for r in case.right_names]
        localised = {
            key: format_long_date(value, lang) if isinstance(value, date) else value
            for key, value in values.items()
        }
        text = env.select_template(
            [f"{lang}/{template}-{mailbox.key}.txt", f"{lang}/{template}.txt"]
        ).render(
            language=lang,
            reference=case.reference,
            controller=mailbox.controller,
            mailbox_key=mailbox.key,
            address=mailbox.address,
            dpo_contact=mailbox.dpo_contact or mailbox.address,
            vtc_url=VTC_URL,
            received_date=format_long_date(case.received_at.astimezone(BRUSSELS).date(), lang),
            rights=join_words(right_words, lang) if right_words else words["rights_none"],
            **localised,
        )
        sections.append(re.sub(r"\n{3,}", "\n\n", text).strip())
    return compose_reply(
        mailbox,
        to_name=case.requester_name,
        to_address=case.requester_address,
        subject=subject_line(case.reference, [words_for(lang)[label] for lang in languages],
                             reply_to.subject if reply_to else ""),
        body=join_sections(sections, languages),
        languages=languages,
        parent_id=reply_to.message_id if reply_to else None,
        auto_submitted=auto_submitted,
        now=now,
    )


def queue_notice(
    session: Session,
    purpose: str,
    case: Case,
    mailbox: MailboxSettings,
    reply_to: Message | None,
    values: dict[str, Any],
    now: datetime,
    auto_submitted: str = "auto-generated",
) -> OutboxItem:
    """Build the notice and add it to the outbox in the caller's transaction."""
    reply = build_notice(purpose, case, mailbox, reply_to, values, now, auto_submitted)
    item = pending_item(purpose, reply.message_id, mailbox.address, case.requester_address,
                        reply.raw, now, case.id, reply_to.id if reply_to else None)
    session.add(item)
    return item


def staff_text(text: str) -> str:
    """Free text staff typed, fit for a requester's mail body: no control characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    return re.sub(r"\n{3,}", "\n\n", text).strip()
