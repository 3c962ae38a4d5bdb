"""The order's life after payment: cancelled before shipping, refunds, the state machine."""

import pytest

from core.errors import IllegalTransition
from shop.models import Order, OrderStatus, order_states
from tests.helpers import post_form
from tests.shop_fixtures import add_to_cart, check_out, order_rows, stock_of


def _paid_order(client, stripe_sim, products, copies=2):
    add_to_cart(client, products["issue-42"], copies)
    _, session_id = check_out(client)
    stripe_sim.pay(session_id)
    return session_id


def test_a_buyer_cancels_a_paid_order_before_it_ships(app, client, products, stripe_sim):
    _paid_order(client, stripe_sim, products)
    [order] = order_rows(app)
    assert stock_of(app, products["issue-42"]) == 8
    page = f"/orders/{order.token}"
    assert "Cancel this order" in client.get(page).get_data(as_text=True)
    response = post_form(client, f"{page}/cancel", {}, token_from=page)
    assert response.status_code == 303
    [order] = order_rows(app)
    assert order.status == OrderStatus.cancelled
    assert order.refunded == order.total
    assert stock_of(app, products["issue-42"]) == 10
    assert "Cancel this order" not in client.get(page).get_data(as_text=True)
    response = post_form(client, f"{page}/cancel", {}, token_from="/shop")
    assert response.status_code == 303
    assert stock_of(app, products["issue-42"]) == 10  # once


def test_a_taxed_refund_sends_a_credit_note(
    app, client, products, stripe_sim, deliver, monkeypatch
):
    monkeypatch.setitem(app.config, "GST_HST_NUMBER", "123456789 RT0001")
    _paid_order(client, stripe_sim, products, copies=1)
    [order] = order_rows(app)
    page = f"/orders/{order.token}"
    post_form(client, f"{page}/cancel", {}, token_from=page)
    mail = deliver().to("buyer@example.org")
    subjects = sorted(m["Subject"] for m in mail)
    assert subjects == [
        f"Credit note for your Mondial order {order.number}",
        f"Your Mondial order {order.number}",
    ]
    [note] = [m for m in mail if m["Subject"].startswith("Credit note")]
    [pdf] = list(note.iter_attachments())
    assert pdf.get_filename().startswith("credit-note-C-")


def test_a_refund_from_the_dashboard_marks_the_order_refunded(app, client, products, stripe_sim):
    from payments.models import Payment

    _paid_order(client, stripe_sim, products, copies=1)
    [order] = order_rows(app)
    with app.app_context():
        from core.db import db

        charge = db.session.get(Payment, order.payment_id).charge_id
    stripe_sim.refund(charge, 500)
    [order] = order_rows(app)
    assert (order.status, order.refunded) == (OrderStatus.partially_refunded, 500)
    stripe_sim.refund(charge)
    [order] = order_rows(app)
    assert order.status == OrderStatus.refunded
    assert stock_of(app, products["issue-42"]) == 9  # copies come back only when staff say so


MOVES = [
    (OrderStatus.pending, OrderStatus.paid, True),
    (OrderStatus.pending, OrderStatus.cancelled, True),
    (OrderStatus.pending, OrderStatus.shipped, False),
    (OrderStatus.paid, OrderStatus.shipped, True),
    (OrderStatus.paid, OrderStatus.fulfilled, True),
    (OrderStatus.paid, OrderStatus.pending, False),
    (OrderStatus.shipped, OrderStatus.cancelled, False),
    (OrderStatus.shipped, OrderStatus.refunded, True),
    (OrderStatus.refunded, OrderStatus.paid, False),
    (OrderStatus.cancelled, OrderStatus.shipped, False),
    (OrderStatus.fulfilled, OrderStatus.shipped, False),
]


@pytest.mark.parametrize(("start", "end", "allowed"), MOVES)
def test_the_order_state_machine(app, start, end, allowed):
    order = Order(status=start)
    order.id = 1
    with app.test_request_context():
        if allowed:
            assert order_states.move(order, end, actor="test")
            assert order.status == end
        else:
            with pytest.raises(IllegalTransition):
                order_states.move(order, end, actor="test")
