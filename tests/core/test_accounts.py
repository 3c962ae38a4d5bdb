"""Accounts end to end through real emails caught by an SMTP server."""

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from argon2 import extract_parameters

from core import clock
from core.accounts.models import LoginSession, User
from core.db import db
from tests.helpers import post_form, sign_in

PASSWORD = "correct horse battery"


def path_of(url):
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def only_link(message, fragment):
    links = [link for link in message_links(message) if fragment in link]
    assert len(links) == 1, links
    return path_of(links[0])


def message_links(message):
    from tests.helpers import Mailbox

    return Mailbox.links(message)


def register(client, email="ana@example.org", password=PASSWORD, language="en"):
    return post_form(
        client,
        "/register",
        {
            "name": "Ana",
            "email": email,
            "password": password,
            "confirm": password,
            "language": language,
        },
    )


def test_register_verify_sign_in_sign_out_and_reset(client, deliver):
    response = register(client)
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)

    mailbox = deliver()
    [verification] = mailbox.to("ana@example.org")
    assert verification["Subject"] == "Confirm your email address"
    assert verification["Message-ID"]
    assert verification.get_body(("html",)) is not None

    # Not confirmed yet: a correct password does not sign in, and says why.
    response = post_form(client, "/login", {"email": "ana@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert "Your email address is not confirmed yet" in response.get_data(as_text=True)

    response = client.get(only_link(verification, "/verify-email/"))
    assert response.status_code == 302 and response.location.endswith("/login")

    response = post_form(client, "/login", {"email": "ana@example.org", "password": PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/account")
    account = client.get("/account")
    assert account.status_code == 200
    assert "ana@example.org" in account.get_data(as_text=True)

    response = post_form(client, "/logout", {}, token_from="/account")
    assert response.status_code == 302
    assert client.get("/account").status_code == 302  # back to the sign-in page

    mailbox.clear()
    response = post_form(client, "/reset-password", {"email": "ana@example.org"})
    assert "If an account exists" in response.get_data(as_text=True)
    [reset] = deliver().to("ana@example.org")
    reset_path = only_link(reset, "/reset-password/")
    new_password = "a brand new passphrase"
    response = post_form(client, reset_path, {"password": new_password, "confirm": new_password})
    assert response.status_code == 302 and response.location.endswith("/login")

    # The link works once.
    again = client.get(reset_path)
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)

    wrong = post_form(client, "/login", {"email": "ana@example.org", "password": PASSWORD})
    assert "Wrong email or password" in wrong.get_data(as_text=True)
    right = post_form(client, "/login", {"email": "ana@example.org", "password": new_password})
    assert right.status_code == 302


def test_registering_a_taken_address_looks_the_same_and_tells_the_owner(client, make_user, deliver):
    make_user(email="taken@example.org")
    response = register(client, email="taken@example.org")
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    [notice] = deliver().to("taken@example.org")
    assert notice["Subject"] == "You already have an account"


def test_sign_in_does_not_reveal_which_addresses_exist(client, make_user):
    make_user(email="known@example.org")
    unknown = post_form(client, "/login", {"email": "nobody@example.org", "password": "whatever12"})
    wrong = post_form(client, "/login", {"email": "known@example.org", "password": "whatever12"})
    assert unknown.status_code == wrong.status_code == 400
    assert "Wrong email or password" in unknown.get_data(as_text=True)
    assert "Wrong email or password" in wrong.get_data(as_text=True)


def test_reset_does_not_reveal_which_addresses_exist(client, make_user, deliver):
    make_user(email="known@example.org")
    known = post_form(client, "/reset-password", {"email": "known@example.org"})
    unknown = post_form(client, "/reset-password", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda r, e: r.get_data(as_text=True).replace(e, "")  # noqa: E731
    assert strip(known, "known@example.org") == strip(unknown, "nobody@example.org")
    assert deliver().to("nobody@example.org") == []


def test_reset_link_expires_after_an_hour(client, make_user, deliver):
    make_user(email="late@example.org")
    post_form(client, "/reset-password", {"email": "late@example.org"})
    [reset] = deliver().to("late@example.org")
    clock.advance(minutes=61)
    response = client.get(only_link(reset, "/reset-password/"))
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_production_argon2id_parameters_from_a_stored_hash(app, client, deliver):
    """The testing config hashes cheaply; production must meet OWASP's floor for argon2id."""
    from config import ProductionConfig

    production_like = {
        "ARGON2_TIME_COST": ProductionConfig.ARGON2_TIME_COST,
        "ARGON2_MEMORY_COST": ProductionConfig.ARGON2_MEMORY_COST,
        "ARGON2_PARALLELISM": ProductionConfig.ARGON2_PARALLELISM,
    }
    saved = {key: app.config[key] for key in production_like}
    app.config.update(production_like)
    try:
        register(client, email="strong@example.org")
    finally:
        app.config.update(saved)
    with app.app_context():
        stored = db.session.scalar(
            sa.select(User.password_hash).where(User.email == "strong@example.org")
        )
    parameters = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert parameters.type.name == "ID"
    assert parameters.memory_cost >= 19 * 1024  # KiB
    assert parameters.time_cost >= 2
    assert parameters.parallelism >= 1


def test_change_password_signs_out_other_devices(app, make_user):
    _, email, password = make_user(email="two@example.org")
    laptop, phone = app.test_client(), app.test_client()
    for browser in (laptop, phone):
        assert sign_in(browser, email, password).status_code == 302
    new = "another long passphrase"
    response = post_form(
        laptop,
        "/account/password",
        {"pw-current_password": password, "pw-password": new, "pw-confirm": new},
        token_from="/account/settings",
    )
    assert response.status_code == 302
    assert laptop.get("/account").status_code == 200  # this browser got a new session
    assert phone.get("/account").status_code == 302  # the other one is signed out
    with app.app_context():
        live = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(LoginSession)
            .where(LoginSession.revoked_at.is_(None))
        )
    assert live == 1


def test_change_email_needs_the_new_address_confirmed(client, make_user, deliver):
    _, email, password = make_user(email="old@example.org")
    post_form(client, "/login", {"email": email, "password": password})
    response = post_form(
        client,
        "/account/email",
        {"em-email": "new@example.org", "em-password": password},
        token_from="/account/settings",
    )
    assert response.status_code == 302
    [confirm] = deliver().to("new@example.org")
    assert client.get(only_link(confirm, "/account/confirm-email/")).status_code == 302
    assert "new@example.org" in client.get("/account").get_data(as_text=True)
    [notice] = deliver().to("old@example.org")
    assert "new@example.org" in notice.get_body(("plain",)).get_content()


def test_wrong_current_password_changes_nothing(client, make_user):
    _, email, password = make_user(email="keep@example.org")
    post_form(client, "/login", {"email": email, "password": password})
    response = post_form(
        client,
        "/account/password",
        {"pw-current_password": "not my password", "pw-password": "x" * 12, "pw-confirm": "x" * 12},
        token_from="/account/settings",
    )
    assert response.status_code == 400
    assert "That password is not right" in response.get_data(as_text=True)


# -- invalid forms answer 400 with their errors ------------------------------------------------

REGISTRATION = {
    "name": "Ana",
    "email": "ana@example.org",
    "password": PASSWORD,
    "confirm": PASSWORD,
    "language": "en",
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "<b>Bold</b>"}, "no line breaks, control characters, &lt; or &gt;"),
        ({"name": "Ana\r\nBcc: everyone@example.org"}, "no line breaks"),
        ({"name": "Ana\x85"}, "no line breaks"),
        ({"email": "not an address"}, "Please enter a valid email address."),
        ({"email": "m\u0435mber@example.org"}, "mixes letters from different alphabets"),
        ({"password": "short", "confirm": "short"}, "Choose a password of 10 to 128 characters."),
        ({"confirm": "something else entirely"}, "The passwords differ."),
    ],
)
def test_an_invalid_registration_answers_400_with_the_errors(
    app, client, deliver, changes, message
):
    response = post_form(client, "/register", {**REGISTRATION, **changes})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    assert deliver().messages == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "", "password": PASSWORD}, "This field is required."),
        ({"email": "not an address", "password": PASSWORD}, "Please enter a valid email address."),
        ({"email": "known@example.org", "password": ""}, "This field is required."),
        ({"email": "known@example.org", "password": "not the password"}, "Wrong email or password"),
    ],
)
def test_an_invalid_sign_in_answers_400_with_the_errors(client, make_user, data, message):
    make_user(email="known@example.org", password=PASSWORD)
    response = post_form(client, "/login", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_the_forms_answer_200_when_shown(client):
    assert client.get("/register").status_code == 200
    assert client.get("/login").status_code == 200


# -- one address, however it is typed ------------------------------------------------------------


def test_a_look_alike_address_cannot_become_a_second_account(app, client, make_user, deliver):
    make_user(email="member@example.org")
    cyrillic = post_form(client, "/register", {**REGISTRATION, "email": "m\u0435mber@example.org"})
    assert cyrillic.status_code == 400
    assert "Please type it again using one alphabet" in cyrillic.get_data(as_text=True)
    # Fullwidth and capital letters are the same address: the owner hears about it.
    typed = "ＭＥＭＢＥＲ@Example.ORG"
    fullwidth = post_form(client, "/register", {**REGISTRATION, "email": typed})
    assert fullwidth.status_code == 200
    [notice] = deliver().to("member@example.org")
    assert notice["Subject"] == "You already have an account"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_signing_in_with_the_address_typed_differently(client, make_user):
    _, _, password = make_user(email="member@example.org")
    response = post_form(client, "/login", {"email": " Ｍember@EXAMPLE.org", "password": password})
    assert response.status_code == 302


def test_the_command_line_refuses_a_look_alike_address(app):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "\u0430dmin@example.org",
            "--role",
            "admin",
            "--password",
            "long enough password",
        ]
    )
    assert result.exit_code != 0
    assert "alphabets" in result.output
