"""Every public and signed-in form, and every JSON endpoint that writes, met with hostile input.

One row of ``FORMS`` or ``APIS`` per endpoint: adding one is one line. Each hostile request
must be answered with a 4xx that says what is wrong, and must store nothing.
"""

import json
import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from core.db import db
from tests.donation_fixtures import gift_form
from tests.helpers import csrf_token
from tests.member_fixtures import join_form
from tests.shop_fixtures import ONTARIO

#: Rows that hostile input must never add.
STORED = (
    "user",
    "donation",
    "monthly_gift",
    "payment",
    "membership",
    "membership_dues",
    "receipt",
    "shop_order",
    "shop_cart_line",
    "signature",
    "comment",
    "volunteer",
)

HUGE_TEXT = "x" * 100_000
BAD_NUMBERS = ["-5", "2.555", "0.001", "NaN", "Infinity", "-Infinity", "1e309", str(10**30), "abc"]
#: Fields that count whole things (copies, ids): a fraction is wrong, unlike in dollars.
COUNTS = {"quantity", "product_id"}
EXTRAS = {"role": "admin", "price": "1", "status": "paid", "amount": "1", "is_staff": "1"}


def stored(app):
    with app.app_context():
        counts = {
            t: db.session.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar() for t in STORED
        }
        db.session.remove()
        return counts


# --- the setting each form needs ---------------------------------------------------------


def _content(request):
    request.getfixturevalue("content")


def _campaign(request):
    request.getfixturevalue("make_campaign")()


def _products(request):
    return request.getfixturevalue("products")


def _member(request):
    request.getfixturevalue("signed_in")("member")


def _treasurer(request):
    request.getfixturevalue("signed_in")("treasurer")


def _cart(request):
    found = _products(request)
    client = request.getfixturevalue("client")
    client.post("/api/v1/cart/items", json={"product_id": found["issue-42"]})


def _people(request):
    """Two records of one person, for the people screens' merge and erasure."""
    from tests.factories import DonationFactory

    app = request.getfixturevalue("app")
    with app.app_context():
        DonationFactory(email="olive@example.org", donor_name="Olive Offline")
        DonationFactory(email="olive@work.example", donor_name="Olive Offline")
        db.session.commit()


SETUPS = {
    "donate": ["funds", "stripe_sim"],
    "join": ["tiers", "stripe_sim"],
    "shop": [_products],
    "cart": [_cart, "stripe_sim"],
    "campaign": [_campaign],
    "content": [_content],
    "member": [_member],
    "member_tiers": ["tiers", _member, "stripe_sim"],
    "treasurer_funds": ["funds", _treasurer],
    "treasurer_tiers": ["tiers", _treasurer],
    "treasurer_people": [_people, _treasurer],
}


def prepare(request, setup):
    for step in SETUPS.get(setup, []):
        if isinstance(step, str):
            request.getfixturevalue(step)
        else:
            step(request)


class Form:
    """A form, the fields a visitor fills in right (``accepted``: they are taken as they
    are, so a refusal below comes from the one hostile field), and its kinds of field."""

    def __init__(self, path, data, *, text, numbers=(), token_from=None, setup=None, accepted=True):
        self.path, self.data, self.text, self.numbers = path, data, text, numbers
        self.accepted = accepted
        self.token_from, self.setup = token_from or path.split("?")[0], setup

    def __repr__(self):
        return self.path


COMMENT = {
    "comment-name": "Marc Gagnon",
    "comment-email": "marc@example.org",
    "comment-body": "Canada should lead again.",
}
ROADMAP = "/pages/france-canada-peacekeeping-roadmap"

