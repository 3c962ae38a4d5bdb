"""The JSON API, version 1: funds, starting a gift, refusals, errors and the OpenAPI document."""

import copy
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from core.db import db
from core.errors import Conflict, ValidationError
from donations.models import Donation, DonationStatus, MonthlyGift
from payments.models import Payment, StripeAttempt

API = "/api/v1"


def gift_body(**changes):
    """A valid gift; ``changes`` use dotted paths ("donor.address.city"), None removes."""
    body = {
        "amount": "25",
        "fund": "general",
        "donor": {
            "name": "Dana Donor",
            "email": "dana@example.org",
            "address": {
                "line1": "12 Elgin Street",
                "city": "Ottawa",
                "province": "ON",
                "postal_code": "K1P 5W1",
            },
        },
    }
    body = copy.deepcopy(body)
    for path, value in changes.items():
        *parents, last = path.split(".")
        target = body
        for key in parents:
            target = target[key]
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value
    return body


def count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def session_id_of(url):
    return urlsplit(url).path.rsplit("/", 1)[-1]


# -- funds ------------------------------------------------------------------------------------


def test_funds_are_listed_in_english_by_default(client, funds):
    response = client.get(f"{API}/funds")
    assert response.status_code == 200 and response.mimetype == "application/json"
    listed = response.get_json()
    assert [f["slug"] for f in listed] == ["general", "mondial", "peacekeeping", "take-action"]
    general = listed[0]
    assert general["name"] == general["name_en"] == "General fund"
    assert general["name_fr"] == "Fonds général"
    assert general["description"].startswith("Where the need is greatest")
    assert general["goal"] is None and general["raised"] == 0


@pytest.mark.parametrize(
    ("query", "headers"),
    [("?lang=fr", {}), ("", {"Accept-Language": "fr-CA,fr;q=0.9"})],
)
def test_funds_are_named_in_french_when_asked(client, funds, query, headers):
    listed = client.get(f"{API}/funds{query}", headers=headers).get_json()
    general = listed[0]
    assert general["name"] == "Fonds général" and general["name_en"] == "General fund"
    assert general["description"].startswith("Là où le besoin est le plus grand")


def test_funds_show_what_was_raised_and_their_goal(app, client, funds, stripe_sim):
    from donations.models import Fund

    with app.app_context():
        db.session.scalar(sa.select(Fund).where(Fund.slug == "mondial")).goal = 1_500_000
        db.session.commit()
    started = client.post(f"{API}/donations", json=gift_body(amount="40", fund="mondial"))
    assert started.status_code == 201, started.get_json()
    client.post(f"{API}/donations", json=gift_body(amount="15"))  # started, never paid
    stripe_sim.pay(session_id_of(started.get_json()["checkout_url"]))

    by_slug = {f["slug"]: f for f in client.get(f"{API}/funds").get_json()}
    assert by_slug["mondial"]["raised"] == 4000 and by_slug["mondial"]["goal"] == 1_500_000
    assert by_slug["general"]["raised"] == 0


# -- starting a gift --------------------------------------------------------------------------


