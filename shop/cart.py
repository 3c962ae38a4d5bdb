"""The cart: in the session for visitors, in the database for signed-in buyers.

A visitor's cart becomes part of their own when they sign in (quantities capped by what is
on the shelf). Only product ids and quantities are kept: prices always come from the
products when the cart is shown or paid. A gift and a membership may join the cart; they
are kept in the session whoever the buyer is (they are one visit's choices).
"""

import sqlalchemy as sa
from flask import session
from flask_babel import lazy_gettext as _l

from core.db import db
from core.errors import NotFound, ValidationError
from core.urls import MAX_ID
from shop.models import CartLine, Product
from shop.stock import SoldOut

KEY = "cart"
#: Copies of one product in one cart, at most.
MAX_QUANTITY = 20
#: Distinct products in a cart, at most (a session cookie stays small).
MAX_LINES = 30


def _signed_in(user):
    return user is not None and getattr(user, "is_authenticated", False)


def _stored():
    return session.get(KEY) or {}


def _save(data):
    session[KEY] = data
    session.modified = True


def has_anything():
    """Whether this visit's session holds a cart (issues, a gift or a membership)."""
    return bool(_stored())


def session_quantities(data=None):
    raw = ((data if data is not None else _stored()) or {}).get("p") or {}
    found = {}
    if not isinstance(raw, dict):
        return found
    for key, value in raw.items():
        if str(key).isdigit() and isinstance(value, int) and 0 < value <= MAX_QUANTITY:
            found[int(key)] = value
    return found


def quantities(user):
    """``{product id: copies}`` in the buyer's cart."""
    if _signed_in(user):
        rows = db.session.execute(
            sa.select(CartLine.product_id, CartLine.quantity).where(CartLine.user_id == user.id)
        ).all()
        return dict(rows)
    return session_quantities()


def items(user):
    """``[(product, copies)]``: one query, lines whose product is gone or off sale dropped."""
    if _signed_in(user):
        rows = db.session.execute(
            sa.select(Product, CartLine.quantity)
            .join(CartLine, CartLine.product_id == Product.id)
            .where(CartLine.user_id == user.id, Product.active.is_(True))
            .order_by(Product.position, Product.id)
        ).all()
        return [(product, quantity) for product, quantity in rows]
    wanted = session_quantities()
    if not wanted:
        return []
    products = db.session.scalars(
        sa.select(Product)
        .where(Product.id.in_(wanted), Product.active.is_(True))
        .order_by(Product.position, Product.id)
    ).all()
    return [(p, wanted[p.id]) for p in products]


def parse_quantity(value):
    """A quantity typed or sent by the buyer, as an int from 0 to MAX_QUANTITY."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(_l("Please enter a number of copies."), field="quantity") from None
    if number < 0 or number > MAX_QUANTITY:
        raise ValidationError(
            _l("Please enter between 0 and %(most)s copies.", most=MAX_QUANTITY),
            field="quantity",
        )
    return number


def _find(product_id):
    """The product with this id, or None; an id no row can have (10**30) is not asked for."""
    if isinstance(product_id, bool) or not isinstance(product_id, int):
        return None
    if not 0 < product_id <= MAX_ID:
        return None
    return db.session.get(Product, product_id)


def _product(product_id):
    product = _find(product_id)
    if product is None or not product.active:
        raise NotFound(_l("This product is not in the catalogue."))
    return product


def _capped(product, wanted):
    if product.stock is None:
        return min(wanted, MAX_QUANTITY)
    return min(wanted, product.stock, MAX_QUANTITY)


def _set(user, product, quantity):
    if _signed_in(user):
        line = db.session.scalar(
            sa.select(CartLine).where(
                CartLine.user_id == user.id, CartLine.product_id == product.id
            )
        )
        if quantity <= 0:
            if line is not None:
                db.session.delete(line)
        elif line is None:
            db.session.add(CartLine(user_id=user.id, product_id=product.id, quantity=quantity))
        else:
            line.quantity = quantity
        db.session.flush()
        return
    data = dict(_stored())
    lines = dict(data.get("p") or {})
    if quantity <= 0:
        lines.pop(str(product.id), None)
    else:
        if str(product.id) not in lines and len(lines) >= MAX_LINES:
            raise ValidationError(_l("Your cart is full."))
        lines[str(product.id)] = quantity
    data["p"] = lines
    _save(data)


def add(user, product_id, quantity=1):
    """Add copies of a product; refuse a sold-out one, cap at what is on the shelf."""
    product = _product(product_id)
    if quantity < 1:
        raise ValidationError(_l("Please enter a number of copies."), field="quantity")
    if product.sold_out:
        raise SoldOut()
    current = quantities(user).get(product.id, 0)
    _set(user, product, _capped(product, current + quantity))
    return product


def update(user, product_id, quantity):
    """Set the copies of a product in the cart (0 removes it), capped by the shelf."""
    product = _find(product_id)
    if product is None:
        raise NotFound(_l("This product is not in the catalogue."))
    if quantity > 0 and product.sold_out:
        raise SoldOut()
    _set(user, product, _capped(product, quantity) if quantity > 0 else 0)
    return product


def remove(user, product_id):
    if _signed_in(user):
        db.session.execute(
            sa.delete(CartLine).where(
                CartLine.user_id == user.id, CartLine.product_id == product_id
            )
        )
        return
    data = dict(_stored())
    lines = dict(data.get("p") or {})
    lines.pop(str(product_id), None)
    data["p"] = lines
    _save(data)


def empty(user, product_ids=None):
    """Take what was bought out of the cart (everything when ``product_ids`` is None)."""
    if _signed_in(user):
        statement = sa.delete(CartLine).where(CartLine.user_id == user.id)
        if product_ids is not None:
            statement = statement.where(CartLine.product_id.in_(product_ids))
        db.session.execute(statement)
    data = dict(_stored())
    if product_ids is None:
        data = {}
    else:
        lines = dict(data.get("p") or {})
        for product_id in product_ids:
            lines.pop(str(product_id), None)
        data["p"] = lines
        data.pop("gift", None)
        data.pop("membership", None)
    _save(data)


def merge_into_account(user, before):
    """Signing in: the visitor's cart (``before``, as it was in their session) joins the
    account's, capped by the shelf; a gift or membership they chose stays chosen."""
    wanted = session_quantities(before)
    have = quantities(user)
    products = db.session.scalars(sa.select(Product).where(Product.id.in_(wanted))).all()
    for product in products:
        if not product.active or product.sold_out:
            continue
        _set(user, product, _capped(product, have.get(product.id, 0) + wanted[product.id]))
    extras = {
        k: before[k] for k in ("gift", "membership") if isinstance(before, dict) and before.get(k)
    }
    if extras:
        _save(extras)


# -- a gift and a membership beside the issues ----------------------------------------------


def extras():
    """``{"gift": {"amount", "fund"}, "membership": "tier slug"}`` as kept in the session.

    Only the buyer's own choices are kept; the dues are priced from the tier at checkout.
    """
    data = _stored()
    found = {}
    gift = data.get("gift")
    if isinstance(gift, dict) and isinstance(gift.get("amount"), int) and gift.get("fund"):
        found["gift"] = {"amount": gift["amount"], "fund": str(gift["fund"])}
    membership = data.get("membership")
    if isinstance(membership, dict) and membership.get("slug"):
        found["membership"] = str(membership["slug"])
        found["membership_name"] = str(membership.get("name") or membership["slug"])
    return found


def set_extra(name, value):
    data = dict(_stored())
    if value:
        data[name] = value
    else:
        data.pop(name, None)
    _save(data)
