"""The public forms: signing a letter, commenting, volunteering."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from core.address import POSTAL_CODE, POSTAL_CODE_MESSAGE

NEWS_CONSENT_WORDING = _l(
    "Yes, send me news by email: campaigns, new issues of Mondial and events. "
    "I can unsubscribe at any time."
)

LANGUAGES = [
    SelectChoice("en", _l("English")),
    SelectChoice("fr", _l("French")),
    SelectChoice("other", _l("Another language")),
]
INTERESTS = [
    SelectChoice("events", _l("Events")),
    SelectChoice("writing", _l("Writing")),
    SelectChoice("translation", _l("Translation")),
    SelectChoice("social_media", _l("Social media")),
    SelectChoice("mondial_distribution", _l("Mondial distribution")),
]
AVAILABILITY = [
    SelectChoice("weekdays", _l("Weekdays")),
    SelectChoice("evenings", _l("Evenings")),
    SelectChoice("weekends", _l("Weekends")),
    SelectChoice("occasional", _l("Now and then, for one-off tasks")),
]


def normalise_postal_code(text):
    """``k1a0b1`` or ``K1A 0B1`` as ``K1A 0B1``."""
    compact = re.sub(r"\s+", "", text or "").upper()
    return f"{compact[:3]} {compact[3:]}" if len(compact) == 6 else compact


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class HoneypotMixin:
    """A field that people never see or fill in, and that form-filling robots do."""

    website = StringField(_l("Leave this field empty"), validators=[Optional()])

    @property
    def is_robot(self):
        return bool((self.website.data or "").strip())


def _name_field(label, max_length=200):
    return StringField(
        label,
        validators=[
            DataRequired(message=_l("Please enter your name.")),
            Length(max=max_length, message=_l("Please keep to %(max)d characters.")),
        ],
    )


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _email_field():
    return EmailField(
        _l("Email"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Please enter your email address.")),
            Email(message=_l("Please enter a valid email address."), check_deliverability=False),
            Length(max=254, message=_l("Please keep to %(max)d characters.")),
        ],
    )


class SignForm(HoneypotMixin, FlaskForm):
    name = _name_field(_l("Full name"))
    email = _email_field()
    postal_code = StringField(
        _l("Postal code"),
        filters=[_strip],
        validators=[DataRequired(message=_l("Please enter your postal code."))],
    )
    personal_message = TextAreaField(
        _l("Your own paragraph (optional)"),
        validators=[
            Optional(),
            Length(max=2000, message=_l("Please keep to %(max)d characters.")),
        ],
    )
    news_consent = BooleanField(NEWS_CONSENT_WORDING)

    def validate_postal_code(self, field):
        if not POSTAL_CODE.match(normalise_postal_code(field.data)):
            raise ValidationError(str(POSTAL_CODE_MESSAGE))


class CommentForm(HoneypotMixin, FlaskForm):
    class Meta:
        # Shown beside the signing form with a prefix; CSRFProtect checks the token of
        # every POST before the view runs, so the form need not carry its own.
        csrf = False

    name = _name_field(_l("Name"), max_length=100)
    email = _email_field()
    body = TextAreaField(
        _l("Comment"),
        validators=[
            DataRequired(message=_l("Please write your comment.")),
            Length(max=5000, message=_l("Please keep to %(max)d characters.")),
        ],
    )


class VolunteerForm(HoneypotMixin, FlaskForm):
    name = _name_field(_l("Full name"))
    email = _email_field()
    phone = StringField(
        _l("Phone (optional)"),
        validators=[Optional(), Length(max=40, message=_l("Please keep to %(max)d characters."))],
    )
    languages = MultiCheckboxField(_l("Languages you work in"), choices=LANGUAGES)
    interests = MultiCheckboxField(_l("What you would like to help with"), choices=INTERESTS)
    availability = MultiCheckboxField(_l("When you are available"), choices=AVAILABILITY)
    message = TextAreaField(
        _l("Anything else we should know (optional)"),
        validators=[
            Optional(),
            Length(max=3000, message=_l("Please keep to %(max)d characters.")),
        ],
    )
    news_consent = BooleanField(NEWS_CONSENT_WORDING)

    def validate_languages(self, field):
        if not field.data:
            raise ValidationError(_l("Please choose at least one language."))

    def validate_interests(self, field):
        if not field.data:
            raise ValidationError(_l("Please choose at least one way to help."))

    def validate_availability(self, field):
        if not field.data:
            raise ValidationError(_l("Please tell us when you are available."))
