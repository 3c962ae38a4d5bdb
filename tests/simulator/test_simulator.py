"""The Stripe simulator, driven by the real SDK over HTTP."""

import re
import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import requests
import stripe

from payments.simulator.encoding import decode
from payments.simulator.errors import StripeError
from payments.simulator.params import Bool, Int, List, Metadata, Obj, Str, validate

DAY = 86400

# Encoding and parameter schemas


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a=1", {"a": "1"}),
        ("a[b][c]=v", {"a": {"b": {"c": "v"}}}),
        ("expand[]=x&expand[]=y", {"expand": {"0": "x", "1": "y"}}),
        ("expand[0]=x&expand[1]=y", {"expand": {"0": "x", "1": "y"}}),
        (
            "line_items[0][price_data][currency]=cad&line_items[0][quantity]=2",
            {"line_items": {"0": {"price_data": {"currency": "cad"}, "quantity": "2"}}},
        ),
        ("metadata[order]=7&metadata[]=x", {"metadata": {"order": "7", "1": "x"}}),
    ],
)
def test_decode_nested_form_keys(query, expected):
    from urllib.parse import parse_qsl

    assert decode(parse_qsl(query, keep_blank_values=True)) == expected


@pytest.mark.parametrize(
    "pairs", [[("a", "1"), ("a[b]", "2")], [("a[b]", "2"), ("a", "1")], [("a]b", "1")]]
)
def test_decode_refuses_conflicting_keys(pairs):
    with pytest.raises(StripeError) as info:
        decode(pairs)
    assert info.value.status == 400


SPEC = Obj(
    {
        "n": Int(1, 5),
        "flag": Bool(),
        "tags": List(Str()),
        "metadata": Metadata(),
        "child": Obj({"name": Str()}, required=("name",)),
    }
)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"n": "3"}, {"n": 3}),
        ({"flag": "true", "tags": {"1": "b", "0": "a"}}, {"flag": True, "tags": ["a", "b"]}),
        ({"n": ""}, {}),
        ({"child": {"name": "x"}}, {"child": {"name": "x"}}),
        ({"metadata": {"k": "v", "gone": ""}}, {"metadata": {"k": "v", "gone": None}}),
    ],
)
def test_schema_converts(params, expected):
    assert validate(params, SPEC) == expected


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"bogus": "1"}, "bogus", "parameter_unknown"),
        ({"child": {"name": "x", "bogus": "1"}}, "child[bogus]", "parameter_unknown"),
        ({"child": {}}, "child[name]", "parameter_missing"),
        ({"n": "x"}, "n", "parameter_invalid_integer"),
        ({"n": "9"}, "n", "parameter_invalid_integer"),
        ({"flag": "yes"}, "flag", None),
        ({"tags": "a"}, "tags", None),
    ],
)
def test_schema_refuses(params, param, code):
    with pytest.raises(StripeError) as info:
        validate(params, SPEC)
    assert (info.value.param, info.value.code, info.value.validation) == (param, code, True)


# Objects parse into the SDK's classes


@pytest.fixture
def world(sdk, control, checkout):
    """One of everything: payments, a refund, a dispute, a subscription and a payout."""
    paid = checkout(5000, pay="success")
    disputed = checkout(3000, pay="success")
    pi = sdk.v1.payment_intents.retrieve(paid.payment_intent)
    refund = sdk.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1000})
    ch2 = sdk.v1.payment_intents.retrieve(disputed.payment_intent).latest_charge
    dispute = control.post(f"/charges/{ch2}/dispute")["dispute"]
    monthly = checkout(1000, interval="month", pay="success")
    control.post("/clock/advance", days=3)
    payout = control.post("/payouts")["payout"]
    portal = sdk.v1.billing_portal.sessions.create(
        params={"customer": monthly.customer, "return_url": "https://app.test/account"}
    )
    return {
        "session": paid,
        "pi": pi,
        "refund": refund,
        "dispute": dispute,
        "monthly": monthly,
        "payout": payout,
        "portal": portal,
    }


OBJECT_CLASSES = [
    (
        "session",
        lambda c, w: c.v1.checkout.sessions.retrieve(w["session"].id),
        stripe.checkout.Session,
    ),
    (
        "line item",
        lambda c, w: c.v1.checkout.sessions.line_items.list(w["session"].id).data[0],
        stripe.LineItem,
    ),
    (
        "payment intent",
        lambda c, w: c.v1.payment_intents.retrieve(w["pi"].id),
        stripe.PaymentIntent,
    ),
    ("charge", lambda c, w: c.v1.charges.retrieve(w["pi"].latest_charge), stripe.Charge),
    (
        "balance transaction",
        lambda c, w: c.v1.balance_transactions.retrieve(
            c.v1.charges.retrieve(w["pi"].latest_charge).balance_transaction
        ),
        stripe.BalanceTransaction,
    ),
    ("refund", lambda c, w: c.v1.refunds.retrieve(w["refund"].id), stripe.Refund),
    ("dispute", lambda c, w: c.v1.disputes.retrieve(w["dispute"]["id"]), stripe.Dispute),
    ("customer", lambda c, w: c.v1.customers.retrieve(w["monthly"].customer), stripe.Customer),
    (
        "subscription",
        lambda c, w: c.v1.subscriptions.retrieve(w["monthly"].subscription),
        stripe.Subscription,
    ),
    ("invoice", lambda c, w: c.v1.invoices.retrieve(w["monthly"].invoice), stripe.Invoice),
    (
        "invoice payment",
        lambda c, w: c.v1.invoice_payments.list(params={"invoice": w["monthly"].invoice}).data[0],
        stripe.InvoicePayment,
    ),
    ("payout", lambda c, w: c.v1.payouts.retrieve(w["payout"]["id"]), stripe.Payout),
    ("portal session", lambda c, w: w["portal"], stripe.billing_portal.Session),
    ("event", lambda c, w: c.v1.events.list().data[0], stripe.Event),
    (
        "subscription item",
        lambda c, w: c.v1.subscriptions.retrieve(w["monthly"].subscription)["items"].data[0],
        stripe.SubscriptionItem,
    ),
    (
        "invoice line",
        lambda c, w: c.v1.invoices.retrieve(w["monthly"].invoice).lines.data[0],
        stripe.InvoiceLineItem,
    ),
]


@pytest.mark.parametrize(("name", "get", "cls"), OBJECT_CLASSES, ids=[o[0] for o in OBJECT_CLASSES])
def test_objects_parse_into_sdk_classes(sdk, world, name, get, cls):
    obj = get(sdk, world)
    assert isinstance(obj, cls)
    assert obj.id and obj.to_dict().get("livemode", False) is False


def test_shapes_follow_the_pinned_version(sdk, world):
    sub = sdk.v1.subscriptions.retrieve(world["monthly"].subscription)
    item = sub["items"].data[0]
    assert "current_period_end" not in sub and item.current_period_end > item.current_period_start
    inv = sdk.v1.invoices.retrieve(world["monthly"].invoice)
    for gone in ("subscription", "charge", "payment_intent", "paid", "payments"):
        assert gone not in inv
    assert inv.parent.type == "subscription_details"
    assert inv.parent.subscription_details.subscription == sub.id
    line = inv.lines.data[0]
    assert line.parent.subscription_item_details.subscription_item == item.id
    assert line.pricing.price_details.price == item.price.id
    pi = world["pi"]
    assert "invoice" not in pi and "charges" not in pi
    assert pi.id.startswith("pi_") and pi.client_secret.startswith(pi.id + "_secret_")
    assert world["session"].id.startswith("cs_test_")
    assert world["dispute"]["id"].startswith("dp_")


