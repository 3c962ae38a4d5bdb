"""The shop's HTML forms (the JSON API has its schemas)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from core.address import PROVINCES, countries
from core.forms import MoneyField, OptionsOnce
from core.validators import EmailAddress
from shop.cart import MAX_QUANTITY


class AddToCartForm(FlaskForm):
    product_id = HiddenField()
    quantity = IntegerField(
        _l("Copies"),
        default=1,
        validators=[
            InputRequired(_l("Please enter a number of copies.")),
            NumberRange(1, MAX_QUANTITY, _l("Please enter between 1 and %(max)s copies.")),
        ],
    )
    submit = SubmitField(_l("Add to cart"))


class UpdateCartForm(FlaskForm):
    product_id = HiddenField()
    quantity = IntegerField(
        _l("Copies"),
        validators=[
            InputRequired(_l("Please enter a number of copies.")),
            NumberRange(0, MAX_QUANTITY, _l("Please enter between 0 and %(max)s copies.")),
        ],
    )


class CheckoutForm(FlaskForm):
    email = StringField(
        _l("Email"),
        validators=[InputRequired(_l("Please enter your email address.")), EmailAddress()],
    )
    name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    address_line1 = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    address_line2 = StringField(
        _l("Apartment, suite (optional)"), validators=[Optional(), Length(max=200)]
    )
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    province = SelectField(
        _l("Province or territory"),
        choices=[SelectChoice("", "—")] + [SelectChoice(code, name) for code, name in PROVINCES],
        validators=[Optional()],
        default="",
    )
    region = StringField(
        _l("State or region (outside Canada)"), validators=[Optional(), Length(max=50)]
    )
    postal_code = StringField(_l("Postal code"), validators=[Optional(), Length(max=20)])
    country = SelectField(_l("Country"), default="CA", widget=OptionsOnce())
    #: Only with a membership in the cart and nobody signed in: the account it is kept in.
    password = PasswordField(
        _l("A password for your account"), validators=[Optional(), Length(max=200)]
    )
    review = SubmitField(_l("Show the total"))
    pay = SubmitField(_l("Pay with card"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = countries()


class CancelOrderForm(FlaskForm):
    submit = SubmitField(_l("Cancel this order"))


class ExtrasForm(FlaskForm):
    gift_amount = MoneyField(_l("A gift, in dollars (optional)"), validators=[Optional()])
    fund = SelectField(_l("Fund"), validators=[Optional()])
    tier = SelectField(_l("A membership, paid once (optional)"), validators=[Optional()])
    add = SubmitField(_l("Add to cart"))
    remove_gift = SubmitField(_l("Remove the gift"))
    remove_membership = SubmitField(_l("Remove the membership"))

    def __init__(self, *args, funds=(), tiers=(), language="en", **kwargs):
        super().__init__(*args, **kwargs)
        self.fund.choices = [(f.slug, f.name(language)) for f in funds]
        self.tier.choices = [("", "—")] + [
            (t.slug, t.name(language)) for t in tiers if not t.lifetime
        ]
