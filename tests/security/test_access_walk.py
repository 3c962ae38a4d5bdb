"""Every route of the URL map, asked by every role, against the table of who may use what.

DESIGN.md §5: visitors use the public pages; members also their own ``/account/...``;
moderators also ``/moderation/...``; treasurers also ``/treasurer/...`` (and its API);
admins everything. The walk builds each route with made-up arguments and sends each of its
methods (a POST, PATCH or PUT with a CSRF token and no data, or an empty JSON object to the
API) as a visitor and as each role. A role the table allows must never meet a 5xx or a
refusal; a role below it must be refused: a visitor sent to sign in (a 401 from the API), a
signed-in person answered 403. A route that is in no area and not in ``PUBLIC`` fails the
walk, so a new route is placed in the table before it ships.

``tests/core/test_access.py`` holds the staff areas' GET pages to the same table in more
detail (the way back after signing in, the roles declared on the views); this walk adds
every method and every route. Other people's records by id are below.
"""

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.routing.converters import AnyConverter, NumberConverter

from core.accounts.models import Role
from core.db import db
from tests.helpers import csrf_token, post_form, sign_in

#: Path prefixes and the least role that may use them.
AREAS = {
    "/api/v1/treasurer/": Role.treasurer,
    "/api/v1/me/": Role.member,
    "/treasurer/": Role.treasurer,
    "/moderation/": Role.moderator,
    "/admin/": Role.admin,
    "/account/": Role.member,
}

#: Routes whose least role is not their area's: None for a page under /account that a
#: signed link opens, a role for a route outside the areas that needs one all the same.
EXCEPTIONS = {
    "members_api.create_membership": Role.member,  # joins for the signed-in account
    "accounts.confirm_email": None,  # the emailed link that confirms a new address
    "members.set_password": None,  # the emailed link an imported member sets a password with
}

#: Everything a visitor may use: pages, forms, signed links, the API's public operations.
PUBLIC = {
    # accounts
    "accounts.login",
    "accounts.logout",
    "accounts.register",
    "accounts.resend_verification",
    "accounts.reset_password",
    "accounts.reset_request",
    "accounts.second_factor",
    "accounts.second_factor_setup",
    "accounts.verify_email",
    # the site
    "core.favicon",
    "core.healthz",
    "core.home",
    "core.readyz",
    "api-docs.openapi_json",
    # donations (a gift's pages are reached through signed links)
    "donations.came_back",
    "donations.change_amount",
    "donations.charge",
    "donations.donate",
    "donations.fresh_manage_link",
    "donations.fund",
    "donations.funds",
    "donations.manage",
    "donations.new_receipt_link",
    "donations.portal",
    "donations.portal_return",
    "donations.receipt_pdf",
    "donations.resume",
    "donations.thanks",
    "donations_api.create_donation",
    "donations_api.funds",
    # Get Involved
    "involve.campaign",
    "involve.campaign_comment",
    "involve.confirm",
    "involve.get_involved",
    "involve.page",
    "involve.page_comment",
    "involve.take_action",
    "involve.volunteer",
    "involve.volunteer_thanks",
    "mail.preferences",
    "mail.unsubscribe",
    # memberships
    "members.household_accept",
    "members.join",
    "members.join_tier",
    "members.welcome",
    "members_api.tiers",
    # payments
    "payments.checkout_return",
    "payments.retry",
    "payments.webhook",
    "sim_clock",  # development and tests only: the simulator moves the app's clock
    # the shop (a guest's order is reached through its token)
    "shop.cancel_order",
    "shop.cart_add",
    "shop.cart_extras",
    "shop.cart_page",
    "shop.cart_update",
    "shop.catalogue",
    "shop.checkout",
    "shop.checkout_return",
    "shop.download",
    "shop.invoice",
    "shop.issue_download",
    "shop.order_page",
    "shop.product",
    "shop_api.add_item",
    "shop_api.checkout",
    "shop_api.empty_cart",
    "shop_api.get_cart",
    "shop_api.product",
    "shop_api.products",
    "shop_api.remove_item",
    "shop_api.set_quantity",
}

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
PEOPLE = [None, *Role]  # None: a visitor


def least_role(rule):
    """The least role that may use a route (None: anyone), or a failure if it is in no table."""
    if rule.endpoint in EXCEPTIONS:
        return EXCEPTIONS[rule.endpoint]
    path = rule.rule if rule.rule.endswith("/") else rule.rule + "/"
    for prefix, role in AREAS.items():
        if path.startswith(prefix):
            return role
    if rule.endpoint in PUBLIC:
        return None
    pytest.fail(
        f"{rule.rule} ({rule.endpoint}) is in no area of the access table and not in PUBLIC:"
        " place it in tests/security/test_access_walk.py"
    )


def example_url(rule):
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, NumberConverter):
            values[name] = 1
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = "x"
    return rule.build(values, append_unknown=False)[1]


