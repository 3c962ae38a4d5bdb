"""The treasurer's questions: which gifts, one gift in full, one donor, one year."""

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from core import clock
from core.accounts.models import User
from core.db import db
from core.errors import NotFound, ValidationError
from core.i18n import current_language
from core.mail.services import normalise_email
from core.money import format_money
from donations import receipts
from donations.models import (
    Donation,
    DonationKind,
    DonationStatus,
    Fund,
    MonthlyGift,
    Receipt,
    ReceiptItem,
)
from payments.models import Payment

PAGE_SIZE = 50


def all_funds():
    """Every fund, retired ones too: old gifts still belong to them."""
    return db.session.scalars(sa.select(Fund).order_by(Fund.position, Fund.id)).all()


#: Gifts whose money came in, even if some went back: what the list shows unless asked.
RECEIVED = (DonationStatus.paid, DonationStatus.refunded, DonationStatus.charged_back)
#: The status filter's value for every gift, abandoned checkouts included.
ALL = "all"


@dataclass(frozen=True)
class DonationFilters:
    """What the treasurer narrowed the list of gifts to; empty values mean "any"."""

    date_from: date | None = None  # local days, both ends included
    date_to: date | None = None
    fund: str = ""  # a fund's slug
    kind: str = ""
    status: str = ""  # "" received (paid, then maybe refunded), "all", or one status
    search: str = ""  # part of the donor's name, organization or email


def _member(enum_cls, value, field, message):
    try:
        return enum_cls(value)
    except ValueError:
        raise ValidationError(message, field=field) from None


def filter_conditions(filters):
    """``filters`` as SQL conditions on :class:`Donation`; refuses values that mean nothing."""
    conditions = []
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        raise ValidationError(_l("The end date is before the start date."), field="date_to")
    if filters.date_from:
        conditions.append(Donation.received_at >= clock.local_midnight(filters.date_from))
    if filters.date_to:
        conditions.append(
            Donation.received_at < clock.local_midnight(filters.date_to + timedelta(days=1))
        )
    if filters.fund:
        fund_id = db.session.scalar(sa.select(Fund.id).where(Fund.slug == filters.fund))
        if fund_id is None:
            raise ValidationError(_l("There is no such fund."), field="fund")
        conditions.append(Donation.fund_id == fund_id)
    if filters.kind:
        kind = _member(DonationKind, filters.kind, "kind", _l("There is no such kind of gift."))
        conditions.append(Donation.kind == kind)
    if not filters.status:
        conditions.append(Donation.status.in_(RECEIVED))
    elif filters.status != ALL:
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


def newest_first():
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
    conditions = filter_conditions(filters)
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
        .order_by(*newest_first())
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
        .order_by(*newest_first())
    ).all()
    years = {}
    for donation in donations:
        if donation.status == DonationStatus.paid and donation.received_at is not None:
            year = clock.local_date(donation.received_at).year
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
    start, end = clock.year_bounds(year)
    rows = db.session.execute(
        sa.select(Donation.fund_id, sa.func.count(Donation.id), sa.func.sum(_KEPT))
        .where(_PAID, Donation.received_at >= start, Donation.received_at < end)
        .group_by(Donation.fund_id)
    ).all()
    by_fund = {fund_id: (int(count), int(total or 0)) for fund_id, count, total in rows}
    return YearTotals(
        year, [FundTotal(fund, *by_fund[fund.id]) for fund in all_funds() if fund.id in by_fund]
    )
