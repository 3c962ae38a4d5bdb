"""Fixtures for the shop: a small catalogue, the tax and shipping tables, a way to check out."""

from datetime import date
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from core.db import db
from tests.helpers import csrf_token, post_form

ONTARIO = {
    "email": "buyer@example.org",
    "name": "Bea Buyer",
    "address_line1": "1 Peace Street",
    "city": "Ottawa",
    "province": "ON",
    "postal_code": "K1A 0B1",
    "country": "CA",
}


def make_product(slug, *, price=1200, stock=10, fmt="print", category="printed", **kw):
    from shop.models import Product, ProductFormat, ProductKind, TaxCategory

    product = Product(
        slug=slug,
        kind=ProductKind(kw.pop("kind", "issue")),
        format=ProductFormat(fmt),
        title_en=kw.pop("title", f"Mondial {slug}"),
        title_fr=kw.pop("title_fr", f"Mondial {slug} (fr)"),
        issue_number=kw.pop("issue_number", None),
        published_on=kw.pop("published_on", date(2026, 4, 15)),
        price=price,
        stock=stock if fmt == "print" else None,
        weight_grams=kw.pop("weight_grams", 180 if fmt == "print" else 0),
        tax_category=TaxCategory(category),
        file_name=kw.pop("file_name", ""),
        **kw,
    )
    db.session.add(product)
    db.session.flush()
    return product


@pytest.fixture
def shop_rates(app):
    from shop.cli import seed_rates

    with app.app_context():
        seed_rates()
        db.session.commit()


@pytest.fixture
def products(app, shop_rates, tmp_path):
    """Two print issues (10 copies and sold out) and a PDF; ``{slug: id}``."""
    from shop.cli import demo_pdf

    app.config["SHOP_FILES_DIR"] = str(tmp_path)
    demo_pdf(tmp_path / "issue-41.pdf", "Mondial 41")
    with app.app_context():
        made = [
            make_product("issue-42", stock=10, issue_number=42),
            make_product("issue-41", stock=0, issue_number=41),
            make_product(
                "issue-41-pdf",
                price=800,
                fmt="digital",
                category="standard",
                issue_number=41,
                file_name="issue-41.pdf",
            ),
        ]
        db.session.commit()
        found = {p.slug: p.id for p in made}
    yield found
    app.config.pop("SHOP_FILES_DIR", None)


def add_to_cart(client, product_id, quantity=1):
    return post_form(
        client,
        "/cart/add",
        {"product_id": str(product_id), "quantity": str(quantity)},
        token_from="/shop",
    )


def session_of(response):
    return urlsplit(response.location).path.rsplit("/", 1)[-1]


def check_out(client, **overrides):
    """POST the checkout form with Pay; returns (response, session id or None)."""
    data = {**ONTARIO, "pay": "Pay", **overrides}
    data = {k: v for k, v in data.items() if v is not None}
    data.setdefault("csrf_token", csrf_token(client, "/shop"))
    response = client.post("/checkout", data=data)
    return response, session_of(response) if response.status_code == 303 else None


def order_rows(app):
    from shop.models import Order

    with app.app_context():
        rows = db.session.scalars(sa.select(Order).order_by(Order.id)).all()
        for row in rows:
            _ = row.lines
            db.session.expunge(row)
        return rows


def stock_of(app, product_id):
    from shop.models import Product

    with app.app_context():
        return db.session.get(Product, product_id).stock
