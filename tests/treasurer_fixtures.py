"""Fixtures for the treasurer: a month of money on the simulator, paid out once."""

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from core.db import db
from payments.models import Payment, Payout
from payments.purposes import Purpose


@dataclass
class Scenario:
    payout_id: int
    stripe_payout_id: str
    order_payment_id: int
    order_charge_id: str
    gift_charge_ids: list


def run_payout_sync(app):
    """What the worker does once a payout is reconciled at Stripe: fetch it, check it."""
    from payments.payouts import sync_flagged
    from treasurer import check_payouts_task

    with app.app_context():
        sync_flagged()
        check_payouts_task()
        db.session.remove()


def payment_for_session(app, session_id):
    with app.app_context():
        return db.session.scalar(
            sa.select(Payment).where(Payment.checkout_session_id == session_id)
        )


@pytest.fixture
def orders_purpose(app, monkeypatch):
    """A stand-in ``order`` purpose, for sites where the shop is not installed."""
    registry = app.extensions.setdefault("payment_purposes", {})
    monkeypatch.setitem(registry, "order", Purpose("order"))


@pytest.fixture
def month_of_money(app, give, join, start_payment, orders_purpose, stripe_sim, charity):
    """Gifts, a monthly gift renewed, dues, orders with tax and shipping, a mixed cart, a
    partial refund and a lost dispute, then one automatic payout of it all."""
    from payments.services import Line, Part

    def build():
        gift_sessions = []
        for amount in ("25", "40", "100"):
            _, session = give(other_amount=amount, email=f"gift{amount}@example.org")
            stripe_sim.pay(session)
            gift_sessions.append(session)
        _, monthly = give(frequency="monthly", other_amount="15", email="monthly@example.org")
        stripe_sim.pay(monthly)
        _, dues = join("individual", email="dues@example.org")
        stripe_sim.pay(dues)
        # An order of two issues: 2 x 15.00 + 4.00 shipping, 13 % HST on both.
        order_id, order_session = start_payment(
            parts=[Part("order", 1, 3842, tax=442, description="Order 1")],
            lines=[Line("Mondial 12 (2)", 3390), Line("Shipping", 452)],
            email="buyer@example.org",
        )
        stripe_sim.pay(order_session)
        # A mixed cart: an issue with tax and shipping beside a gift.
        _, mixed_session = start_payment(
            parts=[
                Part("order", 2, 2147, tax=247, description="Order 2"),
                Part("test", 9, 2000, description="Gift in a cart"),
            ],
            lines=[Line("Mondial 11", 2147), Line("Gift", 2000)],
            email="mixed@example.org",
        )
        stripe_sim.pay(mixed_session)
        stripe_sim.advance(days=31)  # the monthly gift renews
        gift_charges = [payment_for_session(app, s).charge_id for s in gift_sessions]
        stripe_sim.refund(gift_charges[2], amount=1000)  # a partial refund of the 100 $ gift
        dispute = stripe_sim.dispute(gift_charges[1])
        stripe_sim.close_dispute(dispute["id"], "lost")
        stripe_sim.advance(days=3)  # everything is available
        stripe_payout = stripe_sim.payout()
        run_payout_sync(app)
        with app.app_context():
            payout = db.session.scalar(
                sa.select(Payout).where(Payout.stripe_payout_id == stripe_payout["id"])
            )
            order = db.session.get(Payment, order_id)
            return Scenario(
                payout.id, payout.stripe_payout_id, order.id, order.charge_id, gift_charges
            )

    return build
