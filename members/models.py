"""Membership tiers, memberships and their lifecycle, the dues that pay each term, households.

A :class:`Membership` is one person's (or one household's) standing with the organization,
kept for as long as they have an account; each term paid or granted is a :class:`Dues`
row, so history is never overwritten. Dates of terms are calendar dates where the
organization is (``ORG_TIMEZONE``): a term that ends on 15 March ends there, whatever
time it is in UTC.
"""

import enum
import secrets
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import address
from core.accounts.models import User
from core.db import TimestampMixin, UTCDateTime, db, utcnow
from core.states import StateMachine


def _enum(cls, name):
    return sa.Enum(cls, native_enum=False, length=30, create_constraint=True, name=name)


def _token():
    return secrets.token_urlsafe(24)


class Tier(TimestampMixin, db.Model):
    """A kind of membership and its price; staff edit tiers, members choose one."""

    __tablename__ = "membership_tier"
    __table_args__ = (
        sa.CheckConstraint("price >= 0", name="price_not_negative"),
        sa.CheckConstraint("advantage >= 0 AND advantage <= price", name="advantage_in_price"),
        sa.CheckConstraint("adults BETWEEN 1 AND 2", name="adults_one_or_two"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name_en: Mapped[str] = mapped_column(sa.String(120))
    name_fr: Mapped[str] = mapped_column(sa.String(120))
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    description_fr: Mapped[str] = mapped_column(sa.Text, default="")
    price: Mapped[int]  # cents per term (a year), or once for a lifetime tier
    lifetime: Mapped[bool] = mapped_column(default=False)
    adults: Mapped[int] = mapped_column(default=1)  # each with their own sign-in
    mondial_print: Mapped[bool] = mapped_column(default=True)
    mondial_digital: Mapped[bool] = mapped_column(default=True)
    # The fair market value of what a member receives (Mondial): the advantage on receipts.
    advantage: Mapped[int] = mapped_column(default=0)
    advantage_description_en: Mapped[str] = mapped_column(sa.String(300), default="")
    advantage_description_fr: Mapped[str] = mapped_column(sa.String(300), default="")
    taxable: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=100)

    def name(self, language="en"):
        return self.name_fr if language == "fr" else self.name_en

    def description(self, language="en"):
        return self.description_fr if language == "fr" else self.description_en

    def advantage_description(self, language="en"):
        return self.advantage_description_fr if language == "fr" else self.advantage_description_en

    @property
    def household(self):
        return self.adults > 1

    def __str__(self):
        return self.name_en


class MembershipStatus(enum.StrEnum):
    pending = "pending"  # a first checkout is started, nothing paid yet
    current = "current"
    grace = "grace"  # the end date has passed; still a member for the grace period
    expired = "expired"
    lapsed = "lapsed"  # expired for a year
    cancelled = "cancelled"
    suspended = "suspended"  # the dues were refunded or a dispute of them was lost


S = MembershipStatus

#: Every move a membership may make; anything else is refused (and each move is audited).
membership_states = StateMachine(
    "membership",
    {
        S.pending: {S.current, S.cancelled},
        S.current: {S.grace, S.cancelled, S.suspended},
        S.grace: {S.current, S.expired, S.cancelled, S.suspended},
        S.expired: {S.current, S.lapsed, S.cancelled, S.suspended},
        S.lapsed: {S.current, S.cancelled},
        S.cancelled: {S.pending, S.current},
        S.suspended: {S.current, S.grace, S.expired, S.lapsed, S.cancelled},
    },
)

#: Who counts as a member (a vote, an AGM notice, the member price in the shop).
IN_GOOD_STANDING = (S.current, S.grace)


class MondialFormat(enum.StrEnum):
    print = "print"
    digital = "digital"
    none = "none"  # the member asked not to receive it


class Membership(TimestampMixin, db.Model):
    """One member's (or one household's) membership, across every term."""

    __tablename__ = "membership"
    __table_args__ = (
        sa.CheckConstraint("price >= 0", name="price_not_negative"),
        sa.Index("ix_membership_status_ends_on", "status", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="RESTRICT"), unique=True)
    tier_id: Mapped[int] = mapped_column(sa.ForeignKey("membership_tier.id"), index=True)
    status: Mapped[MembershipStatus] = mapped_column(
        _enum(MembershipStatus, "membership_status"), default=MembershipStatus.pending
    )
    started_on: Mapped[date | None]  # the first day of the first term
    ends_on: Mapped[date | None] = mapped_column(index=True)  # the last paid day; None: no end
    auto_renew: Mapped[bool] = mapped_column(default=False)
    # The recurring payment that renews it (the payment that started it), when auto-renewing.
    recurring_payment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("payment.id", ondelete="SET NULL"), index=True
    )
    renews_on: Mapped[date | None]  # the next automatic charge, as payments reported it
    price: Mapped[int] = mapped_column(default=0)  # what each automatic renewal charges
    failed_renewal: Mapped[str | None] = mapped_column(sa.String(255))  # told once per failure
    mondial_format: Mapped[MondialFormat] = mapped_column(
        _enum(MondialFormat, "mondial_format"), default=MondialFormat.print
    )
    mailing_name: Mapped[str] = mapped_column(address.column(address.NAME), default="")
    address_line1: Mapped[str] = mapped_column(address.column(address.LINE1), default="")
    address_line2: Mapped[str] = mapped_column(address.column(address.LINE2), default="")
    city: Mapped[str] = mapped_column(address.column(address.CITY), default="")
    province: Mapped[str] = mapped_column(address.column(address.PROVINCE), default="")
    postal_code: Mapped[str] = mapped_column(address.column(address.POSTAL), default="")
    country: Mapped[str] = mapped_column(sa.String(address.COUNTRY_LENGTH), default="CA")
    note: Mapped[str] = mapped_column(sa.Text, default="")  # staff only

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    tier: Mapped[Tier] = relationship()
    dues: Mapped[list["Dues"]] = relationship(
        back_populates="membership", order_by="Dues.id", cascade="all"
    )
    household: Mapped[list["HouseholdMember"]] = relationship(
        back_populates="membership", order_by="HouseholdMember.id", cascade="all"
    )

    @property
    def in_good_standing(self):
        return self.status in IN_GOOD_STANDING

    @property
    def postal_address(self):
        city_line = " ".join(p for p in (self.city, self.province, self.postal_code) if p)
        lines = [self.address_line1, self.address_line2, city_line]
        if self.country and self.country != "CA":
            lines.append(self.country)
        return "\n".join(line for line in lines if line)

    def __repr__(self):
        return f"<Membership {self.id} {self.status} {self.ends_on}>"