FORMS = [
    Form(
        "/donate",
        gift_form(),
        text=["donor_name", "email", "address_line1", "city", "postal_code"],
        numbers=["other_amount"],
        setup="donate",
    ),
    Form(
        "/join/individual",
        join_form(),
        text=["name", "email", "mailing_name", "address_line1", "city", "postal_code"],
        setup="join",
    ),
    Form(
        "/cart/add",
        {"product_id": "1", "quantity": "1"},
        text=[],
        numbers=["quantity", "product_id"],
        token_from="/shop",
        setup="shop",
    ),
    Form(
        "/cart/update",
        {"product_id": "1", "quantity": "2"},
        text=[],
        numbers=["quantity", "product_id"],
        token_from="/shop",
        setup="cart",
    ),
    Form(
        "/checkout",
        {**ONTARIO, "pay": "Pay"},
        text=["email", "name", "address_line1", "city", "postal_code"],
        token_from="/shop",
        setup="cart",
    ),
    Form(
        "/take-action/test-campaign",
        {"name": "Léa Tremblay", "email": "lea@example.org", "postal_code": "h2x 1y4"},
        text=["name", "email", "postal_code", "personal_message"],
        setup="campaign",
    ),
    Form(
        "/take-action/test-campaign/comments",
        COMMENT,
        text=list(COMMENT),
        token_from="/take-action/test-campaign",
        setup="campaign",
    ),
    Form(
        "/volunteer",
        {
            "name": "Nadia Haddad",
            "email": "nadia@example.org",
            "message": "Hello",
            "languages": ["en"],
            "interests": ["events"],
            "availability": ["evenings"],
        },
        text=["name", "email", "phone", "message"],
    ),
    Form(
        f"{ROADMAP}/comments",
        COMMENT,
        text=list(COMMENT),
        token_from=ROADMAP,
        setup="content",
    ),
    Form(
        "/treasurer/donations/offline",
        {
            "amount": "200",
            "fund": "general",
            "method": "cheque",
            "reference": "Cheque 1042",
            "received_on": "2025-06-15",
            "advantage": "0",
            "language": "en",
            "donor_name": "Olive Offline",
            "email": "olive@example.org",
            "address_line1": "1 Sparks Street",
            "city": "Ottawa",
            "province": "ON",
            "postal_code": "K1P 5B1",
            "country": "CA",
        },
        text=["reference", "donor_name", "email", "address_line1", "city", "received_on"],
        numbers=["amount", "advantage"],
        setup="treasurer_funds",
    ),
    Form(
        "/treasurer/members/offline",
        {
            "email": "cheque@example.org",
            "name": "Chantal Cheque",
            "language": "fr",
            "tier": "senior",
            "amount": "25",
            "method": "cheque",
            "received_on": "2026-11-20",
            "reference": "Cheque 1042",
            "mondial_format": "print",
            "mailing_name": "Chantal Cheque",
            "address_line1": "3 rue du Fort",
            "city": "Québec",
            "province": "QC",
            "postal_code": "G1R 4P5",
            "country": "CA",
        },
        text=["email", "name", "reference", "mailing_name", "address_line1", "received_on"],
        numbers=["amount"],
        setup="treasurer_tiers",
    ),
    Form(
        "/treasurer/people/merge",
        {
            "into": "olive@example.org",
            "source": "olive@work.example",
            "reason": "The same donor, at work",
            "confirm": "y",
        },
        text=["into", "source", "reason"],
        token_from="/treasurer/people/",
        setup="treasurer_people",
    ),
    Form(
        "/treasurer/people/erase",
        {"email": "olive@example.org", "reason": "Asked by email", "confirm": "y"},
        text=["email", "reason"],
        token_from="/treasurer/people/",
        setup="treasurer_people",
    ),
    Form(
        "/register",
        {
            "name": "Reg Ister",
            "email": "reg@example.org",
            "password": "a long enough password",
            "confirm": "a long enough password",
            "language": "en",
        },
        text=["name", "email", "password", "confirm"],
    ),
    Form(
        "/login",
        {"email": "nobody@example.org", "password": "not the password"},
        text=["email", "password"],
        accepted=False,
    ),
    Form("/reset-password", {"email": "nobody@example.org"}, text=["email"]),
    Form(
        "/account/email",
        {"em-email": "new@example.org", "em-password": "wrong password"},
        text=["em-email", "em-password"],
        token_from="/account/settings",
        setup="member",
        accepted=False,
    ),
    Form(
        "/account/password",
        {"pw-current_password": "wrong", "pw-password": "short", "pw-confirm": "other"},
        text=["pw-current_password", "pw-password", "pw-confirm"],
        token_from="/account/settings",
        setup="member",
        accepted=False,
    ),
]


def assert_refused(response, where):
    assert 400 <= response.status_code < 500, (where, response.status_code)
    body = response.get_data(as_text=True)
    if response.is_json:
        error = response.get_json()["error"]
        assert error["message"], where
    else:
        assert 'class="error' in body or "<h1" in body, (where, body[:500])


def hostile_requests(form, token):
    """``(what, request keyword arguments)`` for each hostile variant of the form."""
    base = {**form.data, "csrf_token": token}
    yield "missing fields", {"data": {"csrf_token": token}}
    for field in form.text:
        yield f"{field} huge", {"data": {**base, field: HUGE_TEXT}}
        yield f"{field} NUL", {"data": {**base, field: f"a\x00b{base.get(field, '')}"}}
        raw = "&".join(
            f"{quote(k)}={quote(str(v))}" for k, v in base.items() if k != field
        ).encode()
        yield (
            f"{field} not UTF-8",
            {
                "data": raw + f"&{quote(field)}=".encode() + b"\xff\xfe\xc3(",
                "content_type": "application/x-www-form-urlencoded",
            },
        )
    for field in form.numbers:
        fractions = ["2.5"] if field in COUNTS else []
        for number in [*BAD_NUMBERS, *fractions]:
            yield f"{field}={number}", {"data": {**base, field: number}}


