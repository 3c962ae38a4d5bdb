"""The treasurer's forms: the filters over the list of gifts, an offline gift, the settings."""

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from core import address
from core.errors import ValidationError as DomainValidationError
from core.forms import DayField
from core.money import parse_amount
from donations.forms import DonorFields, _required
from donations.queries import DonationFilters

KIND_LABELS = {
    "one_time": _l("One time"),
    "monthly": _l("Monthly"),
    "offline": _l("Offline"),
}
STATUS_LABELS = {
    "pending": _l("Pending"),
    "paid": _l("Paid"),
    "expired": _l("Expired"),
    "refunded": _l("Refunded"),
    "charged_back": _l("Charged back"),
}
MONTHLY_STATUS_LABELS = {
    "pending": _l("Not started"),
    "active": _l("Active"),
    "past_due": _l("Payment failed"),
    "cancelled": _l("Cancelled"),
}
METHOD_LABELS = {
    "card": _l("Card"),
    "cheque": _l("Cheque"),
    "cash": _l("Cash"),
    "e-transfer": _l("E-transfer"),
}


class ChoiceField(SelectField):
    """A select whose wrong values are refused with a message that names the field."""

    def pre_validate(self, form):
        if self.data and self.data not in {c[0] for c in self.iter_choices()}:
            # str(): a lazy string counts as safe HTML, and the value is what the visitor typed.
            raise ValidationError(
                str(
                    _l(
                        "“%(value)s” is not one of the choices for %(field)s.",
                        value=self.data[:50],
                        field=self.label.text,
                    )
                )
            )


def _any(labels):
    return [SelectChoice("", _l("Any"))] + [SelectChoice(k, v) for k, v in labels.items()]


class DonationFilterForm(FlaskForm):
    """The filters above the list of gifts, read from the query string."""

    class Meta:
        csrf = False

    date_from = DayField(_l("Received from"), validators=[Optional()])
    date_to = DayField(_l("Received to"), validators=[Optional()])
    fund = ChoiceField(_l("Fund"), default="")
    kind = ChoiceField(_l("Kind"), choices=_any(KIND_LABELS), default="")
    status = ChoiceField(
        _l("Status"),
        choices=[
            SelectChoice("", _l("Received (paid, refunded or charged back)")),
            SelectChoice("all", _l("All, with unpaid and expired checkouts")),
        ]
        + [SelectChoice(k, v) for k, v in STATUS_LABELS.items()],
        default="",
    )
    q = StringField(_l("Name or email"), validators=[Length(max=200)], default="")
    page = StringField(default="1")

    NAMES = ("date_from", "date_to", "fund", "kind", "status", "q")

    def __init__(self, *args, funds=(), language="en", **kw):
        super().__init__(*args, **kw)
        self.fund.choices = [SelectChoice("", _l("Any"))] + [
            SelectChoice(f.slug, f.name(language)) for f in funds
        ]

    def validate_date_to(self, field):
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    def validate_page(self, field):
        text = (field.data or "1").strip()
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 100_000:
            raise ValidationError(_l("There is no such page."))

    @property
    def page_number(self):
        return int((self.page.data or "1").strip())

    def filters(self):
        return DonationFilters(
            date_from=self.date_from.data,
            date_to=self.date_to.data,
            fund=self.fund.data or "",
            kind=self.kind.data or "",
            status=self.status.data or "",
            search=(self.q.data or "").strip(),
        )

    def query_args(self):
        """The filters as they were typed, to keep them in links (pages, export)."""
        args = {}
        for name in self.NAMES:
            raw = self[name].raw_data
            if raw and raw[0]:
                args[name] = raw[0]
        return args


def _cents(text, language, **limits):
    """What a person typed, as cents, or a form error that says what is wrong."""
    try:
        return parse_amount(text, locale=language, **limits)
    except DomainValidationError as error:
        raise ValidationError(str(error.message)) from None


def plain_amount(cents, language="en"):
    """Cents as a person would type them back: ``25``, ``10.50`` (``10,50`` in French)."""
    whole, part = divmod(int(cents), 100)
    if not part:
        return str(whole)
    return f"{whole}{',' if language == 'fr' else '.'}{part:02d}"


class OfflineGiftForm(DonorFields, FlaskForm):
    fund = SelectField(_l("Fund"))
    amount = StringField(_l("Amount"), validators=[_required(_l("Please enter an amount."))])
    method = SelectField(
        _l("Received by"),
        choices=[
            SelectChoice("cheque", _l("Cheque")),
            SelectChoice("cash", _l("Cash")),
            SelectChoice("e-transfer", _l("E-transfer")),
        ],
    )
    reference = StringField(_l("Cheque number or note"), validators=[Length(max=100)])
    received_on = DayField(
        _l("Date received"), validators=[InputRequired(message=_l("Please give the date."))]
    )
    advantage = StringField(
        _l("Value of any advantage (for example, a dinner ticket)"), default="0"
    )
    advantage_description = StringField(
        _l("Description of the advantage"), validators=[Length(max=300)]
    )
    language = SelectField(
        _l("Donor's language"),
        choices=[SelectChoice("en", "English"), SelectChoice("fr", "Français")],
    )
    issue_receipt = BooleanField(_l("Issue and email a receipt"), default=True)

    def __init__(self, *args, funds=(), language="en", **kw):
        super().__init__(*args, **kw)
        self.staff_language = language
        self.fund.choices = [SelectChoice(f.slug, f.name(language)) for f in funds]
        self.country.choices = address.countries()
        self.amount_cents = None
        self.advantage_cents = 0

    def validate_amount(self, field):
        self.amount_cents = _cents(field.data, self.staff_language)

    def validate_advantage(self, field):
        self.advantage_cents = _cents((field.data or "").strip() or "0", self.staff_language)

    def gift(self):
        """The values :func:`donations.gifts.record_offline_gift` takes, but the fund."""
        return {
            "amount": self.amount_cents,
            "method": self.method.data,
            "received_on": self.received_on.data,
            "donor_name": self.donor_name.data,
            "organization_name": self.organization_name.data or "",
            "email": self.email.data,
            "address_line1": self.address_line1.data,
            "address_line2": self.address_line2.data or "",
            "city": self.city.data,
            "province": self.province.data,
            "postal_code": self.postal_code.data,
            "country": self.country.data,
            "language": self.language.data,
            "reference": self.reference.data or "",
            "advantage": self.advantage_cents,
            "advantage_description": self.advantage_description.data or "",
            "issue_receipt": self.issue_receipt.data,
        }


