"""The donor's name and address are defined once: the form, the API and the models agree."""

import html

import pytest
import sqlalchemy as sa

from core import address
from core.db import db
from donations.models import Donation, MonthlyGift, Receipt
from tests.donations.test_api import API, gift_body

#: (form field, API field, what is typed)
SAME_REFUSALS = [
    ("postal_code", "donor.address.postal_code", "12345"),
    ("province", "donor.address.province", "Ontario"),
    ("donor_name", "donor.name", "<b>Bold</b>"),
    ("donor_name", "donor.name", "Dana\r\nBcc: x@example.org"),
    ("organization_name", "donor.organization_name", "Acme <script>"),
    ("address_line1", "donor.address.line1", "12 Elgin\x1bStreet"),
    ("city", "donor.address.city", "x" * 101),
]


@pytest.mark.parametrize(("form_field", "api_field", "typed"), SAME_REFUSALS)
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_form_and_the_api_refuse_the_same_value_with_the_same_message(
    app, client, give, form_field, api_field, typed, lang
):
    body = gift_body(**{api_field: typed})
    answer = client.post(f"{API}/donations?lang={lang}", json=body)
    assert answer.status_code == 422
    [api_message] = answer.get_json()["error"]["fields"][api_field]

    response, session_id = give(lang=lang, **{form_field: typed})
    assert response.status_code == 400 and session_id is None
    assert api_message in html.unescape(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Donation.id))) == 0


def test_the_one_rule_refuses_a_bad_canadian_address_and_accepts_another_country():
    assert set(address.address_problems(province="Ontario", postal_code="12345", country="CA")) == {
        "province",
        "postal_code",
    }
    assert address.address_problems(province="Bavaria", postal_code="80331", country="de") == {}
    assert address.address_problems(province="ON", postal_code="k1a0b1", country="CA") == {}
    assert set(address.address_problems(province="", postal_code="", country="QQ")) == {"country"}


def test_a_service_caller_gets_the_same_rule(app):
    with app.test_request_context():
        with pytest.raises(address.InvalidDonor) as refused:
            address.clean_donor(
                {
                    "donor_name": "Dana <b>",
                    "address_line1": "1 Main",
                    "city": "Ottawa",
                    "province": "ON",
                    "postal_code": "K1A 0B1",
                    "country": "ca",
                }
            )
        assert refused.value.field == "donor_name"
        cleaned = address.clean_donor(
            {
                "donor_name": " Dana ",
                "address_line1": "1 Main",
                "city": "Ottawa",
                "province": "on",
                "postal_code": "k1a 0b1",
                "country": "ca",
            }
        )
        assert cleaned["province"] == "ON" and cleaned["postal_code"] == "K1A 0B1"
        assert cleaned["country"] == "CA" and cleaned["donor_name"] == "Dana"


@pytest.mark.parametrize("model", [Donation, MonthlyGift])
def test_the_models_hold_the_longest_value_the_rule_allows(model):
    for field in address.DONOR_FIELDS:
        assert model.__table__.c[field.name].type.length == field.max_length
    assert model.__table__.c["country"].type.length == address.COUNTRY_LENGTH
    assert Receipt.__table__.c["donor_name"].type.length == address.NAME.max_length
