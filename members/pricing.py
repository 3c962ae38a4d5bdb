"""What a tier costs: the price, the GST/HST where it applies, and the term it buys."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from core import clock
from core.money import format_money
from members import dates
from members.models import (
    MembershipStatus,
    Tier,
)
from payments.checkout import FIRST_CHARGE_LEAD

#: GST/HST by province for a registrant's taxable supply of a service (place of supply:
#: the member's address). Outside Canada the supply is zero-rated.
GST_HST_PERCENT = {
    "AB": 5,
    "BC": 5,
    "MB": 5,
    "NB": 15,
    "NL": 15,
    "NS": 14,
    "NT": 5,
    "NU": 5,
    "ON": 13,
    "PE": 15,
    "QC": 5,
    "SK": 5,
    "YT": 5,
}


def tax_percent(tier, *, province, country):
    """The GST/HST on a tier's dues for a member at this address (0 when not taxed)."""
    if not tier.taxable or not current_app.config.get("GST_HST_NUMBER"):
        return 0
    if (country or "CA").upper() != "CA":
        return 0
    return GST_HST_PERCENT.get((province or "").strip().upper(), 0)


def tax_on(price, percent):
    value = Decimal(price) * Decimal(percent) / 100
    return int(value.quantize(Decimal(1), rounding="ROUND_HALF_UP"))


@dataclass(frozen=True)
class Quote:
    """What joining or renewing costs and buys, as shown before paying."""

    tier: Tier
    price: int
    tax_percent: int
    tax: int
    term: dates.Term
    renewing: bool
    #: Set when the first charge waits until the current term ends (auto-renew mid-term).
    first_charge_on: date | None = None

    @property
    def total(self):
        return self.price + self.tax


def quote(tier, membership=None, *, auto_renew=False, province="", country="CA", on=None):
    """The price, tax and term of ``tier`` for this membership (None: a new member)."""
    on = on or dates.today()
    status = membership.status if membership is not None else None
    ends_on = membership.ends_on if membership is not None else None
    term = dates.next_term(lifetime=tier.lifetime, ends_on=ends_on, status=status, on=on)
    renewing = membership is not None and term.starts_on != on
    first_charge_on = None
    if auto_renew and renewing and status == MembershipStatus.current:
        if dates.local_noon(ends_on) - clock.now() >= FIRST_CHARGE_LEAD:
            first_charge_on = ends_on
    percent = tax_percent(tier, province=province, country=country)
    return Quote(
        tier=tier,
        price=tier.price,
        tax_percent=percent,
        tax=tax_on(tier.price, percent),
        term=term,
        renewing=renewing,
        first_charge_on=first_charge_on,
    )


def describe_term(tier, term, language):
    """``Individual membership, 15 March 2026 to 15 March 2027`` in the member's language."""
    from babel.dates import format_date

    locale = "fr_CA" if language == "fr" else "en_CA"
    with force_locale(language):
        if term.ends_on is None:
            return str(_l("%(tier)s membership, for life", tier=tier.name(language)))
        return str(
            _l(
                "%(tier)s membership, %(start)s to %(end)s",
                tier=tier.name(language),
                start=format_date(term.starts_on, "long", locale=locale),
                end=format_date(term.ends_on, "long", locale=locale),
            )
        )


def format_price(tier, language=None):
    return format_money(tier.price, locale=language)
