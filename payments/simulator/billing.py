"""Subscriptions and their invoices: creation, renewal, failure, changes and cancellation."""

import calendar
from datetime import UTC, datetime

from . import objects
from .charges import (
    check_price_data,
    confirm_payment,
    create_price,
    new_payment_method,
    product_name,
)
from .errors import invalid, no_such, state_error
from .events import emit, emit_update, snapshot
from .objects import DAY, money
from .params import clean_metadata, merge_metadata


def add_interval(anchor, interval, count, periods):
    """``anchor`` moved by ``periods`` billing intervals; month ends clamp like Stripe's."""
    if interval == "day":
        return anchor + periods * count * DAY
    if interval == "week":
        return anchor + periods * count * 7 * DAY
    start = datetime.fromtimestamp(anchor, UTC)
    months = periods * count * (12 if interval == "year" else 1)
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def start_subscription(store, ctx, cus, pm, card, line_items, currency, data):
    """Subscribe ``cus`` to the recurring line items and pay the first invoice.

    The subscription stays ``incomplete`` (as in its ``created`` event) until
    :func:`activate`; one-time items are billed on the first invoice only.
    """
    recurring = [li for li in line_items if li["price"]["recurring"]]
    interval = recurring[0]["price"]["recurring"]
    trial_end = data.get("trial_end")
    sub = store.add(
        objects.subscription(
            ctx.now,
            cus["id"],
            metadata=clean_metadata(data.get("metadata")),
            description=data.get("description"),
            pm_id=pm["id"],
        ),
        anchor=ctx.now,
        period=0,
        card=card,
        interval=(interval["interval"], interval["interval_count"]),
    )
    sub["currency"] = currency
    if trial_end is not None:
        # A first charge at a future date: the periods count from the trial's end.
        extra = store.extra[sub["id"]]
        extra.update(anchor=trial_end, period=-1, trial_will_end_sent=False)
        sub.update(status="trialing", trial_start=ctx.now, trial_end=trial_end)
        sub["billing_cycle_anchor"] = trial_end
        period = (ctx.now, trial_end)
    else:
        period = (ctx.now, period_end_after(store, sub, 1))
    for li in recurring:
        store.add(
            objects.subscription_item(ctx.now, sub["id"], li["price"], li["quantity"], period)
        )
    inv = new_invoice(
        store,
        ctx,
        cus,
        billing_reason="subscription_create",
        currency=currency,
        period=(ctx.now, ctx.now),
        sub=sub,
        one_time=[li for li in line_items if not li["price"]["recurring"]],
        trial=trial_end is not None,
    )
    finalize_invoice(store, ctx, inv)
    sub["latest_invoice"] = inv["id"]
    emit(store, ctx, "customer.subscription.created", sub)
    if inv["amount_due"] == 0:
        settle_unpaid_invoice(store, ctx, inv)  # nothing to charge: paid without a payment
    else:
        pay_invoice(store, ctx, inv, renewal=False)
    return sub, inv


def settle_unpaid_invoice(store, ctx, inv):
    """A $0 invoice is paid at once, with no payment (Stripe's first invoice of a trial)."""
    inv.update(status="paid", attempted=True, auto_advance=False, next_payment_attempt=None)
    inv["status_transitions"]["paid_at"] = ctx.now
    emit(store, ctx, "invoice.paid", inv)
    emit(store, ctx, "invoice.payment_succeeded", inv)


def trial_will_end(store, ctx, sub):
    """``customer.subscription.trial_will_end``, three days before the first charge."""
    store.extra[sub["id"]]["trial_will_end_sent"] = True
    emit(store, ctx, "customer.subscription.trial_will_end", sub)


def trial_will_end_at(store, sub):
    """When to announce the trial's end, or None once announced."""
    extra = store.extra[sub["id"]]
    if sub["status"] != "trialing" or extra.get("trial_will_end_sent", True):
        return None
    return max(sub["trial_end"] - 3 * DAY, sub["trial_start"])


