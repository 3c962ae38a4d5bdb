"""The JSON API for funds and gifts, version 1 (registered by the app factory)."""

import hashlib
import json

import sqlalchemy as sa
from flask import request
from flask_smorest import Blueprint

from core import cache
from core.api import ErrorSchema, idempotency_key, idempotency_key_doc
from core.db import db
from core.extensions import limiter
from donations import gifts
from donations.caching import FUND_PAGES
from donations.schemas import CheckoutSchema, DonationRequestSchema, FundSchema

#: Stripe's own limit for an Idempotency-Key.


def _digest(body):
    """What the request asked, whatever the order of its keys."""
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


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
@blp.alt_response(
    422, schema=ErrorSchema, description="Invalid fields, or an Idempotency-Key reused."
)
@blp.alt_response(429, schema=ErrorSchema, description="Too many gifts from this address.")
@blp.doc(
    **idempotency_key_doc(
        "the same key and body return the same gift and checkout; "
        "the same key with another body is a 422."
    )
)
@blp.alt_response(
    503,
    schema=ErrorSchema,
    description="Stripe did not answer (`payment_provider_unavailable`). Nothing was "
    "charged; the attempt is kept.",
)
def create_donation(gift):
    """Start a gift and its Stripe Checkout; send the donor to `checkout_url`.

    With an `Idempotency-Key` header a retry is safe: the same key and body return the same
    gift and checkout (a 503 retried opens the same checkout); the same key with another
    body is a 422.
    """
    key = idempotency_key()
    donation = None
    if key:
        gift.idempotency_key, gift.request_digest = key, _digest(request.get_json())
        donation = gifts.gift_for_key(key, gift.request_digest)
    if donation is None:
        try:
            donation = gifts.start_donation(gift)
        except sa.exc.IntegrityError:
            # The same key, sent twice at once: the other request stored its gift first.
            db.session.rollback()
            donation = gifts.gift_for_key(key, gift.request_digest) if key else None
            if donation is None:
                raise
    url = gifts.open_checkout(donation)
    expires_at = gifts.checkout_expires_at(donation)
    return {"checkout_url": url, "donation_id": donation.id, "expires_at": expires_at}
