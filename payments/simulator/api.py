"""Stripe's REST endpoints (the subset the app uses), at Stripe's own paths.

Each handler gets the decoded params and returns the response body; it runs under the
store's lock, inside the idempotency and error handling of :mod:`.app`.
"""

import fnmatch

from . import billing, charges, checkout, objects
from .errors import invalid, no_such
from .expand import render
from .listing import paginate, paginate_indexed
from .params import (
    Anything,
    Bool,
    Enum,
    Int,
    List,
    Metadata,
    Obj,
    Range,
    Str,
    in_range,
    schema,
    validate,
)

ROUTES = []

DAY = objects.DAY


def route(method, rule):
    def register(handler):
        ROUTES.append((method, rule, handler))
        return handler

    return register


# Shared parameter shapes

ADDRESS = Obj({k: Str() for k in ("city", "country", "line1", "line2", "postal_code", "state")})
RECURRING = Obj(
    {"interval": Enum("day", "week", "month", "year"), "interval_count": Int(1)},
    required=("interval",),
)
PRODUCT_DATA = Obj(
    {
        "name": Str(),
        "description": Str(),
        "metadata": Metadata(),
        "images": List(Str()),
        "tax_code": Str(),
        "unit_label": Str(),
    },
    required=("name",),
)
PRICE_DATA = Obj(
    {
        "currency": Str(),
        "product": Str(),
        "product_data": PRODUCT_DATA,
        "unit_amount": Int(0),
        "unit_amount_decimal": Str(),
        "recurring": RECURRING,
        "tax_behavior": Enum("exclusive", "inclusive", "unspecified"),
    },
    required=("currency",),
)
LINE_ITEM = Obj(
    {
        "price": Str(),
        "price_data": PRICE_DATA,
        "quantity": Int(1),
        "metadata": Metadata(),
        "adjustable_quantity": Anything(),
        "tax_rates": Anything(),
        "dynamic_tax_rates": Anything(),
    }
)
COSMETIC = {
    key: Anything()
    for key in (
        "after_expiration",
        "automatic_tax",
        "consent_collection",
        "custom_fields",
        "custom_text",
        "customer_update",
        "discounts",
        "name_collection",
        "payment_method_options",
        "phone_number_collection",
        "saved_payment_method_options",
        "shipping_address_collection",
        "tax_id_collection",
        "wallet_options",
        "branding_settings",
        "adaptive_pricing",
    )
}


def _retrieve(kind):
    def handler(store, ctx, params, id):
        p = validate(params, schema())
        return render(store, store.require(id, kind), p.get("expand"))

    return handler


def _lister(kind, url, filters=None, *, where=None, check=None):
    """A list endpoint: ``filters`` maps a param to ``(spec, test(store, obj, value))``.

    ``where(obj, params)`` filters on several params at once; ``check(store, params)``
    may refuse the request.
    """
    filters = filters or {}

    def handler(store, ctx, params):
        p = validate(params, schema({k: spec for k, (spec, _) in filters.items()}, listing=True))
        if check is not None:
            check(store, p)
        tests = [(filters[k][1], v) for k, v in p.items() if k in filters]

        def keep(obj, extra):
            return all(test(store, obj, value) for test, value in tests) and (
                where is None or where(obj, p)
            )

        return paginate(store, store.all(kind, keep), p, url, kind=kind)

    return handler


def _equals(field):
    return Str(), lambda store, obj, value: obj.get(field) == value


# Checkout Sessions

SESSION_CREATE = schema(
    {
        "mode": Enum("payment", "setup", "subscription"),
        "line_items": List(LINE_ITEM),
        "success_url": Str(),
        "cancel_url": Str(),
        "return_url": Str(),
        "customer": Str(),
        "customer_email": Str(),
        "client_reference_id": Str(200),
        "metadata": Metadata(),
        "submit_type": Enum("auto", "book", "donate", "pay", "subscribe"),
        "locale": Str(),
        "expires_at": Int(),
        "currency": Str(),
        "payment_method_types": List(Str()),
        "payment_method_collection": Enum("always", "if_required"),
        "allow_promotion_codes": Bool(),
        "payment_intent_data": Obj(
            {
                "metadata": Metadata(),
                "description": Str(),
                "receipt_email": Str(),
                "statement_descriptor": Str(22),
                "statement_descriptor_suffix": Str(22),
                "shipping": Anything(),
                "transfer_group": Str(),
            }
        ),
        "subscription_data": Obj(
            {
                "metadata": Metadata(),
                "description": Str(),
                "default_tax_rates": Anything(),
                "invoice_settings": Anything(),
                "proration_behavior": Enum("create_prorations", "none"),
                "trial_end": Int(),
            }
        ),
        "customer_creation": Enum("always", "if_required"),
        "invoice_creation": Obj(
            {"enabled": Bool(), "invoice_data": Anything()}, required=("enabled",)
        ),
        "billing_address_collection": Enum("auto", "required"),
        "ui_mode": Enum("elements", "embedded_page", "form", "hosted_page"),
        **COSMETIC,
    },
    required=("mode",),
)

