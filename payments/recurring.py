"""Recurring payments: the invoices that pay each period, failures, changes and the end.

A series is named by the payment that started it (its Checkout). The first paid invoice
completes that payment; each later one becomes a payment of its own, keyed by invoice.
"""

from datetime import timedelta

import sqlalchemy as sa

from core import audit, clock
from core.db import db, locked
from payments.attempts import (
    PRODUCT_UPDATE,
    SUBSCRIPTION_UPDATE,
    commit_before_stripe,
    new_attempt,
)
from payments.events import NewPeriod, RecurringChanged, RecurringEnded, RenewalFailed
from payments.gateway import gateway
from payments.models import Allocation, Payment, PaymentStatus
from payments.purposes import purpose_for, tell
from payments.recording import (
    AmountMismatch,
    payment_from_metadata,
    record_payment_intent,
    stripe_id,
    ts_to_datetime,
)

#: A first charge at a future date is the cycle invoice whose period starts about then.
FIRST_PERIOD_SLACK = timedelta(days=1)


def subscription_of(invoice):
    """(subscription id, its metadata) for an invoice, in this API version's shape or older."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    if not details:
        details = invoice.get("subscription_details") or {}
        details = {"subscription": stripe_id(invoice.get("subscription")), **details}
    return details.get("subscription"), details.get("metadata") or {}


def invoice_period(invoice):
    """The service period an invoice's lines cover, or (None, None)."""
    lines = (invoice.get("lines") or {}).get("data") or []
    periods = [line.get("period") or {} for line in lines]
    starts = [p["start"] for p in periods if p.get("start")]
    ends = [p["end"] for p in periods if p.get("end")]
    if not starts or not ends:
        return None, None
    return ts_to_datetime(min(starts)), ts_to_datetime(max(ends))


def original_payment_for_subscription(subscription_id, metadata=None):
    """The payment whose Checkout started a subscription, locked."""
    payment = payment_from_metadata(metadata)
    if payment is None and subscription_id:
        payment = locked(
            sa.select(Payment)
            .where(Payment.subscription_id == subscription_id, Payment.renewal_of_id.is_(None))
            .order_by(Payment.id)
        ).first()
    return payment


def record_first_invoice(payment, invoice_id, details):
    """A subscription Checkout completed: its first invoice pays the payment, unless it is $0.

    A series whose first charge is at a future date starts with a $0 invoice that is no
    payment; the payment stays pending until that charge (:func:`record_invoice`).
    """
    invoice = gateway().retrieve_invoice(invoice_id, expand=["payments"])
    if not invoice.get("amount_paid") and not invoice.get("amount_due"):
        return payment
    _record_invoice_payment(payment, invoice, details, first=True)
    return payment


def _record_invoice_payment(payment, invoice, details=None, *, first):
    payment.invoice_id = invoice["id"]
    payments = (invoice.get("payments") or {}).get("data") or []
    paid = [p for p in payments if p.get("status") == "paid"] or payments
    if not paid:
        raise AmountMismatch(f"invoice {invoice['id']} lists no payment")
    intent = paid[0]["payment"].get("payment_intent")
    details = details or {
        "email": invoice.get("customer_email"),
        "name": invoice.get("customer_name"),
    }
    record_payment_intent(payment, intent, details, first=first, period=invoice_period(invoice))


def _is_first_paid(original, invoice):
    if invoice.get("billing_reason") == "subscription_create":
        return True
    if original.first_charge_at is None or original.status == PaymentStatus.succeeded:
        return False
    start, _ = invoice_period(invoice)
    return start is not None and start <= original.first_charge_at + FIRST_PERIOD_SLACK


def record_invoice(invoice_id):
    """``invoice.paid``: the first paid invoice completes the Checkout payment; later ones renew."""
    invoice = gateway().retrieve_invoice(invoice_id, expand=["payments"])
    if invoice.get("status") != "paid":
        return None
    subscription_id, metadata = subscription_of(invoice)
    original = original_payment_for_subscription(subscription_id, metadata)
    if original is None:
        return None
    original.subscription_id = original.subscription_id or subscription_id
    original.customer_id = original.customer_id or invoice.get("customer")
    if not invoice.get("amount_paid"):
        return original  # a $0 invoice (before a future first charge) is no payment
    if original.invoice_id == invoice["id"] or _is_first_paid(original, invoice):
        if original.status != PaymentStatus.succeeded:
            if original.first_charge_at is not None and len(original.allocations) == 1:
                # The amount may have changed before the first charge came.
                original.amount = original.allocations[0].amount = invoice["amount_paid"]
            _record_invoice_payment(original, invoice, first=True)
        return original
    existing = db.session.scalar(sa.select(Payment).where(Payment.invoice_id == invoice["id"]))
    if existing is not None:
        if existing.status != PaymentStatus.succeeded:
            _record_invoice_payment(existing, invoice, first=False)
        return existing
    return _record_renewal(original, invoice, subscription_id)


def _record_renewal(original, invoice, subscription_id):
    renewal = Payment(
        amount=invoice["amount_paid"],
        currency=invoice.get("currency") or original.currency,
        mode="subscription",
        email=original.email,
        name=original.name,
        language=original.language,
        invoice_id=invoice["id"],
        subscription_id=subscription_id,
        customer_id=invoice.get("customer") or original.customer_id,
        renewal_of_id=original.id,
    )
    db.session.add(renewal)
    db.session.flush()
    [template] = original.allocations
    handler = purpose_for(template.purpose).new_period
    if handler is None:
        raise LookupError(f"purpose {template.purpose!r} cannot renew")
    start, end = invoice_period(invoice)
    row_id, description = handler(NewPeriod(template, renewal, start, end))
    renewal.allocations.append(
        Allocation(
            purpose=template.purpose,
            row_id=row_id,
            amount=renewal.amount,
            tax=0,
            description=(description or template.description)[:300],
        )
    )
    db.session.flush()
    audit.record("payment.renewal", renewal, actor="stripe", data={"invoice": invoice["id"]})
    _record_invoice_payment(renewal, invoice, first=False)
    return renewal


