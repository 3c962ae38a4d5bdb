"""Checkout: start one for some parts, open it, retry it, expire it, and confirm what it paid.

The success page and the worker both call :func:`confirm_checkout`; whichever comes
first records the payment, under the payment's row lock.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import audit, clock
from core.db import db
from core.errors import Conflict, ValidationError
from payments import recurring
from payments.attempts import (
    CHECKOUT,
    EXPIRE,
    commit_before_stripe,
    latest_attempt,
    new_attempt,
)
from payments.gateway import (
    ObjectMissing,
    PaymentProviderError,
    PaymentProviderUnavailable,
    gateway,
)
from payments.models import Allocation, Payment, PaymentStatus
from payments.recording import (
    AmountMismatch,
    expire_payment,
    lock_by,
    lock_payment,
    payment_from_metadata,
    record_payment_intent,
)

log = logging.getLogger(__name__)

#: Checkout Sessions expire after this (Stripe allows 30 minutes to 24 hours).
CHECKOUT_LIFETIME = timedelta(hours=1)
#: The shortest and longest lifetime a feature may ask for: Stripe's range, less a margin
#: for the time between our clock and Stripe's.
LIFETIME_RANGE = (timedelta(minutes=31), timedelta(hours=23, minutes=50))
#: Stripe keeps idempotency keys for 24 hours; a retry after that is a new attempt.
KEY_LIFETIME = timedelta(hours=23)
#: Stripe wants a future first charge at least 48 hours ahead; the page stays open for up
#: to CHECKOUT_LIFETIME after it is made, so we ask for that much more.
FIRST_CHARGE_LEAD = timedelta(hours=48) + CHECKOUT_LIFETIME
INTERVALS = ("month", "year")


class CheckoutUnavailable(PaymentProviderUnavailable):
    """Stripe did not open the checkout; the page offers to send the same request again."""

    def __init__(self, payment):
        super().__init__()
        self.payment_token = payment.token


@dataclass(frozen=True)
class Line:
    """A line on Stripe's checkout page."""

    name: str
    unit_amount: int
    quantity: int = 1
    description: str | None = None


@dataclass(frozen=True)
class Part:
    """The share of a payment that pays for one row of a feature (an allocation)."""

    purpose: str
    row_id: int
    amount: int  # tax included
    tax: int = 0
    description: str = ""


def start_checkout(
    parts,
    *,
    email,
    language,
    success_url,
    cancel_url,
    lines=None,
    name=None,
    every=None,
    first_charge_at=None,
    submit_type=None,
    description=None,
    metadata=None,
    lifetime=None,
):
    """Store a pending payment for ``parts`` and its checkout request (not sent yet).

    ``lines`` are what Stripe's page shows (one per part when not given). ``every``
    (``"month"`` or ``"year"``) makes it recurring, for exactly one part; then
    ``first_charge_at`` (an aware datetime) puts the first charge at that date, when it is
    at least :data:`FIRST_CHARGE_LEAD` ahead, and charges now otherwise. ``lifetime`` (a
    timedelta within :data:`LIFETIME_RANGE`) is how long the checkout page takes payment
    (:data:`CHECKOUT_LIFETIME` when None). Then call :func:`open_checkout`.
    """
    lifetime = CHECKOUT_LIFETIME if lifetime is None else lifetime
    if not LIFETIME_RANGE[0] <= lifetime <= LIFETIME_RANGE[1]:
        raise ValueError(f"a checkout lifetime of {lifetime} is outside {LIFETIME_RANGE}")
    parts = list(parts)
    lines = list(lines) if lines else [Line(p.description or p.purpose, p.amount) for p in parts]
    total = sum(line.unit_amount * line.quantity for line in lines)
    if total <= 0 or total != sum(part.amount for part in parts):
        raise ValidationError(_l("The amount to pay does not add up."))
    if every is not None and (every not in INTERVALS or len(parts) != 1):
        raise ValidationError(_l("A subscription pays for exactly one thing, at an interval."))
    if first_charge_at is not None and (every is None or first_charge_at.tzinfo is None):
        raise ValueError("first_charge_at needs an aware datetime and a recurring payment")
    later = first_charge_at is not None and first_charge_at - clock.now() >= FIRST_CHARGE_LEAD
    payment = Payment(
        amount=total,
        mode="subscription" if every else "payment",
        email=email,
        name=name,
        language=language,
        first_charge_at=first_charge_at.astimezone(UTC).replace(microsecond=0) if later else None,
        allocations=[
            Allocation(
                purpose=part.purpose,
                row_id=part.row_id,
                amount=part.amount,
                tax=part.tax,
                description=part.description[:300],
            )
            for part in parts
        ],
    )
    db.session.add(payment)
    db.session.flush()
    params = _session_params(
        payment,
        lines=lines,
        success_url=success_url,
        cancel_url=cancel_url,
        every=every,
        submit_type=submit_type,
        description=description,
        metadata=metadata or {},
        lifetime=lifetime,
    )
    new_attempt(payment, CHECKOUT, params)
    audit.record("payment.started", payment, data={"amount": total, "mode": payment.mode})
    return payment


