"""Take Action and content pages kept for visitors: the same as drawn afresh, never another's.

The pages are kept whole for visitors who are not signed in (``core.cache``); these tests
change what a page shows in each way staff, moderators and signers do and read the page
again, and check that nothing personal (a token, a name, a message) crosses visitors.
"""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core import cache, clock
from core.db import db
from involve.models import Campaign, Comment, CommentStatus, ContentPage, PageLink
from tests.helpers import sign_in
from tests.involve.test_pages import ROADMAP, add_comments
from tests.involve.test_signatures import confirm
from tests.involve_fixtures import confirm_link, sign

SLUG = "keep-canadas-peacekeeping-promises"
OPEN = f"/take-action/{SLUG}"
PAGES = ["/take-action", OPEN, ROADMAP, f"{ROADMAP}?lang=fr", "/get-involved"]


def token_of(html):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def without_tokens(html):
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", html)


def count_shown(html):
    return int(re.search(r'id="signature-count">([\d,]+) signatures?<', html).group(1))


@pytest.mark.parametrize("path", PAGES)
def test_a_page_seen_again_takes_no_query_and_is_the_same(app, content, count_queries, path):
    add_comments(app, 3, page_slug="france-canada-peacekeeping-roadmap")
    client = app.test_client()
    first = client.get(path)
    with count_queries() as queries:
        again = client.get(path)
    assert again.status_code == 200
    assert len(queries) == 0, str(queries.statements)
    assert without_tokens(again.text) == without_tokens(first.text)
    assert cache.CSRF_SLOT not in again.text


