"""Refunds (ours and the Dashboard's) and disputes, split over the allocations they reduce."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import audit, clock
from core.db import db, locked
from core.errors import Conflict, ValidationError
from core.money import split_pro_rata
from payments import checkout, recurring
from payments.attempts import REFUND, commit_before_stripe, new_attempt
from payments.events import DisputeClosed, Disputed, Refunded, RefundFailed
from payments.gateway import gateway
from payments.models import (
    Dispute,
    Payment,
    PaymentStatus,
    Refund,
    RefundAllocation,
    RefundStatus,
    StripeAttempt,
)
from payments.purposes import tell
from payments.recording import (
    lock_by,
    lock_payment,
    payment_from_metadata,
    stripe_id,
    ts_to_datetime,
)


def payment_for_charge(charge_id):
    """Our payment for a charge, recorded first if its completion has not arrived yet."""
    payment = lock_by(Payment.charge_id, charge_id)
    if payment is not None:
        return payment
    charge = gateway().retrieve_charge(charge_id)
    intent_id = charge.get("payment_intent")
    payment = lock_by(Payment.payment_intent_id, intent_id)
    if payment is not None:
        return payment
    intent = gateway().retrieve_payment_intent(intent_id) if intent_id else {}
    payment = payment_from_metadata(intent.get("metadata"))
    if payment is not None:
        # A refund or dispute before the completion event: record the payment first.
        if payment.status != PaymentStatus.succeeded and payment.checkout_session_id:
            checkout.confirm_checkout(payment.checkout_session_id)
        return payment if payment.charge_id == charge_id else None
    invoice_id = gateway().invoice_for_payment_intent(intent_id) if intent_id else None
    if invoice_id:
        payment = recurring.record_invoice(invoice_id)
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


def _pending_refunds(payment):
    return sum(r.amount for r in payment.refunds if r.status == RefundStatus.pending)


def refund(payment, amount=None, *, parts=None, reason="requested_by_customer", note=""):
    """Give back ``amount`` of a payment (all that is left when None), or the named ``parts``.

    ``parts`` maps allocations to the cents each gives back; without it the refund is
    spread over the allocations pro rata. Stores the refund and commits before Stripe is
    asked; features are told :class:`~payments.events.Refunded` once Stripe says it
    succeeded (at once, for cards). Returns the :class:`~payments.models.Refund`.
    """
    row = request_refund(payment, amount, parts=parts, reason=reason, note=note)
    return send_refund(row)


def request_refund(payment, amount=None, *, parts=None, reason="requested_by_customer", note=""):
    """Store a refund and its request to Stripe, not sent yet (:func:`send_refund` sends it)."""
    payment = lock_payment(payment.id)
    if payment.status != PaymentStatus.succeeded:
        raise Conflict(_l("Only a completed payment can be refunded."))
    left = payment.amount - payment.amount_refunded - _pending_refunds(payment)
    if parts:
        amount = sum(parts.values()) if amount is None else amount
    elif amount is None:
        amount = left
    if amount <= 0 or amount > left:
        raise ValidationError(_l("That is more than what is left to refund."), field="amount")
    chosen = list(parts.items()) if parts else _split_refund(payment, amount)
    if sum(share for _, share in chosen) != amount:
        raise ValidationError(_l("The parts of the refund do not add up."), field="amount")
    for allocation, share in chosen:
        if allocation.payment_id != payment.id or share > _refundable(allocation):
            raise ValidationError(_l("That is more than what is left to refund."), field="amount")
    row = Refund(
        payment=payment,
        amount=amount,
        reason=reason,
        note=note,
        parts=[RefundAllocation(allocation=a, amount=s) for a, s in chosen if s > 0],
    )
    db.session.add(row)
    db.session.flush()
    params = {
        "payment_intent": payment.payment_intent_id,
        "amount": amount,
        "reason": reason,
        "metadata": {
            "refund_id": str(row.id),
            "payment_id": str(payment.id),
            "allocations": ",".join(f"{a.id}:{s}" for a, s in chosen),
        },
    }
    new_attempt(payment, REFUND, params, refund=row)
    audit.record("refund.requested", row, data={"amount": amount, "payment": payment.id})
    return row


def send_refund(row):
    """Send a stored refund request to Stripe (committing first) and record the answer."""
    attempt = db.session.scalar(
        sa.select(StripeAttempt)
        .where(StripeAttempt.refund_id == row.id)
        .order_by(StripeAttempt.number.desc())
    )
    commit_before_stripe(attempt)
    result = gateway().create_refund(attempt.params, attempt.key)
    attempt.result_id = result["id"]
    return sync_refund(result)


def look_up_pending_refund(row):
    """A pending refund we never heard back about: ask Stripe whether it has it.

    Our request may have timed out after Stripe made the refund, so the charge's refunds
    are searched for our refund id in their metadata. Returns True (and brings the row to
    Stripe's state) if Stripe has it, False if it does not.
    """
    if row.status != RefundStatus.pending or row.stripe_refund_id:
        raise Conflict(_l("Only a refund that Stripe never confirmed can be looked up."))
    charge_id = row.payment.charge_id
    for stripe_refund in gateway().list_refunds(charge_id) if charge_id else ():
        if (stripe_refund.get("metadata") or {}).get("refund_id") == str(row.id):
            sync_refund(stripe_refund)
            audit.record("refund.found", row, data={"stripe_refund": stripe_refund["id"]})
            return True
    return False


def resend_unsent_refund(row):
    """Send again a pending refund that Stripe does not have (looked up first).

    True once sent; False, sending nothing, when Stripe had it after all (our request timed
    out after Stripe made it): the row is then brought to Stripe's state, to be committed.
    """
    if look_up_pending_refund(row):
        return False
    audit.record("refund.resent", row)
    send_refund(row)
    return True


def cancel_unsent_refund(row):
    """Cancel a pending refund that Stripe does not have; it no longer counts against the
    payment (what is left to refund grows back).

    True once cancelled; False when Stripe had it after all: nothing is cancelled, and the
    row is brought to Stripe's state, to be committed.
    """
    if look_up_pending_refund(row):
        return False
    row = locked(sa.select(Refund).where(Refund.id == row.id)).one()
    row.status = RefundStatus.canceled
    row.applied_at = row.reverted_at = clock.now()
    audit.record("refund.cancelled", row, data={"amount": row.amount})
    return True


def sync_refund(stripe_refund):
    """Bring our refund row to Stripe's state and tell the features once per change."""
    payment = payment_for_charge(stripe_refund["charge"]) if stripe_refund.get("charge") else None
    if payment is None:
        return None
    # Locked and re-read: the worker may have applied this refund while we were asking Stripe.
    row = locked(sa.select(Refund).where(Refund.stripe_refund_id == stripe_refund["id"])).first()
    if row is None:
        ours = (stripe_refund.get("metadata") or {}).get("refund_id")
        if ours and ours.isdigit():
            row = locked(
                sa.select(Refund).where(Refund.id == int(ours), Refund.payment_id == payment.id)
            ).first()
    if row is None:
        split = _split_refund(payment, stripe_refund["amount"])
        row = Refund(
            payment=payment,
            amount=stripe_refund["amount"],
            reason=stripe_refund.get("reason"),
            note="refunded in the Stripe dashboard",
            parts=[RefundAllocation(allocation=a, amount=s) for a, s in split],
        )
        db.session.add(row)
    row.stripe_refund_id = stripe_refund["id"]
    row.amount = stripe_refund["amount"]
    row.status = RefundStatus(stripe_refund["status"])
    row.balance_transaction_id = stripe_id(stripe_refund.get("balance_transaction"))
    row.failure_balance_transaction_id = stripe_id(stripe_refund.get("failure_balance_transaction"))
    row.failure_reason = stripe_refund.get("failure_reason")
    db.session.flush()
    if row.status == RefundStatus.succeeded and row.applied_at is None:
        row.applied_at = clock.now()
        audit.record("refund.succeeded", row, actor="stripe", data={"amount": row.amount})
        for part in row.parts:
            tell(part.allocation, "refunded", Refunded(part.allocation, part.amount, row.id))
    elif row.status in {RefundStatus.failed, RefundStatus.canceled}:
        if row.applied_at is not None and row.reverted_at is None:
            row.reverted_at = clock.now()
            audit.record("refund.failed", row, actor="stripe", data={"amount": row.amount})
            for part in row.parts:
                event = RefundFailed(part.allocation, part.amount, row.id)
                tell(part.allocation, "refund_failed", event)
        elif row.applied_at is None:
            # Failed before we ever counted it: nothing to undo, but never count it later.
            row.applied_at = row.reverted_at = clock.now()
    return row


def sync_charge_refunds(charge_id):
    """``charge.refunded``: the charge's refunds are not in the event; list them."""
    payment = payment_for_charge(charge_id)
    if payment is None:
        return None
    for stripe_refund in gateway().list_refunds(charge_id):
        sync_refund(stripe_refund)
    return payment


def sync_dispute(stripe_dispute):
    """Record a dispute and tell the features when it opens and when it is decided."""
    payment = payment_for_charge(stripe_id(stripe_dispute["charge"]))
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
    dispute.evidence_due_by = ts_to_datetime(due)
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
            tell(allocation, "disputed", Disputed(allocation, share, dispute.id))
    if dispute.status in {"won", "lost"} and dispute.closed_applied_at is None:
        dispute.closed_applied_at = clock.now()
        audit.record(f"dispute.{dispute.status}", dispute, actor="stripe")
        for allocation, share in pairs:
            event = DisputeClosed(allocation, share, dispute.id, won=dispute.status == "won")
            tell(allocation, "dispute_closed", event)
    return dispute