# Lists and pagination


@pytest.fixture
def customers(sdk):
    return [sdk.v1.customers.create(params={"email": f"c{n}@example.org"}) for n in range(25)]


@pytest.mark.parametrize("limit", [0, 101, "many"])
def test_limit_out_of_range(sdk, limit):
    with pytest.raises(stripe.InvalidRequestError) as info:
        sdk.v1.customers.list(params={"limit": limit})
    assert info.value.param == "limit" and info.value.http_status == 400


@pytest.mark.parametrize(
    ("limit", "size", "has_more"), [(1, 1, True), (10, 10, True), (25, 25, False), (100, 25, False)]
)
def test_limit_and_has_more(sdk, customers, limit, size, has_more):
    page = sdk.v1.customers.list(params={"limit": limit})
    assert (len(page.data), page.has_more, page.url) == (size, has_more, "/v1/customers")
    assert [c.id for c in page.data] == [c.id for c in reversed(customers)][:size]


def test_cursors(sdk, customers):
    newest_first = [c.id for c in reversed(customers)]
    page = sdk.v1.customers.list(params={"limit": 5, "starting_after": newest_first[4]})
    assert [c.id for c in page.data] == newest_first[5:10] and page.has_more
    page = sdk.v1.customers.list(params={"limit": 5, "ending_before": newest_first[9]})
    assert [c.id for c in page.data] == newest_first[4:9] and page.has_more
    page = sdk.v1.customers.list(params={"limit": 5, "ending_before": newest_first[3]})
    assert [c.id for c in page.data] == newest_first[:3] and not page.has_more


def test_auto_paging_forwards_and_backwards(sdk, customers):
    forwards = [c.id for c in sdk.v1.customers.list(params={"limit": 10}).auto_paging_iter()]
    assert forwards == [c.id for c in reversed(customers)]
    backwards = sdk.v1.customers.list(params={"limit": 10, "ending_before": customers[0].id})
    assert [c.id for c in backwards.auto_paging_iter()] == [c.id for c in customers[1:]]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"starting_after": "cus_nope"}, "starting_after"),
        ({"ending_before": "cus_nope"}, "ending_before"),
    ],
)
def test_unknown_cursor(sdk, params, param):
    with pytest.raises(stripe.InvalidRequestError) as info:
        sdk.v1.customers.list(params=params)
    assert (info.value.code, info.value.param) == ("resource_missing", param)


def test_created_filter(sdk, control):
    made = []
    for _ in range(3):
        made.append(sdk.v1.customers.create())
        control.post("/clock/advance", seconds=10)
    found = sdk.v1.customers.list(params={"created": {"gt": made[0].created}})
    assert [c.id for c in found.data] == [made[2].id, made[1].id]
    found = sdk.v1.customers.list(params={"created": made[1].created})
    assert [c.id for c in found.data] == [made[1].id]


# Expand


def test_expand_both_spellings_over_raw_http(raw, checkout):
    session = checkout(pay="success")
    for key in ("expand[]", "expand[0]"):
        body = raw("GET", f"/v1/checkout/sessions/{session.id}?{key}=payment_intent").json()
        assert body["payment_intent"]["object"] == "payment_intent"
    plain = raw("GET", f"/v1/checkout/sessions/{session.id}").json()
    assert plain["payment_intent"].startswith("pi_")


def test_expand_on_create_and_dotted(sdk, checkout):
    session = checkout(pay="success")
    deep = sdk.v1.checkout.sessions.retrieve(
        session.id,
        params={
            "expand": [
                "payment_intent.latest_charge.balance_transaction",
                "line_items.data.price.product",
            ]
        },
    )
    txn = deep.payment_intent.latest_charge.balance_transaction
    assert isinstance(txn, stripe.BalanceTransaction) and txn.type == "charge"
    assert isinstance(deep.line_items.data[0].price.product, stripe.Product)
    created = sdk.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "success_url": "https://app.test/ok",
            "expand": ["line_items"],
            "line_items": [{"price": deep.line_items.data[0].price.id, "quantity": 2}],
        }
    )
    assert created.line_items.data[0].amount_total == 2 * deep.amount_total


def test_expand_in_lists_needs_data_prefix(sdk, checkout):
    checkout(pay="success")
    page = sdk.v1.checkout.sessions.list(params={"expand": ["data.payment_intent"]})
    assert isinstance(page.data[0].payment_intent, stripe.PaymentIntent)
    with pytest.raises(stripe.InvalidRequestError, match="data.payment_intent"):
        sdk.v1.checkout.sessions.list(params={"expand": ["payment_intent"]})


@pytest.mark.parametrize(
    ("kind", "field"),
    [("session", "line_items"), ("charge", "refunds"), ("invoice", "payments")],
)
def test_includables_only_when_expanded(sdk, checkout, kind, field):
    paid = checkout(pay="success")
    monthly = checkout(1000, interval="month", pay="success")
    pi = sdk.v1.payment_intents.retrieve(paid.payment_intent)
    sdk.v1.refunds.create(params={"payment_intent": pi.id, "amount": 100})
    retrieve = {
        "session": lambda **p: sdk.v1.checkout.sessions.retrieve(paid.id, **p),
        "charge": lambda **p: sdk.v1.charges.retrieve(pi.latest_charge, **p),
        "invoice": lambda **p: sdk.v1.invoices.retrieve(monthly.invoice, **p),
    }[kind]
    assert field not in retrieve()
    included = retrieve(params={"expand": [field]})[field]
    assert included.object == "list" and len(included.data) == 1


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("amount_total", "cannot be expanded (amount_total)"),
        ("nothing", "cannot be expanded (nothing)"),
        ("payment_intent.latest_charge.customer.default_source.x", "more than 4 levels"),
    ],
)
def test_expand_refusals(sdk, checkout, path, message):
    session = checkout(pay="success")
    with pytest.raises(stripe.InvalidRequestError, match=re.escape(message)) as info:
        sdk.v1.checkout.sessions.retrieve(session.id, params={"expand": [path]})
    assert info.value.http_status == 400


# Errors


def test_missing_and_wrong_api_key(raw, sim):
    body = raw("GET", "/v1/charges", key=None)
    assert body.status_code == 401
    assert "You did not provide an API key" in body.json()["error"]["message"]
    assert body.json()["error"]["type"] == "invalid_request_error"
    sdk = stripe.StripeClient(
        "sk_live_wrong_key_1234",
        base_addresses={"api": sim.config.public_url},
        max_network_retries=0,
    )
    with pytest.raises(stripe.AuthenticationError, match="Invalid API Key"):
        sdk.v1.customers.list()


