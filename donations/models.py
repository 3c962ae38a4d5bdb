"""Funds, gifts, monthly giving and receipts."""

import enum
import secrets
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import address
from core.db import TimestampMixin, UTCDateTime, db, utcnow
from core.states import StateMachine


def _enum(cls, name):
    return sa.Enum(cls, native_enum=False, length=30, create_constraint=True, name=name)


def _token():
    return secrets.token_urlsafe(24)


class Fund(TimestampMixin, db.Model):
    """Where a gift goes: the general fund, Mondial, a campaign. Staff add funds."""

    __tablename__ = "fund"
    __table_args__ = (sa.CheckConstraint("goal IS NULL OR goal > 0", name="goal_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name_en: Mapped[str] = mapped_column(sa.String(120))
    name_fr: Mapped[str] = mapped_column(sa.String(120))
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    description_fr: Mapped[str] = mapped_column(sa.Text, default="")
    goal: Mapped[int | None]  # cents
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=100)

    def name(self, language="en"):
        return self.name_fr if language == "fr" else self.name_en

    def description(self, language="en"):
        return self.description_fr if language == "fr" else self.description_en

    def __str__(self):
        return self.name_en


class DonationStatus(enum.StrEnum):
    pending = "pending"  # waiting for Checkout
    paid = "paid"
    expired = "expired"  # the Checkout was abandoned
    refunded = "refunded"  # all of it went back
    charged_back = "charged_back"  # a dispute was lost


donation_states = StateMachine(
    "donation",
    {
        DonationStatus.pending: {DonationStatus.paid, DonationStatus.expired},
        DonationStatus.expired: {DonationStatus.paid},  # a late asynchronous success
        DonationStatus.paid: {DonationStatus.refunded, DonationStatus.charged_back},
        DonationStatus.refunded: {DonationStatus.paid},  # the refund failed
    },
)


class DonationKind(enum.StrEnum):
    one_time = "one_time"
    monthly = "monthly"  # one month of a monthly gift
    offline = "offline"  # cheque, cash or e-transfer, recorded by staff


class MonthlyStatus(enum.StrEnum):
    pending = "pending"  # waiting for its first month to be paid
    active = "active"
    past_due = "past_due"  # a month's payment failed and is being retried
    cancelled = "cancelled"  # ended, or its Checkout was abandoned


monthly_gift_states = StateMachine(
    "monthly_gift",
    {
        MonthlyStatus.pending: {MonthlyStatus.active, MonthlyStatus.cancelled},
        MonthlyStatus.active: {MonthlyStatus.past_due, MonthlyStatus.cancelled},
        MonthlyStatus.past_due: {MonthlyStatus.active, MonthlyStatus.cancelled},
        # An abandoned Checkout of it, then an earlier one of its sessions paid after all.
        MonthlyStatus.cancelled: {MonthlyStatus.active},
    },
)


class TributeKind(enum.StrEnum):
    honour = "honour"
    memory = "memory"


class DonorDetails:
    """Who gave: on each gift as it was given, so a receipt never changes afterwards."""

    donor_name: Mapped[str] = mapped_column(address.column(address.NAME))
    organization_name: Mapped[str] = mapped_column(address.column(address.ORGANIZATION), default="")
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    address_line1: Mapped[str] = mapped_column(address.column(address.LINE1), default="")
    address_line2: Mapped[str] = mapped_column(address.column(address.LINE2), default="")
    city: Mapped[str] = mapped_column(address.column(address.CITY), default="")
    province: Mapped[str] = mapped_column(address.column(address.PROVINCE), default="")
    postal_code: Mapped[str] = mapped_column(address.column(address.POSTAL), default="")
    country: Mapped[str] = mapped_column(sa.String(address.COUNTRY_LENGTH), default="CA")
    language: Mapped[str] = mapped_column(sa.String(2), default="en")

    @property
    def receipt_name(self):
        """A gift made by a business is receipted to the business."""
        return self.organization_name or self.donor_name

    @property
    def postal_address(self):
        city_line = " ".join(p for p in (self.city, self.province, self.postal_code) if p)
        lines = [self.address_line1, self.address_line2, city_line]
        if self.country and self.country != "CA":
            lines.append(self.country)
        return "\n".join(line for line in lines if line)


class MonthlyGift(TimestampMixin, DonorDetails, db.Model):
    """A monthly gift: a Stripe subscription; each month it paid is a :class:`Donation`."""

    __tablename__ = "monthly_gift"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(40), unique=True, default=_token)
    status: Mapped[MonthlyStatus] = mapped_column(
        _enum(MonthlyStatus, "monthly_status"), default=MonthlyStatus.pending
    )
    fund_id: Mapped[int] = mapped_column(sa.ForeignKey("fund.id"), index=True)
    amount: Mapped[int]  # what the donor means to give each month
    charged: Mapped[int]  # what is charged each month (with the fee, if they cover it)
    cover_fee: Mapped[bool] = mapped_column(default=False)
    annual_receipt: Mapped[bool] = mapped_column(default=True)
    anonymous: Mapped[bool] = mapped_column(default=False)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    subscription_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    customer_id: Mapped[str | None] = mapped_column(sa.String(255))
    ends_at_period_end: Mapped[bool] = mapped_column(default=False)
    paid_through: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The failed renewal the donor was last emailed about (one email per failure).
    last_failed_renewal: Mapped[str | None] = mapped_column(sa.String(255))

    fund: Mapped[Fund] = relationship()
    donations: Mapped[list["Donation"]] = relationship(
        back_populates="monthly_gift", order_by="Donation.id"
    )


