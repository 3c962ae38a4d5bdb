"""Receipt links: in every receipt email, valid at tax time, and renewable once expired."""

from urllib.parse import urlsplit

import sqlalchemy as sa

from core.db import db
from donations.models import Receipt
from tests.helpers import Mailbox, post_form

DAY = 24 * 60 * 60


def receipt_link(message):
    [link] = [u for u in Mailbox.links(message) if "/receipts/" in u]
    return urlsplit(link).path


def first_thank_you(app, give, stripe_sim, deliver, **extra):
    _, session_id = give(other_amount="20", **extra)
    stripe_sim.pay(session_id)
    [message] = deliver().to("dana@example.org")
    return message


def test_the_first_thank_you_email_carries_the_receipt_link(
    app, client, give, stripe_sim, deliver, charity
):
    message = first_thank_you(app, give, stripe_sim, deliver)
    assert message["Subject"] == "Thank you for your gift"
    assert list(message.iter_attachments())  # the PDF, as before
    path = receipt_link(message)
    response = client.get(path)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_the_acknowledgement_email_carries_its_link_too(app, client, give, stripe_sim, deliver):
    message = first_thank_you(app, give, stripe_sim, deliver)  # no charity number
    assert client.get(receipt_link(message)).status_code == 200


def test_receipt_links_still_work_18_months_later_and_the_setting_is_at_least_that(
    app, client, give, stripe_sim, deliver, charity
):
    assert app.config["RECEIPT_LINK_MAX_AGE"] >= 548 * DAY
    path = receipt_link(first_thank_you(app, give, stripe_sim, deliver))
    stripe_sim.advance(days=548)
    response = client.get(path)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_an_expired_receipt_link_offers_to_email_a_fresh_one(
    app, client, give, stripe_sim, deliver, mailbox, charity
):
    path = receipt_link(first_thank_you(app, give, stripe_sim, deliver))
    mailbox.clear()
    stripe_sim.advance(seconds=app.config["RECEIPT_LINK_MAX_AGE"] + DAY)
    response = client.get(path)
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "This receipt link has expired" in html and 'id="new-receipt-link"' in html
    assert response.headers["Cache-Control"] == "no-store"
    token = path.removeprefix("/receipts/").removesuffix(".pdf")

    sent = post_form(client, f"/receipts/{token}/new-link", {}, token_from=path)
    assert sent.status_code == 200
    assert "We have emailed a fresh link" in sent.get_data(as_text=True)
    [fresh] = deliver().to("dana@example.org")
    assert fresh["Subject"] == "A new link to your receipt"
    assert client.get(receipt_link(fresh)).data.startswith(b"%PDF")

    # Asking again at once sends nothing more: a stranger cannot flood the mailbox.
    again = post_form(client, f"/receipts/{token}/new-link", {}, token_from=path)
    assert "try again in 10 minutes" in again.get_data(as_text=True)
    assert deliver().to("dana@example.org") == [fresh]


def test_a_bare_receipt_token_from_an_old_email_offers_a_fresh_link(
    app, client, give, stripe_sim, deliver, charity
):
    first_thank_you(app, give, stripe_sim, deliver)
    with app.app_context():
        bare = db.session.scalar(sa.select(Receipt.token))
    response = client.get(f"/receipts/{bare}.pdf")
    assert response.status_code == 410
    assert 'id="new-receipt-link"' in response.get_data(as_text=True)
    assert client.get("/receipts/not-a-token.pdf").status_code == 404
    refused = post_form(client, "/receipts/not-a-token/new-link", {}, token_from="/donate")
    assert refused.status_code == 404


def test_an_expired_receipt_link_page_in_french(app, client, give, stripe_sim, deliver, charity):
    path = receipt_link(first_thank_you(app, give, stripe_sim, deliver))
    stripe_sim.advance(seconds=app.config["RECEIPT_LINK_MAX_AGE"] + DAY)
    html = client.get(path + "?lang=fr").get_data(as_text=True)
    assert "Ce lien vers votre reçu a expiré" in html