_PAYMENT_ONLY = ("customer_creation", "invoice_creation", "payment_intent_data", "submit_type")


@route("POST", "/v1/checkout/sessions")
def create_session(store, ctx, params):
    p = validate(params, SESSION_CREATE)
    mode = p["mode"]
    if mode == "setup":
        raise invalid("The simulator does not support `setup` mode.", "mode")
    for key in _PAYMENT_ONLY:
        if mode != "payment" and key in p:
            raise invalid(f"`{key}` can only be used in `payment` mode.", key)
    if mode != "subscription" and "subscription_data" in p:
        raise invalid(
            "You can not pass `subscription_data` in `payment` mode.", "subscription_data"
        )
    if p.get("customer") and p.get("customer_email"):
        raise invalid(
            "You may only specify one of these parameters: customer, customer_email.",
            "customer_email",
        )
    if p.get("customer"):
        store.require(p["customer"], "customer", "customer")
    if "expires_at" in p:
        ahead = p["expires_at"] - ctx.now
        if ahead < 30 * 60 - 5:
            raise invalid(
                "The `expires_at` timestamp must be at least 30 minutes from "
                "Checkout Session creation.",
                "expires_at",
            )
        if ahead > DAY:
            raise invalid(
                "The `expires_at` timestamp must be less than 24 hours from "
                "Checkout Session creation.",
                "expires_at",
            )
    trial_end = (p.get("subscription_data") or {}).get("trial_end")
    if trial_end is not None and trial_end < ctx.now + 2 * DAY:
        raise invalid(
            "`subscription_data[trial_end]` has to be at least 48 hours in the future.",
            "subscription_data[trial_end]",
        )
    checked = _check_line_items(store, mode, p.get("line_items") or [])
    line_items = []
    for li, price, product in checked:
        if price is None:
            price = charges.create_price(store, ctx, li["price_data"], product)
        line_items.append(
            objects.checkout_line_item(
                price, li["quantity"], charges.product_name(store, price), li.get("metadata")
            )
        )
    amount = sum(li["amount_total"] for li in line_items)
    currency = line_items[0]["currency"]
    if mode == "payment" and 0 < amount < 50:
        raise invalid(
            f"The Checkout Session's total amount due must add up to at least $0.50 {currency}",
            "line_items",
        )
    session = store.add(
        objects.checkout_session(ctx.now, store.config, p, amount, currency),
        payment_intent_data=p.get("payment_intent_data"),
        subscription_data=p.get("subscription_data"),
    )
    for li in line_items:
        store.add(li, session=session["id"])
    return render(store, session, p.get("expand"))


