"""Render donation receipts and acknowledgements as PDF, in English or French.

This module only draws: serial numbers, voiding and advantage rules belong to the issuing
code, which hands over a finished :class:`ReceiptDocument`. It needs no Flask app.

An official receipt carries every item the Canada Revenue Agency requires on a receipt for
a cash gift (statement, charity name and address, registration number, serial number,
place of issue, date received or year, date issued, donor name and address, amount,
advantage, eligible amount, signature, CRA name and website), each as extractable text.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from babel.dates import format_date
from fpdf import FPDF
from fpdf.prefs import ViewerPreferences

from core.money import format_money

__all__ = ["GiftLine", "ReceiptDocument", "render_receipt_pdf"]

ASSETS = Path(__file__).resolve().parent / "assets"
FONT_REGULAR = ASSETS / "fonts" / "DejaVuSans.ttf"
FONT_BOLD = ASSETS / "fonts" / "DejaVuSans-Bold.ttf"
DEMO_SIGNATURE = ASSETS / "signature-demo.png"

KINDS = ("official", "acknowledgement")
LOCALES = {"en": "en_CA", "fr": "fr_CA"}
PDF_LANGS = {"en": "en-CA", "fr": "fr-CA"}

NBSP = "\u00a0"

# Fixed wording. Apostrophes are straight on purpose: callers and tests search for these
# exact phrases, and the CRA's own wording is usually quoted that way.
TEXT = {
    "en": {
        "title_official": "Official donation receipt for income tax purposes",
        "title_ack": "Acknowledgement of gift",
        "meta_official": "Official donation receipt",
        "thanks": "Thank you for your generous gift.",
        "not_official": (
            "This is not an official receipt for income tax purposes.",
            "No tax receipt is issued for this gift.",
        ),
        "serial": "Serial number",
        "reference": "Reference number",
        "registration": "Registration number",
        "place": "Place of issue",
        "issued": "Date issued",
        "received": "Date the gift was received",
        "year": "Year of gifts",
        "donor": "Donor's name and address",
        "amount": "Amount of gift",
        "advantage": "Value of advantage",
        "advantage_description": "Description of advantage",
        "eligible": "Eligible amount of gift for tax purposes",
        "fund": "Fund",
        "gifts_heading": "Gifts received in {year}",
        "gift_date": "Date received",
        "gift_amount": "Amount",
        "gift_total": "Total",
        "signature": "Authorized signature",
        "replaces": "This receipt cancels and replaces receipt No. {serial}",
        "replaces_ack": "This acknowledgement replaces acknowledgement No. {serial}",
        "void": "VOID",
        "void_note": "This document has been voided and is kept for our records.",
        "void_reason": "Reason: {reason}",
        "cra": "Canada Revenue Agency: canada.ca/charities-giving",
        "page": "Page {page} of {nb}",
    },
    "fr": {
        "title_official": "Reçu officiel de don aux fins de l'impôt sur le revenu",
        "title_ack": "Accusé de réception de don",
        "meta_official": "Reçu officiel de don",
        "thanks": "Merci de votre généreux don.",
        "not_official": (
            "Ceci n'est pas un reçu officiel aux fins de l'impôt sur le revenu.",
            "Aucun reçu fiscal n'est délivré pour ce don.",
        ),
        "serial": "Numéro de série",
        "reference": "Numéro de référence",
        "registration": "Numéro d'enregistrement",
        "place": "Lieu de délivrance",
        "issued": "Date de délivrance",
        "received": "Date de réception du don",
        "year": "Année des dons",
        "donor": "Nom et adresse du donateur",
        "amount": "Montant du don",
        "advantage": "Valeur de l'avantage",
        "advantage_description": "Description de l'avantage",
        "eligible": "Montant admissible du don aux fins de l'impôt",
        "fund": "Fonds",
        "gifts_heading": "Dons reçus en {year}",
        "gift_date": "Date de réception",
        "gift_amount": "Montant",
        "gift_total": "Total",
        "signature": "Signature autorisée",
        "replaces": "Ce reçu annule et remplace le reçu n° {serial}",
        "replaces_ack": "Cet accusé de réception remplace l'accusé de réception n° {serial}",
        "void": "ANNULÉ",
        "void_note": "Ce document a été annulé et est conservé dans nos dossiers.",
        "void_reason": f"Motif{NBSP}: {{reason}}",
        # The CRA gives a French address for its charities pages; the English one the
        # receipt guide quotes is kept too, so either can be found on the receipt.
        "cra": (
            f"Agence du revenu du Canada{NBSP}: canada.ca/organismes-bienfaisance-dons "
            f"(en anglais{NBSP}: canada.ca/charities-giving)"
        ),
        "page": "Page {page} de {nb}",
    },
}

# Colours and measures, in millimetres on US Letter.
INK = (33, 33, 33)
MUTED = (95, 95, 95)
ACCENT = (22, 38, 92)
RULE = (200, 204, 214)
ALERT = (176, 0, 32)
MARGIN_X = 20
MARGIN_TOP = 16
MARGIN_BOTTOM = 18
LINE = 4.6


@dataclass(frozen=True)
class GiftLine:
    """One gift listed on an annual receipt."""

    received_on: datetime.date
    amount: int  # cents


@dataclass(frozen=True)
class ReceiptDocument:
    """Everything printed on one receipt or acknowledgement; amounts are in cents."""

    kind: str  # "official" (CRA tax receipt) or "acknowledgement" (no tax receipt)
    language: str  # "en" or "fr"
    serial: str | None
    org_name: str
    org_address: str
    place_of_issue: str
    issued_on: datetime.date
    donor_name: str
    donor_address: str
    amount: int
    advantage: int = 0
    advantage_description: str = ""
    eligible_amount: int | None = None
    received_on: datetime.date | None = None
    year: int | None = None
    gifts: tuple[GiftLine, ...] = ()
    registration_number: str | None = None
    signer_name: str = ""
    signer_title: str = ""
    signature_png: bytes | None = None
    replaces_serial: str | None = None
    void: bool = False
    void_reason: str = ""
    fund_name: str = ""
    org_email: str = ""
    org_website: str = ""

    @property
    def official(self) -> bool:
        """Whether this is an official receipt for income tax purposes."""
        return self.kind == "official"

    @property
    def eligible(self) -> int:
        """The eligible amount, defaulting to the amount less the advantage."""
        if self.eligible_amount is None:
            return self.amount - self.advantage
        return self.eligible_amount


def render_receipt_pdf(doc: ReceiptDocument) -> bytes:
    """Render a receipt or acknowledgement as a one- or multi-page US Letter PDF."""
    _validate(doc)
    pdf = _ReceiptPDF(doc)
    pdf.add_page()
    if doc.void:
        _void_banner(pdf, doc)
    _title(pdf, doc)
    if doc.replaces_serial:
        _replaces(pdf, doc)
    _details(pdf, doc)
    if doc.gifts:
        _gift_list(pdf, doc)
    _signature(pdf, doc)
    if doc.official:
        _cra_line(pdf, doc)
    pdf.finished = True
    return bytes(pdf.output())


def _locale(language: str) -> str:
    """Return the Babel locale for ``en`` or ``fr``, or raise ``ValueError``."""
    try:
        return LOCALES[language]
    except KeyError:
        raise ValueError(f"language must be 'en' or 'fr', not {language!r}") from None


def _date(value: datetime.date, language: str) -> str:
    """Format a date the long way, e.g. ``December 31, 2026`` or ``31 décembre 2026``."""
    return format_date(value, format="long", locale=_locale(language))


def _validate(doc: ReceiptDocument) -> None:
    """Raise ``ValueError`` for a document that cannot make a correct receipt."""
    _locale(doc.language)
    if doc.kind not in KINDS:
        raise ValueError(f"kind must be 'official' or 'acknowledgement', not {doc.kind!r}")
    if doc.official:
        if not doc.registration_number:
            raise ValueError("an official receipt needs the charity's registration_number")
        if not doc.serial:
            raise ValueError("an official receipt needs a unique serial number")
        for name in ("org_name", "org_address", "place_of_issue", "donor_name", "donor_address"):
            if not getattr(doc, name).strip():
                raise ValueError(f"an official receipt needs {name}")
        if doc.received_on is None and doc.year is None:
            raise ValueError("an official receipt needs received_on (one gift) or year")
        if doc.advantage and not doc.advantage_description.strip():
            raise ValueError("an official receipt with an advantage must describe it")
    if doc.received_on is not None and doc.year is not None:
        raise ValueError("set received_on for one gift or year for an annual receipt, not both")
    if doc.gifts and doc.year is None:
        raise ValueError("a list of gifts needs the year it covers")
    if doc.amount < 0 or doc.advantage < 0:
        raise ValueError("amount and advantage must not be negative")
    if doc.advantage > doc.amount:
        raise ValueError("the advantage cannot exceed the amount of the gift")
    if not 0 <= doc.eligible <= doc.amount:
        raise ValueError("the eligible amount must be between zero and the amount")
    if doc.gifts:
        if sum(gift.amount for gift in doc.gifts) != doc.amount:
            raise ValueError("the gifts listed must add up to the amount")
        if any(gift.received_on.year != doc.year for gift in doc.gifts):
            raise ValueError(f"every gift listed must be received in {doc.year}")


class _ReceiptPDF(FPDF):
    """An FPDF document set up for one receipt, with its fonts, metadata and footer."""

    def __init__(self, doc: ReceiptDocument) -> None:
        super().__init__(orientation="portrait", unit="mm", format="Letter")
        self.doc = doc
        self.words = TEXT[doc.language]
        self.finished = False
        self.add_font("Sans", "", str(FONT_REGULAR))
        self.add_font("Sans", "B", str(FONT_BOLD))
        self.set_margins(MARGIN_X, MARGIN_TOP, MARGIN_X)
        self.set_auto_page_break(True, margin=MARGIN_BOTTOM)
        self.alias_nb_pages()
        title = self.words["meta_official"] if doc.official else self.words["title_ack"]
        self.set_title(f"{title} {doc.serial}" if doc.serial else title)
        self.set_subject(self.words["title_official"] if doc.official else self.words["title_ack"])
        self.set_author(doc.org_name)
        self.set_creator(doc.org_name)
        self.set_lang(PDF_LANGS[doc.language])
        self.viewer_preferences = ViewerPreferences(display_doc_title=True)
        # A fixed date makes two renders of one document byte-identical. Noon UTC is the
        # same calendar day in every Canadian time zone.
        self.set_creation_date(
            datetime.datetime.combine(doc.issued_on, datetime.time(12), tzinfo=datetime.UTC)
        )

    @property
    def content_width(self) -> float:
        """The width between the left and right margins."""
        return self.w - self.l_margin - self.r_margin

    def style(self, size: float, bold: bool = False, color: tuple[int, int, int] = INK) -> None:
        """Set the font size, weight and colour in one call."""
        self.set_font("Sans", "B" if bold else "", size)
        self.set_text_color(*color)

    def header(self) -> None:
        """Print the organization's name, address and contacts at the top of every page."""
        doc = self.doc
        if doc.void:
            # Drawn first, so it lies under the page's content.
            _void_watermark(self)
        self.style(15, bold=True, color=ACCENT)
        self.multi_cell(0, 7, doc.org_name, align="L", new_x="LMARGIN", new_y="NEXT")
        self.style(9, color=MUTED)
        lines = _lines(doc.org_address)
        contacts = " · ".join(value for value in (doc.org_email, doc.org_website) if value)
        if contacts:
            lines.append(contacts)
        for line in lines:
            self.multi_cell(0, 4.3, line, align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(2)
        self.rule(ACCENT, 0.5)
        self.ln(5)

    def footer(self) -> None:
        """Number the pages, but only when there is more than one."""
        if self.finished and self.page_no() == 1:
            return
        self.set_y(-MARGIN_BOTTOM + 6)
        self.style(7.5, color=MUTED)
        left = f"{self.words['serial']} {self.doc.serial}" if self.doc.serial else ""
        self.cell(self.content_width / 2, 4, left)
        # "{nb}" is fpdf2's default alias, replaced by the page count on output.
        page = self.words["page"].format(page=self.page_no(), nb="{nb}")
        self.cell(self.content_width / 2, 4, page, align="R")

    def rule(self, color: tuple[int, int, int] = RULE, width: float = 0.2) -> None:
        """Draw a horizontal line across the content width at the current position."""
        self.set_draw_color(*color)
        self.set_line_width(width)
        self.line(self.l_margin, self.y, self.w - self.r_margin, self.y)


def _lines(text: str) -> list[str]:
    """Split a multi-line field into trimmed, non-empty lines."""
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def _fit_size(pdf: _ReceiptPDF, text: str, width: float, size: float, bold: bool) -> float:
    """Return the largest font size, down to 60 % of ``size``, that fits ``text`` on a line."""
    pdf.style(size, bold)
    fitted = size * min(1.0, width / max(pdf.get_string_width(text), 0.01))
    return max(round(fitted - 0.05, 1), size * 0.6)


def _void_banner(pdf: _ReceiptPDF, doc: ReceiptDocument) -> None:
    """Draw a boxed VOID notice with the reason, above the title."""
    text = pdf.words
    top = pdf.y
    lines = [text["void_note"]]
    if doc.void_reason.strip():
        lines.append(text["void_reason"].format(reason=doc.void_reason.strip()))
    pdf.set_x(pdf.l_margin + 4)
    pdf.style(20, bold=True, color=ALERT)
    pdf.cell(0, 10, text["void"], new_x="LMARGIN", new_y="NEXT")
    pdf.style(9.5, color=ALERT)
    for line in lines:
        pdf.set_x(pdf.l_margin + 4)
        pdf.multi_cell(pdf.content_width - 8, LINE, line, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2.5)
    pdf.set_draw_color(*ALERT)
    pdf.set_line_width(0.8)
    pdf.rect(pdf.l_margin, top, pdf.content_width, pdf.y - top)
    pdf.ln(5)


def _void_watermark(pdf: _ReceiptPDF) -> None:
    """Stamp VOID diagonally across the page, faint so the content stays legible."""
    word = pdf.words["void"]
    size = _fit_size(pdf, word, pdf.w * 0.85, 120, bold=True)
    pdf.style(size, bold=True, color=ALERT)
    width = pdf.get_string_width(word)
    cx, cy = pdf.w / 2, pdf.h / 2
    # The baseline sits half a cap height (about 0.73 em) below the centre; 1 pt = 0.3528 mm.
    baseline = cy + size * 0.3528 * 0.73 / 2
    with pdf.local_context(fill_opacity=0.12), pdf.rotation(40, x=cx, y=cy):
        pdf.text(cx - width / 2, baseline, word)


def _title(pdf: _ReceiptPDF, doc: ReceiptDocument) -> None:
    """Draw the title; an acknowledgement also thanks and says it is no tax receipt."""
    text = pdf.words
    title = text["title_official"] if doc.official else text["title_ack"]
    pdf.style(_fit_size(pdf, title, pdf.content_width, 15, bold=True), bold=True, color=ACCENT)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    if not doc.official:
        pdf.ln(1)
        pdf.style(10)
        pdf.multi_cell(0, LINE + 0.4, text["thanks"], align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        # One sentence per line, so neither is ever split by wrapping.
        for sentence in text["not_official"]:
            size = _fit_size(pdf, sentence, pdf.content_width, 10, bold=True)
            pdf.style(size, bold=True)
            pdf.cell(0, LINE + 0.4, sentence, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _replaces(pdf: _ReceiptPDF, doc: ReceiptDocument) -> None:
    """Draw the boxed line naming the receipt this one cancels and replaces."""
    key = "replaces" if doc.official else "replaces_ack"
    line = pdf.words[key].format(serial=doc.replaces_serial)
    pdf.set_fill_color(236, 239, 247)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.4)
    pdf.style(_fit_size(pdf, line, pdf.content_width - 6, 11, bold=True), bold=True, color=ACCENT)
    pdf.cell(0, 9, line, border=1, fill=True, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _rows(doc: ReceiptDocument) -> list[tuple[str, str, bool]]:
    """Return the (label key, value, emphasised) rows of the details table."""
    lang = doc.language
    rows: list[tuple[str, str, bool]] = []
    if doc.serial:
        rows.append(("serial" if doc.official else "reference", doc.serial, True))
    if doc.official:
        rows.append(("registration", doc.registration_number or "", False))
    if doc.place_of_issue:
        rows.append(("place", doc.place_of_issue, False))
    rows.append(("issued", _date(doc.issued_on, lang), False))
    if doc.year is not None:
        rows.append(("year", str(doc.year), False))
    elif doc.received_on is not None:
        rows.append(("received", _date(doc.received_on, lang), False))
    donor = "\n".join([doc.donor_name.strip(), *_lines(doc.donor_address)])
    rows.append(("donor", donor, False))
    rows.append(("amount", format_money(doc.amount, locale=lang), False))
    if doc.official:
        rows.append(("advantage", format_money(doc.advantage, locale=lang), False))
        if doc.advantage_description.strip():
            rows.append(("advantage_description", doc.advantage_description.strip(), False))
        rows.append(("eligible", format_money(doc.eligible, locale=lang), True))
    if doc.fund_name:
        rows.append(("fund", doc.fund_name, False))
    return rows


def _details(pdf: _ReceiptPDF, doc: ReceiptDocument) -> None:
    """Draw the label/value table; each label stays on one line so it extracts whole."""
    rows = _rows(doc)
    pdf.style(9)
    label_width = max(pdf.get_string_width(pdf.words[key]) for key, _, _ in rows) + 6
    label_width = min(label_width, pdf.content_width * 0.55)
    value_width = pdf.content_width - label_width
    pdf.rule()
    for key, value, strong in rows:
        pdf.style(10, bold=strong)
        # Left-aligned: fpdf2 justifies by default, and the stretched word spacing comes
        # back from text extraction as doubled spaces.
        height = pdf.multi_cell(value_width, LINE, value, dry_run=True, align="L", output="HEIGHT")
        height = max(height, LINE) + 2.6
        if pdf.will_page_break(height):
            pdf.add_page()
            pdf.rule()
        top = pdf.y
        pdf.set_xy(pdf.l_margin, top + 1.3)
        pdf.style(9, color=MUTED)
        pdf.cell(label_width, LINE, pdf.words[key])
        pdf.set_xy(pdf.l_margin + label_width, top + 1.3)
        pdf.style(10, bold=strong)
        pdf.multi_cell(value_width, LINE, value, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(top + height)
        pdf.rule()
    pdf.ln(6)


def _gift_list(pdf: _ReceiptPDF, doc: ReceiptDocument) -> None:
    """List each gift of an annual receipt with its date and amount, then the total."""
    text, lang = pdf.words, doc.language
    gifts = sorted(doc.gifts, key=lambda gift: gift.received_on)
    # Two columns keep a year of monthly gifts on the first page.
    columns = 2 if len(gifts) > 6 else 1
    date_width, amount_width, gap, row = 52, 30, 10, 5.2
    column_width = date_width + amount_width
    grid_width = columns * column_width + (columns - 1) * gap

    def heading() -> None:
        pdf.style(9, bold=True, color=MUTED)
        for column in range(columns):
            pdf.set_x(pdf.l_margin + column * (column_width + gap))
            pdf.cell(date_width, row, text["gift_date"])
            pdf.cell(amount_width, row, text["gift_amount"], align="R")
        pdf.ln(row)
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.2)
        pdf.line(pdf.l_margin, pdf.y, pdf.l_margin + grid_width, pdf.y)
        pdf.ln(0.8)

    if pdf.will_page_break(7 + row * 3):
        pdf.add_page()
    pdf.style(11, bold=True, color=ACCENT)
    pdf.cell(0, 7, text["gifts_heading"].format(year=doc.year), new_x="LMARGIN", new_y="NEXT")
    done = 0
    while done < len(gifts):
        fit = int((pdf.page_break_trigger - pdf.y - row - 1) // row)
        if fit < 1:
            pdf.add_page()
            continue
        remaining = len(gifts) - done
        rows = min(fit, -(-remaining // columns))
        chunk = gifts[done : done + rows * columns]
        # Fill down each column, as a reader scans dates in order.
        per_column = -(-len(chunk) // columns)
        heading()
        pdf.style(10)
        for line in range(per_column):
            for column in range(columns):
                index = column * per_column + line
                if index >= len(chunk):
                    continue
                pdf.set_x(pdf.l_margin + column * (column_width + gap))
                pdf.cell(date_width, row, _date(chunk[index].received_on, lang))
                pdf.cell(
                    amount_width, row, format_money(chunk[index].amount, locale=lang), align="R"
                )
            pdf.ln(row)
        done += len(chunk)
        if done < len(gifts):
            pdf.add_page()
    if pdf.will_page_break(row + 1):
        pdf.add_page()
    pdf.set_draw_color(*RULE)
    pdf.line(pdf.l_margin, pdf.y, pdf.l_margin + grid_width, pdf.y)
    pdf.ln(0.8)
    pdf.style(10, bold=True)
    pdf.cell(grid_width - amount_width, row, text["gift_total"], align="R")
    pdf.cell(amount_width, row, format_money(doc.amount, locale=lang), align="R")
    pdf.ln(row)
    pdf.ln(6)


def _signature(pdf: _ReceiptPDF, doc: ReceiptDocument) -> None:
    """Draw the facsimile signature over a line, with the signer's name and title."""
    image_w, image_h, line_w = 55, 17, 75
    # Image, line, then up to three lines of text: kept together on one page.
    if pdf.will_page_break(image_h + 3 + 3 * LINE):
        pdf.add_page()
    top = pdf.y
    image = BytesIO(doc.signature_png) if doc.signature_png else DEMO_SIGNATURE
    pdf.image(image, x=pdf.l_margin, y=top, w=image_w, h=image_h, keep_aspect_ratio=True)
    pdf.set_y(top + image_h + 1)
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.25)
    pdf.line(pdf.l_margin, pdf.y, pdf.l_margin + line_w, pdf.y)
    pdf.ln(1.2)
    if doc.signer_name:
        pdf.style(10, bold=True)
        pdf.cell(line_w, LINE, doc.signer_name, new_x="LMARGIN", new_y="NEXT")
    if doc.signer_title:
        pdf.style(9)
        pdf.cell(line_w, LINE, doc.signer_title, new_x="LMARGIN", new_y="NEXT")
    pdf.style(8, color=MUTED)
    pdf.cell(line_w, LINE, pdf.words["signature"], new_x="LMARGIN", new_y="NEXT")


def _cra_line(pdf: _ReceiptPDF, doc: ReceiptDocument) -> None:
    """Print the CRA's name and website at the foot of the last page."""
    line = pdf.words["cra"]
    size = _fit_size(pdf, line, pdf.content_width, 8.5, bold=False)
    bottom = pdf.h - MARGIN_BOTTOM - 7
    if pdf.y + 4 > bottom:
        pdf.ln(4)
    else:
        pdf.set_y(bottom)
    pdf.rule()
    pdf.ln(1.5)
    pdf.style(size, color=MUTED)
    pdf.cell(0, 4.5, line, align="C", new_x="LMARGIN", new_y="NEXT")
