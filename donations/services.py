"""Donation verbs: start a gift, follow its payment, monthly gifts, offline gifts, fund totals.

The payment side (Checkout, webhooks, refunds) is in ``payments``; what it tells us is
handled in :mod:`donations.handlers` (the ``donation`` purpose).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from core import audit, clock
from core.accounts.models import User
from core.db import db, locked
from core.errors import Conflict, NotFound, ValidationError
from core.i18n import current_language
from core.mail.services import normalise_email, record_consent
from core.money import format_money, gross_up, to_decimal
from core.settings import get_setting, set_setting
from core.tokens import make_token, read_token
from core.urls import absolute_url
from donations import receipts
from donations.handlers import PURPOSE
from donations.models import (
    Donation,
    DonationKind,
    DonationStatus,
    Fund,
    MonthlyGift,
    MonthlyStatus,
    Receipt,
    ReceiptItem,
    TributeKind,
)
from payments import services as payments
from payments.models import Payment

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
    check_online_amount(request.amount)
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
        [payments.Part(PURPOSE, donation.id, charged, description=label)],
        lines=[payments.Line(label, charged)],
        email=donor["email"],
        name=donor["donor_name"],
        language=donor["language"],
        success_url=payments.return_url("donations.thanks"),
        cancel_url=absolute_url("donations.donate", fund=request.fund.slug),
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


def _lock(donation_id):
    return locked(sa.select(Donation).where(Donation.id == donation_id)).one()


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


def _first_payment(gift):
    """The payment that started the gift's series, which names it to payments."""
    return db.session.get(Payment, gift.donations[0].payment_id)


def change_monthly_amount(gift, new_amount):
    """Change what a monthly gift gives from the next month on (no proration)."""
    check_online_amount(new_amount)
    running = gift.status in (MonthlyStatus.active, MonthlyStatus.past_due)
    if not running or not gift.subscription_id:
        raise Conflict(_l("This monthly gift cannot be changed any more."))
    charged = with_fee_covered(new_amount) if gift.cover_fee else new_amount
    if charged == gift.charged:
        return gift
    payments.change_recurring_amount(_first_payment(gift), charged)
    previous = gift.amount
    gift.amount, gift.charged = new_amount, charged
    audit.record("monthly_gift.amount_changed", gift, data={"from": previous, "to": new_amount})
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


# -- the treasurer's screens -----------------------------------------------------------------

PAGE_SIZE = 50


def _zone():
    return ZoneInfo(current_app.config["ORG_TIMEZONE"])


def local_time(moment):
    """An aware datetime as the clock on the wall where the organization is."""
    return moment.astimezone(_zone()) if moment is not None else None


def local_midnight(day):
    """The UTC instant at which ``day`` begins where the organization is."""
    return datetime.combine(day, time(0), _zone()).astimezone(UTC)


def all_funds():
    """Every fund, retired ones too: old gifts still belong to them."""
    return db.session.scalars(sa.select(Fund).order_by(Fund.position, Fund.id)).all()


@dataclass(frozen=True)
class DonationFilters:
    """What the treasurer narrowed the list of gifts to; empty values mean "any"."""

    date_from: date | None = None  # local days, both ends included
    date_to: date | None = None
    fund: str = ""  # a fund's slug
    kind: str = ""
    status: str = ""
    search: str = ""  # part of the donor's name, organization or email


def _member(enum_cls, value, field, message):
    try:
        return enum_cls(value)
    except ValueError:
        raise ValidationError(message, field=field) from None


def _conditions(filters):
    """``filters`` as SQL conditions on :class:`Donation`; refuses values that mean nothing."""
    conditions = []
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        raise ValidationError(_l("The end date is before the start date."), field="date_to")
    if filters.date_from:
        conditions.append(Donation.received_at >= local_midnight(filters.date_from))
    if filters.date_to:
        conditions.append(
            Donation.received_at < local_midnight(filters.date_to + timedelta(days=1))
        )
    if filters.fund:
        fund_id = db.session.scalar(sa.select(Fund.id).where(Fund.slug == filters.fund))
        if fund_id is None:
            raise ValidationError(_l("There is no such fund."), field="fund")
        conditions.append(Donation.fund_id == fund_id)
    if filters.kind:
        kind = _member(DonationKind, filters.kind, "kind", _l("There is no such kind of gift."))
        conditions.append(Donation.kind == kind)
    if filters.status:
        status = _member(DonationStatus, filters.status, "status", _l("There is no such status."))
        conditions.append(Donation.status == status)
    text = filters.search.strip()
    if text:
        conditions.append(
            sa.or_(
                Donation.donor_name.icontains(text, autoescape=True),
                Donation.organization_name.icontains(text, autoescape=True),
                Donation.email.icontains(text, autoescape=True),
            )
        )
    return conditions