def _session_params(
    payment, *, lines, success_url, cancel_url, every, submit_type, description, metadata, lifetime
):
    ours = {"payment_id": str(payment.id), **{k: str(v) for k, v in metadata.items()}}
    items = []
    for line in lines:
        price_data = {
            "currency": payment.currency,
            "unit_amount": line.unit_amount,
            "product_data": {"name": line.name[:250]},
        }
        if line.description:
            price_data["product_data"]["description"] = line.description[:500]
        if every:
            price_data["recurring"] = {"interval": every}
        items.append({"price_data": price_data, "quantity": line.quantity})
    params = {
        "mode": payment.mode,
        "line_items": items,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": f"payment-{payment.id}",
        "metadata": ours,
        "locale": "fr" if payment.language == "fr" else "en",
        "payment_method_types": ["card"],
        "expires_at": int((clock.now() + lifetime).timestamp()),
    }
    if payment.email:
        params["customer_email"] = payment.email
    if payment.mode == "payment":
        params["payment_intent_data"] = {"metadata": ours}
        if description:
            params["payment_intent_data"]["description"] = description[:1000]
        if submit_type:
            params["submit_type"] = submit_type
    else:
        params["subscription_data"] = {"metadata": ours}
        if description:
            params["subscription_data"]["description"] = description[:500]
        if payment.first_charge_at is not None:
            params["subscription_data"]["trial_end"] = int(payment.first_charge_at.timestamp())
    return params


def open_checkout(payment):
    """Send the payment's checkout request to Stripe; return the address of Stripe's page.

    Commits first (the request is on record before Stripe is asked). Raises
    :class:`CheckoutUnavailable` when Stripe does not answer: the app shows a page (or a
    JSON 503) whose button sends the very same request again (:func:`retry_checkout`).
    """
    attempt = latest_attempt(payment)
    if attempt.url:
        return attempt.url
    commit_before_stripe(attempt)
    try:
        session = gateway().create_checkout_session(attempt.params, attempt.key)
    except PaymentProviderUnavailable as error:
        raise CheckoutUnavailable(payment) from error
    attempt.result_id = session["id"]
    attempt.url = session.get("url")
    attempt.error = None
    payment.checkout_session_id = session["id"]
    db.session.flush()
    return attempt.url


def retry_checkout(payment):
    """Try again after Stripe did not answer: the same request, or a fresh one once it is stale."""
    payment = lock_payment(payment.id)  # two quick clicks must not both add an attempt
    if payment.status != PaymentStatus.pending or payment.subscription_id:
        raise Conflict(_l("This payment is no longer waiting to be paid."))
    attempt = latest_attempt(payment)
    stale = clock.now() - attempt.created_at > KEY_LIFETIME or (
        attempt.params.get("expires_at", 0) - 60 < clock.timestamp()
    )
    if attempt.url and not stale:
        return attempt.url
    if stale:
        params = dict(attempt.params)
        # The same lifetime as the first request: a feature may hold something until then.
        lifetime = params["expires_at"] - int(attempt.created_at.timestamp())
        low, high = (int(t.total_seconds()) for t in LIFETIME_RANGE)
        lifetime = min(max(lifetime, low), high)
        params["expires_at"] = int((clock.now() + timedelta(seconds=lifetime)).timestamp())
        trial_end = (params.get("subscription_data") or {}).get("trial_end")
        if trial_end and trial_end - clock.timestamp() < FIRST_CHARGE_LEAD.total_seconds():
            # Too near now for a future first charge: charge when paid, as start does.
            params["subscription_data"] = {
                k: v for k, v in params["subscription_data"].items() if k != "trial_end"
            }
            payment.first_charge_at = None
        new_attempt(payment, CHECKOUT, params)
    return open_checkout(payment)


def checkout_expires_at(payment):
    """When the payment's checkout page stops taking payment (an aware UTC datetime)."""
    attempt = latest_attempt(payment)
    return datetime.fromtimestamp(attempt.params["expires_at"], UTC)


