"""Refunds from the treasurer's screens, and a refund whose request to Stripe timed out."""

import sqlalchemy as sa

from core.db import db
from payments.models import Refund, RefundStatus
from tests.helpers import post_form


def refund_row(app):
    with app.app_context():
        row = db.session.scalar(sa.select(Refund).order_by(Refund.id.desc()))
        db.session.expunge(row)
        return row


def test_a_timed_out_refund_is_found_at_stripe_before_anything_is_sent_again(
    app, start_payment, stripe_sim, signed_in, short_timeout
):
    payment_id, session = start_payment(5000)
    stripe_sim.pay(session)
    client = signed_in("treasurer")
    path = f"/treasurer/payments/{payment_id}"
    with stripe_sim.worker_stopped():
        stripe_sim.hang(seconds=1.5)
        response = post_form(client, f"{path}/refund", {"amount": "20", "reason": "duplicate"})
        assert response.status_code == 303
        row = refund_row(app)
        assert row.status == RefundStatus.pending and row.stripe_refund_id is None
        stripe_sim.wait_idle()  # Stripe made the refund after all
        found = post_form(
            client, f"/treasurer/refunds/{row.id}/look-up", {}, token_from="/treasurer/refunds"
        )
        assert found.status_code == 303
    row = refund_row(app)
    assert row.status == RefundStatus.succeeded and row.stripe_refund_id
    # Found, it can be neither sent again nor cancelled.
    again = post_form(
        client, f"/treasurer/refunds/{row.id}/resend", {}, token_from="/treasurer/refunds"
    )
    assert again.status_code == 303
    assert len(stripe_sim.sim.store.all("refund")) == 1


def test_a_refund_stripe_never_had_may_be_cancelled_and_no_longer_counts(
    app, start_payment, stripe_sim, signed_in
):
    from payments.services import Payment, refund_payment

    payment_id, session = start_payment(5000)
    stripe_sim.pay(session)
    with app.app_context():
        refund_payment(db.session.get(Payment, payment_id), 5000)  # stored, never sent
        db.session.commit()
    client = signed_in("treasurer")
    row = refund_row(app)
    path = f"/treasurer/payments/{payment_id}"
    refused = post_form(client, f"{path}/refund", {"amount": "10", "reason": "duplicate"})
    assert refused.status_code == 303 and refund_row(app).id == row.id  # nothing left to refund
    cancelled = post_form(
        client, f"/treasurer/refunds/{row.id}/cancel", {}, token_from="/treasurer/refunds"
    )
    assert cancelled.status_code == 303
    assert refund_row(app).status == RefundStatus.canceled
    assert stripe_sim.sim.store.all("refund") == []
    done = post_form(client, f"{path}/refund", {"amount": "10", "reason": "duplicate"})
    assert done.status_code == 303
    assert refund_row(app).status == RefundStatus.succeeded


def test_cancelling_a_refund_stripe_made_after_all_keeps_what_stripe_has(
    app, start_payment, stripe_sim, signed_in, short_timeout
):
    payment_id, session = start_payment(5000)
    stripe_sim.pay(session)
    client = signed_in("treasurer")
    with stripe_sim.worker_stopped():  # its webhooks wait: only the look-up can tell
        stripe_sim.hang(seconds=1.5)
        post_form(
            client,
            f"/treasurer/payments/{payment_id}/refund",
            {"amount": "20", "reason": "duplicate"},
        )
        row = refund_row(app)
        stripe_sim.wait_idle()  # Stripe made the refund after all
        refused = post_form(
            client, f"/treasurer/refunds/{row.id}/cancel", {}, token_from="/treasurer/refunds"
        )
        assert refused.status_code == 303
        page = client.get(refused.location).get_data(as_text=True)
        assert "Stripe has this refund already; it cannot be cancelled here." in page
        row = refund_row(app)
        assert row.status == RefundStatus.succeeded and row.stripe_refund_id