def _newest_first():
    # A gift not paid yet has no date received; it sorts by when it was started.
    return (sa.func.coalesce(Donation.received_at, Donation.created_at).desc(), Donation.id.desc())


_KEPT = Donation.amount + Donation.fee_covered - Donation.refunded
_PAID = Donation.status == DonationStatus.paid


@dataclass
class DonationPage:
    """One page of gifts, with the count and total of every gift the filters match."""

    items: list
    count: int
    paid_count: int
    paid_total: int  # what paid gifts brought in, less refunds
    page: int
    per_page: int

    @property
    def pages(self):
        return max(1, -(-self.count // self.per_page))

    @property
    def has_previous(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


def search_donations(filters, page=1, per_page=PAGE_SIZE):
    """The gifts ``filters`` match, newest first, ``per_page`` at a time."""
    if page < 1:
        raise ValidationError(_l("There is no such page."), field="page")
    conditions = _conditions(filters)
    count, paid_count, paid_total = db.session.execute(
        sa.select(
            sa.func.count(Donation.id),
            sa.func.coalesce(sa.func.sum(sa.case((_PAID, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((_PAID, _KEPT), else_=0)), 0),
        ).where(*conditions)
    ).one()
    items = db.session.scalars(
        sa.select(Donation)
        .where(*conditions)
        .options(
            joinedload(Donation.fund),
            selectinload(Donation.receipt_items).joinedload(ReceiptItem.receipt),
        )
        .order_by(*_newest_first())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return DonationPage(
        items=items,
        count=int(count),
        paid_count=int(paid_count),
        paid_total=int(paid_total),
        page=page,
        per_page=per_page,
    )


def why_no_receipt(donation):
    """Why a gift has no current receipt, in words for the treasurer; None if it has one."""
    if donation.current_receipt is not None:
        return None
    if donation.status in (DonationStatus.pending, DonationStatus.expired):
        return _l("The gift has not been paid.")
    if not receipts.receiptable(donation):
        return _l("The gift was refunded or charged back, so its receipt is void.")
    if receipts.eligibility(donation.kept, donation.advantage) is None:
        return _l(
            "The advantage is worth more than %(share)s of the gift, so no receipt may be issued.",
            share="80 %" if current_language() == "fr" else "80%",
        )
    gift = donation.monthly_gift
    if gift is not None and gift.annual_receipt:
        return _l("This month will be on the donor's annual receipt.")
    minimum = receipts.setting("receipts.min_amount")
    if donation.kept < minimum:
        return _l(
            "The gift is under the smallest amount that gets a receipt (%(amount)s).",
            amount=format_money(minimum),
        )
    if donation.kind == DonationKind.offline:
        return _l("No receipt was asked for when the gift was recorded.")
    return _l("No receipt was issued.")


@dataclass
class DonationDetail:
    donation: Donation
    payment: Payment | None
    receipts: list  # every receipt the gift was ever on, oldest first, void ones too
    recorded_by: str | None  # who entered an offline gift
    no_receipt: str | None  # why there is no current receipt


def donation_detail(donation_id):
    """A gift with its payment, every receipt it was on and who recorded it."""
    donation = db.session.get(Donation, donation_id)
    if donation is None:
        raise NotFound()
    issued = db.session.scalars(
        sa.select(Receipt)
        .join(ReceiptItem, ReceiptItem.receipt_id == Receipt.id)
        .where(ReceiptItem.donation_id == donation.id)
        .order_by(Receipt.id)
    ).all()
    recorder = db.session.get(User, donation.recorded_by_id) if donation.recorded_by_id else None
    return DonationDetail(
        donation=donation,
        payment=db.session.get(Payment, donation.payment_id) if donation.payment_id else None,
        receipts=list(issued),
        recorded_by=recorder.email if recorder else None,
        no_receipt=why_no_receipt(donation),
    )


@dataclass
class YearTotal:
    year: int
    count: int
    total: int


@dataclass
class DonorSummary:
    """Everything one email address gave: gifts, totals per year, monthly gifts, receipts."""

    email: str
    donations: list
    years: list  # of YearTotal, newest year first; paid gifts less refunds
    monthly_gifts: list
    receipts: list

    @property
    def name(self):
        return self.donations[0].donor_name if self.donations else ""


def donor_summary(email):
    email = normalise_email(email)
    if not email or "@" not in email:
        raise ValidationError(_l("Please give the donor's email address."), field="email")
    donations = db.session.scalars(
        sa.select(Donation)
        .where(Donation.email == email)
        .options(
            joinedload(Donation.fund),
            selectinload(Donation.receipt_items).joinedload(ReceiptItem.receipt),
        )
        .order_by(*_newest_first())
    ).all()
    years = {}
    for donation in donations:
        if donation.status == DonationStatus.paid and donation.received_at is not None:
            year = receipts.local_date(donation.received_at).year
            total = years.setdefault(year, YearTotal(year, 0, 0))
            total.count += 1
            total.total += donation.kept
    gifts = db.session.scalars(
        sa.select(MonthlyGift)
        .where(MonthlyGift.email == email)
        .options(joinedload(MonthlyGift.fund))
        .order_by(MonthlyGift.id.desc())
    ).all()
    on_their_gifts = (
        sa.select(ReceiptItem.receipt_id)
        .join(Donation, ReceiptItem.donation_id == Donation.id)
        .where(Donation.email == email)
    )
    issued = db.session.scalars(
        sa.select(Receipt)
        .where(sa.or_(Receipt.email == email, Receipt.id.in_(on_their_gifts)))
        .order_by(Receipt.id.desc())
    ).all()
    return DonorSummary(
        email=email,
        donations=list(donations),
        years=sorted(years.values(), key=lambda y: -y.year),
        monthly_gifts=list(gifts),
        receipts=list(issued),
    )


@dataclass
class FundTotal:
    fund: Fund
    count: int
    total: int


@dataclass
class YearTotals:
    """Paid gifts received in a local year, less refunds, by fund and in all."""

    year: int
    funds: list  # of FundTotal, in the funds' order

    @property
    def count(self):
        return sum(f.count for f in self.funds)

    @property
    def total(self):
        return sum(f.total for f in self.funds)


def year_totals(year):
    start, end = receipts.year_bounds(year)
    rows = db.session.execute(
        sa.select(Donation.fund_id, sa.func.count(Donation.id), sa.func.sum(_KEPT))
        .where(_PAID, Donation.received_at >= start, Donation.received_at < end)
        .group_by(Donation.fund_id)
    ).all()
    by_fund = {fund_id: (int(count), int(total or 0)) for fund_id, count, total in rows}
    return YearTotals(
        year, [FundTotal(fund, *by_fund[fund.id]) for fund in all_funds() if fund.id in by_fund]
    )


def this_year():
    return receipts.local_date(clock.now()).year


# -- exports ---------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    _l("Gift"),
    _l("Date received"),
    _l("Time received"),
    _l("Status"),
    _l("Kind"),
    _l("Method"),
    _l("Reference"),
    _l("Fund"),
    _l("Donor"),
    _l("Organization"),
    _l("Email"),
    _l("Address"),
    _l("Address line 2"),
    _l("City"),
    _l("Province"),
    _l("Postal code"),
    _l("Country"),
    _l("Language"),
    _l("Gift amount"),
    _l("Fee covered"),
    _l("Total paid"),
    _l("Refunded"),
    _l("Kept"),
    _l("Advantage"),
    _l("Advantage description"),
    _l("Receipt"),
    _l("Eligible amount"),
    _l("Anonymous"),
    _l("Tribute"),
    _l("Tribute name"),
    _l("Monthly gift"),
    _l("Payment"),
    _l("Stripe charge"),
)


def export_header():
    return [str(column) for column in EXPORT_COLUMNS]


def export_rows(filters):
    """The CSV rows for ``filters``, fetched from the database while they are written.

    The filters are checked now, so a bad one is refused before the download starts.
    """
    conditions = _conditions(filters)
    query = (
        sa.select(Donation, Fund.slug, Payment.charge_id, Receipt)
        .join(Fund, Donation.fund_id == Fund.id)
        .outerjoin(Payment, Donation.payment_id == Payment.id)
        .outerjoin(
            ReceiptItem,
            sa.and_(ReceiptItem.donation_id == Donation.id, ReceiptItem.current.is_(True)),
        )
        .outerjoin(Receipt, ReceiptItem.receipt_id == Receipt.id)
        .where(*conditions)
        .order_by(*_newest_first())
        .execution_options(yield_per=500)
    )
    yes, no = str(_l("yes")), str(_l("no"))

    def rows():
        for donation, fund_slug, charge_id, receipt in db.session.execute(query):
            received = local_time(donation.received_at)
            yield [
                donation.id,
                received.date().isoformat() if received else "",
                received.time().isoformat("seconds") if received else "",
                donation.status.value,
                donation.kind.value,
                donation.method,
                donation.reference,
                fund_slug,
                donation.donor_name,
                donation.organization_name,
                donation.email,
                donation.address_line1,
                donation.address_line2,
                donation.city,
                donation.province,
                donation.postal_code,
                donation.country,
                donation.language,
                to_decimal(donation.amount),
                to_decimal(donation.fee_covered),
                to_decimal(donation.total),
                to_decimal(donation.refunded),
                to_decimal(donation.kept),
                to_decimal(donation.advantage),
                donation.advantage_description,
                (receipt.number or f"#{receipt.id}") if receipt else "",
                to_decimal(receipt.eligible_amount) if receipt else "",
                yes if donation.anonymous else no,
                donation.tribute_kind.value if donation.tribute_kind else "",
                donation.tribute_name,
                donation.monthly_gift_id or "",
                donation.payment_id or "",
                charge_id or "",
            ]

    return rows()


# -- settings --------------------------------------------------------------------------------


def current_settings():
    """Every donation and receipt setting staff may change, with its value now."""
    values = {key: setting(key) for key in SETTING_DEFAULTS}
    values.update({key: receipts.setting(key) for key in receipts.SETTING_DEFAULTS})
    return values


class InvalidSettings(ValidationError):
    """Settings that do not fit together; ``problems`` maps each setting key to a message."""

    def __init__(self, problems):
        key, message = next(iter(problems.items()))
        super().__init__(message, field=key)
        self.problems = problems


MIN_ONLINE_GIFT = 100  # the smallest gift worth a card fee: one dollar
MAX_FEE_PERCENT = Decimal(10)
MAX_FEE_FIXED = 1000  # a fixed part over ten dollars is a typing slip, not a card fee
MAX_PRESETS = 8


def settings_problems(values):
    """What is wrong with ``values`` (typed already: cents, a Decimal percent, text)."""
    problems = {}
    low, high = values["donations.min_amount"], values["donations.max_amount"]
    if low < MIN_ONLINE_GIFT:
        problems["donations.min_amount"] = _l(
            "The smallest online gift must be at least %(amount)s.",
            amount=format_money(MIN_ONLINE_GIFT),
        )
    if high <= low:
        problems["donations.max_amount"] = _l(
            "The largest online gift must be more than the smallest."
        )
    presets = values["donations.presets"]
    outside = [cents for cents in presets if not low <= cents <= high]
    if not presets:
        problems["donations.presets"] = _l("Please give at least one suggested amount.")
    elif len(presets) > MAX_PRESETS:
        problems["donations.presets"] = _l(
            "Please give at most %(count)s suggested amounts.", count=MAX_PRESETS
        )
    elif outside:
        problems["donations.presets"] = _l(
            "Each suggested amount must be between %(low)s and %(high)s; %(amount)s is not.",
            low=format_money(low),
            high=format_money(high),
            amount=format_money(outside[0]),
        )
    percent = values["donations.fee_percent"]
    if not (percent.is_finite() and 0 <= percent <= MAX_FEE_PERCENT):
        problems["donations.fee_percent"] = _l(
            "The card fee must be a percentage between 0 and %(max)s.", max=MAX_FEE_PERCENT
        )
    elif percent.normalize().as_tuple().exponent < -3:
        problems["donations.fee_percent"] = _l("The card fee has at most three decimals.")
    if not 0 <= values["donations.fee_fixed"] <= MAX_FEE_FIXED:
        problems["donations.fee_fixed"] = _l(
            "The fixed part of the card fee must be between %(low)s and %(high)s.",
            low=format_money(0),
            high=format_money(MAX_FEE_FIXED),
        )
    if values["receipts.min_amount"] < 0:
        problems["receipts.min_amount"] = _l("The amount cannot be negative.")
    for key in ("receipts.place_of_issue", "receipts.signer_name", "receipts.signer_title"):
        if not values[key].strip():
            problems[key] = _l("Please fill this in: it is printed on every receipt.")
    return problems


def save_settings(values):
    """Check and store the donation and receipt settings; each change goes to the audit log.

    Nothing is stored unless every value is acceptable.
    """
    values = dict(values)
    unknown = set(values) - set(SETTING_DEFAULTS) - set(receipts.SETTING_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    problems = settings_problems(values)
    if problems:
        raise InvalidSettings(problems)
    values["donations.presets"] = sorted(set(values["donations.presets"]))
    # Stored as text, as the defaults are: a JSON float would not keep "2.9" exact.
    values["donations.fee_percent"] = format(values["donations.fee_percent"].normalize(), "f")
    for key in ("receipts.place_of_issue", "receipts.signer_name", "receipts.signer_title"):
        values[key] = values[key].strip()
    for key, value in values.items():
        set_setting(key, value)
    return current_settings()