@pytest.mark.parametrize("form", FORMS, ids=repr)
def test_hostile_form_input_is_refused_and_stores_nothing(app, client, request, form):
    prepare(request, form.setup)
    token = csrf_token(client, form.token_from)
    before = stored(app)
    for what, kwargs in hostile_requests(form, token):
        response = client.post(form.path, **kwargs)
        if form.path == "/cart/add" and response.status_code == 303:
            response = client.get(response.location)  # the cart page with the error
            response.status_code = 400 if "error" in response.get_data(as_text=True) else 200
        assert_refused(response, (form.path, what))
        assert stored(app) == before, (form.path, what)


@pytest.mark.parametrize("form", [f for f in FORMS if f.accepted], ids=repr)
def test_the_right_answers_of_each_form_are_accepted(app, client, request, form):
    prepare(request, form.setup)
    data = dict(form.data)
    if form.path == "/cart/add":
        data["product_id"] = str(request.getfixturevalue("products")["issue-42"])
    response = client.post(
        form.path, data={**data, "csrf_token": csrf_token(client, form.token_from)}
    )
    assert response.status_code in {200, 302, 303}, (form.path, response.status_code)


def test_a_form_body_that_is_not_utf8_at_all_is_a_400(client):
    response = client.post(
        "/volunteer", data=b"\xff\xfe\x00\x81", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400


# --- unknown ids ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data", "setup", "token_from"),
    [
        ("/join/no-such-tier", join_form(), "join", "/join/individual"),
        ("/take-action/no-such-campaign", {"name": "Léa"}, "campaign", "/volunteer"),
        ("/pages/no-such-page/comments", COMMENT, "content", "/volunteer"),
        ("/cart/add", {"product_id": "999999", "quantity": "1"}, "shop", "/shop"),
        ("/cart/add", {"product_id": str(2**70), "quantity": "1"}, "shop", "/shop"),
        ("/cart/update", {"product_id": "999999", "quantity": "1"}, "shop", "/shop"),
        ("/donate", gift_form(fund="no-such-fund"), "donate", "/donate"),
    ],
)
def test_unknown_ids_are_refused(app, client, request, path, data, setup, token_from):
    prepare(request, setup)
    before = stored(app)
    response = client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)})
    if response.status_code == 303:
        response = client.get(response.location)
        response.status_code = 400 if "error" in response.get_data(as_text=True) else 200
    assert_refused(response, path)
    assert stored(app) == before


# --- mass assignment ------------------------------------------------------------------------


def test_extra_fields_do_not_make_a_staff_account(app, client):
    data = {
        **next(f for f in FORMS if f.path == "/register").data,
        **EXTRAS,
        "csrf_token": csrf_token(client, "/register"),
    }
    assert client.post("/register", data=data).status_code == 200
    from core.accounts.models import Role, User

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "reg@example.org"))
        assert user.role == Role.member


def test_extra_fields_do_not_verify_an_account(app, client):
    data = {
        **next(f for f in FORMS if f.path == "/register").data,
        "email_verified_at": "2026-01-01",
        "active": "y",
        "totp_enabled_at": "2026-01-01",
        "csrf_token": csrf_token(client, "/register"),
    }
    assert client.post("/register", data=data).status_code == 200
    from core.accounts.models import User

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "reg@example.org"))
        assert user.email_verified_at is None and user.totp_enabled_at is None


def test_extra_fields_do_not_confirm_a_signature(app, client, make_campaign):
    make_campaign()
    data = {
        "name": "Léa Tremblay",
        "email": "lea@example.org",
        "postal_code": "h2x 1y4",
        **EXTRAS,
        "status": "confirmed",
        "confirmed_at": "2026-01-01",
        "csrf_token": csrf_token(client, "/take-action/test-campaign"),
    }
    client.post("/take-action/test-campaign", data=data)
    from involve.models import Signature, SignatureStatus

    with app.app_context():
        [signature] = db.session.scalars(sa.select(Signature)).all()
        assert signature.status == SignatureStatus.pending


