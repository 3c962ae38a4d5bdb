"""In Chromium: pay on the simulator's hosted Checkout page and come back to the app."""

import pytest
import sqlalchemy as sa

from core.db import db
from payments.models import Payment, PaymentStatus
from tests.payment_fixtures import load_payment

pytestmark = pytest.mark.browser


def hosted_url(app, payment_id):
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        return payment.attempts[-1].url


def test_pay_on_the_hosted_page_and_land_on_the_apps_success_page(
    app, live_server, page, stripe_sim, start_payment, recorder
):
    payment_id, _ = start_payment(2500)
    page.goto(hosted_url(app, payment_id))
    assert page.input_value("#email") == "payer@example.org"
    page.fill("#name", "Paula Payer")
    page.check("#card-success")
    page.click("#pay")
    page.wait_for_url(f"{live_server.url}/payments/return?session_id=cs_test_*")
    assert "We have received your payment of $25.00" in page.content()

    payment = load_payment(app, payment_id)
    assert payment.status == PaymentStatus.succeeded
    assert (payment.fee, payment.net) == (103, 2397)  # from the balance transaction
    assert recorder.of("paid") == [("paid", 1, 2500, 103)]


def test_a_monthly_subscription_paid_in_the_browser_is_one_payment(
    app, live_server, page, stripe_sim, start_payment, recorder
):
    payment_id, _ = start_payment(1000, mode="subscription")
    page.goto(hosted_url(app, payment_id))
    page.check("#card-success")
    page.click("#pay")
    page.wait_for_url(f"{live_server.url}/payments/return?session_id=cs_test_*")
    assert "We have received your payment of $10.00" in page.content()
    with app.app_context():
        [payment] = db.session.scalars(sa.select(Payment)).all()
        assert payment.id == payment_id and payment.invoice_id and payment.subscription_id
        assert (payment.fee, payment.net) == (59, 941)
    assert recorder.of("paid") == [("paid", 1, 1000, 59)]
