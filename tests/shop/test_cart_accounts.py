"""A signed-in buyer's cart lives in the account; a visitor's joins it on sign-in."""

import sqlalchemy as sa

from core.db import db
from shop.models import CartLine
from tests.helpers import sign_in
from tests.shop_fixtures import add_to_cart


def test_the_visitors_cart_merges_into_the_account_capped_by_stock(
    app, client, products, make_user
):
    _, email, password = make_user(email="mia@example.org")
    other = app.test_client()
    assert sign_in(other, email, password).status_code == 302
    add_to_cart(other, products["issue-42"], 6)  # kept in the account, from another device
    add_to_cart(client, products["issue-42"], 7)
    add_to_cart(client, products["issue-41-pdf"], 1)
    assert sign_in(client, email, password).status_code == 302
    with app.app_context():
        lines = dict(db.session.execute(sa.select(CartLine.product_id, CartLine.quantity)).all())
    assert lines == {products["issue-42"]: 10, products["issue-41-pdf"]: 1}
    assert "$128.00" in client.get("/cart").get_data(as_text=True)  # 10 x 12 + 8
    assert "$128.00" in other.get("/cart").get_data(as_text=True)  # the same cart


def test_one_accounts_cart_is_not_anothers(app, client, products, make_user):
    _, mia, password = make_user(email="mia@example.org")
    _, tom, tom_password = make_user(email="tom@example.org")
    sign_in(client, mia, password)
    add_to_cart(client, products["issue-42"], 2)
    other = app.test_client()
    sign_in(other, tom, tom_password)
    assert "Your cart is currently empty." in other.get("/cart").get_data(as_text=True)
    assert (
        other.patch(f"/api/v1/cart/items/{products['issue-42']}", json={"quantity": 1}).status_code
        == 404
    )


def test_a_member_sees_their_orders(app, client, products, make_user, stripe_sim):
    from tests.shop_fixtures import check_out, order_rows

    _, email, password = make_user(email="mia@example.org")
    sign_in(client, email, password)
    add_to_cart(client, products["issue-42"], 1)
    _, session_id = check_out(client, email="mia@example.org")
    stripe_sim.pay(session_id)
    [order] = order_rows(app)
    assert order.number in client.get("/account/orders").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CartLine)) == 0
    stranger = app.test_client()
    _, other, other_password = make_user(email="tom@example.org")
    sign_in(stranger, other, other_password)
    assert order.number not in stranger.get("/account/orders").get_data(as_text=True)
