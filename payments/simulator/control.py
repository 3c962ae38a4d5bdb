"""The ``/_sim`` control API: what Stripe's dashboard, banks and time would do.

JSON in, JSON out; for development and tests only. Events caused here are delivered
before the call answers.
"""

from . import billing, charges, checkout
from .checkout import Declined, success_redirect
from .encoding import json_response
from .errors import StripeError, invalid
from .expand import render
from .store import LATE_BY

ROUTES = []


def route(method, rule):
    def register(handler):
        ROUTES.append(([method], rule, handler))
        return handler

    return register


def _json(status=200, **body):
    return json_response(status, body)


def _body(request):
    data = request.get_json(silent=True, force=True) if request.data else None
    if data is None:
        data = {k: v for k, v in request.form.items()}
    if not isinstance(data, dict):
        raise invalid("The control API expects a JSON object.")
    return data


def _act(sim, request, action, key, *, before_delivery=None, more=None):
    """Run ``action(ctx, body)`` and answer ``{key: result, "events": [...]}``.

    ``more(result)`` may add keys to the answer.
    """
    try:
        body = _body(request)
        events = []

        def run(ctx):
            try:
                return action(ctx, body)
            finally:
                events.extend(ctx.events)

        result = sim.act(run, before_delivery=before_delivery)
    except StripeError as e:
        return _json(e.status, **e.body())
    with sim.store.lock:
        shown = (
            render(sim.store, result) if isinstance(result, dict) and "object" in result else result
        )
    return _json(200, **{key: shown, "events": events, **(more(result) if more else {})})


def _charge(store, id):
    """A charge by its id, or by the id of the PaymentIntent it belongs to."""
    if id.startswith("pi_"):
        pi = store.require(id, "payment_intent")
        return store.require(pi["latest_charge"], "charge")
    return store.require(id, "charge")


@route("POST", "/_sim/checkout/sessions/<id>/pay")
def pay_session(sim, request, id):
    """Pay as the hosted page would: ``{"card", "email"?, "name"?, "address"?}``."""
    store = sim.store
    outcome = {}

    def pay(ctx, body):
        session = store.require(id, "checkout.session")
        try:
            checkout.pay_session(
                store,
                ctx,
                session,
                body.get("card", "success"),
                body.get("email"),
                body.get("name"),
                body.get("address"),
            )
        except Declined as e:
            outcome["declined"] = e.message
        return session

    def more(session):
        if "declined" in outcome:
            return {
                "error": {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "generic_decline",
                    "message": outcome["declined"],
                }
            }
        return {"redirect_url": success_redirect(session)}

    response = _act(sim, request, pay, "session", more=more)
    if response.status_code == 200 and "declined" in outcome:
        response.status_code = 402
    return response


@route("POST", "/_sim/checkout/sessions/<id>/expire")
def expire_session(sim, request, id):
    return _act(
        sim,
        request,
        lambda ctx, body: checkout.expire_session(
            sim.store, ctx, sim.store.require(id, "checkout.session")
        ),
        "session",
    )


@route("POST", "/_sim/charges/<id>/refund")
def refund_charge(sim, request, id):
    """A refund from the dashboard: ``{"amount"?, "reason"?}``; events carry no request."""
    return _act(
        sim,
        request,
        lambda ctx, body: charges.create_refund(
            sim.store, ctx, _charge(sim.store, id), _amount(body), body.get("reason")
        ),
        "refund",
    )


@route("POST", "/_sim/refunds/<id>/fail")
def fail_refund(sim, request, id):
    return _act(
        sim,
        request,
        lambda ctx, body: charges.fail_refund(
            sim.store,
            ctx,
            sim.store.require(id, "refund"),
            body.get("reason", "expired_or_canceled_card"),
        ),
        "refund",
    )


