"""What the treasurer's pages show: totals from SQL aggregates, lists a page at a time.

No query per row: a page's allocations, links and notes are looked up for the whole page
at once.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, url_for
from werkzeug.routing import BuildError

from core import clock
from core.audit import AuditEntry
from core.db import db
from payments.models import (
    Allocation,
    Dispute,
    Payment,
    PaymentStatus,
    Payout,
    PayoutLine,
    Refund,
    RefundAllocation,
    RefundStatus,
    StripeEvent,
)
from treasurer.models import PayoutCheck, PayoutReview
from treasurer.reconcile import line_kind, unmatched_clause

PAGE_SIZE = 50


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self):
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


def paginate(query, page, per_page=PAGE_SIZE, *, scalars=True):
    """One page of ``query`` and the count of all its rows (two queries)."""
    page = max(1, int(page or 1))
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    paged = query.limit(per_page).offset((page - 1) * per_page)
    items = db.session.scalars(paged).all() if scalars else db.session.execute(paged).all()
    return Page(items, page, per_page, int(total or 0))


# -- time ------------------------------------------------------------------------------------


def zone():
    return ZoneInfo(current_app.config["ORG_TIMEZONE"])


def month_start(moment, back=0):
    """The first instant of the month ``back`` months before ``moment``'s, where we are."""
    local = moment.astimezone(zone())
    year, month = local.year, local.month - back
    while month < 1:
        month += 12
        year -= 1
    while month > 12:
        month -= 12
        year += 1
    return datetime(year, month, 1, tzinfo=zone())


def year_start(moment):
    local = moment.astimezone(zone())
    return datetime(local.year, 1, 1, tzinfo=zone())


# -- money by purpose and by fund ------------------------------------------------------------


@dataclass
class Totals:
    gross: int = 0
    refunds: int = 0
    fees: int = 0
    tax: int = 0
    count: int = 0

    @property
    def net(self):
        return self.gross - self.refunds - self.fees


@dataclass
class PeriodTotals:
    start: datetime
    end: datetime
    by_purpose: dict = field(default_factory=dict)
    by_fund: list = field(default_factory=list)
    total: Totals = field(default_factory=Totals)


def _paid_between(start, end):
    return sa.and_(
        Payment.status == PaymentStatus.succeeded,
        Payment.paid_at >= start,
        Payment.paid_at < end,
    )


def period_totals(start, end):
    """Gross, refunds, Stripe's fees and net by purpose and by fund (three aggregates)."""
    result = PeriodTotals(start, end)
    rows = db.session.execute(
        sa.select(
            Allocation.purpose,
            sa.func.count(Allocation.id),
            sa.func.coalesce(sa.func.sum(Allocation.amount), 0),
            sa.func.coalesce(sa.func.sum(Allocation.fee), 0),
            sa.func.coalesce(sa.func.sum(Allocation.tax), 0),
        )
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(_paid_between(start, end))
        .group_by(Allocation.purpose)
    ).all()
    for purpose, count, gross, fees, tax in rows:
        result.by_purpose[purpose] = Totals(int(gross), 0, int(fees), int(tax), int(count))
    refunds = db.session.execute(
        sa.select(Allocation.purpose, sa.func.coalesce(sa.func.sum(RefundAllocation.amount), 0))
        .join(Allocation, Allocation.id == RefundAllocation.allocation_id)
        .join(Refund, Refund.id == RefundAllocation.refund_id)
        .where(
            Refund.status == RefundStatus.succeeded,
            Refund.created_at >= start,
            Refund.created_at < end,
        )
        .group_by(Allocation.purpose)
    ).all()
    for purpose, amount in refunds:
        result.by_purpose.setdefault(purpose, Totals()).refunds = int(amount)
    for totals in result.by_purpose.values():
        for name in ("gross", "refunds", "fees", "tax", "count"):
            setattr(result.total, name, getattr(result.total, name) + getattr(totals, name))
    result.by_fund = fund_totals(start, end)
    return result


