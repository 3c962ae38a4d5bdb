"""Every confirmed letter of a campaign as one PDF, for delivery by hand.

This module only draws what it is given (a :class:`LettersDocument`); which letters go
in is decided by the caller. It needs no Flask app.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.dates import format_date
from fontTools.ttLib import TTFont
from fpdf import FPDF

__all__ = ["Letter", "LettersDocument", "render_letters_pdf"]

FONTS = Path(__file__).resolve().parent / "assets" / "fonts"
FONT_REGULAR = FONTS / "DejaVuSerif.ttf"
FONT_BOLD = FONTS / "DejaVuSerif-Bold.ttf"
LOCALES = {"en": "en_CA", "fr": "fr_CA"}
PDF_LANGS = {"en": "en-CA", "fr": "fr-CA"}

TEXT = {
    "en": {
        "cover": "Letters from supporters",
        "to": "To",
        "count": "Letters in this document: {count}",
        "generated": "Prepared on {date} by {org}",
        "postal_code": "Postal code: {code}",
        "own_words": "In my own words:",
        "page": "Page {page} of {nb}",
        "none": "No letter has been confirmed yet.",
    },
    "fr": {
        "cover": "Lettres de sympathisants",
        "to": "Destinataire",
        "count": "Lettres dans ce document\u00a0: {count}",
        "generated": "Préparé le {date} par {org}",
        "postal_code": "Code postal\u00a0: {code}",
        "own_words": "En mes propres mots\u00a0:",
        "page": "Page {page} de {nb}",
        "none": "Aucune lettre n'a encore été confirmée.",
    },
}

INK = (30, 30, 30)
MUTED = (100, 100, 100)
LINE = 5.2


@dataclass(frozen=True)
class Letter:
    """One signed letter, in the language its signer chose."""

    language: str
    body: str
    name: str
    postal_code: str
    signed_on: datetime.date
    recipient_name: str = ""  # in the letter's language
    personal_message: str = ""


@dataclass(frozen=True)
class LettersDocument:
    language: str  # of the cover page
    title: str
    recipient_name: str
    recipient_address: str
    org_name: str
    prepared_on: datetime.date
    letters: tuple[Letter, ...]


@cache
def _glyphs():
    return frozenset(TTFont(FONT_REGULAR).getBestCmap())


def printable(text):
    """``text`` with anything the font cannot draw shown as U+FFFD, never dropped silently."""
    glyphs = _glyphs()
    return "".join(c if ord(c) in glyphs or c in "\n\t" else "\ufffd" for c in text or "")


def _lines(pdf, height, text, **kwargs):
    """A paragraph across the page; the next one starts at the left margin below it."""
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT", **kwargs)


def _date(day, language):
    return format_date(day, format="long", locale=LOCALES[language])


class _LettersPDF(FPDF):
    def __init__(self, language):
        super().__init__(orientation="P", unit="mm", format="Letter")
        self.language = language
        self.add_font("Serif", "", str(FONT_REGULAR))
        self.add_font("Serif", "B", str(FONT_BOLD))
        self.set_margins(25, 22, 25)
        self.set_auto_page_break(True, margin=20)
        self.alias_nb_pages()

    def footer(self):
        self.set_y(-14)
        self.set_font("Serif", "", 8)
        self.set_text_color(*MUTED)
        words = TEXT[self.language]["page"].format(page=self.page_no(), nb="{nb}")
        self.cell(0, 5, words, align="C")


def render_letters_pdf(doc: LettersDocument) -> bytes:
    """The cover page, then each letter on its own page(s)."""
    if doc.language not in TEXT:
        raise ValueError(f"language must be 'en' or 'fr', not {doc.language!r}")
    words = TEXT[doc.language]
    pdf = _LettersPDF(doc.language)
    pdf.set_title(printable(doc.title))
    pdf.set_author(printable(doc.org_name))
    pdf.set_lang(PDF_LANGS[doc.language])
    pdf.add_page()
    pdf.set_text_color(*INK)
    pdf.set_font("Serif", "B", 18)
    _lines(pdf, 9, printable(doc.title))
    pdf.ln(4)
    pdf.set_font("Serif", "", 12)
    _lines(pdf, LINE + 1, words["cover"])
    pdf.ln(6)
    _recipient(pdf, doc, words)
    pdf.ln(6)
    _lines(pdf, LINE, words["count"].format(count=len(doc.letters)))
    pdf.set_text_color(*MUTED)
    _lines(
        pdf,
        LINE,
        printable(
            words["generated"].format(date=_date(doc.prepared_on, doc.language), org=doc.org_name)
        ),
    )
    pdf.set_text_color(*INK)
    if not doc.letters:
        pdf.ln(6)
        _lines(pdf, LINE, words["none"])
    for letter in doc.letters:
        _letter(pdf, doc, letter)
    return bytes(pdf.output())


def _recipient(pdf, doc, words):
    pdf.set_font("Serif", "B", 11)
    _lines(pdf, LINE, words["to"])
    pdf.set_font("Serif", "", 11)
    _lines(pdf, LINE, printable(doc.recipient_name))
    if doc.recipient_address:
        _lines(pdf, LINE, printable(doc.recipient_address))


def _letter(pdf, doc, letter):
    words = TEXT.get(letter.language, TEXT["en"])
    pdf.add_page()
    pdf.set_font("Serif", "", 11)
    _lines(pdf, LINE, _date(letter.signed_on, letter.language), align="R")
    pdf.ln(4)
    _lines(pdf, LINE, printable(letter.recipient_name or doc.recipient_name))
    if doc.recipient_address:
        _lines(pdf, LINE, printable(doc.recipient_address))
    pdf.ln(6)
    for paragraph in letter.body.split("\n\n"):
        _lines(pdf, LINE, printable(paragraph.strip()))
        pdf.ln(2.5)
    if letter.personal_message:
        pdf.ln(1)
        pdf.set_font("Serif", "B", 11)
        _lines(pdf, LINE, words["own_words"])
        pdf.set_font("Serif", "", 11)
        _lines(pdf, LINE, printable(letter.personal_message))
        pdf.ln(2.5)
    pdf.ln(4)
    pdf.set_font("Serif", "B", 11)
    _lines(pdf, LINE, printable(letter.name))
    pdf.set_font("Serif", "", 10)
    pdf.set_text_color(*MUTED)
    _lines(pdf, LINE, words["postal_code"].format(code=printable(letter.postal_code)))
    pdf.set_text_color(*INK)
