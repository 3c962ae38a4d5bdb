"""What payments tells the shop: the ``order`` purpose's handlers.

Each runs inside the transaction that records the payment, refund or expiry, under the
order's row lock, and does only what has not been done: a duplicate or late event
changes nothing.
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import audit, clock
from core.db import db, locked
from core.mail.services import DrawnAttachment, queue_email
from core.urls import absolute_url
from payments.purposes import Purpose
from shop import stock
from shop.models import CartLine, Order, OrderRefund, OrderStatus, order_states

PURPOSE = "order"
INVOICE_RENDERER = "shop.invoice_pdf"
CREDIT_NOTE_RENDERER = "shop.credit_note_pdf"


def _lock(order_id):
    return locked(sa.select(Order).where(Order.id == order_id)).one()


def _reserved(order):
    return {line.product_id: line.quantity for line in order.lines}


def invoice_attachment(order):
    return DrawnAttachment(
        f"invoice-{order.number}.pdf", "application/pdf", INVOICE_RENDERER, {"order_id": order.id}
    )


def confirm(order):
    """The confirmation email: the invoice PDF attached, a download link per digital line."""
    from shop.downloads import download_url

    downloads = [(line, download_url(line)) for line in order.lines if not line.is_print]
    queue_email(
        order.email,
        "shop/confirmation",
        subject=_l("Your Mondial order %(number)s", number=order.number),
        language=order.language,
        context={
            "order": order,
            "downloads": downloads,
            "order_url": absolute_url("shop.order_page", token=order.token),
        },
        attachments=[invoice_attachment(order)],
    )


def on_paid(event):
    order = _lock(event.allocation.row_id)
    if order.status not in (OrderStatus.pending, OrderStatus.cancelled):
        return
    if order.released_at is not None:
        # Paid after its reservation was given up: take the copies again if they are there.
        short = stock.take_back(_reserved(order))
        order.released_at = None
        if short:
            audit.record("order.short", order, actor="stripe", data={"short": short})
    order_states.move(order, OrderStatus.paid, actor="stripe")
    order.paid_at = event.payment.paid_at or clock.now()
    if not order.ships:
        order_states.move(order, OrderStatus.fulfilled, actor="stripe")
    if order.user_id is not None:
        db.session.execute(
            sa.delete(CartLine).where(
                CartLine.user_id == order.user_id,
                CartLine.product_id.in_([line.product_id for line in order.lines]),
            )
        )
    confirm(order)


def on_expired(event):
    order = _lock(event.allocation.row_id)
    if order.status != OrderStatus.pending:
        return
    if order.released_at is None:
        stock.release(_reserved(order))
        order.released_at = clock.now()
    order_states.move(order, OrderStatus.cancelled, actor="stripe", data={"why": event.reason})


def _apply_refund_record(order, record):
    lines = {line.id: line for line in order.lines}
    back = {}
    for line_id, copies in (record.quantities or {}).items():
        line = lines.get(int(line_id))
        if line is None:
            continue
        line.refunded_quantity += copies
        if record.restock and line.is_print:
            back[line.product_id] = back.get(line.product_id, 0) + copies
            line.restocked += copies
    if back:
        stock.release(back)
    if record.tax and order.tax_number:
        record.credit_note_number = f"C-{record.id:06d}"
    record.applied_at = clock.now()


def on_refunded(event):
    order = _lock(event.allocation.row_id)
    record = db.session.scalar(
        sa.select(OrderRefund).where(OrderRefund.refund_id == event.refund_id)
    )
    order.refunded = min(order.refunded + event.amount, order.total)
    if record is not None and record.applied_at is None:
        _apply_refund_record(order, record)
    audit.record("order.refunded", order, actor="stripe", data={"amount": event.amount})
    if record is not None and record.cancel:
        order_states.move(order, OrderStatus.cancelled, actor="stripe")
    elif order.refunded >= order.total:
        order_states.move(order, OrderStatus.refunded, actor="stripe")
    elif order.status in (OrderStatus.paid, OrderStatus.fulfilled, OrderStatus.shipped):
        order_states.move(order, OrderStatus.partially_refunded, actor="stripe")
    if record is not None and record.credit_note_number:
        queue_email(
            order.email,
            "shop/credit_note",
            subject=_l("Credit note for your Mondial order %(number)s", number=order.number),
            language=order.language,
            context={"order": order, "record": record},
            attachments=[
                DrawnAttachment(
                    f"credit-note-{record.credit_note_number}.pdf",
                    "application/pdf",
                    CREDIT_NOTE_RENDERER,
                    {"record_id": record.id},
                )
            ],
        )


def on_refund_failed(event):
    order = _lock(event.allocation.row_id)
    order.refunded = max(order.refunded - event.amount, 0)
    audit.record("order.refund_failed", order, actor="stripe", data={"amount": event.amount})


def on_disputed(event):
    order = _lock(event.allocation.row_id)
    audit.record("order.disputed", order, actor="stripe", data={"amount": event.amount})


def describe(allocation):
    order = db.session.get(Order, allocation.row_id)
    return f"Order {order.number}" if order else allocation.description


def purpose():
    return Purpose(
        name=PURPOSE,
        paid=on_paid,
        expired=on_expired,
        refunded=on_refunded,
        refund_failed=on_refund_failed,
        disputed=on_disputed,
        describe=describe,
    )
