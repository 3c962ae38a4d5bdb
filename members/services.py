"""Membership verbs: tiers, joining and renewing, the terms paid dues buy.

Prices are in :mod:`members.pricing`, auto-renew in :mod:`members.autorenew`, what staff
do (grants, offline dues, cancelling) in :mod:`members.management`.

Payments happen in ``payments``; what it reports comes back through the handlers in
:mod:`members.handlers`. Verbs flush, never commit: the request or command that calls
them commits once (payments itself commits before it asks Stripe for a checkout).
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from core import audit
from core.accounts.models import User
from core.accounts.services import (
    TooManyEmails,
    authenticate,
    find_user,
    hash_password,
    send_verification,
    validate_password,
)
from core.address import address_problems
from core.db import db, locked
from core.errors import Conflict, NotFound, ValidationError
from core.mail.services import normalise_email
from core.settings import get_setting
from core.urls import absolute_url
from members import dates
from members.models import (
    Dues,
    DuesStatus,
    HouseholdMember,
    Membership,
    MembershipStatus,
    MondialFormat,
    Tier,
    membership_states,
)
from members.pricing import describe_term, quote
from members.validation import text_problem
from payments import services as payments
from payments.imported import recurring_started

PURPOSE = "membership"

SETTING_DEFAULTS = {
    "members.grace_days": dates.DEFAULT_GRACE_DAYS,
    # Receipt the part of dues above the advantage (only with a charity registration number).
    "members.receipt_dues": False,
}


def setting(key):
    return get_setting(key, SETTING_DEFAULTS[key])


# -- tiers -----------------------------------------------------------------------------------


def active_tiers():
    return db.session.scalars(
        sa.select(Tier).where(Tier.active.is_(True)).order_by(Tier.position, Tier.id)
    ).all()


def all_tiers():
    return db.session.scalars(sa.select(Tier).order_by(Tier.position, Tier.id)).all()


def tier_by_slug(slug, *, active_only=True):
    query = sa.select(Tier).where(Tier.slug == slug)
    if active_only:
        query = query.where(Tier.active.is_(True))
    tier = db.session.scalar(query)
    if tier is None:
        raise NotFound()
    return tier


# -- whose membership ------------------------------------------------------------------------


def held_membership(user):
    """The membership this person holds (not one of a household they belong to)."""
    if user is None or not getattr(user, "id", None):
        return None
    return db.session.scalar(sa.select(Membership).where(Membership.user_id == user.id))


def household_place(user):
    """The household invitation this person accepted, if any."""
    return db.session.scalar(
        sa.select(HouseholdMember).where(
            HouseholdMember.user_id == user.id, HouseholdMember.removed_at.is_(None)
        )
    )


def membership_of(user):
    """The membership a person enjoys: their own, or their household's."""
    own = held_membership(user)
    if own is not None:
        return own
    place = household_place(user)
    return place.membership if place is not None else None


def lock_membership(membership_id):
    return locked(sa.select(Membership).where(Membership.id == membership_id)).first()


def lock_dues(dues_id):
    return locked(sa.select(Dues).where(Dues.id == dues_id)).first()


# -- an account as part of joining -----------------------------------------------------------


class AddressInUse(ValidationError):
    code = "email_taken"
    default_message = _l(
        "An account already uses this email address. Please sign in to join, or reset your "
        "password if you have forgotten it."
    )


