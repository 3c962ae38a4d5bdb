"""The JSON API's bodies for funds and gifts, checked as the donate form checks them."""

from collections.abc import Mapping

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from core import address as person
from core.api import ApiSchema, Choice, Email, Flag, Object, Text
from core.errors import NotFound
from core.i18n import current_language
from core.money import InvalidAmount, parse_amount
from core.validators import plain_text
from donations import gifts, settings

LANGUAGES = ("en", "fr")


# -- out ------------------------------------------------------------------------------------


class FundSchema(ma.Schema):
    """A fund and what it has raised; dumped from ``{"fund": Fund, "raised": cents}``."""

    slug = ma.fields.String(attribute="fund.slug", required=True)
    name = ma.fields.Function(
        lambda row: row["fund"].name(current_language()),
        required=True,
        metadata={
            "type": "string",
            "description": "In the requested language (`?lang=` or Accept-Language).",
        },
    )
    name_en = ma.fields.String(attribute="fund.name_en", required=True)
    name_fr = ma.fields.String(attribute="fund.name_fr", required=True)
    description = ma.fields.Function(
        lambda row: row["fund"].description(current_language()),
        required=True,
        metadata={"type": "string", "description": "In the requested language."},
    )
    goal = ma.fields.Integer(
        attribute="fund.goal",
        allow_none=True,
        required=True,
        metadata={"description": "Cents, or null when the fund has no goal."},
    )
    raised = ma.fields.Integer(
        required=True,
        metadata={"description": "Cents given to the fund, less refunds and charge-backs."},
    )


class CheckoutSchema(ma.Schema):
    checkout_url = ma.fields.Url(
        required=True, metadata={"description": "Stripe Checkout's page: send the donor there."}
    )
    donation_id = ma.fields.Integer(required=True)
    expires_at = ma.fields.AwareDateTime(
        required=True, metadata={"description": "When the Checkout page stops taking payment."}
    )


# -- in -------------------------------------------------------------------------------------


class Amount(ma.fields.Field):
    """Dollars as typed ("25", "10.50", "10,50") or a JSON number; loads as cents."""

    default_error_messages = {
        "required": _l("Please enter an amount."),
        "null": _l("Please enter an amount."),
    }

    def __init__(self, **kwargs):
        metadata = {
            "type": ["string", "number"],
            "description": 'Dollars, e.g. "25", "10.50", "10,50" (French) or 25.5; '
            "within the limits staff set.",
            "example": "25.00",
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        # "1,000" is a thousand in English and one dollar in French: follow the donor.
        language = data.get("language") if isinstance(data, Mapping) else None
        if language not in LANGUAGES:
            language = current_language()
        low, high = settings.limits()
        try:
            return parse_amount(value, locale=language, min_cents=low, max_cents=high)
        except InvalidAmount as error:
            raise ma.ValidationError(str(error.message)) from None


class FundSlug(Text):
    """An active fund, given by its slug; loads as the :class:`Fund`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {"required": _l("Please choose a fund.")})
        super().__init__(60, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        slug = super()._deserialize(value, attr, data, **kwargs)
        try:
            return gifts.fund_by_slug(slug)
        except NotFound:
            raise ma.ValidationError(_l("Please choose a fund.")) from None


def _required(message):
    return {"required": message, "null": message}


class AddressSchema(ApiSchema):
    line1 = person.schema_field(person.LINE1)
    line2 = person.schema_field(person.LINE2)
    city = person.schema_field(person.CITY)
    province = person.schema_field(person.PROVINCE)
    postal_code = person.schema_field(person.POSTAL)
    country = Text(
        person.COUNTRY_LENGTH,
        load_default="CA",
        metadata={"description": "ISO 3166 two-letter code.", "default": "CA"},
    )

    @ma.validates_schema(skip_on_field_errors=False)
    def _canadian_address(self, data, **kwargs):
        # The rule the donate form asks, with its messages; a field already refused is skipped.
        if "country" not in data:
            return
        problems = person.address_problems(
            province=data.get("province"),
            postal_code=data.get("postal_code"),
            country=data["country"],
        )
        if problems:
            raise ma.ValidationError({name: [message] for name, message in problems.items()})

    @ma.post_load
    def _normalise(self, data, **kwargs):
        data["country"] = data["country"].upper()
        if data["country"] == "CA":
            data["province"] = data["province"].upper()
        return data


class DonorSchema(ApiSchema):
    name = person.schema_field(person.NAME)
    email = Email(required=True, error_messages=_required(_l("Please enter your email address.")))
    organization_name = person.schema_field(
        person.ORGANIZATION,
        metadata={"description": "For a gift made by a business: the receipt is made out to it."},
    )
    address = Object(AddressSchema, required=True)


class TributeSchema(ApiSchema):
    kind = Choice(("honour", "memory"), required=True)
    name = Text(
        200,
        required=True,
        validate=plain_text,
        error_messages=_required(_l("Please tell us whom the gift honours.")),
    )
    notify_email = Email(
        load_default="", metadata={"description": "Someone to tell about the gift by email."}
    )


class DonationRequestSchema(ApiSchema):
    """A gift; loads as a :class:`donations.gifts.GiftRequest`."""

    amount = Amount(required=True)
    frequency = Choice(("one_time", "monthly"), load_default="one_time")
    fund = FundSlug(required=True)
    cover_fee = Flag(
        load_default=False,
        metadata={"description": "Add the card fee so that the whole gift reaches the fund."},
    )
    anonymous = Flag(load_default=False)
    tribute = Object(TributeSchema, load_default=None, allow_none=True)
    donor = Object(DonorSchema, required=True)
    news_consent = Flag(
        load_default=False,
        metadata={
            "description": "The donor ticked the donate form's news consent box; its wording, "
            "in the donor's language, is what is recorded."
        },
    )
    annual_receipt = Flag(
        load_default=True,
        metadata={"description": "Monthly gifts: one receipt a year instead of one a month."},
    )
    language = Choice(
        LANGUAGES,
        load_default=current_language,
        metadata={
            "description": "For emails, receipts and Checkout; defaults to the request's "
            "language (`?lang=` or Accept-Language)."
        },
    )

    @ma.post_load
    def _gift(self, data, **kwargs):
        donor, address = data["donor"], data["donor"]["address"]
        tribute = data["tribute"] or {}
        return gifts.GiftRequest(
            amount=data["amount"],
            fund=data["fund"],
            monthly=data["frequency"] == "monthly",
            cover_fee=data["cover_fee"],
            anonymous=data["anonymous"],
            tribute_kind=tribute.get("kind"),
            tribute_name=tribute.get("name", ""),
            tribute_notify_email=tribute.get("notify_email", ""),
            donor_name=donor["name"],
            organization_name=donor["organization_name"],
            email=donor["email"],
            address_line1=address["line1"],
            address_line2=address["line2"],
            city=address["city"],
            province=address["province"],
            postal_code=address["postal_code"],
            country=address["country"],
            news_consent=data["news_consent"],
            # One receipt a year is a choice for monthly gifts only.
            annual_receipt=data["annual_receipt"] and data["frequency"] == "monthly",
            language=data["language"],
        )
