"""Year-end and tax reports: the receipt register and the GST/HST report.

The register lists every receipt of a calendar year (issued, voided, replaced) with the
total eligible amount of those still standing, for the charity's annual information
return. The GST/HST report sums the tax on what was paid in a period, less the tax given
back by refunds (credit notes), by province where the feature that sold it records one.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app

from core.db import db
from core.money import to_decimal
from payments.models import (
    Allocation,
    Payment,
    PaymentStatus,
    Refund,
    RefundAllocation,
    RefundStatus,
)

REGISTER_HEADER = [
    "number",
    "kind",
    "issued_on",
    "donor",
    "email",
    "amount",
    "advantage",
    "eligible_amount",
    "state",
    "replaces",
]

GST_HEADER = ["province", "purpose", "tax_collected", "credit_notes", "net_tax"]


def order_regions():
    """Shop orders: the province of delivery (or, for digital-only orders, the buyer's),
    for orders delivered in Canada."""
    from shop.models import Order

    return sa.select(Order.id.label("id"), Order.province.label("province")).where(
        Order.country == "CA"
    )


def dues_regions():
    """Membership dues: the member's province when they were priced, for members in
    Canada."""
    from members.models import Dues

    return sa.select(Dues.id.label("id"), Dues.tax_province.label("province")).where(
        Dues.tax_province != ""
    )


#: The purposes whose rows record where they were taxed, and the feature that sells them.
REGIONS = {"order": ("shop", order_regions), "membership": ("members", dues_regions)}


def tax_regions():
    """``{purpose: regions}`` for the features this installation serves; ``regions()`` is
    a select of ``id`` (the allocation's row id) and ``province``."""
    features = current_app.config["FEATURES"]
    return {
        purpose: regions for purpose, (feature, regions) in REGIONS.items() if feature in features
    }


@dataclass
class Register:
    year: int
    receipts: list
    issued: int = 0
    voided: int = 0
    replaced: int = 0
    eligible_total: int = 0
    voided_total: int = 0


def _receipt_model():
    if "donations" not in current_app.config["FEATURES"]:
        return None
    from donations.models import Receipt

    return Receipt


def receipt_register(year, limit=500):
    """The year's receipts (the first ``limit`` on screen) and totals from one aggregate."""
    receipt = _receipt_model()
    if receipt is None:
        return Register(year, [])
    void = receipt.voided_at.is_not(None)
    totals = db.session.execute(
        sa.select(
            sa.func.count(receipt.id).filter(~void),
            sa.func.count(receipt.id).filter(void),
            sa.func.count(receipt.id).filter(receipt.replaces_id.is_not(None)),
            sa.func.coalesce(sa.func.sum(receipt.eligible_amount).filter(~void), 0),
            sa.func.coalesce(sa.func.sum(receipt.eligible_amount).filter(void), 0),
        ).where(receipt.year == year)
    ).one()
    rows = db.session.scalars(
        sa.select(receipt).where(receipt.year == year).order_by(receipt.id).limit(limit)
    ).all()
    issued, voided, replaced, eligible, voided_total = (int(v or 0) for v in totals)
    return Register(year, rows, issued, voided, replaced, eligible, voided_total)


def register_rows(year):
    receipt = _receipt_model()
    if receipt is None:
        return
    last = 0
    numbers = {}
    while True:
        batch = db.session.scalars(
            sa.select(receipt)
            .where(receipt.year == year, receipt.id > last)
            .order_by(receipt.id)
            .limit(1000)
        ).all()
        if not batch:
            return
        for r in batch:
            numbers[r.id] = r.number or f"#{r.id}"
            yield [
                r.number or "",
                r.kind.value,
                r.issued_on.isoformat(),
                r.donor_name,
                r.email,
                to_decimal(r.amount),
                to_decimal(r.advantage),
                to_decimal(r.eligible_amount),
                "voided" if r.is_void else "issued",
                numbers.get(r.replaces_id, r.replaces_id or ""),
            ]
        last = batch[-1].id


@dataclass
class TaxLine:
    province: str
    purpose: str
    collected: int = 0
    credited: int = 0

    @property
    def net(self):
        return self.collected - self.credited


@dataclass
class GstReport:
    start: object
    end: object
    lines: list = field(default_factory=list)

    @property
    def collected(self):
        return sum(line.collected for line in self.lines)

    @property
    def credited(self):
        return sum(line.credited for line in self.lines)

    @property
    def net(self):
        return self.collected - self.credited


def gst_report(start, end):
    """Tax collected on payments in [start, end) less the tax refunded in it, by province.

    Summed in SQL by purpose, and by province for the purposes that record one (see
    :func:`tax_regions`).
    """
    lookups = tax_regions()
    by_row = tuple(lookups)
    paid = sa.and_(
        Payment.status == PaymentStatus.succeeded,
        Payment.paid_at >= start,
        Payment.paid_at < end,
        Allocation.tax > 0,
    )
    refunded = sa.and_(
        Refund.status == RefundStatus.succeeded,
        Refund.created_at >= start,
        Refund.created_at < end,
        Allocation.tax > 0,
    )
    # The tax in a refund of part of an allocation: pro rata, rounded down, as exports do.
    credit = RefundAllocation.amount * Allocation.tax / Allocation.amount
    lines = {}

    def line(province, purpose):
        return lines.setdefault((province, purpose), TaxLine(province, purpose))

    collected = (
        sa.select(Allocation.purpose, sa.func.sum(Allocation.tax))
        .join(Payment, Payment.id == Allocation.payment_id)
        .where(paid, Allocation.purpose.not_in(by_row))
        .group_by(Allocation.purpose)
    )
    for purpose, tax in db.session.execute(collected):
        line("", purpose).collected += int(tax or 0)
    credited = (
        sa.select(Allocation.purpose, sa.func.sum(credit))
        .select_from(RefundAllocation)
        .join(Allocation, Allocation.id == RefundAllocation.allocation_id)
        .join(Refund, Refund.id == RefundAllocation.refund_id)
        .where(refunded, Allocation.purpose.not_in(by_row))
        .group_by(Allocation.purpose)
    )
    for purpose, tax in db.session.execute(credited):
        line("", purpose).credited += int(tax or 0)
    for purpose in by_row:
        region = lookups[purpose]().subquery()
        province = sa.func.coalesce(region.c.province, "")
        collected = (
            sa.select(province, sa.func.sum(Allocation.tax))
            .select_from(Allocation)
            .join(Payment, Payment.id == Allocation.payment_id)
            .outerjoin(region, region.c.id == Allocation.row_id)
            .where(paid, Allocation.purpose == purpose)
            .group_by(province)
        )
        for where, tax in db.session.execute(collected):
            line(where, purpose).collected += int(tax or 0)
        credited = (
            sa.select(province, sa.func.sum(credit))
            .select_from(RefundAllocation)
            .join(Allocation, Allocation.id == RefundAllocation.allocation_id)
            .join(Refund, Refund.id == RefundAllocation.refund_id)
            .outerjoin(region, region.c.id == Allocation.row_id)
            .where(refunded, Allocation.purpose == purpose)
            .group_by(province)
        )
        for where, tax in db.session.execute(credited):
            line(where, purpose).credited += int(tax or 0)
    return GstReport(start, end, sorted(lines.values(), key=lambda t: (t.province, t.purpose)))


def gst_rows(report):
    for t in report.lines:
        yield [
            t.province or "",
            t.purpose,
            to_decimal(t.collected),
            to_decimal(t.credited),
            to_decimal(t.net),
        ]
    yield [
        "",
        "total",
        to_decimal(report.collected),
        to_decimal(report.credited),
        to_decimal(report.net),
    ]
