"""Reservations end when the checkout does: expired, cancelled by the buyer, or paid after all."""

import sqlalchemy as sa

from core.db import db
from shop.models import OrderStatus
from tests.shop_fixtures import add_to_cart, check_out, order_rows, stock_of


def test_a_checkout_lives_35_minutes_by_default_and_holds_the_stock_that_long(
    app, client, products
):
    from datetime import timedelta

    add_to_cart(client, products["issue-42"], 3)
    check_out(client)
    [order] = order_rows(app)
    left = order.reserved_until - order.created_at
    assert timedelta(minutes=34) < left <= timedelta(minutes=35, seconds=2)
    assert stock_of(app, products["issue-42"]) == 7


def test_an_expired_checkout_gives_its_copies_to_the_next_buyer(app, client, products, stripe_sim):

    with app.app_context():
        from shop.models import Product

        db.session.get(Product, products["issue-42"]).stock = 1
        db.session.commit()
    add_to_cart(client, products["issue-42"], 1)
    _, session_id = check_out(client)
    assert stock_of(app, products["issue-42"]) == 0
    other = app.test_client()
    response = add_to_cart(other, products["issue-42"], 1)
    assert "No more products available for purchase" in other.get("/cart").get_data(as_text=True)
    stripe_sim.expire(session_id)
    [order] = order_rows(app)
    assert order.status == OrderStatus.cancelled
    assert stock_of(app, products["issue-42"]) == 1
    from payments.services import checkout_ended_unpaid

    with app.app_context():  # the event again, late: released once
        checkout_ended_unpaid(session_id, "expired")
        db.session.commit()
    assert stock_of(app, products["issue-42"]) == 1
    response = add_to_cart(other, products["issue-42"], 1)
    assert response.status_code == 303
    response, second = check_out(other, email="next@example.org")
    assert response.status_code == 303
    assert stock_of(app, products["issue-42"]) == 0


def test_cancel_on_stripes_page_releases_and_returns_to_the_cart_as_it_was(
    app, client, products, stripe_sim
):
    add_to_cart(client, products["issue-42"], 2)
    add_to_cart(client, products["issue-41-pdf"], 1)
    check_out(client)
    [order] = order_rows(app)
    assert stock_of(app, products["issue-42"]) == 8
    back = client.get(f"/cart?cancelled={order.token}")
    assert back.status_code == 302
    page = client.get(back.location).get_data(as_text=True)
    assert stock_of(app, products["issue-42"]) == 10
    assert "$32.00" in page  # 2 x 12 + 8, the cart as it was
    [order] = order_rows(app)
    assert order.status == OrderStatus.cancelled


def test_expiring_a_checkout_just_paid_fulfils_the_order_instead(
    app, client, products, stripe_sim, deliver
):
    add_to_cart(client, products["issue-42"], 2)
    _, session_id = check_out(client)
    [order] = order_rows(app)
    with stripe_sim.worker_stopped() as worker:
        stripe_sim.pay(session_id)
        back = client.get(f"/cart?cancelled={order.token}")
        assert back.location.endswith(f"/orders/{order.token}")
        [order] = order_rows(app)
        assert order.status == OrderStatus.paid
        assert stock_of(app, products["issue-42"]) == 8  # not released
        worker()  # the payment's own events, late: nothing happens twice
    [order] = order_rows(app)
    assert order.status == OrderStatus.paid and order.released_at is None
    assert stock_of(app, products["issue-42"]) == 8
    assert len(deliver().to("buyer@example.org")) == 1


def test_an_order_paid_after_it_expired_takes_its_copies_again(app, client, products, stripe_sim):
    """Stripe's word wins: a payment recorded after the expiry still makes a paid order."""
    from payments.models import Payment
    from payments.recording import expire_payment
    from payments.services import confirm_checkout

    add_to_cart(client, products["issue-42"], 2)
    _, session_id = check_out(client)
    with stripe_sim.worker_stopped():
        stripe_sim.pay(session_id)
        with app.app_context():
            payment = db.session.scalar(sa.select(Payment))
            expire_payment(payment)  # as if the expiry had been heard first
            db.session.commit()
        assert stock_of(app, products["issue-42"]) == 10
        with app.app_context():
            confirm_checkout(session_id)
            db.session.commit()
    [order] = order_rows(app)
    assert order.status == OrderStatus.paid
    assert stock_of(app, products["issue-42"]) == 8
