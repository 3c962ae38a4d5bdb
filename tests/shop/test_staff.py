"""The treasurer's shop screens: ship, packing slip, reship, refund lines, resend links."""

from io import BytesIO

import sqlalchemy as sa
from pypdf import PdfReader

from core.audit import AuditEntry
from core.db import db
from shop.models import OrderStatus
from tests.helpers import post_form
from tests.shop_fixtures import add_to_cart, check_out, order_rows, stock_of


def _paid(app, products, stripe_sim, copies=3, pdf=False):
    buyer = app.test_client()
    add_to_cart(buyer, products["issue-42"], copies)
    if pdf:
        add_to_cart(buyer, products["issue-41-pdf"], 1)
    _, session_id = check_out(buyer)
    stripe_sim.pay(session_id)
    [order] = order_rows(app)
    return order


def test_visitors_and_members_are_kept_out(app, client, products, signed_in):
    assert client.get("/treasurer/orders").status_code == 302
    signed_in("member")
    assert client.get("/treasurer/orders").status_code == 403


def test_ship_with_a_tracking_number_and_the_buyer_is_told(
    app, client, products, stripe_sim, signed_in, deliver
):
    order = _paid(app, products, stripe_sim)
    signed_in("treasurer")
    listing = client.get("/treasurer/orders").get_data(as_text=True)
    assert order.number in listing
    page = f"/treasurer/orders/{order.id}"
    slip = client.get(f"{page}/packing-slip.pdf")
    text = PdfReader(BytesIO(slip.data)).pages[0].extract_text()
    assert order.number in text and "1 Peace Street" in text
    response = post_form(
        client, f"{page}/ship", {"tracking_number": "CP123456789CA"}, token_from=page
    )
    assert response.status_code == 303
    [order] = order_rows(app)
    assert order.status == OrderStatus.shipped and order.tracking_number == "CP123456789CA"
    subjects = [m["Subject"] for m in deliver().to("buyer@example.org")]
    assert f"Your Mondial order {order.number} is on its way" in subjects
    post_form(client, f"{page}/ship", {"tracking_number": "again"}, token_from=page)
    assert (
        len(
            [
                s
                for s in [m["Subject"] for m in deliver().to("buyer@example.org")]
                if "on its way" in s
            ]
        )
        == 1
    )


def test_reship_a_lost_copy_takes_stock_and_no_money(app, client, products, stripe_sim, signed_in):
    order = _paid(app, products, stripe_sim, copies=1)
    signed_in("treasurer")
    page = f"/treasurer/orders/{order.id}"
    post_form(client, f"{page}/ship", {"tracking_number": ""}, token_from=page)
    post_form(client, f"{page}/reship", {"line": order.lines[0].id, "copies": "1"}, token_from=page)
    [after] = order_rows(app)
    assert after.lines[0].reshipped == 1 and after.total == order.total
    assert stock_of(app, products["issue-42"]) == 8
    with app.app_context():
        assert db.session.scalar(
            sa.select(AuditEntry.id).where(AuditEntry.action == "order.reshipped")
        )


def test_partial_refund_of_a_line_with_and_without_restock(
    app, client, products, stripe_sim, signed_in
):
    order = _paid(app, products, stripe_sim, copies=3)
    line = order.lines[0].id
    signed_in("treasurer")
    page = f"/treasurer/orders/{order.id}"
    post_form(client, f"{page}/refund", {f"line-{line}": "1", "restock": "y"}, token_from=page)
    [order] = order_rows(app)
    assert (order.status, order.refunded) == (OrderStatus.partially_refunded, 1200)
    assert stock_of(app, products["issue-42"]) == 8
    post_form(client, f"{page}/refund", {f"line-{line}": "1"}, token_from=page)
    [order] = order_rows(app)
    assert order.refunded == 2400 and stock_of(app, products["issue-42"]) == 8
    response = post_form(client, f"{page}/refund", {f"line-{line}": "5"}, token_from=page)
    assert "That is more than what is left to refund." in client.get(page).get_data(as_text=True)
    del response


def test_resend_the_download_links(app, client, products, stripe_sim, signed_in, deliver):
    order = _paid(app, products, stripe_sim, copies=1, pdf=True)
    deliver()
    signed_in("treasurer")
    page = f"/treasurer/orders/{order.id}"
    post_form(client, f"{page}/resend", {}, token_from=page)
    mail = deliver().to("buyer@example.org")
    assert len(mail) == 2


def test_download_links_stop_after_the_limit_and_the_days(
    app, client, products, stripe_sim, deliver
):
    from core import clock
    from tests.helpers import Mailbox

    _paid(app, products, stripe_sim, copies=1, pdf=True)
    [mail] = deliver().to("buyer@example.org")
    [link] = [u for u in Mailbox.links(mail) if "/downloads/" in u]
    path = link.replace(app.config["BASE_URL"], "")
    for _ in range(5):
        assert client.get(path).status_code == 200
    assert client.get(path).status_code == 409
    clock.advance(days=8)
    assert client.get(path).status_code == 400


def test_settings_keep_the_checkout_within_stripes_range(app, client, signed_in):
    signed_in("treasurer")
    page = "/treasurer/shop/settings"
    bad = {"checkout_minutes": "29", "download_days": "7", "download_limit": "5"}
    assert post_form(client, page, bad).status_code == 400
    good = {**bad, "checkout_minutes": "45"}
    assert post_form(client, page, good).status_code == 303
    from shop import services

    with app.test_request_context():
        assert services.checkout_lifetime().total_seconds() == 45 * 60
