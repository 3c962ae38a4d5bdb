from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from core.accounts.services import MAX_PASSWORD, MIN_PASSWORD
from core.validators import EmailAddress, PlainText

_email = [DataRequired(), EmailAddress(), Length(max=254)]
_new_password = [
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
]


class RegisterForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200), PlainText()])
    email = EmailField(_l("Email"), validators=_email)
    password = PasswordField(_l("Password"), validators=_new_password)
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    language = SelectField(
        _l("Preferred language"),
        choices=[SelectChoice("en", "English"), SelectChoice("fr", "Français")],
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=_email)
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class ResendVerificationForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("Email"), validators=_email)


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=_new_password)
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(_l("New password"), validators=_new_password)
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ChangeEmailForm(FlaskForm):
    email = EmailField(_l("New email address"), validators=_email)
    password = PasswordField(_l("Current password"), validators=[DataRequired()])


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("The 6-digit code from your app, or a recovery code"),
        validators=[DataRequired(), Length(max=20)],
    )


class SecondFactorSetupForm(FlaskForm):
    code = StringField(
        _l("The 6-digit code your app shows"), validators=[DataRequired(), Length(max=10)]
    )