def expire_checkout(payment):
    """Close the payment's checkout now (the payer came back through Cancel).

    Returns the payment's status afterwards: ``expired`` once Stripe closed it (features
    were told :class:`~payments.events.Expired`, so they may release what it held), or
    ``succeeded`` when the payer had just paid after all (features were told
    :class:`~payments.events.Paid`). Commits before calling Stripe; raises
    ``PaymentProviderUnavailable`` when Stripe does not answer.
    """
    payment = lock_payment(payment.id)
    if payment.status != PaymentStatus.pending or payment.subscription_id:
        return payment.status
    sessions = [a.result_id for a in payment.attempts if a.operation == CHECKOUT and a.result_id]
    if not sessions:
        # Never opened at Stripe: nothing there can be paid.
        expire_payment(payment, "expired")
        return payment.status
    for session_id in sessions:
        attempt = new_attempt(payment, EXPIRE, {"session": session_id})
        commit_before_stripe(attempt)
        try:
            gateway().expire_checkout_session(session_id, attempt.key)
        except PaymentProviderError:
            pass  # already complete or expired: confirming below records which
    for session_id in reversed(sessions):
        confirmed = confirm_checkout(session_id)
        if confirmed is not None and confirmed.status == PaymentStatus.succeeded:
            break
    payment = lock_payment(payment.id)
    if payment.status == PaymentStatus.pending and not payment.subscription_id:
        expire_payment(payment, "expired")
    return payment.status


def lock_payment_for_session(session):
    payment = lock_by(Payment.checkout_session_id, session["id"])
    if payment is None:
        # We may have lost Stripe's answer to the create call: our metadata still names us,
        # and so does the reference only our sessions carry.
        payment = payment_from_metadata(session.get("metadata"))
        if payment is not None and session.get("client_reference_id") != f"payment-{payment.id}":
            return None
        if payment is not None and payment.checkout_session_id is None:
            payment.checkout_session_id = session["id"]
    return payment


def confirm_checkout(session_id):
    """Record what a Checkout Session paid, or that it expired. Returns the payment or None."""
    session = gateway().retrieve_checkout_session(session_id)
    payment = lock_payment_for_session(session)
    if payment is None:
        return None
    if payment.status == PaymentStatus.succeeded:
        return payment
    if session["status"] == "complete" and session.get("payment_status") in {
        "paid",
        "no_payment_required",
    }:
        details = session.get("customer_details") or {}
        payment.customer_id = session.get("customer") or payment.customer_id
        if session["mode"] == "subscription":
            payment.subscription_id = session.get("subscription")
            recurring.record_first_invoice(payment, session["invoice"], details)
        else:
            record_payment_intent(payment, session["payment_intent"], details)
    elif session["status"] == "expired":
        if payment.checkout_session_id in (None, session["id"]):
            expire_payment(payment)
    return payment


def confirm_on_return(session_id):
    """:func:`confirm_checkout` for a page the payer comes back to, which must not fail.

    A session id that is not Stripe's or not ours gives None (a 404); a payment whose amount
    needs a person is shown as still being confirmed, the worker keeps the error.
    """
    try:
        with db.session.begin_nested():  # undoes only its own writes, not the caller's
            return confirm_checkout(session_id)
    except ObjectMissing:
        return None
    except AmountMismatch:
        log.error("Checkout %s needs a person: the amount differs", session_id)
        return db.session.scalar(
            sa.select(Payment).where(Payment.checkout_session_id == session_id)
        )


def checkout_ended_unpaid(session_id, reason):
    """``checkout.session.expired`` or ``async_payment_failed``."""
    session = gateway().retrieve_checkout_session(session_id)
    payment = lock_payment_for_session(session)
    if payment is None:
        return None
    if session["status"] == "complete" and session.get("payment_status") == "paid":
        return confirm_checkout(session_id)  # the failure was followed by a success
    if payment.checkout_session_id not in (None, session["id"]):
        return payment  # an earlier attempt's session ended; the payment goes on with a newer one
    expire_payment(payment, reason)
    return payment


def note_payment_failure(payment_intent):
    """A card was declined on the Checkout page; the session stays open for another try."""
    payment = payment_from_metadata(payment_intent.get("metadata"))
    if payment is None:
        return None
    error = payment_intent.get("last_payment_error") or {}
    payment.failure_message = (error.get("message") or "declined")[:1000]
    return payment


def return_url(endpoint, **values):
    """An absolute address Stripe sends the payer back to, with the session id filled in.

    Stripe replaces the literal ``{CHECKOUT_SESSION_ID}``; ``url_for`` would escape it.
    """
    from core.urls import absolute_url

    base = absolute_url(endpoint, **values)
    return base + ("&" if "?" in base else "?") + "session_id={CHECKOUT_SESSION_ID}"
