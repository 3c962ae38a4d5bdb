"""Duplicate, late and reordered webhooks, for every purpose: applied once, one end state.

The webhook stores each event by its id and the worker handles it by reading the object's
current state from Stripe (payments/inbox.py). Whatever Stripe's delivery does, each
purpose must end in the same rows, with each email queued once.
"""

import contextlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import db
from tests.reliability.purposes import ALL, Ctx, by_name, expected, state

LATE_BY = 72 * 3600  # Stripe retries a failing endpoint for up to three days


@contextlib.contextmanager
def delivered(stripe_sim, mode):
    """Events of the block reach the webhook as ``mode`` says."""
    if mode == "one by one, newest first":
        stripe_sim.delivery("drop")
        yield
        stripe_sim.delivery("normal")
        for event in reversed(stripe_sim.events(delivered=False)):
            stripe_sim.deliver(event["id"])  # the worker runs after each
        return
    if mode == "72 hours late":
        stripe_sim.delivery("late", late_by=LATE_BY)
    else:
        stripe_sim.delivery(mode)
    yield
    stripe_sim.flush()
    stripe_sim.delivery("normal")


def event_ages(app):
    """How old each stored event was when it reached the webhook."""
    from payments.models import StripeEvent

    with app.app_context():
        rows = db.session.execute(sa.select(StripeEvent.received_at, StripeEvent.created))
        return [received - created for received, created in rows]


#: "normal" is every other test of the suite; the end states it reaches are END_STATES.
MODES = ["twice", "reverse", "72 hours late", "one by one, newest first"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(**by_name(ALL))
def test_each_purpose_ends_the_same_whatever_the_delivery(request, purpose, mode):
    ctx = Ctx(request, purpose)
    stripe_sim = ctx.stripe_sim
    with delivered(stripe_sim, mode):
        session_id = purpose.start(ctx)
        stripe_sim.pay(session_id)
    if purpose.renew is not None:
        with delivered(stripe_sim, mode):
            purpose.renew(ctx)
    assert state(ctx.app) == expected(purpose)
    if mode == "72 hours late":
        assert min(event_ages(ctx.app)) >= timedelta(seconds=LATE_BY - 60)

    # Stripe sends every event once more, days later: nothing changes.
    with stripe_sim.worker_stopped() as worker:
        events = stripe_sim.events()
        for event in events:
            assert stripe_sim.deliver(event["id"])["webhook_status"] == 200
        worker()
    assert state(ctx.app) == expected(purpose)
