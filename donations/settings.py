"""The donation settings staff may change: the limits of an online gift, the suggested
amounts and the card fee (the receipt settings are in :mod:`donations.receipts`)."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l

from core.errors import ValidationError
from core.money import format_money
from core.settings import get_setting, set_setting
from donations import receipts

SETTING_DEFAULTS = {
    "donations.min_amount": 100,  # cents
    "donations.max_amount": 5_000_000,
    "donations.presets": [2500, 5000, 10000, 25000],
    "donations.fee_percent": "2.9",
    "donations.fee_fixed": 30,
}


def setting(key):
    return get_setting(key, SETTING_DEFAULTS[key])


def limits():
    return setting("donations.min_amount"), setting("donations.max_amount")


def fee_rate():
    return setting("donations.fee_percent"), setting("donations.fee_fixed")


def current_settings():
    """Every donation and receipt setting staff may change, with its value now."""
    values = {key: setting(key) for key in SETTING_DEFAULTS}
    values.update({key: receipts.setting(key) for key in receipts.SETTING_DEFAULTS})
    return values


class InvalidSettings(ValidationError):
    """Settings that do not fit together; ``problems`` maps each setting key to a message."""

    def __init__(self, problems):
        key, message = next(iter(problems.items()))
        super().__init__(message, field=key)
        self.problems = problems


#: The receipt settings typed as text, each printed on every receipt.
TEXT_KEYS = (
    "receipts.place_of_issue",
    "receipts.signer_name",
    "receipts.signer_title",
    "receipts.signer_title_fr",
)
MIN_ONLINE_GIFT = 100  # the smallest gift worth a card fee: one dollar
MAX_FEE_PERCENT = Decimal(10)
MAX_FEE_FIXED = 1000  # a fixed part over ten dollars is a typing slip, not a card fee
MAX_PRESETS = 8


def settings_problems(values):
    """What is wrong with ``values`` (typed already: cents, a Decimal percent, text)."""
    problems = {}
    low, high = values["donations.min_amount"], values["donations.max_amount"]
    if low < MIN_ONLINE_GIFT:
        problems["donations.min_amount"] = _l(
            "The smallest online gift must be at least %(amount)s.",
            amount=format_money(MIN_ONLINE_GIFT),
        )
    if high <= low:
        problems["donations.max_amount"] = _l(
            "The largest online gift must be more than the smallest."
        )
    presets = values["donations.presets"]
    outside = [cents for cents in presets if not low <= cents <= high]
    if not presets:
        problems["donations.presets"] = _l("Please give at least one suggested amount.")
    elif len(presets) > MAX_PRESETS:
        problems["donations.presets"] = _l(
            "Please give at most %(count)s suggested amounts.", count=MAX_PRESETS
        )
    elif outside:
        problems["donations.presets"] = _l(
            "Each suggested amount must be between %(low)s and %(high)s; %(amount)s is not.",
            low=format_money(low),
            high=format_money(high),
            amount=format_money(outside[0]),
        )
    percent = values["donations.fee_percent"]
    if not (percent.is_finite() and 0 <= percent <= MAX_FEE_PERCENT):
        problems["donations.fee_percent"] = _l(
            "The card fee must be a percentage between 0 and %(max)s.", max=MAX_FEE_PERCENT
        )
    elif percent.normalize().as_tuple().exponent < -3:
        problems["donations.fee_percent"] = _l("The card fee has at most three decimals.")
    if not 0 <= values["donations.fee_fixed"] <= MAX_FEE_FIXED:
        problems["donations.fee_fixed"] = _l(
            "The fixed part of the card fee must be between %(low)s and %(high)s.",
            low=format_money(0),
            high=format_money(MAX_FEE_FIXED),
        )
    if values["receipts.min_amount"] < 0:
        problems["receipts.min_amount"] = _l("The amount cannot be negative.")
    for key in TEXT_KEYS:
        if not values[key].strip():
            problems[key] = _l("Please fill this in: it is printed on every receipt.")
    return problems


def save_settings(values):
    """Check and store the donation and receipt settings; each change goes to the audit log.

    Nothing is stored unless every value is acceptable.
    """
    values = dict(values)
    unknown = set(values) - set(SETTING_DEFAULTS) - set(receipts.SETTING_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    problems = settings_problems(values)
    if problems:
        raise InvalidSettings(problems)
    values["donations.presets"] = sorted(set(values["donations.presets"]))
    # Stored as text, as the defaults are: a JSON float would not keep "2.9" exact.
    values["donations.fee_percent"] = format(values["donations.fee_percent"].normalize(), "f")
    for key in TEXT_KEYS:
        values[key] = values[key].strip()
    for key, value in values.items():
        set_setting(key, value)
    return current_settings()