def activate(store, sub):
    """Mark a paid new subscription ``active``; returns the snapshot from before."""
    before = snapshot(store, sub)
    sub["status"] = "active"
    return before


def lines_of(store, inv):
    return store.all("line_item", lambda o, x: o["invoice"] == inv["id"])


def items_of(store, sub):
    return store.all("subscription_item", lambda o, x: o["subscription"] == sub["id"])


def period_end_after(store, sub, periods):
    extra = store.extra[sub["id"]]
    interval, count = extra["interval"]
    return add_interval(extra["anchor"], interval, count, periods)


def new_invoice(
    store, ctx, cus, *, billing_reason, currency, period, sub=None, one_time=(), trial=False
):
    inv = store.add(
        objects.invoice(
            ctx.now,
            store.config,
            cus,
            billing_reason=billing_reason,
            currency=currency,
            period=period,
            subscription=sub,
        )
    )
    lines = []
    if sub is not None:
        interval, count = store.extra[sub["id"]]["interval"]
        for item in items_of(store, sub):
            price = item["price"]
            every = interval if count == 1 else f"{count} {interval}s"
            description = (
                f"{item['quantity']} × {product_name(store, price)} "
                f"(at {money(price['unit_amount'], currency)} / {every})"
            )
            line = objects.invoice_line(
                inv["id"],
                price,
                item["quantity"],
                description,
                (item["current_period_start"], item["current_period_end"]),
                sub_id=sub["id"],
                item_id=item["id"],
            )
            if trial:
                line.update(amount=0, description=f"Trial period for {product_name(store, price)}")
            lines.append(line)
    for li in one_time:
        lines.append(
            objects.invoice_line(
                inv["id"],
                li["price"],
                li["quantity"],
                li["description"],
                (ctx.now, ctx.now),
                sub_id=sub and sub["id"],
            )
        )
    for line in lines:
        store.add(line)
    total = sum(line["amount"] for line in lines)
    inv.update(
        amount_due=total,
        amount_remaining=total,
        subtotal=total,
        subtotal_excluding_tax=total,
        total=total,
        total_excluding_tax=total,
    )
    return inv


def finalize_invoice(store, ctx, inv):
    cus = store.get(inv["customer"], "customer")
    number = f"{cus['invoice_prefix']}-{cus['next_invoice_sequence']:04d}"
    cus["next_invoice_sequence"] += 1
    base = f"{store.config.public_url}/i/{inv['id']}"
    inv.update(
        status="open",
        number=number,
        effective_at=ctx.now,
        ending_balance=0,
        hosted_invoice_url=base,
        invoice_pdf=f"{base}/pdf",
    )
    inv["status_transitions"]["finalized_at"] = ctx.now


def settle_invoice(store, ctx, inv, pi):
    """Mark ``inv`` paid by the succeeded ``pi``."""
    inpay = open_invoice_payment(store, inv) or store.add(objects.invoice_payment(ctx.now, inv, pi))
    inpay.update(status="paid", amount_paid=inv["amount_remaining"])
    inpay["status_transitions"]["paid_at"] = ctx.now
    inv.update(
        status="paid",
        amount_paid=inv["amount_due"],
        amount_remaining=0,
        attempted=True,
        attempt_count=inv["attempt_count"] + 1,
        auto_advance=False,
        next_payment_attempt=None,
    )
    inv["status_transitions"]["paid_at"] = ctx.now
    emit(store, ctx, "invoice.paid", inv)
    emit(store, ctx, "invoice.payment_succeeded", inv)


def open_invoice_payment(store, inv):
    open_ = store.all(
        "invoice_payment", lambda o, x: o["invoice"] == inv["id"] and o["status"] == "open"
    )
    return open_[-1] if open_ else None


