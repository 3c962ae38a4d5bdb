"""Money as rows: payments split into allocations, refunds, disputes, payouts, and Stripe's events.

Whether something is paid, refunded or disputed is derived from these rows, never a flag
set by hand. Every Stripe id has its own column with a unique index.
"""

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, UTCDateTime, db, utcnow
from core.states import StateMachine


def _enum(cls, name):
    return sa.Enum(cls, native_enum=False, length=30, create_constraint=True, name=name)


def _stripe_id(**kw):
    return mapped_column(sa.String(255), unique=True, nullable=True, **kw)


class PaymentStatus(enum.StrEnum):
    pending = "pending"  # a Checkout Session is open (or about to be)
    succeeded = "succeeded"
    failed = "failed"  # an asynchronous payment method failed
    expired = "expired"  # the session expired unpaid, or was abandoned


payment_states = StateMachine(
    "payment",
    {
        PaymentStatus.pending: {
            PaymentStatus.succeeded,
            PaymentStatus.failed,
            PaymentStatus.expired,
        },
        PaymentStatus.failed: {PaymentStatus.succeeded},
        # An expired payment that Stripe says was paid after all (an earlier session of it).
        PaymentStatus.expired: {PaymentStatus.succeeded},
    },
)


class Payment(TimestampMixin, db.Model):
    """Money received (or expected) in one Stripe charge, split into allocations."""

    __tablename__ = "payment"
    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
        sa.CheckConstraint("fee IS NULL OR fee >= 0", name="fee_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(
        sa.String(43), unique=True, default=lambda: secrets.token_urlsafe(32)
    )
    status: Mapped[PaymentStatus] = mapped_column(
        _enum(PaymentStatus, "payment_status"), default=PaymentStatus.pending
    )
    mode: Mapped[str] = mapped_column(sa.String(20), default="payment")  # or "subscription"
    amount: Mapped[int] = mapped_column(index=True)
    currency: Mapped[str] = mapped_column(sa.String(3), default="cad")
    fee: Mapped[int | None]
    net: Mapped[int | None]
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # A recurring payment whose first charge is at this date rather than at Checkout.
    first_charge_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the recurring series this payment started ended (its features were told once).
    series_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_message: Mapped[str | None] = mapped_column(sa.Text)

    checkout_session_id: Mapped[str | None] = _stripe_id()
    payment_intent_id: Mapped[str | None] = _stripe_id()
    charge_id: Mapped[str | None] = _stripe_id()
    invoice_id: Mapped[str | None] = _stripe_id()
    balance_transaction_id: Mapped[str | None] = _stripe_id()
    subscription_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    customer_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    # The payment that started the subscription this renewal belongs to.
    renewal_of_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("payment.id", ondelete="RESTRICT"), index=True
    )

    allocations: Mapped[list["Allocation"]] = relationship(
        back_populates="payment", order_by="Allocation.id", cascade="all, delete-orphan"
    )
    refunds: Mapped[list["Refund"]] = relationship(back_populates="payment", order_by="Refund.id")
    disputes: Mapped[list["Dispute"]] = relationship(
        back_populates="payment", order_by="Dispute.id"
    )
    attempts: Mapped[list["StripeAttempt"]] = relationship(
        back_populates="payment", order_by="StripeAttempt.number"
    )

    @property
    def is_paid(self):
        return self.status == PaymentStatus.succeeded

    @property
    def amount_refunded(self):
        return sum(r.amount for r in self.refunds if r.status == RefundStatus.succeeded)

    @property
    def is_refunded(self):
        return self.is_paid and self.amount_refunded >= self.amount

    @property
    def is_disputed(self):
        return any(d.is_open for d in self.disputes)

    def __repr__(self):
        return f"<Payment {self.id} {self.status} {self.amount}>"


