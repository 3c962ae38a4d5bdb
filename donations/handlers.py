"""What payments tells donations: the ``donation`` purpose's handlers.

Each handler receives a neutral event from :mod:`payments.events` and flushes; it runs
inside the transaction that records the payment, refund or dispute.
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import audit, clock
from core.db import db, locked
from core.mail.services import queue_email
from donations import receipts
from donations.models import (
    Donation,
    DonationKind,
    DonationStatus,
    MonthlyStatus,
    TributeKind,
    donation_states,
    monthly_gift_states,
)
from payments.purposes import Purpose

PURPOSE = "donation"

#: The donor's details a month of a monthly gift copies from the gift.
DONOR_FIELDS = (
    "donor_name",
    "organization_name",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "province",
    "postal_code",
    "country",
    "language",
)


def _lock(donation_id):
    return locked(sa.select(Donation).where(Donation.id == donation_id)).one()


def _gift_of(allocation):
    return db.session.get(Donation, allocation.row_id).monthly_gift


def _thank(donation, receipt):
    """The thank-you email, with the receipt attached when there is one."""
    from donations.gifts import manage_url

    gift = donation.monthly_gift
    context = {
        "donation": donation,
        "receipt": receipt,
        "fund_name": donation.fund.name(donation.language),
        "manage_url": manage_url(gift) if gift else None,
        "official": receipts.official(),
    }
    attachments = []
    if receipt is not None:
        attachments.append(receipts.attachment(receipt))
        context["download_url"] = receipts.link(receipt)
    queue_email(
        donation.email,
        "donations/thank_you",
        subject=_l("Thank you for your gift"),
        language=donation.language,
        context=context,
        attachments=attachments,
    )


def _notify_tribute(donation):
    if donation.tribute_kind is None or not donation.tribute_notify_email:
        return
    if donation.tribute_notified_at is not None:
        return
    donation.tribute_notified_at = clock.now()
    queue_email(
        donation.tribute_notify_email,
        "donations/tribute",
        subject=_l("A gift in your honour")
        if donation.tribute_kind == TributeKind.honour
        else _l("A gift in memory of %(name)s", name=donation.tribute_name),
        language=donation.language,
        context={"donation": donation, "fund_name": donation.fund.name(donation.language)},
    )


def on_paid(event):
    donation = _lock(event.allocation.row_id)
    if donation.status == DonationStatus.paid:
        return
    payment = event.payment
    donation_states.move(donation, DonationStatus.paid, actor="stripe")
    donation.received_at = payment.paid_at or clock.now()
    gift = donation.monthly_gift
    # The first month is the payment that started the series, whatever order the news
    # came in (the series may already say it is running).
    first_month = gift is not None and event.first
    if gift is not None:
        gift.subscription_id = gift.subscription_id or payment.subscription_id
        gift.customer_id = gift.customer_id or payment.customer_id
        if event.period_end is not None and (
            gift.paid_through is None or event.period_end > gift.paid_through
        ):
            gift.paid_through = event.period_end
    # Cancelled here means an earlier Checkout of it expired before this one was paid.
    if first_month and gift.status in (MonthlyStatus.pending, MonthlyStatus.cancelled):
        monthly_gift_states.move(gift, MonthlyStatus.active, actor="stripe")
        gift.cancelled_at = None
    receipt = None
    if gift is None or not gift.annual_receipt:
        receipt = receipts.issue([donation])
    if gift is None or first_month or receipt is not None:
        _thank(donation, receipt)
    _notify_tribute(donation)


def on_expired(event):
    donation = _lock(event.allocation.row_id)
    if donation.status == DonationStatus.pending:
        donation_states.move(donation, DonationStatus.expired, actor="stripe")
    gift = donation.monthly_gift
    if gift is not None and gift.status == MonthlyStatus.pending:
        monthly_gift_states.move(gift, MonthlyStatus.cancelled, actor="stripe")
        gift.cancelled_at = clock.now()


def on_refunded(event):
    donation = _lock(event.allocation.row_id)
    donation.refunded = min(donation.refunded + event.amount, donation.total)
    if donation.refunded >= donation.total and donation.status == DonationStatus.paid:
        donation_states.move(donation, DonationStatus.refunded, actor="stripe")
    audit.record("donation.refunded", donation, actor="stripe", data={"amount": event.amount})
    receipts.reconcile(donation, reason="refund")


def on_refund_failed(event):
    donation = _lock(event.allocation.row_id)
    donation.refunded = max(donation.refunded - event.amount, 0)
    if donation.status == DonationStatus.refunded and donation.refunded < donation.total:
        donation_states.move(donation, DonationStatus.paid, actor="stripe")
    audit.record("donation.refund_failed", donation, actor="stripe", data={"amount": event.amount})
    receipts.restore(donation, reason="refund failed")


def on_disputed(event):
    donation = _lock(event.allocation.row_id)
    audit.record("donation.disputed", donation, actor="stripe", data={"amount": event.amount})


def on_dispute_closed(event):
    donation = _lock(event.allocation.row_id)
    if event.won or donation.status != DonationStatus.paid:
        return
    donation_states.move(donation, DonationStatus.charged_back, actor="stripe")
    # The receipt is voided; an annual one is replaced for the other months.
    receipts.reconcile(donation, reason="charged back")


def on_new_period(event):
    """A later month of a monthly gift was paid: a new gift row for it."""
    gift = _gift_of(event.first_allocation)
    payment = event.payment
    if payment.amount == gift.charged:
        amount, fee = gift.amount, gift.charged - gift.amount
    else:
        amount, fee = payment.amount, 0
    donation = Donation(
        kind=DonationKind.monthly,
        fund_id=gift.fund_id,
        amount=amount,
        fee_covered=fee,
        anonymous=gift.anonymous,
        monthly_gift=gift,
        user_id=gift.user_id,
        payment_id=payment.id,
        **{name: getattr(gift, name) for name in DONOR_FIELDS},
    )
    db.session.add(donation)
    db.session.flush()
    return donation.id, event.first_allocation.description


def on_renewal_failed(event):
    from donations.gifts import manage_url

    gift = _gift_of(event.allocation)
    if gift.status in (MonthlyStatus.pending, MonthlyStatus.cancelled):
        return  # late news about a gift that has not started or has ended
    if gift.last_failed_renewal == event.renewal_id:
        return  # the same failed month, retried; one email is enough
    gift.last_failed_renewal = event.renewal_id
    monthly_gift_states.move(
        gift, MonthlyStatus.past_due, actor="stripe", data={"renewal": event.renewal_id}
    )
    queue_email(
        gift.email,
        "donations/payment_failed",
        subject=_l("Your monthly gift could not be processed"),
        language=gift.language,
        context={
            "gift": gift,
            "fund_name": gift.fund.name(gift.language),
            "manage_url": manage_url(gift),
        },
    )


def on_recurring_changed(event):
    gift = _gift_of(event.allocation)
    gift.ends_at_period_end = event.ends_at_period_end
    gift.paid_through = event.paid_through
    # Only the first payment starts a gift (on_paid); this only follows later changes.
    if not event.overdue and gift.status == MonthlyStatus.past_due:
        monthly_gift_states.move(gift, MonthlyStatus.active, actor="stripe")
    elif event.overdue and gift.status == MonthlyStatus.active:
        monthly_gift_states.move(gift, MonthlyStatus.past_due, actor="stripe")


def on_recurring_ended(event):
    gift = _gift_of(event.allocation)
    if gift.status == MonthlyStatus.cancelled:
        return
    monthly_gift_states.move(gift, MonthlyStatus.cancelled, actor="stripe")
    gift.cancelled_at = event.ended_at or clock.now()
    gift.ends_at_period_end = False


def describe(allocation):
    donation = db.session.get(Donation, allocation.row_id)
    return f"Gift #{donation.id} to {donation.fund.name_en}" if donation else allocation.description


def purpose():
    return Purpose(
        name=PURPOSE,
        paid=on_paid,
        expired=on_expired,
        new_period=on_new_period,
        renewal_failed=on_renewal_failed,
        recurring_changed=on_recurring_changed,
        recurring_ended=on_recurring_ended,
        refunded=on_refunded,
        refund_failed=on_refund_failed,
        disputed=on_disputed,
        dispute_closed=on_dispute_closed,
        describe=describe,
    )