def test_a_gift_returns_its_checkout_without_a_csrf_token(app, client, funds, stripe_sim):
    # The HTML form on the same client is refused without its token: CSRF is on.
    assert client.post("/donate", data={"other_amount": "25"}).status_code == 400

    response = client.post(f"{API}/donations", json=gift_body(amount="25.50"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"checkout_url", "donation_id", "expires_at"}
    assert body["checkout_url"].startswith(stripe_sim.url + "/c/pay/cs_test_")
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert timedelta(minutes=50) < expires_at - datetime.now(UTC) <= timedelta(hours=1)
    with app.app_context():
        donation = db.session.get(Donation, body["donation_id"])
        assert (donation.amount, donation.fee_covered) == (2550, 0)
        assert donation.status == DonationStatus.pending and donation.fund.slug == "general"
        assert (donation.donor_name, donation.email) == ("Dana Donor", "dana@example.org")
        assert donation.user_id is None and donation.language == "en"
        payment = db.session.get(Payment, donation.payment_id)
        assert payment.amount == 2550
        assert payment.checkout_session_id == session_id_of(body["checkout_url"])


def test_a_monthly_gift_in_french_with_the_fee_a_tribute_and_consent(
    app, client, funds, stripe_sim
):
    from core.mail.models import EmailConsent

    body = gift_body(
        amount="10,50",
        frequency="monthly",
        cover_fee=True,
        anonymous=True,
        language="fr",
        news_consent=True,
        annual_receipt=False,
        tribute={
            "kind": "memory",
            "name": "  Lester Pearson ",
            "notify_email": "family@example.org",
        },
        **{
            "donor.name": "  Dominique Donatrice  ",
            "donor.address.postal_code": "k1p5w1",
            "donor.address.province": "on",
            "donor.organization_name": "Paix inc.",
        },
    )
    response = client.post(f"{API}/donations", json=body)
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        donation = db.session.get(Donation, response.get_json()["donation_id"])
        assert donation.amount == 1050 and donation.fee_covered > 0
        assert donation.anonymous and donation.language == "fr"
        assert (donation.tribute_kind.value, donation.tribute_name) == ("memory", "Lester Pearson")
        assert donation.donor_name == "Dominique Donatrice"
        assert (donation.province, donation.postal_code) == ("ON", "K1P5W1")
        assert donation.organization_name == "Paix inc."
        gift = db.session.scalar(sa.select(MonthlyGift))
        assert gift.amount == 1050 and not gift.annual_receipt
        assert db.session.get(Payment, donation.payment_id).mode == "subscription"
        [consent] = db.session.scalars(sa.select(EmailConsent)).all()
        assert consent.granted and consent.language == "fr"


def test_the_language_defaults_to_the_requests(app, client, funds, stripe_sim):
    response = client.post(
        f"{API}/donations", json=gift_body(), headers={"Accept-Language": "fr-CA"}
    )
    assert response.status_code == 201
    with app.app_context():
        assert db.session.get(Donation, response.get_json()["donation_id"]).language == "fr"


# -- refusals ---------------------------------------------------------------------------------

NAN = float("nan")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "10.505"}, "amount"),
        ({"amount": 10.505}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": NAN}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": 1e9}, "amount"),
        ({"amount": "1e9"}, "amount"),
        ({"amount": "50001"}, "amount"),
        ({"amount": None}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": [25]}, "amount"),
        ({"donor.email": None}, "donor.email"),
        ({"donor.email": "not-an-address"}, "donor.email"),
        ({"donor.email": 42}, "donor.email"),
        ({"donor.name": "   "}, "donor.name"),
        ({"donor.name": "x" * 201}, "donor.name"),
        ({"donor.address.postal_code": "12345"}, "donor.address.postal_code"),
        ({"donor.address.province": "Ontario"}, "donor.address.province"),
        ({"donor.address.country": "ZZ"}, "donor.address.country"),
        ({"donor.address": None}, "donor.address"),
        ({"donor": "Dana Donor"}, "donor"),
        ({"fund": "no-such-fund"}, "fund"),
        ({"fund": None}, "fund"),
        ({"frequency": "weekly"}, "frequency"),
        ({"frequency": 1}, "frequency"),
        ({"cover_fee": "yes"}, "cover_fee"),
        ({"anonymous": 1}, "anonymous"),
        ({"news_consent": "true"}, "news_consent"),
        ({"language": "de"}, "language"),
        ({"tribute": {"kind": "party", "name": "Lester"}}, "tribute.kind"),
        ({"tribute": {"kind": "honour", "name": " "}}, "tribute.name"),
        ({"tribute": "Lester"}, "tribute"),
        ({"colour": "blue"}, "colour"),
        ({"donor.address.unit": "4"}, "donor.address.unit"),
    ],
)
def test_bad_gifts_are_refused_field_by_field_and_nothing_is_created(
    app, client, funds, changes, field
):
    response = client.post(f"{API}/donations", json=gift_body(**changes))
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and error["message"]
    assert field in error["fields"], error
    assert all(isinstance(m, str) and m for m in error["fields"][field])
    assert count(app, Donation) == count(app, Payment) == 0