def _check_line_items(store, mode, items):
    """Validate line items before creating anything: ``(item, price, product)`` each."""
    if not items:
        raise invalid(
            f"`line_items` is required in `{mode}` mode.", "line_items", code="parameter_missing"
        )
    checked, kinds = [], []
    for n, li in enumerate(items):
        param = f"line_items[{n}]"
        if li.get("price") is not None and li.get("price_data") is not None:
            raise invalid("You may only specify one of these parameters: price, price_data.", param)
        if li.get("quantity") is None:
            raise invalid(
                f"Missing required param: {param}[quantity].",
                f"{param}[quantity]",
                code="parameter_missing",
            )
        if li.get("price") is not None:
            price = store.require(li["price"], "price", f"{param}[price]")
            checked.append((li, price, None))
            recurring = price["recurring"]
            currency = price["currency"]
        elif li.get("price_data") is not None:
            data = li["price_data"]
            product = charges.check_price_data(store, data, f"{param}[price_data]")
            checked.append((li, None, product))
            recurring = data.get("recurring")
            currency = data["currency"].lower()
        else:
            raise invalid(
                f"You must specify either `price` or `price_data` in {param}.",
                param,
                code="parameter_missing",
            )
        if recurring is not None and mode == "payment":
            raise invalid(
                "You specified `payment` mode but passed a recurring price. Either "
                "switch to `subscription` mode or use only one-time prices.",
                param,
            )
        kinds.append((recurring, currency))
    if len({currency for _, currency in kinds}) > 1:
        raise invalid("All line items must use the same currency.", "line_items")
    recurring = [r for r, _ in kinds if r is not None]
    if mode == "payment" and len(items) > 100:
        raise invalid("You may only specify up to 100 line items in `payment` mode.", "line_items")
    if mode == "subscription":
        if not recurring:
            raise invalid(
                "You must provide at least one recurring price in `subscription` "
                "mode when using prices.",
                "line_items",
            )
        if len(recurring) > 20 or len(items) - len(recurring) > 20:
            raise invalid(
                "You may only specify up to 20 recurring and 20 one-time line "
                "items in `subscription` mode.",
                "line_items",
            )
        periods = {(r["interval"], r.get("interval_count", 1)) for r in recurring}
        if len(periods) > 1:
            raise invalid(
                "All prices on a subscription must have the same "
                "`recurring.interval` and `recurring.interval_count`.",
                "line_items",
            )
    return checked


route("GET", "/v1/checkout/sessions/<id>")(_retrieve("checkout.session"))
route("GET", "/v1/checkout/sessions")(
    _lister(
        "checkout.session",
        "/v1/checkout/sessions",
        {
            "customer": _equals("customer"),
            "payment_intent": _equals("payment_intent"),
            "payment_link": _equals("payment_link"),
            "subscription": _equals("subscription"),
            "status": (Enum("complete", "expired", "open"), lambda s, o, v: o["status"] == v),
            "customer_details": (
                Obj({"email": Str()}, required=("email",)),
                lambda s, o, v: (o["customer_details"] or {}).get("email") == v["email"],
            ),
        },
    )
)


@route("GET", "/v1/checkout/sessions/<id>/line_items")
def session_line_items(store, ctx, params, id):
    p = validate(params, schema(listing=True))
    session = store.require(id, "checkout.session")
    return paginate(
        store,
        checkout.session_line_items(store, session),
        p,
        f"/v1/checkout/sessions/{id}/line_items",
        kind="item",
        newest_first=False,
    )


@route("POST", "/v1/checkout/sessions/<id>/expire")
def expire_session(store, ctx, params, id):
    p = validate(params, schema())
    session = store.require(id, "checkout.session")
    return render(store, checkout.expire_session(store, ctx, session), p.get("expand"))


# Payments

route("GET", "/v1/payment_intents/<id>")(_retrieve("payment_intent"))
route("GET", "/v1/payment_intents")(
    _lister("payment_intent", "/v1/payment_intents", {"customer": _equals("customer")})
)
route("GET", "/v1/payment_methods/<id>")(_retrieve("payment_method"))
route("GET", "/v1/charges/<id>")(_retrieve("charge"))
route("GET", "/v1/charges")(
    _lister(
        "charge",
        "/v1/charges",
        {"customer": _equals("customer"), "payment_intent": _equals("payment_intent")},
    )
)
route("GET", "/v1/balance_transactions/<id>")(_retrieve("balance_transaction"))


def _automatic_payouts_only(store, p):
    if p.get("payout") is not None:
        po = store.require(p["payout"], "payout", "payout")
        if not po["automatic"]:
            raise invalid(
                "Balance transaction history can only be filtered on automatic "
                "transfers, not manual.",
                "payout",
            )


_list_balance_transactions = _lister(
    "balance_transaction",
    "/v1/balance_transactions",
    {
        "payout": (Str(), lambda s, o, v: s.extra[o["id"]].get("payout") == v),
        "source": _equals("source"),
        "type": _equals("type"),
        "currency": _equals("currency"),
    },
    check=_automatic_payouts_only,
)

_PAGING = {"payout", "limit", "starting_after", "ending_before", "expand"}


@route("GET", "/v1/balance_transactions")
def list_balance_transactions(store, ctx, params):
    """``?payout=`` alone is served from the payout's index; anything else by filtering."""
    payout_id = params.get("payout")
    if isinstance(payout_id, str) and payout_id in store.payout_txns and set(params) <= _PAGING:
        p = validate(params, schema({"payout": Str()}, listing=True))
        return paginate_indexed(
            store,
            store.payout_txns[payout_id],
            store.payout_positions[payout_id],
            p,
            "/v1/balance_transactions",
            kind="balance_transaction",
        )
    return _list_balance_transactions(store, ctx, params)