MISSING = [
    ("checkout.session", lambda c: c.v1.checkout.sessions.retrieve("cs_test_nope")),
    ("payment_intent", lambda c: c.v1.payment_intents.retrieve("pi_nope")),
    ("charge", lambda c: c.v1.charges.retrieve("ch_nope")),
    ("balance_transaction", lambda c: c.v1.balance_transactions.retrieve("txn_nope")),
    ("refund", lambda c: c.v1.refunds.retrieve("re_nope")),
    ("dispute", lambda c: c.v1.disputes.retrieve("dp_nope")),
    ("customer", lambda c: c.v1.customers.retrieve("cus_nope")),
    ("subscription", lambda c: c.v1.subscriptions.retrieve("sub_nope")),
    ("invoice", lambda c: c.v1.invoices.retrieve("in_nope")),
    ("payout", lambda c: c.v1.payouts.retrieve("po_nope")),
    ("event", lambda c: c.v1.events.retrieve("evt_nope")),
]


@pytest.mark.parametrize(("kind", "call"), MISSING, ids=[m[0] for m in MISSING])
def test_unknown_ids_are_resource_missing(sdk, kind, call):
    with pytest.raises(stripe.InvalidRequestError) as info:
        call(sdk)
    error = info.value
    assert error.http_status == 404 and error.code == "resource_missing" and error.param == "id"
    assert error.user_message.startswith(f"No such {kind}: '")
    assert error.error.doc_url == "https://stripe.com/docs/error-codes/resource-missing"


def test_unknown_id_in_a_body_param(sdk):
    with pytest.raises(stripe.InvalidRequestError) as info:
        sdk.v1.billing_portal.sessions.create(params={"customer": "cus_nope"})
    assert (info.value.http_status, info.value.param) == (400, "customer")
    with pytest.raises(stripe.InvalidRequestError) as info:
        sdk.v1.checkout.sessions.create(
            params={"mode": "payment", "line_items": [{"price": "price_nope", "quantity": 1}]}
        )
    assert info.value.param == "line_items[0][price]"


def test_unknown_and_missing_params(sdk, raw):
    with pytest.raises(stripe.InvalidRequestError) as info:
        sdk.v1.customers.create(params={"emial": "x@example.org"})
    assert (info.value.code, info.value.param) == ("parameter_unknown", "emial")
    assert info.value.user_message == "Received unknown parameter: emial"
    nested = {"mode": "payment", "line_items[0][price_data][bogus]": "1"}
    body = raw("POST", "/v1/checkout/sessions", nested).json()["error"]
    assert body["param"] == "line_items[0][price_data][bogus]"
    with pytest.raises(stripe.InvalidRequestError) as info:
        sdk.v1.checkout.sessions.create(params={"success_url": "https://app.test"})
    assert (info.value.code, info.value.param) == ("parameter_missing", "mode")
    with pytest.raises(stripe.InvalidRequestError) as info:
        sdk.v1.billing_portal.sessions.create(params={"return_url": "https://app.test"})
    assert info.value.param == "customer"


def test_unknown_route(raw):
    response = raw("GET", "/v1/nope")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["message"].startswith("Unrecognized request URL (GET: /v1/nope)")
    assert response.headers["Request-Id"].startswith("req_")
    assert raw("POST", "/v1/charges/ch_x").status_code == 404


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"mode": "subscription"}, "at least one recurring price"),
        ({"mode": "payment", "recurring": True}, "passed a recurring price"),
        ({"mode": "payment", "expires_at": 10 * 60}, "at least 30 minutes"),
        ({"mode": "payment", "expires_at": 25 * 3600}, "less than 24 hours"),
        ({"mode": "payment", "customer": "cus_x", "customer_email": "a@b.c"}, "only specify one"),
        ({"mode": "payment", "amount": 20}, "at least $0.50"),
        ({"mode": "subscription", "recurring": True, "submit_type": "donate"}, "payment"),
    ],
)
def test_session_validation(sdk, params, message):
    price_data = {
        "currency": "cad",
        "unit_amount": params.pop("amount", 1000),
        "product_data": {"name": "x"},
    }
    if params.pop("recurring", False):
        price_data["recurring"] = {"interval": "month"}
    if "expires_at" in params:
        params["expires_at"] += int(time.time())
    with pytest.raises(stripe.InvalidRequestError, match=re.escape(message)):
        sdk.v1.checkout.sessions.create(
            params={**params, "line_items": [{"price_data": price_data, "quantity": 1}]}
        )


# Idempotency


def test_same_key_same_body_replays(sdk, raw):
    headers = {"Idempotency-Key": "key-1"}
    first = raw("POST", "/v1/customers", {"email": "a@example.org"}, headers=headers)
    again = raw("POST", "/v1/customers", {"email": "a@example.org"}, headers=headers)
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Idempotency-Key"] == "key-1"
    assert "Idempotent-Replayed" not in first.headers
    options = {"idempotency_key": "key-2"}
    one = sdk.v1.customers.create(params={"name": "Ada"}, options=options)
    two = sdk.v1.customers.create(params={"name": "Ada"}, options=options)
    assert one.id == two.id
    assert len(sdk.v1.customers.list().data) == 2


def test_same_key_other_body_is_an_idempotency_error(sdk):
    options = {"idempotency_key": "key-3"}
    sdk.v1.customers.create(params={"name": "Ada"}, options=options)
    with pytest.raises(stripe.IdempotencyError) as info:
        sdk.v1.customers.create(params={"name": "Grace"}, options=options)
    assert info.value.http_status == 400


def test_validation_errors_are_not_saved(sdk):
    options = {"idempotency_key": "key-4"}
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.customers.create(params={"nmae": "Ada"}, options=options)
    assert sdk.v1.customers.create(params={"name": "Ada"}, options=options).name == "Ada"


def test_state_errors_are_saved(sdk, checkout):
    pi = checkout(1000, pay="success").payment_intent
    options = {"idempotency_key": "key-5"}
    for _ in range(2):
        with pytest.raises(stripe.InvalidRequestError, match="greater than unrefunded"):
            sdk.v1.refunds.create(params={"payment_intent": pi, "amount": 5000}, options=options)


def test_in_flight_key_conflicts(raw, control, sim):
    control.post("/hang", seconds=0.6, count=1)
    headers = {"Idempotency-Key": "key-6"}
    results = {}

    def first():
        results["first"] = raw("POST", "/v1/customers", {"name": "Slow"}, headers=headers)

    thread = threading.Thread(target=first)
    thread.start()
    deadline = time.monotonic() + 5
    while control.get("/state")["idempotency_in_flight"] == 0:
        assert time.monotonic() < deadline, "the first request never started"
    conflict = raw("POST", "/v1/customers", {"name": "Slow"}, headers=headers)
    thread.join()
    assert conflict.status_code == 409
    assert (
        "another in-progress request using this Idempotent Key"
        in (conflict.json()["error"]["message"])
    )
    replay = raw("POST", "/v1/customers", {"name": "Slow"}, headers=headers)
    assert replay.json()["id"] == results["first"].json()["id"]
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_a_failure_asked_for_answers_500_and_leaves_the_key_free(sdk, control):
    control.post("/fail", status=500, count=1)
    options = {"idempotency_key": "key-fail"}
    with pytest.raises(stripe.APIError) as info:
        sdk.v1.customers.create(params={"name": "Ada"}, options=options)
    assert info.value.http_status == 500 and info.value.error.type == "api_error"
    assert sdk.v1.customers.list().data == []  # nothing was done
    retried = sdk.v1.customers.create(params={"name": "Ada"}, options=options)
    assert "Idempotent-Replayed" not in retried.last_response.headers
    assert [c.id for c in sdk.v1.customers.list().data] == [retried.id]
    assert control.get("/state")["failing"]["count"] == 0
    control.post("/fail", expect=400, status=404)