class Allocation(db.Model):
    """The part of a payment that pays for one thing: a gift, dues, an order."""

    __tablename__ = "allocation"
    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
        sa.CheckConstraint("tax >= 0", name="tax_not_negative"),
        sa.Index("ix_allocation_purpose_row", "purpose", "row_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("payment.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(sa.String(30))
    row_id: Mapped[int]
    amount: Mapped[int]  # tax included
    tax: Mapped[int] = mapped_column(default=0)
    fee: Mapped[int | None]  # its share of Stripe's fee
    description: Mapped[str] = mapped_column(sa.String(300), default="")

    payment: Mapped[Payment] = relationship(back_populates="allocations")
    refund_parts: Mapped[list["RefundAllocation"]] = relationship(back_populates="allocation")

    @property
    def amount_refunded(self):
        return sum(p.amount for p in self.refund_parts if p.refund.status == RefundStatus.succeeded)


class RefundStatus(enum.StrEnum):
    pending = "pending"
    requires_action = "requires_action"
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"


class Refund(TimestampMixin, db.Model):
    __tablename__ = "refund"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payment.id"), index=True)
    stripe_refund_id: Mapped[str | None] = _stripe_id()
    amount: Mapped[int]
    status: Mapped[RefundStatus] = mapped_column(
        _enum(RefundStatus, "refund_status"), default=RefundStatus.pending
    )
    reason: Mapped[str | None] = mapped_column(sa.String(50))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    balance_transaction_id: Mapped[str | None] = _stripe_id()
    failure_balance_transaction_id: Mapped[str | None] = _stripe_id()
    failure_reason: Mapped[str | None] = mapped_column(sa.String(100))
    # Set once the features were told, so a duplicate event tells them nothing twice.
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reverted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    payment: Mapped[Payment] = relationship(back_populates="refunds")
    parts: Mapped[list["RefundAllocation"]] = relationship(
        back_populates="refund", cascade="all, delete-orphan", order_by="RefundAllocation.id"
    )


class RefundAllocation(db.Model):
    """How much of a refund comes off one allocation."""

    __tablename__ = "refund_allocation"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.UniqueConstraint("refund_id", "allocation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(sa.ForeignKey("refund.id", ondelete="CASCADE"))
    allocation_id: Mapped[int] = mapped_column(sa.ForeignKey("allocation.id"), index=True)
    amount: Mapped[int]

    refund: Mapped[Refund] = relationship(back_populates="parts")
    allocation: Mapped[Allocation] = relationship(back_populates="refund_parts")


class Dispute(TimestampMixin, db.Model):
    __tablename__ = "dispute"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payment.id"), index=True)
    stripe_dispute_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    amount: Mapped[int]
    fee: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(40))
    reason: Mapped[str | None] = mapped_column(sa.String(50))
    evidence_due_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    payment: Mapped[Payment] = relationship(back_populates="disputes")

    @property
    def is_open(self):
        return self.status not in {"won", "lost", "warning_closed", "prevented"}


class StripeAttempt(db.Model):
    """One request to Stripe that creates something, kept so that a retry is the same request.

    Its ``key`` goes out as the ``Idempotency-Key``; its ``params`` are re-sent unchanged,
    so a timed-out request that in fact succeeded is answered with the same object.
    """

    __tablename__ = "stripe_attempt"
    __table_args__ = (sa.UniqueConstraint("payment_id", "operation", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    operation: Mapped[str] = mapped_column(sa.String(50))
    number: Mapped[int] = mapped_column(default=1)
    params: Mapped[dict] = mapped_column(sa.JSON)
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(sa.ForeignKey("refund.id"), index=True)
    result_id: Mapped[str | None] = mapped_column(sa.String(255))
    url: Mapped[str | None] = mapped_column(sa.Text)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    payment: Mapped[Payment | None] = relationship(back_populates="attempts")


WAITING = sa.text("processed_at IS NULL AND given_up_at IS NULL")


class StripeEvent(db.Model):
    """A Stripe event, stored by its id before it is handled; a duplicate is not stored twice."""

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(100), index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    api_version: Mapped[str | None] = mapped_column(sa.String(50))
    livemode: Mapped[bool] = mapped_column(default=False)
    object_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    payload: Mapped[dict] = mapped_column(sa.JSON)
    source: Mapped[str] = mapped_column(sa.String(20), default="webhook")  # or "sync"
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    outcome: Mapped[str | None] = mapped_column(sa.String(50))
    # When the worker should (next) handle it; None once handled or given up.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Set when it failed too often to try again by itself; the treasurer may replay it.
    given_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The worker's queue: the events still waiting, in the order it takes them, and by
    # object, to see whether an earlier one about the same object still waits. Partial,
    # so both stay the size of the queue, not of every event ever received.
    __table_args__ = (
        sa.Index(
            "ix_stripe_event_waiting_order",
            "created",
            "received_at",
            "id",
            postgresql_where=WAITING,
            sqlite_where=WAITING,
        ),
        sa.Index(
            "ix_stripe_event_waiting_object",
            "object_id",
            "created",
            postgresql_where=WAITING,
            sqlite_where=WAITING,
        ),
    )

    @property
    def state(self):
        """``handled``, ``given_up``, ``failing`` (will be retried) or ``waiting``."""
        if self.processed_at is not None:
            return "handled"
        if self.given_up_at is not None:
            return "given_up"
        return "failing" if self.last_error else "waiting"


class Payout(TimestampMixin, db.Model):
    """A Stripe payout to the bank, and whether its transactions have been fetched."""

    __tablename__ = "payout"

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_payout_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3), default="cad")
    status: Mapped[str] = mapped_column(sa.String(20))
    automatic: Mapped[bool] = mapped_column(default=True)
    arrival_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reconciliation_status: Mapped[str | None] = mapped_column(sa.String(20))
    balance_transaction_id: Mapped[str | None] = _stripe_id()
    needs_sync: Mapped[bool] = mapped_column(default=False, index=True)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lines: Mapped[list["PayoutLine"]] = relationship(
        back_populates="payout", cascade="all, delete-orphan", order_by="PayoutLine.id"
    )


class PayoutLine(db.Model):
    """One balance transaction settled in a payout, matched to our rows where we can."""

    __tablename__ = "payout_line"
    # A payout's lines are read a page at a time, in order.
    __table_args__ = (sa.Index("ix_payout_line_payout_order", "payout_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payout_id: Mapped[int] = mapped_column(
        sa.ForeignKey("payout.id", ondelete="CASCADE"), index=True
    )
    balance_transaction_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    type: Mapped[str] = mapped_column(sa.String(50))
    reporting_category: Mapped[str | None] = mapped_column(sa.String(50))
    amount: Mapped[int]  # signed
    fee: Mapped[int]
    net: Mapped[int]
    source_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    description: Mapped[str | None] = mapped_column(sa.String(500))
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(sa.ForeignKey("refund.id"), index=True)
    dispute_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dispute.id"), index=True)

    payout: Mapped[Payout] = relationship(back_populates="lines")
