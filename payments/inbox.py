"""The event inbox: the webhook stores each Stripe event once by its id; the worker handles it.

Store, answer, then handle. The webhook checks the signature, inserts the event (a
duplicate insert does nothing), commits and answers 200 at once. The worker
(:func:`work`) claims due events with ``FOR UPDATE SKIP LOCKED``, oldest first and never
ahead of an earlier unhandled event about the same object, and handles each in its own
transaction. A failure is written on the row and retried with back-off; after
:data:`MAX_ATTEMPTS` the event is given up (the treasurer sees it, and :func:`replay`
makes it due again). The worker finds its work in our table alone, never by asking Stripe.

Handlers take only the object's id from the event and read its current state from
Stripe. That makes an event rendered in another API version a mere pointer, and makes
duplicates, late and out-of-order events converge on the same end state. An event about
something this app never created is acknowledged from our own rows, without asking Stripe.
"""

import json
import logging
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased

from core import audit, clock
from core.db import db, is_postgres, locked
from core.errors import Conflict, NotFound
from core.settings import get_setting, set_setting
from payments import checkout, payouts, recurring, refunds
from payments.gateway import API_VERSION, ObjectMissing, gateway
from payments.models import Payment, StripeAttempt, StripeEvent
from payments.recording import payment_id_in

log = logging.getLogger(__name__)

#: How far back a catch-up looks before the last one, for events created out of order.
SYNC_OVERLAP = timedelta(minutes=10)
#: Stripe lists events for 30 days.
EVENT_RETENTION = timedelta(days=30)
SYNC_CURSOR = "payments.events_synced_until"
#: Stripe's ids are at most 255 characters; so is our column.
MAX_ID_LENGTH = 255
#: Tries before an event is given up (about a day and a half of back-off in all).
MAX_ATTEMPTS = 8
#: Events the worker handles in one run of its task.
BATCH = 200


class MalformedEvent(ValueError):
    """Not shaped like a Stripe event: refused before it is stored (a 400)."""


class UnusableEvent(ValueError):
    """A stored event whose object can never be handled: given up at once."""


def _text_ok(value, limit):
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a JSON "\ud800"
        return False
    return True


def check_event(event):
    """The parts of an event we rely on; MalformedEvent if it cannot even be stored."""
    try:
        event_id = event["id"]
        event_type = event["type"]
        created = datetime.fromtimestamp(int(event["created"]), UTC)
        data = event["data"]
        obj = data["object"] if isinstance(data, dict) else None
    except (KeyError, TypeError, ValueError, OverflowError, OSError) as error:
        raise MalformedEvent(f"not a Stripe event: {error!r}") from None
    if not _text_ok(event_id, MAX_ID_LENGTH) or not _text_ok(event_type, 100):
        raise MalformedEvent("not a Stripe event: id and type must be short strings")
    try:
        json.dumps(event, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError) as error:
        raise MalformedEvent(f"not storable: {error}") from None
    return event_id, event_type, created, obj


def _object_id(obj):
    value = obj.get("id") if isinstance(obj, dict) else None
    return value if _text_ok(value, MAX_ID_LENGTH) else None


def store_event(event, source="webhook"):
    """Insert the event unless its id is already stored; True if it was new. Flushes only."""
    row = _row(event, source, check_event(event))
    return db.session.connection().execute(_insert_new_event(), row).first() is not None


def receive(event, checked):
    """The webhook's store step: the event stored; True if it was new.

    ``checked`` is what :func:`check_event` returned for it. One statement in autocommit,
    on the ingest engine (:func:`ingest_engine`): one round trip to the database, and the
    webhook answers without waiting for the disk.
    """
    with ingest_engine().connect() as conn:
        inserted = conn.execute(_insert_new_event(), _row(event, "webhook", checked)).first()
    return inserted is not None


def ingest_engine():
    """The webhook's own connections: autocommit, and on PostgreSQL ``synchronous_commit``
    off.

    PostgreSQL then answers a commit once it is in the write-ahead log's buffer, and writes
    it to disk within a fraction of a second (``wal_writer_delay``). Only a crash of the
    database server itself in that fraction could lose an event already acknowledged to
    Stripe, and no event is lost for good: the catch-up task (:func:`catch_up`) lists
    Stripe's events again from before its last cursor, and since the write-ahead log is
    written in order, a cursor that reached the disk means every event stored before it
    did too. Every other transaction of the app keeps the default, synchronous commit.
    """
    from flask import current_app

    engine = current_app.extensions.get("payments.ingest_engine")
    if engine is None:
        if is_postgres():
            engine = sa.create_engine(
                db.engine.url,
                connect_args={"options": "-c synchronous_commit=off"},
                isolation_level="AUTOCOMMIT",
                pool_pre_ping=True,
                pool_size=2,
                max_overflow=2,
            )
        else:
            engine = db.engine.execution_options(isolation_level="AUTOCOMMIT")
        current_app.extensions["payments.ingest_engine"] = engine
    return engine


