"""Campaigns and their signatures, content pages, comments and volunteers."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, UTCDateTime, db, utcnow
from core.states import StateMachine


def _enum(cls, name):
    return sa.Enum(cls, native_enum=False, length=20, create_constraint=True, name=name)


class CodeList(sa.TypeDecorator):
    """A list of short codes stored as ``,a,b,``: portable, and filtered with ``LIKE '%,a,%'``."""

    impl = sa.String(300)
    cache_ok = True

    def coerce_compared_value(self, op, value):
        # ``LIKE '%,events,%'`` compares with a plain string, not a list to encode.
        return sa.String()

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        codes = [str(code) for code in value if code]
        return "," + ",".join(codes) + "," if codes else ""

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return [code for code in value.split(",") if code]


def has_code(column, code):
    """A filter for rows whose :class:`CodeList` holds ``code``."""
    return column.like(f"%,{code},%")


class Bilingual:
    """Columns named ``<field>_en`` and ``<field>_fr``, read in the visitor's language."""

    def text(self, field, language="en"):
        value = getattr(self, f"{field}_{'fr' if language == 'fr' else 'en'}")
        # A French version left empty falls back to the English one, never to nothing.
        return value or getattr(self, f"{field}_en")


class DeliveryMethod(enum.StrEnum):
    email = "email"  # each confirmed letter emailed to the recipient, so many an hour
    digest = "digest"  # one email a day with the letters confirmed since the last one
    pdf = "pdf"  # staff print every letter and deliver them by hand


class CampaignStatus(enum.StrEnum):
    """Derived from the dates, never stored."""

    upcoming = "upcoming"
    open = "open"
    closed = "closed"