# Refunds and disputes

REFUND_CREATE = schema(
    {
        "amount": Int(1),
        "charge": Str(),
        "payment_intent": Str(),
        "metadata": Metadata(),
        "reason": Enum("duplicate", "fraudulent", "requested_by_customer"),
        "instructions_email": Str(),
        "refund_application_fee": Bool(),
        "reverse_transfer": Bool(),
    }
)


@route("POST", "/v1/refunds")
def create_refund(store, ctx, params):
    p = validate(params, REFUND_CREATE)
    if p.get("charge") is None and p.get("payment_intent") is None:
        raise invalid(
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
            "charge",
            code="parameter_missing",
        )
    if p.get("charge") is not None and p.get("payment_intent") is not None:
        raise invalid(
            "You may only specify one of these parameters: charge, payment_intent.",
            "payment_intent",
        )
    ch = charges.charge_to_refund(store, p)
    re = charges.create_refund(store, ctx, ch, p.get("amount"), p.get("reason"), p.get("metadata"))
    return render(store, re, p.get("expand"))


route("GET", "/v1/refunds/<id>")(_retrieve("refund"))
route("GET", "/v1/refunds")(
    _lister(
        "refund",
        "/v1/refunds",
        {"charge": _equals("charge"), "payment_intent": _equals("payment_intent")},
    )
)
route("GET", "/v1/disputes/<id>")(_retrieve("dispute"))
route("GET", "/v1/disputes")(
    _lister(
        "dispute",
        "/v1/disputes",
        {"charge": _equals("charge"), "payment_intent": _equals("payment_intent")},
    )
)


@route("POST", "/v1/disputes/<id>/close")
def close_dispute(store, ctx, params, id):
    p = validate(params, schema())
    dp = store.require(id, "dispute")
    return render(store, charges.close_dispute(store, ctx, dp, "lost"), p.get("expand"))


# Customers

CUSTOMER_FIELDS = {
    "email": Str(512),
    "name": Str(256),
    "phone": Str(20),
    "description": Str(350),
    "metadata": Metadata(),
    "address": ADDRESS,
    "preferred_locales": List(Str()),
    "invoice_settings": Obj(
        {
            "default_payment_method": Str(),
            "custom_fields": Anything(),
            "footer": Str(),
            "rendering_options": Anything(),
        }
    ),
    "tax_exempt": Enum("exempt", "none", "reverse"),
    "shipping": Anything(),
}


@route("POST", "/v1/customers")
def create_customer(store, ctx, params):
    p = validate(params, schema(CUSTOMER_FIELDS))
    cus = charges.create_customer(store, ctx, p)
    pm_id = (p.get("invoice_settings") or {}).get("default_payment_method")
    if pm_id is not None:
        charges.update_customer(store, ctx, cus, {"invoice_settings": p["invoice_settings"]})
    return render(store, cus, p.get("expand"))


route("GET", "/v1/customers/<id>")(_retrieve("customer"))
route("GET", "/v1/customers")(_lister("customer", "/v1/customers", {"email": _equals("email")}))


@route("POST", "/v1/customers/<id>")
def update_customer(store, ctx, params, id):
    p = validate(params, schema(CUSTOMER_FIELDS))
    cus = store.require(id, "customer")
    return render(store, charges.update_customer(store, ctx, cus, p), p.get("expand"))


# Subscriptions and invoices

SUBSCRIPTION_ITEM = Obj(
    {
        "id": Str(),
        "price": Str(),
        "quantity": Int(1),
        "metadata": Metadata(),
        "price_data": Obj(
            {
                "currency": Str(),
                "product": Str(),
                "unit_amount": Int(0),
                "unit_amount_decimal": Str(),
                "recurring": RECURRING,
                "tax_behavior": Enum("exclusive", "inclusive", "unspecified"),
            },
            required=("currency", "product", "recurring"),
        ),
    }
)
SUBSCRIPTION_UPDATE = schema(
    {
        "cancel_at_period_end": Bool(),
        "cancel_at": Int(),
        "metadata": Metadata(),
        "description": Str(500),
        "default_payment_method": Str(),
        "items": List(SUBSCRIPTION_ITEM),
        "proration_behavior": Enum("always_invoice", "create_prorations", "none"),
        "proration_date": Int(),
        "off_session": Bool(),
        "payment_behavior": Enum(
            "allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete"
        ),
        "cancellation_details": Obj({"comment": Str(), "feedback": Str()}),
    }
)
SUBSCRIPTION_STATUSES = (
    "active",
    "all",
    "canceled",
    "ended",
    "incomplete",
    "incomplete_expired",
    "past_due",
    "paused",
    "trialing",
    "unpaid",
)


