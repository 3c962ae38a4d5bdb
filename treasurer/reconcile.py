"""Reconciling a payout: each line matched to our records, the payout checked, then frozen.

A payout is Balanced when the net of its lines (less its own ``payout`` line) equals its
amount and every line is matched: a charge to a Payment, a refund to a Refund, a dispute to
a Dispute; Stripe's fees, other adjustments and payout lines are their own kind. Totals
come from SQL aggregates, so a payout of 100 000 lines is checked in a few queries.
"""

import hashlib

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import audit, clock
from core.db import db, locked
from core.errors import Conflict, NotFound
from payments.models import Payout, PayoutLine
from payments.payouts import fetch_lines, match_lines, stripe_lines, sync_payout
from treasurer.models import PayoutCheck, PayoutReview

#: Line types that stand for money we should hold a row for.
CHARGE_TYPES = ("charge", "payment")
REFUND_TYPES = ("refund", "payment_refund", "payment_failure_refund", "refund_failure")
DISPUTE_PREFIXES = ("dp_", "du_")

KIND_LABELS = {
    "charge": _l("Payment"),
    "refund": _l("Refund"),
    "dispute": _l("Dispute"),
    "fee": _l("Stripe fee"),
    "adjustment": _l("Adjustment"),
    "payout": _l("Payout"),
    "other": _l("Other"),
}


def line_kind(type_, source_id):
    """What a balance transaction is, in the treasurer's words (see ``KIND_LABELS``)."""
    source = source_id or ""
    if type_ in CHARGE_TYPES:
        return "charge"
    if type_ in REFUND_TYPES or source.startswith(("re_", "pyr_")):
        return "refund"
    if source.startswith(DISPUTE_PREFIXES):
        return "dispute"
    if type_ in ("stripe_fee", "application_fee", "tax"):
        return "fee"
    if type_ in ("payout", "payout_failure", "payout_cancel"):
        return "payout"
    if type_ == "adjustment":
        return "adjustment"
    return "other"


def _is_dispute():
    return sa.or_(*(PayoutLine.source_id.startswith(p) for p in DISPUTE_PREFIXES))


def unmatched_clause():
    """SQL: a line that should have a row of ours and has none."""
    return sa.or_(
        sa.and_(PayoutLine.type.in_(CHARGE_TYPES), PayoutLine.payment_id.is_(None)),
        sa.and_(
            sa.or_(
                PayoutLine.type.in_(REFUND_TYPES),
                PayoutLine.source_id.startswith("re_"),
                PayoutLine.source_id.startswith("pyr_"),
            ),
            PayoutLine.refund_id.is_(None),
        ),
        sa.and_(_is_dispute(), PayoutLine.dispute_id.is_(None)),
    )


def review_of(payout):
    review = db.session.scalar(sa.select(PayoutReview).where(PayoutReview.payout_id == payout.id))
    if review is None:
        review = PayoutReview(payout=payout, payout_id=payout.id, note="")
        db.session.add(review)
        db.session.flush()
    return review


def check_payout(payout):
    """Work out the payout's status from its lines (a few aggregates) and keep it."""
    review = review_of(payout)
    if review.is_reconciled:
        return review
    own = PayoutLine.type == "payout"
    totals = db.session.execute(
        sa.select(
            sa.func.count(PayoutLine.id),
            sa.func.coalesce(sa.func.sum(sa.case((own, 0), else_=PayoutLine.net)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((own, 0), else_=PayoutLine.amount)), 0),
            sa.func.coalesce(sa.func.sum(PayoutLine.fee), 0),
            sa.func.count(PayoutLine.id).filter(unmatched_clause()),
        ).where(PayoutLine.payout_id == payout.id)
    ).one()
    count, net, gross, fees, unmatched = (int(v or 0) for v in totals)
    review.line_count, review.lines_net, review.gross, review.fees = count, net, gross, fees
    review.unmatched_count = unmatched
    review.checked_at = clock.now()
    if payout.synced_at is None:
        review.check = PayoutCheck.pending
    elif unmatched:
        review.check = PayoutCheck.unmatched
    elif net != payout.amount:
        review.check = PayoutCheck.mismatch
    else:
        review.check = PayoutCheck.balanced
    db.session.flush()
    return review


