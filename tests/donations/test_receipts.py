"""Receipt rules: advantages, serial numbers under concurrency, every CRA item in both languages."""

import threading
from datetime import UTC, date, datetime
from io import BytesIO

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from core import clock
from core.db import db
from donations import receipts
from donations.models import Donation, DonationKind, Fund, Receipt
from tests.donation_fixtures import REGISTRATION
from tests.factories import DonationFactory, MonthlyGiftFactory
from tests.helpers import POSTGRES, require


@pytest.mark.parametrize(
    ("amount", "advantage", "printed", "eligible"),
    [
        (20000, 0, 0, 20000),
        (20000, 2000, 0, 20000),  # 10 % of $200: de minimis, ignored
        (20000, 2001, 2001, 17999),  # just over 10 %
        (100000, 7500, 0, 100000),  # $75 on $1,000: de minimis (the $75 cap)
        (100000, 7501, 7501, 92499),  # over $75
        (20000, 16000, 16000, 4000),  # exactly 80 %: still a receipt
    ],
)
def test_advantage_rules(amount, advantage, printed, eligible):
    rules = receipts.eligibility(amount, advantage)
    assert (rules.advantage, rules.eligible) == (printed, eligible)


@pytest.mark.parametrize(("amount", "advantage"), [(20000, 16001), (10000, 10000)])
def test_no_receipt_when_the_advantage_is_over_80_percent(amount, advantage):
    assert receipts.eligibility(amount, advantage) is None


def paid_gift(fund, amount=5000, language="en", **details):
    return DonationFactory(fund=fund, amount=amount, language=language, **details)


def pdf_text(data):
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "Official donation receipt for income tax purposes",
                "Registration number",
                REGISTRATION,
                "Serial number",
                "Place of issue",
                "Ottawa, Ontario",
                "Date the gift was received",
                "December 31, 2026",
                "Date issued",
                "Marie Tremblay",
                "45 rue Saint-Denis",
                "Montréal QC H2X 3K8",
                "Amount of gift",
                "$500.00",
                "Value of advantage",
                "$0.00",
                "Eligible amount of gift for tax purposes",
                "Dana Demo",
                "Treasurer",
                "Canada Revenue Agency",
                "canada.ca/charities-giving",
            ],
        ),
        (
            "fr",
            [
                "Reçu officiel de don aux fins de l'impôt sur le revenu",
                "Numéro d'enregistrement",
                REGISTRATION,
                "Lieu de délivrance",
                "Ottawa, Ontario",
                "Date de réception du don",
                "31 décembre 2026",
                "Date de délivrance",
                "Marie Tremblay",
                "45 rue Saint-Denis",
                "Montréal QC H2X 3K8",
                "Montant du don",
                "500,00 $",
                "Valeur de l'avantage",
                "0,00 $",
                "Montant admissible du don aux fins de l'impôt",
                "Dana Demo",
                "Agence du revenu du Canada",
                "canada.ca/charities-giving",
            ],
        ),
    ],
)
def test_an_issued_receipt_carries_every_cra_item(app_ctx, funds, charity, language, expected):
    fund = db.session.scalar(sa.select(Fund))
    clock.freeze(datetime(2027, 1, 5, 15, 0, tzinfo=UTC))
    receipt = receipts.issue([paid_gift(fund, 50000, language)])
    db.session.commit()
    text = pdf_text(receipts.pdf(receipt))
    for item in expected:
        assert item in text, item
    assert receipt.number in text  # the unique serial
    assert receipt.issued_on == date(2027, 1, 5) and receipt.received_on == date(2026, 12, 31)


def test_a_partial_refund_of_one_month_reissues_the_annual_receipt(app_ctx, funds, charity):

    fund = db.session.scalar(sa.select(Fund))
    gift = MonthlyGiftFactory(fund=fund, email="annual@example.org")
    months = [
        DonationFactory(
            fund=fund,
            kind=DonationKind.monthly,
            monthly_gift=gift,
            amount=2000,
            email="annual@example.org",
            received_at=datetime(2026, m, 15, 17, tzinfo=UTC),
        )
        for m in (3, 4, 5)
    ]
    db.session.commit()
    assert receipts.annual_donors(2026) == [gift.id]
    annual = receipts.issue_annual_for(gift.id, 2026)
    assert (annual.amount, len(annual.items)) == (6000, 3)

    months[1].refunded = 500  # as the refund handler leaves it
    replacement = receipts.reconcile(months[1], reason="refund")
    db.session.commit()
    assert annual.is_void and replacement.replaces_id == annual.id
    assert replacement.annual and replacement.amount == 5500
    assert sorted(i.amount for i in replacement.items) == [1500, 2000, 2000]
    text = pdf_text(receipts.pdf(replacement))
    assert f"This receipt cancels and replaces receipt No. {annual.number}" in text
    assert receipts.annual_donors(2026) == []  # nothing left to receipt


