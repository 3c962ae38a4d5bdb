"""Fixtures for Get Involved: the NGO's content and campaigns, signing through the form."""

from datetime import timedelta

import pytest

from core.db import db
from tests.helpers import post_form


@pytest.fixture
def content(app):
    """The Mali campaign (closed), the Roadmap page and the open demo campaign."""
    from involve.content import DEMO_CAMPAIGN, MALI, ROADMAP, seed_demo

    with app.app_context():
        seed_demo()
        db.session.commit()
    return {"mali": MALI["slug"], "open": DEMO_CAMPAIGN["slug"], "roadmap": ROADMAP["slug"]}


@pytest.fixture
def make_campaign(app):
    """Create a published campaign open today; keyword arguments override any column."""
    from core import clock
    from involve.models import Campaign

    def make(slug="test-campaign", **overrides):
        with app.app_context():
            today = clock.today()
            values = {
                "slug": slug,
                "title_en": "Fund the peacekeepers",
                "title_fr": "Financer les Casques bleus",
                "body_en": "Why it matters.",
                "body_fr": "Pourquoi c’est important.",
                "letter_en": "Dear Prime Minister,\n\nPlease act.",
                "letter_fr": "Monsieur le Premier Ministre,\n\nAgissez.",
                "recipient_name_en": "The Prime Minister",
                "recipient_name_fr": "Le premier ministre",
                "recipient_email": "pm@example.org",
                "starts_on": today - timedelta(days=1),
                "ends_on": today + timedelta(days=30),
                "published": True,
                **overrides,
            }
            campaign = Campaign(**values)
            db.session.add(campaign)
            db.session.commit()
            return campaign.id

    return make


def sign(client, slug, **overrides):
    """Sign a campaign's letter as a visitor would, through the form."""
    data = {
        "name": "Léa Tremblay",
        "email": "lea@example.org",
        "postal_code": "h2x 1y4",
        "personal_message": "",
        **overrides,
    }
    return post_form(client, f"/take-action/{slug}", data)


def confirm_link(message):
    from tests.helpers import Mailbox

    [link] = [u for u in Mailbox.links(message) if "/confirm/" in u]
    return link
