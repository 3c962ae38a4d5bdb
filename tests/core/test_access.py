"""The staff areas against the table of who may see what (DESIGN.md §5).

``tests/security/test_access_walk.py`` sends every route and method as each role; here are
the staff areas' particulars: roles declared on the views, the way back after signing in.
"""

from urllib.parse import unquote

import pytest

from core.accounts.models import Role
from tests.helpers import complete_second_factor, post_form, sign_in

# Path prefixes and the least role that may use them; everything else is public or /account.
STAFF_AREAS = {
    "/treasurer": Role.treasurer,
    "/moderation": Role.moderator,
    "/admin": Role.admin,
}


def concrete_urls(app, prefix):
    """Every GET route under ``prefix`` with made-up arguments filled in."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix) or "GET" not in rule.methods:
            continue
        if rule.endpoint.endswith(".static"):  # stylesheets and scripts, public everywhere
            continue
        values = {arg: 1 for arg in rule.arguments}
        urls.append(rule.build(values, append_unknown=False)[1])
    return urls


def test_every_staff_view_declares_its_role(app):
    for rule in app.url_map.iter_rules():
        for prefix, least in STAFF_AREAS.items():
            if rule.rule.startswith(prefix) and prefix != "/admin":
                view = app.view_functions[rule.endpoint]
                assert getattr(view, "required_role", None) is not None, rule.rule
                assert view.required_role >= least, rule.rule


@pytest.mark.parametrize("prefix", list(STAFF_AREAS))
def test_staff_areas_send_visitors_to_sign_in_and_back(app, make_user, prefix):
    """One rule for every staff area: not signed in, you are asked to sign in first."""
    urls = concrete_urls(app, prefix)
    if not urls:
        pytest.skip(f"nothing is served under {prefix} yet")
    client = app.test_client()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, (url, response.status_code)
        assert response.location.startswith("/login?next="), (url, response.location)
        assert unquote(response.location.split("next=", 1)[1]) == url
    _, email, password = make_user(email=f"staff-{prefix[1:]}@example.org", role="admin")
    signed = post_form(
        client, response.location, {"email": email, "password": password}, token_from="/login"
    )
    signed = complete_second_factor(client, signed, email)
    assert signed.status_code == 302 and signed.location == url


def test_treasurer_and_admin_may_open_the_dashboard(app, make_user):
    for role in ("treasurer", "admin"):
        client = app.test_client()
        _, email, password = make_user(email=f"{role}@example.org", role=role)
        sign_in(client, email, password)
        assert client.get("/treasurer/").status_code == 200


def test_the_account_area_asks_visitors_to_sign_in(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login?next=%2Faccount" in response.location


def test_moderators_and_above_may_open_the_moderation_queue(app, make_user):
    assert concrete_urls(app, "/moderation"), "the moderation area serves pages"
    for role in ("moderator", "treasurer", "admin"):
        client = app.test_client()
        _, email, password = make_user(email=f"{role}-queue@example.org", role=role)
        sign_in(client, email, password)
        for url in concrete_urls(app, "/moderation"):
            assert client.get(url).status_code == 200, (role, url)


def test_a_post_to_a_staff_area_without_signing_in_changes_nothing(client):
    response = post_form(client, "/treasurer/donations/1/resend-receipt", {}, token_from="/login")
    assert response.status_code == 302 and response.location.startswith("/login?next=")
