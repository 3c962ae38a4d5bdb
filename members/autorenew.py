"""Auto-renew: a membership that renews by itself, once a year, on its saved card."""

from flask_babel import lazy_gettext as _l

from core import audit
from core.db import db
from core.errors import Conflict
from members.models import (
    Dues,
    MembershipStatus,
)
from members.pricing import quote
from members.services import open_dues_checkout
from payments import services as payments
from payments.imported import recurring_started


def recurring_payment(membership):
    from payments.models import Payment

    if membership.recurring_payment_id is None:
        return None
    return db.session.get(Payment, membership.recurring_payment_id)


def can_turn_auto_renew_on(membership):
    return (
        membership is not None
        and not membership.auto_renew
        and membership.status in (MembershipStatus.current, MembershipStatus.grace)
        and membership.ends_on is not None
        and not membership.tier.lifetime
        and membership.tier.active
    )


def turn_auto_renew_on(membership, user):
    """Renew by itself from the current end date on.

    A series stopped but not ended yet is resumed (returns None). Otherwise a checkout is
    started whose first charge is at the end date, so nothing is charged now; nearer than
    48 hours to the end date, or in grace, it charges now for the next term. Returns the
    pending dues of that checkout.
    """
    if not can_turn_auto_renew_on(membership):
        raise Conflict(_l("Auto-renew cannot be turned on for this membership now."))
    series = recurring_payment(membership)
    if series is not None and recurring_started(series) and membership.renews_on is None:
        payments.resume_recurring(series)
        membership.auto_renew = True
        membership.renews_on = membership.ends_on
        audit.record("membership.auto_renew_on", membership, data={"resumed": True})
        return None
    tier = membership.tier
    priced = quote(
        tier,
        membership,
        auto_renew=True,
        province=membership.province,
        country=membership.country,
    )
    dues = Dues(
        membership=membership,
        tier=tier,
        amount=priced.total,
        tax=priced.tax,
        advantage=min(tier.advantage, tier.price),
        auto_renew=True,
        starts_on=priced.term.starts_on,
        ends_on=priced.term.ends_on,
        language=user.language,
    )
    db.session.add(dues)
    db.session.flush()
    open_dues_checkout(dues, user=user, first_charge_on=priced.first_charge_on)
    audit.record(
        "membership.auto_renew_started",
        membership,
        data={"dues": dues.id, "first_charge_on": str(priced.first_charge_on or "now")},
    )
    return dues


def turn_auto_renew_off(membership):
    """Stop renewing at the end of the term paid for; nothing already paid is cut short."""
    if not membership.auto_renew:
        return membership
    series = recurring_payment(membership)
    if series is not None and recurring_started(series):
        payments.stop_recurring(series)
    membership.auto_renew = False
    membership.renews_on = None
    audit.record("membership.auto_renew_off", membership)
    return membership


def card_update_url(membership, return_to):
    """Stripe's page where the member fixes the card their renewals are charged to."""
    series = recurring_payment(membership)
    try:
        if series is None:
            raise LookupError("no series")
        return payments.portal_url(series, return_to)
    except LookupError:
        raise Conflict(_l("There is no card on file for this membership.")) from None
