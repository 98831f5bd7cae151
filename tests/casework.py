"""Cases for the staff-operation tests, opened by the real recorder from generated mail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from itertools import count
from pathlib import Path

from sqlalchemy import select

from intake.cases.recorder import RecordOutcome, record_message
from intake.config import (
    DatabaseSettings,
    MailboxSettings,
    MaildirSettings,
    RunSettings,
    Settings,
    SmtpSettings,
    TrustSettings,
)
from intake.identity import IdentityChecker
from intake.message import parse_message
from intake.store.models import Case, OutboxItem
from intake.triage import TriagePipeline
from tests.fixtures.pipeline import AGO, WSE

SMTP = SmtpSettings()
AGO_BOX = MailboxSettings(**AGO, reply_languages=("nl", "fr"),
                          maildir=MaildirSettings(path="unused"))
WSE_BOX = MailboxSettings(**WSE, retention_years=3, maildir=MaildirSettings(path="unused"))
JAN = ("Jan Peeters", "jan.peeters@example.be")
MARIE = ("Marie Dubois", "marie.dubois@example.org")


def settings_for(db_url: str) -> Settings:
    return Settings(source="<test>", database=DatabaseSettings(db_url), smtp=SMTP,
                    trust=TrustSettings(), run=RunSettings(), mailboxes=(AGO_BOX, WSE_BOX))


def write_settings(tmp_path: Path, db_url: str) -> Path:
    """The same two mailboxes as settings_for, as an operator's settings file (for the CLI)."""
    path = tmp_path / "intake.toml"
    blocks = [f'[database]\nurl = "{db_url}"\n\n[smtp]\ntransport = "file"\n']
    for box in (AGO_BOX, WSE_BOX):
        languages = ", ".join(f'"{lang}"' for lang in box.reply_languages)
        rights = ", ".join(f'"{r}"' for r in box.identity_required_for)
        blocks.append(
            f'[[mailbox]]\nkey = "{box.key}"\ncontroller = "{box.controller}"\n'
            f'address = "{box.address}"\nreference_prefix = "{box.reference_prefix}"\n'
            f"reply_languages = [{languages}]\nidentity_required_for = [{rights}]\n"
            f"retention_years = {box.retention_years}\n\n"
            f'[mailbox.maildir]\npath = "{tmp_path / box.key}"\n'
        )
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def with_id_detector(pipeline: TriagePipeline) -> TriagePipeline:
    """The session's real triage with the real ID-copy detector (Tesseract) in its seam."""
    from intake.identity.id_documents import IdDocumentDetector

    return TriagePipeline(pipeline.classifier, IdentityChecker(detectors=[IdDocumentDetector()]),
                          pipeline.own_addresses, pipeline.reference_prefixes)


def _id_card_jpeg() -> bytes:
    """A photo of the back of a fictional Belgian eID (MRZ with valid check digits)."""
    from tests.idgen import eid_back, encode, make_person

    return encode(eid_back(make_person(11), seed=11))


ID_CARD_JPEG = _id_card_jpeg()


@dataclass
class Inbox:
    """Delivers raw mail to the real triage and recorder, one transaction per message."""

    sessions: object
    pipeline: TriagePipeline
    uids: count = field(default_factory=lambda: count(1))

    def deliver(self, mailbox: MailboxSettings, raw: bytes, received: datetime,
                now: datetime | None = None) -> RecordOutcome:
        from intake.source.base import FetchedMessage

        msg = parse_message(raw)
        fetched = FetchedMessage(mailbox.key, "INBOX", 1, next(self.uids), received, raw)
        with self.sessions() as session, session.begin():
            return record_message(session, mailbox, SMTP, fetched, msg,
                                  self.pipeline.triage(msg), now or received + timedelta(minutes=2))


def case(session, reference: str) -> Case:
    return session.scalars(select(Case).where(Case.reference == reference)).one()


def outbox(session, purpose: str) -> list[OutboxItem]:
    return list(session.scalars(select(OutboxItem).where(OutboxItem.purpose == purpose)
                                .order_by(OutboxItem.id)))


def parse_reply(item: OutboxItem) -> EmailMessage:
    return message_from_bytes(item.raw, policy=default_policy)  # type: ignore[return-value]
