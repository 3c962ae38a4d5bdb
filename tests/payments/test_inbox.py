"""The worker's side of the inbox: malformed events, back-off, giving up, replay, crashes."""

import json
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
import stripe

from core import clock
from core.db import db
from payments import inbox
from payments.models import PaymentStatus, StripeEvent
from tests.conftest import WEBHOOK_SECRETS
from tests.payment_fixtures import load_payment

SECRET = WEBHOOK_SECRETS[0]


def signed_post(client, body):
    """POST the JSON text ``body`` to the webhook, validly signed."""
    timestamp = int(time.time())
    mac = stripe.WebhookSignature._compute_signature(f"{timestamp}.{body}", SECRET)
    return client.post(
        "/stripe/webhook",
        data=body.encode("utf-8"),
        headers={"Stripe-Signature": f"t={timestamp},v1={mac}"},
        content_type="application/json",
    )


def event(event_id="evt_1", obj=None, event_type="checkout.session.completed"):
    return {
        "id": event_id,
        "object": "event",
        "api_version": stripe.api_version,
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "data": {"object": obj if obj is not None else {"id": "cs_x", "object": "x"}},
    }


def stored(app, event_id):
    with app.app_context():
        row = db.session.get(StripeEvent, event_id)
        if row is not None:
            db.session.expunge(row)
        return row


@pytest.mark.parametrize(
    ("case", "obj"),
    [
        ("object without an id", {"object": "checkout.session"}),
        ("object is a list", [{"id": "cs_1"}]),
        ("integer id", {"id": 12345, "object": "checkout.session"}),
    ],
)
def test_a_signed_event_that_can_never_succeed_is_stored_with_its_error_and_given_up(
    app, client, run_worker, case, obj
):
    body = json.dumps(event("evt_bad", obj))
    assert signed_post(client, body).status_code == 200, case
    assert run_worker() == (0, 1)
    row = stored(app, "evt_bad")
    assert row.state == "given_up" and row.attempts == 1 and "no id" in row.last_error
    clock.advance(days=3)
    assert run_worker() == (0, 0)  # never retried by itself
    assert stored(app, "evt_bad").attempts == 1


@pytest.mark.parametrize(
    ("case", "event_id"),
    [
        ("longer than Stripe's 255", "evt_" + "x" * 300),
        ("two thousand characters", "evt_" + "y" * 2000),
        ("a NUL byte", "evt_a\x00b"),
        ("a lone surrogate", "evt_\ud800"),
        ("not a string", 42),
    ],
)
def test_an_event_id_we_cannot_store_is_refused_before_storing(app, client, case, event_id):
    body = json.dumps(event(event_id))  # JSON escapes keep the NUL and the surrogate
    response = signed_post(client, body)
    assert response.status_code == 400, case
    assert response.get_json()["error"]["code"] == "malformed"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent)) == 0


def test_a_body_that_is_not_utf8_is_refused_with_400(app, client):
    timestamp = int(time.time())
    response = client.post(
        "/stripe/webhook",
        data=b'{"id": "evt_\xff\xfe"}',
        headers={"Stripe-Signature": f"t={timestamp},v1={'0' * 64}"},
        content_type="application/json",
    )
    assert response.status_code == 400


def test_a_failing_event_backs_off_gives_up_and_replays(
    app, stripe_sim, start_payment, recorder, run_worker
):
    def broken(allocation):
        raise RuntimeError("the feature is broken today")

    recorder.before_paid = broken
    payment_id, session_id = start_payment(2100)
    with stripe_sim.worker_stopped():
        stripe_sim.pay(session_id)
    [completion] = [e for e in stripe_sim.events() if e["type"] == "checkout.session.completed"]
    for attempt in range(1, inbox.MAX_ATTEMPTS + 1):
        run_worker()
        row = stored(app, completion["id"])
        assert row.attempts == attempt and "the feature is broken today" in row.last_error
        if attempt < inbox.MAX_ATTEMPTS:
            assert row.state == "failing"
            assert run_worker() == (0, 0)  # not due again before its back-off
            assert stored(app, completion["id"]).attempts == attempt
            clock.advance(seconds=inbox.backoff(attempt).total_seconds() + 1)
    assert row.state == "given_up" and row.next_attempt_at is None
    assert [inbox.backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 120, 480]
    clock.advance(days=7)
    run_worker()
    assert stored(app, completion["id"]).attempts == inbox.MAX_ATTEMPTS  # given up stays so
    assert load_payment(app, payment_id).status == PaymentStatus.pending

    recorder.before_paid = None  # the feature is mended; the treasurer replays the event
    with app.app_context():
        inbox.replay(completion["id"])
        db.session.commit()
    run_worker()
    row = stored(app, completion["id"])
    assert row.state == "handled" and row.outcome == "applied" and row.last_error is None
    assert load_payment(app, payment_id).status == PaymentStatus.succeeded
    assert recorder.of("paid") == [("paid", 1, 2100, 91)]