def test_extra_fields_do_not_change_a_gift(app, client, funds, stripe_sim):
    data = {**gift_form(), **EXTRAS, "csrf_token": csrf_token(client, "/donate")}
    assert client.post("/donate", data=data).status_code == 303
    from donations.models import Donation

    with app.app_context():
        [donation] = db.session.scalars(sa.select(Donation)).all()
        assert donation.amount == 2500
        assert str(getattr(donation.status, "value", donation.status)) != "paid"


def test_extra_fields_do_not_change_a_price(app, client, products, stripe_sim):
    token = csrf_token(client, "/shop")
    data = {"product_id": str(products["issue-42"]), "quantity": "1", **EXTRAS}
    client.post("/cart/add", data={**data, "csrf_token": token})
    response = client.post(
        "/checkout", data={**ONTARIO, "pay": "Pay", **EXTRAS, "csrf_token": token}
    )
    assert response.status_code == 303
    from shop.models import Order

    with app.app_context():
        [order] = db.session.scalars(sa.select(Order)).all()
        assert [line.unit_price for line in order.lines] == [1200]
        assert order.status.value != "paid"


def test_extra_fields_do_not_approve_a_comment(app, client, content):
    data = {**COMMENT, **EXTRAS, "status": "approved", "csrf_token": csrf_token(client, ROADMAP)}
    client.post(f"{ROADMAP}/comments", data=data)
    from involve.models import Comment, CommentStatus

    with app.app_context():
        [comment] = db.session.scalars(sa.select(Comment)).all()
        assert comment.status != CommentStatus.approved


# --- JSON endpoints -------------------------------------------------------------------------


def donation_body(**changes):
    from tests.donations.test_api import gift_body

    return gift_body(**changes)


class Api:
    def __init__(self, path, body, *, text=(), numbers=(), setup=None, method="POST"):
        self.path, self.body, self.text, self.numbers = path, body, text, numbers
        self.setup, self.method = setup, method

    def __repr__(self):
        return f"{self.method} {self.path}"


MEMBERSHIP = {
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

APIS = [
    Api(
        "/api/v1/donations",
        donation_body,
        text=["donor.name", "donor.email"],
        numbers=["amount"],
        setup="donate",
    ),
    Api(
        "/api/v1/memberships",
        lambda: json.loads(json.dumps(MEMBERSHIP)),
        text=["tier", "mailing.name", "mailing.line1", "mailing.city"],
        setup="member_tiers",
    ),
    Api(
        "/api/v1/cart/items",
        lambda: {"product_id": 1},
        numbers=["product_id", "quantity"],
        setup="shop",
    ),
    Api(
        "/api/v1/cart/items/1",
        lambda: {"quantity": 1},
        numbers=["quantity"],
        setup="cart",
        method="PATCH",
    ),
    Api("/api/v1/checkout", lambda: dict(ONTARIO), text=["email", "name", "city"], setup="cart"),
]


def set_path(body, dotted, value):
    *parents, last = dotted.split(".")
    for key in parents:
        body = body.setdefault(key, {})
    body[last] = value


def hostile_bodies(api):
    yield "empty object", {"json": {}}
    yield "a list", {"json": [api.body()]}
    yield "a string", {"json": "hello"}
    yield "not UTF-8", {"data": b'{"a": "\xff\xfe"}', "content_type": "application/json"}
    for field in api.text:
        for what, value in [("huge", HUGE_TEXT), ("NUL", "a\x00b"), ("number", 12), ("object", {})]:
            body = api.body()
            set_path(body, field, value)
            yield f"{field} {what}", {"json": body}
    for field in api.numbers:
        for value in [-5, 2.555, "NaN", "Infinity", "1e309", 10**30, "abc", None, [1], True]:
            body = api.body()
            set_path(body, field, value)
            yield f"{field}={value!r}", {"json": body}
        if field in COUNTS:
            body = api.body()
            set_path(body, field, 2.5)
            yield f"{field}=2.5", {"json": body}
        for raw in [b"NaN", b"Infinity", b"-Infinity", b"1e309"]:
            body = api.body()
            set_path(body, field, "PLACEHOLDER")
            yield (
                f"{field}={raw!r} bare",
                {
                    "data": json.dumps(body).encode().replace(b'"PLACEHOLDER"', raw),
                    "content_type": "application/json",
                },
            )


@pytest.mark.parametrize("api", APIS, ids=repr)
def test_hostile_json_is_refused_and_stores_nothing(app, client, request, api):
    prepare(request, api.setup)
    if api.setup in {"shop", "cart"}:
        found = request.getfixturevalue("products")
        api.path = api.path.replace("/1", f"/{found['issue-42']}")
    before = stored(app)
    for what, kwargs in hostile_bodies(api):
        response = client.open(api.path, method=api.method, **kwargs)
        assert 400 <= response.status_code < 500, (api, what, response.status_code)
        assert response.is_json, (api, what)
        assert response.get_json()["error"]["message"], (api, what)
        assert stored(app) == before, (api, what)


def test_json_extras_do_not_change_a_gift(app, client, funds, stripe_sim):
    body = {**donation_body(), "status": "paid", "role": "admin", "price": 1, "is_staff": True}
    response = client.post("/api/v1/donations", json=body)
    assert response.status_code in {201, 400, 422}, response.get_data(as_text=True)
    from donations.models import Donation

    with app.app_context():
        for donation in db.session.scalars(sa.select(Donation)):
            assert donation.amount == 2500
            assert str(getattr(donation.status, "value", donation.status)) != "paid"


# --- oversized bodies -----------------------------------------------------------------------


def test_config_limits_bodies_to_a_megabyte(app):
    assert app.config["MAX_CONTENT_LENGTH"] <= 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        ("/volunteer", {"data": {"message": "x" * 10 * 1024 * 1024}}),
        ("/donate", {"data": {"donor_name": "x" * 10 * 1024 * 1024}}),
        ("/api/v1/donations", {"json": {"donor": {"name": "x" * 10 * 1024 * 1024}}}),
        ("/api/v1/cart/items", {"json": {"product_id": 1, "pad": "x" * 10 * 1024 * 1024}}),
    ],
)
def test_a_ten_megabyte_body_is_413(app, client, path, kwargs):
    before = stored(app)
    response = client.post(path, **kwargs)
    assert response.status_code == 413
    assert stored(app) == before


