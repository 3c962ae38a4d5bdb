"""One checkout for issues, a gift and dues: one payment, each its own allocation."""

import sqlalchemy as sa

from core.db import db
from donations.models import Donation, DonationStatus
from members.models import Membership, MembershipStatus
from payments.models import Payment
from shop.models import OrderStatus
from tests.helpers import post_form, sign_in
from tests.shop_fixtures import add_to_cart, check_out, order_rows


def _choose(client, **data):
    return post_form(client, "/cart/extras", {"add": "Add", **data}, token_from="/cart/extras")


def test_issue_gift_and_membership_in_one_checkout(
    app, client, products, funds, tiers, make_user, stripe_sim, monkeypatch, deliver
):
    monkeypatch.setitem(app.config, "GST_HST_NUMBER", "123456789 RT0001")
    _, email, password = make_user(email="mia@example.org", name="Mia Member")
    sign_in(client, email, password)
    add_to_cart(client, products["issue-42"], 1)
    assert _choose(client, gift_amount="25", fund="mondial", tier="individual").status_code == 303
    page = client.get("/cart").get_data(as_text=True)
    assert "A gift: $25.00" in page and "A membership, paid once" in page
    response, session_id = check_out(client, email="mia@example.org")
    assert response.status_code == 303, response.get_data(as_text=True)
    [order] = order_rows(app)
    # Only the issue and its shipping are taxed: $12 printed + $5 shipping at 5 % in Ontario
    assert (order.subtotal, order.shipping, order.tax) == (1200, 500, 85)
    stripe_sim.pay(session_id)
    [order] = order_rows(app)
    assert order.status == OrderStatus.paid
    with app.app_context():
        payment = db.session.get(Payment, order.payment_id)
        allocations = {a.purpose: (a.amount, a.tax) for a in payment.allocations}
        assert allocations["order"] == (1785, 85)
        assert allocations["donation"] == (2500, 0)
        assert sum(a.amount for a in payment.allocations) == payment.amount
        [donation] = db.session.scalars(sa.select(Donation)).all()
        assert donation.status == DonationStatus.paid and donation.payment_id == payment.id
        membership = db.session.scalar(sa.select(Membership))
        assert membership.status == MembershipStatus.current
        assert len(payment.allocations) == 3


def test_a_gift_needs_the_full_address_and_a_membership_an_account(
    app, client, products, funds, tiers
):
    add_to_cart(client, products["issue-41-pdf"], 1)
    _choose(client, gift_amount="10", fund="mondial")
    response, _ = check_out(client, address_line1="", city="")
    assert response.status_code == 400
    _choose(client, tier="individual")
    response, _ = check_out(client)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "please sign in, or choose a password" in text
    assert order_rows(app) == []


def test_a_gift_below_the_limit_is_refused(app, client, products, funds, tiers):
    response = _choose(client, gift_amount="0.10", fund="mondial")
    assert response.status_code == 400


def test_a_visitor_joins_at_checkout_with_a_new_account(
    app, client, products, funds, tiers, stripe_sim, deliver
):
    from core.accounts.models import User

    add_to_cart(client, products["issue-42"], 1)
    _choose(client, tier="individual")
    response, session_id = check_out(
        client, email="newbie@example.org", password="a long enough passphrase"
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    stripe_sim.pay(session_id)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "newbie@example.org"))
        membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == user.id))
        assert membership.status == MembershipStatus.current
    [order] = order_rows(app)
    assert order.user_id == user.id and order.status == OrderStatus.paid
    subjects = sorted(m["Subject"] for m in deliver().to("newbie@example.org"))
    assert "Confirm your email address" in subjects


def test_someone_elses_address_needs_its_password(app, client, products, tiers, make_user):
    make_user(email="taken@example.org", password="the real password!")
    add_to_cart(client, products["issue-42"], 1)
    _choose(client, tier="individual")
    response, _ = check_out(client, email="taken@example.org", password="not the password")
    assert response.status_code == 400
    assert "An account already uses this email address" in response.get_data(as_text=True)
    assert order_rows(app) == []
