"""CSV exports of payout lines: a double-entry journal for the accountant, and the plain lines.

Both are generated a batch of lines at a time (keyset pages, a few queries per batch), so
an export of a million lines streams in constant memory. Each line of the journal is
balanced on its own (what Stripe kept, what it paid out, what we earned), so the debits
of any export equal its credits.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from core import clock
from core.db import db
from core.money import to_decimal
from payments.models import Allocation, Payout, PayoutLine, RefundAllocation
from treasurer.reconcile import line_kind

BATCH = 1000

DEFAULT_ACCOUNTS = {
    "bank": "1000 Bank",
    "clearing": "1050 Stripe clearing",
    "suspense": "1990 Unmatched Stripe receipts",
    "tax": "2200 GST/HST payable",
    "donation": "4000 Donations - {fund}",
    "membership": "4100 Membership dues",
    "order": "4200 Publication sales",
    "other_income": "4900 Other income",
    "fees": "5100 Stripe fees",
    "disputes": "5150 Disputes and chargebacks",
    "adjustments": "5190 Stripe adjustments",
}

JOURNAL_HEADER = ["date", "account", "debit", "credit", "memo", "source_id"]
LINES_HEADER = [
    "date",
    "payout",
    "balance_transaction",
    "type",
    "kind",
    "source_id",
    "amount",
    "fee",
    "net",
    "payment",
    "purposes",
    "description",
]


def accounts():
    return {**DEFAULT_ACCOUNTS, **(current_app.config.get("TREASURER_ACCOUNTS") or {})}


def line_batches(*conditions):
    """Lines matching ``conditions``, a batch at a time, in id order (keyset, not offset)."""
    last = 0
    while True:
        batch = db.session.scalars(
            sa.select(PayoutLine)
            .where(PayoutLine.id > last, *conditions)
            .order_by(PayoutLine.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        yield batch
        last = batch[-1].id


def payout_conditions(payout):
    return (PayoutLine.payout_id == payout.id,)


def range_conditions(start, end):
    return (PayoutLine.created >= start, PayoutLine.created < end)


@dataclass
class Context:
    """What a batch of lines needs from our rows, looked up once for the batch."""

    allocations: dict  # payment id -> [(allocation id, purpose, row id, amount, tax)]
    refund_parts: dict  # refund id -> [(allocation id, amount)]
    funds: dict  # donation id -> fund name
    allocation_index: dict  # allocation id -> (purpose, row id, amount, tax)
    payouts: dict  # payout id -> stripe payout id


def _context(batch):
    payment_ids = {line.payment_id for line in batch if line.payment_id}
    refund_ids = {line.refund_id for line in batch if line.refund_id}
    allocations, index = {}, {}
    if payment_ids:
        for row in db.session.execute(
            sa.select(
                Allocation.id,
                Allocation.payment_id,
                Allocation.purpose,
                Allocation.row_id,
                Allocation.amount,
                Allocation.tax,
            )
            .where(Allocation.payment_id.in_(payment_ids))
            .order_by(Allocation.id)
        ):
            allocations.setdefault(row.payment_id, []).append(row)
            index[row.id] = row
    parts = {}
    if refund_ids:
        for refund_id, allocation_id, amount in db.session.execute(
            sa.select(
                RefundAllocation.refund_id, RefundAllocation.allocation_id, RefundAllocation.amount
            ).where(RefundAllocation.refund_id.in_(refund_ids))
        ):
            parts.setdefault(refund_id, []).append((allocation_id, amount))
    donation_ids = {a.row_id for a in index.values() if a.purpose == "donation"}
    funds = {}
    if donation_ids and "donations" in current_app.config["FEATURES"]:
        from donations.models import Donation, Fund

        funds = dict(
            db.session.execute(
                sa.select(Donation.id, Fund.name_en)
                .join(Fund, Fund.id == Donation.fund_id)
                .where(Donation.id.in_(donation_ids))
            ).all()
        )
    payout_ids = {line.payout_id for line in batch}
    payouts = dict(
        db.session.execute(
            sa.select(Payout.id, Payout.stripe_payout_id).where(Payout.id.in_(payout_ids))
        ).all()
    )
    return Context(allocations, parts, funds, index, payouts)


def _income_account(names, ctx, allocation):
    if allocation.purpose == "donation":
        return names["donation"].format(fund=ctx.funds.get(allocation.row_id, "?"))
    return names.get(allocation.purpose, names["other_income"])


def _split_tax(amount, allocation):
    """The tax in ``amount`` of an allocation (pro rata, to the cent)."""
    if not allocation.tax or not allocation.amount:
        return 0
    return amount * allocation.tax // allocation.amount


def journal_entries(line, ctx, names):
    """``(account, debit, credit, memo)`` entries for one line; they balance."""
    kind = line_kind(line.type, line.source_id)
    amount, fee = line.amount, line.fee
    entries = []
    if kind == "payout":
        if amount < 0:
            entries += [(names["bank"], -amount, 0), (names["clearing"], 0, -amount)]
        else:
            entries += [(names["clearing"], amount, 0), (names["bank"], 0, amount)]
    elif kind == "charge":
        entries.append((names["clearing"], amount, 0))
        left = amount
        for allocation in ctx.allocations.get(line.payment_id, []):
            share = min(allocation.amount, left)
            tax = _split_tax(share, allocation)
            if share - tax:
                entries.append((_income_account(names, ctx, allocation), 0, share - tax))
            if tax:
                entries.append((names["tax"], 0, tax))
            left -= share
        if left:
            entries.append((names["suspense"], 0, left))
    elif kind == "refund" and amount < 0:
        back = -amount
        for allocation_id, part in ctx.refund_parts.get(line.refund_id, []):
            allocation = ctx.allocation_index.get(allocation_id)
            part = min(part, back)
            if allocation is None or not part:
                continue
            tax = _split_tax(part, allocation)
            if part - tax:
                entries.append((_income_account(names, ctx, allocation), part - tax, 0))
            if tax:
                entries.append((names["tax"], tax, 0))
            back -= part
        if back:
            entries.append((names["suspense"], back, 0))
        entries.append((names["clearing"], 0, -amount))
    elif kind in ("dispute", "refund", "adjustment", "fee", "other"):
        account = {
            "dispute": names["disputes"],
            "fee": names["fees"],
            "refund": names["suspense"],
        }.get(kind, names["adjustments"])
        if amount < 0:
            entries += [(account, -amount, 0), (names["clearing"], 0, -amount)]
        elif amount > 0:
            entries += [(names["clearing"], amount, 0), (account, 0, amount)]
    if fee > 0:
        entries += [(names["fees"], fee, 0), (names["clearing"], 0, fee)]
    elif fee < 0:
        entries += [(names["clearing"], -fee, 0), (names["fees"], 0, -fee)]
    return entries


def journal_rows(batches):
    """The journal, row by row: date, account, debit, credit, memo, source id."""
    names = accounts()
    for batch in batches:
        ctx = _context(batch)
        for line in batch:
            day = clock.local(line.created).date().isoformat()
            memo = (
                f"{line.type} {ctx.payouts.get(line.payout_id, '')} {line.balance_transaction_id}"
            )
            for account, debit, credit in journal_entries(line, ctx, names):
                yield [
                    day,
                    account,
                    to_decimal(debit) if debit else "",
                    to_decimal(credit) if credit else "",
                    memo,
                    line.source_id or "",
                ]


def lines_rows(batches):
    for batch in batches:
        ctx = _context(batch)
        for line in batch:
            purposes = " ".join(
                sorted({a.purpose for a in ctx.allocations.get(line.payment_id, [])})
            )
            yield [
                clock.local(line.created).date().isoformat(),
                ctx.payouts.get(line.payout_id, ""),
                line.balance_transaction_id,
                line.type,
                line_kind(line.type, line.source_id),
                line.source_id or "",
                to_decimal(line.amount),
                to_decimal(line.fee),
                to_decimal(line.net),
                line.payment_id or "",
                purposes,
                line.description or "",
            ]