def _row(event, source, checked):
    event_id, event_type, created, obj = checked
    now = clock.now()
    version = event.get("api_version")
    return {
        "id": event_id,
        "type": event_type,
        "created": created,
        "api_version": version[:50] if isinstance(version, str) else None,
        "livemode": bool(event.get("livemode")),
        "object_id": _object_id(obj),
        "payload": event,
        "source": source,
        "received_at": now,
        "attempts": 0,
        "next_attempt_at": now,
    }


_INSERTS = {}


def _insert_new_event():
    """``INSERT … ON CONFLICT (id) DO NOTHING RETURNING id`` for this database, built once.

    (A row back means it was new: the driver's row count is not reliable here.)
    """
    postgres = is_postgres()
    if postgres not in _INSERTS:
        insert = pg_insert if postgres else sqlite_insert
        table = StripeEvent.__table__
        _INSERTS[postgres] = (
            insert(table).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
        )
    return _INSERTS[postgres]


# -- the worker ------------------------------------------------------------------------------


def backoff(attempts):
    """How long to wait after the ``attempts``-th failure: 30 s, 2 min, 8 min, … 8 h at most."""
    return timedelta(seconds=min(30 * 4 ** (attempts - 1), 8 * 3600))


def _claim_next(now, skip=()):
    """Lock the next due event whose object has no earlier event still to handle."""
    earlier = aliased(StripeEvent)
    waiting = sa.and_(earlier.processed_at.is_(None), earlier.given_up_at.is_(None))
    before = sa.or_(
        earlier.created < StripeEvent.created,
        sa.and_(
            earlier.created == StripeEvent.created, earlier.received_at < StripeEvent.received_at
        ),
    )
    query = (
        sa.select(StripeEvent)
        .where(
            StripeEvent.processed_at.is_(None),
            StripeEvent.given_up_at.is_(None),
            StripeEvent.next_attempt_at <= now,
            StripeEvent.id.not_in(skip) if skip else sa.true(),
            ~sa.exists().where(
                earlier.object_id == StripeEvent.object_id,
                earlier.id != StripeEvent.id,
                waiting,
                before,
            ),
        )
        .order_by(StripeEvent.created, StripeEvent.received_at, StripeEvent.id)
        .limit(1)
    )
    if is_postgres():
        query = query.with_for_update(skip_locked=True, of=StripeEvent)
    else:
        query = query.with_for_update()
    return db.session.scalars(query.execution_options(populate_existing=True)).first()


def work(limit=BATCH):
    """Handle due events, one transaction each; return ``(handled, failed)``.

    Safe to run in several processes at once: each claims its event with ``SKIP LOCKED``.
    """
    handled = failed = 0
    tried = []
    while handled + failed < limit:
        event = _claim_next(clock.now(), skip=tried)
        if event is None:
            db.session.rollback()
            break
        event_id = event.id
        tried.append(event_id)
        try:
            handle(event)
            db.session.commit()  # the worker's commit, one per event
            handled += 1
        except Exception as error:
            db.session.rollback()
            log.exception("Stripe event %s failed", event_id)
            record_failure(event_id, error)
            db.session.commit()
            failed += 1
    return handled, failed


def handle(event):
    """Apply a claimed event; the caller commits. Records the outcome on the row."""
    event.attempts += 1
    handler = HANDLERS.get(event.type)
    obj = (event.payload.get("data") or {}).get("object")
    if handler is None:
        outcome = "ignored"
    elif event.object_id is None or not isinstance(obj, dict):
        raise UnusableEvent("the event's object has no id")
    elif not _maybe_ours(event, obj):
        outcome = "unknown_object"
    else:
        if event.api_version and event.api_version != API_VERSION:
            log.info("Event %s is in API version %s; a pointer", event.id, event.api_version)
        try:
            with db.session.begin_nested():  # undo what the handler wrote if it gives up
                result = handler(obj)
        except ObjectMissing:
            result = None  # Stripe itself has no such object: nothing of ours to change
        outcome = "applied" if result is not None else "unknown_object"
    event.processed_at = clock.now()
    event.next_attempt_at = None
    event.outcome = outcome
    event.last_error = None
    return outcome