def test_refusals_are_translated(client, funds):
    response = client.post(f"{API}/donations?lang=fr", json=gift_body(amount="0"))
    error = response.get_json()["error"]
    assert error["message"] == "Veuillez corriger les renseignements indiqués."
    assert error["fields"]["amount"] == ["Le minimum est de 1,00\u00a0$."]


def test_every_mistake_is_reported_at_once(client, funds):
    body = gift_body(amount="abc", fund="nowhere", **{"donor.address.postal_code": "123"})
    fields = client.post(f"{API}/donations", json=body).get_json()["error"]["fields"]
    assert set(fields) == {"amount", "fund", "donor.address.postal_code"}


def test_a_body_that_is_not_an_object_is_refused(app, client, funds):
    response = client.post(f"{API}/donations", json=[gift_body()])
    assert response.status_code == 422
    assert "_schema" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        ('{"amount": "25",', "application/json", 400, "invalid_json"),
        ("", "application/json", 422, "invalid"),
        ('{"amount": "25"}', "text/plain", 415, "unsupported_media_type"),
        ("amount=25", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ],
)
def test_bodies_that_are_not_json(app, client, funds, data, content_type, status, code):
    response = client.post(f"{API}/donations", data=data, content_type=content_type)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert count(app, Donation) == 0


@pytest.mark.parametrize("raw", [b'"Dana\\u0000 Donor"', b'"Dana\x00 Donor"'])
def test_a_nul_in_a_string_is_refused(app, client, funds, raw):
    import json

    body = json.dumps(gift_body(**{"donor.name": "PLACEHOLDER"})).encode()
    body = body.replace(b'"PLACEHOLDER"', raw)
    response = client.post(f"{API}/donations", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert count(app, Donation) == 0


@pytest.mark.parametrize(
    ("error", "status", "code", "fields"),
    [
        (Conflict(), 409, "conflict", None),
        (
            ValidationError("Not that fund today.", field="fund"),
            400,
            "invalid",
            {"fund": ["Not that fund today."]},
        ),
    ],
)
def test_a_domain_error_from_the_service_keeps_its_status_and_code(
    app, client, funds, monkeypatch, error, status, code, fields
):
    from donations import gifts

    def refuse(gift):
        raise error

    monkeypatch.setattr(gifts, "start_donation", refuse)
    response = client.post(f"{API}/donations", json=gift_body())
    assert response.status_code == status
    body = response.get_json()["error"]
    assert body["code"] == code and body.get("fields") == fields


def test_a_hanging_stripe_gives_503_and_keeps_the_attempt(
    app, client, funds, stripe_sim, short_timeout
):
    stripe_sim.hang(seconds=1.5)
    response = client.post(f"{API}/donations", json=gift_body(amount="30"))
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "payment_provider_unavailable"
    assert "Nothing was charged" in error["message"]
    with app.app_context():
        [donation] = db.session.scalars(sa.select(Donation)).all()
        assert donation.amount == 3000 and donation.status == DonationStatus.pending
        payment = db.session.get(Payment, donation.payment_id)
        assert payment.checkout_session_id is None
        [attempt] = db.session.scalars(sa.select(StripeAttempt)).all()
        assert attempt.payment_id == payment.id and attempt.url is None
    stripe_sim.wait_idle()


def test_starting_gifts_is_rate_limited_per_address(client, funds):
    for _ in range(30):
        assert client.post(f"{API}/donations", json={}).status_code == 422
    refused = client.post(f"{API}/donations", json=gift_body())
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    assert client.get(f"{API}/funds").status_code == 200


# -- errors and the document ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", f"{API}/nothing", 404, "not_found"),
        ("get", f"{API}/donations", 405, "method_not_allowed"),
        ("delete", f"{API}/funds", 405, "method_not_allowed"),
        ("get", f"{API}/swagger-ui", 404, "not_found"),
    ],
)
def test_unknown_paths_and_methods_answer_in_the_error_shape(client, method, path, status, code):
    response = getattr(client, method)(path, headers={"Accept": "text/html"})
    assert response.status_code == status and response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code and body["error"]["message"]


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_the_openapi_document_describes_both_paths(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = response.get_json()
    assert doc["openapi"] in ("3.1.0", "3.0.3")
    assert doc["info"] == {**doc["info"], "title": "Mondial API", "version": "v1"}

    funds = doc["paths"]["/api/v1/funds"]["get"]
    assert funds["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Fund"},
    }
    donations = doc["paths"]["/api/v1/donations"]["post"]
    assert donations["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DonationRequest"
    }
    assert donations["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Checkout"
    }
    assert {"400", "415", "422", "429", "503"} <= set(donations["responses"])

    schemas = doc["components"]["schemas"]
    assert {"Fund", "DonationRequest", "Donor", "Address", "Tribute", "Checkout", "Error"} <= set(
        schemas
    )
    assert set(schemas["Fund"]["properties"]) == {
        "slug",
        "name",
        "name_en",
        "name_fr",
        "description",
        "goal",
        "raised",
    }
    request = schemas["DonationRequest"]
    assert {"amount", "fund", "donor"} <= set(request["required"])
    assert request["additionalProperties"] is False
    assert request["properties"]["frequency"]["enum"] == ["one_time", "monthly"]
    assert set(schemas["Error"]["properties"]) == {"error"}
    assert set(schemas["ErrorDetail"]["properties"]) == {"code", "message", "fields"}

    # Every reference resolves: the document stands on its own.
    for ref in set(_refs(doc)):
        section, name = ref.removeprefix("#/components/").split("/")
        assert name in doc["components"][section], ref


