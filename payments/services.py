"""Payment verbs: start and open a Checkout, record what was paid, refunds, disputes, renewals.

Every verb that records money is safe to call twice and in any order: it locks the
payment row (``SELECT … FOR UPDATE`` on PostgreSQL), reads the current state from Stripe,
and does only what has not been done. The success page and the webhook both call
:func:`confirm_checkout`; whichever comes first records the payment.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import audit, clock
from core.db import db, locked
from core.errors import Conflict, ValidationError
from core.money import split_pro_rata
from payments.gateway import ObjectMissing, gateway
from payments.models import (
    Allocation,
    Dispute,
    Payment,
    PaymentStatus,
    Refund,
    RefundAllocation,
    RefundStatus,
    StripeAttempt,
    payment_states,
)
from payments.purposes import purpose_for

log = logging.getLogger(__name__)

#: Checkout Sessions expire after this (Stripe allows 30 minutes to 24 hours).
CHECKOUT_LIFETIME = timedelta(hours=1)
#: Stripe keeps idempotency keys for 24 hours; a retry after that is a new attempt.
KEY_LIFETIME = timedelta(hours=23)

CHECKOUT = "checkout.session"
REFUND = "refund"


class AmountMismatch(Exception):
    """Stripe charged another amount than we asked: a person must look (the event keeps it)."""


@dataclass(frozen=True)
class Line:
    """A line on the Checkout page."""

    name: str
    unit_amount: int
    quantity: int = 1
    description: str | None = None


@dataclass(frozen=True)
class Part:
    """The share of a payment that pays for one row of a feature."""

    purpose: str
    row_id: int
    amount: int
    tax: int = 0
    description: str = ""


def _ts_to_datetime(value):
    return datetime.fromtimestamp(int(value), UTC) if value else None


# -- starting a Checkout ---------------------------------------------------------------------


def start_checkout(
    *,
    parts,
    lines,
    email,
    language,
    success_url,
    cancel_url,
    name=None,
    mode="payment",
    interval=None,
    submit_type=None,
    customer_id=None,
    description=None,
    metadata=None,
):
    """Create a pending payment, its allocations and the first Checkout attempt (not yet sent).

    The caller commits, then calls :func:`open_checkout`: the attempt is stored before
    Stripe is asked, so a timeout leaves something to retry with the very same request.
    """
    total = sum(line.unit_amount * line.quantity for line in lines)
    if total <= 0 or total != sum(part.amount for part in parts):
        raise ValidationError(_l("The amount to pay does not add up."))
    if mode == "subscription" and (not interval or len(parts) != 1):
        raise ValidationError(_l("A subscription pays for exactly one thing, at an interval."))
    payment = Payment(
        amount=total,
        mode=mode,
        email=email,
        name=name,
        language=language,
        customer_id=customer_id,
        allocations=[
            Allocation(
                purpose=part.purpose,
                row_id=part.row_id,
                amount=part.amount,
                tax=part.tax,
                description=part.description[:300],
            )
            for part in parts
        ],
    )
    db.session.add(payment)
    db.session.flush()
    params = _session_params(
        payment,
        lines=lines,
        success_url=success_url,
        cancel_url=cancel_url,
        interval=interval,
        submit_type=submit_type,
        description=description,
        metadata=metadata or {},
    )
    _new_attempt(payment, CHECKOUT, params)
    audit.record("payment.started", payment, data={"amount": total, "mode": mode})
    return payment


def _session_params(
    payment, *, lines, success_url, cancel_url, interval, submit_type, description, metadata
):
    ours = {"payment_id": str(payment.id), **{k: str(v) for k, v in metadata.items()}}
    items = []
    for line in lines:
        price_data = {
            "currency": payment.currency,
            "unit_amount": line.unit_amount,
            "product_data": {"name": line.name[:250]},
        }
        if line.description:
            price_data["product_data"]["description"] = line.description[:500]
        if interval:
            price_data["recurring"] = {"interval": interval}
        items.append({"price_data": price_data, "quantity": line.quantity})
    params = {
        "mode": payment.mode,
        "line_items": items,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": f"payment-{payment.id}",
        "metadata": ours,
        "locale": "fr" if payment.language == "fr" else "en",
        "payment_method_types": ["card"],
        "expires_at": int((clock.now() + CHECKOUT_LIFETIME).timestamp()),
    }
    if payment.customer_id:
        params["customer"] = payment.customer_id
    elif payment.email:
        params["customer_email"] = payment.email
    if payment.mode == "payment":
        params["payment_intent_data"] = {"metadata": ours}
        if description:
            params["payment_intent_data"]["description"] = description[:1000]
        if submit_type:
            params["submit_type"] = submit_type
    else:
        params["subscription_data"] = {"metadata": ours}
        if description:
            params["subscription_data"]["description"] = description[:500]
    return params


def _new_attempt(payment, operation, params, refund=None):
    number = 1 + max((a.number for a in payment.attempts if a.operation == operation), default=0)
    if refund is not None:
        purpose, row_id = "refund", refund.id
    else:
        purpose, row_id = payment.allocations[0].purpose, payment.allocations[0].row_id
    # purpose:row id:attempt n; the random tail keeps keys unique across database resets.
    key = f"{purpose}:{row_id}:attempt {number}:{secrets.token_hex(4)}"
    attempt = StripeAttempt(
        key=key,
        operation=operation,
        number=number,
        params=params,
        payment=payment,
        refund_id=refund.id if refund is not None else None,
    )
    db.session.add(attempt)
    db.session.flush()
    return attempt


def latest_attempt(payment, operation=CHECKOUT):
    attempts = [a for a in payment.attempts if a.operation == operation]
    return attempts[-1] if attempts else None


def update_subscription(payment, subscription_id, params):
    """Change a subscription through a stored attempt, keyed like every other request."""
    attempt = _new_attempt(payment, "subscription.update", params)
    attempt.sent_at = clock.now()
    result = gateway().update_subscription(subscription_id, params, attempt.key)
    attempt.result_id = result["id"]
    return result


def open_checkout(payment):
    """Send the payment's Checkout attempt to Stripe and return the hosted page's address.

    Raises ``PaymentProviderUnavailable`` when Stripe does not answer; the attempt stays
    as it was, and :func:`retry_checkout` sends it again unchanged.
    """
    attempt = latest_attempt(payment)
    if attempt.url:
        return attempt.url
    attempt.sent_at = clock.now()
    session = gateway().create_checkout_session(attempt.params, attempt.key)
    attempt.result_id = session["id"]
    attempt.url = session.get("url")
    attempt.error = None
    payment.checkout_session_id = session["id"]
    return attempt.url


def retry_checkout(payment):
    """Try again after Stripe did not answer: the same request, or a fresh one once it is stale."""
    payment = lock_payment(payment.id)  # two quick clicks must not both add an attempt
    if payment.status != PaymentStatus.pending:
        raise Conflict(_l("This payment is no longer waiting to be paid."))
    attempt = latest_attempt(payment)
    stale = clock.now() - attempt.created_at > KEY_LIFETIME or (
        attempt.params.get("expires_at", 0) - 60 < clock.timestamp()
    )
    if attempt.url and not stale:
        return attempt.url
    if stale:
        params = dict(attempt.params)
        params["expires_at"] = int((clock.now() + CHECKOUT_LIFETIME).timestamp())
        _new_attempt(payment, CHECKOUT, params)
    return open_checkout(payment)


# -- finding and locking payments ------------------------------------------------------------


def lock_payment(payment_id):
    return locked(sa.select(Payment).where(Payment.id == payment_id)).first()


def _lock_by(column, value):
    if not value:
        return None
    return locked(sa.select(Payment).where(column == value)).first()


def _payment_from_metadata(metadata):
    try:
        payment_id = int((metadata or {}).get("payment_id", ""))
    except ValueError:
        return None
    return lock_payment(payment_id)


def lock_payment_for_session(session):
    payment = _lock_by(Payment.checkout_session_id, session["id"])
    if payment is None:
        # We may have lost Stripe's answer to the create call: our metadata still names us,
        # and so does the reference only our sessions carry.
        payment = _payment_from_metadata(session.get("metadata"))
        if payment is not None and session.get("client_reference_id") != f"payment-{payment.id}":
            return None
        if payment is not None and payment.checkout_session_id is None:
            payment.checkout_session_id = session["id"]
    return payment


# -- recording what was paid -----------------------------------------------------------------


def confirm_checkout(session_id):
    """Record what a Checkout Session paid, or that it expired. Returns the payment or None."""
    session = gateway().retrieve_checkout_session(session_id)
    payment = lock_payment_for_session(session)
    if payment is None:
        return None
    if payment.status == PaymentStatus.succeeded:
        return payment
    if session["status"] == "complete" and session.get("payment_status") in {
        "paid",
        "no_payment_required",
    }:
        details = session.get("customer_details") or {}
        if session["mode"] == "subscription":
            payment.subscription_id = session.get("subscription")
            payment.customer_id = session.get("customer") or payment.customer_id
            invoice = gateway().retrieve_invoice(session["invoice"], expand=["payments"])
            _record_invoice_payment(payment, invoice, details)
        else:
            payment.customer_id = session.get("customer") or payment.customer_id
            _record_payment_intent(payment, session["payment_intent"], details)
    elif session["status"] == "expired":
        expire_payment(payment)
    return payment


def _record_invoice_payment(payment, invoice, details=None):
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
    _record_payment_intent(payment, intent, details)


def _record_payment_intent(payment, payment_intent_id, details):
    intent = gateway().retrieve_payment_intent(
        payment_intent_id, expand=["latest_charge.balance_transaction"]
    )
    charge = intent.get("latest_charge")
    if intent["status"] != "succeeded" or not isinstance(charge, dict):
        return  # not paid (yet): an async method; a later event brings the result
    txn = charge.get("balance_transaction")
    if isinstance(txn, str):
        txn = gateway().retrieve_balance_transaction(txn)
    if charge["amount"] != payment.amount:
        raise AmountMismatch(
            f"payment {payment.id}: expected {payment.amount}, Stripe charged {charge['amount']}"
        )
    payment.payment_intent_id = intent["id"]
    payment.charge_id = charge["id"]
    payment.balance_transaction_id = txn["id"] if txn else None
    payment.fee = txn["fee"] if txn else None
    payment.net = txn["net"] if txn else None
    payment.paid_at = _ts_to_datetime(charge.get("created")) or clock.now()
    payment.email = payment.email or (details or {}).get("email")
    payment.name = payment.name or (details or {}).get("name")
    payment.failure_message = None
    if payment.fee is not None:
        shares = split_pro_rata(payment.fee, [a.amount for a in payment.allocations])
        for allocation, share in zip(payment.allocations, shares, strict=True):
            allocation.fee = share
    payment_states.move(
        payment, PaymentStatus.succeeded, actor="stripe", data={"charge": charge["id"]}
    )
    for allocation in payment.allocations:
        purpose_for(allocation.purpose).paid(allocation)


def expire_payment(payment, reason="expired"):
    """A pending payment that will not be paid: tell its features so they can let go."""
    if payment.status != PaymentStatus.pending:
        return False
    target = PaymentStatus.failed if reason == "failed" else PaymentStatus.expired
    payment_states.move(payment, target, actor="stripe")
    for allocation in payment.allocations:
        purpose_for(allocation.purpose).expired(allocation)
    return True


def confirm_on_return(session_id):
    """:func:`confirm_checkout` for a page the payer comes back to, which must not fail.

    A session id that is not Stripe's or not ours gives None (a 404); a payment whose amount
    needs a person is shown as still being confirmed, the webhook keeps the error.
    """
    try:
        return confirm_checkout(session_id)
    except ObjectMissing:
        return None
    except AmountMismatch:
        db.session.rollback()
        log.error("Checkout %s needs a person: the amount differs", session_id)
        return db.session.scalar(
            sa.select(Payment).where(Payment.checkout_session_id == session_id)
        )


def checkout_ended_unpaid(session_id, reason):
    """``checkout.session.expired`` or ``async_payment_failed``."""
    session = gateway().retrieve_checkout_session(session_id)
    payment = lock_payment_for_session(session)
    if payment is None:
        return None
    if session["status"] == "complete" and session.get("payment_status") == "paid":
        return confirm_checkout(session_id)  # the failure was followed by a success
    if payment.checkout_session_id not in (None, session["id"]):
        return payment  # an earlier attempt's session ended; the payment goes on with a newer one
    expire_payment(payment, reason)
    return payment


def note_payment_failure(payment_intent):
    """A card was declined on the Checkout page; the session stays open for another try."""
    payment = _payment_from_metadata(payment_intent.get("metadata"))
    if payment is None:
        return None
    error = payment_intent.get("last_payment_error") or {}
    payment.failure_message = (error.get("message") or "declined")[:1000]
    return payment


# -- subscriptions ---------------------------------------------------------------------------


def _subscription_details(invoice):
    parent = invoice.get("parent") or {}
    return parent.get("subscription_details") or {}


def original_payment_for_subscription(subscription_id, metadata=None):
    """The payment whose Checkout started a subscription, locked."""
    payment = _payment_from_metadata(metadata)
    if payment is None and subscription_id:
        payment = locked(
            sa.select(Payment)
            .where(Payment.subscription_id == subscription_id, Payment.renewal_of_id.is_(None))
            .order_by(Payment.id)
        ).first()
    return payment


def record_invoice(invoice_id):
    """``invoice.paid``: the first invoice completes the Checkout payment; later ones renew."""
    invoice = gateway().retrieve_invoice(invoice_id, expand=["payments"])
    if invoice.get("status") != "paid":
        return None
    details = _subscription_details(invoice)
    subscription_id = details.get("subscription")
    original = original_payment_for_subscription(subscription_id, details.get("metadata"))
    if original is None:
        return None
    first = invoice.get("billing_reason") == "subscription_create"
    if first or original.invoice_id == invoice["id"]:
        if original.status != PaymentStatus.succeeded:
            original.subscription_id = original.subscription_id or subscription_id
            original.customer_id = original.customer_id or invoice.get("customer")
            _record_invoice_payment(original, invoice)
        return original
    existing = db.session.scalar(sa.select(Payment).where(Payment.invoice_id == invoice["id"]))
    if existing is not None:
        if existing.status != PaymentStatus.succeeded:
            _record_invoice_payment(existing, invoice)
        return existing
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
    handler = purpose_for(template.purpose).renewed
    if handler is None:
        raise LookupError(f"purpose {template.purpose!r} cannot renew")
    row_id, description = handler(template, renewal)
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
    _record_invoice_payment(renewal, invoice)
    return renewal


def renewal_failed(invoice_id):
    invoice = gateway().retrieve_invoice(invoice_id)
    details = _subscription_details(invoice)
    original = original_payment_for_subscription(
        details.get("subscription"), details.get("metadata")
    )
    if original is None:
        return None
    for allocation in original.allocations:
        purpose_for(allocation.purpose).renewal_failed(allocation, invoice)
    return original


def subscription_changed(subscription_id):
    """``customer.subscription.updated`` / ``.deleted``: hand the current state to the feature."""
    subscription = gateway().retrieve_subscription(subscription_id)
    original = original_payment_for_subscription(subscription["id"], subscription.get("metadata"))
    if original is None:
        return None
    ended = subscription.get("status") in {"canceled", "incomplete_expired"}
    for allocation in original.allocations:
        purpose = purpose_for(allocation.purpose)
        if ended:
            purpose.subscription_cancelled(allocation, subscription)
        else:
            purpose.subscription_updated(allocation, subscription)
    return original


# -- charges, refunds, disputes --------------------------------------------------------------


def payment_for_charge(charge_id):
    """Our payment for a charge, recorded first if its completion has not arrived yet."""
    payment = _lock_by(Payment.charge_id, charge_id)
    if payment is not None:
        return payment
    charge = gateway().retrieve_charge(charge_id)
    intent_id = charge.get("payment_intent")
    payment = _lock_by(Payment.payment_intent_id, intent_id)
    if payment is not None:
        return payment
    intent = gateway().retrieve_payment_intent(intent_id) if intent_id else {}
    payment = _payment_from_metadata(intent.get("metadata"))
    if payment is not None:
        # A refund or dispute before the completion event: record the payment first.
        if payment.status != PaymentStatus.succeeded and payment.checkout_session_id:
            confirm_checkout(payment.checkout_session_id)
        return payment if payment.charge_id == charge_id else None
    invoice_id = gateway().invoice_for_payment_intent(intent_id) if intent_id else None
    if invoice_id:
        payment = record_invoice(invoice_id)
        if payment is not None and payment.invoice_id != invoice_id:
            payment = db.session.scalar(sa.select(Payment).where(Payment.invoice_id == invoice_id))
        return payment
    return None


def _refundable(allocation):
    taken = sum(
        part.amount
        for part in allocation.refund_parts
        if part.refund.status in {RefundStatus.succeeded, RefundStatus.pending}
    )
    return allocation.amount - taken


def _split_refund(payment, amount):
    """Spread a refund nobody split (a dashboard refund) over what each allocation has left."""
    allocations = list(payment.allocations)
    left = [max(_refundable(a), 0) for a in allocations]
    shares = split_pro_rata(amount, left if sum(left) else [a.amount for a in allocations])
    return [(a, s) for a, s in zip(allocations, shares, strict=True) if s > 0]


def refund_payment(payment, amount, *, parts=None, reason="requested_by_customer", note=""):
    """Ask Stripe to refund ``amount`` of a payment; ``parts`` maps allocations to amounts.

    The refund row and its attempt are stored before Stripe is asked. The caller commits,
    then calls :func:`send_refund`.
    """
    payment = lock_payment(payment.id)
    if payment.status != PaymentStatus.succeeded:
        raise Conflict(_l("Only a completed payment can be refunded."))
    if amount <= 0 or amount > payment.amount - payment.amount_refunded - _pending_refunds(payment):
        raise ValidationError(_l("That is more than what is left to refund."), field="amount")
    chosen = list(parts.items()) if parts else _split_refund(payment, amount)
    if sum(share for _, share in chosen) != amount:
        raise ValidationError(_l("The parts of the refund do not add up."), field="amount")
    for allocation, share in chosen:
        if share > _refundable(allocation):
            raise ValidationError(_l("That is more than what is left to refund."), field="amount")
    refund = Refund(
        payment=payment,
        amount=amount,
        reason=reason,
        note=note,
        parts=[RefundAllocation(allocation=a, amount=s) for a, s in chosen],
    )
    db.session.add(refund)
    db.session.flush()
    params = {
        "payment_intent": payment.payment_intent_id,
        "amount": amount,
        "reason": reason,
        "metadata": {
            "refund_id": str(refund.id),
            "payment_id": str(payment.id),
            "allocations": ",".join(f"{a.id}:{s}" for a, s in chosen),
        },
    }
    _new_attempt(payment, REFUND, params, refund=refund)
    audit.record("refund.requested", refund, data={"amount": amount, "payment": payment.id})
    return refund


def _pending_refunds(payment):
    return sum(r.amount for r in payment.refunds if r.status == RefundStatus.pending)


def send_refund(refund):
    """Send a stored refund attempt to Stripe and record the answer."""
    attempt = db.session.scalar(
        sa.select(StripeAttempt)
        .where(StripeAttempt.refund_id == refund.id)
        .order_by(StripeAttempt.number.desc())
    )
    attempt.sent_at = clock.now()
    result = gateway().create_refund(attempt.params, attempt.key)
    attempt.result_id = result["id"]
    return sync_refund(result)


def sync_refund(stripe_refund):
    """Bring our refund row to Stripe's state and tell the features once per change."""
    payment = payment_for_charge(stripe_refund["charge"]) if stripe_refund.get("charge") else None
    if payment is None:
        return None
    # Locked and re-read: a webhook may have applied this refund while we were asking Stripe.
    refund = locked(sa.select(Refund).where(Refund.stripe_refund_id == stripe_refund["id"])).first()
    if refund is None:
        ours = (stripe_refund.get("metadata") or {}).get("refund_id")
        if ours and ours.isdigit():
            refund = locked(
                sa.select(Refund).where(Refund.id == int(ours), Refund.payment_id == payment.id)
            ).first()
    if refund is None:
        split = _split_refund(payment, stripe_refund["amount"])
        refund = Refund(
            payment=payment,
            amount=stripe_refund["amount"],
            reason=stripe_refund.get("reason"),
            note="refunded in the Stripe dashboard",
            parts=[RefundAllocation(allocation=a, amount=s) for a, s in split],
        )
        db.session.add(refund)
    refund.stripe_refund_id = stripe_refund["id"]
    refund.amount = stripe_refund["amount"]
    refund.status = RefundStatus(stripe_refund["status"])
    refund.balance_transaction_id = _id(stripe_refund.get("balance_transaction"))
    refund.failure_balance_transaction_id = _id(stripe_refund.get("failure_balance_transaction"))
    refund.failure_reason = stripe_refund.get("failure_reason")
    db.session.flush()
    if refund.status == RefundStatus.succeeded and refund.applied_at is None:
        refund.applied_at = clock.now()
        audit.record("refund.succeeded", refund, actor="stripe", data={"amount": refund.amount})
        for part in refund.parts:
            purpose_for(part.allocation.purpose).refunded(part.allocation, part.amount, refund)
    elif refund.status in {RefundStatus.failed, RefundStatus.canceled}:
        if refund.applied_at is not None and refund.reverted_at is None:
            refund.reverted_at = clock.now()
            audit.record("refund.failed", refund, actor="stripe", data={"amount": refund.amount})
            for part in refund.parts:
                purpose_for(part.allocation.purpose).refund_failed(
                    part.allocation, part.amount, refund
                )
        elif refund.applied_at is None:
            # Failed before we ever counted it: nothing to undo, but never count it later.
            refund.applied_at = refund.reverted_at = clock.now()
    return refund


