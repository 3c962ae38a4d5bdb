"""What payments tells the ``membership`` purpose, and what a membership does about it.

Each handler receives one of the neutral values of :mod:`payments.events` and is called
at most once per change, inside the transaction that records it; it still checks the
state it finds, so a late or repeated message changes nothing.
"""

from flask_babel import lazy_gettext as _l

from core import audit
from core.db import db
from core.mail.services import queue_email
from core.urls import absolute_url
from members import autorenew, dates, management, pricing, receipting, services
from members.models import (
    Dues,
    DuesStatus,
    MembershipStatus,
    dues_states,
    membership_states,
)
from payments.purposes import Purpose

ACTOR = "payments"


def _dues(allocation):
    dues = services.lock_dues(allocation.row_id)
    membership = services.lock_membership(dues.membership_id)
    return dues, membership


def _is_latest_term(membership, dues):
    later = [
        d
        for d in membership.dues
        if d.status == DuesStatus.paid and d.id != dues.id and d.received_at and dues.received_at
    ]
    return not any(d.received_at > dues.received_at for d in later)


def on_paid(event):
    """Dues paid: the term starts or extends, and the member gets a receipt or acknowledgement."""
    dues, membership = _dues(event.allocation)
    if dues.status == DuesStatus.paid:
        return
    payment = event.payment
    dues_states.move(dues, DuesStatus.paid, actor=ACTOR)
    dues.received_at = payment.paid_at
    today = dates.local_date(payment.paid_at) if payment.paid_at else dates.today()
    services.apply_term(membership, dues, on=today, actor=ACTOR)
    if event.recurring:
        membership.auto_renew = True
        membership.recurring_payment_id = payment.renewal_of_id or payment.id
        membership.renews_on = dates.local_date(event.period_end)
        membership.price = dues.amount
        membership.failed_renewal = None
    receipting.acknowledge(dues, kind="renewed" if dues.automatic else None)


def on_expired(event):
    dues, membership = _dues(event.allocation)
    if dues.status == DuesStatus.pending:
        dues_states.move(dues, DuesStatus.expired, actor=ACTOR)
    if membership.status == MembershipStatus.pending and not any(
        d.status in (DuesStatus.pending, DuesStatus.paid) for d in membership.dues
    ):
        membership_states.move(
            membership, MembershipStatus.cancelled, actor=ACTOR, data={"reason": "checkout ended"}
        )


def on_new_period(event):
    """An automatic renewal was charged: a dues row for the year it pays."""
    first = db.session.get(Dues, event.first_allocation.row_id)
    membership = services.lock_membership(first.membership_id)
    term = dates.next_term(
        lifetime=False, ends_on=membership.ends_on, status=membership.status, on=dates.today()
    )
    dues = Dues(
        membership=membership,
        tier=membership.tier,
        amount=event.payment.amount,
        tax=0,
        tax_province=first.tax_province,  # the first year's rate, so its province
        advantage=min(membership.tier.advantage, event.payment.amount),
        auto_renew=True,
        automatic=True,
        starts_on=term.starts_on,
        ends_on=term.ends_on,
        language=membership.user.language,
    )
    if membership.tier.taxable and first.tax:
        # The same share of tax as the first year's dues, for the same address.
        dues.tax = round(event.payment.amount * first.tax / first.amount)
    db.session.add(dues)
    db.session.flush()
    return dues.id, pricing.describe_term(membership.tier, term, dues.language)


def on_renewal_failed(event):
    """A renewal could not be charged: the member stays in grace and is asked to fix the card."""
    first = db.session.get(Dues, event.allocation.row_id)
    membership = services.lock_membership(first.membership_id)
    if not membership.auto_renew or membership.failed_renewal == event.renewal_id:
        return
    membership.failed_renewal = event.renewal_id
    if membership.status == MembershipStatus.current:
        membership_states.move(
            membership, MembershipStatus.grace, actor=ACTOR, data={"reason": "renewal failed"}
        )
    audit.record(
        "membership.renewal_failed", membership, actor=ACTOR, data={"renewal": event.renewal_id}
    )
    user = membership.user
    queue_email(
        user.email,
        "members/renewal_failed",
        subject=_l("Your membership renewal could not be charged"),
        language=user.language,
        context={
            "membership": membership,
            "tier_name": membership.tier.name(user.language),
            "grace_ends_on": dates.grace_ends_on(membership.ends_on),
            "account_url": absolute_url("members.account"),
            "can_fix_card": event.can_fix_card,
        },
    )


