"""The payments that carry a person's address, as part of their record (see core.people).

A payment is the books: its amounts, dates and Stripe ids stay; erasing takes the name
and address Checkout gave it.
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.people import Column, Provider, Section, matches
from payments.models import Payment

PAYMENTS = [
    Column("id", _l("Number")),
    Column("created_at", _l("Started"), "datetime"),
    Column("status", _l("Status")),
    Column("mode", _l("Kind")),
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


def erase(person, placeholder):
    count = db.session.execute(
        sa.update(Payment)
        .where(matches(Payment.email, person))
        .values(email=placeholder, name=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    return {"payments_kept": count}


def merge(source, target):
    count = db.session.execute(
        sa.update(Payment)
        .where(matches(Payment.email, source))
        .values(email=target.email)
        .execution_options(synchronize_session=False)
    ).rowcount
    return {"payments": count}


provider = Provider("payments", sections, erase=erase, merge=merge, order=5)
