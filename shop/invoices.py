"""The invoice, credit note and packing slip of an order, as documents to draw."""

from babel.dates import format_date
from flask import current_app

from core import clock
from core.db import db
from shop.invoice_pdf import Document, render
from shop.models import Order, OrderRefund


def _date(moment, language):
    when = clock.local(moment or clock.now()).date()
    return format_date(when, "long", locale="fr_CA" if language == "fr" else "en_CA")


def _buyer(order):
    return [order.name, order.email]


def _ship_to(order):
    if not order.ships:
        return []
    city = " ".join(p for p in (order.city, order.province, order.postal_code) if p)
    return [order.name, order.address_line1, order.address_line2, city, order.country]


def _common(order, kind, number, when):
    return {
        "kind": kind,
        "language": order.language,
        "number": number,
        "order_number": order.number,
        "date": _date(when, order.language),
        "org_name": current_app.config["ORG_NAME"],
        "org_address": current_app.config.get("ORG_ADDRESS") or "",
        "buyer": _buyer(order),
        "ship_to": _ship_to(order),
        "tax_number": order.tax_number if order.tax else "",
    }


def invoice(order):
    return Document(
        **_common(order, "invoice", order.number, order.paid_at or order.created_at),
        lines=[(line.title, line.quantity, line.unit_price, line.amount) for line in order.lines],
        subtotal=order.subtotal,
        shipping=order.shipping,
        taxes=[(f"{t['name']} {t['percent']} %", t["amount"]) for t in order.tax_lines],
        total=order.total,
    )


def packing_slip(order):
    lines = [(line.title, line.quantity, 0, 0) for line in order.lines if line.is_print]
    return Document(**_common(order, "packing_slip", order.number, clock.now()), lines=lines)


def credit_note(record):
    order = db.session.get(Order, record.order_id)
    by_id = {line.id: line for line in order.lines}
    lines = [
        (by_id[int(k)].title, v, by_id[int(k)].unit_price, by_id[int(k)].unit_price * v)
        for k, v in (record.quantities or {}).items()
        if int(k) in by_id
    ]
    before_tax = record.amount - record.tax
    return Document(
        **_common(order, "credit_note", record.credit_note_number, record.applied_at),
        lines=lines,
        subtotal=before_tax,
        taxes=[("GST/HST", record.tax)],
        total=record.amount,
    )


def invoice_pdf(order_id):
    order = db.session.get(Order, order_id)
    if order is None:
        raise LookupError(f"order {order_id} no longer exists")
    return render(invoice(order))


def credit_note_pdf(record_id):
    record = db.session.get(OrderRefund, record_id)
    if record is None:
        raise LookupError(f"credit note {record_id} no longer exists")
    return render(credit_note(record))


def packing_slip_pdf(order):
    return render(packing_slip(order))
