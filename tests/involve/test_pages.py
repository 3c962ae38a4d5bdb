"""Take Action, campaign and content pages: what they show, safely, in few queries."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core import cache, clock
from core.db import db
from involve.models import Campaign, Comment, CommentStatus, ContentPage, PageLink

ROADMAP = "/pages/france-canada-peacekeeping-roadmap"


def add_comments(app, count, *, page_slug=None, campaign_slug=None, status=CommentStatus.approved):
    with app.app_context():
        target = {}
        if page_slug:
            target["page_id"] = db.session.scalar(
                sa.select(ContentPage.id).where(ContentPage.slug == page_slug)
            )
        else:
            target["campaign_id"] = db.session.scalar(
                sa.select(Campaign.id).where(Campaign.slug == campaign_slug)
            )
        db.session.add_all(
            Comment(
                name=f"Reader {n}",
                email=f"reader{n}@example.org",
                body=f"Thought number {n}",
                status=status,
                **target,
            )
            for n in range(count)
        )
        db.session.commit()


def test_take_action_lists_open_and_past_campaigns(client, content):
    page = client.get("/take-action").get_data(as_text=True)
    open_at, past_at = page.index("Open campaigns"), page.index("Past campaigns")
    assert open_at < page.index("Keep Canada") < past_at < page.index("April 2020")
    assert "Read the campaign and its result" in page


def test_the_closed_mali_campaign_shows_its_result_and_its_letter(client, content):
    page = client.get(f"/take-action/{content['mali']}").get_data(as_text=True)
    assert "Closed on April 30, 2020" in page
    assert "The result" in page and "Artistes pour la Paix" in page
    assert "Quick Reaction Force" in page and "Dear Prime Minister," in page
    assert 'id="sign-submit"' not in page
    assert "0 signatures" not in page  # signed on paper before this site: no count to show


def test_the_same_page_in_french(client, content):
    page = client.get(f"/take-action/{content['mali']}?lang=fr").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Avril 2020 : le Canada et le maintien de la paix au Mali" in page
    assert "Fermée le 30 avril 2020" in page
    assert "Monsieur le Premier Ministre," in page


def test_the_roadmap_page_in_both_languages_with_its_links(client, content):
    english = client.get(ROADMAP).get_data(as_text=True)
    assert "<h1>France-Canada Peacekeeping Roadmap</h1>" in english
    assert "<li>preventive diplomacy and the peaceful settlement of disputes;</li>" in english
    assert 'href="https://peacekeeping.un.org/" rel="noopener noreferrer"' in english
    # The language switch lands on the same page in French.
    switch = re.search(r'class="lang-toggle" href="([^"]+)"', english).group(1)
    assert switch == f"{ROADMAP}?lang=fr"
    french = client.get(switch).get_data(as_text=True)
    assert "<h1>Feuille de route franco-canadienne sur le maintien de la paix</h1>" in french
    assert "Maintien de la paix des Nations Unies" in french


def test_markdown_from_staff_is_sanitised(app, client, content):
    with app.app_context():
        page = db.session.scalar(sa.select(ContentPage))
        page.body_en = (
            "# Heading\n\n<script>alert(1)</script>\n\n"
            "[click](javascript:alert(1)) <img src=x onerror=alert(1)> **bold**"
        )
        db.session.commit()
    html = client.get(ROADMAP).get_data(as_text=True)
    body = html[html.index('<div class="prose">') :]
    assert "<h2>Heading</h2>" in body
    assert "<script>alert" not in body and "&lt;script&gt;" in body
    assert 'href="javascript' not in body and "<img" not in body
    assert "<strong>bold</strong>" in body


def test_unpublished_pages_and_unknown_slugs_are_not_found(app, client, content, signed_in):
    with app.app_context():
        db.session.execute(sa.update(ContentPage).values(published=False))
        db.session.commit()
    assert client.get(ROADMAP).status_code == 404
    assert client.get("/pages/nothing-here").status_code == 404
    assert client.get("/take-action/nothing-here").status_code == 404
    assert signed_in("admin").get(ROADMAP).status_code == 200  # staff preview before publishing


def test_get_involved_offers_volunteering_and_the_open_campaigns(client, content):
    page = client.get("/get-involved").get_data(as_text=True)
    assert "Volunteer, donate, or become a member and join the conversation." in page
    assert 'href="/volunteer"' in page
    assert "Keep Canada" in page and "April 2020" not in page


def test_the_home_page_shows_the_open_campaign(client, content):
    page = client.get("/").get_data(as_text=True)
    assert "Keep Canada" in page and f"/take-action/{content['open']}#sign" in page


# -- speed: a fixed number of queries however much there is ---------------------------------


def anonymous_queries(app, count_queries, path):
    """The queries of a page drawn afresh (nothing kept) for a visitor who is not signed in."""
    client = app.test_client()
    client.get(path)  # a first visit sets the language cookie; the second is measured
    with app.app_context():
        cache.clear_local()
    with count_queries() as queries:
        response = client.get(path)
    assert response.status_code == 200
    return queries


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/take-action", 3),
        ("/take-action/keep-canadas-peacekeeping-promises", 3),
        (ROADMAP, 3),
    ],
)
def test_pages_stay_within_three_queries_with_fifty_comments(
    app, content, count_queries, path, limit
):
    add_comments(app, 50, page_slug="france-canada-peacekeeping-roadmap")
    add_comments(app, 50, campaign_slug="keep-canadas-peacekeeping-promises")
    add_comments(
        app, 20, page_slug="france-canada-peacekeeping-roadmap", status=CommentStatus.pending
    )
    queries = anonymous_queries(app, count_queries, path)
    assert len(queries) <= limit, str(queries)


def test_more_comments_and_campaigns_add_no_query(app, content, count_queries, make_campaign):
    add_comments(app, 1, page_slug="france-canada-peacekeeping-roadmap")
    add_comments(app, 1, campaign_slug="keep-canadas-peacekeeping-promises")
    paths = ["/take-action", "/take-action/keep-canadas-peacekeeping-promises", ROADMAP]
    before = [len(anonymous_queries(app, count_queries, p)) for p in paths]

    add_comments(app, 49, page_slug="france-canada-peacekeeping-roadmap")
    add_comments(app, 49, campaign_slug="keep-canadas-peacekeeping-promises")
    for n in range(5):
        make_campaign(slug=f"more-{n}")
    with app.app_context():
        page = db.session.scalar(sa.select(ContentPage))
        page.links.extend(PageLink(label_en=f"L{n}", href=f"/l{n}") for n in range(5))
        db.session.commit()
    after = [len(anonymous_queries(app, count_queries, p)) for p in paths]
    assert after == before


def test_a_count_that_changes_every_second_stays_correct_on_the_page(
    app, make_campaign, count_queries
):
    """Signatures confirmed one a second: each page view shows exactly the confirmed count."""
    from involve import services

    make_campaign()
    client = app.test_client()
    start = clock.now()
    for n in range(1, 8):
        clock.freeze(start + timedelta(seconds=n))
        with app.app_context():
            campaign = db.session.scalar(sa.select(Campaign))
            signature = services.sign_campaign(
                campaign,
                services.SignRequest(
                    name=f"Signer {n}", email=f"s{n}@example.org", postal_code="K1A 0B1"
                ),
            )
            if n % 2:  # every other one confirms; the others wait and must not show
                services.confirm_signature(signature)
            db.session.commit()
        page = client.get("/take-action/test-campaign").get_data(as_text=True)
        shown = re.search(r'id="signature-count">(\d+) signatures?<', page).group(1)
        assert int(shown) == (n + 1) // 2
        listed = client.get("/take-action").get_data(as_text=True)
        assert f"<strong>{(n + 1) // 2} signature" in listed


def test_demo_data_loads_twice_without_change(app):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["seed", "demo"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        slugs = db.session.scalars(sa.select(Campaign.slug).order_by(Campaign.slug)).all()
        assert slugs == ["keep-canadas-peacekeeping-promises", "mali-peacekeeping-april-2020"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ContentPage)) == 1
    result = runner.invoke(args=["involve", "seed-content"])
    assert "The Mali campaign and the Roadmap page are in place." in result.output
