"""The JSON API holds to its OpenAPI document: schemathesis against the live app.

Every operation of ``/api/v1/openapi.json`` is called with examples generated from the
document (a bounded number, derandomized, so a run is quick and repeats itself), signed
out and signed in as a treasurer (so that the operations behind a sign-in answer too),
with the funds, tiers and catalogue in place and the Stripe simulator behind checkouts.
No answer may be a 5xx, and each must have a status, a content type and a body that the
document gives for it. A stateful run follows the links schemathesis finds between the
operations, and a member's way through the API (cart, checkout, gift, membership) is
held to the same checks with ids carried from one answer to the next call.
"""

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import sign_in

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def status_is_named(ctx, response, case):
    """The status is one the operation names, not only its catch-all ``default`` error."""
    named = {code for code in case.operation.definition.raw["responses"] if code != "default"}
    if str(response.status_code) not in named:
        raise AssertionError(
            f"{case.operation.label} answered {response.status_code}, "
            f"which its responses do not name ({', '.join(sorted(named))})"
        )


CHECKS = [
    not_a_server_error,
    status_is_named,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

EXAMPLES = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def signed_in_cookies(app, make_user):
    """The cookies of a signed-in treasurer (second factor done), for requests to the live app."""
    _, email, password = make_user(email="tess@example.org", role="treasurer")
    client = app.test_client()
    assert sign_in(client, email, password).status_code == 302
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    return {cookie.key: cookie.value}


@pytest.fixture
def api_schema(app, live_server, stripe_sim, funds, tiers, products):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    return schema.exclude(path_regex="^/stripe/")


def operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("who", ["visitor", "treasurer"])
def test_every_operation_answers_as_documented(api_schema, signed_in_cookies, who):
    cookies = signed_in_cookies if who == "treasurer" else {}
    failures = {}
    for operation in operations(api_schema):

        @EXAMPLES
        @given(case=operation.as_strategy())
        def call(case):
            case.call_and_validate(cookies=cookies, checks=CHECKS)

        try:
            call()
        except Exception as failure:  # every operation is tried; all findings are reported
            failures[operation.label] = failure
    assert not failures, "\n\n".join(f"{label}: {error}" for label, error in failures.items())


def test_calls_that_follow_one_another_answer_as_documented(api_schema, signed_in_cookies):
    """Schemathesis's state machine: the links it finds between operations (a product's id
    from the catalogue to the cart, then to changing and removing it), a few steps each."""
    calls = Counter()

    class Member(api_schema.as_state_machine()):
        def after_call(self, response, case):
            super().after_call(response, case)
            calls[case.operation.label] += 1

        def get_call_kwargs(self, case):
            return {"cookies": signed_in_cookies}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    Member.run(
        settings=settings(EXAMPLES, max_examples=15, stateful_step_count=6, phases=[Phase.generate])
    )
    # Ids flowed along links: from the catalogue into the cart's own operations.
    assert (
        calls["GET /api/v1/products/{product_id}"]
        and calls["PATCH /api/v1/cart/items/{product_id}"]
    )


#: The operations with a rate limit, and how many calls from one address it lets through.
LIMITED = [
    ("POST /api/v1/donations", 30),
    ("POST /api/v1/memberships", 30),
    ("POST /api/v1/checkout", 30),
    ("POST /api/v1/cart/items", 120),
    ("PATCH /api/v1/cart/items/{product_id}", 120),
]


@pytest.mark.parametrize(("label", "limit"), LIMITED)
def test_a_rate_limited_answer_is_documented(api_schema, signed_in_cookies, label, limit):
    """The call past the limit is a 429 that the operation names, in the error's shape."""
    import requests

    operation = api_schema.find_operation_by_label(label)
    session = requests.Session()
    session.cookies.update(signed_in_cookies)
    path = {"product_id": 1} if "{product_id}" in label else {}
    statuses = set()
    for _ in range(limit + 1):
        case = operation.Case(path_parameters=path, body={})
        statuses.add(case.call_and_validate(session=session, checks=CHECKS).status_code)
    assert 429 in statuses, (label, statuses)


ADDRESS = {"line1": "12 Elgin Street", "city": "Ottawa", "province": "ON", "postal_code": "K1P 5W1"}

#: A member's way through the API, one call after the other on one session: each answer is
#: held to the document, and ids flow from one answer to the next call.
SEQUENCE = [
    ("POST /api/v1/cart/items", {}, {"product_id": "{issue}", "quantity": 2}, 201),
    ("PATCH /api/v1/cart/items/{product_id}", {"product_id": "{issue}"}, {"quantity": 1}, 200),
    ("GET /api/v1/cart", {}, None, 200),
    ("POST /api/v1/checkout", {}, {"email": "tess@example.org", "address": ADDRESS}, 422),
    (
        "POST /api/v1/checkout",
        {},
        {"email": "tess@example.org", "address": {**ADDRESS, "name": "Tess Treasurer"}},
        201,
    ),
    ("POST /api/v1/cart/items", {}, {"product_id": "{issue}"}, 201),
    ("DELETE /api/v1/cart/items/{product_id}", {"product_id": "{issue}"}, None, 200),
    ("DELETE /api/v1/cart/items/{product_id}", {"product_id": "{issue}"}, None, 404),
    ("DELETE /api/v1/cart", {}, None, 200),
    ("GET /api/v1/products/{product_id}", {"product_id": "{issue}"}, None, 200),
    (
        "POST /api/v1/donations",
        {},
        {
            "amount": "25",
            "fund": "general",
            "frequency": "monthly",
            "donor": {"name": "Tess Treasurer", "email": "tess@example.org", "address": ADDRESS},
        },
        201,
    ),
    (
        "POST /api/v1/memberships",
        {},
        {"tier": "student", "auto_renew": False, "mondial_format": "print", "mailing": ADDRESS},
        201,
    ),
    ("GET /api/v1/me/membership", {}, None, 200),
    ("GET /api/v1/treasurer/payouts", {}, None, 200),
]


def fill(value, ids):
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


def test_a_members_way_through_the_api_answers_as_documented(
    api_schema, signed_in_cookies, products
):
    import requests

    ids = {"issue": products["issue-42"]}
    session = requests.Session()
    session.cookies.update(signed_in_cookies)
    for label, path, body, status in SEQUENCE:
        operation = api_schema.find_operation_by_label(label)
        assert operation is not None, f"{label} is not in the document"
        kwargs = {} if body is None else {"body": fill(body, ids)}
        case = operation.Case(path_parameters=fill(path, ids), **kwargs)
        response = case.call_and_validate(session=session, checks=CHECKS)
        assert response.status_code == status, (label, response.status_code, response.text)


def test_the_document_leaves_out_the_stripe_webhook(app, live_server):
    import requests

    document = requests.get(f"{live_server.url}/api/v1/openapi.json", timeout=10).json()
    assert document["paths"], "the API documents its operations"
    assert not [path for path in document["paths"] if "webhook" in path]
