"""Forms of the shop's staff screens."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, NumberRange, Optional


class ShipForm(FlaskForm):
    tracking_number = StringField(_l("Tracking number"), validators=[Optional(), Length(max=100)])
    submit = SubmitField(_l("Mark shipped and tell the buyer"))


class ReshipForm(FlaskForm):
    line = IntegerField(_l("Line"), validators=[InputRequired()])
    copies = IntegerField(_l("Copies"), default=1, validators=[InputRequired(), NumberRange(1, 20)])
    submit = SubmitField(_l("Send a copy again"))


class RefundForm(FlaskForm):
    restock = BooleanField(_l("Put the copies back on sale"))
    submit = SubmitField(_l("Refund the chosen copies"))


class ResendForm(FlaskForm):
    submit = SubmitField(_l("Send the download links again"))


class SendIssueForm(FlaskForm):
    submit = SubmitField(_l("Email the digital copies"))


class ShopSettingsForm(FlaskForm):
    checkout_minutes = IntegerField(
        _l("Minutes a checkout holds the copies (31 to 1430)"),
        validators=[InputRequired(), NumberRange(31, 1430)],
    )
    download_days = IntegerField(
        _l("Days a download link works"), validators=[InputRequired(), NumberRange(1, 365)]
    )
    download_limit = IntegerField(
        _l("Downloads per link"), validators=[InputRequired(), NumberRange(1, 100)]
    )
    submit = SubmitField(_l("Save"))