def record_failure(event_id, error):
    """Write a failure on the event row: due again after a back-off, or given up."""
    event = db.session.get(StripeEvent, event_id)
    if event is None:
        return
    now = clock.now()
    event.attempts += 1  # the handler's own count was rolled back with what it wrote
    event.last_error = describe_error(error)[:4000]
    if isinstance(error, UnusableEvent) or event.attempts >= MAX_ATTEMPTS:
        event.given_up_at = now
        event.next_attempt_at = None
        log.error("Stripe event %s given up after %s attempts", event_id, event.attempts)
    else:
        event.next_attempt_at = now + backoff(event.attempts)


def describe_error(error):
    """The error and what caused it (Stripe's own message hides behind ours)."""
    text = f"{type(error).__name__}: {error}"
    if error.__cause__ is not None:
        text += f" (caused by {type(error.__cause__).__name__}: {error.__cause__})"
    return text


def replay(event_id):
    """Make a failed or given-up event due now, with its attempts counted afresh.

    For the treasurer's screen; the caller commits. NotFound for an unknown id, Conflict
    for an event already handled.
    """
    event = locked(sa.select(StripeEvent).where(StripeEvent.id == event_id)).first()
    if event is None:
        raise NotFound()
    if event.processed_at is not None:
        raise Conflict(_l("This event was handled already."))
    event.given_up_at = None
    event.attempts = 0
    event.next_attempt_at = clock.now()
    audit.record("stripe_event.replayed", None, data={"event": event_id})
    return event


#: Events handled between two looks at whether a burst of deliveries is arriving.
BURST_CHECK_EVERY = 20


def work_task():
    """The worker's periodic task: handle what the webhook stored, holding back while a
    burst of deliveries arrives (:func:`burst_arriving`)."""
    while True:
        hold_back_during_burst()
        handled, failed = work(limit=BURST_CHECK_EVERY)
        if handled + failed < BURST_CHECK_EVERY:
            return


def hold_back_during_burst(pause=0.25):
    """Wait while :func:`burst_arriving` says so: rarely more than the burst itself."""
    while burst_arriving(clock.now()):
        time.sleep(pause)


def burst_arriving(now):
    """True while Stripe delivers events faster than ``WORKER_BURST_RATE`` a second, unless
    an event has already waited ``WORKER_BURST_HOLD_SECONDS``.

    During a burst the webhook's inserts and the worker's transactions compete for the
    same database; Stripe waits on the first, nobody on the second (the success pages
    confirm payments themselves). So the worker, which already runs below the web's CPU
    priority, lets a burst pass, and no stored event waits on it longer than the hold.
    Both counts come from the partial index of waiting events: the size of the queue.
    """
    from flask import current_app

    rate = current_app.config["WORKER_BURST_RATE"]
    if not rate:
        return False
    recent, oldest = db.session.execute(
        sa.select(
            sa.func.count().filter(StripeEvent.received_at >= now - timedelta(seconds=1)),
            sa.func.min(StripeEvent.received_at),
        ).where(StripeEvent.processed_at.is_(None), StripeEvent.given_up_at.is_(None))
    ).one()
    db.session.rollback()  # no snapshot held while waiting
    hold = timedelta(seconds=current_app.config["WORKER_BURST_HOLD_SECONDS"])
    return recent >= rate and oldest is not None and now - oldest < hold


# -- is it ours? -----------------------------------------------------------------------------


def _known(column, value):
    return bool(value) and db.session.scalar(sa.select(sa.exists().where(column == value)))


def _names_our_payment(metadata):
    payment_id = payment_id_in(metadata)
    return payment_id is not None and _known(Payment.id, payment_id)


def _maybe_ours(event, obj):
    """False when our own rows show the object is not ours; True when it is or may be.

    An event in another API version may lack the fields that tell: it is a pointer, and
    its handler asks Stripe.
    """
    kind = event.type.split(".")[0]
    object_id = obj["id"]
    if kind == "checkout":
        ours = (
            _known(Payment.checkout_session_id, object_id)
            or _known(StripeAttempt.result_id, object_id)
            or (
                _names_our_payment(obj.get("metadata"))
                and obj.get("client_reference_id") == f"payment-{payment_id_in(obj['metadata'])}"
            )
        )
    elif kind == "invoice":
        subscription_id, metadata = recurring.subscription_of(obj)
        ours = (
            _known(Payment.invoice_id, object_id)
            or _known(Payment.subscription_id, subscription_id)
            or _names_our_payment(metadata)
        )
    elif kind == "customer":  # customer.subscription.*
        ours = _known(Payment.subscription_id, object_id) or _names_our_payment(obj.get("metadata"))
    elif kind == "payment_intent":
        ours = _known(Payment.payment_intent_id, object_id) or _names_our_payment(
            obj.get("metadata")
        )
    else:
        return True  # charges, refunds, disputes and payouts: their handlers look further
    return ours or (event.api_version not in (None, API_VERSION))