def test_client_timeout_then_retry(sim, control):
    control.post("/hang", seconds=0.6, count=1)
    impatient = stripe.StripeClient(
        "sk_test_sim",
        base_addresses={"api": sim.config.public_url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=0.2),
    )
    options = {"idempotency_key": "key-7"}
    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.customers.create(params={"name": "Late"}, options=options)
    with pytest.raises(stripe.APIError) as info:
        impatient.v1.customers.create(params={"name": "Late"}, options=options)
    assert info.value.http_status == 409
    deadline = time.monotonic() + 5
    while control.get("/state")["idempotency_in_flight"]:
        assert time.monotonic() < deadline, "the stalled request never finished"
    late = impatient.v1.customers.create(params={"name": "Late"}, options=options)
    assert late.last_response.headers["Idempotent-Replayed"] == "true"
    assert [c.id for c in impatient.v1.customers.list().data] == [late.id]


def test_keys_expire_after_a_day(sdk, control):
    options = {"idempotency_key": "key-8"}
    first = sdk.v1.customers.create(params={"name": "Ada"}, options=options)
    control.post("/clock/advance", days=1, seconds=60)
    other = sdk.v1.customers.create(params={"name": "Grace"}, options=options)
    assert other.id != first.id


# Money


@pytest.mark.parametrize(
    ("amount", "fee"),
    [(500, 45), (1000, 59), (1234, 66), (1500, 74), (5000, 175), (10000, 320)],
)
def test_card_fee_and_net(sdk, control, checkout, amount, fee):
    session = checkout(amount, pay="success")
    charge = sdk.v1.payment_intents.retrieve(
        session.payment_intent, params={"expand": ["latest_charge.balance_transaction"]}
    ).latest_charge
    txn = charge.balance_transaction
    assert (txn.amount, txn.fee, txn.net) == (amount, fee, amount - fee)
    assert (txn.type, txn.reporting_category, txn.source) == ("charge", "charge", charge.id)
    assert [(d.type, d.amount) for d in txn.fee_details] == [("stripe_fee", fee)]
    assert txn.available_on == txn.created + 2 * DAY and txn.status == "pending"
    control.post("/clock/advance", days=2)
    assert sdk.v1.balance_transactions.retrieve(txn.id).status == "available"


def test_refunds(sdk, checkout):
    session = checkout(5000, pay="success")
    first = sdk.v1.refunds.create(
        params={
            "payment_intent": session.payment_intent,
            "amount": 2000,
            "reason": "requested_by_customer",
        }
    )
    charge = sdk.v1.charges.retrieve(first.charge)
    assert (charge.amount_refunded, charge.refunded) == (2000, False)
    txn = sdk.v1.balance_transactions.retrieve(first.balance_transaction)
    assert (txn.type, txn.reporting_category, txn.amount, txn.fee, txn.net, txn.source) == (
        "refund",
        "refund",
        -2000,
        0,
        -2000,
        first.id,
    )
    with pytest.raises(stripe.InvalidRequestError, match="greater than unrefunded") as info:
        sdk.v1.refunds.create(params={"charge": charge.id, "amount": 3001})
    assert info.value.param == "amount"
    rest = sdk.v1.refunds.create(params={"charge": charge.id})
    assert rest.amount == 3000
    charge = sdk.v1.charges.retrieve(charge.id)
    assert (charge.amount_refunded, charge.refunded) == (5000, True)
    with pytest.raises(stripe.InvalidRequestError) as info:
        sdk.v1.refunds.create(params={"charge": charge.id})
    assert info.value.code == "charge_already_refunded"
    listed = sdk.v1.refunds.list(params={"payment_intent": session.payment_intent})
    assert [r.id for r in listed.data] == [rest.id, first.id]
    fee_txn = sdk.v1.balance_transactions.list(params={"source": charge.id}).data[0]
    assert fee_txn.fee == 175  # Stripe keeps its fee on a refund


def test_refund_events_are_asynchronous_and_carry_the_request(sdk, control, checkout, receiver):
    session = checkout(5000, pay="success")
    receiver.clear()
    refund = sdk.v1.refunds.create(
        params={"payment_intent": session.payment_intent}, options={"idempotency_key": "refund-1"}
    )
    control.post("/flush")
    events = receiver.events
    assert [e.type for e in events] == ["refund.created", "charge.refunded"]
    assert events[0].data.object.id == refund.id
    assert events[0].request.idempotency_key == "refund-1"
    assert events[0].request.id.startswith("req_")


def test_dashboard_refund_and_failed_refund(sdk, control, checkout, receiver):
    session = checkout(5000, pay="success")
    refund = control.post(f"/charges/{session.payment_intent}/refund", amount=1500)["refund"]
    assert receiver.events[-1].request.id is None
    receiver.clear()
    failed = control.post(f"/refunds/{refund['id']}/fail")["refund"]
    assert receiver.types() == ["refund.failed", "refund.updated"]
    assert receiver.events[1].data.previous_attributes.status == "succeeded"
    assert failed["status"] == "failed" and failed["failure_reason"]
    back = sdk.v1.balance_transactions.retrieve(failed["failure_balance_transaction"])
    assert (back.type, back.reporting_category, back.amount) == (
        "adjustment",
        "refund_failure",
        1500,
    )
    assert sdk.v1.charges.retrieve(refund["charge"]).amount_refunded == 0


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_disputes(sdk, control, checkout, receiver, outcome):
    session = checkout(4000, pay="success")
    charge = sdk.v1.payment_intents.retrieve(session.payment_intent).latest_charge
    receiver.clear()
    opened = control.post(f"/charges/{charge}/dispute", reason="fraudulent")["dispute"]
    assert receiver.types() == ["charge.dispute.created", "charge.dispute.funds_withdrawn"]
    dispute = sdk.v1.disputes.retrieve(opened["id"])
    assert (dispute.status, dispute.amount, dispute.reason) == (
        "needs_response",
        4000,
        "fraudulent",
    )
    txn = dispute.balance_transactions[0]
    assert isinstance(txn, stripe.BalanceTransaction)
    assert (txn.type, txn.reporting_category, txn.amount, txn.fee, txn.net, txn.source) == (
        "adjustment",
        "dispute",
        -4000,
        1500,
        -5500,
        dispute.id,
    )
    assert txn.description == f"Chargeback withdrawal for {charge}"
    assert txn.fee_details[0].description == "Dispute fee"
    assert sdk.v1.charges.retrieve(charge).disputed is True
    with pytest.raises(stripe.InvalidRequestError, match="charged back"):
        sdk.v1.refunds.create(params={"charge": charge})
    receiver.clear()
    if outcome == "won":
        closed = control.post(f"/disputes/{dispute.id}/close", outcome="won")["dispute"]
        assert receiver.types() == ["charge.dispute.closed", "charge.dispute.funds_reinstated"]
        back = closed["balance_transactions"][1]
        assert (back["reporting_category"], back["amount"], back["fee"]) == (
            "dispute_reversal",
            4000,
            0,
        )
    else:
        closed = sdk.v1.disputes.close(dispute.id)
        control.post("/flush")
        assert receiver.types() == ["charge.dispute.closed"]
        assert len(closed.balance_transactions) == 1
    assert closed["status"] == outcome


