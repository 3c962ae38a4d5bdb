"""The treasurer's forms: filters read from the query string, and the buttons that act."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from core.forms import MoneyField
from core.validators import check_plain_text

PAYOUT_STATE_LABELS = {
    "awaiting": _l("Awaiting reconciliation"),
    "reconciled": _l("Reconciled"),
    "balanced": _l("Balanced"),
    "unmatched": _l("Unmatched lines"),
    "mismatch": _l("Amount mismatch"),
    "pending": _l("Lines not fetched yet"),
    "failed": _l("Failed"),
}

LINE_KIND_FILTERS = {
    "charge": _l("Payments"),
    "refund": _l("Refunds"),
    "dispute": _l("Disputes"),
    "unmatched": _l("Unmatched lines"),
}

OUTCOME_LABELS = {
    "handled": _l("Handled"),
    "failing": _l("Failing, will be retried"),
    "given_up": _l("Given up"),
    "waiting": _l("Waiting"),
}

REFUND_REASONS = {
    "requested_by_customer": _l("Requested by the payer"),
    "duplicate": _l("Duplicate payment"),
    "fraudulent": _l("Fraudulent"),
}


def _any(labels):
    return [SelectChoice("", _l("Any"))] + _choices(labels)


def _choices(labels):
    return [SelectChoice(value, label) for value, label in labels.items()]


class PageMixin:
    page = StringField(default="1")

    def validate_page(self, field):
        text = (field.data or "1").strip()
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 100_000:
            raise ValidationError(_l("There is no such page."))

    @property
    def page_number(self):
        return int((self.page.data or "1").strip())


class QueryForm(FlaskForm):
    class Meta:
        csrf = False


class PayoutFilterForm(PageMixin, QueryForm):
    state = SelectField(_l("Status"), choices=_any(PAYOUT_STATE_LABELS), default="")
    date_from = DateField(_l("Created from"), validators=[Optional()])
    date_to = DateField(_l("Created to"), validators=[Optional()])

    def validate_date_to(self, field):
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))


class LineFilterForm(PageMixin, QueryForm):
    kind = SelectField(_l("Lines"), choices=_any(LINE_KIND_FILTERS), default="")


class PaymentSearchForm(PageMixin, QueryForm):
    q = StringField(
        _l("Donor, email, amount or Stripe id"), validators=[Length(max=200)], default=""
    )


class EventFilterForm(PageMixin, QueryForm):
    type = SelectField(_l("Type"), default="", validate_choice=False)
    outcome = SelectField(_l("Outcome"), choices=_any(OUTCOME_LABELS), default="")

    def validate_type(self, field):
        if len(field.data or "") > 100:
            raise ValidationError(_l("There is no such type."))


class NotPaidOutForm(PageMixin, QueryForm):
    days = StringField(_l("Paid within the last (days)"), default="60")

    def validate_days(self, field):
        text = (field.data or "60").strip()
        if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 3650):
            raise ValidationError(_l("Please give a number of days from 1 to 3650."))

    @property
    def within_days(self):
        return int((self.days.data or "60").strip())


class AuditFilterForm(PageMixin, QueryForm):
    action = StringField(_l("Action starts with"), validators=[Length(max=100)], default="")


class DateRangeForm(QueryForm):
    date_from = DateField(_l("From"), validators=[DataRequired()])
    date_to = DateField(_l("To"), validators=[DataRequired()])

    def validate_date_to(self, field):
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))


class YearForm(QueryForm):
    year = StringField(_l("Year"), validators=[DataRequired(), Length(max=4)])

    def validate_year(self, field):
        text = (field.data or "").strip()
        if not (text.isascii() and text.isdigit() and 2000 <= int(text) <= 2100):
            raise ValidationError(_l("Please give a year such as 2026."))


def _plain(form, field):
    try:
        check_plain_text(field.data or "", field=field.name)
    except Exception as error:  # a DomainError with a translated message
        raise ValidationError(str(getattr(error, "message", error))) from None


class ActionForm(FlaskForm):
    """A button that acts (sync, replay): only its CSRF token."""


class ReconcileForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Length(max=2000), _plain])


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Length(max=2000), _plain])


class RefundForm(FlaskForm):
    amount = MoneyField(_l("Amount to refund (empty: all that is left)"))
    reason = SelectField(_l("Reason"), choices=_choices(REFUND_REASONS))
    note = TextAreaField(_l("Why (kept in the audit log)"), validators=[Length(max=500), _plain])
