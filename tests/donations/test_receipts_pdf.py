"""Donation receipts rendered as PDF: CRA items, annual lists, voiding, acknowledgements."""

import datetime
import re
from io import BytesIO

import pytest
from babel.dates import format_date
from PIL import Image
from pypdf import PdfReader

from core.money import format_money
from donations.receipts_pdf import GiftLine, ReceiptDocument, render_receipt_pdf

LANGUAGES = ["en", "fr"]
LOCALES = {"en": "en_CA", "fr": "fr_CA"}

# The wording is spelled out here rather than imported, so a change to the module's
# phrases has to be made twice, on purpose.
WORDING = {
    "en": {
        "statement": "Official donation receipt for income tax purposes",
        "registration": "Registration number",
        "serial": "Serial number",
        "place": "Place of issue",
        "received": "Date the gift was received",
        "year": "Year of gifts",
        "issued": "Date issued",
        "amount": "Amount of gift",
        "advantage": "Value of advantage",
        "eligible": "Eligible amount of gift for tax purposes",
        "cra": "Canada Revenue Agency",
        "replaces": "This receipt cancels and replaces receipt No. 2026-000017",
        "void": "VOID",
        "not_official": (
            "This is not an official receipt for income tax purposes. "
            "No tax receipt is issued for this gift."
        ),
    },
    "fr": {
        "statement": "Reçu officiel de don aux fins de l'impôt sur le revenu",
        "registration": "Numéro d'enregistrement",
        "serial": "Numéro de série",
        "place": "Lieu de délivrance",
        "received": "Date de réception du don",
        "year": "Année des dons",
        "issued": "Date de délivrance",
        "amount": "Montant du don",
        "advantage": "Valeur de l'avantage",
        "eligible": "Montant admissible du don aux fins de l'impôt",
        "cra": "Agence du revenu du Canada",
        "replaces": "Ce reçu annule et remplace le reçu n° 2026-000017",
        "void": "ANNULÉ",
        "not_official": (
            "Ceci n'est pas un reçu officiel aux fins de l'impôt sur le revenu. "
            "Aucun reçu fiscal n'est délivré pour ce don."
        ),
    },
}

# Amounts as each language prints them, after the space normalisation done by ``_text``.
AMOUNTS = {
    "en": {"amount": "$1,234.50", "advantage": "$75.00", "eligible": "$1,159.50", "zero": "$0.00"},
    "fr": {
        "amount": "1 234,50 $",
        "advantage": "75,00 $",
        "eligible": "1 159,50 $",
        "zero": "0,00 $",
    },
}
ISSUED = {"en": "December 31, 2026", "fr": "31 décembre 2026"}
RECEIVED = {"en": "March 1, 2026", "fr": "1 mars 2026"}


def _doc(language, **changes):
    """Return an official single-gift receipt, with ``changes`` applied."""
    fields = dict(
        kind="official",
        language=language,
        serial="2026-000042",
        org_name="Mouvement fédéraliste mondial – Canada",
        org_address="323, rue Chapel, bureau 2\nOttawa (Ontario)  K1N 7Z2",
        place_of_issue="Ottawa, Ontario",
        issued_on=datetime.date(2026, 12, 31),
        donor_name="Zoë O’Brien-Lefèvre",
        donor_address="12, rue de l’Église, app. 3\nGatineau (Québec)  J8X 1A1",
        amount=123450,
        advantage=7500,
        advantage_description="Dîner-bénéfice « Paix » : repas et œuvre d’art",
        received_on=datetime.date(2026, 3, 1),
        registration_number="123456789RR0001",
        signer_name="Renée Côté",
        signer_title="Trésorière",
        fund_name="Fonds général",
        org_email="dons@example.org",
        org_website="example.org",
    )
    fields.update(changes)
    return ReceiptDocument(**fields)


def _annual(language, gifts, **changes):
    """Return an official annual receipt for ``gifts`` received in 2026."""
    fields = dict(
        received_on=None,
        year=2026,
        gifts=tuple(gifts),
        amount=sum(gift.amount for gift in gifts),
        advantage=0,
        advantage_description="",
    )
    return _doc(language, **(fields | changes))


def _reader(pdf):
    """Return a pypdf reader over the PDF bytes."""
    return PdfReader(BytesIO(pdf))


