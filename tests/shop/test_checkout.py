"""The catalogue, the cart and checkout through Stripe, to a paid order and its email."""

import re

import sqlalchemy as sa

from core.db import db
from shop.models import OrderStatus
from tests.helpers import Mailbox, post_form
from tests.shop_fixtures import add_to_cart, check_out, order_rows, stock_of


def test_a_sold_out_issue_says_so_and_cannot_be_added(app, client, products):
    page = client.get("/shop").get_data(as_text=True)
    assert "No more products available for purchase" in page
    product = client.get("/shop/issue-41").get_data(as_text=True)
    assert "No more products available for purchase" in product
    assert "Add to cart" not in product
    response = add_to_cart(client, products["issue-41"])
    assert response.status_code == 303
    cart = client.get("/cart").get_data(as_text=True)
    assert "No more products available for purchase" in cart
    assert "Your cart is currently empty." in cart


def test_an_empty_cart_says_so_in_both_languages(app, client, products):
    assert "Your cart is currently empty." in client.get("/cart").get_data(as_text=True)
    french = client.get("/cart?lang=fr").get_data(as_text=True)
    assert "Votre panier est actuellement vide." in french


def test_adding_changing_and_removing_lines(app, client, products):
    add_to_cart(client, products["issue-42"], 2)
    add_to_cart(client, products["issue-41-pdf"])
    page = client.get("/cart").get_data(as_text=True)
    assert "$32.00" in page  # 2 x 12 + 8
    post_form(
        client,
        "/cart/update",
        {"product_id": products["issue-42"], "quantity": "30"},
        token_from="/cart",
    )
    assert client.get("/cart").status_code == 200
    response = post_form(
        client,
        "/cart/update",
        {"product_id": products["issue-42"], "quantity": "5"},
        token_from="/cart",
    )
    assert response.status_code == 303
    assert "$68.00" in client.get("/cart").get_data(as_text=True)
    post_form(
        client,
        "/cart/update",
        {"product_id": products["issue-42"], "quantity": "0"},
        token_from="/cart",
    )
    assert "$8.00" in client.get("/cart").get_data(as_text=True)


def test_copies_are_capped_by_what_is_on_the_shelf(app, client, products):
    add_to_cart(client, products["issue-42"], 8)
    add_to_cart(client, products["issue-42"], 8)
    assert re.search(r'name="quantity"[^>]*value="10"', client.get("/cart").get_data(as_text=True))


def test_a_guest_pays_and_gets_the_invoice_and_the_download(
    app, client, products, stripe_sim, deliver
):
    add_to_cart(client, products["issue-42"], 2)
    add_to_cart(client, products["issue-41-pdf"])
    response, session_id = check_out(client)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert stock_of(app, products["issue-42"]) == 8  # reserved
    [order] = order_rows(app)
    assert order.status == OrderStatus.pending
    assert (order.subtotal, order.shipping, order.tax) == (3200, 900, 0)  # 360 g
    stripe_sim.pay(session_id)
    [order] = order_rows(app)
    assert order.status == OrderStatus.paid
    assert stock_of(app, products["issue-42"]) == 8
    back = client.get(f"/shop/return?session_id={session_id}")
    assert back.status_code == 303 and back.location.endswith(f"/orders/{order.token}")
    page = client.get(back.location).get_data(as_text=True)
    assert order.number in page and "Paid" in page
    assert "Your cart is currently empty." in client.get("/cart").get_data(as_text=True)
    [mail] = deliver().to("buyer@example.org")
    assert mail["Subject"] == f"Your Mondial order {order.number}"
    [pdf] = [p for p in mail.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert pdf.get_content().startswith(b"%PDF")
    [link] = [u for u in Mailbox.links(mail) if "/downloads/" in u]
    download = client.get(link.replace(app.config["BASE_URL"], ""))
    assert download.status_code == 200
    assert download.data.startswith(b"%PDF")


def test_the_guest_order_page_answers_404_to_any_other_token(app, client, products):
    assert client.get("/orders/" + "a" * 43).status_code == 404
    assert client.get("/orders/short").status_code == 404


def test_paying_twice_or_late_changes_nothing(app, client, products, stripe_sim, deliver):
    add_to_cart(client, products["issue-42"], 1)
    response, session_id = check_out(client)
    stripe_sim.pay(session_id)
    client.get(f"/shop/return?session_id={session_id}")
    from payments.services import confirm_checkout

    with app.app_context():
        confirm_checkout(session_id)
        db.session.commit()
    assert len(deliver().to("buyer@example.org")) == 1
    [order] = order_rows(app)
    assert order.status == OrderStatus.paid
    assert stock_of(app, products["issue-42"]) == 9


def test_the_order_is_audited_at_each_move(app, client, products, stripe_sim):
    from core.audit import AuditEntry

    add_to_cart(client, products["issue-42"], 1)
    _, session_id = check_out(client)
    stripe_sim.pay(session_id)
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEntry.action).where(AuditEntry.target_type == "shop_order")
        ).all()
    assert "order.started" in actions and "order.paid" in actions