def test_payout_reconciles_to_zero(sdk, control, checkout, receiver):
    first = checkout(5000, pay="success")
    checkout(2500, pay="success")
    sdk.v1.refunds.create(params={"payment_intent": first.payment_intent, "amount": 1000})
    control.post("/flush")
    nothing = control.post("/payouts", expect=400)  # nothing is available yet
    assert "Insufficient" in nothing["error"]["message"]
    control.post("/clock/advance", days=2)
    receiver.clear()
    payout = sdk.v1.payouts.retrieve(control.post("/payouts")["payout"]["id"])
    assert receiver.types() == ["payout.created", "payout.paid", "payout.reconciliation_completed"]
    assert (payout.status, payout.automatic, payout.reconciliation_status) == (
        "paid",
        True,
        "completed",
    )
    txns = list(
        sdk.v1.balance_transactions.list(
            params={"payout": payout.id, "limit": 2}
        ).auto_paging_iter()
    )
    assert sorted(t.type for t in txns) == ["charge", "charge", "payout", "refund"]
    assert sum(t.net for t in txns) == 0
    assert payout.amount == (5000 - 175) + (2500 - 103) - 1000
    own = sdk.v1.balance_transactions.retrieve(payout.balance_transaction)
    assert (own.type, own.amount, own.source) == ("payout", -payout.amount, payout.id)
    control.post("/payouts", expect=400)  # everything is settled


def test_manual_and_failed_payouts(sdk, control, checkout, receiver):
    checkout(5000, pay="success")
    checkout(3000, pay="success")
    control.post("/clock/advance", days=2)
    manual = control.post("/payouts/manual", amount=1000)["payout"]
    with pytest.raises(stripe.InvalidRequestError, match="automatic transfers, not manual") as e:
        sdk.v1.balance_transactions.list(params={"payout": manual["id"]})
    assert e.value.param == "payout"
    receiver.clear()
    failed = control.post("/payouts", amount=5000, fail=True)["payout"]
    assert receiver.types() == ["payout.created", "payout.failed"]
    assert failed["amount"] == 4825  # whole transactions only, up to the amount
    back = sdk.v1.balance_transactions.retrieve(failed["failure_balance_transaction"])
    assert (back.type, back.amount) == ("payout_failure", 4825)
    listed = sdk.v1.payouts.list(params={"status": "failed"})
    assert [p.id for p in listed.data] == [failed["id"]]


# Subscriptions


def test_subscription_checkout(sdk, control, receiver):
    session = sdk.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "success_url": "https://app.test/ok",
            "customer_email": "ada@example.org",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "cad",
                        "unit_amount": 2500,
                        "recurring": {"interval": "month"},
                        "product_data": {"name": "Membership"},
                    },
                }
            ],
            "subscription_data": {"metadata": {"membership": "42"}},
        }
    )
    assert session.payment_intent is None and session.customer_creation is None
    control.post(f"/checkout/sessions/{session.id}/pay", card="success", name="Ada")
    assert receiver.types() == [
        "customer.created",
        "customer.subscription.created",
        "payment_intent.succeeded",
        "charge.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "checkout.session.completed",
        "customer.subscription.updated",
    ]
    created, updated = receiver.events[1], receiver.events[-1]
    assert created.data.object.status == "incomplete"
    assert updated.data.previous_attributes.status == "incomplete"
    session = sdk.v1.checkout.sessions.retrieve(session.id)
    assert (session.status, session.payment_status, session.payment_intent) == (
        "complete",
        "paid",
        None,
    )
    assert session.customer_details.email == "ada@example.org"
    sub = sdk.v1.subscriptions.retrieve(session.subscription)
    assert (sub.status, sub.customer, sub.metadata.membership) == ("active", session.customer, "42")
    assert sub.latest_invoice == session.invoice
    invoice = sdk.v1.invoices.retrieve(session.invoice, params={"expand": ["payments"]})
    assert (invoice.billing_reason, invoice.status, invoice.amount_paid) == (
        "subscription_create",
        "paid",
        2500,
    )
    assert invoice.parent.subscription_details.metadata.membership == "42"
    payment = invoice.payments.data[0]
    assert (payment.payment.type, payment.status, payment.amount_paid) == (
        "payment_intent",
        "paid",
        2500,
    )
    pi = sdk.v1.payment_intents.retrieve(payment.payment.payment_intent)
    assert pi.metadata.to_dict() == {}
    listed = sdk.v1.invoice_payments.list(
        params={
            "payment": {"type": "payment_intent", "payment_intent": payment.payment.payment_intent}
        }
    )
    assert [p.invoice for p in listed.data] == [invoice.id]


def test_renewals_one_per_period(sdk, control, checkout, receiver):
    session = checkout(1000, interval="month", pay="success")
    receiver.clear()
    control.post("/clock/advance", days=92)
    renewals = sdk.v1.invoices.list(params={"subscription": session.subscription, "limit": 10})
    reasons = [i.billing_reason for i in reversed(renewals.data)]
    assert reasons == ["subscription_create"] + ["subscription_cycle"] * 3
    assert all(i.status == "paid" and i.amount_paid == 1000 for i in renewals.data)
    assert receiver.types()[:6] == [
        "invoice.created",
        "payment_intent.succeeded",
        "charge.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
    ]
    sub = sdk.v1.subscriptions.retrieve(session.subscription)
    item = sub["items"].data[0]
    lines = [i.lines.data[0].period for i in reversed(renewals.data)]
    assert all(a.end == b.start for a, b in zip(lines, lines[1:], strict=False))
    assert item.current_period_start == lines[-1].start
    assert item.current_period_end == lines[-1].end > control.get("/clock")["now"]
    previous = receiver.events[5].data.previous_attributes
    assert "items" in previous


