"""Markup typed into any form is shown as text on every page that shows it, public or staff."""

import re

import sqlalchemy as sa

from core.db import db
from tests.helpers import post_form
from tests.involve_fixtures import sign
from tests.shop_fixtures import add_to_cart, check_out

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
LINK = "javascript:alert(1)"
ATTRIBUTE = '" onmouseover="alert(1)'
#: Names refuse angle brackets at the door (they go into email headers and receipts too),
#: so they carry the markup that has none: a link and a way out of an attribute.
NAME = f"{LINK} {ATTRIBUTE}"
ROADMAP = "/pages/france-canada-peacekeeping-roadmap"

LIVE_LINK = re.compile(r"""(href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)


def assert_inert(html, where):
    assert SCRIPT not in html, where
    assert "<img src=x onerror" not in html, where
    assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", ""), where
    assert 'onmouseover="alert(1)' not in html, where
    assert not LIVE_LINK.search(html), where


def test_markup_typed_anywhere_is_shown_as_text_everywhere(
    app, client, content, make_campaign, give, products, stripe_sim, signed_in
):
    from involve.models import Comment, CommentStatus, Signature, SignatureStatus
    from payments.models import Payment
    from shop.models import Order

    # A comment, a signature, a volunteer, a gift and an order, each with markup in it.
    posted = post_form(
        client,
        f"{ROADMAP}/comments",
        {
            "comment-name": f"Marc {NAME}",
            "comment-email": "marc@example.org",
            "comment-body": f"{SCRIPT} {IMAGE} [click]({LINK}) <a href='{LINK}'>x</a>",
        },
        token_from=ROADMAP,
    )
    assert posted.status_code in {200, 302, 303}
    campaign_id = make_campaign()
    signed = sign(
        client,
        "test-campaign",
        name=f"Léa {NAME}",
        personal_message=f"{SCRIPT} {IMAGE} {LINK}",
    )
    assert signed.status_code in {200, 302, 303}
    volunteered = post_form(
        client,
        "/volunteer",
        {
            "name": f"Nadia {NAME}",
            "email": "nadia@example.org",
            "phone": "613 555 0199",
            "message": f"{SCRIPT} {IMAGE} {LINK}",
            "languages": ["en"],
            "interests": ["events"],
            "availability": ["evenings"],
        },
    )
    assert volunteered.status_code in {200, 302, 303}
    response, session = give(donor_name=f"Dana {NAME}")
    assert session, response.get_data(as_text=True)[:2000]
    stripe_sim.pay(session)
    add_to_cart(client, products["issue-42"])
    response, order_session = check_out(client, name=f"Bea {NAME}")
    assert order_session, response.get_data(as_text=True)[:2000]
    stripe_sim.pay(order_session)

    # The markup was stored as typed (or refused at the door, which the forms do not do).
    with app.app_context():
        comment = db.session.scalar(sa.select(Comment))
        assert SCRIPT in comment.body
        signature = db.session.scalar(sa.select(Signature))
        assert NAME in signature.name and SCRIPT in signature.personal_message
        signature.status = SignatureStatus.confirmed
        db.session.commit()
        payment_ids = db.session.scalars(sa.select(Payment.id)).all()
        order_ids = db.session.scalars(sa.select(Order.id)).all()
        from donations.models import Donation

        donation_ids = db.session.scalars(sa.select(Donation.id)).all()
        comment_id = comment.id

    staff = signed_in("admin", email="admin-xss@example.org")
    pages = [
        "/moderation/comments?status=pending",
        f"/admin/take-action/{campaign_id}",
        "/admin/volunteers",
        "/treasurer/payments",
        *[f"/treasurer/payments/{i}" for i in payment_ids],
        "/treasurer/donations",
        *[f"/treasurer/donations/{i}" for i in donation_ids],
        "/treasurer/donors?q=Dana",
        "/treasurer/orders",
        *[f"/treasurer/orders/{i}" for i in order_ids],
        "/treasurer/audit",
        "/admin/user/",
        "/treasurer/people/?q=example",
        "/treasurer/people/record?email=marc@example.org",
        "/treasurer/people/record?email=nadia@example.org",
        "/treasurer/people/erase?email=nadia@example.org",
    ]
    shown = []
    for path in pages:
        response = staff.get(path)
        assert response.status_code == 200, (path, response.status_code)
        html = response.get_data(as_text=True)
        assert_inert(html, path)
        shown.append(html)

    approved = staff.post(
        "/moderation/comments",
        data={
            "csrf_token": re.search(
                r'name="csrf_token"[^>]*value="([^"]+)"',
                staff.get("/moderation/comments?status=pending").get_data(as_text=True),
            ).group(1),
            "action": "approve",
            "status": "pending",
            "ids": [str(comment_id)],
        },
    )
    assert approved.status_code in {200, 302, 303}
    with app.app_context():
        assert db.session.get(Comment, comment_id).status == CommentStatus.approved
    for path, viewers in [
        (ROADMAP, (staff, app.test_client())),
        ("/take-action/test-campaign", (staff, app.test_client())),
        ("/moderation/comments?status=approved", (staff,)),
    ]:
        for viewer in viewers:
            response = viewer.get(path)
            assert response.status_code == 200, (path, response.status_code)
            html = response.get_data(as_text=True)
            assert_inert(html, path)
            shown.append(html)

    everything = "\n".join(shown)
    # The pages did show the text, escaped.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in everything
    assert "&lt;img src=x onerror=alert(1)&gt;" in everything
    assert "onmouseover=&#34;alert(1)" in everything


def test_a_name_with_markup_is_refused_with_a_message(app, client, funds):
    from tests.donation_fixtures import gift_form

    response = post_form(client, "/donate", gift_form(donor_name=f"Dana {SCRIPT}"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'class="[^"]*error', html)
    assert_inert(html, "/donate")
