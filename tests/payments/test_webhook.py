"""The webhook: signatures, the inbox, duplicates, order, versions, catch-up."""

import json
import time

import pytest
import sqlalchemy as sa
import stripe

from core.db import db
from payments.models import Payment, PaymentStatus, StripeEvent
from tests.conftest import WEBHOOK_SECRETS
from tests.payment_fixtures import load_payment, payments_count


def event_body(event_id="evt_test_1", event_type="customer.created", obj=None):
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": stripe.api_version,
            "created": int(time.time()),
            "type": event_type,
            "livemode": False,
            "data": {"object": obj or {"id": "cus_test_1", "object": "customer"}},
        }
    )


def signed(body, secret, timestamp=None):
    return stripe.WebhookSignature._compute_signature(
        f"{timestamp or int(time.time())}.{body}", secret
    )


def header(body, secret, timestamp=None):
    timestamp = timestamp or int(time.time())
    return f"t={timestamp},v1={signed(body, secret, timestamp)}"


def stored(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent))


CURRENT, NEXT = WEBHOOK_SECRETS


@pytest.mark.parametrize(
    ("case", "make_header", "status"),
    [
        ("forged", lambda b: f"t={int(time.time())},v1={'0' * 64}", 400),
        ("stale", lambda b: header(b, CURRENT, int(time.time()) - 301), 400),
        ("missing", lambda b: None, 400),
        ("wrong secret", lambda b: header(b, "whsec_someone_else"), 400),
        ("valid", lambda b: header(b, CURRENT), 200),
        ("valid under the second secret", lambda b: header(b, NEXT), 200),
    ],
)
def test_signatures(app, client, case, make_header, status):
    body = event_body()
    value = make_header(body)
    headers = {"Stripe-Signature": value} if value else {}
    response = client.post(
        "/stripe/webhook", data=body, headers=headers, content_type="application/json"
    )
    assert response.status_code == status, case
    assert stored(app) == (1 if status == 200 else 0)


def test_a_tampered_body_is_refused(app, client):
    body = event_body()
    value = header(body, CURRENT)
    response = client.post(
        "/stripe/webhook",
        data=body.replace("customer.created", "customer.deleted"),
        headers={"Stripe-Signature": value},
        content_type="application/json",
    )
    assert response.status_code == 400 and stored(app) == 0


def test_the_fast_path_answers_with_its_own_headers_and_refuses_a_huge_body(app, client):
    body = event_body()
    response = client.post(
        "/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": header(body, CURRENT), "X-Request-Id": "req-from-proxy-1"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json == {"received": True, "duplicate": False}
    assert response.headers["X-Request-Id"] == "req-from-proxy-1"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response.headers  # no session is opened for Stripe

    huge = event_body(event_id="evt_test_huge", obj={"id": "cus_x", "pad": "x" * (6 << 20)})
    response = client.post(
        "/stripe/webhook",
        data=huge,
        headers={"Stripe-Signature": header(huge, CURRENT)},
        content_type="application/json",
    )
    assert response.status_code == 413 and response.json["error"]["code"] == "too_large"
    assert stored(app) == 1


def test_a_delivery_the_database_cannot_store_answers_500_and_the_retry_is_stored(
    app, client, monkeypatch
):
    from payments import inbox

    body = event_body()

    def unreachable(event, checked):
        raise sa.exc.OperationalError("INSERT", {}, Exception("server closed the connection"))

    with monkeypatch.context() as patch:
        patch.setattr(inbox, "receive", unreachable)
        response = post(client, body)
    assert response.status_code == 500 and response.json["error"]["code"] == "not_stored"
    assert stored(app) == 0
    response = post(client, body)  # Stripe sends it again
    assert response.status_code == 200 and stored(app) == 1


def test_other_methods_on_the_webhook_go_to_flask(client):
    assert client.get("/stripe/webhook").status_code == 405


def no_stripe(monkeypatch):
    """Fail any request to Stripe: the code under test must answer from our rows."""
    from payments.gateway import Gateway

    def refuse(self, *args, **kwargs):
        raise AssertionError("asked Stripe")

    monkeypatch.setattr(Gateway, "_call", refuse)
    monkeypatch.setattr(Gateway, "_iterate", refuse)


def post(client, body):
    return client.post(
        "/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": header(body, CURRENT)},
        content_type="application/json",
    )