def test_failed_renewal_then_portal_card_update(sdk, control, checkout, receiver, parse_html):
    session = checkout(1000, interval="month", pay="renewal_fails")
    receiver.clear()
    control.post("/clock/advance", days=31)
    assert receiver.types() == [
        "invoice.created",
        "charge.failed",
        "payment_intent.payment_failed",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    sub = sdk.v1.subscriptions.retrieve(session.subscription)
    assert sub.status == "past_due"
    invoice = sdk.v1.invoices.retrieve(sub.latest_invoice)
    assert (invoice.status, invoice.billing_reason, invoice.amount_remaining) == (
        "open",
        "subscription_cycle",
        1000,
    )
    portal = sdk.v1.billing_portal.sessions.create(
        params={"customer": sub.customer, "return_url": "https://app.test/account", "locale": "fr"}
    )
    html = requests.get(portal.url, timeout=10).text
    ids = parse_html(html).by_id
    assert ids["return"]["href"] == "https://app.test/account"
    assert "Mettre à jour la carte" in ids["update-card"]["text"]
    form = f"{portal.url}/subscriptions/{sub.id}/card"
    response = requests.post(form, data={"card": "success"}, timeout=10)
    assert response.status_code == 200  # followed the 303 back to the portal
    assert sdk.v1.invoices.retrieve(invoice.id).status == "paid"
    assert sdk.v1.subscriptions.retrieve(sub.id).status == "active"
    assert "invoice.paid" in receiver.types()


def test_cancel_at_period_end_from_the_portal(sdk, control, checkout, receiver, parse_html):
    session = checkout(1000, interval="month", pay="success")
    sub = sdk.v1.subscriptions.retrieve(session.subscription)
    portal = sdk.v1.billing_portal.sessions.create(params={"customer": sub.customer})
    assert portal.url.endswith(f"/p/session/{portal.id}") and portal.id.startswith("bps_")
    ids = parse_html(requests.get(portal.url, timeout=10).text).by_id
    assert "cancel-subscription" in ids and "update-card" in ids
    receiver.clear()
    requests.post(f"{portal.url}/subscriptions/{sub.id}/cancel", timeout=10)
    event = receiver.events[0]
    assert event.type == "customer.subscription.updated"
    assert event.data.previous_attributes.cancel_at_period_end is False
    period_end = sub["items"].data[0].current_period_end
    assert event.data.object.cancel_at == period_end
    receiver.clear()
    control.post("/clock/advance", days=40)
    assert receiver.types() == ["customer.subscription.deleted"]
    ended = sdk.v1.subscriptions.retrieve(sub.id)
    assert (ended.status, ended.ended_at) == ("canceled", period_end)
    assert sdk.v1.subscriptions.list(params={"customer": sub.customer}).data == []
    listed = sdk.v1.subscriptions.list(params={"status": "canceled"})
    assert [s.id for s in listed.data] == [sub.id]


def test_price_change_applies_at_next_renewal(sdk, control, checkout, receiver):
    session = checkout(1000, interval="month", pay="success")
    sub = sdk.v1.subscriptions.retrieve(session.subscription)
    item = sub["items"].data[0]
    updated = sdk.v1.subscriptions.update(
        sub.id,
        params={
            "proration_behavior": "none",
            "metadata": {"tier": "gold"},
            "items": [
                {
                    "id": item.id,
                    "price_data": {
                        "currency": "cad",
                        "product": item.price.product,
                        "unit_amount": 1500,
                        "recurring": {"interval": "month"},
                    },
                }
            ],
        },
    )
    assert updated["items"].data[0].price.unit_amount == 1500
    assert sdk.v1.invoices.retrieve(sub.latest_invoice).amount_paid == 1000
    control.post("/flush")
    changed = [e for e in receiver.events if e.type == "customer.subscription.updated"][-1]
    assert changed.data.previous_attributes["items"].data[0].price.unit_amount == 1000
    assert changed.data.previous_attributes.metadata.to_dict() == {"tier": None}
    control.post("/clock/advance", days=31)
    renewal = sdk.v1.invoices.retrieve(sdk.v1.subscriptions.retrieve(sub.id).latest_invoice)
    assert (renewal.billing_reason, renewal.amount_paid) == ("subscription_cycle", 1500)
    with pytest.raises(stripe.InvalidRequestError) as info:
        sdk.v1.subscriptions.update(sub.id, params={"items": [{"id": "si_nope"}]})
    assert info.value.param == "items[0][id]"


def test_cancel_now(sdk, control, checkout, receiver):
    session = checkout(1000, interval="year", pay="success")
    canceled = sdk.v1.subscriptions.cancel(session.subscription)
    assert canceled.status == "canceled" and canceled.ended_at == canceled.canceled_at
    control.post("/flush")
    assert receiver.types()[-1] == "customer.subscription.deleted"
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.subscriptions.cancel(session.subscription)


# Webhooks and events


def test_signatures_verify_under_each_secret(sim, checkout, receiver):
    checkout(pay="success")
    delivery = receiver.received[0]
    header = delivery["headers"]["Stripe-Signature"]
    assert header.count("v1=") == 2
    assert delivery["headers"]["User-Agent"] == "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
    assert delivery["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert len(sim.config.webhook_secrets) == 2
    for secret in sim.config.webhook_secrets:
        event = stripe.Webhook.construct_event(delivery["body"], header, secret)
        assert event.type == "payment_intent.succeeded"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery["body"], header, "whsec_other")


def test_events_are_immutable_snapshots(sdk, control, checkout, receiver):
    session = checkout(5000, pay="success")
    sdk.v1.refunds.create(params={"payment_intent": session.payment_intent})
    control.post("/flush")
    succeeded = sdk.v1.events.list(params={"type": "charge.succeeded"}).data[0]
    assert succeeded.data.object.amount_refunded == 0
    assert succeeded.request.id is None
    refunded = sdk.v1.events.list(params={"type": "charge.refunded"}).data[0]
    assert refunded.data.object.amount_refunded == 5000
    assert "refunds" not in refunded.data.object
    assert succeeded.api_version == "2026-10-28.endive" and succeeded.pending_webhooks == 0


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("normal", ["payment_intent.succeeded", "charge.succeeded", "checkout.session.completed"]),
        (
            "twice",
            ["payment_intent.succeeded", "charge.succeeded", "checkout.session.completed"] * 2,
        ),
        ("reverse", ["checkout.session.completed", "charge.succeeded", "payment_intent.succeeded"]),
        ("drop", []),
    ],
)
def test_delivery_modes(sdk, control, checkout, receiver, mode, expected):
    control.post("/delivery", mode=mode, count=3)
    checkout(pay="success")
    assert receiver.types() == expected
    assert len(sdk.v1.events.list().data) == 3
    assert control.get("/state")["delivery"]["mode"] == "normal"  # the count ran out


def test_dropped_events_wait_for_explicit_delivery(sdk, control, checkout, receiver):
    control.post("/delivery", mode="drop")
    checkout(pay="success")
    control.post("/delivery", mode="normal")
    pending = control.get("/events?delivered=false")["data"]
    assert len(pending) == 3 and all(e["attempts"] == [] for e in pending)
    assert control.post("/deliver-pending") == {"delivered": [], "failed": []}
    control.post(f"/events/{pending[0]['id']}/deliver")
    assert receiver.types() == [pending[0]["type"]]


def test_late_events_are_old_but_freshly_signed(sdk, control, checkout, receiver):
    control.post("/delivery", mode="late", count=1)
    checkout(pay="success")
    late, fresh = receiver.events[0], receiver.events[1]
    assert fresh.created - late.created >= 3600 - 5
    signed_at = int(receiver.received[0]["headers"]["Stripe-Signature"].split(",")[0][2:])
    assert abs(signed_at - time.time()) < 60


