"""Checkout Sessions: paying with a test card, expiring, and what time brings due."""

from . import billing, objects
from .charges import confirm_payment, create_customer, new_payment_method
from .errors import state_error
from .events import emit, emit_update
from .params import clean_metadata

DEFAULT_ADDRESS = {
    "line1": "1 Test Street",
    "city": "Ottawa",
    "state": "ON",
    "postal_code": "K1A 0A6",
    "country": "CA",
}


class Declined(Exception):
    """The card was declined; the hosted page shows ``message``."""

    def __init__(self, message="Your card was declined."):
        super().__init__(message)
        self.message = message


def session_line_items(store, session):
    return store.all("item", lambda o, x: x.get("session") == session["id"])


def pay_session(store, ctx, session, card, email=None, name=None, addr=None):
    """Pay an open session with a test card, as the hosted page does.

    Raises :class:`Declined` (the session stays open) or a ``StripeError`` when the
    session cannot be paid.
    """
    if session["status"] == "open" and session["expires_at"] <= ctx.now:
        expire_session(store, ctx, session)
    if session["status"] != "open":
        raise state_error(f"This Checkout Session is {session['status']} and can't be paid.")
    if card not in objects.CARDS:
        raise state_error(f"Unknown test card: {card}", "card")
    cus = store.get(session["customer"], "customer")
    email = email or session["customer_email"] or (cus or {}).get("email")
    if not email:
        raise state_error("An email address is required.", "email")
    if addr is None and session["billing_address_collection"] == "required":
        addr = DEFAULT_ADDRESS
    addr = addr or {"country": "CA"}
    if session["mode"] == "subscription":
        if card == "decline":
            raise Declined()
        _pay_subscription_session(store, ctx, session, cus, card, email, name, addr)
    else:
        _pay_payment_session(store, ctx, session, cus, card, email, name, addr)
    return session


def _pay_payment_session(store, ctx, session, cus, card, email, name, addr):
    if cus is None and session["customer_creation"] == "always":
        cus = create_customer(store, ctx, {"email": email, "name": name, "address": addr})
    if session["amount_total"] == 0:
        _complete_session(store, ctx, session, cus, email, name, addr, "no_payment_required")
        return
    pm = new_payment_method(store, ctx, card, email, name, addr, cus and cus["id"])
    pi = store.get(session["payment_intent"], "payment_intent")
    if pi is None:
        data = store.extra[session["id"]].get("payment_intent_data") or {}
        pi = store.add(
            objects.payment_intent(
                ctx.now,
                session["amount_total"],
                session["currency"],
                customer=cus and cus["id"],
                description=data.get("description"),
                metadata=clean_metadata(data.get("metadata")),
                receipt_email=data.get("receipt_email"),
            )
        )
        # The PaymentIntent is created when the customer confirms (deferred intent).
        session["payment_intent"] = pi["id"]
    if not confirm_payment(store, ctx, pi, pm, succeed=card != "decline"):
        raise Declined()
    if session["invoice_creation"]["enabled"]:
        # An invoice needs a customer; Checkout makes one for a guest.
        cus = cus or create_customer(store, ctx, {"email": email, "name": name, "address": addr})
        inv = billing.new_invoice(
            store,
            ctx,
            cus,
            billing_reason="manual",
            currency=session["currency"],
            period=(ctx.now, ctx.now),
            one_time=session_line_items(store, session),
        )
        billing.finalize_invoice(store, ctx, inv)
        billing.settle_invoice(store, ctx, inv, pi)
        session["invoice"] = inv["id"]
    _complete_session(store, ctx, session, cus, email, name, addr, "paid")


def _pay_subscription_session(store, ctx, session, cus, card, email, name, addr):
    if cus is None:
        cus = create_customer(store, ctx, {"email": email, "name": name, "address": addr})
    pm = new_payment_method(store, ctx, card, email, name, addr, cus["id"])
    sub, inv = billing.start_subscription(
        store,
        ctx,
        cus,
        pm,
        card,
        session_line_items(store, session),
        session["currency"],
        store.extra[session["id"]].get("subscription_data") or {},
    )
    session.update(subscription=sub["id"], invoice=inv["id"])
    if sub["status"] == "trialing":
        # The first charge comes at the trial's end; nothing is paid now.
        _complete_session(store, ctx, session, cus, email, name, addr, "no_payment_required")
        return
    before = billing.activate(store, sub)
    _complete_session(store, ctx, session, cus, email, name, addr, "paid")
    emit_update(store, ctx, "customer.subscription.updated", sub, before)


def _complete_session(store, ctx, session, cus, email, name, addr, payment_status):
    session.update(
        status="complete",
        payment_status=payment_status,
        url=None,
        customer=cus and cus["id"],
        customer_details=objects.customer_details(email, name, addr),
    )
    emit(store, ctx, "checkout.session.completed", session)


def success_redirect(session):
    """Where the customer goes after paying: ``success_url`` with the session id filled in."""
    url = session["success_url"]
    return url.replace("{CHECKOUT_SESSION_ID}", session["id"]) if url else None


def expire_session(store, ctx, session):
    """Expire an open session (``POST .../expire``, or its ``expires_at`` passing)."""
    if session["status"] != "open":
        raise state_error(
            f'Only Checkout Sessions with a status in ["open"] can be expired. This '
            f'Checkout Session has a status of "{session["status"]}".'
        )
    session.update(status="expired", url=None)
    emit(store, ctx, "checkout.session.expired", session)
    return session


def advance_clock(store, ctx, seconds):
    """Move the clock and run what fell due, in time order."""
    store.clock.offset += seconds
    ctx.now = store.clock.now()
    run_due(store, ctx)


def run_due(store, ctx):
    """Expire sessions and renew or end subscriptions whose moment has passed."""
    now = ctx.now
    while True:
        due = []
        for s in store.all("checkout.session", lambda o, x: o["status"] == "open"):
            if s["expires_at"] <= now:
                due.append((s["expires_at"], store.order[s["id"]], expire_session, s))
        for sub in store.all(
            "subscription", lambda o, x: o["status"] in ("active", "past_due", "trialing")
        ):
            end = billing.items_of(store, sub)[0]["current_period_end"]
            announce = billing.trial_will_end_at(store, sub)
            if announce is not None and announce <= now:
                due.append((announce, store.order[sub["id"]], billing.trial_will_end, sub))
                continue
            cancel_at = sub["cancel_at"]
            if cancel_at is not None and cancel_at <= end:
                if cancel_at <= now:
                    due.append((cancel_at, store.order[sub["id"]], billing.end_subscription, sub))
            elif end <= now:
                due.append((end, store.order[sub["id"]], billing.renew_subscription, sub))
        if not due:
            break
        when, _, action, obj = min(due, key=lambda d: d[:2])
        ctx.now = when
        action(store, ctx, obj)
    ctx.now = now
