"""A gift's life: paid, thanked, receipted, refunded, disputed; fund totals follow."""

from io import BytesIO
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from core.db import db
from donations.gifts import raised_by_fund
from donations.models import Donation, DonationStatus, Receipt
from payments.models import Payment
from tests.helpers import Mailbox


def pdf_text(data):
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def the_donation(app):
    with app.app_context():
        donation = db.session.scalar(sa.select(Donation).order_by(Donation.id))
        db.session.expunge(donation)
        return donation


def receipts(app):
    with app.app_context():
        rows = db.session.scalars(sa.select(Receipt).order_by(Receipt.id)).all()
        return [
            (r.number, r.amount, r.is_void, r.replaces.number if r.replaces else None) for r in rows
        ]


def general_raised(app):
    from donations.models import Fund

    with app.app_context():
        fund = db.session.scalar(sa.select(Fund).where(Fund.slug == "general"))
        return raised_by_fund().get(fund.id, 0)


def test_a_one_time_gift_is_thanked_with_an_official_receipt(
    app, client, give, stripe_sim, deliver, charity
):
    response, session_id = give(
        other_amount="40",
        tribute_kind="memory",
        tribute_name="Lester Pearson",
        tribute_notify_email="family@example.org",
    )
    paid = stripe_sim.pay(session_id)
    donation = the_donation(app)
    assert donation.status == DonationStatus.paid and donation.total == 4000
    redirect = urlsplit(paid["redirect_url"])
    thanks = client.get(f"{redirect.path}?{redirect.query}").get_data(as_text=True)
    assert "We have received your gift of $40.00 to General fund" in thanks

    mailbox = deliver()
    [thank_you] = mailbox.to("dana@example.org")
    assert thank_you["Subject"] == "Thank you for your gift"
    [attachment] = list(thank_you.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"receipt-{receipts(app)[0][0]}.pdf"
    text = pdf_text(attachment.get_content())
    assert "Official donation receipt for income tax purposes" in text
    assert charity in text and "Dana Donor" in text and "$40.00" in text
    [tribute] = mailbox.to("family@example.org")
    assert "in memory of Lester Pearson" in Mailbox.text(tribute)
    assert "$40" not in Mailbox.text(tribute)
    assert general_raised(app) == 4000


def test_without_a_charity_number_an_acknowledgement_says_no_receipt(
    app, give, stripe_sim, deliver
):
    _, session_id = give(other_amount="30")
    stripe_sim.pay(session_id)
    [message] = deliver().to("dana@example.org")
    assert "It is not an official receipt for income tax purposes" in Mailbox.text(message)
    [attachment] = list(message.iter_attachments())
    text = pdf_text(attachment.get_content())
    assert "This is not an official receipt for income tax purposes." in text
    assert "Official donation receipt" not in text


def test_the_thanks_page_works_before_the_webhook(app, client, give, stripe_sim, charity):
    _, session_id = give(other_amount="15")
    stripe_sim.delivery("drop")
    paid = stripe_sim.pay(session_id)
    redirect = urlsplit(paid["redirect_url"])
    page = client.get(f"{redirect.path}?{redirect.query}")
    assert page.status_code == 200
    assert "We have received your gift of $15.00" in page.get_data(as_text=True)
    stripe_sim.delivery("normal")
    for event in stripe_sim.events(delivered=False):
        stripe_sim.deliver(event["id"])
    assert len(receipts(app)) == 1


def test_a_full_refund_voids_the_receipt(app, give, stripe_sim, charity):
    _, session_id = give(other_amount="50")
    stripe_sim.pay(session_id)
    with app.app_context():
        charge = db.session.scalar(sa.select(Payment.charge_id))
    stripe_sim.refund(charge)
    [(number, amount, void, replaces)] = receipts(app)
    assert (amount, void, replaces) == (5000, True, None)
    assert the_donation(app).status == DonationStatus.refunded
    assert general_raised(app) == 0


def test_a_partial_refund_cancels_and_replaces_the_receipt(app, give, stripe_sim, deliver, charity):
    _, session_id = give(other_amount="100")
    stripe_sim.pay(session_id)
    with app.app_context():
        charge = db.session.scalar(sa.select(Payment.charge_id))
    stripe_sim.refund(charge, amount=3000)
    first, second = receipts(app)
    assert first[1:] == (10000, True, None)
    assert second[1:] == (7000, False, first[0])
    assert general_raised(app) == 7000
    replaced = [
        m for m in deliver().to("dana@example.org") if m["Subject"] == "Your corrected receipt"
    ]
    [attachment] = list(replaced[0].iter_attachments())
    text = pdf_text(attachment.get_content())
    assert f"This receipt cancels and replaces receipt No. {first[0]}" in text
    assert "$70.00" in text


def test_a_failed_refund_restores_the_receipt(app, give, stripe_sim, charity):
    _, session_id = give(other_amount="100")
    stripe_sim.pay(session_id)
    with app.app_context():
        charge = db.session.scalar(sa.select(Payment.charge_id))
    refund = stripe_sim.refund(charge)
    stripe_sim.fail_refund(refund["id"])
    first, second = receipts(app)
    assert first[1:] == (10000, True, None)
    assert second[1:] == (10000, False, first[0])
    assert the_donation(app).status == DonationStatus.paid
    assert general_raised(app) == 10000


@pytest.mark.parametrize(
    ("outcome", "status", "raised"),
    [
        ("lost", DonationStatus.charged_back, 0),
        ("won", DonationStatus.paid, 2500),
    ],
)
def test_a_dispute(app, give, stripe_sim, charity, outcome, status, raised):
    _, session_id = give(other_amount="25")
    stripe_sim.pay(session_id)
    with app.app_context():
        charge = db.session.scalar(sa.select(Payment.charge_id))
    dispute = stripe_sim.dispute(charge)
    stripe_sim.close_dispute(dispute["id"], outcome)
    assert the_donation(app).status == status
    [(_, _, void, _)] = receipts(app)
    assert void is (outcome == "lost")
    assert general_raised(app) == raised


def test_an_abandoned_checkout_is_expired_and_counts_for_nothing(app, give, stripe_sim):
    _, session_id = give(other_amount="25")
    stripe_sim.expire(session_id)
    assert the_donation(app).status == DonationStatus.expired
    assert general_raised(app) == 0 and receipts(app) == []


def test_receipt_download_by_its_link(app, client, give, stripe_sim, charity):
    _, session_id = give(other_amount="20")
    stripe_sim.pay(session_id)
    from donations.receipts import link_token

    with app.app_context():
        token = link_token(db.session.scalar(sa.select(Receipt)))
    response = client.get(f"/receipts/{token}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert client.get("/receipts/not-a-token.pdf").status_code == 404


def test_fund_pages_show_progress(app, client, give, stripe_sim):
    from donations.models import Fund

    with app.app_context():
        fund = db.session.scalar(sa.select(Fund).where(Fund.slug == "mondial"))
        fund.goal = 100000
        db.session.commit()
    _, session_id = give(other_amount="250", fund="mondial")
    stripe_sim.pay(session_id)
    html = client.get("/funds/mondial").get_data(as_text=True)
    assert 'max="100000" value="25000"' in html and "$250.00 raised of $1,000.00" in html
    assert "Donate to this fund" in html
    assert "Donate to this fund" in client.get("/").get_data(as_text=True)
    assert "Donate to this fund" in client.get("/get-involved").get_data(as_text=True)


@pytest.mark.parametrize(
    ("lang", "ending", "subject", "why"),
    [
        ("en", "refund", "Your receipt is cancelled", "your gift was refunded"),
        ("fr", "refund", "Votre reçu est annulé", "votre don a été remboursé"),
        (
            "en",
            "lost dispute",
            "Your receipt is cancelled",
            "the payment was reversed after a dispute with your bank",
        ),
        (
            "fr",
            "lost dispute",
            "Votre reçu est annulé",
            "le paiement a été annulé à la suite d’une contestation auprès de votre banque",
        ),
    ],
)
def test_a_full_refund_or_a_lost_dispute_tells_the_donor_the_receipt_is_cancelled(
    app, give, stripe_sim, deliver, charity, lang, ending, subject, why
):
    _, session_id = give(lang=lang, other_amount="50")
    stripe_sim.pay(session_id)
    with app.app_context():
        charge = db.session.scalar(sa.select(Payment.charge_id))
    if ending == "refund":
        stripe_sim.refund(charge)
    else:
        stripe_sim.close_dispute(stripe_sim.dispute(charge)["id"], "lost")
    [(number, _, void, _)] = receipts(app)
    assert void
    [cancelled] = [m for m in deliver().to("dana@example.org") if m["Subject"] == subject]
    text = " ".join(Mailbox.text(cancelled).split())
    assert number in text and why in text
    assert list(cancelled.iter_attachments()) == []  # nothing to keep for taxes