def sync_charge_refunds(charge_id):
    """``charge.refunded``: the charge's refunds are not in the event; list them."""
    payment = payment_for_charge(charge_id)
    if payment is None:
        return None
    for stripe_refund in gateway().list_refunds(charge_id):
        sync_refund(stripe_refund)
    return payment


def _id(value):
    if isinstance(value, dict):
        return value.get("id")
    return value


def sync_dispute(stripe_dispute):
    """Record a dispute and tell the features when it opens and when it is decided."""
    payment = payment_for_charge(_id(stripe_dispute["charge"]))
    if payment is None:
        return None
    dispute = db.session.scalar(
        sa.select(Dispute).where(Dispute.stripe_dispute_id == stripe_dispute["id"])
    )
    if dispute is None:
        dispute = Dispute(
            payment=payment, stripe_dispute_id=stripe_dispute["id"], amount=0, status=""
        )
        db.session.add(dispute)
    dispute.amount = stripe_dispute["amount"]
    dispute.status = stripe_dispute["status"]
    dispute.reason = stripe_dispute.get("reason")
    due = (stripe_dispute.get("evidence_details") or {}).get("due_by")
    dispute.evidence_due_by = _ts_to_datetime(due)
    withdrawals = [
        t for t in stripe_dispute.get("balance_transactions") or [] if t.get("amount", 0) < 0
    ]
    dispute.fee = sum(t.get("fee", 0) for t in withdrawals)
    db.session.flush()
    shares = split_pro_rata(dispute.amount, [a.amount for a in payment.allocations])
    pairs = list(zip(payment.allocations, shares, strict=True))
    if dispute.opened_applied_at is None:
        dispute.opened_applied_at = clock.now()
        audit.record("dispute.opened", dispute, actor="stripe", data={"amount": dispute.amount})
        for allocation, share in pairs:
            purpose_for(allocation.purpose).disputed(allocation, share, dispute)
    if dispute.status in {"won", "lost"} and dispute.closed_applied_at is None:
        dispute.closed_applied_at = clock.now()
        audit.record(f"dispute.{dispute.status}", dispute, actor="stripe")
        for allocation, share in pairs:
            purpose_for(allocation.purpose).dispute_closed(allocation, share, dispute)
    return dispute


def return_url(endpoint, **values):
    """An absolute address Stripe sends the payer back to, with the session id filled in.

    Stripe replaces the literal ``{CHECKOUT_SESSION_ID}``; ``url_for`` would escape it.
    """
    from core.urls import absolute_url

    base = absolute_url(endpoint, **values)
    return base + ("&" if "?" in base else "?") + "session_id={CHECKOUT_SESSION_ID}"


def payment_by_token(token):
    return db.session.scalar(sa.select(Payment).where(Payment.token == token))
