"""In Chromium: a guest buys two print issues and a PDF, pays, gets the invoice and the file."""

import pytest
import sqlalchemy as sa

from core.db import db
from shop.models import Order, OrderStatus
from tests.helpers import Mailbox
from tests.shop_fixtures import make_product

pytestmark = pytest.mark.browser


def add(page, base, slug):
    page.goto(f"{base}/shop/{slug}")
    page.click("form.add-to-cart button[type=submit]")
    page.wait_for_url(f"{base}/cart")


def test_a_guest_buys_two_print_issues_and_a_pdf_and_downloads_it(
    app, live_server, page, stripe_sim, products, deliver
):
    with app.app_context():
        make_product("issue-40", stock=5, issue_number=40)
        db.session.commit()
    base = live_server.url
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{base}/cart")
    assert "Your cart is currently empty." in page.content()
    page.goto(f"{base}/shop")
    assert page.locator("#sold-out-issue-41").inner_text() == (
        "No more products available for purchase"
    )
    page.goto(f"{base}/shop/issue-41")
    assert "No more products available for purchase" in page.content()
    assert page.locator("form.add-to-cart").count() == 0

    add(page, base, "issue-42")
    add(page, base, "issue-40")
    add(page, base, "issue-41-pdf")
    assert page.locator("#cart-lines tbody tr").count() == 3
    assert page.inner_text("#subtotal") == "$32.00"

    page.click("text=Check out")
    page.fill("#email", "guest@example.org")
    page.fill("#name", "Gus Guest")
    page.fill("#address_line1", "10 Queen Street")
    page.fill("#city", "Toronto")
    page.select_option("#province", "ON")
    page.fill("#postal_code", "M5H 2N2")
    page.click("#review")
    assert page.inner_text("#quote-total") == "$41.00"  # $32 + $9 shipping for 360 g
    page.click("#pay")

    page.wait_for_url(f"{stripe_sim.url}/c/pay/cs_test_*")
    page.check("#card-success")
    page.click("#pay")
    page.wait_for_url(f"{base}/orders/*")
    assert "Paid" in page.inner_text("#order-status")

    with app.app_context():
        order = db.session.scalar(sa.select(Order))
        assert order.status == OrderStatus.paid and order.total == 4100
    [mail] = deliver().to("guest@example.org")
    [invoice] = list(mail.iter_attachments())
    assert invoice.get_content_type() == "application/pdf"
    assert invoice.get_content().startswith(b"%PDF")
    [link] = [u for u in Mailbox.links(mail) if "/downloads/" in u]
    response = page.request.get(link)
    assert response.status == 200
    assert response.body().startswith(b"%PDF")