def test_each_visitor_gets_their_own_token_in_both_forms_of_a_kept_campaign(app, content):
    first, second = app.test_client(), app.test_client()
    first_html = first.get(OPEN).text
    second_html = second.get(OPEN).text  # kept from the first visit
    tokens = set(re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', second_html))
    assert len(tokens) == 1  # the signing form and the comment form: the visitor's own
    assert token_of(second_html) != token_of(first_html)
    # The kept form takes a signature with its own visitor's token.
    response = second.post(
        OPEN,
        data={
            "name": "Léa Tremblay",
            "email": "lea@example.org",
            "postal_code": "H2X 1Y4",
            "csrf_token": token_of(second_html),
        },
    )
    assert response.status_code == 303


def test_signing_shows_the_count_on_the_next_request(app, content, deliver):
    client = app.test_client()
    assert count_shown(client.get(OPEN).text) == 0
    assert "<strong>0 signatures</strong>" in client.get("/take-action").text
    for n, email in enumerate(("a@example.org", "b@example.org"), start=1):
        signer = app.test_client()
        assert sign(signer, SLUG, email=email).status_code == 303
        assert count_shown(client.get(OPEN).text) == n - 1  # not counted before confirming
        assert confirm(signer, confirm_link(deliver().to(email)[-1])).status_code == 303
        assert count_shown(client.get(OPEN).text) == n
        assert f"<strong>{n} signature" in client.get("/take-action").text
        assert f": {n} signature" in client.get("/get-involved").text
        assert count_shown(client.get(f"{OPEN}?lang=fr").text) == n


def test_the_signers_message_is_theirs_alone(app, content):
    signer, other = app.test_client(), app.test_client()
    other.get(OPEN)  # kept
    response = sign(signer, SLUG)
    assert response.status_code == 303
    message = "Almost done: we have sent a link to lea@example.org."
    assert message in signer.get(OPEN).text
    assert message not in other.get(OPEN).text
    assert message not in signer.get(OPEN).text  # shown once
    assert message not in app.test_client().get(OPEN).text


def test_a_campaign_edited_by_staff_shows_at_once(app, client, content):
    assert "Keep Canada" in client.get(OPEN).text
    assert "Keep Canada" in client.get("/take-action").text
    with app.app_context():
        campaign = db.session.scalar(sa.select(Campaign).where(Campaign.slug.like("keep-%")))
        campaign.title_en = "Renewed call for peacekeepers"
        campaign.goal = 1234
        db.session.commit()
    page = client.get(OPEN).text
    assert "Renewed call for peacekeepers" in page and "Our goal: 1,234" in page
    assert "Renewed call for peacekeepers" in client.get("/take-action").text


def test_a_campaign_closes_with_the_calendar(app, client, content):
    assert 'id="sign-submit"' in client.get(OPEN).text
    with app.app_context():
        ends_on = db.session.scalar(sa.select(Campaign.ends_on).where(Campaign.slug.like("keep-%")))
    clock.freeze(clock.now() + (ends_on - clock.now().date()) + timedelta(days=2))
    page = client.get(OPEN).text
    assert 'id="sign-submit"' not in page
    assert "This campaign is closed and no longer takes signatures." in page
    listed = client.get("/take-action").text
    assert "Open campaigns" in listed and "No campaign is open right now." in listed


def test_an_approved_comment_appears_and_a_rejected_one_goes(app, client, content):
    add_comments(app, 1, page_slug="france-canada-peacekeeping-roadmap")
    add_comments(
        app, 1, page_slug="france-canada-peacekeeping-roadmap", status=CommentStatus.pending
    )
    add_comments(
        app,
        1,
        campaign_slug="keep-canadas-peacekeeping-promises",
        status=CommentStatus.pending,
    )
    assert client.get(ROADMAP).text.count('class="comment"') == 1
    assert client.get(OPEN).text.count('class="comment"') == 0
    from involve import services

    with app.app_context():
        waiting = db.session.scalars(
            sa.select(Comment.id).where(Comment.status == CommentStatus.pending)
        ).all()
        services.moderate_comments(waiting, "approve", moderator_id=None)
        db.session.commit()
    assert client.get(ROADMAP).text.count('class="comment"') == 2
    assert client.get(OPEN).text.count('class="comment"') == 1
    with app.app_context():
        first = db.session.scalar(sa.select(Comment.id).order_by(Comment.id))
        services.moderate_comments([first], "reject", moderator_id=None)
        db.session.commit()
    assert client.get(ROADMAP).text.count('class="comment"') == 1


def test_a_comment_waiting_for_a_moderator_keeps_the_page(app, client, content, count_queries):
    client.get(ROADMAP)
    response = client.post(
        f"{ROADMAP}/comments",
        data={
            "comment-name": "Ana",
            "comment-email": "ana@example.org",
            "comment-body": "Good news.",
            "csrf_token": token_of(client.get(ROADMAP).text),
        },
    )
    assert response.status_code == 303
    assert "Your comment will appear once a moderator approves it." in client.get(ROADMAP).text
    with count_queries() as queries:
        page = app.test_client().get(ROADMAP).text
    assert len(queries) == 0, str(queries.statements)  # nothing a visitor sees has changed
    assert "Good news." not in page


def test_a_page_and_its_links_edited_by_staff_show_at_once(app, client, content):
    assert "Associated links" in client.get(ROADMAP).text
    with app.app_context():
        page = db.session.scalar(sa.select(ContentPage))
        page.links.append(PageLink(label_en="The new link", href="/new", position=9))
        db.session.commit()
    assert "The new link" in client.get(ROADMAP).text
    with app.app_context():
        db.session.execute(sa.update(PageLink).values(label_en="Renamed link"))
        db.session.commit()
    assert "Renamed link" in client.get(ROADMAP).text
    with app.app_context():
        db.session.scalar(sa.select(ContentPage)).body_fr = "Texte tout neuf."
        db.session.commit()
    assert "Texte tout neuf." in client.get(f"{ROADMAP}?lang=fr").text
    assert "Texte tout neuf." not in app.test_client().get(ROADMAP).text  # English


def test_staff_and_signed_in_visitors_get_their_own_page(app, client, content, signed_in):
    visitor = app.test_client()
    visitor.get(OPEN)  # kept for visitors
    signed_in("member", email="mia@example.org")
    assert 'value="mia@example.org"' in client.get(OPEN).text  # filled in for them
    for path in PAGES:
        html = visitor.get(path).text
        assert "mia@example.org" not in html and "Sign out" not in html, path


def test_a_page_staff_preview_is_never_kept_for_visitors(app, content, make_user):
    visitor, admin = app.test_client(), app.test_client()
    visitor.get(ROADMAP)
    with app.app_context():
        db.session.execute(sa.update(ContentPage).values(published=False))
        db.session.commit()
    assert visitor.get(ROADMAP).status_code == 404
    _, email, password = make_user(email="ada@example.org", role="admin")
    assert sign_in(admin, email, password).status_code == 302
    assert admin.get(ROADMAP).status_code == 200  # a preview, before publishing
    assert visitor.get(ROADMAP).status_code == 404


def test_the_comment_count_adds_no_query_when_kept(app, content, count_queries):
    """Fifty approved comments: drawn in at most three queries, then served in none."""
    add_comments(app, 50, page_slug="france-canada-peacekeeping-roadmap")
    client = app.test_client()
    with count_queries() as cold:
        first = client.get(ROADMAP)
    assert first.text.count('class="comment"') == 50
    assert len(cold) <= 3, str(cold.statements)
    with count_queries() as warm:
        client.get(ROADMAP)
    assert len(warm) == 0


def test_pages_are_served_when_redis_does_not_answer(app, client, content):
    saved = app.extensions["versioned_cache"]
    app.extensions["versioned_cache"] = cache.RedisVersions("redis://127.0.0.1:9/0", "down")
    try:
        for path in PAGES:
            response = client.get(path)
            assert response.status_code == 200, path
            assert cache.CSRF_SLOT not in response.text
    finally:
        app.extensions["versioned_cache"] = saved
