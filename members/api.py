"""The JSON API for tiers and memberships, version 1."""

import functools
import hashlib
import json

import sqlalchemy as sa
from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from core.api import ErrorSchema, idempotency_key, idempotency_key_doc
from core.db import db
from core.errors import DomainError, KeyReused
from core.extensions import limiter
from members import household, services
from members.models import Dues
from members.schemas import (
    MembershipCheckoutSchema,
    MembershipRequestSchema,
    MyMembershipSchema,
    TierSchema,
)

blp = Blueprint("members_api", __name__, url_prefix="/api/v1", description="Memberships.")


class SignInRequired(DomainError):
    status = 401
    code = "sign_in_required"
    default_message = _l("Please sign in first.")


def sign_in_first(view):
    """Refuse a visitor before the body is read: they learn that they must sign in, not what
    the body lacks."""

    @functools.wraps(view)
    def signed_in_only(*args, **kwargs):
        if not current_user.is_authenticated:
            raise SignInRequired()
        return view(*args, **kwargs)

    return signed_in_only


@blp.route("/tiers", methods=["GET"])
@blp.response(200, TierSchema(many=True))
def tiers():
    """The membership tiers on offer, with their prices in cents."""
    return services.active_tiers()


@blp.route("/me/membership", methods=["GET"])
@blp.response(200, MyMembershipSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in.")
def my_membership():
    """The signed-in person's membership (their own or their household's), or null."""
    if not current_user.is_authenticated:
        raise SignInRequired()
    membership = services.membership_of(current_user)
    return {"membership": membership_body(membership) if membership is not None else None}


def membership_body(membership):
    from members import dates

    return {
        "status": membership.status.value,
        "in_good_standing": membership.in_good_standing,
        "tier": membership.tier.slug,
        "started_on": membership.started_on,
        "ends_on": membership.ends_on,
        "grace_ends_on": dates.grace_ends_on(membership.ends_on) if membership.ends_on else None,
        "auto_renew": membership.auto_renew,
        "renews_on": membership.renews_on,
        "mondial_format": membership.mondial_format.value,
        "holder": membership.user_id == current_user.id,
        "household": [
            {"name": h.name, "email": h.email, "accepted": h.accepted_at is not None}
            for h in household.members_of(membership)
        ],
    }


def _digest(body):
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _reply(dues):
    return {
        "checkout_url": services.checkout_url(dues),
        "dues_id": dues.id,
        "expires_at": services.checkout_expires_at(dues),
    }


def _earlier(key):
    return db.session.scalar(
        sa.select(Dues).where(Dues.requested_by_id == current_user.id, Dues.idempotency_key == key)
    )


@blp.route("/memberships", methods=["POST"])
@sign_in_first
@limiter.limit("30 per hour")
@blp.arguments(MembershipRequestSchema)
@blp.response(201, MembershipCheckoutSchema)
@blp.doc(
    **idempotency_key_doc(
        "the same key and body return the same checkout; the same key with another body is a 422."
    )
)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in.")
@blp.alt_response(409, schema=ErrorSchema, description="Auto-renew is on, or nothing to renew.")
@blp.alt_response(
    429, schema=ErrorSchema, description="Too many memberships started from this address."
)
@blp.alt_response(415, schema=ErrorSchema, description="The body is not JSON.")
@blp.alt_response(
    422, schema=ErrorSchema, description="Invalid fields, or an Idempotency-Key reused."
)
@blp.alt_response(503, schema=ErrorSchema, description="Stripe did not answer; nothing charged.")
def create_membership(data):
    """Join or renew for the signed-in account; send the member to `checkout_url`."""
    key = idempotency_key()
    body = request.get_json(silent=True)
    digest = _digest(body)
    if key:
        earlier = _earlier(key)
        if earlier is not None:
            if earlier.request_digest != digest:
                raise KeyReused()
            return _reply(earlier)
    mailing = data["mailing"]
    join = services.JoinRequest(
        tier=data["tier"],
        user=current_user,
        auto_renew=data["auto_renew"],
        mondial_format=data["mondial_format"],
        mailing_name=mailing["name"],
        address_line1=mailing["line1"],
        address_line2=mailing["line2"],
        city=mailing["city"],
        province=mailing["province"],
        postal_code=mailing["postal_code"],
        country=mailing["country"],
        language=data["language"],
    )
    try:
        dues = services.start_join(join, idempotency_key=key or None, request_digest=digest)
    except sa.exc.IntegrityError:
        # The same key, sent twice at once: the other request stored it first.
        db.session.rollback()
        earlier = _earlier(key)
        if earlier is None or earlier.request_digest != digest:
            raise KeyReused() from None
        return _reply(earlier)
    except DomainError:
        db.session.rollback()
        raise
    reply = _reply(dues)
    db.session.commit()
    return reply
