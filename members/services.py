"""Membership verbs: tiers, joining and renewing, auto-renew, grants, offline dues.

Payments happen in ``payments``; what it reports comes back through the handlers in
:mod:`members.handlers`. Verbs flush, never commit: the request or command that calls
them commits once (payments itself commits before it asks Stripe for a checkout).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from core import audit, clock
from core.accounts.models import User
from core.accounts.services import (
    authenticate,
    find_user,
    hash_password,
    send_verification,
    validate_password,
)
from core.db import db, locked
from core.errors import Conflict, NotFound, ValidationError
from core.mail.services import normalise_email
from core.money import format_money
from core.settings import get_setting
from core.urls import absolute_url
from members import dates
from members.models import (
    OFFLINE_METHODS,
    Dues,
    DuesMethod,
    DuesStatus,
    HouseholdMember,
    Membership,
    MembershipStatus,
    MondialFormat,
    Tier,
    membership_states,
)
from members.validation import address_problems, text_problem
from payments import services as payments
from payments.checkout import FIRST_CHARGE_LEAD
from payments.imported import recurring_started

PURPOSE = "membership"

SETTING_DEFAULTS = {
    "members.grace_days": dates.DEFAULT_GRACE_DAYS,
    # Receipt the part of dues above the advantage (only with a charity registration number).
    "members.receipt_dues": False,
}

#: GST/HST by province for a registrant's taxable supply of a service (place of supply:
#: the member's address). Outside Canada the supply is zero-rated.
GST_HST_PERCENT = {
    "AB": 5,
    "BC": 5,
    "MB": 5,
    "NB": 15,
    "NL": 15,
    "NS": 14,
    "NT": 5,
    "NU": 5,
    "ON": 13,
    "PE": 15,
    "QC": 5,
    "SK": 5,
    "YT": 5,
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


# -- prices and terms ------------------------------------------------------------------------


def tax_percent(tier, *, province, country):
    """The GST/HST on a tier's dues for a member at this address (0 when not taxed)."""
    if not tier.taxable or not current_app.config.get("GST_HST_NUMBER"):
        return 0
    if (country or "CA").upper() != "CA":
        return 0
    return GST_HST_PERCENT.get((province or "").strip().upper(), 0)


def tax_on(price, percent):
    value = Decimal(price) * Decimal(percent) / 100
    return int(value.quantize(Decimal(1), rounding="ROUND_HALF_UP"))


@dataclass(frozen=True)
class Quote:
    """What joining or renewing costs and buys, as shown before paying."""

    tier: Tier
    price: int
    tax_percent: int
    tax: int
    term: dates.Term
    renewing: bool
    #: Set when the first charge waits until the current term ends (auto-renew mid-term).
    first_charge_on: date | None = None

    @property
    def total(self):
        return self.price + self.tax


def quote(tier, membership=None, *, auto_renew=False, province="", country="CA", on=None):
    """The price, tax and term of ``tier`` for this membership (None: a new member)."""
    on = on or dates.today()
    status = membership.status if membership is not None else None
    ends_on = membership.ends_on if membership is not None else None
    term = dates.next_term(lifetime=tier.lifetime, ends_on=ends_on, status=status, on=on)
    renewing = membership is not None and term.starts_on != on
    first_charge_on = None
    if auto_renew and renewing and status == MembershipStatus.current:
        if dates.local_noon(ends_on) - clock.now() >= FIRST_CHARGE_LEAD:
            first_charge_on = ends_on
    percent = tax_percent(tier, province=province, country=country)
    return Quote(
        tier=tier,
        price=tier.price,
        tax_percent=percent,
        tax=tax_on(tier.price, percent),
        term=term,
        renewing=renewing,
        first_charge_on=first_charge_on,
    )


def describe_term(tier, term, language):
    """``Individual membership, 15 March 2026 to 15 March 2027`` in the member's language."""
    from babel.dates import format_date

    locale = "fr_CA" if language == "fr" else "en_CA"
    with force_locale(language):
        if term.ends_on is None:
            return str(_l("%(tier)s membership, for life", tier=tier.name(language)))
        return str(
            _l(
                "%(tier)s membership, %(start)s to %(end)s",
                tier=tier.name(language),
                start=format_date(term.starts_on, "long", locale=locale),
                end=format_date(term.ends_on, "long", locale=locale),
            )
        )


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
    send_verification(user)
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


# -- staff: grants, offline dues, cancelling -------------------------------------------------


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


def format_price(tier, language=None):
    return format_money(tier.price, locale=language)


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