class DuesStatus(enum.StrEnum):
    pending = "pending"  # waiting for Checkout
    paid = "paid"  # or granted, for complimentary terms
    expired = "expired"  # the checkout was abandoned
    refunded = "refunded"
    charged_back = "charged_back"


dues_states = StateMachine(
    "dues",
    {
        DuesStatus.pending: {DuesStatus.paid, DuesStatus.expired},
        DuesStatus.expired: {DuesStatus.paid},  # a late payment of an abandoned checkout
        DuesStatus.paid: {DuesStatus.refunded, DuesStatus.charged_back},
        DuesStatus.refunded: {DuesStatus.paid},  # the refund failed
    },
)


class DuesMethod(enum.StrEnum):
    card = "card"
    cheque = "cheque"
    cash = "cash"
    e_transfer = "e-transfer"
    complimentary = "complimentary"
    honorary = "honorary"
    imported = "imported"


OFFLINE_METHODS = (DuesMethod.cheque, DuesMethod.e_transfer, DuesMethod.cash)
GRANTS = (DuesMethod.complimentary, DuesMethod.honorary)


class Dues(TimestampMixin, db.Model):
    """One term of a membership: paid online or offline, granted, or brought in by an import."""

    __tablename__ = "membership_dues"
    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
        sa.CheckConstraint("tax >= 0 AND tax <= amount", name="tax_in_amount"),
        sa.CheckConstraint("advantage >= 0", name="advantage_not_negative"),
        sa.CheckConstraint("refunded >= 0 AND refunded <= amount", name="refunded_in_amount"),
        sa.UniqueConstraint("requested_by_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(40), unique=True, default=_token)
    membership_id: Mapped[int] = mapped_column(sa.ForeignKey("membership.id"), index=True)
    tier_id: Mapped[int] = mapped_column(sa.ForeignKey("membership_tier.id"))
    status: Mapped[DuesStatus] = mapped_column(
        _enum(DuesStatus, "dues_status"), default=DuesStatus.pending
    )
    method: Mapped[DuesMethod] = mapped_column(
        _enum(DuesMethod, "dues_method"), default=DuesMethod.card
    )
    amount: Mapped[int]  # tax included
    tax: Mapped[int] = mapped_column(default=0)
    #: Where ``tax`` was charged, for the GST/HST report: the member's province as the
    #: address stood when these dues were priced ("" outside Canada). A move later on
    #: does not change a return already filed.
    tax_province: Mapped[str] = mapped_column(address.column(address.PROVINCE), default="")
    advantage: Mapped[int] = mapped_column(default=0)
    refunded: Mapped[int] = mapped_column(default=0)
    auto_renew: Mapped[bool] = mapped_column(default=False)  # asked for with this checkout
    automatic: Mapped[bool] = mapped_column(default=False)  # charged by the auto-renewal
    # The term as quoted before paying, then as paid (they differ only if paying took days).
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    reference: Mapped[str] = mapped_column(sa.String(100), default="")  # cheque number, note
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment.id"), index=True)
    receipt_id: Mapped[int | None] = mapped_column(sa.ForeignKey("receipt.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    # An API client's Idempotency-Key, with a digest of what it asked, per account.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))
    request_digest: Mapped[str | None] = mapped_column(sa.String(64))
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )

    membership: Mapped[Membership] = relationship(back_populates="dues")
    tier: Mapped[Tier] = relationship()

    def __init__(self, **values):
        super().__init__(**values)
        if "tax_province" not in values and self.membership is not None:
            where = self.membership
            self.tax_province = where.province if where.country == "CA" else ""

    @property
    def kept(self):
        return self.amount - self.refunded

    @property
    def is_grant(self):
        return self.method in GRANTS


class HouseholdMember(db.Model):
    """A second adult of a household membership: invited by email, then with their own sign-in."""

    __tablename__ = "membership_household"
    __table_args__ = (sa.UniqueConstraint("membership_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    token: Mapped[str] = mapped_column(sa.String(40), unique=True, default=_token)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), unique=True
    )
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    membership: Mapped[Membership] = relationship(back_populates="household")
    user: Mapped[User | None] = relationship()

    @property
    def is_open(self):
        return self.accepted_at is None and self.removed_at is None


class ReminderKind(enum.StrEnum):
    before_30 = "before_30"
    before_7 = "before_7"
    ends_today = "ends_today"


class MembershipReminder(db.Model):
    """A reminder sent for one end date; the unique key is what makes it never go twice."""

    __tablename__ = "membership_reminder"
    __table_args__ = (sa.UniqueConstraint("membership_id", "kind", "ends_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(
        sa.ForeignKey("membership.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ReminderKind] = mapped_column(_enum(ReminderKind, "reminder_kind"))
    ends_on: Mapped[date]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
