"""What a gift costs the donor: the gift, the card fee they chose to cover, and the total.

One rule for every place that shows or charges it: the form (on submit and live, through
``/donate/charge``), the lines on Stripe's page, and the amount charged.
"""

from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from core.money import format_money, gross_up
from donations.settings import fee_rate


@dataclass(frozen=True)
class Charge:
    gift: int  # cents the charity keeps
    fee: int  # the card fee the donor chose to cover (0 when they did not)
    monthly: bool = False

    @property
    def total(self):
        return self.gift + self.fee


def with_fee_covered(amount):
    """What to charge so that, after the card fee, the charity keeps exactly ``amount``."""
    percent, fixed = fee_rate()
    return gross_up(amount, percent, fixed)


def charge_for(amount, cover_fee, monthly=False):
    """The charge for a gift of ``amount`` cents, covering the card fee when asked."""
    fee = with_fee_covered(amount) - amount if cover_fee else 0
    return Charge(gift=amount, fee=fee, monthly=monthly)


def describe(charge, language):
    """The charge in words, in ``language``: "Your gift $10.50 + card fee $0.62 = $11.12"."""
    money = {
        "gift": format_money(charge.gift, locale=language),
        "fee": format_money(charge.fee, locale=language),
        "total": format_money(charge.total, locale=language),
    }
    with force_locale(language):
        if charge.fee and charge.monthly:
            text = _l("Your gift %(gift)s + card fee %(fee)s = %(total)s each month", **money)
        elif charge.fee:
            text = _l("Your gift %(gift)s + card fee %(fee)s = %(total)s", **money)
        elif charge.monthly:
            text = _l("You will be charged %(total)s each month", **money)
        else:
            text = _l("You will be charged %(total)s", **money)
        return str(text)


def fee_line_name(language):
    """The name of the card fee's own line on Stripe's page (one-time gifts)."""
    with force_locale(language):
        return str(_l("Card fee, which you chose to cover"))


def monthly_line_name(label, charge, language):
    """One recurring line that states the split: "Monthly gift to …: Your gift … = …"."""
    with force_locale(language):
        return str(_l("%(label)s: %(split)s", label=label, split=describe(charge, language)))
