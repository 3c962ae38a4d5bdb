"""Money on the balance: products and prices, customers, card payments, refunds,
disputes and payouts.

Every function here and in :mod:`.billing` and :mod:`.checkout` runs under the store's
lock, stamps objects with ``ctx.now`` and emits its events into ``ctx``; the API, the
control calls and the hosted pages all call these.
"""

from decimal import Decimal, InvalidOperation

from . import objects
from .errors import invalid, state_error
from .events import emit, emit_update, snapshot
from .objects import DAY, card_fee, money
from .params import clean_metadata, merge_metadata

# Products and prices


def create_product(store, ctx, p):
    return store.add(
        objects.product(ctx.now, p["name"], p.get("description"), clean_metadata(p.get("metadata")))
    )


def check_price_data(store, p, param):
    """Validate ``price_data``-style params before anything is created; return its product."""
    if p.get("product") is not None and p.get("product_data") is not None:
        raise invalid("You may only specify one of these parameters: product, product_data.", param)
    if p.get("product") is None and p.get("product_data") is None:
        raise invalid(f"You must specify either `product` or `product_data` in {param}.", param)
    if p.get("unit_amount") is None and p.get("unit_amount_decimal") is None:
        raise invalid(
            f"Missing required param: {param}[unit_amount].",
            f"{param}[unit_amount]",
            code="parameter_missing",
        )
    if p.get("unit_amount") is None:
        whole_cents(p["unit_amount_decimal"], f"{param}[unit_amount_decimal]")
    if p.get("product") is not None:
        return store.require(p["product"], "product", f"{param}[product]")
    return None


def create_price(store, ctx, p, product=None):
    """A price from checked ``price_data``-style params, creating its product if needed."""
    if product is None:
        product = create_product(store, ctx, p["product_data"])
    amount = p.get("unit_amount")
    if amount is None:
        amount = whole_cents(p["unit_amount_decimal"], "unit_amount_decimal")
    return store.add(
        objects.price(
            ctx.now,
            product["id"],
            p["currency"].lower(),
            amount,
            p.get("recurring"),
            metadata=clean_metadata(p.get("metadata")),
            nickname=p.get("nickname"),
            lookup_key=p.get("lookup_key"),
            active=p.get("active", True),
        )
    )


def product_name(store, price):
    product = store.get(price["product"], "product")
    return product["name"] if product else price["id"]


# Customers and payment methods


def create_customer(store, ctx, p):
    cus = store.add(objects.customer(ctx.now, p))
    emit(store, ctx, "customer.created", cus)
    return cus


def update_customer(store, ctx, cus, p):
    pm_id = (p.get("invoice_settings") or {}).get("default_payment_method")
    if pm_id is not None:
        store.require(pm_id, "payment_method", "invoice_settings[default_payment_method]")
    before = snapshot(store, cus)
    for key in ("email", "name", "phone", "description", "preferred_locales"):
        if key in p:
            cus[key] = p[key]
    if "address" in p:
        cus["address"] = objects.address(p["address"])
    if "metadata" in p:
        cus["metadata"] = merge_metadata(cus["metadata"], p["metadata"])
    if pm_id is not None:
        cus["invoice_settings"]["default_payment_method"] = pm_id
    emit_update(store, ctx, "customer.updated", cus, before)
    return cus


def new_payment_method(store, ctx, card, email, name, addr, customer_id):
    details = objects.billing_details(email, name, addr)
    return store.add(objects.payment_method(ctx.now, card, details, customer_id))


# Payments


def confirm_payment(store, ctx, pi, pm, succeed):
    """Attempt a card payment on ``pi``: a charge, and on success its balance transaction."""
    config = store.config
    ch = store.add(objects.charge(ctx.now, config, pi, pm, succeeded=succeed))
    pi["latest_charge"] = ch["id"]
    if succeed:
        fee = card_fee(config, pi["amount"])
        txn = store.add(
            objects.balance_transaction(
                ctx.now,
                amount=pi["amount"],
                currency=pi["currency"],
                type="charge",
                reporting_category="charge",
                source=ch["id"],
                fee=fee,
                fee_description="Stripe processing fees",
                description=pi["description"],
                available_on=ctx.now + config.available_delay_days * DAY,
            )
        )
        ch["balance_transaction"] = txn["id"]
        pi.update(
            status="succeeded",
            amount_received=pi["amount"],
            payment_method=pm["id"],
            last_payment_error=None,
        )
        emit(store, ctx, "payment_intent.succeeded", pi)
        emit(store, ctx, "charge.succeeded", ch)
        return True
    pi.update(
        status="requires_payment_method",
        payment_method=None,
        last_payment_error={
            "charge": ch["id"],
            "code": "card_declined",
            "decline_code": "generic_decline",
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "message": "Your card was declined.",
            "payment_method": snapshot(store, pm),
            "type": "card_error",
        },
    )
    emit(store, ctx, "charge.failed", ch)
    emit(store, ctx, "payment_intent.payment_failed", pi)
    return False


