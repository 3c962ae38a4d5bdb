"""Donation verbs: start a gift, follow its payment, monthly gifts, offline gifts, fund totals.

The payment side (Checkout, webhooks, refunds) is in ``payments``; what it tells us is
handled in :mod:`donations.handlers` (the ``donation`` purpose).
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from core import address, audit, clock
from core.db import db, locked
from core.errors import Conflict, KeyReused, NotFound, ValidationError
from core.mail.services import normalise_email, queue_email, record_consent
from core.money import format_money
from core.tokens import make_token, read_token
from core.urls import absolute_url
from core.validators import check_plain_text
from donations import charges, receipts
from donations.charges import with_fee_covered  # noqa: F401  (the name callers know)
from donations.handlers import PURPOSE
from donations.models import (
    Donation,
    DonationKind,
    DonationStatus,
    Fund,
    MonthlyGift,
    MonthlyStatus,
    TributeKind,
)
from donations.settings import limits
from payments import services as payments
from payments.models import Payment, PaymentStatus

NEWS_CONSENT_WORDING = _l(
    "Yes, send me news by email: campaigns, new issues of Mondial and events. "
    "I can unsubscribe at any time."
)


def check_online_amount(amount):
    """Refuse a gift outside the limits staff set for giving online."""
    low, high = limits()
    if not low <= amount <= high:
        raise ValidationError(
            _l(
                "Please give between %(low)s and %(high)s online.",
                low=format_money(low),
                high=format_money(high),
            ),
            field="amount",
        )


# -- funds -----------------------------------------------------------------------------------


def active_funds():
    return db.session.scalars(
        sa.select(Fund).where(Fund.active.is_(True)).order_by(Fund.position, Fund.id)
    ).all()


def fund_by_slug(slug):
    fund = db.session.scalar(sa.select(Fund).where(Fund.slug == slug, Fund.active.is_(True)))
    if fund is None:
        raise NotFound()
    return fund


def raised_by_fund():
    """Money given to each fund: gifts that succeeded, less what was refunded or charged back."""
    rows = db.session.execute(
        sa.select(
            Donation.fund_id,
            sa.func.coalesce(
                sa.func.sum(Donation.amount + Donation.fee_covered - Donation.refunded), 0
            ),
        )
        .where(Donation.status == DonationStatus.paid)
        .group_by(Donation.fund_id)
    ).all()
    return {fund_id: int(total) for fund_id, total in rows}


# -- starting a gift -------------------------------------------------------------------------


@dataclass
class GiftRequest:
    """A gift as the visitor asked for it (from the form or the JSON API)."""

    amount: int
    fund: Fund
    donor_name: str
    email: str
    address_line1: str
    city: str
    province: str
    postal_code: str
    country: str = "CA"
    address_line2: str = ""
    organization_name: str = ""
    monthly: bool = False
    cover_fee: bool = False
    anonymous: bool = False
    tribute_kind: str | None = None
    tribute_name: str = ""
    tribute_notify_email: str = ""
    news_consent: bool = False
    annual_receipt: bool = True
    language: str = "en"
    user_id: int | None = None
    idempotency_key: str | None = None  # an API client's, with the digest of its body
    request_digest: str | None = None
    extra: dict = field(default_factory=dict)


def _donor_fields(request):
    """The donor's name and address checked by the one rule (core.address), tidied."""
    fields = address.clean_donor({key: getattr(request, key) for key in address.DONOR_KEYS})
    fields["email"] = normalise_email(request.email)
    fields["language"] = request.language if request.language in ("en", "fr") else "en"
    return fields


def monthly_label(fund, language):
    """ "Monthly gift to <fund>", in ``language``."""
    with force_locale(language):
        return str(_l("Monthly gift to %(fund)s", fund=fund.name(language)))


def checkout_lines(label, charge, language):
    """The lines on Stripe's page: the gift and the card fee apart, so the donor sees both.

    A monthly gift is one recurring line whose name states the split, so that a later
    change of amount still changes one item.
    """
    if charge.monthly:
        return [payments.Line(charges.monthly_line_name(label, charge, language), charge.total)]
    lines = [payments.Line(label, charge.gift)]
    if charge.fee:
        lines.append(payments.Line(charges.fee_line_name(language), charge.fee))
    return lines