def pay_invoice(store, ctx, inv, *, renewal):
    """Charge a subscription invoice with the subscription's test card."""
    sub = store.get(inv["parent"]["subscription_details"]["subscription"], "subscription")
    card = store.extra[sub["id"]]["card"]
    cus = store.get(inv["customer"], "customer")
    inpay = open_invoice_payment(store, inv)
    pi = inpay and store.get(inpay["payment"]["payment_intent"], "payment_intent")
    if pi is None:
        reason = inv["billing_reason"]
        pi = store.add(
            objects.payment_intent(
                ctx.now,
                inv["amount_remaining"],
                inv["currency"],
                customer=cus["id"],
                description="Subscription creation"
                if reason == "subscription_create"
                else "Subscription update",
            )
        )
        store.add(objects.invoice_payment(ctx.now, inv, pi))
    pm = store.get(sub["default_payment_method"], "payment_method")
    succeed = card == "success" or (card == "renewal_fails" and not renewal)
    if confirm_payment(store, ctx, pi, pm, succeed):
        cus["delinquent"] = False
        settle_invoice(store, ctx, inv, pi)
        return True
    cus["delinquent"] = True
    inv.update(
        attempted=True,
        attempt_count=inv["attempt_count"] + 1,
        next_payment_attempt=ctx.now + 3 * DAY,
    )
    emit(store, ctx, "invoice.payment_failed", inv)
    return False


def renew_subscription(store, ctx, sub):
    """Start the next period at ``ctx.now``: invoice it and try to collect."""
    before = snapshot(store, sub)
    extra = store.extra[sub["id"]]
    old_start = items_of(store, sub)[0]["current_period_start"]
    extra["period"] += 1
    start, end = ctx.now, period_end_after(store, sub, extra["period"] + 1)
    for item in items_of(store, sub):
        item.update(current_period_start=start, current_period_end=end)
    if sub["status"] == "trialing":
        sub["status"] = "active"  # the trial is over; _follow_invoices says if it is paid
    inv = new_invoice(
        store,
        ctx,
        store.get(sub["customer"], "customer"),
        billing_reason="subscription_cycle",
        currency=sub["currency"],
        period=(old_start, start),
        sub=sub,
    )
    emit(store, ctx, "invoice.created", inv)
    finalize_invoice(store, ctx, inv)
    sub["latest_invoice"] = inv["id"]
    pay_invoice(store, ctx, inv, renewal=True)
    _follow_invoices(store, sub)
    emit_update(store, ctx, "customer.subscription.updated", sub, before)


def _follow_invoices(store, sub):
    """``past_due`` while an invoice is unpaid, ``active`` again once all are paid."""
    unpaid = _unpaid_invoices(store, sub)
    if unpaid and sub["status"] == "active":
        sub["status"] = "past_due"
    elif not unpaid and sub["status"] == "past_due":
        sub["status"] = "active"


def _unpaid_invoices(store, sub):
    return store.all(
        "invoice",
        lambda o, x: (
            o["status"] == "open"
            and o["parent"] is not None
            and o["parent"]["subscription_details"]["subscription"] == sub["id"]
        ),
    )


def cancel_subscription(store, ctx, sub):
    """``DELETE /v1/subscriptions/{id}``: end it now."""
    if sub["status"] == "canceled":
        raise state_error("This subscription has already been canceled.")
    sub["canceled_at"] = ctx.now
    return end_subscription(store, ctx, sub)


def end_subscription(store, ctx, sub):
    """End a subscription at ``ctx.now``, as scheduled by ``cancel_at`` or by a DELETE."""
    sub.update(status="canceled", ended_at=ctx.now, canceled_at=sub["canceled_at"] or ctx.now)
    sub["cancellation_details"]["reason"] = (
        sub["cancellation_details"]["reason"] or "cancellation_requested"
    )
    emit(store, ctx, "customer.subscription.deleted", sub)
    return sub


