"""Shop verbs: the catalogue, starting an order's checkout, following it, cancelling it.

The payment side is in ``payments``; what it tells us is handled in :mod:`shop.handlers`
(the ``order`` purpose). Prices, tax and shipping come from our own rows only.
"""

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from core import audit, clock
from core.address import address_problems
from core.db import db, locked
from core.errors import Conflict, NotFound, ValidationError
from core.mail.services import normalise_email
from core.settings import get_setting, set_setting
from core.urls import absolute_url
from members.validation import text_problem
from payments import services as payments
from payments.checkout import LIFETIME_RANGE
from payments.models import Payment
from shop import pricing, stock
from shop.models import (
    Order,
    OrderLine,
    OrderStatus,
    Product,
)

PURPOSE = "order"

SETTING_DEFAULTS = {
    # How long the checkout page takes payment, and the stock stays reserved.
    "shop.checkout_minutes": 35,
    "shop.download_days": 7,
    "shop.download_limit": 5,
}

EMPTY_CART = _l("Your cart is currently empty.")


def setting(key):
    return get_setting(key, SETTING_DEFAULTS[key])


def checkout_lifetime():
    """The reservation's life: the setting, kept inside Stripe's 30 minutes to 24 hours."""
    minutes = setting("shop.checkout_minutes")
    low, high = (int(t.total_seconds() // 60) for t in LIFETIME_RANGE)
    if not isinstance(minutes, int) or not low <= minutes <= high:
        minutes = SETTING_DEFAULTS["shop.checkout_minutes"]
    return timedelta(minutes=minutes)


def save_settings(*, checkout_minutes, download_days, download_limit):
    low, high = (int(t.total_seconds() // 60) for t in LIFETIME_RANGE)
    if not low <= checkout_minutes <= high:
        raise ValidationError(
            _l("Between %(low)s and %(high)s minutes, please.", low=low, high=high),
            field="checkout_minutes",
        )
    if not 1 <= download_days <= 365:
        raise ValidationError(_l("Between 1 and 365 days, please."), field="download_days")
    if not 1 <= download_limit <= 100:
        raise ValidationError(_l("Between 1 and 100 downloads, please."), field="download_limit")
    set_setting("shop.checkout_minutes", checkout_minutes)
    set_setting("shop.download_days", download_days)
    set_setting("shop.download_limit", download_limit)


# -- the catalogue ---------------------------------------------------------------------------


def catalogue():
    return db.session.scalars(
        sa.select(Product)
        .where(Product.active.is_(True))
        .order_by(Product.position, Product.published_on.desc().nulls_last(), Product.id)
    ).all()


def product_by_slug(slug):
    product = db.session.scalar(
        sa.select(Product).where(Product.slug == slug, Product.active.is_(True))
    )
    if product is None:
        raise NotFound()
    return product


# -- checking out ----------------------------------------------------------------------------


@dataclass
class Buyer:
    """Who pays and where the goods go, as the checkout form or the API gave them."""

    email: str
    name: str = ""
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    province: str = ""
    postal_code: str = ""
    country: str = "CA"
    language: str = "en"
    user_id: int | None = None
    extra: dict = field(default_factory=dict)


ADDRESS_FIELDS = ("name", "address_line1", "address_line2", "city", "province", "postal_code")


def clean_buyer(buyer, *, ships):
    """Check the buyer's details; the address only when something is mailed."""
    buyer.email = normalise_email(buyer.email or "")
    if "@" not in buyer.email or len(buyer.email) > 254:
        raise ValidationError(_l("Please enter a valid email address."), field="email")
    buyer.country = (buyer.country or "CA").strip().upper()[:2]
    for name in ADDRESS_FIELDS:
        value = (getattr(buyer, name) or "").strip()
        problem = text_problem(value)
        if problem:
            raise ValidationError(problem, field=name)
        setattr(buyer, name, value)
    buyer.postal_code = buyer.postal_code.upper()
    if buyer.country == "CA":
        buyer.province = buyer.province.upper()
    if ships:
        for name in ("name", "address_line1", "city", "postal_code"):
            if not getattr(buyer, name):
                raise ValidationError(
                    _l("Please give the address where the issues should be mailed."), field=name
                )
        problems = address_problems(
            province=buyer.province, postal_code=buyer.postal_code, country=buyer.country
        )
    elif buyer.country == "CA":
        problems = address_problems(province=buyer.province, postal_code="K1A 0B1", country="CA")
    else:
        problems = {}
    for name, message in problems.items():
        raise ValidationError(message, field=name)
    buyer.language = buyer.language if buyer.language in ("en", "fr") else "en"
    return buyer


def quote_for(items, buyer):
    return pricing.quote(items, country=buyer.country, province=buyer.province)


def _stripe_lines(quote, language):
    with force_locale(language):
        lines = [
            payments.Line(
                line.product.title(language)
                + (f" ({_l('PDF')})" if not line.product.is_print else ""),
                line.product.price,
                line.quantity,
            )
            for line in quote.lines
            if line.amount
        ]
        if quote.shipping:
            lines.append(payments.Line(str(_l("Shipping")), quote.shipping))
        for tax in quote.tax_lines(language):
            lines.append(payments.Line(f"{tax['name']} {tax['percent']} %", tax["amount"]))
    return lines


GIFT_NEEDS_ADDRESS = _l("A gift's receipt needs your name and full address.")
MEMBERSHIP_NEEDS_ACCOUNT = _l(
    "A membership is kept in an account: please sign in, or choose a password to create one."
)


def extra_parts(extras, buyer, user):
    """``(row, part, line)`` for the gift and the membership chosen beside the issues.

    The gift is a donation and the membership dues, made by their own services; each is
    its own allocation of the one payment, and is taxed (or not) by its own rules.
    """
    found = []
    gift = extras.get("gift")
    if gift:
        from donations import gifts as donations

        for name in ("name", "address_line1", "city", "postal_code"):
            if not getattr(buyer, name):
                raise ValidationError(GIFT_NEEDS_ADDRESS, field=name)
        request = donations.GiftRequest(
            amount=int(gift["amount"]),
            fund=donations.fund_by_slug(gift["fund"]),
            donor_name=buyer.name,
            email=buyer.email,
            address_line1=buyer.address_line1,
            address_line2=buyer.address_line2,
            city=buyer.city,
            province=buyer.province,
            postal_code=buyer.postal_code,
            country=buyer.country,
            language=buyer.language,
            user_id=buyer.user_id,
        )
        found.append(donations.gift_part(request))
    slug = extras.get("membership")
    if slug:
        from members import services as members

        if user is None:
            raise ValidationError(MEMBERSHIP_NEEDS_ACCOUNT, code="sign_in_required")
        tier = members.tier_by_slug(slug)
        address = {
            "mailing_name": buyer.name,
            "address_line1": buyer.address_line1,
            "address_line2": buyer.address_line2,
            "city": buyer.city,
            "province": buyer.province,
            "postal_code": buyer.postal_code,
            "country": buyer.country,
        }
        wants_print = tier.mondial_print and bool(buyer.address_line1)
        found.append(
            members.dues_part(
                user,
                tier,
                mondial_format="print" if wants_print else "digital",
                address=address,
                language=buyer.language,
            )
        )
    return found


def start_order(items, buyer, *, extras=None, user=None, lock=True):
    """Reserve the stock, create the order and its pending payment; the caller commits.

    ``items`` are ``(product, copies)`` pairs read from the cart; prices are the products'.
    ``extras`` (the cart's gift and membership) become their own rows and allocations.
    Then :func:`open_checkout` commits (releasing the row locks) and asks Stripe.
    """
    items = [(p, q) for p, q in items if q > 0]
    if not items:
        raise ValidationError(EMPTY_CART)
    extras = extras or {}
    ships = any(p.is_print for p, _ in items)
    clean_buyer(buyer, ships=ships or bool(extras.get("gift")))
    stock.reserve({p.id: q for p, q in items}, lock=lock)
    quote = quote_for(items, buyer)
    order = Order(
        user_id=buyer.user_id,
        email=buyer.email,
        name=buyer.name,
        language=buyer.language,
        address_line1=buyer.address_line1 if ships else "",
        address_line2=buyer.address_line2 if ships else "",
        city=buyer.city if ships else "",
        province=buyer.province,
        postal_code=buyer.postal_code if ships else "",
        country=buyer.country,
        subtotal=quote.subtotal,
        shipping=quote.shipping,
        tax=quote.tax,
        total=quote.total,
        tax_lines=quote.tax_lines(buyer.language),
        tax_number=current_app.config.get("GST_HST_NUMBER") or "",
        lines=[
            OrderLine(
                product_id=line.product.id,
                title=line.product.title(buyer.language),
                format=line.product.format.value,
                kind=line.product.kind.value,
                tax_category=line.product.tax_category.value,
                unit_price=line.product.price,
                quantity=line.quantity,
                tax=line.tax,
            )
            for line in quote.lines
        ],
    )
    db.session.add(order)
    db.session.flush()
    rows = extra_parts(extras, buyer, user)
    parts, lines = [], []
    if items and order.total > 0:
        with force_locale(buyer.language):
            label = str(_l("Mondial order %(number)s", number=order.number))
        parts.append(
            payments.Part(PURPOSE, order.id, order.total, tax=order.tax, description=label)
        )
        lines.extend(_stripe_lines(quote, buyer.language))
    for _row, part, line in rows:
        parts.append(part)
        lines.append(line)
    if not parts:
        raise ValidationError(EMPTY_CART)
    payment = payments.start_checkout(
        parts,
        lines=lines,
        email=buyer.email,
        name=buyer.name or None,
        language=buyer.language,
        success_url=payments.return_url("shop.checkout_return"),
        cancel_url=absolute_url("shop.cart_page", cancelled=order.token),
        submit_type="pay",
        description=f"Mondial {order.number}",
        metadata={"order": order.number},
        lifetime=checkout_lifetime(),
    )
    order.payment_id = payment.id
    for row, _part, _line in rows:
        row.payment_id = payment.id
    order.reserved_until = payments.checkout_expires_at(payment)
    audit.record(
        "order.started",
        order,
        data={"total": order.total, "lines": {str(p.id): q for p, q in items}},
        actor=buyer.email,
    )
    return order


def open_checkout(order):
    """Commit the reservation, then ask Stripe for its page.

    When Stripe does not answer, the checkout is closed at once so the copies go back on
    the shelf (the buyer simply tries again), and the 503 is raised on.
    """
    payment = db.session.get(Payment, order.payment_id)
    try:
        return payments.open_checkout(payment)
    except payments.CheckoutUnavailable:
        db.session.rollback()
        payments.expire_checkout(db.session.get(Payment, order.payment_id))
        db.session.commit()
        raise


def order_for_payment(payment):
    for allocation in payment.allocations:
        if allocation.purpose == PURPOSE:
            return db.session.get(Order, allocation.row_id)
    return None


def order_for_return(session_id):
    """The order a Checkout paid, recorded on the spot if it was paid (the success page)."""
    payment = payments.confirm_on_return(session_id)
    if payment is None:
        return None, None
    return order_for_payment(payment), payment


def order_by_token(token):
    if not isinstance(token, str) or not 40 <= len(token) <= 43:
        raise NotFound()
    order = db.session.scalar(sa.select(Order).where(Order.token == token))
    if order is None:
        raise NotFound()
    return order


def orders_of(user):
    return db.session.scalars(
        sa.select(Order)
        .where(
            sa.or_(Order.user_id == user.id, Order.email == user.email),
            Order.status != OrderStatus.pending,
        )
        .order_by(Order.id.desc())
    ).all()


def abandon_checkout(order):
    """The buyer came back through Cancel: close the checkout so the copies go back.

    Returns True when it was closed (stock released), False when it had just been paid
    (the order is then paid, and nothing is released).
    """
    if order.status != OrderStatus.pending or order.payment_id is None:
        return order.status == OrderStatus.cancelled
    status = payments.expire_checkout(db.session.get(Payment, order.payment_id))
    return status != payments.PaymentStatus.succeeded


def lock_order(order_id):
    return locked(sa.select(Order).where(Order.id == order_id)).one()


# -- refunds ---------------------------------------------------------------------------------


def _allocation(order):
    payment = db.session.get(Payment, order.payment_id)
    for allocation in payment.allocations:
        if allocation.purpose == PURPOSE and allocation.row_id == order.id:
            return payment, allocation
    raise Conflict(_l("This order has no payment to refund."))


def refund_lines(order, quantities, *, restock, cancel=False, note=""):
    """Refund copies of lines (``{line id: copies}``) with their tax, and shipping on cancel.

    Stores what is refunded (and whether the copies go back on sale) before payments asks
    Stripe; :mod:`shop.handlers` applies it when the refund succeeds.
    """
    from shop.models import OrderRefund

    order = lock_order(order.id)
    if order.status not in (
        OrderStatus.paid,
        OrderStatus.fulfilled,
        OrderStatus.shipped,
        OrderStatus.partially_refunded,
    ):
        raise Conflict(_l("Only a paid order can be refunded."))
    lines = {line.id: line for line in order.lines}
    amount = tax = 0
    chosen = {}
    for line_id, copies in quantities.items():
        line = lines.get(line_id)
        if line is None or copies < 0 or copies > line.quantity - line.refunded_quantity:
            raise ValidationError(_l("That is more than what is left to refund."), field="lines")
        if copies:
            chosen[str(line_id)] = copies
            share_tax = line.tax * copies // line.quantity
            amount += line.unit_price * copies + share_tax
            tax += share_tax
    if cancel:
        left = order.total - order.refunded
        amount = left
        tax = order.tax if order.refunded == 0 else min(order.tax, left)
    if amount <= 0:
        raise ValidationError(_l("Choose what to refund."), field="lines")
    payment, allocation = _allocation(order)
    amount = min(amount, allocation.amount - allocation.amount_refunded)
    row = payments.refund_payment(payment, parts={allocation: amount}, note=note)
    record = OrderRefund(
        order_id=order.id,
        refund_id=row.id,
        quantities=chosen,
        restock=restock,
        cancel=cancel,
        amount=amount,
        tax=min(tax, amount),
    )
    db.session.add(record)
    db.session.flush()
    audit.record(
        "order.refund_requested",
        order,
        data={"amount": amount, "lines": chosen, "restock": restock, "cancel": cancel},
    )
    return payments.send_refund(row)


def cancel_order(order):
    """The buyer cancels a paid order before it ships: everything back, stock too."""
    if not order.can_cancel:
        raise Conflict(_l("This order can no longer be cancelled."))
    order.cancel_requested_at = clock.now()
    quantities = {line.id: line.quantity for line in order.lines}
    return refund_lines(order, quantities, restock=True, cancel=True, note="cancelled by buyer")