def test_replay_refuses_an_event_already_handled_or_unknown(app, client, run_worker):
    from core.errors import Conflict, NotFound

    assert (
        signed_post(
            client, json.dumps(event("evt_done", {"id": "cus_1"}, "customer.created"))
        ).status_code
        == 200
    )
    run_worker()
    with app.app_context():
        with pytest.raises(Conflict):
            inbox.replay("evt_done")
        with pytest.raises(NotFound):
            inbox.replay("evt_missing")


def test_after_a_crash_the_worker_sweeps_stored_events_from_our_table(
    app, stripe_sim, start_payment, recorder, monkeypatch
):
    """Killed after storing, before handling: the next worker round handles them,
    without asking Stripe for its event list."""
    from core.worker import run_forever
    from payments.gateway import Gateway

    payment_id, session_id = start_payment(2700)
    with stripe_sim.worker_stopped():
        stripe_sim.pay(session_id)  # stored by the webhook; the process "dies" here

    def no_listing(self, *args, **kwargs):
        raise AssertionError("the worker listed events at Stripe")

    monkeypatch.setattr(Gateway, "events_since", no_listing)
    monkeypatch.setitem(app.config, "WORKER_IDLE_SECONDS", 0)
    with app.app_context():
        run_forever(stop_after=1)  # one round of `flask worker run`
        sync_error = db.session.execute(
            sa.text("SELECT last_error FROM task_schedule WHERE name = 'payments.sync'")
        ).scalar()
    assert "listed events at Stripe" in sync_error  # only the catch-up task asks Stripe
    assert load_payment(app, payment_id).status == PaymentStatus.succeeded
    assert recorder.of("paid") == [("paid", 1, 2700, 108)]


# -- a burst of deliveries comes before the worker -------------------------------------------


def deliver_burst(client, count, prefix="evt_burst"):
    """``count`` events stored through the webhook, about unknown objects (ignored later)."""
    for n in range(count):
        body = json.dumps(event(f"{prefix}_{n}", {"id": f"cs_burst_{n}", "object": "x"}))
        assert signed_post(client, body).status_code == 200


def test_the_worker_holds_back_while_a_burst_of_deliveries_arrives(app, client):
    app.config["WORKER_BURST_RATE"] = 5
    try:
        deliver_burst(client, 4)
        with app.app_context():
            assert not inbox.burst_arriving(clock.now())  # four a second is no burst
        deliver_burst(client, 2, prefix="evt_more")
        with app.app_context():
            now = clock.now()
            assert inbox.burst_arriving(now)
            # A second later the deliveries have stopped: the worker goes on.
            assert not inbox.burst_arriving(now + timedelta(seconds=1.5))
            # However fast they still come, no stored event waits longer than the hold.
            held = app.config["WORKER_BURST_HOLD_SECONDS"]
            with pytest.MonkeyPatch.context() as patch:
                patch.setitem(app.config, "WORKER_BURST_HOLD_SECONDS", 0)
                assert not inbox.burst_arriving(now)
            assert held > 0
            app.config["WORKER_BURST_RATE"] = 0  # never holds back
            assert not inbox.burst_arriving(now)
    finally:
        app.config["WORKER_BURST_RATE"] = 50


def test_the_worker_task_waits_out_the_burst_then_handles_every_event(app, client, monkeypatch):
    app.config["WORKER_BURST_RATE"] = 5
    waits = []

    def sleep(seconds):
        """The clock moves on while the worker waits; a real sleep would too."""
        waits.append(seconds)
        clock.advance(seconds=seconds)

    monkeypatch.setattr(inbox.time, "sleep", sleep)
    try:
        deliver_burst(client, 30)
        with app.app_context():
            inbox.work_task()
            waiting = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(StripeEvent)
                .where(StripeEvent.processed_at.is_(None))
            )
        assert waits and sum(waits) <= 1.5  # the burst's second, no more
        assert waiting == 0
    finally:
        app.config["WORKER_BURST_RATE"] = 50
