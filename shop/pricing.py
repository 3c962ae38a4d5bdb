"""What an order costs: lines, shipping by zone and weight, and GST/HST by place of delivery.

Computed from our own rows only (products, tax and shipping rates); nothing the buyer
sends is a price. Tax is charged only when the organization is registered
(``GST_HST_NUMBER``). The place of supply is the province goods are delivered to, or the
buyer's province for a digital-only order; outside Canada the supply is zero-rated.
Shipping follows the tax status of the goods it carries, shared pro rata.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from core.db import db
from core.money import split_pro_rata
from shop.models import ShippingRate, TaxCategory, TaxRate

#: Current GST/HST, in hundredths of a percent, seeded into the staff-editable table:
#: (federal, provincial part of HST, provincial part rebated on qualifying printed books).
SEED_RATES = {
    "AB": (500, 0, False),
    "BC": (500, 0, False),
    "MB": (500, 0, False),
    "NB": (500, 1000, True),
    "NL": (500, 1000, True),
    "NS": (500, 900, True),
    "NT": (500, 0, False),
    "NU": (500, 0, False),
    "ON": (500, 800, True),
    "PE": (500, 1000, True),
    "QC": (500, 0, False),
    "SK": (500, 0, False),
    "YT": (500, 0, False),
}

#: Shipping by zone: (up to grams, cents), seeded; staff change them.
SEED_SHIPPING = {
    "CA": [(250, 500), (500, 900), (1000, 1400), (5000, 2500)],
    "US": [(250, 900), (500, 1500), (1000, 2400), (5000, 4500)],
    "INTL": [(250, 1400), (500, 2400), (1000, 3900), (5000, 7500)],
}

ZONES = {"CA": _l("Canada"), "US": _l("United States"), "INTL": _l("Elsewhere")}

TAX_NAMES = {
    "GST": _l("GST"),
    "HST": _l("HST"),
    "HST-rebated": _l("HST, provincial part rebated"),
}


def zone_of(country):
    country = (country or "CA").upper()
    return country if country in ("CA", "US") else "INTL"


def tax_on(amount, basis_points):
    value = Decimal(amount) * Decimal(basis_points) / Decimal(10_000)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_text(basis_points):
    """1300 -> "13", 1250 -> "12.5" (for labels; never for arithmetic)."""
    return f"{Decimal(basis_points) / 100:f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class QuotedLine:
    product: object
    quantity: int
    amount: int
    tax: int
    tax_kind: str | None  # a key of TAX_NAMES, or None when not taxed
    basis_points: int


@dataclass
class Quote:
    """An order's money, as shown before paying and charged."""

    lines: list
    subtotal: int
    shipping: int
    shipping_tax: int
    zone: str
    weight: int
    #: {(kind, basis points): cents}, in the order they are shown.
    taxes: dict = field(default_factory=dict)

    @property
    def tax(self):
        return sum(self.taxes.values())

    @property
    def total(self):
        return self.subtotal + self.shipping + self.tax

    def tax_lines(self, language="en"):
        """``[{"kind", "name", "percent", "amount"}]`` for the invoice and Stripe's page."""
        from flask_babel import force_locale

        found = []
        for (kind, points), amount in self.taxes.items():
            with force_locale(language):
                name = str(TAX_NAMES[kind])
            found.append(
                {"kind": kind, "name": name, "percent": percent_text(points), "amount": amount}
            )
        return found


def charges_tax():
    return bool(current_app.config.get("GST_HST_NUMBER"))


def rate_for(category, rate):
    """(kind, basis points) for a product of ``category`` delivered where ``rate`` applies."""
    if rate is None or category == TaxCategory.zero_rated:
        return None, 0
    if not rate.is_hst:
        return "GST", rate.federal
    if category == TaxCategory.printed and rate.printed_rebate:
        return "HST-rebated", rate.federal
    return "HST", rate.federal + rate.provincial


def shipping_price(zone, weight, rates):
    """The first rate of the zone the parcel's weight fits, the heaviest one above them all."""
    if weight <= 0:
        return 0
    fitting = sorted((r for r in rates if r.zone == zone), key=lambda r: r.up_to_grams)
    if not fitting:
        return 0
    for row in fitting:
        if weight <= row.up_to_grams:
            return row.price
    return fitting[-1].price


def quote(items, *, country="CA", province="", rates=None, shipping_rates=None):
    """Price ``items`` (``(product, quantity)`` pairs) delivered to ``country``/``province``."""
    zone = zone_of(country)
    weight = sum(p.weight_grams * q for p, q in items if p.is_print)
    if shipping_rates is None:
        shipping_rates = db.session.scalars(sa.select(ShippingRate)).all() if weight > 0 else []
    shipping = shipping_price(zone, weight, shipping_rates)
    rate = None
    if charges_tax() and zone == "CA" and province:
        if rates is None:
            rate = db.session.scalar(
                sa.select(TaxRate).where(TaxRate.province == province.strip().upper())
            )
        else:
            rate = rates.get(province.strip().upper())
    lines, taxes = [], {}

    def add_tax(kind, points, amount):
        if kind is not None and amount:
            taxes[(kind, points)] = taxes.get((kind, points), 0) + amount

    for product, quantity in items:
        amount = product.price * quantity
        kind, points = rate_for(product.tax_category, rate)
        line_tax = tax_on(amount, points) if kind else 0
        add_tax(kind, points, line_tax)
        lines.append(QuotedLine(product, quantity, amount, line_tax, kind, points))
    shipping_tax = 0
    shipped = [line for line in lines if line.product.is_print and line.product.weight_grams]
    if shipping and shipped and rate is not None:
        weights = [line.amount for line in shipped]
        if not sum(weights):
            weights = [line.quantity for line in shipped]
        for line, share in zip(shipped, split_pro_rata(shipping, weights), strict=True):
            part = tax_on(share, line.basis_points) if line.tax_kind else 0
            add_tax(line.tax_kind, line.basis_points, part)
            shipping_tax += part
    return Quote(
        lines=lines,
        subtotal=sum(line.amount for line in lines),
        shipping=shipping,
        shipping_tax=shipping_tax,
        zone=zone,
        weight=weight,
        taxes=taxes,
    )