# Refunds and disputes


def charge_to_refund(store, p):
    """The charge a refund request names, directly or through its PaymentIntent."""
    if p.get("charge") is not None:
        return store.require(p["charge"], "charge", "charge")
    pi = store.require(p["payment_intent"], "payment_intent", "payment_intent")
    ch = store.get(pi["latest_charge"], "charge")
    if pi["status"] != "succeeded" or ch is None:
        raise state_error(
            "This PaymentIntent does not have a successful charge to refund.", "payment_intent"
        )
    return ch


def create_refund(store, ctx, ch, amount=None, reason=None, metadata=None):
    if ch["status"] != "succeeded":
        raise state_error(f"Charge {ch['id']} has not succeeded and cannot be refunded.", "charge")
    dispute = _active_dispute(store, ch)
    if dispute is not None:
        raise state_error(
            f"Charge {ch['id']} has been charged back; cannot issue a refund.",
            code="charge_disputed",
        )
    remaining = ch["amount"] - ch["amount_refunded"]
    if remaining <= 0:
        raise state_error(
            f"Charge {ch['id']} has already been refunded.", code="charge_already_refunded"
        )
    amount = remaining if amount is None else amount
    if amount > remaining:
        raise state_error(
            f"Refund amount ({money(amount, ch['currency'])}) is greater than unrefunded "
            f"amount on charge ({money(remaining, ch['currency'])})",
            "amount",
            code="amount_too_large",
        )
    re = store.add(
        objects.refund(ctx.now, ch, amount, reason=reason, metadata=clean_metadata(metadata))
    )
    txn = store.add(
        objects.balance_transaction(
            ctx.now,
            amount=-amount,
            currency=ch["currency"],
            type="refund",
            reporting_category="refund",
            source=re["id"],
            description="REFUND FOR CHARGE"
            + (f" ({ch['description']})" if ch["description"] else ""),
        )
    )
    re["balance_transaction"] = txn["id"]
    ch["amount_refunded"] += amount
    ch["refunded"] = ch["amount_refunded"] == ch["amount"]
    emit(store, ctx, "refund.created", re)
    emit(store, ctx, "charge.refunded", ch)
    return re


def fail_refund(store, ctx, re, reason="expired_or_canceled_card"):
    """A refund the bank sends back later: the money returns to the balance."""
    if re["status"] != "succeeded":
        raise state_error(f"Refund {re['id']} is {re['status']}; only a succeeded refund can fail.")
    before = snapshot(store, re)
    ch = store.get(re["charge"], "charge")
    txn = store.add(
        objects.balance_transaction(
            ctx.now,
            amount=re["amount"],
            currency=re["currency"],
            type="adjustment",
            reporting_category="refund_failure",
            source=re["id"],
            description=f"Refund failure for {ch['id']}",
        )
    )
    re.update(status="failed", failure_reason=reason, failure_balance_transaction=txn["id"])
    ch["amount_refunded"] -= re["amount"]
    ch["refunded"] = False
    emit(store, ctx, "refund.failed", re)
    emit_update(store, ctx, "refund.updated", re, before)
    return re


def _active_dispute(store, ch):
    found = store.all("dispute", lambda o, x: o["charge"] == ch["id"])
    return found[-1] if found and found[-1]["status"] not in ("won", "lost") else None