def gift_part(request):
    """A one-time gift as one part of someone else's checkout (the shop's cart).

    Returns ``(donation, part, line)``: the caller adds ``part`` and ``line`` to its own
    ``start_checkout`` and sets ``donation.payment_id`` to the payment it gets. Paid, the
    gift is thanked and receipted exactly as through ``/donate``.
    """
    check_online_amount(request.amount)
    if not request.fund.active:
        raise ValidationError(_l("Please choose a fund."), field="fund")
    donor = _donor_fields(request)
    donation = Donation(
        kind=DonationKind.one_time,
        fund=request.fund,
        amount=request.amount,
        fee_covered=0,
        anonymous=request.anonymous,
        user_id=request.user_id,
        **donor,
    )
    db.session.add(donation)
    db.session.flush()
    with force_locale(donor["language"]):
        label = str(_l("Gift to %(fund)s", fund=request.fund.name(donor["language"])))
    audit.record("donation.started", donation, data={"amount": request.amount, "via": "cart"})
    part = payments.Part(PURPOSE, donation.id, request.amount, description=label)
    return donation, part, payments.Line(label, request.amount)


def start_donation(request):
    """Create the gift (and its monthly gift) and a pending payment; the caller commits.

    Then :func:`open_checkout` sends the visitor to Stripe.
    """
    check_online_amount(request.amount)
    if not request.fund.active:
        raise ValidationError(_l("Please choose a fund."), field="fund")
    if request.tribute_kind and not request.tribute_name.strip():
        raise ValidationError(_l("Please tell us whom the gift honours."), field="tribute_name")
    # The donor's own fields are held to the same rule by _donor_fields (core.address).
    check_plain_text(request.tribute_name, field="tribute_name")
    charge = charges.charge_for(request.amount, request.cover_fee, monthly=request.monthly)
    charged = charge.total
    donor = _donor_fields(request)
    gift = None
    if request.monthly:
        gift = MonthlyGift(
            fund=request.fund,
            amount=request.amount,
            charged=charged,
            cover_fee=request.cover_fee,
            annual_receipt=request.annual_receipt,
            anonymous=request.anonymous,
            user_id=request.user_id,
            **donor,
        )
        db.session.add(gift)
    donation = Donation(
        kind=DonationKind.monthly if request.monthly else DonationKind.one_time,
        fund=request.fund,
        amount=request.amount,
        fee_covered=charged - request.amount,
        anonymous=request.anonymous,
        tribute_kind=TributeKind(request.tribute_kind) if request.tribute_kind else None,
        tribute_name=request.tribute_name.strip() if request.tribute_kind else "",
        tribute_notify_email=normalise_email(request.tribute_notify_email)
        if request.tribute_kind
        else "",
        user_id=request.user_id,
        monthly_gift=gift,
        idempotency_key=request.idempotency_key,
        request_digest=request.request_digest,
        **donor,
    )
    db.session.add(donation)
    if request.news_consent:
        with force_locale(donor["language"]):
            consent = record_consent(
                donor["email"],
                True,
                wording=str(NEWS_CONSENT_WORDING),
                language=donor["language"],
                source="donation form",
            )
        donation.consent_id = consent.id
    db.session.flush()
    if request.monthly:
        label = monthly_label(request.fund, donor["language"])
    else:
        with force_locale(donor["language"]):
            label = str(_l("Gift to %(fund)s", fund=request.fund.name(donor["language"])))
    payment = payments.start_checkout(
        [payments.Part(PURPOSE, donation.id, charged, description=label)],
        lines=checkout_lines(label, charge, donor["language"]),
        email=donor["email"],
        name=donor["donor_name"],
        language=donor["language"],
        success_url=payments.return_url("donations.thanks"),
        cancel_url=absolute_url("donations.came_back", token=return_token(donation)),
        every="month" if request.monthly else None,
        submit_type=None if request.monthly else "donate",
        description=label,
    )
    donation.payment_id = payment.id
    audit.record(
        "donation.started",
        donation,
        data={"amount": request.amount, "charged": charged, "monthly": request.monthly},
        actor=donor["email"],
    )
    return donation