def test_late_events_may_be_days_old(sdk, control, checkout, receiver):
    control.post("/delivery", mode="late", count=1, late_by=72 * 3600)
    checkout(pay="success")
    late, fresh = receiver.events[0], receiver.events[1]
    assert fresh.created - late.created >= 72 * 3600 - 5
    assert control.get("/state")["delivery"]["late_by"] == 3600  # an hour unless asked


def test_failed_deliveries_stay_pending(sdk, control, checkout, receiver):
    receiver.status = 500
    checkout(pay="success")
    pending = control.get("/events?delivered=false")["data"]
    assert len(pending) == 3 and pending[0]["attempts"][0]["status"] == 500
    assert all(e.pending_webhooks == 1 for e in sdk.v1.events.list().data)
    receiver.status = 200
    assert len(control.post("/deliver-pending")["delivered"]) == 3
    assert control.get("/events?delivered=false")["data"] == []
    assert sdk.v1.events.list(params={"delivery_success": False}).data == []


def test_unreachable_endpoint_is_recorded(sim, control, checkout):
    sim.config.webhook_url = "http://127.0.0.1:9/stripe/webhook"
    checkout(pay="success")
    attempt = control.get("/events")["data"][0]["attempts"][0]
    assert attempt["status"] is None and attempt["error"]


def test_other_api_version_renders_a_pointer(sdk, control, checkout, receiver):
    control.post("/delivery", mode="normal", api_version="2025-01-27.acacia", count=1)
    checkout(pay="success")
    old, current = receiver.events[0], receiver.events[1]
    assert old.api_version == "2025-01-27.acacia"
    assert set(old.data.object.to_dict()) <= {"id", "object", "created", "livemode", "metadata"}
    assert current.api_version == "2026-10-28.endive" and "amount" in current.data.object
    assert sdk.v1.events.retrieve(old.id).api_version == "2025-01-27.acacia"


def test_event_filters_and_window(sdk, control, checkout):
    checkout(pay="success")
    charge_events = sdk.v1.events.list(params={"type": "charge.*"})
    assert [e.type for e in charge_events.data] == ["charge.succeeded"]
    both = sdk.v1.events.list(params={"types": ["charge.succeeded", "checkout.session.completed"]})
    assert {e.type for e in both.data} == {"charge.succeeded", "checkout.session.completed"}
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.events.list(params={"type": "charge.*", "types": ["x"]})
    old = charge_events.data[0]
    control.post("/clock/advance", days=31)
    assert sdk.v1.events.list().data == []
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.events.retrieve(old.id)


# Sessions, hosted pages and the clock


def test_checkout_page_and_payment(sim, sdk, checkout, receiver, parse_html):
    session = checkout(2500, customer_email="ada@example.org", submit_type="donate")
    assert session.url.endswith(f"/c/pay/{session.id}") and session.payment_intent is None
    response = requests.get(session.url, timeout=10)
    ids = parse_html(response.text).by_id
    assert ids["email"]["value"] == "ada@example.org"
    assert ids["pay"]["text"] == "Donate"
    assert ids["cancel"]["href"] == "https://app.test/cancel"
    assert "$25.00" in ids["total"]["text"]
    assert [r["value"] for r in parse_html(response.text).radios] == [
        "success",
        "decline",
        "renewal_fails",
    ]
    paid = requests.post(
        session.url,
        data={"email": "ada@example.org", "name": "Ada", "card": "success"},
        allow_redirects=False,
        timeout=10,
    )
    assert paid.status_code == 303
    assert paid.headers["Location"] == f"https://app.test/ok?s={session.id}"
    assert receiver.types()[-1] == "checkout.session.completed"
    session = sdk.v1.checkout.sessions.retrieve(session.id)
    assert (session.status, session.url) == ("complete", None)
    assert (session.customer_details.name, session.customer) == ("Ada", None)
    again = requests.post(
        f"{sim.config.public_url}/c/pay/{session.id}", data={"card": "success"}, timeout=10
    )
    assert again.status_code == 400
    assert "already paid" in parse_html(again.text).by_id["message"]["text"]


def test_declined_card_keeps_the_session_open(sdk, checkout, receiver, parse_html):
    session = checkout(2500, locale="fr")
    declined = requests.post(
        session.url, data={"email": "a@example.org", "card": "decline"}, timeout=10
    )
    assert declined.status_code == 402
    assert parse_html(declined.text).by_id["error"]["text"] == "Votre carte a été refusée."
    assert receiver.types() == ["charge.failed", "payment_intent.payment_failed"]
    session = sdk.v1.checkout.sessions.retrieve(session.id)
    assert session.status == "open"
    pi = sdk.v1.payment_intents.retrieve(session.payment_intent)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "card_declined"
    retry = requests.post(
        session.url,
        data={"email": "a@example.org", "card": "success"},
        allow_redirects=False,
        timeout=10,
    )
    assert retry.status_code == 303
    assert sdk.v1.payment_intents.retrieve(pi.id).status == "succeeded"


def test_customer_creation_and_payment_intent_data(sdk, control, checkout):
    session = checkout(
        3000,
        customer_creation="always",
        payment_intent_data={"metadata": {"order": "17"}, "description": "Order 17"},
        metadata={"order": "17"},
        client_reference_id="order-17",
    )
    control.post(f"/checkout/sessions/{session.id}/pay", email="bo@example.org")
    session = sdk.v1.checkout.sessions.retrieve(session.id)
    assert session.customer.startswith("cus_")
    pi = sdk.v1.payment_intents.retrieve(
        session.payment_intent, params={"expand": ["latest_charge", "customer"]}
    )
    assert (pi.metadata.order, pi.description) == ("17", "Order 17")
    assert pi.latest_charge.metadata.order == "17"
    assert pi.customer.email == "bo@example.org"
    found = sdk.v1.checkout.sessions.list(params={"payment_intent": pi.id})
    assert [s.client_reference_id for s in found.data] == ["order-17"]
    by_email = sdk.v1.checkout.sessions.list(
        params={"customer_details": {"email": "bo@example.org"}}
    )
    assert [s.id for s in by_email.data] == [session.id]


