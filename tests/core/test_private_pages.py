"""Personal pages are never stored by a browser or a proxy; signed links do one thing only."""

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from core import clock
from core.db import db
from core.mail.services import preferences_token
from core.tokens import InvalidLink, make_token, read_token
from donations.models import MonthlyGift, Receipt
from donations.services import manage_token
from tests.helpers import sign_in


@pytest.fixture
def links(app, give, stripe_sim, make_user):
    """A paid one-time gift (thanks page, receipt) and a monthly gift (manage page)."""
    response, once = give()
    stripe_sim.pay(once)
    response, monthly = give(frequency="monthly", other_amount="15")
    stripe_sim.pay(monthly)
    with app.app_context():
        receipt = db.session.scalars(sa.select(Receipt)).first()
        gift = db.session.scalar(sa.select(MonthlyGift))
        return {
            "thanks": f"/donate/thanks?session_id={once}",
            "receipt": f"/receipts/{receipt.token}.pdf",
            "manage": f"/donate/manage/{manage_token(gift)}",
            "preferences": f"/email-preferences/{preferences_token('dana@example.org')}",
            "unsubscribe": f"/unsubscribe/{preferences_token('dana@example.org')}",
        }


def as_role(app, make_user, role):
    client = app.test_client()
    if role:
        _, email, password = make_user(email=f"{role}-cache@example.org", role=role)
        assert sign_in(client, email, password).status_code == 302
    return client


PRIVATE = [
    (None, "thanks"),
    (None, "receipt"),
    (None, "manage"),
    (None, "preferences"),
    (None, "unsubscribe"),
    (None, "/verify-email/not-a-real-token"),
    (None, "/reset-password/not-a-real-token"),
    (None, "/account"),  # the redirect to sign in, too
    ("member", "/account"),
    ("member", "/account/settings"),
    ("member", "/account/gifts"),
    ("member", "/donate"),  # filled in with the member's name and address
    ("member", "/"),
    ("treasurer", "/treasurer/"),
    ("treasurer", "/treasurer/donations"),
    ("treasurer", "/treasurer/donations.csv"),
    ("admin", "/admin/"),
    ("admin", "/admin/fund/"),
    ("admin", "/admin/user/"),
    (None, "/admin/"),
    (None, "/treasurer/donations"),
]


def test_personal_pages_carry_no_store(app, make_user, links):
    clients = {role: as_role(app, make_user, role) for role in {role for role, _ in PRIVATE}}
    stored = []
    for role, page in PRIVATE:
        response = clients[role].get(links.get(page, page))
        assert response.status_code < 500, (role, page)
        if response.headers.get("Cache-Control") != "no-store":
            stored.append((role, page, response.status_code, response.headers.get("Cache-Control")))
    assert stored == []


@pytest.mark.parametrize("page", ["/", "/donate", "/funds", "/funds/general", "/login"])
def test_public_pages_for_visitors_may_be_cached(client, funds, page):
    response = client.get(page)
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_stylesheets_stay_cacheable_for_staff(app, make_user):
    client = as_role(app, make_user, "admin")
    admin_css = "/admin/static/bootstrap/bootstrap4/css/bootstrap.min.css"
    for path in ("/static/css/site.css", admin_css):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" not in response.headers.get("Cache-Control", ""), path


# -- preference links: valid for years, and for the preferences only ----------------------------


def token_routes(app):
    """Every route that takes a ``<token>``, whatever it is for."""
    for rule in app.url_map.iter_rules():
        if "token" in rule.arguments:
            yield rule


def test_a_preferences_link_stays_valid(app, client):
    with app.app_context():
        token = preferences_token("reader@example.org")
    clock.advance(days=800)
    assert client.get(f"/email-preferences/{token}").status_code == 200
    assert client.get(f"/unsubscribe/{token}").status_code == 200


def test_a_preferences_link_opens_nothing_but_the_preferences(app, client, links):
    with app.app_context():
        token = preferences_token("dana@example.org")
    from tests.helpers import csrf_token

    form_token = csrf_token(client, "/login")
    tried = []
    for rule in token_routes(app):
        # Other parts of the address (a campaign's slug, …) get a value that names nothing.
        values = {argument: "unknown" for argument in rule.arguments} | {"token": token}
        path = rule.build(values, append_unknown=False)[1]
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(path, method=method, data={"csrf_token": form_token})
        if rule.endpoint in {"mail.preferences", "mail.unsubscribe"}:
            assert response.status_code == 200, path
            continue
        tried.append(rule.endpoint)
        assert response.status_code in {400, 404}, (path, response.status_code)
        assert "dana@example.org" not in response.get_data(as_text=True)
    # The list grows with every feature; these are here today.
    assert {
        "accounts.verify_email",
        "accounts.reset_password",
        "accounts.confirm_email",
        "donations.manage",
        "donations.receipt_pdf",
        "payments.retry",
        "involve.confirm",
    } <= set(tried)


PURPOSES = [
    "verify-email",
    "reset-password",
    "change-email",
    "resend-verification",
    "monthly-gift",
]


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_preferences_token_is_no_token_for_anything_else(app, purpose):
    with app.app_context():
        token = preferences_token("dana@example.org")
        with pytest.raises(InvalidLink):
            read_token(purpose, token)
        # Nor the other way round.
        with pytest.raises(InvalidLink):
            read_token("email-preferences", make_token(purpose, "dana@example.org"))


def test_the_preferences_page_shows_the_address_and_nothing_else(app, client, links):
    page = client.get(links["preferences"]).get_data(as_text=True)
    assert "dana@example.org" in page
    for private in ("Dana Donor", "Elgin", "K1P", "$25", "/donate/manage/", "/receipts/"):
        assert private not in page
    path = urlsplit(links["preferences"]).path
    assert path.startswith("/email-preferences/")
