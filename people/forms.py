"""The forms of the people screens: a search, and the confirmations of merge and erase."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from core.validators import check_plain_text


def _plain(form, field):
    try:
        check_plain_text(field.data or "", field=field.name)
    except Exception as error:  # a DomainError with a translated message
        raise ValidationError(str(getattr(error, "message", error))) from None


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Email or name"), validators=[Length(max=254)], default="")


class EmailForm(FlaskForm):
    class Meta:
        csrf = False

    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=254)])


class MergeSearchForm(FlaskForm):
    """Step one of a merge: which record goes into this one."""

    class Meta:
        csrf = False

    into = HiddenField(validators=[DataRequired(), Length(max=254)])
    source = StringField(
        _l("Email of the record to merge into this one"),
        validators=[DataRequired(), Length(max=254)],
    )


class ReasonMixin:
    reason = TextAreaField(
        _l("Reason (kept in the audit log)"),
        validators=[DataRequired(_l("Please give the reason.")), Length(max=500), _plain],
    )


class MergeForm(ReasonMixin, FlaskForm):
    into = HiddenField(validators=[DataRequired(), Length(max=254)])
    source = HiddenField(validators=[DataRequired(), Length(max=254)])
    confirm = BooleanField(
        _l("I have checked that both records are the same person"),
        validators=[DataRequired(_l("Please confirm."))],
    )


class EraseForm(ReasonMixin, FlaskForm):
    email = HiddenField(validators=[DataRequired(), Length(max=254)])
    confirm = BooleanField(
        _l("I understand that this cannot be undone"),
        validators=[DataRequired(_l("Please confirm."))],
    )