def test_an_event_for_something_we_never_created_is_stored_and_marked(
    app, client, stripe_sim, run_worker, monkeypatch
):
    session = {"id": "cs_test_x", "object": "checkout.session"}
    body = event_body("evt_unknown_1", "checkout.session.completed", session)
    assert post(client, body).status_code == 200  # retrying would not make it exist
    no_stripe(monkeypatch)  # nor is Stripe asked: our own rows say it is not ours
    assert run_worker() == (1, 0)
    with app.app_context():
        event = db.session.get(StripeEvent, "evt_unknown_1")
        assert event.processed_at is not None and event.outcome == "unknown_object"


def test_a_real_event_about_another_systems_payment_is_marked_unknown(
    app, stripe_sim, start_payment, run_worker, monkeypatch
):
    import requests

    created = requests.post(
        f"{stripe_sim.url}/v1/checkout/sessions",
        headers={"Authorization": "Bearer sk_test_other"},
        data={
            "mode": "subscription",
            "success_url": "https://elsewhere.example/ok",
            "line_items[0][price_data][currency]": "cad",
            "line_items[0][price_data][unit_amount]": "700",
            "line_items[0][price_data][recurring][interval]": "month",
            "line_items[0][price_data][product_data][name]": "Not ours",
            "line_items[0][quantity]": "1",
        },
        timeout=10,
    ).json()
    with stripe_sim.worker_stopped():
        stripe_sim.pay(created["id"], email="someone@elsewhere.example")
    no_stripe(monkeypatch)  # a Payment Link's session and invoices: answered from our rows
    handled, failed = run_worker()
    assert failed == 0 and handled >= 3
    with app.app_context():
        outcomes = dict(db.session.execute(sa.select(StripeEvent.type, StripeEvent.outcome)).all())
    assert outcomes["checkout.session.completed"] == "unknown_object"
    assert outcomes["invoice.paid"] == "unknown_object"
    assert outcomes["customer.subscription.updated"] == "unknown_object"
    assert payments_count(app) == 0


def test_deliveries_answer_200_with_the_worker_stopped_and_apply_once_it_runs(
    app, stripe_sim, start_payment, recorder, run_worker
):
    payment_id, session_id = start_payment(1800)
    with stripe_sim.worker_stopped():
        stripe_sim.pay(session_id)
        delivered = stripe_sim.events()
        assert delivered and all(e["attempts"][-1]["status"] == 200 for e in delivered)
        with app.app_context():
            waiting = db.session.scalars(sa.select(StripeEvent)).all()
            assert len(waiting) == len(delivered)
            assert all(e.processed_at is None and e.state == "waiting" for e in waiting)
        assert load_payment(app, payment_id).status == PaymentStatus.pending
        assert recorder.of("paid") == []
    handled, failed = run_worker()
    assert (handled, failed) == (len(delivered), 0)
    assert load_payment(app, payment_id).status == PaymentStatus.succeeded
    assert recorder.of("paid") == [("paid", 1, 1800, 82)]


def test_duplicates_are_stored_once_and_applied_once(app, stripe_sim, start_payment, recorder):
    stripe_sim.delivery("twice")
    payment_id, session_id = start_payment(1200)
    stripe_sim.pay(session_id)
    with app.app_context():
        events = db.session.scalars(sa.select(StripeEvent)).all()
        assert all(e.attempts == 1 and e.processed_at for e in events)
    delivered = stripe_sim.events()
    assert all(len(e["attempts"]) == 2 for e in delivered)
    assert recorder.of("paid") == [("paid", 1, 1200, 65)]