def account_for_joining(*, email, password, name, language):
    """The account a visitor joins with: a new one, or theirs if they typed its password.

    A new account is not confirmed yet: a link to confirm the address is emailed, and the
    visitor signs in once they have followed it. Returns ``(user, created)``.
    """
    email = normalise_email(email)
    problem = text_problem(name)
    if problem:
        raise ValidationError(problem, field="name")
    existing = find_user(email)
    if existing is not None:
        user = authenticate(email, password)
        if user is None:
            raise AddressInUse(field="email")
        return user, False
    validate_password(password)
    user = User(
        email=email,
        password_hash=hash_password(password),
        name=name.strip(),
        language=language if language in ("en", "fr") else "en",
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.registered", user, actor=email, actor_id=user.id, data={"via": "join"})
    try:
        send_verification(user)
    except TooManyEmails:
        # The mailbox had a link very recently (a registration a minute ago, say): the
        # join goes on, as registering does, and the sign-in page offers a resend later.
        pass
    return user, True


# -- joining and renewing --------------------------------------------------------------------


@dataclass
class JoinRequest:
    """A join or renewal as the member asked for it (the form or the JSON API)."""

    tier: Tier
    user: User
    auto_renew: bool = False
    mondial_format: str = MondialFormat.print.value
    mailing_name: str = ""
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    province: str = ""
    postal_code: str = ""
    country: str = "CA"
    language: str = "en"


ADDRESS_FIELDS = (
    "mailing_name",
    "address_line1",
    "address_line2",
    "city",
    "province",
    "postal_code",
    "country",
)


def _address(request):
    values = {
        "mailing_name": request.mailing_name.strip(),
        "address_line1": request.address_line1.strip(),
        "address_line2": request.address_line2.strip(),
        "city": request.city.strip(),
        "province": request.province.strip(),
        "postal_code": request.postal_code.strip().upper(),
        "country": (request.country or "CA").strip().upper(),
    }
    for field, value in values.items():
        problem = text_problem(value)
        if problem:
            raise ValidationError(problem, field=field)
    if values["country"] == "CA":
        values["province"] = values["province"].upper()
    return values


def check_mailing(tier, mondial_format, address):
    """Refuse a format the tier does not include, or print without a full address."""
    try:
        chosen = MondialFormat(mondial_format)
    except ValueError:
        raise ValidationError(
            _l("Please choose how you receive Mondial."), field="mondial_format"
        ) from None
    if chosen == MondialFormat.print and not tier.mondial_print:
        raise ValidationError(
            _l("This membership includes Mondial in digital form only."), field="mondial_format"
        )
    if chosen == MondialFormat.digital and not tier.mondial_digital:
        raise ValidationError(
            _l("This membership includes Mondial in print only."), field="mondial_format"
        )
    if chosen == MondialFormat.print:
        for field in ("address_line1", "city", "postal_code"):
            if not address[field]:
                raise ValidationError(
                    _l("Please give the address where Mondial should be mailed."), field=field
                )
        problems = address_problems(
            province=address["province"],
            postal_code=address["postal_code"],
            country=address["country"],
        )
        for field, message in problems.items():
            raise ValidationError(message, field=field)
    return chosen


def refuse_join(membership, user, tier, *, auto_renew):
    """Why this person may not join or renew with ``tier`` now, as a DomainError; else None."""
    if not tier.active:
        raise ValidationError(_l("Please choose a membership."), field="tier")
    if tier.lifetime and auto_renew:
        raise ValidationError(
            _l("A life membership is paid once; it does not renew."), field="auto_renew"
        )
    if membership is None:
        place = household_place(user)
        if place is not None and place.membership.in_good_standing:
            raise Conflict(
                _l("You are a member through your household's membership; its holder renews it."),
                code="household_member",
            )
        return
    if membership.auto_renew:
        raise Conflict(
            _l(
                "Auto-renew is on, so your membership renews by itself. To renew now, turn "
                "auto-renew off first."
            ),
            code="auto_renew_on",
        )
    if membership.ends_on is None and membership.in_good_standing:
        raise Conflict(
            _l("Your membership has no end date: there is nothing to renew."), code="no_end"
        )


def check_join_address(request):
    """Refuse a join whose mailing address will not do, before any account is made for it.

    ``request.user`` may still be ``None``: a visitor's account is only created (and its
    confirmation link sent) once the rest of what they typed is acceptable.
    """
    check_mailing(request.tier, request.mondial_format, _address(request))


def start_join(request, *, idempotency_key=None, request_digest=None):
    """Create the pending dues (and a pending membership for a new member) and their checkout.

    The caller then calls :func:`open_checkout`. The checkout charges now, once or every
    year; or, to turn on auto-renew mid-term, at the current end date.
    """
    user, tier = request.user, request.tier
    membership = held_membership(user)
    refuse_join(membership, user, tier, auto_renew=request.auto_renew)
    address = _address(request)
    chosen = check_mailing(tier, request.mondial_format, address)
    language = request.language if request.language in ("en", "fr") else "en"
    if membership is None:
        membership = Membership(
            user=user, tier=tier, status=MembershipStatus.pending, price=tier.price
        )
        db.session.add(membership)
    elif membership.status == MembershipStatus.cancelled and membership.started_on is None:
        membership_states.move(membership, MembershipStatus.pending)
    membership.mondial_format = chosen
    for field, value in address.items():
        setattr(membership, field, value)
    if not membership.mailing_name:
        membership.mailing_name = user.name
    db.session.flush()
    priced = quote(
        tier,
        membership if membership.status != MembershipStatus.pending else None,
        auto_renew=request.auto_renew,
        province=address["province"],
        country=address["country"],
    )
    dues = Dues(
        membership=membership,
        tier=tier,
        amount=priced.total,
        tax=priced.tax,
        advantage=min(tier.advantage, tier.price),
        auto_renew=request.auto_renew,
        starts_on=priced.term.starts_on,
        ends_on=priced.term.ends_on,
        language=language,
        idempotency_key=idempotency_key,
        request_digest=request_digest,
        requested_by_id=user.id if idempotency_key else None,
    )
    db.session.add(dues)
    db.session.flush()
    open_dues_checkout(dues, user=user, first_charge_on=priced.first_charge_on)
    audit.record(
        "dues.started",
        dues,
        data={"tier": tier.slug, "amount": dues.amount, "auto_renew": request.auto_renew},
    )
    return dues


def open_dues_checkout(dues, *, user, first_charge_on=None):
    """Store the checkout for pending dues (not sent to Stripe yet)."""
    label = describe_term(dues.tier, dates.Term(dues.starts_on, dues.ends_on), dues.language)
    payment = payments.start_checkout(
        [payments.Part(PURPOSE, dues.id, dues.amount, tax=dues.tax, description=label)],
        lines=[payments.Line(label, dues.amount)],
        email=user.email,
        name=dues.membership.mailing_name or user.name,
        language=dues.language,
        success_url=payments.return_url("members.welcome"),
        cancel_url=absolute_url("members.join_tier", slug=dues.tier.slug, cancelled=dues.token),
        every="year" if dues.auto_renew else None,
        first_charge_at=dates.local_noon(first_charge_on) if first_charge_on else None,
        submit_type=None if dues.auto_renew else "pay",
        description=label,
    )
    dues.payment_id = payment.id
    return payment


def checkout_url(dues):
    """Stripe's page for pending dues (raises CheckoutUnavailable, handled app-wide)."""
    from payments.models import Payment

    return payments.open_checkout(db.session.get(Payment, dues.payment_id))


def checkout_expires_at(dues):
    from payments.models import Payment

    return payments.checkout_expires_at(db.session.get(Payment, dues.payment_id))


def dues_for_return(session_id):
    """The dues a Checkout paid, recorded on the spot if it was paid (the success page)."""
    payment = payments.confirm_on_return(session_id)
    if payment is None:
        return None
    dues = next(
        (db.session.get(Dues, a.row_id) for a in payment.allocations if a.purpose == PURPOSE),
        None,
    )
    if dues is not None and dues.status == DuesStatus.pending and recurring_started(payment):
        # Auto-renew turned on mid-term: nothing is paid until the end date, but the series
        # exists; the member sees it on at once rather than when the event is handled.
        membership = lock_membership(dues.membership_id)
        if not membership.auto_renew:
            membership.auto_renew = True
            membership.recurring_payment_id = payment.id
            membership.renews_on = dues.starts_on
            membership.price = dues.amount
            audit.record("membership.auto_renew_on", membership, data={"dues": dues.id})
    return dues


def pending_dues(token, user=None):
    """Dues still waiting for their checkout, by token (the way back from Cancel)."""
    dues = db.session.scalar(sa.select(Dues).where(Dues.token == token))
    if dues is None or (user is not None and dues.membership.user_id != user.id):
        return None
    return dues


def abandon_checkout(dues):
    """The member came back through Cancel: close the checkout so it cannot be paid later.

    Returns True when it was closed, False when it had been paid after all.
    """
    from payments.models import Payment, PaymentStatus

    if dues.status != DuesStatus.pending or dues.payment_id is None:
        return dues.status != DuesStatus.paid
    status = payments.expire_checkout(db.session.get(Payment, dues.payment_id))
    return status != PaymentStatus.succeeded


# -- the shop's cart: dues as one part of a larger checkout ---------------------------------


def dues_part(user, tier, *, mondial_format="print", address=None, language="en"):
    """Pending dues for a membership paid once, as a part of someone else's checkout.

    Returns ``(dues, part, line)``: the shop adds ``part`` and ``line`` to its own
    ``start_checkout``, then sets ``dues.payment_id`` to the payment it gets. When the
    payment succeeds the membership starts or renews exactly as through ``/join``.
    """
    request = JoinRequest(
        tier=tier,
        user=user,
        auto_renew=False,
        mondial_format=mondial_format,
        language=language,
        **(address or {}),
    )
    membership = held_membership(user)
    refuse_join(membership, user, tier, auto_renew=False)
    values = _address(request)
    chosen = check_mailing(tier, mondial_format, values)
    if membership is None:
        membership = Membership(user=user, tier=tier, price=tier.price, mailing_name=user.name)
        db.session.add(membership)
    membership.mondial_format = chosen
    for field, value in values.items():
        setattr(membership, field, value or getattr(membership, field))
    db.session.flush()
    priced = quote(
        tier,
        membership if membership.status != MembershipStatus.pending else None,
        province=values["province"],
        country=values["country"],
    )
    dues = Dues(
        membership=membership,
        tier=tier,
        amount=priced.total,
        tax=priced.tax,
        advantage=min(tier.advantage, tier.price),
        starts_on=priced.term.starts_on,
        ends_on=priced.term.ends_on,
        language=language,
    )
    db.session.add(dues)
    db.session.flush()
    label = describe_term(tier, priced.term, language)
    part = payments.Part(PURPOSE, dues.id, dues.amount, tax=dues.tax, description=label)
    return dues, part, payments.Line(label, dues.amount)


# -- terms: what paid dues buy ---------------------------------------------------------------


def apply_term(membership, dues, *, on, actor=None):
    """Extend (or start) the membership by the term ``dues`` pay for, and make it current."""
    tier = dues.tier
    term = dates.next_term(
        lifetime=tier.lifetime, ends_on=membership.ends_on, status=membership.status, on=on
    )
    if dues.is_grant:
        term = dates.Term(term.starts_on, dues.ends_on)  # a grant runs to the date staff chose
    dues.starts_on, dues.ends_on = term.starts_on, term.ends_on
    previous = membership.ends_on
    membership.tier = tier
    membership.ends_on = term.ends_on
    membership.started_on = membership.started_on or term.starts_on
    if not membership.auto_renew:
        membership.price = tier.price
    membership_states.move(
        membership,
        MembershipStatus.current,
        actor=actor,
        data={"dues": dues.id, "ends_on": term.ends_on and term.ends_on.isoformat()},
    )
    audit.record(
        "membership.term_added",
        membership,
        actor=actor,
        data={
            "dues": dues.id,
            "from": previous and previous.isoformat(),
            "to": term.ends_on and term.ends_on.isoformat(),
        },
    )
    return term


# -- auto-renew ------------------------------------------------------------------------------


# -- the member's own choices ----------------------------------------------------------------


def update_mailing(membership, *, mondial_format, **address):
    """Change how and where Mondial is sent."""
    request = JoinRequest(tier=membership.tier, user=membership.user, **address)
    values = _address(request)
    chosen = check_mailing(membership.tier, mondial_format, values)
    before = {f: getattr(membership, f) for f in ADDRESS_FIELDS}
    membership.mondial_format = chosen
    for field, value in values.items():
        setattr(membership, field, value)
    changed = {f for f in ADDRESS_FIELDS if before[f] != getattr(membership, f)}
    audit.record(
        "membership.mailing_changed",
        membership,
        data={"format": chosen.value, "fields": sorted(changed)},
    )
    return membership


def set_language(user, language):
    if language not in current_app.config["LANGUAGES"]:
        raise ValidationError(_l("Please choose English or French."), field="language")
    if user.language != language:
        audit.record("user.language_changed", user, data={"from": user.language, "to": language})
        user.language = language
    return user
