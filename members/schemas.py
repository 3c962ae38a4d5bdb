"""The JSON API's bodies for tiers and memberships."""

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from core.address import address_problems
from core.api import ApiSchema, Choice, Flag, Object, Text
from core.errors import NotFound
from core.i18n import current_language
from members import services
from members.validation import text_problem

LANGUAGES = ("en", "fr")


class TierSchema(ma.Schema):
    slug = ma.fields.String(required=True)
    name = ma.fields.Function(
        lambda tier: tier.name(current_language()),
        required=True,
        metadata={"type": "string", "description": "In the requested language."},
    )
    name_en = ma.fields.String(required=True)
    name_fr = ma.fields.String(required=True)
    description = ma.fields.Function(
        lambda tier: tier.description(current_language()),
        required=True,
        metadata={"type": "string", "description": "What the tier includes."},
    )
    price = ma.fields.Integer(
        required=True, metadata={"description": "Cents per year, or once for a lifetime tier."}
    )
    lifetime = ma.fields.Boolean(required=True, metadata={"description": "Paid once, no end."})
    adults = ma.fields.Integer(
        required=True, metadata={"description": "Adults the membership counts, each signing in."}
    )
    mondial_print = ma.fields.Boolean(required=True)
    mondial_digital = ma.fields.Boolean(required=True)
    advantage = ma.fields.Integer(
        required=True,
        metadata={"description": "Cents: fair market value of the benefits (used on receipts)."},
    )
    taxable = ma.fields.Boolean(
        required=True, metadata={"description": "GST/HST is added for the member's province."}
    )


class HouseholdAdultSchema(ma.Schema):
    name = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    accepted = ma.fields.Boolean(required=True)


class MembershipSchema(ma.Schema):
    """Dumped from the dict :func:`members.api.membership_body` builds."""

    status = ma.fields.String(
        required=True,
        metadata={
            "enum": ["pending", "current", "grace", "expired", "lapsed", "cancelled", "suspended"]
        },
    )
    in_good_standing = ma.fields.Boolean(required=True)
    tier = ma.fields.String(required=True)
    started_on = ma.fields.Date(allow_none=True, required=True)
    ends_on = ma.fields.Date(
        allow_none=True, required=True, metadata={"description": "null: no end (life, honorary)."}
    )
    grace_ends_on = ma.fields.Date(allow_none=True, required=True)
    auto_renew = ma.fields.Boolean(required=True)
    renews_on = ma.fields.Date(
        allow_none=True, required=True, metadata={"description": "The next automatic charge."}
    )
    mondial_format = ma.fields.String(
        required=True, metadata={"enum": ["print", "digital", "none"]}
    )
    holder = ma.fields.Boolean(
        required=True, metadata={"description": "false for a household's second adult."}
    )
    household = ma.fields.List(ma.fields.Nested(HouseholdAdultSchema), required=True)


class MyMembershipSchema(ma.Schema):
    membership = ma.fields.Nested(MembershipSchema, allow_none=True, required=True)


class MembershipCheckoutSchema(ma.Schema):
    checkout_url = ma.fields.Url(
        required=True, metadata={"description": "Stripe Checkout's page: send the member there."}
    )
    dues_id = ma.fields.Integer(required=True)
    expires_at = ma.fields.AwareDateTime(
        required=True, metadata={"description": "When the Checkout page stops taking payment."}
    )


class TierSlug(Text):
    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {"required": _l("Please choose a membership.")})
        super().__init__(60, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        slug = super()._deserialize(value, attr, data, **kwargs)
        try:
            return services.tier_by_slug(slug)
        except NotFound:
            raise ma.ValidationError(_l("There is no such membership.")) from None


class PlainText(Text):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text)
        if problem:
            raise ma.ValidationError(problem)
        return text


class MailingSchema(ApiSchema):
    name = PlainText(200, load_default="")
    line1 = PlainText(200, load_default="")
    line2 = PlainText(200, load_default="")
    city = PlainText(100, load_default="")
    province = PlainText(50, load_default="")
    postal_code = PlainText(20, load_default="")
    country = Text(2, load_default="CA", metadata={"description": "ISO 3166 two-letter code."})

    @ma.validates_schema(skip_on_field_errors=True)
    def _canadian(self, data, **kwargs):
        if not data.get("line1"):
            return  # no address: fine for digital; start_join refuses print without one
        problems = address_problems(
            province=data.get("province"),
            postal_code=data.get("postal_code"),
            country=data.get("country"),
        )
        if problems:
            raise ma.ValidationError({k: [str(v)] for k, v in problems.items()})


class MembershipRequestSchema(ApiSchema):
    """A join or renewal for the signed-in account."""

    tier = TierSlug(required=True)
    auto_renew = Flag(
        load_default=False, metadata={"description": "Renew every year until stopped."}
    )
    mondial_format = Choice(("print", "digital", "none"), load_default="print")
    mailing = Object(
        MailingSchema,
        load_default=dict,
        metadata={"description": "Where Mondial is mailed; required for print."},
    )
    language = Choice(LANGUAGES, load_default=current_language)

    @ma.post_load
    def _fill_mailing(self, data, **kwargs):
        mailing = data["mailing"] or {}
        for key, default in (
            ("name", ""),
            ("line1", ""),
            ("line2", ""),
            ("city", ""),
            ("province", ""),
            ("postal_code", ""),
            ("country", "CA"),
        ):
            mailing.setdefault(key, default)
        data["mailing"] = mailing
        return data
