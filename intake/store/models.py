"""SQLAlchemy models: mailbox state, messages, cases, their rights, events and the outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from intake.store.enums import CaseKind, CaseStatus, Disposition, MessageKind, MessageStatus

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC on every backend (SQLite keeps no offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def one_of(column: str, enum: type, nullable: bool = False) -> CheckConstraint:
    """CHECK (column IN the enum's values): the database refuses any other value too."""
    listed = ", ".join(f"'{member.value}'" for member in enum)
    condition = f"{column} IN ({listed})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return CheckConstraint(condition, name=column)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class MailboxState(Base):
    """Per mailbox folder: the known UIDVALIDITY, the highest UID recorded, the worker lease."""

    __tablename__ = "mailbox_state"

    mailbox_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    folder: Mapped[str] = mapped_column(String(255), primary_key=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)  # IMAP: unsigned 32-bit
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    lease_holder: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_poll_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ReferenceCounter(Base):
    """The last case number per mailbox and year (gapless: same transaction as the case)."""

    __tablename__ = "reference_counter"

    mailbox_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class Case(Base):
    """One request (legal clock) or question (service target) from one requester."""

    __tablename__ = "case"
    __table_args__ = (
        UniqueConstraint("mailbox_key", "year", "seq"),
        one_of("kind", CaseKind),
        one_of("status", CaseStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    mailbox_key: Mapped[str] = mapped_column(String(32), index=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # CaseKind: request | question | to_classify
    status: Mapped[str] = mapped_column(String(24), index=True)  # CaseStatus
    requester_address: Mapped[str] = mapped_column(String(320), index=True)
    requester_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="nl")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_date: Mapped[date | None] = mapped_column(Date)  # legal due date (requests)
    target_date: Mapped[date | None] = mapped_column(Date)  # service target (questions)
    clock_suspended_on: Mapped[date | None] = mapped_column(Date)
    suspended_days_left: Mapped[int | None] = mapped_column(Integer)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    identity_status: Mapped[str] = mapped_column(String(24), default="none")
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    review_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    assignee: Mapped[str | None] = mapped_column(String(120))
    outcome: Mapped[str | None] = mapped_column(String(16))  # answered|refused|withdrawn|forwarded
    answered_on: Mapped[date | None] = mapped_column(Date)  # Brussels date the case was closed
    on_time: Mapped[bool | None] = mapped_column(Boolean)  # closed on or before its due date

    rights: Mapped[list[CaseRight]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseRight.position"
    )
    events: Mapped[list[Event]] = relationship(back_populates="case", order_by="Event.id")
    messages: Mapped[list[Message]] = relationship(back_populates="case", order_by="Message.id")

    @property
    def right_names(self) -> tuple[str, ...]:
        return tuple(r.right for r in self.rights)


class CaseRight(Base):
    """One right a case exercises (a table, so cases can be filtered by right on every backend)."""

    __tablename__ = "case_right"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("case.id", ondelete="CASCADE"), primary_key=True
    )
    right: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    case: Mapped[Case] = relationship(back_populates="rights")


class Message(Base):
    """An incoming message as recorded: where it was on the server, what triage said, its fate."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("mailbox_key", "folder", "uidvalidity", "uid"),
        Index("ix_message_mailbox_msgid", "mailbox_key", "message_id"),
        Index("ix_message_mailbox_hash", "mailbox_key", "content_hash"),
        one_of("status", MessageStatus),
        one_of("kind", MessageKind, nullable=True),
        one_of("disposition", Disposition, nullable=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_key: Mapped[str] = mapped_column(String(32))
    folder: Mapped[str] = mapped_column(String(255))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(String(998))
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # processed | duplicate | quarantined
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)  # IMAP INTERNALDATE
    from_address: Mapped[str] = mapped_column(String(320), default="")
    from_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(500), default="")
    kind: Mapped[str | None] = mapped_column(String(16))
    disposition: Mapped[str | None] = mapped_column(String(24))
    language: Mapped[str | None] = mapped_column(String(8))
    triage: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    body_text: Mapped[str | None] = mapped_column(Text)
    quarantine_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    case: Mapped[Case | None] = relationship(back_populates="messages")


class Event(Base):
    """Append-only audit trail: every change of a case or of a message's fate."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(500), default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    case: Mapped[Case | None] = relationship(back_populates="events")


class OutboxItem(Base):
    """A reply written in the case's transaction and delivered later by the sender job."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("purpose", "reply_to_pk"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    reply_to_pk: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    purpose: Mapped[str] = mapped_column(String(32))  # acknowledgement | ...
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    mail_from: Mapped[str] = mapped_column(String(320))
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(
        String(16), index=True
    )  # pending|sending|sent|failed|uncertain
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    result: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DigestRun(Base):
    """One staff digest (or heartbeat) per scope and period: recorded so none is sent twice."""

    __tablename__ = "digest_run"
    __table_args__ = (UniqueConstraint("scope", "period", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(32))  # a mailbox key, or "all" for a combined digest
    period: Mapped[str] = mapped_column(String(32))  # e.g. the Brussels date "2026-11-23"
    kind: Mapped[str] = mapped_column(String(16), default="digest")  # digest | heartbeat
    status: Mapped[str] = mapped_column(String(16))  # queued | empty
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # lines per section
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class MailboxHealth(Base):
    """Per mailbox: how its last passes went, for `intake status`, metrics and the digest."""

    __tablename__ = "mailbox_health"

    mailbox_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_duration_seconds: Mapped[float | None] = mapped_column(Float)
    worker: Mapped[str | None] = mapped_column(String(120))
class MessageInFlight(Base):
    """A message a worker is reading: written (and committed) before its triage, removed in the
    transaction that records it. A row left behind means a worker died while reading it."""

    __tablename__ = "message_in_flight"

    mailbox_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    folder: Mapped[str] = mapped_column(String(255), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    uid: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # times a worker started reading it
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    worker: Mapped[str] = mapped_column(String(120), default="")
class SentCopy(Base):
    """The copy of a sent reply in its mailbox's Sent folder, stored after the SMTP send.

    Separate from the outbox: storing the copy is retried on its own and never resends the mail.
    """

    __tablename__ = "sent_copy"

    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), primary_key=True)
    mailbox_key: Mapped[str] = mapped_column(String(32))
    folder: Mapped[str] = mapped_column(String(255))  # "server": the SMTP server keeps a copy
    # pending | stored | server (the SMTP server saved it) | failed (gave up after retries)
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    stored_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