def gift_for_key(key, digest):
    """The gift an earlier request with this Idempotency-Key started, if any.

    Raises :class:`KeyReused` when that request asked for something else.
    """
    earlier = db.session.scalar(sa.select(Donation).where(Donation.idempotency_key == key))
    if earlier is not None and earlier.request_digest != digest:
        raise KeyReused()
    return earlier


def open_checkout(donation):
    """The Stripe Checkout address for a gift (commits; raises CheckoutUnavailable)."""
    return payments.open_checkout(db.session.get(Payment, donation.payment_id))


def checkout_expires_at(donation):
    """When the gift's Stripe Checkout page stops taking payment."""
    return payments.checkout_expires_at(db.session.get(Payment, donation.payment_id))


def donation_for_session(session_id):
    """The gift a Checkout Session paid for, with its payment recorded if it was paid."""
    payment = payments.confirm_on_return(session_id)
    if payment is None:
        return None
    for allocation in payment.allocations:
        if allocation.purpose == PURPOSE:
            return db.session.get(Donation, allocation.row_id)
    return None


# -- back from Stripe through Cancel ----------------------------------------------------------

#: How long the way back from Stripe's page shows the gift as it was filled in. The page
#: itself takes payment for an hour; the donor may come back to the form a little later.
RETURN_LINK_MAX_AGE = 24 * 60 * 60


def return_token(donation):
    return make_token("donation-return", donation.id)


def donation_from_return_token(token):
    """The gift whose Stripe page the donor left through Cancel (a signed, short-lived link)."""
    donation_id = read_token("donation-return", token, max_age=RETURN_LINK_MAX_AGE)
    donation = db.session.get(Donation, donation_id) if isinstance(donation_id, int) else None
    if donation is None:
        raise NotFound()
    return donation


def abandon_checkout(donation):
    """Close the gift's Stripe page, so that it cannot be paid later from another tab.

    Returns True when nothing was charged, False when the gift had been paid after all.
    Commits before asking Stripe.
    """
    if donation.status not in (DonationStatus.pending, DonationStatus.expired):
        return False
    if donation.payment_id is None:
        return True
    status = payments.expire_checkout(db.session.get(Payment, donation.payment_id))
    return status != PaymentStatus.succeeded


def session_of(donation):
    """The Stripe Checkout Session id of the gift's payment (for its thank-you page)."""
    return db.session.get(Payment, donation.payment_id).checkout_session_id


def _lock(donation_id):
    return locked(sa.select(Donation).where(Donation.id == donation_id)).one()


# -- monthly gifts ---------------------------------------------------------------------------


def manage_token(gift):
    return make_token("monthly-gift", gift.token)


def gift_from_manage_token(token, *, expired_too=False):
    """The monthly gift a manage link names; :class:`ExpiredLink` after ``MANAGE_LINK_DAYS``.

    ``expired_too`` reads an expired (but genuine) link, to send a fresh one to the gift's
    own address.
    """
    days = current_app.config["MANAGE_LINK_DAYS"]
    gift_token = read_token("monthly-gift", token, max_age=None if expired_too else days * 86400)
    gift = db.session.scalar(sa.select(MonthlyGift).where(MonthlyGift.token == gift_token))
    if gift is None:
        raise NotFound()
    return gift


def send_manage_link(gift):
    """Email a fresh manage link to the address the monthly gift was made with."""
    with force_locale(gift.language):
        queue_email(
            gift.email,
            "donations/manage_link",
            subject=_l("Your link to manage your monthly gift"),
            language=gift.language,
            context={
                "gift": gift,
                "manage_url": manage_url(gift),
                "days": current_app.config["MANAGE_LINK_DAYS"],
            },
        )
    audit.record("monthly_gift.manage_link_sent", gift, actor=gift.email)


def manage_url(gift):
    return absolute_url("donations.manage", token=manage_token(gift))


def _first_payment(gift):
    """The payment that started the gift's series, which names it to payments."""
    return db.session.get(Payment, gift.donations[0].payment_id)