def _text(pdf):
    """Return the text of every page, whitespace normalised for substring assertions.

    Babel puts no-break spaces (U+00A0, and U+202F in some locales) in French amounts;
    pypdf may hand them back as is, so they become plain spaces here. Runs of whitespace,
    including the line breaks of wrapped values, collapse to one space, so the assertions
    check what is printed, not where lines break.
    """
    text = "\n".join(page.extract_text() for page in _reader(pdf).pages)
    text = text.replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_official_receipt_has_every_cra_item(language):
    doc = _doc(language)
    pdf = render_receipt_pdf(doc)
    text = _text(pdf)
    words, amounts = WORDING[language], AMOUNTS[language]
    expected = [
        words["statement"],  # 1
        doc.org_name,  # 2
        "323, rue Chapel, bureau 2",
        "Ottawa (Ontario) K1N 7Z2",
        words["registration"],  # 3
        "123456789RR0001",
        words["serial"],  # 4
        "2026-000042",
        words["place"],  # 5
        "Ottawa, Ontario",
        words["received"],  # 6
        RECEIVED[language],
        words["issued"],  # 7
        ISSUED[language],
        "Zoë O’Brien-Lefèvre",  # 8
        "12, rue de l’Église, app. 3",
        "Gatineau (Québec) J8X 1A1",
        words["amount"],  # 9
        amounts["amount"],
        words["advantage"],  # 10
        amounts["advantage"],
        "Dîner-bénéfice « Paix » : repas et œuvre d’art",
        words["eligible"],  # 11
        amounts["eligible"],
        "Renée Côté",  # 12
        "Trésorière",
        words["cra"],  # 13
        "canada.ca/charities-giving",
    ]
    missing = [item for item in expected if item not in text]
    assert not missing, f"missing from the {language} receipt: {missing}\n{text}"
    # The dates are Babel's long format, as the rest of the application shows them.
    locale = LOCALES[language]
    assert format_date(doc.issued_on, format="long", locale=locale) == ISSUED[language]
    assert format_date(doc.received_on, format="long", locale=locale) == RECEIVED[language]
    assert WORDING[language]["void"] not in text
    assert "cancels and replaces" not in text and "annule et remplace" not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_advantage_shows_zero(language):
    text = _text(render_receipt_pdf(_doc(language, advantage=0, advantage_description="")))
    zero, amount = AMOUNTS[language]["zero"], AMOUNTS[language]["amount"]
    assert f"{WORDING[language]['advantage']} {zero}" in text
    assert f"{WORDING[language]['eligible']} {amount}" in text


def test_explicit_eligible_amount_is_printed():
    doc = _doc("en", advantage=0, advantage_description="", eligible_amount=100000)
    assert "Eligible amount of gift for tax purposes $1,000.00" in _text(render_receipt_pdf(doc))


@pytest.mark.parametrize("language", LANGUAGES)
def test_annual_receipt_lists_year_and_every_gift(language):
    gifts = [GiftLine(datetime.date(2026, month, 15), 1000 + month * 100) for month in range(1, 13)]
    pdf = render_receipt_pdf(_annual(language, gifts))
    text = _text(pdf)
    assert f"{WORDING[language]['year']} 2026" in text
    assert WORDING[language]["received"] not in text
    for gift in gifts:
        date = format_date(gift.received_on, format="long", locale=LOCALES[language])
        amount = format_money(gift.amount, locale=language).replace("\u00a0", " ")
        assert f"{date} {amount}" in text
    total = format_money(sum(gift.amount for gift in gifts), locale=language).replace("\u00a0", " ")
    assert f"{WORDING[language]['eligible']} {total}" in text
    # A year of monthly gifts fits on one page, signature and CRA line included.
    reader = _reader(pdf)
    assert len(reader.pages) == 1
    assert len(reader.pages[0].images) == 1


def test_long_annual_receipt_spans_pages_and_keeps_every_gift():
    start = datetime.date(2026, 1, 2)
    gifts = [GiftLine(start + datetime.timedelta(weeks=week), 500 + week) for week in range(52)]
    pdf = render_receipt_pdf(_annual("en", gifts))
    reader = _reader(pdf)
    text = _text(pdf)
    assert len(reader.pages) >= 2
    for gift in gifts:
        date = format_date(gift.received_on, format="long", locale="en_CA")
        assert f"{date} {format_money(gift.amount, locale='en')}" in text
    assert f"Page 1 of {len(reader.pages)}" in text
    assert "Canada Revenue Agency" in reader.pages[-1].extract_text()
    assert len(reader.pages[-1].images) == 1


@pytest.mark.parametrize("language", LANGUAGES)
def test_replacement_receipt_names_the_one_it_replaces(language):
    text = _text(render_receipt_pdf(_doc(language, replaces_serial="2026-000017")))
    assert WORDING[language]["replaces"] in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_void_receipt_is_marked_and_keeps_its_content(language):
    doc = _doc(language, void=True, void_reason="Montant saisi en double")
    text = _text(render_receipt_pdf(doc))
    words = WORDING[language]
    assert words["void"] in text
    assert "Montant saisi en double" in text
    for item in (words["statement"], "2026-000042", "123456789RR0001", "Zoë O’Brien-Lefèvre"):
        assert item in text
    assert AMOUNTS[language]["eligible"] in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_acknowledgement_is_not_a_tax_receipt(language):
    doc = _doc(
        language,
        kind="acknowledgement",
        serial=None,
        registration_number=None,
        advantage=0,
        advantage_description="",
    )
    pdf = render_receipt_pdf(doc)
    text = _text(pdf)
    words = WORDING[language]
    assert words["not_official"] in text
    for item in (doc.org_name, "Ottawa (Ontario) K1N 7Z2", "Zoë O’Brien-Lefèvre"):
        assert item in text
    assert "Gatineau (Québec) J8X 1A1" in text
    assert f"{words['amount']} {AMOUNTS[language]['amount']}" in text
    assert RECEIVED[language] in text
    for official in (
        "Official donation receipt",
        "Reçu officiel de don",
        words["registration"],
        words["eligible"],
        words["cra"],
        "canada.ca",
    ):
        assert official not in text
    assert len(_reader(pdf).pages[0].images) == 1