def test_the_same_idempotency_key_and_body_return_the_same_gift_and_checkout(
    app, client, funds, stripe_sim
):
    headers = {"Idempotency-Key": "order-4f1c"}
    first = client.post(f"{API}/donations", json=gift_body(amount="25"), headers=headers)
    assert first.status_code == 201, first.get_json()
    # The same body with its keys in another order is the same request.
    body = dict(reversed(list(gift_body(amount="25").items())))
    again = client.post(f"{API}/donations", json=body, headers=headers)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    other_key = client.post(
        f"{API}/donations", json=gift_body(amount="25"), headers={"Idempotency-Key": "x-2"}
    )
    assert other_key.get_json()["donation_id"] != first.get_json()["donation_id"]
    assert count(app, Donation) == count(app, Payment) == 2


def test_the_same_idempotency_key_with_another_body_is_refused_with_422(
    app, client, funds, stripe_sim
):
    headers = {"Idempotency-Key": "order-77"}
    assert (
        client.post(f"{API}/donations", json=gift_body(amount="25"), headers=headers).status_code
        == 201
    )
    response = client.post(f"{API}/donations", json=gift_body(amount="26"), headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert count(app, Donation) == 1
    too_long = client.post(
        f"{API}/donations", json=gift_body(), headers={"Idempotency-Key": "k" * 256}
    )
    assert too_long.status_code == 400


def test_a_503_retried_with_its_idempotency_key_opens_the_same_gift(
    app, client, funds, stripe_sim, short_timeout
):
    headers = {"Idempotency-Key": "retry-me"}
    stripe_sim.hang(seconds=1.5)
    response = client.post(f"{API}/donations", json=gift_body(amount="30"), headers=headers)
    assert response.status_code == 503
    stripe_sim.wait_idle()
    retried = client.post(f"{API}/donations", json=gift_body(amount="30"), headers=headers)
    assert retried.status_code == 201, retried.get_json()
    with app.app_context():
        [donation] = db.session.scalars(sa.select(Donation)).all()
        assert retried.get_json()["donation_id"] == donation.id