def open_dispute(store, ctx, ch, amount=None, reason="fraudulent"):
    if ch["status"] != "succeeded":
        raise state_error(f"Charge {ch['id']} has not succeeded and cannot be disputed.")
    if ch["disputed"]:
        raise state_error(f"Charge {ch['id']} is already disputed.")
    amount = ch["amount"] if amount is None else amount
    if not 0 < amount <= ch["amount"]:
        raise state_error(f"A dispute amount must be between 1 and {ch['amount']}.", "amount")
    dp = store.add(objects.dispute(ctx.now, ch, amount, reason))
    ch["disputed"] = True
    emit(store, ctx, "charge.dispute.created", dp)
    fee = store.config.dispute_fee
    txn = store.add(
        objects.balance_transaction(
            ctx.now,
            amount=-amount,
            currency=ch["currency"],
            type="adjustment",
            reporting_category="dispute",
            source=dp["id"],
            fee=fee,
            fee_description="Dispute fee",
            description=f"Chargeback withdrawal for {ch['id']}",
        )
    )
    dp["balance_transactions"].append(txn["id"])
    emit(store, ctx, "charge.dispute.funds_withdrawn", dp)
    return dp


def close_dispute(store, ctx, dp, outcome):
    """Close as ``won`` (funds come back, the fee does not) or ``lost``."""
    if dp["status"] in ("won", "lost", "warning_closed", "prevented"):
        raise state_error(f"Dispute {dp['id']} is already closed ({dp['status']}).")
    dp["status"] = outcome
    dp["is_charge_refundable"] = False
    if outcome != "won":
        emit(store, ctx, "charge.dispute.closed", dp)
        return dp
    txn = store.add(
        objects.balance_transaction(
            ctx.now,
            amount=dp["amount"],
            currency=dp["currency"],
            type="adjustment",
            reporting_category="dispute_reversal",
            source=dp["id"],
            description=f"Chargeback reversal for {dp['charge']}",
        )
    )
    dp["balance_transactions"].append(txn["id"])
    emit(store, ctx, "charge.dispute.closed", dp)
    emit(store, ctx, "charge.dispute.funds_reinstated", dp)
    return dp


# Payouts


def unsettled_balance(store, now):
    """Available transactions no payout has settled yet, oldest first."""
    return store.all(
        "balance_transaction", lambda o, x: o["available_on"] <= now and x.get("payout") is None
    )


def create_payout(store, ctx, *, amount=None, fail=False, automatic=True):
    """Pay out the available balance.

    An automatic payout settles whole transactions, oldest first, up to ``amount`` (all
    by default), and its own ``payout`` transaction, so the ``?payout=`` list sums to
    zero. A manual payout of ``amount`` settles nothing.
    """
    currency = store.config.currency
    settled = []
    available = unsettled_balance(store, ctx.now)
    if automatic:
        total = 0
        for txn in available:
            if amount is not None and total + txn["net"] > amount:
                break
            total += txn["net"]
            settled.append(txn)
    else:
        total = sum(t["net"] for t in available) if amount is None else amount
    if total <= 0:
        raise state_error(
            f"Insufficient available balance for a payout ({money(total, currency)}).", "amount"
        )
    po = store.add(objects.payout(ctx.now, total, currency, automatic=automatic))
    own = store.add(
        objects.balance_transaction(
            ctx.now,
            amount=-total,
            currency=currency,
            type="payout",
            reporting_category="payout",
            source=po["id"],
            description="STRIPE PAYOUT",
        ),
        payout=po["id"],
    )
    po["balance_transaction"] = own["id"]
    for txn in settled:
        store.extra[txn["id"]]["payout"] = po["id"]
    if automatic:
        store.index_payout(po["id"], [*settled, own])
    emit(store, ctx, "payout.created", po)
    if fail:
        back = store.add(
            objects.balance_transaction(
                ctx.now,
                amount=total,
                currency=currency,
                type="payout_failure",
                reporting_category="payout_reversal",
                source=po["id"],
                description="STRIPE PAYOUT FAILURE",
            )
        )
        po.update(
            status="failed",
            failure_balance_transaction=back["id"],
            failure_code="account_closed",
            failure_message="The bank account has been closed.",
        )
        emit(store, ctx, "payout.failed", po)
        return po
    po.update(status="paid", trace_id={"status": "supported", "value": objects.new_id("", 12)})
    emit(store, ctx, "payout.paid", po)
    if automatic:
        po["reconciliation_status"] = "completed"
        emit(store, ctx, "payout.reconciliation_completed", po)
    return po


def whole_cents(value, param):
    """``unit_amount_decimal`` as cents; fractions of a cent are beyond the simulator."""
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = None
    if number is None or number != number.to_integral_value():
        raise invalid(f"The simulator only supports whole cents in {param}.", param)
    return int(number)
