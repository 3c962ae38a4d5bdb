"""Refunds and disputes, from the app or the dashboard, in order or not."""

import pytest
import sqlalchemy as sa

from core.db import db
from core.errors import ValidationError
from payments.models import Dispute, Payment, Refund, RefundStatus
from payments.services import Line, Part, refund_payment, send_refund
from tests.payment_fixtures import load_payment


def paid_payment(stripe_sim, start_payment, amount=5000, **kw):
    payment_id, session_id = start_payment(amount, **kw)
    stripe_sim.pay(session_id)
    return payment_id


def refunds_of(app, payment_id):
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id)
        ).all()
        return [
            (r.amount, r.status, [(p.allocation.row_id, p.amount) for p in r.parts]) for r in rows
        ]


def test_a_dashboard_refund_is_split_over_the_allocations(app, stripe_sim, start_payment, recorder):
    payment_id = paid_payment(
        stripe_sim,
        start_payment,
        6000,
        parts=[Part("test", 1, 2000), Part("test", 2, 4000)],
        lines=[Line("Issue", 2000), Line("Gift", 4000)],
    )
    charge = load_payment(app, payment_id).charge_id
    stripe_sim.refund(charge, amount=3000)
    assert refunds_of(app, payment_id) == [(3000, RefundStatus.succeeded, [(1, 1000), (2, 2000)])]
    assert sorted(recorder.of("refunded")) == [("refunded", 1, 1000), ("refunded", 2, 2000)]


def test_a_refund_from_the_app_names_its_allocations(app, stripe_sim, start_payment, recorder):
    payment_id = paid_payment(
        stripe_sim,
        start_payment,
        6000,
        parts=[Part("test", 1, 2000), Part("test", 2, 4000)],
        lines=[Line("Issue", 2000), Line("Gift", 4000)],
    )
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        issue = payment.allocations[0]
        refund = refund_payment(payment, 2000, parts={issue: 2000}, note="issue sold out")
        db.session.commit()
        send_refund(refund)
        db.session.commit()
    stripe_sim.flush()  # refund.created and charge.refunded, delivered in the background
    assert refunds_of(app, payment_id) == [(2000, RefundStatus.succeeded, [(1, 2000)])]
    assert recorder.of("refunded") == [("refunded", 1, 2000)]  # once, despite three events


def test_refunding_more_than_is_left_is_refused(app, stripe_sim, start_payment, recorder):
    payment_id = paid_payment(stripe_sim, start_payment, 1000)
    stripe_sim.refund(load_payment(app, payment_id).charge_id, amount=600)
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        with pytest.raises(ValidationError):
            refund_payment(payment, 500)
        db.session.rollback()


def test_a_failed_refund_is_undone_once(app, stripe_sim, start_payment, recorder):
    payment_id = paid_payment(stripe_sim, start_payment, 4000)
    refund = stripe_sim.refund(load_payment(app, payment_id).charge_id, amount=1500)
    stripe_sim.fail_refund(refund["id"])
    assert refunds_of(app, payment_id) == [(1500, RefundStatus.failed, [(1, 1500)])]
    assert recorder.of("refunded") == [("refunded", 1, 1500)]
    assert recorder.of("refund_failed") == [("refund_failed", 1, 1500)]
    with app.app_context():
        assert db.session.get(Payment, payment_id).amount_refunded == 0


def test_a_refund_before_the_completion_reaches_the_same_end(
    app, stripe_sim, start_payment, recorder
):
    payment_id, session_id = start_payment(3000)
    stripe_sim.delivery("drop", count=3)  # the completion's three events are lost for now
    stripe_sim.pay(session_id)
    assert load_payment(app, payment_id).status.value == "pending"
    charge = stripe_sim.sim.store.get(
        stripe_sim.sim.store.get(session_id, "checkout.session")["payment_intent"],
        "payment_intent",
    )["latest_charge"]
    stripe_sim.refund(charge, amount=1000)  # its events arrive first
    # Handling the refund needed the payment, so it was recorded on the way.
    assert load_payment(app, payment_id).status.value == "succeeded"
    assert recorder.of("refunded") == [("refunded", 1, 1000)]
    for event in stripe_sim.events(delivered=False):
        stripe_sim.deliver(event["id"])
    assert recorder.of("paid") == [("paid", 1, 3000, 117)]
    assert recorder.of("refunded") == [("refunded", 1, 1000)]
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert payment.status.value == "succeeded" and payment.amount_refunded == 1000


@pytest.mark.parametrize(("outcome", "fee"), [("won", 1500), ("lost", 1500)])
def test_disputes_open_and_close_once(app, stripe_sim, start_payment, recorder, outcome, fee):
    payment_id = paid_payment(stripe_sim, start_payment, 2500)
    dispute = stripe_sim.dispute(load_payment(app, payment_id).charge_id)
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert payment.is_disputed
    stripe_sim.close_dispute(dispute["id"], outcome)
    assert recorder.of("disputed") == [("disputed", 1, 2500)]
    assert recorder.of("dispute_closed") == [("dispute_closed", 1, outcome)]
    with app.app_context():
        row = db.session.scalar(sa.select(Dispute))
        assert row.status == outcome and row.fee == fee and not row.payment.is_disputed