def test_acknowledgement_never_prints_a_registration_number():
    doc = _doc("en", kind="acknowledgement", advantage=0, advantage_description="")
    text = _text(render_receipt_pdf(doc))
    assert "123456789RR0001" not in text
    assert "Official donation receipt" not in text


def test_annual_acknowledgement_lists_gifts():
    gifts = [GiftLine(datetime.date(2026, 2, 1), 2000), GiftLine(datetime.date(2026, 9, 30), 3000)]
    doc = _annual("fr", gifts, kind="acknowledgement", serial=None, registration_number=None)
    text = _text(render_receipt_pdf(doc))
    assert "Année des dons 2026" in text
    assert "1 février 2026 20,00 $" in text
    assert "30 septembre 2026 30,00 $" in text
    assert "Total 50,00 $" in text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"registration_number": None}, "registration"),
        ({"registration_number": ""}, "registration"),
        ({"serial": None}, "serial"),
        ({"place_of_issue": " "}, "place_of_issue"),
        ({"donor_address": ""}, "donor_address"),
        ({"received_on": None}, "received_on"),
        ({"advantage_description": ""}, "describe"),
        ({"advantage": 200000}, "advantage"),
        ({"language": "de"}, "language"),
        ({"kind": "receipt"}, "kind"),
        ({"year": 2026}, "not both"),
        ({"eligible_amount": 200000}, "eligible"),
    ],
)
def test_invalid_documents_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        render_receipt_pdf(_doc(**({"language": "en"} | changes)))


def test_gift_list_must_add_up_and_fall_in_the_year():
    gifts = [GiftLine(datetime.date(2026, 1, 1), 1000)]
    with pytest.raises(ValueError, match="add up"):
        render_receipt_pdf(_annual("en", gifts, amount=999))
    gifts = [GiftLine(datetime.date(2025, 12, 31), 1000)]
    with pytest.raises(ValueError, match="2026"):
        render_receipt_pdf(_annual("en", gifts))


@pytest.mark.parametrize("language", LANGUAGES)
def test_pdf_file_properties(language):
    pdf = render_receipt_pdf(_doc(language))
    assert pdf.startswith(b"%PDF")
    reader = _reader(pdf)
    page = reader.pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == (612, 792)  # Letter
    assert len(page.images) == 1  # the facsimile signature
    assert reader.metadata.author == "Mouvement fédéraliste mondial – Canada"
    assert "2026-000042" in reader.metadata.title
    assert reader.trailer["/Root"]["/Lang"] == {"en": "en-CA", "fr": "fr-CA"}[language]
    # Rendering is deterministic: the creation date is the issue date, not the clock.
    assert render_receipt_pdf(_doc(language)) == pdf


def test_custom_signature_is_embedded():
    buffer = BytesIO()
    Image.new("RGBA", (123, 45), (0, 0, 80, 255)).save(buffer, format="PNG")
    pdf = render_receipt_pdf(_doc("en", signature_png=buffer.getvalue()))
    (image,) = _reader(pdf).pages[0].images
    assert image.image.size == (123, 45)


def test_french_characters_survive_extraction():
    doc = _doc("fr", donor_name="Œdipe « Zoé » L’Hérault", advantage=0, advantage_description="")
    raw = "\n".join(page.extract_text() for page in _reader(render_receipt_pdf(doc)).pages)
    for item in ("Œdipe « Zoé » L’Hérault", "Numéro de série", "délivrance", "décembre", "Reçu"):
        assert item in raw
    # The no-break spaces of French amounts come back as U+00A0 (or, normalised, spaces).
    assert re.search("1[\u00a0\u202f ]234,50[\u00a0\u202f ]\\$", raw)


@pytest.mark.parametrize(
    ("cents", "language", "expected"),
    [
        (123450, "en", "$1,234.50"),
        (123450, "fr", "1\u00a0234,50\u00a0$"),
        (0, "en", "$0.00"),
        (0, "fr", "0,00\u00a0$"),
        (5, "en", "$0.05"),
        (100000000, "fr", "1\u00a0000\u00a0000,00\u00a0$"),
    ],
)
def test_receipts_print_amounts_with_the_one_money_format(cents, language, expected):
    assert format_money(cents, locale=language) == expected