def fund_totals(start, end):
    """Gifts by fund: ``(fund name, gross, fees)``, when donations is installed."""
    try:
        from donations.models import Donation, Fund
    except ImportError:  # pragma: no cover - a site without donations
        return []
    if "donations" not in current_app.config["FEATURES"]:
        return []
    rows = db.session.execute(
        sa.select(
            Fund.name_en,
            Fund.name_fr,
            sa.func.coalesce(sa.func.sum(Allocation.amount), 0),
            sa.func.coalesce(sa.func.sum(Allocation.fee), 0),
        )
        .select_from(Allocation)
        .join(Payment, Payment.id == Allocation.payment_id)
        .join(Donation, Donation.id == Allocation.row_id)
        .join(Fund, Fund.id == Donation.fund_id)
        .where(Allocation.purpose == "donation", _paid_between(start, end))
        .group_by(Fund.id, Fund.name_en, Fund.name_fr)
        .order_by(Fund.name_en)
    ).all()
    return [(en, fr, int(gross), int(fees)) for en, fr, gross, fees in rows]


def _month_bucket(column, starts):
    """SQL: which of the months starting at ``starts`` a moment falls in (0 = the oldest)."""
    months = len(starts)
    return sa.case(*((column < starts[n + 1], n) for n in range(months - 1)), else_=months - 1)


def monthly_totals(months=12, now=None):
    """Per month and purpose: count, gross, fees, tax and refunds, in two grouped queries.

    The months' boundaries (where the organization is) go in as a CASE, so the payments
    of the whole window are read once for the chart, this month and this year alike.
    """
    now = now or clock.now()
    starts = [month_start(now, back) for back in range(months - 1, -1, -1)]
    end = month_start(now, -1)
    bucket = _month_bucket(Payment.paid_at, starts).label("month")
    rows = db.session.execute(
        sa.select(
            bucket,
            Allocation.purpose,
            sa.func.count(Allocation.id),
            sa.func.coalesce(sa.func.sum(Allocation.amount), 0),
            sa.func.coalesce(sa.func.sum(Allocation.fee), 0),
            sa.func.coalesce(sa.func.sum(Allocation.tax), 0),
        )
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(_paid_between(starts[0], end))
        .group_by(bucket, Allocation.purpose)
    ).all()
    table = {}
    for month, purpose, count, gross, fees, tax in rows:
        table[(int(month), purpose)] = Totals(int(gross), 0, int(fees), int(tax), int(count))
    refund_bucket = _month_bucket(Refund.created_at, starts).label("month")
    for month, purpose, amount in db.session.execute(
        sa.select(
            refund_bucket,
            Allocation.purpose,
            sa.func.coalesce(sa.func.sum(RefundAllocation.amount), 0),
        )
        .select_from(RefundAllocation)
        .join(Allocation, Allocation.id == RefundAllocation.allocation_id)
        .join(Refund, Refund.id == RefundAllocation.refund_id)
        .where(
            Refund.status == RefundStatus.succeeded,
            Refund.created_at >= starts[0],
            Refund.created_at < end,
        )
        .group_by(refund_bucket, Allocation.purpose)
    ):
        table.setdefault((int(month), purpose), Totals()).refunds = int(amount)
    return starts, end, table


def _period(starts, end, table, first_month):
    """The totals of the months from ``first_month`` (an index into ``starts``) on."""
    result = PeriodTotals(starts[first_month], end)
    for (month, purpose), totals in table.items():
        if month < first_month:
            continue
        into = result.by_purpose.setdefault(purpose, Totals())
        for target in (into, result.total):
            for name in ("gross", "refunds", "fees", "tax", "count"):
                setattr(target, name, getattr(target, name) + getattr(totals, name))
    return result


def monthly_net(months=12, now=None):
    """Net received (amount less Stripe's fee) per month and purpose, oldest month first."""
    starts, _, table = monthly_totals(months, now)
    return _series(starts, table, months)


def _series(starts, table, months):
    series = {}
    for (month, purpose), totals in table.items():
        series.setdefault(purpose, [0] * months)[month] = totals.gross - totals.fees
    return [s.astimezone(zone()).date() for s in starts], series


# -- the dashboard ---------------------------------------------------------------------------


@dataclass
class Dashboard:
    month: PeriodTotals
    year: PeriodTotals
    awaiting: list
    awaiting_count: int
    failed_payouts: list
    open_disputes: list
    webhook_errors: int
    discrepancies: list
    months: list
    series: dict


