"""What payments tells a feature: neutral, frozen values, never a Stripe object.

A feature's :class:`~payments.purposes.Purpose` handlers receive one of these. Each names
the :class:`~payments.models.Allocation` it concerns (the feature's ``purpose`` and
``row_id`` are on it). For recurring payments, events about the series as a whole
(renewal failed, changed, ended) name the allocation of the payment that started it.
Dates are aware UTC datetimes; amounts are integer cents.
"""

from dataclasses import dataclass
from datetime import datetime

from payments.models import Allocation, Payment


@dataclass(frozen=True)
class Paid:
    """The money for ``allocation`` arrived (``payment.paid_at``, fee and net are recorded)."""

    allocation: Allocation
    payment: Payment
    #: True for a one-time payment and for the first paid period of a recurring one.
    first: bool = True
    #: The period this payment covers, for a recurring payment; None for a one-time one.
    period_start: datetime | None = None
    period_end: datetime | None = None

    @property
    def recurring(self):
        return self.period_end is not None


@dataclass(frozen=True)
class Expired:
    """The checkout will never be paid: abandoned, expired, or its payment method failed."""

    allocation: Allocation
    payment: Payment
    #: ``"expired"`` (abandoned or expired now) or ``"failed"`` (a delayed payment failed).
    reason: str = "expired"


@dataclass(frozen=True)
class NewPeriod:
    """A later period of a recurring payment was paid: the feature names the row it pays.

    The purpose's ``new_period`` handler returns ``(row_id, description)`` for the new
    allocation; a :class:`Paid` for that allocation follows at once.
    """

    first_allocation: Allocation
    payment: Payment
    period_start: datetime | None
    period_end: datetime | None


@dataclass(frozen=True)
class RenewalFailed:
    """A recurring charge failed; the card may be fixed through :func:`portal_url`."""

    allocation: Allocation
    #: Stable for one failed renewal, however often it is retried: deduplicate on it.
    renewal_id: str
    #: The payer can fix it themselves (update the card in the portal).
    can_fix_card: bool
    #: When the next automatic retry happens, if one is planned.
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class RecurringChanged:
    """The current state of a recurring series, after any change (amount, card, end, arrears)."""

    allocation: Allocation
    #: What each period charges from the next one on.
    amount: int
    #: The end of the period paid so far; None while the first charge is still to come.
    paid_through: datetime | None
    #: When the next charge is due; None when the series ends at the period's end.
    next_charge_at: datetime | None
    ends_at_period_end: bool
    #: A charge failed and is still unpaid.
    overdue: bool


@dataclass(frozen=True)
class RecurringEnded:
    """The series ended: cancelled now, at the end of its period, or after unpaid renewals."""

    allocation: Allocation
    ended_at: datetime | None


@dataclass(frozen=True)
class Refunded:
    """``amount`` of this allocation went back to the payer."""

    allocation: Allocation
    amount: int
    refund_id: int


@dataclass(frozen=True)
class RefundFailed:
    """A refund reported earlier did not happen: the money is kept after all."""

    allocation: Allocation
    amount: int
    refund_id: int


@dataclass(frozen=True)
class Disputed:
    """The card holder disputes the charge; ``amount`` is this allocation's share."""

    allocation: Allocation
    amount: int
    dispute_id: int


@dataclass(frozen=True)
class DisputeClosed:
    """The bank decided a dispute: ``won`` keeps the money, lost takes ``amount`` back."""

    allocation: Allocation
    amount: int
    dispute_id: int
    won: bool

    @property
    def lost(self):
        return not self.won
