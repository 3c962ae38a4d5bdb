"""Stripe hanging past our timeout, or answering 500, while a checkout starts or a refund goes.

The person gets a page that says what happened (503, "Nothing was charged", a button to try
again), never our 500 page; the request was stored before Stripe was asked, so the retry
sends the same one under the same ``Idempotency-Key`` and Stripe ends with one Checkout
Session, or one refund.
"""

import re

import pytest
import sqlalchemy as sa

from core.db import db
from payments.models import Payment, Refund, RefundStatus, StripeAttempt
from tests.helpers import post_form
from tests.reliability.purposes import (
    MEMBERSHIP,
    MIXED_CART,
    MONTHLY_GIFT,
    ONE_TIME_GIFT,
    SHOP_ORDER,
    Ctx,
    by_name,
    expected,
    state,
)

FAULTS = ["hangs", "answers 500"]


def break_stripe(stripe_sim, fault):
    if fault == "hangs":
        stripe_sim.hang(seconds=1.0)  # past the half-second the gateway waits (short_timeout)
    else:
        stripe_sim.fail(500)


def after_the_fault(stripe_sim, fault):
    if fault == "hangs":
        stripe_sim.wait_idle()  # Stripe finishes the stalled request after all


def sim_objects(stripe_sim, kind):
    return stripe_sim.sim.store.all(kind)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize(**by_name([ONE_TIME_GIFT, MONTHLY_GIFT, MEMBERSHIP]))
def test_a_checkout_stripe_does_not_open_says_so_and_the_retry_opens_one(
    request, purpose, fault, short_timeout
):
    ctx = Ctx(request, purpose)
    stripe_sim = ctx.stripe_sim
    break_stripe(stripe_sim, fault)
    page = purpose.submit(ctx)
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert "We could not reach our payment provider" in html and "Nothing was charged" in html
    retry = re.search(r'action="(/payments/[^"/]+/retry)"', html).group(1)
    after_the_fault(stripe_sim, fault)
    with ctx.app.app_context():
        [payment] = db.session.scalars(sa.select(Payment)).all()
        assert payment.status == "pending" and payment.checkout_session_id is None

    again = post_form(ctx.client, retry, {}, token_from="/login")
    assert again.status_code == 303
    [session] = sim_objects(stripe_sim, "checkout.session")
    assert again.location == session["url"]
    with ctx.app.app_context():
        [payment] = db.session.scalars(sa.select(Payment)).all()
        assert payment.checkout_session_id == session["id"]
        [attempt] = db.session.scalars(sa.select(StripeAttempt)).all()
        assert attempt.result_id == session["id"]

    stripe_sim.pay(session["id"])
    assert state(ctx.app) == expected(purpose)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize(**by_name([SHOP_ORDER, MIXED_CART]))
def test_a_shop_checkout_stripe_does_not_open_gives_the_copies_back_and_the_retry_sells_once(
    request, purpose, fault, short_timeout
):
    """The shop closes an unopened checkout at once (its copies go back on sale); the buyer,
    whose cart is kept, pays again."""
    ctx = Ctx(request, purpose)
    stripe_sim = ctx.stripe_sim
    break_stripe(stripe_sim, fault)
    page = purpose.submit(ctx)
    assert page.status_code == 503
    assert "Our payment provider is not answering right now" in page.get_data(as_text=True)
    after_the_fault(stripe_sim, fault)
    first = state(ctx.app)
    assert first["orders"] == [("cancelled", "4100", "0")]
    assert ("issue-42", "10") in first["stock"]
    assert all(row[0] == "expired" for row in first["payments"])

    stripe_sim.pay(purpose.start(ctx, again=True))  # the same cart, checked out again
    stripe_sim.advance(seconds=40 * 60)  # whatever Stripe made for the first attempt expires
    paid = state(ctx.app)
    end = expected(purpose)
    again = {key: [row for row in rows if row not in first[key]] for key, rows in paid.items()}
    assert again["payments"] == end["payments"] and again["orders"] == [("paid", "4100", "0")]
    assert again["donations"] == end["donations"] and again["dues"] == end["dues"]
    assert paid["stock"] == end["stock"]
    assert paid["emails"] == expected(purpose, order_number=2)["emails"]
    sessions = sim_objects(stripe_sim, "checkout.session")
    assert [s["payment_status"] for s in sessions].count("paid") == 1
    assert len(sessions) == (2 if fault == "hangs" else 1)


def refund_row(app):
    with app.app_context():
        row = db.session.scalar(sa.select(Refund))
        db.session.expunge(row)
        return row


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize(**by_name([ONE_TIME_GIFT, SHOP_ORDER]))
def test_a_refund_stripe_does_not_confirm_is_kept_pending_and_made_once(
    request, purpose, fault, short_timeout, signed_in
):
    ctx = Ctx(request, purpose)
    stripe_sim = ctx.stripe_sim
    stripe_sim.pay(purpose.start(ctx))
    with ctx.app.app_context():
        payment_id = db.session.scalar(sa.select(Payment.id))
    treasurer = signed_in("treasurer")
    path = f"/treasurer/payments/{payment_id}"

    break_stripe(stripe_sim, fault)
    asked = post_form(treasurer, f"{path}/refund", {"amount": "", "reason": "duplicate"})
    assert asked.status_code == 303
    shown = treasurer.get(asked.location).get_data(as_text=True)
    assert "Stripe did not answer in time. The refund is kept as pending" in shown
    row = refund_row(ctx.app)
    assert row.status == RefundStatus.pending and row.stripe_refund_id is None
    after_the_fault(stripe_sim, fault)

    # Asked again from the payment's page, it is refused: it is on record, pending.
    twice = post_form(treasurer, f"{path}/refund", {"amount": "", "reason": "duplicate"})
    assert "That is more than what is left to refund." in treasurer.get(twice.location).get_data(
        as_text=True
    )
    # Sent again from Refunds: looked up first, so Stripe makes it once.
    resent = post_form(
        treasurer, f"/treasurer/refunds/{row.id}/resend", {}, token_from="/treasurer/refunds"
    )
    assert resent.status_code == 303
    told = treasurer.get(resent.location).get_data(as_text=True)
    if fault == "hangs":  # Stripe made it after all; its webhook may have said so first
        assert (
            "Stripe has this refund already; nothing was sent again." in told
            or "Only a refund that Stripe never confirmed can be looked up." in told
        )
    else:
        assert "The refund was sent again; it is now succeeded." in told
    [made] = sim_objects(stripe_sim, "refund")
    row = refund_row(ctx.app)
    assert (row.status, row.stripe_refund_id) == (RefundStatus.succeeded, made["id"])
    stripe_sim.flush()
    stripe_sim.wait_idle()  # and its webhooks, handled: still one refund
    [payment] = state(ctx.app)["payments"]
    assert payment[3] == payment[2] == made["amount"]  # refunded in full, once
    assert state(ctx.app)["refunds"] == [("succeeded", str(made["amount"]))]
