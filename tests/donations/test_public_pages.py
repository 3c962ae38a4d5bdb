"""The public donation pages under a spike: few queries, kept pages, never another's token."""

import re
from urllib.parse import urlsplit

import pytest

from core import cache
from core.db import db
from core.settings import set_setting
from donations.models import Fund
from tests.helpers import REDIS_URL, post_form, require

PUBLIC_PAGES = ["/", "/donate", "/donate?lang=fr", "/funds/general", "/funds", "/api/v1/funds"]


def token_of(html):
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def without_token(response):
    return re.sub(r'(name="csrf_token" type="hidden" value=")[^"]+', r"\1", response.text)


def more_funds_and_presets(app, funds=6, presets=(1000, 2000, 3000, 4000, 5000, 7500, 9000, 9900)):
    with app.app_context():
        for n in range(funds):
            db.session.add(
                Fund(slug=f"extra-{n}", name_en=f"Extra {n}", name_fr=f"Extra {n}", goal=100_000)
            )
        set_setting("donations.presets", list(presets))
        db.session.commit()


def queries_for(app, client, path, count_queries):
    with app.app_context():
        cache.clear_local()
    with count_queries() as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return queries


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_a_public_page_takes_at_most_three_queries_however_many_funds_and_presets(
    app, client, funds, count_queries, path
):
    few = queries_for(app, client, path, count_queries)
    more_funds_and_presets(app)
    many = queries_for(app, client, path, count_queries)
    assert len(many) <= 3, f"{path}:\n{many}"
    # A query per fund, preset or country would make the second count larger.
    assert len(many) == len(few), f"{path}: {len(few)} then {len(many)}:\n{many}"


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_a_public_page_seen_again_takes_no_query(app, client, funds, count_queries, path):
    first = client.get(path)
    with count_queries() as queries:
        again = client.get(path)
    assert len(queries) == 0, str(queries)
    # The same page, but for the visitor's token (signed anew, with the time, each request).
    assert without_token(again) == without_token(first)


def test_a_members_form_adds_only_the_funds_and_their_last_gift_to_signing_in(
    app, client, funds, signed_in, count_queries
):
    signed_in("member", email="mia@example.org")

    def queries():
        client.get("/donate")  # the settings are read once, then kept until they change
        with count_queries() as counted:
            html = client.get("/donate").get_data(as_text=True)
        assert 'value="mia@example.org"' in html
        return counted

    few = queries()
    more_funds_and_presets(app)
    many = queries()
    # Two for the sign-in (its session row and the account), the funds, the last gift.
    assert len(many) == len(few) <= 4, str(many)
    assert not any("app_setting" in statement for statement in many.statements), str(many)


def test_each_visitor_gets_their_own_csrf_token_from_a_kept_page(app, funds, stripe_sim):
    first, second = app.test_client(), app.test_client()
    first_token = token_of(first.get("/donate").get_data(as_text=True))
    second_token = token_of(second.get("/donate").get_data(as_text=True))
    assert first_token != second_token
    assert cache.CSRF_SLOT not in second.get("/donate").get_data(as_text=True)
    # Each token works for its own visitor only.
    from tests.donation_fixtures import gift_form

    stolen = first.post("/donate", data={**gift_form(), "csrf_token": second_token})
    assert stolen.status_code == 400 and "Continue to payment" not in stolen.text  # not the form
    own = first.post("/donate", data={**gift_form(), "csrf_token": first_token})
    assert own.status_code == 303


def test_a_members_details_are_never_served_to_a_visitor_nor_the_reverse(
    app, client, funds, signed_in
):
    visitor = app.test_client()
    visitor.get("/donate")  # kept for visitors
    signed_in("member", email="mia@example.org")
    assert 'value="mia@example.org"' in client.get("/donate").get_data(as_text=True)
    for path in ("/donate", "/", "/funds/general"):
        html = visitor.get(path).get_data(as_text=True)
        assert "mia@example.org" not in html and "Sign out" not in html


def test_a_message_for_one_visitor_is_not_kept_for_the_next(app, client, funds):
    client.get("/")
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Only for you")]
    assert "Only for you" in client.get("/").get_data(as_text=True)
    assert "Only for you" not in app.test_client().get("/").get_data(as_text=True)
    assert "Only for you" not in client.get("/").get_data(as_text=True)


def test_fund_progress_follows_a_gift(app, client, funds, give, stripe_sim):
    assert "$0.00 raised" in client.get("/funds/general").get_data(as_text=True)
    assert "$0.00 raised" in client.get("/").get_data(as_text=True)
    response, session_id = give(other_amount="40")
    paid = stripe_sim.pay(session_id)
    redirect = urlsplit(paid["redirect_url"])
    client.get(f"{redirect.path}?{redirect.query}")  # the thank-you page confirms the payment
    for path in ("/funds/general", "/"):
        assert "$40.00 raised" in client.get(path).get_data(as_text=True), path
    general = next(f for f in client.get("/api/v1/funds").json if f["slug"] == "general")
    assert general["raised"] == 4000


def test_new_suggested_amounts_show_at_once(app, client, funds):
    assert "$25.00" in client.get("/donate").get_data(as_text=True)
    with app.app_context():
        set_setting("donations.presets", [1800, 3600])
        db.session.commit()
    html = client.get("/donate").get_data(as_text=True)
    assert "$18.00" in html and "$36.00" in html and "$25.00" not in html


def test_a_change_not_committed_is_not_kept_nor_shown_elsewhere(app, client, funds):
    client.get("/funds/general")
    with app.app_context():
        fund = db.session.query(Fund).filter_by(slug="general").one()
        fund.name_en = "Renamed, then rolled back"
        db.session.flush()
        db.session.rollback()
    assert "Renamed" not in client.get("/funds/general").get_data(as_text=True)


def test_a_renamed_fund_shows_in_every_process(app, funds):
    """Two apps stand for two gunicorn workers: a change in one is seen by the other."""
    require(REDIS_URL and not REDIS_URL.startswith("memory"), "Redis (REDIS_URL)")
    from core import create_app
    from tests.conftest import testing_environ

    other = create_app(config={"BASE_URL": app.config["BASE_URL"]}, environ=testing_environ())
    here, there = app.test_client(), other.test_client()
    assert "General fund" in here.get("/funds/general").get_data(as_text=True)
    assert "General fund" in there.get("/funds/general").get_data(as_text=True)
    with other.app_context():
        db.session.query(Fund).filter_by(slug="general").one().name_en = "Peace fund"
        db.session.commit()
        db.session.remove()
    assert "Peace fund" in here.get("/funds/general").get_data(as_text=True)
    with other.app_context():
        cache.clear_local()


def test_pages_are_served_when_redis_does_not_answer(app, client, funds):
    saved = app.extensions["versioned_cache"]
    app.extensions["versioned_cache"] = cache.RedisVersions("redis://127.0.0.1:9/0", "down")
    try:
        for path in PUBLIC_PAGES:
            assert client.get(path).status_code == 200, path
        html = client.get("/donate").get_data(as_text=True)
        assert cache.CSRF_SLOT not in html and token_of(html)
    finally:
        app.extensions["versioned_cache"] = saved


def test_a_gift_started_on_a_kept_form_goes_through(app, client, funds, give):
    client.get("/donate")
    response, session_id = give(other_amount="30")
    assert response.status_code == 303 and session_id
    # The form the visitor filled in was served from the cache, with their own token.
    response = post_form(client, "/donate", {"other_amount": "30"}, token_from="/donate")
    assert response.status_code == 400  # a form missing its fields, not a CSRF failure
    assert "CSRF" not in response.get_data(as_text=True)
