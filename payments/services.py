"""The payment verbs features call. Features import this module and :mod:`payments.events`.

Nothing here needs Stripe's vocabulary: a feature names what it sells as :class:`Part`\\ s
(purpose, row id, amount, tax, description) and is told what happened through the
handlers of the :class:`~payments.purposes.Purpose` it registered in its ``init_app``::

    register_purpose(app, Purpose("membership", paid=on_paid, expired=on_expired,
                                  new_period=on_new_period, recurring_changed=..., ...))

Checkout
    ``start_checkout(parts, *, email, language, success_url, cancel_url, lines=None,
    name=None, every=None, first_charge_at=None, submit_type=None, description=None)``
    stores a pending :class:`~payments.models.Payment` (flushes). ``every`` is ``"month"``
    or ``"year"`` for a recurring payment of one part; ``first_charge_at`` (aware datetime)
    charges first at that date when it is at least 49 hours ahead, else now.

    ``open_checkout(payment) -> url`` commits, asks Stripe, returns the page to redirect
    to; raises :class:`CheckoutUnavailable`, which the app turns into a 503 page with a
    "Try again" button (or a JSON 503). ``retry_checkout(payment) -> url`` is that button.

    ``checkout_expires_at(payment) -> datetime``: when the checkout page stops taking
    payment. ``expire_checkout(payment) -> PaymentStatus``: close it now (the payer came
    back through Cancel): ``expired`` (features were told Expired) or ``succeeded`` (they
    had just paid; features were told Paid).

    ``confirm_on_return(session_id) -> Payment | None``: for the success page, which
    records the payment itself so that nobody waits for the webhook.

Recurring (``payment`` is the one that started the series)
    ``change_recurring_amount(payment, amount, name=None)`` from the next period, no
    proration (``name`` renames the line the payer sees);
    ``stop_recurring(payment)`` at the end of the period; ``resume_recurring(payment)``
    before then; ``portal_url(payment, return_url) -> url`` where the payer fixes the card
    or cancels; ``refresh_recurring(payment)`` tells the feature the series' state now
    (for the page the payer returns to from the portal). The three changes commit before
    they ask Stripe; the feature hears of them as :class:`~payments.events.RecurringChanged`.

Refunds
    ``refund(payment, amount=None, *, parts=None, reason=..., note="") -> Refund``: all
    that is left, an amount spread pro rata, or ``parts`` ({allocation: cents}).
    ``refund_payment`` and ``send_refund`` are its two halves (store; commit and send).

The other names here (``confirm_checkout``, ``record_invoice``, ``sync_refund``, …) are
what the worker calls for Stripe's events; features have no use for them.

Transactions: verbs flush; the only commits are :func:`~payments.attempts.commit_before_stripe`
(before each request to Stripe, so no lock is held across the network), the webhook's
store step and the worker's commit per event.
"""

from payments.checkout import (  # noqa: F401
    CheckoutUnavailable,
    Line,
    Part,
    checkout_ended_unpaid,
    checkout_expires_at,
    confirm_checkout,
    confirm_on_return,
    expire_checkout,
    note_payment_failure,
    open_checkout,
    retry_checkout,
    return_url,
    start_checkout,
)
from payments.models import Payment, PaymentStatus  # noqa: F401
from payments.recording import AmountMismatch, lock_payment, payment_by_token  # noqa: F401
from payments.recurring import (  # noqa: F401
    change_recurring_amount,
    portal_url,
    record_invoice,
    refresh_recurring,
    renewal_failed,
    resume_recurring,
    stop_recurring,
    subscription_changed,
)
from payments.refunds import (  # noqa: F401
    payment_for_charge,
    refund,
    send_refund,
    sync_charge_refunds,
    sync_dispute,
    sync_refund,
)
from payments.refunds import request_refund as refund_payment  # noqa: F401