def renewal_failed(invoice_id):
    """``invoice.payment_failed``: tell the feature once per failed renewal, not per retry."""
    invoice = gateway().retrieve_invoice(invoice_id)
    subscription_id, metadata = subscription_of(invoice)
    original = original_payment_for_subscription(subscription_id, metadata)
    if original is None:
        return None
    if invoice.get("status") == "paid" or invoice.get("billing_reason") == "subscription_create":
        return original  # a retry already succeeded, or Checkout is handling the first payment
    event_args = {
        "renewal_id": invoice["id"],
        "can_fix_card": bool(original.customer_id or invoice.get("customer")),
        "next_attempt_at": ts_to_datetime(invoice.get("next_payment_attempt")),
    }
    for allocation in original.allocations:
        tell(allocation, "renewal_failed", RenewalFailed(allocation, **event_args))
    return original


def _items(subscription):
    return (subscription.get("items") or {}).get("data") or []


def subscription_changed(subscription_id):
    """``customer.subscription.*``: hand the series' current state to the feature."""
    subscription = gateway().retrieve_subscription(subscription_id)
    original = original_payment_for_subscription(subscription["id"], subscription.get("metadata"))
    if original is None:
        return None
    status = subscription.get("status")
    if status in {"canceled", "incomplete_expired"}:
        if original.series_ended_at is not None:
            return original  # told already
        ended_at = ts_to_datetime(subscription.get("ended_at") or subscription.get("canceled_at"))
        original.series_ended_at = ended_at or clock.now()
        audit.record("payment.series_ended", original, actor="stripe")
        for allocation in original.allocations:
            tell(allocation, "recurring_ended", RecurringEnded(allocation, ended_at))
        return original
    if status == "incomplete":
        return original  # the first payment is still being made in Checkout
    items = _items(subscription)
    ends = [i["current_period_end"] for i in items if i.get("current_period_end")]
    period_end = ts_to_datetime(max(ends)) if ends else None
    trialing = status == "trialing"
    ending = bool(subscription.get("cancel_at_period_end") or subscription.get("cancel_at"))
    if ending:
        next_charge = None
    elif trialing:
        next_charge = ts_to_datetime(subscription.get("trial_end")) or period_end
    else:
        next_charge = period_end
    amount = sum((i["price"].get("unit_amount") or 0) * i.get("quantity", 1) for i in items)
    for allocation in original.allocations:
        event = RecurringChanged(
            allocation,
            amount=amount,
            paid_through=None if trialing else period_end,
            next_charge_at=next_charge,
            ends_at_period_end=ending,
            overdue=status in {"past_due", "unpaid"},
        )
        tell(allocation, "recurring_changed", event)
    return original


# -- what a feature asks of a series -----------------------------------------------------------


def _update(payment, params):
    """Change the series through a stored attempt, keyed like every other request."""
    if not payment.subscription_id:
        raise LookupError(f"payment {payment.id} started no recurring payment")
    attempt = new_attempt(payment, SUBSCRIPTION_UPDATE, params)
    commit_before_stripe(attempt)
    result = gateway().update_subscription(payment.subscription_id, params, attempt.key)
    attempt.result_id = result["id"]
    db.session.flush()
    return result


def change_recurring_amount(payment, amount, name=None):
    """Charge ``amount`` each period from the next one on; this period is not prorated.

    ``name``, when given, renames what the payer sees on their invoices and in the portal
    (the line was named when the checkout began, and may state the old amount).
    """
    subscription = gateway().retrieve_subscription(payment.subscription_id)
    [item] = _items(subscription)
    price = item["price"]
    if name:
        product = stripe_id(price["product"])
        attempt = new_attempt(payment, PRODUCT_UPDATE, {"product": product, "name": name[:250]})
        commit_before_stripe(attempt)
        gateway().update_product(product, {"name": name[:250]}, attempt.key)
        attempt.result_id = product
        db.session.flush()
    params = {
        "items": [
            {
                "id": item["id"],
                "price_data": {
                    "currency": price["currency"],
                    "product": stripe_id(price["product"]),
                    "unit_amount": amount,
                    "recurring": {"interval": price["recurring"]["interval"]},
                },
            }
        ],
        "proration_behavior": "none",
    }
    _update(payment, params)


def stop_recurring(payment):
    """End the series when the period paid for ends (nothing is refunded)."""
    _update(payment, {"cancel_at_period_end": True})


def resume_recurring(payment):
    """Undo :func:`stop_recurring` before the period ends."""
    _update(payment, {"cancel_at_period_end": False})


def refresh_recurring(payment):
    """Read the series from Stripe now and tell the feature, as the worker would shortly.

    For the page a payer comes back to from the portal, so that they see what they did.
    """
    if payment.subscription_id:
        subscription_changed(payment.subscription_id)
    return payment


def portal_url(payment, return_url):
    """A page where the payer updates the card or cancels; ``return_url`` is their way back."""
    if not payment.customer_id:
        raise LookupError(f"payment {payment.id} has no payer on record yet")
    locale = "fr" if payment.language == "fr" else "en"
    return gateway().create_portal_session(payment.customer_id, return_url, locale=locale)["url"]