def dashboard(now=None):
    now = now or clock.now()
    next_month = month_start(now, -1)
    awaiting = (
        sa.select(Payout)
        .outerjoin(PayoutReview, PayoutReview.payout_id == Payout.id)
        .where(PayoutReview.reconciled_at.is_(None), Payout.status != "failed")
        .order_by(Payout.created_at.desc())
    )
    awaiting_page = paginate(awaiting, 1, per_page=10)
    starts, end, table = monthly_totals(12, now)
    months, series = _series(starts, table, 12)
    year = _period(starts, end, table, starts.index(year_start(now)))
    year.by_fund = fund_totals(year_start(now), next_month)
    return Dashboard(
        month=_period(starts, end, table, len(starts) - 1),
        year=year,
        awaiting=reviews_for(awaiting_page.items),
        awaiting_count=awaiting_page.total,
        failed_payouts=db.session.scalars(
            sa.select(Payout)
            .where(Payout.status.in_(("failed", "canceled")))
            .order_by(Payout.created_at.desc())
            .limit(10)
        ).all(),
        open_disputes=db.session.scalars(
            sa.select(Dispute)
            .where(Dispute.status.not_in(("won", "lost", "warning_closed", "prevented")))
            .order_by(Dispute.evidence_due_by)
            .limit(10)
        ).all(),
        webhook_errors=db.session.scalar(
            sa.select(sa.func.count(StripeEvent.id)).where(
                StripeEvent.processed_at.is_(None), StripeEvent.last_error.is_not(None)
            )
        ),
        discrepancies=db.session.execute(
            sa.select(PayoutReview, Payout)
            .join(Payout, Payout.id == PayoutReview.payout_id)
            .where(PayoutReview.discrepancy_at.is_not(None))
            .order_by(PayoutReview.discrepancy_at.desc())
            .limit(10)
        ).all(),
        months=months,
        series=series,
    )


def not_paid_out(page=1, now=None, within_days=60):
    """A page of :func:`not_paid_out_query` for payments of the last ``within_days`` days,
    without counting them all (an anti-join over every payment ever made)."""
    page = max(1, int(page or 1))
    now = now or clock.now()
    query = not_paid_out_query(now).where(Payment.paid_at >= now - timedelta(days=within_days))
    rows = db.session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    more = len(rows) > PAGE_SIZE
    result = Page(rows[:PAGE_SIZE], page, PAGE_SIZE, (page - 1) * PAGE_SIZE + len(rows))
    result.more = more
    return result


def not_paid_out_query(now=None, *, count=False):
    """Payments that succeeded and are in no payout though their money should be available."""
    now = now or clock.now()
    days = current_app.config.get("TREASURER_PAYOUT_DAYS", 7)
    in_payout = sa.exists().where(
        PayoutLine.payment_id == Payment.id, PayoutLine.type.in_(("charge", "payment"))
    )
    condition = sa.and_(
        Payment.status == PaymentStatus.succeeded,
        Payment.charge_id.is_not(None),
        Payment.paid_at < now - timedelta(days=days),
        ~in_payout,
    )
    if count:
        return db.session.scalar(sa.select(sa.func.count(Payment.id)).where(condition))
    return sa.select(Payment).where(condition).order_by(Payment.paid_at)


# -- payouts ---------------------------------------------------------------------------------


@dataclass
class PayoutRow:
    payout: Payout
    review: PayoutReview | None

    @property
    def check(self):
        return self.review.check if self.review else PayoutCheck.pending

    @property
    def reconciled(self):
        return bool(self.review and self.review.is_reconciled)


