"""Requests to Stripe kept as rows, and the one place payments commits before calling Stripe.

An attempt's ``key`` goes out as the ``Idempotency-Key`` (``purpose:row id:attempt n``)
and its ``params`` are re-sent unchanged, so a retry after a timeout is the same request.
"""

import secrets

from core import clock
from core.db import db
from payments.models import StripeAttempt

CHECKOUT = "checkout.session"
REFUND = "refund"
EXPIRE = "checkout.session.expire"
SUBSCRIPTION_UPDATE = "subscription.update"
PRODUCT_UPDATE = "product.update"


def new_attempt(payment, operation, params, refund=None):
    """Store a request to send; the caller sends it after :func:`commit_before_stripe`."""
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


def commit_before_stripe(attempt):
    """Commit the unit of work that stored ``attempt``, then mark it as being sent.

    The one commit inside payments' verbs: no row lock or open transaction is held while
    Stripe answers, and a request that times out is on record, to be re-sent unchanged.
    """
    db.session.commit()
    attempt.sent_at = clock.now()
    return attempt