# --- the treasurer's money forms --------------------------------------------------------------


@pytest.mark.parametrize("amount", [*BAD_NUMBERS, "0", "999999999", "25.001"])
def test_a_refund_of_a_hostile_amount_is_refused(app, client, give, stripe_sim, signed_in, amount):
    from payments.models import Payment, Refund

    _, session = give()
    stripe_sim.pay(session)
    with app.app_context():
        payment_id = db.session.scalar(sa.select(Payment.id))
    signed_in("treasurer")
    page = f"/treasurer/payments/{payment_id}"
    response = client.post(
        f"{page}/refund",
        data={
            "amount": amount,
            "reason": "requested_by_customer",
            "note": "x",
            "csrf_token": csrf_token(client, page),
        },
    )
    if response.status_code == 303:
        response = client.get(response.location)
        response.status_code = (
            400 if 'class="flash flash-error' in response.get_data(as_text=True) else 200
        )
    assert_refused(response, amount)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Refund.id))) == 0


# --- hostile values in the address of every form ----------------------------------------------

PATH_VALUES = ["x" * 5000, "%00", "a%00b", "%FF%FE", "..%2F..%2Fetc", "%3Cscript%3E", str(10**30)]


def _post_rules(app):
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or not rule.arguments:
            continue
        if rule.rule.startswith(("/admin/", "/_sim", "/api/")):
            continue
        yield rule


def test_every_form_address_with_a_hostile_part_is_a_4xx(app, client, signed_in):
    signed_in("admin")
    token = csrf_token(client, "/account/settings")
    rules = list(_post_rules(app))
    assert len(rules) > 20
    for rule in rules:
        for value in PATH_VALUES:
            path = rule.rule
            for name in rule.arguments:
                path = re.sub(rf"<[^>]*\b{name}>", value, path)
            response = client.post(path, data={"csrf_token": token, "amount": "1"})
            assert 400 <= response.status_code < 500, (rule.rule, value, response.status_code)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"password": "a long enough password"},
        {"password": HUGE_TEXT, "confirm": HUGE_TEXT},
        {"password": "a long\x00enough password", "confirm": "a long\x00enough password"},
        {"password": "a long enough password", "confirm": "another long password"},
    ],
    ids=["missing", "no confirm", "huge", "NUL", "mismatch"],
)
def test_a_hostile_new_password_from_a_reset_link_is_refused(app, client, make_user, data):
    from core.accounts import services
    from core.accounts.models import User

    user_id, email, password = make_user(email="reset@example.org")
    with app.app_context():
        user = db.session.get(User, user_id)
        token = services.make_token(
            "reset-password", {"id": user.id, "fp": services._fingerprint(user)}
        )
        before = user.password_hash
    path = f"/reset-password/{token}"
    response = client.post(path, data={**data, "csrf_token": csrf_token(client, path)})
    assert_refused(response, data)
    with app.app_context():
        assert db.session.get(User, user_id).password_hash == before