class Donation(TimestampMixin, DonorDetails, db.Model):
    """One gift: a one-time gift, one month of a monthly gift, or an offline gift."""

    __tablename__ = "donation"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("fee_covered >= 0", name="fee_covered_not_negative"),
        sa.CheckConstraint("advantage >= 0", name="advantage_not_negative"),
        sa.CheckConstraint("refunded >= 0", name="refunded_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(40), unique=True, default=_token)
    kind: Mapped[DonationKind] = mapped_column(_enum(DonationKind, "donation_kind"))
    status: Mapped[DonationStatus] = mapped_column(
        _enum(DonationStatus, "donation_status"), default=DonationStatus.pending
    )
    fund_id: Mapped[int] = mapped_column(sa.ForeignKey("fund.id"), index=True)
    amount: Mapped[int]  # the gift the donor meant
    fee_covered: Mapped[int] = mapped_column(default=0)  # added so that we keep ``amount``
    refunded: Mapped[int] = mapped_column(default=0)
    advantage: Mapped[int] = mapped_column(default=0)
    advantage_description: Mapped[str] = mapped_column(sa.String(300), default="")
    method: Mapped[str] = mapped_column(sa.String(20), default="card")
    reference: Mapped[str] = mapped_column(sa.String(100), default="")  # cheque number, note
    anonymous: Mapped[bool] = mapped_column(default=False)
    tribute_kind: Mapped[TributeKind | None] = mapped_column(_enum(TributeKind, "tribute_kind"))
    tribute_name: Mapped[str] = mapped_column(sa.String(200), default="")
    tribute_notify_email: Mapped[str] = mapped_column(sa.String(254), default="")
    tribute_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment.id"), index=True)
    monthly_gift_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("monthly_gift.id"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    consent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("email_consent.id"))
    # An API client's Idempotency-Key, with a digest of the body it came with: a retry with
    # the same key and body gets this gift back instead of starting another.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    request_digest: Mapped[str | None] = mapped_column(sa.String(64))

    fund: Mapped[Fund] = relationship()
    monthly_gift: Mapped[MonthlyGift | None] = relationship(back_populates="donations")
    receipt_items: Mapped[list["ReceiptItem"]] = relationship(
        back_populates="donation", order_by="ReceiptItem.id"
    )

    @property
    def total(self):
        """What the donor paid: the gift plus any fee they chose to cover."""
        return self.amount + self.fee_covered

    @property
    def kept(self):
        """What remains given after refunds."""
        return self.total - self.refunded

    @property
    def current_receipt(self):
        for item in self.receipt_items:
            if item.current:
                return item.receipt
        return None


class ReceiptKind(enum.StrEnum):
    official = "official"  # an official donation receipt for income tax purposes
    acknowledgement = "acknowledgement"  # a thank-you that is not a tax receipt


class Receipt(db.Model):
    """A receipt as issued: every printed value is kept, so it reprints identically.

    Receipts are never deleted or edited; a voided one is kept and marked, and a correction
    is a new receipt that cancels and replaces it.
    """

    __tablename__ = "receipt"
    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
        sa.CheckConstraint("eligible_amount >= 0", name="eligible_not_negative"),
        # Serials restart each tax year: 2026-000001, then 2027-000001.
        sa.UniqueConstraint("year", "serial", name="uq_receipt_year_serial"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(40), unique=True, default=_token)
    kind: Mapped[ReceiptKind] = mapped_column(_enum(ReceiptKind, "receipt_kind"))
    serial: Mapped[int | None]  # counted within the year
    year: Mapped[int]  # the tax year of the gifts
    annual: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str] = mapped_column(sa.String(2))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_on: Mapped[date]
    received_on: Mapped[date | None]
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    donor_name: Mapped[str] = mapped_column(address.column(address.NAME))
    donor_address: Mapped[str] = mapped_column(sa.Text)
    amount: Mapped[int]
    advantage: Mapped[int] = mapped_column(default=0)
    advantage_description: Mapped[str] = mapped_column(sa.String(300), default="")
    eligible_amount: Mapped[int]
    fund_name: Mapped[str] = mapped_column(sa.String(200), default="")
    org_name: Mapped[str] = mapped_column(sa.String(200))
    org_address: Mapped[str] = mapped_column(sa.Text)
    registration_number: Mapped[str | None] = mapped_column(sa.String(30))
    place_of_issue: Mapped[str] = mapped_column(sa.String(100))
    signer_name: Mapped[str] = mapped_column(sa.String(200), default="")
    signer_title: Mapped[str] = mapped_column(sa.String(200), default="")
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("receipt.id"), unique=True)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str] = mapped_column(sa.String(300), default="")

    items: Mapped[list["ReceiptItem"]] = relationship(
        back_populates="receipt", order_by="ReceiptItem.id", cascade="all"
    )
    replaces: Mapped["Receipt | None"] = relationship(remote_side=[id])

    @property
    def is_void(self):
        return self.voided_at is not None

    @property
    def number(self):
        """The serial as printed: ``2026-000042``."""
        return f"{self.year}-{self.serial:06d}" if self.serial is not None else None


class ReceiptItem(db.Model):
    """A gift on a receipt. A gift is on at most one receipt that is not void."""

    __tablename__ = "receipt_item"
    __table_args__ = (
        sa.Index(
            "uq_receipt_item_current_donation",
            "donation_id",
            unique=True,
            postgresql_where=sa.text("current"),
            sqlite_where=sa.text("current"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(sa.ForeignKey("receipt.id"), index=True)
    donation_id: Mapped[int] = mapped_column(sa.ForeignKey("donation.id"))
    received_on: Mapped[date]
    amount: Mapped[int]
    current: Mapped[bool] = mapped_column(default=True)

    receipt: Mapped[Receipt] = relationship(back_populates="items")
    donation: Mapped[Donation] = relationship(back_populates="receipt_items")


class ReceiptCounter(db.Model):
    """The last serial number issued in a tax year (``id`` is the year); the row is locked
    while the next one is taken."""

    __tablename__ = "receipt_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_serial: Mapped[int] = mapped_column(default=0)
