"""/join and /join/<tier> kept for visitors: prices follow staff, each visitor's form is theirs."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core import cache, clock
from core.db import db
from members import dates
from members.models import Tier
from tests.helpers import post_form
from tests.member_fixtures import dues_rows, join_form, queries_for

PAGES = ["/join", "/join/individual", "/join/family?lang=fr"]


def tokens_of(html):
    return set(re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', html))


def without_tokens(html):
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", html)


def more_tiers(app, count=5):
    with app.app_context():
        for n in range(count):
            db.session.add(
                Tier(
                    slug=f"extra-{n}",
                    name_en=f"Extra {n}",
                    name_fr=f"Extra {n}",
                    price=1000 + n,
                    position=50 + n,
                )
            )
        db.session.commit()


@pytest.mark.parametrize("path", PAGES)
def test_a_page_drawn_afresh_takes_at_most_three_queries_however_many_tiers(
    app, client, tiers, path
):
    client.get(path)  # the language cookie, translations and templates
    few = queries_for(app, client, path)
    more_tiers(app)
    many = queries_for(app, client, path)
    assert len(many) <= 3, many
    # A query per tier would make the second count larger.
    assert len(many) == len(few), (few, many)


@pytest.mark.parametrize("path", PAGES)
def test_a_page_seen_again_takes_no_query_and_is_the_same(app, client, tiers, count_queries, path):
    first = client.get(path)
    with count_queries() as queries:
        again = client.get(path)
    assert len(queries) == 0, str(queries.statements)
    assert without_tokens(again.text) == without_tokens(first.text)
    assert cache.CSRF_SLOT not in again.text


def test_a_new_price_shows_at_once_on_both_pages(app, client, tiers):
    assert "$50.00" in client.get("/join").text
    assert "$50.00" in client.get("/join/individual").text
    with app.app_context():
        db.session.scalar(sa.select(Tier).where(Tier.slug == "individual")).price = 6000
        db.session.commit()
    assert "$60.00" in client.get("/join").text and "$50.00" not in client.get("/join").text
    assert 'id="quote-price">$60.00' in client.get("/join/individual").text
    with app.app_context():
        db.session.execute(sa.update(Tier).where(Tier.slug == "student").values(active=False))
        db.session.commit()
    assert 'id="tier-student"' not in client.get("/join").text
    assert client.get("/join/student").status_code == 404


def test_the_terms_dates_follow_the_calendar(app, client, tiers):
    with app.app_context():
        start = dates.today()
    term = re.compile(r'id="quote-term">([^<]+)<')
    first = term.search(client.get("/join/individual").text).group(1)
    assert str(dates.add_years(start).year) in first
    clock.freeze(clock.now() + timedelta(days=1))
    second = term.search(client.get("/join/individual").text).group(1)
    assert second != first


def test_each_visitor_gets_their_own_token_and_can_join(app, tiers, stripe_sim):
    first, second = app.test_client(), app.test_client()
    [first_token] = tokens_of(first.get("/join/individual").text)
    [second_token] = tokens_of(second.get("/join/individual").text)  # kept from the first
    assert first_token != second_token
    response = second.post("/join/individual", data={**join_form(), "csrf_token": second_token})
    assert response.status_code == 303, response.text


def test_a_visitor_who_started_joining_sees_their_own_form_and_no_one_else_does(app, client, join):
    visitor = app.test_client()
    visitor.get("/join/individual")  # kept for visitors
    response, _ = join(
        address_line1="77 Rue Principale", city="Gatineau", province="QC", postal_code="J8X 2J1"
    )
    assert response.status_code == 303
    # Back on the form (their account is made): no account fields, their name filled in.
    own = client.get("/join/individual").text
    assert 'id="account-fields"' not in own and 'value="Ines Member"' in own
    for other in (visitor, app.test_client()):
        html = other.get("/join/individual").text
        assert 'id="account-fields"' in html and "Ines Member" not in html
    # Back from Stripe's Cancel: what they typed, for them alone.
    [dues] = dues_rows(app)
    back = client.get(f"/join/individual?cancelled={dues.token}").text
    assert 'value="77 Rue Principale"' in back and "nothing was charged" in back
    stranger = app.test_client().get(f"/join/individual?cancelled={dues.token}").text
    assert "77 Rue Principale" not in stranger and "nothing was charged" not in stranger


def test_a_member_sees_their_membership_and_visitors_do_not(app, client, tiers, signed_in):
    visitor = app.test_client()
    for path in PAGES:
        visitor.get(path)  # kept for visitors
    signed_in("member", email="mia@example.org")
    assert 'id="account-fields"' not in client.get("/join/individual").text
    for path in PAGES:
        html = visitor.get(path).text
        assert "Sign out" not in html and "mia@example.org" not in html, path
    assert 'id="account-fields"' in visitor.get("/join/individual").text


def test_a_message_for_one_visitor_is_not_kept_for_the_next(app, client, tiers):
    client.get("/join")
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Only for you")]
    assert "Only for you" in client.get("/join").text
    assert "Only for you" not in app.test_client().get("/join").text
    assert "Only for you" not in client.get("/join").text


def test_a_form_sent_back_with_errors_is_not_kept(app, client, tiers):
    response = post_form(
        client,
        "/join/individual",
        join_form(address_line1="", city="", postal_code=""),
    )
    assert response.status_code == 400
    assert (
        "Please correct the highlighted information."
        not in app.test_client().get("/join/individual").text
    )
