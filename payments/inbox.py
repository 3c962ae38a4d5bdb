"""The event inbox: store each Stripe event once by its id, then handle it.

Store, then handle: the webhook inserts the event (a duplicate insert does nothing) and
commits; it handles the event in a second transaction that starts by locking the event's
row, so two deliveries of one event apply it once; a failure is written on the row in a
third transaction and Stripe is answered 500 so it retries.

Handlers take only the object's id and type from the event and read the object's current
state from Stripe. That makes an event rendered in another API version a mere pointer,
and makes duplicates, late and out-of-order events converge on the same end state.
"""

import logging
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core import clock
from core.db import db, is_postgres, locked
from core.settings import get_setting, set_setting
from payments import checkout, payouts, recurring, refunds
from payments.gateway import API_VERSION, ObjectMissing, gateway
from payments.models import StripeEvent

log = logging.getLogger(__name__)

#: How far back a catch-up looks before the last one, for events created out of order.
SYNC_OVERLAP = timedelta(minutes=10)
#: Stripe lists events for 30 days.
EVENT_RETENTION = timedelta(days=30)
SYNC_CURSOR = "payments.events_synced_until"


class MalformedEvent(ValueError):
    pass


def check_event(event):
    """The parts of an event we rely on; MalformedEvent if it is not shaped like one."""
    try:
        event_id = event["id"]
        event_type = event["type"]
        created = datetime.fromtimestamp(int(event["created"]), UTC)
        obj = event["data"]["object"]
    except (KeyError, TypeError, ValueError, OverflowError, OSError) as error:
        raise MalformedEvent(f"not a Stripe event: {error}") from None
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        raise MalformedEvent("not a Stripe event: id and type must be strings")
    return event_id, event_type, created, obj


def store_event(event, source="webhook"):
    """Insert the event unless its id is already stored; True if it was new."""
    event_id, event_type, created, obj = check_event(event)
    values = {
        "id": event_id,
        "type": event_type,
        "created": created,
        "api_version": event.get("api_version"),
        "livemode": bool(event.get("livemode")),
        "object_id": obj.get("id") if isinstance(obj, dict) else None,
        "payload": event,
        "source": source,
        "received_at": clock.now(),
        "attempts": 0,
    }
    insert = pg_insert if is_postgres() else sqlite_insert
    statement = insert(StripeEvent).values(**values).on_conflict_do_nothing(index_elements=["id"])
    return db.session.execute(statement).rowcount == 1


def process_event(event_id):
    """Handle a stored event once; returns its outcome. The caller commits or rolls back."""
    event = locked(sa.select(StripeEvent).where(StripeEvent.id == event_id)).first()
    if event is None:
        raise LookupError(event_id)
    if event.processed_at is not None:
        return "duplicate"
    event.attempts += 1
    handler = HANDLERS.get(event.type)
    if handler is None:
        outcome = "ignored"
    else:
        obj = event.payload["data"]["object"]
        if event.api_version and event.api_version != API_VERSION:
            log.info(
                "Event %s is in API version %s; using it as a pointer", event.id, event.api_version
            )
        try:
            with db.session.begin_nested():  # undo what the handler wrote if it gives up
                result = handler(obj)
        except ObjectMissing:
            result = None  # Stripe itself has no such object: nothing of ours to change
        outcome = "applied" if result is not None else "unknown_object"
    event.processed_at = clock.now()
    event.outcome = outcome
    event.last_error = None
    return outcome


def record_failure(event_id, error):
    """Write a handler's failure on the event row, in a transaction of its own."""
    db.session.execute(
        sa.update(StripeEvent)
        .where(StripeEvent.id == event_id)
        .values(
            attempts=StripeEvent.attempts + 1,
            last_error=describe_error(error)[:4000],
        )
    )


def describe_error(error):
    """The error and what caused it (Stripe's own message hides behind ours)."""
    text = f"{type(error).__name__}: {error}"
    if error.__cause__ is not None:
        text += f" (caused by {type(error.__cause__).__name__}: {error.__cause__})"
    return text


def receive(event, source="webhook"):
    """Store and handle one event with the three-transaction discipline; re-raises failures."""
    store_event(event, source)
    db.session.commit()
    try:
        outcome = process_event(event["id"])
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        log.exception("Stripe event %s failed", event.get("id"))
        try:
            record_failure(event["id"], error)
            db.session.commit()
        except Exception:  # the database itself is gone; Stripe will retry
            db.session.rollback()
        raise
    return outcome


def _obj_id(obj):
    return obj["id"]


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


def catch_up(progress=None):
    """Fetch events Stripe has that we never received and handle them; also retry failed ones.

    Returns ``(fetched, new, failed)``. Safe to run from several places at once: storing
    is by event id and handling locks the event's row.
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
    known = (
        set(
            db.session.scalars(
                sa.select(StripeEvent.id).where(StripeEvent.id.in_([e["id"] for e in events]))
            )
        )
        if events
        else set()
    )
    fresh = [e for e in reversed(events) if e["id"] not in known]  # oldest first
    retry = list(
        db.session.scalars(
            sa.select(StripeEvent.id)
            .where(
                StripeEvent.processed_at.is_(None),
                StripeEvent.received_at < now - timedelta(minutes=2),
            )
            .order_by(StripeEvent.created)
        )
    )
    failed = 0
    work = [("new", e) for e in fresh] + [("retry", event_id) for event_id in retry]
    for kind, item in work:
        try:
            if kind == "new":
                receive(item, source="sync")
            else:
                _retry_stored(item)
        except Exception:
            failed += 1
        if progress is not None:
            progress(1)
    set_setting(SYNC_CURSOR, int(now.timestamp()), audited=False)
    db.session.commit()
    return len(events), len(fresh), failed


def _retry_stored(event_id):
    try:
        process_event(event_id)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        record_failure(event_id, error)
        db.session.commit()
        raise
