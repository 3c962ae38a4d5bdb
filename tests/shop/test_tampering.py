"""What the buyer sends is never a price: tampered fields are ignored or refused."""

from tests.helpers import post_form
from tests.shop_fixtures import add_to_cart, check_out, order_rows


def test_prices_and_totals_in_the_checkout_form_change_nothing(app, client, products):
    add_to_cart(client, products["issue-42"], 1)
    response, _ = check_out(
        client,
        price="1",
        unit_price="1",
        total="1",
        amount="1",
        subtotal="0",
        shipping="0",
        product_id=str(products["issue-41-pdf"]),
        quantity="100",
    )
    assert response.status_code == 303
    [order] = order_rows(app)
    assert (order.subtotal, order.shipping, order.total) == (1200, 500, 1700)
    [line] = order.lines
    assert (line.product_id, line.quantity, line.unit_price) == (products["issue-42"], 1, 1200)


def test_negative_huge_or_unreadable_quantities_are_refused(app, client, products):
    for quantity in ("-1", "0", "1000000000", "abc", "1e3", ""):
        response = add_to_cart(client, products["issue-42"], quantity)
        assert response.status_code in (303, 400), (quantity, response.status_code)
    assert "Your cart is currently empty." in client.get("/cart").get_data(as_text=True)
    add_to_cart(client, products["issue-42"], 1)
    for quantity in ("-5", "21", "abc"):
        response = post_form(
            client,
            "/cart/update",
            {"product_id": products["issue-42"], "quantity": quantity},
            token_from="/cart",
        )
        assert response.status_code == 400, quantity
    assert 'value="1"' in client.get("/cart").get_data(as_text=True)


def test_unknown_products_answer_404(app, client, products):
    for product_id in ("999999", "abc", "-1", "99999999999999999999", ""):
        response = add_to_cart(client, product_id)
        assert response.status_code == 404, product_id
    assert client.get("/shop/no-such-issue").status_code == 404


def test_a_cart_made_up_in_the_cookie_is_read_as_product_ids_only(app, client, products):
    with client.session_transaction() as session:
        session["cart"] = {
            "p": {
                str(products["issue-42"]): 2,
                "x": 5,
                "999": 3,
                str(products["issue-41-pdf"]): -4,
            },
            "price": 1,
        }
    page = client.get("/cart").get_data(as_text=True)
    assert "$24.00" in page
    response, _ = check_out(client)
    [order] = order_rows(app)
    assert order.subtotal == 2400


def test_a_huge_quantity_in_the_cookie_is_not_charged(app, client, products):
    with client.session_transaction() as session:
        session["cart"] = {"p": {str(products["issue-42"]): 10**9}}
    assert "Your cart is currently empty." in client.get("/cart").get_data(as_text=True)
    response, _ = check_out(client)
    assert response.status_code in (200, 400)
    assert order_rows(app) == []