def unmatched_lines(payout, limit=20):
    """The first lines that have no row of ours, to name them."""
    return db.session.scalars(
        sa.select(PayoutLine)
        .where(PayoutLine.payout_id == payout.id, unmatched_clause())
        .order_by(PayoutLine.id)
        .limit(limit)
    ).all()


def reason(review):
    """Why the payout has its status, in a sentence."""
    payout = review.payout
    if review.check == PayoutCheck.pending:
        return _l("Its lines have not been fetched from Stripe yet.")
    if review.check == PayoutCheck.unmatched:
        return _l(
            "%(count)s line(s) match none of our records.",
            count=review.unmatched_count,
        )
    if review.check == PayoutCheck.mismatch:
        from core.money import format_money

        return _l(
            "The lines add up to %(lines)s but the payout is %(payout)s.",
            lines=format_money(review.lines_net, payout.currency),
            payout=format_money(payout.amount, payout.currency),
        )
    return _l("Every line is matched and the lines add up to the payout.")


def sync(payout):
    """The "Sync now" button: mirror the payout, then fetch its lines or, if frozen, compare."""
    payout = sync_payout(payout.stripe_payout_id)
    review = review_of(payout)
    if review.is_reconciled:
        compare_frozen(payout, review)
        return review
    if payout.reconciliation_status == "completed" and payout.automatic:
        fetch_lines(payout)
    match_lines(payout.id)
    audit.record("payout.synced", payout)
    return check_payout(payout)


# -- freezing ------------------------------------------------------------------------------


def _fingerprint(values):
    return "|".join(
        str(values[k])
        for k in ("balance_transaction_id", "type", "amount", "fee", "net", "source_id")
    )


def _digest(rows):
    """Count, net and SHA-256 of lines given in ``balance_transaction_id`` order."""
    digest, count, net = hashlib.sha256(), 0, 0
    for values in rows:
        digest.update(_fingerprint(values).encode() + b"\n")
        count += 1
        net += values["net"]
    return count, net, digest.hexdigest()


def _stored_rows(payout_id):
    columns = (
        PayoutLine.balance_transaction_id,
        PayoutLine.type,
        PayoutLine.amount,
        PayoutLine.fee,
        PayoutLine.net,
        PayoutLine.source_id,
    )
    result = db.session.execute(
        sa.select(*columns)
        .where(PayoutLine.payout_id == payout_id)
        .order_by(PayoutLine.balance_transaction_id)
        .execution_options(yield_per=5000)
    )
    for row in result:
        yield row._mapping


def reconcile(payout, user, note=""):
    """Mark a Balanced payout Reconciled (who, when, audited) and freeze its lines."""
    payout = locked(sa.select(Payout).where(Payout.id == payout.id)).one()
    review = check_payout(payout)
    if review.is_reconciled:
        raise Conflict(_l("This payout is already reconciled."), code="already_reconciled")
    if review.check != PayoutCheck.balanced:
        raise Conflict(_l("Only a balanced payout can be reconciled."), code="not_balanced")
    review.frozen_count, review.frozen_net, review.frozen_digest = _digest(_stored_rows(payout.id))
    review.reconciled_at = clock.now()
    review.reconciled_by_id = user.id
    review.reconciled_by = user.email
    if note:
        review.note = note
    db.session.flush()
    audit.record("payout.reconciled", payout, data={"note": note} if note else None)
    return review


def add_note(payout, note):
    review = review_of(payout)
    review.note = note
    audit.record("payout.note", payout, data={"note": note})
    return review


def compare_frozen(payout, review):
    """Fetch a reconciled payout's lines again; a difference is raised as a discrepancy."""
    rows = list(stripe_lines(payout))
    rows.sort(key=lambda r: r["balance_transaction_id"])
    count, net, digest = _digest(rows)
    if digest == review.frozen_digest:
        audit.record("payout.verified", payout)
        return False
    review.discrepancy_at = clock.now()
    review.discrepancy = str(
        _l(
            "Fetched again, Stripe lists %(count)s lines with a net of %(net)s cents; "
            "%(frozen_count)s lines with a net of %(frozen_net)s cents were reconciled.",
            count=count,
            net=net,
            frozen_count=review.frozen_count,
            frozen_net=review.frozen_net,
        )
    )
    audit.record(
        "payout.discrepancy",
        payout,
        data={"count": count, "net": net, "frozen_count": review.frozen_count},
    )
    return True


def payout_or_404(payout_id):
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        raise NotFound()
    return payout
