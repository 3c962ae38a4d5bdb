"""A person's name, organization and postal address, each field defined once.

The donate form, the staff's offline-gift form, the JSON API and the models all take the
fields from here: the label, the longest value a column holds, the message for a blank one,
and one rule for what a name or an address line may hold (plain text) and for a Canadian
address (a real province or territory, a postal code such as K1A 0B1).
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale
from flask_babel import lazy_gettext as _l

from core.errors import ValidationError
from core.i18n import current_language
from core.validators import PLAIN_TEXT_MESSAGE, is_plain_text


@dataclass(frozen=True)
class TextField:
    """One line a person types: its column's name, label, longest value, blank message."""

    name: str
    label: object
    max_length: int
    missing: object = None  # the message when it is left blank; None when it may be

    @property
    def required(self):
        return self.missing is not None


NAME = TextField("donor_name", _l("Full name"), 200, _l("Please enter your name."))
ORGANIZATION = TextField(
    "organization_name", _l("Organization name (for a gift made by a business)"), 200
)
LINE1 = TextField("address_line1", _l("Street address"), 200, _l("Please enter your address."))
LINE2 = TextField("address_line2", _l("Apartment, suite (optional)"), 200)
CITY = TextField("city", _l("City"), 100, _l("Please enter your city."))
PROVINCE = TextField("province", _l("Province or state"), 50, _l("Please enter your province."))
POSTAL = TextField("postal_code", _l("Postal code"), 20, _l("Please enter your postal code."))
COUNTRY_LENGTH = 2  # ISO 3166 two-letter code

#: The donor's text fields, in the order a form shows them.
DONOR_FIELDS = (NAME, ORGANIZATION, LINE1, LINE2, CITY, PROVINCE, POSTAL)
#: Every field of a donor, country included: what the models hold.
DONOR_KEYS = (*(f.name for f in DONOR_FIELDS), "country")

PROVINCES = [
    ("AB", "Alberta"),
    ("BC", "British Columbia / Colombie-Britannique"),
    ("MB", "Manitoba"),
    ("NB", "New Brunswick / Nouveau-Brunswick"),
    ("NL", "Newfoundland and Labrador / Terre-Neuve-et-Labrador"),
    ("NS", "Nova Scotia / Nouvelle-Écosse"),
    ("NT", "Northwest Territories / Territoires du Nord-Ouest"),
    ("NU", "Nunavut"),
    ("ON", "Ontario"),
    ("PE", "Prince Edward Island / Île-du-Prince-Édouard"),
    ("QC", "Quebec / Québec"),
    ("SK", "Saskatchewan"),
    ("YT", "Yukon"),
]

POSTAL_CODE = re.compile(r"^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d$")

PROVINCE_MESSAGE = _l("Please choose a province or territory.")
POSTAL_CODE_MESSAGE = _l("Please enter a Canadian postal code such as K1A 0B1.")
COUNTRY_MESSAGE = _l("Please choose a country.")


def too_long_message(field):
    return _l("Please use at most %(max)s characters.", max=field.max_length)


# Babel's territories include groupings and placeholders that are not countries.
NOT_COUNTRIES = {"ZZ", "XA", "XB", "EU", "EZ", "UN", "QO"}


def countries(language=None):
    """Every country as ``(code, name)`` in the visitor's language, Canada first."""
    return _countries(language or current_language())


@lru_cache(maxsize=8)
def _countries(language):
    # One tuple per language for the life of the process: the select is drawn once.
    from wtforms.fields.choices import SelectChoice

    locale = Locale.parse(language)
    names = {
        code: name
        for code, name in locale.territories.items()
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    }
    rest = sorted((c for c in names if c != "CA"), key=lambda c: names[c])
    return tuple(SelectChoice(c, names[c]) for c in ["CA", *rest])


@lru_cache(maxsize=1)
def country_codes():
    return frozenset(choice.value for choice in _countries("en"))


# -- the rules -----------------------------------------------------------------------------


def text_problem(field, value):
    """Why ``value`` cannot fill ``field`` (blank, too long, not plain text), or None."""
    value = (value or "").strip()
    if not value:
        return field.missing
    if len(value) > field.max_length:
        return too_long_message(field)
    if not is_plain_text(value):
        return PLAIN_TEXT_MESSAGE
    return None


def address_problems(*, province, postal_code, country):
    """Field name to message for a Canadian address that is not one; empty when fine.

    The one postal-code and province rule: the donate form, the staff forms and the API
    all ask it.
    """
    country = (country or "CA").strip().upper()
    if country not in country_codes():
        return {"country": COUNTRY_MESSAGE}
    problems = {}
    if country != "CA":
        return problems
    if province is not None and (province or "").strip().upper() not in dict(PROVINCES):
        problems["province"] = PROVINCE_MESSAGE
    if postal_code is not None and not POSTAL_CODE.match((postal_code or "").strip().upper()):
        problems["postal_code"] = POSTAL_CODE_MESSAGE
    return problems


def donor_problems(values):
    """Field name to message for each of a donor's fields that cannot be used as typed."""
    problems = {}
    for field in DONOR_FIELDS:
        problem = text_problem(field, values.get(field.name))
        if problem:
            problems[field.name] = problem
    for name, problem in address_problems(
        province=values.get("province"),
        postal_code=values.get("postal_code"),
        country=values.get("country"),
    ).items():
        problems.setdefault(name, problem)
    return problems


class InvalidDonor(ValidationError):
    """A donor's name or address that cannot go on a receipt; ``problems`` maps each field."""

    def __init__(self, problems):
        name, message = next(iter(problems.items()))
        super().__init__(message, field=name)
        self.problems = problems


def clean_donor(values):
    """A donor's fields checked and tidied (trimmed, codes in capitals), ready for a model.

    Raises :class:`InvalidDonor` naming every field in trouble.
    """
    problems = donor_problems(values)
    if problems:
        raise InvalidDonor(problems)
    cleaned = {field.name: (values.get(field.name) or "").strip() for field in DONOR_FIELDS}
    cleaned["country"] = (values.get("country") or "CA").strip().upper()
    cleaned["postal_code"] = cleaned["postal_code"].upper()
    if cleaned["country"] == "CA":
        cleaned["province"] = cleaned["province"].upper()
    return cleaned


# -- the same fields for WTForms, marshmallow and SQLAlchemy ----------------------------------


def form_field(field, label=None):
    """A WTForms text field that refuses what :func:`text_problem` refuses, with its message."""
    from wtforms import StringField
    from wtforms.validators import DataRequired, Length, Optional

    from core.validators import PlainText

    first = DataRequired(message=field.missing) if field.required else Optional()
    return StringField(
        label or field.label,
        validators=[
            first,
            Length(max=field.max_length, message=too_long_message(field)),
            PlainText(),
        ],
    )


def form_address_problem(form, name):
    """The Canadian-address rule for one field of a WTForms form with the donor's fields."""
    values = {key: getattr(form, key).data for key in ("province", "postal_code", "country")}
    return address_problems(**values).get(name)


def schema_field(field, **kwargs):
    """A marshmallow field for the JSON API with the same limits and messages."""
    from core.api import Text
    from core.validators import plain_text

    if field.required:
        kwargs.setdefault("required", True)
        kwargs.setdefault("error_messages", {"required": field.missing, "null": field.missing})
    else:
        kwargs.setdefault("load_default", "")
    return Text(field.max_length, validate=plain_text, **kwargs)


def column(field):
    """The column type that holds ``field``."""
    import sqlalchemy as sa

    return sa.String(field.max_length)
