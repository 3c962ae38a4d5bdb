"""The JSON API for funds and gifts, version 1 (registered by the app factory)."""

from flask_smorest import Blueprint

from core import cache
from core.api import ErrorSchema
from core.extensions import limiter
from donations import gifts
from donations.caching import FUND_PAGES
from donations.schemas import CheckoutSchema, DonationRequestSchema, FundSchema

blp = Blueprint("donations_api", __name__, url_prefix="/api/v1", description="Funds and gifts.")


@blp.route("/funds", methods=["GET"])
@blp.response(200, FundSchema(many=True))
@cache.page(depends=FUND_PAGES)
def funds():
    """The funds a gift may go to, with what each has raised.

    Names and descriptions follow `?lang=` or Accept-Language; both names are given too.
    """
    raised = gifts.raised_by_fund()
    return [{"fund": fund, "raised": raised.get(fund.id, 0)} for fund in gifts.active_funds()]


@blp.route("/donations", methods=["POST"])
@limiter.limit("30 per hour")
@blp.arguments(DonationRequestSchema)
@blp.response(201, CheckoutSchema)
@blp.alt_response(400, schema=ErrorSchema, description="Malformed JSON, or text with a NUL.")
@blp.alt_response(415, schema=ErrorSchema, description="The body is not JSON.")
@blp.alt_response(429, schema=ErrorSchema, description="Too many gifts from this address.")
@blp.alt_response(
    503,
    schema=ErrorSchema,
    description="Stripe did not answer (`payment_provider_unavailable`). Nothing was "
    "charged; the attempt is kept.",
)
def create_donation(gift):
    """Start a gift and its Stripe Checkout; send the donor to `checkout_url`."""
    donation = gifts.start_donation(gift)
    url = gifts.open_checkout(donation)
    expires_at = gifts.checkout_expires_at(donation)
    return {"checkout_url": url, "donation_id": donation.id, "expires_at": expires_at}