def update_subscription(store, ctx, sub, p):
    """``POST /v1/subscriptions/{id}``; price changes apply from the next renewal."""
    if sub["status"] == "canceled" and set(p) - {"metadata", "cancellation_details", "expand"}:
        raise state_error(
            "A canceled subscription can only update its cancellation_details and metadata."
        )
    if "default_payment_method" in p:
        store.require(p["default_payment_method"], "payment_method", "default_payment_method")
    changes = [
        _check_item(store, sub, change, f"items[{n}]")
        for n, change in enumerate(p.get("items") or [])
    ]
    before = snapshot(store, sub)
    if "cancel_at_period_end" in p:
        ending = p["cancel_at_period_end"]
        period_end = items_of(store, sub)[0]["current_period_end"]
        sub.update(
            cancel_at_period_end=ending,
            cancel_at=period_end if ending else None,
            canceled_at=ctx.now if ending else None,
        )
        sub["cancellation_details"]["reason"] = "cancellation_requested" if ending else None
    if "cancel_at" in p:
        sub.update(cancel_at=p["cancel_at"], canceled_at=ctx.now)
    for key in ("comment", "feedback"):
        if key in (p.get("cancellation_details") or {}):
            sub["cancellation_details"][key] = p["cancellation_details"][key]
    if "metadata" in p:
        sub["metadata"] = merge_metadata(sub["metadata"], p["metadata"])
    for key in ("description", "default_payment_method"):
        if key in p:
            sub[key] = p[key]
    for change, item, price, product in changes:
        _apply_item(store, ctx, sub, change, item, price, product)
    emit_update(store, ctx, "customer.subscription.updated", sub, before)
    return sub


def _check_item(store, sub, change, param):
    """Validate one ``items[n]`` change: (change, item or None, price or None, product)."""
    item = price = product = None
    if change.get("id") is not None:
        item = store.get(change["id"], "subscription_item")
        if item is None or item["subscription"] != sub["id"]:
            raise no_such("subscription_item", change["id"], f"{param}[id]")
    recurring = None
    if change.get("price") is not None:
        price = store.require(change["price"], "price", f"{param}[price]")
        if price["recurring"] is None:
            raise invalid(
                "The price specified is set to `type=one_time` but this field only "
                "accepts prices with `type=recurring`.",
                f"{param}[price]",
            )
        recurring = price["recurring"]
    elif change.get("price_data") is not None:
        product = check_price_data(store, change["price_data"], f"{param}[price_data]")
        recurring = change["price_data"]["recurring"]
    elif item is None:
        raise invalid(
            f"Missing required param: {param}[price].", f"{param}[price]", code="parameter_missing"
        )
    # Periods follow the subscription's interval; another interval would need a new cycle.
    if recurring is not None and (
        recurring["interval"],
        recurring.get("interval_count", 1),
    ) != tuple(store.extra[sub["id"]]["interval"]):
        raise invalid(
            "The simulator only changes prices within the subscription's billing interval.", param
        )
    return change, item, price, product


def _apply_item(store, ctx, sub, change, item, price, product):
    if change.get("price_data") is not None:
        price = create_price(store, ctx, change["price_data"], product)
    if item is None:
        first = items_of(store, sub)[0]
        store.add(
            objects.subscription_item(
                ctx.now,
                sub["id"],
                price,
                change.get("quantity", 1),
                (first["current_period_start"], first["current_period_end"]),
            )
        )
        return
    if price is not None:
        item.update(price=price, plan=objects.plan_from_price(price))
    if "quantity" in change:
        item["quantity"] = change["quantity"]
    if "metadata" in change:
        item["metadata"] = merge_metadata(item["metadata"], change["metadata"])


def set_subscription_card(store, ctx, sub, card):
    """The portal's "Update card": new default card, then retry what is unpaid."""
    before = snapshot(store, sub)
    cus = store.get(sub["customer"], "customer")
    pm = new_payment_method(store, ctx, card, cus["email"], cus["name"], None, cus["id"])
    sub["default_payment_method"] = pm["id"]
    store.extra[sub["id"]]["card"] = card
    emit_update(store, ctx, "customer.subscription.updated", sub, before)
    before = snapshot(store, sub)
    for inv in _unpaid_invoices(store, sub):
        pay_invoice(store, ctx, inv, renewal=False)
    _follow_invoices(store, sub)
    emit_update(store, ctx, "customer.subscription.updated", sub, before)