def change_monthly_amount(gift, new_amount):
    """Change what a monthly gift gives from the next month on (no proration)."""
    check_online_amount(new_amount)
    running = gift.status in (MonthlyStatus.active, MonthlyStatus.past_due)
    if not running or not gift.subscription_id or gift.ends_at_period_end:
        raise Conflict(_l("This monthly gift cannot be changed any more."))
    charge = charges.charge_for(new_amount, gift.cover_fee, monthly=True)
    charged = charge.total
    if charged == gift.charged:
        return gift
    # The one recurring line says the split; it must say the new one.
    name = charges.monthly_line_name(monthly_label(gift.fund, gift.language), charge, gift.language)
    payments.change_recurring_amount(_first_payment(gift), charged, name=name)
    previous = gift.amount
    gift.amount, gift.charged = new_amount, charged
    audit.record("monthly_gift.amount_changed", gift, data={"from": previous, "to": new_amount})
    return gift


def resume_monthly_gift(gift):
    """Keep a monthly gift going that the donor had stopped, before its last month ends."""
    running = gift.status in (MonthlyStatus.active, MonthlyStatus.past_due)
    if not running or not gift.ends_at_period_end or not gift.subscription_id:
        raise Conflict(_l("This monthly gift has ended: please start a new one."))
    payments.resume_recurring(_first_payment(gift))
    gift.ends_at_period_end = False
    audit.record("monthly_gift.resumed", gift)
    return gift


def refresh_monthly_gift(gift):
    """Bring the gift up to date with what the donor just did in the portal."""
    if gift.subscription_id:
        payments.refresh_recurring(_first_payment(gift))
    return gift


def portal_url(gift, return_to):
    """A page where the donor updates the card or cancels the monthly gift."""
    if not gift.customer_id:
        raise Conflict(_l("This monthly gift has not started yet."))
    return payments.portal_url(_first_payment(gift), return_to)


# -- offline gifts ---------------------------------------------------------------------------


def record_offline_gift(
    *,
    fund,
    amount,
    method,
    received_on,
    donor_name,
    email,
    address_line1,
    city,
    province,
    postal_code,
    recorded_by,
    country="CA",
    address_line2="",
    organization_name="",
    language="en",
    reference="",
    advantage=0,
    advantage_description="",
    issue_receipt=True,
):
    """A cheque, cash or e-transfer gift, received and entered by staff, with its receipt."""
    if amount <= 0:
        raise ValidationError(_l("The amount must be more than zero."), field="amount")
    if advantage < 0 or advantage > amount:
        raise ValidationError(_l("The advantage cannot exceed the gift."), field="advantage")
    if advantage and not advantage_description.strip():
        raise ValidationError(
            _l("Describe the advantage (for example, a dinner ticket)."),
            field="advantage_description",
        )
    donor = address.clean_donor(
        {
            "donor_name": donor_name,
            "organization_name": organization_name,
            "address_line1": address_line1,
            "address_line2": address_line2,
            "city": city,
            "province": province,
            "postal_code": postal_code,
            "country": country,
        }
    )
    if received_on > clock.today():
        raise ValidationError(_l("The date received cannot be in the future."), field="received_on")
    received_at = clock.local_noon(received_on)
    donation = Donation(
        kind=DonationKind.offline,
        status=DonationStatus.paid,
        fund=fund,
        amount=amount,
        method=method,
        reference=reference.strip(),
        advantage=advantage,
        advantage_description=advantage_description.strip(),
        received_at=received_at,
        recorded_by_id=recorded_by.id if recorded_by else None,
        email=normalise_email(email),
        language=language,
        **donor,
    )
    db.session.add(donation)
    db.session.flush()
    audit.record(
        "donation.offline_recorded",
        donation,
        data={"amount": amount, "method": method, "received_on": received_on.isoformat()},
    )
    receipt = receipts.issue([donation]) if issue_receipt else None
    if receipt is not None:
        receipts.send(receipt)
    return donation, receipt


def resend_receipt(donation):
    receipt = donation.current_receipt
    if receipt is None:
        raise Conflict(_l("This gift has no receipt to send."))
    receipts.send(receipt)
    audit.record("receipt.resent", receipt)
    return receipt
