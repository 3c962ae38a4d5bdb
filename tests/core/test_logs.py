"""Logs: a record per request with its id, and no secret, token, email or card in any."""

import json
import logging
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from core.db import db
from core.logs import REQUEST_LOGGER, JsonFormatter, RequestIdFilter
from donations.gifts import manage_token
from donations.models import MonthlyGift
from tests.helpers import Mailbox, sign_in

EMAIL = "dana.logs@example.org"
PASSWORD = "a long member passphrase 93"
CARD = "4242424242424242"


def everything_in(record):
    """A record as a log file could ever show it: message, arguments, extras, traceback."""
    parts = [record.getMessage(), repr(record.args), json.dumps(record.__dict__, default=str)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.exc_text:
        parts.append(record.exc_text)
    return "\n".join(parts)


def receipt_path(message):
    [link] = [u for u in Mailbox.links(message) if "/receipts/" in u]
    return urlsplit(link).path


@pytest.fixture
def captured(caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="stripe")
    caplog.set_level(logging.DEBUG, logger=REQUEST_LOGGER)
    return caplog


def test_a_journey_logs_each_request_with_its_id_and_no_secret(
    app, client, give, stripe_sim, deliver, make_user, charity, captured
):
    answers = []

    def get(path, **kwargs):
        response = client.get(path, **kwargs)
        answers.append(response)
        return response

    # A visitor gives once, pays in Stripe, comes back to the thanks page and the receipt.
    response, session_id = give(email=EMAIL, other_amount="40")
    answers.append(response)
    assert response.status_code == 303
    paid = stripe_sim.pay(session_id)
    redirect = urlsplit(paid["redirect_url"])
    assert get(f"{redirect.path}?{redirect.query}").status_code == 200
    [thank_you] = deliver().to(EMAIL)
    receipt = receipt_path(thank_you)
    assert get(receipt).data.startswith(b"%PDF")
    # An address with an email in its query string, and one that matches no page.
    assert get(f"/donate?email={EMAIL}").status_code == 200
    receipt_token = receipt.removeprefix("/receipts/").removesuffix(".pdf")
    assert get(f"/no-such-page/{receipt_token}").status_code == 404

    # Then monthly, and opens the link to manage the gift.
    response, session_id = give(email=EMAIL, frequency="monthly", other_amount="20")
    answers.append(response)
    stripe_sim.pay(session_id)
    with app.app_context():
        token = manage_token(db.session.scalar(sa.select(MonthlyGift)))
    assert get(f"/donate/manage/{token}").status_code == 200

    # A member signs in and looks at their account.
    make_user(email="member.logs@example.org", password=PASSWORD)
    signed_in = sign_in(client, "member.logs@example.org", PASSWORD)
    answers.append(signed_in)
    assert signed_in.status_code == 302
    assert get("/account").status_code == 200
    with app.app_context():
        from core.accounts.models import User

        member_id = db.session.scalar(
            sa.select(User.id).where(User.email == "member.logs@example.org")
        )

    # A webhook with a wrong signature, through the app's own entry point.
    refused = client.post("/stripe/webhook", data=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
    answers.append(refused)
    assert refused.status_code == 400

    # Everything the app and its libraries logged; aiosmtpd's ``mail.log`` is the test's own
    # mail server, standing in for the SMTP server the app hands its email to.
    records = [r for r in captured.records if r.name != "mail.log"]
    secrets = {
        "the donor's email": EMAIL,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "STRIPE_SECRET_KEY": app.config["STRIPE_SECRET_KEY"],
        "the card number": CARD,
        "the password": PASSWORD,
        "the receipt token": receipt_token,
        "the manage token": token,
    }
    for number, secret in enumerate(app.config["STRIPE_WEBHOOK_SECRETS"]):
        secrets[f"STRIPE_WEBHOOK_SECRET {number}"] = secret
    for name, secret in secrets.items():
        assert secret and len(secret) >= 8, name
        leaks = [r for r in records if secret in everything_in(r)]
        assert not leaks, f"{name} is in the log: {everything_in(leaks[0])}"

    requests = [r for r in records if r.name == REQUEST_LOGGER]
    by_id = {r.request_id: r for r in requests}
    for answer in answers:
        assert answer.headers["X-Request-Id"] in by_id, answer.request.path
    [receipt_record] = [r for r in requests if r.path == "/receipts/<token>.pdf"]
    assert receipt_record.method == "GET" and receipt_record.status == 200
    assert receipt_record.endpoint == "donations.receipt_pdf"
    assert receipt_record.duration_ms >= 0
    assert by_id[answers[-2].headers["X-Request-Id"]].user_id == member_id
    assert by_id[answers[-2].headers["X-Request-Id"]].path == "/account"
    assert receipt_record.user_id is None
    # Stripe's deliveries to the live server are logged too, each with an id.
    webhooks = [r for r in requests if r.path == "/stripe/webhook"]
    assert len(webhooks) >= 3 and all(r.request_id for r in webhooks)
    assert by_id[refused.headers["X-Request-Id"]].status == 400
    # No query string; a page that matched no rule keeps its path, tokens masked.
    assert any(r.path == "/donate" and r.status == 200 for r in requests)
    assert not any("?" in (r.path or "") for r in requests)
    assert any(r.path == "/no-such-page/…" and r.status == 404 for r in requests)


def test_records_logged_during_a_request_carry_its_id_and_production_writes_json(app):
    record = {}

    class Keep(logging.Handler):
        def emit(self, r):
            record["line"] = self.format(r)

    handler = Keep()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    with app.test_request_context("/", headers={"X-Request-Id": "proxy-id-5678"}):
        app.preprocess_request()
        logging.getLogger("donations").addHandler(handler)
        try:
            logging.getLogger("donations").warning("a gift of %s", "$40")
        finally:
            logging.getLogger("donations").removeHandler(handler)
    line = json.loads(record["line"])
    assert line["request_id"] == "proxy-id-5678"
    assert line["message"] == "a gift of $40" and line["level"] == "WARNING"
    assert line["logger"] == "donations"


def test_in_production_the_app_logs_json_lines_with_the_request_id(app):
    import io
    from types import SimpleNamespace

    from core.logs import configure

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    out = io.StringIO()
    root.handlers[:] = [logging.StreamHandler(out)]
    root.setLevel(logging.INFO)
    try:
        configure(SimpleNamespace(debug=False, testing=False, config={"APP_ENV": "production"}))
        with app.test_request_context("/", headers={"X-Request-Id": "proxy-id-9012"}):
            app.preprocess_request()
            logging.getLogger("members").info("%s renewals", 3)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["request_id"] == "proxy-id-9012" and line["message"] == "3 renewals"