route("GET", "/v1/subscriptions/<id>")(_retrieve("subscription"))


def _subscription_status(obj, p):
    wanted = p.get("status")
    if wanted is None:
        return obj["status"] not in ("canceled", "incomplete_expired")
    if wanted == "ended":
        return obj["status"] in ("canceled", "incomplete_expired")
    return wanted == "all" or obj["status"] == wanted


route("GET", "/v1/subscriptions")(
    _lister(
        "subscription",
        "/v1/subscriptions",
        {
            "customer": _equals("customer"),
            "status": (Enum(*SUBSCRIPTION_STATUSES), lambda s, o, v: True),
            "price": (
                Str(),
                lambda s, o, v: any(i["price"]["id"] == v for i in billing.items_of(s, o)),
            ),
        },
        where=_subscription_status,
    )
)


@route("POST", "/v1/subscriptions/<id>")
def update_subscription(store, ctx, params, id):
    p = validate(params, SUBSCRIPTION_UPDATE)
    sub = store.require(id, "subscription")
    return render(store, billing.update_subscription(store, ctx, sub, p), p.get("expand"))


@route("DELETE", "/v1/subscriptions/<id>")
def cancel_subscription(store, ctx, params, id):
    p = validate(
        params,
        schema(
            {
                "cancellation_details": Obj({"comment": Str(), "feedback": Str()}),
                "invoice_now": Bool(),
                "prorate": Bool(),
            }
        ),
    )
    sub = store.require(id, "subscription")
    return render(store, billing.cancel_subscription(store, ctx, sub), p.get("expand"))


route("GET", "/v1/subscription_items/<id>")(_retrieve("subscription_item"))


@route("GET", "/v1/subscription_items")
def list_subscription_items(store, ctx, params):
    p = validate(params, schema({"subscription": Str()}, ("subscription",), listing=True))
    sub = store.require(p["subscription"], "subscription", "subscription")
    return paginate(
        store,
        billing.items_of(store, sub),
        p,
        f"/v1/subscription_items?subscription={sub['id']}",
        kind="subscription_item",
        newest_first=False,
    )


route("GET", "/v1/invoices/<id>")(_retrieve("invoice"))
route("GET", "/v1/invoices")(
    _lister(
        "invoice",
        "/v1/invoices",
        {
            "customer": _equals("customer"),
            "status": (
                Enum("draft", "open", "paid", "uncollectible", "void"),
                lambda s, o, v: o["status"] == v,
            ),
            "collection_method": _equals("collection_method"),
            "subscription": (
                Str(),
                lambda s, o, v: (
                    (o["parent"] or {}).get("subscription_details", {}).get("subscription") == v
                ),
            ),
        },
    )
)


@route("GET", "/v1/invoices/<id>/lines")
def invoice_lines(store, ctx, params, id):
    p = validate(params, schema(listing=True))
    inv = store.require(id, "invoice")
    return paginate(
        store,
        billing.lines_of(store, inv),
        p,
        f"/v1/invoices/{id}/lines",
        kind="line_item",
        newest_first=False,
    )


route("GET", "/v1/invoice_payments/<id>")(_retrieve("invoice_payment"))
route("GET", "/v1/invoice_payments")(
    _lister(
        "invoice_payment",
        "/v1/invoice_payments",
        {
            "invoice": _equals("invoice"),
            "status": (Enum("canceled", "open", "paid"), lambda s, o, v: o["status"] == v),
            "payment": (
                Obj(
                    {
                        "type": Enum("payment_intent", "payment_record"),
                        "payment_intent": Str(),
                        "payment_record": Str(),
                    },
                    required=("type",),
                ),
                lambda s, o, v: all(o["payment"].get(k) == val for k, val in v.items()),
            ),
        },
    )
)


# Customer portal


