"""The purpose registry: how payments hands money events to the feature that owns the row.

``payments`` never imports a feature package. A feature registers a :class:`Purpose`
(``"donation"``, ``"membership"``, ``"order"``) whose handlers payments calls with the
allocation they concern. Every handler is called at most once per event that matters
(payments keeps track), inside the transaction that records the event.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app


def _nothing(*args, **kwargs):
    return None


@dataclass(frozen=True)
class Purpose:
    name: str
    #: paid(allocation) — the money arrived.
    paid: Callable = _nothing
    #: refunded(allocation, amount, refund) — ``amount`` of this allocation went back.
    refunded: Callable = _nothing
    #: refund_failed(allocation, amount, refund) — a refund reported earlier did not happen.
    refund_failed: Callable = _nothing
    #: disputed(allocation, amount, dispute) — the card holder disputes the charge.
    disputed: Callable = _nothing
    #: dispute_closed(allocation, amount, dispute) — ``dispute.status`` is won or lost.
    dispute_closed: Callable = _nothing
    #: expired(allocation) — the checkout was abandoned, expired or its payment failed.
    expired: Callable = _nothing
    #: renewed(original_allocation, payment) -> (row_id, description) for the renewal's allocation.
    renewed: Callable | None = None
    #: renewal_failed(original_allocation, invoice) — a subscription payment failed.
    renewal_failed: Callable = _nothing
    #: subscription_updated(original_allocation, subscription) — amount, card or cancel-at changed.
    subscription_updated: Callable = _nothing
    #: subscription_cancelled(original_allocation, subscription) — the subscription ended.
    subscription_cancelled: Callable = _nothing
    #: describe(allocation) -> str, for the treasurer's views and exports.
    describe: Callable = lambda allocation: f"{allocation.purpose} #{allocation.row_id}"  # noqa: E731


def register_purpose(app, purpose):
    registry = app.extensions.setdefault("payment_purposes", {})
    registry[purpose.name] = purpose


def purpose_for(name):
    try:
        return current_app.extensions["payment_purposes"][name]
    except KeyError:
        raise LookupError(f"no payment purpose {name!r} is registered") from None