HANDLERS = {
    "checkout.session.completed": lambda o: checkout.confirm_checkout(o["id"]),
    "checkout.session.async_payment_succeeded": lambda o: checkout.confirm_checkout(o["id"]),
    "checkout.session.async_payment_failed": lambda o: checkout.checkout_ended_unpaid(
        o["id"], "failed"
    ),
    "checkout.session.expired": lambda o: checkout.checkout_ended_unpaid(o["id"], "expired"),
    "payment_intent.payment_failed": lambda o: checkout.note_payment_failure(
        gateway().retrieve_payment_intent(o["id"])
    ),
    "charge.refunded": lambda o: refunds.sync_charge_refunds(o["id"]),
    "refund.created": lambda o: refunds.sync_refund(gateway().retrieve_refund(o["id"])),
    "refund.updated": lambda o: refunds.sync_refund(gateway().retrieve_refund(o["id"])),
    "refund.failed": lambda o: refunds.sync_refund(gateway().retrieve_refund(o["id"])),
    "charge.dispute.created": lambda o: refunds.sync_dispute(gateway().retrieve_dispute(o["id"])),
    "charge.dispute.updated": lambda o: refunds.sync_dispute(gateway().retrieve_dispute(o["id"])),
    "charge.dispute.closed": lambda o: refunds.sync_dispute(gateway().retrieve_dispute(o["id"])),
    "charge.dispute.funds_withdrawn": lambda o: refunds.sync_dispute(
        gateway().retrieve_dispute(o["id"])
    ),
    "charge.dispute.funds_reinstated": lambda o: refunds.sync_dispute(
        gateway().retrieve_dispute(o["id"])
    ),
    "invoice.paid": lambda o: recurring.record_invoice(o["id"]),
    "invoice.payment_failed": lambda o: recurring.renewal_failed(o["id"]),
    "customer.subscription.created": lambda o: recurring.subscription_changed(o["id"]),
    "customer.subscription.updated": lambda o: recurring.subscription_changed(o["id"]),
    "customer.subscription.trial_will_end": lambda o: recurring.subscription_changed(o["id"]),
    "customer.subscription.deleted": lambda o: recurring.subscription_changed(o["id"]),
    "payout.created": lambda o: payouts.sync_payout(o["id"]),
    "payout.updated": lambda o: payouts.sync_payout(o["id"]),
    "payout.paid": lambda o: payouts.sync_payout(o["id"]),
    "payout.failed": lambda o: payouts.sync_payout(o["id"]),
    "payout.canceled": lambda o: payouts.sync_payout(o["id"]),
    "payout.reconciliation_completed": lambda o: payouts.sync_payout(o["id"]),
}


# -- catching up on events that never arrived -------------------------------------------------


def catch_up(progress=None):
    """Store events Stripe has that never reached the webhook, then handle what is due.

    Returns ``(fetched, new, failed)``. Safe to run from several places at once: storing
    is by event id and the worker claims each event under a lock.
    """
    now = clock.now()
    cursor = get_setting(SYNC_CURSOR)
    if cursor is not None:
        since = datetime.fromtimestamp(cursor, UTC) - SYNC_OVERLAP
    else:
        newest = db.session.scalar(sa.select(sa.func.max(StripeEvent.created)))
        since = (newest - SYNC_OVERLAP) if newest else now - EVENT_RETENTION
    since = max(since, now - EVENT_RETENTION)
    events = list(gateway().events_since(since.timestamp()))
    db.session.rollback()  # nothing to hold while Stripe pages through
    new = 0
    for event in reversed(events):  # oldest first
        try:
            new += store_event(event, source="sync")
        except MalformedEvent:
            log.error("Stripe listed an event we cannot store: %r", event.get("id"))
    set_setting(SYNC_CURSOR, int(now.timestamp()), audited=False)
    db.session.commit()
    failed = 0
    while True:
        handled, failing = work()
        failed += failing
        if progress is not None:
            progress(handled + failing)
        if handled + failing == 0:
            break
    return len(events), new, failed
