"""A person's orders, cart and issues sent to them, as part of their record.

Orders are the books (GST/HST and sales records are kept six years): an erased buyer's
orders keep their lines, amounts, taxes and dates; name, address and email go. An order
still to be shipped needs its address, so erasing waits for it.
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from core.db import db
from core.people import Column, Provider, Section, belongs, matches, search_rows, update_rows
from shop.models import CartLine, IssueSend, Order, OrderLine, OrderStatus, Product

#: As the order pages say them (shop/_order_status.html).
STATUS_LABELS = {
    "pending": _l("Waiting for payment"),
    "paid": _l("Paid"),
    "fulfilled": _l("Fulfilled"),
    "shipped": _l("Shipped"),
    "cancelled": _l("Cancelled"),
    "partially_refunded": _l("Partially refunded"),
    "refunded": _l("Refunded"),
}

ORDERS = [
    Column("number", _l("Order")),
    Column("created_at", _l("Placed"), "datetime"),
    Column("status", _l("Status"), labels=STATUS_LABELS),
    Column("items", _l("Items"), "list"),
    Column("total", _l("Total"), "money"),
    Column("tax", _l("Tax"), "money"),
    Column("refunded", _l("Refunded"), "money"),
    Column("paid_at", _l("Paid"), "datetime"),
    Column("shipped_at", _l("Shipped"), "datetime"),
    Column("name", _l("Name")),
    Column("email", _l("Email")),
    Column("address", _l("Address")),
    Column("tax_number", _l("Tax number"), detail=True),
]

SENDS = [
    Column("issue", _l("Issue")),
    Column("sent_at", _l("Sent"), "datetime"),
    Column("downloads", _l("Downloads")),
]

CART = [
    Column("product", _l("Issue")),
    Column("quantity", _l("Quantity")),
]

#: Paid and waiting to be shipped: the address is still needed.
TO_SHIP = (OrderStatus.paid,)


def _address(order):
    city = " ".join(p for p in (order.city, order.province, order.postal_code) if p)
    return "\n".join(p for p in (order.address_line1, order.address_line2, city) if p)


def _order_row(order):
    row = {c.key: getattr(order, c.key) for c in ORDERS if c.key not in ("items", "address")}
    row["items"] = [f"{line.title} × {line.quantity}" for line in order.lines]
    row["address"] = _address(order)
    return row


def _orders(person):
    return sa.select(Order).where(belongs(Order.email, Order.user_id, person))


def sections(person):
    orders = db.session.scalars(
        _orders(person).options(selectinload(Order.lines)).order_by(Order.id.desc())
    ).all()
    sends = db.session.scalars(
        sa.select(IssueSend)
        .where(matches(IssueSend.email, person))
        .options(joinedload(IssueSend.product))
        .order_by(IssueSend.id.desc())
    ).all()
    cart = []
    if person.user_id is not None:
        cart = db.session.execute(
            sa.select(Product.title_en, CartLine.quantity)
            .join(Product, CartLine.product_id == Product.id)
            .where(CartLine.user_id == person.user_id)
            .order_by(CartLine.id)
        ).all()
    return [
        Section("orders", _l("Orders"), ORDERS, [_order_row(o) for o in orders]),
        Section(
            "issues_sent",
            _l("Digital issues sent"),
            SENDS,
            [
                {"issue": s.product.title_en, "sent_at": s.sent_at, "downloads": s.downloads}
                for s in sends
            ],
        ),
        Section(
            "cart",
            _l("Cart"),
            CART,
            [{"product": title, "quantity": quantity} for title, quantity in cart],
        ),
    ]


def search(term, limit):
    return search_rows(term, limit, Order.email, Order.name)


def blockers(person):
    waiting = db.session.scalar(
        sa.select(sa.func.count(Order.id))
        .where(belongs(Order.email, Order.user_id, person), Order.status.in_(TO_SHIP))
        .where(Order.id.in_(sa.select(OrderLine.order_id).where(OrderLine.format == "print")))
    )
    if waiting:
        return [_l("An order is still to be shipped: ship or cancel it first.")]
    return []


def erase(person, placeholder):
    orders = update_rows(
        Order,
        belongs(Order.email, Order.user_id, person),
        email=placeholder,
        name="",
        address_line1="",
        address_line2="",
        city="",
        # The province stays: it is where the sale was made, for the GST/HST return.
        postal_code="",
        tax_number="",
    )
    sends = db.session.execute(
        sa.delete(IssueSend).where(matches(IssueSend.email, person))
    ).rowcount
    cart = 0
    if person.user_id is not None:
        cart = db.session.execute(
            sa.delete(CartLine).where(CartLine.user_id == person.user_id)
        ).rowcount
    return {"orders_kept": orders, "issues_sent": sends, "cart_lines": cart}


def merge(source, target):
    orders = update_rows(
        Order,
        belongs(Order.email, Order.user_id, source),
        email=target.email,
        user_id=target.user_id,
    )
    # One send per issue and person, one cart line per issue: A's copy wins.
    have = set(
        db.session.scalars(sa.select(IssueSend.product_id).where(matches(IssueSend.email, target)))
    )
    sends = 0
    for send in db.session.scalars(sa.select(IssueSend).where(matches(IssueSend.email, source))):
        if send.product_id in have:
            db.session.delete(send)
        else:
            send.email = target.email
            have.add(send.product_id)
            sends += 1
    cart = 0
    if source.user_id is not None and target.user_id not in (None, source.user_id):
        in_cart = set(
            db.session.scalars(
                sa.select(CartLine.product_id).where(CartLine.user_id == target.user_id)
            )
        )
        for line in db.session.scalars(
            sa.select(CartLine).where(CartLine.user_id == source.user_id)
        ):
            if line.product_id in in_cart:
                db.session.delete(line)
            else:
                line.user_id = target.user_id
                cart += 1
    return {"orders": orders, "issues_sent": sends, "cart_lines": cart}


provider = Provider(
    "shop",
    sections,
    search=search,
    blockers=blockers,
    erase=erase,
    merge=merge,
    order=30,
)
