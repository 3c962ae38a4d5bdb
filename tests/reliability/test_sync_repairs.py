"""A ``checkout.session.completed`` that never arrives is repaired by ``flask payments sync``.

Stripe delivers every other event of the checkout; the completion is lost (the endpoint was
down past Stripe's retries). The catch-up command lists Stripe's events, stores the missing
one and handles it: each purpose ends paid, once, as if the webhook had worked.
"""

import pytest

from payments.models import PaymentStatus
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

COMPLETED = "checkout.session.completed"


def sync(app):
    result = app.test_cli_runner().invoke(args=["payments", "sync"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    **by_name([ONE_TIME_GIFT, MONTHLY_GIFT, MEMBERSHIP, SHOP_ORDER, MIXED_CART])
)
def test_a_lost_completion_is_fetched_by_sync_and_applied_once(request, purpose):
    ctx = Ctx(request, purpose)
    stripe_sim = ctx.stripe_sim
    stripe_sim.delivery("drop")
    stripe_sim.pay(purpose.start(ctx))
    stripe_sim.delivery("normal")
    lost = []
    for event in stripe_sim.events(delivered=False):
        if event["type"] == COMPLETED:
            lost.append(event["id"])
        else:
            stripe_sim.deliver(event["id"])
    assert len(lost) == 1
    before = state(ctx.app)
    if purpose is not MONTHLY_GIFT:  # a subscription's invoice.paid records it meanwhile
        assert [p[0] for p in before["payments"]] == [PaymentStatus.pending]
        assert before["emails"] == [e for e in before["emails"] if "Confirm" in e[1]]

    output = sync(ctx.app)
    assert "1 were missing and are now handled; 0 failed" in output
    assert state(ctx.app) == expected(purpose)

    assert "0 were missing" in sync(ctx.app)  # a second run finds nothing to do
    assert state(ctx.app) == expected(purpose)
