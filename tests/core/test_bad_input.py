"""Hostile input gets a 400 or a 404, never a 500: NUL bytes in paths, unreadable JSON, huge ids."""

import json

import pytest
import sqlalchemy as sa

from core.db import db
from donations.models import Donation
from tests.donations.test_api import gift_body
from tests.helpers import csrf_token

API = "/api/v1/donations"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/funds/%00"),
        ("GET", "/funds/gen%00eral"),
        ("GET", "/receipts/%00.pdf"),
        ("GET", "/donate/manage/%00"),
        ("GET", "/email-preferences/%00"),
        ("GET", "/funds/%FF"),  # not UTF-8
    ],
)
def test_a_nul_or_bad_bytes_in_the_path_is_not_found(client, funds, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 404


def test_a_nul_in_the_path_of_a_form_post_is_not_found(client):
    token = csrf_token(client, "/login")
    response = client.post("/payments/ab%00c/retry", data={"csrf_token": token})
    assert response.status_code == 404


def body_with(raw_donor_name):
    body = json.dumps(gift_body(**{"donor.name": "PLACEHOLDER"})).encode()
    return body.replace(b'"PLACEHOLDER"', raw_donor_name)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            json.dumps(gift_body()).encode().replace(b'"25"', b"9" * 5000),
            "Numbers may have at most",
        ),
        (json.dumps(gift_body()).encode().replace(b'"25"', b"1" * 41), "Numbers may have at most"),
        (
            json.dumps(gift_body()).encode().replace(b'"25"', b"0." + b"1" * 5000),
            "Numbers may have at most",
        ),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a": ' * 50_000 + b"1" + b"}" * 50_000, "nested too deeply"),
        (body_with(b'"\\ud800"'), "not valid text"),
        (body_with(b'"Dana \\udfff Donor"'), "not valid text"),
        (
            json.dumps(gift_body()).encode().replace(b'"donor"', b'"\\ud800"'),
            "not valid text",
        ),
    ],
    ids=[
        "5000-digit integer",
        "41-digit integer",
        "5000-digit fraction",
        "100000 nested brackets",
        "50000 nested objects",
        "lone high surrogate",
        "lone low surrogate",
        "lone surrogate in a key",
    ],
)
def test_json_that_cannot_be_read_safely_is_a_400(app, client, funds, body, message):
    response = client.post(API, data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "invalid_json"
    assert message in error["message"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 0


JSON = {"content_type": "application/json"}


def test_a_valid_surrogate_pair_is_text_like_any_other(app, client, funds, stripe_sim):
    response = client.post(API, data=body_with(b'"Dana \\ud83d\\udd4a Donor"'), **JSON)
    assert response.status_code == 201, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Donation.donor_name)) == "Dana \U0001f54a Donor"


def test_every_json_endpoint_reads_bodies_strictly(app):
    """``request.get_json()`` anywhere uses the same strict reading."""
    from core.security import JSONRefused

    with app.test_request_context(data=b"[" * 100_000, content_type="application/json"):
        from flask import request

        assert request.get_json(silent=True) is None
    with pytest.raises(JSONRefused):
        app.json.loads('{"a": ' + "1" * 5000 + "}")


HUGE = [2**31, 2**31 - 1 + 10, 2**63, 10**30]


@pytest.mark.parametrize("number", HUGE)
def test_ids_no_row_can_have_are_not_found_for_the_treasurer(client, signed_in, number):
    signed_in("treasurer")
    assert client.get(f"/treasurer/donations/{number}").status_code == 404
    token = csrf_token(client, "/treasurer/donations")
    response = client.post(
        f"/treasurer/donations/{number}/resend-receipt", data={"csrf_token": token}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("number", [*HUGE, -1, 0, "abc", "1e3", ""])
def test_admin_ids_no_row_can_have_are_not_found(client, signed_in, funds, number):
    signed_in("admin")
    for view in ("fund", "user"):
        response = client.get(f"/admin/{view}/edit/?id={number}")
        # Flask-Admin's answer to a missing record: back to the list, saying so.
        assert response.status_code == 302, (view, number, response.status_code)
        assert response.location.endswith(f"/admin/{view}/")
        listing = client.get(response.location)
        if number != "":  # no id at all: straight back to the list
            assert "Record does not exist." in listing.get_data(as_text=True)


@pytest.mark.parametrize("page", [*HUGE, -1, -(2**63), "abc"])
def test_admin_list_pages_beyond_the_last_are_empty_not_errors(client, signed_in, funds, page):
    signed_in("admin")
    for view in ("fund", "user"):
        response = client.get(f"/admin/{view}/?page={page}")
        assert response.status_code == 200, (view, page, response.status_code)
