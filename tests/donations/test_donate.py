"""The donate form: amounts, fee cover, the Checkout it starts."""

import pytest
import sqlalchemy as sa

from core.db import db
from core.money import card_fee
from donations.gifts import with_fee_covered
from donations.models import Donation, MonthlyGift
from payments.models import Payment


def count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize(
    ("typed", "english", "french"),
    [
        ("0", "The minimum is $1.00.", "Le minimum est de 1,00\u00a0$."),
        ("-500", "The amount cannot be negative.", "Le montant ne peut pas être négatif."),
        ("0.5", "The minimum is $1.00.", "Le minimum est de 1,00\u00a0$."),
        ("10.505", "Amounts have at most two decimals", "Les montants ont au plus deux décimales"),
        ("1e9", "Please enter an amount in dollars", "Veuillez entrer un montant en dollars"),
        ("NaN", "Please enter an amount in dollars", "Veuillez entrer un montant en dollars"),
        ("abc", "Please enter an amount in dollars", "Veuillez entrer un montant en dollars"),
        (
            "50001",
            "The maximum online is $50,000.00.",
            "Le maximum en ligne est de 50\u00a0000,00\u00a0$.",
        ),
        ("", "Please enter an amount.", "Veuillez entrer un montant."),
    ],
)
def test_bad_amounts_are_refused_in_both_languages_and_nothing_is_created(
    app, give, typed, english, french
):
    for lang, message in (("en", english), ("fr", french)):
        response, session = give(lang=lang, other_amount=typed)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True), (lang, typed)
        assert session is None
    assert count(app, Donation) == count(app, Payment) == 0


@pytest.mark.parametrize(
    ("typed", "lang", "cents"),
    [
        ("1", "en", 100),
        ("10.5", "en", 1050),
        ("10,50", "fr", 1050),
        ("50000", "en", 5_000_000),
        ("50 000", "fr", 5_000_000),
    ],
)
def test_good_amounts_start_a_checkout(app, give, stripe_sim, typed, lang, cents):
    response, session_id = give(lang=lang, other_amount=typed)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.location.startswith(stripe_sim.url + "/c/pay/cs_test_")
    with app.app_context():
        [donation] = db.session.scalars(sa.select(Donation)).all()
        assert donation.amount == cents and donation.fee_covered == 0
        payment = db.session.get(Payment, donation.payment_id)
        assert payment.amount == cents and payment.checkout_session_id == session_id
        assert donation.language == lang


def test_a_preset_amount(app, give):
    response, _ = give(amount_choice="10000", other_amount="")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(Donation.amount)) == 10000


def test_a_made_up_preset_is_refused(app, give):
    response, _ = give(amount_choice="1", other_amount="")
    assert response.status_code == 400
    assert count(app, Donation) == 0


@pytest.mark.parametrize("gift", [100, 2500, 5000, 10000, 25000, 12345, 5_000_000])
def test_covering_the_fee_leaves_exactly_the_gift(app, gift):
    with app.app_context():
        charged = with_fee_covered(gift)
    assert charged - card_fee(charged, "2.9", 30) == gift
    assert (charged - 1) - card_fee(charged - 1, "2.9", 30) < gift


def test_the_covered_fee_is_charged_and_recorded(app, give):
    response, session_id = give(other_amount="25", cover_fee="y")
    assert response.status_code == 303
    with app.app_context():
        donation = db.session.scalar(sa.select(Donation))
        assert (donation.amount, donation.fee_covered) == (2500, 106)
        assert db.session.get(Payment, donation.payment_id).amount == 2606


def test_monthly_starts_a_subscription_checkout(app, give, stripe_sim):
    response, session_id = give(frequency="monthly", other_amount="20", annual_receipt="y")
    assert response.status_code == 303
    with app.app_context():
        gift = db.session.scalar(sa.select(MonthlyGift))
        assert gift.amount == 2000 and gift.annual_receipt and gift.status.value == "pending"
        payment = db.session.scalar(sa.select(Payment))
        assert payment.mode == "subscription"


def test_missing_address_is_refused_with_messages(app, give):
    response, _ = give(address_line1="", postal_code="12345")
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Please enter your address." in text
    assert "Please enter a Canadian postal code" in text
    assert count(app, Donation) == 0


def test_news_consent_is_recorded_with_its_wording_only_when_ticked(app, give):
    from core.mail.models import EmailConsent

    give(email="no@example.org")
    give(lang="fr", email="oui@example.org", news_consent="y")
    with app.app_context():
        [row] = db.session.scalars(sa.select(EmailConsent)).all()
        assert row.email == "oui@example.org" and row.granted and row.language == "fr"
        assert row.wording.startswith("Oui, envoyez-moi des nouvelles par courriel")
        assert row.source == "donation form"


def test_the_form_fills_in_a_signed_in_members_details(app, client, funds, signed_in):
    signed_in("member", email="mia@example.org")
    html = client.get("/donate").get_data(as_text=True)
    assert 'value="mia@example.org"' in html


def test_the_donate_page_offers_presets_and_funds_in_french(client, funds):
    html = client.get("/donate?lang=fr").get_data(as_text=True)
    assert "25,00\u00a0$" in html and "Publication Mondial" in html
    assert "Chaque don, si petit soit-il, fait une différence." in html