def on_recurring_changed(event):
    first = db.session.get(Dues, event.allocation.row_id)
    membership = services.lock_membership(first.membership_id)
    series_id = event.allocation.payment_id
    if membership.recurring_payment_id not in (None, series_id):
        return  # news of an older series that another one replaced
    if event.ends_at_period_end or event.next_charge_at is None:
        if membership.auto_renew:
            membership.auto_renew = False
            audit.record("membership.auto_renew_off", membership, actor=ACTOR)
        membership.renews_on = None
        return
    if membership.status in (MembershipStatus.cancelled, MembershipStatus.suspended):
        return
    if not membership.auto_renew:
        audit.record("membership.auto_renew_on", membership, actor=ACTOR)
    membership.auto_renew = True
    membership.recurring_payment_id = series_id
    membership.renews_on = dates.local_date(event.next_charge_at)
    membership.price = event.amount


def on_recurring_ended(event):
    """The series ended: no more renewals, and the term already paid is kept whole."""
    first = db.session.get(Dues, event.allocation.row_id)
    membership = services.lock_membership(first.membership_id)
    if membership.recurring_payment_id not in (None, event.allocation.payment_id):
        return
    if membership.auto_renew:
        audit.record("membership.auto_renew_ended", membership, actor=ACTOR)
    membership.auto_renew = False
    membership.renews_on = None
    membership.recurring_payment_id = None
    for dues in membership.dues:
        # A future first charge that will never come.
        if dues.status == DuesStatus.pending and dues.payment_id == event.allocation.payment_id:
            dues_states.move(dues, DuesStatus.expired, actor=ACTOR)


def _suspend(membership, dues, reason):
    if membership.status not in (
        MembershipStatus.current,
        MembershipStatus.grace,
        MembershipStatus.expired,
    ):
        return
    if not _is_latest_term(membership, dues):
        return
    membership_states.move(
        membership, MembershipStatus.suspended, actor=ACTOR, data={"reason": reason}
    )
    if membership.auto_renew:
        autorenew.turn_auto_renew_off(membership)
    user = membership.user
    queue_email(
        user.email,
        "members/suspended",
        subject=_l("Your membership is suspended"),
        language=user.language,
        context={
            "membership": membership,
            "reason": reason,
            "tier_name": membership.tier.name(user.language),
            "account_url": absolute_url("members.account"),
        },
    )


def on_refunded(event):
    dues, membership = _dues(event.allocation)
    dues.refunded = min(dues.refunded + event.amount, dues.amount)
    audit.record("dues.refunded", dues, actor=ACTOR, data={"amount": event.amount})
    if dues.refunded >= dues.amount and dues.status == DuesStatus.paid:
        dues_states.move(dues, DuesStatus.refunded, actor=ACTOR)
        _suspend(membership, dues, "refund")
    receipting.reconcile(dues, reason="refund")


def on_refund_failed(event):
    dues, membership = _dues(event.allocation)
    dues.refunded = max(dues.refunded - event.amount, 0)
    if dues.status == DuesStatus.refunded and dues.refunded < dues.amount:
        dues_states.move(dues, DuesStatus.paid, actor=ACTOR)
    audit.record("dues.refund_failed", dues, actor=ACTOR, data={"amount": event.amount})
    if membership.status == MembershipStatus.suspended and dues.status == DuesStatus.paid:
        management.reinstate(membership, "refund failed")
    receipting.restore(dues, reason="refund failed")


def on_disputed(event):
    dues, _ = _dues(event.allocation)
    audit.record("dues.disputed", dues, actor=ACTOR, data={"amount": event.amount})


def on_dispute_closed(event):
    dues, membership = _dues(event.allocation)
    if event.won or dues.status != DuesStatus.paid:
        return
    dues_states.move(dues, DuesStatus.charged_back, actor=ACTOR)
    _suspend(membership, dues, "dispute lost")
    receipting.reconcile(dues, reason="charged back")


def describe(allocation):
    dues = db.session.get(Dues, allocation.row_id)
    if dues is None:
        return allocation.description
    return f"Membership dues #{dues.id}: {dues.tier.name_en}"


def purpose():
    return Purpose(
        name=services.PURPOSE,
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
