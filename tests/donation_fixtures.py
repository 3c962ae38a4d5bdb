"""Fixtures for donations: the starting funds, a charity number, a way to give."""

from urllib.parse import urlsplit

import pytest

from core.db import db
from tests.helpers import post_form

REGISTRATION = "123456789RR0001"


@pytest.fixture
def funds(app):
    from donations.cli import seed_funds

    with app.app_context():
        seed_funds()
        db.session.commit()


@pytest.fixture
def charity(app):
    """The organization is a registered charity: official receipts."""
    saved = app.config.get("CHARITY_REGISTRATION_NUMBER")
    app.config["CHARITY_REGISTRATION_NUMBER"] = REGISTRATION
    yield REGISTRATION
    app.config["CHARITY_REGISTRATION_NUMBER"] = saved


def gift_form(**overrides):
    data = {
        "amount_choice": "other",
        "other_amount": "25",
        "frequency": "one_time",
        "fund": "general",
        "tribute_kind": "",
        "donor_name": "Dana Donor",
        "email": "dana@example.org",
        "address_line1": "12 Elgin Street",
        "city": "Ottawa",
        "province": "ON",
        "postal_code": "K1P 5W1",
        "country": "CA",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def give(client, funds, stripe_sim):
    """Fill in /donate as a visitor; returns (response, session id or None)."""

    def run(lang="en", **overrides):
        response = post_form(
            client, f"/donate?lang={lang}", gift_form(**overrides), token_from="/donate"
        )
        session_id = None
        if response.status_code == 303:
            session_id = urlsplit(response.location).path.rsplit("/", 1)[-1]
        return response, session_id

    return run
