"""Money as integer cents: parsing what people type, formatting for their locale, fee arithmetic.

Never a float. Parsing accepts what Canadians type in either language ("10", "10.50",
"10,50", "1 234,50", "$1,234.50") and refuses anything ambiguous or absurd with a message
the visitor can act on.
"""

import re
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from babel.numbers import format_currency
from flask_babel import lazy_gettext as _l

from core.errors import ValidationError
from core.i18n import current_language

DEFAULT_CURRENCY = "CAD"
#: No amount typed into a form may exceed this, whatever a feature's own maximum.
ABSURD_CENTS = 100_000_000_00  # 100 million dollars

BABEL_LOCALES = {"en": "en_CA", "fr": "fr_CA"}

# ASCII digits only: int() would also take other scripts' digits.
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_SPACE_GROUPED = re.compile(r"^[0-9]{1,3}( [0-9]{3})+([.,][0-9]+)?$")
_PLAIN = re.compile(r"^([0-9]+)(?:\.([0-9]+))?$")
_EN_GROUPED = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$")
_FR_GROUPED = re.compile(r"^[0-9]{1,3}(\.[0-9]{3})+(,[0-9]+)?$")


class InvalidAmount(ValidationError):
    code = "invalid_amount"
    default_message = _l("Please enter an amount in dollars, for example 25 or 10.50.")


def parse_amount(text, *, locale="en", min_cents=None, max_cents=None, field="amount"):
    """Turn what a person typed into integer cents, or raise :class:`InvalidAmount`."""
    if text is None:
        raise InvalidAmount(_l("Please enter an amount."), field=field)
    if isinstance(text, bool):
        raise InvalidAmount(field=field)
    if isinstance(text, int):
        text = str(text)
    if isinstance(text, float):
        # JSON numbers arrive as floats; repr gives the shortest exact decimal form.
        text = repr(text)
    if isinstance(text, Decimal):
        text = format(text, "f")
    if not isinstance(text, str):
        raise InvalidAmount(field=field)
    raw = _SPACES.sub(" ", text).strip()
    raw = raw.removeprefix("$").removesuffix("CAD").removesuffix("$").strip()
    if " " in raw:
        # Spaces may only group thousands, as in French: "1 234,50".
        if not _SPACE_GROUPED.match(raw):
            raise InvalidAmount(field=field)
        raw = raw.replace(" ", "")
    if not raw:
        raise InvalidAmount(_l("Please enter an amount."), field=field)
    if raw.startswith("-"):
        raise InvalidAmount(_l("The amount cannot be negative."), field=field)
    plain = _to_plain(raw, locale)
    match = _PLAIN.match(plain) if plain else None
    if not match:
        raise InvalidAmount(field=field)
    whole, decimals = match.group(1), match.group(2) or ""
    if len(decimals) > 2:
        raise InvalidAmount(_l("Amounts have at most two decimals (cents)."), field=field)
    if len(whole) > 12:
        raise InvalidAmount(_l("That amount is too large."), field=field)
    cents = int(whole) * 100 + int((decimals + "00")[:2])
    if cents > ABSURD_CENTS:
        raise InvalidAmount(_l("That amount is too large."), field=field)
    if min_cents is not None and cents < min_cents:
        raise InvalidAmount(
            _l("The minimum is %(amount)s.", amount=format_money(min_cents, locale=locale)),
            field=field,
            code="amount_too_small",
        )
    if max_cents is not None and cents > max_cents:
        raise InvalidAmount(
            _l("The maximum online is %(amount)s.", amount=format_money(max_cents, locale=locale)),
            field=field,
            code="amount_too_large",
        )
    return cents


def _to_plain(raw, locale):
    """Normalise separators to ``1234.50``; return None when they are ambiguous or malformed."""
    has_comma, has_dot = "," in raw, "." in raw
    if has_comma and has_dot:
        if _EN_GROUPED.match(raw):
            return raw.replace(",", "")
        if _FR_GROUPED.match(raw):
            return raw.replace(".", "").replace(",", ".")
        return None
    if has_comma:
        if raw.count(",") > 1:
            return raw.replace(",", "") if _EN_GROUPED.match(raw) else None
        # "1,000" is a thousand in English and one dollar in French: follow the visitor.
        if _EN_GROUPED.match(raw) and not str(locale).startswith("fr"):
            return raw.replace(",", "")
        return raw.replace(",", ".")
    if has_dot and raw.count(".") > 1:
        return raw.replace(".", "") if _FR_GROUPED.match(raw) else None
    return raw


def to_decimal(cents):
    """Cents as a dollar :class:`Decimal`, for display and exports only."""
    return (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))


def format_money(cents, currency=DEFAULT_CURRENCY, locale=None):
    """Format cents for a locale: ``$1,234.50`` in English, ``1 234,50 $`` in French."""
    if locale is None:
        locale = current_language()
    locale = BABEL_LOCALES.get(str(locale), str(locale))
    return format_currency(to_decimal(cents), currency.upper(), locale=locale)


def percent_of(cents, percent):
    """``percent`` (a Decimal or string such as "2.9") of ``cents``, rounded half up to a cent."""
    value = Decimal(int(cents)) * Decimal(str(percent)) / 100
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def card_fee(cents, percent, fixed_cents):
    """Stripe's fee on a card charge of ``cents``: ``percent`` of it plus a fixed part."""
    return percent_of(cents, percent) + int(fixed_cents)


def gross_up(net_cents, percent, fixed_cents):
    """The smallest charge whose net after :func:`card_fee` is at least ``net_cents``.

    Used for "cover the processing fee": the donor pays this so that the charity keeps
    exactly the gift they meant.
    """
    rate = Decimal(str(percent)) / 100
    estimate = (Decimal(int(net_cents) + int(fixed_cents)) / (1 - rate)).to_integral_value(
        rounding=ROUND_CEILING
    )
    gross = int(estimate)
    # Rounding of the fee can leave us a cent either side; settle on the exact smallest.
    while gross - card_fee(gross, percent, fixed_cents) < net_cents:
        gross += 1
    while gross > 0 and (gross - 1) - card_fee(gross - 1, percent, fixed_cents) >= net_cents:
        gross -= 1
    return gross


def split_pro_rata(total, weights):
    """Split ``total`` cents across ``weights`` in proportion, the shares summing exactly.

    Largest-remainder rounding, ties to the earliest, so a fee shared by allocations
    never gains or loses a cent.
    """
    weights = [int(w) for w in weights]
    whole = sum(weights)
    if not weights:
        return []
    if whole == 0:
        shares = [0] * len(weights)
        shares[0] = total
        return shares
    sign = -1 if total < 0 else 1
    magnitude = abs(int(total))
    raw = [magnitude * w for w in weights]
    shares = [r // whole for r in raw]
    leftover = magnitude - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(raw[i] % whole), i))
    for i in order[:leftover]:
        shares[i] += 1
    return [sign * s for s in shares]
