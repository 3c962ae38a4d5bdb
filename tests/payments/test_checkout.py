"""Checkout end to end: the app, the simulator over HTTP, signed webhooks to the live server."""

from urllib.parse import urlsplit

import sqlalchemy as sa

from core.db import db
from payments.models import Payment, PaymentStatus, StripeEvent
from tests.payment_fixtures import load_payment


def test_paying_records_the_payment_with_fee_and_net(app, stripe_sim, start_payment, recorder):
    payment_id, session_id = start_payment(2500)
    assert session_id.startswith("cs_test_")
    assert load_payment(app, payment_id).status == PaymentStatus.pending

    stripe_sim.pay(session_id)  # delivers the events to the webhook before answering

    payment = load_payment(app, payment_id)
    assert payment.status == PaymentStatus.succeeded
    assert payment.fee == 103  # 2.9 % of $25 = 72.5 -> 73, plus 30
    assert payment.net == 2500 - 103
    assert payment.charge_id.startswith("ch_") and payment.payment_intent_id.startswith("pi_")
    assert payment.balance_transaction_id.startswith("txn_")
    assert recorder.of("paid") == [("paid", 1, 2500, 103)]
    with app.app_context():
        types = set(db.session.scalars(sa.select(StripeEvent.type)))
        assert "checkout.session.completed" in types
        outcomes = dict(db.session.execute(sa.select(StripeEvent.type, StripeEvent.outcome)).all())
        assert outcomes["checkout.session.completed"] == "applied"
        assert db.session.get(Payment, payment_id).allocations[0].fee == 103


def test_the_success_page_records_the_payment_when_it_comes_first(
    app, client, stripe_sim, start_payment, recorder
):
    payment_id, session_id = start_payment(1000)
    stripe_sim.delivery("drop")  # the webhook is late: nothing reaches the app
    paid = stripe_sim.pay(session_id)
    assert load_payment(app, payment_id).status == PaymentStatus.pending

    redirect = urlsplit(paid["redirect_url"])
    page = client.get(f"{redirect.path}?{redirect.query}")
    assert page.status_code == 200
    assert "We have received your payment of $10.00" in page.get_data(as_text=True)
    assert load_payment(app, payment_id).status == PaymentStatus.succeeded

    # The dropped events arrive after all: nothing is recorded twice.
    stripe_sim.delivery("normal")
    for event in stripe_sim.events(delivered=False):
        stripe_sim.deliver(event["id"])
    assert recorder.of("paid") == [("paid", 1, 1000, 59)]


def test_a_subscriptions_first_invoice_and_its_completion_are_one_payment(
    app, stripe_sim, start_payment, recorder
):
    payment_id, session_id = start_payment(1500, mode="subscription")
    stripe_sim.pay(session_id)  # invoice.paid and checkout.session.completed both arrive
    with app.app_context():
        payments = db.session.scalars(sa.select(Payment)).all()
        assert len(payments) == 1
        [payment] = payments
        assert payment.status == PaymentStatus.succeeded
        assert payment.invoice_id.startswith("in_")
        assert payment.subscription_id.startswith("sub_")
        assert payment.customer_id.startswith("cus_")
        assert payment.fee == 74 and payment.net == 1426
    assert recorder.of("paid") == [("paid", 1, 1500, 74)]


def test_each_renewal_is_its_own_payment_keyed_by_invoice(app, stripe_sim, start_payment, recorder):
    payment_id, session_id = start_payment(2000, mode="subscription", row_id=7)
    stripe_sim.pay(session_id)
    stripe_sim.advance(days=32)
    stripe_sim.advance(days=31)
    with app.app_context():
        renewals = db.session.scalars(
            sa.select(Payment).where(Payment.renewal_of_id == payment_id).order_by(Payment.id)
        ).all()
        assert len(renewals) == 2
        assert len({r.invoice_id for r in renewals}) == 2
        assert all(r.status == PaymentStatus.succeeded and r.amount == 2000 for r in renewals)
        assert [a.row_id for r in renewals for a in r.allocations] == [7001, 7002]
    assert [c[1] for c in recorder.of("paid")] == [7, 7001, 7002]


def test_a_failing_renewal_is_handed_to_the_feature(app, stripe_sim, start_payment, recorder):
    payment_id, session_id = start_payment(2000, mode="subscription", row_id=3)
    stripe_sim.pay(session_id, card="renewal_fails")
    stripe_sim.advance(days=32)
    [failure] = recorder.of("renewal_failed")
    assert failure[1] == 3 and failure[2].startswith("in_")
    assert recorder.of("paid") == [("paid", 3, 2000, 88)]


def test_an_expired_session_releases_the_allocation(app, stripe_sim, start_payment, recorder):
    payment_id, session_id = start_payment(1000)
    stripe_sim.expire(session_id)
    assert load_payment(app, payment_id).status == PaymentStatus.expired
    assert recorder.of("expired") == [("expired", 1)]


def test_a_declined_card_leaves_the_payment_open(app, stripe_sim, start_payment, recorder):
    payment_id, session_id = start_payment(1000)
    stripe_sim.pay(session_id, card="decline", expect=402)
    payment = load_payment(app, payment_id)
    assert payment.status == PaymentStatus.pending
    assert payment.failure_message
    stripe_sim.pay(session_id)
    assert load_payment(app, payment_id).status == PaymentStatus.succeeded


def test_a_feature_may_ask_for_a_shorter_checkout_within_stripes_range(app, recorder):
    from datetime import timedelta

    import pytest

    from core import clock
    from payments.services import Part, checkout_expires_at, start_checkout

    with app.app_context():

        def start(minutes):
            return start_checkout(
                [Part("test", 1, 1000)],
                email="payer@example.org",
                language="en",
                success_url="http://x/ok",
                cancel_url="http://x/no",
                lifetime=timedelta(minutes=minutes),
            )

        payment = start(35)
        left = checkout_expires_at(payment) - clock.now()
        assert timedelta(minutes=34) < left <= timedelta(minutes=35)
        for minutes in (29, 30, 24 * 60):
            with pytest.raises(ValueError):
                start(minutes)
        db.session.rollback()