def reviews_for(payouts):
    ids = [p.id for p in payouts]
    reviews = (
        {
            r.payout_id: r
            for r in db.session.scalars(
                sa.select(PayoutReview).where(PayoutReview.payout_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    return [PayoutRow(p, reviews.get(p.id)) for p in payouts]


PAYOUT_STATES = ("awaiting", "reconciled", "balanced", "unmatched", "mismatch", "pending", "failed")


def search_payouts(state=None, date_from=None, date_to=None, page=1):
    query = sa.select(Payout).outerjoin(PayoutReview, PayoutReview.payout_id == Payout.id)
    if state == "reconciled":
        query = query.where(PayoutReview.reconciled_at.is_not(None))
    elif state == "awaiting":
        query = query.where(PayoutReview.reconciled_at.is_(None), Payout.status != "failed")
    elif state == "failed":
        query = query.where(Payout.status.in_(("failed", "canceled")))
    elif state == "pending":
        query = query.where(
            sa.or_(PayoutReview.id.is_(None), PayoutReview.check == PayoutCheck.pending)
        )
    elif state in ("balanced", "unmatched", "mismatch"):
        query = query.where(PayoutReview.check == PayoutCheck(state))
    if date_from:
        query = query.where(Payout.created_at >= date_from)
    if date_to:
        query = query.where(Payout.created_at < date_to)
    result = paginate(query.order_by(Payout.created_at.desc(), Payout.id.desc()), page)
    result.items = reviews_for(result.items)
    return result


@dataclass
class LineView:
    line: PayoutLine
    kind: str
    payment: Payment | None = None
    allocations: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    unmatched: bool = False


def payout_lines(payout, page=1, kind=None, unmatched_only=False):
    """A page of the payout's lines with what each one pays for and any later news of it."""
    query = sa.select(PayoutLine).where(PayoutLine.payout_id == payout.id)
    if unmatched_only:
        query = query.where(unmatched_clause())
    if kind == "charge":
        query = query.where(PayoutLine.type.in_(("charge", "payment")))
    elif kind == "refund":
        query = query.where(PayoutLine.refund_id.is_not(None))
    elif kind == "dispute":
        query = query.where(PayoutLine.dispute_id.is_not(None))
    result = paginate(query.order_by(PayoutLine.id), page)
    lines = result.items
    unmatched_ids = set()
    if lines:
        unmatched_ids = set(
            db.session.scalars(
                sa.select(PayoutLine.id).where(
                    PayoutLine.id.in_([line.id for line in lines]), unmatched_clause()
                )
            )
        )
    payment_ids = {line.payment_id for line in lines if line.payment_id}
    payments = (
        {p.id: p for p in db.session.scalars(sa.select(Payment).where(Payment.id.in_(payment_ids)))}
        if payment_ids
        else {}
    )
    allocations = allocations_by_payment(payment_ids)
    notes = later_news(payout, lines)
    result.items = [
        LineView(
            line,
            line_kind(line.type, line.source_id),
            payments.get(line.payment_id),
            allocations.get(line.payment_id, []),
            notes.get(line.id, []),
            line.id in unmatched_ids,
        )
        for line in lines
    ]
    return result


def line_counts(payout):
    """How many lines of each kind the payout has (one aggregate)."""
    disputed = sa.case((PayoutLine.source_id.startswith("dp_"), 1), else_=0).label("disputed")
    rows = db.session.execute(
        sa.select(PayoutLine.type, disputed, sa.func.count())
        .where(PayoutLine.payout_id == payout.id)
        .group_by(PayoutLine.type, disputed)
    ).all()
    counts = {}
    for type_, disputed, count in rows:
        kind = line_kind(type_, "dp_" if disputed else "")
        counts[kind] = counts.get(kind, 0) + int(count)
    return counts


@dataclass
class AllocationView:
    allocation: Allocation
    url: str | None


def allocations_by_payment(payment_ids):
    if not payment_ids:
        return {}
    allocations = db.session.scalars(
        sa.select(Allocation).where(Allocation.payment_id.in_(payment_ids)).order_by(Allocation.id)
    ).all()
    links = purpose_links(allocations)
    found = {}
    for allocation in allocations:
        found.setdefault(allocation.payment_id, []).append(
            AllocationView(allocation, links.get(allocation.id))
        )
    return found


def safe_url(endpoint, **values):
    """A link to ``endpoint`` if this installation serves it, else None."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


#: Where each purpose's rows are shown: (endpoint, its argument).
ORDER_ENDPOINTS = (("shop.staff_order", "order_id"), ("shop.order_detail", "order_id"))


def purpose_links(allocations):
    """The screen of each allocation's row (gift, membership, order), where one is served."""
    links = {}
    dues_ids = [a.row_id for a in allocations if a.purpose == "membership"]
    memberships = {}
    if dues_ids and "members.staff_member" in current_app.view_functions:
        from members.models import Dues

        memberships = dict(
            db.session.execute(
                sa.select(Dues.id, Dues.membership_id).where(Dues.id.in_(dues_ids))
            ).all()
        )
    for a in allocations:
        if a.purpose == "donation":
            links[a.id] = safe_url("donations.staff_donation", donation_id=a.row_id)
        elif a.purpose == "membership" and a.row_id in memberships:
            links[a.id] = safe_url("members.staff_member", membership_id=memberships[a.row_id])
        elif a.purpose == "order":
            for endpoint, argument in ORDER_ENDPOINTS:
                links[a.id] = safe_url(endpoint, **{argument: a.row_id})
                if links[a.id]:
                    break
    return links


@dataclass
class Note:
    kind: str  # "refunded" or "disputed"
    at: datetime
    amount: int
    payout: Payout | None


def later_news(payout, lines):
    """For the page's charge lines: refunds and disputes of the same payment made later,
    with the payout that carries each one (two queries for the page)."""
    charge_lines = {
        line.payment_id: line.id
        for line in lines
        if line.payment_id and line.type in ("charge", "payment")
    }
    if not charge_lines:
        return {}
    notes = {}
    carried = {}
    for line, carrier in db.session.execute(
        sa.select(PayoutLine, Payout)
        .join(Payout, Payout.id == PayoutLine.payout_id)
        .where(
            PayoutLine.payment_id.in_(charge_lines),
            PayoutLine.payout_id != payout.id,
            sa.or_(PayoutLine.refund_id.is_not(None), PayoutLine.dispute_id.is_not(None)),
        )
    ):
        carried[("refund", line.refund_id) if line.refund_id else ("dispute", line.dispute_id)] = (
            carrier
        )
    for dispute in db.session.scalars(
        sa.select(Dispute).where(Dispute.payment_id.in_(charge_lines)).order_by(Dispute.id)
    ):
        notes.setdefault(charge_lines[dispute.payment_id], []).append(
            Note(
                "disputed", dispute.created_at, dispute.amount, carried.get(("dispute", dispute.id))
            )
        )
    for refund in db.session.scalars(
        sa.select(Refund)
        .where(Refund.payment_id.in_(charge_lines), Refund.status == RefundStatus.succeeded)
        .order_by(Refund.id)
    ):
        carrier = carried.get(("refund", refund.id))
        if carrier is not None:
            notes.setdefault(charge_lines[refund.payment_id], []).append(
                Note("refunded", refund.created_at, refund.amount, carrier)
            )
    return notes


# -- payments, refunds, disputes, events, audit ----------------------------------------------


#: Stripe ids a search may be for, and the column each is kept in.
STRIPE_PREFIXES = {
    "ch_": Payment.charge_id,
    "py_": Payment.charge_id,
    "pi_": Payment.payment_intent_id,
    "cs_": Payment.checkout_session_id,
    "in_": Payment.invoice_id,
    "cus_": Payment.customer_id,
    "sub_": Payment.subscription_id,
}


def search_payments(q="", page=1):
    """Payments by donor name, email, amount ("25" or "25.00") or any Stripe id.

    A Stripe id, an email address or an amount is looked up by its own (indexed) column;
    only a name is searched for anywhere in names and addresses.
    """
    query = sa.select(Payment).where(Payment.status != PaymentStatus.pending)
    q = (q or "").strip()
    cents = _cents(q) if q else None
    prefix = next((p for p in STRIPE_PREFIXES if q.startswith(p)), None)
    if prefix:
        query = query.where(STRIPE_PREFIXES[prefix] == q)
    elif "@" in q and " " not in q:
        query = query.where(Payment.email.in_({q, q.lower()}))
    elif cents is not None:
        query = query.where(Payment.amount == cents)
    elif q:
        pattern = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.where(sa.or_(Payment.name.ilike(pattern), Payment.email.ilike(pattern)))
    return paginate(query.order_by(Payment.id.desc()), page)


def _cents(text):
    from decimal import Decimal, InvalidOperation

    cleaned = text.replace("$", "").replace(" ", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if value < 0 or value > 10**9 or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


def refunds(page=1):
    return paginate(sa.select(Refund).order_by(Refund.id.desc()), page)


def disputes(page=1):
    return paginate(sa.select(Dispute).order_by(Dispute.id.desc()), page)


EVENT_OUTCOMES = ("handled", "failing", "given_up", "waiting")


def events(type_=None, outcome=None, page=1):
    query = sa.select(StripeEvent)
    if type_:
        query = query.where(StripeEvent.type == type_)
    if outcome == "handled":
        query = query.where(StripeEvent.processed_at.is_not(None))
    elif outcome == "given_up":
        query = query.where(
            StripeEvent.processed_at.is_(None), StripeEvent.given_up_at.is_not(None)
        )
    elif outcome == "failing":
        query = query.where(
            StripeEvent.processed_at.is_(None),
            StripeEvent.given_up_at.is_(None),
            StripeEvent.last_error.is_not(None),
        )
    elif outcome == "waiting":
        query = query.where(StripeEvent.processed_at.is_(None), StripeEvent.last_error.is_(None))
    return paginate(query.order_by(StripeEvent.received_at.desc(), StripeEvent.id), page)


def event_types():
    return db.session.scalars(
        sa.select(StripeEvent.type).distinct().order_by(StripeEvent.type)
    ).all()


def audit_entries(action=None, page=1):
    query = sa.select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    return paginate(query.order_by(AuditEntry.id.desc()), page)
