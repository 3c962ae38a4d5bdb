"""Recurring payments that began outside this app (an import from an older system).

A feature that imports its records with the Stripe customer and subscription ids they
already had adopts each series here: a stand-in payment names the series and the
feature's row, so that its renewals are handled like those of a series started through
Checkout (a :class:`~payments.events.NewPeriod`, then a :class:`~payments.events.Paid`).
"""

import re

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import audit
from core.db import db
from payments.models import Allocation, Payment, PaymentStatus

_CUSTOMER = re.compile(r"^cus_[A-Za-z0-9]{6,250}$")
_SUBSCRIPTION = re.compile(r"^sub_[A-Za-z0-9]{6,250}$")


def recurring_reference_problem(customer_ref, recurring_ref):
    """Why these ids cannot name a series (a message), or None when they can."""
    if not customer_ref or not recurring_ref:
        return _l("Give both the Stripe customer id and the subscription id, or neither.")
    if not _CUSTOMER.match(customer_ref):
        return _l("A Stripe customer id looks like cus_ followed by letters and digits.")
    if not _SUBSCRIPTION.match(recurring_ref):
        return _l("A Stripe subscription id looks like sub_ followed by letters and digits.")
    return None


def recurring_references_in_use(recurring_refs):
    """Which of these subscription ids already belong to a payment of ours."""
    refs = list(recurring_refs)
    taken = set()
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        taken.update(
            db.session.scalars(
                sa.select(Payment.subscription_id).where(Payment.subscription_id.in_(chunk))
            )
        )
    return taken


def adopt_recurring(*, purpose, row_id, amount, customer_ref, recurring_ref, email, name, language):
    """A stand-in payment for a series started elsewhere, so its renewals reach ``purpose``.

    It records no money (amount 0, no charge): each renewal is a payment of its own.
    """
    payment = Payment(
        amount=0,
        mode="subscription",
        status=PaymentStatus.succeeded,
        email=email,
        name=name,
        language=language,
        customer_id=customer_ref,
        subscription_id=recurring_ref,
        allocations=[
            Allocation(purpose=purpose, row_id=row_id, amount=0, description="adopted series")
        ],
    )
    db.session.add(payment)
    db.session.flush()
    audit.record("payment.adopted", payment, data={"purpose": purpose, "row": row_id})
    return payment


def recurring_started(payment):
    """Whether a recurring payment's series exists (its checkout completed), charged or not."""
    return bool(payment.subscription_id)
