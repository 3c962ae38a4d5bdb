"""Regression tests: events in another order, stale copies of rows, old sessions, late news."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import db
from donations.models import Donation, MonthlyGift, MonthlyStatus, Receipt
from payments import services as payments
from payments.gateway import PaymentProviderUnavailable, gateway
from payments.models import Payment, Refund
from tests.helpers import Mailbox


def gift_row(app):
    with app.app_context():
        gift = db.session.scalar(sa.select(MonthlyGift))
        db.session.expunge(gift)
        return gift


@pytest.mark.parametrize("mode", ["normal", "reverse", "late", "twice"])
def test_a_monthly_gift_starts_whatever_the_order_of_events(app, give, stripe_sim, deliver, mode):
    stripe_sim.delivery(mode)
    response, session_id = give(frequency="monthly", other_amount="20", annual_receipt="y")
    stripe_sim.pay(session_id)
    gift = gift_row(app)
    assert gift.status == MonthlyStatus.active
    assert gift.subscription_id.startswith("sub_") and gift.customer_id.startswith("cus_")
    [welcome] = deliver().to("dana@example.org")
    assert any("/donate/manage/" in link for link in Mailbox.links(welcome))


def test_a_refund_applied_by_the_webhook_meanwhile_is_not_applied_again(
    app, stripe_sim, start_payment, recorder
):
    payment_id, session_id = start_payment(4000)
    stripe_sim.pay(session_id)
    stripe_sim.delivery("drop")  # we hand the refund's news to the "webhook" ourselves
    with app.app_context():
        refund = payments.refund_payment(db.session.get(Payment, payment_id), 1500)
        db.session.commit()
        assert refund.applied_at is None  # this session now holds a copy saying "not applied"
        attempt_params = refund.payment.attempts[-1].params
        result = gateway().create_refund(attempt_params, refund.payment.attempts[-1].key)
        with app.app_context():  # meanwhile a webhook worker applies it and commits
            payments.sync_refund(result)
            db.session.commit()
        payments.sync_refund(result)  # then our request carries on with its stale copy
        db.session.commit()
        assert db.session.get(Refund, refund.id).applied_at is not None
    assert recorder.of("refunded") == [("refunded", 1, 1500)]


def test_a_failed_refund_of_a_month_puts_it_back_on_the_annual_receipt(
    app, give, stripe_sim, charity
):
    response, session_id = give(frequency="monthly", other_amount="20", annual_receipt="y")
    stripe_sim.pay(session_id)
    stripe_sim.advance(days=31)
    with app.app_context():
        from core import clock
        from donations import receipts

        year = clock.local_date(
            db.session.scalar(sa.select(sa.func.max(Donation.received_at)))
        ).year
        first_year = clock.local_date(
            db.session.scalar(sa.select(sa.func.min(Donation.received_at)))
        ).year
        for y in sorted({first_year, year}):
            for gift_id in receipts.annual_donors(y):
                receipts.issue_annual_for(gift_id, y)
        db.session.commit()
        second = db.session.scalar(sa.select(Donation).order_by(Donation.id.desc()))
        charge = db.session.get(Payment, second.payment_id).charge_id
    refund = stripe_sim.refund(charge)  # all of the second month
    stripe_sim.fail_refund(refund["id"])
    with app.app_context():
        second = db.session.scalar(sa.select(Donation).order_by(Donation.id.desc()))
        current = second.current_receipt
        assert current is not None and not current.is_void
        assert [i.amount for i in current.items if i.donation_id == second.id] == [2000]
        assert current.replaces is not None and current.replaces.is_void
        assert second.status.value == "paid" and second.refunded == 0


def test_an_earlier_sessions_expiry_does_not_expire_a_payment_paid_through_a_newer_one(
    app, client, stripe_sim, start_payment, recorder, short_timeout
):
    from tests.helpers import csrf_token

    with app.app_context():
        payment = payments.start_checkout(
            parts=[payments.Part("test", 1, 1800)],
            lines=[payments.Line("Test thing", 1800)],
            email="p@example.org",
            language="en",
            success_url=payments.return_url("payments.checkout_return"),
            cancel_url="http://127.0.0.1/",
        )
        db.session.commit()
        payment_id, token = payment.id, payment.token
        stripe_sim.hang(seconds=1.5)
        with pytest.raises(PaymentProviderUnavailable):
            payments.open_checkout(payment)  # session A exists at Stripe; we never heard back
        db.session.commit()
    stripe_sim.wait_idle()
    stripe_sim.advance(seconds=int(timedelta(minutes=59, seconds=30).total_seconds()))
    retried = client.post(f"/payments/{token}/retry", data={"csrf_token": csrf_token(client)})
    assert retried.status_code == 303  # A is about to expire: a new session B
    stripe_sim.advance(seconds=120)  # A expires
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert payment.status.value == "pending"
        session_b = payment.checkout_session_id
        assert len(payment.attempts) == 2
    stripe_sim.pay(session_b)
    with app.app_context():
        assert db.session.get(Payment, payment_id).status.value == "succeeded"
    assert recorder.of("paid") == [("paid", 1, 1800, 82)]
    assert recorder.of("expired") == []


def test_late_news_of_a_failed_renewal_changes_nothing_once_it_is_paid(
    app, give, stripe_sim, deliver, mailbox
):
    response, session_id = give(frequency="monthly", other_amount="20", annual_receipt="y")
    stripe_sim.pay(session_id, card="renewal_fails")
    stripe_sim.advance(days=31)
    gift = gift_row(app)
    assert gift.status == MonthlyStatus.past_due
    failed_invoice = gift.last_failed_renewal
    # The donor fixes the card: Stripe retries the invoice and it is paid.
    stripe_sim.call("POST", f"/subscriptions/{gift.subscription_id}/card", card="success")
    assert gift_row(app).status == MonthlyStatus.active
    deliver()
    mailbox.clear()
    with app.app_context():  # the old failure is handled again, late
        payments.renewal_failed(failed_invoice)
        db.session.commit()
    assert gift_row(app).status == MonthlyStatus.active
    assert deliver().messages == []


def test_the_thanks_page_for_an_unknown_session_is_404(client, stripe_sim, funds):
    assert client.get("/donate/thanks?session_id=cs_test_not_ours").status_code == 404
    assert client.get("/payments/return?session_id=cs_test_not_ours").status_code == 404


def test_receipts_are_never_renumbered(app, give, stripe_sim, charity):
    for amount in ("10", "20"):
        _, session_id = give(other_amount=amount)
        stripe_sim.pay(session_id)
    with app.app_context():
        serials = db.session.scalars(sa.select(Receipt.serial).order_by(Receipt.id)).all()
    assert serials[1] == serials[0] + 1