#: The settings typed as text (printed on every receipt).
TEXT_SETTINGS = ("place_of_issue", "signer_name", "signer_title", "signer_title_fr")


class DonationSettingsForm(FlaskForm):
    """Staff settings for the donate form and receipts; amounts in dollars, as people type."""

    min_amount = StringField(
        _l("Smallest online gift"), validators=[_required(_l("Please enter an amount."))]
    )
    max_amount = StringField(
        _l("Largest online gift"), validators=[_required(_l("Please enter an amount."))]
    )
    presets = StringField(
        _l("Suggested amounts"),
        validators=[_required(_l("Please give at least one suggested amount.")), Length(max=200)],
    )
    fee_percent = StringField(
        _l("Card fee, percent"), validators=[_required(_l("Please enter a percentage."))]
    )
    fee_fixed = StringField(
        _l("Card fee, fixed part"), validators=[_required(_l("Please enter an amount."))]
    )
    receipt_min_amount = StringField(
        _l("Smallest gift that gets a receipt"),
        validators=[_required(_l("Please enter an amount."))],
    )
    place_of_issue = StringField(
        _l("Place of issue on receipts"),
        validators=[_required(_l("Please fill this in.")), Length(max=100)],
    )
    signer_name = StringField(
        _l("Name of the person who signs receipts"),
        validators=[_required(_l("Please fill this in.")), Length(max=200)],
    )
    signer_title = StringField(
        _l("Their title"), validators=[_required(_l("Please fill this in.")), Length(max=200)]
    )
    signer_title_fr = StringField(
        _l("Their title in French (printed on French receipts)"),
        validators=[_required(_l("Please fill this in.")), Length(max=200)],
    )

    #: Each field and the setting it holds.
    KEYS = {
        "min_amount": "donations.min_amount",
        "max_amount": "donations.max_amount",
        "presets": "donations.presets",
        "fee_percent": "donations.fee_percent",
        "fee_fixed": "donations.fee_fixed",
        "receipt_min_amount": "receipts.min_amount",
        "place_of_issue": "receipts.place_of_issue",
        "signer_name": "receipts.signer_name",
        "signer_title": "receipts.signer_title",
        "signer_title_fr": "receipts.signer_title_fr",
    }
    AMOUNTS = ("min_amount", "max_amount", "fee_fixed", "receipt_min_amount")
    # Semicolons, line breaks, or a comma followed by a space: a comma alone may be a
    # decimal comma in French ("10,50") or group thousands in English ("1,000").
    PRESET_SEPARATORS = re.compile(r";|\n|,\s+")

    def __init__(self, *args, language="en", **kw):
        super().__init__(*args, **kw)
        self.language = language
        self.parsed = {}

    @classmethod
    def from_settings(cls, values, language="en"):
        """A form showing the settings as they are, written the way the staff member types."""
        data = {name: values[key] for name, key in cls.KEYS.items()}
        for name in cls.AMOUNTS:
            data[name] = plain_amount(data[name], language)
        data["presets"] = "; ".join(plain_amount(c, language) for c in data["presets"])
        percent = str(data["fee_percent"])
        data["fee_percent"] = percent.replace(".", ",") if language == "fr" else percent
        return cls(formdata=None, data=data, language=language)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        for name in self.AMOUNTS:
            field = self[name]
            if field.errors:
                continue
            try:
                self.parsed[name] = _cents(field.data, self.language)
            except ValidationError as error:
                field.errors.append(str(error))
                ok = False
        return ok

    def validate_presets(self, field):
        parts = [p.strip() for p in self.PRESET_SEPARATORS.split(field.data or "")]
        amounts = []
        for part in filter(None, parts):
            try:
                amounts.append(_cents(part, self.language))
            except ValidationError as error:
                raise ValidationError(
                    str(_l("“%(typed)s”: %(problem)s", typed=part[:30], problem=str(error)))
                ) from None
        if not amounts:
            raise ValidationError(_l("Please give at least one suggested amount."))
        self.parsed["presets"] = amounts

    def validate_fee_percent(self, field):
        text = (field.data or "").strip().removesuffix("%").strip().replace(",", ".")
        try:
            percent = Decimal(text)
        except InvalidOperation:
            percent = None
        if percent is None or not percent.is_finite():
            raise ValidationError(_l("Please enter a percentage such as 2.9."))
        self.parsed["fee_percent"] = percent

    def values(self):
        """The settings as typed values, keyed by setting name, once the form validates."""
        values = {self.KEYS[name]: value for name, value in self.parsed.items()}
        for name in TEXT_SETTINGS:
            values[self.KEYS[name]] = self[name].data.strip()
        return values

    def field_for(self, key):
        """The field that holds the setting ``key``."""
        names = {k: n for n, k in self.KEYS.items()}
        return self[names[key]]
