"""The email outbox and the log of consent to news emails (CASL)."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, db, utcnow


class MailStatus(enum.StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"


class MailCategory(enum.StrEnum):
    """Transactional mail (receipts, password resets) needs no consent; news does."""

    transactional = "transactional"
    news = "news"


class OutboxMessage(db.Model):
    """An email written in the same transaction as what it announces, sent by the worker."""

    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(sa.String(200), unique=True)
    to_addr: Mapped[str] = mapped_column(sa.String(254), index=True)
    subject: Mapped[str] = mapped_column(sa.String(300))
    text_body: Mapped[str] = mapped_column(sa.Text)
    html_body: Mapped[str] = mapped_column(sa.Text)
    headers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    category: Mapped[MailCategory] = mapped_column(
        sa.Enum(
            MailCategory, native_enum=False, length=20, create_constraint=True, name="mail_category"
        ),
        default=MailCategory.transactional,
    )
    template: Mapped[str] = mapped_column(sa.String(100), default="")
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    status: Mapped[MailStatus] = mapped_column(
        sa.Enum(
            MailStatus, native_enum=False, length=20, create_constraint=True, name="mail_status"
        ),
        default=MailStatus.pending,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attachments: Mapped[list["OutboxAttachment"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="OutboxAttachment.id"
    )


class OutboxAttachment(db.Model):
    """A file sent with a message: its bytes, or what draws them when the message is sent.

    A drawn attachment (a receipt's PDF) names a renderer a feature registered and its
    parameters; drawing it at send time keeps slow work out of the transaction that
    queues the email, and the renderer draws from frozen data, so it is the same on every
    attempt.
    """

    __tablename__ = "outbox_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("outbox_message.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    content: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    renderer: Mapped[str | None] = mapped_column(sa.String(100))
    params: Mapped[dict | None] = mapped_column(sa.JSON)


class EmailConsent(db.Model):
    """One change of someone's consent to a kind of email: kept forever, never edited.

    CASL asks us to prove consent: when, in which words and language, and from where.
    The current choice is the newest row for an address and topic.
    """

    __tablename__ = "email_consent"
    __table_args__ = (sa.Index("ix_email_consent_lookup", "email", "topic", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    topic: Mapped[str] = mapped_column(sa.String(40), default="news")
    granted: Mapped[bool]
    wording: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[str] = mapped_column(sa.String(2))
    source: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
