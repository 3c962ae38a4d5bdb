"""Finding our payments under a row lock, and recording that one was paid or will not be.

Every verb here is safe to call twice: it locks the payment row (``SELECT … FOR UPDATE``
on PostgreSQL) and does only what has not been done.
"""

from datetime import UTC, datetime

import sqlalchemy as sa

from core import clock
from core.db import db, locked
from core.money import split_pro_rata
from payments.events import Expired, Paid
from payments.gateway import gateway
from payments.models import Payment, PaymentStatus, payment_states
from payments.purposes import tell


class AmountMismatch(Exception):
    """Stripe charged another amount than we asked: a person must look (the event keeps it)."""


def ts_to_datetime(value):
    return datetime.fromtimestamp(int(value), UTC) if value else None


def stripe_id(value):
    """The id of an expandable field, expanded or not."""
    if isinstance(value, dict):
        return value.get("id")
    return value


def lock_payment(payment_id):
    return locked(sa.select(Payment).where(Payment.id == payment_id)).first()


def lock_by(column, value):
    if not value:
        return None
    return locked(sa.select(Payment).where(column == value)).first()


def payment_id_in(metadata):
    """Our payment id from the metadata we put on Stripe's objects, or None."""
    value = (metadata or {}).get("payment_id", "") if isinstance(metadata, dict) else ""
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 18 else None


def payment_from_metadata(metadata):
    payment_id = payment_id_in(metadata)
    return lock_payment(payment_id) if payment_id is not None else None


def record_payment_intent(payment, payment_intent_id, details, *, first=True, period=None):
    """Record a succeeded PaymentIntent as ``payment``'s money and tell its features."""
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
    payment.paid_at = ts_to_datetime(charge.get("created")) or clock.now()
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
    start, end = period or (None, None)
    for allocation in payment.allocations:
        tell(allocation, "paid", Paid(allocation, payment, first, start, end))


def expire_payment(payment, reason="expired"):
    """A pending payment that will not be paid: tell its features so they can let go."""
    if payment.status != PaymentStatus.pending:
        return False
    target = PaymentStatus.failed if reason == "failed" else PaymentStatus.expired
    payment_states.move(payment, target, actor="stripe")
    for allocation in payment.allocations:
        tell(allocation, "expired", Expired(allocation, payment, reason))
    return True


def payment_by_token(token):
    return db.session.scalar(sa.select(Payment).where(Payment.token == token))