@pytest.mark.parametrize("mode", ["normal", "reverse", "late", "twice"])
def test_delivery_order_does_not_change_the_end_state(
    app, stripe_sim, start_payment, recorder, mode
):
    stripe_sim.delivery(mode)
    payment_id, session_id = start_payment(4000, mode="subscription")
    stripe_sim.pay(session_id)
    charge = load_payment(app, payment_id).charge_id
    stripe_sim.refund(charge, amount=500)
    stripe_sim.advance(days=32)
    stripe_sim.flush()
    with app.app_context():
        payments = db.session.scalars(sa.select(Payment).order_by(Payment.id)).all()
        summary = [
            (p.status, p.amount, p.amount_refunded, p.renewal_of_id is not None) for p in payments
        ]
    assert summary == [
        (PaymentStatus.succeeded, 4000, 500, False),
        (PaymentStatus.succeeded, 4000, 0, True),
    ]
    assert [c[0] for c in recorder.calls if c[0] in {"paid", "refunded"}].count("paid") == 2
    assert recorder.of("refunded") == [("refunded", 1, 500)]


def test_an_event_in_another_api_version_is_a_pointer(app, stripe_sim, start_payment, recorder):
    stripe_sim.delivery("normal", api_version="2024-06-20")
    payment_id, session_id = start_payment(2200)
    stripe_sim.pay(session_id)
    with app.app_context():
        versions = set(db.session.scalars(sa.select(StripeEvent.api_version)))
    assert versions == {"2024-06-20"}
    assert load_payment(app, payment_id).status == PaymentStatus.succeeded
    assert recorder.of("paid") == [("paid", 1, 2200, 94)]


def test_a_dropped_event_is_repaired_by_sync(app, stripe_sim, start_payment, recorder):
    payment_id, session_id = start_payment(3300)
    stripe_sim.delivery("drop")
    stripe_sim.pay(session_id)
    assert load_payment(app, payment_id).status == PaymentStatus.pending
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StripeEvent)) == 0
    result = app.test_cli_runner().invoke(args=["payments", "sync"])
    assert result.exit_code == 0, result.output
    assert "were missing and are now handled; 0 failed" in result.output
    assert load_payment(app, payment_id).status == PaymentStatus.succeeded
    assert recorder.of("paid") == [("paid", 1, 3300, 126)]
    again = app.test_cli_runner().invoke(args=["payments", "sync"])
    assert "0 were missing" in again.output
    with app.app_context():
        sources = set(db.session.scalars(sa.select(StripeEvent.source)))
    assert sources == {"sync"}


def test_a_payout_is_flagged_then_its_lines_fetched_by_the_worker(
    app, stripe_sim, start_payment, recorder
):
    from payments.models import Payout

    first, session_one = start_payment(5000, row_id=1)
    stripe_sim.pay(session_one)
    second, session_two = start_payment(2000, row_id=2)
    stripe_sim.pay(session_two)
    stripe_sim.refund(load_payment(app, second).charge_id, amount=700)
    stripe_sim.advance(days=3)
    payout = stripe_sim.payout()
    with app.app_context():
        row = db.session.scalar(sa.select(Payout))
        assert row.stripe_payout_id == payout["id"] and row.needs_sync and not row.lines
    result = app.test_cli_runner().invoke(args=["payments", "payouts"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        row = db.session.scalar(sa.select(Payout))
        assert not row.needs_sync
        kinds = sorted((line.type, line.amount, line.payment_id is not None) for line in row.lines)
        assert kinds == sorted(
            [
                ("charge", 5000, True),
                ("charge", 2000, True),
                ("refund", -700, True),
                ("payout", -row.amount, False),
            ]
        )
        assert sum(line.net for line in row.lines) == 0
