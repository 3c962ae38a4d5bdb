"""The donate form and the form that changes a monthly gift's amount."""

import re
from functools import lru_cache

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from core.errors import ValidationError as DomainValidationError
from core.forms import OptionsOnce
from core.money import format_money, parse_amount
from core.validators import EmailAddress, PlainText

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

# Babel's territories include groupings and placeholders that are not countries.
NOT_COUNTRIES = {"ZZ", "XA", "XB", "EU", "EZ", "UN", "QO"}

POSTAL_CODE = re.compile(r"^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d$")


def countries():
    """Every country by name in the visitor's language, Canada first."""
    return _countries(str(get_locale() or "en"))


@lru_cache(maxsize=8)
def _countries(language):
    # One list per language for the life of the process: OptionsOnce draws it once.
    locale = Locale.parse(language)
    names = {
        code: name
        for code, name in locale.territories.items()
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    }
    rest = sorted((c for c in names if c != "CA"), key=lambda c: names[c])
    return tuple(SelectChoice(c, names[c]) for c in ["CA", *rest])


def _required(message):
    return DataRequired(message=message)


class DonorFields:
    """Name, email and postal address: what a receipt needs."""

    donor_name = StringField(
        _l("Full name"),
        validators=[_required(_l("Please enter your name.")), Length(max=200), PlainText()],
    )
    organization_name = StringField(
        _l("Organization name (for a gift made by a business)"),
        validators=[Optional(), Length(max=200), PlainText()],
    )
    email = EmailField(
        _l("Email"),
        validators=[
            _required(_l("Please enter your email address.")),
            EmailAddress(),
            Length(max=254),
        ],
    )
    address_line1 = StringField(
        _l("Street address"),
        validators=[_required(_l("Please enter your address.")), Length(max=200), PlainText()],
    )
    address_line2 = StringField(
        _l("Apartment, suite (optional)"), validators=[Length(max=200), PlainText()]
    )
    city = StringField(
        _l("City"),
        validators=[_required(_l("Please enter your city.")), Length(max=100), PlainText()],
    )
    province = StringField(
        _l("Province or state"),
        validators=[_required(_l("Please enter your province.")), Length(max=50), PlainText()],
    )
    postal_code = StringField(
        _l("Postal code"),
        validators=[
            _required(_l("Please enter your postal code.")),
            Length(max=20),
            PlainText(),
        ],
    )
    country = SelectField(_l("Country"), default="CA", widget=OptionsOnce())

    def validate_postal_code(self, field):
        if self.country.data == "CA" and not POSTAL_CODE.match(field.data.strip().upper()):
            raise ValidationError(_l("Please enter a Canadian postal code such as K1A 0B1."))

    def validate_province(self, field):
        if self.country.data == "CA" and field.data.strip().upper() not in dict(PROVINCES):
            raise ValidationError(_l("Please choose a province or territory."))


class DonateForm(DonorFields, FlaskForm):
    amount_choice = RadioField(_l("Amount"), validate_choice=False)
    other_amount = StringField(_l("Other amount"), validators=[Length(max=30)])
    frequency = RadioField(
        _l("How often"),
        choices=[SelectChoice("one_time", _l("One time")), SelectChoice("monthly", _l("Monthly"))],
        default="one_time",
    )
    fund = SelectField(_l("Fund"))
    cover_fee = BooleanField(
        _l("Add the card processing fee, so that all of my gift goes to the work")
    )
    tribute_kind = RadioField(
        _l("Dedicate this gift"),
        choices=[
            SelectChoice("", _l("No dedication")),
            SelectChoice("honour", _l("In honour of")),
            SelectChoice("memory", _l("In memory of")),
        ],
        default="",
        validate_choice=True,
    )
    tribute_name = StringField(_l("Name of the person"), validators=[Length(max=200), PlainText()])
    tribute_notify_email = EmailField(
        _l("Let someone know by email (optional)"),
        validators=[
            Optional(),
            EmailAddress(),
            Length(max=254),
        ],
    )
    anonymous = BooleanField(_l("Keep my gift anonymous (it is never listed publicly)"))
    annual_receipt = BooleanField(
        _l("Send me one receipt a year for my monthly gift instead of one each month"),
        default=True,
    )
    news_consent = BooleanField()  # its label is the stored consent wording

    def __init__(self, *args, presets=(), funds=(), language="en", limits=(100, 5_000_000), **kw):
        super().__init__(*args, **kw)
        self.language = language
        self.limits = limits
        self.presets = tuple(presets)
        self.amount_choice.choices = [
            SelectChoice(str(cents), format_money(cents, locale=language)) for cents in presets
        ] + [SelectChoice("other", _l("Other"))]
        self.fund.choices = [SelectChoice(f.slug, f.name(language)) for f in funds]
        self.country.choices = countries()
        self.amount_cents = None

    def validate_amount_choice(self, field):
        """The amount is what the visitor typed under Other, or else a suggested one.

        A typed amount wins over a suggested amount left ticked: it is what the donor last
        did, and the form must charge it with or without the page's script.
        """
        typed = (self.other_amount.data or "").strip()
        if field.data and field.data != "other" and not typed:
            if not field.data.isdigit() or int(field.data) not in self.presets:
                raise ValidationError(_l("Please choose an amount."))
            self.amount_cents = int(field.data)
            return
        field.data = "other"  # shown again ticked, if the form comes back
        low, high = self.limits
        try:
            self.amount_cents = parse_amount(
                self.other_amount.data, locale=self.language, min_cents=low, max_cents=high
            )
        except DomainValidationError as error:
            raise ValidationError(str(error.message)) from None

    def validate_tribute_name(self, field):
        if self.tribute_kind.data and not field.data.strip():
            raise ValidationError(_l("Please tell us whom the gift honours."))


class ChangeAmountForm(FlaskForm):
    amount = StringField(
        _l("New monthly amount"), validators=[_required(_l("Please enter an amount."))]
    )
