"""Staff verbs on paid orders: ship with a tracking number, reship a lost copy, refund lines."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import audit, clock
from core.db import db
from core.errors import Conflict, ValidationError
from core.mail.services import queue_email
from core.urls import absolute_url
from members.validation import text_problem
from shop import stock
from shop.models import Order, OrderStatus, order_states
from shop.services import lock_order

TO_SHIP = (OrderStatus.paid, OrderStatus.partially_refunded)


def orders_to_ship():
    """Paid orders with print copies not yet shipped, oldest first."""
    rows = db.session.scalars(
        sa.select(Order)
        .where(Order.status.in_(TO_SHIP), Order.shipped_at.is_(None))
        .order_by(Order.paid_at, Order.id)
    ).all()
    return [o for o in rows if o.ships]


def recent_orders(status=None, limit=100):
    statement = sa.select(Order).where(Order.status != OrderStatus.pending)
    if status:
        statement = statement.where(Order.status == status)
    return db.session.scalars(statement.order_by(Order.id.desc()).limit(limit)).all()


def mark_shipped(order, tracking_number=""):
    """The parcel left: the order is shipped and the buyer is told (with the tracking number)."""
    order = lock_order(order.id)
    tracking_number = (tracking_number or "").strip()
    problem = text_problem(tracking_number)
    if problem:
        raise ValidationError(problem, field="tracking_number")
    if order.status not in TO_SHIP or not order.ships:
        raise Conflict(_l("Only a paid order with print copies can be shipped."))
    order.tracking_number = tracking_number[:100]
    order.shipped_at = clock.now()
    order_states.move(order, OrderStatus.shipped, data={"tracking": order.tracking_number})
    queue_email(
        order.email,
        "shop/shipped",
        subject=_l("Your Mondial order %(number)s is on its way", number=order.number),
        language=order.language,
        context={
            "order": order,
            "order_url": absolute_url("shop.order_page", token=order.token),
        },
    )
    return order


def reship(order, line_id, copies=1):
    """Send a lost copy again, free: the stock goes down, the order's money does not change."""
    order = lock_order(order.id)
    line = next((li for li in order.lines if li.id == line_id), None)
    if line is None or not line.is_print:
        raise ValidationError(_l("Choose a print copy of this order."), field="line")
    if order.status not in (OrderStatus.shipped, OrderStatus.partially_refunded):
        raise Conflict(_l("Only a shipped order can be shipped again."))
    if not 1 <= copies <= line.quantity:
        raise ValidationError(_l("Choose how many copies to send again."), field="copies")
    stock.reserve({line.product_id: copies})
    line.reshipped += copies
    audit.record("order.reshipped", order, data={"line": line.id, "copies": copies})
    return order
