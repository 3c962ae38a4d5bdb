"""Payouts: mirrored from Stripe, and their balance transactions fetched once reconciled.

Fetching a payout's transactions can mean thousands of lines, so the webhook only flags
the payout (``needs_sync``); the worker's ``payouts.sync`` task does the fetching.
"""

import logging
from datetime import UTC, datetime

import sqlalchemy as sa

from core import audit, clock
from core.db import db, is_postgres, locked
from payments.gateway import gateway
from payments.models import Dispute, Payment, Payout, PayoutLine, Refund

log = logging.getLogger(__name__)


def sync_payout(payout_id):
    """Mirror a payout's state; flag it for fetching once Stripe says it is reconciled."""
    stripe_payout = gateway().retrieve_payout(payout_id)
    payout = locked(sa.select(Payout).where(Payout.stripe_payout_id == payout_id)).first()
    if payout is None:
        payout = Payout(stripe_payout_id=payout_id, amount=0, status="")
        db.session.add(payout)
    previous = payout.status
    payout.amount = stripe_payout["amount"]
    payout.currency = stripe_payout.get("currency", "cad")
    payout.status = stripe_payout["status"]
    payout.automatic = bool(stripe_payout.get("automatic", True))
    payout.reconciliation_status = stripe_payout.get("reconciliation_status")
    arrival = stripe_payout.get("arrival_date")
    if arrival:
        payout.arrival_date = datetime.fromtimestamp(int(arrival), UTC)
    txn = stripe_payout.get("balance_transaction")
    payout.balance_transaction_id = txn.get("id") if isinstance(txn, dict) else txn
    reconciled = payout.reconciliation_status == "completed"
    if payout.automatic and reconciled and payout.synced_at is None:
        payout.needs_sync = True
    db.session.flush()
    if previous != payout.status:
        audit.record(
            "payout.status", payout, actor="stripe", data={"from": previous, "to": payout.status}
        )
    return payout


def fetch_lines(payout, progress=None):
    """Fetch and match every balance transaction of a payout (idempotent)."""
    existing = {line.balance_transaction_id: line for line in payout.lines}
    count = 0
    for txn in gateway().payout_transactions(payout.stripe_payout_id):
        line = existing.get(txn["id"])
        if line is None:
            line = PayoutLine(payout=payout, balance_transaction_id=txn["id"])
            db.session.add(line)
            existing[txn["id"]] = line
        source = txn.get("source")
        line.type = txn["type"]
        line.reporting_category = txn.get("reporting_category")
        line.amount = txn["amount"]
        line.fee = txn["fee"]
        line.net = txn["net"]
        line.source_id = source.get("id") if isinstance(source, dict) else source
        line.description = (txn.get("description") or "")[:500]
        line.created = datetime.fromtimestamp(int(txn["created"]), UTC)
        _match(line)
        count += 1
        if progress is not None:
            progress(1)
    payout.needs_sync = False
    payout.synced_at = clock.now()
    db.session.flush()
    return count


def _match(line):
    source = line.source_id or ""
    if source.startswith(("ch_", "py_")):
        line.payment_id = db.session.scalar(
            sa.select(Payment.id).where(Payment.charge_id == source)
        )
    elif source.startswith(("re_", "pyr_")):
        refund = db.session.scalar(sa.select(Refund).where(Refund.stripe_refund_id == source))
        line.refund_id = refund.id if refund else None
        line.payment_id = refund.payment_id if refund else None
    elif source.startswith(("dp_", "du_")):
        dispute = db.session.scalar(sa.select(Dispute).where(Dispute.stripe_dispute_id == source))
        line.dispute_id = dispute.id if dispute else None
        line.payment_id = dispute.payment_id if dispute else None


def _claim_flagged(skip):
    """Lock one flagged payout that no other worker holds (and not in ``skip``), or None."""
    query = (
        sa.select(Payout)
        .where(Payout.needs_sync.is_(True), Payout.id.not_in(skip or [0]))
        .order_by(Payout.id)
        .limit(1)
    )
    if is_postgres():
        query = query.with_for_update(skip_locked=True)
    return db.session.scalars(query.execution_options(populate_existing=True)).first()


def sync_flagged(progress=None):
    """The worker task: fetch the lines of every flagged payout, each in its own transaction.

    Several workers (or the worker and a cron job) share the work; a payout that fails is
    left flagged for the next round and does not stop the others.
    """
    done, failed = 0, set()
    while (payout := _claim_flagged(failed)) is not None:
        payout_id = payout.id
        try:
            fetch_lines(payout, progress)
            db.session.commit()
            done += 1
        except Exception:
            db.session.rollback()
            log.exception("Payout %s could not be fetched", payout_id)
            failed.add(payout_id)
    db.session.rollback()
    return done
