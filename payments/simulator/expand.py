"""Rendering objects for a response: computed fields, includables and ``expand``."""

from .errors import invalid
from .objects import list_object

#: Fields (dotted from the object's root) holding an id that ``expand`` may replace.
EXPANDABLE = {
    "balance_transaction": {"source"},
    "billing_portal.session": {"configuration"},
    "charge": {
        "application",
        "application_fee",
        "balance_transaction",
        "customer",
        "failure_balance_transaction",
        "on_behalf_of",
        "payment_intent",
        "review",
        "source_transfer",
        "transfer",
    },
    "checkout.session": {
        "customer",
        "invoice",
        "payment_intent",
        "payment_link",
        "setup_intent",
        "subscription",
    },
    "customer": {"default_source", "invoice_settings.default_payment_method", "test_clock"},
    "dispute": {"charge", "payment_intent"},
    "invoice": {
        "application",
        "customer",
        "default_payment_method",
        "default_source",
        "latest_revision",
        "on_behalf_of",
        "parent.subscription_details.subscription",
        "test_clock",
    },
    "invoice_payment": {"invoice", "payment.charge", "payment.payment_intent"},
    "line_item": {"pricing.price_details.price", "subscription"},
    "payment_intent": {
        "application",
        "customer",
        "latest_charge",
        "on_behalf_of",
        "payment_method",
        "review",
    },
    "payout": {
        "application_fee",
        "balance_transaction",
        "destination",
        "failure_balance_transaction",
        "original_payout",
        "reversed_by",
    },
    "price": {"product"},
    "refund": {
        "balance_transaction",
        "charge",
        "customer",
        "failure_balance_transaction",
        "payment_intent",
        "payment_method",
    },
    "subscription": {
        "application",
        "customer",
        "default_payment_method",
        "default_source",
        "latest_invoice",
        "on_behalf_of",
        "pending_setup_intent",
        "schedule",
        "test_clock",
    },
}

MAX_DEPTH = 4


def _session_line_items(store, obj):
    items = store.all("item", lambda o, x: x.get("session") == obj["id"])
    return list_object(
        [render(store, i) for i in items[:10]],
        f"/v1/checkout/sessions/{obj['id']}/line_items",
        has_more=len(items) > 10,
    )


def _charge_refunds(store, obj):
    refunds = sorted(
        store.all("refund", lambda o, x: o["charge"] == obj["id"]),
        key=store.sort_key,
        reverse=True,
    )
    return list_object(
        [render(store, r) for r in refunds[:10]],
        f"/v1/refunds?charge={obj['id']}",
        has_more=len(refunds) > 10,
        total_count=len(refunds),
    )


def _invoice_payments(store, obj):
    payments = sorted(
        store.all("invoice_payment", lambda o, x: o["invoice"] == obj["id"]),
        key=store.sort_key,
        reverse=True,
    )
    return list_object(
        [render(store, p) for p in payments[:10]],
        f"/v1/invoice_payments?invoice={obj['id']}",
        has_more=len(payments) > 10,
        total_count=len(payments),
    )


#: Fields left out of an object unless expanded.
INCLUDABLE = {
    "checkout.session": {"line_items": _session_line_items},
    "charge": {"refunds": _charge_refunds},
    "invoice": {"payments": _invoice_payments},
}


def _compose_subscription(store, obj):
    items = store.all("subscription_item", lambda o, x: o["subscription"] == obj["id"])
    obj["items"] = list_object(
        [render(store, i) for i in items],
        f"/v1/subscription_items?subscription={obj['id']}",
        total_count=len(items),
    )


def _compose_invoice(store, obj):
    lines = store.all("line_item", lambda o, x: o["invoice"] == obj["id"])
    obj["lines"] = list_object(
        [render(store, line) for line in lines[:10]],
        f"/v1/invoices/{obj['id']}/lines",
        has_more=len(lines) > 10,
        total_count=len(lines),
    )


def _compose_balance_transaction(store, obj):
    obj["status"] = "available" if obj["available_on"] <= store.clock.now() else "pending"


def _compose_dispute(store, obj):
    obj["balance_transactions"] = [
        render(store, store.get(id)) for id in obj["balance_transactions"]
    ]


#: Fields derived at render time from other objects or from the clock.
COMPOSE = {
    "subscription": _compose_subscription,
    "invoice": _compose_invoice,
    "balance_transaction": _compose_balance_transaction,
    "dispute": _compose_dispute,
}


def render(store, obj, expand=()):
    """A response copy of a stored object (or list object), with ``expand`` applied."""
    out = _copy(obj)
    if out.get("object") == "list":
        out["data"] = [_composed(store, o) for o in out["data"]]
    else:
        _compose(store, out)
    for path in expand or ():
        parts = path.split(".")
        if len([p for p in parts if p != "data"]) > MAX_DEPTH or "" in parts:
            raise invalid(
                f"You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}",
                "expand",
            )
        _walk(store, out, out.get("object"), [], parts, path)
    return out


def _copy(value):
    """A copy of a stored object: plain JSON (dicts, lists, scalars), so far cheaper to copy
    than with ``copy.deepcopy`` (a page of 100 balance transactions is read thousands of
    times when a payout is fetched)."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _composed(store, obj):
    _compose(store, obj)
    return obj


def _compose(store, obj):
    hook = COMPOSE.get(obj.get("object"))
    if hook is not None:
        hook(store, obj)


def _refuse(path, hint=None):
    message = f"This property cannot be expanded ({path})."
    if hint:
        message += f" You may want to try expanding '{hint}' instead."
    return invalid(message, "expand")


def _walk(store, node, kind, rel, parts, path):
    key, rest = parts[0], parts[1:]
    if node.get("object") == "list":
        if key != "data" or not rest:
            raise _refuse(path, hint=None if key == "data" else f"data.{path}")
        for item in node["data"]:
            _walk(store, item, item.get("object"), [], rest, path)
        return
    field = ".".join([*rel, key])
    include = INCLUDABLE.get(kind, {}).get(field)
    if include is not None and key not in node:
        node[key] = include(store, node)
        if not rest:
            return
    if key not in node:
        raise _refuse(path)
    value = node[key]
    if field in EXPANDABLE.get(kind, ()):
        if isinstance(value, str):
            target = store.get(value)
            if target is not None:
                value = node[key] = render(store, target)
        if rest and isinstance(value, dict):
            _walk(store, value, value.get("object"), [], rest, path)
        return
    if isinstance(value, dict) and rest:
        if "object" in value:
            _walk(store, value, value["object"], [], rest, path)
        else:
            _walk(store, value, kind, [*rel, key], rest, path)
        return
    if isinstance(value, dict) and "object" in value:
        return  # always a full object here, such as a line item's ``price``
    if value is None and any(f.startswith(field + ".") for f in EXPANDABLE.get(kind, ())):
        return  # an absent parent hash, such as ``parent`` on a manual invoice
    raise _refuse(path)
