"""The JSON API: tiers, my membership, starting a membership with an Idempotency-Key."""

import sqlalchemy as sa

from core.db import db
from members.models import Dues
from tests.member_fixtures import confirm_and_sign_in

BODY = {
    "tier": "student",
    "auto_renew": False,
    "mondial_format": "print",
    "mailing": {
        "name": "Ines Member",
        "line1": "12 Elgin Street",
        "city": "Ottawa",
        "province": "ON",
        "postal_code": "K1P 5W1",
    },
}


def test_tiers_in_both_languages(client, tiers):
    tiers_en = client.get("/api/v1/tiers").get_json()
    assert [t["slug"] for t in tiers_en] == [
        "individual",
        "student",
        "senior",
        "low-income",
        "family",
        "life",
    ]
    assert tiers_en[0]["price"] == 5000 and tiers_en[-1]["lifetime"] is True
    assert tiers_en[4]["adults"] == 2
    fr = client.get("/api/v1/tiers?lang=fr").get_json()
    assert fr[1]["name"] == "Étudiant"


def test_my_membership_needs_a_sign_in(client, tiers):
    response = client.get("/api/v1/me/membership")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "sign_in_required"


def test_an_idempotency_key_returns_the_same_checkout(app, client, join, stripe_sim):
    response, session_id = join(mondial_format="digital")
    stripe_sim.pay(session_id)
    confirm_and_sign_in(app, client)
    assert client.get("/api/v1/me/membership").get_json()["membership"]["status"] == "current"
    headers = {"Idempotency-Key": "renew-2026-abc"}
    first = client.post("/api/v1/memberships", json=BODY, headers=headers)
    assert first.status_code == 201, first.get_json()
    again = client.post("/api/v1/memberships", json=BODY, headers=headers)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    other = client.post("/api/v1/memberships", json={**BODY, "tier": "individual"}, headers=headers)
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Dues)) == 2


def test_bad_bodies_get_field_messages(app, client, join, stripe_sim):
    response, session_id = join()
    stripe_sim.pay(session_id)
    confirm_and_sign_in(app, client)
    bad = client.post(
        "/api/v1/memberships",
        json={**BODY, "tier": "gold", "mailing": {**BODY["mailing"], "name": "A\nB"}},
    )
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["fields"]
    assert fields["tier"] == ["There is no such membership."]
    assert fields["mailing.name"] == ["Please use a single line without special characters."]
    assert client.post("/api/v1/memberships", data="x").status_code == 415


def test_the_openapi_document_lists_the_membership_paths(client, tiers):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/tiers", "/api/v1/me/membership", "/api/v1/memberships"} <= set(paths)
    params = paths["/api/v1/memberships"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" for p in params)
