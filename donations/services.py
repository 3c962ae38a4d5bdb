"""Donation verbs: start a gift, follow its payment, monthly gifts, offline gifts, fund totals.

The payment side (Checkout, webhooks, refunds) is in ``payments``; it calls the handlers
at the bottom of this module through the ``donation`` purpose.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from core import audit, clock
from core.db import db
from core.errors import Conflict, NotFound, ValidationError
from core.mail.services import normalise_email, queue_email, record_consent
from core.money import format_money, gross_up
from core.settings import get_setting
from core.tokens import make_token, read_token
from core.urls import absolute_url
from donations import receipts
from donations.models import (
    Donation,
    DonationKind,
    DonationStatus,
    Fund,
    MonthlyGift,
    MonthlyStatus,
    TributeKind,
    donation_states,
)
from payments import services as payments
from payments.gateway import gateway
from payments.models import Allocation
from payments.purposes import Purpose

PURPOSE = "donation"

SETTING_DEFAULTS = {
    "donations.min_amount": 100,  # cents
    "donations.max_amount": 5_000_000,
    "donations.presets": [2500, 5000, 10000, 25000],
    "donations.fee_percent": "2.9",
    "donations.fee_fixed": 30,
}

NEWS_CONSENT_WORDING = _l(
    "Yes, send me news by email: campaigns, new issues of Mondial and events. "
    "I can unsubscribe at any time."
)


def setting(key):
    return get_setting(key, SETTING_DEFAULTS[key])


def limits():
    return setting("donations.min_amount"), setting("donations.max_amount")


def fee_rate():
    return setting("donations.fee_percent"), setting("donations.fee_fixed")


def with_fee_covered(amount):
    """What to charge so that, after the card fee, the charity keeps exactly ``amount``."""
    percent, fixed = fee_rate()
    return gross_up(amount, percent, fixed)


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
    extra: dict = field(default_factory=dict)


def _donor_fields(request):
    return {
        "donor_name": request.donor_name.strip(),
        "organization_name": request.organization_name.strip(),
        "email": normalise_email(request.email),
        "address_line1": request.address_line1.strip(),
        "address_line2": request.address_line2.strip(),
        "city": request.city.strip(),
        "province": request.province.strip(),
        "postal_code": request.postal_code.strip().upper(),
        "country": (request.country or "CA").upper(),
        "language": request.language if request.language in ("en", "fr") else "en",
    }


def start_donation(request):
    """Create the gift (and its monthly gift) and a pending payment; the caller commits.

    Then :func:`open_checkout` sends the visitor to Stripe.
    """
    low, high = limits()
    if not low <= request.amount <= high:
        raise ValidationError(
            _l(
                "Please give between %(low)s and %(high)s online.",
                low=format_money(low),
                high=format_money(high),
            ),
            field="amount",
        )
    if not request.fund.active:
        raise ValidationError(_l("Please choose a fund."), field="fund")
    if request.tribute_kind and not request.tribute_name.strip():
        raise ValidationError(_l("Please tell us whom the gift honours."), field="tribute_name")
    charged = with_fee_covered(request.amount) if request.cover_fee else request.amount
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
    with force_locale(donor["language"]):
        fund_name = request.fund.name(donor["language"])
        label = str(
            _l("Monthly gift to %(fund)s", fund=fund_name)
            if request.monthly
            else _l("Gift to %(fund)s", fund=fund_name)
        )
    payment = payments.start_checkout(
        parts=[payments.Part(PURPOSE, donation.id, charged, description=label)],
        lines=[payments.Line(label, charged)],
        email=donor["email"],
        name=donor["donor_name"],
        language=donor["language"],
        success_url=payments.return_url("donations.thanks"),
        cancel_url=absolute_url("donations.donate", fund=request.fund.slug),
        mode="subscription" if request.monthly else "payment",
        interval="month" if request.monthly else None,
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


def open_checkout(donation):
    """The Stripe Checkout address for a gift (raises PaymentProviderUnavailable)."""
    from payments.models import Payment

    return payments.open_checkout(db.session.get(Payment, donation.payment_id))


def donation_for_session(session_id):
    """The gift a Checkout Session paid for, with its payment recorded if it was paid."""
    payment = payments.confirm_checkout(session_id)
    if payment is None:
        return None
    for allocation in payment.allocations:
        if allocation.purpose == PURPOSE:
            return db.session.get(Donation, allocation.row_id)
    return None


def _lock(donation_id):
    return db.session.scalars(
        sa.select(Donation)
        .where(Donation.id == donation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


# -- monthly gifts ---------------------------------------------------------------------------


def manage_token(gift):
    return make_token("monthly-gift", gift.token)


def gift_from_manage_token(token):
    gift_token = read_token("monthly-gift", token)
    gift = db.session.scalar(sa.select(MonthlyGift).where(MonthlyGift.token == gift_token))
    if gift is None:
        raise NotFound()
    return gift


def manage_url(gift):
    return absolute_url("donations.manage", token=manage_token(gift))


def change_monthly_amount(gift, new_amount):
    """Change what a monthly gift gives from the next month on (no proration)."""
    low, high = limits()
    if not low <= new_amount <= high:
        raise ValidationError(
            _l(
                "Please give between %(low)s and %(high)s online.",
                low=format_money(low),
                high=format_money(high),
            ),
            field="amount",
        )
    running = gift.status in (MonthlyStatus.active, MonthlyStatus.past_due)
    if not running or not gift.subscription_id:
        raise Conflict(_l("This monthly gift cannot be changed any more."))
    charged = with_fee_covered(new_amount) if gift.cover_fee else new_amount
    if charged == gift.charged:
        return gift
    subscription = gateway().retrieve_subscription(gift.subscription_id)
    [item] = subscription["items"]["data"]
    price = item["price"]
    product = price["product"] if isinstance(price["product"], str) else price["product"]["id"]
    params = {
        "items": [
            {
                "id": item["id"],
                "price_data": {
                    "currency": price["currency"],
                    "product": product,
                    "unit_amount": charged,
                    "recurring": {"interval": "month"},
                },
            }
        ],
        "proration_behavior": "none",
    }
    key = f"donation-monthly:{gift.id}:amount {charged}:{clock.timestamp()}"
    gateway().update_subscription(gift.subscription_id, params, key)
    previous = gift.amount
    gift.amount, gift.charged = new_amount, charged
    audit.record("monthly_gift.amount_changed", gift, data={"from": previous, "to": new_amount})
    return gift


def portal_url(gift, return_to):
    """A Stripe customer-portal session where the donor updates the card or cancels."""
    if not gift.customer_id:
        raise Conflict(_l("This monthly gift has not started yet."))
    session = gateway().create_portal_session(gift.customer_id, return_to, locale=gift.language)
    return session["url"]


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
    if received_on > receipts.local_date(clock.now()):
        raise ValidationError(_l("The date received cannot be in the future."), field="received_on")
    # Noon where the organization is: the day stays the day whatever the time zone.
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(current_app.config["ORG_TIMEZONE"])
    received_at = datetime(
        received_on.year, received_on.month, received_on.day, 12, tzinfo=zone
    ).astimezone(UTC)
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
        donor_name=donor_name.strip(),
        organization_name=organization_name.strip(),
        email=normalise_email(email),
        address_line1=address_line1.strip(),
        address_line2=address_line2.strip(),
        city=city.strip(),
        province=province.strip(),
        postal_code=postal_code.strip().upper(),
        country=country.upper(),
        language=language,
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


# -- what payments tells us ------------------------------------------------------------------


def _thank(donation, receipt):
    """The thank-you email, with the receipt attached when there is one."""
    gift = donation.monthly_gift
    context = {
        "donation": donation,
        "receipt": receipt,
        "fund_name": donation.fund.name(donation.language),
        "manage_url": manage_url(gift) if gift else None,
        "official": receipts.official(),
    }
    attachments = []
    if receipt is not None:
        attachments.append((receipts.filename(receipt), "application/pdf", receipts.pdf(receipt)))
        context["download_url"] = absolute_url("donations.receipt_pdf", token=receipt.token)
    queue_email(
        donation.email,
        "donations/thank_you",
        subject=_l("Thank you for your gift"),
        language=donation.language,
        context=context,
        attachments=attachments,
    )


def _notify_tribute(donation):
    if donation.tribute_kind is None or not donation.tribute_notify_email:
        return
    if donation.tribute_notified_at is not None:
        return
    donation.tribute_notified_at = clock.now()
    queue_email(
        donation.tribute_notify_email,
        "donations/tribute",
        subject=_l("A gift in your honour")
        if donation.tribute_kind == TributeKind.honour
        else _l("A gift in memory of %(name)s", name=donation.tribute_name),
        language=donation.language,
        context={"donation": donation, "fund_name": donation.fund.name(donation.language)},
    )


def on_paid(allocation):
    donation = _lock(allocation.row_id)
    if donation.status == DonationStatus.paid:
        return
    payment = allocation.payment
    donation_states.move(donation, DonationStatus.paid, actor="stripe")
    donation.received_at = payment.paid_at or clock.now()
    gift = donation.monthly_gift
    first_month = gift is not None and gift.status == MonthlyStatus.pending
    if first_month:
        gift.status = MonthlyStatus.active
        gift.subscription_id = payment.subscription_id
        gift.customer_id = payment.customer_id
        audit.record("monthly_gift.started", gift, actor="stripe")
    receipt = None
    if gift is None or not gift.annual_receipt:
        receipt = receipts.issue([donation])
    if gift is None or first_month or receipt is not None:
        _thank(donation, receipt)
    _notify_tribute(donation)


def on_expired(allocation):
    donation = _lock(allocation.row_id)
    if donation.status == DonationStatus.pending:
        donation_states.move(donation, DonationStatus.expired, actor="stripe")
    gift = donation.monthly_gift
    if gift is not None and gift.status == MonthlyStatus.pending:
        gift.status = MonthlyStatus.cancelled
        gift.cancelled_at = clock.now()


def on_refunded(allocation, amount, refund):
    donation = _lock(allocation.row_id)
    donation.refunded = min(donation.refunded + amount, donation.total)
    if donation.refunded >= donation.total and donation.status == DonationStatus.paid:
        donation_states.move(donation, DonationStatus.refunded, actor="stripe")
    audit.record("donation.refunded", donation, actor="stripe", data={"amount": amount})
    receipts.reconcile(donation, reason="refund")


def on_refund_failed(allocation, amount, refund):
    donation = _lock(allocation.row_id)
    donation.refunded = max(donation.refunded - amount, 0)
    if donation.status == DonationStatus.refunded and donation.refunded < donation.total:
        donation_states.move(donation, DonationStatus.paid, actor="stripe")
    audit.record("donation.refund_failed", donation, actor="stripe", data={"amount": amount})
    current = donation.current_receipt
    if current is not None:
        receipts.reconcile(donation, reason="refund failed")
    else:
        # A full refund had voided the receipt: issue it again, replacing the void one.
        voided = next(
            (i.receipt for i in reversed(donation.receipt_items) if i.receipt.is_void), None
        )
        if voided is not None:
            replacement = receipts.issue(
                [i.donation for i in voided.items], annual=voided.annual, replaces=voided
            )
            if replacement is not None:
                receipts.send(replacement, template="donations/receipt_replaced")


def on_disputed(allocation, amount, dispute):
    donation = _lock(allocation.row_id)
    audit.record("donation.disputed", donation, actor="stripe", data={"amount": amount})


def on_dispute_closed(allocation, amount, dispute):
    donation = _lock(allocation.row_id)
    if dispute.status != "lost" or donation.status != DonationStatus.paid:
        return
    donation_states.move(donation, DonationStatus.charged_back, actor="stripe")
    receipt = donation.current_receipt
    if receipt is not None:
        receipts.void(receipt, "charged back")
        others = [i.donation for i in receipt.items if i.donation_id != donation.id]
        if others:  # an annual receipt keeps the other months
            replacement = receipts.issue(others, annual=receipt.annual, replaces=receipt)
            if replacement is not None:
                receipts.send(replacement, template="donations/receipt_replaced")


def on_renewed(original, payment):
    """A month of a monthly gift was paid: a new gift row for it."""
    first = db.session.get(Donation, original.row_id)
    gift = first.monthly_gift
    if payment.amount == gift.charged:
        amount, fee = gift.amount, gift.charged - gift.amount
    else:
        amount, fee = payment.amount, 0
    copy = {
        k: getattr(gift, k)
        for k in (
            "donor_name", "organization_name", "email", "address_line1", "address_line2",
            "city", "province", "postal_code", "country", "language",
        )
    }
    donation = Donation(
        kind=DonationKind.monthly,
        fund_id=gift.fund_id,
        amount=amount,
        fee_covered=fee,
        anonymous=gift.anonymous,
        monthly_gift=gift,
        user_id=gift.user_id,
        payment_id=payment.id,
        **copy,
    )
    db.session.add(donation)
    db.session.flush()
    return donation.id, original.description


def on_renewal_failed(original, invoice):
    first = db.session.get(Donation, original.row_id)
    gift = first.monthly_gift
    if gift.last_failed_invoice == invoice["id"]:
        return  # Stripe retries the same invoice; one email is enough
    gift.last_failed_invoice = invoice["id"]
    gift.status = MonthlyStatus.past_due
    audit.record(
        "monthly_gift.payment_failed", gift, actor="stripe", data={"invoice": invoice["id"]}
    )
    queue_email(
        gift.email,
        "donations/payment_failed",
        subject=_l("Your monthly gift could not be processed"),
        language=gift.language,
        context={
            "gift": gift,
            "fund_name": gift.fund.name(gift.language),
            "manage_url": manage_url(gift),
        },
    )


def _period_end(subscription):
    items = (subscription.get("items") or {}).get("data") or []
    ends = [i.get("current_period_end") for i in items if i.get("current_period_end")]
    return datetime.fromtimestamp(max(ends), UTC) if ends else None


def on_subscription_updated(original, subscription):
    first = db.session.get(Donation, original.row_id)
    gift = first.monthly_gift
    gift.cancel_at_period_end = bool(subscription.get("cancel_at_period_end"))
    gift.current_period_end = _period_end(subscription)
    status = subscription.get("status")
    if status == "active" and gift.status in (MonthlyStatus.past_due, MonthlyStatus.pending):
        gift.status = MonthlyStatus.active
    elif status in ("past_due", "unpaid") and gift.status == MonthlyStatus.active:
        gift.status = MonthlyStatus.past_due


def on_subscription_cancelled(original, subscription):
    first = db.session.get(Donation, original.row_id)
    gift = first.monthly_gift
    if gift.status == MonthlyStatus.cancelled:
        return
    gift.status = MonthlyStatus.cancelled
    gift.cancelled_at = clock.now()
    gift.cancel_at_period_end = False
    audit.record("monthly_gift.cancelled", gift, actor="stripe")


def describe(allocation):
    donation = db.session.get(Donation, allocation.row_id)
    return f"Gift #{donation.id} to {donation.fund.name_en}" if donation else allocation.description


def purpose():
    return Purpose(
        name=PURPOSE,
        paid=on_paid,
        refunded=on_refunded,
        refund_failed=on_refund_failed,
        disputed=on_disputed,
        dispute_closed=on_dispute_closed,
        expired=on_expired,
        renewed=on_renewed,
        renewal_failed=on_renewal_failed,
        subscription_updated=on_subscription_updated,
        subscription_cancelled=on_subscription_cancelled,
        describe=describe,
    )


def allocation_for(donation):
    return db.session.scalar(
        sa.select(Allocation).where(
            Allocation.purpose == PURPOSE, Allocation.row_id == donation.id
        )
    )