def test_sessions_expire(sdk, control, checkout, receiver):
    session = checkout(expires_at=int(time.time()) + 3600)
    control.post("/clock/advance", seconds=3601)
    assert receiver.types() == ["checkout.session.expired"]
    expired = sdk.v1.checkout.sessions.retrieve(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    assert requests.get(session.url, timeout=10).status_code == 410
    with pytest.raises(stripe.InvalidRequestError, match="can be expired"):
        sdk.v1.checkout.sessions.expire(session.id)
    other = checkout()
    assert sdk.v1.checkout.sessions.expire(other.id).status == "expired"
    control.post(f"/checkout/sessions/{session.id}/pay", expect=400)


def test_clock_and_callback(sim, control):
    offsets = []
    sim.config.on_clock_change = offsets.append
    before = control.get("/clock")
    after = control.post("/clock/advance", days=2)["clock"]
    assert after["offset"] == 2 * DAY and after["now"] - before["now"] >= 2 * DAY
    assert offsets == [2 * DAY] and sim.clock.offset == 2 * DAY
    control.post("/clock/advance", expect=400, seconds=-1)


def test_request_headers(raw):
    response = raw(
        "POST", "/v1/customers", {"email": "a@example.org"}, headers={"Idempotency-Key": "k"}
    )
    assert response.headers["Request-Id"].startswith("req_")
    assert response.headers["Idempotency-Key"] == "k"
    assert response.headers["Content-Type"] == "application/json"
    query = urlencode({"email": "a@example.org", "limit": 1})
    assert raw("GET", f"/v1/customers?{query}").json()["data"][0]["email"] == "a@example.org"


def test_sublists_page_through_their_urls(sdk, checkout):
    session = checkout(5000, pay="success")
    charge = sdk.v1.payment_intents.retrieve(session.payment_intent).latest_charge
    refunds = [
        sdk.v1.refunds.create(params={"charge": charge, "amount": 100}).id for _ in range(12)
    ]
    included = sdk.v1.charges.retrieve(charge, params={"expand": ["refunds"]}).refunds
    assert (len(included.data), included.has_more, included.total_count) == (10, True, 12)
    assert [r.id for r in included.auto_paging_iter()] == list(reversed(refunds))
    items = sdk.v1.checkout.sessions.line_items.list(session.id, params={"limit": 1})
    assert items.url == f"/v1/checkout/sessions/{session.id}/line_items"
    assert len(list(items.auto_paging_iter())) == 1


def test_products_prices_and_mixed_subscriptions(sdk, control):
    product = sdk.v1.products.create(params={"name": "Mondial 12"})
    issue = sdk.v1.prices.create(
        params={"currency": "cad", "unit_amount": 1200, "product": product.id}
    )
    dues = sdk.v1.prices.create(
        params={
            "currency": "cad",
            "unit_amount": 500,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Dues"},
            "expand": ["product"],
        }
    )
    assert (dues.type, dues.product.name, issue.type) == ("recurring", "Dues", "one_time")
    session = sdk.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "billing_address_collection": "required",
            "line_items": [{"price": dues.id, "quantity": 2}, {"price": issue.id, "quantity": 1}],
        }
    )
    assert session.amount_total == 2200
    control.post(f"/checkout/sessions/{session.id}/pay", email="m@example.org")
    session = sdk.v1.checkout.sessions.retrieve(session.id)
    assert session.customer_details.address.postal_code
    invoice = sdk.v1.invoices.retrieve(session.invoice)
    assert invoice.amount_paid == 2200
    assert [line.parent.type for line in invoice.lines.data] == [
        "subscription_item_details",
        "invoice_item_details",
    ]
    lines = sdk.v1.invoices.line_items.list(invoice.id, params={"limit": 1})
    assert lines.has_more and len(list(lines.auto_paging_iter())) == 2
    items = sdk.v1.subscription_items.list(params={"subscription": session.subscription})
    assert [(i.quantity, i.price.id) for i in items.data] == [(2, dues.id)]
    found = sdk.v1.subscriptions.list(params={"price": dues.id})
    assert [s.id for s in found.data] == [session.subscription]
    control.post("/clock/advance", days=32)
    renewal = sdk.v1.invoices.retrieve(
        sdk.v1.subscriptions.retrieve(session.subscription).latest_invoice
    )
    assert renewal.amount_paid == 1000  # one-time items are billed once


def test_invoice_creation_free_sessions_and_customer_updates(sdk, control, checkout, receiver):
    paid = checkout(1200, invoice_creation={"enabled": True}, customer_email="g@example.org")
    control.post(f"/checkout/sessions/{paid.id}/pay")
    paid = sdk.v1.checkout.sessions.retrieve(paid.id, params={"expand": ["invoice.payments"]})
    assert (paid.invoice.billing_reason, paid.invoice.status, paid.invoice.parent) == (
        "manual",
        "paid",
        None,
    )
    assert paid.invoice.payments.data[0].payment.payment_intent == paid.payment_intent
    free = checkout(0)
    done = control.post(f"/checkout/sessions/{free.id}/pay", email="f@example.org")["session"]
    assert (done["payment_status"], done["payment_intent"]) == ("no_payment_required", None)
    receiver.clear()
    customer = sdk.v1.customers.update(
        paid.customer, params={"name": "Grace", "metadata": {"member": "7"}}
    )
    assert (customer.name, customer.metadata.member) == ("Grace", "7")
    control.post("/flush")
    assert receiver.events[0].data.previous_attributes.to_dict() == {
        "name": None,
        "metadata": {"member": None},
    }


def test_next_paid_renewal_clears_past_due(sdk, control, checkout):
    session = checkout(1000, interval="week", pay="renewal_fails")
    control.post("/clock/advance", days=8)
    assert sdk.v1.subscriptions.retrieve(session.subscription).status == "past_due"
    control.post(f"/subscriptions/{session.subscription}/card", card="success")
    control.post("/clock/advance", days=7)
    sub = sdk.v1.subscriptions.retrieve(session.subscription)
    assert sub.status == "active"
    invoices = sdk.v1.invoices.list(params={"subscription": sub.id, "status": "open"})
    assert invoices.data == []


def test_a_first_charge_at_a_future_date_follows_stripes_trial_end(
    sdk, control, receiver, checkout
):
    now = control.get("/clock")["now"]
    start = now + 10 * 86400
    with pytest.raises(stripe.InvalidRequestError, match="at least 48 hours"):
        checkout(3000, interval="year", subscription_data={"trial_end": now + 47 * 3600})
    session = checkout(3000, interval="year", subscription_data={"trial_end": start})
    receiver.clear()
    control.post(
        f"/checkout/sessions/{session.id}/pay", card="success", name="Ada", email="a@example.org"
    )
    session = sdk.v1.checkout.sessions.retrieve(session.id)
    assert (session.status, session.payment_status) == ("complete", "no_payment_required")
    sub = sdk.v1.subscriptions.retrieve(session.subscription)
    assert (sub.status, sub.trial_end, sub["items"].data[0].current_period_end) == (
        "trialing",
        start,
        start,
    )
    first = sdk.v1.invoices.retrieve(session.invoice, params={"expand": ["payments"]})
    assert (first.billing_reason, first.status, first.amount_paid, first.total) == (
        "subscription_create",
        "paid",
        0,
        0,
    )
    assert first.payments.data == []  # a $0 invoice is no payment
    assert "payment_intent.succeeded" not in receiver.types()

    control.post("/clock/advance", seconds=7 * 86400 + 60)
    assert receiver.types()[-1] == "customer.subscription.trial_will_end"
    receiver.clear()
    control.post("/clock/advance", seconds=3 * 86400)
    assert "invoice.paid" in receiver.types() and "charge.succeeded" in receiver.types()
    sub = sdk.v1.subscriptions.retrieve(session.subscription)
    item = sub["items"].data[0]
    assert sub.status == "active"
    begins = datetime.fromtimestamp(start, UTC)
    a_year_later = int(begins.replace(year=begins.year + 1).timestamp())
    assert (item.current_period_start, item.current_period_end) == (start, a_year_later)
    cycle = sdk.v1.invoices.retrieve(sub.latest_invoice)
    assert (cycle.billing_reason, cycle.amount_paid) == ("subscription_cycle", 3000)
    assert cycle.lines.data[0].period.start == start
