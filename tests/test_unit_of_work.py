"""The request is the unit of work: donation and payment views and services never commit."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Modules whose work the request commits once at its end (see core.register_request_hooks).
AT_THE_BOUNDARY = [
    "donations/views.py",
    "donations/api.py",
    "donations/staff.py",
    "donations/gifts.py",
    "donations/queries.py",
    "donations/exports.py",
    "donations/settings.py",
    "donations/handlers.py",
    "donations/receipts.py",
    "payments/views.py",
    "core/people.py",
    "core/accounts/people.py",
    "core/mail/people.py",
    "payments/people.py",
    "donations/people.py",
    "members/people.py",
    "shop/people.py",
    "involve/people.py",
    "people/views.py",
]


def commits_in(path):
    tree = ast.parse((ROOT / path).read_text(), filename=path)
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


@pytest.mark.parametrize("path", AT_THE_BOUNDARY)
def test_donation_and_payment_views_and_services_leave_the_commit_to_the_request(path):
    assert commits_in(path) == [], f"{path} commits by hand"


def test_a_refused_request_is_undone_and_an_accepted_one_kept(app, give, stripe_sim):
    import sqlalchemy as sa

    from core.db import db
    from donations.models import Donation

    refused, _ = give(postal_code="12345")
    assert refused.status_code == 400
    accepted, _ = give()
    assert accepted.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Donation.id))) == 1
