"""The recurring verbs and the neutral events, against the simulator: what memberships use."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core import clock
from core.db import db
from payments import services as payments
from payments.gateway import gateway
from payments.models import Payment, PaymentStatus, StripeEvent
from tests.payment_fixtures import load_payment

DAY = 24 * 3600


def event_types(app):
    with app.app_context():
        return list(db.session.scalars(sa.select(StripeEvent.type).order_by(StripeEvent.created)))


def latest_change(recorder):
    return recorder.of("recurring_changed")[-1][2]


def one_year_after(moment):
    return moment.replace(year=moment.year + 1)


def test_a_yearly_series_starting_later_charges_nothing_now_then_pays_its_first_year(
    app, stripe_sim, start_payment, recorder
):
    start = (clock.now() + timedelta(days=30)).replace(microsecond=0)
    payment_id, session_id = start_payment(5000, every="year", first_charge_at=start)
    stripe_sim.pay(session_id)

    payment = load_payment(app, payment_id)
    assert payment.status == PaymentStatus.pending  # nothing was charged
    assert payment.subscription_id.startswith("sub_") and payment.charge_id is None
    assert payment.first_charge_at == start
    assert recorder.of("paid") == []
    waiting = latest_change(recorder)
    assert (waiting.paid_through, waiting.next_charge_at, waiting.amount) == (None, start, 5000)
    assert not waiting.overdue and not waiting.ends_at_period_end

    stripe_sim.advance(seconds=27 * DAY + 3600)  # three days before the first charge
    assert "customer.subscription.trial_will_end" in event_types(app)
    assert recorder.of("paid") == []

    stripe_sim.advance(seconds=3 * DAY)  # the first charge, a year's worth
    payment = load_payment(app, payment_id)
    assert payment.status == PaymentStatus.succeeded and payment.amount == 5000
    assert payment.charge_id.startswith("ch_") and payment.invoice_id.startswith("in_")
    assert recorder.of("paid_event") == [("paid_event", 1, True, start, one_year_after(start))]
    running = latest_change(recorder)
    assert running.paid_through == one_year_after(start) and not running.overdue

    stripe_sim.advance(seconds=366 * DAY)  # the second year is a renewal of its own
    second = recorder.of("paid_event")[1]
    assert second == (
        "paid_event",
        1001,
        False,
        one_year_after(start),
        one_year_after(start).replace(year=start.year + 2),
    )
    with app.app_context():
        amounts = db.session.execute(
            sa.select(Payment.amount, Payment.renewal_of_id).order_by(Payment.id)
        ).all()
    assert amounts == [(5000, None), (5000, payment_id)]


def test_a_first_charge_less_than_48_hours_ahead_is_charged_now(
    app, stripe_sim, start_payment, recorder
):
    soon = clock.now() + timedelta(hours=47)
    payment_id, session_id = start_payment(4200, every="year", first_charge_at=soon)
    stripe_sim.pay(session_id)
    payment = load_payment(app, payment_id)
    assert payment.status == PaymentStatus.succeeded and payment.first_charge_at is None
    [(_, row_id, first, start, end)] = recorder.of("paid_event")
    assert first and end == one_year_after(start)
    assert abs((start - clock.now()).total_seconds()) < 60


def test_a_failed_first_charge_at_the_future_date_is_a_renewal_failure(
    app, stripe_sim, start_payment, recorder
):
    start = clock.now() + timedelta(days=10)
    payment_id, session_id = start_payment(3000, every="year", first_charge_at=start, row_id=4)
    stripe_sim.pay(session_id, card="renewal_fails")
    stripe_sim.advance(seconds=11 * DAY)
    [(_, row_id, renewal_id)] = recorder.of("renewal_failed")
    assert row_id == 4 and renewal_id.startswith("in_")
    assert latest_change(recorder).overdue
    assert load_payment(app, payment_id).status == PaymentStatus.pending
    assert recorder.of("paid") == []


def test_change_stop_and_resume_a_series(app, stripe_sim, start_payment, recorder):
    payment_id, session_id = start_payment(2000, mode="subscription", row_id=2)
    stripe_sim.pay(session_id)
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        payments.change_recurring_amount(payment, 3500)
        db.session.commit()
        payments.stop_recurring(payment)
        db.session.commit()
    stripe_sim.flush()
    stopping = latest_change(recorder)
    assert stopping.amount == 3500 and stopping.ends_at_period_end
    assert stopping.next_charge_at is None
    with app.app_context():
        payments.resume_recurring(db.session.get(Payment, payment_id))
        db.session.commit()
    stripe_sim.flush()
    resumed = latest_change(recorder)
    assert not resumed.ends_at_period_end and resumed.next_charge_at == resumed.paid_through
    stripe_sim.advance(seconds=32 * DAY)
    assert [c[1:3] for c in recorder.of("paid")] == [(2, 2000), (2001, 3500)]
    with app.app_context():
        url = payments.portal_url(db.session.get(Payment, payment_id), "http://127.0.0.1/back")
    assert "/p/session/bps_" in url


def test_a_stopped_series_ends_at_the_end_of_its_period(app, stripe_sim, start_payment, recorder):
    payment_id, session_id = start_payment(2000, mode="subscription", row_id=5)
    stripe_sim.pay(session_id)
    with app.app_context():
        payments.stop_recurring(db.session.get(Payment, payment_id))
        db.session.commit()
    stripe_sim.advance(seconds=32 * DAY)
    assert recorder.of("recurring_ended") == [("recurring_ended", 5)]
    assert len(recorder.of("paid")) == 1


@pytest.mark.parametrize("paid_first", [False, True])
def test_expiring_a_checkout_tells_the_feature_expired_or_paid(
    app, stripe_sim, start_payment, recorder, paid_first
):
    payment_id, session_id = start_payment(1500, row_id=9)
    if paid_first:
        stripe_sim.delivery("drop")  # the payer paid; the news has not reached us
        stripe_sim.pay(session_id)
    with app.app_context():
        status = payments.expire_checkout(db.session.get(Payment, payment_id))
        db.session.commit()
    if paid_first:
        assert status == PaymentStatus.succeeded
        assert recorder.of("paid") == [("paid", 9, 1500, 74)] and recorder.of("expired") == []
    else:
        assert status == PaymentStatus.expired
        assert recorder.of("expired") == [("expired", 9)] and recorder.of("paid") == []
        with app.app_context():
            assert gateway().retrieve_checkout_session(session_id)["status"] == "expired"
            payment = db.session.get(Payment, payment_id)
            assert payments.expire_checkout(payment) == PaymentStatus.expired  # twice is fine
    assert load_payment(app, payment_id).status == status


def test_when_a_checkout_expires_is_told_without_reading_stripes_parameters(
    app, stripe_sim, start_payment
):
    payment_id, _ = start_payment(1000)
    with app.app_context():
        expires = payments.checkout_expires_at(db.session.get(Payment, payment_id))
    assert timedelta(minutes=59) < expires - clock.now() <= timedelta(hours=1)
