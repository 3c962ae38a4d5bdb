"""The JSON API's bodies for products, the cart and checkout."""

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from core.api import ApiSchema, Choice, Email, Text
from core.i18n import current_language
from shop.cart import MAX_QUANTITY

LANGUAGES = ("en", "fr")

# -- out ------------------------------------------------------------------------------------


class ProductSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    kind = ma.fields.Function(lambda p: p.kind.value, metadata={"enum": ["issue", "subscription"]})
    format = ma.fields.Function(lambda p: p.format.value, metadata={"enum": ["print", "digital"]})
    title = ma.fields.Function(
        lambda p: p.title(current_language()),
        metadata={"type": "string", "description": "In the requested language."},
    )
    title_en = ma.fields.String()
    title_fr = ma.fields.String()
    issue_number = ma.fields.Integer(allow_none=True)
    season = ma.fields.String()
    year = ma.fields.Integer(allow_none=True)
    published_on = ma.fields.Date(allow_none=True)
    edition = ma.fields.String(metadata={"description": "The edition's language, en or fr."})
    contents = ma.fields.Function(
        lambda p: p.contents(current_language()), metadata={"type": "string"}
    )
    price = ma.fields.Integer(required=True, metadata={"description": "Cents, before tax."})
    stock = ma.fields.Integer(
        allow_none=True, metadata={"description": "Copies left; null when it never runs out."}
    )
    sold_out = ma.fields.Boolean(required=True)
    weight_grams = ma.fields.Integer()


class CartLineSchema(ma.Schema):
    product_id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    quantity = ma.fields.Integer(required=True)
    unit_price = ma.fields.Integer(required=True, metadata={"description": "Cents."})
    amount = ma.fields.Integer(required=True, metadata={"description": "Cents."})


class CartSchema(ma.Schema):
    lines = ma.fields.List(ma.fields.Nested(CartLineSchema), required=True)
    subtotal = ma.fields.Integer(
        required=True,
        metadata={"description": "Cents; shipping and tax are added at checkout."},
    )


class OrderCheckoutSchema(ma.Schema):
    checkout_url = ma.fields.Url(
        required=True, metadata={"description": "Stripe Checkout's page: send the buyer there."}
    )
    order = ma.fields.String(required=True, metadata={"description": "The order's number."})
    order_url = ma.fields.Url(required=True, metadata={"description": "The buyer's order page."})
    subtotal = ma.fields.Integer(required=True)
    shipping = ma.fields.Integer(required=True)
    tax = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
    expires_at = ma.fields.AwareDateTime(
        required=True,
        metadata={
            "description": "When the checkout stops taking payment; copies are held till then."
        },
    )


# -- in -------------------------------------------------------------------------------------


class Quantity(ma.fields.Integer):
    default_error_messages = {
        "invalid": _l("Please send a whole number of copies."),
        "required": _l("This field is required."),
    }

    def __init__(self, low, **kwargs):
        self.low = low
        super().__init__(
            strict=True,
            validate=ma.validate.Range(
                low,
                MAX_QUANTITY,
                error=_l(
                    "Please send between %(low)s and %(high)s copies.", low=low, high=MAX_QUANTITY
                ),
            ),
            **kwargs,
        )


class AddItemSchema(ApiSchema):
    product_id = ma.fields.Integer(
        strict=True, required=True, error_messages={"invalid": _l("Please send a product id.")}
    )
    quantity = Quantity(1, load_default=1)


class SetQuantitySchema(ApiSchema):
    quantity = Quantity(0, required=True)


class ShipToSchema(ApiSchema):
    name = Text(200, load_default="")
    line1 = Text(200, load_default="")
    line2 = Text(200, load_default="")
    city = Text(100, load_default="")
    province = Text(50, load_default="", metadata={"description": "Province code in Canada."})
    postal_code = Text(20, load_default="")
    country = Text(2, load_default="CA", metadata={"description": "ISO 3166 code."})


class CheckoutRequestSchema(ApiSchema):
    email = Email(required=True)
    address = ma.fields.Nested(
        ShipToSchema,
        load_default=dict,
        metadata={
            "description": "Where print items are mailed; for a digital-only order, the "
            "province (and country) alone set the sales tax."
        },
    )
    language = Choice(LANGUAGES, load_default="en")
