"""The payments that carry a person's address, as part of their record (see core.people).

A payment is the books: its amounts, dates and Stripe ids stay; erasing takes the name
and address Checkout gave it, here and in the copies of Stripe's events and requests we
keep (the treasurer's event pages show them).
"""

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import clock
from core.db import db
from core.people import Column, Provider, Section, like, matches, update_rows
from core.validators import normalise_email
from payments.models import Payment, PaymentStatus, StripeAttempt, StripeEvent

#: Longer than any Checkout page takes payment (Stripe's limit is a day).
OPEN_AT_STRIPE = timedelta(hours=24)

#: The keys of a Stripe object that say who a person is, beside their address.
PERSONAL = frozenset(
    {
        "name",
        "phone",
        "address",
        "shipping",
        "individual_name",
        "business_name",
        "customer_name",
        "customer_phone",
        "customer_address",
        "customer_shipping",
    }
)
#: The keys that hold a payer's address in a Stripe object.
EMAIL_KEYS = ("email", "customer_email", "receipt_email")
#: The Stripe ids of a payment: its events are about one of them.
STRIPE_IDS = (
    "checkout_session_id",
    "payment_intent_id",
    "charge_id",
    "invoice_id",
    "subscription_id",
    "customer_id",
)

STATUS_LABELS = {
    "pending": _l("Waiting for payment"),
    "succeeded": _l("Paid"),
    "failed": _l("Failed"),
    "expired": _l("Expired"),
}
MODE_LABELS = {"payment": _l("One time"), "subscription": _l("Monthly")}

PAYMENTS = [
    Column("id", _l("Number")),
    Column("created_at", _l("Started"), "datetime"),
    Column("status", _l("Status"), labels=STATUS_LABELS),
    Column("mode", _l("Kind"), labels=MODE_LABELS),
    Column("amount", _l("Amount"), "money"),
    Column("paid_at", _l("Paid"), "datetime"),
    Column("name", _l("Name")),
    Column("email", _l("Email")),
]


def sections(person):
    payments = db.session.scalars(
        sa.select(Payment).where(matches(Payment.email, person)).order_by(Payment.id.desc())
    ).all()
    rows = [{c.key: getattr(p, c.key) for c in PAYMENTS} for p in payments]
    return [Section("payments", _l("Payments"), PAYMENTS, rows)]


def blockers(person):
    """A Checkout page still open would bring their name back, and pay for what is gone."""
    open_ = db.session.scalar(
        sa.select(sa.func.count(Payment.id)).where(
            matches(Payment.email, person),
            Payment.status == PaymentStatus.pending,
            Payment.created_at > clock.now() - OPEN_AT_STRIPE,
        )
    )
    if open_:
        return [_l("A payment is still open at Stripe: wait until it is paid or expires.")]
    return []


def _scrub(value, emails, placeholder):
    """``value`` with the person's address replaced by ``placeholder``, and the name, phone
    and postal address of each object that carries their address emptied."""
    if isinstance(value, list):
        return [_scrub(item, emails, placeholder) for item in value]
    if isinstance(value, str):
        return placeholder if normalise_email(value) in emails else value
    if not isinstance(value, dict):
        return value
    theirs = any(
        isinstance(value.get(key), str) and normalise_email(value[key]) in emails
        for key in EMAIL_KEYS
    )
    return {
        key: None if theirs and key in PERSONAL else _scrub(item, emails, placeholder)
        for key, item in value.items()
    }


def _erase_stripe_copies(person, payments, placeholder):
    """Scrub the person from the Stripe events and requests we keep; returns how many."""
    emails = set(person.emails)
    ids = {getattr(p, key) for p in payments for key in STRIPE_IDS} - {None}
    carries = [sa.func.lower(sa.cast(StripeEvent.payload, sa.Text)).like(like(e)) for e in emails]
    events = db.session.scalars(
        sa.select(StripeEvent).where(sa.or_(StripeEvent.object_id.in_(ids), *carries))
    ).all()
    # A request still to be answered is re-sent unchanged: only finished payments' go.
    finished = [p.id for p in payments if p.status != PaymentStatus.pending]
    attempts = db.session.scalars(
        sa.select(StripeAttempt).where(StripeAttempt.payment_id.in_(finished))
    ).all()
    changed = 0
    for row, column in [(e, "payload") for e in events] + [(a, "params") for a in attempts]:
        scrubbed = _scrub(getattr(row, column), emails, placeholder)
        if scrubbed != getattr(row, column):
            setattr(row, column, scrubbed)
            changed += 1
    return changed


def erase(person, placeholder):
    payments = db.session.scalars(sa.select(Payment).where(matches(Payment.email, person))).all()
    stripe_copies = _erase_stripe_copies(person, payments, placeholder)
    count = update_rows(Payment, matches(Payment.email, person), email=placeholder, name=None)
    return {"payments_kept": count, "stripe_copies": stripe_copies}


def merge(source, target):
    count = update_rows(Payment, matches(Payment.email, source), email=target.email)
    return {"payments": count}


provider = Provider("payments", sections, blockers=blockers, erase=erase, merge=merge, order=5)
