"""The JSON API for products, the cart and checkout, version 1."""

import hashlib
import json

import sqlalchemy as sa
from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from core import cache
from core.api import ErrorSchema, idempotency_key, idempotency_key_doc
from core.db import db
from core.errors import DomainError, KeyReused, NotFound, ValidationError
from core.extensions import limiter
from core.i18n import current_language
from core.urls import absolute_url
from shop import cart, services
from shop.caching import CATALOGUE
from shop.models import Order, Product
from shop.schemas import (
    AddItemSchema,
    CartSchema,
    CheckoutRequestSchema,
    OrderCheckoutSchema,
    ProductSchema,
    SetQuantitySchema,
)

blp = Blueprint("shop_api", __name__, url_prefix="/api/v1", description="The Mondial shop.")


def _user():
    return current_user if current_user.is_authenticated else None


@blp.route("/products", methods=["GET"])
@blp.response(200, ProductSchema(many=True))
@cache.page(depends=CATALOGUE)
def products():
    """The catalogue: issues of Mondial in print and PDF, and the yearly subscription."""
    return services.catalogue()


@blp.route("/products/<int:product_id>", methods=["GET"])
@blp.response(200, ProductSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such product on sale.")
@cache.page(depends=CATALOGUE)
def product(product_id):
    """One product."""
    found = db.session.get(Product, product_id)
    if found is None or not found.active:
        raise NotFound()
    return found


def _cart_body():
    items = cart.items(_user())
    language = current_language()
    lines = [
        {
            "product_id": p.id,
            "title": p.title(language),
            "quantity": q,
            "unit_price": p.price,
            "amount": p.price * q,
        }
        for p, q in items
    ]
    return {"lines": lines, "subtotal": sum(line["amount"] for line in lines)}


@blp.route("/cart", methods=["GET"])
@blp.response(200, CartSchema)
def get_cart():
    """The cart: the session's for a visitor, the account's when signed in."""
    return _cart_body()


@blp.route("/cart", methods=["DELETE"])
@blp.response(200, CartSchema)
def empty_cart():
    """Empty the cart."""
    cart.empty(_user())
    db.session.commit()
    return _cart_body()


@blp.route("/cart/items", methods=["POST"])
@limiter.limit("120 per minute")
@blp.arguments(AddItemSchema)
@blp.response(201, CartSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such product on sale.")
@blp.alt_response(409, schema=ErrorSchema, description="Sold out (`sold_out`).")
@blp.alt_response(422, schema=ErrorSchema, description="Invalid fields.")
@blp.alt_response(
    429, schema=ErrorSchema, description="Too many changes to carts from this address."
)
def add_item(data):
    """Add copies of a product (capped by what is on the shelf)."""
    try:
        cart.add(_user(), data["product_id"], data["quantity"])
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return _cart_body()


@blp.route("/cart/items/<int:product_id>", methods=["PATCH"])
@limiter.limit("120 per minute")
@blp.arguments(SetQuantitySchema)
@blp.response(200, CartSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Not in this cart.")
@blp.alt_response(409, schema=ErrorSchema, description="Sold out (`sold_out`).")
@blp.alt_response(422, schema=ErrorSchema, description="Invalid fields.")
@blp.alt_response(
    429, schema=ErrorSchema, description="Too many changes to carts from this address."
)
def set_quantity(data, product_id):
    """Set the copies of a product in the cart; 0 removes it."""
    if product_id not in cart.quantities(_user()):
        raise NotFound()
    try:
        cart.update(_user(), product_id, data["quantity"])
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    return _cart_body()


@blp.route("/cart/items/<int:product_id>", methods=["DELETE"])
@blp.response(200, CartSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Not in this cart.")
def remove_item(product_id):
    """Take a product out of the cart."""
    if product_id not in cart.quantities(_user()):
        raise NotFound()
    cart.remove(_user(), product_id)
    db.session.commit()
    return _cart_body()


def _digest(body):
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    items = json.dumps(sorted(cart.quantities(_user()).items()))
    return hashlib.sha256((text + items).encode()).hexdigest()


def _reply(order):
    from payments.models import Payment
    from payments.services import checkout_expires_at

    payment = db.session.get(Payment, order.payment_id)
    return {
        "checkout_url": services.open_checkout(order),
        "order": order.number,
        "order_url": absolute_url("shop.order_page", token=order.token),
        "subtotal": order.subtotal,
        "shipping": order.shipping,
        "tax": order.tax,
        "total": order.total,
        "expires_at": checkout_expires_at(payment),
    }


#: The buyer's fields as the shop's services name them, and where they are in the API's body.
BODY_FIELDS = {
    "email": "email",
    "name": "address.name",
    "address_line1": "address.line1",
    "address_line2": "address.line2",
    "city": "address.city",
    "province": "address.province",
    "postal_code": "address.postal_code",
    "country": "address.country",
}


def _earlier(key):
    return db.session.scalar(sa.select(Order).where(Order.idempotency_key == key))


@blp.route("/checkout", methods=["POST"])
@limiter.limit("30 per hour")
@blp.arguments(CheckoutRequestSchema)
@blp.response(201, OrderCheckoutSchema)
@blp.doc(
    **idempotency_key_doc(
        "the same key, body and cart return the same checkout; "
        "the same key with anything else is a 422."
    )
)
@blp.alt_response(409, schema=ErrorSchema, description="Sold out (`sold_out`).")
@blp.alt_response(415, schema=ErrorSchema, description="The body is not JSON.")
@blp.alt_response(422, schema=ErrorSchema, description="Invalid fields, or a key reused.")
@blp.alt_response(429, schema=ErrorSchema, description="Too many checkouts from this address.")
@blp.alt_response(503, schema=ErrorSchema, description="Stripe did not answer; nothing charged.")
def checkout(data):
    """Reserve the cart's copies and open Stripe Checkout; send the buyer to `checkout_url`.

    Prices, shipping and tax come from the catalogue and the buyer's address, never from
    the request.
    """
    key = idempotency_key()
    digest = _digest(request.get_json(silent=True))
    if key:
        earlier = _earlier(key)
        if earlier is not None:
            if earlier.request_digest != digest:
                raise KeyReused()
            return _reply(earlier)
    address = data["address"]
    buyer = services.Buyer(
        email=data["email"],
        name=address.get("name", ""),
        address_line1=address.get("line1", ""),
        address_line2=address.get("line2", ""),
        city=address.get("city", ""),
        province=address.get("province", ""),
        postal_code=address.get("postal_code", ""),
        country=address.get("country", "CA"),
        language=data["language"],
        user_id=current_user.id if current_user.is_authenticated else None,
    )
    try:
        order = services.start_order(cart.items(_user()), buyer)
        order.idempotency_key = key or None
        order.request_digest = digest if key else None
        db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()
        earlier = _earlier(key)
        if earlier is None or earlier.request_digest != digest:
            raise KeyReused() from None
        return _reply(earlier)
    except ValidationError as error:
        # An address the body's schema let through but the shop refuses (a missing line
        # for print issues, a postal code of another province) is an invalid field: 422,
        # named by its place in the body, as the schema's own refusals are.
        db.session.rollback()
        field = BODY_FIELDS.get(error.field, error.field)
        raise ValidationError(error.message, field=field, status=422) from None
    except DomainError:
        db.session.rollback()
        raise
    reply = _reply(order)
    db.session.commit()
    return reply