def test_a_business_gift_is_receipted_to_the_business(app_ctx, funds, charity):
    fund = db.session.scalar(sa.select(Fund))
    receipt = receipts.issue([paid_gift(fund, organization_name="Pearson Peace Ltd.")])
    assert receipt.donor_name == "Pearson Peace Ltd."


def test_a_gift_is_receipted_at_most_once(app_ctx, funds, charity):
    fund = db.session.scalar(sa.select(Fund))
    gift = paid_gift(fund)
    receipts.issue([gift])
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        receipts.issue([gift])
    db.session.rollback()


def test_the_minimum_receipt_amount(app_ctx, funds, charity):
    from core.settings import set_setting

    set_setting("receipts.min_amount", 2000)
    fund = db.session.scalar(sa.select(Fund))
    assert receipts.issue([paid_gift(fund, 1999)]) is None
    assert receipts.issue([paid_gift(fund, 2000, email="b@example.org")]) is not None


def test_serials_are_consecutive_and_voided_ones_are_kept(app_ctx, funds, charity):
    fund = db.session.scalar(sa.select(Fund))
    first = receipts.issue([paid_gift(fund)])
    receipts.void(first, "entered twice")
    second = receipts.issue([paid_gift(fund, email="x@example.org")])
    db.session.commit()
    assert second.serial == first.serial + 1
    assert db.session.get(Receipt, first.id).is_void
    text = pdf_text(receipts.pdf(first))
    assert "VOID" in text and "entered twice" in text


@pytest.mark.postgres
def test_50_receipts_issued_concurrently_get_50_consecutive_serials(app, funds, charity):
    require(POSTGRES, "PostgreSQL (TEST_DATABASE_URL)")
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
        fund = db.session.scalar(sa.select(Fund))
        ids = [paid_gift(fund, email=f"d{n}@example.org").id for n in range(50)]
        db.session.commit()
    start = threading.Barrier(50)
    errors = []

    def issue_one(donation_id):
        try:
            with app.app_context():
                start.wait()
                receipts.issue([db.session.get(Donation, donation_id)])
                db.session.commit()
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=issue_one, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        serials = sorted(db.session.scalars(sa.select(Receipt.serial)))
    assert serials == list(range(serials[0], serials[0] + 50))


def test_receipt_serials_restart_each_year(app_ctx, funds, charity):
    from datetime import UTC, datetime

    fund = db.session.scalar(sa.select(Fund))
    december = datetime(2026, 12, 15, 17, tzinfo=UTC)
    january = datetime(2027, 1, 10, 17, tzinfo=UTC)
    first = receipts.issue([paid_gift(fund, email="a@example.org", received_at=december)])
    second = receipts.issue([paid_gift(fund, email="b@example.org", received_at=december)])
    new_year = receipts.issue([paid_gift(fund, email="c@example.org", received_at=january)])
    later = receipts.issue([paid_gift(fund, email="d@example.org", received_at=december)])
    db.session.commit()
    assert (first.year, new_year.year) == (2026, 2027)
    assert new_year.serial == 1 and new_year.number == "2027-000001"
    assert [second.serial, later.serial] == [first.serial + 1, first.serial + 2]


def test_a_french_receipt_prints_the_signers_french_title(app_ctx, funds, charity):
    from core.settings import set_setting

    set_setting("receipts.signer_title", "Treasurer")
    set_setting("receipts.signer_title_fr", "Trésorière")
    fund = db.session.scalar(sa.select(Fund))
    french = receipts.issue([paid_gift(fund, language="fr", email="f@example.org")])
    english = receipts.issue([paid_gift(fund, language="en", email="e@example.org")])
    db.session.commit()
    assert french.signer_title == "Trésorière" and english.signer_title == "Treasurer"
    text = pdf_text(receipts.pdf(french))
    assert "Trésorière" in text and "Treasurer" not in text
    assert "Treasurer" in pdf_text(receipts.pdf(english))