@route("POST", "/_sim/charges/<id>/dispute")
def dispute_charge(sim, request, id):
    """``{"amount"?, "reason"?}``: the cardholder disputes; the funds are withdrawn."""
    return _act(
        sim,
        request,
        lambda ctx, body: charges.open_dispute(
            sim.store, ctx, _charge(sim.store, id), _amount(body), body.get("reason", "fraudulent")
        ),
        "dispute",
    )


@route("POST", "/_sim/disputes/<id>/close")
def close_dispute(sim, request, id):
    """``{"outcome": "won"|"lost"}``."""

    def close(ctx, body):
        outcome = body.get("outcome", "lost")
        if outcome not in ("won", "lost"):
            raise invalid("outcome must be won or lost", "outcome")
        return charges.close_dispute(sim.store, ctx, sim.store.require(id, "dispute"), outcome)

    return _act(sim, request, close, "dispute")


@route("POST", "/_sim/subscriptions/<id>/card")
def set_card(sim, request, id):
    """``{"card": "success"|"renewal_fails"}``, as the portal's "Update card"."""

    def update(ctx, body):
        card = body.get("card", "success")
        if card not in ("success", "renewal_fails", "decline"):
            raise invalid(f"Unknown test card: {card}", "card")
        sub = sim.store.require(id, "subscription")
        billing.set_subscription_card(sim.store, ctx, sub, card)
        return sub

    return _act(sim, request, update, "subscription")


@route("POST", "/_sim/clock/advance")
def advance_clock(sim, request):
    """``{"seconds": N}`` or ``{"days": N}``: renewals, expiries and availability follow."""

    def advance(ctx, body):
        seconds = int(body.get("seconds", 0)) + int(float(body.get("days", 0)) * 86400)
        if seconds < 0:
            raise invalid("The clock only moves forward.", "seconds")
        checkout.advance_clock(sim.store, ctx, seconds)
        return _clock(sim)

    def tell_app():
        if sim.config.on_clock_change is not None:
            sim.config.on_clock_change(sim.clock.offset)

    return _act(sim, request, advance, "clock", before_delivery=tell_app)


@route("GET", "/_sim/clock")
def get_clock(sim, request):
    return _json(**_clock(sim))


@route("POST", "/_sim/payouts")
def create_payout(sim, request):
    """``{"amount"?, "fail"?}``: an automatic payout of the available balance."""
    return _act(
        sim,
        request,
        lambda ctx, body: charges.create_payout(
            sim.store, ctx, amount=_amount(body), fail=bool(body.get("fail"))
        ),
        "payout",
    )


@route("POST", "/_sim/payouts/manual")
def create_manual_payout(sim, request):
    return _act(
        sim,
        request,
        lambda ctx, body: charges.create_payout(
            sim.store, ctx, amount=_amount(body), automatic=False
        ),
        "payout",
    )


@route("POST", "/_sim/reset")
def reset(sim, request):
    sim.reset()
    return _json(ok=True)


@route("POST", "/_sim/flush")
def flush(sim, request):
    """Wait until every event queued by API calls has been delivered (or failed)."""
    sim.delivery.flush()
    return _json(ok=True)


@route("POST", "/_sim/wait-idle")
def wait_idle(sim, request):
    """Block until no idempotent request is still running (a stalled one has finished)."""
    timeout = float(_body(request).get("timeout", 30))
    store = sim.store
    with store.settled:
        idle = store.settled.wait_for(
            lambda: all(r.done for r in store.idempotency.values()), timeout=timeout
        )
    return _json(200 if idle else 504, idle=idle)


@route("POST", "/_sim/hang")
def hang(sim, request):
    """``{"seconds": N, "count": 1}``: the next API requests stall, then still execute."""
    body = _body(request)
    with sim.store.lock:
        sim.store.hang = {
            "seconds": float(body.get("seconds", 0)),
            "count": int(body.get("count", 1)),
        }
    return _json(**sim.store.hang)