@route("POST", "/v1/billing_portal/sessions")
def create_portal_session(store, ctx, params):
    p = validate(
        params,
        schema(
            {
                "customer": Str(),
                "return_url": Str(),
                "locale": Str(),
                "configuration": Str(),
                "on_behalf_of": Str(),
                "flow_data": Obj(
                    {
                        "type": Enum(
                            "customer_update",
                            "payment_method_update",
                            "subscription_cancel",
                            "subscription_pause",
                            "subscription_update",
                            "subscription_update_confirm",
                        ),
                        "after_completion": Anything(),
                        "subscription_cancel": Anything(),
                        "subscription_update": Anything(),
                        "subscription_update_confirm": Anything(),
                    },
                    required=("type",),
                ),
            },
            ("customer",),
        ),
    )
    store.require(p["customer"], "customer", "customer")
    bps = store.add(objects.portal_session(ctx.now, store.config, p))
    return render(store, bps, p.get("expand"))


# Payouts and events

route("GET", "/v1/payouts/<id>")(_retrieve("payout"))
route("GET", "/v1/payouts")(
    _lister(
        "payout",
        "/v1/payouts",
        {
            "status": (
                Enum("pending", "paid", "failed", "canceled", "in_transit"),
                lambda s, o, v: o["status"] == v,
            ),
            "arrival_date": (Range(), lambda s, o, v: in_range(o["arrival_date"], v)),
            "destination": _equals("destination"),
        },
    )
)

EVENT_WINDOW = 30 * DAY


@route("GET", "/v1/events/<id>")
def retrieve_event(store, ctx, params, id):
    p = validate(params, schema())
    event = store.require(id, "event")
    if event["created"] < ctx.now - EVENT_WINDOW:
        raise no_such("event", id)
    return render(store, event, p.get("expand"))


@route("GET", "/v1/events")
def list_events(store, ctx, params):
    p = validate(
        params,
        schema(
            {"type": Str(), "types": List(Str(), max_items=20), "delivery_success": Bool()},
            listing=True,
        ),
    )
    if p.get("type") is not None and p.get("types"):
        raise invalid("You may only specify one of these parameters: type, types.", "types")
    patterns = p.get("types") or ([p["type"]] if p.get("type") else None)

    def keep(obj, extra):
        return (
            obj["created"] >= ctx.now - EVENT_WINDOW
            and (patterns is None or any(fnmatch.fnmatchcase(obj["type"], t) for t in patterns))
            and (
                "delivery_success" not in p
                or (obj["pending_webhooks"] == 0) == p["delivery_success"]
            )
        )

    return paginate(store, store.all("event", keep), p, "/v1/events", kind="event")


# Products and prices (for ``line_items[n][price]`` and subscription price changes)

PRODUCT_FIELDS = {
    "name": Str(),
    "description": Str(),
    "metadata": Metadata(),
    "active": Bool(),
    "images": List(Str()),
    "tax_code": Str(),
    "unit_label": Str(),
    "shippable": Bool(),
    "statement_descriptor": Str(22),
    "url": Str(),
}


@route("POST", "/v1/products")
def create_product(store, ctx, params):
    p = validate(params, schema(PRODUCT_FIELDS, ("name",)))
    product = charges.create_product(store, ctx, p)
    product["active"] = p.get("active", True)
    return render(store, product, p.get("expand"))


route("GET", "/v1/products/<id>")(_retrieve("product"))


@route("POST", "/v1/products/<id>")
def update_product(store, ctx, params, id):
    p = validate(params, schema(PRODUCT_FIELDS))
    product = store.require(id, "product")
    for key in ("name", "description", "active", "images", "unit_label", "shippable", "url"):
        if key in p:
            product[key] = p[key]
    if "metadata" in p:
        product["metadata"] = {**product.get("metadata", {}), **p["metadata"]}
    product["updated"] = ctx.now
    return render(store, product, p.get("expand"))


@route("POST", "/v1/prices")
def create_price(store, ctx, params):
    p = validate(
        params,
        schema(
            {
                "currency": Str(),
                "unit_amount": Int(0),
                "unit_amount_decimal": Str(),
                "product": Str(),
                "product_data": PRODUCT_DATA,
                "recurring": RECURRING,
                "metadata": Metadata(),
                "nickname": Str(),
                "lookup_key": Str(200),
                "active": Bool(),
                "tax_behavior": Enum("exclusive", "inclusive", "unspecified"),
            },
            ("currency",),
        ),
    )
    product = charges.check_price_data(store, p, "price")
    return render(store, charges.create_price(store, ctx, p, product), p.get("expand"))


route("GET", "/v1/prices/<id>")(_retrieve("price"))
