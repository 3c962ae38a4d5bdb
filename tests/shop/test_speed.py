"""The shop's public pages: a fixed number of SQL queries, and a cache that follows the stock."""

import pytest
import sqlalchemy as sa

from core import cache
from core.db import db
from shop.models import Product
from tests.shop_fixtures import add_to_cart, make_product

MOST = 3


def catalogue_of(app, count):
    with app.app_context():
        for n in range(count):
            make_product(f"issue-{n}", issue_number=n, stock=5 + n)
        make_product("issue-pdf", fmt="digital", category="standard")
        db.session.commit()


def cold(app, client, path, count_queries):
    """The queries of one GET with nothing kept in the process (the worst case)."""
    with app.app_context():
        cache.clear_local()
    with count_queries() as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(queries), str(queries)


@pytest.mark.parametrize("path", ["/shop", "/shop/issue-1"])
def test_catalogue_and_product_pages_take_at_most_3_queries_whatever_the_size(
    app, client, shop_rates, count_queries, path
):
    catalogue_of(app, 5)
    few, listing = cold(app, client, path, count_queries)
    catalogue_of_more = 45
    with app.app_context():
        for n in range(100, 100 + catalogue_of_more):
            make_product(f"more-{n}", issue_number=n)
        db.session.commit()
    many, _ = cold(app, client, path, count_queries)
    assert few == many, listing
    assert many <= MOST, listing


def test_the_cart_takes_at_most_3_queries_whatever_its_lines(
    app, client, shop_rates, count_queries
):
    catalogue_of(app, 25)
    with app.app_context():
        ids = db.session.scalars(sa.select(Product.id).order_by(Product.id)).all()
    add_to_cart(client, ids[0], 1)
    one, listing = cold(app, client, "/cart", count_queries)
    for product_id in ids[1:21]:
        add_to_cart(client, product_id, 2)
    many, listing = cold(app, client, "/cart", count_queries)
    assert one == many, listing
    assert many <= MOST, listing


def test_a_signed_in_cart_takes_at_most_3_queries_too(
    app, client, shop_rates, count_queries, signed_in
):
    catalogue_of(app, 10)
    signed_in("member")
    with app.app_context():
        ids = db.session.scalars(sa.select(Product.id)).all()
    for product_id in ids:
        add_to_cart(client, product_id, 1)
    count, listing = cold(app, client, "/cart", count_queries)
    assert count <= MOST, listing


def test_a_kept_catalogue_page_takes_no_query(app, client, shop_rates, count_queries):
    catalogue_of(app, 5)
    client.get("/shop")
    with count_queries() as queries:
        assert client.get("/shop").status_code == 200
    assert len(queries) == 0, str(queries)


def test_the_empty_cart_is_kept_whole_and_a_cart_with_something_in_it_is_not(app, client, products):
    """Everyone a newsletter sends to /cart with nothing in it sees the same page."""
    from flask import template_rendered

    drawn = []

    def record(sender, template, context, **extra):
        drawn.append(template.name)

    template_rendered.connect(record, app)
    try:
        assert "Your cart is currently empty." in client.get("/cart").get_data(as_text=True)
        assert drawn == ["shop/cart.html"]
        again = app.test_client().get("/cart")  # another visitor: the kept page
        assert "Your cart is currently empty." in again.get_data(as_text=True)
        assert drawn == ["shop/cart.html"]

        add_to_cart(client, products["issue-42"], 2)
        mine = client.get("/cart").get_data(as_text=True)
        assert 'id="cart-lines"' in mine and "Your cart is currently empty." not in mine
        assert "Your cart is currently empty." in app.test_client().get("/cart").get_data(
            as_text=True
        )
    finally:
        template_rendered.disconnect(record, app)


def test_the_kept_pages_change_when_the_stock_or_price_does(app, client, shop_rates):
    with app.app_context():
        product_id = make_product("issue-77", stock=1, price=1500).id
        db.session.commit()
    assert "$15.00" in client.get("/shop").get_data(as_text=True)
    page = client.get("/shop/issue-77").get_data(as_text=True)
    assert "No more products available for purchase" not in page
    with app.app_context():
        db.session.get(Product, product_id).stock = 0
        db.session.commit()
    assert "No more products available for purchase" in client.get("/shop").get_data(as_text=True)
    assert "No more products available for purchase" in client.get("/shop/issue-77").get_data(
        as_text=True
    )
    with app.app_context():
        db.session.get(Product, product_id).price = 1800
        db.session.commit()
    assert "$18.00" in client.get("/shop/issue-77").get_data(as_text=True)


def test_a_reservation_shows_on_the_kept_product_page(app, client, products, stripe_sim):
    from tests.shop_fixtures import check_out

    client.get("/shop/issue-42")
    add_to_cart(client, products["issue-42"], 10)
    check_out(client)
    assert "No more products available for purchase" in app.test_client().get(
        "/shop/issue-42"
    ).get_data(as_text=True)
