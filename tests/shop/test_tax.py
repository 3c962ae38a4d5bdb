"""GST/HST by province of delivery on goods and shipping, per tax category, with and without
a registration number; and the invoice that shows it."""

from io import BytesIO

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from core.db import db
from shop import pricing
from shop.models import TaxRate
from tests.shop_fixtures import add_to_cart, check_out, make_product, order_rows

NUMBER = "123456789 RT0001"

# province, category, (tax on $10 of goods + tax on $5 of shipping), kind shown
CASES = [
    ("ON", "standard", 130 + 65, "HST"),
    ("ON", "printed", 50 + 25, "HST-rebated"),
    ("ON", "zero_rated", 0, None),
    ("NS", "standard", 140 + 70, "HST"),
    ("NS", "printed", 50 + 25, "HST-rebated"),
    ("NB", "standard", 150 + 75, "HST"),
    ("NB", "printed", 50 + 25, "HST-rebated"),
    ("NL", "standard", 150 + 75, "HST"),
    ("PE", "printed", 50 + 25, "HST-rebated"),
    ("PE", "standard", 150 + 75, "HST"),
    ("AB", "standard", 50 + 25, "GST"),
    ("AB", "printed", 50 + 25, "GST"),
    ("AB", "zero_rated", 0, None),
    ("QC", "standard", 50 + 25, "GST"),
    ("BC", "printed", 50 + 25, "GST"),
    ("YT", "standard", 50 + 25, "GST"),
]


@pytest.fixture
def registered(app, monkeypatch):
    monkeypatch.setitem(app.config, "GST_HST_NUMBER", NUMBER)


def _quote(app, category, province, country="CA", price=1000, fmt="print"):
    with app.app_context():
        product = make_product(f"p-{category}-{fmt}", price=price, category=category, fmt=fmt)
        found = pricing.quote([(product, 1)], country=country, province=province)
        db.session.rollback()
        return found


@pytest.mark.parametrize(("province", "category", "tax", "kind"), CASES)
def test_tax_on_goods_and_shipping_by_province_and_category(
    app, shop_rates, registered, province, category, tax, kind
):
    quote = _quote(app, category, province)
    assert quote.shipping == 500
    assert quote.tax == tax
    assert [k for k, _ in quote.taxes] == ([kind] if kind else [])
    assert quote.total == 1000 + 500 + tax


@pytest.mark.parametrize(("province", "category", "tax", "kind"), CASES)
def test_no_tax_without_a_registration_number(
    app, shop_rates, monkeypatch, province, category, tax, kind
):
    monkeypatch.setitem(app.config, "GST_HST_NUMBER", None)
    quote = _quote(app, category, province)
    assert (quote.tax, quote.taxes, quote.total) == (0, {}, 1500)


@pytest.mark.parametrize("country", ["US", "FR", "JP"])
@pytest.mark.parametrize("category", ["standard", "printed", "zero_rated"])
def test_deliveries_outside_canada_are_zero_rated(app, shop_rates, registered, country, category):
    quote = _quote(app, category, "", country=country)
    assert quote.tax == 0
    assert quote.shipping == {"US": 900}.get(country, 1400)


@pytest.mark.parametrize(("province", "tax"), [("ON", 104), ("AB", 40), ("NS", 112), ("QC", 40)])
def test_a_digital_only_order_is_taxed_where_the_buyer_lives(
    app, shop_rates, registered, province, tax
):
    quote = _quote(app, "standard", province, price=800, fmt="digital")
    assert (quote.shipping, quote.tax) == (0, tax)


def test_shipping_follows_the_goods_it_carries_pro_rata(app, shop_rates, registered):
    with app.app_context():
        book = make_product("book", price=1000, category="printed")
        poster = make_product("poster", price=1000, category="standard")
        quote = pricing.quote([(book, 1), (poster, 1)], country="CA", province="ON")
        db.session.rollback()
    assert quote.shipping == 900  # 360 g
    # goods: 5 % and 13 %; shipping 450 + 450 at the same rates, rounded half up
    assert quote.taxes == {("HST-rebated", 500): 50 + 23, ("HST", 1300): 130 + 59}


def test_staff_may_change_a_rate_and_the_next_quote_uses_it(app, shop_rates, registered):
    with app.app_context():
        db.session.scalar(sa.select(TaxRate).where(TaxRate.province == "ON")).provincial = 900
        db.session.commit()
    assert _quote(app, "standard", "ON").tax == 140 + 70


def test_the_invoice_shows_each_tax_and_the_registration_number(
    app, client, products, stripe_sim, registered, deliver
):
    add_to_cart(client, products["issue-42"], 1)
    add_to_cart(client, products["issue-41-pdf"], 1)
    _, session_id = check_out(client)
    [order] = order_rows(app)
    # $12 printed (5 %) + $8 PDF standard (13 %) + $5 shipping of the print issue (5 %)
    assert order.tax == 60 + 104 + 25
    assert {t["name"] for t in order.tax_lines} == {"HST, provincial part rebated", "HST"}
    stripe_sim.pay(session_id)
    pdf = client.get(f"/orders/{order.token}/invoice.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf.data)).pages)
    assert NUMBER in text
    assert "HST 13 %" in text and "HST, provincial part rebated 5 %" in text
    assert "$0.85" in text and "$1.04" in text and "$26.89" in text


def test_stripes_page_shows_itemised_lines_card_only_in_the_buyers_language(
    app, client, products, stripe_sim, registered
):
    from payments.models import StripeAttempt

    add_to_cart(client, products["issue-42"], 2)
    client.set_cookie("lang", "fr")
    check_out(client)
    with app.app_context():
        params = db.session.scalar(sa.select(StripeAttempt.params))
    names = [(i["price_data"]["product_data"]["name"], i["quantity"]) for i in params["line_items"]]
    assert names == [
        ("Mondial issue-42 (fr)", 2),
        ("Livraison", 1),
        ("TVH, partie provinciale remboursée 5 %", 1),
    ]
    assert params["payment_method_types"] == ["card"] and params["locale"] == "fr"
    total = sum(i["price_data"]["unit_amount"] * i["quantity"] for i in params["line_items"])
    [order] = order_rows(app)
    assert total == order.total == 2400 + 900 + 165
