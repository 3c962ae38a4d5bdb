"""Confirmation emails: sign-in never sends one; the resend button is limited per account
and per mailbox (one per 10 minutes, five a day), so nobody can flood someone's inbox."""

import re
from urllib.parse import urlsplit

import sqlalchemy as sa
from limits import parse_many

from core.accounts.models import User
from core.db import db
from core.extensions import limiter
from core.throttle import account_key
from tests.helpers import Mailbox, post_form

PASSWORD = "correct horse battery"
VICTIM = "victim@example.org"


def register(client, email=VICTIM, password=PASSWORD):
    return post_form(
        client,
        "/register",
        {
            "name": "Someone",
            "email": email,
            "password": password,
            "confirm": password,
            "language": "en",
        },
    )


def sign_in(client, email=VICTIM, password=PASSWORD):
    return post_form(client, "/login", {"email": email, "password": password})


def resend(client, page):
    token = re.search(r'name="token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return post_form(client, "/verify-email/resend", {"token": token}, token_from="/login")


def confirmation_path(message):
    [link] = [u for u in Mailbox.links(message) if "/verify-email/" in u]
    return urlsplit(link).path


def user_id(app, email=VICTIM):
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.email == email))


def ten_minutes_pass(app, email=VICTIM):
    """The shortest window ends, as it would ten minutes later; the daily count stays."""
    with app.app_context():
        prefix = app.config["RATELIMIT_KEY_PREFIX"]
        short = parse_many(app.config["VERIFY_EMAIL_LIMITS"])[0]
        assert short.get_expiry() == 600
        limiter.limiter.clear(short, prefix, "verify-account", str(user_id(app, email)))
        limiter.limiter.clear(short, prefix, "verify-address", account_key(email))


def test_signing_in_to_an_unconfirmed_account_says_so_and_sends_nothing(app, client, deliver):
    assert register(client).status_code == 200
    assert len(deliver().to(VICTIM)) == 1
    deliver().clear()
    for _ in range(25):
        page = sign_in(client)
        assert page.status_code == 400
        html = page.get_data(as_text=True)
        assert "Your email address is not confirmed yet" in html
        assert 'id="resend-verification"' in html
    assert deliver().to(VICTIM) == []
    assert client.get("/account").status_code == 302  # still not signed in


def test_the_resend_button_sends_at_most_one_link_per_ten_minutes_and_five_a_day(
    app, client, deliver
):
    register(client)  # the first link: one of the day's five
    page = sign_in(client)
    too_soon = resend(client, page)
    assert too_soon.status_code == 429
    assert "You can ask for another one in 10 minutes." in too_soon.get_data(as_text=True)
    assert len(deliver().to(VICTIM)) == 1

    for sent in range(2, 6):
        ten_minutes_pass(app)
        again = resend(client, page)
        assert again.status_code == 200, sent
        assert "We have sent a message to victim@example.org" in again.get_data(as_text=True)
        assert len(deliver().to(VICTIM)) == sent
        assert resend(client, page).status_code == 429  # and not twice in ten minutes

    ten_minutes_pass(app)
    sixth = resend(client, page)
    assert sixth.status_code == 429
    assert "You can ask for another one in 24 hours." in sixth.get_data(as_text=True)
    assert len(deliver().to(VICTIM)) == 5

    # The newest link works like the first.
    [*_, last] = deliver().to(VICTIM)
    assert client.get(confirmation_path(last)).status_code == 302
    assert sign_in(client).status_code == 302


def test_registering_the_address_again_shares_the_mailboxs_allowance(app, client, deliver):
    register(client)
    for _ in range(3):  # the page looks the same, but no email goes out
        response = register(client, password="another password 123")
        assert response.status_code == 200
        assert "Check your email" in response.get_data(as_text=True)
    assert len(deliver().to(VICTIM)) == 1
    ten_minutes_pass(app)
    register(client)
    [*_, notice] = deliver().to(VICTIM)
    assert notice["Subject"] == "You already have an account"


def test_changing_to_an_address_is_limited_like_confirming_one(app, client, make_user, deliver):
    _, email, password = make_user(email="member@example.org")
    post_form(client, "/login", {"email": email, "password": password})

    def change():
        return post_form(
            client,
            "/account/email",
            {"em-email": VICTIM, "em-password": password},
            token_from="/account/settings",
        )

    assert change().status_code == 302
    refused = change()
    assert refused.status_code == 400
    assert "confirmation link very recently" in refused.get_data(as_text=True)
    assert len(deliver().to(VICTIM)) == 1


def test_a_resend_token_is_only_good_for_its_account(app, client, deliver):
    register(client)
    bad = post_form(client, "/verify-email/resend", {"token": "forged"}, token_from="/login")
    assert bad.status_code == 400
    no_token = post_form(client, "/verify-email/resend", {}, token_from="/login")
    assert no_token.status_code == 400
    assert len(deliver().to(VICTIM)) == 1


def test_a_confirmed_account_gets_no_new_link(app, client, deliver):
    register(client)
    page = sign_in(client)
    [message] = deliver().to(VICTIM)
    assert client.get(confirmation_path(message)).status_code == 302
    ten_minutes_pass(app)
    response = resend(client, page)
    assert response.status_code == 302 and response.location.endswith("/login")
    assert len(deliver().to(VICTIM)) == 1


def test_the_limits_are_settings(app):
    limits = parse_many(app.config["VERIFY_EMAIL_LIMITS"])
    assert [(item.amount, item.get_expiry()) for item in limits] == [(1, 600), (5, 86400)]
