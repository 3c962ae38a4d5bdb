"""The gateway against the simulator over HTTP: real SDK objects, errors mapped, timeouts."""

import pytest
import requests
import sqlalchemy as sa

from core.db import db
from core.urls import absolute_url
from payments.gateway import (
    Gateway,
    ObjectMissing,
    PaymentProviderError,
    PaymentProviderUnavailable,
    gateway,
)
from payments.models import Payment, StripeAttempt
from payments.services import Line, Part, open_checkout, return_url, start_checkout
from tests.helpers import csrf_token, free_port


def sim_sessions(stripe_sim):
    response = requests.get(
        f"{stripe_sim.url}/v1/checkout/sessions",
        headers={"Authorization": "Bearer sk_test_simulator"},
        params={"limit": 100},
        timeout=10,
    )
    return response.json()["data"]


def new_payment(app):
    with app.app_context():
        payment = start_checkout(
            parts=[Part("test", 1, 4200)],
            lines=[Line("Test thing", 4200)],
            email="payer@example.org",
            language="fr",
            success_url=return_url("payments.checkout_return"),
            cancel_url=absolute_url("core.home"),
            submit_type="donate",
        )
        db.session.commit()
        return payment.id, payment.token


def test_checkout_sessions_are_created_as_asked(app, stripe_sim, recorder):
    payment_id, _ = new_payment(app)
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        url = open_checkout(payment)
        db.session.commit()
        session = gateway().retrieve_checkout_session(payment.checkout_session_id, ["line_items"])
    assert url == session["url"] and url.startswith(stripe_sim.url)
    assert session["object"] == "checkout.session" and session["mode"] == "payment"
    assert session["locale"] == "fr" and session["submit_type"] == "donate"
    assert session["metadata"] == {"payment_id": str(payment_id)}
    assert session["client_reference_id"] == f"payment-{payment_id}"
    assert session["customer_email"] == "payer@example.org"
    assert session["success_url"].endswith("/payments/return?session_id={CHECKOUT_SESSION_ID}")
    assert session["payment_method_types"] == ["card"]
    [item] = session["line_items"]["data"]
    assert (item["amount_total"], item["description"]) == (4200, "Test thing")


def test_an_unknown_object_is_object_missing(app, stripe_sim):
    with app.app_context(), pytest.raises(ObjectMissing):
        gateway().retrieve_charge("ch_does_not_exist")


def test_a_refused_request_is_a_provider_error(app, stripe_sim):
    with app.app_context(), pytest.raises(PaymentProviderError):
        gateway().create_refund({"charge": "ch_nope", "amount": 100}, "refund:1:attempt 1:x")


def test_an_unreachable_stripe_is_unavailable(app):
    config = dict(app.config, STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}")
    with app.app_context(), pytest.raises(PaymentProviderUnavailable):
        Gateway(config).retrieve_charge("ch_x")


def test_the_api_version_is_pinned_to_the_sdks(app, stripe_sim):
    import stripe

    with app.app_context():
        assert gateway().client._requestor._options.stripe_version == stripe.api_version


def test_a_hanging_stripe_gives_a_clear_error_and_the_retry_creates_nothing_twice(
    app, client, stripe_sim, recorder, short_timeout
):
    payment_id, token = new_payment(app)
    stripe_sim.hang(seconds=1.5)
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        with pytest.raises(PaymentProviderUnavailable):
            open_checkout(payment)
        db.session.commit()

    # The visitor retries at once, while Stripe is still working on the first request.
    retry_path = f"/payments/{token}/retry"
    token_value = csrf_token(client, "/login")
    busy = client.post(retry_path, data={"csrf_token": token_value})
    assert busy.status_code == 503
    text = busy.get_data(as_text=True)
    assert "Nothing was charged" in text and 'id="retry-payment"' in text

    stripe_sim.wait_idle()  # Stripe finishes the first request after all
    done = client.post(retry_path, data={"csrf_token": token_value})
    assert done.status_code == 303
    [session] = sim_sessions(stripe_sim)
    assert done.location == session["url"]
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert payment.checkout_session_id == session["id"]
        attempts = db.session.scalars(sa.select(StripeAttempt)).all()
        assert len(attempts) == 1 and attempts[0].result_id == session["id"]
        assert attempts[0].key.startswith("test:1:attempt 1:")
