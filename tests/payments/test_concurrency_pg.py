"""Concurrency on PostgreSQL: many clients, racing copies, a connection killed mid-handler."""

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa
import stripe

from core import clock
from core.db import db
from payments.models import Payment, PaymentStatus, StripeEvent
from tests.conftest import WEBHOOK_SECRETS
from tests.helpers import POSTGRES, require
from tests.payment_fixtures import load_payment

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _postgres_only(app):
    require(POSTGRES, "PostgreSQL (TEST_DATABASE_URL)")
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"


def fetch_event(stripe_sim, event_id):
    response = requests.get(
        f"{stripe_sim.url}/v1/events/{event_id}",
        headers={"Authorization": "Bearer sk_test_simulator"},
        timeout=10,
    )
    response.raise_for_status()
    return response.text


def post_event(session, live_server, body):
    timestamp = int(time.time())
    payload = f"{timestamp}.{body}"
    signature = stripe.WebhookSignature._compute_signature(payload, WEBHOOK_SECRETS[0])
    return session.post(
        f"{live_server.url}/stripe/webhook",
        data=body.encode(),
        headers={
            "Stripe-Signature": f"t={timestamp},v1={signature}",
            "Content-Type": "application/json",
        },
        timeout=60,
    )


def dropped_events(stripe_sim):
    return [e for e in stripe_sim.events(delivered=False)]


def drain_in_threads(app, count):
    """``count`` workers at once, each handling what it can claim until nothing is left."""
    from payments.inbox import work

    def worker():
        done = 0
        with app.app_context():
            while True:
                handled, failed = work(limit=20)
                done += handled
                if not handled and not failed:
                    break
            db.session.remove()
        return done

    with ThreadPoolExecutor(max_workers=count) as pool:
        return [f.result() for f in [pool.submit(worker) for _ in range(count)]]


def test_500_events_and_100_duplicates_from_8_clients_then_4_workers(
    app, live_server, stripe_sim, start_payment, recorder
):
    stripe_sim.delivery("drop")
    sessions = {}
    for row in range(1, 171):
        payment_id, session_id = start_payment(1000 + row, row_id=row)
        stripe_sim.pay(session_id)
        sessions[session_id] = payment_id
    events = dropped_events(stripe_sim)[:500]
    assert len(events) == 500
    bodies = {e["id"]: fetch_event(stripe_sim, e["id"]) for e in events}
    rng = random.Random(2026)
    duplicates = rng.sample(sorted(bodies), 100)
    work = list(bodies.values()) + [bodies[i] for i in duplicates]
    rng.shuffle(work)

    local = threading.local()

    def send(body):
        if not hasattr(local, "http"):
            local.http = requests.Session()
        return post_event(local.http, live_server, body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, work))
    assert statuses == [200] * 600

    completed = {
        json.loads(bodies[e["id"]])["data"]["object"]["id"]
        for e in events
        if e["type"] == "checkout.session.completed"
    }
    with app.app_context():  # answered and stored; nothing handled while the worker waits
        rows = db.session.scalars(sa.select(StripeEvent)).all()
        assert len(rows) == 500
        assert all(r.attempts == 0 and r.processed_at is None for r in rows)
        db.session.remove()
    per_worker = drain_in_threads(app, 4)
    assert sum(per_worker) == 500
    with app.app_context():
        rows = db.session.scalars(sa.select(StripeEvent)).all()
        assert all(r.attempts == 1 and r.processed_at is not None for r in rows)
        succeeded = db.session.scalars(
            sa.select(Payment.checkout_session_id).where(Payment.status == PaymentStatus.succeeded)
        ).all()
    assert set(succeeded) == completed
    paid_rows = [call[1] for call in recorder.of("paid")]
    assert len(paid_rows) == len(set(paid_rows)) == len(completed)


def test_success_page_and_two_copies_of_the_completion_race_100_times(
    app, live_server, stripe_sim, start_payment, recorder, monkeypatch
):
    # A hundred returns from one address in a few seconds: more than the page allows a person.
    monkeypatch.setitem(app.config, "RETURN_PAGE_LIMIT", "1000 per minute")
    stripe_sim.delivery("drop")
    http = [requests.Session() for _ in range(3)]
    for row in range(1, 101):
        payment_id, session_id = start_payment(500 + row, row_id=row)
        paid = stripe_sim.pay(session_id)
        [completion] = [
            e for e in dropped_events(stripe_sim) if e["type"] == "checkout.session.completed"
        ]
        body = fetch_event(stripe_sim, completion["id"])
        return_path = paid["redirect_url"]
        start = threading.Barrier(4)

        def success_page(session=http[0], start=start, return_path=return_path):
            start.wait()
            return session.get(return_path, timeout=60).status_code

        def webhook(session, start=start, body=body):
            start.wait()
            return post_event(session, live_server, body).status_code

        def worker(start=start):
            start.wait()
            return drain_in_threads(app, 1)

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = [
                pool.submit(success_page),
                pool.submit(webhook, http[1]),
                pool.submit(webhook, http[2]),
            ]
            racer = pool.submit(worker)
            assert [f.result() for f in results] == [200, 200, 200]
            racer.result()
        drain_in_threads(app, 1)  # what the racing worker did not find yet
        # Mark the dropped events as dealt with so the next round finds only its own.
        for event in dropped_events(stripe_sim):
            stripe_sim.sim.store.extra[event["id"]]["delivered"] = True
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Payment)
                .where(Payment.status == PaymentStatus.succeeded)
            )
            == 100
        )
    paid_rows = [call[1] for call in recorder.of("paid")]
    assert sorted(paid_rows) == list(range(1, 101))


def test_a_connection_killed_mid_handler_rolls_back_and_the_retry_succeeds(
    app, stripe_sim, start_payment, recorder, run_worker
):
    killed = threading.Event()

    def kill_own_connection(allocation):
        if not killed.is_set():
            killed.set()
            db.session.execute(sa.text("SELECT pg_terminate_backend(pg_backend_pid())"))

    recorder.before_paid = kill_own_connection
    payment_id, session_id = start_payment(2500)
    stripe_sim.pay(session_id)
    assert killed.is_set()

    [completion] = [e for e in stripe_sim.events() if e["type"] == "checkout.session.completed"]
    assert completion["attempts"][-1]["status"] == 200  # stored; the worker hit the failure
    with app.app_context():
        event = db.session.get(StripeEvent, completion["id"])
        assert event.processed_at is None and event.attempts == 1
        assert "terminat" in event.last_error
        assert event.next_attempt_at > clock.now() and event.given_up_at is None
        payment = db.session.get(Payment, payment_id)
        assert payment.status == PaymentStatus.pending and payment.fee is None
        assert payment.allocations[0].fee is None
    assert recorder.of("paid") == []

    clock.advance(seconds=31)  # the worker's back-off
    run_worker()
    assert load_payment(app, payment_id).status == PaymentStatus.succeeded
    assert recorder.of("paid") == [("paid", 1, 2500, 103)]
    with app.app_context():
        event = db.session.get(StripeEvent, completion["id"])
        assert event.processed_at is not None and event.attempts == 2 and event.last_error is None