class Campaign(Bilingual, TimestampMixin, db.Model):
    """A Take Action letter that supporters sign, addressed to one recipient."""

    __tablename__ = "campaign"
    __table_args__ = (
        sa.CheckConstraint("goal IS NULL OR goal > 0", name="goal_positive"),
        sa.CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        sa.CheckConstraint("letters_per_hour > 0", name="letters_per_hour_positive"),
        sa.CheckConstraint("signature_count >= 0", name="signature_count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title_en: Mapped[str] = mapped_column(sa.String(200))
    title_fr: Mapped[str] = mapped_column(sa.String(200), default="")
    summary_en: Mapped[str] = mapped_column(sa.Text, default="")
    summary_fr: Mapped[str] = mapped_column(sa.Text, default="")
    body_en: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown
    body_fr: Mapped[str] = mapped_column(sa.Text, default="")
    letter_en: Mapped[str] = mapped_column(sa.Text, default="")  # plain text
    letter_fr: Mapped[str] = mapped_column(sa.Text, default="")
    result_en: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown, shown once closed
    result_fr: Mapped[str] = mapped_column(sa.Text, default="")
    recipient_name_en: Mapped[str] = mapped_column(sa.String(200))
    recipient_name_fr: Mapped[str] = mapped_column(sa.String(200), default="")
    recipient_email: Mapped[str | None] = mapped_column(sa.String(254))
    recipient_address: Mapped[str] = mapped_column(sa.Text, default="")
    recipient_language: Mapped[str] = mapped_column(sa.String(2), default="en")
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    goal: Mapped[int | None]  # signatures
    delivery: Mapped[DeliveryMethod] = mapped_column(
        _enum(DeliveryMethod, "delivery_method"), default=DeliveryMethod.email
    )
    letters_per_hour: Mapped[int] = mapped_column(default=30)
    published: Mapped[bool] = mapped_column(default=False)
    comments_open: Mapped[bool] = mapped_column(default=True)
    # Confirmed signatures, kept by the confirming UPDATE so that pages never count rows.
    signature_count: Mapped[int] = mapped_column(default=0)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def status(self, today):
        if today < self.starts_on:
            return CampaignStatus.upcoming
        if today > self.ends_on:
            return CampaignStatus.closed
        return CampaignStatus.open

    def __str__(self):
        return self.title_en


class SignatureStatus(enum.StrEnum):
    pending = "pending"  # waiting for the signer to confirm their email
    confirmed = "confirmed"


class Signature(db.Model):
    """One person's signature on a campaign's letter; it counts once the email is confirmed."""

    __tablename__ = "signature"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "email"),
        sa.Index("ix_signature_delivery", "campaign_id", "status", "delivered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(254))
    postal_code: Mapped[str] = mapped_column(sa.String(7))
    personal_message: Mapped[str] = mapped_column(sa.Text, default="")
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    news_consent: Mapped[bool] = mapped_column(default=False)
    consent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("email_consent.id"))
    status: Mapped[SignatureStatus] = mapped_column(
        _enum(SignatureStatus, "signature_status"), default=SignatureStatus.pending
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the letter went to the outbox (by email or in a digest); None until then.
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship()


class ContentPage(Bilingual, TimestampMixin, db.Model):
    """A page that staff write in English and French (Markdown), with associated links."""

    __tablename__ = "content_page"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    title_en: Mapped[str] = mapped_column(sa.String(200))
    title_fr: Mapped[str] = mapped_column(sa.String(200), default="")
    body_en: Mapped[str] = mapped_column(sa.Text, default="")
    body_fr: Mapped[str] = mapped_column(sa.Text, default="")
    published: Mapped[bool] = mapped_column(default=False)
    comments_open: Mapped[bool] = mapped_column(default=True)

    links: Mapped[list["PageLink"]] = relationship(
        back_populates="page",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PageLink.position, PageLink.id",
    )

    def __str__(self):
        return self.title_en


class PageLink(Bilingual, db.Model):
    __tablename__ = "page_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(
        sa.ForeignKey("content_page.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    label_en: Mapped[str] = mapped_column(sa.String(200))
    label_fr: Mapped[str] = mapped_column(sa.String(200), default="")
    # Not "url": Flask-Admin reads a form field of that name as where to go after saving.
    href: Mapped[str] = mapped_column(sa.String(500))

    page: Mapped[ContentPage] = relationship(back_populates="links")

    def __str__(self):
        return self.label_en


class CommentStatus(enum.StrEnum):
    pending = "pending"  # held for moderation: invisible to visitors
    approved = "approved"
    rejected = "rejected"
    spam = "spam"


comment_states = StateMachine(
    "comment",
    {
        CommentStatus.pending: {CommentStatus.approved, CommentStatus.rejected, CommentStatus.spam},
        CommentStatus.approved: {CommentStatus.rejected, CommentStatus.spam},
        CommentStatus.rejected: {CommentStatus.approved, CommentStatus.spam},
        CommentStatus.spam: {CommentStatus.approved, CommentStatus.rejected},
    },
)


class Comment(db.Model):
    """A visitor's comment on a page or a campaign; public only once a moderator approves it."""

    __tablename__ = "comment"
    __table_args__ = (
        sa.CheckConstraint(
            "(page_id IS NULL) <> (campaign_id IS NULL)", name="on_a_page_or_a_campaign"
        ),
        sa.Index("ix_comment_page", "page_id", "status", "created_at"),
        sa.Index("ix_comment_campaign", "campaign_id", "status", "created_at"),
        sa.Index("ix_comment_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int | None] = mapped_column(sa.ForeignKey("content_page.id"))
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaign.id"))
    name: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[str] = mapped_column(sa.String(254))  # never shown publicly
    body: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    status: Mapped[CommentStatus] = mapped_column(
        _enum(CommentStatus, "comment_status"), default=CommentStatus.pending
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moderated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    # First approval: the commenter is told once, however often the comment moves after.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the comment went into a moderators' digest.
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    page: Mapped[ContentPage | None] = relationship()
    campaign: Mapped[Campaign | None] = relationship()

    @property
    def target(self):
        return self.page if self.page_id is not None else self.campaign


class Volunteer(db.Model):
    """A volunteer sign-up, as the person sent it."""

    __tablename__ = "volunteer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    languages: Mapped[list] = mapped_column(CodeList, default=list)
    interests: Mapped[list] = mapped_column(CodeList, default=list)
    availability: Mapped[list] = mapped_column(CodeList, default=list)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    news_consent: Mapped[bool] = mapped_column(default=False)
    consent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("email_consent.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
