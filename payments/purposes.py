"""The purpose registry: how payments hands money events to the feature that owns the row.

``payments`` never imports a feature package. A feature registers a :class:`Purpose`
(``"donation"``, ``"membership"``, ``"order"``) in its ``init_app``; payments calls its
handlers with the neutral values of :mod:`payments.events`. Each handler is called at
most once per change (payments keeps track), inside the transaction that records it, so
a handler flushes and never commits; an exception undoes the whole change and the event
is retried.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app


def _nothing(event):
    return None


def _describe(allocation):
    return f"{allocation.purpose} #{allocation.row_id}"


@dataclass(frozen=True)
class Purpose:
    name: str
    #: paid(Paid): the money arrived.
    paid: Callable = _nothing
    #: expired(Expired): the checkout will never be paid; let go of what it held.
    expired: Callable = _nothing
    #: new_period(NewPeriod) -> (row_id, description): a later period of a recurring
    #: payment was paid; name the row it pays for. Required for recurring purposes.
    new_period: Callable | None = None
    #: renewal_failed(RenewalFailed): a recurring charge failed.
    renewal_failed: Callable = _nothing
    #: recurring_changed(RecurringChanged): amount, next charge, end or arrears changed.
    recurring_changed: Callable = _nothing
    #: recurring_ended(RecurringEnded): the series is over.
    recurring_ended: Callable = _nothing
    #: refunded(Refunded): part or all of the allocation went back.
    refunded: Callable = _nothing
    #: refund_failed(RefundFailed): a refund reported earlier did not happen.
    refund_failed: Callable = _nothing
    #: disputed(Disputed): the card holder disputes the charge.
    disputed: Callable = _nothing
    #: dispute_closed(DisputeClosed): won or lost.
    dispute_closed: Callable = _nothing
    #: describe(allocation) -> str, for the treasurer's views and exports.
    describe: Callable = _describe


def register_purpose(app, purpose):
    """Have payments call ``purpose``'s handlers for allocations named ``purpose.name``."""
    registry = app.extensions.setdefault("payment_purposes", {})
    registry[purpose.name] = purpose


def purpose_for(name):
    try:
        return current_app.extensions["payment_purposes"][name]
    except KeyError:
        raise LookupError(f"no payment purpose {name!r} is registered") from None


def tell(allocation, hook, event):
    """Call the handler ``hook`` of the allocation's purpose with ``event``."""
    return getattr(purpose_for(allocation.purpose), hook)(event)
