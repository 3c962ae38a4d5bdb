"""The donate form and the form that changes a monthly gift's amount."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from core import address
from core.errors import ValidationError as DomainValidationError
from core.forms import OptionsOnce
from core.money import format_money, parse_amount
from core.validators import EmailAddress, PlainText


def _required(message):
    return DataRequired(message=message)


class DonorFields:
    """Name, email and postal address: what a receipt needs (defined in core.address)."""

    donor_name = address.form_field(address.NAME)
    organization_name = address.form_field(address.ORGANIZATION)
    email = EmailField(
        _l("Email"),
        validators=[
            _required(_l("Please enter your email address.")),
            EmailAddress(),
            Length(max=254),
        ],
    )
    address_line1 = address.form_field(address.LINE1)
    address_line2 = address.form_field(address.LINE2)
    city = address.form_field(address.CITY)
    province = address.form_field(address.PROVINCE)
    postal_code = address.form_field(address.POSTAL)
    country = SelectField(_l("Country"), default="CA", widget=OptionsOnce())

    def validate_postal_code(self, field):
        problem = address.form_address_problem(self, "postal_code")
        if problem:
            raise ValidationError(str(problem))

    def validate_province(self, field):
        problem = address.form_address_problem(self, "province")
        if problem:
            raise ValidationError(str(problem))


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
        self.country.choices = address.countries()
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
