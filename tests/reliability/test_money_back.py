"""Refunds and disputes made at Stripe's dashboard reach every purpose, and its receipts.

Nothing of ours starts them: the simulator refunds or disputes the charge as the dashboard
or the card holder's bank would, and its webhooks (each sent twice) are all the app hears.
With a charity number, gifts and dues carry official receipts: a full refund or a lost
dispute voids them, a partial refund cancels and replaces them. An order is marked
refunded (its copies go back on sale only when staff say so); a dispute on an order is
audited for the treasurer, who sees it under Disputes.
"""

import pytest
import sqlalchemy as sa

from core.audit import AuditEntry
from core.db import db
from payments.models import Payment
from tests.reliability.purposes import (
    MEMBERSHIP,
    MIXED_CART,
    MONTHLY_GIFT,
    ONE_TIME_GIFT,
    SHOP_ORDER,
    Ctx,
    by_name,
    state,
)

ACTIONS = ["full refund", "partial refund", "lost dispute", "won dispute"]

THANKS = ("dana@example.org", "Thank you for your gift")
INES = "ines@example.org"
BUYER = "buyer@example.org"
INES_BEFORE = [(INES, "Confirm your email address"), (INES, "Welcome: your membership")]
BUYER_BEFORE = [
    (BUYER, "Confirm your email address"),
    (BUYER, "Thank you for your gift"),
    (BUYER, "Welcome: your membership"),
    (BUYER, "Your Mondial order M-000001"),
]
SUSPENDED = "Your membership is suspended"
DUES_RECEIPT_CANCELLED = "Your receipt for membership dues is cancelled"

#: What changes, table by table, from the paid state; every other table stays as it was.
CHANGES = {
    (ONE_TIME_GIFT, "full refund"): {
        "payments": [("succeeded", "payment", 2500, 2500, 103)],
        "refunds": [("succeeded", "2500")],
        "donations": [("one_time", "refunded", "2500", "2500")],
        "receipts": [("official", "2500", "True")],
        "emails": [THANKS, ("dana@example.org", "Your receipt is cancelled")],
    },
    (ONE_TIME_GIFT, "partial refund"): {
        "payments": [("succeeded", "payment", 2500, 1000, 103)],
        "refunds": [("succeeded", "1000")],
        "donations": [("one_time", "paid", "2500", "1000")],
        "receipts": [("official", "1500", "False"), ("official", "2500", "True")],
        "emails": [THANKS, ("dana@example.org", "Your corrected receipt")],
    },
    (ONE_TIME_GIFT, "lost dispute"): {
        "disputes": [("lost", "2500")],
        "donations": [("one_time", "charged_back", "2500", "0")],
        "receipts": [("official", "2500", "True")],
        "emails": [THANKS, ("dana@example.org", "Your receipt is cancelled")],
    },
    (ONE_TIME_GIFT, "won dispute"): {"disputes": [("won", "2500")]},
    # A monthly donor's months go on the annual receipt: nothing issued yet to void.
    (MONTHLY_GIFT, "full refund"): {
        "payments": [("succeeded", "subscription", 2000, 2000, 88)],
        "refunds": [("succeeded", "2000")],
        "donations": [("monthly", "refunded", "2000", "2000")],
    },
    (MONTHLY_GIFT, "partial refund"): {
        "payments": [("succeeded", "subscription", 2000, 1000, 88)],
        "refunds": [("succeeded", "1000")],
        "donations": [("monthly", "paid", "2000", "1000")],
    },
    (MONTHLY_GIFT, "lost dispute"): {
        "disputes": [("lost", "2000")],
        "donations": [("monthly", "charged_back", "2000", "0")],
    },
    (MONTHLY_GIFT, "won dispute"): {"disputes": [("won", "2000")]},
    (MEMBERSHIP, "full refund"): {
        "payments": [("succeeded", "payment", 5000, 5000, 175)],
        "refunds": [("succeeded", "5000")],
        "memberships": [("suspended", "False")],
        "dues": [("refunded", "5000", "5000")],
        "receipts": [("official", "5000", "True")],
        "emails": [*INES_BEFORE, (INES, SUSPENDED), (INES, DUES_RECEIPT_CANCELLED)],
    },
    (MEMBERSHIP, "partial refund"): {
        "payments": [("succeeded", "payment", 5000, 1000, 175)],
        "refunds": [("succeeded", "1000")],
        "dues": [("paid", "5000", "1000")],
        "receipts": [("official", "4000", "False"), ("official", "5000", "True")],
        "emails": [*INES_BEFORE, (INES, "Your receipt for membership dues is corrected")],
    },
    (MEMBERSHIP, "lost dispute"): {
        "disputes": [("lost", "5000")],
        "memberships": [("suspended", "False")],
        "dues": [("charged_back", "5000", "0")],
        "receipts": [("official", "5000", "True")],
        "emails": [*INES_BEFORE, (INES, SUSPENDED), (INES, DUES_RECEIPT_CANCELLED)],
    },
    (MEMBERSHIP, "won dispute"): {"disputes": [("won", "5000")]},
    (SHOP_ORDER, "full refund"): {
        "payments": [("succeeded", "payment", 4100, 4100, 149)],
        "refunds": [("succeeded", "4100")],
        "orders": [("refunded", "4100", "4100")],
    },
    (SHOP_ORDER, "partial refund"): {
        "payments": [("succeeded", "payment", 4100, 1000, 149)],
        "refunds": [("succeeded", "1000")],
        "orders": [("partially_refunded", "4100", "1000")],
    },
    (SHOP_ORDER, "lost dispute"): {"disputes": [("lost", "4100")]},
    (SHOP_ORDER, "won dispute"): {"disputes": [("won", "4100")]},
    (MIXED_CART, "full refund"): {
        "payments": [("succeeded", "payment", 11600, 11600, 366)],
        "refunds": [("succeeded", "11600")],
        "donations": [("one_time", "refunded", "2500", "2500")],
        "memberships": [("suspended", "False")],
        "dues": [("refunded", "5000", "5000")],
        "orders": [("refunded", "4100", "4100")],
        "receipts": [("official", "2500", "True"), ("official", "5000", "True")],
        "emails": [
            *BUYER_BEFORE,
            (BUYER, SUSPENDED),
            (BUYER, DUES_RECEIPT_CANCELLED),
            (BUYER, "Your receipt is cancelled"),
        ],
    },
    # $10 back, shared pro rata: $3.53 of the order, $2.16 of the gift, $4.31 of the dues.
    (MIXED_CART, "partial refund"): {
        "payments": [("succeeded", "payment", 11600, 1000, 366)],
        "refunds": [("succeeded", "1000")],
        "donations": [("one_time", "paid", "2500", "216")],
        "dues": [("paid", "5000", "431")],
        "orders": [("partially_refunded", "4100", "353")],
        "receipts": [
            ("official", "2284", "False"),
            ("official", "2500", "True"),
            ("official", "4569", "False"),
            ("official", "5000", "True"),
        ],
        "emails": [
            *BUYER_BEFORE,
            (BUYER, "Your corrected receipt"),
            (BUYER, "Your receipt for membership dues is corrected"),
        ],
    },
    (MIXED_CART, "lost dispute"): {
        "disputes": [("lost", "11600")],
        "donations": [("one_time", "charged_back", "2500", "0")],
        "memberships": [("suspended", "False")],
        "dues": [("charged_back", "5000", "0")],
        "receipts": [("official", "2500", "True"), ("official", "5000", "True")],
        "emails": [
            *BUYER_BEFORE,
            (BUYER, SUSPENDED),
            (BUYER, DUES_RECEIPT_CANCELLED),
            (BUYER, "Your receipt is cancelled"),
        ],
    },
    (MIXED_CART, "won dispute"): {"disputes": [("won", "11600")]},
}


