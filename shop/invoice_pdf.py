"""Draw an invoice, a packing slip or a credit note as PDF, in English or French.

This module only draws a finished :class:`Document`; what it says is decided in
:mod:`shop.invoices`. It needs no Flask app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from babel.numbers import format_currency
from fpdf import FPDF

from donations.receipts_pdf import FONT_BOLD, FONT_REGULAR

LOCALES = {"en": "en_CA", "fr": "fr_CA"}

TEXT = {
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "packing_slip": "Packing slip",
        "number": "Number",
        "order": "Order",
        "date": "Date",
        "bill_to": "Sold to",
        "ship_to": "Ship to",
        "item": "Item",
        "qty": "Qty",
        "unit": "Unit price",
        "amount": "Amount",
        "subtotal": "Subtotal",
        "shipping": "Shipping",
        "total": "Total",
        "registration": "GST/HST registration number",
        "refers_to": "Refers to invoice",
        "paid": "Paid by card.",
    },
    "fr": {
        "invoice": "Facture",
        "credit_note": "Note de crédit",
        "packing_slip": "Bordereau d'expédition",
        "number": "Numéro",
        "order": "Commande",
        "date": "Date",
        "bill_to": "Vendu à",
        "ship_to": "Expédier à",
        "item": "Article",
        "qty": "Qté",
        "unit": "Prix unitaire",
        "amount": "Montant",
        "subtotal": "Sous-total",
        "shipping": "Livraison",
        "total": "Total",
        "registration": "Numéro d'inscription TPS/TVH",
        "refers_to": "Se rapporte à la facture",
        "paid": "Payé par carte.",
    },
}


@dataclass(frozen=True)
class Document:
    kind: str  # "invoice", "credit_note" or "packing_slip"
    language: str
    number: str
    order_number: str
    date: str
    org_name: str
    org_address: str
    buyer: list[str]
    ship_to: list[str]
    lines: list[tuple[str, int, int, int]]  # (title, quantity, unit cents, amount cents)
    subtotal: int = 0
    shipping: int = 0
    taxes: list[tuple[str, int]] = field(default_factory=list)  # (label, cents)
    total: int = 0
    tax_number: str = ""


def money(cents: int, language: str) -> str:
    return format_currency(Decimal(cents) / 100, "CAD", locale=LOCALES.get(language, "en_CA"))


def render(doc: Document) -> bytes:
    words = TEXT["fr" if doc.language == "fr" else "en"]
    pdf = FPDF(format="Letter")
    pdf.set_margins(18, 18, 18)
    pdf.add_font("Sans", "", str(FONT_REGULAR))
    pdf.add_font("Sans", "B", str(FONT_BOLD))
    pdf.set_title(f"{words[doc.kind]} {doc.number}")
    pdf.set_lang("fr-CA" if doc.language == "fr" else "en-CA")
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("Sans", "B", 16)
    pdf.cell(width, 9, doc.org_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Sans", "", 9)
    for line in doc.org_address.splitlines() or [""]:
        pdf.cell(width, 5, line, new_x="LMARGIN", new_y="NEXT")
    if doc.tax_number and doc.kind != "packing_slip":
        pdf.cell(
            width, 5, f"{words['registration']}: {doc.tax_number}", new_x="LMARGIN", new_y="NEXT"
        )
    pdf.ln(4)
    pdf.set_font("Sans", "B", 14)
    pdf.cell(width, 8, f"{words[doc.kind]} {doc.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Sans", "", 10)
    pdf.cell(width, 6, f"{words['order']}: {doc.order_number}", new_x="LMARGIN", new_y="NEXT")
    if doc.kind == "credit_note":
        pdf.cell(
            width, 6, f"{words['refers_to']}: {doc.order_number}", new_x="LMARGIN", new_y="NEXT"
        )
    pdf.cell(width, 6, f"{words['date']}: {doc.date}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    blocks = [(words["bill_to"], doc.buyer)]
    if doc.ship_to:
        blocks.append((words["ship_to"], doc.ship_to))
    for title, rows in blocks:
        pdf.set_font("Sans", "B", 10)
        pdf.cell(width, 6, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Sans", "", 10)
        for row in rows:
            if row:
                pdf.cell(width, 5, row, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    cols = (width * 0.52, width * 0.1, width * 0.19, width * 0.19)
    pdf.set_font("Sans", "B", 10)
    for text, w, align in zip(
        (words["item"], words["qty"], words["unit"], words["amount"]), cols, "LRRR", strict=True
    ):
        pdf.cell(w, 7, text, border="B", align=align)
    pdf.ln()
    pdf.set_font("Sans", "", 10)
    for title, quantity, unit, amount in doc.lines:
        pdf.cell(cols[0], 6, title[:60])
        pdf.cell(cols[1], 6, str(quantity), align="R")
        if doc.kind == "packing_slip":
            pdf.ln()
            continue
        pdf.cell(cols[2], 6, money(unit, doc.language), align="R")
        pdf.cell(cols[3], 6, money(amount, doc.language), align="R")
        pdf.ln()
    if doc.kind != "packing_slip":
        pdf.ln(2)
        rows = [(words["subtotal"], doc.subtotal)]
        if doc.shipping:
            rows.append((words["shipping"], doc.shipping))
        rows.extend(doc.taxes)
        for label, cents in rows:
            pdf.cell(sum(cols[:3]), 6, label, align="R")
            pdf.cell(cols[3], 6, money(cents, doc.language), align="R")
            pdf.ln()
        pdf.set_font("Sans", "B", 11)
        pdf.cell(sum(cols[:3]), 7, words["total"], align="R")
        pdf.cell(cols[3], 7, money(doc.total, doc.language), align="R")
        pdf.ln(10)
        pdf.set_font("Sans", "", 9)
        pdf.cell(width, 5, words["paid"])
    return bytes(pdf.output())