@route("POST", "/_sim/fail")
def fail(sim, request):
    """``{"status": 500, "count": 1}``: the next API requests fail with that status.

    They fail as Stripe's front does before an endpoint begins: nothing is done, and an
    ``Idempotency-Key`` stays free for the retry (Stripe saves a key's answer only once
    its endpoint has started).
    """
    body = _body(request)
    status = int(body.get("status", 500))
    if not 500 <= status <= 599:
        return _json(400, error={"message": "status must be a 5xx"})
    with sim.store.lock:
        sim.store.failing = {"status": status, "count": int(body.get("count", 1))}
        return _json(failing=dict(sim.store.failing))


MODES = ("normal", "twice", "reverse", "late", "drop")


@route("POST", "/_sim/delivery")
def set_delivery(sim, request):
    """``{"mode", "count"?, "api_version"?, "late_by"?}`` for the next events (all, without
    count); ``late_by`` is how many seconds before delivery a late event was created."""
    body = _body(request)
    mode = body.get("mode", "normal")
    if mode not in MODES:
        return _json(400, error={"message": f"mode must be one of {', '.join(MODES)}"})
    count = body.get("count")
    with sim.store.lock:
        plan = sim.store.plan
        plan.mode, plan.api_version = mode, body.get("api_version")
        plan.remaining = int(count) if count is not None else None
        plan.late_by = int(body.get("late_by", LATE_BY))
        return _json(
            mode=plan.mode,
            count=plan.remaining,
            api_version=plan.api_version,
            late_by=plan.late_by,
        )


@route("GET", "/_sim/events")
def list_events(sim, request):
    """Events oldest first with their delivery attempts; ``?delivered=false`` filters."""
    wanted = request.args.get("delivered")
    with sim.store.lock:
        rows = []
        for event in sim.store.all("event"):
            extra = sim.store.extra[event["id"]]
            if wanted is not None and extra["delivered"] != (wanted == "true"):
                continue
            rows.append(
                {
                    "id": event["id"],
                    "type": event["type"],
                    "created": event["created"],
                    "delivered": extra["delivered"],
                    "mode": extra["mode"],
                    "attempts": extra["attempts"],
                }
            )
    return _json(data=rows)


@route("POST", "/_sim/events/<id>/deliver")
def deliver_event(sim, request, id):
    with sim.store.lock:
        if sim.store.get(id, "event") is None:
            return _json(404, error={"message": f"No such event: '{id}'"})
    status = sim.delivery.deliver(id)
    return json_response(
        200,
        {
            "event": id,
            "webhook_status": status,
            "delivered": status is not None and 200 <= status < 300,
        },
    )


@route("POST", "/_sim/deliver-pending")
def deliver_pending(sim, request):
    """Retry every undelivered event (dropped ones stay dropped), oldest first."""
    sim.delivery.flush()
    with sim.store.lock:
        ids = [id for id in sim.delivery.pending() if sim.store.extra[id]["mode"] != "drop"]
    delivered, failed = [], []
    for id in ids:
        status = sim.delivery.deliver(id)
        (delivered if status is not None and 200 <= status < 300 else failed).append(id)
    return _json(delivered=delivered, failed=failed)


@route("GET", "/_sim/state")
def state(sim, request):
    store = sim.store
    with store.lock:
        counts = {}
        for obj in store.objects.values():
            counts[obj["object"]] = counts.get(obj["object"], 0) + 1
        return _json(
            objects=counts,
            clock=_clock(sim),
            pending_events=len(sim.delivery.pending()),
            queued_deliveries=sim.delivery.queue.unfinished_tasks,
            idempotency_in_flight=sum(not r.done for r in store.idempotency.values()),
            delivery={
                "mode": store.plan.mode,
                "count": store.plan.remaining,
                "api_version": store.plan.api_version,
                "late_by": store.plan.late_by,
            },
            hang=store.hang,
            failing=store.failing,
        )


def _clock(sim):
    return {"now": sim.clock.now(), "offset": sim.clock.offset}


def _amount(body):
    amount = body.get("amount")
    return None if amount is None else int(amount)