def routes(app):
    """(endpoint, method, url, least role), the sign-out last since it ends the session."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        least = least_role(rule)
        url = example_url(rule)
        for method in sorted(set(rule.methods) & set(METHODS)):
            found.append((rule.endpoint, method, url, least))
    return sorted(found, key=lambda route: route[0] == "accounts.logout")


def send(client, method, url, token):
    if url.startswith("/api/"):
        body = {"json": {}} if method in ("POST", "PATCH", "PUT") else {}
        return client.open(url, method=method, **body)
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": token})


def refusal(response, person, url):
    """What is wrong with a refusal of ``person`` (None if it is the right one)."""
    status = response.status_code
    if url.startswith("/api/"):
        expected = {401} if person is None else {403}
        if status in expected:
            return None
        return f"{status}, not {expected}"
    if person is None:
        location = response.headers.get("Location", "")
        if status == 302 and urlsplit(location).path == "/login" and "next=" in location:
            return None
        return f"{status} {location!r}, not a redirect to sign in"
    return None if status == 403 else f"{status}, not 403"


def acceptance(response):
    """What is wrong with an answer to someone the table allows (None if nothing)."""
    status = response.status_code
    if status >= 500:
        return f"{status}: a server error"
    if status in (401, 403):
        return f"{status}: refused"
    location = response.headers.get("Location", "")
    if status in (301, 302, 303) and urlsplit(location).path == "/login" and "next=" in location:
        return f"sent to sign in: {location}"
    return None


@pytest.mark.slow
def test_every_route_answers_each_role_as_the_table_says(app, make_user, stripe_sim):
    clients = {}
    for person in PEOPLE:
        client = app.test_client()
        if person is not None:
            _, email, password = make_user(
                email=f"{person.name}-walk@example.org", role=person.name
            )
            assert sign_in(client, email, password).status_code == 302
        clients[person] = (client, csrf_token(client, "/login"))

    wrong = []
    walked = routes(app)
    for person, (client, token) in clients.items():
        for endpoint, method, url, least in walked:
            response = send(client, method, url, token)
            allowed = least is None or (person is not None and person >= least)
            problem = acceptance(response) if allowed else refusal(response, person, url)
            if problem:
                who = person.name if person else "visitor"
                wrong.append(f"{who:9} {method:6} {url} ({endpoint}): {problem}")
    assert not wrong, "\n".join(wrong)
    assert len(walked) > 200  # every route, not a handful


def paid(stripe_sim, result):
    response, session_id = result
    assert session_id, response.status_code
    stripe_sim.pay(session_id)


def test_another_members_records_are_not_found(
    app, client, join, give, products, stripe_sim, make_user
):
    """Ines's dues, household place, cart, gifts and order, asked for by Omar: 404, or absent
    from his own pages; Ines herself opens them."""
    from members import household
    from members.models import Dues, HouseholdMember, Membership
    from shop.models import Order
    from tests.member_fixtures import confirm_and_sign_in, join_form
    from tests.shop_fixtures import add_to_cart, check_out

    paid(stripe_sim, join(tier="family"))
    confirm_and_sign_in(app, client)
    paid(stripe_sim, give(email="ines@example.org", other_amount="31"))
    paid(stripe_sim, give(email="ines@example.org", frequency="monthly", other_amount="17"))
    add_to_cart(client, products["issue-42"])
    paid(stripe_sim, check_out(client, email="ines@example.org"))
    client.post("/api/v1/cart/items", json={"product_id": products["issue-41-pdf"]})
    with app.app_context():
        membership = db.session.scalar(sa.select(Membership))
        place = household.invite(
            membership, email="hugo@example.org", name="Hugo", inviter=membership.user
        )
        db.session.commit()
        dues_id = db.session.scalar(sa.select(Dues.id))
        place_id = place.id
        order_number = db.session.scalar(sa.select(Order)).number
        assert db.session.get(HouseholdMember, place_id).membership_id == membership.id

    omar = app.test_client()
    form = join_form(email="omar@example.org", name="Omar Other", mailing_name="Omar Other")
    response = post_form(omar, "/join/family", form)
    paid(stripe_sim, (response, response.location.rsplit("/", 1)[-1]))
    confirm_and_sign_in(app, omar, email="omar@example.org")

    assert omar.get(f"/account/membership/dues/{dues_id}").status_code == 404
    removed = post_form(
        omar, f"/account/membership/household/{place_id}/remove", {}, token_from="/account"
    )
    assert removed.status_code == 404
    pdf = products["issue-41-pdf"]
    assert omar.patch(f"/api/v1/cart/items/{pdf}", json={"quantity": 2}).status_code == 404
    assert omar.delete(f"/api/v1/cart/items/{pdf}").status_code == 404
    assert omar.get("/api/v1/cart").get_json()["lines"] == []
    mine = omar.get("/api/v1/me/membership").get_json()["membership"]
    assert mine["holder"] and mine["household"] == []
    for path in ("/account", "/account/gifts", "/account/orders", "/account/membership"):
        page = omar.get(path).get_data(as_text=True)
        for trace in ("ines@example.org", "Ines Member", "hugo@example.org", order_number):
            assert trace not in page, (path, trace)
        for amount in ("$31.00", "$17.00"):
            assert amount not in page, (path, amount)

    # Ines opens her own.
    assert client.get(f"/account/membership/dues/{dues_id}").status_code == 200
    assert order_number in client.get("/account/orders").get_data(as_text=True)
    gifts = client.get("/account/gifts").get_data(as_text=True)
    assert "$31.00" in gifts and "$17.00" in gifts
    assert [line["product_id"] for line in client.get("/api/v1/cart").get_json()["lines"]] == [pdf]
    with app.app_context():
        assert db.session.get(HouseholdMember, place_id).removed_at is None
