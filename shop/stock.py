"""Copies on the shelf: reserved under a row lock when checkout starts, given back once.

Rows are locked in product id order, so two buyers of the same two issues never wait on
each other in a circle. The lock is held only until the reservation commits, which
happens before Stripe is called (``payments.open_checkout`` commits first).
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db, locked
from core.errors import Conflict
from shop.models import Product

SOLD_OUT = _l("No more products available for purchase")

#: Called between reading the stock and writing it back; tests use it to force two
#: reservations to interleave (and show that the lock is what keeps them apart).
between_read_and_write = None


class SoldOut(Conflict):
    code = "sold_out"
    default_message = SOLD_OUT


def _rows(product_ids, lock):
    statement = sa.select(Product).where(Product.id.in_(product_ids)).order_by(Product.id)
    if lock:
        return {p.id: p for p in locked(statement)}
    return {
        p.id: p for p in db.session.scalars(statement.execution_options(populate_existing=True))
    }


def reserve(quantities, *, lock=True):
    """Take ``{product id: copies}`` off the shelf, or raise :class:`SoldOut` taking nothing.

    Products without a stock count (PDFs, subscriptions) are never short. ``lock=False``
    exists only for the test that shows why the lock is there.
    """
    wanted = {pid: qty for pid, qty in quantities.items() if qty > 0}
    if not wanted:
        return {}
    products = _rows(sorted(wanted), lock)
    for product_id in sorted(wanted):
        product = products.get(product_id)
        if product is None or not product.active:
            raise SoldOut()
        if product.stock is not None and product.stock < wanted[product_id]:
            raise SoldOut()
    left = {pid: p.stock for pid, p in products.items()}
    if between_read_and_write is not None:
        between_read_and_write()
    for product_id, product in products.items():
        if product.stock is not None:
            product.stock = left[product_id] - wanted[product_id]
    db.session.flush()
    return products


def release(quantities):
    """Put ``{product id: copies}`` back on the shelf (the caller makes sure it is once)."""
    wanted = {pid: qty for pid, qty in quantities.items() if qty > 0}
    if not wanted:
        return
    for product in locked(sa.select(Product).where(Product.id.in_(wanted)).order_by(Product.id)):
        if product.stock is not None:
            product.stock += wanted[product.id]
    db.session.flush()


def take_back(quantities):
    """Take copies for an order paid after its reservation was given up; never below zero.

    Returns the copies that could not be taken (staff must find them).
    """
    short = {}
    for product in locked(
        sa.select(Product).where(Product.id.in_(quantities)).order_by(Product.id)
    ):
        if product.stock is None:
            continue
        wanted = quantities[product.id]
        taken = min(wanted, product.stock)
        product.stock -= taken
        if taken < wanted:
            short[product.id] = wanted - taken
    db.session.flush()
    return short
