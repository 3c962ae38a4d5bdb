"""Payouts: mirrored from Stripe, and their balance transactions fetched once reconciled.

Fetching a payout's transactions can mean thousands of lines, so the webhook only flags
the payout (``needs_sync``); the worker's ``payouts.sync`` task does the fetching.
"""

import logging
import queue
import threading
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

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


#: How many balance transactions are matched and written at a time.
BATCH = 1000


def fetch_lines(payout, progress=None):
    """Fetch and match every balance transaction of a payout (idempotent).

    Page by page, as raw JSON, written in batches: a payout of 100 000 transactions is never
    held in memory, and our rows are looked up a batch at a time, not once per line. The
    next pages are read from Stripe while a batch is written.
    """
    count = 0
    batch = []
    for page in _read_ahead(gateway().payout_transaction_pages(payout.stripe_payout_id)):
        batch.extend(page)
        if len(batch) >= BATCH:
            count += _store_lines(payout.id, batch)
            batch = []
        if progress is not None:
            progress(len(page))
    if batch:
        count += _store_lines(payout.id, batch)
    payout.needs_sync = False
    payout.synced_at = clock.now()
    db.session.flush()
    return count


#: Pages read from Stripe ahead of the batch being written (at most).
READ_AHEAD = 20


def _read_ahead(pages):
    """Iterate ``pages`` from a thread of its own, a few pages ahead of the caller.

    The pages come over the network and the batches go to the database: overlapping the
    two halves a sync's time. An error in the reader is raised in the caller.
    """
    ahead = queue.Queue(maxsize=READ_AHEAD)
    done = object()
    stop = threading.Event()

    def read():
        try:
            for page in pages:
                if stop.is_set():
                    return
                ahead.put(page)
            ahead.put(done)
        except BaseException as error:  # handed over to the caller
            ahead.put(error)

    reader = threading.Thread(target=read, name="payout-pages", daemon=True)
    reader.start()
    try:
        while (item := ahead.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():
            try:
                ahead.get(timeout=0.1)
            except queue.Empty:
                pass
        reader.join()


def stripe_lines(payout):
    """The payout's balance transactions as Stripe lists them now, as line values (a
    generator), without storing anything: to compare with lines already stored."""
    for page in _read_ahead(gateway().payout_transaction_pages(payout.stripe_payout_id)):
        yield from (line_values(txn) for txn in page)


def line_values(txn):
    """A balance transaction (Stripe's JSON) as the columns of a :class:`PayoutLine`."""
    source = txn.get("source")
    return {
        "balance_transaction_id": txn["id"],
        "type": txn["type"],
        "reporting_category": txn.get("reporting_category"),
        "amount": txn["amount"],
        "fee": txn["fee"],
        "net": txn["net"],
        "source_id": source.get("id") if isinstance(source, dict) else source,
        "description": (txn.get("description") or "")[:500],
        "created": datetime.fromtimestamp(int(txn["created"]), UTC),
    }


def _store_lines(payout_id, txns):
    rows = [line_values(txn) for txn in txns]
    _match(rows)
    ids = [row["balance_transaction_id"] for row in rows]
    existing = dict(
        db.session.execute(
            sa.select(PayoutLine.balance_transaction_id, PayoutLine.id).where(
                _among(PayoutLine.balance_transaction_id, ids)
            )
        ).all()
    )
    new, known = [], []
    for row in rows:
        row["payout_id"] = payout_id
        line_id = existing.get(row["balance_transaction_id"])
        if line_id is None:
            new.append(row)
        else:
            known.append({"id": line_id, **row})
    if new:
        _insert(new)
    if known:
        db.session.execute(sa.update(PayoutLine), known)
    return len(rows)


_COPY_COLUMNS = (
    "payout_id",
    "balance_transaction_id",
    "type",
    "reporting_category",
    "amount",
    "fee",
    "net",
    "source_id",
    "description",
    "created",
    "payment_id",
    "refund_id",
    "dispute_id",
)


def _insert(rows):
    """Insert new lines: with COPY on PostgreSQL (a statement per row costs seconds per
    100 000), as an executemany elsewhere."""
    if not is_postgres():
        db.session.execute(sa.insert(PayoutLine), rows)
        return
    connection = db.session.connection().connection.dbapi_connection
    statement = f"COPY payout_line ({', '.join(_COPY_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            # The column holds naive UTC (core.db.UTCDateTime).
            values = {**row, "created": row["created"].astimezone(UTC).replace(tzinfo=None)}
            copy.write_row(tuple(values[name] for name in _COPY_COLUMNS))


def _among(column, values):
    """SQL: ``column`` is one of ``values``; on PostgreSQL one array parameter
    (``= ANY(%s)``) rather than a thousand, which cost more to send than to look up."""
    if is_postgres():
        return column == sa.any_(sa.bindparam(None, list(values), type_=ARRAY(sa.String)))
    return column.in_(values)


def _lookup(column, wanted, *columns):
    if not wanted:
        return {}
    query = sa.select(column, *columns).where(_among(column, wanted))
    return {row[0]: row[1:] for row in db.session.execute(query)}


def _match(rows):
    """Fill in each row's payment, refund and dispute, with one query per kind."""
    charges, refunds, disputes = set(), set(), set()
    for row in rows:
        source = row["source_id"] or ""
        if source.startswith(("ch_", "py_")):
            charges.add(source)
        elif source.startswith(("re_", "pyr_")):
            refunds.add(source)
        elif source.startswith(("dp_", "du_")):
            disputes.add(source)
    payments = _lookup(Payment.charge_id, charges, Payment.id)
    found_refunds = _lookup(Refund.stripe_refund_id, refunds, Refund.id, Refund.payment_id)
    found_disputes = _lookup(Dispute.stripe_dispute_id, disputes, Dispute.id, Dispute.payment_id)
    for row in rows:
        source = row["source_id"] or ""
        row.update(payment_id=None, refund_id=None, dispute_id=None)
        if source in payments:
            row["payment_id"] = payments[source][0]
        elif source in found_refunds:
            row["refund_id"], row["payment_id"] = found_refunds[source]
        elif source in found_disputes:
            row["dispute_id"], row["payment_id"] = found_disputes[source]


def match_lines(payout_id):
    """Match a payout's lines to our rows again (a payment recorded after the fetch)."""
    last = 0
    while True:
        lines = db.session.execute(
            sa.select(PayoutLine.id, PayoutLine.source_id)
            .where(PayoutLine.payout_id == payout_id, PayoutLine.id > last)
            .order_by(PayoutLine.id)
            .limit(BATCH)
        ).all()
        if not lines:
            return
        rows = [{"id": line.id, "source_id": line.source_id} for line in lines]
        _match(rows)
        db.session.execute(sa.update(PayoutLine), rows)
        last = lines[-1].id


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
