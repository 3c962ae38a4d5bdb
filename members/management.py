"""What staff do to memberships: grants, offline dues, cancelling, reinstating, prices."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import audit, clock
from core.accounts.models import User
from core.accounts.services import (
    find_user,
)
from core.db import db
from core.errors import Conflict, ValidationError
from core.mail.services import normalise_email
from core.urls import absolute_url
from members import dates
from members.autorenew import recurring_payment, turn_auto_renew_off
from members.models import (
    OFFLINE_METHODS,
    Dues,
    DuesMethod,
    DuesStatus,
    Membership,
    MembershipStatus,
    membership_states,
)
from members.pricing import tax_percent
from members.services import apply_term, held_membership, lock_membership, refuse_join
from members.validation import text_problem
from payments import services as payments


def membership_for(user, tier):
    membership = held_membership(user)
    if membership is None:
        membership = Membership(
            user=user,
            tier=tier,
            status=MembershipStatus.pending,
            price=tier.price,
            mailing_name=user.name,
        )
        db.session.add(membership)
        db.session.flush()
    return membership


def grant(user, tier, *, honorary, ends_on, note, granted_by):
    """A complimentary (until ``ends_on``) or honorary (no end) membership; nothing is paid."""
    if not note.strip():
        raise ValidationError(_l("Please say why the membership is granted."), field="note")
    today = dates.today()
    if not honorary and (ends_on is None or ends_on < today):
        raise ValidationError(_l("Please give an end date from today on."), field="ends_on")
    membership = membership_for(user, tier)
    if membership.auto_renew:
        raise Conflict(_l("Turn auto-renew off before granting a membership."))
    dues = Dues(
        membership=membership,
        tier=tier,
        status=DuesStatus.paid,
        method=DuesMethod.honorary if honorary else DuesMethod.complimentary,
        amount=0,
        received_at=clock.now(),
        reference=note.strip()[:100],
        ends_on=None if honorary else ends_on,
        recorded_by_id=granted_by.id if granted_by else None,
        language=user.language,
    )
    db.session.add(dues)
    db.session.flush()
    term = apply_term(membership, dues, on=today)
    audit.record(
        "membership.granted",
        membership,
        data={
            "kind": dues.method.value,
            "tier": tier.slug,
            "ends_on": ends_on.isoformat() if ends_on and not honorary else None,
            "note": note.strip(),
            "term_from": term.starts_on.isoformat(),
        },
    )
    return dues


def record_offline_dues(user, tier, *, amount, method, received_on, reference, recorded_by):
    """Dues paid by cheque, e-Transfer or cash, with the same receipt or acknowledgement."""
    from members import receipting

    method = DuesMethod(method)
    if method not in OFFLINE_METHODS:
        raise ValidationError(_l("Please choose how the dues were paid."), field="method")
    if amount <= 0:
        raise ValidationError(_l("The amount must be more than zero."), field="amount")
    if received_on > dates.today():
        raise ValidationError(_l("The date received cannot be in the future."), field="received_on")
    membership = membership_for(user, tier)
    if membership.auto_renew:
        raise Conflict(_l("This member renews automatically; turn auto-renew off first."))
    refuse_join(membership, user, tier, auto_renew=False)
    tax = 0
    percent = tax_percent(tier, province=membership.province, country=membership.country)
    if percent:
        tax = amount - (amount * 100 + (100 + percent) // 2) // (100 + percent)
    dues = Dues(
        membership=membership,
        tier=tier,
        status=DuesStatus.paid,
        method=method,
        amount=amount,
        tax=tax,
        advantage=min(tier.advantage, amount - tax),
        received_at=dates.local_noon(received_on),
        reference=reference.strip()[:100],
        recorded_by_id=recorded_by.id if recorded_by else None,
        language=user.language,
    )
    db.session.add(dues)
    db.session.flush()
    apply_term(membership, dues, on=received_on)
    audit.record(
        "dues.offline_recorded",
        dues,
        data={"amount": amount, "method": method.value, "received_on": received_on.isoformat()},
    )
    receipting.acknowledge(dues)
    return dues


def cancel(membership, reason):
    """End a membership now (at the member's request); auto-renew stops too."""
    if not reason.strip():
        raise ValidationError(_l("Please give the reason."), field="reason")
    turn_auto_renew_off(membership)
    membership_states.move(membership, MembershipStatus.cancelled, data={"reason": reason.strip()})
    return membership


def reinstate(membership, reason):
    """Lift a suspension: the membership takes the status its dates give it."""
    if membership.status != MembershipStatus.suspended:
        raise Conflict(_l("Only a suspended membership can be reinstated."))
    target = dates.status_on(membership.ends_on, dates.today())
    membership_states.move(membership, target, data={"reason": reason.strip()})
    return membership


def person_for_staff(*, email, name, language):
    """The account staff record dues or a grant for: found by email, or made without a password.

    A new account gets the imported members' email with a link to choose a password.
    Returns ``(user, created)``.
    """
    from members.imports import UNSET_PREFIX, send_set_password

    problem = text_problem(name)
    if problem:
        raise ValidationError(problem, field="name")
    user = find_user(email)
    if user is not None:
        return user, False
    import secrets

    user = User(
        email=normalise_email(email),
        password_hash=UNSET_PREFIX + secrets.token_urlsafe(18),
        name=name.strip(),
        language=language if language in ("en", "fr") else "en",
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", user, data={"by": "staff", "for": "membership"})
    send_set_password(user)
    return user, True


def auto_renewals_to_reprice(tier):
    """Auto-renewing memberships of ``tier`` that still charge another price than the tier's."""
    return db.session.scalars(
        sa.select(Membership)
        .where(
            Membership.tier_id == tier.id,
            Membership.auto_renew.is_(True),
            Membership.recurring_payment_id.is_not(None),
            Membership.price != tier.price,
        )
        .order_by(Membership.id)
    ).all()


def apply_price_to_auto_renewals(tier):
    """Charge the tier's current price from each auto-renewal's next renewal, with notice.

    Nothing changes for a renewal already paid; the member is emailed the new price and
    the date it applies, and may turn auto-renew off before then.
    """
    from core.mail.services import queue_email

    changed = 0
    for membership in auto_renewals_to_reprice(tier):
        series = recurring_payment(membership)
        if series is None:
            continue
        previous = membership.price
        payments.change_recurring_amount(series, tier.price)
        membership = lock_membership(membership.id)
        membership.price = tier.price
        audit.record(
            "membership.price_changed",
            membership,
            data={"from": previous, "to": tier.price, "from_renewal_on": str(membership.renews_on)},
        )
        user = membership.user
        queue_email(
            user.email,
            "members/price_change",
            subject=_l("The price of your membership renewal is changing"),
            language=user.language,
            context={
                "membership": membership,
                "tier_name": tier.name(user.language),
                "old_price": previous,
                "new_price": tier.price,
                "renews_on": membership.renews_on or membership.ends_on,
                "account_url": absolute_url("members.account"),
            },
        )
        changed += 1
    return changed


def save_settings(*, grace_days, receipt_dues):
    from core.settings import set_setting

    if not 0 <= grace_days <= 365:
        raise ValidationError(
            _l("Please give a number of days between 0 and 365."), field="grace_days"
        )
    set_setting("members.grace_days", int(grace_days))
    set_setting("members.receipt_dues", bool(receipt_dues))