@pytest.fixture
def receipts_for_dues(app, charity):
    """Official receipts for gifts, and for the part of dues above their benefits."""
    from core.settings import set_setting

    with app.app_context():
        set_setting("members.receipt_dues", True)
        db.session.commit()


def from_the_dashboard(stripe_sim, charge, action):
    stripe_sim.delivery("twice")  # and Stripe sends each event twice
    if action == "full refund":
        stripe_sim.refund(charge)
    elif action == "partial refund":
        stripe_sim.refund(charge, amount=1000)
    else:
        dispute = stripe_sim.dispute(charge)
        stripe_sim.close_dispute(dispute["id"], action.split()[0])
    stripe_sim.delivery("normal")


def audited(app, action):
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        )


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(
    **by_name([ONE_TIME_GIFT, MONTHLY_GIFT, MEMBERSHIP, SHOP_ORDER, MIXED_CART])
)
def test_money_given_back_at_stripe_reaches_the_purpose_and_its_receipts(
    request, purpose, action, receipts_for_dues
):
    ctx = Ctx(request, purpose)
    ctx.stripe_sim.pay(purpose.start(ctx))
    paid = state(ctx.app)
    with ctx.app.app_context():
        charge = db.session.scalar(sa.select(Payment.charge_id))

    from_the_dashboard(ctx.stripe_sim, charge, action)

    after = state(ctx.app)
    changed = {key: rows for key, rows in after.items() if rows != paid[key]}
    assert changed == CHANGES[(purpose, action)]
    if "dispute" in action and purpose in (SHOP_ORDER, MIXED_CART):
        assert audited(ctx.app, "order.disputed") == 1
