"""Who may open the treasurer's pages, and the second factor that treasurers and admins need."""

import re

import pytest
import sqlalchemy as sa

from core.accounts.models import RecoveryCode, User
from core.db import db
from tests.helpers import TOTP_SECRETS, post_form, sign_in, totp_code


def _example(converter):
    """A value the converter accepts: the first of an ``any(...)``, else 1."""
    items = getattr(converter, "items", None)
    return sorted(items)[0] if items else 1


def treasurer_urls(app):
    """Every route under /treasurer (GET and POST), with made-up arguments filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/treasurer") or rule.endpoint.endswith(".static"):
            continue
        values = {arg: _example(rule._converters[arg]) for arg in rule.arguments}
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return found


def test_the_walk_finds_the_treasurers_pages(app):
    urls = {url for _, url in treasurer_urls(app)}
    for path in ("/treasurer/", "/treasurer/payouts", "/treasurer/payouts/1", "/treasurer/audit"):
        assert path in urls


def _call(client, method, url):
    if method == "GET":
        return client.get(url)
    return post_form(client, url, {}, token_from="/login")


def test_visitors_are_sent_to_sign_in_everywhere(app):
    client = app.test_client()
    for method, url in treasurer_urls(app):
        response = _call(client, method, url)
        assert response.status_code == 302, (method, url, response.status_code)
        assert response.location.startswith("/login?next="), (method, url)


@pytest.mark.parametrize("role", ["member", "moderator"])
def test_members_and_moderators_are_refused_everywhere(app, make_user, role):
    client = app.test_client()
    _, email, password = make_user(email=f"{role}@example.org", role=role)
    assert sign_in(client, email, password).status_code == 302
    for method, url in treasurer_urls(app):
        response = _call(client, method, url)
        assert response.status_code == 403, (role, method, url, response.status_code)


def test_the_api_answers_401_and_403(app, make_user):
    client = app.test_client()
    assert client.get("/api/v1/treasurer/payouts").status_code == 401
    _, email, password = make_user(email="m@example.org")
    sign_in(client, email, password)
    assert client.get("/api/v1/treasurer/payouts").status_code == 403
    assert client.get("/api/v1/treasurer/payouts/1").status_code == 403


def test_the_api_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/treasurer/payouts" in paths
    assert "/api/v1/treasurer/payouts/{payout_id}" in paths


@pytest.mark.parametrize("role", ["treasurer", "admin"])
def test_staff_enrol_an_app_on_first_sign_in_then_need_its_code(app, make_user, role):
    client = app.test_client()
    _, email, password = make_user(email=f"{role}@example.org", role=role)
    first = post_form(client, "/login", {"email": email, "password": password})
    assert first.status_code == 302 and first.location.endswith("/login/two-factor/setup")
    assert client.get("/treasurer/").status_code == 302  # not signed in yet
    page = client.get("/login/two-factor/setup").get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn on the server
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    wrong = post_form(client, "/login/two-factor/setup", {"code": "000000"})
    assert wrong.status_code == 400
    enrol_code = totp_code(email, secret)
    done = post_form(client, "/login/two-factor/setup", {"code": enrol_code})
    assert done.status_code == 200
    codes = re.findall(
        r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.get_data(as_text=True)
    )
    assert len(codes) == 10
    assert client.get("/treasurer/").status_code == 200
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        stored = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
        assert user.totp_secret == secret and len(stored) == 10
        assert not any(code.replace("-", "") in h for code in codes for h in stored)
    TOTP_SECRETS[email] = secret

    # The next time: password, then a code; a code already used is refused.
    other = app.test_client()
    asked = post_form(other, "/login", {"email": email, "password": password})
    assert asked.location.endswith("/login/two-factor")
    assert post_form(other, "/login/two-factor", {"code": enrol_code}).status_code == 400
    # A recovery code works once.
    assert post_form(other, "/login/two-factor", {"code": codes[0]}).status_code == 302
    assert other.get("/treasurer/").status_code == 200
    third = app.test_client()
    post_form(third, "/login", {"email": email, "password": password})
    assert post_form(third, "/login/two-factor", {"code": codes[0]}).status_code == 400
    assert third.get("/treasurer/").status_code == 302


def test_the_second_step_without_a_password_first_goes_back_to_sign_in(client):
    assert client.get("/login/two-factor").location.endswith("/login")
    assert client.get("/login/two-factor/setup").location.endswith("/login")


def test_members_sign_in_with_a_password_alone(app, make_user):
    client = app.test_client()
    _, email, password = make_user(email="member@example.org")
    response = post_form(client, "/login", {"email": email, "password": password})
    assert response.status_code == 302 and "two-factor" not in response.location
