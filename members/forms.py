"""The join form, the member area's forms, and the staff forms of the members package."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from core import address
from core.accounts.services import MAX_PASSWORD, MIN_PASSWORD
from core.address import countries
from core.errors import ValidationError as DomainValidationError
from core.forms import DayField
from core.money import parse_amount
from members.models import MembershipStatus, MondialFormat
from members.validation import text_problem


class PlainText:
    """Refuses control characters (a line break, NUL) and angle brackets, with a message."""

    def __call__(self, form, field):
        problem = text_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


_email = [
    DataRequired(message=_l("Please enter your email address.")),
    Email(message=_l("Please enter a valid email address."), check_deliverability=False),
    Length(max=254),
]


def _address_field(field, label=None):
    """One of the address fields defined in core.address; blank is allowed here (the format
    chosen decides whether an address is needed)."""
    return StringField(
        label or field.label,
        validators=[
            Optional(),
            Length(max=field.max_length, message=address.too_long_message(field)),
            PlainText(),
        ],
    )


FORMAT_LABELS = {
    "print": _l("In print, by mail"),
    "digital": _l("Digital, by email"),
    "none": _l("I do not wish to receive Mondial"),
}


class MailingFields:
    """How and where *Mondial* is sent."""

    mondial_format = RadioField(_l("Mondial"), default="print", validate_choice=True)
    mailing_name = _address_field(address.NAME, _l("Name on the mailing label"))
    address_line1 = _address_field(address.LINE1)
    address_line2 = _address_field(address.LINE2)
    city = _address_field(address.CITY)
    province = _address_field(address.PROVINCE)
    postal_code = _address_field(address.POSTAL)
    country = SelectField(_l("Country"), default="CA")

    def setup_mailing(self, tier):
        choices = []
        if tier.mondial_print:
            choices.append(SelectChoice("print", FORMAT_LABELS["print"]))
        if tier.mondial_digital:
            choices.append(SelectChoice("digital", FORMAT_LABELS["digital"]))
        choices.append(SelectChoice("none", FORMAT_LABELS["none"]))
        self.mondial_format.choices = choices
        if self.mondial_format.data not in {c.value for c in choices}:
            self.mondial_format.data = choices[0].value
        self.country.choices = countries()

    def mailing(self):
        return {
            "mondial_format": self.mondial_format.data,
            "mailing_name": self.mailing_name.data or "",
            "address_line1": self.address_line1.data or "",
            "address_line2": self.address_line2.data or "",
            "city": self.city.data or "",
            "province": self.province.data or "",
            "postal_code": self.postal_code.data or "",
            "country": self.country.data or "CA",
        }

    def fill_mailing(self, membership):
        self.mondial_format.data = membership.mondial_format.value
        for name in (
            "mailing_name",
            "address_line1",
            "address_line2",
            "city",
            "province",
            "postal_code",
            "country",
        ):
            self[name].data = getattr(membership, name)


class JoinForm(MailingFields, FlaskForm):
    """Join or renew: the way to pay, Mondial, and (for a visitor) the account to join with."""

    renewal = RadioField(
        _l("How to pay"),
        choices=[
            SelectChoice("auto", _l("Renew automatically every year (you can stop at any time)")),
            SelectChoice("once", _l("Pay once, for one year")),
        ],
        default="auto",
        validate_choice=True,
    )
    name = StringField(_l("Your name"), validators=[Optional(), Length(max=200), PlainText()])
    email = EmailField(_l("Email"), validators=[Optional(), *_email[1:]])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=MAX_PASSWORD)])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[Optional(), EqualTo("password", message=_l("The passwords differ."))],
    )

    def __init__(self, *args, tier, needs_account, **kw):
        super().__init__(*args, **kw)
        self.tier = tier
        self.needs_account = needs_account
        self.setup_mailing(tier)
        if tier.lifetime:
            self.renewal.choices = [SelectChoice("once", _l("Pay once: a membership for life"))]
            self.renewal.data = "once"

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.needs_account:
            for field, message in (
                (self.name, _l("Please enter your name.")),
                (self.email, _l("Please enter your email address.")),
                (self.password, _l("Please choose a password.")),
            ):
                if not (field.data or "").strip():
                    field.errors = [*field.errors, message]
                    ok = False
            password = self.password.data or ""
            if password and not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
                self.password.errors = [
                    *self.password.errors,
                    _l(
                        "Choose a password of %(min)d to %(max)d characters.",
                        min=MIN_PASSWORD,
                        max=MAX_PASSWORD,
                    ),
                ]
                ok = False
        return ok

    @property
    def auto_renew(self):
        return self.renewal.data == "auto" and not self.tier.lifetime


class MailingForm(MailingFields, FlaskForm):
    def __init__(self, *args, tier, **kw):
        super().__init__(*args, **kw)
        self.setup_mailing(tier)


class LanguageForm(FlaskForm):
    language = SelectField(
        _l("Language for emails and receipts"),
        choices=[SelectChoice("en", "English"), SelectChoice("fr", "Français")],
    )


class InviteForm(FlaskForm):
    name = StringField(
        _l("Their name"),
        validators=[
            DataRequired(message=_l("Please enter their name.")),
            Length(max=200),
            PlainText(),
        ],
    )
    email = EmailField(_l("Their email"), validators=_email)


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Choose a password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD,
                max=MAX_PASSWORD,
                message=_l(
                    "Choose a password of %(min)d to %(max)d characters.",
                    min=MIN_PASSWORD,
                    max=MAX_PASSWORD,
                ),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


# -- staff -----------------------------------------------------------------------------------

STATUS_LABELS = {
    "pending": _l("Pending"),
    "current": _l("Current"),
    "grace": _l("Grace"),
    "expired": _l("Expired"),
    "lapsed": _l("Lapsed"),
    "cancelled": _l("Cancelled"),
    "suspended": _l("Suspended"),
}
DUES_STATUS_LABELS = {
    "pending": _l("Waiting for payment"),
    "paid": _l("Paid"),
    "expired": _l("Not paid"),
    "refunded": _l("Refunded"),
    "charged_back": _l("Charged back"),
}
METHOD_LABELS = {
    "card": _l("Card"),
    "cheque": _l("Cheque"),
    "cash": _l("Cash"),
    "e-transfer": _l("E-transfer"),
    "complimentary": _l("Complimentary"),
    "honorary": _l("Honorary"),
    "imported": _l("Imported"),
}
assert set(STATUS_LABELS) == {s.value for s in MembershipStatus}
assert set(FORMAT_LABELS) == {f.value for f in MondialFormat}


class ChoiceField(SelectField):
    def pre_validate(self, form):
        if self.data and self.data not in {c[0] for c in self.iter_choices()}:
            raise ValidationError(_l("Please choose one of the choices."))


class MemberFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = ChoiceField(_l("Status"), default="")
    tier = ChoiceField(_l("Tier"), default="")
    ending_within = StringField(_l("Ending within (days)"), validators=[Length(max=5)], default="")
    q = StringField(_l("Name or email"), validators=[Length(max=200)], default="")
    page = StringField(default="1")

    NAMES = ("status", "tier", "ending_within", "q")

    def __init__(self, *args, tiers=(), language="en", **kw):
        super().__init__(*args, **kw)
        self.status.choices = [SelectChoice("", _l("Any"))] + [
            SelectChoice(k, v) for k, v in STATUS_LABELS.items()
        ]
        self.tier.choices = [SelectChoice("", _l("Any"))] + [
            SelectChoice(t.slug, t.name(language)) for t in tiers
        ]

    def validate_ending_within(self, field):
        text = (field.data or "").strip()
        if text and (not text.isascii() or not text.isdigit() or int(text) > 3660):
            raise ValidationError(_l("Please give a number of days between 0 and 3660."))

    def validate_page(self, field):
        text = (field.data or "1").strip()
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 100_000:
            raise ValidationError(_l("There is no such page."))

    @property
    def page_number(self):
        return int((self.page.data or "1").strip())

    def filters(self):
        from members.reports import MemberFilters

        days = (self.ending_within.data or "").strip()
        return MemberFilters(
            status=self.status.data or "",
            tier=self.tier.data or "",
            ending_within=int(days) if days else None,
            search=(self.q.data or "").strip(),
        )

    def query_args(self):
        args = {}
        for name in self.NAMES:
            raw = self[name].raw_data
            if raw and raw[0]:
                args[name] = raw[0]
        return args


class PersonFields:
    """Who the staff member is recording dues or a grant for: an account found or made."""

    email = EmailField(_l("Member's email"), validators=_email)
    name = StringField(
        _l("Member's name"),
        validators=[
            DataRequired(message=_l("Please enter the name.")),
            Length(max=200),
            PlainText(),
        ],
    )
    language = SelectField(
        _l("Member's language"),
        choices=[SelectChoice("en", "English"), SelectChoice("fr", "Français")],
    )
    tier = SelectField(_l("Tier"))


class OfflineDuesForm(PersonFields, MailingFields, FlaskForm):
    amount = StringField(
        _l("Amount received"), validators=[InputRequired(_l("Please enter an amount."))]
    )
    method = SelectField(
        _l("Received by"),
        choices=[
            SelectChoice("cheque", _l("Cheque")),
            SelectChoice("e-transfer", _l("E-transfer")),
            SelectChoice("cash", _l("Cash")),
        ],
    )
    received_on = DayField(
        _l("Date received"), validators=[InputRequired(message=_l("Please give the date."))]
    )
    reference = StringField(_l("Cheque number or note"), validators=[Length(max=100), PlainText()])

    def __init__(self, *args, tiers=(), language="en", **kw):
        super().__init__(*args, **kw)
        self.staff_language = language
        self.tier.choices = [SelectChoice(t.slug, t.name(language)) for t in tiers]
        self.country.choices = countries()
        self.mondial_format.choices = [SelectChoice(k, v) for k, v in FORMAT_LABELS.items()]
        self.amount_cents = None

    def validate_amount(self, field):
        try:
            self.amount_cents = parse_amount(field.data, locale=self.staff_language, min_cents=1)
        except DomainValidationError as error:
            raise ValidationError(str(error.message)) from None


class GrantForm(PersonFields, FlaskForm):
    kind = RadioField(
        _l("Kind"),
        choices=[
            SelectChoice("complimentary", _l("Complimentary, until an end date")),
            SelectChoice("honorary", _l("Honorary, with no end")),
        ],
        default="complimentary",
    )
    ends_on = DayField(_l("End date (complimentary)"), validators=[Optional()])
    note = TextAreaField(
        _l("Why (kept in the audit log)"),
        validators=[DataRequired(message=_l("Please say why.")), Length(max=1000)],
    )

    def __init__(self, *args, tiers=(), language="en", **kw):
        super().__init__(*args, **kw)
        self.tier.choices = [SelectChoice(t.slug, t.name(language)) for t in tiers]

    def validate_ends_on(self, field):
        if self.kind.data == "complimentary" and field.data is None:
            raise ValidationError(_l("Please give the end date."))


class ReasonForm(FlaskForm):
    reason = StringField(
        _l("Reason"),
        validators=[
            DataRequired(message=_l("Please give the reason.")),
            Length(max=300),
            PlainText(),
        ],
    )


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"))


class RecordDateForm(FlaskForm):
    class Meta:
        csrf = False

    record_date = DayField(
        _l("Record date"), validators=[InputRequired(message=_l("Please give the date."))]
    )


class GraceForm(FlaskForm):
    grace_days = StringField(_l("Grace period, in days"), validators=[DataRequired()])
    receipt_dues = RadioField(
        _l("Receipts for dues"),
        choices=[
            SelectChoice(
                "yes", _l("Issue official receipts for the part of dues above the benefits")
            ),
            SelectChoice("no", _l("Send an acknowledgement only")),
        ],
    )

    def validate_grace_days(self, field):
        text = (field.data or "").strip()
        if not text.isascii() or not text.isdigit() or not 0 <= int(text) <= 365:
            raise ValidationError(_l("Please give a number of days between 0 and 365."))
